//! Simulated power loss: the writer runs on `SimFs` over random event streams,
//! crashes at random points (losing whatever was not fsynced, or part of it),
//! recovers, and resumes. What must hold after every crash:
//! - every position ever acknowledged is still on disk;
//! - the files are a prefix of the primary's, ending at a transaction boundary
//!   (preallocated zeros after it are cut);
//! - resuming from the recovered point ends with byte-identical files.
//!
//! And with the power cut after each change of a purge, and of archive-and-purge
//! cycles: no file a purge did not name is lost, no file not archived leaves, and
//! the index never names a missing file.

use std::path::Path;
use std::sync::Arc;

use crossbeam_channel::bounded;

use super::acker::AckSlot;
use super::reader::Msg;
use super::writer::Writer;
use super::Stats;
use crate::binlog::event::{EventHeader, EventType, HEADER_LEN};
use crate::binlog::fs::{Fs, SimFs};
use crate::binlog::store::Store;
use crate::binlog::trx::Tracker;

/// A xorshift generator: deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn event(t: u8, end: u32, body: &[u8]) -> Vec<u8> {
    let size = HEADER_LEN + body.len() + 4;
    let mut e = Vec::with_capacity(size);
    e.extend_from_slice(&1_763_800_000u32.to_le_bytes());
    e.push(t);
    e.extend_from_slice(&1u32.to_le_bytes());
    e.extend_from_slice(&(size as u32).to_le_bytes());
    e.extend_from_slice(&(end + size as u32).to_le_bytes());
    e.extend_from_slice(&0u16.to_le_bytes());
    e.extend_from_slice(body);
    let c = crc32fast::hash(&e);
    e.extend_from_slice(&c.to_le_bytes());
    e
}

/// The primary's files: the golden MySQL file's events, re-rotated to name each next file.
fn primary_files(n: usize, rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let g = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mysql-9.7.4.000001")).unwrap();
    let mut evs = Vec::new();
    let mut pos = 4;
    while pos < g.len() {
        let h = EventHeader::decode(&g[pos..]).unwrap();
        let end = pos + h.event_size as usize;
        if h.event_type != EventType::ROTATE {
            evs.push(g[pos..end].to_vec());
        }
        pos = end;
    }
    let (head, trx) = evs.split_at(2); // FDE, Previous_gtids
    let mut files = Vec::new();
    // The GTIDs of the files before, which each file's Previous_gtids holds.
    let mut before = Tracker::new(crate::binlog::event::ChecksumAlg::CRC32);
    for k in 0..n {
        let mut f = crate::binlog::event::MAGIC.to_vec();
        f.extend_from_slice(&head[0]);
        f.extend_from_slice(&event(EventType::PREVIOUS_GTIDS.0, 0, &before.gtids.encode()));
        // A random number of the golden transactions' events, whole or not: the
        // stream may end inside a transaction, as a live primary's does.
        let take = trx.len() * (1 + rng.below(3) as usize) / 2;
        for i in 0..take {
            f.extend_from_slice(&trx[i % trx.len()]);
        }
        let name = format!("mysql-bin.{:06}", k + 1);
        if k + 1 < n {
            let mut body = 4u64.to_le_bytes().to_vec();
            body.extend_from_slice(format!("mysql-bin.{:06}", k + 2).as_bytes());
            let rot = event(4, f.len() as u32, &body);
            f.extend_from_slice(&rot);
        }
        // Keep log_pos right: events were copied to new offsets.
        let f = fix_positions(f);
        let mut pos = 4;
        while pos < f.len() {
            let h = EventHeader::decode(&f[pos..]).unwrap();
            before.feed(&h, &f[pos..pos + h.event_size as usize]).unwrap();
            pos += h.event_size as usize;
        }
        files.push((name, f));
    }
    files
}

/// Rewrites each event's log_pos for its offset in this file and recomputes its CRC.
fn fix_positions(mut f: Vec<u8>) -> Vec<u8> {
    let mut pos = 4;
    while pos < f.len() {
        let size = u32::from_le_bytes(f[pos + 9..pos + 13].try_into().unwrap()) as usize;
        let end = pos + size;
        f[pos + 13..pos + 17].copy_from_slice(&(end as u32).to_le_bytes());
        let c = crc32fast::hash(&f[pos..end - 4]);
        f[end - 4..end].copy_from_slice(&c.to_le_bytes());
        pos = end;
    }
    f
}

/// The stream a primary sends for its files, from (file index, offset): a fake
/// ROTATE, then events, asking for an ACK at each transaction end.
fn stream_from(files: &[(String, Vec<u8>)], mut fi: usize, mut off: usize) -> Vec<Msg> {
    let mut v = Vec::new();
    while fi < files.len() {
        let (name, data) = &files[fi];
        v.push(Msg::Rotate { name: name.clone(), pos: off as u64 });
        let mut t = Tracker::new(crate::binlog::event::ChecksumAlg::OFF);
        let mut pos = 4;
        while pos < data.len() {
            let h = EventHeader::decode(&data[pos..]).unwrap();
            let end = pos + h.event_size as usize;
            let step = t.feed(&h, &data[pos..end]).unwrap();
            if end > off {
                v.push(Msg::Event { ev: data[pos..end].to_vec(), hdr: h, ack: step.boundary && !step.closes_file });
            }
            pos = end;
        }
        fi += 1;
        off = 4;
    }
    v
}

/// Offsets in a primary file where a transaction ends.
fn boundaries(data: &[u8]) -> Vec<usize> {
    let mut t = Tracker::new(crate::binlog::event::ChecksumAlg::OFF);
    let mut v = vec![4];
    let mut pos = 4;
    while pos < data.len() {
        let h = EventHeader::decode(&data[pos..]).unwrap();
        let end = pos + h.event_size as usize;
        if t.feed(&h, &data[pos..end]).unwrap().boundary {
            v.push(end);
        }
        pos = end;
    }
    v
}

fn run_case(seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let files = primary_files(1 + rng.below(4) as usize, &mut rng);
    let sim = SimFs::new();
    let fs: Arc<dyn Fs> = Arc::new(sim.clone());
    let dir = Path::new("/sim/binlogs");
    let sync_every = [0u32, 1, 1, 3][rng.below(4) as usize];
    // Zeros kept ahead of the active file's end: writes land in them, and a crash
    // leaves some of them after whatever part of the writes survived.
    let prealloc = [0u64, 4096, 4096, 16384][rng.below(4) as usize];
    // A sync log, small enough to fill (and make the writer fsync the file) often.
    let sync_log = [0u64, 4096, 16384, 1 << 20][rng.below(4) as usize];
    let mut acked: Vec<(String, u64)> = Vec::new();
    let mut crashes = 0;
    let mut resume = (0usize, 4usize);
    loop {
        let mut store = Store::open_on(fs.clone(), dir).unwrap_or_else(|e| panic!("seed {seed}: recovery failed: {e}"));
        check_recovered(seed, &sim, &store, &files, &acked);
        store.set_preallocate(prealloc);
        store.set_sync_log(sync_log).unwrap_or_else(|e| panic!("seed {seed}: sync log: {e}"));
        if let Some((name, pos)) = store.resume_point().file {
            let fi = files
                .iter()
                .position(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("seed {seed}: resume at unknown {name}"));
            resume = (fi, pos as usize);
        }
        let msgs = stream_from(&files, resume.0, resume.1);
        let (tx, rx) = bounded(msgs.len() + 1);
        let mut w = Writer::new(store, rx, sync_every, AckSlot::new(), Arc::new(Stats::default()));
        let mut it = msgs.into_iter().peekable();
        let crash_now = crashes < 3 && rng.below(4) != 0;
        let crash_after = if crash_now { rng.below(40) } else { u64::MAX };
        let mut batches = 0;
        let mut failed = false;
        // Fsyncs fail from here on (until the crash).
        let mut injected = false;
        while it.peek().is_some() && batches < crash_after {
            let n = 1 + rng.below(6);
            let first = it.next().unwrap();
            for _ in 1..n {
                if let Some(m) = it.next() {
                    tx.send(m).unwrap();
                }
            }
            if rng.below(50) == 0 {
                sim.fail_sync(true);
                injected = true;
            }
            match w.batch(first) {
                Ok(b) => acked.extend(b.acked),
                Err(e) => {
                    assert!(injected, "seed {seed}: the writer failed without a failed fsync: {e}");
                    // A failed fsync ends the writer; recovery starts again.
                    failed = true;
                    break;
                }
            }
            batches += 1;
        }
        sim.fail_sync(false);
        if it.peek().is_none() && !failed && batches < crash_after {
            w.store.sync().unwrap();
            break;
        }
        drop(w);
        crashes += 1;
        let mut r = Rng(rng.next() | 1);
        sim.crash_keeping(move |n| if r.below(2) == 0 { 0 } else { r.below(n as u64 + 1) as usize });
    }
    let store = Store::open_on(fs.clone(), dir).unwrap();
    check_recovered(seed, &sim, &store, &files, &acked);
    for (name, data) in &files {
        let got = sim.contents(&dir.join(name)).unwrap_or_else(|| panic!("seed {seed}: {name} missing at the end"));
        assert!(got == *data, "seed {seed}: {name} differs from the primary's after {crashes} crashes");
    }
}

fn check_recovered(seed: u64, sim: &SimFs, store: &Store, files: &[(String, Vec<u8>)], acked: &[(String, u64)]) {
    let dir = store.dir().to_path_buf();
    let names = store.files();
    for (i, name) in names.iter().enumerate() {
        let (pname, pdata) = &files[i];
        assert_eq!(name, pname, "seed {seed}: index lists {names:?}");
        let got = sim.contents(&dir.join(name)).unwrap();
        assert!(pdata.starts_with(&got), "seed {seed}: {name} is not a prefix of the primary's file");
        if i + 1 < names.len() {
            assert_eq!(got.len(), pdata.len(), "seed {seed}: closed file {name} is incomplete");
        } else {
            assert!(
                got.len() == pdata.len() || boundaries(pdata).contains(&got.len()),
                "seed {seed}: {name} ends at {} inside a transaction",
                got.len()
            );
        }
    }
    for (f, p) in acked {
        let len = sim.contents(&dir.join(f)).map(|d| d.len() as u64).unwrap_or(0);
        assert!(len >= *p, "seed {seed}: {f}:{p} was acknowledged but only {len} bytes survived");
    }
}

#[test]
fn power_loss_never_loses_an_acknowledged_position_and_resume_converges() {
    let cases: u64 = std::env::var("BINLOGD_SIM_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    for seed in 0..cases {
        run_case(seed);
    }
}

/// A writer on `fs` with the whole stream of `files` queued; returns it and the
/// first message, so one `batch` call takes everything.
fn writer_with_stream(fs: &Arc<dyn Fs>, dir: &Path, files: &[(String, Vec<u8>)], sync_every: u32) -> (Writer, Msg) {
    let msgs = stream_from(files, 0, 4);
    let (tx, rx) = bounded(msgs.len() + 1);
    let w = Writer::new(
        Store::open_on(fs.clone(), dir).unwrap(),
        rx,
        sync_every,
        AckSlot::new(),
        Arc::new(Stats::default()),
    );
    let mut it = msgs.into_iter();
    let first = it.next().unwrap();
    for m in it {
        tx.send(m).unwrap();
    }
    (w, first)
}

#[test]
fn recovery_reads_only_the_last_file_whatever_is_stored() {
    let mut rng = Rng(7);
    let files = primary_files(6, &mut rng);
    let sim = SimFs::new();
    let fs: Arc<dyn Fs> = Arc::new(sim.clone());
    let dir = Path::new("/sim/many");
    let (mut w, first) = writer_with_stream(&fs, dir, &files, 1);
    w.batch(first).unwrap();
    drop(w);
    let before = sim.mapped().len();
    let s = Store::open_on(fs, dir).unwrap();
    assert_eq!(s.files().len(), 6);
    let read: Vec<_> =
        sim.mapped()[before..].iter().filter(|p| p.extension().is_none_or(|e| e != "index")).cloned().collect();
    assert_eq!(read, vec![dir.join("mysql-bin.000006")], "recovery must scan the last file only");
}

#[test]
fn failed_fsync_publishes_no_ack_and_ends_the_writer() {
    let mut rng = Rng(11);
    let files = primary_files(1, &mut rng);
    let sim = SimFs::new();
    let fs: Arc<dyn Fs> = Arc::new(sim.clone());
    let dir = Path::new("/sim/eio");
    let (mut w, first) = writer_with_stream(&fs, dir, &files, 0);
    sim.fail_sync(true);
    assert!(w.batch(first).is_err(), "an fsync error must end the writer");
    drop(w);
    sim.fail_sync(false);
    sim.crash();
    // Nothing was acknowledged, and recovery starts cleanly from what is durable.
    let s = Store::open_on(fs, dir).unwrap();
    // The file's creation was never made durable either, so an empty store is right.
    assert!(s.resume_point().file.is_none_or(|(_, p)| p <= files[0].1.len() as u64));
}

#[test]
fn power_loss_during_a_purge_keeps_every_file_it_did_not_name_and_the_index_names_no_missing_file() {
    // The purge journal goes through the Fs trait: the power goes after each of its
    // changes in turn (file writes, fsyncs, renames, removals), then the store opens
    // again and finishes what the journal says.
    for seed in 0..40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let files = primary_files(3 + rng.below(3) as usize, &mut rng);
        let k = 1 + rng.below(files.len() as u64 - 1) as usize;
        let named: Vec<String> = files[..k].iter().map(|f| f.0.clone()).collect();
        let mut completed = false;
        let mut cut = 0;
        while !completed {
            let sim = SimFs::new();
            let fs: Arc<dyn Fs> = Arc::new(sim.clone());
            let dir = Path::new("/sim/purge");
            let (mut w, first) = writer_with_stream(&fs, dir, &files, 1);
            w.batch(first).unwrap();
            w.store.sync().unwrap();
            drop(w);
            let share = crate::binlog::store::IndexShare::default();
            sim.fail_after(Some(cut));
            let r = {
                let mut g = share.lock();
                crate::binlog::store::execute(&*fs, dir, &mut g, &share, &named)
            };
            completed = r.is_ok();
            sim.fail_after(None);
            sim.crash();
            let store = Store::open_on(fs.clone(), dir)
                .unwrap_or_else(|e| panic!("seed {seed}, power lost after {cut} changes: no reopen: {e}"));
            let listed = store.files().to_vec();
            for n in &listed {
                assert!(sim.contents(&dir.join(n)).is_some(), "seed {seed}, cut {cut}: the index names missing {n}");
            }
            let gone = files.len() - listed.len();
            assert!(gone <= k, "seed {seed}, cut {cut}: more went than the purge named: {listed:?}");
            for (i, (n, data)) in files.iter().enumerate().skip(gone) {
                assert_eq!(listed.get(i - gone), Some(n), "seed {seed}, cut {cut}: index {listed:?}");
                if i >= k {
                    assert_eq!(sim.contents(&dir.join(n)).as_ref(), Some(data), "seed {seed}, cut {cut}: {n} changed");
                }
            }
            if completed {
                assert_eq!(gone, k, "seed {seed}: a finished purge left {listed:?}");
            }
            cut += 1;
        }
    }
}

#[test]
fn power_loss_during_archive_and_purge_cycles_never_loses_a_file_not_archived() {
    use crate::binlog::catalog::{Catalog, Entry};
    use crate::binlog::purge::{self, FileFacts, Target};
    use crate::replica::archiver::{archived_check, load_status};
    use std::collections::BTreeMap;
    // Each cycle: the archive command succeeds for one more file (the object store
    // keeps it, outside binlog_dir), its success is recorded, then a purge takes what
    // is archived. The power goes after each change in turn.
    for seed in 0..25u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let files = primary_files(4 + rng.below(2) as usize, &mut rng);
        let archived_for_real = 1 + rng.below(files.len() as u64 - 2) as usize;
        let (mut cut, mut completed) = (0, false);
        while !completed {
            let sim = SimFs::new();
            let fs: Arc<dyn Fs> = Arc::new(sim.clone());
            let dir = Path::new("/sim/archive");
            let (mut w, first) = writer_with_stream(&fs, dir, &files, 1);
            w.batch(first).unwrap();
            w.store.sync().unwrap();
            drop(w);
            sim.fail_after(Some(cut));
            let cycles = || -> Result<(), String> {
                let mut done = Catalog::default();
                for (name, _) in &files[..archived_for_real] {
                    done.add(Entry::named(name));
                    done.save(&*fs, dir).map_err(|e| e.to_string())?;
                    let archived = archived_check(&*fs, dir, true);
                    let (_, names) = crate::binlog::store::read_index(&*fs, dir).map_err(|e| e.to_string())?;
                    let facts: Vec<FileFacts> = names
                        .iter()
                        .map(|n| FileFacts {
                            name: n.clone(),
                            size: 1,
                            mtime: std::time::SystemTime::UNIX_EPOCH,
                            archived: archived(n),
                        })
                        .collect();
                    let last = names.last().cloned().unwrap_or_default();
                    let plan =
                        purge::plan(&facts, &Target::To(last), &BTreeMap::new(), 0, std::time::SystemTime::now())?;
                    let share = crate::binlog::store::IndexShare::default();
                    let mut g = share.lock();
                    crate::binlog::store::execute(&*fs, dir, &mut g, &share, &plan.purge).map_err(|e| e.to_string())?;
                }
                Ok(())
            };
            completed = cycles().is_ok();
            sim.fail_after(None);
            sim.crash();
            let store = Store::open_on(fs.clone(), dir)
                .unwrap_or_else(|e| panic!("seed {seed}, power lost after {cut} changes: no reopen: {e}"));
            let listed = store.files().to_vec();
            let recorded = load_status(&*fs, dir);
            for n in &listed {
                assert!(sim.contents(&dir.join(n)).is_some(), "seed {seed}, cut {cut}: the index names missing {n}");
            }
            for (i, (name, data)) in files.iter().enumerate() {
                assert!(
                    !recorded.contains(name) || i < archived_for_real,
                    "seed {seed}, cut {cut}: {name} recorded as archived, never archived"
                );
                if i >= archived_for_real {
                    assert!(listed.contains(name), "seed {seed}, cut {cut}: {name}, never archived, left the index");
                    assert_eq!(sim.contents(&dir.join(name)).as_ref(), Some(data), "seed {seed}, cut {cut}: {name}");
                }
            }
            if completed {
                assert_eq!(listed.len(), files.len() - archived_for_real, "seed {seed}: {listed:?}");
            }
            cut += 1;
        }
    }
}
