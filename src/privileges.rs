//! Giving up root. Like mysqld, binlogd started as root refuses to run unless the cnf
//! names `user =`; it switches to that account once the listening socket is bound
//! and the files that may be readable only by root (cnf, keys, log, pid, lock) are
//! open. `user = root` keeps root on purpose, as mysqld's `--user=root` does.

use std::ffi::CString;

use crate::config::Config;

/// The account to switch to.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
}

/// Looks an account up in the password database.
fn lookup(name: &str) -> Result<Target, String> {
    let c = CString::new(name).map_err(|_| format!("user '{name}' holds a NUL byte"))?;
    let mut buf = vec![0 as libc::c_char; 16 << 10];
    // SAFETY: zeroed passwd is a valid out-parameter; getpwnam_r writes only into it
    // and into `buf`, whose length is passed.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut res: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe { libc::getpwnam_r(c.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut res) };
    if rc != 0 || res.is_null() {
        return Err(format!("user = {name}: no such account in the password database"));
    }
    Ok(Target { name: name.to_string(), uid: pw.pw_uid, gid: pw.pw_gid })
}

/// Decides, before anything is opened, whether and to whom binlogd must switch.
/// Returns the warning to log when `user =` cannot apply.
pub fn plan(cfg: &Config) -> Result<(Option<Target>, Option<String>), String> {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    match (&cfg.user, euid) {
        (None, 0) => Err(format!(
            "binlogd is running as root: set user = <account> in {} to switch to after start (user = root keeps root)",
            cfg.path.display()
        )),
        (Some(u), 0) => {
            let t = lookup(u)?;
            Ok(((t.uid != 0).then_some(t), None))
        }
        (Some(u), _) => {
            let t = lookup(u)?;
            let warn = (t.uid != euid).then(|| format!("user = {u} is ignored: only root can switch accounts"));
            Ok((None, warn))
        }
        (None, _) => Ok((None, None)),
    }
}

/// After the switch: binlog_dir must be writable, or the first rotation would fail.
pub fn check_writable(dir: &std::path::Path, t: &Target) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(dir.as_os_str().as_bytes()).map_err(|_| "binlog_dir holds a NUL byte".to_string())?;
    // SAFETY: access reads the NUL-terminated path only.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        return Err(format!("binlog_dir {} is not writable by user {}: chown -R {} it", dir.display(), t.name, t.name));
    }
    Ok(())
}

/// Switches the whole process (every thread) to `t`: supplementary groups, group,
/// then user. Afterwards root cannot be regained.
pub fn switch(t: &Target) -> Result<(), String> {
    let name = CString::new(t.name.as_str()).map_err(|_| "bad user name".to_string())?;
    let os = |what: &str| format!("cannot switch to user {} ({what}): {}", t.name, std::io::Error::last_os_error());
    // SAFETY: plain system calls on values owned here.
    unsafe {
        if libc::initgroups(name.as_ptr(), t.gid) != 0 {
            return Err(os("initgroups"));
        }
        if libc::setgid(t.gid) != 0 {
            return Err(os("setgid"));
        }
        if libc::setuid(t.uid) != 0 {
            return Err(os("setuid"));
        }
        if libc::setuid(0) == 0 {
            return Err(format!("switched to user {} but root could be regained", t.name));
        }
    }
    Ok(())
}
