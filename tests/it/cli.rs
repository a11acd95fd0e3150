//! The command line and the cnf, through the real binary.

use std::process::Command;

use crate::harness::*;

const VIRTUAL_SLAVE_CNF: &str = include_str!("../data/virtual_slave.cnf");

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(binlogd_bin()).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn check_config_accepts_virtual_slave_cnf_and_masks_password() {
    let d = tempdir("cli");
    let p = d.join("vs.cnf");
    std::fs::write(&p, VIRTUAL_SLAVE_CNF).unwrap();
    let (code, out, err) = run(&["--check-config", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("server_id = 123456"), "{out}");
    assert!(out.contains("master_password = ********"), "{out}");
    assert!(!out.contains("ashe\n") || !out.contains("= ashe\nbinlog"), "{out}");
}

#[test]
fn check_config_names_the_bad_line() {
    let d = tempdir("cli");
    let p = d.join("bad.cnf");
    std::fs::write(&p, "server_id = 5\nmaster_host = h\nbogus_key = 1\n").unwrap();
    let (code, _, err) = run(&["--check-config", p.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.cnf:3: unknown key 'bogus_key'"), "{err}");
}

#[test]
fn help_and_version() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Usage: binlogd"));
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("binlogd "));
    let (code, _, _) = run(&[]);
    assert_eq!(code, 1);
}

#[test]
fn man_page_documents_every_cnf_key() {
    let man = std::fs::read_to_string(repo().join("man/binlogd.8")).unwrap();
    for (key, _) in binlogd::config::KEYS {
        assert!(man.contains(&key.replace('_', "\\_")) || man.contains(key), "man/binlogd.8 does not document {key}");
    }
    for opt in ["--help", "--version", "--check-config"] {
        assert!(man.contains(&opt.replace('-', "\\-")), "man/binlogd.8 does not document {opt}");
    }
}
