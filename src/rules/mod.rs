//! Stage 6: finding rules, with stable ids (spec §5).
//!
//! Rules run once, at the end of the run, over the facts the correlator
//! gathered, so that verdicts needing an event to be *absent* can consult
//! the complete coverage: a read without an alloc is `unverifiable` when a
//! lost-events gap on any CPU could hold the alloc.

use serde::Serialize;

use crate::correlate::ebs::EbFact;
use crate::correlate::evidence::Evidence;
use crate::correlate::reports::{
    plausible_owner, plausible_start, ReportKind, Tie, MAX_PLAUSIBLE_START,
};
use crate::correlate::splat::Splat;
use crate::correlate::Analysis;
use crate::grammar::TraceTs;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something broke.
    Error,
    /// Suspicious; worth a look.
    Warning,
    /// Context, not an anomaly.
    Info,
}

impl Severity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// Whether `self` is at or above `threshold` (error is the highest).
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

/// How sure a verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Every line the verdict needs is in the capture, and no lost range could change it.
    Certain,
    /// Very probably right; some input was ambiguous.
    Likely,
    /// The capture cannot show the absence the verdict needs (lost events, trace start).
    Unverifiable,
}

impl Confidence {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
            Confidence::Unverifiable => "unverifiable",
        }
    }

    /// What it means, for the manual.
    pub fn meaning(self) -> &'static str {
        match self {
            Confidence::Certain => {
                "Every line the verdict needs is in the capture, and no lost range could change it."
            }
            Confidence::Likely => {
                "Very probably right, but some input was ambiguous: a release without its 'called \
                 from' line, a report tied by a header value rather than eb=, a report that cannot \
                 be placed in one allocation."
            }
            Confidence::Unverifiable => {
                "The capture cannot show the absence the verdict needs: the event may lie before \
                 a CPU's window in the ring buffer, in a lost-events range, or in dropped printk \
                 messages."
            }
        }
    }
}

/// The rules. Ids never change; see [`RuleId::id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    /// `duplicate-read-completion`
    DuplicateReadCompletion,
    /// `race-signature`
    RaceSignature,
    /// `read-after-release`
    ReadAfterRelease,
    /// `validation-failed`
    ValidationFailed,
    /// `tree-check-failure`
    TreeCheckFailure,
    /// `implausible-header-value`
    ImplausibleHeaderValue,
    /// `read-without-alloc`
    ReadWithoutAlloc,
    /// `inconsistent-read`
    InconsistentRead,
    /// `kernel-splat`
    KernelSplat,
    /// `transaction-abort`
    TransactionAbort,
    /// `lost-events`
    LostEvents,
}

impl RuleId {
    /// Every rule, in documentation order.
    pub const ALL: [RuleId; 11] = [
        RuleId::DuplicateReadCompletion,
        RuleId::RaceSignature,
        RuleId::ReadAfterRelease,
        RuleId::ValidationFailed,
        RuleId::TreeCheckFailure,
        RuleId::ImplausibleHeaderValue,
        RuleId::ReadWithoutAlloc,
        RuleId::InconsistentRead,
        RuleId::KernelSplat,
        RuleId::TransactionAbort,
        RuleId::LostEvents,
    ];

    /// The stable id used in JSON, `--fail-on` reasoning and the man page.
    pub fn id(self) -> &'static str {
        match self {
            RuleId::DuplicateReadCompletion => "duplicate-read-completion",
            RuleId::RaceSignature => "race-signature",
            RuleId::ReadAfterRelease => "read-after-release",
            RuleId::ValidationFailed => "validation-failed",
            RuleId::TreeCheckFailure => "tree-check-failure",
            RuleId::ImplausibleHeaderValue => "implausible-header-value",
            RuleId::ReadWithoutAlloc => "read-without-alloc",
            RuleId::InconsistentRead => "inconsistent-read",
            RuleId::KernelSplat => "kernel-splat",
            RuleId::TransactionAbort => "transaction-abort",
            RuleId::LostEvents => "lost-events",
        }
    }

    /// The rule's severity.
    pub fn severity(self) -> Severity {
        match self {
            RuleId::ImplausibleHeaderValue
            | RuleId::ReadWithoutAlloc
            | RuleId::InconsistentRead => Severity::Warning,
            RuleId::LostEvents => Severity::Info,
            _ => Severity::Error,
        }
    }

    /// When the rule fires (for `--help` and the man page).
    pub fn meaning(self) -> &'static str {
        match self {
            RuleId::DuplicateReadCompletion => "one allocation lifetime of an extent buffer (from its alloc to its release or next alloc) has two or more metadata read completions ('read done'); also the kernel's own check since 6.10, a 'WARNING: ... at fs/btrfs/extent_io.c:N end_bbio_meta_read' splat",
            RuleId::RaceSignature => "an extent buffer with a duplicate read completion also has a corruption report (tree-checker, read-time validation, 'Validation failed'): the read_extent_buffer_pages() race fixed by ef1e68236b91 (v6.9; affected 6.5 to 6.6.23, 6.7 to 6.7.11, 6.8 to 6.8.2)",
            RuleId::ReadAfterRelease => "a read completion for an extent buffer after its final release, with no new alloc between",
            RuleId::ValidationFailed => "the debug patch's 'Validation failed, eb=' line, or a read-side validation message (bad tree block start, bad fsid, checksum verify failed, level verify failed, parent transid verify failed, read time tree block corruption detected) for an extent buffer",
            RuleId::TreeCheckFailure => "a tree-checker message (corrupt leaf/node, corrupted leaf/node ... owner mismatch) tied to an extent buffer by eb= or by a trustworthy block=",
            RuleId::ImplausibleHeaderValue => "a tree-checker or validation message whose header-derived number cannot be a real extent buffer start or owner (not sector aligned, far beyond any address): the buffer held garbage, which points at in-memory damage rather than on-disk corruption",
            RuleId::ReadWithoutAlloc => "a read completion for an extent buffer with no alloc before it in the trace; unverifiable when the alloc may lie before a CPU's window or in a lost range",
            RuleId::InconsistentRead => "two read completions of one lifetime disagree on the header level or fsid",
            RuleId::KernelSplat => "a WARNING, BUG, Oops, KASAN report, hung task or panic; the finding carries a syzkaller-style title",
            RuleId::TransactionAbort => "'BTRFS: Transaction aborted (error N)' or 'BTRFS: error ... in FUNC:LINE: errno=N'",
            RuleId::LostEvents => "a CPU lost trace events (CPU:N [LOST M EVENTS], an overrun header, dropped printk messages); verdicts that depend on the missing window are marked unverifiable",
        }
    }

    /// What to do about it.
    pub fn advice(self) -> &'static str {
        match self {
            RuleId::DuplicateReadCompletion => "check whether the kernel has ef1e68236b91 (btrfs: fix race in read_extent_buffer_pages()); otherwise look for a second reader that bypassed EXTENT_BUFFER_READING",
            RuleId::RaceSignature => "upgrade to v6.9, 6.8.3, 6.7.12 or 6.6.24 or later, or backport ef1e68236b91; the on-disk data is most likely fine",
            RuleId::ReadAfterRelease => "look for a reference taken without free_extent_buffer() pairing; run with CONFIG_BTRFS_DEBUG leak checks",
            RuleId::ValidationFailed => "check the device and the other mirror; if header values are garbage, suspect in-memory damage (see implausible-header-value)",
            RuleId::TreeCheckFailure => "if the values are sane, run 'btrfs check --readonly'; if they are garbage, suspect a read race or memory corruption, not the disk",
            RuleId::ImplausibleHeaderValue => "do not run repair tools on the strength of this message; look for a racing read (race-signature) or bad RAM",
            RuleId::ReadWithoutAlloc => "usually benign when unverifiable (history lost); if certain, the alloc trace_printk may be missing from the kernel",
            RuleId::InconsistentRead => "the buffer changed between two reads of one allocation: a second read overwrote it (see race-signature)",
            RuleId::KernelSplat => "read the splat's call trace; search the title on lore.kernel.org and syzbot",
            RuleId::TransactionAbort => "the filesystem went read-only; the first abort's errno and function point at the cause",
            RuleId::LostEvents => "enlarge buffer_size_kb, trace fewer events, or dump earlier to keep the missing window",
        }
    }

    /// Parse an id.
    pub fn from_id(s: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.id() == s)
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// The upstream fix named by `race-signature`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Fix {
    /// Full mainline commit.
    pub commit: &'static str,
    /// Its title.
    pub title: &'static str,
    /// First release containing it.
    pub release: &'static str,
    /// Affected kernel ranges.
    pub affected: &'static [&'static str],
    /// CVE id.
    pub cve: &'static str,
}

/// The read_extent_buffer_pages() race fix (kernel-formats.md E.2).
pub const READ_RACE_FIX: Fix = Fix {
    commit: "ef1e68236b9153c27cb7cf29ead0c532870d4215",
    title: "btrfs: fix race in read_extent_buffer_pages()",
    release: "v6.9",
    affected: &[">=6.5 <6.6.24", ">=6.7 <6.7.12", ">=6.8 <6.8.3"],
    cve: "CVE-2024-35798",
};

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// Its severity.
    pub severity: Severity,
    /// How sure.
    pub confidence: Confidence,
    /// The extent buffer, when the finding is about one.
    pub eb: Option<u64>,
    /// One-line message.
    pub message: String,
    /// The lines it rests on.
    pub evidence: Vec<Evidence>,
    /// Occurrences of the message (grouped identical messages).
    pub count: u64,
    /// Splat title (`kernel-splat`).
    pub title: Option<String>,
    /// CPU (`lost-events`).
    pub cpu: Option<u32>,
    /// The fix (`race-signature`).
    pub fix: Option<Fix>,
}

impl Finding {
    fn new(
        rule: RuleId,
        confidence: Confidence,
        eb: Option<u64>,
        message: String,
        evidence: Vec<Evidence>,
    ) -> Finding {
        Finding {
            rule,
            severity: rule.severity(),
            confidence,
            eb,
            message,
            evidence,
            count: 1,
            title: None,
            cpu: None,
            fix: None,
        }
    }

    /// The same finding standing for `count` occurrences.
    fn counted(mut self, count: u64) -> Finding {
        self.count = count;
        self
    }

    /// Sort key: severity, then input, then line.
    fn key(&self) -> (Severity, u32, u64, RuleId, Option<u64>) {
        let pos = self.evidence.first().map(|e| e.pos).unwrap_or_default();
        (self.severity, pos.input, pos.line, self.rule, self.eb)
    }
}

/// Findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Error findings.
    pub error: u64,
    /// Warning findings.
    pub warning: u64,
    /// Info findings.
    pub info: u64,
}

impl Counts {
    /// Count findings.
    pub fn of(findings: &[Finding]) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            match f.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    /// Whether any finding is at or above `threshold`.
    pub fn any_at_least(&self, threshold: Severity) -> bool {
        match threshold {
            Severity::Error => self.error > 0,
            Severity::Warning => self.error + self.warning > 0,
            Severity::Info => self.error + self.warning + self.info > 0,
        }
    }
}

fn ts_raw(e: &Evidence) -> Option<u64> {
    e.trace_ts.map(TraceTs::raw)
}

/// A trace-time difference for messages: `206 us`, or ticks for counter clocks.
fn delta(a: &Evidence, b: &Evidence) -> Option<String> {
    match (a.trace_ts, b.trace_ts) {
        (Some(TraceTs::Counter(x)), Some(TraceTs::Counter(y))) => {
            Some(format!("{} ticks", y.abs_diff(x)))
        }
        (Some(x), Some(y)) if a.pos.input == b.pos.input => {
            let (x, y) = (x.ns()?, y.ns()?);
            Some(format!("{} us", y.abs_diff(x) / 1000))
        }
        _ => None,
    }
}

fn cpu_list(ev: &[Evidence]) -> String {
    ev.iter()
        .map(|e| {
            e.cpu
                .map_or_else(|| format!("line {}", e.pos.line), |c| format!("CPU {c}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether events that would change the verdict could hide between `a` and `b`.
fn could_hide(an: &Analysis, a: Option<&Evidence>, b: &Evidence) -> bool {
    match a {
        Some(a) if a.pos.input != b.pos.input => true,
        Some(a) => an.coverage.could_hide(b.pos.input, ts_raw(a), ts_raw(b)),
        None => an.coverage.could_hide(b.pos.input, None, ts_raw(b)),
    }
}

/// Where a corruption report lies relative to one allocation of its eb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Its trace time falls between the allocation's alloc and its end.
    Inside,
    /// Its trace time falls before the alloc or after the end: another allocation.
    Outside,
    /// It has no trace time on the allocation's clock (a printk message, or
    /// another input), so it cannot be placed.
    Unknown,
}

/// Place `report` in the allocation that starts at `alloc` and ends at
/// `ended` (either may be unseen), by trace time within one input.
fn place(report: &Evidence, alloc: Option<&Evidence>, ended: Option<&Evidence>) -> Placement {
    let Some(ts) = report.trace_ts else {
        return Placement::Unknown;
    };
    let comparable = |e: &Evidence| {
        e.pos.input == report.pos.input
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
const TRACE_START_SLACK_NS: u64 = 1_000_000_000;

fn near_trace_start(an: &Analysis, read: &Evidence) -> bool {
    let Some(ts) = read.trace_ts else { return true };
    let Some(start) = an.coverage.trace_start(read.pos.input) else {
        return true;
    };
    match ts {
        TraceTs::Counter(_) => ts.raw() == start,
        _ => ts.raw().saturating_sub(start) < TRACE_START_SLACK_NS,
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

/// Run every rule over a finished analysis. Findings come back sorted
/// (severity, input, line), so output is deterministic.
pub fn evaluate(an: &mut Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    eb_rules(an, &mut out);
    report_rules(an, &mut out);
    splat_rules(an, &mut out);
    lost_rules(an, &mut out);
    out.sort_by_key(|f| f.key());
    out
}

fn eb_rules(an: &Analysis, out: &mut Vec<Finding>) {
    for fact in &an.ebs.facts {
        match fact {
            EbFact::DuplicateRead {
                eb,
                lifetime: _,
                alloc,
                reads,
                headers,
                read_count,
                implicit,
                ambiguous,
                ended,
            } => {
                let (Some(r1), Some(r2)) = (reads.first(), reads.get(1)) else {
                    continue;
                };
                let hide = could_hide(an, Some(r1), r2);
                let conf = match (implicit, hide || *ambiguous) {
                    (true, true) => Confidence::Unverifiable,
                    (true, false) | (false, true) => Confidence::Likely,
                    (false, false) => Confidence::Certain,
                };
                let apart = delta(r1, reads.last().unwrap_or(r2))
                    .map(|d| format!(", {d} apart"))
                    .unwrap_or_default();
                let subject = if *implicit {
                    format!("of eb {eb} with no alloc in the trace")
                } else {
                    format!("for one allocation of eb {eb}")
                };
                let msg = format!(
                    "{read_count} read completions {subject} ({}{apart})",
                    cpu_list(reads)
                );
                let mut evidence: Vec<Evidence> = alloc.iter().cloned().collect();
                evidence.extend(reads.iter().cloned());
                out.push(
                    Finding::new(
                        RuleId::DuplicateReadCompletion,
                        conf,
                        Some(*eb),
                        msg,
                        evidence.clone(),
                    )
                    .counted(*read_count as u64),
                );
                // inconsistent-read: the reads disagree on the header.
                let level_differs = headers
                    .iter()
                    .filter_map(|h| h.0)
                    .collect::<std::collections::BTreeSet<_>>();
                let fsid_differs = headers
                    .iter()
                    .filter_map(|h| h.1)
                    .collect::<std::collections::BTreeSet<_>>();
                if level_differs.len() > 1 || fsid_differs.len() > 1 {
                    let what = match (level_differs.len() > 1, fsid_differs.len() > 1) {
                        (true, true) => "level and fsid",
                        (true, false) => "level",
                        _ => "fsid",
                    };
                    let levels = level_differs
                        .iter()
                        .map(|l| l.to_string())
                        .collect::<Vec<_>>()
                        .join(" vs ");
                    let msg = format!("read completions of one allocation of eb {eb} disagree on {what} (levels {levels})");
                    out.push(Finding::new(
                        RuleId::InconsistentRead,
                        Confidence::Certain,
                        Some(*eb),
                        msg,
                        reads.clone(),
                    ));
                }
                // race-signature: a duplicate read and a corruption report for the
                // same eb, in the same allocation when trace time can tell.
                let placement =
                    |r: &Evidence| -> Placement { place(r, alloc.as_ref(), ended.as_ref()) };
                let tied: Vec<_> = an
                    .reports
                    .for_eb(*eb)
                    .filter(|r| placement(&r.group.first) != Placement::Outside)
                    .collect();
                if !tied.is_empty() {
                    let best_tie = tied
                        .iter()
                        .filter_map(|r| r.eb.map(|e| e.1))
                        .min()
                        .unwrap_or(Tie::Header);
                    let mut conf = match best_tie {
                        Tie::Start => conf,
                        Tie::Header => conf.max(Confidence::Likely),
                    };
                    // A report with no trace time cannot be placed in an
                    // allocation; if the eb was allocated more than once it
                    // may belong to another one.
                    let placed = tied
                        .iter()
                        .any(|r| placement(&r.group.first) == Placement::Inside);
                    let reused = an.ebs.lifetimes_of(*eb).is_none_or(|n| n > 1);
                    if !placed && reused {
                        conf = conf.max(Confidence::Likely);
                    }
                    let mut ev = evidence;
                    ev.extend(tied.iter().map(|r| r.group.first.clone()));
                    let msg = format!(
                        "eb {eb} was read twice in one allocation and reported corrupt: the read_extent_buffer_pages() race, fixed by ef1e68236b91 (\"{}\", {}); affected kernels: 6.5 to 6.6.23, 6.7 to 6.7.11, 6.8 to 6.8.2",
                        READ_RACE_FIX.title, READ_RACE_FIX.release
                    );
                    let mut f = Finding::new(RuleId::RaceSignature, conf, Some(*eb), msg, ev);
                    f.fix = Some(READ_RACE_FIX);
                    out.push(f);
                }
            }
            EbFact::ReadAfterRelease {
                eb,
                release,
                release_ambiguous,
                read,
            } => {
                let conf = if could_hide(an, Some(release), read) {
                    Confidence::Unverifiable
                } else if *release_ambiguous {
                    Confidence::Likely
                } else {
                    Confidence::Certain
                };
                let msg = format!(
                    "read completion for eb {eb} after its final release (line {}), with no alloc between",
                    release.pos.line
                );
                out.push(Finding::new(
                    RuleId::ReadAfterRelease,
                    conf,
                    Some(*eb),
                    msg,
                    vec![release.clone(), read.clone()],
                ));
            }
            EbFact::ReadWithoutAlloc {
                eb,
                read,
                after_eviction,
            } => {
                let hidden = could_hide(an, None, read);
                let conf = if hidden || *after_eviction || near_trace_start(an, read) {
                    Confidence::Unverifiable
                } else {
                    Confidence::Likely
                };
                let why = if hidden {
                    let cpus: Vec<String> = an
                        .coverage
                        .gap_cpus(read.pos.input, None, ts_raw(read))
                        .take(4)
                        .map(|c| c.to_string())
                        .collect();
                    format!(
                        " (the alloc may be in lost events of CPU {}{})",
                        cpus.join(", "),
                        if cpus.len() == 4 { ", ..." } else { "" }
                    )
                } else if *after_eviction {
                    " (ebs were evicted to bound memory; raise --max-live-ebs)".to_string()
                } else if conf == Confidence::Unverifiable {
                    " (the alloc may precede the start of the trace)".to_string()
                } else {
                    String::new()
                };
                let msg = format!(
                    "read completion for eb {eb} with no alloc before it in the trace{why}"
                );
                out.push(Finding::new(
                    RuleId::ReadWithoutAlloc,
                    conf,
                    Some(*eb),
                    msg,
                    vec![read.clone()],
                ));
            }
        }
    }
}

fn report_rules(an: &Analysis, out: &mut Vec<Finding>) {
    let max_seen = an.reports.max_start;
    for r in &an.reports.reports {
        let ev = group_evidence(&r.group);
        // Every finding on a report cites the report's lines, as often as it came.
        let found = |rule, conf, eb: Option<u64>, msg: String| {
            Finding::new(rule, conf, eb, msg, ev.clone()).counted(r.group.count)
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
                    out.push(found(RuleId::TreeCheckFailure, conf, Some(eb), msg));
                }
            }
            ReportKind::Validation(kind) => {
                if kind.read_side() {
                    if let Some((eb, _)) = r.eb {
                        let times = times(r.group.count);
                        let msg = format!("{} for eb {eb}{times}", kind.label());
                        out.push(found(
                            RuleId::ValidationFailed,
                            Confidence::Certain,
                            Some(eb),
                            msg,
                        ));
                    }
                }
            }
            ReportKind::DebugValidationFailed => {
                if let Some((eb, _)) = r.eb {
                    let msg = format!("eb {eb} failed validation after its read completed");
                    out.push(found(
                        RuleId::ValidationFailed,
                        Confidence::Certain,
                        Some(eb),
                        msg,
                    ));
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
                RuleId::ImplausibleHeaderValue,
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
                RuleId::TransactionAbort,
                Confidence::Certain,
                None,
                msg,
                group_evidence(&a.group),
            )
            .counted(a.group.count),
        );
    }
}

fn splat_rules(an: &mut Analysis, out: &mut Vec<Finding>) {
    let splats: &[Splat] = an.splats.finish();
    for sp in splats {
        if sp.end_bbio_meta_read {
            let msg = format!(
                "the kernel's own duplicate-read check fired ({}): an extent buffer was read again while already up to date",
                sp.title
            );
            out.push(Finding::new(
                RuleId::DuplicateReadCompletion,
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
        let mut f = Finding::new(
            RuleId::KernelSplat,
            Confidence::Certain,
            None,
            msg,
            vec![sp.evidence.clone()],
        );
        f.title = Some(sp.title.to_string());
        out.push(f);
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

fn lost_rules(an: &Analysis, out: &mut Vec<Finding>) {
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
                    crate::report::stats::fmt_secs(ns)
                )
            })
            .unwrap_or_default();
        let msg = format!("CPU {} lost {count} trace events{since}", w.cpu);
        let ev = w.lost_evidence.clone().into_iter().collect();
        let mut f = Finding::new(RuleId::LostEvents, Confidence::Certain, None, msg, ev);
        f.cpu = Some(w.cpu);
        f.count = w.lost_markers as u64;
        out.push(f);
    }
    for (input, h) in an.coverage.headers() {
        if h.overrun() {
            if let Some((b, w)) = h.entries {
                let msg = format!(
                    "the ring buffer overran: {w} entries written, {b} kept (input {input})"
                );
                out.push(Finding::new(
                    RuleId::LostEvents,
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
                RuleId::LostEvents,
                Confidence::Certain,
                None,
                msg,
                h.dropped_evidence.clone().into_iter().collect(),
            ));
        }
    }
}
