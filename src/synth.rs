//! Synthetic kernel trace captures with known anomalies: a **test and
//! benchmark utility**, not a stage of the analysis pipeline.
//!
//! [`generate`] writes a large, realistic capture of the btrfs extent-buffer
//! debug patch (kernel-formats.md E.1) and returns the list of anomalies it
//! injected, which is exactly what `tracesift report` must find in it: the
//! same rules, ebs, severities and confidences, nothing more. Integration
//! tests compare the two; benchmarks use the capture as input; the example
//! `gen_capture` writes one to a file with its anomalies as JSON.
//!
//! # Formats
//!
//! * [`Format::Console`]: a serial-console typescript ending in an
//!   `ftrace_dump_on_oops` dump (A.6, A.7): a boot preamble, the oops that
//!   triggered the dump, `Dumping ftrace buffer:` between 33-dash rules, one
//!   latency-format line per entry with a printk `[ time]` prefix, a
//!   `CPU:N [LOST M EVENTS]` line in front of each CPU's first surviving
//!   entry, and kernel messages printed by other CPUs interleaved with the
//!   dump; then the panic and the second, empty dump.
//! * [`Format::Tracefs`]: a tracefs `trace` file: the `# tracer: nop` header
//!   block (A.5) and normal-format lines (A.2); when the buffer overran, the
//!   `entries-in-buffer/entries-written` header says so and each CPU's first
//!   entry after the first line is preceded by `##### CPU N buffer started ####`.
//!
//! # What the trace contains
//!
//! A discrete-event simulation over a bounded pool of eb starts (multiples
//! of 16384 between 10^10 and 2·10^10, reused, so the analyser's memory
//! stays bounded). Each allocation lifetime is scripted when it starts and
//! its steps are merged in trace-time order with the other lifetimes and
//! with filler events (`sched_switch`, `sched_wakeup`, irq, block and
//! workqueue events, `end_bbio_data_read` decoys):
//!
//! * alloc → read done → uses (`btrfs_tree_*lock` tracepoints) → final
//!   release (`called from release_extent_buffer`, then `before release`
//!   from the same task) → later, a new lifetime of the same eb;
//! * insert races (spec §5.1): 2–5 io-wq workers allocate the eb within a
//!   few µs, every loser discards its copy from its own task
//!   (`called from btrfs_release_extent_buffer`, then `before release ...
//!   page_refs=0 ... fsid=00000000-...`), and one read completes;
//! * clones nested in a lifetime, released by their holder through
//!   `release_extent_buffer` before the lifetime ends;
//! * on a console, some CPUs' first surviving entry is a discard whose
//!   `called from` line was lost, as in the real typescript.
//!
//! # Why the findings equal the injected list
//!
//! The generator follows the lifetime model of [`crate::correlate::ebs`] and
//! avoids everything that would fire a rule it did not intend:
//!
//! * every read has its alloc earlier in the trace, and a lifetime has one
//!   read unless a duplicate is injected; contenders allocate before the
//!   read, and distinct tasks (pids) contend; a task's `called from` line and
//!   its `before release` line are written back to back;
//! * a clone is released before its lifetime's final release (the analyser
//!   also handles late clone releases; `fixtures/cases` covers that);
//! * an eb never gets more than one anomaly in the whole capture: a
//!   corruption report without trace time (a printk) cannot be placed in one
//!   allocation, so it is tied to every allocation of its eb;
//! * header-derived values in injected messages are plausible (aligned
//!   `block=`, a real tree id as `have`), so no `implausible-header-value`;
//! * all CPUs print their first entry during a short ramp at the start, and
//!   anomalies are only injected after it: lost-events gaps (which run from
//!   the trace start to each CPU's first entry) then cannot hide anything
//!   the verdicts depend on, and every eb finding is `certain`, except a
//!   console `race-signature` on an eb allocated more than once, which is
//!   `likely` (its tree-checker printk cannot be placed in the allocation);
//! * two reads of one lifetime agree on level and fsid (no `inconsistent-read`);
//! * at the end, pending steps far in the future are dropped, which only
//!   leaves lifetimes open (never a finding); steps of anomalies are kept.
//!
//! # Determinism and speed
//!
//! Output is a function of the [`Config`] (own splitmix64 generator, no
//! hashing with random state). Lines are formatted straight into a 1 MiB
//! buffer with no allocation per line.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::io::{self, Write};

use serde::Serialize;

use crate::rules::{Confidence, RuleId, Severity};

/// Which kind of capture to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A serial-console typescript with an `ftrace_dump_on_oops` dump.
    Console,
    /// A tracefs `trace` file.
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

/// How many anomalies of each kind to inject.
///
/// They are placed between the end of the CPU ramp (~5 %) and 90 % of the
/// capture. In a very small capture (under ~1 MiB) some may not fit before
/// the end; [`Generated::anomalies`] always lists what was actually written.
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
    /// WARNING splats printed during the dump (`kernel-splat`; console only).
    pub splats: u32,
}

impl AnomalyPlan {
    /// A few of each, more for larger captures.
    pub fn for_size(size: u64) -> AnomalyPlan {
        let per = |unit: u64, base: u64| (base + size / unit).min(10_000) as u32;
        AnomalyPlan {
            duplicate_reads: per(64 << 20, 2),
            race_signatures: per(128 << 20, 1),
            reads_after_release: per(64 << 20, 2),
            validation_failures: per(128 << 20, 1),
            splats: per(256 << 20, 1),
        }
    }

    /// No injected eb anomalies and no splats.
    pub fn none() -> AnomalyPlan {
        AnomalyPlan {
            duplicate_reads: 0,
            race_signatures: 0,
            reads_after_release: 0,
            validation_failures: 0,
            splats: 0,
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed: the same config gives byte-identical output.
    pub seed: u64,
    /// Target size in bytes (console: within ~0.1 %; tracefs: approximate,
    /// since the header states the exact number of entries up front).
    pub size: u64,
    /// CPUs of the traced machine (1 to 4096).
    pub cpus: u32,
    /// Output format.
    pub format: Format,
    /// Anomalies to inject.
    pub plan: AnomalyPlan,
    /// Console: `CPU:N [LOST M EVENTS]` before most CPUs' first entry;
    /// tracefs: an overrun `entries-in-buffer/entries-written` header.
    pub lost_events: bool,
    /// Console: the dump is triggered by an oops (a `kernel BUG` splat, one
    /// more `kernel-splat` finding) rather than by sysrq-z.
    pub trigger_oops: bool,
}

impl Config {
    /// Defaults for a 48-CPU machine, like the real typescript.
    pub fn new(seed: u64, size: u64, format: Format) -> Config {
        Config {
            seed,
            size,
            cpus: 48,
            format,
            plan: AnomalyPlan::for_size(size),
            lost_events: true,
            trigger_oops: true,
        }
    }
}

/// One finding the capture must produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Injected {
    /// The rule that must fire.
    pub rule: RuleId,
    /// Its severity.
    pub severity: Severity,
    /// Its confidence.
    pub confidence: Confidence,
    /// The eb, for findings about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eb: Option<u64>,
    /// 1-based line of the line that makes it (for humans; rules cite their own evidence).
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
    /// Trace entries (trace event lines).
    pub entries: u64,
    /// Lifetimes started by an alloc.
    pub lifetimes: u64,
    /// Lifetimes of an eb that had been finally released before.
    pub reallocations: u64,
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
    /// Kernel messages (console).
    pub kernel_messages: u64,
    /// Lost-events markers written.
    pub lost_markers: u64,
    /// Lifetime steps dropped at the end (lifetimes left open).
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
    let mut g = Gen::new(cfg, out);
    g.run()?;
    // A console's tree-checker message is a printk with no trace time, so it
    // cannot be placed in one allocation: when the eb was allocated more than
    // once, `race-signature` is only `likely` (tracefs files report with the
    // trace-timed `Validation failed` line instead).
    if cfg.format == Format::Console {
        for a in &mut g.injected {
            let reused =
                a.eb.is_some_and(|start| g.ebs.iter().any(|e| e.start == start && e.lifetimes > 1));
            if a.rule == crate::rules::eb::RACE_SIGNATURE && reused {
                a.confidence = Confidence::Likely;
            }
        }
    }
    Ok(Generated {
        format: cfg.format,
        seed: cfg.seed,
        cpus: g.ncpus as u32,
        counts: g.counts,
        anomalies: g.injected,
    })
}

/// Generate a capture in memory.
pub fn generate_vec(cfg: &Config) -> (Vec<u8>, Generated) {
    let mut v = Vec::with_capacity(cfg.size.min(1 << 30) as usize + (1 << 20));
    let g = generate(cfg, &mut v).expect("writing to a Vec cannot fail");
    (v, g)
}

// ---------------------------------------------------------------------------
// Randomness

/// splitmix64: small, fast, and good enough for test data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `pct` percent.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    fn frac(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

// ---------------------------------------------------------------------------
// Number formatting without allocation

fn put_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// Right-aligned in `width` with `pad`.
fn put_u64_right(buf: &mut Vec<u8>, v: u64, width: usize, pad: u8) {
    for _ in digits(v)..width {
        buf.push(pad);
    }
    put_u64(buf, v);
}

/// Left-aligned in `width` (spaces after).
fn put_u64_left(buf: &mut Vec<u8>, v: u64, width: usize) {
    put_u64(buf, v);
    for _ in digits(v)..width {
        buf.push(b' ');
    }
}

/// `"%5lu.%06lu"` of a µs count.
fn put_secs(buf: &mut Vec<u8>, us: u64) {
    put_u64_right(buf, us / 1_000_000, 5, b' ');
    buf.push(b'.');
    put_u64_right(buf, us % 1_000_000, 6, b'0');
}

fn put_hex(buf: &mut Vec<u8>, v: u64, width: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..width).rev() {
        buf.push(HEX[((v >> (4 * i)) & 0xf) as usize]);
    }
}

fn uuid_text(r: &mut Rng) -> Vec<u8> {
    let (a, b) = (r.next(), r.next());
    let mut v = Vec::with_capacity(36);
    put_hex(&mut v, a >> 32, 8);
    v.push(b'-');
    put_hex(&mut v, (a >> 16) & 0xffff, 4);
    v.push(b'-');
    put_hex(&mut v, 0x4000 | (a & 0x0fff), 4);
    v.push(b'-');
    put_hex(&mut v, 0x8000 | ((b >> 48) & 0x3fff), 4);
    v.push(b'-');
    put_hex(&mut v, b & 0xffff_ffff_ffff, 12);
    v
}

// ---------------------------------------------------------------------------
// The simulated machine

const NODESIZE: u64 = 16384;
/// First eb slot: 610352 · 16384 = 10000007168.
const EB_BASE_SLOT: u64 = 610_352;
/// Slots above the base: up to ~2·10^10.
const EB_SLOTS: u64 = 610_000;
/// Coprime to `EB_SLOTS` (2^4 · 5^4 · 61): pool index → slot is a bijection.
const EB_STRIDE: u64 = 23_757;
const ZERO_FSID: &[u8] = b"00000000-0000-0000-0000-000000000000";
/// At the end, steps further than this in the future are dropped.
const HORIZON_US: u64 = 2_000;
/// Average tracefs line length, to turn a size into an entry count.
const AVG_TRACEFS_LINE: u64 = 140;
/// Share of the capture over which the CPUs print their first entries.
const RAMP: f64 = 0.03;

#[derive(Debug)]
struct Task {
    comm: Vec<u8>,
    pid: u32,
    home: u16,
    /// `"%8.8s-%-7d "` (latency prefix up to the CPU).
    lat: Vec<u8>,
    /// `"%16s-%-7d "` (normal prefix up to the CPU).
    norm: Vec<u8>,
}

impl Task {
    fn new(comm: &[u8], pid: u32, home: u16) -> Task {
        let short = &comm[..comm.len().min(8)];
        let mut lat = Vec::with_capacity(20);
        lat.resize(8 - short.len(), b' ');
        lat.extend_from_slice(short);
        lat.push(b'-');
        put_u64_left(&mut lat, pid as u64, 7);
        lat.push(b' ');
        let mut norm = Vec::with_capacity(28);
        norm.resize(16usize.saturating_sub(comm.len()), b' ');
        norm.extend_from_slice(comm);
        norm.push(b'-');
        put_u64_left(&mut norm, pid as u64, 7);
        norm.push(b' ');
        Task {
            comm: comm.to_vec(),
            pid,
            home,
            lat,
            norm,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Eb {
    start: u64,
    level: u8,
    owner: u64,
    generation: u64,
    busy: bool,
    /// Had an anomaly: never gets another one.
    tainted: bool,
    /// Lifetimes started so far.
    lifetimes: u32,
    /// Contending allocs written in the current lifetime.
    racers: u32,
}

/// What an injected read completion means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    None,
    /// Second read of a lifetime.
    Dup,
    /// Second read, with a tree-checker message to follow (console).
    DupRace,
    /// Second read followed by `Validation failed` (tracefs race signature).
    DupRaceVf,
    /// A read followed by `Validation failed`.
    Vf,
    /// A read after the final release.
    Rar,
}

#[derive(Debug, Clone, Copy)]
enum Act {
    /// Start lifetimes (recurring).
    Start,
    /// One filler event (recurring).
    Filler,
    Alloc {
        eb: u32,
        task: u16,
        cpu: u16,
        first: bool,
    },
    Discard {
        eb: u32,
        task: u16,
        cpu: u16,
    },
    Read {
        eb: u32,
        task: u16,
        cpu: u16,
        refs: u8,
        tag: Tag,
    },
    Use {
        eb: u32,
        task: u16,
        cpu: u16,
        kind: u8,
    },
    CloneAlloc {
        eb: u32,
        task: u16,
        cpu: u16,
    },
    Release {
        eb: u32,
        task: u16,
        cpu: u16,
        refs: u8,
        clone: bool,
        last: bool,
    },
    TreeCheck {
        eb: u32,
    },
    ReadSideMsg {
        eb: u32,
    },
}

impl Act {
    /// Trace entries the step writes.
    fn entries(&self) -> u64 {
        match self {
            Act::Start | Act::Filler | Act::TreeCheck { .. } | Act::ReadSideMsg { .. } => 0,
            Act::Discard { .. } | Act::Release { .. } => 2,
            Act::Read {
                tag: Tag::Vf | Tag::DupRaceVf,
                ..
            } => 2,
            _ => 1,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Item {
    t: u64,
    seq: u64,
    required: bool,
    act: Act,
}

impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        (self.t, self.seq) == (o.t, o.seq)
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    /// Reversed: `BinaryHeap` pops the earliest step.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.t, o.seq).cmp(&(self.t, self.seq))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dup,
    Race,
    Rar,
    Vf,
    Splat,
}

struct Gen<'c, W: Write> {
    cfg: &'c Config,
    rng: Rng,
    w: W,
    buf: Vec<u8>,
    flushed: u64,
    counts: Counts,
    injected: Vec<Injected>,

    ncpus: usize,
    tasks: Vec<Task>,
    iou: Vec<Vec<u16>>,
    kw: Vec<Vec<u16>>,
    ghost: Vec<u16>,
    releasers: Vec<u16>,
    idle_task: u16,
    cpu_active: Vec<bool>,
    active: Vec<u16>,
    cpu_seen: Vec<bool>,
    seen: usize,
    lost_cpu: Vec<bool>,
    activation: Vec<(f64, u16)>,
    next_activation: usize,

    ebs: Vec<Eb>,
    idle: Vec<u32>,
    live: usize,
    max_live: usize,

    heap: BinaryHeap<Item>,
    seq: u64,
    pending_entries: u64,
    now: u64,
    console_us: u64,
    fsid: Vec<u8>,

    triggers: Vec<(f64, Kind)>,
    next_trigger: usize,
    draining: bool,
    /// Tracefs: entries promised by the header.
    target_entries: u64,
}

impl<'c, W: Write> Gen<'c, W> {
    fn new(cfg: &'c Config, w: W) -> Gen<'c, W> {
        let mut rng = Rng(cfg.seed ^ 0x7261_6365_7369_6674);
        let ncpus = cfg.cpus.clamp(1, 4096) as usize;
        let fsid = uuid_text(&mut rng);

        // Tasks: io-wq workers of the `bfs` process, end-io kworkers, a ghost
        // worker per CPU (its only line is an orphan discard), and the usual
        // kernel threads.
        let mut tasks = Vec::new();
        let mut used: HashSet<u32> = HashSet::new();
        fn add(
            tasks: &mut Vec<Task>,
            used: &mut HashSet<u32>,
            comm: &[u8],
            pid: u32,
            home: usize,
        ) -> u16 {
            used.insert(pid);
            tasks.push(Task::new(comm, pid, home as u16));
            (tasks.len() - 1) as u16
        }
        let tgid = 45_118u32;
        let bfs = add(
            &mut tasks,
            &mut used,
            b"bfs",
            tgid,
            rng.below(ncpus as u64) as usize,
        );
        let worker_comm = format!("iou-wrk-{tgid}");
        let mut next_pid = tgid + 20;
        let mut iou = vec![Vec::new(); ncpus];
        let mut ghost = Vec::with_capacity(ncpus);
        for (cpu, list) in iou.iter_mut().enumerate() {
            for _ in 0..3 {
                next_pid += 1 + rng.below(40) as u32;
                list.push(add(
                    &mut tasks,
                    &mut used,
                    worker_comm.as_bytes(),
                    next_pid,
                    cpu,
                ));
            }
        }
        for cpu in 0..ncpus {
            next_pid += 1 + rng.below(40) as u32;
            ghost.push(add(
                &mut tasks,
                &mut used,
                worker_comm.as_bytes(),
                next_pid,
                cpu,
            ));
        }
        let mut kw = vec![Vec::new(); ncpus];
        let unbound = 2 * ncpus + 1;
        for (cpu, list) in kw.iter_mut().enumerate() {
            for _ in 0..2 {
                let pid = loop {
                    let p = if rng.pct(70) {
                        rng.range(300, 3000)
                    } else {
                        rng.range(3000, 44_000)
                    } as u32;
                    if !used.contains(&p) {
                        break p;
                    }
                };
                let comm = format!("kworker/u{unbound}:{}", rng.range(0, 9));
                list.push(add(&mut tasks, &mut used, comm.as_bytes(), pid, cpu));
            }
        }
        let mut releasers = vec![bfs];
        for (comm, pid) in [
            (&b"btrfs-transacti"[..], 873u32),
            (b"btrfs-cleaner", 872),
            (b"kswapd0", 98),
        ] {
            let home = rng.below(ncpus as u64) as usize;
            releasers.push(add(&mut tasks, &mut used, comm, pid, home));
        }
        let idle_task = add(&mut tasks, &mut used, b"<idle>", 0, 0);

        // The eb pool: big enough for the live lifetimes, small enough to be reused.
        let pool = (cfg.size / (48 << 10)).clamp(4096, 200_000) as usize;
        let off = rng.below(EB_SLOTS);
        let ebs: Vec<Eb> = (0..pool as u64)
            .map(|i| {
                let slot = (i * EB_STRIDE + off) % EB_SLOTS;
                let level = match rng.below(100) {
                    0..=79 => 0,
                    80..=94 => 1,
                    _ => 2,
                };
                let owner = match rng.below(10) {
                    0 => 2,
                    1 => 7,
                    2 | 3 => 5,
                    _ => 256 + rng.below(8),
                };
                Eb {
                    start: (EB_BASE_SLOT + slot) * NODESIZE,
                    level,
                    owner,
                    generation: 60 + rng.below(30),
                    busy: false,
                    tainted: false,
                    lifetimes: 0,
                    racers: 0,
                }
            })
            .collect();
        let idle: Vec<u32> = (0..pool as u32).rev().collect();

        // CPUs print their first entry over the ramp, in random order.
        let mut order: Vec<u16> = (0..ncpus as u16).collect();
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        let mut activation: Vec<(f64, u16)> = order
            .iter()
            .enumerate()
            .map(|(i, &c)| (if i == 0 { 0.0 } else { rng.frac() * RAMP }, c))
            .collect();
        activation.sort_by(|a, b| a.0.total_cmp(&b.0));
        let lost_cpu = (0..ncpus)
            .map(|_| cfg.lost_events && cfg.format == Format::Console && rng.pct(92))
            .collect();

        // Anomaly triggers, after the ramp.
        let p = &cfg.plan;
        let splats = if cfg.format == Format::Console {
            p.splats
        } else {
            0
        };
        let mut triggers = Vec::new();
        for (n, kind) in [
            (p.duplicate_reads, Kind::Dup),
            (p.race_signatures, Kind::Race),
            (p.reads_after_release, Kind::Rar),
            (p.validation_failures, Kind::Vf),
            (splats, Kind::Splat),
        ] {
            for _ in 0..n {
                triggers.push((RAMP + 0.02 + rng.frac() * (0.88 - RAMP), kind));
            }
        }
        triggers.sort_by(|a, b| a.0.total_cmp(&b.0));

        let target_entries = (cfg.size / AVG_TRACEFS_LINE).max(64);
        let now = match cfg.format {
            // µs since the buffer was reset (latency format), a bit over 11 minutes.
            Format::Console => 680_000_000 + rng.below(1_000_000),
            // seconds.µs of the local clock.
            Format::Tracefs => 2_649_000_000 + rng.below(1_000_000),
        };
        Gen {
            cfg,
            rng,
            w,
            buf: Vec::with_capacity(1 << 21),
            flushed: 0,
            counts: Counts::default(),
            injected: Vec::new(),
            ncpus,
            tasks,
            iou,
            kw,
            ghost,
            releasers,
            idle_task,
            cpu_active: vec![false; ncpus],
            active: Vec::with_capacity(ncpus),
            cpu_seen: vec![false; ncpus],
            seen: 0,
            lost_cpu,
            activation,
            next_activation: 0,
            max_live: pool / 2,
            ebs,
            idle,
            live: 0,
            heap: BinaryHeap::new(),
            seq: 0,
            pending_entries: 0,
            now,
            console_us: 0,
            fsid,
            triggers,
            next_trigger: 0,
            draining: false,
            target_entries,
        }
    }

    // -- output ------------------------------------------------------------

    fn bytes(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    fn flush_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= 1 << 20 {
            self.w.write_all(&self.buf)?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// End the current line.
    fn nl(&mut self) {
        self.buf.push(b'\n');
        self.counts.lines += 1;
    }

    fn progress(&self) -> f64 {
        match self.cfg.format {
            Format::Console => self.bytes() as f64 / self.cfg.size.max(1) as f64,
            Format::Tracefs => self.counts.entries as f64 / self.target_entries as f64,
        }
    }

    /// `[ 2740.240046] ` with the console clock advanced.
    fn console_prefix(&mut self, advance: bool) {
        if advance {
            self.console_us += self.rng.range(35, 75);
        }
        self.buf.push(b'[');
        put_secs(&mut self.buf, self.console_us);
        self.buf.extend_from_slice(b"] ");
    }

    /// A kernel message on the console.
    fn kmsg(&mut self, parts: &[&[u8]]) {
        self.console_prefix(true);
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        self.nl();
        self.counts.kernel_messages += 1;
    }

    /// Start a trace entry: markers for a CPU's first entry, then the context prefix.
    fn entry(&mut self, task: u16, cpu: u16, flags: &[u8]) {
        let c = cpu as usize;
        let console = self.cfg.format == Format::Console;
        if console {
            self.console_us += self.rng.range(35, 75);
        }
        if !self.cpu_seen[c] {
            self.cpu_seen[c] = true;
            self.seen += 1;
            if console && self.lost_cpu[c] {
                self.console_prefix(false);
                self.buf.extend_from_slice(b"CPU:");
                put_u64(&mut self.buf, cpu as u64);
                self.buf.extend_from_slice(b" [LOST ");
                let lost = self.rng.range(280_000, 1_300_000);
                put_u64(&mut self.buf, lost);
                self.buf.extend_from_slice(b" EVENTS]");
                self.nl();
                self.counts.lost_markers += 1;
                let line = self.counts.lines;
                self.inject(
                    crate::rules::lost::LOST_EVENTS,
                    None,
                    line,
                    "lost-events marker",
                );
                if let Some(last) = self.injected.last_mut() {
                    last.cpu = Some(cpu as u32);
                }
            } else if !console && self.cfg.lost_events && self.counts.entries > 0 {
                self.buf.extend_from_slice(b"##### CPU ");
                put_u64(&mut self.buf, cpu as u64);
                self.buf.extend_from_slice(b" buffer started ####");
                self.nl();
            }
        }
        let t = &self.tasks[task as usize];
        if console {
            self.buf.push(b'[');
            put_secs(&mut self.buf, self.console_us);
            self.buf.extend_from_slice(b"] ");
            self.buf.extend_from_slice(&t.lat);
            put_u64_right(&mut self.buf, cpu as u64, 3, b' ');
            self.buf.extend_from_slice(flags);
            self.buf.push(b' ');
            put_u64(&mut self.buf, self.now);
            self.buf.extend_from_slice(b"us : ");
        } else {
            self.buf.extend_from_slice(&t.norm);
            self.buf.push(b'[');
            put_u64_right(&mut self.buf, cpu as u64, 3, b'0');
            self.buf.extend_from_slice(b"] ");
            self.buf.extend_from_slice(flags);
            self.buf.push(b' ');
            put_secs(&mut self.buf, self.now);
            self.buf.extend_from_slice(b": ");
        }
        self.counts.entries += 1;
    }

    fn inject(&mut self, rule: RuleId, eb: Option<u64>, line: u64, what: &'static str) {
        // Severities as the spec's rule table (§5) states them.
        let severity = rule.severity();
        self.injected.push(Injected {
            rule,
            severity,
            confidence: Confidence::Certain,
            eb,
            line,
            cpu: None,
            what,
        });
    }

    fn eb_dump(&mut self, eb: u32, refs: u64, zero: bool) {
        let e = self.ebs[eb as usize];
        self.buf.extend_from_slice(b"eb=");
        put_u64(&mut self.buf, e.start);
        self.buf.extend_from_slice(b" page_refs=");
        put_u64(&mut self.buf, refs);
        self.buf.extend_from_slice(b" eb level=");
        if zero {
            self.buf.push(b'0');
            self.buf.extend_from_slice(b" fsid=");
            self.buf.extend_from_slice(ZERO_FSID);
        } else {
            put_u64(&mut self.buf, e.level as u64);
            self.buf.extend_from_slice(b" fsid=");
            self.buf.extend_from_slice(&self.fsid);
        }
    }

    // -- scheduling --------------------------------------------------------

    fn push(&mut self, t: u64, required: bool, act: Act) {
        self.seq += 1;
        self.pending_entries += act.entries();
        self.heap.push(Item {
            t,
            seq: self.seq,
            required,
            act,
        });
    }

    fn random_active(&mut self) -> u16 {
        self.active[self.rng.below(self.active.len() as u64) as usize]
    }

    fn pick_iou(&mut self) -> (u16, u16) {
        let cpu = self.random_active();
        let l = &self.iou[cpu as usize];
        (l[self.rng.below(l.len() as u64) as usize], cpu)
    }

    fn pick_kworker(&mut self, cpu: u16) -> u16 {
        let l = &self.kw[cpu as usize];
        l[self.rng.below(l.len() as u64) as usize]
    }

    /// A kernel thread or task: on its home CPU when that one is printing.
    fn place(&mut self, task: u16) -> u16 {
        let home = self.tasks[task as usize].home;
        if self.cpu_active[home as usize] {
            home
        } else {
            self.random_active()
        }
    }

    fn pick_releaser(&mut self) -> (u16, u16) {
        if self.rng.pct(55) {
            return self.pick_iou();
        }
        let t = self.releasers[self.rng.below(self.releasers.len() as u64) as usize];
        (t, self.place(t))
    }

    /// An idle eb: often one released recently (re-allocation), else any.
    fn take_idle(&mut self, untainted: bool) -> Option<u32> {
        let n = self.idle.len();
        if n == 0 {
            return None;
        }
        let mut i = if self.rng.pct(50) {
            n - 1 - self.rng.below(n.min(64) as u64) as usize
        } else {
            self.rng.below(n as u64) as usize
        };
        if untainted {
            let mut tries = 0;
            while self.ebs[self.idle[i] as usize].tainted {
                i = (i + 1) % n;
                tries += 1;
                if tries == n {
                    return None;
                }
            }
        }
        let eb = self.idle.swap_remove(i);
        self.ebs[eb as usize].busy = true;
        self.live += 1;
        Some(eb)
    }

    /// Script one lifetime of an idle eb starting now; `kind` injects an anomaly.
    fn start_lifetime(&mut self, kind: Option<Kind>) -> bool {
        let Some(eb) = self.take_idle(kind.is_some()) else {
            return false;
        };
        let req = kind.is_some();
        if req {
            self.ebs[eb as usize].tainted = true;
        }
        let t0 = self.now + self.rng.range(0, 3);
        let (owner, ocpu) = self.pick_iou();
        self.push(
            t0,
            req,
            Act::Alloc {
                eb,
                task: owner,
                cpu: ocpu,
                first: true,
            },
        );

        // An insert race: distinct io-wq workers miss the cache within a few µs.
        if self.rng.pct(9) {
            let want = self.rng.range(2, 5) as usize;
            let mut racers = vec![(owner, ocpu, t0)];
            let mut t = t0;
            let mut tries = 0;
            while racers.len() < want && tries < 40 {
                tries += 1;
                let (task, cpu) = self.pick_iou();
                if racers.iter().any(|x| x.0 == task) {
                    continue;
                }
                t += self.rng.range(1, 3);
                racers.push((task, cpu, t));
            }
            let winner = self.rng.below(racers.len() as u64) as usize;
            for (i, &(task, cpu, t)) in racers.iter().enumerate() {
                if i > 0 {
                    self.push(
                        t,
                        req,
                        Act::Alloc {
                            eb,
                            task,
                            cpu,
                            first: false,
                        },
                    );
                }
                if i != winner {
                    let td = t + self.rng.range(4, 15);
                    self.push(td, req, Act::Discard { eb, task, cpu });
                }
            }
        }

        // The read completes on an end-io kworker, usually on the same CPU.
        let rcpu = if self.rng.pct(80) {
            ocpu
        } else {
            self.random_active()
        };
        let reader = self.pick_kworker(rcpu);
        let t_read = t0 + self.rng.range(90, 400);
        let refs = 3 + self.rng.below(3) as u8;
        let first_tag = if kind == Some(Kind::Vf) {
            Tag::Vf
        } else {
            Tag::None
        };
        self.push(
            t_read,
            req,
            Act::Read {
                eb,
                task: reader,
                cpu: rcpu,
                refs,
                tag: first_tag,
            },
        );
        let mut t_last = t_read;
        match kind {
            Some(Kind::Dup | Kind::Race) => {
                // A second reader on another CPU, 40-300 µs later.
                let mut cpu2 = self.random_active();
                if self.active.len() > 1 {
                    while cpu2 == rcpu {
                        cpu2 = self.random_active();
                    }
                }
                let mut reader2 = self.pick_kworker(cpu2);
                if reader2 == reader {
                    let l = &self.kw[cpu2 as usize];
                    reader2 = *l.iter().find(|&&k| k != reader).unwrap_or(&reader2);
                }
                let t2 = t_read + self.rng.range(40, 300);
                let tag = match (kind, self.cfg.format) {
                    (Some(Kind::Dup), _) => Tag::Dup,
                    (_, Format::Console) => Tag::DupRace,
                    (_, Format::Tracefs) => Tag::DupRaceVf,
                };
                let refs2 = refs + 1 + self.rng.below(5) as u8;
                self.push(
                    t2,
                    true,
                    Act::Read {
                        eb,
                        task: reader2,
                        cpu: cpu2,
                        refs: refs2,
                        tag,
                    },
                );
                if tag == Tag::DupRace {
                    let tc = t2 + self.rng.range(3, 40);
                    self.push(tc, true, Act::TreeCheck { eb });
                }
                t_last = t2;
            }
            Some(Kind::Vf) if self.cfg.format == Format::Console => {
                let tm = t_read + self.rng.range(1, 20);
                self.push(tm, true, Act::ReadSideMsg { eb });
            }
            _ => {}
        }

        // How long the eb stays cached.
        let dur = if req || self.rng.pct(80) {
            self.rng.range(1_000, 15_000)
        } else {
            self.rng.range(30_000, 300_000)
        };
        let t_end = t_last + dur;
        for _ in 0..self.rng.below(5) {
            let tu = self.rng.range(t_last + 5, t_end - 50);
            let (task, cpu) = self.pick_iou();
            let k = self.rng.below(5) as u8;
            self.push(
                tu,
                req,
                Act::Use {
                    eb,
                    task,
                    cpu,
                    kind: k,
                },
            );
        }
        // A clone nested in the lifetime, released by its holder before the end.
        if dur > 1_500 && self.rng.pct(8) {
            let tc = self.rng.range(t_last + 10, t_end - 1_200);
            let tr = tc + self.rng.range(20, 800);
            let (task, cpu) = if self.rng.pct(50) {
                self.pick_iou()
            } else {
                let t = self.releasers[1];
                (t, self.place(t))
            };
            self.push(tc, req, Act::CloneAlloc { eb, task, cpu });
            self.push(
                tr,
                req,
                Act::Release {
                    eb,
                    task,
                    cpu,
                    refs: 1,
                    clone: true,
                    last: false,
                },
            );
        }
        let (task, cpu) = self.pick_releaser();
        let refs = self.rng.below(3) as u8;
        let rar = kind == Some(Kind::Rar);
        self.push(
            t_end,
            req,
            Act::Release {
                eb,
                task,
                cpu,
                refs,
                clone: false,
                last: !rar,
            },
        );
        if rar {
            // A read completion after the final release, then the eb is released again.
            let rc = self.random_active();
            let reader = self.pick_kworker(rc);
            let tr = t_end + self.rng.range(20, 300);
            self.push(
                tr,
                true,
                Act::Read {
                    eb,
                    task: reader,
                    cpu: rc,
                    refs: 3,
                    tag: Tag::Rar,
                },
            );
            let (task, cpu) = self.pick_releaser();
            let tz = tr + self.rng.range(300, 3_000);
            self.push(
                tz,
                true,
                Act::Release {
                    eb,
                    task,
                    cpu,
                    refs: 0,
                    clone: false,
                    last: true,
                },
            );
        }
        true
    }

    // -- the run -------------------------------------------------------------

    fn run(&mut self) -> io::Result<()> {
        match self.cfg.format {
            Format::Console => self.console_head(),
            Format::Tracefs => self.tracefs_head(),
        }
        self.activate_due()?;
        let t = self.now;
        self.push(t, false, Act::Start);
        self.push(t, false, Act::Filler);
        while let Some(item) = self.heap.pop() {
            self.pending_entries -= item.act.entries();
            self.now = self.now.max(item.t);
            self.exec(item.act)?;
            self.flush_if_full()?;
            if !self.draining {
                self.activate_due()?;
                self.trigger_due()?;
                if self.should_drain() {
                    self.drain();
                }
            }
        }
        if self.cfg.format == Format::Tracefs {
            // The header promised exactly this many entries.
            while self.counts.entries < self.target_entries {
                self.now += self.rng.range(0, 3);
                self.filler(None);
                self.flush_if_full()?;
            }
        } else {
            self.console_tail();
        }
        self.w.write_all(&self.buf)?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        self.w.flush()?;
        self.counts.bytes = self.flushed;
        Ok(())
    }

    fn should_drain(&self) -> bool {
        match self.cfg.format {
            Format::Console => self.bytes() + (96 << 10) >= self.cfg.size,
            Format::Tracefs => {
                let reserve = (self.target_entries / 10).min(4_000);
                self.counts.entries + reserve >= self.target_entries
            }
        }
    }

    /// Stop starting work; drop steps far in the future unless an anomaly needs them.
    fn drain(&mut self) {
        self.draining = true;
        let items = std::mem::take(&mut self.heap).into_vec();
        let mut horizon = HORIZON_US;
        loop {
            let keep = |i: &Item| {
                !matches!(i.act, Act::Start | Act::Filler)
                    && (i.required || i.t <= self.now + horizon)
            };
            let kept: u64 = items
                .iter()
                .filter(|i| keep(i))
                .map(|i| i.act.entries())
                .sum();
            let fits = self.counts.entries + kept <= self.target_entries;
            if self.cfg.format == Format::Console || fits || horizon == 0 {
                let before = items.len();
                let kept_items: Vec<Item> = items.into_iter().filter(|i| keep(i)).collect();
                self.counts.dropped_steps += (before - kept_items.len()) as u64;
                self.pending_entries = kept;
                self.heap = kept_items.into();
                return;
            }
            horizon /= 4;
        }
    }

    fn activate_due(&mut self) -> io::Result<()> {
        while self.next_activation < self.activation.len()
            && self.activation[self.next_activation].0 <= self.progress()
        {
            let cpu = self.activation[self.next_activation].1;
            self.next_activation += 1;
            self.cpu_active[cpu as usize] = true;
            self.active.push(cpu);
            // The CPU's first surviving entry, right now.
            let console = self.cfg.format == Format::Console;
            if console && self.lost_cpu[cpu as usize] && self.rng.pct(15) {
                // Its `called from` line was lost with the rest (spec §5.1).
                let g = self.ghost[cpu as usize];
                let eb = self.rng.below(self.ebs.len() as u64) as u32;
                self.entry(g, cpu, b".....");
                self.buf
                    .extend_from_slice(b"btrfs_release_extent_buffer_pages: before release, ");
                self.eb_dump(eb, 0, true);
                self.nl();
                self.counts.orphan_discards += 1;
            } else {
                self.filler(Some(cpu));
            }
            self.flush_if_full()?;
        }
        Ok(())
    }

    fn trigger_due(&mut self) -> io::Result<()> {
        if self.seen < self.ncpus {
            return Ok(());
        }
        while self.next_trigger < self.triggers.len()
            && self.triggers[self.next_trigger].0 <= self.progress()
        {
            let kind = self.triggers[self.next_trigger].1;
            if kind == Kind::Splat {
                self.warning_splat();
            } else if !self.start_lifetime(Some(kind)) {
                // No idle eb right now; try again later.
                return Ok(());
            }
            self.next_trigger += 1;
            self.flush_if_full()?;
        }
        Ok(())
    }

    fn exec(&mut self, act: Act) -> io::Result<()> {
        match act {
            Act::Start => {
                if !self.draining {
                    if self.live < self.max_live {
                        self.start_lifetime(None);
                    }
                    let t = self.now + self.rng.range(1, 40);
                    self.push(t, false, Act::Start);
                }
            }
            Act::Filler => {
                if !self.draining {
                    if self.cfg.format == Format::Console && self.rng.below(4_000) == 0 {
                        self.noise();
                    }
                    self.filler(None);
                    let t = self.now + self.rng.range(0, 3);
                    self.push(t, false, Act::Filler);
                }
            }
            Act::Alloc {
                eb,
                task,
                cpu,
                first,
            } => {
                self.entry(task, cpu, b".....");
                self.buf
                    .extend_from_slice(b"alloc_extent_buffer: alloc_extent_buffer: alloc eb=");
                put_u64(&mut self.buf, self.ebs[eb as usize].start);
                self.buf.extend_from_slice(b" len=16384");
                self.nl();
                let e = &mut self.ebs[eb as usize];
                if first {
                    self.counts.lifetimes += 1;
                    if e.lifetimes > 0 {
                        self.counts.reallocations += 1;
                    }
                    e.lifetimes += 1;
                    e.racers = 0;
                } else {
                    self.counts.contending_allocs += 1;
                    if e.racers == 0 {
                        self.counts.insert_races += 1;
                    }
                    e.racers += 1;
                }
            }
            Act::Discard { eb, task, cpu } => {
                self.entry(task, cpu, b".....");
                self.buf.extend_from_slice(
                    b"alloc_extent_buffer: called from btrfs_release_extent_buffer",
                );
                self.nl();
                self.now += 1;
                self.entry(task, cpu, b".....");
                self.buf
                    .extend_from_slice(b"btrfs_release_extent_buffer_pages: before release, ");
                self.eb_dump(eb, 0, true);
                self.nl();
                self.counts.discards += 1;
            }
            Act::Read {
                eb,
                task,
                cpu,
                refs,
                tag,
            } => {
                self.entry(task, cpu, b".....");
                self.buf
                    .extend_from_slice(b"end_bbio_meta_read: read done, ");
                self.eb_dump(eb, refs as u64, false);
                self.nl();
                self.counts.reads += 1;
                let line = self.counts.lines;
                let start = Some(self.ebs[eb as usize].start);
                match tag {
                    Tag::None => {}
                    Tag::Dup => {
                        self.counts.duplicate_reads += 1;
                        self.inject(
                            crate::rules::eb::DUPLICATE_READ_COMPLETION,
                            start,
                            line,
                            "second read completion in one lifetime",
                        );
                    }
                    Tag::DupRace | Tag::DupRaceVf => {
                        self.counts.duplicate_reads += 1;
                        self.inject(
                            crate::rules::eb::DUPLICATE_READ_COMPLETION,
                            start,
                            line,
                            "second read completion in one lifetime",
                        );
                        self.inject(
                            crate::rules::eb::RACE_SIGNATURE,
                            start,
                            line,
                            "second read completion of an eb reported corrupt",
                        );
                    }
                    Tag::Rar => self.inject(
                        crate::rules::eb::READ_AFTER_RELEASE,
                        start,
                        line,
                        "read completion after the final release",
                    ),
                    Tag::Vf => {}
                }
                if matches!(tag, Tag::Vf | Tag::DupRaceVf) {
                    self.now += 1;
                    self.entry(task, cpu, b".....");
                    self.buf
                        .extend_from_slice(b"end_bbio_meta_read: !!! Validation failed, eb=");
                    put_u64(&mut self.buf, self.ebs[eb as usize].start);
                    self.buf.extend_from_slice(b" !!!");
                    self.nl();
                    let line = self.counts.lines;
                    self.inject(
                        crate::rules::reports::VALIDATION_FAILED,
                        start,
                        line,
                        "debug patch: Validation failed",
                    );
                }
            }
            Act::Use {
                eb,
                task,
                cpu,
                kind,
            } => self.tracepoint(eb, task, cpu, kind),
            Act::CloneAlloc { eb, task, cpu } => {
                self.entry(task, cpu, b".....");
                self.buf.extend_from_slice(
                    b"btrfs_clone_extent_buffer: btrfs_clone_extent_buffer: alloc eb=",
                );
                put_u64(&mut self.buf, self.ebs[eb as usize].start);
                self.buf.extend_from_slice(b" len=16384");
                self.nl();
                self.counts.clones += 1;
            }
            Act::Release {
                eb,
                task,
                cpu,
                refs,
                clone,
                last,
            } => {
                self.entry(task, cpu, b".....");
                self.buf
                    .extend_from_slice(b"release_extent_buffer: called from release_extent_buffer");
                self.nl();
                self.now += 1;
                self.entry(task, cpu, b".....");
                self.buf
                    .extend_from_slice(b"btrfs_release_extent_buffer_pages: before release, ");
                self.eb_dump(eb, refs as u64, false);
                self.nl();
                if clone {
                    self.counts.clone_releases += 1;
                } else {
                    self.counts.final_releases += 1;
                }
                if last {
                    self.ebs[eb as usize].busy = false;
                    self.idle.push(eb);
                    self.live -= 1;
                }
            }
            Act::TreeCheck { eb } => {
                let e = self.ebs[eb as usize];
                let mut msg = Vec::with_capacity(200);
                msg.extend_from_slice(b"BTRFS critical (device dm-0): corrupted ");
                msg.extend_from_slice(if e.level == 0 { b"leaf" } else { b"node" });
                msg.extend_from_slice(b", root=");
                put_u64(&mut msg, 256 + self.rng.below(8));
                msg.extend_from_slice(b" block=");
                put_u64(&mut msg, e.start);
                msg.extend_from_slice(b" owner mismatch, have ");
                // A real tree id outside the subvolume range: plausible, just wrong.
                put_u64(&mut msg, [1, 2, 4, 5, 7, 9, 10][self.rng.below(7) as usize]);
                msg.extend_from_slice(b" expect [256, 18446744073709551360] eb=");
                put_u64(&mut msg, e.start);
                self.kmsg(&[&msg]);
                let line = self.counts.lines;
                self.inject(
                    crate::rules::reports::TREE_CHECK_FAILURE,
                    Some(e.start),
                    line,
                    "tree-checker owner mismatch",
                );
            }
            Act::ReadSideMsg { eb } => {
                let e = self.ebs[eb as usize];
                let mut msg = Vec::with_capacity(160);
                msg.extend_from_slice(
                    b"BTRFS error (device dm-0): level verify failed on logical ",
                );
                put_u64(&mut msg, e.start);
                msg.extend_from_slice(b" mirror 1 wanted ");
                put_u64(&mut msg, e.level as u64);
                msg.extend_from_slice(b" found ");
                put_u64(&mut msg, e.level as u64 + 1);
                self.kmsg(&[&msg]);
                let line = self.counts.lines;
                self.inject(
                    crate::rules::reports::VALIDATION_FAILED,
                    Some(e.start),
                    line,
                    "read-side validation message",
                );
            }
        }
        Ok(())
    }

    // -- content -------------------------------------------------------------

    fn tracepoint(&mut self, eb: u32, task: u16, cpu: u16, kind: u8) {
        let e = self.ebs[eb as usize];
        let name: &[u8] = match kind {
            0 => b"btrfs_tree_read_lock",
            1 => b"btrfs_tree_read_unlock",
            2 => b"btrfs_tree_lock",
            3 => b"btrfs_tree_unlock",
            _ => b"btrfs_try_tree_read_lock",
        };
        self.entry(task, cpu, b".....");
        self.buf.extend_from_slice(name);
        self.buf.extend_from_slice(b": ");
        self.buf.extend_from_slice(&self.fsid);
        self.buf.extend_from_slice(b": block=");
        put_u64(&mut self.buf, e.start);
        self.buf.extend_from_slice(b" generation=");
        put_u64(&mut self.buf, e.generation);
        if kind == 0 || kind == 2 {
            // The sleeping lock events carry their wait.
            let end = self.now * 1000 + self.rng.below(1000);
            let diff = self.rng.range(800, 90_000);
            self.buf.extend_from_slice(b" start_ns=");
            put_u64(&mut self.buf, end - diff);
            self.buf.extend_from_slice(b" end_ns=");
            put_u64(&mut self.buf, end);
            self.buf.extend_from_slice(b" diff_ns=");
            put_u64(&mut self.buf, diff);
        }
        self.buf.extend_from_slice(b" owner=");
        put_u64(&mut self.buf, e.owner);
        self.buf.extend_from_slice(b" is_log_tree=0");
        self.nl();
        self.counts.tracepoints += 1;
    }

    /// One filler event, on `cpu` or on any printing CPU.
    fn filler(&mut self, cpu: Option<u16>) {
        let cpu = match cpu {
            Some(c) => c,
            None => self.random_active(),
        };
        let c = cpu as usize;
        let roll = self.rng.below(100);
        let iou = self.iou[c][self.rng.below(3) as usize];
        let kwk = self.kw[c][self.rng.below(2) as usize];
        match roll {
            0..=29 => {
                let idle = self.rng.pct(30);
                let prev = if idle { self.idle_task } else { iou };
                let next = if idle { kwk } else { self.idle_task };
                self.entry(prev, cpu, b"d..2.");
                self.buf.extend_from_slice(b"sched_switch: prev_comm=");
                self.comm_of(prev, cpu);
                self.buf.extend_from_slice(b" prev_pid=");
                put_u64(&mut self.buf, self.tasks[prev as usize].pid as u64);
                self.buf.extend_from_slice(if idle {
                    b" prev_prio=120 prev_state=R ==> next_comm="
                } else {
                    b" prev_prio=120 prev_state=S ==> next_comm="
                });
                self.comm_of(next, cpu);
                self.buf.extend_from_slice(b" next_pid=");
                put_u64(&mut self.buf, self.tasks[next as usize].pid as u64);
                self.buf.extend_from_slice(b" next_prio=120");
            }
            30..=54 => {
                let (waker, wakee) = if self.rng.pct(50) {
                    (iou, kwk)
                } else {
                    (kwk, iou)
                };
                self.entry(waker, cpu, b"d..3.");
                self.buf.extend_from_slice(b"sched_wakeup: comm=");
                self.comm_of(wakee, cpu);
                self.buf.extend_from_slice(b" pid=");
                put_u64(&mut self.buf, self.tasks[wakee as usize].pid as u64);
                self.buf.extend_from_slice(b" prio=120 target_cpu=");
                put_u64_right(&mut self.buf, cpu as u64, 3, b'0');
            }
            55..=62 => {
                self.entry(iou, cpu, b"d.h1.");
                self.buf.extend_from_slice(b"irq_handler_entry: irq=");
                put_u64(&mut self.buf, 24 + (c as u64 % 8));
                self.buf.extend_from_slice(b" name=virtio2-req.");
                put_u64(&mut self.buf, c as u64 % 8);
            }
            63..=69 => {
                self.entry(iou, cpu, b"d.h1.");
                self.buf.extend_from_slice(b"irq_handler_exit: irq=");
                put_u64(&mut self.buf, 24 + (c as u64 % 8));
                self.buf.extend_from_slice(b" ret=handled");
            }
            70..=77 => {
                let sector = self.rng.below(1 << 26) * 8;
                self.entry(kwk, cpu, b".....");
                self.buf
                    .extend_from_slice(b"block_rq_issue: 252,0 RM 16384 () ");
                put_u64(&mut self.buf, sector);
                self.buf.extend_from_slice(b" + 32 [");
                self.comm_of(kwk, cpu);
                self.buf.push(b']');
            }
            78..=85 => {
                let sector = self.rng.below(1 << 26) * 8;
                self.entry(iou, cpu, b"d.h1.");
                self.buf
                    .extend_from_slice(b"block_rq_complete: 252,0 RM () ");
                put_u64(&mut self.buf, sector);
                self.buf.extend_from_slice(b" + 32 [0]");
            }
            86..=91 => {
                let work = 0xffff_8880_0000_0000 | (self.rng.next() & 0xfff_fff0);
                self.entry(kwk, cpu, b".....");
                self.buf
                    .extend_from_slice(b"workqueue_execute_start: work struct ");
                put_hex(&mut self.buf, work, 16);
                self.buf
                    .extend_from_slice(b": function btrfs_work_helper [btrfs]");
            }
            _ => {
                // A data read: same `read done` text, but no eb (a decoy).
                self.entry(kwk, cpu, b".....");
                self.buf
                    .extend_from_slice(b"end_bbio_data_read: read done, ino=");
                put_u64(&mut self.buf, 257 + self.rng.below(200_000));
                self.buf.extend_from_slice(b" off=");
                put_u64(&mut self.buf, self.rng.below(1 << 18) * 4096);
                self.buf.extend_from_slice(b" len=4096 mirror=1");
                self.counts.data_reads += 1;
                self.nl();
                return;
            }
        }
        self.nl();
        self.counts.fillers += 1;
    }

    /// A task's comm in an event's fields (`swapper/N` for the idle task).
    fn comm_of(&mut self, task: u16, cpu: u16) {
        if task == self.idle_task {
            self.buf.extend_from_slice(b"swapper/");
            put_u64(&mut self.buf, cpu as u64);
        } else {
            let t = &self.tasks[task as usize];
            self.buf.extend_from_slice(&t.comm);
        }
    }

    // -- console framing -----------------------------------------------------

    fn boot_line(&mut self, us: u64, text: &[u8]) {
        self.console_us = self.console_us.max(us);
        self.buf.push(b'[');
        put_secs(&mut self.buf, self.console_us);
        self.buf.extend_from_slice(b"] ");
        self.buf.extend_from_slice(text);
        self.nl();
        self.counts.kernel_messages += 1;
    }

    fn console_head(&mut self) {
        let cpus = self.ncpus.to_string();
        let fsid = String::from_utf8_lossy(&self.fsid).into_owned();
        let boot: Vec<(u64, String)> = vec![
            (0, "Linux version 6.8.0-rc7-synth (tracesift@synth) (gcc (GCC) 13.2.1 20230801, GNU ld (GNU Binutils) 2.42.0) #15 SMP PREEMPT_DYNAMIC".into()),
            (0, "Command line: root=/dev/mapper/root rw console=tty0 console=ttyS0,115200 ftrace_dump_on_oops trace_buf_size=1G".into()),
            (0, "BIOS-provided physical RAM map:".into()),
            (0, "BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable".into()),
            (0, "BIOS-e820: [mem 0x0000000000100000-0x000000007f6ecfff] usable".into()),
            (0, "BIOS-e820: [mem 0x0000000100000000-0x000000027fffffff] usable".into()),
            (0, "NX (Execute Disable) protection: active".into()),
            (0, "DMI: QEMU Standard PC (Q35 + ICH9, 2009), BIOS unknown 2/2/2022".into()),
            (41_211, format!("smpboot: Allowing {cpus} CPUs, 0 hotplug CPUs")),
            (412_003, format!("smp: Brought up 1 node, {cpus} CPUs")),
            (1_533_027, "Run /init as init process".into()),
            (3_127_551, format!("BTRFS: device fsid {fsid} devid 1 transid 87 /dev/mapper/root scanned by mount (412)")),
            (3_140_912, format!("BTRFS info (device dm-0): first mount of filesystem {fsid}")),
            (3_140_930, "BTRFS info (device dm-0): using crc32c (crc32c-intel) checksum algorithm".into()),
            (3_141_322, "BTRFS info (device dm-0): using free-space-tree".into()),
            (9_884_120, "systemd[1]: Detected virtualization kvm.".into()),
        ];
        for (us, text) in &boot {
            self.boot_line(*us, text.as_bytes());
        }
        self.buf.extend_from_slice(
            b"[  OK  ] Mounted /sys/kernel/tracing - Kernel Trace File System.\n",
        );
        self.counts.lines += 1;
        self.console_us = 600_000_000 + self.rng.below(100_000_000);
        if self.cfg.trigger_oops {
            self.oops_bug();
        } else {
            self.kmsg(&[b"sysrq: Dump ftrace buffer"]);
        }
        self.kmsg(&[b"Dumping ftrace buffer:"]);
        self.kmsg(&[b"---------------------------------"]);
    }

    /// The oops that triggered the dump (spec example: the 2024 typescript).
    fn oops_bug(&mut self) {
        let cpu = self.rng.below(self.ncpus as u64).to_string();
        let pid = (45_400 + self.rng.below(200)).to_string();
        let task =
            format!("CPU: {cpu} PID: {pid} Comm: iou-wrk-45118 Not tainted 6.8.0-rc7-synth #15");
        let lines: [&[u8]; 7] = [
            b"------------[ cut here ]------------",
            b"kernel BUG at fs/btrfs/tree-checker.c:2070!",
            b"invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
            task.as_bytes(),
            b"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS unknown 2/2/2022",
            b"RIP: 0010:btrfs_check_eb_owner+0xde/0x120 [btrfs]",
            b"Code: 00 ff ff ff 4c 89 d7 48 c7 c6 3a f4 6f c0 68 00 01 00 00 48 c7 c2 3f f4 6f c0 48 0f 44 d6 48 c7 c6 10 b4 70 c0 e8 a2 66 01 00 <0f> 0b be 01 00 00 00 e9 42 ff ff ff 4c 39 c9 0f 84",
        ];
        for (i, l) in lines.iter().enumerate() {
            self.kmsg(&[l]);
            if i == 1 {
                let line = self.counts.lines;
                self.inject(
                    crate::rules::splat::KERNEL_SPLAT,
                    None,
                    line,
                    "kernel BUG that triggered the dump",
                );
            }
        }
        self.registers();
        for l in [
            &b"Call Trace:"[..],
            b" <TASK>",
            b" ? die+0x36/0x90",
            b" ? do_trap+0xda/0x100",
            b" ? btrfs_check_eb_owner+0xde/0x120 [btrfs]",
            b" ? do_error_trap+0x6a/0x90",
            b" ? exc_invalid_op+0x50/0x70",
            b" ? asm_exc_invalid_op+0x1a/0x20",
            b" read_block_for_search+0x19e/0x340 [btrfs]",
            b" btrfs_search_slot+0x338/0xd00 [btrfs]",
            b" btrfs_lookup_dir_item+0x91/0xf0 [btrfs]",
            b" btrfs_lookup_dentry+0xff/0x630 [btrfs]",
            b" btrfs_lookup+0x12/0x30 [btrfs]",
            b" __lookup_slow+0x86/0x130",
            b" walk_component+0xdb/0x150",
            b" path_lookupat+0x6a/0x1a0",
            b" filename_lookup+0xe8/0x1f0",
            b" vfs_statx+0x92/0x1c0",
            b" io_statx+0x27/0x40",
            b" io_issue_sqe+0x5f/0x3e0",
            b" io_wq_submit_work+0x8c/0x2d0",
            b" io_worker_handle_work+0x159/0x5b0",
            b" io_wq_worker+0x10e/0x3b0",
            b" ret_from_fork+0x34/0x50",
            b" ret_from_fork_asm+0x1b/0x30",
            b" </TASK>",
            b"Modules linked in: intel_rapl_msr intel_rapl_common kvm_amd ccp kvm vfat fat virtio_net net_failover failover virtio_blk dm_crypt",
        ] {
            self.kmsg(&[l]);
        }
    }

    fn registers(&mut self) {
        let mut r = |name: &[u8]| {
            let v = 0xffff_a98c_0000_0000 | (self.rng.next() & 0xffff_fff8);
            let mut s = name.to_vec();
            put_hex(&mut s, v, 16);
            s
        };
        let rsp = r(b"RSP: 0018:");
        let rax = r(b"RAX: 0000000000000000 RBX: ");
        let rdx = r(b"RDX: 0000000000000000 RSI: ");
        self.kmsg(&[&rsp, b" EFLAGS: 00010286"]);
        self.kmsg(&[&rax, b" RCX: 0000000000000000"]);
        self.kmsg(&[&rdx, b" RDI: 0000000000000000"]);
    }

    /// A WARNING printed by another CPU while the dump is printing.
    fn warning_splat(&mut self) {
        const WARNINGS: [(&str, &str, &str, [&str; 4]); 3] = [
            (
                "fs/btrfs/disk-io.c:4613",
                "btrfs_mark_buffer_dirty",
                "0x10c/0x130",
                [
                    "btrfs_insert_dir_item+0x1f3/0x2a0 [btrfs]",
                    "btrfs_add_link+0xd6/0x3f0 [btrfs]",
                    "btrfs_create_common+0xc4/0x130 [btrfs]",
                    "path_openat+0x29e/0x1150",
                ],
            ),
            (
                "fs/btrfs/block-rsv.c:445",
                "btrfs_use_block_rsv",
                "0x1a8/0x2f0 ",
                [
                    "btrfs_alloc_tree_block+0x8f/0x560 [btrfs]",
                    "btrfs_force_cow_block+0x15a/0x6b0 [btrfs]",
                    "btrfs_cow_block+0xdf/0x230 [btrfs]",
                    "btrfs_search_slot+0x4f3/0xd00 [btrfs]",
                ],
            ),
            (
                "fs/btrfs/locking.c:297",
                "btrfs_tree_lock_nested",
                "0x4e/0x130",
                [
                    "btrfs_lock_root_node+0x28/0x60 [btrfs]",
                    "btrfs_search_slot+0x1b2/0xd00 [btrfs]",
                    "btrfs_lookup_inode+0x40/0xd0 [btrfs]",
                    "btrfs_iget_path+0x8e/0x2f0 [btrfs]",
                ],
            ),
        ];
        let (loc, func, off, frames) = WARNINGS[self.rng.below(3) as usize];
        let cpu = self.random_active();
        let (task, _) = self.pick_iou();
        let pid = self.tasks[task as usize].pid;
        let head = format!(
            "WARNING: CPU: {cpu} PID: {pid} at {loc} {func}+{} [btrfs]",
            off.trim()
        );
        self.kmsg(&[b"------------[ cut here ]------------"]);
        self.kmsg(&[head.as_bytes()]);
        let line = self.counts.lines;
        self.inject(
            crate::rules::splat::KERNEL_SPLAT,
            None,
            line,
            "WARNING during the dump",
        );
        self.kmsg(&[b"Modules linked in: intel_rapl_msr intel_rapl_common kvm_amd ccp kvm vfat fat virtio_net net_failover failover virtio_blk dm_crypt"]);
        let task_line = format!(
            "CPU: {cpu} PID: {pid} Comm: iou-wrk-45118 Tainted: G      D            6.8.0-rc7-synth #15"
        );
        self.kmsg(&[task_line.as_bytes()]);
        self.kmsg(&[b"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS unknown 2/2/2022"]);
        let rip = format!("RIP: 0010:{func}+{}", off.trim());
        self.kmsg(&[rip.as_bytes(), b" [btrfs]"]);
        self.registers();
        self.kmsg(&[b"Call Trace:"]);
        self.kmsg(&[b" <TASK>"]);
        self.kmsg(&[b" ? __warn+0x81/0x130"]);
        let again = format!(" ? {func}+{} [btrfs]", off.trim());
        self.kmsg(&[again.as_bytes()]);
        self.kmsg(&[b" ? report_bug+0x171/0x1a0"]);
        self.kmsg(&[b" ? handle_bug+0x3c/0x80"]);
        self.kmsg(&[b" ? exc_invalid_op+0x17/0x70"]);
        self.kmsg(&[b" ? asm_exc_invalid_op+0x1a/0x20"]);
        for f in frames {
            self.kmsg(&[b" ", f.as_bytes()]);
        }
        self.kmsg(&[b" io_issue_sqe+0x5f/0x3e0"]);
        self.kmsg(&[b" io_wq_submit_work+0x8c/0x2d0"]);
        self.kmsg(&[b" ret_from_fork_asm+0x1b/0x30"]);
        self.kmsg(&[b" </TASK>"]);
        self.kmsg(&[b"---[ end trace 0000000000000000 ]---"]);
    }

    /// Other kernel messages printed while the dump runs (none is a finding).
    fn noise(&mut self) {
        let n = self.rng.below(5);
        match n {
            0 => self.kmsg(&[b"------------[ cut here ]------------"]),
            1 => {
                let took = self.rng.range(2_501, 9_000);
                let msg = format!("perf: interrupt took too long ({took} > 2500), lowering kernel.perf_event_max_sample_rate to 63750");
                self.kmsg(&[msg.as_bytes()]);
            }
            2 => {
                let ns = self.rng.range(100_000, 3_000_000);
                let msg = format!("hrtimer: interrupt took {ns} ns");
                self.kmsg(&[msg.as_bytes()]);
            }
            3 => self.kmsg(&[b"BTRFS info (device dm-0): scrub: started on devid 1"]),
            _ => {
                let pid = self.rng.range(45_000, 46_000);
                let msg =
                    format!("iou-wrk-45118 ({pid}) used greatest stack depth: 11544 bytes left");
                self.kmsg(&[msg.as_bytes()]);
            }
        }
    }

    fn console_tail(&mut self) {
        self.kmsg(&[b"---------------------------------"]);
        if self.cfg.trigger_oops {
            self.kmsg(&[b"---[ end trace 0000000000000000 ]---"]);
            self.kmsg(&[b"Kernel panic - not syncing: Fatal exception"]);
            // The panic notifier dumps again: the buffer was consumed.
            self.kmsg(&[b"Dumping ftrace buffer:"]);
            self.kmsg(&[b"   (ftrace buffer empty)"]);
            self.kmsg(&[b"Kernel Offset: 0x20c00000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)"]);
            self.kmsg(&[b"Rebooting in 5 seconds.."]);
        }
    }

    // -- tracefs framing -----------------------------------------------------

    fn tracefs_head(&mut self) {
        let n = self.target_entries;
        let written = if self.cfg.lost_events {
            n + self.rng.range(n / 2 + 1, 3 * n + 1)
        } else {
            n
        };
        self.buf
            .extend_from_slice(b"# tracer: nop\n#\n# entries-in-buffer/entries-written: ");
        put_u64(&mut self.buf, n);
        self.buf.push(b'/');
        put_u64(&mut self.buf, written);
        self.buf.extend_from_slice(b"   #P:");
        put_u64(&mut self.buf, self.ncpus as u64);
        self.buf.extend_from_slice(
            b"\n#\n\
#                                _-----=> irqs-off/BH-disabled\n\
#                               / _----=> need-resched\n\
#                              | / _---=> hardirq/softirq\n\
#                              || / _--=> preempt-depth\n\
#                              ||| / _-=> migrate-disable\n\
#                              |||| /     delay\n\
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n\
#              | |         |   |||||     |         |\n",
        );
        self.counts.lines += 12;
        if written > n {
            self.inject(
                crate::rules::lost::LOST_EVENTS,
                None,
                3,
                "ring buffer overrun header",
            );
        }
    }
}
