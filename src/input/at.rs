//! Reading an uncompressed regular file at positions, from any thread.
//!
//! The parallel reader (`record::parallel`) lets its worker threads
//! read their own blocks of such a file ([`Positional::read_exact_at`]), so
//! the bytes are copied once, by the thread that parses them, into its own
//! cache. [`FileAt`] reads the same file as a stream from a given offset, for
//! whatever the positional reads leave (the end of the file, a very long
//! line).

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

/// A regular file whose bytes are the input's bytes, offset for offset.
#[derive(Debug, Clone)]
pub struct Positional {
    file: Arc<File>,
    size: u64,
}

impl Positional {
    /// `file` as it is now, `size` bytes long. `None` where the platform has
    /// no positional reads.
    pub fn new(file: File, size: u64) -> Option<Positional> {
        cfg!(any(unix, windows)).then(|| Positional {
            file: Arc::new(file),
            size,
        })
    }

    /// The file's size when it was opened.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Up to `buf.len()` bytes from `offset` on; fewer only at the end of
    /// the file.
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match read_at(&self.file, &mut buf[got..], offset + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }

    /// Exactly `buf.len()` bytes from `offset` on (an error if the file
    /// is shorter now).
    pub(crate) fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        if self.read_at(buf, offset)? < buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file became shorter while it was read",
            ));
        }
        Ok(())
    }

    /// The file as a stream from `offset` on.
    pub(crate) fn stream_from(&self, offset: u64) -> FileAt {
        FileAt {
            file: self.file.clone(),
            pos: offset,
        }
    }
}

/// A stream of a [`Positional`] file's bytes from an offset on.
#[derive(Debug)]
pub struct FileAt {
    file: Arc<File>,
    pos: u64,
}

impl Read for FileAt {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = read_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(windows)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
}

#[cfg(not(any(unix, windows)))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no positional reads on this platform",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_at_positions_and_as_a_stream() {
        let path = std::env::temp_dir().join(format!("tracesift-at-{}", std::process::id()));
        let mut f = File::create(&path).unwrap();
        f.write_all(b"0123456789abcdef").unwrap();
        drop(f);
        let p = Positional::new(File::open(&path).unwrap(), 16).unwrap();
        let mut buf = [0u8; 4];
        p.read_exact_at(&mut buf, 10).unwrap();
        assert_eq!(&buf, b"abcd");
        assert_eq!(p.read_at(&mut [0u8; 8], 12).unwrap(), 4);
        assert!(p.read_exact_at(&mut [0u8; 8], 12).is_err());
        let mut s = String::new();
        p.stream_from(6).read_to_string(&mut s).unwrap();
        assert_eq!(s, "6789abcdef");
        std::fs::remove_file(&path).unwrap();
    }
}
