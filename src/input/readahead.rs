//! Reading ahead on a thread of its own: the `read` system calls, and
//! decompression for a compressed input, overlap with the parsing.
//!
//! [`ReadAhead`] moves the reader to a thread that fills chunks of
//! [`CHUNK`] bytes and sends them over a channel of at most [`AHEAD`]
//! chunks, so memory stays bounded; chunks are sent back for reuse. The
//! bytes, and an error after them, arrive exactly as the reader produced
//! them.
//!
//! For a live stream ([`ReadAhead::live`]: a pipe, a FIFO, `trace_pipe`)
//! each read is handed over as it returns, and a read that finds nothing
//! ready says so with an [`Idle`] error instead of waiting: the caller can
//! then hand on what it holds (issue #19: `events` on a live stream held its
//! output back). The next read waits for bytes as usual.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes per chunk.
pub(crate) const CHUNK: usize = 1 << 20;
/// Chunks read ahead at most.
pub(crate) const AHEAD: usize = 4;
/// Bytes per chunk of a live stream (a pipe gives at most 64 KiB per read).
const LIVE_CHUNK: usize = 64 * 1024;
/// Chunks of a live stream read ahead at most.
const LIVE_AHEAD: usize = 16;

/// What a live stream's reader says, as the payload of an
/// [`io::ErrorKind::WouldBlock`] error, when it has no bytes ready: the
/// bytes read so far are all there is for now. Nothing is lost: read
/// again to wait for more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idle {
    /// Everything that arrived was read; more may follow at once. Worth
    /// handing on what is complete (parsed records, buffered output).
    CaughtUp,
    /// Nothing arrived for a while ([`LiveTimes::silence`]), or a steady
    /// trickle has gone on for [`LiveTimes::max_hold`] since the last time:
    /// decide about what is held back waiting for more lines (paste repair).
    Silent,
}

impl std::fmt::Display for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Idle::CaughtUp => "no more bytes ready yet",
            Idle::Silent => "the stream is silent",
        })
    }
}

impl std::error::Error for Idle {}

impl Idle {
    /// The [`Idle`] an error carries, if it is one.
    pub(crate) fn of(e: &io::Error) -> Option<Idle> {
        if e.kind() != io::ErrorKind::WouldBlock {
            return None;
        }
        e.get_ref().and_then(|r| r.downcast_ref::<Idle>()).copied()
    }

    fn error(self) -> io::Error {
        io::Error::new(io::ErrorKind::WouldBlock, self)
    }
}

/// When a live stream is called [`Idle::Silent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveTimes {
    /// No byte for this long.
    pub silence: Duration,
    /// Or this long since the stream was last called silent, bytes
    /// trickling in all along.
    pub max_hold: Duration,
}

impl Default for LiveTimes {
    fn default() -> Self {
        LiveTimes {
            silence: Duration::from_millis(200),
            max_hold: Duration::from_millis(500),
        }
    }
}

/// A live stream's idle bookkeeping.
#[derive(Debug)]
struct Live {
    times: LiveTimes,
    /// [`Idle::CaughtUp`] was said since the last bytes.
    caught_up: bool,
    /// [`Idle::Silent`] was said since the last bytes.
    silent: bool,
    /// When it was last said.
    since: Instant,
}

/// What the reading thread sends.
enum Msg {
    Data(Vec<u8>),
    Err(io::Error),
}

/// A [`Read`] whose underlying reader runs on another thread.
pub(crate) struct ReadAhead {
    rx: Receiver<Msg>,
    back: Sender<Vec<u8>>,
    cur: Vec<u8>,
    at: usize,
    done: bool,
    live: Option<Live>,
    _handle: JoinHandle<()>,
}

impl ReadAhead {
    /// Start reading `inner` on a new thread; gives `inner` back if no
    /// thread can be started (the caller then reads directly).
    pub(crate) fn start(inner: Box<dyn Read + Send>) -> Result<ReadAhead, Box<dyn Read + Send>> {
        ReadAhead::spawn(inner, None)
    }

    /// Start reading a live stream `inner` on a new thread: each read is
    /// handed over as it returns, and [`Read::read`] answers with an
    /// [`Idle`] error when nothing is ready (see the module docs). Gives
    /// `inner` back if no thread can be started.
    pub(crate) fn live(
        inner: Box<dyn Read + Send>,
        times: LiveTimes,
    ) -> Result<ReadAhead, Box<dyn Read + Send>> {
        ReadAhead::spawn(inner, Some(times))
    }

    fn spawn(
        inner: Box<dyn Read + Send>,
        live: Option<LiveTimes>,
    ) -> Result<ReadAhead, Box<dyn Read + Send>> {
        let (chunk, ahead) = match live {
            Some(_) => (LIVE_CHUNK, LIVE_AHEAD),
            None => (CHUNK, AHEAD),
        };
        let (tx, rx): (SyncSender<Msg>, Receiver<Msg>) = mpsc::sync_channel(ahead);
        let (back, spare): (Sender<Vec<u8>>, Receiver<Vec<u8>>) = mpsc::channel();
        // The reader moves into the thread only once it has started.
        let (hand_tx, hand_rx) = mpsc::channel::<Box<dyn Read + Send>>();
        let spawned = std::thread::Builder::new()
            .name("tracesift-read".into())
            .spawn(move || {
                let Ok(mut r) = hand_rx.recv() else {
                    return;
                };
                loop {
                    let mut buf = spare.try_recv().unwrap_or_default();
                    buf.resize(chunk, 0);
                    let mut filled = 0;
                    let mut err = None;
                    // Fill the chunk (a pipe gives little at a time).
                    while filled < chunk {
                        match r.read(&mut buf[filled..]) {
                            Ok(0) => break,
                            Ok(n) => filled += n,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => {
                                err = Some(e);
                                break;
                            }
                        }
                        // Hand over what a slow stream gave so far.
                        let slow = live.is_some() || is_slow(filled);
                        if filled > 0 && filled < chunk && err.is_none() && slow {
                            break;
                        }
                    }
                    buf.truncate(filled);
                    let end = filled == 0 && err.is_none();
                    if filled > 0 && tx.send(Msg::Data(buf)).is_err() {
                        return;
                    }
                    if let Some(e) = err {
                        let _ = tx.send(Msg::Err(e));
                        return;
                    }
                    if end {
                        return;
                    }
                }
            });
        match spawned {
            Ok(handle) => {
                if let Err(mpsc::SendError(r)) = hand_tx.send(inner) {
                    return Err(r);
                }
                Ok(ReadAhead {
                    rx,
                    back,
                    cur: Vec::new(),
                    at: 0,
                    done: false,
                    live: live.map(|times| Live {
                        times,
                        caught_up: false,
                        silent: false,
                        since: Instant::now(),
                    }),
                    _handle: handle,
                })
            }
            // The reader stays with the caller when no thread could be started.
            Err(_) => Err(inner),
        }
    }
}

/// A stream that gave less than a chunk in one read is handed over at once
/// when it is small: `tail -f | tracesift events` must not wait for a MiB.
fn is_slow(filled: usize) -> bool {
    filled < 64 * 1024
}

impl ReadAhead {
    /// The next message, or, for a live stream with nothing ready, what
    /// to say instead of waiting.
    fn next_msg(&mut self) -> Result<Option<Msg>, Idle> {
        let Some(live) = self.live.as_mut() else {
            return Ok(self.rx.recv().ok());
        };
        match self.rx.try_recv() {
            Ok(m) => return Ok(Some(m)),
            Err(TryRecvError::Disconnected) => return Ok(None),
            Err(TryRecvError::Empty) => {}
        }
        if !live.caught_up {
            live.caught_up = true;
            return Err(Idle::CaughtUp);
        }
        if live.silent {
            return Ok(self.rx.recv().ok());
        }
        let held = live.since.elapsed();
        let wait = live
            .times
            .silence
            .min(live.times.max_hold.saturating_sub(held));
        match self.rx.recv_timeout(wait) {
            Ok(m) => Ok(Some(m)),
            Err(RecvTimeoutError::Disconnected) => Ok(None),
            Err(RecvTimeoutError::Timeout) => {
                live.silent = true;
                live.since = Instant::now();
                Err(Idle::Silent)
            }
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.at < self.cur.len() {
                let n = out.len().min(self.cur.len() - self.at);
                out[..n].copy_from_slice(&self.cur[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            match self.next_msg().map_err(Idle::error)? {
                Some(Msg::Data(chunk)) => {
                    let old = std::mem::replace(&mut self.cur, chunk);
                    let _ = self.back.send(old);
                    self.at = 0;
                    if let Some(live) = self.live.as_mut() {
                        live.caught_up = false;
                        live.silent = false;
                    }
                }
                Some(Msg::Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                None => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
    }
}

// Dropping a `ReadAhead` drops the receiving end: the thread's next send
// fails and it ends. It is not joined: it may be waiting for a slow stream
// (`tail -f`) that has nothing more to say.

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns a few bytes per call, then an error.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
        fail: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                return if self.fail {
                    Err(io::Error::new(io::ErrorKind::UnexpectedEof, "cut"))
                } else {
                    Ok(0)
                };
            }
            let n = out.len().min(self.step).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn read_all(r: &mut dyn Read) -> (Vec<u8>, Option<io::ErrorKind>) {
        let mut v = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (v, None),
                Ok(n) => v.extend_from_slice(&buf[..n]),
                Err(e) => return (v, Some(e.kind())),
            }
        }
    }

    #[test]
    fn same_bytes_then_the_error() {
        let data: Vec<u8> = (0..3 * CHUNK as u32 + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        for fail in [false, true] {
            let t = Trickle {
                data: data.clone(),
                at: 0,
                step: 70_000,
                fail,
            };
            let Ok(mut ra) = ReadAhead::start(Box::new(t)) else {
                panic!("thread");
            };
            let (got, err) = read_all(&mut ra);
            assert!(got == data);
            assert_eq!(err, fail.then_some(io::ErrorKind::UnexpectedEof));
        }
    }

    #[test]
    fn dropping_early_does_not_wait_for_the_reader() {
        let data = vec![b'x'; 20 * CHUNK];
        let t = Trickle {
            data,
            at: 0,
            step: 7,
            fail: false,
        };
        let Ok(mut ra) = ReadAhead::start(Box::new(t)) else {
            panic!("thread");
        };
        // A slow stream's first bytes come through at once.
        let mut buf = [0u8; 10];
        assert_eq!(ra.read(&mut buf).ok(), Some(7));
        drop(ra); // must not hang
    }
}
