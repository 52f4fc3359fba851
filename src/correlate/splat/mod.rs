//! Kernel reports ("splats": WARNING, BUG, Oops, KASAN, lockdep, hung
//! tasks, RCU stalls, panics...) grouped from console lines and titled the
//! way syzkaller titles them (`kernel BUG in btrfs_check_eb_owner`,
//! `KASAN: slab-use-after-free Read in btrfs_evict_inode`).
//!
//! * `start` recognises, line by line, the headers that open a report;
//!   it is the only per-line work, and it is cheap.
//! * [`SplatTracker`] collects the lines of each open report (bounded, and
//!   only the lines of the header's printk context: the same `[T1234]`
//!   caller, or the same kind of prefix), attaches oops headers
//!   (`invalid opcode: 0000 [#1]`) and `Kernel panic - not syncing: Fatal
//!   exception` to the report they belong to, and merges one oops printed
//!   twice (same die counter and instruction pointer).
//! * [`title`] titles a report once, when it ends; `frames` picks its
//!   guilty frame.
//!
//! Every per-line step is O(1): the open reports, the reports waiting for
//! their oops header and the recent die counters are short bounded lists.
//! Memory is bounded by those lists and by one small [`Splat`] per report.

pub(crate) mod frames;
pub(crate) mod start;
pub mod title;

use std::collections::VecDeque;

use crate::correlate::evidence::{Comm, Evidence};
use crate::grammar::kernel::{oops_line, OopsLine};
use crate::grammar::Body;
use crate::prefix::{Caller, Prefixes};
use crate::record::Record;

use start::{Family, Start};
pub use title::ReportType;

/// What started a splat (its first word), as the JSON `kind` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub(crate) enum SplatKind {
    /// `WARNING:`
    #[serde(rename = "WARNING")]
    Warning,
    /// `kernel BUG at` / `BUG:` and other reports.
    #[serde(rename = "BUG")]
    Bug,
    /// `BUG: KASAN:`
    #[serde(rename = "KASAN")]
    Kasan,
    /// An Oops header with no BUG line before it (`general protection fault`, `Oops:`).
    #[serde(rename = "Oops")]
    Oops,
    /// `Kernel panic - not syncing:` not caused by an earlier splat.
    #[serde(rename = "panic")]
    Panic,
    /// `INFO:` (hung tasks, RCU stalls, old lockdep banners).
    #[serde(rename = "INFO")]
    Info,
}

impl SplatKind {
    /// Name as serialised.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SplatKind::Warning => "WARNING",
            SplatKind::Bug => "BUG",
            SplatKind::Kasan => "KASAN",
            SplatKind::Oops => "Oops",
            SplatKind::Panic => "panic",
            SplatKind::Info => "INFO",
        }
    }

    /// The kind of a report from its header line.
    fn of(header: &[u8], start: Start) -> SplatKind {
        let h = header.strip_prefix(b"[ ").unwrap_or(header);
        if matches!(start, Start::Die { .. }) {
            SplatKind::Oops
        } else if matches!(start, Start::Panic { .. }) {
            SplatKind::Panic
        } else if h.starts_with(b"WARNING") {
            SplatKind::Warning
        } else if h.starts_with(b"INFO") || h.starts_with(b"rcu: INFO") {
            SplatKind::Info
        } else if h.starts_with(b"BUG: KASAN") {
            SplatKind::Kasan
        } else {
            SplatKind::Bug
        }
    }
}

/// One kernel report.
#[derive(Debug, Clone)]
pub(crate) struct Splat {
    /// What started it.
    pub kind: SplatKind,
    /// What kind of report it is.
    pub report: ReportType,
    /// The syzkaller-style title.
    pub title: Box<str>,
    /// The guilty frame the title names.
    pub frame: Option<Box<str>>,
    /// The report is cut short, interleaved or garbled.
    pub corrupted: bool,
    /// Its first line (the WARNING / BUG / Oops / panic line).
    pub evidence: Evidence,
    /// `file:line` from a WARNING or `kernel BUG at` line.
    pub location: Option<Box<str>>,
    /// The die counter of its Oops header.
    pub die: Option<u32>,
    /// A `Kernel panic - not syncing:` followed from it.
    pub panicked: bool,
    /// `WARNING ... at fs/btrfs/extent_io.c:N end_bbio_meta_read`: the kernel's
    /// own duplicate-read check (6.10+).
    pub end_bbio_meta_read: bool,
    /// The task that hit it, from its `CPU: 6 PID: 45509 Comm: iou-wrk-45116 ...` line.
    pub task: Option<Task>,
    /// Hash of its first kernel instruction-pointer line (0: none yet).
    rip: u64,
    /// The earlier splat this one repeats (the same oops printed again).
    repeat_of: Option<usize>,
}

/// The task a report names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Task {
    /// The CPU it ran on.
    pub cpu: u32,
    /// Its pid.
    pub pid: u32,
    /// Its name (cut to 16 bytes).
    pub comm: Comm,
}

impl Task {
    /// The task of a report's `CPU: 6 PID: 45509 Comm: iou-wrk-45116 Not tainted ...` line.
    fn of_line(l: &[u8]) -> Option<Task> {
        let t = crate::fields::trim_start(l).strip_prefix(b"CPU: ")?;
        let (t, cpu) = crate::fields::dec_u32(t).ok()?;
        let t = t.strip_prefix(b" PID: ")?;
        let (t, pid) = crate::fields::dec_u32(t).ok()?;
        let t = t.strip_prefix(b" Comm: ")?;
        let end = memchr::memmem::find(t, b" Not tainted")
            .or_else(|| memchr::memmem::find(t, b" Tainted:"))
            .unwrap_or_else(|| t.iter().position(|&c| c == b' ').unwrap_or(t.len()));
        Some(Task {
            cpu,
            pid,
            comm: Comm::new(&t[..end]),
        })
    }
}

/// The printk context of a line: its caller id, or whether it had a console
/// time stamp. A report's lines share the context of its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Caller(Caller),
    Console,
    Bare,
}

impl Ctx {
    fn of(p: &Prefixes) -> Ctx {
        match p.caller {
            Some(c) => Ctx::Caller(c),
            None if p.printk_ns.is_some() => Ctx::Console,
            None => Ctx::Bare,
        }
    }

    /// Without caller ids, lines of several CPUs can interleave.
    fn shared(self) -> bool {
        !matches!(self, Ctx::Caller(_))
    }
}

/// A line that opens or joins a report, as the tracker is fed it.
#[derive(Clone, Copy)]
struct Fed<'r, 'a> {
    record: &'r Record<'a>,
    boot: u32,
    start: Start,
    ctx: Ctx,
    /// The report text on the line (from its header on).
    text: &'r [u8],
}

/// The lines of an open report, in one buffer.
#[derive(Debug, Default)]
struct Lines {
    text: Vec<u8>,
    ends: Vec<u32>,
}

impl Lines {
    fn push(&mut self, l: &[u8]) {
        let room = MAX_BYTES.saturating_sub(self.text.len());
        self.text
            .extend_from_slice(&l[..l.len().min(room).min(MAX_LINE)]);
        self.ends.push(self.text.len() as u32);
    }

    fn first(&self) -> &[u8] {
        let end = self.ends.first().map_or(0, |&e| e as usize);
        &self.text[..end]
    }

    fn full(&self) -> bool {
        self.ends.len() >= MAX_LINES || self.text.len() >= MAX_BYTES
    }

    fn slices(&self) -> Vec<&[u8]> {
        let mut start = 0usize;
        self.ends
            .iter()
            .map(|&e| {
                let s = &self.text[start..e as usize];
                start = e as usize;
                s
            })
            .collect()
    }
}

/// Lines kept per report: enough for the header, the registers, the call
/// trace and a sanitizer's allocation and free stacks.
const MAX_LINES: usize = 1024;
/// Bytes kept per report.
const MAX_BYTES: usize = 128 * 1024;
/// Bytes kept per line.
const MAX_LINE: usize = 1024;
/// Reports collected at once (one per printk context, mostly).
const MAX_OPEN: usize = 8;
/// Reports remembered while they wait for their oops header, and recent die counters.
const WINDOW: usize = 64;

/// A report being collected.
#[derive(Debug)]
struct Open {
    /// Its index in [`SplatTracker::splats`].
    idx: usize,
    ctx: Ctx,
    lines: Lines,
    /// It has shown a stack or an instruction pointer.
    stack: bool,
    /// `Sending NMI from CPU`: the other CPUs' backtraces belong to it.
    cpus: bool,
    /// An earlier splat with the same die counter (it may be a repeat).
    same_die: Option<usize>,
}

impl Open {
    fn accepts(&self, ctx: Ctx) -> bool {
        self.ctx == ctx
            || self.cpus
                && matches!(self.ctx, Ctx::Caller(_))
                && matches!(ctx, Ctx::Caller(Caller::Cpu(_)))
    }
}

/// Splats kept in full (for the report's list of splats): more are counted
/// on their title's group only.
pub(crate) const MAX_SPLATS_KEPT: usize = 10_000;

/// Titles (per boot) kept as groups: more are counted as not kept.
pub(crate) const MAX_GROUPS: usize = 10_000;

/// Evidence lines kept per group: its first occurrences.
pub(crate) const GROUP_EVIDENCE: usize = 8;

/// The splats of one title in one boot: a flood of one WARNING is one group.
#[derive(Debug, Clone)]
pub(crate) struct SplatGroup {
    /// The boot.
    pub boot: u32,
    /// The title they share.
    pub title: Box<str>,
    /// Splats in the group.
    pub count: u64,
    /// One of them was followed by a panic.
    pub panicked: bool,
    /// They are the kernel's own duplicate-read check (see [`Splat`]).
    pub end_bbio_meta_read: bool,
    /// The first lines of the first [`GROUP_EVIDENCE`] of them.
    pub evidence: Vec<Evidence>,
    /// The task that hit the first of them, when its report names it.
    pub task: Option<Task>,
    /// The task's last eb events in the trace, oldest first (see
    /// [`SplatTracker::groups_mut`]).
    pub trail: Vec<crate::correlate::ebs::Step>,
}

/// Groups console lines into titled splats.
///
/// Memory is bounded: the splats still referenced (reports being
/// collected, reports waiting for their oops header, recent die counters)
/// are live; once nothing can change a splat it is retired into its title's
/// [`SplatGroup`], and kept in full only while fewer than
/// [`MAX_SPLATS_KEPT`] are.
#[derive(Debug, Default)]
pub struct SplatTracker {
    /// Splats that may still change; `live[0]` has the global index `base`.
    live: VecDeque<Splat>,
    base: usize,
    /// Retired splats kept in full, in order of their first line.
    kept: Vec<Splat>,
    /// Groups by title and boot, in order of their first splat.
    groups: Vec<SplatGroup>,
    group_of: rustc_hash::FxHashMap<(u32, Box<str>), usize>,
    /// Retired splats not kept in full (past [`MAX_SPLATS_KEPT`]).
    not_listed: u64,
    /// Splats whose group was not kept (past [`MAX_GROUPS`] titles).
    not_grouped: u64,
    open: Vec<Open>,
    /// Reports whose oops header (`[#N]`) is still to come, oldest first,
    /// with the printk context of their first line.
    awaiting: VecDeque<(usize, Ctx)>,
    /// (die counter, splat) of recent oops headers.
    dies: VecDeque<(u32, usize)>,
    /// The splat whose oops header came last: `Fatal exception` is its panic.
    last_die: Option<usize>,
    /// Steps taken by the per-line lookups (for the linear-shape test).
    steps: u64,
}

impl SplatTracker {
    /// Feed one record of boot number `boot` (trace lines are skipped).
    /// A tracefs `console:` event counts as the kernel message it carries.
    pub(crate) fn record(&mut self, r: &Record<'_>, boot: u32) {
        let msg = match &r.body {
            Body::Trace(t) => match crate::event::console_message(t) {
                Some(m) => m,
                None => return,
            },
            _ => r.msg,
        };
        let msg = msg.strip_suffix(b"\r").unwrap_or(msg);
        let st = start::start(msg, r.prefixes.is_kernel());
        if st.is_none() && self.open.is_empty() {
            return;
        }
        let ctx = Ctx::of(&r.prefixes);
        let Some(start) = st else {
            if stack_dumping_notice(msg) {
                self.cut_shared();
            } else {
                self.append(ctx, msg);
            }
            return;
        };
        let at = match start {
            Start::Header { at, .. } | Start::Die { at, .. } | Start::Panic { at, .. } => at,
        };
        let f = Fed {
            record: r,
            boot,
            start,
            ctx,
            text: &msg[at..],
        };
        match start {
            Start::Die { die, .. } => self.die_header(f, die),
            Start::Panic { consequence, .. } => self.panic(f, consequence),
            Start::Header { family, .. } => {
                if family == Family::Inner && self.open_in(ctx).is_some() {
                    self.append(ctx, f.text);
                } else {
                    self.begin(f, None);
                }
            }
        }
    }

    /// The machine rebooted: every report ends, and die counters start
    /// again from `[#1]`.
    pub(crate) fn end_boot(&mut self) {
        while let Some(o) = self.open.pop() {
            self.close(o);
        }
        self.awaiting.clear();
        self.dies.clear();
        self.last_die = None;
        self.retire(true);
    }

    /// Every report titled, repeats merged into their first printing, and
    /// every splat retired into its group.
    pub(crate) fn finish(&mut self) {
        self.end_boot();
    }

    /// The splats kept in full, in order of their first line (after
    /// [`SplatTracker::finish`]).
    pub(crate) fn splats(&self) -> &[Splat] {
        &self.kept
    }

    /// The groups of splats by title and boot (after [`SplatTracker::finish`]).
    pub(crate) fn groups(&self) -> &[SplatGroup] {
        &self.groups
    }

    /// The groups of boot `boot`, to add what other trackers know of them.
    pub(crate) fn groups_mut(&mut self, boot: u32) -> impl Iterator<Item = &mut SplatGroup> {
        self.groups.iter_mut().filter(move |g| g.boot == boot)
    }

    /// Splats not listed in full, and splats whose title's group was not
    /// kept, to bound memory.
    pub(crate) fn not_kept(&self) -> (u64, u64) {
        (self.not_listed, self.not_grouped)
    }

    /// The splat with global index `i` (live).
    fn at(&mut self, i: usize) -> &mut Splat {
        let base = self.base;
        &mut self.live[i - base]
    }

    /// The global index of the next splat.
    fn next_index(&self) -> usize {
        self.base + self.live.len()
    }

    /// Retire the live splats before the first one still referenced (all of
    /// them with `all`): into their group, and kept in full while there is
    /// room.
    fn retire(&mut self, all: bool) {
        let referenced = if all {
            usize::MAX
        } else {
            self.open
                .iter()
                .map(|o| o.idx)
                .chain(self.awaiting.iter().map(|a| a.0))
                .chain(self.dies.iter().map(|d| d.1))
                .chain(self.last_die)
                .chain(self.next_index().checked_sub(1))
                .min()
                .unwrap_or(usize::MAX)
        };
        self.steps += (self.open.len() + self.awaiting.len() + self.dies.len()) as u64;
        while self.base < referenced {
            let Some(sp) = self.live.pop_front() else {
                break;
            };
            self.base += 1;
            if sp.repeat_of.is_none() {
                self.group(sp);
            }
        }
    }

    /// Count a retired splat on its title's group; keep it while there is room.
    fn group(&mut self, sp: Splat) {
        let key = (sp.evidence.boot, sp.title.clone());
        let g = match self.group_of.get(&key) {
            Some(&g) => Some(g),
            None if self.groups.len() < MAX_GROUPS => {
                self.groups.push(SplatGroup {
                    boot: sp.evidence.boot,
                    title: sp.title.clone(),
                    count: 0,
                    panicked: false,
                    end_bbio_meta_read: false,
                    evidence: Vec::new(),
                    task: sp.task,
                    trail: Vec::new(),
                });
                self.group_of.insert(key, self.groups.len() - 1);
                Some(self.groups.len() - 1)
            }
            None => None,
        };
        match g.and_then(|g| self.groups.get_mut(g)) {
            Some(g) => {
                g.count += 1;
                g.panicked |= sp.panicked;
                g.end_bbio_meta_read |= sp.end_bbio_meta_read;
                if g.evidence.len() < GROUP_EVIDENCE {
                    g.evidence.push(sp.evidence.clone());
                }
            }
            None => self.not_grouped += 1,
        }
        if self.kept.len() < MAX_SPLATS_KEPT {
            self.kept.push(sp);
        } else {
            self.not_listed += 1;
        }
    }

    /// Steps the per-line lookups have taken so far: grows linearly with
    /// the lines fed, whatever they are.
    #[cfg(test)]
    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    /// Close the reports whose context other CPUs share (no caller ids):
    /// another report or a notice with its own stack starts in the middle
    /// of their lines, and what follows cannot be told apart.
    fn cut_shared(&mut self) {
        let mut i = 0;
        self.steps += self.open.len() as u64;
        while i < self.open.len() {
            if self.open[i].ctx.shared() {
                let o = self.open.remove(i);
                self.close(o);
            } else {
                i += 1;
            }
        }
    }

    /// The open report of this context.
    fn open_in(&mut self, ctx: Ctx) -> Option<usize> {
        self.steps += self.open.len() as u64;
        self.open.iter().position(|o| o.accepts(ctx))
    }

    fn append(&mut self, ctx: Ctx, line: &[u8]) {
        let mut i = 0;
        self.steps += self.open.len() as u64;
        while i < self.open.len() {
            let o = &mut self.open[i];
            if !o.accepts(ctx) {
                i += 1;
                continue;
            }
            o.lines.push(line);
            if !o.stack && (frames::stack_header(line) || frames::ip_line(line).is_some()) {
                o.stack = true;
            }
            if !o.cpus && crate::fields::contains(line, b"Sending NMI from CPU") {
                o.cpus = true;
            }
            if o.lines.full() {
                let o = self.open.remove(i);
                self.close(o);
            } else {
                i += 1;
            }
        }
    }

    /// Open a report at its header line.
    fn begin(&mut self, f: Fed<'_, '_>, die: Option<u32>) {
        let Fed {
            record: r,
            boot,
            start: s,
            ctx,
            text: header,
        } = f;
        // A new report ends the reports of its context, and without caller
        // ids every report: their lines can no longer be told apart. Except
        // a report that has not shown its stack yet when the new one is
        // from the same task (its stack follows), or is the same header
        // printed by another CPU at once (parallel oopses).
        let mut i = 0;
        self.steps += self.open.len() as u64;
        while i < self.open.len() {
            let o = &self.open[i];
            let keep = !o.stack
                && (o.ctx == ctx && !ctx.shared() || ctx.shared() && o.lines.first() == header);
            let ends = o.ctx == ctx || o.ctx.shared() && ctx.shared();
            if ends && !keep {
                let o = self.open.remove(i);
                self.close(o);
            } else {
                i += 1;
            }
        }
        if self.open.len() >= MAX_OPEN {
            let o = self.open.remove(0);
            self.close(o);
        }
        let idx = self.next_index();
        let kind = SplatKind::of(header, s);
        self.live.push_back(Splat {
            kind,
            report: ReportType::Bug,
            title: title::sanitize(&String::from_utf8_lossy(header)).into(),
            frame: None,
            corrupted: false,
            evidence: Evidence::from_record(r, boot, "splat"),
            location: None,
            die,
            panicked: false,
            end_bbio_meta_read: false,
            task: None,
            rip: 0,
            repeat_of: None,
        });
        let same_die = die.and_then(|d| self.recent_die(d));
        if let Some(d) = die {
            self.note_die(d, idx);
        }
        let mut lines = Lines::default();
        lines.push(header);
        self.open.push(Open {
            idx,
            ctx,
            lines,
            stack: false,
            cpus: false,
            same_die,
        });
        if matches!(
            s,
            Start::Header {
                family: Family::WantsDie,
                ..
            }
        ) {
            if self.awaiting.len() >= WINDOW {
                self.awaiting.pop_front();
            }
            self.awaiting.push_back((idx, ctx));
        }
    }

    /// A report waiting for its oops header got it: an earlier report with
    /// the same die counter may be this one printed before (compared when
    /// both are titled, by their instruction pointers).
    fn got_die(&mut self, die: u32, k: usize) {
        let same = self.recent_die(die).filter(|&j| j != k);
        self.at(k).die = Some(die);
        self.note_die(die, k);
        let Some(j) = same else {
            return;
        };
        match self.open.iter_mut().find(|o| o.idx == k) {
            Some(o) => o.same_die = Some(j),
            None => self.repeat(k, j),
        }
    }

    /// Mark splat `k` a repeat of the earlier splat `j` when both printed
    /// the same instruction pointer.
    fn repeat(&mut self, k: usize, j: usize) {
        if j >= k || j < self.base {
            return;
        }
        let (rip, first) = (self.at(k).rip, self.at(j).rip);
        if rip != 0 && rip == first && self.at(j).repeat_of.is_none() {
            let panicked = self.at(k).panicked;
            self.at(j).panicked |= panicked;
            self.at(k).repeat_of = Some(j);
        }
    }

    fn note_die(&mut self, die: u32, idx: usize) {
        if self.dies.len() >= WINDOW {
            self.dies.pop_front();
        }
        self.dies.push_back((die, idx));
        self.last_die = Some(idx);
    }

    /// An earlier splat of this boot with this die counter.
    fn recent_die(&mut self, die: u32) -> Option<usize> {
        self.steps += self.dies.len() as u64;
        self.dies
            .iter()
            .rev()
            .find(|&&(d, _)| d == die)
            .map(|&(_, k)| k)
    }

    /// `invalid opcode: 0000 [#1] PREEMPT SMP NOPTI`.
    fn die_header(&mut self, f: Fed<'_, '_>, die: u32) {
        let (ctx, line) = (f.ctx, f.text);
        // The oldest report still waiting for its header, from this context.
        self.steps += self.awaiting.len() as u64;
        let waiting = self
            .awaiting
            .iter()
            .position(|&(_, kctx)| kctx == ctx || kctx.shared() && ctx.shared());
        if let Some(w) = waiting {
            if let Some((k, _)) = self.awaiting.remove(w) {
                self.got_die(die, k);
                self.append(ctx, line);
                return;
            }
        }
        // The same oops header again inside the report it belongs to.
        if let Some(o) = self.open_in(ctx) {
            let k = self.open[o].idx;
            if self.at(k).die == Some(die) {
                self.append(ctx, line);
                return;
            }
        }
        self.begin(f, Some(die));
    }

    /// `Kernel panic - not syncing: ...`.
    fn panic(&mut self, f: Fed<'_, '_>, consequence: bool) {
        let (ctx, line) = (f.ctx, f.text);
        let open = self.open_in(ctx).map(|o| self.open[o].idx);
        let fatal = line.starts_with(b"Kernel panic - not syncing: Fatal exception");
        let last_die = self.last_die;
        // The newest splat still live: after a reboot every splat is
        // retired, and a panic line then starts a report of its own.
        let newest = self.live.len().checked_sub(1).map(|i| self.base + i);
        let target = if fatal {
            last_die.or(open).or(newest)
        } else if consequence {
            open.or(last_die).or(newest)
        } else {
            open
        };
        match target {
            Some(k) => {
                let k = self
                    .at(k)
                    .repeat_of
                    .filter(|&o| o >= self.base)
                    .unwrap_or(k);
                self.at(k).panicked = true;
                self.append(ctx, line);
            }
            None => self.begin(f, None),
        }
    }

    /// Title a report that has ended.
    fn close(&mut self, o: Open) {
        let lines = o.lines.slices();
        let v = title::verdict(&lines);
        let rip = first_rip(&lines);
        let task = lines.iter().take(16).find_map(|l| Task::of_line(l));
        let header = lines.first().copied().unwrap_or(b"");
        let (location, line_func) = match oops_line(header) {
            Some(OopsLine::Warning { location, func }) => (location, func),
            Some(OopsLine::KernelBug { location }) => (Some(location), None),
            _ => (None, None),
        };
        let location: Option<Box<str>> = location.map(|l| String::from_utf8_lossy(l).into());
        let sp = self.at(o.idx);
        let func = line_func
            .map(frames::base_name)
            .or(v.frame.as_deref().map(str::as_bytes));
        sp.end_bbio_meta_read = sp.kind == SplatKind::Warning
            && func == Some(b"end_bbio_meta_read")
            && (line_func.is_some()
                || location
                    .as_deref()
                    .is_some_and(|l| l.starts_with("fs/btrfs/extent_io.c")));
        sp.title = v.title.into();
        sp.report = v.kind;
        sp.frame = v.frame.map(Box::from);
        sp.corrupted = v.corrupted;
        sp.location = location;
        sp.rip = rip;
        sp.task = task;
        // One oops printed twice (a log and a report section, serial and
        // netconsole): the same die counter and instruction pointer.
        if let Some(j) = o.same_die {
            self.repeat(o.idx, j);
        }
        self.retire(false);
    }
}

/// Messages that print a stack of their own in the middle of whatever the
/// console was printing: `syz-executor5: vmalloc: allocation failure: 0 bytes`,
/// `FAULT_INJECTION: forcing a failure.`
fn stack_dumping_notice(msg: &[u8]) -> bool {
    [
        &b"vmalloc: allocation failure:"[..],
        b"FAULT_INJECTION: forcing a failure",
        b"FAULT_FLAG_ALLOW_RETRY missing",
    ]
    .iter()
    .any(|n| crate::fields::contains(msg, n))
}

/// FNV-1a of the first kernel instruction-pointer line (`RIP: 0010:func+0x17b/0x1c0`).
fn first_rip(lines: &[&[u8]]) -> u64 {
    let Some(l) = lines
        .iter()
        .find(|l| matches!(frames::ip_line(l), Some(Some(_))))
    else {
        return 0;
    };
    let l = crate::fields::trim(l);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in l {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{read_input, ReadOptions};

    fn splats(text: &str) -> Vec<Splat> {
        let mut t = SplatTracker::default();
        let mut sink = |r: &Record<'_>| t.record(r, 0);
        read_input(0, text.as_bytes(), &ReadOptions::default(), &mut sink);
        t.finish();
        t.splats().to_vec()
    }

    fn titles(text: &str) -> Vec<(String, u64, bool)> {
        splats(text)
            .iter()
            .map(|s| (s.title.to_string(), s.evidence.pos.line, s.panicked))
            .collect()
    }

    #[test]
    fn warning_and_bug_titles() {
        let t = titles(
            "[  178.564993] ------------[ cut here ]------------\n\
             [  178.567792] BTRFS: Transaction aborted (error -17)\n\
             [  178.570606] WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450 btrfs_create_new_inode+0xa46/0xa70 [btrfs]\n\
             [  178.607815] RIP: 0010:btrfs_create_new_inode+0xa46/0xa70 [btrfs]\n\
             [  178.607816] Call Trace:\n\
             [  178.800079] ---[ end trace 0000000000000000 ]---\n",
        );
        assert_eq!(
            t,
            vec![("WARNING in btrfs_create_new_inode".to_string(), 3, false)]
        );
    }

    #[test]
    fn interleaved_bugs_share_the_stack_and_the_panic_goes_to_the_last_die() {
        let t = titles(
            "[  707.299280] ------------[ cut here ]------------\n\
             [  707.299281] kernel BUG at fs/btrfs/tree-checker.c:2070!\n\
             [  707.299290] NMI backtrace for cpu 6\n\
             [  707.299300] Call Trace:\n\
             [  707.299629] RIP: 0010:btrfs_check_eb_owner+0xde/0x120 [btrfs]\n\
             [  707.300439] RIP: 0010:native_write_msr+0xa/0x30\n\
             [  707.309525] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n\
             [  707.330039] kernel BUG at fs/btrfs/tree-checker.c:2070!\n\
             [  707.332784] kernel BUG at fs/btrfs/tree-checker.c:2070!\n\
             [  707.335586] Call Trace:\n\
             [  707.335953] RIP: 0010:btrfs_check_eb_owner+0xde/0x120 [btrfs]\n\
             [  727.384866] invalid opcode: 0000 [#2] PREEMPT SMP NOPTI\n\
             [  727.436554] Kernel panic - not syncing: Fatal exception\n\
             [  727.442360] invalid opcode: 0000 [#3] PREEMPT SMP NOPTI\n",
        );
        assert_eq!(
            t,
            vec![
                ("kernel BUG in btrfs_check_eb_owner".to_string(), 2, false),
                ("kernel BUG in btrfs_check_eb_owner".to_string(), 8, true),
                ("kernel BUG in btrfs_check_eb_owner".to_string(), 9, false),
            ]
        );
    }

    #[test]
    fn a_panic_after_a_reboot_does_not_reach_back_into_the_boot_before() {
        // The fuzzer's find: every splat is retired at the reboot, and the
        // panic line of the next boot took the last of them as its report.
        let mut t = SplatTracker::default();
        let text = b"[  180.100000] Kernel panic - not syncing: Fatal exception\n\
                     [  181.100000] Kernel panic - not syncing: Fatal exception\n";
        let mut boot = 0;
        let mut sink = |r: &Record<'_>| {
            t.record(r, boot);
            t.end_boot();
            boot += 1;
        };
        read_input(0, &text[..], &ReadOptions::default(), &mut sink);
        t.finish();
        let boots: Vec<u32> = t.splats().iter().map(|s| s.evidence.boot).collect();
        assert_eq!(boots, vec![0, 1], "each panic line a report of its boot");
    }

    #[test]
    fn the_task_of_a_report() {
        let t = Task::of_line(b"CPU: 6 PID: 45509 Comm: iou-wrk-45116 Not tainted 6.8.0-rc7-euclean+ #15 6731aa79f7b2")
            .expect("a task");
        assert_eq!(
            (t.cpu, t.pid, t.comm.as_bytes()),
            (6, 45509, &b"iou-wrk-45116"[..])
        );
        let t = Task::of_line(
            b"CPU: 28 PID: 45502 Comm: iou-wrk-45118 Tainted: G      D            6.8.0-rc7 #15",
        )
        .expect("a task");
        assert_eq!(t.comm.as_bytes(), b"iou-wrk-45118");
        assert!(Task::of_line(b"CPU: 6 PID: x").is_none());
    }

    #[test]
    fn one_oops_printed_twice_is_one_splat() {
        let oops = "invalid opcode: 0000 [#1] PREEMPT SMP KASAN\n\
                    CPU: 0 PID: 8428 Comm: syz-executor Not tainted 6.5.0-rc5 #1\n\
                    RIP: 0010:set_state_bits.isra.0+0x17b/0x1c0 fs/btrfs/extent-io-tree.c:379\n\
                    Call Trace:\n \
                    __set_extent_bit+0x418/0x15b0 fs/btrfs/extent-io-tree.c:1034\n";
        let filler = "loop0: detected capacity change from 0 to 32768\n".repeat(500);
        let text = format!(
            "------------[ cut here ]------------\nkernel BUG at fs/btrfs/extent-io-tree.c:379!\n{oops}{filler}{oops}Kernel panic - not syncing: Fatal exception\n"
        );
        let s = splats(&text);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(&*s[0].title, "kernel BUG in set_state_bits");
        assert_eq!(s[0].die, Some(1));
        assert!(s[0].panicked);
    }

    #[test]
    fn kasan_hung_and_panic() {
        let t = titles(
            "BUG: KASAN: slab-out-of-bounds in do_raw_write_lock+0x1/0x2\nWrite of size 4 at addr ffff\nCall Trace:\n foo_bar+0x1/0x2\n",
        );
        assert_eq!(t[0].0, "KASAN: slab-out-of-bounds Write in foo_bar");
        let t = titles(
            "INFO: task jbd2/sda-8:3563 blocked for more than 140 seconds.\nCall Trace:\n __schedule+0x897/0x1e60\n schedule+0xfe/0x350\n jbd2_journal_commit_transaction+0x658a/0x8ee4\n",
        );
        assert_eq!(t[0].0, "INFO: task hung in jbd2_journal_commit_transaction");
        let t = titles("[    1.0] Kernel panic - not syncing: sysrq triggered crash\n");
        assert_eq!(t[0].0, "kernel panic: sysrq triggered crash");
        let t = titles(
            "BUG: kernel NULL pointer dereference, address: 0000000000000001\nOops: 0000 [#1] SMP NOPTI\nRIP: 0010:__set_page_dirty_buffers+0x5a/0x110\n",
        );
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].0,
            "BUG: unable to handle kernel NULL pointer dereference in __set_page_dirty_buffers"
        );
        let t = titles("Speculative Return Stack Overflow: WARNING: See https://kernel.org/doc/html/latest/admin-guide/hw-vuln/srso.html for more details.\n");
        assert!(t.is_empty());
    }

    #[test]
    fn oops_header_floods_take_linear_steps() {
        // Issue #19: each header used to scan every splat before it.
        let steps = |n: usize| {
            let mut t = SplatTracker::default();
            let mut text = String::new();
            for k in 0..n {
                text.push_str(&format!(
                    "[ {k}.000000] Oops: 0000 [#{}] SMP NOPTI\n",
                    k + 1
                ));
                if k % 3 == 0 {
                    text.push_str(&format!("[ {k}.000001] kernel BUG at fs/x.c:{k}!\n"));
                }
            }
            let mut sink = |r: &Record<'_>| t.record(r, 0);
            read_input(0, text.as_bytes(), &ReadOptions::default(), &mut sink);
            let steps = t.steps();
            t.finish();
            assert!(t.splats().len() >= n);
            steps
        };
        let (small, large) = (steps(2000), steps(8000));
        assert!(
            large <= 5 * small,
            "4x the headers took {large} steps against {small}: not linear"
        );
        assert!(large / 8000 <= 2 * (MAX_OPEN + WINDOW) as u64);
    }
}
