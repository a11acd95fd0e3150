//! Purging stored files, by statement or by the cnf's policy, on the state the
//! replica and the server share: the index lock, the connected readers, the durable
//! file list and the GTID index.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use log::{info, warn};

use super::Shared;
use crate::binlog::purge::{self, Plan, Target};
use crate::config::Config;

/// How often the policy is checked when nothing new was stored.
const POLICY_EVERY: Duration = Duration::from_secs(10);

/// Purges what `target` asks for, within the limits. Returns the plan carried out.
pub fn purge(cfg: &Config, shared: &Shared, target: &Target) -> Result<Plan, String> {
    let dir = &cfg.binlog_dir;
    let mut g = shared.serving.index.lock();
    let (_, names) = crate::binlog::store::read_index(&*crate::binlog::fs::os(), dir).map_err(|e| e.to_string())?;
    let mut readers: BTreeMap<String, usize> = BTreeMap::new();
    for r in shared.serving.readers.lock().unwrap_or_else(|e| e.into_inner()).values() {
        *readers.entry(r.file.clone()).or_default() += 1;
    }
    let archived = crate::replica::archiver::archived_check(
        &*crate::binlog::fs::os(),
        &cfg.binlog_dir,
        cfg.archive_command.is_some(),
    );
    let facts = purge::facts(dir, &names, |n| archived(n)).map_err(|e| e.to_string())?;
    let plan = purge::plan(&facts, target, &readers, cfg.min_binlog_files, SystemTime::now())?;
    if plan.purge.is_empty() {
        return Ok(plan);
    }
    let left =
        crate::binlog::store::execute(&*crate::binlog::fs::os(), dir, &mut g, &shared.serving.index, &plan.purge)
            .map_err(|e| e.to_string())?;
    drop(g);
    shared.serving.durable.replace_files(&left);
    // The GTID index forgets the purged files.
    let st = shared.serving.durable.snapshot();
    let mut idx = shared.serving.gtid_index.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = idx.entries(&left, |n, f| st.readable_len(n, f)) {
        warn!("the GTID index could not follow the purge: {e}");
    }
    Ok(plan)
}

/// Starts the thread that applies `binlog_expire_logs_seconds` and
/// `binlog_space_limit` (as the cnf sets them, and SET GLOBAL after it), while either
/// is set.
pub fn spawn_policy(cfg: &Config, shared: Arc<Shared>) -> std::io::Result<()> {
    let cfg = cfg.clone();
    std::thread::Builder::new().name("purge".into()).spawn(move || {
        let mut generation = 0;
        let mut last_held = None;
        let mut policy = (None, None);
        loop {
            let now = (shared.settings.expire(), shared.settings.space_limit());
            if now != policy {
                policy = now;
                let (expire, space_limit) = policy;
                if expire.is_none() && space_limit.is_none() {
                    info!("purging by policy: none (binlog_expire_logs_seconds and binlog_space_limit are 0)");
                } else {
                    info!(
                        "purging by policy: expire after {}, space limit {}, keeping at least {} file(s)",
                        expire.map_or("never".to_string(), |d| format!("{}s", d.as_secs())),
                        space_limit.map_or("none".to_string(), |b| format!("{b} bytes")),
                        cfg.min_binlog_files
                    );
                }
            }
            let (expire, space_limit) = policy;
            if expire.is_none() && space_limit.is_none() {
                // Nothing to do until a SET GLOBAL sets one: not woken by each publish.
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            let st = shared.serving.durable.wait_newer(generation, POLICY_EVERY);
            generation = st.generation;
            if st.files.len() < 2 {
                continue;
            }
            let target = Target::Policy { expire, space_limit };
            match purge(&cfg, &shared, &target) {
                Ok(p) => {
                    // Say once why files over the policy stay.
                    if p.held != last_held {
                        if let Some(h) = &p.held {
                            info!("purge by policy held back: {}", h.message(p.purge.len(), p.wanted));
                        }
                        last_held = p.held.clone();
                    }
                }
                Err(e) => warn!("purge by policy failed: {e}"),
            }
            // At most one pass a second, however often files are published.
            std::thread::sleep(Duration::from_secs(1));
        }
    })?;
    Ok(())
}
