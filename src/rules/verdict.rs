//! The confidence logic every rule family shares: whether events that
//! would change a verdict could hide in what the capture lost (lost-event
//! ranges, the time before a CPU's window, other inputs), whether a read is
//! near the start of the trace, and where a report lies relative to one
//! allocation.

use crate::correlate::evidence::Evidence;
use crate::correlate::Analysis;
use crate::grammar::TraceTs;

pub(super) fn ts_raw(e: &Evidence) -> Option<u64> {
    e.trace_ts.map(TraceTs::raw)
}

/// A trace-time difference for messages: `206 us`, or ticks for counter clocks.
pub(super) fn delta(a: &Evidence, b: &Evidence) -> Option<String> {
    match (a.trace_ts, b.trace_ts) {
        (Some(TraceTs::Counter(x)), Some(TraceTs::Counter(y))) => {
            Some(format!("{} ticks", y.abs_diff(x)))
        }
        (Some(x), Some(y)) if a.boot == b.boot => {
            let (x, y) = (x.ns()?, y.ns()?);
            Some(format!("{} us", y.abs_diff(x) / 1000))
        }
        _ => None,
    }
}

pub(super) fn cpu_list(ev: &[Evidence]) -> String {
    ev.iter()
        .map(|e| {
            e.cpu
                .map_or_else(|| format!("line {}", e.pos.line), |c| format!("CPU {c}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether events that would change the verdict could hide between `a` and
/// `b` (both of one boot: the trace clock restarts with every boot).
pub(super) fn could_hide(an: &Analysis, a: Option<&Evidence>, b: &Evidence) -> bool {
    match a {
        Some(a) if a.boot != b.boot => true,
        Some(a) => an.coverage.could_hide(b.boot, ts_raw(a), ts_raw(b)),
        None => an.coverage.could_hide(b.boot, None, ts_raw(b)),
    }
}

/// Where a corruption report lies relative to one allocation of its eb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Placement {
    /// Its trace time falls between the allocation's alloc and its end.
    Inside,
    /// Its trace time falls before the alloc or after the end: another allocation.
    Outside,
    /// It has no trace time on the allocation's clock (a printk message),
    /// so it cannot be placed.
    Unknown,
}

/// Place `report` in the allocation of boot `boot` that starts at `alloc`
/// and ends at `ended` (either may be unseen), by trace time: a report of
/// another boot is about another buffer.
pub(super) fn place(
    report: &Evidence,
    boot: u32,
    alloc: Option<&Evidence>,
    ended: Option<&Evidence>,
) -> Placement {
    if report.boot != boot {
        return Placement::Outside;
    }
    let Some(ts) = report.trace_ts else {
        return Placement::Unknown;
    };
    let comparable = |e: &Evidence| {
        e.boot == report.boot
            && e.trace_ts
                .is_some_and(|t| std::mem::discriminant(&t) == std::mem::discriminant(&ts))
    };
    let mut bounded = false;
    if let Some(a) = alloc.filter(|a| comparable(a)) {
        bounded = true;
        if a.trace_ts.is_some_and(|t| ts.raw() < t.raw()) {
            return Placement::Outside;
        }
    }
    if let Some(end) = ended.filter(|e| comparable(e)) {
        bounded = true;
        if end.trace_ts.is_some_and(|t| ts.raw() > t.raw()) {
            return Placement::Outside;
        }
    }
    if bounded {
        Placement::Inside
    } else {
        Placement::Unknown
    }
}

/// History before the trace started is unknown: a read within this much of
/// the earliest trace time may have its alloc before tracing began.
pub(super) const TRACE_START_SLACK_NS: u64 = 1_000_000_000;

pub(super) fn near_trace_start(an: &Analysis, read: &Evidence) -> bool {
    let Some(ts) = read.trace_ts else { return true };
    let Some(start) = an.coverage.trace_start(read.boot) else {
        return true;
    };
    match ts {
        TraceTs::Counter(_) => ts.raw() == start,
        _ => ts.raw().saturating_sub(start) < TRACE_START_SLACK_NS,
    }
}
