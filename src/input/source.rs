//! Opening an input: a file or standard input, transparently decompressed.
//!
//! Compression is detected from the first bytes of the stream (gzip `1f 8b`,
//! zstd `28 b5 2f fd`, xz `fd 37 7a 58 5a 00`), never from the file name, so a
//! `.log` that is really gzip and a `.gz` that is really text both work.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::at::Positional;

/// Where an input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    /// A path on the file system.
    Path(PathBuf),
    /// Standard input (`-` on the command line), named `<stdin>` in messages.
    Stdin,
}

impl InputSpec {
    /// Build from a command-line argument: `-` means standard input.
    pub(crate) fn from_arg(arg: &std::ffi::OsStr) -> InputSpec {
        if arg == "-" {
            InputSpec::Stdin
        } else {
            InputSpec::Path(PathBuf::from(arg))
        }
    }

    /// The name used in messages and reports.
    pub(crate) fn display_name(&self) -> String {
        match self {
            InputSpec::Path(p) => p.display().to_string(),
            InputSpec::Stdin => "<stdin>".to_string(),
        }
    }
}

/// The compression detected on an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (possibly several members, as `cat a.gz b.gz` produces).
    Gzip,
    /// Zstandard.
    Zstd,
    /// xz / LZMA2.
    Xz,
}

impl Compression {
    /// Detect compression from the first bytes of a stream.
    pub(crate) fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else {
            Compression::None
        }
    }

    /// Lower-case name, as shown in `stats`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
        }
    }
}

/// Why an input could not be opened or read to its end.
#[derive(Debug)]
pub struct InputError {
    /// The input's display name.
    pub name: String,
    /// What happened.
    pub kind: InputErrorKind,
}

/// The kinds of input failure, each with its own hint.
#[derive(Debug)]
pub enum InputErrorKind {
    /// The path does not exist.
    NotFound,
    /// Permission denied.
    PermissionDenied,
    /// The path is a directory.
    IsDirectory,
    /// A compressed stream ended early or is corrupt.
    Corrupt {
        /// The compression format.
        compression: Compression,
        /// Decompressed bytes delivered before the failure.
        after_bytes: u64,
        /// The decoder's message.
        detail: String,
    },
    /// A parser thread failed: the records it held are lost, so the
    /// analysis covers only the first `analysed` lines.
    ParserFailed {
        /// Physical lines analysed before the failure.
        analysed: u64,
    },
    /// Any other I/O error.
    Io(io::Error),
}

/// The error a reader returns when one of its parser threads failed (see
/// [`InputErrorKind::ParserFailed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParserFailed {
    /// Physical lines of the input analysed before the failure.
    pub analysed: u64,
}

impl fmt::Display for ParserFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a parser thread failed; only the first {} lines were analysed",
            self.analysed
        )
    }
}

impl std::error::Error for ParserFailed {}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            InputErrorKind::NotFound => write!(f, "{}: no such file", self.name),
            InputErrorKind::PermissionDenied => write!(f, "{}: permission denied", self.name),
            InputErrorKind::IsDirectory => write!(f, "{}: is a directory", self.name),
            InputErrorKind::Corrupt {
                compression,
                after_bytes,
                detail,
            } => write!(
                f,
                "{}: {} stream is truncated or corrupt after {} decompressed bytes ({})",
                self.name,
                compression.name(),
                after_bytes,
                detail
            ),
            InputErrorKind::ParserFailed { analysed } => {
                write!(
                    f,
                    "{}: {}",
                    self.name,
                    ParserFailed {
                        analysed: *analysed
                    }
                )
            }
            InputErrorKind::Io(e) => write!(f, "{}: {}", self.name, e),
        }
    }
}

impl InputError {
    /// A one-line hint telling the user what to do about it.
    pub(crate) fn hint(&self) -> &'static str {
        match &self.kind {
            InputErrorKind::NotFound => "check the path; use '-' to read standard input",
            InputErrorKind::PermissionDenied => "check the file's permissions (captures under /sys need root)",
            InputErrorKind::IsDirectory => {
                "pass the capture files inside it (DIR/*.txt), or analyse each file of it with report --each DIR"
            }
            InputErrorKind::Corrupt { .. } => {
                "the lines read before the damage were analysed; re-fetch the file or decompress what survives"
            }
            InputErrorKind::ParserFailed { .. } => {
                "this is a bug in tracesift: please report it with the input; the summary covers only the lines analysed"
            }
            InputErrorKind::Io(_) => "the lines read before the error were analysed",
        }
    }

    /// The error for `name` that an I/O error `e` means.
    pub(crate) fn from_io(name: &str, e: io::Error) -> InputError {
        if let Some(p) = e.get_ref().and_then(|r| r.downcast_ref::<ParserFailed>()) {
            return InputError {
                name: name.to_string(),
                kind: InputErrorKind::ParserFailed {
                    analysed: p.analysed,
                },
            };
        }
        let kind = match e.kind() {
            io::ErrorKind::NotFound => InputErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => InputErrorKind::PermissionDenied,
            _ if e.raw_os_error() == Some(21) => InputErrorKind::IsDirectory,
            _ => InputErrorKind::Io(e),
        };
        InputError {
            name: name.to_string(),
            kind,
        }
    }
}

impl std::error::Error for InputError {}

/// An opened input: a byte stream with its name and detected compression.
pub struct Opened {
    /// Display name (`<stdin>` for standard input).
    pub name: String,
    /// The detected compression.
    pub compression: Compression,
    /// The decompressed byte stream.
    pub reader: Box<dyn Read + Send>,
    /// For an uncompressed regular file: the same bytes, readable at any
    /// position ([`Positional`]).
    pub positional: Option<Positional>,
    /// A live stream: a pipe, a FIFO, a terminal, a character device or a
    /// file that reports no size (tracefs `trace_pipe`). Its bytes arrive
    /// when the writer sends them, so a reader that wants to show them as
    /// they come must not wait for more ([`super::readahead::ReadAhead::live`]).
    pub live: bool,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("name", &self.name)
            .field("compression", &self.compression)
            .field("live", &self.live)
            .finish()
    }
}

/// Open an input and wrap it in the decoder its magic bytes call for.
#[cfg(test)]
pub(crate) fn open(spec: &InputSpec) -> Result<Opened, InputError> {
    open_with(spec, |_, raw| raw)
}

/// Like `open` (which tests use), but first passes the raw (still compressed) stream and its
/// size, when it is a regular file, through `hook`: a progress bar counts
/// the bytes actually read from the file, compressed or not.
pub(crate) fn open_with(
    spec: &InputSpec,
    hook: impl FnOnce(Option<u64>, Box<dyn Read + Send>) -> Box<dyn Read + Send>,
) -> Result<Opened, InputError> {
    let name = spec.display_name();
    let (file, size) = match spec {
        InputSpec::Stdin => match stdin_file() {
            Some((f, size)) => (Some(f), Some(size)),
            None => (None, None),
        },
        InputSpec::Path(p) => {
            let (f, size) = open_file(p, &name)?;
            (Some(f), size)
        }
    };
    // A regular file with bytes in it is read as such; anything else
    // delivers its bytes as they come.
    let live = size.is_none_or(|n| n == 0);
    let mut at = None;
    let raw: Box<dyn Read + Send> = match file {
        Some(file) => {
            // A second handle on a regular file, for positional reads;
            // not on one that reports no size (tracefs, procfs, sysfs).
            at = size.filter(|&n| n > 0).zip(file.try_clone().ok());
            hook(size, Box::new(file))
        }
        None => hook(None, Box::new(io::stdin())),
    };
    let mut opened = wrap(name, raw)?;
    if opened.compression == Compression::None {
        opened.positional = at.and_then(|(size, f)| Positional::new(f, size));
    }
    opened.live = live;
    Ok(opened)
}

/// Standard input as a file when it is a regular file read from its start
/// (`tracesift report < capture`): then it is read like a named file, in
/// large blocks and at positions by the parallel reader, rather than
/// through the stdin lock's small buffer. `None` for a pipe, a terminal or
/// anything else.
#[cfg(unix)]
fn stdin_file() -> Option<(File, u64)> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    let mut file = File::from(fd);
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() == 0 || file.stream_position().ok()? != 0 {
        return None;
    }
    Some((file, meta.len()))
}

#[cfg(not(unix))]
fn stdin_file() -> Option<(File, u64)> {
    None
}

/// Open a file for reading; its size when it is a regular file.
fn open_file(p: &Path, name: &str) -> Result<(File, Option<u64>), InputError> {
    let meta = std::fs::metadata(p).map_err(|e| InputError::from_io(name, e))?;
    if meta.is_dir() {
        return Err(InputError {
            name: name.to_string(),
            kind: InputErrorKind::IsDirectory,
        });
    }
    let file = File::open(p).map_err(|e| InputError::from_io(name, e))?;
    Ok((file, meta.is_file().then_some(meta.len())))
}

/// Wrap an already-open stream: sniff its magic bytes and decompress.
pub fn wrap(name: String, raw: Box<dyn Read + Send>) -> Result<Opened, InputError> {
    let mut buffered = BufReader::with_capacity(64 * 1024, raw);
    let head = fill_head(&mut buffered).map_err(|e| InputError::from_io(&name, e))?;
    let compression = Compression::sniff(&head);
    let reader: Box<dyn Read + Send> = match compression {
        // What was read to sniff, then the stream itself: the line reader
        // reads in large blocks, which a buffer in between would only copy.
        Compression::None => {
            let head = buffered.buffer().to_vec();
            Box::new(io::Cursor::new(head).chain(buffered.into_inner()))
        }
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => {
            let dec = zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| InputError::from_io(&name, e))?;
            Box::new(dec)
        }
        Compression::Xz => Box::new(xz2::bufread::XzDecoder::new_multi_decoder(buffered)),
    };
    Ok(Opened {
        name,
        compression,
        reader,
        positional: None,
        live: false,
    })
}

/// Peek at up to 6 bytes without consuming them, retrying short reads (pipes).
fn fill_head<R: Read>(r: &mut BufReader<R>) -> io::Result<Vec<u8>> {
    loop {
        match r.fill_buf() {
            Ok(b) => return Ok(b[..b.len().min(6)].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Turn a read error from the middle of a stream into an [`InputError`].
pub fn read_error(
    name: &str,
    compression: Compression,
    after_bytes: u64,
    e: io::Error,
) -> InputError {
    let parser = e
        .get_ref()
        .is_some_and(|r| r.downcast_ref::<ParserFailed>().is_some());
    if compression != Compression::None
        && !parser
        && matches!(
            e.kind(),
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::InvalidInput
                | io::ErrorKind::InvalidData
                | io::ErrorKind::Other
        )
    {
        InputError {
            name: name.to_string(),
            kind: InputErrorKind::Corrupt {
                compression,
                after_bytes,
                detail: e.to_string(),
            },
        }
    } else {
        InputError::from_io(name, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sniffs_magic_bytes_not_names() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"\xfd7zXZ\x00"), Compression::Xz);
        assert_eq!(
            Compression::sniff(b"[    0.000000] Linux"),
            Compression::None
        );
        assert_eq!(Compression::sniff(b""), Compression::None);
    }

    fn read_all(o: Opened) -> Vec<u8> {
        let mut v = Vec::new();
        let mut r = o.reader;
        r.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn decompresses_gzip_zstd_xz() {
        let text = b"[ 1.000000] hello\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        let o = wrap("a".into(), Box::new(std::io::Cursor::new(gz))).unwrap();
        assert_eq!(o.compression, Compression::Gzip);
        assert_eq!(read_all(o), text);

        let zs = zstd::stream::encode_all(&text[..], 1).unwrap();
        let o = wrap("b".into(), Box::new(std::io::Cursor::new(zs))).unwrap();
        assert_eq!(o.compression, Compression::Zstd);
        assert_eq!(read_all(o), text);

        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(&text).unwrap();
        let xz = xz.finish().unwrap();
        let o = wrap("c".into(), Box::new(std::io::Cursor::new(xz))).unwrap();
        assert_eq!(o.compression, Compression::Xz);
        assert_eq!(read_all(o), text);
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let text = b"[ 1.000000] hello world, this is a line\n".repeat(1000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let mut gz = gz.finish().unwrap();
        gz.truncate(gz.len() / 2);
        let o = wrap("t.gz".into(), Box::new(std::io::Cursor::new(gz))).unwrap();
        let mut r = o.reader;
        let mut v = Vec::new();
        assert!(r.read_to_end(&mut v).is_err());
    }

    #[test]
    fn directory_is_reported() {
        let d = std::env::temp_dir();
        let e = open(&InputSpec::Path(d)).unwrap_err();
        assert!(matches!(e.kind, InputErrorKind::IsDirectory), "{e}");
        let e = open(&InputSpec::Path("/nonexistent/tracesift".into())).unwrap_err();
        assert!(matches!(e.kind, InputErrorKind::NotFound), "{e}");
    }
}
