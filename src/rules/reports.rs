//! Rules about btrfs corruption reports (tree-checker, read/write
//! validation, the debug patch's `Validation failed`) and transaction
//! aborts.

use super::finding::{Confidence, Finding, RuleId, RuleInfo, Severity, Subject};
use crate::correlate::evidence::Evidence;
use crate::correlate::reports::{
    plausible_owner, plausible_start, ReportKind, Tie, MAX_PLAUSIBLE_START,
};
use crate::correlate::Analysis;

/// `validation-failed`
pub const VALIDATION_FAILED: RuleId = RuleId(&RuleInfo {
    id: "validation-failed",
    severity: Severity::Error,
    meaning: "the debug patch's 'Validation failed, eb=' line, or a read-side validation message (bad tree block start, bad fsid, checksum verify failed, level verify failed, parent transid verify failed, read time tree block corruption detected) for an extent buffer",
    advice: "check the device and the other mirror; if header values are garbage, suspect in-memory damage (see implausible-header-value)",
});

/// `tree-check-failure`
pub const TREE_CHECK_FAILURE: RuleId = RuleId(&RuleInfo {
    id: "tree-check-failure",
    severity: Severity::Error,
    meaning: "a tree-checker message (corrupt leaf/node, corrupted leaf/node ... owner mismatch) tied to an extent buffer by eb= or by a trustworthy block=",
    advice: "if the values are sane, run 'btrfs check --readonly'; if they are garbage, suspect a read race or memory corruption, not the disk",
});

/// `implausible-header-value`
pub const IMPLAUSIBLE_HEADER_VALUE: RuleId = RuleId(&RuleInfo {
    id: "implausible-header-value",
    severity: Severity::Warning,
    meaning: "a tree-checker or validation message whose header-derived number cannot be a real extent buffer start or owner (not sector aligned, far beyond any address): the buffer held garbage, which points at in-memory damage rather than on-disk corruption",
    advice: "do not run repair tools on the strength of this message; look for a racing read (race-signature) or bad RAM",
});

/// `transaction-abort`
pub const TRANSACTION_ABORT: RuleId = RuleId(&RuleInfo {
    id: "transaction-abort",
    severity: Severity::Error,
    meaning: "'BTRFS: Transaction aborted (error N)' or 'BTRFS: error ... in FUNC:LINE: errno=N'",
    advice:
        "the filesystem went read-only; the first abort's errno and function point at the cause",
});

pub(super) fn evaluate(an: &Analysis, out: &mut Vec<Finding>) {
    let max_seen = an.reports.max_start;
    for r in &an.reports.reports {
        let ev = group_evidence(&r.group);
        // Every finding on a report cites the report's lines, as often as it came.
        let found = |rule, conf, eb: Option<u64>, msg: String| {
            Finding::new(rule, conf, eb.map(Subject::Eb), msg, ev.clone()).counted(r.group.count)
        };
        match &r.kind {
            ReportKind::TreeCheck { reason, node, .. } => {
                if let Some((eb, tie)) = r.eb {
                    // A header-derived block= is confirmed when another message prints it from eb->start.
                    let confirmed = tie == Tie::Start
                        || an
                            .reports
                            .for_eb(eb)
                            .any(|o| o.eb.is_some_and(|(_, t)| t == Tie::Start));
                    let conf = if confirmed {
                        Confidence::Certain
                    } else {
                        Confidence::Likely
                    };
                    let what = if *node { "node" } else { "leaf" };
                    let times = times(r.group.count);
                    let msg = format!("tree-checker rejected {what} eb {eb}: {reason}{times}");
                    out.push(found(TREE_CHECK_FAILURE, conf, Some(eb), msg));
                }
            }
            ReportKind::Validation(kind) => {
                if kind.read_side() {
                    if let Some((eb, _)) = r.eb {
                        let times = times(r.group.count);
                        let msg = format!("{} for eb {eb}{times}", kind.label());
                        out.push(found(VALIDATION_FAILED, Confidence::Certain, Some(eb), msg));
                    }
                }
            }
            ReportKind::DebugValidationFailed => {
                if let Some((eb, _)) = r.eb {
                    let msg = format!("eb {eb} failed validation after its read completed");
                    out.push(found(VALIDATION_FAILED, Confidence::Certain, Some(eb), msg));
                }
            }
        }
        // implausible-header-value
        let mut bad: Vec<String> = Vec::new();
        let mut conf = Confidence::Certain;
        let mut check_start = |name: &str, v: u64| {
            if v % 4096 != 0 {
                bad.push(format!("{name}={v} is not sector aligned"));
            } else if v >= MAX_PLAUSIBLE_START {
                bad.push(format!("{name}={v} is beyond any plausible address"));
            } else if max_seen > 0 && v / 64 > max_seen && !plausible_start(v / 64) {
                bad.push(format!("{name}={v} is far beyond any address seen"));
                conf = Confidence::Likely;
            }
        };
        if let Some(b) = r.header_block {
            check_start("block", b);
        }
        if let Some(h) = r.header_have {
            if h != 0 {
                check_start("have", h);
            }
        }
        if let Some(o) = r.header_owner {
            if !plausible_owner(o) {
                bad.push(format!("owner {o} is not a tree id"));
            }
        }
        if !bad.is_empty() {
            let msg = format!(
                "header-derived values cannot be real ({}): the buffer held garbage, pointing at in-memory damage rather than on-disk corruption",
                bad.join("; ")
            );
            out.push(found(
                IMPLAUSIBLE_HEADER_VALUE,
                conf,
                r.eb.map(|e| e.0),
                msg,
            ));
        }
    }
    for a in &an.reports.aborts {
        let name = errno_name(a.errno);
        let name = if name.is_empty() {
            String::new()
        } else {
            format!(" {name}")
        };
        let site = a
            .site
            .as_ref()
            .map(|s| format!(" in {s}"))
            .unwrap_or_default();
        let msg = format!("transaction aborted (error {}{name}){site}", a.errno);
        out.push(
            Finding::new(
                TRANSACTION_ABORT,
                Confidence::Certain,
                None,
                msg,
                group_evidence(&a.group),
            )
            .counted(a.group.count),
        );
    }
}

fn group_evidence(g: &crate::correlate::reports::Group) -> Vec<Evidence> {
    std::iter::once(g.first.clone())
        .chain(g.repeats.iter().cloned())
        .collect()
}

fn errno_name(e: i64) -> &'static str {
    match e {
        -1 => "EPERM",
        -2 => "ENOENT",
        -5 => "EIO",
        -12 => "ENOMEM",
        -17 => "EEXIST",
        -22 => "EINVAL",
        -28 => "ENOSPC",
        -30 => "EROFS",
        -95 => "EOPNOTSUPP",
        -117 => "EUCLEAN",
        -122 => "EDQUOT",
        _ => "",
    }
}

/// ` (N times)` for a message about a record seen `count` times, else nothing.
fn times(count: u64) -> String {
    if count > 1 {
        format!(" ({count} times)")
    } else {
        String::new()
    }
}
