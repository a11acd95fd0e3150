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
    let mut b = Binlogd::new(&s, "diskfull", "");
    let mnt = SmallFs::mount(&b.binlog_dir, "8M");
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
    // What is stored is a prefix of the primary's files.
    let pdir = s.binlog_dir();
    for name in b.index() {
        let mine = fs::read(b.binlog_dir.join(&name)).unwrap();
        let theirs = fs::read(pdir.join(&name)).unwrap();
        // The FDE's in-use flag (byte 21, bit 0) is as the primary sent it.
        let diff = mine
            .iter()
            .zip(&theirs)
            .enumerate()
            .position(|(i, (a, b))| if i == 21 { (a ^ b) & !1 != 0 } else { a != b });
        assert!(
            diff.is_none() && mine.len() <= theirs.len(),
            "{name} ({} bytes, primary {}) differs at {diff:?}",
            mine.len(),
            theirs.len()
        );
    }
    assert!(s.semi_status("no_tx") != "0", "commits timed out waiting for binlogd's ACK while its disk was full");
    fs::remove_file(&filler).unwrap();
    wait_semisync_client(&s, &b);
    s.sql("INSERT INTO df.t VALUES ('after'); FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &b);
    assert_eq!(b.stop(), 0);
    drop(mnt);
}
