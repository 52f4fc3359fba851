//! Reading ahead on a thread of its own: the `read` system calls, and
//! decompression for a compressed input, overlap with the parsing.
//!
//! [`ReadAhead`] moves the reader to a thread that fills chunks of
//! [`CHUNK`] bytes and sends them over a channel of at most [`AHEAD`]
//! chunks, so memory stays bounded; chunks are sent back for reuse. The
//! bytes, and an error after them, arrive exactly as the reader produced
//! them.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

/// Bytes per chunk.
pub const CHUNK: usize = 1 << 20;
/// Chunks read ahead at most.
pub const AHEAD: usize = 4;

/// What the reading thread sends.
enum Msg {
    Data(Vec<u8>),
    Err(io::Error),
}

/// A [`Read`] whose underlying reader runs on another thread.
pub struct ReadAhead {
    rx: Receiver<Msg>,
    back: Sender<Vec<u8>>,
    cur: Vec<u8>,
    at: usize,
    done: bool,
    _handle: JoinHandle<()>,
}

impl ReadAhead {
    /// Start reading `inner` on a new thread; gives `inner` back if no
    /// thread can be started (the caller then reads directly).
    pub fn start(inner: Box<dyn Read + Send>) -> Result<ReadAhead, Box<dyn Read + Send>> {
        let (tx, rx): (SyncSender<Msg>, Receiver<Msg>) = mpsc::sync_channel(AHEAD);
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
                    buf.resize(CHUNK, 0);
                    let mut filled = 0;
                    let mut err = None;
                    // Fill the chunk (a pipe gives little at a time).
                    while filled < CHUNK {
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
                        if filled > 0 && filled < CHUNK && err.is_none() && is_slow(filled) {
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
            match self.rx.recv() {
                Ok(Msg::Data(chunk)) => {
                    let old = std::mem::replace(&mut self.cur, chunk);
                    let _ = self.back.send(old);
                    self.at = 0;
                }
                Ok(Msg::Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
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
