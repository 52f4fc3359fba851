//! What a rule produces: a [`Finding`], its [`Severity`] and [`Confidence`],
//! the rule it comes from ([`RuleId`], described by a [`RuleInfo`]) and what
//! it is about ([`Subject`]).

use serde::Serialize;

use crate::correlate::evidence::Evidence;
use crate::correlate::reports::Occurrence;
use crate::grammar::btrfs::Phase;

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
    pub(crate) fn meaning(self) -> &'static str {
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
/// What a rule is: its stable id and what the manual says about it. Each
/// rule family declares its rules' infos beside the code that fires them;
/// the registry ([`super::BUILTIN`]) lists them in documentation order.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// The stable id used in JSON, `--fail-on` reasoning and the man page.
    pub id: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// When the rule fires (for `--help` and the man page).
    pub meaning: &'static str,
    /// What to do about it.
    pub advice: &'static str,
}

/// A rule, by its [`RuleInfo`]. Ids never change.
#[derive(Debug, Clone, Copy)]
pub struct RuleId(pub &'static RuleInfo);

impl RuleId {
    /// The stable id used in JSON, `--fail-on` reasoning and the man page.
    pub fn id(self) -> &'static str {
        self.0.id
    }

    /// The rule's severity.
    pub fn severity(self) -> Severity {
        self.0.severity
    }

    /// When the rule fires.
    pub(crate) fn meaning(self) -> &'static str {
        self.0.meaning
    }

    /// What to do about it.
    pub(crate) fn advice(self) -> &'static str {
        self.0.advice
    }

    /// Parse an id of a built-in rule.
    pub fn from_id(s: &str) -> Option<RuleId> {
        super::BUILTIN.into_iter().find(|r| r.id() == s)
    }

    /// Its place in the registry (documentation order), for sorting.
    fn rank(self) -> usize {
        super::BUILTIN
            .iter()
            .position(|r| r.id() == self.id())
            .unwrap_or(super::BUILTIN.len())
    }
}

impl PartialEq for RuleId {
    fn eq(&self, other: &RuleId) -> bool {
        self.id() == other.id()
    }
}

impl Eq for RuleId {}

impl PartialOrd for RuleId {
    fn partial_cmp(&self, other: &RuleId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RuleId {
    /// Documentation order, then id.
    fn cmp(&self, other: &RuleId) -> std::cmp::Ordering {
        (self.rank(), self.id()).cmp(&(other.rank(), other.id()))
    }
}

impl std::hash::Hash for RuleId {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id().hash(h);
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
    /// The affected ranges, to place a kernel release.
    #[serde(skip)]
    pub range: super::release::Range,
}

/// What a finding is about, when it is about one object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// An extent buffer, by `eb->start`.
    Eb(u64),
    /// A key a rules file declares, and its value as users write it
    /// (`daddr`, `0x851c80`; `xfs-buf`, `252:18,0x2`).
    Key {
        /// The key's name.
        key: String,
        /// The value.
        value: String,
    },
}

/// What a finding of some rules carries besides its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extra {
    /// Nothing more.
    None,
    /// `kernel-splat`: the splat's title.
    Splat {
        /// The syzkaller-style title.
        title: String,
    },
    /// `lost-events` about one CPU.
    Lost {
        /// The CPU.
        cpu: u32,
    },
    /// `race-signature`: the upstream fix, and where the kernel that
    /// printed the capture stands against it, when its release is known.
    Race {
        /// The fix.
        fix: Fix,
        /// The kernel's release and its standing.
        kernel: Option<(String, super::release::Standing)>,
    },
    /// `bit-flip`, `pointer-in-disk-field`: the value that tells.
    Value(SuspectValue),
    /// `tree-check-failure` whose `block=` is header garbage: the extent
    /// buffer the task of the splat that followed last touched in the
    /// trace, a likely candidate for the rejected block.
    Candidate(Candidate),
}

/// The likely extent buffer of a report whose header names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The eb the task last touched in the trace.
    pub eb: u64,
    /// The task: its pid.
    pub pid: u32,
    /// The task: its name.
    pub comm: String,
    /// The title of the splat the task hit after the report.
    pub splat: String,
}

/// A value read from a tree block that tells how the block was damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspectValue {
    /// Which field (`owner`, `bytenr`, `block`, `generation`, `level`, `item`, `key`).
    pub field: &'static str,
    /// The value as printed.
    pub found: u64,
    /// What it should have been, when known.
    pub expected: Option<u64>,
    /// The one bit in which `found` and `expected` differ (`bit-flip`).
    pub bit: Option<u32>,
    /// The kernel address range `found` falls in (`pointer-in-disk-field`).
    pub region: Option<&'static str>,
}

/// How often and where a grouped btrfs report (a corruption or an abort)
/// was printed: what its finding carries besides its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrences {
    /// The kernel device name (`sdc`, `dm-0`), when printed.
    pub device: Option<String>,
    /// When the block was checked (read or write time), when the capture tells.
    pub phase: Option<Phase>,
    /// The mirrors it was read from, ascending.
    pub mirrors: Vec<u32>,
    /// The mirrors are every copy there is (1 to k, k ≥ 2).
    pub every_mirror: bool,
    /// The boots it was printed in, ascending.
    pub boots: Vec<u32>,
    /// The first occurrence.
    pub first: Occurrence,
    /// The last occurrence.
    pub last: Occurrence,
    /// Evidence lines seen but not kept (the first occurrences and the last are).
    pub evidence_omitted: u64,
    /// Reports counted but not grouped, beyond the distinct ones kept (a
    /// finding that stands for them has no eb).
    pub not_kept: u64,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// Its severity.
    pub severity: Severity,
    /// How sure.
    pub confidence: Confidence,
    /// What it is about, when it is about one object.
    pub subject: Option<Subject>,
    /// One-line message.
    pub message: String,
    /// The lines it rests on.
    pub evidence: Vec<Evidence>,
    /// Occurrences of the message (grouped identical messages).
    pub count: u64,
    /// What the rule adds.
    pub extra: Extra,
    /// For grouped btrfs reports: how often and where.
    pub occurrences: Option<Box<Occurrences>>,
}

impl Finding {
    /// A finding of `rule` with the rule's severity, seen once.
    pub(crate) fn new(
        rule: RuleId,
        confidence: Confidence,
        subject: Option<Subject>,
        message: String,
        evidence: Vec<Evidence>,
    ) -> Finding {
        Finding {
            rule,
            severity: rule.severity(),
            confidence,
            subject,
            message,
            evidence,
            count: 1,
            extra: Extra::None,
            occurrences: None,
        }
    }

    /// The same finding standing for `count` occurrences.
    pub(crate) fn counted(mut self, count: u64) -> Finding {
        self.count = count;
        self
    }

    /// The same finding with `extra`.
    pub(crate) fn with(mut self, extra: Extra) -> Finding {
        self.extra = extra;
        self
    }

    /// The same finding with how often and where its report was printed.
    pub(crate) fn seen(mut self, occurrences: Occurrences) -> Finding {
        self.occurrences = Some(Box::new(occurrences));
        self
    }

    /// The suspect value (`bit-flip`, `pointer-in-disk-field`).
    pub(crate) fn value(&self) -> Option<&SuspectValue> {
        match &self.extra {
            Extra::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The extent buffer it is about, if it is about one.
    pub fn eb(&self) -> Option<u64> {
        match &self.subject {
            Some(Subject::Eb(eb)) => Some(*eb),
            _ => None,
        }
    }

    /// The declared key and value it is about, if it is about one.
    pub(crate) fn key_subject(&self) -> Option<(&str, &str)> {
        match &self.subject {
            Some(Subject::Key { key, value }) => Some((key, value)),
            _ => None,
        }
    }

    /// The likely eb of a tree-checker report whose header names none.
    pub(crate) fn candidate(&self) -> Option<&Candidate> {
        match &self.extra {
            Extra::Candidate(c) => Some(c),
            _ => None,
        }
    }

    /// The splat title (`kernel-splat`).
    pub fn title(&self) -> Option<&str> {
        match &self.extra {
            Extra::Splat { title } => Some(title),
            _ => None,
        }
    }

    /// The CPU (`lost-events` about one CPU).
    pub(crate) fn cpu(&self) -> Option<u32> {
        match self.extra {
            Extra::Lost { cpu } => Some(cpu),
            _ => None,
        }
    }

    /// The upstream fix (`race-signature`).
    pub(crate) fn fix(&self) -> Option<&Fix> {
        match &self.extra {
            Extra::Race { fix, .. } => Some(fix),
            _ => None,
        }
    }

    /// The kernel's release and its standing against the fix (`race-signature`).
    pub(crate) fn kernel(&self) -> Option<&(String, super::release::Standing)> {
        match &self.extra {
            Extra::Race { kernel, .. } => kernel.as_ref(),
            _ => None,
        }
    }

    /// Sort order: severity, then input, then line, rule and subject.
    pub(super) fn order(&self, o: &Finding) -> std::cmp::Ordering {
        let pos = |f: &Finding| f.evidence.first().map(|e| e.pos).unwrap_or_default();
        let (a, b) = (pos(self), pos(o));
        (self.severity, a.input, a.line, self.rule)
            .cmp(&(o.severity, b.input, b.line, o.rule))
            .then_with(|| self.subject.cmp(&o.subject))
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
    pub(crate) fn of(findings: &[Finding]) -> Counts {
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
    pub(crate) fn any_at_least(&self, threshold: Severity) -> bool {
        match threshold {
            Severity::Error => self.error > 0,
            Severity::Warning => self.error + self.warning > 0,
            Severity::Info => self.error + self.warning + self.info > 0,
        }
    }
}
