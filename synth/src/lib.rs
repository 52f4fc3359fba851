//! Synthetic kernel trace captures with known anomalies: a **test and
//! benchmark utility** for tracesift, never part of its binary (this crate
//! is a dev-dependency of `tracesift` and does not depend on it).
//!
//! [`generate`] writes a large capture of the btrfs extent-buffer debug
//! patch (kernel-formats.md E.1) among what real captures also hold, and
//! returns the list of findings `tracesift report` must give for it (the
//! *truth*): the same rules, ebs, severities, confidences and splat titles,
//! nothing more. Integration tests compare the two; benchmarks use the
//! capture as input; the example `gen_capture` writes one to a file with
//! its truth as JSON.
//!
//! # Formats
//!
//! * [`Format::Console`]: a serial-console typescript. Each boot starts with
//!   the `Linux version 6.8.0-rc7 ...` banner and its boot messages (the
//!   printk clock restarts near zero), then the workload's kernel messages
//!   (dmesg noise, WARNING splats), then the `ftrace_dump_on_oops` dump
//!   (A.6, A.7) that an oops (`kernel BUG in btrfs_check_eb_owner`) or
//!   sysrq-z triggered: `Dumping ftrace buffer:` between 33-dash rules, one
//!   latency-format line per entry with a printk `[ time]` prefix, a
//!   `CPU:N [LOST M EVENTS]` line in front of most CPUs' first surviving
//!   entry, and kernel messages of other CPUs among the dump lines; then the
//!   panic (`Kernel panic - not syncing: Fatal exception`, the second, empty
//!   dump, `Rebooting in 5 seconds..`) or the shutdown
//!   (`reboot: Restarting system`), and the firmware lines of the next boot.
//! * [`Format::Tracefs`]: one tracefs `trace` file per boot, concatenated:
//!   the `# tracer: nop` header block (A.5, with an overrun
//!   `entries-in-buffer/entries-written` line) and normal-format lines
//!   (A.2), each CPU's first entry after the first line preceded by
//!   `##### CPU N buffer started ####`. Kernel messages are `console:` trace
//!   events (`console: [  123.456789] BTRFS info ...`, or without the inner
//!   printk time when `printk.time` is off, see [`ConsoleEvents`]). The trace
//!   clock restarts with each boot's file.
//!
//! # What the capture contains
//!
//! A discrete-event simulation of eb lifetimes, merged in trace-time order
//! with filler events (`sched_switch`, `sched_wakeup`, irq, block and
//! workqueue events, `end_bbio_data_read` decoys):
//!
//! * alloc → read done → uses (`btrfs_tree_*lock` tracepoints) → final
//!   release (`called from release_extent_buffer`, then `before release`
//!   from the same task) → later, perhaps, a new lifetime of the same eb;
//! * insert races (spec §5.1): 2–5 io-wq workers allocate the eb within a
//!   few µs, every loser discards its copy from its own task
//!   (`called from btrfs_release_extent_buffer`, then `before release ...
//!   page_refs=0 ... fsid=00000000-...`), and one read completes;
//! * clones nested in a lifetime, released by their holder through
//!   `release_extent_buffer` before the lifetime ends;
//! * on a console, some CPUs' first surviving entry is a discard whose
//!   `called from` line was lost, as in the real typescript;
//! * eb distributions like a real workload's: about a third of the lines
//!   carry `eb=` ([`Config::filler_gap_us`]), most lifetimes take an eb
//!   never seen before and [`Config::realloc_pct`] re-allocate one released
//!   earlier in the boot (or used in the previous boot, ebs left open at the
//!   boot's end first), so the capture names many distinct ebs;
//! * kernel splats of about 25 lines (`cut here`, `WARNING: CPU: N PID: N at
//!   file:line func+off`, `Modules linked in:`, the task line with its taint,
//!   `Hardware name:`, `Workqueue:`, `RIP:`, `Code:`, registers,
//!   `Call Trace:`, `<TASK>` frames `</TASK>`, `---[ end trace ... ]---`):
//!   floods of one WARNING repeated thousands of times
//!   ([`AnomalyPlan::flood_splats`], realistic: 11,500 blocks per GiB) and
//!   one-off WARNINGs, `kernel BUG`s and NULL-pointer Oopses
//!   ([`AnomalyPlan::splats`]; an oops only ever prints while a dump runs,
//!   since an earlier one would have triggered the dump);
//! * dmesg noise, [`Config::noise_permille`] of the lines (realistic: 2 %):
//!   usb, ext4, btrfs info, audit, systemd (and, on a console, systemd's
//!   `[  OK  ]` status lines), NET, perf, hrtimer, ratelimit notes.
//!
//! # The truth
//!
//! [`Generated::anomalies`] lists the findings, each with its rule id
//! ([`Rule::id`]), severity and confidence as `report --json` spells them,
//! and its eb. It describes the analysis with **boot scoping** (issue #14):
//!
//! * each boot is its own scope: lifetimes, coverage and lost events never
//!   cross a boot boundary (an eb allocated in boot 1 and read in boot 2 is
//!   not a duplicate read, and boot 2 re-allocates ebs boot 1 left open);
//!   `lost-events` is one finding per CPU per boot;
//! * all splats of one title in one boot are **one** `kernel-splat` finding
//!   whose [`Injected::count`] is their number (a flood is one finding);
//! * kernel messages inside tracefs `console:` events are read like dmesg
//!   lines, with or without their inner printk time.
//!
//! A one-boot capture (`boots: 1`) with [`ConsoleEvents::Time`] needs none of
//! that but the splat counting, and a tracesift that reports one finding per
//! splat agrees with it once the `count`s of each (rule, title) are summed:
//! that is how the tests compare.
//!
//! # Why the findings equal the truth
//!
//! The generator follows tracesift's lifetime model (`correlate::ebs`) and
//! avoids everything that would fire a rule it did not intend:
//!
//! * every read has its alloc earlier in the same boot, and a lifetime has
//!   one read unless a duplicate is injected; contenders allocate before the
//!   read, and distinct tasks (pids) contend; a task's `called from` line and
//!   its `before release` line are written back to back;
//! * a clone is released before its lifetime's final release;
//! * an anomaly always gets an eb never used before, and an eb never gets a
//!   second anomaly: a corruption report without trace time (a printk)
//!   cannot be placed in one allocation, so it is tied to every allocation
//!   of its eb in the boot;
//! * header-derived values in injected messages are plausible (aligned
//!   `block=`, a real tree id as `have`), so no `implausible-header-value`;
//! * all CPUs print their first entry during a short ramp at the start of
//!   each dump, and anomalies are only injected after it: lost-events gaps
//!   (which run from the trace start to each CPU's first entry) then cannot
//!   hide anything the verdicts depend on, and every eb finding is
//!   `certain`, except a console `race-signature` on an eb allocated more
//!   than once in its boot, which is `likely`;
//! * two reads of one lifetime agree on level and fsid (no `inconsistent-read`);
//! * no WARNING is `end_bbio_meta_read`'s (that would be a
//!   `duplicate-read-completion`), none carries a message before its
//!   WARNING line (`BTRFS: Transaction aborted` would be a
//!   `transaction-abort`), and no noise line is a splat or a btrfs report;
//! * at the end of a dump, pending steps far in the future are dropped,
//!   which only leaves lifetimes open (never a finding); steps of anomalies
//!   are kept.
//!
//! # Determinism and speed
//!
//! Output is a function of the [`Config`] (own splitmix64 generator, no
//! hashing with random state). Trace lines are formatted straight into a
//! 1 MiB buffer with no allocation per line; kernel messages allocate.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod kmsg;
mod machine;
mod text;

use std::io::{self, Write};

use serde::Serialize;

/// A tracesift finding rule, by its stable id (spec §5): only the rules
/// the generator injects. Independent of the `tracesift` library on purpose
/// (tests compare [`Rule::id`] with `RuleId::id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
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
    /// `kernel-splat`
    KernelSplat,
    /// `lost-events`
    LostEvents,
}

impl Rule {
    /// Every rule the generator can inject.
    pub const ALL: [Rule; 7] = [
        Rule::DuplicateReadCompletion,
        Rule::RaceSignature,
        Rule::ReadAfterRelease,
        Rule::ValidationFailed,
        Rule::TreeCheckFailure,
        Rule::KernelSplat,
        Rule::LostEvents,
    ];

    /// The stable id, as in `report --json`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::DuplicateReadCompletion => "duplicate-read-completion",
            Rule::RaceSignature => "race-signature",
            Rule::ReadAfterRelease => "read-after-release",
            Rule::ValidationFailed => "validation-failed",
            Rule::TreeCheckFailure => "tree-check-failure",
            Rule::KernelSplat => "kernel-splat",
            Rule::LostEvents => "lost-events",
        }
    }

    /// Its severity as the spec's rule table states it.
    pub fn severity(self) -> &'static str {
        match self {
            Rule::LostEvents => "info",
            _ => "error",
        }
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// How sure the finding is, as `report --json` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// `certain`
    Certain,
    /// `likely`
    Likely,
}

impl Confidence {
    /// The name in `report --json`.
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
        }
    }
}

/// Which kind of capture to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A serial-console typescript with an `ftrace_dump_on_oops` dump per boot.
    Console,
    /// Tracefs `trace` files, one per boot.
    Tracefs,
}

impl Format {
    /// Parse `console` or `tracefs`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "console" => Some(Format::Console),
            "tracefs" => Some(Format::Tracefs),
            _ => None,
        }
    }

    /// The name accepted by [`Format::parse`].
    pub fn name(self) -> &'static str {
        match self {
            Format::Console => "console",
            Format::Tracefs => "tracefs",
        }
    }
}

/// Tracefs: how kernel messages appear (the `console` trace event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsoleEvents {
    /// No `console:` events: the trace holds no kernel messages (and so no
    /// splats and no noise).
    None,
    /// `console: [  123.456789] text` (`printk.time=1`).
    Time,
    /// `console: text` (`printk.time=0`).
    NoTime,
    /// Boots alternate: the first with the inner time, the second without, ...
    Mixed,
}

impl ConsoleEvents {
    /// Parse `none`, `time`, `no-time` or `mixed`.
    pub fn parse(s: &str) -> Option<ConsoleEvents> {
        match s {
            "none" => Some(ConsoleEvents::None),
            "time" => Some(ConsoleEvents::Time),
            "no-time" => Some(ConsoleEvents::NoTime),
            "mixed" => Some(ConsoleEvents::Mixed),
            _ => None,
        }
    }
}

/// How many anomalies and splats to inject, over the whole capture (each
/// boot gets its share).
///
/// Eb anomalies are placed between the end of a dump's CPU ramp (~5 %) and
/// 90 % of it. In a very small capture (under ~1 MiB per boot) some may not
/// fit before the end; [`Generated::anomalies`] always lists what was
/// actually written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnomalyPlan {
    /// Lifetimes with two read completions and no corruption report
    /// (`duplicate-read-completion`).
    pub duplicate_reads: u32,
    /// Duplicate reads with a corruption report for the eb
    /// (`duplicate-read-completion` + `race-signature` + `tree-check-failure`
    /// on a console, + `validation-failed` in a tracefs file).
    pub race_signatures: u32,
    /// A read completion after the final release (`read-after-release`).
    pub reads_after_release: u32,
    /// The debug patch's `Validation failed` (`validation-failed`; on a
    /// console also a read-side `level verify failed` message, a second
    /// `validation-failed`).
    pub validation_failures: u32,
    /// One-off splat blocks: WARNINGs, `kernel BUG`s and NULL-pointer
    /// Oopses (`kernel-splat`). Tracefs: only with `console:` events.
    pub splats: u32,
    /// Splat blocks in floods: a few WARNING titles per boot, each printed
    /// over and over (one `kernel-splat` per title and boot, with a count).
    pub flood_splats: u32,
    /// Flood titles per boot (1 to 8).
    pub flood_titles: u32,
}

/// WARNING splat blocks per GiB of a real capture (floods included).
pub const SPLATS_PER_GIB: u64 = 11_500;

impl AnomalyPlan {
    /// A few of each, more for larger captures, and floods at
    /// [`SPLATS_PER_GIB`].
    pub fn for_size(size: u64) -> AnomalyPlan {
        let per = |unit: u64, base: u64| (base + size / unit).min(10_000) as u32;
        AnomalyPlan {
            duplicate_reads: per(64 << 20, 2),
            race_signatures: per(128 << 20, 1),
            reads_after_release: per(64 << 20, 2),
            validation_failures: per(128 << 20, 1),
            splats: per(64 << 20, 2),
            flood_splats: AnomalyPlan::floods_for(size, SPLATS_PER_GIB),
            flood_titles: 2,
        }
    }

    /// Splat blocks in floods for `size` bytes at `per_gib` blocks per GiB.
    pub fn floods_for(size: u64, per_gib: u64) -> u32 {
        ((size as u128 * per_gib as u128) >> 30).min(u32::MAX as u128) as u32
    }

    /// No injected eb anomalies and no splats.
    pub fn none() -> AnomalyPlan {
        AnomalyPlan {
            duplicate_reads: 0,
            race_signatures: 0,
            reads_after_release: 0,
            validation_failures: 0,
            splats: 0,
            flood_splats: 0,
            flood_titles: 1,
        }
    }
}

/// What to generate. [`Config::new`] gives the realistic profile; every
/// field is a knob.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed: the same config gives byte-identical output.
    pub seed: u64,
    /// Target size in bytes (console: within ~0.1 %; tracefs: approximate,
    /// since each header states the exact number of entries up front).
    pub size: u64,
    /// CPUs of the traced machine (1 to 4096).
    pub cpus: u32,
    /// Output format.
    pub format: Format,
    /// Anomalies and splats to inject.
    pub plan: AnomalyPlan,
    /// Console: `CPU:N [LOST M EVENTS]` before most CPUs' first entry;
    /// tracefs: an overrun `entries-in-buffer/entries-written` header.
    pub lost_events: bool,
    /// Console: dumps are triggered by an oops (`kernel BUG in
    /// btrfs_check_eb_owner`, a `kernel-splat`, then a panic): every other
    /// boot and the last; the others by sysrq-z, ending in a reboot. When
    /// false, every dump is a sysrq-z one.
    pub trigger_oops: bool,
    /// Boots in the capture (1 to 64), sharing the size equally.
    pub boots: u32,
    /// Dmesg noise lines per thousand lines (console; tracefs: as
    /// `console:` events).
    pub noise_permille: u32,
    /// Tracefs: how kernel messages appear.
    pub console_events: ConsoleEvents,
    /// Percent of lifetimes that re-allocate an eb released earlier in the
    /// boot or used in the previous boot; the others take a never-used eb.
    pub realloc_pct: u32,
    /// Largest gap between two filler events, in µs of trace time: the
    /// smaller, the more filler lines and the fewer `eb=` lines.
    pub filler_gap_us: u64,
}

impl Config {
    /// The realistic profile for a 48-CPU machine, like the real
    /// typescript: three boots, floods, 2 % noise, `console:` events with
    /// and without their inner time, mostly fresh ebs (a third of the lines
    /// carry `eb=`).
    pub fn new(seed: u64, size: u64, format: Format) -> Config {
        Config {
            seed,
            size,
            cpus: 48,
            format,
            plan: AnomalyPlan::for_size(size),
            lost_events: true,
            trigger_oops: true,
            boots: 3,
            noise_permille: 20,
            console_events: ConsoleEvents::Mixed,
            realloc_pct: 25,
            filler_gap_us: 17,
        }
    }
}

/// One finding the capture must produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Injected {
    /// The rule that must fire (serialised as its id).
    pub rule: Rule,
    /// Its severity (`error`, `warning`, `info`).
    pub severity: &'static str,
    /// Its confidence.
    pub confidence: Confidence,
    /// The eb, for findings about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eb: Option<u64>,
    /// The splat title (`kernel-splat`), syzkaller-style.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Occurrences this one finding stands for: a splat title's blocks in
    /// its boot; 1 otherwise.
    pub count: u64,
    /// The boot (1-based) it belongs to.
    pub boot: u32,
    /// 1-based line of the (first) line that makes it (for humans; rules
    /// cite their own evidence).
    pub line: u64,
    /// The CPU, for `lost-events`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    /// What was injected.
    pub what: &'static str,
}

/// What was written, by kind (the benign patterns and the volume).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Bytes written.
    pub bytes: u64,
    /// Physical lines written.
    pub lines: u64,
    /// Boots.
    pub boots: u32,
    /// Trace entries (trace event lines, `console:` events included).
    pub entries: u64,
    /// Lines that carry `eb=`.
    pub eb_lines: u64,
    /// Distinct ebs named by the trace.
    pub distinct_ebs: u64,
    /// Lifetimes started by an alloc.
    pub lifetimes: u64,
    /// Lifetimes of an eb that had a lifetime earlier in the same boot.
    pub reallocations: u64,
    /// First allocations in a boot of an eb used in the previous boot.
    pub cross_boot_allocs: u64,
    /// Of those, ebs whose lifetime the previous boot's end left open (a
    /// tracesift without boot scoping sees their next read as a duplicate).
    pub reopened_allocs: u64,
    /// Lifetimes with contending allocs.
    pub insert_races: u64,
    /// Contending allocs.
    pub contending_allocs: u64,
    /// Losers' discards (`called from btrfs_release_extent_buffer` pairs).
    pub discards: u64,
    /// Discards without their `called from` line, right after a lost-events marker.
    pub orphan_discards: u64,
    /// Clones allocated.
    pub clones: u64,
    /// Clones released.
    pub clone_releases: u64,
    /// Final releases.
    pub final_releases: u64,
    /// `read done` lines.
    pub reads: u64,
    /// Lifetimes with a duplicate read.
    pub duplicate_reads: u64,
    /// `btrfs_tree_*lock` tracepoint lines.
    pub tracepoints: u64,
    /// `end_bbio_data_read` decoys.
    pub data_reads: u64,
    /// Other filler events.
    pub fillers: u64,
    /// Kernel messages (printk lines, or tracefs `console:` events).
    pub kernel_messages: u64,
    /// Tracefs `console:` events.
    pub console_events: u64,
    /// Dmesg noise lines (boot messages included).
    pub noise_lines: u64,
    /// Splat blocks printed.
    pub splats: u64,
    /// Their lines.
    pub splat_lines: u64,
    /// Console lines without a printk prefix (firmware, systemd status).
    pub other_lines: u64,
    /// Lost-events markers written.
    pub lost_markers: u64,
    /// Lifetime steps dropped at the end of a dump (lifetimes left open).
    pub dropped_steps: u64,
}

/// The result of a generation.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    /// The format written.
    pub format: Format,
    /// The seed.
    pub seed: u64,
    /// CPUs.
    pub cpus: u32,
    /// What was written.
    pub counts: Counts,
    /// The findings `report` must produce, in line order.
    pub anomalies: Vec<Injected>,
}

impl Generated {
    /// Write the anomalies document (`gen_capture --anomalies`): the
    /// generation facts, counts, and the anomaly list.
    pub fn write_json<W: Write>(&self, w: W) -> io::Result<()> {
        serde_json::to_writer_pretty(w, self).map_err(io::Error::other)
    }
}

/// Parse `4096`, `512K`, `64M`, `1G` (binary units; `KiB`/`MiB`/`GiB` too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix("ib"))
        .unwrap_or(t);
    let t = t.strip_suffix(['B', 'b']).unwrap_or(t);
    let (num, shift) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 10),
        Some('m' | 'M') => (&t[..t.len() - 1], 20),
        Some('g' | 'G') => (&t[..t.len() - 1], 30),
        Some('t' | 'T') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 64M, 1G)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// Generate a capture into `out` (buffered internally; pass the file or
/// `Vec` itself). Returns the injected anomalies and the counts.
pub fn generate<W: Write>(cfg: &Config, out: W) -> io::Result<Generated> {
    let mut m = machine::Machine::new(cfg, out);
    m.run()?;
    Ok(Generated {
        format: cfg.format,
        seed: cfg.seed,
        cpus: m.ncpus as u32,
        counts: m.counts,
        anomalies: m.injected,
    })
}

/// Generate a capture in memory.
pub fn generate_vec(cfg: &Config) -> (Vec<u8>, Generated) {
    let mut v = Vec::with_capacity(cfg.size.min(1 << 30) as usize + (1 << 20));
    let g = generate(cfg, &mut v).expect("writing to a Vec cannot fail");
    (v, g)
}
