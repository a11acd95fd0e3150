//! `archive_command`: each file, once closed, is handed to a shell command in
//! PostgreSQL's convention (`%p` its path, `%f` its name, `%%` a percent sign).
//!
//! What must hold:
//! - files are archived in index order, each once: successes are recorded in the
//!   archive catalog (`binlog::catalog`, rewritten whole, fsynced), with what the file
//!   holds, so a restart neither re-archives nor skips, and a purged file stays in the
//!   history;
//! - a failure is logged and retried with backoff, and blocks the purge of that file
//!   (and of the files after it).

use std::collections::BTreeSet;
use std::path::Path;

use crate::binlog::catalog::{Catalog, Entry};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use log::{info, warn};

use super::Shared;
use crate::binlog::fs::Fs;
use crate::config::Config;

/// Longest wait between retries of a failing command.
const RETRY_MAX: Duration = Duration::from_secs(60);

/// Names recorded as archived. A catalog that cannot be read counts none: no file is
/// purged on a guess.
pub fn load_status(fs: &dyn Fs, dir: &Path) -> BTreeSet<String> {
    match Catalog::load(fs, dir) {
        Ok(c) => c.entries.into_iter().map(|e| e.name).collect(),
        Err(e) => {
            warn!("{e}: no file counts as archived until it is mended");
            BTreeSet::new()
        }
    }
}

/// Whether a file may be purged as far as archiving goes, with `archive_command` set
/// (`Some`) or not.
pub fn archived_check(fs: &dyn Fs, dir: &Path, archiving: bool) -> impl Fn(&str) -> bool {
    let done = archiving.then(|| load_status(fs, dir));
    move |n: &str| done.as_ref().is_none_or(|d| d.contains(n))
}

/// The command with `%p`, `%f` and `%%` replaced.
pub fn expand(cmd: &str, path: &str, name: &str) -> String {
    let mut out = String::with_capacity(cmd.len() + path.len());
    let mut it = cmd.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('p') => out.push_str(path),
            Some('f') => out.push_str(name),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Runs the command for one file; Err holds the exit status and the end of stderr.
fn run_one(cmd: &str, dir: &Path, name: &str) -> Result<(), String> {
    let path = dir.join(name);
    let line = expand(cmd, &path.to_string_lossy(), name);
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(&line)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run /bin/sh: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let tail: String = err.trim().chars().rev().take(300).collect::<Vec<_>>().into_iter().rev().collect();
    Err(format!("{} ({})", out.status, tail.replace('\n', " | ")))
}

/// Starts the archiving thread when `archive_command` is set.
pub fn spawn(cfg: &Config, shared: Arc<Shared>) -> std::io::Result<()> {
    let Some(cmd) = cfg.archive_command.clone() else { return Ok(()) };
    let dir = cfg.binlog_dir.clone();
    info!("archiving each closed binlog with archive_command = {cmd}");
    std::thread::Builder::new().name("archive".into()).spawn(move || {
        let catalog = shared.serving.catalog.clone();
        if let Err(e) = catalog.get() {
            warn!("{e}: the files it names are archived again");
        }
        // The file list last looked at: a file is closed only when a newer one is begun,
        // so nothing else that is published (after each fsync) brings work.
        let mut seen: Option<Arc<Vec<String>>> = None;
        let mut backoff = Duration::from_secs(1);
        loop {
            let st = match &seen {
                Some(files) => shared.serving.durable.wait_files_changed(files, Duration::from_secs(5)),
                None => shared.serving.durable.snapshot(),
            };
            seen = Some(st.files.clone());
            // Every file but the last is closed.
            let closed = st.files.len().saturating_sub(1);
            let mut failed = false;
            let done = catalog.get().unwrap_or_default();
            let todo: Vec<String> = st.files[..closed].iter().filter(|n| !done.contains(n)).cloned().collect();
            for name in &todo {
                match run_one(&cmd, &dir, name) {
                    Ok(()) => {
                        // What it holds, read once more; a file that cannot be read now is
                        // recorded by name (the archive holds it, the purge may take it).
                        let entry = Entry::describe(&dir, name).unwrap_or_else(|e| {
                            warn!("archived {name}, but cannot describe it for the catalog: {e}");
                            Entry::named(name)
                        });
                        if let Err(e) = catalog.record(entry) {
                            warn!("archived {name} but could not record it: {e}");
                        }
                        info!("archived {name}");
                        backoff = Duration::from_secs(1);
                    }
                    Err(e) => {
                        warn!(
                            "archive_command failed for {name}: {e}; retrying in {}s, and {name} is not purged until it succeeds",
                            backoff.as_secs()
                        );
                        failed = true;
                        break;
                    }
                }
            }
            if failed {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(RETRY_MAX);
                seen = None;
            }
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn expands_path_name_and_percent() {
        assert_eq!(
            expand("cp %p /a/%f.bak && echo 100%% %x", "/d/mysql-bin.000001", "mysql-bin.000001"),
            "cp /d/mysql-bin.000001 /a/mysql-bin.000001.bak && echo 100% %x"
        );
    }
}
