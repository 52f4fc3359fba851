//! Dump framing, lost-event markers and header comments
//! (kernel-formats.md A.1, A.5, A.7, A.13, B.2; `trace-cmd report` preamble).

use crate::fields::{dec_u32, dec_u64, trim};

/// A line that frames trace output rather than being an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing<'a> {
    /// `Dumping ftrace buffer:` or `Dumping ftrace instance NAME buffer:`.
    DumpStart {
        /// The instance name (6.12 `ftrace_dump_one`).
        instance: Option<&'a [u8]>,
    },
    /// The 33-dash rule around a non-empty dump.
    DumpRule,
    /// `   (ftrace buffer empty)`.
    DumpEmpty,
    /// `CPU:N [LOST M EVENTS]` (count known) or `CPU:N [LOST EVENTS]`.
    Lost {
        /// The CPU whose ring buffer overran.
        cpu: u32,
        /// Events lost, when printed.
        count: Option<u64>,
    },
    /// `##### CPU N buffer started ####`: that CPU's history starts here.
    BufferStarted {
        /// The CPU.
        cpu: u32,
    },
    /// trace-cmd `CPU:N [M EVENTS DROPPED]` / `[EVENTS DROPPED]`.
    EventsDropped {
        /// The CPU, when printed.
        cpu: Option<u32>,
        /// The count, when printed.
        count: Option<u64>,
    },
    /// `** N printk messages dropped **` (a console fell behind).
    PrintkDropped {
        /// Records skipped on this console.
        count: u64,
    },
    /// `[LINE TOO BIG]`, `Instance X not found`, `Bad dumping mode, ...`.
    DumpNotice,
    /// A rule of dashes that is not the dump rule (mail separators, graph boxes).
    Separator,
    /// `...`, `.....`, `[...]` or `…` on a line of its own: the person who
    /// pasted the capture left lines out here.
    Elision,
}

/// A header or comment line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header<'a> {
    /// `# tracer: nop`.
    Tracer(&'a [u8]),
    /// `# entries-in-buffer/entries-written: 14068/449250857   #P:16`.
    Entries {
        /// Entries still in the ring buffer.
        in_buffer: u64,
        /// Entries ever written (more means the buffer overran).
        written: u64,
        /// Number of CPUs (`#P:`).
        cpus: Option<u32>,
    },
    /// Any other `#` line (column legends, `# WARNING: FUNCTION TRACING IS CORRUPTED`).
    Comment,
    /// trace-cmd `version = 6`.
    TraceCmdVersion(u32),
    /// trace-cmd `cpus=6`.
    TraceCmdCpus(u32),
    /// trace-cmd `CPU 3 is empty`.
    TraceCmdCpuEmpty(u32),
    /// journalctl `-- Journal begins at ... --`, `-- Boot ... --`, `-- Reboot --`.
    Journal,
}

/// Recognise a framing line (text after prefixes).
///
/// Examples: `Dumping ftrace buffer:`, `---------------------------------`,
/// `   (ftrace buffer empty)`, `CPU:18 [LOST 468484 EVENTS]`,
/// `##### CPU 2 buffer started ####`, `** 12 printk messages dropped **`,
/// `...` (an elision).
pub(crate) fn framing(text: &[u8]) -> Option<Framing<'_>> {
    let t = trim(text);
    match t.first()? {
        b'.' => (t.len() >= 3 && t.iter().all(|&c| c == b'.')).then_some(Framing::Elision),
        0xE2 => elision_marks(t).then_some(Framing::Elision),
        b'D' => {
            if t == b"Dumping ftrace buffer:" {
                return Some(Framing::DumpStart { instance: None });
            }
            let name = t
                .strip_prefix(b"Dumping ftrace instance ")?
                .strip_suffix(b" buffer:")?;
            Some(Framing::DumpStart {
                instance: Some(name),
            })
        }
        b'-' => {
            if !t.iter().all(|&c| c == b'-') || t.len() < 3 {
                return None;
            }
            Some(if t.len() == 33 {
                Framing::DumpRule
            } else {
                Framing::Separator
            })
        }
        b'(' => (t == b"(ftrace buffer empty)").then_some(Framing::DumpEmpty),
        b'C' => cpu_marker(t),
        b'#' => {
            let r = t.strip_prefix(b"##### CPU ")?;
            let (r, cpu) = dec_u32(r).ok()?;
            r.starts_with(b" buffer started")
                .then_some(Framing::BufferStarted { cpu })
        }
        b'*' => {
            let r = t.strip_prefix(b"** ")?;
            let (r, count) = dec_u64(r).ok()?;
            r.starts_with(b" printk messages dropped")
                .then_some(Framing::PrintkDropped { count })
        }
        b'[' => match t {
            b"[LINE TOO BIG]" => Some(Framing::DumpNotice),
            b"[...]" | b"[ ... ]" => Some(Framing::Elision),
            _ if t == "[\u{2026}]".as_bytes() => Some(Framing::Elision),
            b"[EVENTS DROPPED]" => Some(Framing::EventsDropped {
                cpu: None,
                count: None,
            }),
            _ => None,
        },
        b'I' => (t.starts_with(b"Instance ") && t.ends_with(b" not found"))
            .then_some(Framing::DumpNotice),
        b'B' => t
            .starts_with(b"Bad dumping mode")
            .then_some(Framing::DumpNotice),
        _ => None,
    }
}

/// One or more `…` (U+2026, what some mail clients make of `...`).
fn elision_marks(t: &[u8]) -> bool {
    let mark = "\u{2026}".as_bytes();
    !t.is_empty() && t.chunks(mark.len()).all(|c| c == mark)
}

/// `CPU:N [LOST M EVENTS]`, `CPU:N [LOST EVENTS]`, `CPU:N [M EVENTS DROPPED]`.
fn cpu_marker(t: &[u8]) -> Option<Framing<'_>> {
    let r = t.strip_prefix(b"CPU:")?;
    let (r, cpu) = dec_u32(r).ok()?;
    let r = r.strip_prefix(b" [")?;
    if let Some(r) = r.strip_prefix(b"LOST ") {
        if r == b"EVENTS]" {
            return Some(Framing::Lost { cpu, count: None });
        }
        let (r, n) = dec_u64(r).ok()?;
        return (r == b" EVENTS]").then_some(Framing::Lost {
            cpu,
            count: Some(n),
        });
    }
    if r == b"EVENTS DROPPED]" {
        return Some(Framing::EventsDropped {
            cpu: Some(cpu),
            count: None,
        });
    }
    let (r, n) = dec_u64(r).ok()?;
    (r == b" EVENTS DROPPED]").then_some(Framing::EventsDropped {
        cpu: Some(cpu),
        count: Some(n),
    })
}

/// Recognise a header or comment line.
///
/// Examples: `# tracer: nop`, `# entries-in-buffer/entries-written: 11/11   #P:16`,
/// `version = 6`, `cpus=6`, `CPU 3 is empty`,
/// `-- Journal begins at Sat 2020-03-28 20:39:35 GMT, ends at ... --`.
pub(crate) fn header(text: &[u8]) -> Option<Header<'_>> {
    let t = trim(text);
    match t.first()? {
        b'#' => {
            if t.starts_with(b"#PF:") {
                return None;
            }
            let body = trim(&t[1..]);
            if let Some(name) = body.strip_prefix(b"tracer: ") {
                return Some(Header::Tracer(trim(name)));
            }
            if let Some(r) = body.strip_prefix(b"entries-in-buffer/entries-written: ") {
                if let Some(h) = entries(r) {
                    return Some(h);
                }
            }
            Some(Header::Comment)
        }
        b'v' => {
            let r = t.strip_prefix(b"version = ")?;
            let (r, v) = dec_u32(r).ok()?;
            r.is_empty().then_some(Header::TraceCmdVersion(v))
        }
        b'c' => {
            let r = t.strip_prefix(b"cpus=")?;
            let (r, n) = dec_u32(r).ok()?;
            r.is_empty().then_some(Header::TraceCmdCpus(n))
        }
        b'C' => {
            let r = t.strip_prefix(b"CPU ")?;
            let (r, n) = dec_u32(r).ok()?;
            (r == b" is empty").then_some(Header::TraceCmdCpuEmpty(n))
        }
        b'-' => {
            let known: [&[u8]; 5] = [
                b"-- Journal begins",
                b"-- Logs begin",
                b"-- Boot ",
                b"-- Reboot --",
                b"-- No entries --",
            ];
            known
                .iter()
                .any(|k| t.starts_with(k))
                .then_some(Header::Journal)
        }
        _ => None,
    }
}

fn entries(r: &[u8]) -> Option<Header<'_>> {
    let (r, in_buffer) = dec_u64(r).ok()?;
    let r = r.strip_prefix(b"/")?;
    let (r, written) = dec_u64(r).ok()?;
    let cpus = memchr::memmem::find(r, b"#P:")
        .and_then(|p| dec_u32(&r[p + 3..]).ok())
        .map(|x| x.1);
    Some(Header::Entries {
        in_buffer,
        written,
        cpus,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_framing() {
        assert_eq!(
            framing(b"Dumping ftrace buffer:"),
            Some(Framing::DumpStart { instance: None })
        );
        assert_eq!(
            framing(b"Dumping ftrace instance foo buffer:"),
            Some(Framing::DumpStart {
                instance: Some(b"foo")
            })
        );
        assert_eq!(
            framing(b"---------------------------------"),
            Some(Framing::DumpRule)
        );
        assert_eq!(
            framing(b"   (ftrace buffer empty)"),
            Some(Framing::DumpEmpty)
        );
        assert_eq!(
            framing(b"CPU:18 [LOST 468484 EVENTS]"),
            Some(Framing::Lost {
                cpu: 18,
                count: Some(468484)
            })
        );
        assert_eq!(
            framing(b"CPU:3 [LOST EVENTS]"),
            Some(Framing::Lost {
                cpu: 3,
                count: None
            })
        );
        assert_eq!(
            framing(b"##### CPU 2 buffer started ####"),
            Some(Framing::BufferStarted { cpu: 2 })
        );
        assert_eq!(
            framing(b"CPU:1 [42 EVENTS DROPPED]"),
            Some(Framing::EventsDropped {
                cpu: Some(1),
                count: Some(42)
            })
        );
        assert_eq!(
            framing(b"** 12 printk messages dropped **"),
            Some(Framing::PrintkDropped { count: 12 })
        );
        assert_eq!(framing(b"------------[ cut here ]------------"), None);
        assert_eq!(framing(b"---[ end trace 0000000000000000 ]---"), None);
        assert_eq!(
            framing(b" ------------------------------------------"),
            Some(Framing::Separator)
        );
        assert_eq!(framing(b"CPU: 6 PID: 45509 Comm: iou-wrk-45116"), None);
    }

    #[test]
    fn elisions() {
        for s in [
            "...",
            "   .....",
            "[...]",
            "[ ... ]",
            "\u{2026}",
            "\u{2026}\u{2026}",
            "[\u{2026}]",
        ] {
            assert_eq!(framing(s.as_bytes()), Some(Framing::Elision), "{s}");
        }
        for s in ["..", ". . .", "...x", "[..]", "\u{2026}x", "\u{2014}"] {
            assert_eq!(framing(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn headers() {
        assert_eq!(header(b"# tracer: nop"), Some(Header::Tracer(b"nop")));
        assert_eq!(
            header(b"# entries-in-buffer/entries-written: 14068/449250857   #P:16"),
            Some(Header::Entries {
                in_buffer: 14068,
                written: 449250857,
                cpus: Some(16)
            })
        );
        assert_eq!(
            header(b"#              | |         |   |||||     |         |"),
            Some(Header::Comment)
        );
        assert_eq!(header(b"version = 6"), Some(Header::TraceCmdVersion(6)));
        assert_eq!(header(b"cpus=6"), Some(Header::TraceCmdCpus(6)));
        assert_eq!(header(b"CPU 3 is empty"), Some(Header::TraceCmdCpuEmpty(3)));
        assert_eq!(header(b"#PF: supervisor read access in kernel mode"), None);
        assert_eq!(
            header(b"-- Journal begins at Sat 2020-03-28 20:39:35 GMT, ends at Wed 2021-02-17 13:15:01 GMT. --"),
            Some(Header::Journal)
        );
    }
}
