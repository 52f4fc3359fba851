//! btrfs corruption reports, validation failures and transaction aborts,
//! grouped so that a message repeated a thousand times is one entry with a
//! count (memory is bounded by the number of distinct messages).

use rustc_hash::FxHashMap;

use crate::correlate::evidence::Evidence;
use crate::event::{Abort, Event, EventKind, ValidationKind};

/// Positions kept per group besides the first.
const MAX_REPEATS_KEPT: usize = 15;

/// Identical messages (same text after the console prefix).
#[derive(Debug, Clone)]
pub struct Group {
    /// The first occurrence.
    pub first: Evidence,
    /// Later occurrences (the first `MAX_REPEATS_KEPT`).
    pub repeats: Vec<Evidence>,
    /// All occurrences.
    pub count: u64,
}

/// What kind of corruption report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportKind {
    /// A tree-checker report.
    TreeCheck {
        /// The reason text.
        reason: String,
        /// `node` rather than `leaf`.
        node: bool,
        /// `root=` as printed.
        root: Option<u64>,
    },
    /// A read- or write-side validation message.
    Validation(ValidationKind),
    /// The debug patch's `!!! Validation failed, eb=X !!!`.
    DebugValidationFailed,
}

/// How an eb start was obtained from a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tie {
    /// Printed from `eb->start` (`eb=`, `logical`, `want`, extent/chunk/node reporters).
    Start,
    /// A header-derived `block=` that looks like a real eb start.
    Header,
}

/// One grouped corruption report.
#[derive(Debug, Clone)]
pub struct Report {
    /// What it is.
    pub kind: ReportKind,
    /// The eb it is tied to, and how.
    pub eb: Option<(u64, Tie)>,
    /// Header-derived `block=` that was not trusted by construction.
    pub header_block: Option<u64>,
    /// Header-derived owner (`have` of owner mismatch).
    pub header_owner: Option<u64>,
    /// Header-derived bytenr (`have` of bad tree block start).
    pub header_have: Option<u64>,
    /// The messages.
    pub group: Group,
}

/// A transaction abort or filesystem error, grouped.
#[derive(Debug, Clone)]
pub struct AbortReport {
    /// The error number.
    pub errno: i64,
    /// `func:line` where the error was handled, when printed.
    pub site: Option<String>,
    /// The lines: the `Transaction aborted` text and/or the `errno=` line.
    pub group: Group,
}

/// All reports of a run.
#[derive(Debug, Default)]
pub struct Reports {
    /// Corruption and validation reports.
    pub reports: Vec<Report>,
    index: FxHashMap<Box<[u8]>, usize>,
    /// Transaction aborts.
    pub aborts: Vec<AbortReport>,
    /// Largest trusted eb start seen anywhere (for plausibility checks).
    pub max_start: u64,
}

/// The largest plausible eb start (2^56): btrfs logical addresses on real
/// filesystems stay far below; header garbage often exceeds 2^62.
pub const MAX_PLAUSIBLE_START: u64 = 1 << 56;

/// Whether a header-derived number could be an eb start.
pub fn plausible_start(v: u64) -> bool {
    v != 0 && v % 4096 == 0 && v < MAX_PLAUSIBLE_START
}

/// Whether a header-derived number could be a tree owner id: small ids,
/// subvolume ids (256 and up, well below 2^48), or the negative special
/// trees (`-6` tree log, `-9` data reloc: within 256 of 2^64).
pub fn plausible_owner(v: u64) -> bool {
    !(1 << 48..u64::MAX - 255).contains(&v)
}

impl Reports {
    /// Note a trusted eb start seen in any event.
    pub fn saw_start(&mut self, eb: u64) {
        if eb < MAX_PLAUSIBLE_START && eb > self.max_start {
            self.max_start = eb;
        }
    }

    /// Feed one event; corruption reports and aborts are kept.
    pub fn event(&mut self, e: &Event<'_>) {
        match e.kind {
            EventKind::TreeCheck(t) => {
                let eb = match (t.eb, t.block) {
                    (Some(eb), _) => Some((eb, Tie::Start)),
                    (None, Some(b)) if t.block_trusted => Some((b, Tie::Start)),
                    (None, Some(b)) if plausible_start(b) => Some((b, Tie::Header)),
                    _ => None,
                };
                let kind = ReportKind::TreeCheck {
                    reason: String::from_utf8_lossy(t.reason).into_owned(),
                    node: t.node,
                    root: t.root,
                };
                let header_block = if t.block_trusted { None } else { t.block };
                self.add(
                    e,
                    "tree-check",
                    kind,
                    eb,
                    header_block,
                    t.owner.map(|o| o.0),
                    None,
                );
            }
            EventKind::Validation(v) => {
                self.add(
                    e,
                    "validation",
                    ReportKind::Validation(v.kind),
                    Some((v.eb, Tie::Start)),
                    None,
                    None,
                    v.have,
                );
            }
            EventKind::ValidationFailed { eb } => {
                self.add(
                    e,
                    "validation-failed",
                    ReportKind::DebugValidationFailed,
                    Some((eb, Tie::Start)),
                    None,
                    None,
                    None,
                );
            }
            EventKind::Abort(a) => self.abort(e, a),
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        e: &Event<'_>,
        role: &'static str,
        kind: ReportKind,
        eb: Option<(u64, Tie)>,
        header_block: Option<u64>,
        header_owner: Option<u64>,
        header_have: Option<u64>,
    ) {
        if let Some((b, Tie::Start)) = eb {
            self.saw_start(b);
        }
        let key: Box<[u8]> = crate::fields::trim(e.msg).into();
        if let Some(&i) = self.index.get(&key) {
            let g = &mut self.reports[i].group;
            g.count += 1;
            if g.repeats.len() < MAX_REPEATS_KEPT {
                g.repeats.push(Evidence::from_event(e, role));
            }
            return;
        }
        self.index.insert(key, self.reports.len());
        self.reports.push(Report {
            kind,
            eb,
            header_block,
            header_owner,
            header_have,
            group: Group {
                first: Evidence::from_event(e, role),
                repeats: Vec::new(),
                count: 1,
            },
        });
    }

    fn abort(&mut self, e: &Event<'_>, a: Abort<'_>) {
        let site = a.func.map(|f| {
            format!(
                "{}:{}",
                String::from_utf8_lossy(f),
                a.line.map_or(String::new(), |l| l.to_string())
            )
        });
        // The `errno=` line that follows a `Transaction aborted (error N)` text is the same abort.
        if !a.aborted_text {
            if let Some(last) = self.aborts.last_mut() {
                let same_input = last.group.first.pos.input == e.pos.input;
                let near = e.pos.line.saturating_sub(last.group.first.pos.line) < 400;
                if same_input && near && last.errno == a.errno && last.site.is_none() {
                    last.site = site;
                    last.group.count += 1;
                    last.group.repeats.push(Evidence::from_event(e, "fs-error"));
                    return;
                }
            }
        }
        if let Some(g) = self
            .aborts
            .iter_mut()
            .find(|x| x.errno == a.errno && x.site == site && site.is_some())
        {
            g.group.count += 1;
            if g.group.repeats.len() < MAX_REPEATS_KEPT {
                g.group.repeats.push(Evidence::from_event(e, "fs-error"));
            }
            return;
        }
        self.aborts.push(AbortReport {
            errno: a.errno,
            site,
            group: Group {
                first: Evidence::from_event(e, if a.aborted_text { "abort" } else { "fs-error" }),
                repeats: Vec::new(),
                count: 1,
            },
        });
    }

    /// Reports tied to `eb`.
    pub fn for_eb(&self, eb: u64) -> impl Iterator<Item = &Report> {
        self.reports
            .iter()
            .filter(move |r| r.eb.is_some_and(|(b, _)| b == eb))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausibility() {
        assert!(plausible_start(15302115328));
        assert!(!plausible_start(12450248866117114644));
        assert!(!plausible_start(16438782945911875046));
        assert!(!plausible_start(0));
        assert!(plausible_owner(258));
        assert!(plausible_owner(18446744073709551610));
        assert!(!plausible_owner(13709377558419367261));
        assert!(!plausible_owner(1606127004340072680));
    }
}
