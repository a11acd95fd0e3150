//! The storage layer's errors, each naming the file and offset.

use super::*;

/// Errors of the storage layer, each naming the file and offset.
#[derive(Debug)]
pub enum StoreError {
    Io {
        path: PathBuf,
        op: &'static str,
        err: io::Error,
    },
    /// Writing a binlog file at `offset` failed.
    Write {
        path: PathBuf,
        offset: u64,
        err: io::Error,
    },
    /// A stored event is broken somewhere other than the tail of the last file.
    Corrupt {
        file: String,
        offset: u64,
        what: String,
    },
    /// The index and the directory disagree.
    Index {
        path: PathBuf,
        what: String,
    },
    /// The stream does not continue the stored files.
    Stream {
        file: String,
        offset: u64,
        what: String,
    },
    BadName {
        name: String,
    },
    /// binlog_dir is no longer the directory this process locked.
    Replaced {
        what: String,
    },
    /// The primary's file `file` is not the one stored under that name, or does not
    /// continue the stored files: its binary log was begun again, or another server
    /// answers at its address. `what` says how it differs.
    OtherBinlog {
        file: String,
        what: String,
    },
    /// The primary moved on to `next` while `file` lacks its closing ROTATE/STOP
    /// (a GTID dump starts at the first file with a missing transaction, so it
    /// skips whatever ends the previous one). Fetch the rest by file+pos.
    Unfinished {
        file: String,
        len: u64,
        next: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { path, op, err } => write!(f, "{op} {}: {err}", path.display()),
            StoreError::Write { path, offset, err } => write!(f, "write {}:{offset}: {err}", path.display()),
            StoreError::Corrupt { file, offset, what } => write!(f, "corrupt binlog {file}:{offset}: {what}"),
            StoreError::Index { path, what } => write!(f, "index {}: {what}", path.display()),
            StoreError::Stream { file, offset, what } => write!(f, "at {file}:{offset}: {what}"),
            StoreError::Unfinished { file, len, next } => write!(
                f,
                "the primary moved on to {next} but {file} ends at {len} without ROTATE or STOP; fetching the rest of {file} by file+pos"
            ),
            StoreError::Replaced { what } => write!(f, "{what}: stopping without touching it"),
            StoreError::OtherBinlog { file, what } => write!(
                f,
                "the primary's {file} {what}. Its binary log was begun again (RESET MASTER) or another server \
                 answers at its address: binlogd appends nothing of it and keeps serving the stored files. To mirror \
                 that binary log, start binlogd on a new binlog_dir"
            ),
            StoreError::BadName { name } => {
                write!(f, "refusing binlog file name {:?}: not a plain file name", truncate_for_log(name))
            }
        }
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// The file system holding binlog_dir is full, or the user's quota on it is
    /// spent: waiting for space can cure it, retrying at once cannot.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Io { err, .. } | StoreError::Write { err, .. } => {
                matches!(err.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
            }
            _ => false,
        }
    }
}

pub(super) fn truncate_for_log(s: &str) -> String {
    if s.len() <= 80 {
        s.to_string()
    } else {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}... ({} bytes)", &s[..end], s.len())
    }
}

pub(super) fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |err| StoreError::Io { path: path.to_path_buf(), op, err }
}
