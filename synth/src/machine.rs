//! The simulated machine: boots, the discrete-event simulation of eb
//! lifetimes, filler events, kernel messages, and the capture's framing.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::io::{self, Write};

use crate::kmsg::{self, Block, Ctx, Shape};
use crate::text::{
    put_hex, put_printk_time, put_secs, put_u64, put_u64_left, put_u64_right, uuid_text, Rng,
};
use crate::{Confidence, ConsoleEvents, Counts, Format, Injected, Rule};

const NODESIZE: u64 = 16384;
/// First eb slot: 610352 · 16384 = 10000007168.
const EB_BASE_SLOT: u64 = 610_352;
/// Slots above the base: eb starts up to ~7.6·10^10.
const EB_SLOTS: u64 = 4_000_000;
const ZERO_FSID: &[u8] = b"00000000-0000-0000-0000-000000000000";
/// At the end of a dump, steps further than this in the future are dropped.
const HORIZON_US: u64 = 2_000;
/// Average tracefs line length, to turn a size into an entry count.
const AVG_TRACEFS_LINE: u64 = 138;
/// Share of a dump over which the CPUs print their first entries.
const RAMP: f64 = 0.03;
/// Released ebs kept as candidates for a re-allocation.
const IDLE_CAP: usize = 65_536;
/// Lifetimes open at once, at most.
const MAX_LIVE: usize = 8_192;

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
    /// A lifetime is open (allocated, not finally released).
    open: bool,
    /// Had an anomaly: never gets another one.
    tainted: bool,
    /// The boot (1-based) the counters below belong to; 0: never used.
    boot: u32,
    /// Lifetimes started in that boot.
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

/// A scheduled injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dup,
    Race,
    Rar,
    Vf,
    Splat(Shape),
}

/// A scheduled injection and where: its progress through the dump, 0 to 1.
type Trigger = (f64, Kind);

/// One splat title of the current boot: its first line and occurrences.
struct Title {
    title: String,
    line: u64,
    count: u64,
}

/// `n` spread over `parts`: the share of part `i`.
fn share(n: u32, i: u32, parts: u32) -> u32 {
    let n = n as u64;
    (n * (i as u64 + 1) / parts as u64 - n * i as u64 / parts as u64) as u32
}

pub(crate) struct Machine<'c, W: Write> {
    cfg: &'c crate::Config,
    rng: Rng,
    w: W,
    buf: Vec<u8>,
    flushed: u64,
    pub(crate) counts: Counts,
    pub(crate) injected: Vec<Injected>,

    pub(crate) ncpus: usize,
    tasks: Vec<Task>,
    iou: Vec<Vec<u16>>,
    kw: Vec<Vec<u16>>,
    ghost: Vec<u16>,
    releasers: Vec<u16>,
    idle_task: u16,
    ebs: Vec<Eb>,
    /// One bit per eb slot: used by some eb.
    slots: Vec<u64>,
    /// The slot of the last fresh eb (tree blocks cluster).
    last_slot: u64,
    fsid: Vec<u8>,

    // -- the current boot ----------------------------------------------------
    /// 1-based.
    boot: u32,
    /// Console: the byte count at which the boot's dump ends.
    boot_end: u64,
    /// Bytes at the start of the simulated phase (dump or trace file).
    phase_start: u64,
    /// Trace entries written in this boot.
    boot_entries: u64,
    /// Tracefs: entries the boot's header promised.
    target_entries: u64,
    cpu_active: Vec<bool>,
    active: Vec<u16>,
    cpu_seen: Vec<bool>,
    seen: usize,
    lost_cpu: Vec<bool>,
    activation: Vec<(f64, u16)>,
    next_activation: usize,
    /// Candidates for a re-allocation (released in this boot, or used in the previous one).
    idle: Vec<u32>,
    /// Ebs allocated in this boot, in order of first allocation.
    boot_used: Vec<u32>,
    live: usize,
    heap: BinaryHeap<Item>,
    seq: u64,
    now: u64,
    console_us: u64,
    triggers: Vec<Trigger>,
    next_trigger: usize,
    draining: bool,
    /// Tracefs: `console:` events of this boot carry the printk time.
    printk_time: bool,
    /// A WARNING / an oops was printed in this boot (taint `W` / `D`).
    warned: bool,
    died: bool,
    /// Oopses so far in this boot (`[#N]`).
    die: u32,
    titles: Vec<Title>,
    /// Race signatures of this boot: (index in `injected`, eb).
    races: Vec<(usize, u32)>,
}

impl<'c, W: Write> Machine<'c, W> {
    pub(crate) fn new(cfg: &'c crate::Config, w: W) -> Machine<'c, W> {
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
        let last_slot = rng.below(EB_SLOTS);

        Machine {
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
            ebs: Vec::new(),
            slots: vec![0; EB_SLOTS.div_ceil(64) as usize],
            last_slot,
            fsid,
            boot: 0,
            boot_end: 0,
            phase_start: 0,
            boot_entries: 0,
            target_entries: 0,
            cpu_active: vec![false; ncpus],
            active: Vec::with_capacity(ncpus),
            cpu_seen: vec![false; ncpus],
            seen: 0,
            lost_cpu: vec![false; ncpus],
            activation: Vec::new(),
            next_activation: 0,
            idle: Vec::new(),
            boot_used: Vec::new(),
            live: 0,
            heap: BinaryHeap::new(),
            seq: 0,
            now: 0,
            console_us: 0,
            triggers: Vec::new(),
            next_trigger: 0,
            draining: false,
            printk_time: true,
            warned: false,
            died: false,
            die: 0,
            titles: Vec::new(),
            races: Vec::new(),
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

    fn console(&self) -> bool {
        self.cfg.format == Format::Console
    }

    /// Progress through the simulated phase of the boot, 0 to 1.
    fn progress(&self) -> f64 {
        if self.console() {
            (self.bytes() - self.phase_start) as f64
                / (self.boot_end - self.phase_start).max(1) as f64
        } else {
            self.boot_entries as f64 / self.target_entries.max(1) as f64
        }
    }

    /// A console line at printk time `us` (no advance) that is not a trace entry.
    fn console_line(&mut self, us: u64, text: &[u8]) {
        self.console_us = self.console_us.max(us);
        put_printk_time(&mut self.buf, self.console_us);
        self.buf.extend_from_slice(text);
        self.nl();
        self.counts.kernel_messages += 1;
    }

    /// A kernel message now: on a console with its printk time (advanced),
    /// in a tracefs file as a `console:` event of a printing CPU.
    fn kmsg(&mut self, text: &[u8]) {
        if self.console() {
            let us = self.console_us + self.rng.range(35, 75);
            self.console_line(us, text);
            return;
        }
        let cpu = self.random_active();
        let task = self.pick_kworker(cpu);
        self.entry(task, cpu, b"d..1.");
        self.buf.extend_from_slice(b"console: ");
        if self.printk_time {
            // The printk clock is not the trace clock (F.13): close, not equal.
            let us = self.now.saturating_sub(self.rng.range(5, 400));
            put_printk_time(&mut self.buf, us);
        }
        self.buf.extend_from_slice(text);
        self.nl();
        self.counts.kernel_messages += 1;
        self.counts.console_events += 1;
    }

    /// A line a serial console shows with no printk prefix (firmware, systemd status).
    fn raw_line(&mut self, text: &[u8]) {
        self.buf.extend_from_slice(text);
        self.nl();
        self.counts.other_lines += 1;
    }

    /// Dmesg noise until it makes up `noise_permille` of the lines.
    fn noise_due(&mut self) {
        let want = self.counts.lines * self.cfg.noise_permille as u64;
        if self.counts.noise_lines * 1000 < want && self.rng.pct(40) {
            self.noise();
        }
    }

    fn noise(&mut self) {
        // On a console one in eight is a systemd status line without a prefix.
        let userspace = self.console() && self.rng.pct(12);
        let text = kmsg::noise(&mut self.rng, userspace);
        if userspace {
            self.raw_line(text.as_bytes());
        } else {
            self.kmsg(text.as_bytes());
        }
        self.counts.noise_lines += 1;
    }

    /// Start a trace entry: markers for a CPU's first entry, then the context prefix.
    fn entry(&mut self, task: u16, cpu: u16, flags: &[u8]) {
        let c = cpu as usize;
        let console = self.console();
        if console {
            self.console_us += self.rng.range(35, 75);
        }
        if !self.cpu_seen[c] {
            self.cpu_seen[c] = true;
            self.seen += 1;
            if console && self.lost_cpu[c] {
                put_printk_time(&mut self.buf, self.console_us);
                self.buf.extend_from_slice(b"CPU:");
                put_u64(&mut self.buf, cpu as u64);
                self.buf.extend_from_slice(b" [LOST ");
                let lost = self.rng.range(280_000, 1_300_000);
                put_u64(&mut self.buf, lost);
                self.buf.extend_from_slice(b" EVENTS]");
                self.nl();
                self.counts.lost_markers += 1;
                let line = self.counts.lines;
                self.inject(Rule::LostEvents, None, line, "lost-events marker");
                if let Some(last) = self.injected.last_mut() {
                    last.cpu = Some(cpu as u32);
                }
            } else if !console && self.cfg.lost_events && self.boot_entries > 0 {
                self.buf.extend_from_slice(b"##### CPU ");
                put_u64(&mut self.buf, cpu as u64);
                self.buf.extend_from_slice(b" buffer started ####");
                self.nl();
            }
        }
        let t = &self.tasks[task as usize];
        if console {
            put_printk_time(&mut self.buf, self.console_us);
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
        self.boot_entries += 1;
    }

    fn inject(&mut self, rule: Rule, eb: Option<u64>, line: u64, what: &'static str) {
        self.injected.push(Injected {
            rule,
            severity: rule.severity(),
            confidence: Confidence::Certain,
            eb,
            title: None,
            count: 1,
            boot: self.boot,
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
        self.counts.eb_lines += 1;
    }

    // -- scheduling --------------------------------------------------------

    fn push(&mut self, t: u64, required: bool, act: Act) {
        self.seq += 1;
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

    /// A never-used eb (while at most half the slots are taken): often a
    /// neighbour of the previous one, as tree blocks cluster, else anywhere.
    fn fresh_eb(&mut self) -> Option<u32> {
        let i = self.ebs.len() as u64;
        if i >= EB_SLOTS / 2 {
            return None;
        }
        let slot = loop {
            let s = if self.rng.pct(60) {
                (self.last_slot + EB_SLOTS + self.rng.range(0, 128) - 64) % EB_SLOTS
            } else {
                self.rng.below(EB_SLOTS)
            };
            let (w, bit) = ((s / 64) as usize, 1u64 << (s % 64));
            if self.slots[w] & bit == 0 {
                self.slots[w] |= bit;
                self.last_slot = s;
                break s;
            }
        };
        let level = match self.rng.below(100) {
            0..=79 => 0,
            80..=94 => 1,
            _ => 2,
        };
        let owner = match self.rng.below(10) {
            0 => 2,
            1 => 7,
            2 | 3 => 5,
            _ => 256 + self.rng.below(8),
        };
        self.ebs.push(Eb {
            start: (EB_BASE_SLOT + slot) * NODESIZE,
            level,
            owner,
            generation: 60 + self.rng.below(30),
            open: false,
            tainted: false,
            boot: 0,
            lifetimes: 0,
            racers: 0,
        });
        Some(i as u32)
    }

    /// An eb for a new lifetime: a re-allocation of one released recently
    /// (or used in the previous boot) `realloc_pct` percent of the time,
    /// else a never-used one. Anomalies always get a never-used eb.
    fn take_eb(&mut self, anomaly: bool) -> Option<u32> {
        let n = self.idle.len();
        let reuse = !anomaly && n > 0 && self.rng.pct(self.cfg.realloc_pct as u64);
        let eb = if reuse {
            let i = if self.rng.pct(50) {
                n - 1 - self.rng.below(n.min(64) as u64) as usize
            } else {
                self.rng.below(n as u64) as usize
            };
            self.idle.swap_remove(i)
        } else if let Some(eb) = self.fresh_eb() {
            eb
        } else if n > 0 && !anomaly {
            self.idle.swap_remove(self.rng.below(n as u64) as usize)
        } else {
            return None;
        };
        let e = &mut self.ebs[eb as usize];
        if e.boot != self.boot {
            if e.boot != 0 {
                self.counts.cross_boot_allocs += 1;
                // Still `open` from the previous boot, whose end left it so.
                self.counts.reopened_allocs += u64::from(e.open);
            }
            e.boot = self.boot;
            e.lifetimes = 0;
            self.boot_used.push(eb);
        }
        e.open = true;
        self.live += 1;
        Some(eb)
    }

    /// Script one lifetime starting now; `kind` injects an anomaly.
    fn start_lifetime(&mut self, kind: Option<Kind>) -> bool {
        let Some(eb) = self.take_eb(kind.is_some()) else {
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
            Some(Kind::Vf) if self.console() => {
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

    pub(crate) fn run(&mut self) -> io::Result<()> {
        let boots = self.cfg.boots.clamp(1, 64);
        for b in 0..boots {
            let left = self.cfg.size.saturating_sub(self.bytes());
            let budget = left / (boots - b) as u64;
            self.begin_boot(b, boots);
            match self.cfg.format {
                Format::Console => self.console_boot(b, boots, budget)?,
                Format::Tracefs => self.tracefs_boot(budget)?,
            }
            self.end_boot();
            self.flush_if_full()?;
        }
        self.w.write_all(&self.buf)?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        self.w.flush()?;
        self.counts.bytes = self.flushed;
        self.counts.boots = boots;
        self.counts.distinct_ebs = self.ebs.len() as u64;
        self.injected.sort_by_key(|a| a.line);
        Ok(())
    }

    /// Fresh per-boot state: no CPU has printed, the previous boot's ebs
    /// become candidates for re-allocation (those left open last, so the
    /// most recent), the anomalies and splats of this boot are scheduled.
    fn begin_boot(&mut self, b: u32, boots: u32) {
        self.boot = b + 1;
        self.boot_entries = 0;
        self.cpu_active.iter_mut().for_each(|c| *c = false);
        self.active.clear();
        self.cpu_seen.iter_mut().for_each(|c| *c = false);
        self.seen = 0;
        self.heap.clear();
        self.draining = false;
        self.warned = false;
        self.died = false;
        self.die = 0;
        self.titles.clear();
        self.races.clear();

        let used = std::mem::take(&mut self.boot_used);
        let keep = &used[used.len().saturating_sub(IDLE_CAP)..];
        let (open, closed): (Vec<u32>, Vec<u32>) =
            keep.iter().partition(|&&e| self.ebs[e as usize].open);
        self.idle = closed;
        self.idle.extend(open);
        self.live = 0;

        // CPUs print their first entry over the ramp, in random order.
        let n = self.ncpus;
        let mut order: Vec<u16> = (0..n as u16).collect();
        for i in (1..order.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        self.activation = order
            .iter()
            .enumerate()
            .map(|(i, &c)| (if i == 0 { 0.0 } else { self.rng.frac() * RAMP }, c))
            .collect();
        self.activation.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.next_activation = 0;
        for c in 0..n {
            self.lost_cpu[c] = self.cfg.lost_events && self.console() && self.rng.pct(92);
        }
        self.printk_time = match self.cfg.console_events {
            ConsoleEvents::None | ConsoleEvents::Time => true,
            ConsoleEvents::NoTime => false,
            ConsoleEvents::Mixed => b % 2 == 0,
        };

        // Anomaly triggers, after the ramp.
        let p = self.cfg.plan;
        let mut triggers = Vec::new();
        for (total, kind) in [
            (p.duplicate_reads, Kind::Dup),
            (p.race_signatures, Kind::Race),
            (p.reads_after_release, Kind::Rar),
            (p.validation_failures, Kind::Vf),
        ] {
            for _ in 0..share(total, b, boots) {
                triggers.push((RAMP + 0.02 + self.rng.frac() * (0.88 - RAMP), kind));
            }
        }
        for shape in self.boot_splats(b, boots) {
            triggers.push((
                RAMP + 0.01 + self.rng.frac() * (0.90 - RAMP),
                Kind::Splat(shape),
            ));
        }
        triggers.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.triggers = triggers;
        self.next_trigger = 0;
    }

    /// The splat blocks of boot `b`, in random order: its share of the
    /// floods (one to `flood_titles` WARNINGs, each repeated) and of the
    /// one-off splats (WARNING, `kernel BUG`, NULL dereference).
    fn boot_splats(&mut self, b: u32, boots: u32) -> Vec<Shape> {
        let p = self.cfg.plan;
        if self.console_events_off() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let floods = share(p.flood_splats, b, boots);
        if floods > 0 {
            let titles = p.flood_titles.clamp(1, Shape::WARNINGS as u32);
            let first = self.rng.below(Shape::WARNINGS as u64) as usize;
            for i in 0..titles {
                // The first title takes the larger part.
                let n = if i == 0 {
                    floods - floods * (titles - 1) / (titles + 1)
                } else {
                    share(floods * (titles - 1) / (titles + 1), i - 1, titles - 1)
                };
                let site = (first + i as usize * 3) % Shape::WARNINGS;
                out.extend(std::iter::repeat_n(Shape::Warning(site), n as usize));
            }
        }
        for _ in 0..share(p.splats, b, boots) {
            let shape = match self.rng.below(20) {
                0..=11 => Shape::Warning(self.rng.below(Shape::WARNINGS as u64) as usize),
                12..=16 => Shape::Bug(self.rng.below(Shape::BUGS as u64) as usize),
                _ => Shape::NullDeref(self.rng.below(Shape::NULLS as u64) as usize),
            };
            out.push(shape);
        }
        for i in (1..out.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            out.swap(i, j);
        }
        out
    }

    /// Tracefs without `console:` events has no kernel messages at all.
    fn console_events_off(&self) -> bool {
        !self.console() && self.cfg.console_events == ConsoleEvents::None
    }

    /// Settle the boot's truth: one `kernel-splat` per title with its
    /// count; a console `race-signature` is `likely` when its eb had more
    /// than one lifetime in the boot (its tree-checker printk cannot be
    /// placed in one of them).
    fn end_boot(&mut self) {
        for t in std::mem::take(&mut self.titles) {
            self.injected.push(Injected {
                rule: Rule::KernelSplat,
                severity: Rule::KernelSplat.severity(),
                confidence: Confidence::Certain,
                eb: None,
                title: Some(t.title),
                count: t.count,
                boot: self.boot,
                line: t.line,
                cpu: None,
                what: "kernel splat (its occurrences in the boot)",
            });
        }
        if self.console() {
            for &(i, eb) in &self.races {
                if self.ebs[eb as usize].lifetimes > 1 {
                    self.injected[i].confidence = Confidence::Likely;
                }
            }
        }
    }

    /// Simulate until the boot's dump (console) or trace file (tracefs) is full.
    fn simulate(&mut self) -> io::Result<()> {
        self.phase_start = self.bytes();
        self.activate_due()?;
        let t = self.now;
        self.push(t, false, Act::Start);
        self.push(t, false, Act::Filler);
        while let Some(item) = self.heap.pop() {
            self.now = self.now.max(item.t);
            self.exec(item.act)?;
            self.flush_if_full()?;
            if !self.draining {
                self.activate_due()?;
                self.trigger_due()?;
                if !self.console_events_off() {
                    self.noise_due();
                }
                if self.should_drain() {
                    self.drain();
                }
            }
        }
        Ok(())
    }

    fn should_drain(&self) -> bool {
        if self.console() {
            self.bytes() + (96 << 10) >= self.boot_end
        } else {
            let reserve = (self.target_entries / 10).min(4_000);
            self.boot_entries + reserve >= self.target_entries
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
            let fits = self.boot_entries + kept <= self.target_entries;
            if self.console() || fits || horizon == 0 {
                let before = items.len();
                let kept_items: Vec<Item> = items.into_iter().filter(|i| keep(i)).collect();
                self.counts.dropped_steps += (before - kept_items.len()) as u64;
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
            if self.console() && self.lost_cpu[cpu as usize] && self.rng.pct(15) {
                // Its `called from` line was lost with the rest (spec §5.1).
                let g = self.ghost[cpu as usize];
                let eb = match self.fresh_eb() {
                    Some(e) => e,
                    None => self.rng.below(self.ebs.len() as u64) as u32,
                };
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
            match self.triggers[self.next_trigger].1 {
                Kind::Splat(shape) => self.splat(shape),
                kind => {
                    if !self.start_lifetime(Some(kind)) {
                        // No eb left; try again later.
                        return Ok(());
                    }
                }
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
                    if self.live < MAX_LIVE {
                        self.start_lifetime(None);
                    }
                    let t = self.now + self.rng.range(1, 40);
                    self.push(t, false, Act::Start);
                }
            }
            Act::Filler => {
                if !self.draining {
                    self.filler(None);
                    let t = self.now + self.rng.range(0, self.cfg.filler_gap_us.max(1));
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
                self.counts.eb_lines += 1;
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
            } => self.read(eb, task, cpu, refs, tag),
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
                self.counts.eb_lines += 1;
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
                    self.ebs[eb as usize].open = false;
                    self.idle.push(eb);
                    if self.idle.len() >= 2 * IDLE_CAP {
                        self.idle.drain(..IDLE_CAP);
                    }
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
                self.kmsg(&msg);
                self.counts.eb_lines += 1;
                let line = self.counts.lines;
                self.inject(
                    Rule::TreeCheckFailure,
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
                self.kmsg(&msg);
                let line = self.counts.lines;
                self.inject(
                    Rule::ValidationFailed,
                    Some(e.start),
                    line,
                    "read-side validation message",
                );
            }
        }
        Ok(())
    }

    fn read(&mut self, eb: u32, task: u16, cpu: u16, refs: u8, tag: Tag) {
        self.entry(task, cpu, b".....");
        self.buf
            .extend_from_slice(b"end_bbio_meta_read: read done, ");
        self.eb_dump(eb, refs as u64, false);
        self.nl();
        self.counts.reads += 1;
        let line = self.counts.lines;
        let start = Some(self.ebs[eb as usize].start);
        match tag {
            Tag::None | Tag::Vf => {}
            Tag::Dup => {
                self.counts.duplicate_reads += 1;
                self.inject(
                    Rule::DuplicateReadCompletion,
                    start,
                    line,
                    "second read completion in one lifetime",
                );
            }
            Tag::DupRace | Tag::DupRaceVf => {
                self.counts.duplicate_reads += 1;
                self.inject(
                    Rule::DuplicateReadCompletion,
                    start,
                    line,
                    "second read completion in one lifetime",
                );
                self.races.push((self.injected.len(), eb));
                self.inject(
                    Rule::RaceSignature,
                    start,
                    line,
                    "second read completion of an eb reported corrupt",
                );
            }
            Tag::Rar => self.inject(
                Rule::ReadAfterRelease,
                start,
                line,
                "read completion after the final release",
            ),
        }
        if matches!(tag, Tag::Vf | Tag::DupRaceVf) {
            self.now += 1;
            self.entry(task, cpu, b".....");
            self.buf
                .extend_from_slice(b"end_bbio_meta_read: !!! Validation failed, eb=");
            put_u64(&mut self.buf, self.ebs[eb as usize].start);
            self.buf.extend_from_slice(b" !!!");
            self.nl();
            self.counts.eb_lines += 1;
            let line = self.counts.lines;
            self.inject(
                Rule::ValidationFailed,
                start,
                line,
                "debug patch: Validation failed",
            );
        }
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

    // -- kernel splats -------------------------------------------------------

    /// Who prints a splat: a task of a printing CPU (any CPU outside a dump).
    fn splat_ctx_task(&mut self) -> (u32, u16) {
        let cpu = if self.active.is_empty() {
            self.rng.below(self.ncpus as u64) as u16
        } else {
            self.random_active()
        };
        let task = if self.rng.pct(50) {
            self.iou[cpu as usize][self.rng.below(3) as usize]
        } else {
            self.pick_kworker(cpu)
        };
        (cpu as u32, task)
    }

    /// Print a splat block (contiguous, as one CPU prints it) and count it
    /// under its title for the boot's truth.
    fn splat(&mut self, shape: Shape) {
        let (cpu, task) = self.splat_ctx_task();
        if shape.dies() {
            self.die += 1;
        }
        let t = &self.tasks[task as usize];
        let ctx = Ctx {
            cpu,
            pid: t.pid,
            comm: &t.comm,
            warned: self.warned,
            died: self.died,
            die: self.die,
        };
        let block = kmsg::splat(&mut self.rng, shape, &ctx);
        self.print_block(&block, block.lines.len());
        if shape.dies() {
            self.died = true;
        } else {
            self.warned = true;
        }
    }

    /// Print the first `n` lines of a block and record its title.
    fn print_block(&mut self, block: &Block, n: usize) {
        let mut head_line = 0;
        for (i, l) in block.lines.iter().take(n).enumerate() {
            self.kmsg(l);
            if i == block.head {
                head_line = self.counts.lines;
            }
        }
        self.counts.splats += 1;
        self.counts.splat_lines += n as u64;
        match self.titles.iter_mut().find(|t| t.title == block.title) {
            Some(t) => t.count += 1,
            None => self.titles.push(Title {
                title: block.title.clone(),
                line: head_line,
                count: 1,
            }),
        }
    }

    // -- console framing -----------------------------------------------------

    /// One boot on a serial console: firmware (after a reboot), the boot
    /// banner, the workload's kernel messages (noise and half of the boot's
    /// WARNINGs), the dump's trigger, the dump itself with kernel messages
    /// of other CPUs among its lines, and the end (panic or reboot).
    fn console_boot(&mut self, b: u32, boots: u32, budget: u64) -> io::Result<()> {
        let start = self.bytes();
        if b > 0 {
            for l in kmsg::FIRMWARE {
                self.raw_line(l.as_bytes());
            }
        }
        self.console_us = 0;
        let fsid = String::from_utf8_lossy(&self.fsid).into_owned();
        let banner = kmsg::boot_banner(&mut self.rng, self.ncpus, &fsid, 87 + 40 * b as u64);
        for (us, text) in &banner {
            self.console_line(*us, text.as_bytes());
            self.counts.noise_lines += 1;
        }
        self.raw_line(b"[  OK  ] Mounted sys-kernel-tracing.mount - Kernel Trace File System.");

        // The workload: WARNINGs printed before the dump, among dmesg noise.
        let dump_us = 600_000_000 + self.rng.below(2_400_000_000);
        let triggers = std::mem::take(&mut self.triggers);
        let rng = &mut self.rng;
        let (before, during): (Vec<Trigger>, Vec<Trigger>) = triggers
            .into_iter()
            .partition(|(_, k)| matches!(k, Kind::Splat(Shape::Warning(_))) && rng.pct(50));
        self.triggers = during;
        // Spread over the minutes before the dump (a splat prints in a burst).
        let lines = before.len() as u64 * 26 + 50;
        let step = (dump_us - 15_000_000) / lines.max(1);
        self.console_us = 15_000_000;
        for (_, kind) in &before {
            if let Kind::Splat(shape) = *kind {
                while self.counts.noise_lines * 1000
                    < self.counts.lines * self.cfg.noise_permille as u64
                {
                    self.console_us += self.rng.range(1, step.max(1));
                    self.noise();
                }
                self.console_us += self.rng.range(1, 50 * step.max(1));
                self.splat(shape);
            }
        }
        for _ in 0..self.rng.range(5, 40) {
            self.console_us += self.rng.range(1, 20 * step.max(1));
            self.noise();
        }
        self.console_us = self.console_us.max(dump_us);

        // The trigger.
        let oops = self.cfg.trigger_oops && (b % 2 == 0 || b + 1 == boots);
        let trigger = if oops {
            self.die += 1;
            let (cpu, task) = self.splat_ctx_task();
            let t = &self.tasks[task as usize];
            let ctx = Ctx {
                cpu,
                pid: t.pid,
                comm: &t.comm,
                warned: self.warned,
                died: self.died,
                die: self.die,
            };
            let block = kmsg::trigger_oops(&mut self.rng, &ctx);
            self.print_block(&block, block.lines.len());
            self.died = true;
            true
        } else {
            self.kmsg(b"sysrq: Dump ftrace buffer");
            false
        };
        self.kmsg(b"Dumping ftrace buffer:");
        self.kmsg(b"---------------------------------");
        // The dump gets what is left of the boot's budget (at least half of it).
        self.boot_end = (start + budget).max(self.bytes() + budget / 2);
        self.now = 300_000_000 + self.rng.below(2_700_000_000);
        self.flush_if_full()?;
        self.simulate()?;
        self.console_tail(trigger);
        Ok(())
    }

    fn console_tail(&mut self, oops: bool) {
        self.kmsg(b"---------------------------------");
        if oops {
            self.kmsg(b"---[ end trace 0000000000000000 ]---");
            self.kmsg(b"Kernel panic - not syncing: Fatal exception");
            // The panic notifier dumps again: the buffer was consumed.
            self.kmsg(b"Dumping ftrace buffer:");
            self.kmsg(b"   (ftrace buffer empty)");
            self.kmsg(b"Kernel Offset: 0x20c00000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)");
            self.kmsg(b"Rebooting in 5 seconds..");
        } else {
            self.raw_line(b"[  OK  ] Stopped target graphical.target - Graphical Interface.");
            self.raw_line(b"[  OK  ] Stopped systemd-journald.service - Journal Service.");
            self.kmsg(b"systemd-shutdown[1]: Syncing filesystems and block devices.");
            self.kmsg(b"systemd-shutdown[1]: Sending SIGTERM to remaining processes...");
            let msg = format!(
                "BTRFS info (device dm-0): last unmount of filesystem {}",
                String::from_utf8_lossy(&self.fsid)
            );
            self.kmsg(msg.as_bytes());
            self.kmsg(b"reboot: Restarting system");
        }
    }

    // -- tracefs framing -----------------------------------------------------

    /// One boot's `trace` file: its header, then the trace (kernel messages
    /// as `console:` events among the others), exactly as many entries as
    /// the header promised. The trace clock restarts with each boot.
    fn tracefs_boot(&mut self, budget: u64) -> io::Result<()> {
        self.target_entries = (budget / AVG_TRACEFS_LINE).max(64);
        // Seconds since this boot: the trace clock restarts with each boot.
        self.now = (20 + self.rng.below(280)) * 1_000_000 + self.rng.below(1_000_000);
        self.tracefs_head();
        self.simulate()?;
        // The header promised exactly this many entries.
        while self.boot_entries < self.target_entries {
            self.now += self.rng.range(0, 3);
            self.filler(None);
            self.flush_if_full()?;
        }
        Ok(())
    }

    fn tracefs_head(&mut self) {
        let n = self.target_entries;
        let written = if self.cfg.lost_events {
            n + self.rng.range(n / 2 + 1, 3 * n + 1)
        } else {
            n
        };
        self.buf.extend_from_slice(b"# tracer: nop\n#\n");
        self.counts.lines += 2;
        self.buf
            .extend_from_slice(b"# entries-in-buffer/entries-written: ");
        put_u64(&mut self.buf, n);
        self.buf.push(b'/');
        put_u64(&mut self.buf, written);
        self.buf.extend_from_slice(b"   #P:");
        put_u64(&mut self.buf, self.ncpus as u64);
        self.nl();
        if written > n {
            let line = self.counts.lines;
            self.inject(Rule::LostEvents, None, line, "ring buffer overrun header");
        }
        self.buf.extend_from_slice(
            b"#\n\
#                                _-----=> irqs-off/BH-disabled\n\
#                               / _----=> need-resched\n\
#                              | / _---=> hardirq/softirq\n\
#                              || / _--=> preempt-depth\n\
#                              ||| / _-=> migrate-disable\n\
#                              |||| /     delay\n\
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n\
#              | |         |   |||||     |         |\n",
        );
        self.counts.lines += 9;
    }
}
