//! Extent-buffer lifetimes, keyed by eb start (spec §5.1).
//!
//! What the kernel does, and how it is modelled:
//!
//! * `alloc_extent_buffer()` prints `alloc` only on a cache miss. Several
//!   tasks can miss at once; each allocates a private copy, one wins the
//!   insert, and every loser frees its copy through
//!   `btrfs_release_extent_buffer()` (`called from btrfs_release_extent_buffer`
//!   then `before release ... page_refs=0 ... fsid=00000000-...`, from the
//!   loser's own task). The first alloc after a final release (or the first
//!   one seen) starts a **lifetime**; allocs that arrive while it has not yet
//!   completed a read are **contenders**, and their discards end the
//!   contender, not the lifetime (an **insert race**, information only).
//! * An alloc after the lifetime already completed a read cannot be a cache
//!   miss on a live buffer: the final release was lost, and a new lifetime
//!   starts (counted as a missed release).
//! * `btrfs_clone_extent_buffer()` prints `alloc` for a private copy nested in
//!   the lifetime; it is freed later through `release_extent_buffer()` by the
//!   task that holds it. A final-release sequence from a task with an open
//!   clone releases the clone, not the cached eb.
//! * `release_extent_buffer()` (`called from release_extent_buffer`) with no
//!   clone open is the **final release**: the lifetime ends.
//! * A `before release` with no `called from` just before it from the same
//!   task is ambiguous: it is decided from what that task has open for that
//!   eb (a contender, a clone), `page_refs=0` with a zero fsid marks a
//!   discard, otherwise it is taken as a final release and marked ambiguous.
//! * `read done` is counted per lifetime; a second one is the anomaly.
//!
//! Memory is bounded by the number of live ebs: a lifetime keeps its alloc
//! line and first read only, closed lifetimes fold into [`LifetimeStats`],
//! and above `max_live` ebs not seen for a while are evicted
//! ([`KeyTable`]; verdicts that need an absence then become unverifiable).

use rustc_hash::FxHashMap;

use crate::correlate::arena::{Light, TextArena, TextId};
use crate::correlate::evidence::Evidence;
use crate::correlate::table::{Held, KeyTable};
use crate::correlate::tracker::Tracker;
use crate::event::{AllocVia, EbDump, Event, EventKind};
use crate::grammar::TraceTs;

/// Reads kept as evidence per duplicate-read finding.
const MAX_READS_KEPT: usize = 8;

/// Clones outstanding after their lifetime ended, kept per eb so a late
/// clone release is not taken for the final release of a newer lifetime.
const MAX_ORPHAN_CLONES: usize = 16;

/// Contending allocs kept per lifetime to match their discards. More still
/// count (`race_allocs`, `contending_allocs`); their discards then count as
/// orphan discards. Without a cap, a capture that allocates one eb over and
/// over with no read completing would grow a lifetime without bound.
const MAX_CONTENDERS: usize = 256;

/// Clones kept per lifetime to match their releases, the latest first:
/// one eb cloned a million times in one lifetime would otherwise grow it
/// without bound (#19). An older clone's release then reads like any
/// release without a clone to match.
const MAX_CLONES: usize = 256;

/// Facts kept in full per run: more of them are counted, per kind, in
/// [`EbTracker::not_kept`]. A fact about an eb that already has one of its
/// kind in its boot is counted on that one (`again`) instead.
pub(crate) const MAX_FACTS: usize = 10_000;

/// Default bound on tracked ebs.
pub const DEFAULT_MAX_LIVE: usize = 100_000;

/// A task: boot and pid (one boot's pids are one set of tasks, whichever
/// input their lines are in).
type TaskKey = (u32, u32);

/// Counters over all lifetimes (clean lifetimes fold into these).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LifetimeStats {
    /// Distinct eb starts seen in debug-patch lines.
    pub ebs: u64,
    /// Lifetimes started by an alloc.
    pub lifetimes: u64,
    /// Lifetimes started after a final release of the same eb.
    pub reallocations: u64,
    /// Lifetimes that had contending allocs.
    pub insert_races: u64,
    /// Contending allocs (cache misses that lost or may lose the insert).
    pub contending_allocs: u64,
    /// Private copies freed through `btrfs_release_extent_buffer()`.
    pub discards: u64,
    /// Discards whose alloc is not in the trace.
    pub orphan_discards: u64,
    /// Clones allocated.
    pub clones: u64,
    /// Clones released.
    pub clone_releases: u64,
    /// Final releases.
    pub final_releases: u64,
    /// `before release` lines with no `called from` line, decided from context.
    pub ambiguous_releases: u64,
    /// Allocs after a completed read with no release in between (release lost).
    pub missed_releases: u64,
    /// Read completions.
    pub reads: u64,
    /// Read completions with no alloc before them.
    pub reads_without_alloc: u64,
    /// Lifetimes with two or more read completions.
    pub duplicate_reads: u64,
    /// Ebs evicted to stay under the live-eb bound.
    pub evicted: u64,
}

/// The largest insert race seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Race {
    /// The eb.
    pub eb: u64,
    /// Allocs in the race (the winner and its contenders).
    pub allocs: u32,
    /// Trace time from the first to the last alloc of the race (raw clock units).
    pub span: u64,
    /// The first alloc.
    pub first: Evidence,
}

/// An eb anomaly found while correlating; rules turn facts into findings
/// once coverage is complete.
#[derive(Debug, Clone)]
pub enum EbFact {
    /// Two or more read completions in one lifetime.
    DuplicateRead {
        /// The eb.
        eb: u64,
        /// The lifetime's number for this eb in its boot (1-based).
        lifetime: u32,
        /// The eb's lifetimes in its boot, known when the boot ended (`None`
        /// while it goes on); counted beside the facts, so an eviction from
        /// the eb table does not lose them.
        lifetimes: Option<u32>,
        /// The lifetime's alloc, if seen.
        alloc: Option<Evidence>,
        /// The reads (the first `MAX_READS_KEPT`).
        reads: Vec<Evidence>,
        /// `(level, fsid)` of each kept read.
        headers: Vec<(Option<i64>, Option<[u8; 16]>)>,
        /// All reads counted in the lifetime.
        read_count: u32,
        /// The lifetime's alloc was not seen.
        implicit: bool,
        /// A decision in this lifetime relied on an ambiguous release.
        ambiguous: bool,
        /// The event that ended the lifetime (the eb's next alloc or its final
        /// release), if seen: where the allocation stops in trace time.
        ended: Option<Evidence>,
        /// Later lifetimes of the eb in its boot with two or more reads too,
        /// and their reads (counted, not kept).
        again: Again,
    },
    /// A read completion after the eb's final release, with no alloc between.
    ReadAfterRelease {
        /// The eb.
        eb: u64,
        /// The release.
        release: Evidence,
        /// The release had no `called from` line.
        release_ambiguous: bool,
        /// The read.
        read: Evidence,
        /// The same again for the eb in its boot (counted, not kept).
        again: Again,
    },
    /// A read completion with no alloc before it.
    ReadWithoutAlloc {
        /// The eb.
        eb: u64,
        /// The read.
        read: Evidence,
        /// Ebs had been evicted before this read.
        after_eviction: bool,
        /// The only alloc of the lifetime in the trace: a private copy that
        /// lost the insert race and was discarded (the winner's alloc is
        /// not in the trace).
        discarded_alloc: Option<Evidence>,
        /// The same again for the eb in its boot (counted, not kept).
        again: Again,
    },
}

impl EbFact {
    /// Its count of repeats.
    fn again_mut(&mut self) -> &mut Again {
        match self {
            EbFact::DuplicateRead { again, .. }
            | EbFact::ReadAfterRelease { again, .. }
            | EbFact::ReadWithoutAlloc { again, .. } => again,
        }
    }
}

/// How often a fact happened again for the same eb in the same boot after
/// the one kept: memory stays bounded however often a bug repeats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Again {
    /// Further occurrences (lifetimes, or reads for a read without alloc).
    pub times: u64,
    /// The read completions they had (duplicate reads only).
    pub reads: u64,
}

/// Facts not kept because [`MAX_FACTS`] were kept already, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NotKept {
    /// Duplicate read completions.
    pub duplicate_reads: u64,
    /// Reads after a final release.
    pub reads_after_release: u64,
    /// Reads without an alloc.
    pub reads_without_alloc: u64,
}

/// The kinds of [`EbFact`], for grouping one eb's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FactKind {
    DuplicateRead,
    ReadAfterRelease,
    ReadWithoutAlloc,
}

/// Where each kept fact is, by (boot, eb, kind), and what was not kept.
#[derive(Debug, Default)]
struct FactIndex {
    of: FxHashMap<(u32, u64, FactKind), usize>,
    not_kept: NotKept,
}

/// Keep the fact `make` builds about `eb` in `boot`, unless one of its kind
/// is kept already (then it is counted there) or [`MAX_FACTS`] are (then it
/// is counted as not kept). A free function over the tracker's fields, so
/// that a lifetime of the eb table can be read while it runs.
fn add_fact(
    facts: &mut Vec<EbFact>,
    index: &mut FactIndex,
    arena: &TextArena,
    (boot, eb, kind): (u32, u64, FactKind),
    make: impl FnOnce(&TextArena) -> EbFact,
) -> DupRef {
    if let Some(&i) = index.of.get(&(boot, eb, kind)) {
        if let Some(again) = facts.get_mut(i).map(EbFact::again_mut) {
            again.times += 1;
        }
        return DupRef::Counted(i);
    }
    if facts.len() >= MAX_FACTS {
        let n = &mut index.not_kept;
        *match kind {
            FactKind::DuplicateRead => &mut n.duplicate_reads,
            FactKind::ReadAfterRelease => &mut n.reads_after_release,
            FactKind::ReadWithoutAlloc => &mut n.reads_without_alloc,
        } += 1;
        return DupRef::Dropped;
    }
    let i = facts.len();
    facts.push(make(arena));
    index.of.insert((boot, eb, kind), i);
    DupRef::Own(i)
}

/// Where the facts of a lifetime with a duplicate read go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DupRef {
    /// Its own fact, at this index.
    Own(usize),
    /// Counted on an earlier lifetime's fact, at this index.
    Counted(usize),
    /// Not kept (the bound was reached).
    Dropped,
}

/// What the tracker made of one event (for `timeline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// A new lifetime started (`n`-th of this eb).
    NewLifetime {
        /// Lifetime number.
        n: u32,
        /// After a final release.
        realloc: bool,
        /// After a release that was lost.
        missed_release: bool,
    },
    /// A contending alloc in lifetime `n`.
    Contender {
        /// Lifetime number.
        n: u32,
    },
    /// A contender's private copy freed.
    Discard {
        /// Lifetime number, if one is open.
        n: Option<u32>,
    },
    /// A clone allocated.
    Clone,
    /// A clone released.
    CloneRelease,
    /// The lifetime ended.
    FinalRelease {
        /// Lifetime number, if one was open.
        n: Option<u32>,
        /// Decided without a `called from` line.
        ambiguous: bool,
    },
    /// The `k`-th read completion of lifetime `n`.
    Read {
        /// Lifetime number.
        n: u32,
        /// Read number within the lifetime.
        k: u32,
    },
    /// A read with no lifetime open: it opens lifetime `n`, whose alloc is not in the trace.
    ReadOrphan {
        /// Lifetime number.
        n: u32,
        /// After a final release.
        after_release: bool,
    },
    /// Nothing to say.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReleasePath {
    /// `called from btrfs_release_extent_buffer`: a private copy is freed.
    Private,
    /// `called from release_extent_buffer`: the last reference went away.
    Final,
}

/// A read's header values: `eb level` and `fsid`.
type Header = (Option<i64>, Option<[u8; 16]>);

#[derive(Debug)]
struct Lifetime {
    n: u32,
    alloc: Option<Light>,
    owner: Option<TaskKey>,
    contenders: Vec<(TaskKey, Option<u64>)>,
    race_allocs: u32,
    first_alloc_ts: Option<u64>,
    clones: Vec<TaskKey>,
    first_read: Option<(Light, Header)>,
    read_count: u32,
    implicit: bool,
    /// The alloc seen was a loser's; the winner's alloc is not in the
    /// trace. The loser's alloc line, kept to say so.
    winner_unseen: Option<Light>,
    ambiguous: bool,
    dup_fact: Option<DupRef>,
}

impl Lifetime {
    fn new(n: u32, alloc: Option<Light>, owner: Option<TaskKey>, ts: Option<u64>) -> Lifetime {
        Lifetime {
            n,
            implicit: alloc.is_none(),
            alloc,
            owner,
            contenders: Vec::new(),
            race_allocs: 1,
            first_alloc_ts: ts,
            clones: Vec::new(),
            first_read: None,
            read_count: 0,
            winner_unseen: None,
            ambiguous: false,
            dup_fact: None,
        }
    }

    /// Give the lifetime's texts back to the arena.
    fn release_texts(&self, arena: &mut TextArena) {
        if let Some(a) = &self.alloc {
            arena.release(a.text);
        }
        if let Some(a) = &self.winner_unseen {
            arena.release(a.text);
        }
        if let Some((r, _)) = &self.first_read {
            arena.release(r.text);
        }
    }
}

#[derive(Debug, Default)]
struct EbState {
    lifetimes: u32,
    /// Boxed: a lifetime is large and the table holds up to `max_live` states.
    open: Option<Box<Lifetime>>,
    /// The last final release, and whether it was decided without a `called from` line.
    /// Boxed like `open`: most ebs never have both.
    released: Option<Box<(Light, bool)>>,
    orphan_clones: Vec<TaskKey>,
}

impl Held for EbState {
    fn release_texts(&self, arena: &mut TextArena) {
        if let Some(l) = &self.open {
            l.release_texts(arena);
        }
        if let Some((r, _)) = self.released.as_deref() {
            arena.release(r.text);
        }
    }

    fn text_ids(&mut self) -> impl Iterator<Item = &mut TextId> {
        let (alloc, lost, read) = match self.open.as_deref_mut() {
            Some(Lifetime {
                alloc,
                winner_unseen,
                first_read,
                ..
            }) => (
                alloc.as_mut().map(|a| &mut a.text),
                winner_unseen.as_mut().map(|a| &mut a.text),
                first_read.as_mut().map(|r| &mut r.0.text),
            ),
            None => (None, None, None),
        };
        let rel = self.released.as_mut().map(|r| &mut r.0.text);
        alloc.into_iter().chain(lost).chain(read).chain(rel)
    }
}

/// Eb events a task's trail keeps: its last few.
pub(crate) const TRAIL: usize = 3;

/// Tasks whose trails are kept at once (the least recently seen go first).
const MAX_TASKS: usize = 4096;

/// The last eb events of one task (see [`EbTracker::trail`]).
#[derive(Debug, Default)]
struct Trail {
    /// (eb, event line), oldest first.
    last: Vec<(u64, Light)>,
}

impl Held for Trail {
    fn release_texts(&self, arena: &mut TextArena) {
        for (_, l) in &self.last {
            arena.release(l.text);
        }
    }

    fn text_ids(&mut self) -> impl Iterator<Item = &mut TextId> {
        self.last.iter_mut().map(|(_, l)| &mut l.text)
    }
}

/// One eb event of a task's trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// The eb.
    pub eb: u64,
    /// The event's line (role `task-trail`).
    pub line: Evidence,
}

/// Tracks eb lifetimes across all inputs of a run.
#[derive(Debug)]
pub struct EbTracker {
    ebs: KeyTable<u64, EbState>,
    arena: TextArena,
    called_from: FxHashMap<TaskKey, ReleasePath>,
    /// Counters.
    pub stats: LifetimeStats,
    /// Anomalies, in the order found.
    pub facts: Vec<EbFact>,
    /// Facts before this one know their eb's lifetimes ([`EbTracker::seal`]).
    sealed: usize,
    /// Where each kept fact is, and what was not kept.
    index: FactIndex,
    /// Lifetimes in this boot of the ebs with a duplicate-read fact,
    /// counted from the fact on whether or not the eb table keeps the eb
    /// meanwhile (at most [`MAX_FACTS`] entries; see [`EbTracker::seal`]).
    fact_lifetimes: FxHashMap<u64, u32>,
    /// The last eb events of each task, for the splat it may hit.
    trails: KeyTable<TaskKey, Trail>,
    /// The largest insert race.
    pub largest_race: Option<Race>,
}

impl Default for EbTracker {
    fn default() -> Self {
        EbTracker::new(DEFAULT_MAX_LIVE)
    }
}

fn raw(ts: Option<TraceTs>) -> Option<u64> {
    ts.map(TraceTs::raw)
}

impl EbTracker {
    /// A tracker that keeps at most `max_live` ebs.
    pub(crate) fn new(max_live: usize) -> EbTracker {
        EbTracker {
            ebs: KeyTable::new(max_live),
            arena: TextArena::default(),
            called_from: FxHashMap::default(),
            stats: LifetimeStats::default(),
            facts: Vec::new(),
            sealed: 0,
            index: FactIndex::default(),
            fact_lifetimes: FxHashMap::default(),
            trails: KeyTable::new(MAX_TASKS),
            largest_race: None,
        }
    }

    /// Ebs currently tracked.
    #[cfg(test)]
    pub(crate) fn live(&self) -> usize {
        self.ebs.len()
    }
}

impl Tracker for EbTracker {
    type Note = Note;

    /// Every lifetime ends with its boot (no release needed: the memory is
    /// gone); an eb of the next boot is another buffer.
    fn end_boot(&mut self) {
        self.seal();
        self.fact_lifetimes.clear();
        self.ebs.clear(&mut self.arena);
        self.trails.clear(&mut self.arena);
        self.called_from.clear();
        self.index.of.clear();
    }

    fn finish(&mut self) {
        self.seal();
    }

    /// Feed one event; returns what it meant for the eb's lifetime.
    fn event(&mut self, e: &Event<'_>) -> Note {
        let key = (e.boot, e.pid.unwrap_or(u32::MAX));
        if let (Some(eb), Some(_)) = (e.kind.eb(), e.pid) {
            self.follow(key, eb, e);
        }
        match e.kind {
            EventKind::CalledFrom { func } => {
                let path = match func {
                    b"release_extent_buffer" => ReleasePath::Final,
                    b"btrfs_release_extent_buffer" => ReleasePath::Private,
                    _ => return Note::None,
                };
                self.called_from.insert(key, path);
                Note::None
            }
            EventKind::Alloc { eb, via, .. } => match via {
                AllocVia::AllocExtentBuffer => self.alloc(eb, key, e),
                AllocVia::Clone | AllocVia::Dummy => self.clone_alloc(eb, key),
            },
            EventKind::ReadDone(d) => self.read(d, e),
            EventKind::BeforeRelease(d) => {
                let path = self.called_from.remove(&key);
                self.release(d, key, path, e)
            }
            _ => Note::None,
        }
    }
}

impl EbTracker {
    /// The boot or the input ended: the facts found in it learn how many
    /// lifetimes their eb had.
    fn seal(&mut self) {
        self.stats.evicted = self.ebs.evicted();
        for f in &mut self.facts[self.sealed..] {
            if let EbFact::DuplicateRead { eb, lifetimes, .. } = f {
                // The table may have evicted the eb since its fact: the
                // count kept beside the facts still knows.
                *lifetimes = self.fact_lifetimes.get(eb).copied();
            }
        }
        self.sealed = self.facts.len();
    }

    /// Note an eb event in its task's trail.
    fn follow(&mut self, task: TaskKey, eb: u64, e: &Event<'_>) {
        let light = self.arena.light(e);
        let (trail, _) = self.trails.touch(task, &mut self.arena);
        if trail.last.len() >= TRAIL {
            let (_, old) = trail.last.remove(0);
            self.arena.release(old.text);
        }
        trail.last.push((eb, light));
    }

    /// The last eb events of task `pid` in `boot` (oldest first), while the
    /// boot goes on: what the task did just before a splat it hit.
    pub(crate) fn trail(&self, boot: u32, pid: u32) -> Vec<Step> {
        self.trails.get(&(boot, pid)).map_or_else(Vec::new, |t| {
            t.last
                .iter()
                .map(|(eb, l)| Step {
                    eb: *eb,
                    line: self.arena.evidence(l, "task-trail"),
                })
                .collect()
        })
    }

    /// Facts not kept because [`MAX_FACTS`] were kept already.
    pub(crate) fn not_kept(&self) -> NotKept {
        self.index.not_kept
    }

    fn alloc(&mut self, eb: u64, key: TaskKey, e: &Event<'_>) -> Note {
        let ts = raw(e.trace_ts);
        let (st, fresh) = self.ebs.touch(eb, &mut self.arena);
        self.stats.ebs += u64::from(fresh);
        if let Some(l) = st.open.as_mut() {
            if l.read_count == 0 {
                if l.contenders.len() < MAX_CONTENDERS {
                    l.contenders.push((key, ts));
                }
                l.race_allocs += 1;
                let (n, allocs) = (l.n, l.race_allocs);
                if allocs == 2 {
                    self.stats.insert_races += 1;
                }
                self.stats.contending_allocs += 1;
                if self.largest_race.as_ref().is_none_or(|r| allocs > r.allocs) {
                    if let Some(first) = l.alloc.as_ref().map(|a| self.arena.evidence(a, "alloc")) {
                        let span = ts
                            .zip(l.first_alloc_ts)
                            .map_or(0, |(a, b)| a.saturating_sub(b));
                        self.largest_race = Some(Race {
                            eb,
                            allocs,
                            span,
                            first,
                        });
                    }
                }
                return Note::Contender { n };
            }
            // A cache miss on a buffer that already completed a read: the release was lost.
            self.stats.missed_releases += 1;
        }
        let missed = st.open.is_some();
        let realloc = st.released.is_some();
        st.lifetimes += 1;
        let n = st.lifetimes;
        if let Some(c) = self.fact_lifetimes.get_mut(&eb) {
            *c += 1;
        }
        if let Some(mut old) = st.open.take() {
            Self::end_lifetime(
                &mut self.facts,
                &mut old,
                &mut st.orphan_clones,
                e,
                "next-alloc",
            );
            old.release_texts(&mut self.arena);
        }
        if let Some((r, _)) = st.released.take().map(|b| *b) {
            self.arena.release(r.text);
        }
        let light = self.arena.light(e);
        st.open = Some(Box::new(Lifetime::new(n, Some(light), Some(key), ts)));
        self.stats.lifetimes += 1;
        if realloc {
            self.stats.reallocations += 1;
        }
        Note::NewLifetime {
            n,
            realloc,
            missed_release: missed,
        }
    }

    /// Close a lifetime: note where it ended in its duplicate-read fact, and
    /// keep its outstanding clones, whose holders may release them after the
    /// eb is freed and even re-allocated (a clone is a private copy).
    fn end_lifetime(
        facts: &mut [EbFact],
        l: &mut Lifetime,
        orphan_clones: &mut Vec<TaskKey>,
        e: &Event<'_>,
        role: &'static str,
    ) {
        let own = match l.dup_fact {
            Some(DupRef::Own(i)) => Some(i),
            _ => None,
        };
        if let Some(EbFact::DuplicateRead { ended, .. }) = own.and_then(|i| facts.get_mut(i)) {
            *ended = Some(Evidence::from_event(e, role));
        }
        orphan_clones.append(&mut l.clones);
        if orphan_clones.len() > MAX_ORPHAN_CLONES {
            let extra = orphan_clones.len() - MAX_ORPHAN_CLONES;
            orphan_clones.drain(..extra);
        }
    }

    fn clone_alloc(&mut self, eb: u64, key: TaskKey) -> Note {
        let (st, fresh) = self.ebs.touch(eb, &mut self.arena);
        self.stats.ebs += u64::from(fresh);
        {
            match st.open.as_mut() {
                Some(l) => {
                    if l.clones.len() >= MAX_CLONES {
                        l.clones.remove(0);
                    }
                    l.clones.push(key);
                }
                None => {
                    st.orphan_clones.push(key);
                    if st.orphan_clones.len() > MAX_ORPHAN_CLONES {
                        st.orphan_clones.remove(0);
                    }
                }
            }
        }
        self.stats.clones += 1;
        Note::Clone
    }

    fn take_clone(st: &mut EbState, key: TaskKey) -> bool {
        let list = match st.open.as_mut() {
            Some(l) if l.clones.contains(&key) => &mut l.clones,
            _ => &mut st.orphan_clones,
        };
        match list.iter().position(|k| *k == key) {
            Some(i) => {
                list.swap_remove(i);
                true
            }
            None => false,
        }
    }

    fn release(
        &mut self,
        d: EbDump,
        key: TaskKey,
        path: Option<ReleasePath>,
        e: &Event<'_>,
    ) -> Note {
        let (st, fresh) = self.ebs.touch(d.eb, &mut self.arena);
        self.stats.ebs += u64::from(fresh);
        match path {
            Some(ReleasePath::Private) => self.discard(d.eb, key),
            Some(ReleasePath::Final) => {
                if Self::take_clone(st, key) {
                    self.stats.clone_releases += 1;
                    Note::CloneRelease
                } else {
                    self.final_release(d.eb, e, false)
                }
            }
            None => {
                self.stats.ambiguous_releases += 1;
                let contender = st.open.as_ref().is_some_and(|l| {
                    l.contenders.iter().any(|c| c.0 == key)
                        || (l.owner == Some(key) && !l.contenders.is_empty())
                });
                if contender {
                    if let Some(l) = st.open.as_mut() {
                        l.ambiguous = true;
                    }
                    return self.discard(d.eb, key);
                }
                if Self::take_clone(st, key) {
                    self.stats.clone_releases += 1;
                    return Note::CloneRelease;
                }
                if d.looks_discarded() {
                    self.stats.orphan_discards += 1;
                    return Note::Discard {
                        n: st.open.as_ref().map(|l| l.n),
                    };
                }
                self.final_release(d.eb, e, true)
            }
        }
    }

    fn discard(&mut self, eb: u64, key: TaskKey) -> Note {
        let Some(st) = self.ebs.get_mut(&eb) else {
            return Note::None;
        };
        if let Some(l) = st.open.as_mut() {
            let n = Some(l.n);
            if let Some(i) = l.contenders.iter().position(|c| c.0 == key) {
                l.contenders.swap_remove(i);
                self.stats.discards += 1;
                return Note::Discard { n };
            }
            if l.owner == Some(key) && !l.contenders.is_empty() {
                // The first allocator lost the insert; a contender owns the eb.
                l.owner = Some(l.contenders.remove(0).0);
                self.stats.discards += 1;
                return Note::Discard { n };
            }
            if let Some(i) = l.clones.iter().position(|k| *k == key) {
                l.clones.swap_remove(i);
                self.stats.clone_releases += 1;
                return Note::CloneRelease;
            }
            if l.owner == Some(key) && l.read_count == 0 {
                // The only alloc seen lost the insert: the winner's alloc is not
                // in the trace, so the lifetime's reads have no alloc.
                l.owner = None;
                l.implicit = true;
                l.winner_unseen = l.alloc.take();
                self.stats.discards += 1;
                return Note::Discard { n };
            }
        }
        self.stats.orphan_discards += 1;
        Note::Discard {
            n: st.open.as_ref().map(|l| l.n),
        }
    }

    fn final_release(&mut self, eb: u64, e: &Event<'_>, ambiguous: bool) -> Note {
        let Some(st) = self.ebs.get_mut(&eb) else {
            return Note::None;
        };
        self.stats.final_releases += 1;
        let n = st.open.take().map(|mut l| {
            Self::end_lifetime(&mut self.facts, &mut l, &mut st.orphan_clones, e, "release");
            l.release_texts(&mut self.arena);
            l.n
        });
        if let Some((r, _)) = st.released.take().map(|b| *b) {
            self.arena.release(r.text);
        }
        st.released = Some(Box::new((self.arena.light(e), ambiguous)));
        Note::FinalRelease { n, ambiguous }
    }

    fn read(&mut self, d: EbDump, e: &Event<'_>) -> Note {
        self.stats.reads += 1;
        let evicted = self.ebs.evicted() > 0;
        let (st, fresh) = self.ebs.touch(d.eb, &mut self.arena);
        self.stats.ebs += u64::from(fresh);
        let header = (d.level, d.fsid);
        if let Some(l) = st.open.as_mut() {
            l.read_count += 1;
            let k = l.read_count;
            if k == 1 {
                let lost = l.winner_unseen;
                let n = l.n;
                l.first_read = Some((self.arena.light(e), header));
                if let Some(lost) = lost {
                    self.stats.reads_without_alloc += 1;
                    add_fact(
                        &mut self.facts,
                        &mut self.index,
                        &self.arena,
                        (e.boot, d.eb, FactKind::ReadWithoutAlloc),
                        |arena| EbFact::ReadWithoutAlloc {
                            eb: d.eb,
                            read: Evidence::from_event(e, "read-done"),
                            after_eviction: evicted,
                            discarded_alloc: Some(arena.evidence(&lost, "discarded-alloc")),
                            again: Again::default(),
                        },
                    );
                }
                return Note::Read { n, k };
            }
            let n = l.n;
            match l.dup_fact {
                None => {
                    self.stats.duplicate_reads += 1;
                    let l: &Lifetime = l;
                    let made = |arena: &TextArena| {
                        let mut reads = Vec::with_capacity(2);
                        let mut headers = Vec::with_capacity(2);
                        if let Some((r, h)) = &l.first_read {
                            reads.push(arena.evidence(r, "read-done"));
                            headers.push(*h);
                        }
                        reads.push(Evidence::from_event(e, "read-done"));
                        headers.push(header);
                        EbFact::DuplicateRead {
                            eb: d.eb,
                            lifetime: l.n,
                            lifetimes: None,
                            alloc: l.alloc.as_ref().map(|a| arena.evidence(a, "alloc")),
                            reads,
                            headers,
                            read_count: k,
                            implicit: l.implicit,
                            ambiguous: l.ambiguous,
                            ended: None,
                            again: Again::default(),
                        }
                    };
                    let r = add_fact(
                        &mut self.facts,
                        &mut self.index,
                        &self.arena,
                        (e.boot, d.eb, FactKind::DuplicateRead),
                        made,
                    );
                    if let DupRef::Counted(i) = r {
                        // Both reads of this lifetime count on the kept fact.
                        if let Some(again) = self.facts.get_mut(i).map(EbFact::again_mut) {
                            again.reads += 2;
                        }
                    }
                    if let Some(st) = self.ebs.get_mut(&d.eb) {
                        if let DupRef::Own(_) = r {
                            self.fact_lifetimes.entry(d.eb).or_insert(st.lifetimes);
                        }
                        if let Some(l) = st.open.as_mut() {
                            l.dup_fact = Some(r);
                        }
                    }
                }
                Some(DupRef::Own(i)) => {
                    if let Some(EbFact::DuplicateRead {
                        reads,
                        headers,
                        read_count,
                        ..
                    }) = self.facts.get_mut(i)
                    {
                        *read_count = k;
                        if reads.len() < MAX_READS_KEPT {
                            reads.push(Evidence::from_event(e, "read-done"));
                            headers.push(header);
                        }
                    }
                }
                Some(DupRef::Counted(i)) => {
                    if let Some(again) = self.facts.get_mut(i).map(EbFact::again_mut) {
                        again.reads += 1;
                    }
                }
                Some(DupRef::Dropped) => {}
            }
            return Note::Read { n, k };
        }
        // No lifetime open: after a final release, or the alloc is not in the trace.
        st.lifetimes += 1;
        let n = st.lifetimes;
        if let Some(c) = self.fact_lifetimes.get_mut(&d.eb) {
            *c += 1;
        }
        let mut l = Lifetime::new(n, None, None, raw(e.trace_ts));
        l.read_count = 1;
        l.first_read = Some((self.arena.light(e), header));
        let released = st.released.take().map(|b| *b);
        st.open = Some(Box::new(l));
        match released {
            Some((rel, ambiguous)) => {
                if let Some(l) = st.open.as_mut() {
                    l.ambiguous = ambiguous;
                }
                add_fact(
                    &mut self.facts,
                    &mut self.index,
                    &self.arena,
                    (e.boot, d.eb, FactKind::ReadAfterRelease),
                    |arena| EbFact::ReadAfterRelease {
                        eb: d.eb,
                        release: arena.evidence(&rel, "release"),
                        release_ambiguous: ambiguous,
                        read: Evidence::from_event(e, "read-done"),
                        again: Again::default(),
                    },
                );
                self.arena.release(rel.text);
                Note::ReadOrphan {
                    n,
                    after_release: true,
                }
            }
            None => {
                self.stats.reads_without_alloc += 1;
                add_fact(
                    &mut self.facts,
                    &mut self.index,
                    &self.arena,
                    (e.boot, d.eb, FactKind::ReadWithoutAlloc),
                    |_| EbFact::ReadWithoutAlloc {
                        eb: d.eb,
                        read: Evidence::from_event(e, "read-done"),
                        after_eviction: evicted,
                        discarded_alloc: None,
                        again: Again::default(),
                    },
                );
                Note::ReadOrphan {
                    n,
                    after_release: false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{read_input, ReadOptions};
    use crate::record::Record;

    fn run(text: &str) -> EbTracker {
        let mut t = EbTracker::default();
        let mut sink = |r: &Record<'_>| {
            if let Some(e) = crate::event::Recognizer::builtin().recognize(r) {
                t.event(&e);
            }
        };
        read_input(0, text.as_bytes(), &ReadOptions::default(), &mut sink);
        t
    }

    const ALLOC: &str = "alloc_extent_buffer: alloc_extent_buffer: alloc eb=5000 len=16384";
    const READ: &str = "end_bbio_meta_read: read done, eb=5000 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000";

    fn line(comm: &str, pid: u32, cpu: u32, us: u64, body: &str) -> String {
        format!("{comm:>8}-{pid:<7} {cpu:>3}..... {us}us : {body}\n")
    }

    #[test]
    fn duplicate_read_in_one_lifetime() {
        let s = line("iou-wrk-", 1, 15, 100, ALLOC)
            + &line("kworker/", 2, 15, 200, READ)
            + &line("kworker/", 3, 31, 400, READ);
        let t = run(&s);
        assert_eq!(t.stats.duplicate_reads, 1);
        assert!(matches!(
            &t.facts[0],
            EbFact::DuplicateRead {
                eb: 5000,
                read_count: 2,
                implicit: false,
                ..
            }
        ));
    }

    #[test]
    fn insert_race_with_four_losers_is_not_an_anomaly() {
        let mut s = String::new();
        for pid in 1..=5 {
            s += &line("iou-wrk-", pid, pid, 100 + pid as u64, ALLOC);
        }
        for pid in 2..=5 {
            s += &line(
                "iou-wrk-",
                pid,
                pid,
                200,
                "alloc_extent_buffer: called from btrfs_release_extent_buffer",
            );
            s += &line(
                "iou-wrk-",
                pid,
                pid,
                201,
                "btrfs_release_extent_buffer_pages: before release, eb=5000 page_refs=0 eb level=0 fsid=00000000-0000-0000-0000-000000000000",
            );
        }
        s += &line("kworker/", 9, 1, 300, READ);
        let t = run(&s);
        assert!(t.facts.is_empty(), "{:?}", t.facts);
        assert_eq!(
            (
                t.stats.insert_races,
                t.stats.contending_allocs,
                t.stats.discards
            ),
            (1, 4, 4)
        );
        assert_eq!(t.largest_race.as_ref().map(|r| r.allocs), Some(5));
    }

    #[test]
    fn reallocation_after_final_release_is_a_new_lifetime() {
        let s = line("iou-wrk-", 1, 1, 100, ALLOC)
            + &line("kworker/", 2, 1, 200, READ)
            + &line("btrfs-tr", 7, 1, 300, "release_extent_buffer: called from release_extent_buffer")
            + &line("btrfs-tr", 7, 1, 301, "btrfs_release_extent_buffer_pages: before release, eb=5000 page_refs=0 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000")
            + &line("iou-wrk-", 1, 1, 400, ALLOC)
            + &line("kworker/", 2, 1, 500, READ);
        let t = run(&s);
        assert!(t.facts.is_empty(), "{:?}", t.facts);
        assert_eq!(
            (
                t.stats.lifetimes,
                t.stats.reallocations,
                t.stats.final_releases
            ),
            (2, 1, 1)
        );
    }

    #[test]
    fn clone_release_does_not_end_the_lifetime() {
        let s = line("iou-wrk-", 1, 1, 100, ALLOC)
            + &line("kworker/", 2, 1, 200, READ)
            + &line("btrfs-tr", 7, 1, 300, "btrfs_clone_extent_buffer: btrfs_clone_extent_buffer: alloc eb=5000 len=16384")
            + &line("btrfs-tr", 7, 1, 310, "release_extent_buffer: called from release_extent_buffer")
            + &line("btrfs-tr", 7, 1, 311, "btrfs_release_extent_buffer_pages: before release, eb=5000 page_refs=1 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000")
            + &line("kworker/", 2, 1, 500, READ);
        let t = run(&s);
        assert_eq!(t.stats.clone_releases, 1);
        // The clone release did not end the lifetime, so the second read is a duplicate.
        assert_eq!(t.stats.duplicate_reads, 1);
        assert_eq!(t.stats.final_releases, 0);
    }

    #[test]
    fn read_after_release_and_without_alloc() {
        let s = line("kworker/", 2, 1, 50, READ)
            + &line("btrfs-tr", 7, 1, 300, "release_extent_buffer: called from release_extent_buffer")
            + &line("btrfs-tr", 7, 1, 301, "btrfs_release_extent_buffer_pages: before release, eb=5000 page_refs=0 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000")
            + &line("kworker/", 2, 1, 500, READ);
        let t = run(&s);
        assert!(matches!(
            t.facts[0],
            EbFact::ReadWithoutAlloc { eb: 5000, .. }
        ));
        assert!(matches!(
            t.facts[1],
            EbFact::ReadAfterRelease {
                eb: 5000,
                release_ambiguous: false,
                ..
            }
        ));
    }

    /// Memory per live eb is bounded whatever the input: allocs of one eb
    /// that never completes a read keep at most MAX_CONTENDERS contenders.
    #[test]
    fn contenders_are_bounded() {
        let mut s = String::new();
        for i in 0..5000u32 {
            s += &line("iou-wrk-", 1 + i % 3000, 1, 100 + i as u64, ALLOC);
        }
        let t = run(&s);
        let open = t.ebs.get(&5000).unwrap().open.as_ref().unwrap();
        assert_eq!(open.contenders.len(), MAX_CONTENDERS);
        assert_eq!(open.race_allocs, 5000);
        assert_eq!(t.stats.contending_allocs, 4999);
    }

    #[test]
    fn clones_of_one_lifetime_are_bounded() {
        let clone = "btrfs_clone_extent_buffer: btrfs_clone_extent_buffer: alloc eb=5000 len=16384";
        let mut s = line("iou-wrk-", 1, 1, 100, ALLOC);
        for i in 0..5000u32 {
            s += &line("iou-wrk-", 2 + i % 3000, 1, 200 + i as u64, clone);
        }
        let t = run(&s);
        let open = t.ebs.get(&5000).unwrap().open.as_ref().unwrap();
        assert_eq!(open.clones.len(), MAX_CLONES);
        // The latest are kept.
        assert_eq!(open.clones.last().map(|k| k.1), Some(2 + 4999 % 3000));
        assert_eq!(t.stats.clones, 5000);
    }

    /// Feed `text` to a tracker bounded to `max_live` ebs, and end its boot.
    fn run_bounded(text: &str, max_live: usize) -> EbTracker {
        let mut t = EbTracker::new(max_live);
        let mut sink = |r: &Record<'_>| {
            if let Some(e) = crate::event::Recognizer::builtin().recognize(r) {
                t.event(&e);
            }
        };
        read_input(0, text.as_bytes(), &ReadOptions::default(), &mut sink);
        Tracker::end_boot(&mut t);
        t
    }

    /// The eb's lifetimes as its duplicate-read fact knows them.
    fn fact_lifetimes(t: &EbTracker) -> Option<u32> {
        t.facts.iter().find_map(|f| match f {
            EbFact::DuplicateRead { lifetimes, .. } => *lifetimes,
            _ => None,
        })
    }

    #[test]
    fn a_duplicate_read_knows_its_lifetimes_after_the_eb_is_evicted() {
        // Two reads of one allocation of eb 5000, then 100 other ebs push
        // it out of a table of 16: its one lifetime is still known (a
        // race-signature needs it to be sure which allocation a printk
        // report belongs to), and so is a second one after it came back.
        let dup = line("iou-wrk-", 1, 15, 100, ALLOC)
            + &line("kworker/", 2, 15, 200, READ)
            + &line("kworker/", 3, 31, 400, READ);
        let mut others = String::new();
        for i in 1..=100u64 {
            others += &line(
                "iou-wrk-",
                4,
                1,
                500 + i,
                &format!(
                    "alloc_extent_buffer: alloc_extent_buffer: alloc eb={} len=16384",
                    1 << 20 | i << 14
                ),
            );
        }
        let t = run_bounded(&(dup.clone() + &others), 16);
        assert!(t.stats.evicted > 0);
        assert_eq!(fact_lifetimes(&t), Some(1));
        let again = line("iou-wrk-", 5, 2, 900, ALLOC);
        let t = run_bounded(&(dup + &others + &again), 16);
        assert_eq!(fact_lifetimes(&t), Some(2));
    }

    #[test]
    fn eviction_bounds_memory() {
        let mut t = EbTracker::new(100);
        let mut s = String::new();
        for i in 0..1000u64 {
            s += &line(
                "iou-wrk-",
                1,
                1,
                100 + i,
                &format!(
                    "alloc_extent_buffer: alloc_extent_buffer: alloc eb={} len=16384",
                    4096 * i
                ),
            );
        }
        let mut sink = |r: &Record<'_>| {
            if let Some(e) = crate::event::Recognizer::builtin().recognize(r) {
                t.event(&e);
            }
        };
        read_input(0, s.as_bytes(), &ReadOptions::default(), &mut sink);
        assert!(t.live() <= 100);
        t.finish();
        assert!(t.stats.evicted >= 900);
    }
}
