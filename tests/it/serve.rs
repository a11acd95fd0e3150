//! binlogd as a binlog server: real clients and replicas read the mirrored files.

use std::process::Command;
use std::time::Duration;

use crate::harness::*;

pub fn workload(s: &Server) {
    s.sql("CREATE DATABASE sv; CREATE TABLE sv.t (id INT AUTO_INCREMENT PRIMARY KEY, v LONGBLOB)");
    for i in 0..20 {
        s.sql(&format!("INSERT INTO sv.t (v) VALUES (REPEAT('r', {})), ('s')", 100 + i * 1000));
    }
    // A 300 KB event: sent by sendfile, right behind its packet header.
    s.sql("INSERT INTO sv.t (v) VALUES (REPEAT('k', 300000))");
    // About 4 MB of 8 KiB row events in one transaction: sent from the mapped file
    // with writev, in several writes, its pages let go as they are sent.
    s.sql("INSERT INTO sv.t (v) SELECT REPEAT('m', 10000) FROM information_schema.COLUMNS LIMIT 400");
    s.sql("FLUSH BINARY LOGS; INSERT INTO sv.t (v) VALUES (REPEAT('z', 18 * 1024 * 1024)); FLUSH BINARY LOGS");
    s.sql("UPDATE sv.t SET v = 'u' WHERE id % 3 = 0; FLUSH BINARY LOGS; DELETE FROM sv.t WHERE id % 5 = 0");
}

/// `mariadb-binlog --raw --to-last-log` from binlogd, `first` on, into `b.dir/to`.
pub fn raw_read_all(b: &Binlogd, lport: u16, first: &str, to: &str) -> std::path::PathBuf {
    let out = b.dir.join(to);
    std::fs::create_dir_all(&out).unwrap();
    let st = Command::new("mariadb-binlog")
        .args(["--read-from-remote-server", "--host=127.0.0.1", &format!("--port={lport}"), "--user=repl"])
        .args(["--password=replpass", "--raw", "--to-last-log", &format!("--result-file={}/", out.display()), first])
        .output()
        .unwrap();
    assert!(st.status.success(), "mariadb-binlog failed: {}\n{}", String::from_utf8_lossy(&st.stderr), b.log_text());
    out
}

#[test]
fn mariadb_binlog_reads_byte_identical_files_from_binlogd() {
    let s = Server::start(Flavor::MariaDb, "serve-raw");
    let (mut b, lport) = Binlogd::serving(&s, "serve-raw", "");
    workload(&s);
    let m = rotated_md5s(&s, &b);
    let first = s.binary_logs()[0].clone();
    let out = raw_read_all(&b, lport, &first, "raw");
    for (name, (p, _)) in &m {
        assert_eq!(&md5_file(&out.join(name)), p, "{name} read from binlogd differs from the primary's");
    }
    // Asked for one file, it stops at that file's end: binlogd starts each next file
    // with a made-up ROTATE naming it, as a primary does.
    let one = b.dir.join("one");
    std::fs::create_dir_all(&one).unwrap();
    let st = Command::new("mariadb-binlog")
        .args(["--read-from-remote-server", "--host=127.0.0.1", &format!("--port={lport}"), "--user=repl"])
        .args(["--password=replpass", "--raw", &format!("--result-file={}/", one.display()), &first])
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let got: Vec<_> = std::fs::read_dir(&one).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(got, vec![std::ffi::OsString::from(&first)]);
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_replica_replicates_from_binlogd_by_file_and_position() {
    let s = Server::start(Flavor::MariaDb, "serve-src");
    let (mut b, lport) = Binlogd::serving(&s, "serve-rep", "");
    let r = Server::start_with_id(Flavor::MariaDb, "serve-replica", 2);
    // A semi-sync replica, as with the MySQL one below.
    r.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF, GLOBAL rpl_semi_sync_slave_enabled = ON");
    let first = s.binary_logs()[0].clone();
    r.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={lport}, MASTER_USER='repl', MASTER_PASSWORD='replpass', \
         MASTER_LOG_FILE='{first}', MASTER_LOG_POS=4, MASTER_USE_GTID=no; START SLAVE"
    ));
    workload(&s);
    let want = s.sql("CHECKSUM TABLE sv.t");
    let t = std::time::Instant::now();
    while !(r.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'sv'").trim() == "1"
        && r.sql("CHECKSUM TABLE sv.t") == want)
    {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the replica did not catch up through binlogd: {}\n{}",
            r.sql("SHOW SLAVE STATUS"),
            b.log_text().lines().rev().take(20).collect::<Vec<_>>().join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = r.sql("SHOW SLAVE STATUS");
    assert!(status.contains("\tYes\tYes\t"), "replica threads not running: {status}");
    assert_eq!(r.status("Rpl_semi_sync_slave_status"), "ON", "{}", r.error_log_tail(20));
    assert!(b.index().len() >= 4);
    r.sql("STOP SLAVE");
    assert_eq!(b.stop(), 0);
}

#[test]
fn readers_that_hang_up_in_the_middle_of_large_events_end_only_their_own_dump() {
    use binlogd::proto::client::Client;
    use binlogd::proto::command::BinlogDump;
    let s = Server::start(Flavor::MariaDb, "serve-hangup");
    let (mut b, lport) = Binlogd::serving(&s, "serve-hangup", "");
    s.sql("CREATE DATABASE hu; CREATE TABLE hu.t (v LONGBLOB)");
    // 1 MB events: each goes by sendfile, which a hang-up interrupts.
    for _ in 0..24 {
        s.sql("INSERT INTO hu.t VALUES (REPEAT('h', 1000000))");
    }
    s.sql("FLUSH BINARY LOGS");
    let m = rotated_md5s(&s, &b);
    let first = s.binary_logs()[0].clone();
    for i in 0..4 {
        let mut c = Client::connect(&repl_options(lport)).unwrap();
        let d = BinlogDump { pos: 4, flags: 0, server_id: 300 + i, file: first.clone() };
        c.stream.write_command(&d.encode()).unwrap();
        for _ in 0..(3 + 2 * i) {
            c.stream.read().unwrap();
        }
        // Dropped with megabytes unread: binlogd's next send fails (EPIPE or a reset).
    }
    let out = raw_read_all(&b, lport, &first, "after-hangups");
    for (name, (p, _)) in &m {
        assert_eq!(&md5_file(&out.join(name)), p, "{name} read after the hang-ups differs from the primary's");
    }
    let log = b.log_text();
    let ended = log.lines().filter(|l| l.contains(" ended: ")).count();
    assert!(ended >= 1, "no dump ended with the reader's hang-up:\n{log}");
    assert_eq!(b.stop(), 0, "{log}");
}

#[test]
fn a_file_cut_short_from_outside_ends_the_dump_reading_it_not_binlogd() {
    use binlogd::proto::client::Client;
    use binlogd::proto::command::BinlogDump;
    let s = Server::start(Flavor::MariaDb, "serve-cut");
    let (mut b, lport) = Binlogd::serving(&s, "serve-cut", "");
    s.sql("CREATE DATABASE cu; CREATE TABLE cu.t (v BLOB)");
    // About 24 MB of 8 KiB row events, sent from the mapped file (not by sendfile).
    s.sql("INSERT INTO cu.t SELECT REPEAT('c', 8000) FROM cu.seq_1_to_3000");
    s.sql("FLUSH BINARY LOGS; INSERT INTO cu.t VALUES ('after'); FLUSH BINARY LOGS");
    let m = rotated_md5s(&s, &b);
    let logs = s.binary_logs();
    let (first, second) = (logs[0].clone(), logs[1].clone());
    // Two readers, one of them compressed (the events go through the compressor, which
    // takes the mapped bytes before they are checked).
    let mut readers = Vec::new();
    for (i, zip) in [(0, None), (1, Some(binlogd::proto::compress::Algorithm::Zlib))] {
        let mut o = repl_options(lport);
        o.compression = vec![zip];
        let mut c = Client::connect(&o).unwrap();
        assert_eq!(c.compression, zip);
        let d = BinlogDump { pos: 4, flags: 0, server_id: 310 + i, file: first.clone() };
        c.stream.write_command(&d.encode()).unwrap();
        for _ in 0..3 {
            c.stream.read().unwrap();
        }
        readers.push(c);
    }
    // binlogd now waits for this reader, megabytes of the file still to send (the
    // position SHOW PROCESSLIST gives for the dump stops moving); an operator cuts the
    // file to 1 MB under it.
    let dump_at = || {
        let out = String::from_utf8_lossy(&client(lport, "replpass", "SHOW PROCESSLIST").stdout).into_owned();
        out.lines().find(|l| l.contains("\tBinlog Dump\t")).map(|l| l.rsplit('\t').next().unwrap_or("").to_string())
    };
    let mut last = None;
    wait_until("the dump to wait for its reader", Duration::from_secs(20), || {
        let now = dump_at();
        let still = now.is_some() && now == last;
        last = now;
        still
    });
    let path = b.binlog_dir.join(&first);
    let full = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(1 << 20).unwrap();
    let mut err = None;
    for (i, c) in readers.iter_mut().enumerate() {
        let mut got = 0u64;
        loop {
            match c.stream.read() {
                Ok(p) if p.first() == Some(&0xff) => {
                    err = Some(String::from_utf8_lossy(&p).into_owned());
                    break;
                }
                Ok(p) if p.first() == Some(&0xfe) && p.len() < 9 => break,
                Ok(p) => {
                    // Every event that arrives is whole: its CRC32 holds (no zeros of
                    // a page past the file's new end).
                    let ev = &p[1..];
                    let (body, crc) = ev.split_at(ev.len() - 4);
                    assert_eq!(crc32fast::hash(body).to_le_bytes(), crc, "reader {i}: an event arrived damaged");
                    got += p.len() as u64;
                }
                Err(_) => break,
            }
        }
        assert!(got < full, "reader {i}: the whole file arrived ({got} bytes) although it was cut to 1 MB");
    }
    let log = b.log_text();
    assert!(
        log.lines().any(|l| l.contains(&first) && l.contains("cut short from outside binlogd")),
        "no error names the cut file (client saw {err:?}):\n{log}"
    );
    // The daemon lives on: the next file is served whole, and it stops cleanly.
    let out = raw_read_all(&b, lport, &second, "after-cut");
    assert_eq!(md5_file(&out.join(&second)), m[&second].0, "{second} read after the cut differs");
    assert_eq!(b.stop(), 0, "{}", b.log_text());
}

#[test]
fn answers_the_mysql_client_refuses_bad_passwords_and_survives_garbage() {
    use binlogd::proto::auth::Account;
    use std::io::Write;
    let s = Server::start(Flavor::MariaDb, "serve-cli");
    // Extra accounts come as stored hashes; bob has only the mysql_native_password one.
    let alice = Account::from_password("alice", b"alice-pw").render();
    let bob = Account::from_password("bob", b"bob-pw").render();
    let bob = &bob[..bob.rfind(':').unwrap() + 1];
    let (mut b, lport) = Binlogd::serving(&s, "serve-cli", &format!("server_accounts = {alice}, {bob}"));
    s.sql("CREATE DATABASE c1; FLUSH BINARY LOGS");
    let client = |pw: &str, sql: &str| {
        Command::new("mariadb")
            .args([
                "--no-defaults",
                "-h127.0.0.1",
                &format!("-P{lport}"),
                "-urepl",
                &format!("-p{pw}"),
                "-N",
                "-B",
                "-e",
                sql,
            ])
            .output()
            .unwrap()
    };
    // Garbage and half packets cost only their own connection.
    for junk in [&b"\xff\xff\xff\x00garbage"[..], &[0x05, 0, 0][..], &[0xff; 64][..]] {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", lport)).unwrap();
        let _ = c.write_all(junk);
    }
    wait_until("binlogd to serve the rotated file", Duration::from_secs(20), || {
        String::from_utf8_lossy(&client("replpass", "SHOW BINARY LOGS").stdout).lines().count() >= 2
    });
    let o = client("replpass", "SELECT @@version_comment; SHOW BINARY LOGS; SELECT @@GLOBAL.server_id");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("binlogd") && out.contains("mysql-bin.000001") && out.contains("1001"), "{out}");
    let as_user = |user: &str, pw: &str| {
        Command::new("mariadb")
            .args(["--no-defaults", "-h127.0.0.1", &format!("-P{lport}"), &format!("-u{user}"), &format!("-p{pw}")])
            .args(["-N", "-B", "-e", "SELECT @@version_comment"])
            .output()
            .unwrap()
    };
    for (user, pw, good) in
        [("alice", "alice-pw", true), ("bob", "bob-pw", true), ("alice", "bob-pw", false), ("carol", "x", false)]
    {
        let o = as_user(user, pw);
        assert_eq!(o.status.success(), good, "{user}: {}", String::from_utf8_lossy(&o.stderr));
        if !good {
            assert!(String::from_utf8_lossy(&o.stderr).contains("1045"), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    let o = client("wrong", "SELECT 1");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("1045"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = client("replpass", "DROP DATABASE c1");
    assert!(String::from_utf8_lossy(&o.stderr).contains("binlogd does not support this statement"));
    assert_eq!(b.stop(), 0);
}

#[test]
fn dump_requests_it_cannot_serve_get_clear_errors() {
    use binlogd::proto::client::Client;
    use binlogd::proto::command::{BinlogDump, RegisterSlave};
    let s = Server::start(Flavor::MariaDb, "serve-err");
    let (mut b, lport) = Binlogd::serving(&s, "serve-err", "");
    let opts = repl_options(lport);
    let register = |c: &mut Client, id: u32| {
        c.command_ok(&RegisterSlave { server_id: id, ..Default::default() }.encode().unwrap(), "register")
    };
    let mut c1 = Client::connect(&opts).unwrap();
    let e = register(&mut c1, 1001).unwrap_err();
    assert!(e.to_string().contains("equals binlogd's server_id"), "{e}");
    c1.query("SET @mariadb_slave_capability = 4").unwrap();
    register(&mut c1, 77).unwrap();
    // The same server_id again, as a replica reconnecting while its old connection
    // lingers: the new one is taken and the older one ended, as a primary does. The
    // older one had not sent its dump yet: when it does, it is told why (4052), which
    // a MariaDB replica answers by reconnecting at once, not after its retry period.
    let mut c2 = Client::connect(&opts).unwrap();
    register(&mut c2, 77).unwrap();
    b.wait_log("replica server_id 77 registered again on connection", Duration::from_secs(10));
    let d = BinlogDump { pos: 4, flags: 0, server_id: 77, file: String::new() };
    c1.stream.write_command(&d.encode()).unwrap();
    let e = binlogd::proto::parse_err(&c1.stream.read().unwrap());
    assert_eq!(e.server_code(), Some(4052), "{e}");
    assert!(c1.stream.read().is_err(), "the older connection of server_id 77 is still open");
    assert!(client(lport, "replpass", "SHOW SLAVE HOSTS").stdout.starts_with(b"77\t"));
    let first = s.binary_logs()[0].clone();
    for (file, pos, want) in [
        ("../../etc/passwd", 4, "plain file name"),
        ("nope-bin.000009", 4, "Could not find first log file name"),
        (first.as_str(), 5, "impossible position"),
    ] {
        let mut c = Client::connect(&opts).unwrap();
        let d = BinlogDump { pos, flags: 0, server_id: 88, file: file.into() };
        c.stream.write_command(&d.encode()).unwrap();
        let p = c.stream.read().unwrap();
        let e = binlogd::proto::parse_err(&p);
        assert_eq!(e.server_code(), Some(1236), "{e}");
        assert!(e.to_string().contains(want), "{file}:{pos}: {e}");
    }
    // binlogd's end is served, twice (the second time from the boundaries it
    // remembered), and the byte before it is still refused.
    let st = String::from_utf8_lossy(&client(lport, "replpass", "SHOW MASTER STATUS").stdout).into_owned();
    let mut cols = st.split('\t');
    let (file, end): (String, u32) = (cols.next().unwrap().into(), cols.next().unwrap().trim().parse().unwrap());
    for (pos, ok) in [(end, true), (end - 1, false), (end, true)] {
        let mut c = Client::connect(&opts).unwrap();
        let d = BinlogDump { pos, flags: 0, server_id: 88, file: file.clone() };
        c.stream.write_command(&d.encode()).unwrap();
        let p = c.stream.read().unwrap();
        assert_eq!(p.first() == Some(&0), ok, "{file}:{pos}: {}", binlogd::proto::parse_err(&p));
    }
    // A MariaDB GTID state binlogd does not have: the replica is ahead of it.
    s.sql("CREATE DATABASE g1; CREATE DATABASE g2");
    let want = s.sql("SELECT @@gtid_binlog_pos").trim().to_string();
    wait_until("binlogd to store both transactions", Duration::from_secs(20), || {
        let o = client(lport, "replpass", "SHOW SLAVE STATUS");
        String::from_utf8_lossy(&o.stdout).split('\t').any(|c| c == want)
    });
    for (state, want) in [("0-1-999999", "which is not in the master's binlog"), ("0-1-x", "bad @slave_connect_state")]
    {
        let mut c = Client::connect(&opts).unwrap();
        c.query(&format!("SET @slave_connect_state = '{state}'")).unwrap();
        let d = BinlogDump { pos: 4, flags: 0, server_id: 89, file: String::new() };
        c.stream.write_command(&d.encode()).unwrap();
        let e = binlogd::proto::parse_err(&c.stream.read().unwrap());
        assert_eq!(e.server_code(), Some(1236), "{e}");
        assert!(e.to_string().contains(want), "{state}: {e}");
    }
    // binlogd still mirrors and serves.
    let o = Command::new("mariadb")
        .args([
            "--no-defaults",
            "-h127.0.0.1",
            &format!("-P{lport}"),
            "-urepl",
            "-preplpass",
            "-N",
            "-e",
            "SHOW SLAVE HOSTS",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("77"), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(b.stop(), 0);
}

#[test]
fn mysql_replica_replicates_from_binlogd_with_auto_position() {
    let s = Server::start(Flavor::Mysql, "serve-gtid-src");
    let lport = free_port();
    let mut b = Binlogd::mirroring(
        &s,
        "serve-gtid",
        &format!("get_start_gtid_mode = 0\nlisten_address = 127.0.0.1\nlisten_port = {lport}"),
    );
    let r = Server::start_with_id(Flavor::Mysql, "serve-gtid-replica", 2);
    // A semi-sync replica: it asks for the semi-sync header, which binlogd sends as a
    // primary whose semi-sync is off does (flag 0, never an ACK asked).
    r.sql(
        "SET GLOBAL rpl_semi_sync_source_enabled = OFF; \
         INSTALL PLUGIN rpl_semi_sync_replica SONAME 'semisync_replica.so'; SET GLOBAL rpl_semi_sync_replica_enabled = ON",
    );
    workload(&s);
    r.sql(&format!(
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={lport}, SOURCE_USER='repl', \
         SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1, SOURCE_SSL=0, GET_SOURCE_PUBLIC_KEY=1; START REPLICA"
    ));
    let want = s.sql("CHECKSUM TABLE sv.t");
    let t = std::time::Instant::now();
    while r.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'sv'").trim() != "1"
        || r.sql("CHECKSUM TABLE sv.t") != want
    {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "the MySQL replica did not catch up through binlogd: {}\n{}",
            r.sql("SHOW REPLICA STATUS"),
            b.log_text().lines().rev().take(15).collect::<Vec<_>>().join("\n")
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // The replica's executed GTIDs now equal the primary's.
    assert_eq!(r.sql("SELECT @@GLOBAL.gtid_executed"), s.sql("SELECT @@GLOBAL.gtid_executed"));
    assert_eq!(r.status("Rpl_semi_sync_replica_status"), "ON", "{}", r.error_log_tail(20));
    // Reconnecting with what it has: binlogd must leave those transactions out
    // (applied twice, the inserts would hit duplicate keys).
    r.sql("STOP REPLICA");
    s.sql("INSERT INTO sv.t (v) VALUES ('second'), ('round'); UPDATE sv.t SET v = 'w' WHERE id = 2");
    // Tagged GTIDs (MySQL 8.3+): in the files, in the next file's Previous_gtids, and in
    // the set binlogd resumes from after a restart.
    s.sql(
        "SET gtid_next = 'AUTOMATIC:mytag'; INSERT INTO sv.t (v) VALUES ('tagged'); \
         SET gtid_next = 'AUTOMATIC:mytag'; UPDATE sv.t SET v = 'tagged-too' WHERE id = 1; SET gtid_next = 'AUTOMATIC'",
    );
    // A compressed transaction (one Transaction_payload event), skipped or sent whole.
    s.sql(
        "SET binlog_transaction_compression = ON; INSERT INTO sv.t (v) VALUES (REPEAT('z', 300)), ('zz'); \
         SET binlog_transaction_compression = OFF",
    );
    s.sql("INSERT INTO sv.t (v) VALUES ('more'); FLUSH BINARY LOGS; INSERT INTO sv.t (v) VALUES ('last')");
    assert_eq!(b.stop(), 0);
    b.start();
    wait_semisync_client(&s, &b);
    s.sql("SET gtid_next = 'AUTOMATIC:other'; INSERT INTO sv.t (v) VALUES ('after-restart'); FLUSH BINARY LOGS");
    r.sql("START REPLICA");
    let want = s.sql("CHECKSUM TABLE sv.t");
    wait_until("the replica to catch up again", Duration::from_secs(60), || r.sql("CHECKSUM TABLE sv.t") == want);
    assert!(r.sql("SHOW REPLICA STATUS").contains("\tYes\tYes\t"), "{}", r.sql("SHOW REPLICA STATUS"));
    let executed = s.sql("SELECT @@GLOBAL.gtid_executed");
    assert!(executed.contains(":mytag:1-2") && executed.contains(":other:1"), "{executed}");
    assert_eq!(r.sql("SELECT @@GLOBAL.gtid_executed"), executed);
    // Again, the replica now asking with a tagged set: what it has is left out.
    r.sql("STOP REPLICA");
    s.sql("SET gtid_next = 'AUTOMATIC:mytag'; INSERT INTO sv.t (v) VALUES ('third'); INSERT INTO sv.t (v) VALUES ('round')");
    r.sql("START REPLICA");
    let want = s.sql("CHECKSUM TABLE sv.t");
    wait_until("the replica to catch up a third time", Duration::from_secs(60), || {
        r.sql("CHECKSUM TABLE sv.t") == want
    });
    assert!(r.sql("SHOW REPLICA STATUS").contains("\tYes\tYes\t"), "{}", r.sql("SHOW REPLICA STATUS"));
    assert_eq!(r.sql("SELECT @@GLOBAL.gtid_executed"), s.sql("SELECT @@GLOBAL.gtid_executed"));
    r.sql("STOP REPLICA");
    assert_rotated_identical(&s, &b);
    assert_eq!(s.semi_status("no_tx"), "0", "{}", b.log_text());
    let log = b.log_text();
    assert!(!log.contains("[ERROR]"), "{log}");
    assert!(log.contains("requested binlog dump from GTID set") && log.contains(":mytag:1-2"), "{log}");
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_mysql_replica_displaced_by_one_with_its_uuid_stops_as_from_the_primary() {
    // Two replicas the primary takes for one (the same server_uuid): when the second
    // starts, the first is told so and stops, as from the primary, rather than
    // reconnect and end the other's dump in turn. (A MariaDB replica told so, error
    // 4052, reconnects at once, and a MariaDB 10.11 primary stops neither twin: see
    // `mariadb_replicas_sharing_a_server_id_are_named_in_a_warning`.)
    let s = Server::start(Flavor::Mysql, "twins-mysql");
    let (mut b, lport) = Binlogd::serving(&s, "twins-mysql", "");
    s.sql("CREATE DATABASE tw; CREATE TABLE tw.t (a INT PRIMARY KEY); INSERT INTO tw.t VALUES (0)");
    let running = |r: &Server| r.status_row("SHOW REPLICA STATUS")["Replica_IO_Running"].clone();
    let mut errors = Vec::new();
    for (i, (from, port)) in [("binlogd", lport), ("primary", s.port)].into_iter().enumerate() {
        let older = replica(Flavor::Mysql, &format!("twins-mysql-{from}-1"), 2);
        let newer = replica(Flavor::Mysql, &format!("twins-mysql-{from}-2"), 3);
        let uuid = older.sql("SELECT @@server_uuid");
        let root = std::fs::read_to_string(newer.dir.join("root")).unwrap();
        std::fs::write(format!("{}/data/auto.cnf", root.trim()), format!("[auto]\nserver-uuid={}\n", uuid.trim()))
            .unwrap();
        newer.restart();
        assert_eq!(newer.sql("SELECT @@server_uuid"), uuid);
        point_replica(&older, port, Follow::Gtid, None, "");
        start_replica(&older);
        older.wait_same(&s.sql("CHECKSUM TABLE tw.t"), "CHECKSUM TABLE tw.t", "the first twin", &b);
        point_replica(&newer, port, Follow::Gtid, None, "");
        start_replica(&newer);
        let t = std::time::Instant::now();
        while running(&older) != "No" {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "reading from {from}, the first twin still runs: {:?}\nits log: {}",
                older.status_row("SHOW REPLICA STATUS"),
                older.error_log_tail(10)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let st = older.status_row("SHOW REPLICA STATUS");
        errors.push((st["Last_IO_Errno"].clone(), st["Last_IO_Error"].clone()));
        s.sql(&format!("INSERT INTO tw.t VALUES ({})", i + 1));
        newer.wait_same(&s.sql("CHECKSUM TABLE tw.t"), "CHECKSUM TABLE tw.t", "the second twin", &b);
        assert_eq!(running(&newer), "Yes");
    }
    // The same errno, and the same text up to the positions, which name each one's files.
    let head = |e: &str| e.split(';').next().unwrap_or_default().to_string();
    assert_eq!(errors[0].0, errors[1].0, "{errors:?}");
    assert_eq!(head(&errors[0].1), head(&errors[1].1), "{errors:?}");
    assert!(errors[0].1.contains("the last event read from"), "{errors:?}");
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_replicas_sharing_a_server_id_are_named_in_a_warning() {
    // A MariaDB replica told that another took its server_id (4052) reconnects at
    // once, as it does from a MariaDB primary: the two take turns for good. binlogd
    // sees the same server_id end its own connection again and again, and says why.
    let s = Server::start(Flavor::MariaDb, "serve-mtwins-src");
    let (mut b, lport) = Binlogd::serving(&s, "serve-mtwins", "");
    s.sql("CREATE DATABASE tw; CREATE TABLE tw.t (a INT PRIMARY KEY); INSERT INTO tw.t VALUES (1)");
    let twins = twins_reading(Flavor::MariaDb, "serve-mtwin", lport);
    b.wait_log("two replicas share this server_id. Each replica needs its own", Duration::from_secs(60));
    assert!(b.log_text().contains("replica server_id 2 registered 5 times within 60 s"), "{}", b.log_text());
    for r in &twins {
        stop_replica(r, "");
    }
    assert_eq!(b.stop(), 0);
}

/// Two replicas of `flavor` with server_id 2 in their cnf (each its own server_uuid),
/// both started by GTID from `port`.
fn twins_reading(flavor: Flavor, tag: &str, port: u16) -> Vec<Server> {
    let twins: Vec<Server> = (0..2).map(|i| replica(flavor, &format!("{tag}{i}"), 2)).collect();
    for r in &twins {
        point_replica(r, port, Follow::Gtid, None, "");
        start_replica(r);
    }
    twins
}

/// How a replica follows its source.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Follow {
    FilePos,
    Gtid,
}

/// `CHANGE MASTER TO` (or `CHANGE REPLICATION SOURCE TO`) for `r` to read from `port`.
/// By file+pos it starts at `at`, by default the primary's first file.
pub fn point_replica(r: &Server, port: u16, follow: Follow, at: Option<(String, String)>, first: &str) {
    let (file, pos) = at.unwrap_or((first.to_string(), "4".to_string()));
    let sql = match (r.flavor, follow) {
        (Flavor::MariaDb | Flavor::MariaDb11, Follow::FilePos) => format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl', \
             MASTER_PASSWORD='replpass', MASTER_LOG_FILE='{file}', MASTER_LOG_POS={pos}, MASTER_USE_GTID=no"
        ),
        (Flavor::MariaDb | Flavor::MariaDb11, Follow::Gtid) => format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl', \
             MASTER_PASSWORD='replpass', MASTER_USE_GTID=slave_pos"
        ),
        (Flavor::Mysql, Follow::FilePos) => format!(
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={port}, SOURCE_USER='repl', \
             SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=0, SOURCE_LOG_FILE='{file}', SOURCE_LOG_POS={pos}, \
             SOURCE_SSL=0, GET_SOURCE_PUBLIC_KEY=1"
        ),
        (Flavor::Mysql, Follow::Gtid) => format!(
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={port}, SOURCE_USER='repl', \
             SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1, SOURCE_SSL=0, GET_SOURCE_PUBLIC_KEY=1"
        ),
    };
    // A MariaDB 11 replica asks for TLS by default; binlogd offers it only with ssl_cert.
    let sql = if r.flavor == Flavor::MariaDb11 { format!("{sql}, MASTER_SSL=0") } else { sql };
    r.sql(&sql);
}

pub fn start_replica(r: &Server) {
    r.sql(if r.flavor == Flavor::Mysql { "START REPLICA" } else { "START SLAVE" });
}

pub fn stop_replica(r: &Server, what: &str) {
    let verb = if r.flavor == Flavor::Mysql { "REPLICA" } else { "SLAVE" };
    r.sql(&format!("STOP {verb} {what}"));
}

/// A replica of `flavor` that is not a semisync source itself.
pub fn replica(flavor: Flavor, tag: &str, id: u32) -> Server {
    let r = Server::start_with_id(flavor, tag, id);
    r.sql(if flavor == Flavor::Mysql {
        "SET GLOBAL rpl_semi_sync_source_enabled = OFF"
    } else {
        "SET GLOBAL rpl_semi_sync_master_enabled = OFF"
    });
    r
}

/// The failover scenario: a replica lags, the primary keeps committing (acknowledged
/// by binlogd) and dies; the replica is pointed at binlogd and ends with the
/// primary's last data.
fn failover_compensation(flavor: Flavor, follow: Follow) {
    let p = Server::start(flavor, "fo-primary");
    let lport = free_port();
    let mode = if flavor == Flavor::Mysql { 0 } else { 2 };
    let mut b = Binlogd::mirroring(
        &p,
        "fo",
        &format!("get_start_gtid_mode = {mode}\nlisten_address = 127.0.0.1\nlisten_port = {lport}"),
    );
    let r = replica(flavor, "fo-replica", 2);
    let first = p.binary_logs()[0].clone();
    point_replica(&r, p.port, follow, None, &first);
    start_replica(&r);
    p.sql("CREATE DATABASE fo; CREATE TABLE fo.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100))");
    p.sql("INSERT INTO fo.t (v) VALUES ('before-1'), ('before-2')");
    r.wait_same(&p.sql("CHECKSUM TABLE fo.t"), "CHECKSUM TABLE fo.t", "following the primary", &b);
    // 1. The replica lags.
    stop_replica(&r, "IO_THREAD");
    // 2. The primary keeps committing, each acknowledged by binlogd, then dies.
    for i in 0..20 {
        p.sql(&format!("INSERT INTO fo.t (v) VALUES ('after-{i}')"));
    }
    p.sql("UPDATE fo.t SET v = 'changed' WHERE id = 1; FLUSH BINARY LOGS; INSERT INTO fo.t (v) VALUES ('last')");
    assert_eq!(p.semi_status("no_tx"), "0", "every commit was acknowledged by binlogd");
    let last_state = p.sql("CHECKSUM TABLE fo.t");
    let _ =
        std::process::Command::new(repo().join("scripts/server.sh")).args(["kill", p.dir.to_str().unwrap()]).status();
    // 3. The replica is pointed at binlogd with the same user and password: by file
    // and position from where its SQL thread stopped, or by GTID.
    let at = (follow == Follow::FilePos).then(|| {
        let st = r.status_row(if flavor == Flavor::Mysql { "SHOW REPLICA STATUS" } else { "SHOW SLAVE STATUS" });
        let (f, p) = if flavor == Flavor::Mysql {
            ("Relay_Source_Log_File", "Exec_Source_Log_Pos")
        } else {
            ("Relay_Master_Log_File", "Exec_Master_Log_Pos")
        };
        (st[f].clone(), st[p].clone())
    });
    // binlogd serves what it stored even when it restarts with the primary gone.
    assert_eq!(b.stop(), 0);
    b.start();
    // binlogd says why it is not replicating, and since when.
    // In the words of the primary's version (MySQL 9.7 has no SHOW SLAVE STATUS).
    let (status, io) = match flavor {
        Flavor::Mysql => ("SHOW REPLICA STATUS", "Replica_IO_Running"),
        _ => ("SHOW SLAVE STATUS", "Slave_IO_Running"),
    };
    wait_until("binlogd to report the dead primary", Duration::from_secs(20), || {
        let o = Command::new("mariadb")
            .args(["--no-defaults", "-h127.0.0.1", &format!("-P{lport}"), "-urepl", "-preplpass", "-E"])
            .args(["-e", status])
            .output()
            .unwrap();
        let st = vertical(&String::from_utf8_lossy(&o.stdout));
        st.get(io).map(String::as_str) == Some("Connecting")
            && st.get("Last_IO_Errno").map(String::as_str) == Some("2003")
            && st.get("Last_IO_Error_Timestamp").is_some_and(|t| t.len() == 15)
            && st.get("Durable_Log_File").is_some_and(|f| !f.is_empty())
    });
    stop_replica(&r, "");
    point_replica(&r, lport, follow, at, &first);
    start_replica(&r);
    // 4. The replica pulls the missing transactions from binlogd.
    r.wait_same(&last_state, "CHECKSUM TABLE fo.t", "failover", &b);
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_failover_compensation_by_file_and_position() {
    failover_compensation(Flavor::MariaDb, Follow::FilePos);
}

#[test]
fn mariadb_failover_compensation_by_gtid() {
    failover_compensation(Flavor::MariaDb, Follow::Gtid);
}

// MariaDB 11.8 on both sides: files whose in-transaction events carry log_pos 0.
#[test]
fn mariadb11_failover_compensation_by_gtid() {
    failover_compensation(Flavor::MariaDb11, Follow::Gtid);
}

#[test]
fn mysql_failover_compensation_by_auto_position() {
    failover_compensation(Flavor::Mysql, Follow::Gtid);
}

#[test]
fn mysql_failover_compensation_by_file_and_position() {
    failover_compensation(Flavor::Mysql, Follow::FilePos);
}

#[test]
fn mariadb_replica_replicates_from_binlogd_by_gtid_and_a_stale_gtid_index_is_rebuilt() {
    let s = Server::start(Flavor::MariaDb, "serve-mg-src");
    let (mut b, lport) = Binlogd::serving(&s, "serve-mg", "");
    let r = replica(Flavor::MariaDb, "serve-mg-replica", 2);
    point_replica(&r, lport, Follow::Gtid, None, "");
    start_replica(&r);
    workload(&s);
    r.wait_same(&s.sql("CHECKSUM TABLE sv.t"), "CHECKSUM TABLE sv.t", "MariaDB GTID", &b);
    assert_eq!(r.sql("SELECT @@gtid_slave_pos"), s.sql("SELECT @@gtid_binlog_pos"));
    // The index lists every file; binlogd restarts with every entry stale.
    stop_replica(&r, "");
    assert_eq!(b.stop(), 0);
    let idx = b.binlog_dir.join("binlogd.gtid_index");
    let text = std::fs::read_to_string(&idx).unwrap();
    for f in b.index() {
        assert!(text.contains(&format!("{f}\t")), "{f} missing from the GTID index:\n{text}");
    }
    let stale: Vec<String> = text
        .lines()
        .map(|l| match l.split_once('\t') {
            Some((name, rest)) => format!("{name}\t00000000\t{}", rest.split_once('\t').map_or("", |x| x.1)),
            None => l.to_string(),
        })
        .collect();
    std::fs::write(&idx, stale.join("\n")).unwrap();
    b.start();
    wait_semisync_client(&s, &b);
    // Reconnecting by GTID leaves out what the replica has (applied twice, the
    // inserts would hit duplicate keys).
    s.sql("INSERT INTO sv.t (v) VALUES ('second'); FLUSH BINARY LOGS; UPDATE sv.t SET v = 'w' WHERE id = 2");
    start_replica(&r);
    r.wait_same(&s.sql("CHECKSUM TABLE sv.t"), "CHECKSUM TABLE sv.t", "MariaDB GTID after a restart", &b);
    assert_eq!(r.sql("SELECT @@gtid_slave_pos"), s.sql("SELECT @@gtid_binlog_pos"));
    let st = r.status_row("SHOW SLAVE STATUS");
    assert_eq!((st["Slave_IO_Running"].as_str(), st["Slave_SQL_Running"].as_str()), ("Yes", "Yes"), "{st:?}");
    assert!(b.log_text().contains("is stale; rebuilding"), "{}", b.log_text());
    assert!(!std::fs::read_to_string(&idx).unwrap().contains("\t00000000\t"));
    stop_replica(&r, "");
    assert_eq!(b.stop(), 0);
    // Started without the index, binlogd leaves it to the first GTID dump: the files
    // stored at start are not read while it recovers and greets its first clients.
    std::fs::remove_file(&idx).unwrap();
    b.start();
    wait_semisync_client(&s, &b);
    s.sql("INSERT INTO sv.t (v) VALUES ('third')");
    let (_, listed, _) = session(lport, "SHOW BINARY LOGS");
    assert!(!listed.is_empty() && !idx.exists(), "{listed}");
    start_replica(&r);
    r.wait_same(&s.sql("CHECKSUM TABLE sv.t"), "CHECKSUM TABLE sv.t", "MariaDB GTID without the index", &b);
    let text = std::fs::read_to_string(&idx).unwrap();
    assert!(b.index().iter().all(|f| text.contains(&format!("{f}\t"))), "{text}");
    stop_replica(&r, "");
    assert_eq!(b.stop(), 0);
}

#[test]
fn three_replicas_read_at_once_while_binlogd_mirrors_a_live_load() {
    let s = Server::start(Flavor::MariaDb, "fan-src");
    let (mut b, lport) = Binlogd::serving(&s, "fan", "");
    s.sql("CREATE DATABASE fan; CREATE TABLE fan.t (id INT AUTO_INCREMENT PRIMARY KEY, w INT, v VARCHAR(200))");
    let first = s.binary_logs()[0].clone();
    let reps: Vec<Server> = (0..3).map(|i| replica(Flavor::MariaDb, &format!("fan-r{i}"), 10 + i)).collect();
    for (i, r) in reps.iter().enumerate() {
        point_replica(r, lport, if i == 1 { Follow::Gtid } else { Follow::FilePos }, None, &first);
        start_replica(r);
    }
    // The load runs while the replicas read; one of them stops and starts again midway.
    let dir = s.dir.to_path_buf();
    let load = std::thread::spawn(move || {
        for i in 0..150 {
            let q = format!(
                "INSERT INTO fan.t (w, v) VALUES ({i}, REPEAT('x', {})), ({i}, 'y'); UPDATE fan.t SET v = 'u{i}' WHERE id = {}",
                i % 200,
                i / 2 + 1
            );
            let q = if i % 50 == 49 { format!("{q}; FLUSH BINARY LOGS") } else { q };
            let st = Command::new(repo().join("scripts/server.sh")).args(["sql", dir.to_str().unwrap(), &q]).status();
            assert!(st.unwrap().success());
        }
    });
    // None yet where the replica has not created the table.
    let rows = |r: &Server| {
        r.sql_result("SELECT COUNT(*) FROM fan.t").ok().and_then(|n| n.trim().parse::<u64>().ok()).unwrap_or(0)
    };
    wait_until("the third replica to apply some of the load", Duration::from_secs(60), || rows(&reps[2]) > 20);
    stop_replica(&reps[2], "");
    let stopped_at = rows(&reps[2]);
    wait_until("the load to go on while it is stopped", Duration::from_secs(60), || {
        load.is_finished() || s.sql("SELECT COUNT(*) FROM fan.t").trim().parse::<u64>().unwrap_or(0) > stopped_at + 20
    });
    start_replica(&reps[2]);
    load.join().unwrap();
    let want = s.sql("CHECKSUM TABLE fan.t");
    for (i, r) in reps.iter().enumerate() {
        r.wait_same(&want, "CHECKSUM TABLE fan.t", &format!("replica {i}"), &b);
    }
    let hosts = String::from_utf8_lossy(&client(lport, "replpass", "SHOW SLAVE HOSTS").stdout).into_owned();
    for id in [10, 11, 12] {
        assert!(hosts.lines().any(|l| l.starts_with(&format!("{id}\t"))), "replica {id} not registered:\n{hosts}");
    }
    assert_eq!(s.semi_status("no_tx"), "0", "binlogd acknowledged every commit while serving");
    assert_rotated_identical(&s, &b);
    for r in &reps {
        stop_replica(r, "");
    }
    assert_eq!(b.stop(), 0);
}

#[test]
fn mysqlbinlog_reads_byte_identical_files_and_gtid_dumps_binlogd_cannot_serve_are_refused() {
    use binlogd::proto::command::BinlogDumpGtid;
    let s = Server::start(Flavor::Mysql, "serve-mysqlbinlog");
    // binlogd starts after the primary purged its first file: transactions before
    // binlogd's first file are not in binlogd.
    s.sql("CREATE DATABASE early; FLUSH BINARY LOGS");
    let now = s.binary_logs().last().unwrap().clone();
    s.sql(&format!("PURGE BINARY LOGS TO '{now}'"));
    let (mut b, lport) = Binlogd::serving(&s, "serve-mysqlbinlog", "");
    workload(&s);
    let m = rotated_md5s(&s, &b);
    let out = mysqlbinlog_raw(lport, "all", &["--read-from-remote-server", "--to-last-log", &now], &b);
    for (name, (p, _)) in &m {
        assert_eq!(&md5_file(&out.join(name)), p, "{name} read by mysqlbinlog from binlogd differs from the primary's");
    }
    let _ = std::fs::remove_dir_all(&out);
    // Auto-position dumps binlogd cannot serve get the 1236 a primary gives.
    let uuid = s.sql("SELECT @@server_uuid").trim().to_string();
    let opts = repl_options(lport);
    let ahead = binlogd::binlog::gtid::GtidSet::parse(&format!("{uuid}:1-1000000")).unwrap();
    for (set, want) in [
        (binlogd::binlog::gtid::GtidSet::default(), "purged required binary logs"),
        (ahead, "more GTIDs than the master has"),
    ] {
        let mut c = binlogd::proto::client::Client::connect(&opts).unwrap();
        let d = BinlogDumpGtid { flags: 0, server_id: 99, file: String::new(), pos: 4, gtid_data: set.encode() };
        c.stream.write_command(&d.encode()).unwrap();
        let e = binlogd::proto::parse_err(&c.stream.read().unwrap());
        assert_eq!(e.server_code(), Some(1236), "{e}");
        assert!(e.to_string().contains(want), "{e}");
    }
    // binlogd's own upstream, as SHOW REPLICA STATUS shows it.
    let st = binlogd_row(lport, "SHOW REPLICA STATUS");
    assert_eq!(st.get("Replica_IO_Running").map(String::as_str), Some("Yes"), "{st:?}");
    assert_eq!(st["Source_Port"], s.port.to_string());
    // MySQL 8.0.26 and later say "source" in a replica's states.
    assert_eq!(st["Replica_IO_State"], "Waiting for source to send event");
    assert_eq!(st["Source_UUID"], uuid);
    assert_eq!(st["Rpl_semi_sync_slave_status"], "ON");
    assert_eq!(st["Seconds_Behind_Source"], "0");
    let gtids = s.sql("SELECT @@GLOBAL.gtid_executed").replace('\n', "");
    assert!(gtids.ends_with(st["Retrieved_Gtid_Set"].split(':').next_back().unwrap()), "{st:?} vs {gtids}");
    assert_eq!(st["Source_Log_File"], *s.binary_logs().last().unwrap());
    let o = client(lport, "replpass", "SELECT @@GLOBAL.gtid_executed");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), gtids.trim());
    assert_eq!(b.stop(), 0);
}

/// The sid chroot's `mysqlbinlog --raw` reading from `port` with `args`, into a fresh
/// directory (inside the chroot, where it writes) named for `tag`; returns it.
pub fn mysqlbinlog_raw(port: u16, tag: &str, args: &[&str], b: &Binlogd) -> std::path::PathBuf {
    let inner = format!("/var/tmp/binlogd-raw-{}-{tag}", std::process::id());
    let out = std::path::PathBuf::from(format!("{}{inner}", sid_root().display()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let st = Command::new("chroot")
        .arg(sid_root())
        .args(["/usr/bin/mysqlbinlog", "--no-defaults", "--host=127.0.0.1", &format!("--port={port}")])
        .args(["--user=repl", "--password=replpass", "--raw", &format!("--result-file={inner}/")])
        .args(args)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "mysqlbinlog {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&st.stderr),
        b.log_text()
    );
    out
}

/// The files in `dir`, by name, with their bytes.
fn files_in(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect()
}

#[test]
fn a_mysql_replica_by_auto_position_resumes_at_its_file_even_after_binlogd_purged_the_rest() {
    // A MySQL replica sends COM_BINLOG_DUMP_GTID with flags 0, mysqlbinlog with 0x01:
    // binlogd must read the GTID set whatever the flags, as mysqld does.
    let s = Server::start(Flavor::Mysql, "gtid-resume-src");
    let (mut b, lport) = Binlogd::serving(&s, "gtid-resume", "");
    s.sql(
        "CREATE DATABASE gr; CREATE TABLE gr.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT); \
         INSERT INTO gr.t (v) VALUES (1); FLUSH BINARY LOGS; INSERT INTO gr.t (v) VALUES (2)",
    );
    let r = replica(Flavor::Mysql, "gtid-resume-replica", 2);
    point_replica(&r, lport, Follow::Gtid, None, "");
    start_replica(&r);
    let sum = "CHECKSUM TABLE gr.t";
    r.wait_same(&s.sql(sum), sum, "first read", &b);
    stop_replica(&r, "");
    // Everything the replica has is before this file: a reconnect starts there.
    s.sql("FLUSH BINARY LOGS; INSERT INTO gr.t (v) VALUES (3)");
    let resume = s.binary_logs().last().unwrap().clone();
    start_replica(&r);
    r.wait_same(&s.sql(sum), sum, "reconnect", &b);
    b.wait_log(&format!("GTID dump from {resume}:4"), Duration::from_secs(30));
    stop_replica(&r, "");

    // mysqlbinlog leaving out GTIDs gets the bytes the primary gives it.
    let uuid = s.sql("SELECT @@server_uuid").trim().to_string();
    wait_active_mirrored(&s, &b);
    let first = s.binary_logs()[0].clone();
    for (i, exclude) in [format!("{uuid}:1-2"), format!("{uuid}:2-3")].iter().enumerate() {
        let args = [
            "--read-from-remote-source=BINLOG-DUMP-GTIDS",
            &format!("--exclude-gtids={exclude}"),
            "--to-last-log",
            &first,
        ];
        let mine = files_in(&mysqlbinlog_raw(lport, &format!("ex{i}-binlogd"), &args, &b));
        let theirs = files_in(&mysqlbinlog_raw(s.port, &format!("ex{i}-primary"), &args, &b));
        assert_eq!(mine.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>(), "--exclude-gtids={exclude}");
        for (name, t) in &theirs {
            let m = &mine[name];
            assert!(
                m == t,
                "--exclude-gtids={exclude}: {name} is {} bytes from binlogd, {} from the primary, first difference at {:?}",
                m.len(),
                t.len(),
                first_difference(m, t)
            );
        }
    }

    // binlogd purges every file but the newest; the replica holds every purged
    // transaction, so it reconnects as to a primary that purged them.
    s.sql("FLUSH BINARY LOGS; INSERT INTO gr.t (v) VALUES (4)");
    let newest = wait_active_mirrored(&s, &b);
    let o = client(lport, "replpass", &format!("PURGE BINARY LOGS TO '{newest}'"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = client(lport, "replpass", "SHOW BINARY LOGS");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with(newest.as_str()), "{}", String::from_utf8_lossy(&o.stdout));
    // What binlogd no longer holds: every transaction before its oldest file, all but the last.
    let last: u64 = s.sql("SELECT @@GLOBAL.gtid_executed").trim().rsplit_once('-').unwrap().1.parse().unwrap();
    let o = client(lport, "replpass", "SELECT @@gtid_purged");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), format!("{uuid}:1-{}", last - 1));
    start_replica(&r);
    r.wait_same(&s.sql(sum), sum, "reconnect after binlogd's purge", &b);
    b.wait_log(&format!("GTID dump from {newest}:4"), Duration::from_secs(30));
    let st = r.status_row("SHOW REPLICA STATUS");
    assert_eq!((st["Replica_IO_Running"].as_str(), st["Last_IO_Errno"].as_str()), ("Yes", "0"), "{st:?}");
    assert_eq!(r.sql("SELECT @@GLOBAL.gtid_executed"), s.sql("SELECT @@GLOBAL.gtid_executed"));
    assert_eq!(b.stop(), 0);
}

/// mariadb-binlog (or the chroot's mysqlbinlog) decoding a remote read into text.
pub fn decoded(flavor: Flavor, port: u16, args: &[&str]) -> String {
    let mut c = if flavor == Flavor::Mysql {
        let mut c = Command::new("chroot");
        c.arg(sid_root()).args(["/usr/bin/mysqlbinlog", "--no-defaults"]);
        c
    } else {
        Command::new("mariadb-binlog")
    };
    let o = c
        .args(["--read-from-remote-server", "--host=127.0.0.1", &format!("--port={port}"), "--user=repl"])
        .arg("--password=replpass")
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn readers_decode_the_same_text_from_binlogd_as_from_the_primary_from_any_start() {
    // The first binlog after a primary starts has an FDE with `created` set: a replica
    // takes that for a primary that restarted and drops its temporary tables. A dump
    // that does not start at the file's start must get it with `created` 0, as a
    // primary sends it, so the clients decode the same text from both.
    for flavor in [Flavor::MariaDb, Flavor::Mysql] {
        let s = Server::start(flavor, "serve-fde");
        let (mut b, lport) = Binlogd::serving(&s, "serve-fde", "");
        s.sql("CREATE DATABASE f; CREATE TABLE f.t (a INT); INSERT INTO f.t VALUES (1); INSERT INTO f.t VALUES (2)");
        s.sql("INSERT INTO f.t VALUES (3); FLUSH BINARY LOGS; INSERT INTO f.t VALUES (4)");
        assert_rotated_identical(&s, &b);
        let first = s.binary_logs()[0].clone();
        let starts: Vec<String> = s
            .sql(&format!("SHOW BINLOG EVENTS IN '{first}'"))
            .lines()
            .filter(|l| l.split('\t').nth(2) == Some("Gtid"))
            .filter_map(|l| l.split('\t').nth(1).map(str::to_string))
            .collect();
        // The events a server makes up for the stream (timestamp 0) carry its own
        // server_id: binlogd's are binlogd's, as its @@server_id says.
        let decoded = |port: u16, args: &[&str]| -> String {
            decoded(flavor, port, args)
                .lines()
                .filter(|l| !l.starts_with("#700101  0:00:00 server id "))
                .map(|l| format!("{l}\n"))
                .collect()
        };
        let mid = &starts[2];
        let args = [format!("--start-position={mid}"), first.clone()];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (theirs, mine) = (decoded(s.port, &args), decoded(lport, &args));
        assert!(theirs.contains("Write_rows"), "{theirs}");
        assert!(!mine.contains("at startup"), "{mine}");
        assert_eq!(mine, theirs, "{flavor:?}: decoded from binlogd and from the primary, from {first}:{mid}");
        // From the start, across the rotation to the last file.
        let all = ["--to-last-log", &first];
        let (theirs, mine) = (decoded(s.port, &all), decoded(lport, &all));
        assert_eq!(mine, theirs, "{flavor:?}: decoded from binlogd and from the primary, all files");
        if flavor == Flavor::Mysql {
            // By GTID (COM_BINLOG_DUMP_GTID), leaving out what the reader has.
            let uuid = s.sql("SELECT @@server_uuid").trim().to_string();
            let ex = format!("--exclude-gtids={uuid}:1-3");
            let args = [ex.as_str(), "--to-last-log", &first];
            let (theirs, mine) = (decoded(s.port, &args), decoded(lport, &args));
            assert_eq!(mine, theirs, "MySQL GTID read from binlogd and from the primary");
        }
        if flavor == Flavor::MariaDb {
            // By GTID, with the Gtid_list both make up once the start is reached, and
            // the offsets mariadb-binlog counts after it.
            let gtid = ["--start-position=0-1-3", "--stop-position=0-1-5", &first];
            let (theirs, mine) = (decoded(s.port, &gtid), decoded(lport, &gtid));
            assert!(theirs.contains("Gtid list"), "{theirs}");
            assert_eq!(mine, theirs, "MariaDB GTID read from binlogd and from the primary");
        }
        assert_eq!(b.stop(), 0);
    }
}

#[test]
fn a_mariadb_gtid_dump_gets_the_start_files_fde_as_the_primary_sends_it() {
    gtid_dump_start_fde_as_from_the_primary(Flavor::MariaDb, &[]);
}

#[test]
fn a_mariadb_11_gtid_dump_without_the_gtid_index_gets_the_start_fde_as_the_primary_sends_it() {
    // With its binlog GTID index (11.4 and later, on by default) a primary starts a GTID
    // dump at an indexed offset inside the file and sends the FDE with log_pos and
    // created 0 whatever the state; binlogd reads the file from its start, as the primary
    // does with the index off.
    gtid_dump_start_fde_as_from_the_primary(Flavor::MariaDb11, &["binlog_gtid_index=OFF"]);
}

/// The first binlog after a primary starts has `created` set in its FDE, which tells
/// a replica to drop its temporary tables. A MariaDB primary sends it as stored to a
/// replica with an empty GTID state, and with `created` 0 to one whose position lies
/// further on (its temporary tables may still be needed).
fn gtid_dump_start_fde_as_from_the_primary(flavor: Flavor, cnf: &[&str]) {
    use binlogd::proto::client::Client;
    use binlogd::proto::command::BinlogDump;
    let s = Server::start(flavor, "serve-gtid-fde");
    if !cnf.is_empty() {
        s.reconfigure(cnf);
    }
    let (mut b, lport) = Binlogd::serving(&s, "serve-gtid-fde", "");
    s.sql("CREATE DATABASE c; CREATE TABLE c.t (a INT); INSERT INTO c.t VALUES (1); FLUSH BINARY LOGS");
    s.sql("INSERT INTO c.t VALUES (2)");
    assert_rotated_identical(&s, &b);
    let fde = |port: u16, state: &str, id: u32| -> Vec<u8> {
        let mut c = Client::connect(&repl_options(port)).unwrap();
        c.query("SET @master_binlog_checksum = 'CRC32', @mariadb_slave_capability = 4").unwrap();
        c.query(&format!("SET @slave_connect_state = '{state}'")).unwrap();
        c.stream.write_command(&BinlogDump { pos: 4, flags: 0, server_id: id, file: String::new() }.encode()).unwrap();
        loop {
            let p = c.stream.read().unwrap();
            assert_eq!(p.first(), Some(&0), "port {port}, state {state:?}: {}", binlogd::proto::parse_err(&p));
            // After the OK byte: timestamp (4), then the event type; 15 is the FDE.
            if p.get(5) == Some(&15) {
                return p;
            }
        }
    };
    const CREATED: usize = 1 + 19 + 2 + 50;
    for (state, kept) in [("", true), ("0-1-2", false)] {
        let (theirs, mine) = (fde(s.port, state, 90), fde(lport, state, 91));
        assert_eq!(mine, theirs, "the FDE for state {state:?}, from binlogd and from the primary");
        assert_eq!(mine[CREATED..CREATED + 4] != [0; 4], kept, "created, for state {state:?}");
    }
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_mariadb_replica_by_gtid_learns_its_binlog_position_as_from_the_primary() {
    // A primary tells a replica that connects by GTID where its position lies in the
    // binlog (a made-up Gtid_list after the group it had), even when nothing follows:
    // SHOW SLAVE STATUS and MASTER_POS_WAIT must agree between binlogd and the primary.
    let s = Server::start(Flavor::MariaDb, "serve-gtidpos-src");
    let (mut b, lport) = Binlogd::serving(&s, "serve-gtidpos", "");
    s.sql("CREATE DATABASE p; CREATE TABLE p.t (a INT PRIMARY KEY); INSERT INTO p.t VALUES (1); FLUSH BINARY LOGS");
    let first_end = s.sql("SELECT @@gtid_binlog_pos").trim().to_string();
    s.sql("SET gtid_domain_id = 2; INSERT INTO p.t VALUES (2); SET gtid_domain_id = 0; INSERT INTO p.t VALUES (3)");
    let last = s.sql("SELECT @@gtid_binlog_pos").trim().to_string();
    s.sql("INSERT INTO p.t VALUES (4)");
    let primary_end = s.sql("SHOW MASTER STATUS");
    let end: Vec<&str> = primary_end.split('\t').take(2).collect();
    wait_until("binlogd to hold the primary's last event", Duration::from_secs(20), || {
        client(lport, "replpass", "SHOW MASTER STATUS")
            .stdout
            .starts_with(primary_end.split('\t').take(2).collect::<Vec<_>>().join("\t").as_bytes())
    });
    let fields =
        ["Master_Log_File", "Read_Master_Log_Pos", "Relay_Master_Log_File", "Exec_Master_Log_Pos", "Gtid_IO_Pos"];
    let mut seen = Vec::new();
    for (tag, port, id) in [("via-binlogd", lport, 2), ("via-primary", s.port, 3)] {
        let r = replica(Flavor::MariaDb, &format!("serve-gtidpos-{tag}"), id);
        let mut rows = Vec::new();
        // At the primary's last group (nothing to send), one behind it, and at the end
        // of the first file (where the second file's Gtid_list starts).
        for (pos, have) in [
            (s.sql("SELECT @@gtid_binlog_pos").trim().to_string(), "(1), (2), (3), (4)"),
            (last.clone(), "(1), (2), (3)"),
            (first_end.clone(), "(1)"),
        ] {
            r.sql(&format!(
                "SET sql_log_bin = 0; DROP DATABASE IF EXISTS p; CREATE DATABASE p; CREATE TABLE p.t (a INT PRIMARY KEY); \
                 INSERT INTO p.t VALUES {have}; SET GLOBAL gtid_slave_pos = '{pos}'"
            ));
            point_replica(&r, port, Follow::Gtid, None, "");
            start_replica(&r);
            r.wait_same(&s.sql("CHECKSUM TABLE p.t"), "CHECKSUM TABLE p.t", tag, &b);
            // The events it waited for (0, or 1 if the replica's SQL thread had not yet
            // moved its position past the group whose rows are visible); -1 is a timeout.
            let waited = r.sql(&format!("SELECT MASTER_POS_WAIT('{}', {}, 10)", end[0], end[1]));
            assert!(matches!(waited.trim(), "0" | "1"), "{tag} at {pos}: MASTER_POS_WAIT gave {waited}");
            let st = r.status_row("SHOW SLAVE STATUS");
            rows.push(fields.iter().map(|f| st[*f].clone()).collect::<Vec<_>>());
            stop_replica(&r, "");
            r.sql("RESET SLAVE ALL");
        }
        seen.push(rows);
    }
    assert_eq!(seen[0], seen[1], "{fields:?}: binlogd's replica, then the primary's");
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_replica_stops_at_start_slave_until_master_gtid_pos() {
    // Two replicas take the same START SLAVE UNTIL steps, one from binlogd and one from
    // the primary itself, and must stop at the same places with the same data.
    let s = Server::start(Flavor::MariaDb, "serve-until-src");
    let (mut b, lport) = Binlogd::serving(&s, "serve-until", "");
    s.sql("CREATE DATABASE u; CREATE TABLE u.t (a INT PRIMARY KEY)");
    for i in 1..=6 {
        s.sql(&format!("INSERT INTO u.t VALUES ({i})"));
    }
    // 0-1-9 in the next file, with a group of domain 2 before it.
    s.sql("FLUSH BINARY LOGS; SET gtid_domain_id = 2; INSERT INTO u.t VALUES (100); SET gtid_domain_id = 0; INSERT INTO u.t VALUES (7)");
    s.sql("INSERT INTO u.t VALUES (8)");
    assert_rotated_identical(&s, &b);
    let via_binlogd = replica(Flavor::MariaDb, "serve-until-r1", 2);
    point_replica(&via_binlogd, lport, Follow::Gtid, None, "");
    let via_primary = replica(Flavor::MariaDb, "serve-until-r2", 3);
    point_replica(&via_primary, s.port, Follow::Gtid, None, "");
    let stopped = |r: &Server| r.status_row("SHOW SLAVE STATUS")["Slave_SQL_Running"] == "No";
    let state = |r: &Server| {
        (r.sql("SELECT @@gtid_slave_pos").trim().to_string(), r.sql("SELECT GROUP_CONCAT(a ORDER BY a) FROM u.t"))
    };
    // Within the first file; in the second, past a group of a domain it does not name;
    // and one already behind the replica.
    for (until, want) in [("0-1-5", "0-1-5"), ("0-1-9", "0-1-9"), ("0-1-4", "0-1-9")] {
        for r in [&via_binlogd, &via_primary] {
            r.sql(&format!("START SLAVE UNTIL master_gtid_pos = '{until}'"));
            wait_until(&format!("the replica to stop at UNTIL {until}"), Duration::from_secs(30), || stopped(r));
        }
        assert_eq!(state(&via_binlogd), state(&via_primary), "after UNTIL {until}");
        assert!(state(&via_binlogd).0.contains(want), "after UNTIL {until}: {:?}", state(&via_binlogd));
        let st = via_binlogd.status_row("SHOW SLAVE STATUS");
        assert_eq!(st["Slave_IO_Running"], "No", "{st:?}");
    }
    // START SLAVE goes on from there to the end.
    start_replica(&via_binlogd);
    via_binlogd.wait_same(&s.sql("CHECKSUM TABLE u.t"), "CHECKSUM TABLE u.t", "after UNTIL", &b);
    stop_replica(&via_binlogd, "");
    assert!(b.log_text().contains("UNTIL position is reached"), "{}", b.log_text());
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_strict_mariadb_replica_asking_for_a_hole_in_the_binlog_is_refused_as_by_the_primary() {
    // 0-1-5 and 0-1-7 are in the binlog, 0-1-6 is not: a replica in gtid_strict_mode
    // that says it has 0-1-6 has diverged, and the primary refuses it.
    let s = Server::start(Flavor::MariaDb, "serve-hole-src");
    let (mut b, lport) = Binlogd::serving(&s, "serve-hole", "");
    s.sql("CREATE DATABASE h; CREATE TABLE h.t (a INT PRIMARY KEY); INSERT INTO h.t VALUES (1), (2); INSERT INTO h.t VALUES (3)");
    s.sql("INSERT INTO h.t VALUES (4); SET gtid_seq_no = 7; INSERT INTO h.t VALUES (5)");
    assert_rotated_identical(&s, &b);
    assert!(s.sql("SELECT @@gtid_binlog_pos").contains("0-1-7"));
    let mut errors = Vec::new();
    for (tag, port, id) in [("via-binlogd", lport, 2), ("via-primary", s.port, 3)] {
        let r = replica(Flavor::MariaDb, &format!("serve-hole-{tag}"), id);
        r.sql(
            "SET sql_log_bin = 0; CREATE DATABASE h; CREATE TABLE h.t (a INT PRIMARY KEY); \
             SET GLOBAL gtid_strict_mode = ON; SET GLOBAL gtid_slave_pos = '0-1-6'",
        );
        point_replica(&r, port, Follow::Gtid, None, "");
        start_replica(&r);
        wait_until("the replica's I/O thread to stop", Duration::from_secs(30), || {
            r.status_row("SHOW SLAVE STATUS")["Slave_IO_Running"] == "No"
        });
        let st = r.status_row("SHOW SLAVE STATUS");
        errors.push((st["Last_IO_Errno"].clone(), st["Last_IO_Error"].clone()));
        // Without strict mode, both start after the hole.
        stop_replica(&r, "");
        r.sql("SET GLOBAL gtid_strict_mode = OFF");
        start_replica(&r);
        r.wait_same(&s.sql("SELECT @@gtid_binlog_pos"), "SELECT @@gtid_slave_pos", "the replica past the hole", &b);
        stop_replica(&r, "");
    }
    assert_eq!(errors[0], errors[1], "binlogd's refusal and the primary's");
    assert!(errors[0].1.contains("0-1-6"), "{errors:?}");
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_mariadb_replica_ignoring_duplicates_may_be_ahead_of_the_binlog_as_with_the_primary() {
    // With gtid_ignore_duplicates a replica may have GTIDs the binlog does not have yet
    // (they came by another path): a primary lets it connect and sends what follows
    // them; without it, the replica is refused.
    let s = Server::start(Flavor::MariaDb, "serve-dups-src");
    let (mut b, lport) = Binlogd::serving(&s, "serve-dups", "");
    s.sql("CREATE DATABASE d; CREATE TABLE d.t (a INT PRIMARY KEY); INSERT INTO d.t VALUES (1)");
    assert_rotated_identical(&s, &b);
    assert_eq!(s.sql("SELECT @@gtid_binlog_pos").trim(), "0-1-3");
    let mut reps = Vec::new();
    for (tag, port, id) in [("via-binlogd", lport, 2), ("via-primary", s.port, 3)] {
        let r = replica(Flavor::MariaDb, &format!("serve-dups-{tag}"), id);
        r.sql(
            "SET sql_log_bin = 0; CREATE DATABASE d; CREATE TABLE d.t (a INT PRIMARY KEY); \
             INSERT INTO d.t VALUES (1), (2), (3); SET GLOBAL gtid_slave_pos = '0-1-5'; \
             SET GLOBAL gtid_ignore_duplicates = ON",
        );
        point_replica(&r, port, Follow::Gtid, None, "");
        start_replica(&r);
        reps.push(r);
    }
    // 0-1-4 and 0-1-5 are the replicas' already: left out. 0-1-6 is applied.
    s.sql("INSERT INTO d.t VALUES (2); INSERT INTO d.t VALUES (3); INSERT INTO d.t VALUES (4)");
    let want = s.sql("SELECT @@gtid_binlog_pos");
    assert_eq!(want.trim(), "0-1-6");
    for r in &reps {
        r.wait_same(&want, "SELECT @@gtid_slave_pos", "the replica at the primary's last GTID", &b);
        assert_eq!(r.sql("SELECT GROUP_CONCAT(a ORDER BY a) FROM d.t").trim(), "1,2,3,4");
        let st = r.status_row("SHOW SLAVE STATUS");
        assert_eq!((st["Slave_IO_Running"].as_str(), st["Last_IO_Errno"].as_str()), ("Yes", "0"));
        stop_replica(r, "");
    }
    assert_eq!(b.stop(), 0);
}

#[test]
fn mysql_replicas_sharing_a_server_id_but_not_a_uuid_both_read_as_from_a_mysql_primary() {
    // A MySQL primary ends an older dump of the same replica UUID; replicas cloned
    // with one server_id in their cnf (but each its own UUID) both go on replicating.
    let s = Server::start(Flavor::Mysql, "serve-twins-src");
    let (mut b, lport) = Binlogd::serving(&s, "serve-twins", "");
    s.sql("CREATE DATABASE tw; CREATE TABLE tw.t (a INT PRIMARY KEY); INSERT INTO tw.t VALUES (1)");
    let twins = twins_reading(Flavor::Mysql, "serve-twin", lport);
    assert_ne!(twins[0].sql("SELECT @@server_uuid"), twins[1].sql("SELECT @@server_uuid"));
    for i in 2..=4 {
        s.sql(&format!("INSERT INTO tw.t VALUES ({i}); FLUSH BINARY LOGS"));
        std::thread::sleep(Duration::from_millis(500));
    }
    for r in &twins {
        r.wait_same(&s.sql("CHECKSUM TABLE tw.t"), "CHECKSUM TABLE tw.t", "a twin", &b);
    }
    assert!(!b.log_text().contains("registered again"), "{}", b.log_text());
    // SHOW REPLICAS lists the server_id once, as a primary does, in MySQL's column names.
    let row = binlogd_row(lport, "SHOW REPLICAS");
    assert!(row.contains_key("Replica_UUID") && row.contains_key("Source_Id"), "{row:?}");
    // MySQL 9.7 has no SHOW SLAVE HOSTS: its parser's error, as from the primary.
    let o = client(lport, "replpass", "SHOW SLAVE HOSTS");
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERROR 1064"), "{o:?}");
    let hosts = client(lport, "replpass", "SHOW REPLICAS");
    let rows = String::from_utf8_lossy(&hosts.stdout).lines().filter(|l| l.starts_with("2\t")).count();
    assert_eq!(rows, 1, "{}", String::from_utf8_lossy(&hosts.stdout));
    for r in &twins {
        stop_replica(r, "");
    }
    assert_eq!(b.stop(), 0);
}
