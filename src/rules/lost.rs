//! The rule about what the capture lost: lost events per CPU, ring-buffer
//! overruns, dropped printk messages.

use super::finding::{Confidence, Extra, Finding, RuleId, RuleInfo, Severity};
use crate::correlate::Analysis;

/// `lost-events`
pub(crate) const LOST_EVENTS: RuleId = RuleId(&RuleInfo {
    id: "lost-events",
    severity: Severity::Info,
    meaning: "a CPU lost trace events (CPU:N [LOST M EVENTS], an overrun header, dropped printk messages); verdicts that depend on the missing window are marked unverifiable",
    advice: "enlarge buffer_size_kb, trace fewer events, or dump earlier to keep the missing window",
});

/// Lost-event facts of boots whose coverage is no longer kept (the first
/// and the latest 64 boots keep theirs).
pub(super) fn not_kept(an: &Analysis, out: &mut Vec<(RuleId, u64)>) {
    out.push((LOST_EVENTS, an.coverage.not_listed().lost));
}

pub(super) fn evaluate(an: &Analysis, out: &mut Vec<Finding>) {
    for w in an.coverage.cpus() {
        if w.lost_markers == 0 {
            continue;
        }
        let count = if w.lost_unknown && w.lost_events == 0 {
            "an unknown number of".to_string()
        } else if w.lost_unknown {
            format!("at least {}", w.lost_events)
        } else {
            w.lost_events.to_string()
        };
        let since = w
            .first_ts
            .and_then(|t| t.ns())
            .map(|ns| {
                format!(
                    "; its surviving window starts at {}",
                    crate::units::fmt_secs(ns)
                )
            })
            .unwrap_or_default();
        let msg = format!("CPU {} lost {count} trace events{since}", w.cpu);
        let ev = w.lost_evidence.clone().into_iter().collect();
        out.push(
            Finding::new(LOST_EVENTS, Confidence::Certain, None, msg, ev)
                .with(Extra::Lost { cpu: w.cpu })
                .counted(w.lost_markers as u64),
        );
    }
    for (input, h) in an.coverage.headers() {
        if h.overrun() {
            if let Some((b, w)) = h.entries {
                let msg = format!(
                    "the ring buffer overran: {w} entries written, {b} kept (input {input})"
                );
                out.push(Finding::new(
                    LOST_EVENTS,
                    Confidence::Certain,
                    None,
                    msg,
                    h.entries_evidence.clone().into_iter().collect(),
                ));
            }
        }
        if h.printk_dropped > 0 {
            let msg = format!(
                "the console dropped {} printk messages (input {input})",
                h.printk_dropped
            );
            out.push(Finding::new(
                LOST_EVENTS,
                Confidence::Certain,
                None,
                msg,
                h.dropped_evidence.clone().into_iter().collect(),
            ));
        }
    }
}
