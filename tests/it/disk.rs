//! Disk faults: binlog_dir on a small tmpfs that fills up. binlogd stops
//! acknowledging, logs the error, keeps what it stored intact, and resumes once
//! space is freed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::harness::*;

/// A size-limited tmpfs, unmounted on drop.
struct SmallFs(PathBuf);

impl SmallFs {
    fn mount(dir: &Path, size: &str) -> SmallFs {
        fs::create_dir_all(dir).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(st.success(), "cannot mount a tmpfs at {} (the tests run as root)", dir.display());
        SmallFs(dir.to_path_buf())
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn full_disk_stops_acks_keeps_files_intact_and_resumes_when_space_is_freed() {
    let s = Server::start(Flavor::MariaDb, "diskfull");
    // Short semisync timeout: commits must not wait 30 s each while binlogd is stuck.
    s.sql("SET GLOBAL rpl_semi_sync_master_timeout = 1000");
    let (lport, mport) = (free_port(), free_port());
    let mut b = Binlogd::new(
        &s,
        "diskfull",
        &format!(
            "listen_address = 127.0.0.1\nlisten_port = {lport}\nmetrics_address = 127.0.0.1\nmetrics_port = {mport}\n\
             binlog_preallocate = 1M\nbinlog_sync_log_size = 64K"
        ),
    );
    let mnt = SmallFs::mount(&b.binlog_dir, "8M");
    let scrape = || curl(&format!("http://127.0.0.1:{mport}/metrics")).0;
    // Leave about 1.5 MiB free.
    let filler = mnt.0.join("filler");
    fs::write(&filler, vec![0u8; 6 * 1024 * 1024 + 512 * 1024]).unwrap();
    b.start();
    wait_semisync_client(&s, &b);
    s.sql("CREATE DATABASE df; CREATE TABLE df.t (v LONGBLOB)");
    for _ in 0..6 {
        s.sql("INSERT INTO df.t VALUES (REPEAT('d', 500000))");
    }
    b.wait_log("No space left on device", Duration::from_secs(30));
    // As mysqld with a full disk: one error naming the file and offset, then a wait
    // (no reconnect every second, each fetching again what cannot be stored), while
    // the stored files are still served.
    b.wait_log("is full. Mirroring waits for free space", Duration::from_secs(10));
    let dumps = |b: &Binlogd| b.log_text().matches("requested binlog dump").count();
    let before = dumps(&b);
    std::thread::sleep(Duration::from_secs(4));
    let log = b.log_text();
    assert_eq!(dumps(&b), before, "reconnected while binlog_dir was full:\n{log}");
    assert_eq!(log.matches("is full. Mirroring waits").count(), 1, "{log}");
    // The writer's error (the GTID index's warning may come first, as any thread may
    // meet the full disk first).
    let full = log.lines().find(|l| l.contains("is full. Mirroring waits")).unwrap_or_default();
    assert!(full.contains("No space left on device"), "{full}");
    assert!(full.contains(&format!("{}/mysql-bin.", b.binlog_dir.display())), "names the file: {full}");
    let st = binlogd_row(lport, "SHOW SLAVE STATUS");
    assert_eq!(st["Slave_IO_State"], "Waiting for free space in binlog_dir", "{st:?}");
    assert!(st["Last_IO_Error"].contains("No space left on device"), "{st:?}");
    assert_eq!(binlogd_row(lport, "SHOW MASTER STATUS")["File"], *b.index().last().unwrap());
    let m = scrape();
    assert_eq!(metric(&m, "binlogd_binlog_dir_full"), 1.0, "{m}");
    assert!(metric(&m, "binlogd_binlog_dir_free_bytes") < (3 << 20) as f64, "{m}");
    // What is stored is a prefix of the primary's files.
    let pdir = s.binlog_dir();
    for name in b.index() {
        let mine = fs::read(b.binlog_dir.join(&name)).unwrap();
        let theirs = fs::read(pdir.join(&name)).unwrap();
        let diff = first_difference(&mine, &theirs);
        assert!(
            diff.is_none() && mine.len() <= theirs.len(),
            "{name} ({} bytes, primary {}) differs at {diff:?}",
            mine.len(),
            theirs.len()
        );
    }
    assert!(s.semi_status("no_tx") != "0", "commits timed out waiting for binlogd's ACK while its disk was full");
    fs::remove_file(&filler).unwrap();
    b.wait_log("MiB free now; mirroring resumes", Duration::from_secs(10));
    wait_semisync_client(&s, &b);
    assert_eq!(metric(&scrape(), "binlogd_binlog_dir_full"), 0.0);
    s.sql("INSERT INTO df.t VALUES ('after'); FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &b);
    assert_eq!(b.stop(), 0);
    drop(mnt);
}

/// Writes zeros to `path` until the file system is full.
fn fill_up(path: &Path) {
    use std::io::Write;
    let mut f = fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 << 10];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn recovery_on_a_full_disk_waits_for_space_instead_of_exiting() {
    let s = Server::start(Flavor::MariaDb, "diskfull-rec");
    let mut b = Binlogd::new(&s, "diskfull-rec", "");
    let mnt = SmallFs::mount(&b.binlog_dir, "4M");
    b.start();
    wait_semisync_client(&s, &b);
    s.sql("CREATE DATABASE r; CREATE TABLE r.t (a INT); INSERT INTO r.t VALUES (1); FLUSH BINARY LOGS");
    s.sql("INSERT INTO r.t VALUES (2)");
    let path = b.binlog_dir.join(wait_active_mirrored(&s, &b));
    assert_eq!(b.stop(), 0);
    // As after a crash right after creating the file: recovery must write its magic
    // bytes, and the disk has no room for them.
    fs::write(&path, b"").unwrap();
    let filler = mnt.0.join("filler");
    fill_up(&filler);
    b.start();
    b.wait_log("is full. Mirroring waits for free space", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(2));
    let c = b.child.as_mut().unwrap();
    assert!(c.try_wait().unwrap().is_none(), "binlogd exited:\n{}", b.log_text());
    fs::remove_file(&filler).unwrap();
    b.wait_log("MiB free now; mirroring resumes", Duration::from_secs(10));
    s.sql("INSERT INTO r.t VALUES (3); FLUSH BINARY LOGS");
    assert!(assert_rotated_identical(&s, &b) >= 2);
    assert_eq!(b.stop(), 0);
    drop(mnt);
}

#[test]
fn purge_frees_a_full_disk_and_mirroring_resumes_at_once() {
    // The disk under binlog_dir is full to the last byte (another process filled it):
    // PURGE BINARY LOGS, the way out, must still work, though it writes its list and
    // the index before removing anything.
    let s = Server::start(Flavor::MariaDb, "diskfull-purge");
    s.sql("SET GLOBAL rpl_semi_sync_master_timeout = 1000");
    let lport = free_port();
    // With preallocation on, which a full disk must not stop either.
    let mut b = Binlogd::new(
        &s,
        "diskfull-purge",
        &format!("listen_address = 127.0.0.1\nlisten_port = {lport}\nbinlog_preallocate = 1M"),
    );
    let mnt = SmallFs::mount(&b.binlog_dir, "8M");
    b.start();
    wait_semisync_client(&s, &b);
    s.sql("CREATE DATABASE dp; CREATE TABLE dp.t (v LONGBLOB)");
    for _ in 0..2 {
        s.sql("INSERT INTO dp.t VALUES (REPEAT('p', 1000000)); FLUSH BINARY LOGS");
    }
    assert!(assert_rotated_identical(&s, &b) >= 2);
    let reserve = b.binlog_dir.join("binlogd.reserve");
    assert_eq!(fs::metadata(&reserve).map(|m| m.len()).ok(), Some(1 << 20), "the reserve is made at start");
    fill_up(&mnt.0.join("filler"));
    // Larger than the zeros binlogd keeps ahead of the active file's end (1 MiB), which
    // take it in without a new byte of disk.
    s.sql("INSERT INTO dp.t VALUES (REPEAT('q', 2000000))");
    b.wait_log("is full. Mirroring waits for free space", Duration::from_secs(30));
    let last = b.index().last().unwrap().clone();
    let o = client(lport, "replpass", &format!("PURGE BINARY LOGS TO '{last}'"));
    assert!(o.status.success(), "PURGE on a full disk: {}\n{}", String::from_utf8_lossy(&o.stderr), b.log_text());
    assert_eq!(b.index(), vec![last]);
    b.wait_log("MiB free now; mirroring resumes", Duration::from_secs(10));
    assert_eq!(fs::metadata(&reserve).map(|m| m.len()).ok(), Some(1 << 20), "the reserve is made again");
    wait_semisync_client(&s, &b);
    s.sql("INSERT INTO dp.t VALUES ('after'); FLUSH BINARY LOGS");
    // The files from the one the purge kept on are the primary's.
    for (name, (p, d)) in rotated_md5s_from(&s, &b, 2) {
        assert_eq!(p, d, "{name}\n{}", b.log_text());
    }
    assert_eq!(b.stop(), 0);
    drop(mnt);
}
