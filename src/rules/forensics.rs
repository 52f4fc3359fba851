//! What the values of a corruption report tell about how the block was
//! damaged, where the capture allows it: a kernel address where an on-disk
//! value belongs, a value one bit away from the one expected, the same bad
//! content on every mirror. Each is its own finding next to the corruption's
//! (`tree-check-failure`, `validation-failed`), citing the line that printed
//! the value.

use super::finding::{
    Confidence, Extra, Finding, RuleId, RuleInfo, Severity, Subject, SuspectValue,
};
use super::reports::occurrences;
use crate::correlate::evidence::Evidence;
use crate::correlate::reports::{Field, Report, ReportKind, Suspect};
use crate::correlate::Analysis;
use crate::grammar::btrfs::Phase;

/// `bit-flip`
pub(crate) const BIT_FLIP: RuleId = RuleId(&RuleInfo {
    id: "bit-flip",
    severity: Severity::Warning,
    meaning: "a value of a corruption report is one bit away from the one expected: the header's owner from the expected root, 'have' from 'want' of bad tree block start, 'found' from 'wanted' of a parent transid or level check, block= from the companion's logical, an item's 'has N expect M', or two keys of 'bad key order' that differ in one bit of one part (low bits of owners, generations, levels and item values are left out: a neighbouring tree or the next transaction differs there too); likely, since one bit can differ by chance",
    advice: "suspect bad RAM: run memtest86+ for several passes before trusting the machine; then 'btrfs check --readonly'; a kernel with the write-time tree checker refuses to write such a block",
});

/// `pointer-in-disk-field`
pub(crate) const POINTER_IN_DISK_FIELD: RuleId = RuleId(&RuleInfo {
    id: "pointer-in-disk-field",
    severity: Severity::Warning,
    meaning: "an on-disk field of a corruption report (owner, block=, bytenr, generation, an item's value) holds a kernel address: its top 16 bits set (0xffff8880... direct map, 0xffffc9... vmalloc, 0xffffea... struct page, 0xffffffff8... kernel text), away from the small negative numbers of the special trees; likely, since garbage can look like one by chance (1 in 65536)",
    advice: "memory holding kernel data was written or read as the tree block: a use-after-free or stray write in the kernel (try KASAN or slub_debug, and report it with the kernel version), or bad RAM",
});

/// `bad-on-every-mirror`
pub(crate) const BAD_ON_EVERY_MIRROR: RuleId = RuleId(&RuleInfo {
    id: "bad-on-every-mirror",
    severity: Severity::Warning,
    meaning: "a read-time corruption was reported the same way (same block, same reason and values) on every mirror the kernel tried, mirrors 1 to k: the bad content is on disk in every copy, so it was written that way (damaged in memory before the write, or by a kernel bug), not lost to a failing device; likely, since the number of copies is inferred from the mirrors tried",
    advice: "scrub cannot repair it and the device is probably fine: restore the affected tree or files from backup, run 'btrfs check --readonly', test RAM, and check the kernel of the time of the write for known bugs",
});

pub(super) fn evaluate(an: &Analysis, out: &mut Vec<Finding>) {
    for r in &an.reports.reports {
        let eb = r.eb.map(|e| e.0);
        let of = eb.map_or_else(|| "of a tree block".to_string(), |eb| format!("of eb {eb}"));
        if let Some(s) = &r.flip {
            let (Some(expected), Some(bit)) = (s.expected, s.bit) else {
                continue;
            };
            let msg = format!(
                "{} {of} is {}, one bit (bit {bit}) away from the expected {}: a bit flip; suspect bad RAM ({})",
                field_name(s.field),
                show(s.found),
                show(expected),
                what_of(r),
            );
            out.push(suspect_finding(BIT_FLIP, r, s, msg));
        }
        if let Some(s) = &r.pointer {
            let msg = format!(
                "{} {of} is {}, a kernel address (in {}) where an on-disk value belongs: memory holding kernel data became the tree block; suspect a use-after-free or stray write in the kernel, or bad RAM ({})",
                field_name(s.field),
                show(s.found),
                s.region.unwrap_or("the kernel half"),
                what_of(r),
            );
            out.push(suspect_finding(POINTER_IN_DISK_FIELD, r, s, msg));
        }
        if let (Some(k), Some(Phase::Read), true) = (r.mirrors.every(), r.phase, r.same_content) {
            let what = match eb {
                Some(eb) => format!("eb {eb}"),
                None => "a tree block".to_string(),
            };
            let mirrors = (1..=k)
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let msg = format!(
                "{what} is reported corrupt the same way on every mirror ({mirrors}): the same bad content is on disk in every copy, so it was written that way (damaged in memory before the write, or a kernel bug), not lost to a failing device; scrub cannot repair it"
            );
            out.push(
                Finding::new(
                    BAD_ON_EVERY_MIRROR,
                    Confidence::Likely,
                    eb.map(Subject::Eb),
                    msg,
                    one_per_mirror(r),
                )
                .counted(r.group.count)
                .seen(occurrences(r)),
            );
        }
    }
}

/// The lines of the first occurrence on each mirror (the report and its
/// companion, which names the mirror), in order.
fn one_per_mirror(r: &Report) -> Vec<Evidence> {
    let ev: Vec<&Evidence> = r.group.evidence().collect();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for (i, e) in ev.iter().enumerate() {
        let Some(m) = crate::fields::find_u64_after(&e.text, b"mirror ") else {
            continue;
        };
        if e.role != "validation" || seen.contains(&m) {
            continue;
        }
        seen.push(m);
        if let Some(p) = i.checked_sub(1).and_then(|k| ev.get(k)) {
            if p.role == "tree-check" {
                out.push((*p).clone());
            }
        }
        out.push((*e).clone());
    }
    if out.is_empty() {
        out.extend(ev.into_iter().cloned());
    }
    out
}

/// A finding about one suspect value, citing the line that printed it.
fn suspect_finding(rule: RuleId, r: &Report, s: &Suspect, msg: String) -> Finding {
    Finding::new(
        rule,
        Confidence::Likely,
        r.eb.map(|e| Subject::Eb(e.0)),
        msg,
        vec![s.at.clone()],
    )
    .with(Extra::Value(SuspectValue {
        field: s.field.name(),
        found: s.found,
        expected: s.expected,
        bit: s.bit,
        region: s.region,
    }))
    .seen(occurrences(r))
}

/// The field as a maintainer names it.
fn field_name(f: Field) -> &'static str {
    match f {
        Field::Block => "the header's bytenr (block=)",
        Field::Owner => "the header's owner",
        Field::Bytenr => "the header's bytenr (have)",
        Field::Generation => "the header's generation",
        Field::Level => "the header's level",
        Field::Item => "an item's value",
        Field::Key => "a key",
    }
}

/// The message the value comes from.
fn what_of(r: &Report) -> String {
    match &r.kind {
        ReportKind::TreeCheck { reason, .. } => format!("tree checker: {reason}"),
        ReportKind::Validation(k) => k.label().to_string(),
        ReportKind::DebugValidationFailed => "Validation failed".to_string(),
    }
}

/// A number in decimal, with its hex when that shows the bits better.
fn show(v: u64) -> String {
    if v >= 1 << 32 {
        format!("{v} (0x{v:x})")
    } else {
        v.to_string()
    }
}
