//! Rules about kernel splats: each WARNING / BUG / Oops / panic block is a
//! finding with its title, and the kernel's own duplicate-read check (6.10+)
//! is a duplicate read completion.

use super::eb::DUPLICATE_READ_COMPLETION;
use super::finding::{Confidence, Extra, Finding, RuleId, RuleInfo, Severity};
use crate::correlate::Analysis;

/// `kernel-splat`
pub(crate) const KERNEL_SPLAT: RuleId = RuleId(&RuleInfo {
    id: "kernel-splat",
    severity: Severity::Error,
    meaning: "a kernel report (WARNING, BUG, Oops, KASAN/KMSAN/KCSAN/KFENCE/UBSAN, lockdep, hung task, RCU stall, lockup, memory leak, panic); the finding carries a syzkaller-style title",
    advice: "read the splat's call trace; search the title on lore.kernel.org and syzbot",
});

/// Splats whose title's group was not kept to bound memory.
pub(super) fn not_kept(an: &Analysis, out: &mut Vec<(RuleId, u64)>) {
    out.push((KERNEL_SPLAT, an.splats.not_kept().1));
}

/// One finding per title and boot: a flood of one WARNING is one finding
/// with a count, its first occurrences as evidence.
pub(super) fn evaluate(an: &Analysis, out: &mut Vec<Finding>) {
    for g in an.splats.groups() {
        let times = if g.count > 1 {
            format!(" ({} times)", g.count)
        } else {
            String::new()
        };
        if g.end_bbio_meta_read {
            let msg = format!(
                "the kernel's own duplicate-read check fired ({}){times}: an extent buffer was read again while already up to date",
                g.title
            );
            out.push(
                Finding::new(
                    DUPLICATE_READ_COMPLETION,
                    Confidence::Certain,
                    None,
                    msg,
                    g.evidence.clone(),
                )
                .counted(g.count),
            );
        }
        let panicked = if g.panicked {
            " (the kernel panicked)"
        } else {
            ""
        };
        // What the task that hit it did last, as the trace shows it.
        let task = match (g.task, g.trail.last()) {
            (Some(t), Some(crate::correlate::ebs::Step { eb, .. })) => format!(
                "; task {} (pid {}) last touched eb {eb} in the trace",
                String::from_utf8_lossy(t.comm.as_bytes()),
                t.pid
            ),
            _ => String::new(),
        };
        let msg = format!("{}{times}{panicked}{task}", g.title);
        let mut evidence = g.evidence.clone();
        evidence.extend(g.trail.iter().map(|s| s.line.clone()));
        out.push(
            Finding::new(KERNEL_SPLAT, Confidence::Certain, None, msg, evidence)
                .counted(g.count)
                .with(Extra::Splat {
                    title: g.title.to_string(),
                }),
        );
    }
}
