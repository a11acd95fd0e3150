//! The `.index` file: finding it, reading it, rewriting it atomically, and following
//! the purges that rewrite it under the shared lock.

use super::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The `.index` file among a directory's entries: None when there is none, an error
/// when there are several (which one lists the files would be a guess).
pub fn pick_index(
    dir: &Path,
    entries: impl IntoIterator<Item = impl AsRef<str>>,
) -> Result<Option<PathBuf>, StoreError> {
    let mut found: Vec<PathBuf> = entries
        .into_iter()
        .filter(|n| n.as_ref().ends_with(".index") && !n.as_ref().starts_with('.'))
        .map(|n| dir.join(n.as_ref()))
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(StoreError::Index { path: dir.to_path_buf(), what: format!("more than one .index file: {found:?}") }),
    }
}

/// The files an index lists, in order: a later source's as `source-K/name`
/// (`sources`), any other line as its path's last component (mysqld writes `./name`);
/// a line that is neither is an error naming it.
pub fn index_names(path: &Path, text: &str) -> Result<Vec<String>, StoreError> {
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let in_source = line.split_once('/').is_some_and(|(d, _)| sources::dir_number(d).is_some());
        let name = if in_source { line } else { line.rsplit('/').next().unwrap_or(line) };
        if !sources::is_safe_path(name) {
            return Err(StoreError::Index {
                path: path.to_path_buf(),
                what: format!("line {}: bad file name {line:?}", i + 1),
            });
        }
        v.push(name.to_string());
    }
    Ok(v)
}

impl Store {
    /// From now on, index rewrites take `share`'s lock and purges are followed.
    pub fn share_index(&mut self, share: Arc<IndexShare>) {
        self.share_seen = share.generation();
        self.share = Some(share);
    }

    /// Drops the names a purge removed since the last look.
    pub(super) fn follow_purges(&mut self) {
        let Some(sh) = self.share.clone() else { return };
        if sh.generation() == self.share_seen {
            return;
        }
        let g = sh.lock();
        self.share_seen = sh.generation();
        if let Some(first) = g.as_deref() {
            drop_purged(&mut self.files, first);
        }
    }

    pub(super) fn index_path_for(&self, name: &str) -> PathBuf {
        let name = sources::plain(name);
        let base = split_name(name).map_or(name, |(b, _)| b);
        self.dir.join(format!("{base}.index"))
    }

    /// Binlog-shaped names (`base.NNNN`) among `names` (directory entries), in order.
    /// Each name is parsed once, not at each comparison of the sort.
    pub(super) fn dir_binlogs<'a>(names: impl Iterator<Item = &'a String>, base: Option<&str>) -> Vec<String> {
        let mut v: Vec<(u64, &String)> = names
            .filter_map(|n| {
                let (b, k) = split_name(sources::plain(n))?;
                (base.is_none_or(|x| x == b) && sources::is_safe_path(n)).then_some((k, n))
            })
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, n)| n.clone()).collect()
    }

    pub(super) fn load_index(&mut self) -> Result<(), StoreError> {
        // One listing serves every question below: a restart's time does not grow
        // with the number of files stored more than it must.
        let listed = self.fs.list(&self.dir).map_err(io_err(&self.dir, "read directory"))?;
        let Some(path) = pick_index(&self.dir, &listed)? else {
            // No index: either a fresh directory, or a crash between creating the
            // first file and writing the index.
            let found = Self::dir_binlogs(listed.iter(), None);
            match found.len() {
                0 => return Ok(()),
                1 => {
                    warn!("binlog {} is not in any index; adding it (crash after creating the file)", found[0]);
                    self.files = found;
                    return self.write_index();
                }
                _ => {
                    return Err(StoreError::Index {
                        path: self.dir.clone(),
                        what: format!("binlog files {found:?} but no .index file"),
                    })
                }
            }
        };
        let bytes = self.fs.map(&path).map_err(io_err(&path, "read index"))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| StoreError::Index { path: path.clone(), what: "not UTF-8 text".into() })?;
        // One listing instead of a stat per file, and one pass over it: the entries the
        // index names are counted, the others kept as candidates for files it lacks.
        // Thousands of files open about as fast as a few.
        let names = index_names(&path, text)?;
        // Each source directory the index names is listed too; its entries as paths.
        let mut listed_paths: Vec<String> = listed.clone();
        let mut dirs: Vec<u32> = names.iter().map(|n| sources::number(n)).filter(|&k| k > 1).collect();
        dirs.dedup();
        for k in dirs {
            let d = self.dir.join(sources::dir_of(k));
            let entries = self.fs.list(&d).map_err(io_err(&d, "read directory"))?;
            listed_paths.extend(entries.into_iter().map(|e| sources::path_in(k, &e)));
        }
        let indexed: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        let (mut found, mut others) = (0, Vec::new());
        for n in &listed_paths {
            if indexed.contains(n.as_str()) {
                found += 1;
            } else {
                others.push(n);
            }
        }
        if found < indexed.len() {
            let present: std::collections::HashSet<&str> = listed_paths.iter().map(String::as_str).collect();
            if let Some(name) = names.iter().find(|n| !present.contains(n.as_str())) {
                return Err(StoreError::Index {
                    path: path.clone(),
                    what: format!("{name} is listed but missing from {}", self.dir.display()),
                });
            }
        }
        self.files = names;
        self.source = sources::newest(&self.files);
        // Files of the newest source's directory that follow its last one (same base).
        let last_k = self.source;
        let base = self.files.last().and_then(|n| split_name(sources::plain(n))).map(|(b, _)| b.to_string());
        let in_last = others.into_iter().filter(|p| sources::number(p) == last_k && (last_k > 1 || !p.contains('/')));
        let mut extra = Self::dir_binlogs(in_last, base.as_deref());
        if let (Some(last), Some(first_extra)) = (self.files.last(), extra.first()) {
            let succ = split_name(sources::plain(last)).map(|(_, k)| k + 1);
            if extra.len() == 1 && split_name(sources::plain(first_extra)).map(|(_, k)| k) == succ {
                warn!("binlog {first_extra} is not in the index; adding it (crash after creating the file)");
                self.files.push(extra.remove(0));
                self.write_index()?;
            }
        }
        if !extra.is_empty() {
            return Err(StoreError::Index {
                path,
                what: format!("files in the directory but not in the index: {extra:?}"),
            });
        }
        // The next source's directory, begun before a crash: its one file is the
        // first of that source (created, then the crash, then no index entry).
        let next_k = self.source + 1;
        if listed.iter().any(|e| sources::dir_number(e) == Some(next_k)) {
            let d = self.dir.join(sources::dir_of(next_k));
            let entries = self.fs.list(&d).map_err(io_err(&d, "read directory"))?;
            let found = Self::dir_binlogs(entries.iter(), None);
            match found.as_slice() {
                [] => {}
                [one] => {
                    let p = sources::path_in(next_k, one);
                    warn!("binlog {p} is not in the index; adding it (crash after creating a new source's first file)");
                    self.files.push(p);
                    self.source = next_k;
                    self.write_index()?;
                }
                _ => {
                    return Err(StoreError::Index {
                        path,
                        what: format!("files in {} but not in the index: {found:?}", d.display()),
                    })
                }
            }
        }
        Ok(())
    }

    /// Rewrites the index atomically: tmp file, fsync, rename, directory fsync.
    pub(super) fn write_index(&mut self) -> Result<(), StoreError> {
        owned(&self.dir)?;
        let sh = self.share.clone();
        let guard = sh.as_ref().map(|s| s.lock());
        if let (Some(s), Some(g)) = (&sh, &guard) {
            self.share_seen = s.generation();
            if let Some(first) = g.as_deref() {
                drop_purged(&mut self.files, first);
            }
        }
        let Some(first) = self.files.first() else {
            return Ok(());
        };
        let path = self.index_path_for(first);
        let mut text = String::new();
        for f in &self.files {
            text.push_str(f);
            text.push('\n');
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.fs.replace(&self.dir, &name, text.as_bytes(), false).map_err(io_err(&path, "replace"))
    }
}

/// Shared by the index's writers: the lock, and the first file kept by the last purge.
#[derive(Default)]
pub struct IndexShare {
    first_kept: Mutex<Option<String>>,
    generation: AtomicU64,
}

impl IndexShare {
    pub fn lock(&self) -> MutexGuard<'_, Option<String>> {
        self.first_kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bumped by each purge; a holder of an older list compares it to drop names.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A purge has rewritten the index (called under `lock`).
    pub fn purged(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// Drops from `files` the names before `first_kept` (if it is in the list).
pub fn drop_purged(files: &mut Vec<String>, first_kept: &str) {
    if let Some(i) = files.iter().position(|f| f == first_kept) {
        files.drain(..i);
    }
}
