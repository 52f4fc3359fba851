//! A progress bar on standard error for large inputs, as a
//! [`ReaderHook`]: it counts the raw bytes read from each input (before
//! decompression, so a `.gz` file has a true ETA).
//!
//! * A regular file of at least [`LARGE_INPUT`] bytes gets a bar with bytes,
//!   total, rate and ETA from the start.
//! * Standard input (size unknown) gets bytes and rate, shown only once
//!   [`LARGE_INPUT`] bytes have gone by, so short pipes never flash a bar.
//! * Smaller files get nothing.
//!
//! Whether a bar is wanted at all (standard error and output are terminals,
//! not a JSON or streaming mode, no `--quiet`/`--no-progress`) is decided by
//! [`crate::config`]; this module only draws.

use std::io::{self, Read};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::sanitize;
use crate::reader::driver::ReaderHook;

/// Inputs smaller than this get no bar (64 MiB: about a quarter of a second).
pub(crate) const LARGE_INPUT: u64 = 64 << 20;

/// Draws a bar per large input on standard error.
#[derive(Debug, Clone)]
pub(crate) struct ProgressHook {
    threshold: u64,
    target: fn() -> ProgressDrawTarget,
    /// ASCII only (no braille spinner, `...` for `…`).
    ascii: bool,
}

impl Default for ProgressHook {
    fn default() -> Self {
        ProgressHook {
            threshold: LARGE_INPUT,
            target: ProgressDrawTarget::stderr,
            ascii: false,
        }
    }
}

impl ProgressHook {
    /// A hook that shows bars from `threshold` bytes on, drawing to `target`
    /// (tests use a hidden target).
    #[cfg(test)]
    pub(crate) fn with(threshold: u64, target: fn() -> ProgressDrawTarget) -> ProgressHook {
        ProgressHook {
            threshold,
            target,
            ascii: false,
        }
    }

    /// Draw with ASCII characters only (the terminal or the locale cannot
    /// show others; see [`crate::output::Style::unicode`]).
    pub(crate) fn ascii(self, ascii: bool) -> ProgressHook {
        ProgressHook { ascii, ..self }
    }
}

impl ReaderHook for ProgressHook {
    fn wrap(
        &mut self,
        _index: u32,
        name: &str,
        size: Option<u64>,
        r: Box<dyn Read + Send>,
    ) -> Box<dyn Read + Send> {
        let (bar, show_at) = match size {
            Some(n) if n < self.threshold => return r,
            Some(n) => {
                let style = ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                (
                    ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::hidden())
                        .with_style(style),
                    0,
                )
            }
            None => {
                let mut style =
                    ProgressStyle::with_template("{prefix} {spinner} {bytes} {bytes_per_sec}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner());
                if self.ascii {
                    style = style.tick_chars("|/-\\ ");
                }
                (
                    ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
                        .with_style(style),
                    self.threshold,
                )
            }
        };
        bar.set_prefix(short_name(name, self.ascii));
        Box::new(Counting {
            inner: r,
            bar,
            read: 0,
            show_at,
            shown: false,
            target: self.target,
        })
    }

    /// A file with a bar is read through the counting reader only.
    fn positional(&self, _index: u32, size: Option<u64>) -> bool {
        size.is_some_and(|n| n < self.threshold)
    }
}

/// The input's name as the bar shows it: escaped, at most 32 characters
/// (the end, which names the file, is kept).
fn short_name(name: &str, ascii: bool) -> String {
    let clean = sanitize::for_terminal(name.as_bytes()).into_owned();
    let n = clean.chars().count();
    let more = if ascii { "..." } else { "…" };
    if n <= 32 {
        clean
    } else {
        let tail: String = clean.chars().skip(n + more.chars().count() - 32).collect();
        format!("{more}{tail}")
    }
}

/// A reader that advances a bar by the bytes it passes on.
struct Counting {
    inner: Box<dyn Read + Send>,
    bar: ProgressBar,
    read: u64,
    show_at: u64,
    shown: bool,
    target: fn() -> ProgressDrawTarget,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if !self.shown && self.read >= self.show_at {
            self.shown = true;
            self.bar.set_draw_target((self.target)());
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
        self.bar.inc(n as u64);
        Ok(n)
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_a_bar_is_not_read_at_positions() {
        let hook = ProgressHook::with(100, ProgressDrawTarget::hidden);
        assert!(
            hook.positional(0, Some(99)),
            "no bar: positional reads allowed"
        );
        assert!(!hook.positional(0, Some(100)), "a bar counts every byte");
        assert!(!hook.positional(0, None));
        assert!(crate::reader::driver::NoHook.positional(0, Some(1 << 30)));
    }

    fn read_all(hook: &mut ProgressHook, size: Option<u64>, data: &[u8]) -> Vec<u8> {
        let mut r = hook.wrap(0, "x", size, Box::new(io::Cursor::new(data.to_vec())));
        let mut out = Vec::new();
        // Small reads, like a pipe.
        let mut buf = [0u8; 7];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => panic!("{e}"),
            }
        }
        out
    }

    #[test]
    fn passes_bytes_through_unchanged() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut hook = ProgressHook::with(10, ProgressDrawTarget::hidden);
        assert_eq!(read_all(&mut hook, Some(1000), &data), data);
        assert_eq!(read_all(&mut hook, None, &data), data);
        assert_eq!(read_all(&mut hook, Some(5), &data), data);
    }

    #[test]
    fn long_names_keep_their_end() {
        for ascii in [false, true] {
            let s = short_name(
                "/a/very/long/directory/name/that/goes/on/capture.txt.gz",
                ascii,
            );
            assert!(s.ends_with("capture.txt.gz"));
            assert_eq!(s.chars().count(), 32);
            assert_eq!(s.is_ascii(), ascii);
            assert_eq!(short_name("\x1b[31mred", ascii), "\\x1b[31mred");
        }
    }
}
