//! The read side of binlog_dir: a stored binlog file opened for reading by dumps,
//! SHOW BINLOG EVENTS, `--verify` and the server's own look at a file's start. Readers
//! ask for positional reads and the length; a dump also asks for the local file, to
//! map it and send from it with sendfile, and `--verify` for the whole file. Today every stored file is in binlog_dir; a file
//! that lives elsewhere (restored from an archive) is opened here too, so no reader
//! changes when it does.

use std::fs::File;
use std::io;
use std::path::Path;

use super::fs::Mapping;
use super::walk::ReadAt;

/// A stored binlog file open for reading.
pub trait Stored: ReadAt + Send + Sync {
    /// Its length in bytes now. Of the active file, only the durable part may be read
    /// (`DurableState::readable_len`).
    fn len(&self) -> io::Result<u64>;
    /// Whether it holds no byte at all (not even the magic).
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// The local file holding the bytes, for mapping and sendfile; None where they
    /// come from elsewhere, and only positional reads serve.
    fn local(&self) -> Option<&File>;

    /// All its bytes, for a scan of the whole file: the local file mapped (behind a
    /// guard against a cut from outside), else read.
    fn whole(&self) -> io::Result<Box<dyn Mapping>> {
        if let Some(f) = self.local() {
            return super::fs::map_file(f);
        }
        let mut v = vec![0u8; usize::try_from(self.len()?).map_err(|_| io::Error::other("file too large"))?];
        self.read_at(&mut v, 0)?;
        Ok(Box::new(v))
    }

    /// All its bytes, read into memory: for a file that may grow while it is read.
    fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut v = vec![0u8; usize::try_from(self.len()?).map_err(|_| io::Error::other("file too large"))?];
        self.read_at(&mut v, 0)?;
        Ok(v)
    }
}

impl Stored for File {
    fn len(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
    fn local(&self) -> Option<&File> {
        Some(self)
    }
}

/// Opens the stored file `name` of binlog_dir `dir` for reading.
pub fn open(dir: &Path, name: &str) -> io::Result<Box<dyn Stored>> {
    Ok(Box::new(File::open(dir.join(name))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_file_reads_by_position_and_knows_its_length() {
        let d = crate::test_dir::TestDir::new("read");
        std::fs::write(d.join("b.000001"), b"\xfebin0123").unwrap();
        let f = open(&d, "b.000001").unwrap();
        assert_eq!(f.len().unwrap(), 8);
        let mut b = [0u8; 4];
        f.read_at(&mut b, 4).unwrap();
        assert_eq!(&b, b"0123");
        assert!(f.local().is_some());
        assert!(open(&d, "b.000002").is_err());
    }
}
