//! Leaving out what a GTID reader already has: MySQL auto-position's transactions in
//! the replica's set, MariaDB's groups up to the replica's GTID per domain, with
//! `START SLAVE UNTIL` and the strict and ignore-duplicates rules a MariaDB primary follows.

use crate::binlog::event::{self, EventHeader, EventType};
use crate::binlog::gtid::{GtidSet, MariaGtid, MariaPos};
use crate::binlog::trx::Tracker;
use std::collections::BTreeMap;

/// Follows transactions to leave out those the replica already has.
pub(super) struct Skip {
    pub(super) mode: SkipMode,
    pub(super) tracker: Tracker,
    /// Inside a transaction being left out.
    pub(super) skipping: bool,
    /// Crossed into a later source's files: the GTID state stored before them
    /// (`sources::Origin`), whose transactions that source's first files repeat.
    pub(super) earlier: Option<(GtidSet, MariaPos)>,
}

pub(super) enum SkipMode {
    /// MySQL auto-position: leave out every transaction whose GTID the replica has.
    Mysql(GtidSet),
    /// MariaDB: per domain, leave out groups until the replica's GTID is reached.
    Maria(MariaSkip),
    /// A dump by file and position: nothing of its own (only `earlier`).
    Nothing,
}

/// A MariaDB GTID dump's progress through the replica's connect state.
pub(super) struct MariaSkip {
    /// Domains whose requested GTID has not been reached yet.
    pub(super) pending: BTreeMap<u32, MariaGtid>,
    /// Highest seq_no seen per domain (from the start file's GTID_LIST and the stream).
    pub(super) seen: BTreeMap<u32, u64>,
    /// START SLAVE UNTIL master_gtid_pos (`@slave_until_gtid`).
    pub(super) until: Option<Until>,
    /// The replica runs with gtid_strict_mode (`@slave_gtid_strict_mode`): a requested
    /// GTID missing between two stored ones is refused, as a primary refuses it.
    pub(super) strict: bool,
    /// The replica runs with gtid_ignore_duplicates (`@slave_gtid_ignore_duplicates`):
    /// it may be ahead of this binlog in a domain, having had those GTIDs by another
    /// path, and is not refused for it (MariaDB's check_slave_start_position).
    pub(super) ignore_duplicates: bool,
    /// That GTID, once found missing.
    pub(super) hole: Option<MariaGtid>,
    /// The binlog state the dump has read (last seq_no per domain and server_id), for
    /// the made-up Gtid_lists: the GTIDs read while a domain is pending or an UNTIL
    /// condition is set, and with one, each file's Gtid_list.
    pub(super) state: BTreeMap<(u32, u32), u64>,
    /// The replica's GTID was reached in a domain: a made-up Gtid_list goes out as
    /// soon as no group is being left out, so the replica learns its position in the
    /// primary's binlog (MASTER_POS_WAIT, Read_Master_Log_Pos) as from a primary.
    pub(super) tell_position: bool,
    /// The replica's GTID lies past the start file's beginning in a domain the binlog
    /// has: the start file's FDE goes with `created` 0, as MariaDB sends it when its
    /// `is_pos_reached()` is false (a fresh replica, with an empty state, gets it as
    /// stored).
    pub(super) behind_start: bool,
}

/// Where a MariaDB replica asked to stop (`START SLAVE UNTIL master_gtid_pos`), as a
/// primary follows it: in each domain, groups up to and including the UNTIL GTID
/// are sent and later ones left out; groups of a domain the condition does not name
/// are left out; after the group that reaches the last domain's GTID, a made-up
/// Gtid_list flagged UNTIL_REACHED is sent and the dump ends, and the replica stops.
pub(super) struct Until {
    /// Domains whose UNTIL GTID has not been reached.
    pub(super) pending: BTreeMap<u32, MariaGtid>,
    /// The current group reaches the condition: stop at its end.
    pub(super) stop_after_group: bool,
    /// The condition is reached and the group that reached it ended.
    pub(super) reached: bool,
}

/// The Gtid_list flag a primary sets on the made-up event that ends a dump at the
/// replica's UNTIL position.
pub(super) const GTID_LIST_UNTIL_REACHED: u32 = 1 << 28;

/// A made-up Gtid_list body: the count with `flags`, then each domain, server_id
/// and seq_no.
pub(super) fn gtid_list_body(state: &BTreeMap<(u32, u32), u64>, flags: u32) -> Vec<u8> {
    let mut b = (state.len() as u32 | flags).to_le_bytes().to_vec();
    for (&(d, s), &n) in state {
        b.extend_from_slice(&d.to_le_bytes());
        b.extend_from_slice(&s.to_le_bytes());
        b.extend_from_slice(&n.to_le_bytes());
    }
    b
}

impl Until {
    /// A GTID event: is its group left out?
    pub(super) fn gtid(&mut self, g: MariaGtid) -> bool {
        let Some(want) = self.pending.get(&g.domain).copied() else {
            // This domain reached its condition, or the condition does not name it.
            return true;
        };
        if g.server == want.server && g.seq >= want.seq {
            self.pending.remove(&g.domain);
            if self.pending.is_empty() {
                self.stop_after_group = true;
            }
            // Past the UNTIL GTID (it is not in the binlog): this group is beyond it.
            return g.seq > want.seq;
        }
        false
    }
}

impl MariaSkip {
    /// Whether a group with this GTID is left out; reaching the requested GTID ends
    /// the skipping for its domain (the rule a MariaDB primary follows).
    pub(super) fn skips(&mut self, g: MariaGtid) -> bool {
        let top = self.seen.entry(g.domain).or_insert(0);
        *top = (*top).max(g.seq);
        let Some(want) = self.pending.get(&g.domain).copied() else {
            return false;
        };
        let skip = g.server != want.server || g.seq <= want.seq;
        if g.server == want.server && g.seq >= want.seq {
            self.pending.remove(&g.domain);
            if self.strict && g.seq > want.seq {
                self.hole = Some(want);
                return true;
            }
            self.tell_position = true;
        }
        skip
    }

    /// Once every stored event was read: a requested GTID in a domain binlogd has
    /// but that never turned up is not in binlogd's binlog.
    pub(super) fn missing(&self) -> Option<String> {
        let (want, top) = self.pending.iter().find_map(|(d, w)| {
            let top = self.seen.get(d).copied()?;
            (!self.ignore_duplicates || top >= w.seq).then_some((w, top))
        })?;
        Some(not_in_binlog(*want, top >= want.seq))
    }
}

/// MariaDB's 1236 text for a connect state binlogd does not have.
pub(super) fn not_in_binlog(g: MariaGtid, diverged: bool) -> String {
    if diverged {
        format!(
            "Error: connecting slave requested to start from GTID {g}, which is not in the master's binlog. Since \
             the master's binlog contains GTIDs with higher sequence numbers, it probably means that the slave has \
             diverged due to executing extra erroneous transactions"
        )
    } else {
        format!("Error: connecting slave requested to start from GTID {g}, which is not in the master's binlog")
    }
}

impl Skip {
    pub(super) fn new(mode: SkipMode) -> Skip {
        Skip { mode, tracker: Tracker::new(event::ChecksumAlg::OFF), skipping: false, earlier: None }
    }

    /// Whether to send this event (whole bytes for the types the tracker reads).
    pub(super) fn send(&mut self, h: &EventHeader, ev: &[u8]) -> bool {
        match (&mut self.mode, h.event_type) {
            (SkipMode::Mysql(have), t @ (EventType::GTID | EventType::GTID_TAGGED)) => {
                if let Ok((sid, gno)) = event::decode_any_mysql_gtid(t, ev, self.tracker.alg) {
                    self.skipping = have.contains(&sid, gno);
                }
            }
            (SkipMode::Maria(m), EventType::MARIADB_GTID) => {
                if let Ok((seq, domain, _)) = event::decode_mariadb_gtid(ev, self.tracker.alg) {
                    let g = MariaGtid { domain, server: h.server_id, seq };
                    if !m.pending.is_empty() || m.until.is_some() {
                        m.state.insert((g.domain, g.server), g.seq);
                    }
                    self.skipping = m.skips(g);
                    if let Some(u) = m.until.as_mut() {
                        self.skipping |= u.gtid(g);
                    }
                }
            }
            (SkipMode::Maria(m @ MariaSkip { until: Some(_), .. }), EventType::MARIADB_GTID_LIST) => {
                // Each file's Gtid_list is the binlog state at its start.
                if let Ok(Ok(list)) = event::body(ev, self.tracker.alg).map(MariaPos::decode_gtid_list) {
                    m.state = list.iter().map(|g| ((g.domain, g.server), g.seq)).collect();
                }
            }
            _ => {}
        }
        if let Some((g, m)) = &self.earlier {
            // A group the reader had before the switch, repeated by the new source.
            match h.event_type {
                t @ (EventType::GTID | EventType::GTID_TAGGED) => {
                    if let Ok((sid, gno)) = event::decode_any_mysql_gtid(t, ev, self.tracker.alg) {
                        self.skipping |= g.contains(&sid, gno);
                    }
                }
                EventType::MARIADB_GTID => {
                    if let Ok((seq, domain, _)) = event::decode_mariadb_gtid(ev, self.tracker.alg) {
                        self.skipping |= m.domains.get(&domain).is_some_and(|x| x.seq >= seq);
                    }
                }
                _ => {}
            }
        }
        let was = self.skipping;
        if let Ok(step) = self.tracker.feed(h, ev) {
            if step.boundary {
                self.skipping = false;
                if let SkipMode::Maria(MariaSkip { until: Some(u), .. }) = &mut self.mode {
                    u.reached |= u.stop_after_group;
                }
            }
        }
        !was
    }

    /// A strict replica's GTID found missing between two stored ones: the error to end with.
    pub(super) fn hole(&self) -> Option<String> {
        match &self.mode {
            SkipMode::Maria(MariaSkip { hole: Some(g), .. }) => Some(format!(
                "The binlog on the master is missing the GTID {g} requested by the slave (even though both a \
                 prior and a subsequent sequence number does exist), and GTID strict mode is enabled"
            )),
            _ => None,
        }
    }

    /// The replica's UNTIL position was reached: the made-up Gtid_list body to end with.
    pub(super) fn until_reached(&self) -> Option<Vec<u8>> {
        match &self.mode {
            SkipMode::Maria(m @ MariaSkip { until: Some(u), .. }) if u.reached => {
                Some(gtid_list_body(&m.state, GTID_LIST_UNTIL_REACHED))
            }
            _ => None,
        }
    }

    /// The replica's GTID was reached and no group is being left out: the made-up
    /// Gtid_list body a MariaDB primary sends then (once per domain reached).
    pub(super) fn position_reached(&mut self) -> Option<Vec<u8>> {
        match &mut self.mode {
            SkipMode::Maria(m) if m.tell_position && !self.skipping => {
                m.tell_position = false;
                Some(gtid_list_body(&m.state, 0))
            }
            _ => None,
        }
    }
}
