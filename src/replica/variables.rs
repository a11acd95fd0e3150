//! The primary's variables, read again while binlogd mirrors it, and kept in binlog_dir.
//!
//! binlogd reads them at each connect (`connect::connect`). A DBA's `SET GLOBAL` on the
//! primary after that (binlog_row_metadata, which python-mysql-replication reads to name
//! columns; read_only, which failover managers read; max_allowed_packet, which
//! connectors size packets by) reaches binlogd's clients at the next read: at the
//! primary's next rotation (FLUSH BINARY LOGS after the change makes it at once), and
//! within `variables_refresh_interval` (a minute by default; each read is a login of
//! master_user's, which a primary's audit log records) whatever happens, not at the
//! next reconnect, which may be months away.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use log::info;

use super::{connect, Shared};
use crate::sysvars::{encode_file, PrimaryVars, VARIABLES_FILE};

/// How long the thread waits for a new file where `variables_refresh_interval` is 0
/// (at new files only): it waits again after.
const NEW_FILES_ONLY: Duration = Duration::from_secs(3600);

/// Starts the thread that reads the primary's variables again at each new file and
/// every `variables_refresh_interval` (cnf): over a connection of its own as
/// master_user, a login and a few statements, as a monitor's poll.
pub fn spawn(shared: Arc<Shared>) -> std::io::Result<()> {
    std::thread::Builder::new().name("variables".into()).spawn(move || {
        let stop = shared.link.control.stop.clone();
        let durable = shared.serving.durable.clone();
        let mut files = durable.snapshot().files.clone();
        while !stop.load(Ordering::SeqCst) {
            let every = shared.link.source.shown().variables_refresh_interval;
            let before = files.clone();
            files =
                durable.wait_files_changed(&files, if every.is_zero() { NEW_FILES_ONLY } else { every }).files.clone();
            let new_file = !std::sync::Arc::ptr_eq(&before, &files) && *before != *files;
            if !stop.load(Ordering::SeqCst) && (new_file || !every.is_zero()) {
                refresh(&shared);
            }
        }
    })?;
    Ok(())
}

/// Reads the variables of the primary being mirrored and makes them the ones
/// reported. Nothing when mirroring is not running, when the server that answers is
/// not the one mirrored (a switch: the next connect reads the new one), or when it
/// cannot be reached (the mirroring connection says why).
fn refresh(shared: &Shared) {
    if !shared.link.upstream().running {
        return;
    }
    let Some(known) = shared.link.primary.lock().unwrap_or_else(|e| e.into_inner()).clone() else { return };
    let cfg = shared.link.source.shown();
    let Ok((_, fresh)) = connect::connect(&cfg, &shared.link.tls) else { return };
    if fresh.identity() != known.identity() || fresh.variables == known.variables {
        return;
    }
    {
        let mut p = shared.link.primary.lock().unwrap_or_else(|e| e.into_inner());
        match p.as_mut() {
            Some(p) if p.identity() == fresh.identity() => p.variables = fresh.variables.clone(),
            _ => return,
        }
    }
    info!("the primary's variables changed: {}", changes(&known.variables, &fresh.variables));
    let fs = crate::binlog::fs::os();
    let dir = &cfg.binlog_dir;
    if let Err(e) = keep(shared, dir, &fresh.variables, |b| fs.replace(dir, VARIABLES_FILE, b, false)) {
        log::warn!("could not keep the primary's variables in {}: {e}", cfg.binlog_dir.join(VARIABLES_FILE).display());
    }
}

/// Writes `vars` to binlog_dir's `VARIABLES_FILE` with `write` where the file holds
/// others, one writer at a time: the connect and the refresh both keep them.
pub fn keep<E>(
    shared: &Shared,
    dir: &Path,
    vars: &PrimaryVars,
    write: impl FnOnce(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let _one = shared.link.variables_kept.lock().unwrap_or_else(|e| e.into_inner());
    let text = encode_file(vars);
    if std::fs::read(dir.join(VARIABLES_FILE)).ok().as_deref() == Some(text.as_bytes()) {
        return Ok(());
    }
    write(text.as_bytes())
}

/// What changed from `old` to `new`, for the error log: `name = value` of each
/// variable whose value changed (at most a few), and how many more.
fn changes(old: &PrimaryVars, new: &PrimaryVars) -> String {
    let before =
        |name: &str| old.declared(name).map(str::to_string).or_else(|| old.other(name).map(|o| o.value.clone()));
    let all = new.declared.iter().cloned().chain(new.others.iter().map(|o| (o.name.clone(), o.value.clone())));
    let changed: Vec<String> =
        all.filter(|(k, v)| before(k).as_ref() != Some(v)).map(|(k, v)| format!("{k} = '{v}'")).collect();
    match changed.len() {
        0 => "their list or types".into(),
        n if n <= 5 => changed.join(", "),
        n => format!("{}, and {} more", changed[..5].join(", "), n - 5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysvars::{Kind, Other};

    #[test]
    fn the_log_names_what_changed() {
        let other = |v: &str| Other {
            name: "long_query_time".into(),
            value: v.into(),
            kind: Kind::Double,
            session_only: false,
            global_only: false,
            read_only: false,
        };
        let old = PrimaryVars {
            declared: vec![("read_only".into(), "OFF".into())],
            others: vec![other("10.000000")],
            ..Default::default()
        };
        let mut new = old.clone();
        new.declared[0].1 = "ON".into();
        assert_eq!(changes(&old, &new), "read_only = 'ON'");
        new.others[0] = other("1.000000");
        assert_eq!(changes(&old, &new), "read_only = 'ON', long_query_time = '1.000000'");
        new.others[0].kind = Kind::Text;
        new.others[0].value = "10.000000".into();
        new.declared[0].1 = "OFF".into();
        assert_eq!(changes(&old, &new), "their list or types");
    }
}
