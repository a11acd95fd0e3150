//! Automatic following: `master_host` lists candidate primaries (`host:port, host:port`),
//! and at each connection binlogd follows the one that is the primary now.
//!
//! What must hold:
//! - a candidate is the primary when it is writable (`read_only` off) and does not
//!   replicate itself (no replication channel whose I/O thread runs or connects);
//! - two such candidates at once are a split brain: binlogd follows neither, and says
//!   which, until one of them is read-only or replicating again;
//! - the one it follows holds every transaction binlogd stored (`start::source_lacks`),
//!   else it is not followed: a promoted replica that was not compensated first.
//!
//! The decision is pure (`decide`); asking each candidate lives in `probe`.

use super::connect::{self, Flavor};
use super::{start, ReplicaError};
use crate::binlog::store::ResumePoint;
use crate::config::Config;

/// What one candidate said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub address: String,
    pub host: String,
    pub port: u16,
    /// Why it is not the primary (unreachable, read-only, replicating); None: it is.
    pub not_primary: Option<String>,
    /// What it lacks of the stored transactions, when that was checked.
    pub lacks: Option<String>,
}

/// The candidate to follow, or why none.
pub fn decide(seen: &[Seen]) -> Result<&Seen, String> {
    let primaries: Vec<&Seen> = seen.iter().filter(|s| s.not_primary.is_none()).collect();
    let why_not = || {
        seen.iter()
            .filter_map(|s| s.not_primary.as_ref().map(|w| format!("{} {w}", s.address)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    match primaries[..] {
        [] => Err(format!("no candidate primary is writable: {}", why_not())),
        [one] => match &one.lacks {
            None => Ok(one),
            Some(missing) => Err(format!(
                "the candidate primary {} lacks transactions binlogd stored: {missing}. binlogd does not follow it; \
                 take them from binlogd first (README, \"Failover compensation, step by step\")",
                one.address
            )),
        },
        _ => Err(format!(
            "split brain: the candidate primaries {} are all writable and replicate from no one; binlogd follows \
             none of them until all but one are read-only or replicating",
            primaries.iter().map(|s| s.address.as_str()).collect::<Vec<_>>().join(" and ")
        )),
    }
}

/// Asks each candidate of `cfg.master_host` whether it is the primary, and whether
/// it holds what binlogd stored (`rp`). `known`: the server the newest stored files
/// came from, whose MySQL `gtid_executed` may leave out a commit waiting for
/// binlogd's ACK (not checked there, as in the session).
pub fn probe(cfg: &Config, tls: &crate::tls::Live, rp: &ResumePoint, known: Option<&str>) -> Vec<Seen> {
    let mut out = Vec::new();
    for (host, port) in cfg.candidates() {
        let address = format!("{host}:{port}");
        let mut c1 = cfg.clone();
        c1.master_host.clone_from(&host);
        c1.master_port = port;
        let mut seen = Seen { address, host, port, not_primary: None, lacks: None };
        match connect::connect(&c1, tls) {
            Err(e) => seen.not_primary = Some(format!("cannot be reached ({e})")),
            Ok((mut c, p)) => {
                let read_only = c.query("SELECT @@GLOBAL.read_only").ok().and_then(|r| r.scalar().map(str::to_string));
                // MySQL: SHOW REPLICA STATUS, which REPLICATION CLIENT may read. MariaDB
                // asks SLAVE MONITOR for that; its Slaves_running status (the replication
                // threads running, in every connection) needs no privilege.
                let replicating = match p.flavor {
                    Flavor::Mysql => c.query("SHOW REPLICA STATUS").ok().is_some_and(|rs| {
                        let io = rs.columns.iter().position(|n| n == "Replica_IO_Running");
                        rs.rows.iter().any(|r| {
                            io.and_then(|i| r.get(i).cloned().flatten())
                                .is_some_and(|v| v == "Yes" || v == "Connecting")
                        })
                    }),
                    Flavor::MariaDb => c
                        .query("SHOW GLOBAL STATUS LIKE 'Slaves_running'")
                        .ok()
                        .and_then(|rs| rs.variable("Slaves_running").map(|v| v != "0"))
                        .unwrap_or(false),
                };
                if read_only.as_deref() != Some("0") {
                    seen.not_primary = Some("is read-only".into());
                } else if replicating {
                    seen.not_primary = Some("replicates from another server".into());
                } else {
                    let id = p.identity();
                    let check = match p.flavor {
                        Flavor::MariaDb => !rp.maria.is_empty(),
                        Flavor::Mysql => !rp.gtids.is_empty() && known.is_some_and(|k| k != id),
                    };
                    if check {
                        if let Some(Ok(Some(missing))) =
                            connect::gtid_state(&mut c, p.flavor).map(|st| start::source_lacks(rp, p.flavor, &st))
                        {
                            seen.lacks = Some(missing);
                        }
                    }
                }
            }
        }
        out.push(seen);
    }
    out
}

/// `cfg` pointed at the candidate that is the primary now.
pub fn pick(
    cfg: &Config,
    tls: &crate::tls::Live,
    rp: &ResumePoint,
    known: Option<&str>,
) -> Result<Config, ReplicaError> {
    let seen = probe(cfg, tls, rp, known);
    let one = decide(&seen).map_err(ReplicaError::Candidates)?;
    let mut c = cfg.clone();
    c.master_host.clone_from(&one.host);
    c.master_port = one.port;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(address: &str, not_primary: Option<&str>, lacks: Option<&str>) -> Seen {
        Seen {
            address: address.into(),
            host: address.split(':').next().unwrap().into(),
            port: 3306,
            not_primary: not_primary.map(str::to_string),
            lacks: lacks.map(str::to_string),
        }
    }

    #[test]
    fn the_one_writable_candidate_that_holds_everything_is_followed_and_never_two() {
        let a = seen("a:3306", None, None);
        let b_ro = seen("b:3306", Some("is read-only"), None);
        assert_eq!(decide(&[a.clone(), b_ro.clone()]).unwrap().address, "a:3306");
        let e = decide(&[a.clone(), seen("b:3306", None, None)]).unwrap_err();
        assert!(e.starts_with("split brain") && e.contains("a:3306 and b:3306"), "{e}");
        let e = decide(&[seen("a:3306", Some("cannot be reached (x)"), None), b_ro]).unwrap_err();
        assert!(e.contains("no candidate primary is writable") && e.contains("a:3306 cannot be reached"), "{e}");
        let e = decide(&[seen("a:3306", None, Some("0-1-9"))]).unwrap_err();
        assert!(e.contains("lacks transactions binlogd stored: 0-1-9"), "{e}");
    }
}
