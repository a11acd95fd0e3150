//! Archived files brought back by `restore_command` to serve a reader that needs them,
//! after binlogd purged them: byte-identical to the primary's; a restore that fails,
//! comes back wrong or hangs ends only that reader's dump, named, and mirroring goes on.

use crate::harness::*;
use crate::serve::raw_read_all;
use std::process::Command;
use std::time::Duration;

/// mariadb-binlog reading everything from `first` on: its standard error when it fails.
fn read_fails(lport: u16, first: &str, out: &std::path::Path) -> String {
    std::fs::create_dir_all(out).unwrap();
    let o = Command::new("mariadb-binlog")
        .args(["--read-from-remote-server", "--host=127.0.0.1", &format!("--port={lport}"), "--user=repl"])
        .args(["--password=replpass", "--raw", "--to-last-log", &format!("--result-file={}/", out.display()), first])
        .output()
        .unwrap();
    assert!(!o.status.success(), "the read went through");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn archived_files_are_brought_back_to_serve_a_reader_and_a_bad_restore_is_refused() {
    let s = Server::start(Flavor::MariaDb, "restore");
    let work = tempdir("restore-archive");
    let arch = work.join("archive");
    std::fs::create_dir_all(&arch).unwrap();
    // The restore command runs this script, which each case below rewrites.
    let script = work.join("restore.sh");
    let set = |body: &str| std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
    // It also keeps its environment and arguments: no secret of the cnf is in them.
    let seen = work.join("seen");
    set(&format!("env >> {0}; echo \"$0 $*\" >> {0}; cp {1}/\"$1\" \"$2\"", seen.display(), arch.display()));
    let (mut b, lport) = Binlogd::serving(
        &s,
        "restore",
        &format!(
            "archive_command = cp %p {}/%f\nrestore_command = sh {} %f %p\nrestore_timeout = 2",
            arch.display(),
            script.display()
        ),
    );
    s.sql("CREATE DATABASE rs; CREATE TABLE rs.t (v TEXT); INSERT INTO rs.t VALUES (REPEAT('r', 3000)); FLUSH BINARY LOGS");
    s.sql("INSERT INTO rs.t VALUES ('s'); FLUSH BINARY LOGS; INSERT INTO rs.t VALUES ('t'); FLUSH BINARY LOGS");
    let md5s = rotated_md5s(&s, &b);
    let logs = s.binary_logs();
    let (first, last) = (logs[0].clone(), logs.last().unwrap().clone());
    for n in &logs[..logs.len() - 1] {
        b.wait_log(&format!("archived {n}"), Duration::from_secs(30));
    }
    let o = client(lport, "replpass", &format!("PURGE BINARY LOGS TO '{last}'"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!b.binlog_dir.join(&first).exists());
    // SHOW BINARY LOGS lists what binlogd serves: the archived files first, told apart.
    let listed = client(lport, "replpass", "SHOW BINARY LOGS");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let rows: Vec<Vec<&str>> = listed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), logs.len(), "{listed}");
    for (row, name) in rows.iter().zip(&logs) {
        let at = if *name == last { "local" } else { "archive" };
        assert_eq!((row[0], row.last().copied()), (name.as_str(), Some(at)), "{listed}");
    }

    // A reader from the first file gets every file back, as the primary wrote it.
    let out = raw_read_all(&b, lport, &first, "read-back");
    for (name, (primary, _)) in &md5s {
        assert_eq!(&md5_file(&out.join(name)), primary, "{name} served from the archive differs");
    }
    assert!(b.log_text().contains(&format!("restored {first}")));
    let env = std::fs::read_to_string(&seen).unwrap();
    assert!(env.contains(&first) && !env.contains("replpass"), "{env}");

    // Faults, each with an empty cache: a failing command, a short file, a file of the
    // right size with one byte changed, a hang.
    let cache = b.binlog_dir.join("restored");
    let flipped =
        format!("cp {}/\"$1\" \"$2\"; printf X | dd of=\"$2\" bs=1 seek=200 conv=notrunc 2>/dev/null", arch.display());
    for (body, says) in [
        ("echo 'bucket gone' >&2; exit 4", vec!["exit status: 4", "bucket gone"]),
        ("head -c 50 /dev/zero > \"$2\"", vec!["with 50 bytes", "refused"]),
        (flipped.as_str(), vec!["with CRC-32", "refused"]),
        ("sleep 30", vec!["restore_timeout"]),
    ] {
        std::fs::remove_dir_all(&cache).unwrap();
        set(body);
        let err = read_fails(lport, &first, &work.join("fault"));
        assert!(err.contains(&format!("could not bring back the archived binlog {first}")), "{body}: {err}");
        for w in says {
            assert!(err.contains(w), "{body}: {err}");
        }
        assert!(!cache.join(&first).exists(), "{body}: a bad restore was kept");
    }
    // Mirroring went on: a commit is acknowledged and stored as the primary wrote it.
    s.sql("INSERT INTO rs.t VALUES ('u'); FLUSH BINARY LOGS");
    let after = rotated_md5s_from(&s, &b, logs.len() - 1);
    assert!(!after.is_empty() && after.values().all(|(p, d)| p == d), "{after:?}");
    assert_eq!(s.semi_status("no_tx"), "0");
    assert_eq!(b.stop(), 0);
}

/// A replica by GTID (MySQL auto-position, MariaDB slave_pos) whose transactions are all
/// older than binlogd's stored files starts in the archive: binlogd finds the archived
/// file to start at from the catalog, brings the files back in turn, and the replica
/// ends equal to the primary.
fn replica_by_gtid_reads_the_history_from_the_archive(flavor: Flavor) {
    use crate::serve::{point_replica, replica, start_replica, Follow};
    let s = Server::start(flavor, "restore-gtid");
    let work = tempdir("restore-gtid-archive");
    let arch = work.join("archive");
    std::fs::create_dir_all(&arch).unwrap();
    let (mut b, lport) = Binlogd::serving(
        &s,
        "restore-gtid",
        &format!("archive_command = cp %p {0}/%f\nrestore_command = cp {0}/%f %p", arch.display()),
    );
    s.sql("CREATE DATABASE rg; CREATE TABLE rg.t (id INT PRIMARY KEY, v TEXT)");
    for i in 0..3 {
        s.sql(&format!("INSERT INTO rg.t VALUES ({i}, REPEAT('g', 2000)); FLUSH BINARY LOGS"));
    }
    s.sql("INSERT INTO rg.t VALUES (10, 'still stored')");
    let logs = s.binary_logs();
    let last = logs.last().unwrap().clone();
    for n in &logs[..logs.len() - 1] {
        b.wait_log(&format!("archived {n}"), Duration::from_secs(30));
    }
    let o = client(lport, "replpass", &format!("PURGE BINARY LOGS TO '{last}'"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(b.index(), vec![last.clone()]);
    if flavor == Flavor::Mysql {
        // What binlogd cannot serve begins before its oldest archived file (here, nothing).
        let purged = client(lport, "replpass", "SELECT @@GLOBAL.gtid_purged");
        assert_eq!(String::from_utf8_lossy(&purged.stdout).trim(), "");
    }

    let r = replica(flavor, "restore-gtid-replica", 2);
    point_replica(&r, lport, Follow::Gtid, None, &logs[0]);
    start_replica(&r);
    r.wait_same(&s.sql("CHECKSUM TABLE rg.t"), "CHECKSUM TABLE rg.t", "the replica reading the archive", &b);
    let log = b.log_text();
    let from = if flavor == Flavor::Mysql { "GTID dump from the archived" } else { "MariaDB GTID dump" };
    assert!(log.contains(from) && log.contains(&format!("restored {}", logs[0])), "{log}");
    assert!(log.contains(&format!("restored {}", logs[1])), "{log}");
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_mysql_replica_by_auto_position_reads_the_history_from_the_archive() {
    replica_by_gtid_reads_the_history_from_the_archive(Flavor::Mysql);
}

#[test]
fn a_mariadb_replica_by_gtid_reads_the_history_from_the_archive() {
    replica_by_gtid_reads_the_history_from_the_archive(Flavor::MariaDb);
}

/// Compression at rest is the commands' business: zstd on the way to the archive and
/// back, and the files served are the primary's, byte for byte.
#[test]
fn files_archived_compressed_with_zstd_come_back_whole() {
    let s = Server::start(Flavor::MariaDb, "restore-zstd");
    let work = tempdir("restore-zstd-archive");
    let arch = work.join("archive");
    std::fs::create_dir_all(&arch).unwrap();
    let (mut b, lport) = Binlogd::serving(
        &s,
        "restore-zstd",
        &format!(
            "archive_command = zstd -q -f %p -o {0}/%f.zst\nrestore_command = zstd -q -d -f {0}/%f.zst -o %p",
            arch.display()
        ),
    );
    s.sql("CREATE DATABASE rz; CREATE TABLE rz.t (v TEXT); INSERT INTO rz.t VALUES (REPEAT('z', 50000)); FLUSH BINARY LOGS");
    s.sql("INSERT INTO rz.t VALUES ('y'); FLUSH BINARY LOGS");
    let md5s = rotated_md5s(&s, &b);
    let logs = s.binary_logs();
    let (first, last) = (logs[0].clone(), logs.last().unwrap().clone());
    for n in &logs[..logs.len() - 1] {
        b.wait_log(&format!("archived {n}"), Duration::from_secs(30));
        let packed = std::fs::metadata(arch.join(format!("{n}.zst"))).unwrap().len();
        assert!(packed < std::fs::metadata(s.binlog_dir().join(n)).unwrap().len(), "{n} is not compressed");
    }
    let o = client(lport, "replpass", &format!("PURGE BINARY LOGS TO '{last}'"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = raw_read_all(&b, lport, &first, "read-back");
    for (name, (primary, _)) in &md5s {
        assert_eq!(&md5_file(&out.join(name)), primary, "{name} restored from zstd differs");
    }
    assert_eq!(b.stop(), 0);
}
