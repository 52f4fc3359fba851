//! `export --format tracefs`: a trace as the tracefs `trace` file shows it
//! (kernel-formats.md A.2, A.5), whatever shape its lines had in the
//! capture.
//!
//! A dump line `[ 2740.240046] iou-wrk--173727   15..... 2649295481us :
//! alloc_extent_buffer: ...` (latency format, behind a console prefix)
//! becomes `         iou-wrk--173727 [015] ..... 2649.295481:
//! alloc_extent_buffer: ...`: the normal context prefix (`"%16s-%-7d "`,
//! `"[%03d] "`, the flag column, `" %5lu.%06lu: "`), which the kernel's own
//! `trace` file, perfetto's systrace importer, trappy and LISA read. A dump's
//! timestamps are µs since the buffer was reset; printed as seconds they
//! keep every digit. A nanosecond timestamp keeps its nine digits, a counter
//! clock its integer (`" %12llu"`). function_graph lines are kept as they
//! were printed, without their console prefix.
//!
//! The header needs the trace's size before its first line
//! (`# entries-in-buffer/entries-written: N/M   #P:C`), so each trace is
//! spooled while it is read: in memory up to [`SPOOL_MEMORY`] bytes, then in
//! an anonymous temporary file (deleted by the system when closed), and
//! written out with its header when it ends. Memory stays bounded whatever
//! the size of a dump, and standard input works like a file.

use std::fs::File;
use std::io::{self, Seek, Write};

use crate::grammar::{BodyKind, TraceFormat, TraceLine, TraceTs};

/// Bytes of one trace kept in memory before it goes to a temporary file.
pub(crate) const SPOOL_MEMORY: usize = 8 << 20;

/// The lines of one trace, waiting for its header.
#[derive(Debug, Default)]
pub(crate) struct Spool {
    mem: Vec<u8>,
    file: Option<File>,
    /// Trace event lines (`entries-in-buffer`).
    pub entries: u64,
    /// Events the lost-events markers of the trace count.
    pub lost: u64,
    /// The highest CPU number seen, plus one.
    pub cpus: u32,
    /// The CPU count a header of the source said (`#P:`).
    pub header_cpus: Option<u32>,
    /// The tracer a header of the source named.
    pub tracer: Option<String>,
    /// A function tracer line was seen.
    pub function: bool,
    /// A function_graph line was seen.
    pub graph: bool,
    /// The last line written was a trace event (continuation lines follow one).
    pub after_event: bool,
}

impl Spool {
    /// Append raw bytes.
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        if let Some(f) = self.file.as_mut() {
            return f.write_all(b);
        }
        self.mem.extend_from_slice(b);
        if self.mem.len() > SPOOL_MEMORY {
            let mut f = tempfile::tempfile()?;
            f.write_all(&self.mem)?;
            self.mem = Vec::new();
            self.file = Some(f);
        }
        Ok(())
    }

    /// A trace event line.
    pub(crate) fn event(&mut self, t: &TraceLine<'_>, msg: &[u8]) -> io::Result<()> {
        let mut line = Vec::with_capacity(msg.len() + 32);
        render(t, msg, &mut line);
        line.push(b'\n');
        self.put(&line)?;
        self.entries += 1;
        if let Some(c) = t.cpu {
            self.cpus = self.cpus.max(c.saturating_add(1));
        }
        match (t.format, t.body.kind) {
            (TraceFormat::FunctionGraph, _) | (_, BodyKind::Graph) => self.graph = true,
            (_, BodyKind::Function { .. }) => self.function = true,
            _ => {}
        }
        self.after_event = true;
        Ok(())
    }

    /// A continuation line of the event before (a multi-line payload).
    pub(crate) fn continuation(&mut self, msg: &[u8]) -> io::Result<()> {
        self.put(msg)?;
        self.put(b"\n")
    }

    /// `CPU:N [LOST M EVENTS]` (or `[LOST EVENTS]` when the count is unknown).
    pub(crate) fn lost(&mut self, cpu: u32, count: Option<u64>) -> io::Result<()> {
        let line = match count {
            Some(n) => format!("CPU:{cpu} [LOST {n} EVENTS]\n"),
            None => format!("CPU:{cpu} [LOST EVENTS]\n"),
        };
        self.put(line.as_bytes())?;
        self.lost = self.lost.saturating_add(count.unwrap_or(0));
        self.cpus = self.cpus.max(cpu.saturating_add(1));
        self.after_event = false;
        Ok(())
    }

    /// `##### CPU N buffer started ####` (A.13).
    pub(crate) fn buffer_started(&mut self, cpu: u32) -> io::Result<()> {
        self.put(format!("##### CPU {cpu} buffer started ####\n").as_bytes())?;
        self.after_event = false;
        Ok(())
    }

    /// The tracer the header names: the source's, else what the lines show.
    fn tracer(&self) -> &str {
        match &self.tracer {
            Some(t) => t,
            None if self.graph => "function_graph",
            None if self.function => "function",
            None => "nop",
        }
    }

    /// Write the header, then the lines, to `out`.
    pub(crate) fn write_to(mut self, out: &mut dyn Write) -> io::Result<()> {
        let cpus = self.cpus.max(self.header_cpus.unwrap_or(0));
        write!(
            out,
            "# tracer: {}\n#\n# entries-in-buffer/entries-written: {}/{}   #P:{}\n#\n",
            self.tracer(),
            self.entries,
            self.entries.saturating_add(self.lost),
            cpus
        )?;
        out.write_all(LEGEND.as_bytes())?;
        match self.file.take() {
            Some(mut f) => {
                f.flush()?;
                f.rewind()?;
                io::copy(&mut f, out)?;
            }
            None => out.write_all(&self.mem)?,
        }
        Ok(())
    }
}

/// The column legend of a `trace` file with `irq-info` on (5.17+, A.5).
const LEGEND: &str = "\
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
";

/// A trace line in the normal format of the `trace` file.
pub(crate) fn render(t: &TraceLine<'_>, msg: &[u8], out: &mut Vec<u8>) {
    let (Some(pid), Some(cpu), TraceFormat::Normal | TraceFormat::Latency) =
        (t.pid, t.cpu, t.format)
    else {
        // function_graph columns and bare bodies stay as printed.
        let keep = match t.format {
            TraceFormat::FunctionGraph => {
                let end = msg
                    .iter()
                    .rposition(|c| !c.is_ascii_whitespace())
                    .map_or(0, |k| k + 1);
                &msg[..end]
            }
            _ => crate::fields::trim(msg),
        };
        out.extend_from_slice(keep);
        return;
    };
    let comm = t.comm;
    // "%16s-%-7d ": the comm right-aligned in 16 columns.
    for _ in comm.len()..16 {
        out.push(b' ');
    }
    out.extend_from_slice(comm);
    let _ = write!(out, "-{pid:<7} ");
    if let Some(tgid) = t.tgid {
        let _ = write!(out, "({tgid:>7}) ");
    }
    let _ = write!(out, "[{cpu:03}] ");
    if let Some(f) = t.flags {
        out.extend_from_slice(f);
    }
    match t.ts {
        Some(TraceTs::Ns(n) | TraceTs::SinceReset(n)) => {
            let (s, frac) = (n / 1_000_000_000, n % 1_000_000_000);
            if frac % 1000 == 0 {
                let _ = write!(out, " {s:>5}.{:06}: ", frac / 1000);
            } else {
                let _ = write!(out, " {s:>5}.{frac:09}: ");
            }
        }
        Some(TraceTs::Counter(c)) => {
            let _ = write!(out, " {c:>12}: ");
        }
        None => out.extend_from_slice(b" "),
    }
    body(t, out);
}

/// The event text after the context prefix: `name: payload`,
/// `func <-parent`, or the text as it was.
fn body(t: &TraceLine<'_>, out: &mut Vec<u8>) {
    let b = &t.body;
    let sym = b.sym_offset.unwrap_or(b"");
    match b.kind {
        BodyKind::Event => {
            out.extend_from_slice(b.name);
            out.extend_from_slice(sym);
            out.push(b':');
            if !b.payload.is_empty() {
                out.push(b' ');
                out.extend_from_slice(b.payload);
            }
        }
        BodyKind::Function { .. } => {
            out.extend_from_slice(b.name);
            out.extend_from_slice(sym);
            if !b.payload.is_empty() {
                out.extend_from_slice(b" <-");
                out.extend_from_slice(b.payload);
            }
        }
        BodyKind::Graph | BodyKind::Other => out.extend_from_slice(b.payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::trace::{latency_line, normal_line};

    fn normal(line: &str) -> String {
        let (_, t) = latency_line(line.as_bytes())
            .or_else(|_| normal_line(line.as_bytes()))
            .expect("a trace line");
        let mut out = Vec::new();
        render(&t, line.as_bytes(), &mut out);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn dump_lines_become_normal_lines() {
        assert_eq!(
            normal("iou-wrk--173727   15..... 2649295481us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384"),
            "        iou-wrk--173727  [015] .....  2649.295481: alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384"
        );
        assert_eq!(
            normal("  <idle>-0         0d.h1.    5us+: hrtimer_expire_entry: hrtimer=0x1"),
            "          <idle>-0       [000] d.h1.     0.000005: hrtimer_expire_entry: hrtimer=0x1"
        );
        // Normal lines keep their shape; nanoseconds keep nine digits.
        assert_eq!(
            normal("  iou-wrk-173727-173730  ( 173727) [015] d..1.  2649.295481123: end_bbio_meta_read+0x1a4/0x2c0 [btrfs]: read done, eb=1"),
            "  iou-wrk-173727-173730  ( 173727) [015] d..1.  2649.295481123: end_bbio_meta_read+0x1a4/0x2c0 [btrfs]: read done, eb=1"
        );
        assert_eq!(
            normal("            bash-1234    [001] .....  4372.123456: btrfs_search_slot <-btrfs_lookup_dir_item"),
            "            bash-1234    [001] .....  4372.123456: btrfs_search_slot <-btrfs_lookup_dir_item"
        );
        assert_eq!(
            normal("            bash-1234    [001]   987654321098: sched_waking: comm=ls pid=7"),
            "            bash-1234    [001]  987654321098: sched_waking: comm=ls pid=7"
        );
    }

    #[test]
    fn header_counts_what_the_spool_holds() {
        let mut s = Spool::default();
        let (_, t) = latency_line(b"kworker/-322      15..... 2649295735us : end_bbio_meta_read: read done, eb=15302115328").unwrap();
        s.lost(3, Some(40)).unwrap();
        s.event(&t, b"").unwrap();
        s.lost(7, None).unwrap();
        let mut out = Vec::new();
        s.write_to(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "# tracer: nop\n#\n# entries-in-buffer/entries-written: 1/41   #P:16\n#\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("CPU:3 [LOST 40 EVENTS]\n        kworker/-322     [015] .....  2649.295735: end_bbio_meta_read: read done, eb=15302115328\nCPU:7 [LOST EVENTS]\n"), "{text}");
    }

    #[test]
    fn a_large_trace_goes_to_a_temporary_file() {
        let mut s = Spool::default();
        let (_, t) = latency_line(b"kworker/-322      15..... 2649295735us : x: y").unwrap();
        let n = SPOOL_MEMORY / 40 + 10;
        for _ in 0..n {
            s.event(&t, b"").unwrap();
        }
        assert!(s.file.is_some());
        let mut out = Vec::new();
        s.write_to(&mut out).unwrap();
        let lines = out
            .split(|&c| c == b'\n')
            .filter(|l| l.ends_with(b"x: y"))
            .count();
        assert_eq!(lines, n);
    }
}
