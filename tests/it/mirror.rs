//! Mirroring real primaries: byte identity, semisync ACKs, restarts of binlogd and
//! of the primary, by file+pos and by GTID.

use crate::harness::*;

fn batch(s: &Server, n: u32) {
    let engine = "ENGINE=InnoDB";
    if n == 0 {
        s.sql(&format!(
            "CREATE DATABASE IF NOT EXISTS it; CREATE TABLE it.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64), b LONGBLOB) {engine}; \
             CREATE TABLE it.u (a INT, b INT, KEY (a)) {engine}"
        ));
    }
    s.sql(&format!("INSERT INTO it.t (v) VALUES ('one-{n}')"));
    s.sql(&format!("INSERT INTO it.t (v) VALUES ('a{n}'), ('b{n}'), ('c{n}'), ('d{n}')"));
    s.sql(&format!(
        "BEGIN; INSERT INTO it.u (a, b) VALUES ({n}, 1); UPDATE it.u SET b = b + 1 WHERE a = {n}; INSERT INTO it.u (a, b) SELECT a, b FROM it.u WHERE a = {n}; COMMIT"
    ));
    s.sql(&format!("ALTER TABLE it.u ADD COLUMN c{n} INT"));
    s.sql("FLUSH BINARY LOGS");
    s.sql(&format!("INSERT INTO it.t (v) VALUES ('after-flush-{n}'); DELETE FROM it.t WHERE v = 'a{n}'"));
}

fn big_transaction(s: &Server) {
    // One row event over 16 MiB: several protocol packets per event.
    s.sql("INSERT INTO it.t (v, b) VALUES ('big', REPEAT('x', 20 * 1024 * 1024))");
    s.sql("FLUSH BINARY LOGS");
}

fn assert_identical(s: &Server, b: &Binlogd) {
    assert!(assert_rotated_identical(s, b) >= 5, "expected at least 5 rotated files");
    let logs = s.binary_logs();
    let idx = b.index();
    assert_eq!(idx, logs, "binlogd's index lists other names than SHOW BINARY LOGS");
}

fn scenario(flavor: Flavor, gtid: bool) {
    let s = Server::start(flavor, if gtid { "gtid" } else { "pos" });
    let mode = if gtid { "get_start_gtid_mode = 0" } else { "get_start_gtid_mode = 2" };
    let mut b = Binlogd::mirroring(&s, flavor.name(), mode);
    assert!(
        s.replicas().lines().any(|l| l.starts_with("1001\t")),
        "binlogd (server_id 1001) missing from the primary's replica list: {}",
        s.replicas()
    );
    let no_tx0: u64 = s.semi_status("no_tx").parse().unwrap();
    let yes_tx0: u64 = s.semi_status("yes_tx").parse().unwrap();
    // MariaDB's compressed events (Query_compressed, Write_rows_compressed...) until the
    // primary's restart: stored as they come, and recovery still finds the boundaries.
    let compress = gtid && flavor != Flavor::Mysql;
    if compress {
        s.sql("SET GLOBAL log_bin_compress = ON, GLOBAL log_bin_compress_min_len = 10");
    }

    batch(&s, 0);
    if compress {
        s.sql(&format!("CREATE TABLE it.c (a INT) COMMENT '{}'", "c".repeat(300)));
    }
    assert_eq!(b.stop(), 0, "SIGTERM must exit 0:\n{}", b.log_text());
    b.start();
    wait_semisync_client(&s, &b);
    batch(&s, 1);
    big_transaction(&s);
    b.kill9();
    b.start();
    wait_semisync_client(&s, &b);
    batch(&s, 2);

    let no_tx1: u64 = s.semi_status("no_tx").parse().unwrap();
    let yes_tx1: u64 = s.semi_status("yes_tx").parse().unwrap();
    assert_eq!(s.semi_status("status"), "ON");
    assert_eq!(no_tx1, no_tx0, "transactions committed without binlogd's ACK\n{}", b.log_text());
    assert!(yes_tx1 >= yes_tx0 + 15, "yes_tx grew only from {yes_tx0} to {yes_tx1}");

    // The primary restarts: binlogd reconnects (on MySQL, with a cold-cache
    // caching_sha2_password full auth) and goes on mirroring.
    s.restart();
    wait_semisync_client(&s, &b);
    batch(&s, 3);
    assert_eq!(s.semi_status("no_tx"), "0", "after the primary's restart");
    assert_identical(&s, &b);
    if compress {
        let kinds = s.sql("SHOW BINLOG EVENTS IN 'mysql-bin.000002'");
        assert!(kinds.contains("Query_compressed") && kinds.contains("_rows_compressed"), "{kinds}");
    }
    if flavor == Flavor::Mysql {
        // The replica UUID was generated once and kept: the primary lists the same one.
        let uuid = std::fs::read_to_string(b.binlog_dir.join("binlogd.uuid")).unwrap();
        assert!(s.replicas().contains(uuid.trim()), "{} not in {}", uuid.trim(), s.replicas());
    }
    assert_eq!(b.stop(), 0);
    let log = b.log_text();
    assert!(!log.contains("replpass"), "the password reached the log");
    if gtid {
        let want = match flavor {
            Flavor::Mysql => "requested binlog dump from GTID set",
            Flavor::MariaDb | Flavor::MariaDb11 => "requested binlog dump from MariaDB GTID position",
        };
        assert!(log.contains(want), "GTID mode never dumped by GTID:\n{log}");
    } else {
        assert!(!log.contains("dump from GTID") && !log.contains("MariaDB GTID position"), "{log}");
    }
}

#[test]
fn mariadb_file_pos_mirror_is_byte_identical_across_restarts() {
    scenario(Flavor::MariaDb, false);
}

#[test]
fn mariadb_gtid_mirror_is_byte_identical_across_restarts() {
    scenario(Flavor::MariaDb, true);
}

#[test]
fn mysql_file_pos_mirror_is_byte_identical_across_restarts() {
    scenario(Flavor::Mysql, false);
}

#[test]
fn mysql_gtid_mirror_is_byte_identical_across_restarts() {
    scenario(Flavor::Mysql, true);
}

// MariaDB 11.4 and later leave log_pos 0 in the events inside a transaction: binlogd
// places them by the bytes it holds, and the files stay identical.
#[test]
fn mariadb11_file_pos_mirror_is_byte_identical_across_restarts() {
    scenario(Flavor::MariaDb11, false);
}

#[test]
fn mariadb11_gtid_mirror_is_byte_identical_across_restarts() {
    scenario(Flavor::MariaDb11, true);
}

#[test]
fn every_stored_file_reads_cleanly_with_mariadb_binlog_while_binlogd_runs() {
    // DBAs (and MHA's save_binary_logs) read binlog_dir directly, the active file too:
    // it must be whole events, then the end of the file, as mysqld's own is.
    let s = Server::start(Flavor::MariaDb, "whole-files");
    let mut b = Binlogd::mirroring(&s, "whole-files", "");
    batch(&s, 0);
    batch(&s, 1);
    let active = wait_active_mirrored(&s, &b);
    for name in b.index() {
        let path = b.binlog_dir.join(&name);
        let o = std::process::Command::new("mariadb-binlog").arg(&path).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success() && err.is_empty(), "mariadb-binlog {name} (active: {active}): {err}");
    }
    assert_eq!(
        std::fs::metadata(b.binlog_dir.join(&active)).unwrap().len(),
        std::fs::metadata(s.binlog_dir().join(&active)).unwrap().len(),
        "the active file holds the primary's bytes and nothing after them"
    );
    assert_eq!(b.stop(), 0);
}

/// Two rows with plain-text markers, each in a file the primary then rotates; returns the
/// rotated files (the encryption tests look for the markers in binlogd's copies).
fn markers_in_rotated_files(s: &Server) -> Vec<String> {
    s.sql("CREATE DATABASE enc; CREATE TABLE enc.t (a INT PRIMARY KEY, v TEXT); INSERT INTO enc.t VALUES (1, 'plain-marker-one')");
    s.sql("FLUSH BINARY LOGS; INSERT INTO enc.t VALUES (2, 'plain-marker-two'); FLUSH BINARY LOGS");
    let mut logs = s.binary_logs();
    logs.pop();
    logs
}

/// A MariaDB primary that encrypts its binlog (`encrypt_binlog`) sends its events
/// decrypted, its Start_encryption event as an Ignorable event of the same size: binlogd
/// stores the files at the primary's offsets, as the primary serves them (what
/// `mariadb-binlog --raw` gets from it), readable without the key.
#[test]
fn an_encrypted_mariadb_binlog_is_stored_as_the_primary_serves_it() {
    let s = Server::start(Flavor::MariaDb, "encrypted");
    let keys = tempdir("encrypted-keys");
    let key_file = keys.join("keys.txt");
    std::fs::write(&key_file, "1;a7addd9adea9978fda19f21e6be987880e68ac92632ca052e5bb42b1a506939a\n").unwrap();
    let inner = s.copy_in(&key_file);
    s.reconfigure(&[
        "plugin_load_add=file_key_management",
        &format!("file_key_management_filename={inner}"),
        "encrypt_binlog=ON",
    ]);
    assert_eq!(s.sql("SELECT @@encrypt_binlog").trim(), "1");
    let mut b = Binlogd::mirroring(&s, "encrypted", "");
    let rotated = &markers_in_rotated_files(&s);
    let m = rotated_md5s(&s, &b);
    assert!(m.len() >= 3, "{m:?}");
    // As served by the primary, file by file.
    let served = b.dir.join("served");
    std::fs::create_dir_all(&served).unwrap();
    let st = std::process::Command::new("mariadb-binlog")
        .args(["--read-from-remote-server", "--host=127.0.0.1", &format!("--port={}", s.port), "--user=repl"])
        .args(["--password=replpass", "--raw", "--to-last-log", &format!("--result-file={}/", served.display())])
        .arg(&rotated[0])
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let mut encrypted = 0;
    for name in rotated {
        let (on_disk, stored) = (s.binlog_dir().join(name), b.binlog_dir.join(name));
        assert_eq!(
            md5_file(&served.join(name)),
            md5_file(&stored),
            "{name}: binlogd's differs from what the primary serves"
        );
        let (d, t) = (std::fs::read(&on_disk).unwrap(), std::fs::read(&stored).unwrap());
        assert_eq!(d.len(), t.len(), "{name}: the offsets differ");
        encrypted += usize::from(d != t);
    }
    assert!(encrypted >= 2, "the primary's files are encrypted on its disk");
    // Read without the key: the rows are there.
    let out = std::process::Command::new("mariadb-binlog")
        .arg("-v")
        .args(rotated.iter().map(|n| b.binlog_dir.join(n)))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("plain-marker-one") && text.contains("plain-marker-two"), "{text}");
    assert_eq!(b.stop(), 0);
}

/// A MySQL primary with `binlog_encryption` (keyring_file component) keeps a 512-byte
/// encryption header before each file's encrypted events, and its event positions are
/// those of the decrypted stream it sends (`Binlog_encryption_istream`). binlogd stores
/// that stream: each file as `mysqlbinlog --raw` gets it from the primary, 512 bytes
/// shorter than the primary's on its disk, readable without the key.
#[test]
fn an_encrypted_mysql_binlog_is_stored_as_the_primary_serves_it() {
    let s = Server::start(Flavor::Mysql, "encrypted-mysql");
    let (root, inner) = (s.root(), s.inner());
    assert!(
        sid_root().join("usr/sbin/mysqld.my").exists(),
        "the chroot's global manifest is missing: run scripts/mysql-chroot.sh"
    );
    std::fs::write(root.join("data/mysqld.my"), r#"{"components": "file://component_keyring_file"}"#).unwrap();
    let cfg = format!(r#"{{"path": "{inner}/keyring", "read_only": false}}"#);
    std::fs::write(root.join("data/component_keyring_file.cnf"), cfg).unwrap();
    s.reconfigure(&["binlog_encryption=ON"]);
    assert_eq!(s.sql("SELECT @@binlog_encryption").trim(), "1");
    let mut b = Binlogd::mirroring(&s, "encrypted-mysql", "");
    let rotated = &markers_in_rotated_files(&s);
    assert!(rotated.len() >= 3, "{rotated:?}");
    // The primary's size on its disk, and whether it is encrypted there.
    let sizes = s.sql("SHOW BINARY LOGS");
    let on_disk = |name: &str| -> (u64, bool) {
        let row = sizes.lines().find(|l| l.starts_with(&format!("{name}\t"))).unwrap_or_else(|| panic!("{sizes}"));
        let cols: Vec<&str> = row.split('\t').collect();
        (cols[1].parse().unwrap(), cols.get(2) == Some(&"Yes"))
    };
    let header = |enc: bool| if enc { 512 } else { 0 };
    wait_until("binlogd to hold every rotated file", std::time::Duration::from_secs(60), || {
        rotated.iter().all(|n| {
            let (size, enc) = on_disk(n);
            std::fs::metadata(b.binlog_dir.join(n)).is_ok_and(|m| m.len() + header(enc) == size)
        })
    });
    // As served by the primary, file by file.
    std::fs::create_dir_all(root.join("served")).unwrap();
    let st = std::process::Command::new("chroot")
        .arg(sid_root())
        .args(["/usr/bin/mysqlbinlog", "--no-defaults", "--read-from-remote-server", "--host=127.0.0.1"])
        .args([&format!("--port={}", s.port), "--user=repl", "--password=replpass", "--raw", "--to-last-log"])
        .arg(format!("--result-file={inner}/served/"))
        .arg(&rotated[0])
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    std::fs::create_dir_all(root.join("stored")).unwrap();
    for name in rotated {
        let stored = b.binlog_dir.join(name);
        assert_eq!(
            md5_file(&root.join("served").join(name)),
            md5_file(&stored),
            "{name}: binlogd's differs from what the primary serves"
        );
        std::fs::copy(&stored, root.join("stored").join(name)).unwrap();
    }
    let encrypted = rotated.iter().filter(|n| on_disk(n).1).count();
    assert!(encrypted >= 2, "the primary's files are encrypted on its disk: {sizes}");
    // binlogd's files read without the key: the rows are there.
    let out = std::process::Command::new("chroot")
        .arg(sid_root())
        .args(["/usr/bin/mysqlbinlog", "--no-defaults", "-v"])
        .args(rotated.iter().map(|n| format!("{inner}/stored/{n}")))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("plain-marker-one") && text.contains("plain-marker-two"), "{text}");
    assert_eq!(b.stop(), 0);
}
