//! The compressed protocol: replicas, `mysqlbinlog` and the `mysql` clients that ask
//! binlogd for it get it as from the primary, and binlogd asks the primary for it.

use std::process::Command;

use crate::harness::*;
use crate::proxy::Proxy;
use crate::serve::{mysqlbinlog_raw, workload};

/// The bytes of the files the primary has rotated away from.
fn rotated_bytes(s: &Server) -> u64 {
    let logs = s.binary_logs();
    logs[..logs.len() - 1].iter().map(|f| std::fs::metadata(s.binlog_dir().join(f)).unwrap().len()).sum()
}

/// The `mariadb` client's output of `sql` on `port` as `repl`, with `how`.
fn mariadb_output(port: u16, how: &[&str], sql: &str) -> String {
    let o = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", &format!("-P{port}"), "-urepl", "-preplpass"])
        .args(how)
        .args(["-e", sql])
        .output()
        .unwrap();
    assert!(o.status.success(), "mariadb {how:?} -e {sql}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The sid chroot's `mysql` client's output of `sql` on `port` as `repl`, with `how`.
fn mysql_output(port: u16, how: &[&str], sql: &str) -> String {
    let o = Command::new("chroot")
        .arg(sid_root())
        .args(["/usr/bin/mysql", "--no-defaults", "-h127.0.0.1", &format!("-P{port}"), "-urepl", "-preplpass"])
        .args(["--get-server-public-key", "--ssl-mode=DISABLED"])
        .args(how)
        .args(["-e", sql])
        .output()
        .unwrap();
    assert!(o.status.success(), "mysql {how:?} -e {sql}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_compressed_mariadb_replica_reads_binlogd_in_a_fraction_of_the_bytes_and_binlogd_mirrors_compressed() {
    let s = Server::start(Flavor::MariaDb, "zip-maria");
    let (mut b, lport) = Binlogd::serving(&s, "zip-maria", "master_compression_algorithms = zlib");
    b.wait_log("the connection to the primary uses the compressed protocol (zlib)", std::time::Duration::from_secs(30));
    let proxy = Proxy::start(lport);
    let r = Server::start_with_id(Flavor::MariaDb, "zip-maria-replica", 2);
    r.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF, GLOBAL slave_compressed_protocol = ON");
    let first = s.binary_logs()[0].clone();
    r.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', MASTER_PASSWORD='replpass', \
         MASTER_LOG_FILE='{first}', MASTER_LOG_POS=4, MASTER_USE_GTID=no; START SLAVE",
        proxy.port
    ));
    // Large events (an 18 MiB one: frames of at most 16 MiB), 4 MB of rows, rotations.
    workload(&s);
    r.wait_same(&s.sql("CHECKSUM TABLE sv.t"), "CHECKSUM TABLE sv.t", "compressed replica", &b);
    let sent = proxy.faults.lock().unwrap().downstream_bytes;
    let stored = rotated_bytes(&s);
    assert!(sent * 4 < stored, "the replica read {sent} bytes for {stored} of binlog: not compressed");
    // Mirrored over a compressed connection, semi-sync: the same files.
    assert_rotated_identical(&s, &b);
    assert_eq!(s.semi_status("no_tx"), "0", "{}", b.log_text());
    let log = b.log_text();
    assert!(log.contains(&format!("dump from {first}:4, zlib-compressed")), "{log}");
    // The `mariadb` client: the same answers compressed or not, and the status the
    // primary gives.
    for sql in ["SHOW BINARY LOGS", "SHOW SLAVE HOSTS", "SHOW SESSION STATUS LIKE 'Compression'"] {
        let plain = mariadb_output(lport, &[], sql);
        let zipped = mariadb_output(lport, &["--compress"], sql);
        if sql.contains("Compression") {
            assert_eq!(plain, "Variable_name\tValue\nCompression\tOFF\n");
            assert_eq!(zipped, mariadb_output(s.port, &["--compress", "--skip-ssl"], sql));
            assert_eq!(zipped, "Variable_name\tValue\nCompression\tON\n");
        } else {
            assert_eq!(plain, zipped, "{sql}");
        }
    }
    r.sql("STOP SLAVE");
    assert_eq!(b.stop(), 0);
}

#[test]
fn mysql_replicas_and_mysqlbinlog_read_binlogd_with_zstd_or_zlib_as_from_the_primary() {
    let s = Server::start(Flavor::Mysql, "zip-mysql");
    let (mut b, lport) = Binlogd::serving(
        &s,
        "zip-mysql",
        "master_compression_algorithms = zstd,zlib\nmaster_zstd_compression_level = 9",
    );
    b.wait_log("the connection to the primary uses the compressed protocol (zstd)", std::time::Duration::from_secs(30));
    let proxy = Proxy::start(lport);
    let r = Server::start_with_id(Flavor::Mysql, "zip-mysql-replica", 2);
    r.sql("SET GLOBAL rpl_semi_sync_source_enabled = OFF");
    r.sql(&format!(
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={}, SOURCE_USER='repl', \
         SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1, SOURCE_SSL=0, GET_SOURCE_PUBLIC_KEY=1, \
         SOURCE_COMPRESSION_ALGORITHMS='zstd', SOURCE_ZSTD_COMPRESSION_LEVEL=7; START REPLICA",
        proxy.port
    ));
    workload(&s);
    r.wait_same(&s.sql("CHECKSUM TABLE sv.t"), "CHECKSUM TABLE sv.t", "zstd replica", &b);
    let sent = proxy.faults.lock().unwrap().downstream_bytes;
    let stored = rotated_bytes(&s);
    assert!(sent * 4 < stored, "the replica read {sent} bytes for {stored} of binlog: not compressed");
    assert!(b.log_text().contains(", zstd-compressed"), "{}", b.log_text());
    assert_rotated_identical(&s, &b);
    assert_eq!(s.semi_status("no_tx"), "0", "{}", b.log_text());
    // mysqlbinlog, each algorithm: the primary's bytes.
    let m = rotated_md5s(&s, &b);
    let first = s.binary_logs()[0].clone();
    for alg in ["zstd", "zlib", "uncompressed"] {
        let how = format!("--compression-algorithms={alg}");
        let args = [
            "--read-from-remote-server",
            "--to-last-log",
            "--ssl-mode=DISABLED",
            "--get-server-public-key",
            &how,
            &first,
        ];
        let out = mysqlbinlog_raw(lport, alg, &args, &b);
        for (name, (p, _)) in &m {
            assert_eq!(&md5_file(&out.join(name)), p, "{name} read with {alg} differs from the primary's");
        }
        let _ = std::fs::remove_dir_all(&out);
    }
    // The `mysql` client's status rows, as the primary's, for each algorithm.
    let sql = "SHOW SESSION STATUS LIKE 'Compression%'; SHOW GLOBAL STATUS LIKE 'Compression%'";
    for how in
        [&["--compression-algorithms=zstd", "--zstd-compression-level=5"][..], &["--compression-algorithms=zlib"], &[]]
    {
        let mine = mysql_output(lport, how, sql);
        assert_eq!(mine, mysql_output(s.port, how, sql), "{how:?}");
        assert!(
            mine.contains("Compression\t") && how.is_empty() != mine.contains("Compression\tON"),
            "{how:?}: {mine}"
        );
    }
    assert_eq!(
        mysql_output(lport, &["--compression-algorithms=zstd"], "SHOW BINARY LOGS"),
        mysql_output(lport, &[], "SHOW BINARY LOGS")
    );
    r.sql("STOP REPLICA");
    assert_eq!(b.stop(), 0);
}
