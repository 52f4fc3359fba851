//! How much of the trace survived: per-CPU windows, lost-event gaps, and the
//! dumps found (kernel-formats.md A.1, A.7, A.13, F.10).
//!
//! A CPU's window runs from its first to its last surviving event. A gap is
//! a stretch of that CPU's trace time whose events are known to be missing:
//! before its first event when a `CPU:N [LOST M EVENTS]` marker (or
//! `##### CPU N buffer started ####`, or an overrun header) says history was
//! overwritten, or between two events around a lost-events marker. Verdicts
//! that need an event to be absent ask [`Coverage::could_hide`].
//!
//! Windows belong to a boot, not to an input: the trace clock of one boot
//! is one clock whichever file its lines are in (a capture split in two, a
//! dmesg beside a trace file), and it restarts with the next boot. The
//! correlator says when a boot begins ([`Coverage::begin_boot`]).

use std::collections::BTreeMap;

use super::boots::{FIRST_BOOTS_KEPT, LAST_BOOTS_KEPT};
use super::keep::HeadTail;
use crate::correlate::evidence::Evidence;
use crate::grammar::{Body, Framing, Header, TraceTs};
use crate::record::Record;

/// Gaps kept per CPU before neighbouring ones are merged.
const MAX_GAPS_PER_CPU: usize = 64;

/// One CPU's surviving window in one boot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CpuWindow {
    /// The boot.
    pub boot: u32,
    /// The input of its first line.
    pub input: u32,
    /// CPU number.
    pub cpu: u32,
    /// Trace events seen from this CPU.
    pub events: u64,
    /// First trace timestamp seen.
    pub first_ts: Option<TraceTs>,
    /// Last trace timestamp seen.
    pub last_ts: Option<TraceTs>,
    /// Sum of the printed lost-event counts.
    pub lost_events: u64,
    /// Lost-events markers seen (with or without a count).
    pub lost_markers: u32,
    /// A marker without a count was seen (`[LOST EVENTS]`).
    pub lost_unknown: bool,
    /// Known gaps, as raw trace-clock ranges; `None` as start means "from the beginning".
    pub gaps: Vec<(Option<u64>, Option<u64>)>,
    /// The first lost-events marker, as evidence.
    pub lost_evidence: Option<Evidence>,
    /// A gap opened by a marker, waiting for this CPU's next event to close it.
    open_gap: Option<Option<u64>>,
}

/// An `ftrace_dump` found in the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dump {
    /// The boot it was printed in.
    pub boot: u32,
    /// Input index.
    pub input: u32,
    /// Line of `Dumping ftrace buffer:`.
    pub line: u64,
    /// Instance name for `Dumping ftrace instance X buffer:`.
    pub instance: Option<String>,
    /// `(ftrace buffer empty)` was printed.
    pub empty: bool,
    /// Trace event lines inside the dump.
    pub events: u64,
    /// Lost-events markers inside the dump.
    pub lost_markers: u32,
    /// Line of the closing rule, if the dump was seen to end.
    pub end_line: Option<u64>,
    rule_open: bool,
}

/// Per-input header facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputHeader {
    /// The boot of the input's first header line.
    pub boot: u32,
    /// `# entries-in-buffer/entries-written:` values.
    pub entries: Option<(u64, u64)>,
    /// `#P:` or trace-cmd `cpus=`.
    pub cpus: Option<u32>,
    /// `# tracer:` name.
    pub tracer: Option<String>,
    /// `** N printk messages dropped **` total.
    pub printk_dropped: u64,
    /// The entries header line.
    pub entries_evidence: Option<Evidence>,
    /// The first `printk messages dropped` line.
    pub dropped_evidence: Option<Evidence>,
}

impl InputHeader {
    /// The ring buffer overran (entries written exceed entries in the buffer).
    pub(crate) fn overrun(&self) -> bool {
        self.entries.is_some_and(|(b, w)| w > b)
    }
}

/// The per-CPU windows of one boot.
#[derive(Debug, Default)]
struct BootWindows {
    /// The boot's number.
    boot: u32,
    /// `index[cpu]` is 1 + the position in `all`, or 0.
    index: Vec<u32>,
    all: Vec<CpuWindow>,
    /// CPUs whose window was refused ([`MAX_WINDOWS`]), as a bit set.
    refused: Vec<u64>,
}

impl BootWindows {
    /// Note that the window of `cpu` was refused; returns whether it was
    /// the first time.
    fn refuse(&mut self, cpu: u32) -> bool {
        let (word, bit) = ((cpu / 64) as usize, 1u64 << (cpu % 64));
        if self.refused.len() <= word {
            self.refused.resize(word + 1, 0);
        }
        let new = self.refused[word] & bit == 0;
        self.refused[word] |= bit;
        new
    }

    /// Windows in CPU order.
    fn sorted(&self) -> impl Iterator<Item = &CpuWindow> {
        self.index
            .iter()
            .filter(|&&k| k != 0)
            .map(|&k| &self.all[k as usize - 1])
    }
}

/// Per-CPU windows, by boot then CPU (a flat lookup on the hot path), for
/// the boots [`super::boots::Boots`] lists: the first and the latest.
#[derive(Debug)]
struct Windows {
    boots: HeadTail<BootWindows>,
    /// Windows kept, over every kept boot.
    live: usize,
    /// Windows refused, over every boot.
    refused: u64,
}

impl Default for Windows {
    /// Windows with boot 0 begun.
    fn default() -> Windows {
        let mut boots = HeadTail::new(FIRST_BOOTS_KEPT, LAST_BOOTS_KEPT);
        boots.push(BootWindows::default());
        Windows {
            boots,
            live: 0,
            refused: 0,
        }
    }
}

impl Windows {
    /// Make `boot` the newest boot; returns the windows of boots that are
    /// no longer kept.
    fn begin(&mut self, boot: u32) -> Vec<BootWindows> {
        let mut gone = Vec::new();
        while self.boots.total() <= u64::from(boot) {
            let n = u32::try_from(self.boots.total()).unwrap_or(u32::MAX);
            gone.extend(self.boots.push(BootWindows {
                boot: n,
                ..BootWindows::default()
            }));
        }
        self.live -= gone.iter().map(|g| g.all.len()).sum::<usize>();
        gone
    }

    /// The window of `cpu` in `boot` (the newest boot, see
    /// [`Windows::begin`]); a new one starts at `input`, unless
    /// [`MAX_WINDOWS`] are kept already.
    fn get_mut(&mut self, boot: u32, input: u32, cpu: u32) -> Option<&mut CpuWindow> {
        let g = self.boots.get_mut(u64::from(boot))?;
        let c = cpu as usize;
        if g.index.len() <= c {
            g.index.resize(c + 1, 0);
        }
        if g.index[c] == 0 {
            if self.live >= MAX_WINDOWS {
                self.refused += u64::from(g.refuse(cpu));
                return None;
            }
            self.live += 1;
            g.all.push(CpuWindow {
                boot,
                input,
                cpu,
                ..CpuWindow::default()
            });
            g.index[c] = g.all.len() as u32;
        }
        let k = g.index[c] as usize - 1;
        g.all.get_mut(k)
    }

    /// Windows of one boot, in CPU order (none when the boot is not kept).
    fn of_boot(&self, boot: u32) -> impl Iterator<Item = &CpuWindow> {
        self.boots
            .get(u64::from(boot))
            .into_iter()
            .flat_map(BootWindows::sorted)
    }

    /// Windows of one boot, in no particular order.
    fn of_boot_mut(&mut self, boot: u32) -> impl Iterator<Item = &mut CpuWindow> {
        self.boots
            .get_mut(u64::from(boot))
            .into_iter()
            .flat_map(|g| g.all.iter_mut())
    }

    /// Whether the windows of every CPU of `boot` are kept.
    fn whole(&self, boot: u32) -> bool {
        self.boots
            .get(u64::from(boot))
            .is_some_and(|g| g.refused.is_empty())
    }

    /// All kept windows, by boot then CPU.
    fn sorted(&self) -> impl Iterator<Item = &CpuWindow> {
        self.boots.iter().flat_map(|(_, g)| g.sorted())
    }
}

/// Dumps listed from the start of a capture.
pub(crate) const FIRST_DUMPS_KEPT: usize = 256;

/// Latest dumps listed; the open one is among them.
pub(crate) const LAST_DUMPS_KEPT: usize = 256;

/// What is counted but no longer listed, to bound memory: the boots
/// beyond the first and the latest [`FIRST_BOOTS_KEPT`] and
/// [`LAST_BOOTS_KEPT`] lose their windows and header facts, dumps beyond
/// [`FIRST_DUMPS_KEPT`] and [`LAST_DUMPS_KEPT`] their entries.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotListed {
    /// Per-CPU windows of boots no longer kept, and windows refused
    /// ([`MAX_WINDOWS`]).
    pub cpus: u64,
    /// `lost-events` facts (a CPU window with lost markers, an overrun
    /// header, dropped printk messages) of boots no longer kept.
    pub lost: u64,
    /// Dumps no longer listed.
    pub dumps: u64,
}

/// CPU numbers from this on are not plausible: the kernel's `NR_CPUS`
/// is at most 8192 (x86-64 `MAXSMP`). It bounds each boot's CPU index.
const MAX_CPU: u32 = 8192;

/// Per-CPU windows kept at most, over the kept boots: 128 boots of 128
/// CPUs. A window with its gaps takes up to about 2.4 KiB, so a capture of
/// many boots of thousands of CPUs each stays within about 40 MiB; a CPU
/// whose window is refused is counted in [`NotListed::cpus`], and its
/// boot's trace is not known to be whole.
pub(crate) const MAX_WINDOWS: usize = 16_384;

/// Coverage of every input of a run.
#[derive(Debug)]
pub struct Coverage {
    cpus: Windows,
    dumps: HeadTail<Dump>,
    /// Dumps found empty (listed or not).
    empty_dumps: u64,
    /// The number of the open dump, the newest.
    open_dump: Option<u64>,
    /// Header facts per (boot, input), of the kept boots.
    headers: BTreeMap<(u32, u32), InputHeader>,
    /// The current boot.
    boot: u32,
    /// Windows of boots no longer kept.
    cpus_not_listed: u64,
    /// Lost-event facts of boots no longer kept.
    lost_not_listed: u64,
}

impl Default for Coverage {
    fn default() -> Coverage {
        Coverage {
            cpus: Windows::default(),
            dumps: HeadTail::new(FIRST_DUMPS_KEPT, LAST_DUMPS_KEPT),
            empty_dumps: 0,
            open_dump: None,
            headers: BTreeMap::new(),
            boot: 0,
            cpus_not_listed: 0,
            lost_not_listed: 0,
        }
    }
}

impl Coverage {
    /// Boot `boot` begins: close what the current one left open.
    pub(crate) fn begin_boot(&mut self, boot: u32) {
        self.end_boot();
        self.boot = boot;
        for g in self.cpus.begin(boot) {
            self.cpus_not_listed += g.all.len() as u64;
            self.lost_not_listed += g.all.iter().filter(|w| w.lost_markers > 0).count() as u64;
            let lost = &mut self.lost_not_listed;
            self.headers.retain(|&(b, _), h| {
                if b == g.boot {
                    *lost += u64::from(h.overrun()) + u64::from(h.printk_dropped > 0);
                }
                b != g.boot
            });
        }
    }

    /// The input is read: close what the last boot left open.
    pub(crate) fn finish(&mut self) {
        self.end_boot();
    }

    /// Close the current boot's windows: a gap a marker opened runs to the
    /// end of the boot, and an overrun header of the boot means history
    /// before each CPU's window is lost. A dump still open ends unseen.
    fn end_boot(&mut self) {
        self.open_dump = None;
        let boot = self.boot;
        let overrun = self.headers.values().any(|h| h.boot == boot && h.overrun());
        for w in self.cpus.of_boot_mut(boot) {
            if let Some(start) = w.open_gap.take() {
                push_gap(&mut w.gaps, start, None);
            }
            if overrun && !w.gaps.iter().any(|g| g.0.is_none()) {
                if let Some(first) = w.first_ts {
                    push_gap(&mut w.gaps, None, Some(first.raw()));
                }
            }
        }
    }

    /// A trace event from `cpu` at `ts` in `input` ([`Coverage::events`]
    /// for one). Returns the index of the dump it belongs to, if any.
    pub(crate) fn event(
        &mut self,
        input: u32,
        cpu: Option<u32>,
        ts: Option<TraceTs>,
    ) -> Option<u64> {
        let span = crate::reader::CpuSpan {
            cpu,
            records: 1,
            first_ts: ts,
            last_ts: ts,
        };
        self.events(input, 1, &[span])
    }

    /// The bookkeeping for one record: trace events, printk drops, framing
    /// and headers.
    pub(crate) fn record(&mut self, r: &Record<'_>) {
        if let Some(n) = r.prefixes.dropped {
            self.printk_dropped(r, n);
        }
        match &r.body {
            Body::Trace(t) => {
                self.event(r.pos.input, t.cpu, t.ts);
            }
            Body::Framing(f) => self.framing(r, f),
            Body::Header(h) => self.header(r, h),
            _ => {}
        }
    }

    /// `records` trace events of `input` at once, summed up per CPU (their
    /// first and last timestamps per CPU are all that matters). Returns the
    /// index of the dump they belong to, if any.
    pub(crate) fn events(
        &mut self,
        input: u32,
        records: u64,
        cpus: &[crate::reader::CpuSpan],
    ) -> Option<u64> {
        let dump = self.current_dump(input);
        if let Some(d) = self.open_dump_mut(input).filter(|d| !d.empty) {
            d.events += records;
        }
        for span in cpus {
            let Some(cpu) = span.cpu.filter(|&c| c < MAX_CPU) else {
                continue;
            };
            let Some(w) = self.cpus.get_mut(self.boot, input, cpu) else {
                continue;
            };
            w.events += span.records;
            if let (Some(first), Some(last)) = (span.first_ts, span.last_ts) {
                if let Some(start) = w.open_gap.take() {
                    push_gap(&mut w.gaps, start, Some(first.raw()));
                }
                if w.first_ts.is_none() {
                    w.first_ts = Some(first);
                }
                w.last_ts = Some(last);
            }
        }
        dump
    }

    fn window(&mut self, input: u32, cpu: u32) -> Option<&mut CpuWindow> {
        self.cpus.get_mut(self.boot, input, cpu.min(MAX_CPU - 1))
    }

    /// The open dump, when it is of `input`.
    fn open_dump_mut(&mut self, input: u32) -> Option<&mut Dump> {
        let n = self.open_dump?;
        self.dumps.get_mut(n).filter(|d| d.input == input)
    }

    /// A framing record.
    pub(crate) fn framing(&mut self, r: &Record<'_>, f: &Framing<'_>) {
        let (input, line, boot) = (r.pos.input, r.pos.line, self.boot);
        match *f {
            Framing::DumpStart { instance } => {
                self.open_dump = Some(self.dumps.total());
                self.dumps.push(Dump {
                    boot: self.boot,
                    input,
                    line,
                    instance: instance.map(|i| String::from_utf8_lossy(i).into_owned()),
                    ..Dump::default()
                });
            }
            Framing::DumpEmpty => {
                if let Some(d) = self.open_dump_mut(input) {
                    if d.events == 0 {
                        d.empty = true;
                        d.end_line = Some(line);
                        self.empty_dumps += 1;
                    }
                    self.open_dump = None;
                }
            }
            Framing::DumpRule => {
                if let Some(d) = self.open_dump_mut(input) {
                    if d.rule_open {
                        d.rule_open = false;
                        d.end_line = Some(line);
                        self.open_dump = None;
                    } else {
                        d.rule_open = true;
                    }
                }
            }
            Framing::Lost { cpu, count }
            | Framing::EventsDropped {
                cpu: Some(cpu),
                count,
            } => {
                self.lost(input, cpu, count);
                if let Some(w) = self.window(input, cpu) {
                    if w.lost_evidence.is_none() {
                        let mut ev = Evidence::from_record(r, boot, "lost-events");
                        ev.cpu = Some(cpu);
                        w.lost_evidence = Some(ev);
                    }
                }
            }
            Framing::BufferStarted { cpu } => {
                let Some(w) = self.window(input, cpu) else {
                    return;
                };
                let start = if w.first_ts.is_none() {
                    None
                } else {
                    w.last_ts.map(|t| t.raw())
                };
                w.open_gap = Some(start);
            }
            Framing::PrintkDropped { count } => self.printk_dropped(r, count),
            _ => {}
        }
    }

    /// `** N printk messages dropped **` (a line of its own or glued in front of a record).
    pub(crate) fn printk_dropped(&mut self, r: &Record<'_>, count: u64) {
        let boot = self.boot;
        let h = self.header_mut(r.pos.input);
        h.printk_dropped = h.printk_dropped.saturating_add(count);
        if h.dropped_evidence.is_none() {
            h.dropped_evidence = Some(Evidence::from_record(r, boot, "printk-dropped"));
        }
    }

    fn lost(&mut self, input: u32, cpu: u32, count: Option<u64>) {
        if let Some(d) = self.open_dump_mut(input) {
            d.lost_markers += 1;
        }
        let Some(w) = self.window(input, cpu) else {
            return;
        };
        w.lost_markers += 1;
        match count {
            Some(n) => w.lost_events = w.lost_events.saturating_add(n),
            None => w.lost_unknown = true,
        }
        let start = if w.first_ts.is_none() {
            None
        } else {
            w.last_ts.map(|t| t.raw())
        };
        w.open_gap = Some(start);
    }

    /// The dump of `input` the lines read now belong to (its index in
    /// [`Coverage::dumps`]), if one is open: from its `Dumping ftrace
    /// buffer:` line to its closing rule, its empty line, or the end of its
    /// boot or input.
    pub(crate) fn current_dump(&self, input: u32) -> Option<u64> {
        let n = self.open_dump?;
        self.dumps.get(n).filter(|d| d.input == input).map(|_| n)
    }

    /// The header facts of `input`, begun in the current boot.
    fn header_mut(&mut self, input: u32) -> &mut InputHeader {
        let boot = self.boot;
        self.headers
            .entry((boot, input))
            .or_insert_with(|| InputHeader {
                boot,
                ..InputHeader::default()
            })
    }

    /// A header record.
    pub(crate) fn header(&mut self, r: &Record<'_>, h: &Header<'_>) {
        let boot = self.boot;
        let e = self.header_mut(r.pos.input);
        match *h {
            Header::Entries {
                in_buffer,
                written,
                cpus,
            } => {
                e.entries = Some((in_buffer, written));
                e.entries_evidence = Some(Evidence::from_record(r, boot, "entries-header"));
                if cpus.is_some() {
                    e.cpus = cpus;
                }
            }
            Header::TraceCmdCpus(n) => e.cpus = Some(n),
            Header::Tracer(t) => e.tracer = Some(String::from_utf8_lossy(t).into_owned()),
            _ => {}
        }
    }

    /// End of an input: a dump of it still open is left without an end
    /// line. (Windows run on into the next input of the same boot.)
    pub(crate) fn end_input(&mut self, input: u32) {
        if self.current_dump(input).is_some() {
            self.open_dump = None;
        }
    }

    /// Per-CPU windows, sorted by boot then CPU.
    pub(crate) fn cpus(&self) -> impl Iterator<Item = &CpuWindow> {
        self.cpus.sorted()
    }

    /// The listed dumps with their numbers, in input order.
    pub fn dumps(&self) -> impl Iterator<Item = (u64, &Dump)> + '_ {
        self.dumps.iter()
    }

    /// Dump `n`, if listed.
    pub(crate) fn dump(&self, n: u64) -> Option<&Dump> {
        self.dumps.get(n)
    }

    /// Dumps found, listed or not.
    pub(crate) fn dump_count(&self) -> u64 {
        self.dumps.total()
    }

    /// Dumps found empty, listed or not.
    pub(crate) fn empty_dumps(&self) -> u64 {
        self.empty_dumps
    }

    /// What is counted but not listed.
    pub(crate) fn not_listed(&self) -> NotListed {
        NotListed {
            cpus: self.cpus_not_listed + self.cpus.refused,
            lost: self.lost_not_listed,
            dumps: self.dumps.not_kept(),
        }
    }

    /// Header facts of an input.
    pub fn header_of(&self, input: u32) -> Option<&InputHeader> {
        self.headers
            .iter()
            .find(|((_, i), _)| *i == input)
            .map(|(_, h)| h)
    }

    /// Header facts of every input, per boot (boot, then input order).
    pub(crate) fn headers(&self) -> impl Iterator<Item = (u32, &InputHeader)> {
        self.headers.iter().map(|((_, i), h)| (*i, h))
    }

    /// Whether events of `boot` with raw trace time in `(from, to)` could be
    /// missing on some CPU: a known gap overlaps the range. `from == None`
    /// means "since the beginning".
    pub(crate) fn could_hide(&self, boot: u32, from: Option<u64>, to: Option<u64>) -> bool {
        // A boot whose windows are no longer kept: nothing says its trace
        // was whole.
        !self.whole(boot) || self.gap_cpus(boot, from, to).next().is_some()
    }

    /// Whether the windows of every CPU of `boot` are kept (the first and
    /// the latest boots, up to [`MAX_WINDOWS`] windows).
    pub(crate) fn whole(&self, boot: u32) -> bool {
        self.cpus.whole(boot)
    }

    /// CPUs of `boot` with a gap overlapping `(from, to)`.
    pub(crate) fn gap_cpus(
        &self,
        boot: u32,
        from: Option<u64>,
        to: Option<u64>,
    ) -> impl Iterator<Item = u32> + '_ {
        self.cpus
            .of_boot(boot)
            .filter(move |w| {
                let pending = w.open_gap.map(|s| (s, None));
                w.gaps.iter().copied().chain(pending).any(|(gs, ge)| {
                    let starts_before_to = match (gs, to) {
                        (None, _) | (_, None) => true,
                        (Some(gs), Some(to)) => gs < to,
                    };
                    let ends_after_from = match (ge, from) {
                        (None, _) | (_, None) => true,
                        (Some(ge), Some(from)) => ge > from,
                    };
                    starts_before_to && ends_after_from
                })
            })
            .map(|w| w.cpu)
    }

    /// Earliest trace time seen in `boot`, over all CPUs.
    pub(crate) fn trace_start(&self, boot: u32) -> Option<u64> {
        self.cpus
            .of_boot(boot)
            .filter_map(|w| w.first_ts.map(|t| t.raw()))
            .min()
    }
}

fn push_gap(gaps: &mut Vec<(Option<u64>, Option<u64>)>, start: Option<u64>, end: Option<u64>) {
    if gaps.len() >= MAX_GAPS_PER_CPU {
        // Merge the last gap with the new one: coarser, never smaller.
        if let Some(last) = gaps.last_mut() {
            last.1 = end;
            return;
        }
    }
    gaps.push((start, end));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: u64) -> Record<'static> {
        Record {
            pos: crate::input::Pos {
                input: 0,
                line,
                offset: 0,
            },
            lines: 1,
            text: b"",
            original: b"",
            prefixes: Default::default(),
            msg: b"",
            body: crate::grammar::Body::Blank,
            class: crate::grammar::LineClass::Blank,
            clean: 0,
            truncated: false,
            repairs: 0,
        }
    }

    /// Boots of thousands of CPUs each: at most `MAX_WINDOWS` windows are
    /// kept, the others counted, and a boot missing some is not whole.
    #[test]
    fn windows_are_bounded_over_all_boots() {
        let mut c = Coverage::default();
        let ts = Some(TraceTs::Ns(1000));
        for boot in 0..(FIRST_BOOTS_KEPT + LAST_BOOTS_KEPT + 10) as u32 {
            c.begin_boot(boot);
            for cpu in 0..300 {
                c.event(0, Some(cpu), ts);
            }
            // Implausible CPUs have no window at all.
            c.event(0, Some(MAX_CPU), ts);
        }
        c.finish();
        assert_eq!(c.cpus().count(), MAX_WINDOWS);
        let boots = (FIRST_BOOTS_KEPT + LAST_BOOTS_KEPT + 10) as u64;
        assert_eq!(c.not_listed().cpus, boots * 300 - MAX_WINDOWS as u64);
        // The first boots have all their windows; a late one lost some.
        assert!(c.whole(0));
        assert!(!c.could_hide(0, None, None));
        let last = boots as u32 - 1;
        assert!(!c.whole(last));
        assert!(c.could_hide(last, None, None));
        // A boot no longer kept is not whole either.
        assert!(!c.whole(FIRST_BOOTS_KEPT as u32 + 1));
    }

    #[test]
    fn dump_with_lost_markers() {
        let mut c = Coverage::default();
        c.framing(&rec(10), &Framing::DumpStart { instance: None });
        c.framing(&rec(11), &Framing::DumpRule);
        c.framing(
            &rec(12),
            &Framing::Lost {
                cpu: 18,
                count: Some(5),
            },
        );
        assert_eq!(
            c.event(0, Some(18), Some(TraceTs::SinceReset(1000))),
            Some(0)
        );
        c.event(0, Some(18), Some(TraceTs::SinceReset(2000)));
        c.event(0, Some(3), Some(TraceTs::SinceReset(1500)));
        c.framing(&rec(16), &Framing::DumpRule);
        c.framing(&rec(17), &Framing::DumpStart { instance: None });
        c.framing(&rec(18), &Framing::DumpEmpty);
        c.end_input(0);
        c.finish();
        let d: Vec<&Dump> = c.dumps().map(|(_, d)| d).collect();
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].events, d[0].empty, d[0].end_line),
            (3, false, Some(16))
        );
        assert_eq!((d[1].events, d[1].empty), (0, true));
        let w: Vec<_> = c.cpus().collect();
        assert_eq!((w[1].cpu, w[1].lost_events, w[1].events), (18, 5, 2));
        assert_eq!(w[1].gaps, vec![(None, Some(1000))]);
        // CPU 18 lost history before t=1000: something at 500 could be hidden, at 1200 not.
        assert!(c.could_hide(0, None, Some(900)));
        assert!(!c.could_hide(0, Some(1100), Some(1900)));
        assert_eq!(c.trace_start(0), Some(1000));
    }

    #[test]
    fn mid_stream_gap_and_overrun_header() {
        let mut c = Coverage::default();
        c.header(
            &rec(1),
            &Header::Entries {
                in_buffer: 10,
                written: 20,
                cpus: Some(2),
            },
        );
        c.event(0, Some(0), Some(TraceTs::Ns(100)));
        c.framing(
            &rec(2),
            &Framing::Lost {
                cpu: 0,
                count: None,
            },
        );
        c.event(0, Some(0), Some(TraceTs::Ns(300)));
        c.end_input(0);
        c.finish();
        let w = c.cpus().next().unwrap();
        assert!(w.lost_unknown);
        assert!(w.gaps.contains(&(Some(100), Some(300))));
        assert!(w.gaps.contains(&(None, Some(100))));
        assert!(c.could_hide(0, Some(150), Some(200)));
    }
}
