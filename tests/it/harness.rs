//! Test harness: throwaway primaries (through scripts/server.sh) and binlogd processes.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use binlogd::test_dir::TestDir;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sid chroot holding MySQL 9.x (scripts/lib.sh).
/// The tests' effective uid is 0.
pub fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

pub fn sid_root() -> PathBuf {
    if let Ok(r) = std::env::var("SID_ROOT") {
        return PathBuf::from(r);
    }
    let cache = std::env::var("BINLOGD_CACHE").unwrap_or_else(|_| "/var/cache/binlogd-test".into());
    PathBuf::from(cache).join("sid-root")
}

pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    // Below the kernel's ephemeral range (ip_local_port_range: 32768 and up by
    // default). A port the kernel hands out for `bind(0)` is one an outgoing
    // connection (a client of another test) may take before the server that was to
    // listen on it binds it; a server then fails to start, as mariadbd once did here.
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id();
    for _ in 0..COUNT {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (FIRST + seed.wrapping_add(n) % COUNT) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A scratch directory, removed when dropped unless the test is failing.
pub fn tempdir(tag: &str) -> TestDir {
    let base = std::env::var_os("BINLOGD_TEST_TMP").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    TestDir::at(base.join(format!("binlogd-it-{tag}-{}-{}", std::process::id(), free_port())))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    MariaDb,
    /// MariaDB 11 from the sid chroot.
    MariaDb11,
    Mysql,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::MariaDb => "mariadb",
            Flavor::MariaDb11 => "mariadb11",
            Flavor::Mysql => "mysql",
        }
    }
    /// Prefix of the semisync status variables.
    pub fn semi(self) -> &'static str {
        match self {
            Flavor::MariaDb | Flavor::MariaDb11 => "Rpl_semi_sync_master",
            Flavor::Mysql => "Rpl_semi_sync_source",
        }
    }
}

/// A primary started from a fresh copy of the template data directory.
pub struct Server {
    pub flavor: Flavor,
    pub dir: TestDir,
    pub port: u16,
    pub server_id: u32,
}

fn script(args: &[&str]) -> Result<String, String> {
    let out = Command::new(repo().join("scripts/server.sh"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run scripts/server.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/server.sh {:?} failed: {}{}",
            args,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Server {
    pub fn start(flavor: Flavor, tag: &str) -> Server {
        Self::start_with_id(flavor, tag, 1)
    }

    pub fn start_with_id(flavor: Flavor, tag: &str, server_id: u32) -> Server {
        let dir = tempdir(&format!("{}-{tag}", flavor.name()));
        let port = free_port();
        script(&["start", flavor.name(), dir.to_str().unwrap(), &port.to_string(), &server_id.to_string()])
            .unwrap_or_else(|e| panic!("{e}"));
        Server { flavor, dir, port, server_id }
    }

    pub fn sql(&self, q: &str) -> String {
        script(&["sql", self.dir.to_str().unwrap(), q]).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The answer to `q`, or the client's error line (`ERROR n (state) ...: message`).
    pub fn sql_result(&self, q: &str) -> Result<String, String> {
        script(&["sql", self.dir.to_str().unwrap(), q])
    }

    pub fn status(&self, name: &str) -> String {
        let out = self.sql(&format!("SHOW GLOBAL STATUS LIKE '{name}'"));
        out.split('\t').nth(1).unwrap_or("").trim().to_string()
    }

    pub fn semi_status(&self, suffix: &str) -> String {
        self.status(&format!("{}_{suffix}", self.flavor.semi()))
    }

    /// The server's data root as seen from here (under its chroot for MySQL and MariaDB 11).
    pub fn root(&self) -> PathBuf {
        PathBuf::from(fs::read_to_string(self.dir.join("root")).unwrap().trim())
    }

    /// The same data root as the server sees it (inside its chroot).
    pub fn inner(&self) -> String {
        fs::read_to_string(self.dir.join("inner")).unwrap().trim().to_string()
    }

    /// The last `n` lines of the server's error log.
    pub fn error_log_tail(&self, n: usize) -> String {
        let log = fs::read_to_string(self.root().join("error.log")).unwrap_or_default();
        let v: Vec<&str> = log.lines().rev().take(n).collect();
        v.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    pub fn restart(&self) {
        script(&["restart", self.dir.to_str().unwrap()]).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Serves TLS with `certs`' ca.pem, server-cert.pem and server-key.pem (restarts).
    pub fn tls(&self, certs: &Path) {
        script(&["tls", self.dir.to_str().unwrap(), certs.to_str().unwrap()]).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Appends [mysqld] lines to the server's cnf and restarts it.
    pub fn reconfigure(&self, lines: &[&str]) {
        let mut args = vec!["addcnf", self.dir.to_str().unwrap()];
        args.extend_from_slice(lines);
        script(&args).unwrap_or_else(|e| panic!("{e}"));
        self.restart();
    }

    /// Copies `file` where the server can read it; returns the path as the server sees it
    /// (inside its chroot for MySQL and MariaDB 11).
    pub fn copy_in(&self, file: &Path) -> String {
        let root = self.root();
        let name = file.file_name().unwrap().to_str().unwrap();
        fs::create_dir_all(root.join("files")).unwrap();
        fs::copy(file, root.join("files").join(name)).unwrap();
        format!("{}/files/{name}", self.inner())
    }

    pub fn binlog_dir(&self) -> PathBuf {
        PathBuf::from(script(&["binlogdir", self.dir.to_str().unwrap()]).unwrap().trim())
    }

    /// The primary's binlog files, oldest first.
    pub fn binary_logs(&self) -> Vec<String> {
        self.sql("SHOW BINARY LOGS").lines().filter_map(|l| l.split('\t').next()).map(str::to_string).collect()
    }

    /// One row of a SHOW ... STATUS statement, by column name.
    pub fn status_row(&self, q: &str) -> BTreeMap<String, String> {
        vertical(&self.sqlv(q))
    }

    /// The answer to `q`, one "name: value" line per column.
    pub fn sqlv(&self, q: &str) -> String {
        script(&["sqlv", self.dir.to_str().unwrap(), q]).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits until `query` gives the same on this server as on `primary` (a replica catching up).
    pub fn wait_same(&self, primary_answer: &str, query: &str, what: &str, b: &Binlogd) {
        let t = Instant::now();
        while self.sql(query) != primary_answer {
            assert!(
                t.elapsed() < Duration::from_secs(90),
                "{what}: the replica did not catch up through binlogd\nreplica status: {:?}\nbinlogd log:\n{}",
                self.status_row(if self.flavor == Flavor::Mysql { "SHOW REPLICA STATUS" } else { "SHOW SLAVE STATUS" }),
                b.log_text().lines().rev().take(15).collect::<Vec<_>>().join("\n")
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn replicas(&self) -> String {
        match self.flavor {
            Flavor::MariaDb | Flavor::MariaDb11 => self.sql("SHOW SLAVE HOSTS"),
            Flavor::Mysql => self.sql("SHOW REPLICAS"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The directory itself goes with `dir` (kept if the test failed).
        let _ = script(&["destroy", self.dir.to_str().unwrap()]);
    }
}

/// A binlogd process with its own cnf, binlog_dir and log file.
pub struct Binlogd {
    pub dir: TestDir,
    pub cnf: PathBuf,
    pub binlog_dir: PathBuf,
    pub log: PathBuf,
    pub child: Option<Child>,
    /// How long the log was when binlogd last started: `wait_log` reads past it.
    log_mark: usize,
}

pub fn binlogd_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_binlogd"))
}

impl Binlogd {
    /// Writes a cnf for `server` with extra `key = value` lines.
    pub fn new(server: &Server, tag: &str, extra: &str) -> Binlogd {
        Self::for_port(
            server.port,
            tag,
            &format!(
                "master_password = replpass\nheartbeat_period = 1\nnet_read_time_out = 5\nmaster_retry_max = 2\n{extra}"
            ),
        )
    }

    /// A cnf with only the connection basics for `port`; `rest` adds the other keys.
    pub fn for_port(port: u16, tag: &str, rest: &str) -> Binlogd {
        let dir = tempdir(&format!("binlogd-{tag}"));
        let binlog_dir = dir.join("binlogs");
        let log = dir.join("binlogd.log");
        let cnf = dir.join("binlogd.cnf");
        // Tests run as root in CI; binlogd refuses root unless told to keep it.
        let user = if running_as_root() { "user = root\n" } else { "" };
        let text = format!(
            "[binlogd]\nserver_id = 1001\nmaster_host = 127.0.0.1\nmaster_port = {port}\nmaster_user = repl\n\
             binlog_dir = {}\nlog_file = {}\n{user}{rest}\n",
            binlog_dir.display(),
            log.display()
        );
        fs::write(&cnf, text).unwrap();
        Binlogd { dir, cnf, binlog_dir, log, child: None, log_mark: 0 }
    }

    /// binlogd for `server` with extra `key = value` lines: started, and the primary's
    /// semisync client.
    pub fn mirroring(server: &Server, tag: &str, extra: &str) -> Binlogd {
        let mut b = Binlogd::new(server, tag, extra);
        b.start();
        wait_semisync_client(server, &b);
        b
    }

    /// `mirroring`, and serving on a free loopback port. Returns it with the port.
    pub fn serving(server: &Server, tag: &str, extra: &str) -> (Binlogd, u16) {
        let port = free_port();
        let b = Binlogd::mirroring(server, tag, &format!("listen_address = 127.0.0.1\nlisten_port = {port}\n{extra}"));
        (b, port)
    }

    /// Replaces `from` with `to` in the cnf.
    pub fn edit_cnf(&self, from: &str, to: &str) {
        let t = fs::read_to_string(&self.cnf).unwrap();
        assert!(t.contains(from), "{from:?} is not in the cnf");
        fs::write(&self.cnf, t.replace(from, to)).unwrap();
    }

    pub fn start(&mut self) {
        self.start_env(&[]);
    }

    /// Starts binlogd with extra environment variables.
    pub fn start_env(&mut self, env: &[(&str, &str)]) {
        assert!(self.child.is_none());
        self.log_mark = self.log_text().len();
        let c = Command::new(binlogd_bin())
            .envs(env.iter().copied())
            .arg(&self.cnf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn binlogd");
        self.child = Some(c);
    }

    pub fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            unsafe {
                libc::kill(c.id() as i32, sig);
            }
        }
    }

    /// SIGTERM and wait; returns the exit code.
    pub fn stop(&mut self) -> i32 {
        self.signal(libc::SIGTERM);
        self.wait(Duration::from_secs(30))
    }

    pub fn kill9(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.wait(Duration::from_secs(10));
    }

    pub fn wait(&mut self, limit: Duration) -> i32 {
        let mut c = self.child.take().expect("binlogd not running");
        let t = Instant::now();
        loop {
            if let Some(st) = c.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = c.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                if !err.is_empty() {
                    eprintln!("binlogd stderr: {err}");
                }
                return st.code().unwrap_or(128 + 9);
            }
            if t.elapsed() > limit {
                let _ = c.kill();
                panic!("binlogd did not exit within {limit:?}\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until binlogd, since it last started, logs `needle`: a line of an
    /// earlier run (the same log, appended to) does not count.
    pub fn wait_log(&self, needle: &str, limit: Duration) {
        let t = Instant::now();
        while t.elapsed() < limit {
            let text = self.log_text();
            if text.get(self.log_mark..).unwrap_or(&text).contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("binlogd log has no {needle:?} after {limit:?}:\n{}", self.log_text());
    }

    pub fn index(&self) -> Vec<String> {
        let idx = fs::read_dir(&self.binlog_dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "index"))
            .expect("no index file");
        fs::read_to_string(idx).unwrap().lines().map(str::to_string).collect()
    }
}

impl Drop for Binlogd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Parses `\G` (vertical) client output into column name -> value.
pub fn vertical(out: &str) -> BTreeMap<String, String> {
    vertical_pairs(out).into_iter().collect()
}

/// The "name: value" lines of a vertical answer, in their order.
pub fn vertical_pairs(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter(|l| !l.starts_with("***"))
        .filter_map(|l| l.split_once(": ").or_else(|| l.strip_suffix(':').map(|k| (k, ""))))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .collect()
}

/// Options for binlogd's own client to log in to `port` as `repl`.
pub fn repl_options(port: u16) -> binlogd::proto::client::ConnectOptions {
    binlogd::proto::client::ConnectOptions {
        host: "127.0.0.1".into(),
        port,
        user: "repl".into(),
        password: "replpass".into(),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Some(Duration::from_secs(10)),
        program: "test".into(),
        tls: None,
        compression: Vec::new(),
        extra_capabilities: 0,
        ext_capabilities: 0,
    }
}

/// A test CA with certificates made by openssl: `binlogd` (for 127.0.0.1 and
/// localhost), `server` (for localhost only, as a primary's), `client` (signed by the
/// CA), and from another CA, `wrong-ca`: `rogue` (a client certificate) and `other`
/// (for 127.0.0.1, as binlogd's).
pub struct Certs {
    pub dir: TestDir,
}

impl Certs {
    pub fn make(tag: &str) -> Certs {
        let dir = tempdir(&format!("certs-{tag}"));
        let script = r#"
set -e
ca() { openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=binlogd test $1" -keyout "$1-key.pem" -out "$1.pem"; }
leaf() { # name CN CA extensions
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1-key.pem" -out "$1.csr"
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3-key.pem" -CAcreateserial -days 30 -extfile "$1.ext" -out "$1-cert.pem"
}
ca ca; ca wrong-ca
leaf binlogd 127.0.0.1 ca "subjectAltName=IP:127.0.0.1,DNS:localhost"
leaf other 127.0.0.1 wrong-ca "subjectAltName=IP:127.0.0.1,DNS:localhost"
leaf server localhost ca "subjectAltName=DNS:localhost"
leaf client repl ca "extendedKeyUsage=clientAuth"
leaf rogue repl wrong-ca "extendedKeyUsage=clientAuth"
chmod 644 ./*.pem
"#;
        let out = Command::new("bash").args(["-c", script]).current_dir(&dir).output().expect("run openssl");
        assert!(out.status.success(), "making certificates: {}", String::from_utf8_lossy(&out.stderr));
        Certs { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// One row of a statement run on binlogd's listener as `repl`, by column name.
pub fn binlogd_row(port: u16, sql: &str) -> BTreeMap<String, String> {
    vertical(&binlogd_sqlv(port, sql))
}

/// binlogd's SHOW BINARY LOG STATUS (MySQL, whose 8.4 and later have no SHOW MASTER
/// STATUS) or SHOW MASTER STATUS (MariaDB), as its primary's flavour words it.
pub fn binlogd_binlog_status(port: u16, flavor: Flavor) -> BTreeMap<String, String> {
    binlogd_row(port, if flavor == Flavor::Mysql { "SHOW BINARY LOG STATUS" } else { "SHOW MASTER STATUS" })
}

/// binlogd's SHOW REPLICA STATUS (MySQL: `Replica_`/`Source_` names) or SHOW SLAVE
/// STATUS (MariaDB), as its primary's flavour words it.
pub fn binlogd_replica_status(port: u16, flavor: Flavor) -> BTreeMap<String, String> {
    binlogd_row(port, if flavor == Flavor::Mysql { "SHOW REPLICA STATUS" } else { "SHOW SLAVE STATUS" })
}

/// binlogd's answer to `sql` on `port`, one "name: value" line per column.
pub fn binlogd_sqlv(port: u16, sql: &str) -> String {
    let o = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", &format!("-P{port}"), "-urepl", "-preplpass", "-E", "-e", sql])
        .output()
        .expect("run the mariadb client");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs the `mariadb` client against binlogd's listener as `repl`.
pub fn client(port: u16, password: &str, sql: &str) -> std::process::Output {
    client_as(port, "repl", password, sql)
}

/// The `mariadb` client's run of `sql` on `port` as `repl`: (ok, stdout, stderr).
/// The cnf line that makes `alice` (password `alice-pw`) an account of the binlog
/// server, one that is not admin.
pub fn alice_account() -> String {
    format!("server_accounts = {}", binlogd::proto::auth::Account::from_password("alice", b"alice-pw").render())
}

pub fn session(port: u16, sql: &str) -> (bool, String, String) {
    let o = client(port, "replpass", sql);
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs the `mariadb` client against binlogd's listener as `user`.
pub fn client_as(port: u16, user: &str, password: &str, sql: &str) -> std::process::Output {
    Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", &format!("-P{port}"), &format!("-u{user}"), &format!("-p{password}")])
        .args(["-N", "-B", "-e", sql])
        .output()
        .expect("run the mariadb client")
}

pub fn md5_file(p: &Path) -> String {
    use md5::{Digest, Md5};
    let b = fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    Md5::digest(&b).iter().map(|x| format!("{x:02x}")).collect()
}

pub fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// Waits until binlogd's listener at `port` answers `sql` with `want`; on a timeout
/// the last answer is shown.
pub fn wait_answer(port: u16, sql: &str, want: &str, what: &str) {
    let mut last = String::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        let (_, out, err) = session(port, sql);
        if out == want {
            return;
        }
        last = format!("{out}{err}");
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}: {sql}\n  want: {want:?}\n  last: {last:?}");
}

/// Waits until binlogd holds every file the primary has rotated, at the primary's size,
/// then returns (name -> (primary md5, binlogd md5)).
pub fn rotated_md5s(server: &Server, b: &Binlogd) -> BTreeMap<String, (String, String)> {
    rotated_md5s_from(server, b, 0)
}

/// Waits for binlogd to hold every rotated file and asserts each is md5-identical
/// to the primary's; returns how many were compared.
pub fn assert_rotated_identical(server: &Server, b: &Binlogd) -> usize {
    let m = rotated_md5s(server, b);
    for (name, (p, d)) in &m {
        assert_eq!(p, d, "{name}: primary md5 {p}, binlogd md5 {d}\n{}", b.log_text());
    }
    m.len()
}

/// Like `rotated_md5s`, for the primary's files from the `skip`-th on.
pub fn rotated_md5s_from(server: &Server, b: &Binlogd, skip: usize) -> BTreeMap<String, (String, String)> {
    let logs = server.binary_logs();
    let rotated = &logs[skip..logs.len() - 1];
    let pdir = server.binlog_dir();
    wait_until("binlogd to hold every rotated file", Duration::from_secs(60), || {
        rotated.iter().all(|n| {
            let a = fs::metadata(pdir.join(n)).map(|m| m.len()).unwrap_or(0);
            let b = fs::metadata(b.binlog_dir.join(n)).map(|m| m.len()).unwrap_or(u64::MAX);
            a == b
        })
    });
    rotated.iter().map(|n| (n.clone(), (md5_file(&pdir.join(n)), md5_file(&b.binlog_dir.join(n))))).collect()
}

/// Waits until the primary counts binlogd as its one semisync replica.
pub fn wait_semisync_client(s: &Server, b: &Binlogd) {
    let t = std::time::Instant::now();
    while t.elapsed() < Duration::from_secs(60) {
        if s.semi_status("clients") == "1" {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = b.log_text();
    let tail: Vec<&str> = log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
    let plist = s.sql("SHOW FULL PROCESSLIST");
    let elog = std::fs::read_to_string(s.root().join("error.log")).unwrap_or_default();
    let etail: Vec<&str> = elog.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
    panic!(
        "binlogd never became the semisync client; the log ends:\n{}\nprocesslist:\n{plist}\nprimary's log ends:\n{}",
        tail.join("\n"),
        etail.join("\n")
    );
}

/// A GET with curl: the body and the HTTP status code.
pub fn curl(url: &str) -> (String, String) {
    let o = Command::new("curl").args(["-s", "-w", "\n%{http_code}", url]).output().expect("run curl");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let (body, code) = out.rsplit_once('\n').unwrap_or((&out, ""));
    (body.to_string(), code.to_string())
}

/// The value of an unlabelled (or fully labelled) sample in a Prometheus exposition.
pub fn metric(body: &str, name: &str) -> f64 {
    body.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{body}"))
}

/// The first offset where binlogd's copy of a file differs from the primary's, over
/// their common length. The FDE's in-use flag (byte 21, bit 0) is as the primary sent
/// it, which may differ from its own file's, so it is not compared.
pub fn first_difference(mine: &[u8], theirs: &[u8]) -> Option<usize> {
    mine.iter().zip(theirs).enumerate().position(|(i, (a, b))| if i == 21 { (a ^ b) & !1 != 0 } else { a != b })
}

/// Waits until binlogd's copy of the primary's active file holds the primary's bytes.
/// Past them it may hold only zeros: the space binlogd preallocates while it runs.
pub fn wait_active_mirrored(server: &Server, b: &Binlogd) -> String {
    let active = server.binary_logs().last().unwrap().clone();
    let (mine, theirs) = (b.binlog_dir.join(&active), server.binlog_dir().join(&active));
    wait_until("the active file mirrored", Duration::from_secs(20), || match (fs::read(&mine), fs::read(&theirs)) {
        (Ok(m), Ok(t)) => {
            m.len() >= t.len() && first_difference(&m, &t).is_none() && m[t.len()..].iter().all(|&b| b == 0)
        }
        _ => false,
    });
    active
}

/// Runs the Python `body` with pymysql logged in to `port` as repl (`c`, its cursor
/// `cur`; `args` in `sys.argv[2:]`), as the replication tools written in Python read a
/// server. Returns what it printed.
pub fn pymysql<S: AsRef<std::ffi::OsStr>>(port: u16, body: &str, args: &[S]) -> String {
    let script = format!(
        "import sys, pymysql\n\
         c = pymysql.connect(host=\"127.0.0.1\", port=int(sys.argv[1]), user=\"repl\", password=\"replpass\")\n\
         cur = c.cursor()\n{body}"
    );
    let o = Command::new("python3").args(["-c", &script, &port.to_string()]).args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}
