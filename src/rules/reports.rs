//! Rules about btrfs corruption reports (tree-checker, read/write
//! validation, the debug patch's `Validation failed`) and transaction
//! aborts. One finding per grouped report (one corruption: device, block,
//! reason; see [`crate::correlate::reports`]), with how often, on which
//! mirrors, in which boots, and when (read or write time) the kernel
//! caught it.

use super::finding::{
    Candidate, Confidence, Extra, Finding, Occurrences, RuleId, RuleInfo, Severity, Subject,
};
use crate::correlate::evidence::Evidence;
use crate::correlate::reports::{
    plausible_owner, plausible_start, AbortReport, Field, Group, NotKept, Occurrence, Report,
    ReportKind, Tie, EVIDENCE_BUDGET, MAX_GROUPS, MAX_PLAUSIBLE_START,
};
use crate::correlate::Analysis;
use crate::event::ValidationKind;
use crate::grammar::btrfs::Phase;

/// `validation-failed`
pub(crate) const VALIDATION_FAILED: RuleId = RuleId(&RuleInfo {
    id: "validation-failed",
    severity: Severity::Error,
    meaning: "the debug patch's 'Validation failed, eb=' line, or a validation message for an extent buffer: read side (bad tree block start, bad fsid, checksum verify failed, level verify failed, parent transid verify failed, and 'read time tree block corruption detected' without its tree-checker line) or write side ('bad generation', and 'write time tree block corruption detected' without its tree-checker line); repeats of one (device, block, kind) are one finding, with the mirrors, boots and first and last time",
    advice: "a read-time failure on one mirror that the kernel then corrected is repaired; on every mirror, restore from backup; a write-time failure means the block was damaged in memory (test RAM); if header values are garbage, see implausible-header-value",
});

/// `tree-check-failure`
pub(crate) const TREE_CHECK_FAILURE: RuleId = RuleId(&RuleInfo {
    id: "tree-check-failure",
    severity: Severity::Error,
    meaning: "a tree-checker message (corrupt leaf/node, corrupted leaf/node ... owner mismatch), with its companion line ('read time tree block corruption detected on logical N mirror M', 'block=N write time tree block corruption detected') as one finding; tied to an extent buffer by eb=, a trustworthy block=, or the companion's logical, and still an error without one when block= is header garbage (then the eb that the task of the splat right after it, within 5 s in its boot, last touched in the trace is named as a likely candidate); the phase says what it implies: at read time the block read from disk is bad, at write time the tree checker caught a corruption in memory before it reached disk; repeats of one (device, block, reason) are one finding, with the mirrors, boots and first and last time",
    advice: "read time: run 'btrfs check --readonly' and 'btrfs scrub'; if every mirror is bad, restore the tree from backup; write time: nothing bad reached the disk, test RAM (memtest86+) and report the kernel version; if values are garbage, suspect a read race or memory corruption, not the disk",
});

/// `implausible-header-value`
pub(crate) const IMPLAUSIBLE_HEADER_VALUE: RuleId = RuleId(&RuleInfo {
    id: "implausible-header-value",
    severity: Severity::Warning,
    meaning: "a tree-checker or validation message whose header-derived number cannot be a real extent buffer start or owner (not sector aligned, far beyond any address): the buffer held garbage; what that points at depends on the message: 'bad tree block start ... have <garbage>' means the block on disk is not that tree block (a lost or misdirected write), a write-time report means damage in memory, and a read-time tree-checker report either",
    advice: "for bad tree block start, the data on disk is wrong: restore from another copy or backup; otherwise do not run repair tools on the strength of this message: look for a racing read (race-signature) or bad RAM",
});

/// `transaction-abort`
pub(crate) const TRANSACTION_ABORT: RuleId = RuleId(&RuleInfo {
    id: "transaction-abort",
    severity: Severity::Error,
    meaning: "'BTRFS: Transaction aborted (error N)' or 'BTRFS: error ... in FUNC:LINE: errno=N'; the two lines of one abort are one finding, and repeats of one (device, errno, function) are one finding with a count",
    advice:
        "the filesystem went read-only; the first abort's errno and function point at the cause",
});

pub(super) fn evaluate(an: &Analysis, out: &mut Vec<Finding>) {
    let max_seen = an.reports.max_start;
    for r in &an.reports.reports {
        let ev: Vec<Evidence> = r.group.evidence().cloned().collect();
        let seen = occurrences(r);
        // Every finding on a report cites the report's lines, as often as it came.
        let found = |rule, conf, eb: Option<u64>, msg: String| {
            Finding::new(rule, conf, eb.map(Subject::Eb), msg, ev.clone())
                .counted(r.group.count)
                .seen(seen.clone())
        };
        let times = times(r);
        match &r.kind {
            ReportKind::TreeCheck { reason, node, .. } => {
                let what = if *node { "node" } else { "leaf" };
                let at = phase_at(r.phase);
                let means = tree_check_means(r);
                match r.eb {
                    Some((eb, tie)) => {
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
                        let msg = format!(
                            "tree-checker rejected {what} eb {eb}{at}{times}: {reason}{means}"
                        );
                        out.push(found(TREE_CHECK_FAILURE, conf, Some(eb), msg));
                    }
                    None => {
                        // The kernel rejected a block; which one, the header cannot say.
                        let which = r
                            .header_block
                            .map(|b| format!(" whose header block={b} is not a real address"))
                            .unwrap_or_default();
                        let msg = format!(
                            "tree-checker rejected a {what}{which}{at}{times}: {reason}{means}"
                        );
                        let f = found(TREE_CHECK_FAILURE, Confidence::Certain, None, msg);
                        out.push(match candidate(an, r) {
                            Some(c) => c.name(f),
                            None => f,
                        });
                    }
                }
            }
            ReportKind::Validation(kind) => {
                if let Some((eb, _)) = r.eb {
                    let msg = format!(
                        "{} for eb {eb}{times}{}",
                        kind.label(),
                        validation_means(r, *kind)
                    );
                    out.push(found(VALIDATION_FAILED, Confidence::Certain, Some(eb), msg));
                }
            }
            ReportKind::DebugValidationFailed => {
                if let Some((eb, _)) = r.eb {
                    let msg = format!("eb {eb} failed validation after its read completed{times}");
                    out.push(found(VALIDATION_FAILED, Confidence::Certain, Some(eb), msg));
                }
            }
        }
        if let Some((msg, conf)) = implausible(r, max_seen) {
            out.push(found(
                IMPLAUSIBLE_HEADER_VALUE,
                conf,
                r.eb.map(|e| e.0),
                msg,
            ));
        }
    }
    for a in &an.reports.aborts {
        out.push(abort_finding(a));
    }
    for (rule, n, what) in [
        (
            TREE_CHECK_FAILURE,
            &an.reports.tree_checks_not_kept,
            "tree-checker reports",
        ),
        (
            VALIDATION_FAILED,
            &an.reports.validations_not_kept,
            "validation messages",
        ),
        (TRANSACTION_ABORT, &an.reports.aborts_not_kept, "aborts"),
    ] {
        if let Some(f) = not_kept_finding(rule, n, what) {
            out.push(f);
        }
    }
}

/// Reports counted but not grouped past [`MAX_GROUPS`] distinct ones (or
/// the evidence budget), per rule; each rule's finding for them says so too.
pub(super) fn not_kept(an: &Analysis, out: &mut Vec<(RuleId, u64)>) {
    let r = &an.reports;
    out.push((TREE_CHECK_FAILURE, r.tree_checks_not_kept.count));
    out.push((VALIDATION_FAILED, r.validations_not_kept.count));
    out.push((TRANSACTION_ABORT, r.aborts_not_kept.count));
}

/// How often and where a grouped report was printed.
pub(super) fn occurrences(r: &Report) -> Occurrences {
    let mut o = group_occurrences(&r.group, r.device.clone());
    o.phase = r.phase;
    o.mirrors = r.mirrors.list();
    o.every_mirror = r.mirrors.every().is_some();
    o
}

fn group_occurrences(g: &Group, device: Option<String>) -> Occurrences {
    Occurrences {
        device,
        phase: None,
        mirrors: Vec::new(),
        every_mirror: false,
        boots: g.boots.clone(),
        first: g.first_at,
        last: g.last_at,
        evidence_omitted: g.omitted,
        not_kept: 0,
    }
}

/// ` at read time`, ` at write time`, or nothing.
fn phase_at(p: Option<Phase>) -> &'static str {
    match p {
        Some(Phase::Read) => " at read time",
        Some(Phase::Write) => " at write time",
        None => "",
    }
}

/// What a tree-checker rejection implies, by its phase.
fn tree_check_means(r: &Report) -> String {
    match r.phase {
        Some(Phase::Read) if r.mirrors.every().is_some() => {
            ": the block read from disk is bad in every copy".to_string()
        }
        Some(Phase::Read) => ": the block read from disk is bad".to_string(),
        Some(Phase::Write) => ": the tree checker caught a corruption of the block in memory before it reached disk; suspect RAM or a kernel bug".to_string(),
        None => String::new(),
    }
}

/// What a validation message implies.
fn validation_means(r: &Report, kind: ValidationKind) -> &'static str {
    let every = r.mirrors.every().is_some();
    match kind {
        ValidationKind::BadTreeBlockStart => {
            ": the block on disk at that address is not that tree block (a lost or misdirected write, or the device returned other data)"
        }
        ValidationKind::ReadTimeCorruption => {
            if every {
                ": the tree checker rejected the block read from disk in every copy (its own report line is not in the capture)"
            } else {
                ": the tree checker rejected the block read from disk (its own report line is not in the capture)"
            }
        }
        ValidationKind::WriteTimeCorruption => {
            ": a check of the block in memory before writing it failed (its report line is not in the capture); suspect RAM or a kernel bug"
        }
        ValidationKind::WriteBadGeneration => {
            ": the block about to be written is not newer than the last committed transaction; it was damaged in memory or the kernel has a bug"
        }
        _ if every => ": the block read from disk is bad in every copy",
        _ => "",
    }
}

/// The mirrors a report was read from, for its message: ` on mirror 2`,
/// How long after a report whose header names no block the splat of the
/// task that read it may come: the tree checker's BUG and the abort's
/// WARNING follow within milliseconds.
const CANDIDATE_WINDOW_NS: u64 = 5_000_000_000;

/// The splat that followed a report, the eb its task last touched, and
/// the two lines that show it.
struct Followed<'a> {
    candidate: Candidate,
    splat_line: &'a Evidence,
    eb_line: &'a Evidence,
}

impl Followed<'_> {
    /// `f` naming the candidate: in its message, its evidence and its
    /// `candidate`. The finding stays certain (the kernel did reject a
    /// block); the candidate is only likely.
    fn name(self, mut f: Finding) -> Finding {
        let c = &self.candidate;
        f.message.push_str(&format!(
            "; likely eb {}: task {} (pid {}), which hit the {} that followed, last touched it in the trace",
            c.eb, c.comm, c.pid, c.splat
        ));
        f.evidence.push(self.splat_line.clone());
        f.evidence.push(Evidence {
            role: "candidate",
            ..self.eb_line.clone()
        });
        f.with(Extra::Candidate(self.candidate))
    }
}

/// A report whose header names no real block still names its reader: the
/// first splat after it in its boot (the tree checker's `kernel BUG`, or
/// the WARNING of the abort it causes), when it comes within
/// [`CANDIDATE_WINDOW_NS`] and its task's trail is in the trace, gives the
/// eb that task last touched, the likely one it was reading.
fn candidate<'a>(an: &'a Analysis, r: &Report) -> Option<Followed<'a>> {
    let at = &r.group.first_at;
    let (splat, first) = an
        .splats
        .groups()
        .iter()
        .filter(|g| g.boot == at.boot)
        .filter_map(|g| g.evidence.first().map(|e| (g, e)))
        .filter(|(_, e)| e.pos.input == at.pos.input && e.pos.line > at.pos.line)
        .min_by_key(|(_, e)| e.pos.line)?;
    if let (Some(a), Some(b)) = (at.console_ns, first.console_ns) {
        if b.saturating_sub(a) > CANDIDATE_WINDOW_NS {
            return None;
        }
    }
    let task = splat.task?;
    // Even a `before release` names the eb it was on: a task that lost an
    // insert race frees its copy and goes on with the winner's, same start.
    let step = splat.trail.last()?;
    Some(Followed {
        candidate: Candidate {
            eb: step.eb,
            pid: task.pid,
            comm: String::from_utf8_lossy(task.comm.as_bytes()).into_owned(),
            splat: splat.title.to_string(),
        },
        splat_line: first,
        eb_line: &step.line,
    })
}

/// ` on mirrors 1, 2, 3 (every copy)`, or nothing. How often and when are
/// not in the message (they are the finding's `count`, `first`, `last` and
/// `boots`), so that one corruption reads the same however often it came.
fn times(r: &Report) -> String {
    let mirrors = r.mirrors.list();
    let list = mirrors
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match (mirrors.len(), r.mirrors.every()) {
        (0, _) => String::new(),
        (1, _) => format!(" on mirror {list}"),
        (_, Some(_)) => format!(" on mirrors {list} (every copy)"),
        _ => format!(" on mirrors {list}"),
    }
}

/// `implausible-header-value`: the header-derived values that cannot be
/// real, and what that says, by the message and its phase.
fn implausible(r: &Report, max_seen: u64) -> Option<(String, Confidence)> {
    let mut bad: Vec<String> = Vec::new();
    let mut conf = Confidence::Certain;
    let mut repeated = false;
    for v in &r.values {
        let name = match v.field {
            Field::Block => "block",
            Field::Bytenr => "have",
            _ => "",
        };
        let why = match v.field {
            Field::Owner if !plausible_owner(v.value) => {
                Some(format!("owner {} is not a tree id", v.value))
            }
            Field::Block | Field::Bytenr if v.field == Field::Block || v.value != 0 => {
                let x = v.value;
                if x % 4096 != 0 {
                    Some(format!("{name}={x} is not sector aligned"))
                } else if x >= MAX_PLAUSIBLE_START {
                    Some(format!("{name}={x} is beyond any plausible address"))
                } else if max_seen > 0 && x / 64 > max_seen && !plausible_start(x / 64) {
                    conf = Confidence::Likely;
                    Some(format!("{name}={x} is far beyond any address seen"))
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(w) = why {
            repeated |= v.count > 1;
            bad.push(w);
        }
    }
    if bad.is_empty() {
        return None;
    }
    let values = bad.join("; ");
    let msg = match (&r.kind, r.phase) {
        (ReportKind::Validation(ValidationKind::BadTreeBlockStart), _) => {
            let on_disk = if repeated {
                "; the same value came back on more than one read, so it is on disk"
            } else {
                ""
            };
            format!(
                "header-derived values cannot be real ({values}): what was read from disk at that address is not a tree block header{on_disk}: a lost or misdirected write, not damage in memory"
            )
        }
        (_, Some(Phase::Write)) => format!(
            "header-derived values cannot be real ({values}): the buffer held garbage before it was written: damage in memory (bad RAM or a kernel bug)"
        ),
        (_, Some(Phase::Read)) => format!(
            "header-derived values cannot be real ({values}): the buffer held garbage when the tree checker read it: either the block on disk is not a tree block, or it was overwritten in memory during the read (see race-signature)"
        ),
        _ => format!(
            "header-derived values cannot be real ({values}): the buffer held garbage, pointing at in-memory damage rather than on-disk corruption"
        ),
    };
    Some((msg, conf))
}

fn abort_finding(a: &AbortReport) -> Finding {
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
    let g = &a.group;
    let msg = format!("transaction aborted (error {}{name}){site}", a.errno);
    Finding::new(
        TRANSACTION_ABORT,
        Confidence::Certain,
        None,
        msg,
        g.evidence().cloned().collect(),
    )
    .counted(g.count)
    .seen(group_occurrences(g, a.device.clone()))
}

/// The finding that stands for the reports of one rule counted beyond the
/// distinct ones kept.
fn not_kept_finding(rule: RuleId, n: &NotKept, what: &str) -> Option<Finding> {
    let first = n.first.as_ref().filter(|_| n.count > 0)?;
    let at = Occurrence {
        pos: first.pos,
        console_ns: first.console_ns,
        trace_ts: first.trace_ts,
        wall_s: None,
        boot: first.boot,
    };
    let msg = format!(
        "{} more {what} were counted but not grouped: only the first {MAX_GROUPS} distinct ones (and {} MiB of their lines) are kept; the first of the rest is cited",
        n.count,
        EVIDENCE_BUDGET >> 20
    );
    Some(
        Finding::new(rule, Confidence::Certain, None, msg, vec![first.clone()])
            .counted(n.count)
            .seen(Occurrences {
                device: None,
                phase: None,
                mirrors: Vec::new(),
                every_mirror: false,
                boots: vec![first.boot],
                first: at,
                last: at,
                evidence_omitted: 0,
                not_kept: n.count,
            }),
    )
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
