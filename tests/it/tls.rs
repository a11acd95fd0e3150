//! TLS both ways: binlogd to primaries that demand it, and real replicas and clients
//! that reach binlogd over TLS. Certificates come from `Certs` (openssl).

use std::process::Command;
use std::time::Duration;

use crate::fake::*;
use crate::harness::*;

fn no_binlog_files(b: &Binlogd) -> bool {
    std::fs::read_dir(&b.binlog_dir)
        .map(|d| d.filter_map(|e| e.ok()).all(|e| e.file_name().to_string_lossy().starts_with("binlogd.")))
        .unwrap_or(true)
}

/// Starts binlogd with `extra`, waits for `needle` in its log, stops it and checks it
/// stored nothing.
fn refused(s: &Server, tag: &str, extra: &str, needle: &str) -> String {
    let mut b = Binlogd::new(s, tag, extra);
    b.start();
    b.wait_log(needle, Duration::from_secs(20));
    let log = b.log_text();
    assert_eq!(b.stop(), 0, "{log}");
    assert!(no_binlog_files(&b), "binlogd stored files from a connection it should have refused:\n{log}");
    log
}

fn commits(s: &Server, n: usize) {
    s.sql(
        "CREATE DATABASE IF NOT EXISTS tl; CREATE TABLE IF NOT EXISTS tl.t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)",
    );
    for i in 0..n {
        s.sql(&format!("INSERT INTO tl.t (v) VALUES (REPEAT('t', {}))", 10 + i * 500));
    }
    // About 3 MB in one transaction: a replica catching up gets it from the mapped
    // file, joined into full TLS records.
    s.sql("INSERT INTO tl.t (v) SELECT REPEAT('b', 8000) FROM information_schema.COLUMNS LIMIT 400");
    s.sql("FLUSH BINARY LOGS; INSERT INTO tl.t (v) VALUES ('after')");
}

#[test]
fn mysql_with_require_secure_transport_is_mirrored_over_tls_and_serves_a_tls_replica() {
    let certs = Certs::make("tls-mysql");
    let s = Server::start(Flavor::Mysql, "tls-src");
    // Restarted, the server's caching_sha2 cache is empty: binlogd's login takes the
    // full-auth path, which over TLS sends the password with no RSA round trip.
    s.reconfigure(&["require_secure_transport=ON"]);
    let log = refused(&s, "tls-mysql-plain", "", "3159");
    assert!(log.contains("insecure transport"), "{log}");

    let lport = free_port();
    let mut b = Binlogd::new(
        &s,
        "tls-mysql",
        &format!(
            "master_ssl = on\nget_start_gtid_mode = 0\nlisten_address = 127.0.0.1\nlisten_port = {lport}\n\
             ssl_cert = {}\nssl_key = {}\nrequire_secure_transport = on",
            certs.path("binlogd-cert.pem").display(),
            certs.path("binlogd-key.pem").display()
        ),
    );
    // Logins are logged at debug level: asked for here, for this module only.
    b.start_env(&[("BINLOGD_LOG", "info,binlogd::server::session=debug")]);
    b.wait_log("connection to master is encrypted: TLSv1.", Duration::from_secs(20));
    wait_semisync_client(&s, &b);
    let no_tx = s.semi_status("no_tx");
    commits(&s, 20);
    // Each commit waited for binlogd's ACK, sent over the TLS session by the acker.
    assert_eq!(s.semi_status("no_tx"), no_tx, "{}", b.log_text());
    assert!(s.semi_status("yes_tx").parse::<u64>().unwrap() >= 20);
    assert!(assert_rotated_identical(&s, &b) >= 1);

    // A MySQL replica that checks binlogd's certificate against the test CA.
    let r = Server::start_with_id(Flavor::Mysql, "tls-replica", 2);
    r.sql("SET GLOBAL rpl_semi_sync_source_enabled = OFF");
    let ca = r.copy_in(&certs.path("ca.pem"));
    r.sql(&format!(
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={lport}, SOURCE_USER='repl', \
         SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1, SOURCE_SSL=1, SOURCE_SSL_CA='{ca}', \
         SOURCE_SSL_VERIFY_SERVER_CERT=1; START REPLICA"
    ));
    let want = s.sql("CHECKSUM TABLE tl.t");
    r.wait_same(&want, "CHECKSUM TABLE tl.t", "MySQL replica over TLS", &b);
    let st = r.status_row("SHOW REPLICA STATUS");
    assert_eq!(st.get("Source_SSL_Allowed").map(String::as_str), Some("Yes"), "{st:?}");
    assert_eq!(st.get("Replica_IO_Running").map(String::as_str), Some("Yes"), "{st:?}");
    assert!(b.log_text().contains("authenticated as 'repl' over TLSv1."), "{}", b.log_text());
    r.sql("STOP REPLICA");
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_require_ssl_user_and_the_primary_certificate_checks() {
    let certs = Certs::make("tls-maria");
    let s = Server::start(Flavor::MariaDb, "tls-maria");
    s.tls(&certs.dir);
    s.sql("ALTER USER repl@'%' REQUIRE SSL; ALTER USER repl@localhost REQUIRE SSL");
    // Without TLS the server refuses the account.
    refused(&s, "tls-m-plain", "", "1045");
    // A CA that did not sign the primary's certificate.
    let wrong = format!("master_ssl = required\nmaster_ssl_ca = {}", certs.path("wrong-ca.pem").display());
    let log = refused(&s, "tls-m-ca", &wrong, "invalid peer certificate");
    assert!(log.contains("UnknownIssuer"), "{log}");
    // The right CA, but the certificate names localhost and binlogd connects to 127.0.0.1.
    let ca = certs.path("ca.pem");
    let verify = format!("master_ssl = required\nmaster_ssl_ca = {}\nmaster_ssl_verify_server_cert = on", ca.display());
    let log = refused(&s, "tls-m-host", &verify, "invalid peer certificate");
    assert!(log.contains("not valid for name"), "{log}");

    // Through the name the certificate holds, every check passes.
    let mut b = Binlogd::new(&s, "tls-m-ok", &verify);
    b.edit_cnf("master_host = 127.0.0.1", "master_host = localhost");
    b.start();
    b.wait_log("certificate checked against master_ssl_ca and master_host", Duration::from_secs(20));
    wait_semisync_client(&s, &b);
    let no_tx = s.semi_status("no_tx");
    commits(&s, 10);
    assert_eq!(s.semi_status("no_tx"), no_tx, "{}", b.log_text());
    assert!(assert_rotated_identical(&s, &b) >= 1);
    assert_eq!(b.stop(), 0);

    // The chain alone (MySQL's VERIFY_CA) accepts the certificate whatever it names.
    let mut b = Binlogd::new(&s, "tls-m-ca-only", &format!("master_ssl = on\nmaster_ssl_ca = {}", ca.display()));
    b.start();
    b.wait_log("certificate checked against master_ssl_ca\n", Duration::from_secs(20));
    assert_eq!(b.stop(), 0);
}

#[test]
fn required_tls_is_refused_when_the_primary_does_not_offer_it() {
    let fake = FakePrimary::start_raw(|_, mut s| {
        let _ = greet_and_login(&mut s);
        std::thread::sleep(Duration::from_secs(2));
    });
    let mut b =
        Binlogd::for_port(fake.port, "tls-fake", "master_password = x\nmaster_ssl = required\nmaster_retry_max = 0.5");
    b.start();
    b.wait_log("does not offer TLS, and master_ssl requires it", Duration::from_secs(20));
    assert_eq!(b.stop(), 0);
    assert!(no_binlog_files(&b));
}

fn mariadb_client(lport: u16, tls: &[String], sql: &str) -> std::process::Output {
    Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", &format!("-P{lport}"), "-urepl", "-preplpass", "-N", "-B"])
        .args(tls)
        .args(["-e", sql])
        .output()
        .expect("run the mariadb client")
}

#[test]
fn mariadb_11_replica_verifies_binlogd_and_client_certificates_are_checked() {
    let certs = Certs::make("tls-serve");
    let s = Server::start(Flavor::MariaDb, "tls-serve-src");
    let p = |n: &str| certs.path(n).display().to_string();
    let (mut b, lport) = Binlogd::serving(
        &s,
        "tls-serve",
        &format!(
            "ssl_cert = {}\nssl_key = {}\nssl_ca = {}\nrequire_secure_transport = on",
            p("binlogd-cert.pem"),
            p("binlogd-key.pem"),
            p("ca.pem")
        ),
    );
    // Without TLS: ERROR 3159.
    let out = mariadb_client(lport, &["--skip-ssl".into()], "SELECT 1");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("3159"), "{}", String::from_utf8_lossy(&out.stderr));
    // With TLS, checking binlogd's certificate; with no client certificate or a good one.
    let verify = ["--ssl".to_string(), format!("--ssl-ca={}", p("ca.pem")), "--ssl-verify-server-cert".into()];
    for extra in
        [vec![], vec![format!("--ssl-cert={}", p("client-cert.pem")), format!("--ssl-key={}", p("client-key.pem"))]]
    {
        let args: Vec<String> = verify.iter().cloned().chain(extra).collect();
        let out = mariadb_client(lport, &args, "SHOW STATUS LIKE 'Ssl_version'");
        assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stderr), b.log_text());
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("Ssl_version\tTLSv1."));
    }
    // A client certificate from another CA is refused in the handshake.
    let rogue: Vec<String> = verify
        .iter()
        .cloned()
        .chain([format!("--ssl-cert={}", p("rogue-cert.pem")), format!("--ssl-key={}", p("rogue-key.pem"))])
        .collect();
    let out = mariadb_client(lport, &rogue, "SELECT 1");
    assert!(!out.status.success(), "a client certificate from another CA was accepted");
    b.wait_log("handshake failed", Duration::from_secs(10));

    // A MariaDB 11 replica: it checks the server certificate by default.
    let r = Server::start_with_id(Flavor::MariaDb11, "tls-replica11", 2);
    r.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
    let ca = r.copy_in(&certs.path("ca.pem"));
    r.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={lport}, MASTER_USER='repl', \
         MASTER_PASSWORD='replpass', MASTER_SSL=1, MASTER_SSL_CA='{ca}', MASTER_USE_GTID=slave_pos; START SLAVE"
    ));
    commits(&s, 10);
    let want = s.sql("CHECKSUM TABLE tl.t");
    r.wait_same(&want, "CHECKSUM TABLE tl.t", "MariaDB 11 replica over TLS", &b);
    let st = r.status_row("SHOW SLAVE STATUS");
    assert_eq!(st.get("Master_SSL_Allowed").map(String::as_str), Some("Yes"), "{st:?}");
    assert_eq!(st.get("Master_SSL_Verify_Server_Cert").map(String::as_str), Some("Yes"), "{st:?}");
    assert_eq!(st.get("Slave_IO_Running").map(String::as_str), Some("Yes"), "{st:?}");
    r.sql("STOP SLAVE");
    assert_eq!(b.stop(), 0);
}

/// Runs `sql` on binlogd over TLS, checking its certificate against `ca`.
fn verified(lport: u16, ca: &std::path::Path, sql: &str) -> std::process::Output {
    let args = ["--ssl".to_string(), format!("--ssl-ca={}", ca.display()), "--ssl-verify-server-cert".into()];
    mariadb_client(lport, &args, sql)
}

#[test]
fn tls_files_are_read_again_by_statement_and_sighup_and_a_bad_file_changes_nothing() {
    let certs = Certs::make("tls-reload");
    let s = Server::start(Flavor::MariaDb, "tls-reload-src");
    s.tls(&certs.dir);
    let live = |n: &str| certs.path(&format!("live-{n}"));
    let put = |from: &str, to: &str| {
        std::fs::copy(certs.path(from), live(to)).unwrap();
    };
    // At first the CA for the primary is the wrong one, and binlogd serves a
    // certificate signed by `ca`.
    put("wrong-ca.pem", "ca.pem");
    put("binlogd-cert.pem", "cert.pem");
    put("binlogd-key.pem", "key.pem");
    let lport = free_port();
    let mut b = Binlogd::new(
        &s,
        "tls-reload",
        &format!(
            "master_ssl = required\nmaster_ssl_ca = {}\nlisten_address = 127.0.0.1\nlisten_port = {lport}\n\
             ssl_cert = {}\nssl_key = {}",
            live("ca.pem").display(),
            live("cert.pem").display(),
            live("key.pem").display()
        ),
    );
    b.start();
    b.wait_log("UnknownIssuer", Duration::from_secs(20));
    b.wait_log("binlog server listening", Duration::from_secs(20));
    let (ca, other_ca) = (certs.path("ca.pem"), certs.path("wrong-ca.pem"));
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stderr), b.log_text());
    };
    ok(verified(lport, &ca, "SELECT 1"));
    assert!(!verified(lport, &other_ca, "SELECT 1").status.success());

    // New files in place, read again by MySQL's statement: the next connection to the
    // primary checks it against the right CA, and clients get the other certificate.
    put("ca.pem", "ca.pem");
    put("other-cert.pem", "cert.pem");
    put("other-key.pem", "key.pem");
    ok(client(lport, "replpass", "ALTER INSTANCE RELOAD TLS"));
    b.wait_log("ALTER INSTANCE RELOAD TLS: reloaded TLS from", Duration::from_secs(10));
    b.wait_log("connection to master is encrypted", Duration::from_secs(20));
    wait_semisync_client(&s, &b);
    ok(verified(lport, &other_ca, "SELECT 1"));
    assert!(!verified(lport, &ca, "SELECT 1").status.success());

    // A key file that cannot be used: MariaDB's statement fails naming it, and the
    // certificate in use stays.
    std::fs::write(live("key.pem"), "not a key\n").unwrap();
    let o = client(lport, "replpass", "FLUSH SSL");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("3888") && err.contains("live-key.pem"), "{err}");
    ok(verified(lport, &other_ca, "SELECT 1"));
    // SIGHUP tries a file again only once it changed, and warns once for it.
    let reopened = |b: &Binlogd| b.log_text().matches("received SIGHUP: reopened the error log").count();
    let hup = |b: &Binlogd| {
        let before = reopened(b);
        b.signal(libc::SIGHUP);
        wait_until("SIGHUP", Duration::from_secs(10), || reopened(b) > before);
    };
    let warned = |b: &Binlogd| b.log_text().matches("received SIGHUP: cannot reload TLS").count();
    hup(&b);
    assert_eq!(warned(&b), 0, "{}", b.log_text());
    std::fs::write(live("key.pem"), "still not a key\n").unwrap();
    hup(&b);
    hup(&b);
    assert_eq!(warned(&b), 1, "{}", b.log_text());
    ok(verified(lport, &other_ca, "SELECT 1"));

    // SIGHUP reads them again too.
    put("binlogd-cert.pem", "cert.pem");
    put("binlogd-key.pem", "key.pem");
    b.signal(libc::SIGHUP);
    b.wait_log("received SIGHUP: reloaded TLS from", Duration::from_secs(10));
    ok(verified(lport, &ca, "SELECT 1"));
    // logrotate's SIGHUP with the files unchanged reopens the log and reads nothing.
    hup(&b);
    assert_eq!(b.log_text().matches("reloaded TLS from").count(), 2, "{}", b.log_text());
    assert_eq!(warned(&b), 1, "{}", b.log_text());
    assert_eq!(b.stop(), 0);
}

/// binlogd with its defaults (no ssl_cert), serving, logins logged; with the primary's
/// semisync client.
fn serving_generated_tls(s: &Server, tag: &str) -> (Binlogd, u16) {
    let lport = free_port();
    let mut b = Binlogd::new(s, tag, &format!("listen_address = 127.0.0.1\nlisten_port = {lport}"));
    b.start_env(&[("BINLOGD_LOG", "info,binlogd::server::session=debug")]);
    wait_semisync_client(s, &b);
    b.wait_log("SHA-256 fingerprint", Duration::from_secs(10));
    (b, lport)
}

#[test]
fn a_mysql_replica_with_no_ssl_options_replicates_over_the_generated_certificate() {
    use std::os::unix::fs::PermissionsExt;
    let s = Server::start(Flavor::Mysql, "autotls-mysql-src");
    let (mut b, lport) = serving_generated_tls(&s, "autotls-mysql");
    for f in ["binlogd-cert.pem", "binlogd-key.pem"] {
        let mode = std::fs::metadata(b.binlog_dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    let log = b.log_text();
    assert!(log.contains("generated a self-signed certificate for clients"), "{log}");
    s.sql("CREATE DATABASE at; CREATE TABLE at.t (a INT PRIMARY KEY); INSERT INTO at.t VALUES (1), (2)");
    // The README's failover step, typed under pressure: host, port, user, password.
    let r = Server::start_with_id(Flavor::Mysql, "autotls-mysql-replica", 2);
    r.sql("SET GLOBAL rpl_semi_sync_source_enabled = OFF");
    r.sql(&format!(
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={lport}, SOURCE_USER='repl', \
         SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1; START REPLICA"
    ));
    r.wait_same(&s.sql("CHECKSUM TABLE at.t"), "CHECKSUM TABLE at.t", "MySQL replica, default TLS", &b);
    assert!(b.log_text().contains("authenticated as 'repl' over TLSv1."), "{}", b.log_text());
    // The same certificate at the next start: its fingerprint does not change.
    let fp = |log: &str| {
        log.lines().rev().find(|l| l.contains("SHA-256 fingerprint")).map(|l| l.rsplit(' ').next().unwrap().to_string())
    };
    let first = fp(&b.log_text());
    assert_eq!(b.stop(), 0);
    b.start();
    wait_until("binlogd to start again", Duration::from_secs(20), || {
        b.log_text().matches("SHA-256 fingerprint").count() == 2
    });
    assert_eq!(fp(&b.log_text()), first);
    r.sql("STOP REPLICA");
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_mariadb_11_replica_with_default_settings_verifies_the_generated_certificate_by_password() {
    let s = Server::start(Flavor::MariaDb11, "autotls-maria-src");
    let (mut b, lport) = serving_generated_tls(&s, "autotls-maria");
    s.sql("CREATE DATABASE at; CREATE TABLE at.t (a INT PRIMARY KEY); INSERT INTO at.t VALUES (1), (2)");
    let r = Server::start_with_id(Flavor::MariaDb11, "autotls-maria-replica", 2);
    // Compressed too: the frames go inside TLS, from after the OK that proves the password.
    r.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF, GLOBAL slave_compressed_protocol = ON");
    r.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={lport}, MASTER_USER='repl', \
         MASTER_PASSWORD='replpass'; START SLAVE"
    ));
    r.wait_same(&s.sql("CHECKSUM TABLE at.t"), "CHECKSUM TABLE at.t", "MariaDB 11 replica, default TLS", &b);
    let st = r.status_row("SHOW SLAVE STATUS");
    assert_eq!(st["Master_SSL_Verify_Server_Cert"], "Yes", "the replica checks the certificate: {st:?}");
    assert!(b.log_text().contains("authenticated as 'repl' over TLSv1."), "{}", b.log_text());
    assert!(b.log_text().contains(", zlib-compressed"), "{}", b.log_text());
    r.sql("STOP SLAVE");
    assert_eq!(b.stop(), 0);
}

#[test]
fn ssl_off_offers_no_tls_and_makes_no_certificate() {
    let s = Server::start(Flavor::MariaDb, "notls-src");
    let (mut b, lport) = Binlogd::serving(&s, "notls", "ssl = off");
    assert!(!b.binlog_dir.join("binlogd-cert.pem").exists());
    let o = std::process::Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", &format!("-P{lport}"), "-urepl", "-preplpass", "--ssl", "-N", "-B"])
        .args(["-e", "SHOW STATUS LIKE 'Ssl_cipher'"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out, "Ssl_cipher\t\n", "the client asked for TLS and got none: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(b.stop(), 0);
}
