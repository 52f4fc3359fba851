//! Stage 6: finding rules, with stable ids (spec §5).
//!
//! Rules run once, at the end of the run, over the facts the correlator
//! gathered, so that verdicts needing an event to be *absent* can consult
//! the complete coverage: a read without an alloc is `unverifiable` when a
//! lost-events gap on any CPU could hold the alloc.
//!
//! One file per family of rules, each declaring its rules' [`RuleInfo`]s
//! beside the code that fires them: [`eb`] (extent-buffer lifetimes),
//! [`reports`] (btrfs corruption reports and aborts), [`forensics`] (what
//! the values of a corruption report tell), [`splat`] (kernel splats),
//! [`lost`] (what the capture lost), [`lifecycle`] (the checks rules files
//! declare, with ids loaded at run time). The confidence logic they
//! share is in `verdict.rs`. A new rule is its info and its code in its
//! family's file, plus its line in [`BUILTIN`]; a new family is a file and
//! its line in `FAMILIES`.

pub mod eb;
mod finding;
pub mod forensics;
pub mod lifecycle;
pub mod lost;
pub mod release;
pub mod reports;
pub mod splat;
mod verdict;

pub use finding::{
    Candidate, Confidence, Counts, Extra, Finding, Fix, Occurrences, RuleId, RuleInfo, Severity,
    Subject, SuspectValue,
};

use crate::correlate::Analysis;

/// Every built-in rule, in documentation order (also the order findings
/// of one line are sorted in).
pub const BUILTIN: [RuleId; 14] = [
    eb::DUPLICATE_READ_COMPLETION,
    eb::RACE_SIGNATURE,
    eb::READ_AFTER_RELEASE,
    reports::VALIDATION_FAILED,
    reports::TREE_CHECK_FAILURE,
    reports::IMPLAUSIBLE_HEADER_VALUE,
    forensics::BIT_FLIP,
    forensics::POINTER_IN_DISK_FIELD,
    forensics::BAD_ON_EVERY_MIRROR,
    eb::READ_WITHOUT_ALLOC,
    eb::INCONSISTENT_READ,
    splat::KERNEL_SPLAT,
    reports::TRANSACTION_ABORT,
    lost::LOST_EVENTS,
];

/// A rule family: judges the facts of a finished analysis, and says how many
/// findings of each of its rules were not kept to bound memory.
struct Family {
    evaluate: fn(&Analysis, &mut Vec<Finding>),
    not_kept: fn(&Analysis, &mut Vec<(RuleId, u64)>),
}

/// A family that keeps every finding.
fn keeps_all(_: &Analysis, _: &mut Vec<(RuleId, u64)>) {}

/// The rule families, in the order they run.
const FAMILIES: [Family; 6] = [
    Family {
        evaluate: eb::evaluate,
        not_kept: eb::not_kept,
    },
    Family {
        evaluate: reports::evaluate,
        not_kept: reports::not_kept,
    },
    Family {
        evaluate: forensics::evaluate,
        not_kept: keeps_all,
    },
    Family {
        evaluate: splat::evaluate,
        not_kept: splat::not_kept,
    },
    Family {
        evaluate: lost::evaluate,
        not_kept: lost::not_kept,
    },
    Family {
        evaluate: lifecycle::evaluate,
        not_kept: lifecycle::not_kept,
    },
];

/// The read_extent_buffer_pages() race fix (kernel-formats.md E.2).
pub(crate) const READ_RACE_FIX: Fix = Fix {
    commit: "ef1e68236b9153c27cb7cf29ead0c532870d4215",
    title: "btrfs: fix race in read_extent_buffer_pages()",
    release: "v6.9",
    affected: &[">=6.5 <6.6.24", ">=6.7 <6.7.12", ">=6.8 <6.8.3"],
    cve: "CVE-2024-35798",
    range: release::Range {
        introduced: (6, 5),
        stable_fixed: &[(6, 6, 24), (6, 7, 12), (6, 8, 3)],
        mainline: (6, 9),
        // Merged for v6.9-rc2 (kernel-formats.md E.2).
        mainline_rc: 2,
    },
};

/// Run every rule over a finished analysis ([`Analysis::finish`]).
/// Findings come back sorted (severity, input, line), so output is
/// deterministic.
pub fn evaluate(an: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    for family in &FAMILIES {
        (family.evaluate)(an, &mut out);
    }
    out.sort_by(Finding::order);
    out
}

/// Findings not kept, per rule (only rules with some), in registry order:
/// memory is bounded by the live keys, so past a bound repeated or
/// numerous facts are counted rather than kept. The reporters say so.
pub(crate) fn not_kept(an: &Analysis) -> Vec<(RuleId, u64)> {
    let mut out = Vec::new();
    for family in &FAMILIES {
        (family.not_kept)(an, &mut out);
    }
    out.retain(|(_, n)| *n > 0);
    out.sort_by_key(|(r, _)| *r);
    out
}
