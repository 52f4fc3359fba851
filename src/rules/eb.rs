//! Rules about extent-buffer lifetimes: the facts the eb tracker found,
//! judged once coverage is complete.

use super::finding::{Confidence, Extra, Finding, RuleId, RuleInfo, Severity, Subject};
use super::release::Standing;
use super::verdict::{could_hide, cpu_list, delta, near_trace_start, place, ts_raw, Placement};
use super::READ_RACE_FIX;
use crate::correlate::ebs::{Again, EbFact};
use crate::correlate::evidence::Evidence;
use crate::correlate::reports::{Report, Tie};
use crate::correlate::Analysis;

/// `duplicate-read-completion`
pub(crate) const DUPLICATE_READ_COMPLETION: RuleId = RuleId(&RuleInfo {
    id: "duplicate-read-completion",
    severity: Severity::Error,
    meaning: "one allocation lifetime of an extent buffer (from its alloc to its release or next alloc) has two or more metadata read completions ('read done'); also the kernel's own check since 6.10, a 'WARNING: ... at fs/btrfs/extent_io.c:N end_bbio_meta_read' splat",
    advice: "check whether the kernel has ef1e68236b91 (btrfs: fix race in read_extent_buffer_pages()); otherwise look for a second reader that bypassed EXTENT_BUFFER_READING",
});

/// `race-signature`
pub(crate) const RACE_SIGNATURE: RuleId = RuleId(&RuleInfo {
    id: "race-signature",
    severity: Severity::Error,
    meaning: "an extent buffer with a duplicate read completion also has a corruption report (tree-checker, read-time validation, 'Validation failed'): the read_extent_buffer_pages() race fixed by ef1e68236b91 (v6.9; affected 6.5 to 6.6.23, 6.7 to 6.7.11, 6.8 to 6.8.2)",
    advice: "upgrade to v6.9, 6.8.3, 6.7.12 or 6.6.24 or later, or backport ef1e68236b91; the on-disk data is most likely fine",
});

/// `read-after-release`
pub(crate) const READ_AFTER_RELEASE: RuleId = RuleId(&RuleInfo {
    id: "read-after-release",
    severity: Severity::Error,
    meaning: "a read completion for an extent buffer after its final release, with no new alloc between",
    advice: "look for a reference taken without free_extent_buffer() pairing; run with CONFIG_BTRFS_DEBUG leak checks",
});

/// `read-without-alloc`
pub(crate) const READ_WITHOUT_ALLOC: RuleId = RuleId(&RuleInfo {
    id: "read-without-alloc",
    severity: Severity::Warning,
    meaning: "a read completion for an extent buffer with no alloc before it in the trace; unverifiable when the alloc may lie before a CPU's window or in a lost range",
    advice: "usually benign when unverifiable (history lost); if certain, the alloc trace_printk may be missing from the kernel",
});

/// `inconsistent-read`
pub(crate) const INCONSISTENT_READ: RuleId = RuleId(&RuleInfo {
    id: "inconsistent-read",
    severity: Severity::Warning,
    meaning: "two read completions of one lifetime disagree on the header level or fsid",
    advice: "the buffer changed between two reads of one allocation: a second read overwrote it (see race-signature)",
});

/// `; the same after 3 more allocations of it` when a fact repeated for its
/// eb in its boot (counted on the fact kept, not kept itself).
fn again_note(again: &Again, what: &str) -> String {
    match again.times {
        0 => String::new(),
        n => format!("; the same in {n} more {what} of it in this boot"),
    }
}

/// What `race-signature` says, given the kernel that printed the capture.
fn race_message(eb: u64, kernel: Option<&(String, Standing)>) -> String {
    let fix = format!(
        "ef1e68236b91 (\"{}\", {})",
        READ_RACE_FIX.title, READ_RACE_FIX.release
    );
    let ranges = "6.5 to 6.6.23, 6.7 to 6.7.11, 6.8 to 6.8.2";
    let seen = format!("eb {eb} was read twice in one allocation and reported corrupt");
    match kernel {
        Some((r, Standing::Fixed)) => format!(
            "{seen}, the signature of the read_extent_buffer_pages() race, but kernel {r} already carries its fix {fix}: this is another bug with the same signature"
        ),
        Some((r, Standing::Predates)) => format!(
            "{seen}, the signature of the read_extent_buffer_pages() race, but kernel {r} predates the change that introduced it (v6.5): this is another bug with the same signature"
        ),
        Some((r, Standing::Affected)) => format!(
            "{seen}: the read_extent_buffer_pages() race, fixed by {fix}; kernel {r} is in the affected range by its version ({ranges}; a distribution kernel may carry a backport)"
        ),
        Some((_, Standing::Unknown)) | None => format!(
            "{seen}: the read_extent_buffer_pages() race, fixed by {fix}; affected kernels: {ranges}"
        ),
    }
}

/// Eb facts not kept past [`crate::correlate::ebs::MAX_FACTS`].
pub(super) fn not_kept(an: &Analysis, out: &mut Vec<(RuleId, u64)>) {
    let n = an.ebs.not_kept();
    out.push((DUPLICATE_READ_COMPLETION, n.duplicate_reads));
    out.push((READ_AFTER_RELEASE, n.reads_after_release));
    out.push((READ_WITHOUT_ALLOC, n.reads_without_alloc));
}

pub(super) fn evaluate(an: &Analysis, out: &mut Vec<Finding>) {
    for fact in &an.ebs.facts {
        match fact {
            EbFact::DuplicateRead {
                eb,
                lifetime: _,
                lifetimes,
                alloc,
                reads,
                headers,
                read_count,
                implicit,
                ambiguous,
                ended,
                again,
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
                    "{read_count} read completions {subject} ({}{apart}){}",
                    cpu_list(reads),
                    again_note(again, "allocations")
                );
                let mut evidence: Vec<Evidence> = alloc.iter().cloned().collect();
                evidence.extend(reads.iter().cloned());
                out.push(
                    Finding::new(
                        DUPLICATE_READ_COMPLETION,
                        conf,
                        Some(Subject::Eb(*eb)),
                        msg,
                        evidence.clone(),
                    )
                    .counted(u64::from(*read_count) + again.reads),
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
                        INCONSISTENT_READ,
                        Confidence::Certain,
                        Some(Subject::Eb(*eb)),
                        msg,
                        reads.clone(),
                    ));
                }
                // race-signature: a duplicate read and a corruption report for the
                // same eb, in the same allocation when trace time can tell.
                let boot = r1.boot;
                // A report placed by its first occurrence in this boot.
                let placement = |r: &Report| -> Placement {
                    std::iter::once(&r.group.first)
                        .chain(&r.group.repeats)
                        .find(|e| e.boot == boot)
                        .map_or(Placement::Outside, |e| {
                            place(e, boot, alloc.as_ref(), ended.as_ref())
                        })
                };
                let tied: Vec<_> = an
                    .reports
                    .for_eb(*eb)
                    .filter(|r| placement(r) != Placement::Outside)
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
                    let placed = tied.iter().any(|r| placement(r) == Placement::Inside);
                    let reused = lifetimes.is_none_or(|n| n > 1);
                    if !placed && reused {
                        conf = conf.max(Confidence::Likely);
                    }
                    let mut ev = evidence;
                    ev.extend(tied.iter().map(|r| {
                        std::iter::once(&r.group.first)
                            .chain(&r.group.repeats)
                            .find(|e| e.boot == boot)
                            .unwrap_or(&r.group.first)
                            .clone()
                    }));
                    let kernel = an.boots.get(boot).and_then(|b| b.release.clone()).map(|r| {
                        let standing = READ_RACE_FIX.range.standing(&r);
                        (r, standing)
                    });
                    let msg = race_message(*eb, kernel.as_ref());
                    out.push(
                        Finding::new(RACE_SIGNATURE, conf, Some(Subject::Eb(*eb)), msg, ev).with(
                            Extra::Race {
                                fix: READ_RACE_FIX,
                                kernel,
                            },
                        ),
                    );
                }
            }
            EbFact::ReadAfterRelease {
                eb,
                release,
                release_ambiguous,
                read,
                again,
            } => {
                let conf = if could_hide(an, Some(release), read) {
                    Confidence::Unverifiable
                } else if *release_ambiguous {
                    Confidence::Likely
                } else {
                    Confidence::Certain
                };
                let msg = format!(
                    "read completion for eb {eb} after its final release (line {}), with no alloc between{}",
                    release.pos.line,
                    again_note(again, "releases")
                );
                out.push(
                    Finding::new(
                        READ_AFTER_RELEASE,
                        conf,
                        Some(Subject::Eb(*eb)),
                        msg,
                        vec![release.clone(), read.clone()],
                    )
                    .counted(1 + again.times),
                );
            }
            EbFact::ReadWithoutAlloc {
                eb,
                read,
                after_eviction,
                discarded_alloc,
                again,
            } => {
                let hidden = could_hide(an, None, read);
                let conf = if hidden || *after_eviction || near_trace_start(an, read) {
                    Confidence::Unverifiable
                } else {
                    Confidence::Likely
                };
                let why = if hidden && !an.coverage.whole(read.boot) {
                    " (the trace coverage of this boot is not kept in full, to bound memory)"
                        .to_string()
                } else if hidden {
                    let cpus: Vec<String> = an
                        .coverage
                        .gap_cpus(read.boot, None, ts_raw(read))
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
                let (msg, evidence) = match discarded_alloc {
                    // The trace has an alloc, but it lost the insert race: the
                    // read is of the winner's buffer, whose alloc is missing.
                    Some(lost) => (
                        format!(
                            "read completion for eb {eb} whose only alloc in the trace lost the insert race and was discarded: the winning alloc is not in the trace{why}"
                        ),
                        vec![lost.clone(), read.clone()],
                    ),
                    None => (
                        format!("read completion for eb {eb} with no alloc before it in the trace{why}"),
                        vec![read.clone()],
                    ),
                };
                let msg = format!("{msg}{}", again_note(again, "reads"));
                out.push(
                    Finding::new(
                        READ_WITHOUT_ALLOC,
                        conf,
                        Some(Subject::Eb(*eb)),
                        msg,
                        evidence,
                    )
                    .counted(1 + again.times),
                );
            }
        }
    }
}
