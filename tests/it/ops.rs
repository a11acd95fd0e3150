//! Operating binlogd: STOP/START SLAVE, FLUSH LOGS, SHOW GLOBAL STATUS and the
//! Prometheus endpoint scraped with curl.

use std::process::Command;
use std::time::Duration;

use crate::harness::*;

fn admin(port: u16, sql: &str) -> String {
    let o = client(port, "replpass", sql);
    assert!(o.status.success(), "{sql}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn stop_and_start_slave_flush_logs_status_and_metrics() {
    let s = Server::start(Flavor::MariaDb, "ops");
    let mport = free_port();
    let alice = binlogd::proto::auth::Account::from_password("alice", b"alice-pw").render();
    let (mut b, lport) = Binlogd::serving(
        &s,
        "ops",
        &format!("metrics_address = 127.0.0.1\nmetrics_port = {mport}\nserver_accounts = {alice}"),
    );
    // A replica's account may read but not change binlogd's state.
    for sql in ["STOP SLAVE", "PURGE BINARY LOGS TO 'x'", "FLUSH LOGS", "FLUSH SSL", "KILL 1"] {
        let o = Command::new("mariadb")
            .args(["--no-defaults", "-h127.0.0.1", &format!("-P{lport}"), "-ualice", "-palice-pw", "-e", sql])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("ERROR 1227"),
            "{sql}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    s.sql("CREATE DATABASE op; CREATE TABLE op.t (a INT)");
    for i in 0..5 {
        s.sql(&format!("INSERT INTO op.t VALUES ({i})"));
    }
    let url = format!("http://127.0.0.1:{mport}/metrics");
    // Clients that connect and send nothing do not hold up a scrape: each idle one
    // would cost two seconds if scrapes were answered one at a time.
    let idle: Vec<std::net::TcpStream> =
        (0..5).map(|_| std::net::TcpStream::connect(("127.0.0.1", mport)).unwrap()).collect();
    let o =
        Command::new("curl").args(["-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", &url]).output();
    assert_eq!(String::from_utf8_lossy(&o.unwrap().stdout), "200", "a scrape waited behind idle connections");
    drop(idle);
    let (body, code) = curl(&url);
    assert_eq!(code, "200", "{body}");
    assert_eq!(metric(&body, "binlogd_binlog_dir_full"), 0.0);
    assert!(metric(&body, "binlogd_binlog_dir_free_bytes") > 0.0, "{body}");
    let acks = metric(&body, "binlogd_acks_sent_total");
    assert!(acks >= 5.0, "{body}");
    assert_eq!(metric(&body, "binlogd_ack_latency_seconds_bucket{le=\"+Inf\"}"), acks);
    assert_eq!(metric(&body, "binlogd_ack_latency_seconds_count"), acks);
    assert!(metric(&body, "binlogd_ack_latency_seconds_sum") > 0.0);
    assert_eq!(metric(&body, "binlogd_mirroring"), 1.0);
    // Right after a commit the last event may be a second old until binlogd sees the
    // stream idle (the next read wait or heartbeat); then it is 0.
    wait_until("Seconds_Behind_Master to reach 0", Duration::from_secs(20), || {
        metric(&curl(&url).0, "binlogd_seconds_behind_master") == 0.0
    });
    let fsyncs = metric(&body, "binlogd_fsyncs_total");
    assert!(fsyncs >= 5.0, "{body}");
    assert_eq!(metric(&body, "binlogd_fsync_seconds_count"), fsyncs, "{body}");
    assert!(metric(&body, "binlogd_fsync_seconds_sum") > 0.0, "{body}");
    assert_eq!(curl(&format!("http://127.0.0.1:{mport}/other")).1, "404");

    // A session's user variables are capped (1 MiB): a client cannot grow binlogd's memory.
    let mut c = binlogd::proto::client::Client::connect(&repl_options(lport)).unwrap();
    let big = "x".repeat(600 << 10);
    c.query(&format!("SET @a = '{big}'")).unwrap();
    c.query(&format!("SET @a = '{big}'")).expect("a variable may be set again");
    match c.query(&format!("SET @b = '{big}'")) {
        Err(binlogd::proto::Error::Server { code: 1041, message, .. }) => {
            assert!(message.contains("1024 KiB"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.query("SELECT @a").unwrap().scalar().map(str::len), Some(600 << 10));
    drop(c);
    let mut c = binlogd::proto::client::Client::connect(&repl_options(lport)).unwrap();
    let many: Vec<String> = (0..1000).map(|i| format!("@v{i} = {i}")).collect();
    c.query(&format!("SET {}", many.join(", "))).unwrap();
    assert!(matches!(c.query("SET @one_more = 1"), Err(binlogd::proto::Error::Server { code: 1041, .. })));
    c.query("SET @v7 = 'again'").expect("a variable may be set again");
    drop(c);

    // A replica that has not read everything shows its lag.
    let mut c = binlogd::proto::client::Client::connect(&repl_options(lport)).unwrap();
    c.query("SET @master_binlog_checksum = 'CRC32'").unwrap();
    c.command_ok(
        &binlogd::proto::command::RegisterSlave {
            server_id: 4242,
            host: "h".into(),
            user: String::new(),
            password: String::new(),
            port: 0,
            rank: 0,
            master_id: 0,
        }
        .encode()
        .unwrap(),
        "register",
    )
    .unwrap();
    let first = s.binary_logs()[0].clone();
    let d = binlogd::proto::command::BinlogDump { pos: 4, flags: 0, server_id: 4242, file: first };
    c.stream.write_command(&d.encode()).unwrap();
    wait_until("the dump to show in the metrics", Duration::from_secs(10), || {
        curl(&url).0.contains("binlogd_replica_lag_bytes{connection=")
    });
    let body = curl(&url).0;
    assert!(body.contains("server_id=\"4242\""), "{body}");
    assert_eq!(metric(&body, "binlogd_replicas_connected"), 1.0);
    drop(c);

    let st = admin(lport, "SHOW GLOBAL STATUS LIKE 'Binlogd%'");
    for name in ["Binlogd_events_written", "Binlogd_last_ack_latency_us", "Binlogd_acks_sent", "Binlogd_bytes_sent"] {
        assert!(st.contains(name), "{name} missing:\n{st}");
    }
    // The time spent in fsyncs and waiting for ACKs, for their means.
    for name in ["Binlogd_fsync_time_us", "Binlogd_ack_time_us"] {
        let v = st.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
        assert!(v.and_then(|v| v.parse::<u64>().ok()).is_some_and(|v| v > 0), "{name}:\n{st}");
    }

    // STOP SLAVE: mirroring pauses; the primary goes on alone.
    s.sql("SET GLOBAL rpl_semi_sync_master_timeout = 200");
    admin(lport, "STOP SLAVE");
    b.wait_log("mirroring paused by STOP SLAVE", Duration::from_secs(10));
    let st = binlogd_row(lport, "SHOW SLAVE STATUS");
    assert_eq!(st.get("Slave_IO_Running").map(String::as_str), Some("No"), "{st:?}");
    wait_until("the primary to lose its semisync client", Duration::from_secs(10), || s.semi_status("clients") == "0");
    let received = metric(&curl(&url).0, "binlogd_events_received_total");
    s.sql("INSERT INTO op.t VALUES (100); FLUSH BINARY LOGS; INSERT INTO op.t VALUES (101)");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(metric(&curl(&url).0, "binlogd_events_received_total"), received, "events arrived while stopped");
    assert_eq!(metric(&curl(&url).0, "binlogd_mirroring"), 0.0);
    // A MariaDB replica's note (MySQL's is 3084).
    assert!(admin(lport, "STOP SLAVE; SHOW WARNINGS").contains("1255\tSlave already has been stopped"));
    assert!(!admin(lport, "SHOW PROCESSLIST").contains("system user"), "a stopped I/O thread is not listed");

    // START SLAVE: it catches up, byte for byte.
    s.sql("SET GLOBAL rpl_semi_sync_master_timeout = 30000");
    admin(lport, "START SLAVE");
    b.wait_log("mirroring resumed by START SLAVE", Duration::from_secs(10));
    wait_semisync_client(&s, &b);
    assert!(admin(lport, "START SLAVE; SHOW WARNINGS").contains("1254\tSlave is already running"));
    assert_rotated_identical(&s, &b);

    // FLUSH LOGS reopens the error log, as logrotate needs.
    let rotated = b.dir.join("binlogd.log.1");
    std::fs::rename(&b.log, &rotated).unwrap();
    admin(lport, "FLUSH LOGS");
    b.wait_log("FLUSH LOGS: reopened the error log", Duration::from_secs(5));
    assert_eq!(b.stop(), 0);
}

/// SHOW BINLOG EVENTS rows (tab-separated columns), from binlogd or the primary.
fn events_rows(out: &str) -> Vec<Vec<String>> {
    out.lines().filter(|l| !l.is_empty()).map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

#[test]
fn show_binlog_events_lists_what_the_primary_lists() {
    for flavor in [Flavor::MariaDb, Flavor::Mysql, Flavor::MariaDb11] {
        let s = Server::start(flavor, &format!("sbe-{flavor:?}"));
        let (mut b, lport) = Binlogd::serving(&s, &format!("sbe-{flavor:?}"), "");
        s.sql(
            "CREATE DATABASE sbe; CREATE TABLE sbe.t (a INT PRIMARY KEY, b TEXT); \
             INSERT INTO sbe.t VALUES (1, 'x'), (2, 'y'); UPDATE sbe.t SET b = 'z' WHERE a = 1; \
             DELETE FROM sbe.t WHERE a = 2; FLUSH BINARY LOGS; USE sbe; INSERT INTO t VALUES (3, 'w')",
        );
        // An XA transaction, prepared and then committed.
        s.sql("XA START 'xz1', 'b2', 7; INSERT INTO sbe.t VALUES (10, 'xa'); XA END 'xz1', 'b2', 7; XA PREPARE 'xz1', 'b2', 7");
        s.sql("XA COMMIT 'xz1', 'b2', 7");
        s.sql("XA START 'one'; INSERT INTO sbe.t VALUES (11, 'one'); XA END 'one'; XA COMMIT 'one' ONE PHASE");
        if flavor == Flavor::Mysql {
            // A partial JSON update: Update_rows_partial.
            s.sql(
                "CREATE TABLE sbe.j (a INT PRIMARY KEY, j JSON); INSERT INTO sbe.j VALUES (1, '{\"k\": \"abcdef\", \"n\": 1}'); \
                 SET binlog_row_value_options = PARTIAL_JSON; UPDATE sbe.j SET j = JSON_SET(j, '$.n', 2) WHERE a = 1",
            );
            // A compressed transaction: one Transaction_payload event.
            s.sql(
                "SET binlog_transaction_compression = ON; INSERT INTO sbe.t VALUES (4, REPEAT('c', 500)); \
                 SET binlog_transaction_compression = OFF",
            );
        }
        if flavor != Flavor::Mysql {
            // log_bin_compress: a Query_compressed statement and compressed row events.
            let pad = "c".repeat(300);
            s.sql(&format!(
                "SET GLOBAL log_bin_compress = ON; \
                 CREATE TABLE sbe.z (a INT PRIMARY KEY, b TEXT) COMMENT '{pad}'; \
                 INSERT INTO sbe.z VALUES (1, '{pad}'); SET GLOBAL log_bin_compress = OFF"
            ));
        }
        // LOAD DATA by statement: the file in blocks (read_buffer_size, 128 KiB), then
        // the statement that reads them.
        let scratch = tempdir(&format!("sbe-load-{flavor:?}"));
        let data = scratch.join("rows.txt");
        std::fs::write(&data, (0..30000).map(|i| format!("{i}\tline {i}\n")).collect::<String>()).unwrap();
        let inside = s.copy_in(&data);
        s.sql(&format!(
            "CREATE TABLE sbe.l (a INT PRIMARY KEY, b TEXT); SET SESSION binlog_format = STATEMENT; \
             LOAD DATA INFILE '{inside}' INTO TABLE sbe.l"
        ));
        // Statement-based transactions: Intvar, RAND and User var events of every kind.
        s.sql(
            "CREATE TABLE sbe.s (id INT AUTO_INCREMENT PRIMARY KEY, v BLOB, r DOUBLE); \
             SET SESSION binlog_format = STATEMENT; \
             SET @s = 'h\u{e9}llo', @i = -42, @u = CAST(18446744073709551615 AS UNSIGNED), @r = 1.5e10, \
             @d = -12.5000, @n = NULL, @bin = X'00FF', @e = '', @tiny = 1.2345678901234567e-14, @`we``ird` = 1e300; \
             INSERT INTO sbe.s (v) VALUES (@s), (@i), (@u), (@r), (@d), (@n), (@bin), (@e), (@tiny), (@`we``ird`); \
             INSERT INTO sbe.s (r) VALUES (RAND()); INSERT INTO sbe.s (v) VALUES (LAST_INSERT_ID())",
        );
        assert_rotated_identical(&s, &b);
        let on_binlogd = |sql: &str| {
            let o = client(lport, "replpass", sql);
            assert!(o.status.success(), "{sql}: {}\n{}", String::from_utf8_lossy(&o.stderr), b.log_text());
            String::from_utf8_lossy(&o.stdout).into_owned()
        };
        let files: Vec<String> =
            on_binlogd("SHOW BINARY LOGS").lines().filter_map(|l| l.split('\t').next()).map(str::to_string).collect();
        assert!(files.len() >= 2, "{files:?}");
        // The first file when none is named, and every stored file named, closed or active.
        let mut cases = vec![("SHOW BINLOG EVENTS".to_string(), files[0].clone())];
        cases.extend(files.iter().map(|f| (format!("SHOW BINLOG EVENTS IN '{f}'"), f.clone())));
        let mut listed = 0;
        for (sql, file) in &cases {
            let (mine, theirs) = (events_rows(&on_binlogd(sql)), events_rows(&s.sql(sql)));
            assert_eq!(mine.len(), theirs.len(), "{flavor:?} {sql}:\n{mine:?}\n{theirs:?}");
            for (m, t) in mine.iter().zip(&theirs) {
                assert_eq!(m[..5], t[..5], "{flavor:?} {sql}");
                assert_eq!(&m[0], file);
                assert_eq!(m[5], t[5], "{flavor:?} {sql}: Info of {} at {}", t[2], t[1]);
            }
            listed += mine.len();
        }
        assert!(listed > 20, "{listed}");
        let types: Vec<String> =
            cases.iter().flat_map(|(sql, _)| events_rows(&s.sql(sql))).map(|r| r[2].clone()).collect();
        for t in ["Intvar", "RAND", "User var", "Begin_load_query", "Append_block", "Execute_load_query"] {
            assert!(types.iter().any(|x| x == t), "{flavor:?}: no {t} event in {types:?}");
        }
        assert_eq!(types.iter().any(|x| x == "Transaction_payload"), flavor == Flavor::Mysql, "{types:?}");
        if flavor == Flavor::Mysql {
            // The events inside a compressed transaction count for OFFSET and LIMIT.
            let (f, rows) = cases
                .iter()
                .skip(1)
                .map(|(sql, f)| (f, events_rows(&s.sql(sql))))
                .find(|(_, r)| r.iter().any(|r| r[2] == "Transaction_payload"))
                .unwrap();
            let k = rows.iter().position(|r| r[2] == "Transaction_payload").unwrap();
            for (offset, n) in [(k, 3), (k + 2, 2), (k - 1, 2)] {
                let sql = format!("SHOW BINLOG EVENTS IN '{f}' LIMIT {offset}, {n}");
                assert_eq!(events_rows(&on_binlogd(&sql)), events_rows(&s.sql(&sql)), "{sql}");
            }
        }
        assert_eq!(types.iter().any(|x| x == "Query_compressed"), flavor != Flavor::Mysql, "{types:?}");
        // FROM and LIMIT, as the primary takes them.
        let all = events_rows(&s.sql(&format!("SHOW BINLOG EVENTS IN '{}'", files[0])));
        let third = &all[2][1];
        let sql = format!("SHOW BINLOG EVENTS IN '{}' FROM {third} LIMIT 1, 3", files[0]);
        assert_eq!(
            events_rows(&on_binlogd(&sql)).iter().map(|r| r[..5].to_vec()).collect::<Vec<_>>(),
            events_rows(&s.sql(&sql)).iter().map(|r| r[..5].to_vec()).collect::<Vec<_>>(),
            "{sql}"
        );
        // A file binlogd does not have, and an offset inside an event: ERROR 1220.
        for (sql, why) in [
            ("SHOW BINLOG EVENTS IN 'nope.000001'".to_string(), "Could not find target log"),
            (
                format!("SHOW BINLOG EVENTS IN '{}' FROM {}", files[0], third.parse::<u64>().unwrap() + 1),
                "Wrong offset",
            ),
        ] {
            let o = client(lport, "replpass", &sql);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success() && err.contains("1220") && err.contains(why), "{sql}: {err}");
        }
        assert_eq!(b.stop(), 0);
    }
}

#[test]
fn processlist_shows_each_dump_and_kill_ends_it() {
    let s = Server::start(Flavor::MariaDb, "kill");
    let (mut b, lport) = Binlogd::serving(&s, "kill", &alice_account());
    s.sql("CREATE DATABASE k; CREATE TABLE k.t (a INT); INSERT INTO k.t VALUES (1)");
    let first = admin(lport, "SHOW BINARY LOGS").lines().next().and_then(|l| l.split('\t').next()).unwrap().to_string();
    // A reader that follows the binlog until it is ended.
    let out = tempdir("kill-reader");
    let mut reader = Command::new("mariadb-binlog")
        .args(["--no-defaults", "--read-from-remote-server", "--host=127.0.0.1", &format!("--port={lport}")])
        .args(["--user=repl", "--password=replpass", "--raw", "--stop-never"])
        .arg(format!("--result-file={}/", out.display()))
        .arg(&first)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run mariadb-binlog");
    let dump_row = || {
        admin(lport, "SHOW FULL PROCESSLIST")
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
            .find(|r| r.get(4).map(String::as_str) == Some("Binlog Dump"))
    };
    wait_until("the reader's dump, caught up, in SHOW PROCESSLIST", Duration::from_secs(20), || {
        dump_row().is_some_and(|r| r[6].starts_with("Source has sent all binlog"))
    });
    let row = dump_row().unwrap();
    assert_eq!(row[1], "repl", "{row:?}");
    assert!(row[7].starts_with(&format!("{first}:")), "the dump's Info is its file and position: {row:?}");
    let id = &row[0];
    // orchestrator finds a server's replicas in information_schema.PROCESSLIST.
    let found = admin(
        lport,
        "select substring_index(host, ':', 1) as slave_hostname, ID from information_schema.processlist \
         where command IN ('Binlog Dump', 'Binlog Dump GTID')",
    );
    assert_eq!(found, format!("127.0.0.1\t{id}\n"));
    // Ordered and limited: the primary's I/O thread (id 0), then the dump (each query
    // leaves out its own connection, which is new each time).
    let ids = |clauses: &str| {
        let sql = format!("select id, user from information_schema.processlist where id <> connection_id() {clauses}");
        admin(lport, &sql).lines().map(str::to_string).collect::<Vec<_>>()
    };
    let all = ids("order by id");
    assert_eq!(all, ["0\tsystem user".to_string(), format!("{id}\trepl")]);
    assert_eq!(ids("order by user"), [all[1].clone(), all[0].clone()]);
    assert_eq!(ids("order by 2 desc"), all);
    assert_eq!(ids("order by user desc, id limit 1, 5"), all[1..]);
    assert_eq!(ids("order by id desc limit 1 offset 1"), all[..1]);
    assert!(ids("limit 0").is_empty());
    // Our own statement is listed too.
    let own = admin(lport, "SHOW PROCESSLIST");
    assert!(own.lines().any(|l| l.contains("\tQuery\t") && l.ends_with("\tinit\tSHOW PROCESSLIST\t0.000")), "{own}");
    // So is binlogd's own connection to the primary, as mysqld lists its I/O thread.
    let io = format!("0\tsystem user\t127.0.0.1:{}\tNULL\tConnect\t", s.port);
    assert!(
        own.lines().any(|l| l.starts_with(&io) && l.ends_with("\tWaiting for master to send event\tNULL\t0.000")),
        "{own}"
    );

    // A replica's account may not end another connection; an unknown id is ERROR 1094.
    let o = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", &format!("-P{lport}"), "-ualice", "-palice-pw", "-e"])
        .arg(format!("KILL {id}"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERROR 1227"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = client(lport, "replpass", "KILL 999999");
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERROR 1094"), "{}", String::from_utf8_lossy(&o.stderr));
    // KILL QUERY on an idle connection leaves it; on the dump it ends it, as KILL does.
    admin(lport, &format!("KILL QUERY {id}"));
    wait_until("mariadb-binlog to end after KILL", Duration::from_secs(20), || {
        reader.try_wait().ok().flatten().is_some()
    });
    wait_until("the killed dump to leave SHOW PROCESSLIST", Duration::from_secs(20), || dump_row().is_none());
    b.wait_log(&format!("connection {id} (repl@127.0.0.1:"), Duration::from_secs(5));
    // Ending one's own connection: ERROR 1317, then the connection is closed.
    let o = client(lport, "replpass", "KILL CONNECTION_ID()");
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERROR 1317"), "{}", String::from_utf8_lossy(&o.stderr));
    // binlogd goes on serving.
    assert!(admin(lport, "SELECT 1").starts_with('1'));
    assert_eq!(b.stop(), 0);
}

/// Runs mariadb-admin against binlogd as `user`.
fn mariadb_admin(port: u16, user: &str, password: &str, args: &[&str]) -> std::process::Output {
    Command::new("mariadb-admin")
        .args(["--no-defaults", "-h127.0.0.1", &format!("-P{port}"), &format!("-u{user}"), &format!("-p{password}")])
        .args(args)
        .output()
        .expect("run mariadb-admin")
}

#[test]
fn mariadb_admin_status_variables_and_shutdown_work_against_binlogd() {
    let s = Server::start(Flavor::MariaDb, "admin");
    let (mut b, lport) = Binlogd::serving(&s, "admin", &alice_account());
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // COM_STATISTICS, and statements with versioned comments (SHOW /*!50002 GLOBAL */ STATUS).
    assert!(ok(mariadb_admin(lport, "repl", "replpass", &["status"])).starts_with("Uptime: "));
    let ext = ok(mariadb_admin(lport, "repl", "replpass", &["extended-status"]));
    assert!(ext.contains("Binlogd_events_received") && ext.contains("Threads_connected"), "{ext}");
    assert!(ok(mariadb_admin(lport, "repl", "replpass", &["variables"])).contains("server_id"));
    // Only an admin account may shut binlogd down (COM_SHUTDOWN).
    let o = mariadb_admin(lport, "alice", "alice-pw", &["shutdown"]);
    assert!(!o.status.success(), "a replica's account shut binlogd down");
    assert!(b.child.as_mut().unwrap().try_wait().unwrap().is_none());
    ok(mariadb_admin(lport, "repl", "replpass", &["shutdown"]));
    wait_until("binlogd to exit after SHUTDOWN", Duration::from_secs(30), || {
        b.child.as_mut().unwrap().try_wait().unwrap().is_some()
    });
    assert!(b.log_text().contains("SHUTDOWN from connection"), "{}", b.log_text());
    assert_eq!(b.stop(), 0, "{}", b.log_text());
}

#[test]
fn a_replica_displaced_by_another_with_its_server_id_stops_instead_of_fighting_back() {
    // MySQL ends the older dump of a server_uuid and says so (1236): the second
    // binlogd gets a copy of the first one's uuid, as on a cloned host.
    const NEEDLE: &str = "uses binlogd's server_id 1001";
    let s = Server::start(Flavor::Mysql, "sameid");
    let (mut a, aport) = Binlogd::serving(&s, "sameid-a", "");
    let mut b = Binlogd::new(&s, "sameid-b", "");
    std::fs::create_dir_all(&b.binlog_dir).unwrap();
    std::fs::copy(a.binlog_dir.join("binlogd.uuid"), b.binlog_dir.join("binlogd.uuid")).unwrap();
    b.start();
    a.wait_log(NEEDLE, Duration::from_secs(60));
    let st = binlogd_row(aport, "SHOW REPLICA STATUS");
    assert_eq!(st["Replica_IO_Running"], "No", "{st:?}");
    assert_eq!(st["Last_IO_Errno"], "1236", "{st:?}");
    assert!(st["Last_IO_Error"].contains("same server_uuid/server_id"), "{st:?}");
    // The other keeps mirroring, and nothing reconnects any more.
    s.sql("CREATE DATABASE d; FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &b);
    let reconnects = b.log_text().matches("reconnect to master").count();
    std::thread::sleep(Duration::from_secs(4));
    s.sql("CREATE TABLE d.t (a INT); FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &b);
    assert_eq!(b.log_text().matches("reconnect to master").count(), reconnects, "{}", b.log_text());
    assert_eq!(a.log_text().matches(NEEDLE).count(), 1, "{}", a.log_text());
    // Once the other is gone, START REPLICA resumes where the stored files end.
    assert_eq!(b.stop(), 0);
    admin(aport, "START REPLICA");
    s.sql("DROP TABLE d.t; FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &a);
    assert_eq!(binlogd_row(aport, "SHOW REPLICA STATUS")["Replica_IO_Running"], "Yes");
    assert_eq!(a.stop(), 0);
}

#[test]
fn a_replica_listed_with_binlogds_server_id_is_named_in_a_warning() {
    // MariaDB ends the older dump of a server_id, but does not always say so to it:
    // binlogd names the other replica before it registers. MariaDB lists replicas
    // only to accounts with REPLICATION MASTER ADMIN.
    let s = Server::start(Flavor::MariaDb, "sameid-warn");
    s.sql("GRANT REPLICATION MASTER ADMIN ON *.* TO 'repl'@'%'; GRANT REPLICATION MASTER ADMIN ON *.* TO 'repl'@'localhost'");
    let (mut a, aport) = Binlogd::serving(&s, "sameid-warn-a", "");
    let mut b = Binlogd::new(&s, "sameid-warn-b", "");
    b.start();
    let warning = format!("the primary lists another replica with binlogd's server_id 1001: 127.0.0.1:{aport}.");
    b.wait_log(&warning, Duration::from_secs(20));
    // Once the other is gone, the first mirrors again (after START SLAVE if it was told why it was ended).
    assert_eq!(b.stop(), 0);
    s.sql("CREATE DATABASE d; FLUSH BINARY LOGS");
    // The first may learn only now that the other's dump ended its own: it is then
    // stopped, and mirrors nothing more until START SLAVE.
    let told = || a.log_text().contains("uses binlogd's server_id 1001");
    let logs = s.binary_logs();
    let last_rotated = &logs[logs.len() - 2];
    let size = |dir: &std::path::Path| std::fs::metadata(dir.join(last_rotated)).map(|m| m.len()).ok();
    wait_until("the first binlogd to mirror the rotation or to say why it stopped", Duration::from_secs(60), || {
        told() || size(&a.binlog_dir) == size(&s.binlog_dir())
    });
    if told() {
        admin(aport, "START SLAVE");
    }
    assert_rotated_identical(&s, &a);
    // Its own earlier connection, still listed when it reconnects, is not taken for another.
    assert!(!a.log_text().contains(&format!("server_id 1001: 127.0.0.1:{aport}.")), "{}", a.log_text());
    assert_eq!(a.stop(), 0);
}

/// Asks the primary for a semi-sync dump with `server_id` and resets the connection
/// at once, as a replica that dies just after it asked.
fn abandon_semisync_dump(port: u16, server_id: u32) {
    use std::os::fd::AsRawFd;
    let mut c = binlogd::proto::client::Client::connect(&repl_options(port)).unwrap();
    c.query("SET @master_binlog_checksum = 'CRC32', @rpl_semi_sync_slave = 1").unwrap();
    let r = binlogd::proto::command::RegisterSlave { server_id, ..Default::default() };
    c.command_ok(&r.encode().unwrap(), "register").unwrap();
    let d = binlogd::proto::command::BinlogDump { pos: 4, flags: 0, server_id, file: String::new() };
    c.stream.write_command(&d.encode()).unwrap();
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid socket and a linger struct of the size given.
    let rc = unsafe {
        libc::setsockopt(
            c.stream.inner.tcp().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

#[test]
fn a_dump_the_primary_cannot_end_is_named_with_the_way_to_release_it() {
    // A MariaDB semi-sync primary can leave a dump whose replica went away just after
    // asking for it waiting for good, and then holds back every later dump with that
    // server_id. binlogd cannot end that thread, but it names it and says how.
    let s = Server::start(Flavor::MariaDb, "stuckdump");
    let stuck = (0..30).find_map(|_| {
        abandon_semisync_dump(s.port, 1001);
        std::thread::sleep(Duration::from_millis(1500));
        let pl = s.sql("SHOW PROCESSLIST");
        let row = pl.lines().find(|l| l.contains("Waiting to finalize termination"))?;
        row.split('\t').next().map(str::to_string)
    });
    let Some(id) = stuck else {
        eprintln!("the primary ended every abandoned dump: nothing to name");
        return;
    };
    let mut b = Binlogd::new(&s, "stuckdump", "");
    b.start();
    b.wait_log(&format!("the primary's thread {id} ("), Duration::from_secs(40));
    b.wait_log("SET GLOBAL rpl_semi_sync_master_enabled = OFF, then ON, releases it", Duration::from_secs(1));
    // What the warning says works. A dump binlogd gave up on meanwhile may hang the
    // same way once released, and binlogd then names it again.
    let released = (0..5).any(|_| {
        s.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF; SET GLOBAL rpl_semi_sync_master_enabled = ON");
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_secs(15) {
            if s.semi_status("clients") == "1" {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    });
    assert!(released, "{}\n{}", s.sql("SHOW PROCESSLIST"), b.log_text());
    s.sql("CREATE DATABASE d; FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &b);
    assert_eq!(b.stop(), 0);
}

/// What reads a replica's status (monitors, failover tools, scripts) does so by column
/// name: binlogd's has every column a replica of its primary's kind shows, in the same
/// order, and its own after them.
#[test]
fn replica_status_has_every_column_of_a_real_replica_of_the_primarys_kind() {
    for (flavor, change, statements) in [
        (
            Flavor::MariaDb,
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = 9, MASTER_USER = 'x'",
            &["SHOW SLAVE STATUS", "SHOW ALL SLAVES STATUS"][..],
        ),
        (
            Flavor::Mysql,
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST = '127.0.0.1', SOURCE_PORT = 9, SOURCE_USER = 'x'",
            &["SHOW REPLICA STATUS"][..],
        ),
    ] {
        let s = Server::start(flavor, "columns");
        let (mut b, port) = Binlogd::serving(&s, "columns", "");
        // The primary set up (not started) as a replica shows a real replica's columns.
        s.sql(change);
        for q in statements {
            let real: Vec<String> = vertical_pairs(&s.sqlv(q)).into_iter().map(|(k, _)| k).collect();
            let ours = vertical_pairs(&binlogd_sqlv(port, q));
            let names: Vec<&String> = ours.iter().map(|(k, _)| k).collect();
            assert!(real.len() > 50 && names.len() > real.len(), "{flavor:?} {q}: {real:?} / {names:?}");
            assert_eq!(names[..real.len()], real.iter().collect::<Vec<_>>()[..], "{flavor:?} {q}");
            let row: std::collections::BTreeMap<_, _> = ours.into_iter().collect();
            let io = if flavor == Flavor::Mysql { "Replica_IO_Running" } else { "Slave_IO_Running" };
            assert_eq!(row[io], "Yes", "{flavor:?} {q}: {row:?}");
            let exec = if flavor == Flavor::Mysql { "Exec_Source_Log_Pos" } else { "Exec_Master_Log_Pos" };
            assert_eq!(row[exec], row["Durable_Log_Pos"], "{flavor:?} {q}: executed means stored durably");
            if flavor == Flavor::Mysql {
                // MySQL 9.7 has no SHOW SLAVE STATUS: its parser's error, as from the primary.
                let o = client(port, "replpass", "SHOW SLAVE STATUS");
                assert!(String::from_utf8_lossy(&o.stderr).contains("ERROR 1064"), "{o:?}");
            }
        }
        assert_eq!(b.stop(), 0);
    }
}

/// mysqld takes connections only once its recovery is done. A client that connects to
/// binlogd while it recovers a large active file waits for its greeting, and its first
/// answer already lists every stored file.
#[test]
fn clients_are_greeted_only_once_the_stored_files_are_recovered() {
    let s = Server::start(Flavor::MariaDb, "greet-src");
    let (mut b, lport) = Binlogd::serving(&s, "greet", "");
    // An active file of some 150 MiB, which recovery scans whole.
    s.sql(
        "SET GLOBAL max_binlog_size = 1 << 30; CREATE DATABASE g; USE g; CREATE TABLE big (b LONGBLOB); \
         INSERT INTO big SELECT REPEAT('x', 1 << 20) FROM seq_1_to_150",
    );
    wait_active_mirrored(&s, &b);
    assert_eq!(b.stop(), 0);
    let want = b.index();
    b.start();
    // Connection attempts follow each other with no pause, to land in recovery.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut c = loop {
        match binlogd::proto::client::Client::connect(&repl_options(lport)) {
            Ok(c) => break c,
            Err(e) => assert!(std::time::Instant::now() < deadline, "binlogd never greeted: {e}"),
        }
    };
    let rows = c.query("SHOW BINARY LOGS").unwrap().rows;
    let first: Vec<String> = rows.iter().filter_map(|r| r.first().cloned().flatten()).collect();
    assert_eq!(first, want, "the first answer after a restart");
    assert_eq!(b.stop(), 0);
}

/// Percona Toolkit's pt-slave-find, run against the primary, finds binlogd among its
/// replicas and describes it as it describes any replica: its version, server_id,
/// replication and whether it has InnoDB (the primary's SHOW ENGINES; binlogd once
/// refused it, and the tool died on the answer). pt-mysql-summary run against binlogd
/// completes its report.
#[test]
fn percona_toolkit_describes_binlogd_as_a_replica() {
    let s = Server::start(Flavor::MariaDb, "ptsf-src");
    // What the tool asks of the primary: SHOW SLAVE HOSTS, its processlist and its SHOW SLAVE STATUS.
    s.sql(
        "GRANT REPLICATION MASTER ADMIN, SLAVE MONITOR, PROCESS ON *.* TO 'repl'@'%'; \
         GRANT REPLICATION MASTER ADMIN, SLAVE MONITOR, PROCESS ON *.* TO 'repl'@'localhost'",
    );
    let (mut b, lport) = Binlogd::serving(&s, "ptsf", "report_host = 127.0.0.1");
    wait_until("binlogd registered", Duration::from_secs(20), || s.replicas().contains(&lport.to_string()));
    let o = Command::new("pt-slave-find")
        .arg(format!("h=127.0.0.1,P={},u=repl,p=replpass", s.port))
        .output()
        .expect("run pt-slave-find");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && err.trim().is_empty(), "{out}{err}");
    let (primary, replica) = out.split_once(&format!("+- 127.0.0.1:{lport}")).unwrap_or_else(|| panic!("{out}"));
    let line = |text: &str, key: &str| {
        text.lines().find(|l| l.trim_start().starts_with(key)).map(str::trim).map(str::to_string)
    };
    assert!(replica.contains("Is a slave") && replica.contains("Server ID       1001"), "{replica}");
    assert_eq!(line(replica, "InnoDB version"), line(primary, "InnoDB version"), "{out}");
    assert_eq!(line(replica, "Version"), line(primary, "Version"), "{out}");
    // pt-mysql-summary, a shell script, does arithmetic on the counters a server of the
    // primary's kind lists: binlogd lists them all.
    let o = Command::new("pt-mysql-summary")
        .args(["--host", "127.0.0.1", "--port", &lport.to_string(), "--user", "repl", "--password", "replpass"])
        .output()
        .expect("run pt-mysql-summary");
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success() && out.contains("# The End"), "{out}{err}");
    for bad in ["parameter not set", "arithmetic expression", "syntax error"] {
        assert!(!out.contains(bad) && !err.contains(bad), "{bad}: {out}{err}");
    }
    // Its own connections and binlogd's (a closed one may not be gone yet): numbers.
    let processes = out.lines().find(|l| l.contains("Processes |")).unwrap_or("");
    let counts: Vec<&str> =
        processes.split(['|', ',']).skip(1).map(|p| p.split_whitespace().next().unwrap_or("")).collect();
    assert!(counts.len() == 2 && counts.iter().all(|c| c.parse::<u32>().is_ok_and(|n| n >= 1)), "{processes}");
    assert_eq!(b.stop(), 0);
}
