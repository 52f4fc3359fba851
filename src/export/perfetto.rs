//! `export --format perfetto`: one JSON document in the Trace Event Format
//! (the "JSON Object Format" of Chrome's trace viewer, which the Perfetto
//! UI and `chrome://tracing` open), so that lifetimes are seen, not read.
//!
//! * Each trace exported (a dump, a boot, ...) is a process (`pid` 1, 2,
//!   ...), named by a `process_name` metadata event (`ph: "M"`).
//! * Each CPU is a thread of it: `tid` is the CPU number plus one (0 is the
//!   idle task to trace viewers), named `CPU N` by a `thread_name` event and
//!   sorted by a `thread_sort_index` event.
//! * Each allocation lifetime of an extent buffer is a nestable async slice
//!   (`ph: "b"` at its alloc, `ph: "e"` at its final release, or at the end
//!   of the trace when it was not released there), category `eb`, `id` the
//!   eb start in hex (a string: eb starts exceed 2^53), named `eb START`.
//! * Reads, contending allocs, discarded private copies, clones and lost
//!   events are instant events (`ph: "i"`, thread scope `s: "t"`) on their
//!   CPU's track; findings are process-scoped instant events (`s: "p"`) at
//!   the trace time of their evidence, and every finding is also listed in
//!   `otherData.findings` (those whose evidence has no trace time, such as a
//!   splat read only from console messages, only there).
//! * `ts` is in microseconds of the trace clock: µs since the buffer reset
//!   for a dump, the clock's seconds × 10^6 for a `trace` file, the raw
//!   value for a counter clock. Trace and console clocks are never mixed.
//!
//! Events are written as they are read; only the open slices (one per live
//! eb) are remembered until the trace ends. The document:
#![doc = include_str!("../../doc/schema/export-perfetto.md")]

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{json, Value};

use crate::grammar::TraceTs;

/// The trace clock in microseconds (the Trace Event Format's unit).
pub(crate) fn micros(ts: TraceTs) -> f64 {
    match ts {
        TraceTs::Ns(n) | TraceTs::SinceReset(n) => n as f64 / 1000.0,
        TraceTs::Counter(c) => c as f64,
    }
}

/// The `tid` of a CPU's track.
pub(crate) fn tid(cpu: Option<u32>) -> u32 {
    cpu.map_or(0, |c| c.saturating_add(1))
}

/// One event of `traceEvents`.
#[derive(Debug, Serialize)]
pub(crate) struct Ev {
    /// What it is called in the viewer.
    pub name: String,
    /// Category (`eb`, `read`, `lost`, `finding`); absent on metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cat: Option<&'static str>,
    /// Phase: `b`, `e`, `i` or `M`.
    pub ph: &'static str,
    /// Microseconds; absent on metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<f64>,
    /// The trace exported.
    pub pid: u32,
    /// The CPU plus one.
    pub tid: u32,
    /// Async slice id (the eb start in hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Instant event scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s: Option<&'static str>,
    /// Details shown in the viewer.
    pub args: Value,
}

impl Ev {
    /// An instant event on a CPU's track.
    pub(crate) fn instant(
        name: String,
        cat: &'static str,
        ts: f64,
        pid: u32,
        tid: u32,
        args: Value,
    ) -> Ev {
        Ev {
            name,
            cat: Some(cat),
            ph: "i",
            ts: Some(ts),
            pid,
            tid,
            id: None,
            s: Some("t"),
            args,
        }
    }

    /// The begin (`b`) or end (`e`) of an eb lifetime slice.
    pub(crate) fn slice(ph: &'static str, eb: u64, ts: f64, pid: u32, tid: u32, args: Value) -> Ev {
        Ev {
            name: format!("eb {eb}"),
            cat: Some("eb"),
            ph,
            ts: Some(ts),
            pid,
            tid,
            id: Some(format!("{eb:#x}")),
            s: None,
            args,
        }
    }

    /// A metadata event (`process_name`, `thread_name`, `thread_sort_index`).
    pub(crate) fn meta(name: &str, pid: u32, tid: u32, args: Value) -> Ev {
        Ev {
            name: name.to_string(),
            cat: None,
            ph: "M",
            ts: None,
            pid,
            tid,
            id: None,
            s: None,
            args,
        }
    }
}

/// The document being written: `{"traceEvents": [` ... `], ...}`.
#[derive(Debug, Default)]
pub(crate) struct Doc {
    started: bool,
    /// Events written.
    pub events: u64,
}

impl Doc {
    fn start(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.started {
            out.write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[")?;
            self.started = true;
        }
        Ok(())
    }

    /// Write one event.
    pub(crate) fn event(&mut self, out: &mut dyn Write, e: &Ev) -> io::Result<()> {
        self.start(out)?;
        out.write_all(if self.events == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, e)?;
        self.events += 1;
        Ok(())
    }

    /// Close the array and the document, with `otherData`.
    pub(crate) fn finish(&mut self, out: &mut dyn Write, other: Value) -> io::Result<()> {
        self.start(out)?;
        out.write_all(b"\n],\"otherData\":")?;
        serde_json::to_writer(&mut *out, &other)?;
        out.write_all(b"}\n")
    }
}

/// The metadata naming a process (a trace exported).
pub(crate) fn process(pid: u32, name: &str) -> Ev {
    Ev::meta("process_name", pid, 0, json!({ "name": name }))
}

/// The metadata naming and sorting a CPU's track.
pub(crate) fn cpu_track(pid: u32, cpu: Option<u32>) -> [Ev; 2] {
    let t = tid(cpu);
    let name = cpu.map_or_else(|| "no CPU".to_string(), |c| format!("CPU {c}"));
    [
        Ev::meta("thread_name", pid, t, json!({ "name": name })),
        Ev::meta("thread_sort_index", pid, t, json!({ "sort_index": t })),
    ]
}
