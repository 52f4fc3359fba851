//! Rules about kernel splats: each WARNING / BUG / Oops / panic block is a
//! finding with its title, and the kernel's own duplicate-read check (6.10+)
//! is a duplicate read completion.

use super::eb::DUPLICATE_READ_COMPLETION;
use super::finding::{Confidence, Extra, Finding, RuleId, RuleInfo, Severity};
use crate::correlate::Analysis;

/// `kernel-splat`
pub const KERNEL_SPLAT: RuleId = RuleId(&RuleInfo {
    id: "kernel-splat",
    severity: Severity::Error,
    meaning: "a kernel report (WARNING, BUG, Oops, KASAN/KMSAN/KCSAN/KFENCE/UBSAN, lockdep, hung task, RCU stall, lockup, memory leak, panic); the finding carries a syzkaller-style title",
    advice: "read the splat's call trace; search the title on lore.kernel.org and syzbot",
});

pub(super) fn evaluate(an: &Analysis, out: &mut Vec<Finding>) {
    for sp in &an.splats.splats {
        if sp.end_bbio_meta_read {
            let msg = format!(
                "the kernel's own duplicate-read check fired ({}): an extent buffer was read again while already up to date",
                sp.title
            );
            out.push(Finding::new(
                DUPLICATE_READ_COMPLETION,
                Confidence::Certain,
                None,
                msg,
                vec![sp.evidence.clone()],
            ));
        }
        let panicked = if sp.panicked {
            " (the kernel panicked)"
        } else {
            ""
        };
        let msg = format!("{}{panicked}", sp.title);
        out.push(
            Finding::new(
                KERNEL_SPLAT,
                Confidence::Certain,
                None,
                msg,
                vec![sp.evidence.clone()],
            )
            .with(Extra::Splat {
                title: sp.title.to_string(),
            }),
        );
    }
}
