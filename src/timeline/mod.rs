//! `tracesift timeline`: every line that concerns some extent buffers, in
//! time order, with lifetimes, insert races and findings marked.
//!
//! This is `grep 'eb=15302115328'` done right. The inputs go through the
//! same reader as `report` with a [`Prefilter`]: the decimal spellings of the
//! addresses plus the few markers that coverage needs (`LOST`, `buffer
//! started`, ...), so only matching lines (and a few lines around them, for
//! paste repair) become records; the rest of the capture is never split
//! into records. Lines that name an eb feed the same correlator and rules as
//! `report`, restricted to those ebs.
//!
//! `--key NAME=VALUE` does the same for any key a rules file (or a built-in
//! pack) declares: the prefilter takes the value's spellings in the key's
//! format, and a line is kept when its fields ([`crate::event::fields`]),
//! or its declared event's captures, give that key that value (a range key:
//! a range that overlaps it). A line from the same task and function right
//! after a kept one, naming no value of the key, is kept as its
//! continuation (a `trace_printk` message split over two calls).

pub mod render;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::config::Config;
use crate::correlate::ebs::Note;
use crate::correlate::evidence::{Comm, Evidence};
use crate::correlate::keep::HeadTail;
use crate::correlate::Analysis;
use crate::event::{self, EventKind, Recognizer};
use crate::grammar::{Body, TraceTs};
use crate::input::InputSpec;
use crate::output::{self, Status};
use crate::reader::driver::{self, Outcome, ReaderHook};
use crate::reader::{Caps, Flow, Prefilter, ReadOptions, RecordSink, SinkResult};
use crate::record::Record;
use crate::rules::{self, Finding};
use crate::spec::{Rules, Target};

/// What a timeline entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A recognised event naming the eb (or, for a key, the line's trace
    /// event or declared event name).
    Event(Cow<'static, str>),
    /// A line continuing a kept line of the same task and function.
    Continued,
    /// The `called from` line before a `before release` line.
    CalledFrom,
    /// A line that names the eb but is no recognised event.
    Mention,
    /// The first line of a splat hit by a task of the timeline.
    Splat,
}

/// One line of a timeline.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Which eb it is about.
    pub eb: u64,
    /// The line, with its position, clocks, CPU and task.
    pub ev: Evidence,
    /// What it is.
    pub kind: EntryKind,
    /// Lifetime bookkeeping from the correlator.
    pub note: Note,
    /// A short description (`len=16384`, `page_refs=3 level=0`, the reason of a tree-check).
    pub detail: String,
}

/// Lines a timeline shows from its start, and from its end: a timeline
/// holds its lines to put them in order, and a capture can name one eb on
/// millions of lines. The lines between are counted
/// ([`Shown::omitted`]); `tracesift events` lists every one.
pub const FIRST_LINES_SHOWN: usize = 10_000;

/// Latest lines a timeline shows.
pub const LAST_LINES_SHOWN: usize = 10_000;

/// Which lines of a timeline are shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shown {
    /// Lines not shown ([`FIRST_LINES_SHOWN`]).
    pub omitted: u64,
    /// Where they would be: the index of the first entry after them.
    pub at: usize,
}

/// The timeline of one eb.
#[derive(Debug, Clone, Default)]
pub struct EbTimeline {
    /// The eb start.
    pub eb: u64,
    /// Its lines, in display order.
    pub entries: Vec<Entry>,
    /// Lines not shown, and where.
    pub shown: Shown,
    /// Findings about it.
    pub findings: Vec<Finding>,
}

/// The timeline of some values of declared keys (one, or all of them
/// merged).
#[derive(Debug, Clone, Default)]
pub struct KeyTimeline {
    /// The keys and values it follows.
    pub targets: Vec<Target>,
    /// Its lines, in display order.
    pub entries: Vec<Entry>,
    /// Lines not shown, and where.
    pub shown: Shown,
    /// Findings of declared rules that cite its lines.
    pub findings: Vec<Finding>,
}

/// The result of a timeline run.
#[derive(Debug, Default)]
pub struct Timeline {
    /// One per requested eb, in request order.
    pub ebs: Vec<EbTimeline>,
    /// One per requested key value (or one for all, merged).
    pub keys: Vec<KeyTimeline>,
    /// Lines read per input.
    pub lines: Vec<u64>,
    /// The rules the keys come from.
    pub rules: Arc<Rules>,
}

impl Timeline {
    /// Whether any line matched.
    pub(crate) fn matched(&self) -> bool {
        self.ebs.iter().any(|t| !t.entries.is_empty())
            || self.keys.iter().any(|t| !t.entries.is_empty())
    }
}

/// What a timeline run follows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Request {
    /// Extent buffers.
    pub ebs: Vec<u64>,
    /// Values of declared keys.
    pub keys: Vec<Target>,
    /// One timeline for all keys.
    pub merge: bool,
    /// Where the keys are declared (and the events recognised).
    pub rules: Arc<Rules>,
}

impl Request {
    /// Follow the extent buffers `targets` (`--eb`), nothing else.
    pub(crate) fn ebs(targets: &[u64]) -> Request {
        Request {
            ebs: targets.to_vec(),
            ..Request::default()
        }
    }
}

/// `called from` lines kept waiting for their `before release` at most
/// (the oldest go first): tasks with a release in flight at one moment.
const MAX_CALLED_FROM: usize = 4096;

/// The `called from` lines waiting for a `before release` from the same
/// task, at most [`MAX_CALLED_FROM`] of them: a look-up per line, whatever
/// the number of tasks in the capture.
#[derive(Default)]
struct CalledFrom {
    map: HashMap<(u32, u32), (u64, Evidence)>,
    seq: u64,
}

impl CalledFrom {
    fn insert(&mut self, key: (u32, u32), ev: Evidence) {
        self.seq += 1;
        self.map.insert(key, (self.seq, ev));
        if self.map.len() > MAX_CALLED_FROM {
            // Forget the older half at once: amortised constant time.
            let keep_after = self.seq - (MAX_CALLED_FROM / 2) as u64;
            self.map.retain(|_, (s, _)| *s > keep_after);
        }
    }

    fn take(&mut self, key: &(u32, u32)) -> Option<Evidence> {
        self.map.remove(key).map(|(_, ev)| ev)
    }
}

/// Lines around a match run through the record pipeline (for paste repair).
const WINDOW_BEFORE: usize = 3;
const WINDOW_AFTER: usize = 3;

/// How far back a `called from` line is looked for.
const CALLED_FROM_LOOKBACK: usize = 64;

/// A task's last kept trace line: the targets it was kept for, its
/// function and its line number (for continuations).
type Kept = (Vec<usize>, Vec<u8>, u64);

struct Collector<'t> {
    targets: &'t [u64],
    keys: &'t [Target],
    rules: Arc<Rules>,
    an: Analysis,
    recognizer: Recognizer,
    /// Entries per requested eb.
    entries: FxHashMap<u64, HeadTail<Entry>>,
    /// Entries per key timeline: one per key target, or one for all
    /// ([`Request::merge`]).
    key_entries: Vec<HeadTail<Entry>>,
    /// One timeline for all keys.
    merge: bool,
    /// Per (boot, pid): the last kept trace line's targets, function and line.
    last_kept: FxHashMap<(u32, u32), Kept>,
    /// `called from` lines waiting for their `before release`, per (boot,
    /// pid), with the order they came in ([`CalledFrom`]).
    called_from: CalledFrom,
}

fn is_token_at(hay: &[u8], at: usize, len: usize) -> bool {
    let before = at == 0 || !hay[at - 1].is_ascii_digit();
    let after = hay.get(at + len).is_none_or(|c| !c.is_ascii_digit());
    before && after
}

/// Whether `hay` names the address `dec` as a block: a whole number after
/// `=` (`eb=`, `block=`, `bytenr=`, `start=`) or after a word that introduces
/// a block address (`logical`, `block`, `want`, `off`, ...), so that
/// `4096 bytes` in an unrelated message is not a mention of eb 4096.
fn names(hay: &[u8], dec: &[u8]) -> bool {
    const WORDS: [&[u8]; 11] = [
        b"logical ",
        b"block ",
        b"bytenr ",
        b"start ",
        b"eb ",
        b"off ",
        b"want ",
        b"have ",
        b"buffer ",
        b"bytenr=",
        b"root ",
    ];
    memchr::memmem::find_iter(hay, dec).any(|p| {
        is_token_at(hay, p, dec.len()) && {
            let before = &hay[..p];
            before.ends_with(b"=") || WORDS.iter().any(|w| before.ends_with(w))
        }
    })
}

impl Collector<'_> {
    /// The target this event concerns, if any.
    fn target_of(&self, k: &EventKind<'_>) -> Option<u64> {
        let hit = |v: u64| self.targets.contains(&v).then_some(v);
        match k {
            EventKind::Tracepoint { blocks, .. } => blocks.iter().flatten().find_map(|&b| hit(b)),
            EventKind::TreeCheck(t) => t.eb.and_then(hit).or_else(|| t.block.and_then(hit)),
            _ => k.eb().and_then(hit),
        }
    }

    fn record(&mut self, r: &Record<'_>, kind: Option<EventKind<'_>>) {
        self.an.observe(r);
        if !self.keys.is_empty() {
            self.key_lines(r, kind.as_ref());
        }
        if self.targets.is_empty() {
            // Keys only: the correlator still takes the events (for the
            // declared rules), nothing else is about an eb.
            if let Some(k) = kind {
                let e = event::Event {
                    boot: self.an.boots.current(),
                    ..event::assemble(r, k)
                };
                if !matches!(e.kind, EventKind::Trace | EventKind::Tracepoint { .. }) {
                    self.an.event(&e);
                }
            }
            return;
        }
        let Some(e) = kind.map(|k| event::Event {
            boot: self.an.boots.current(),
            ..event::assemble(r, k)
        }) else {
            self.mention(r);
            return;
        };
        if let EventKind::CalledFrom { .. } = e.kind {
            if let Some(pid) = e.pid {
                self.called_from
                    .insert((e.boot, pid), Evidence::from_event(&e, "called-from"));
            }
            self.an.event(&e);
            return;
        }
        let Some(eb) = self.target_of(&e.kind) else {
            if !matches!(e.kind, EventKind::Lost { .. }) {
                self.mention(r);
            }
            return;
        };
        if let EventKind::BeforeRelease(_) = e.kind {
            if let Some(pid) = e.pid {
                if let Some(ev) = self.called_from.take(&(e.boot, pid)) {
                    let func = ev
                        .text
                        .rsplit(|&c| c == b' ')
                        .next()
                        .unwrap_or(b"")
                        .to_vec();
                    self.keep(Entry {
                        eb,
                        ev,
                        kind: EntryKind::CalledFrom,
                        note: Note::None,
                        detail: format!("called from {}", String::from_utf8_lossy(&func)),
                    });
                }
            }
        }
        let note = self.an.event(&e);
        self.keep(Entry {
            eb,
            ev: Evidence::from_event(&e, e.kind.name()),
            kind: EntryKind::Event(Cow::Borrowed(e.kind.name())),
            note,
            detail: detail_of(&e.kind),
        });
    }

    /// Keep `r` for the key targets it names (or as the continuation of
    /// the line before it from its task).
    fn key_lines(&mut self, r: &Record<'_>, kind: Option<&EventKind<'_>>) {
        let boot = self.an.boots.current();
        let rules = &*self.rules;
        let (text, name, trace) = match &r.body {
            Body::Trace(t) => {
                let p = t.body.payload;
                if t.body.name == b"console" {
                    let p = crate::fields::trim_start(p);
                    (
                        crate::prefix::printk_msg(p).map_or(p, |(_, m)| m),
                        None,
                        Some(t),
                    )
                } else {
                    (p, Some(t.body.name), Some(t))
                }
            }
            _ => (r.msg, None, None),
        };
        let event = match kind {
            Some(EventKind::Declared(h)) => Some(h.event),
            Some(k) if !matches!(k, EventKind::Trace | EventKind::Tracepoint { .. }) => {
                let e = event::assemble(r, *k);
                self.recognizer.declared_of(&e).map(|h| h.event)
            }
            _ => None,
        };
        let kvs = crate::event::declared::key_values(rules, event, text);
        let hits: Vec<usize> = self
            .keys
            .iter()
            .enumerate()
            .filter(|(_, t)| kvs.iter().any(|kv| target_matches(t, kv)))
            .map(|(i, _)| i)
            .collect();
        let task = trace.and_then(|t| t.pid).map(|pid| (boot, pid));
        let continued = match (hits.is_empty(), task, name) {
            (true, Some(task), Some(n)) => self.last_kept.get(&task).and_then(|(ts, ln, line)| {
                let same = ln[..] == *n && r.pos.line <= line + WINDOW_AFTER as u64;
                let own = ts
                    .iter()
                    .any(|&i| kvs.iter().any(|kv| self.keys[i].keys.contains(&kv.key)));
                (same && !own).then(|| ts.clone())
            }),
            _ => None,
        };
        let (targets, entry_kind) = match continued {
            Some(ts) => (ts, EntryKind::Continued),
            None if hits.is_empty() => {
                if let Some(task) = task {
                    // Another function of the task: no continuation past it.
                    if self
                        .last_kept
                        .get(&task)
                        .is_some_and(|(_, n, _)| Some(&n[..]) != name)
                    {
                        self.last_kept.remove(&task);
                    }
                }
                return;
            }
            None => {
                let label: Cow<'static, str> = match (event, name) {
                    (Some(ev), _) if !rules.events[ev as usize].implicit => {
                        Cow::Owned(rules.events[ev as usize].name.clone())
                    }
                    (_, Some(n)) => Cow::Owned(String::from_utf8_lossy(n).into_owned()),
                    _ => Cow::Borrowed("message"),
                };
                (hits, EntryKind::Event(label))
            }
        };
        if let (Some(task), Some(n)) = (task, name) {
            self.last_kept
                .insert(task, (targets.clone(), n.to_vec(), r.pos.line));
        }
        let mut ev = Evidence::from_record(r, boot, "key");
        if let Some(t) = trace {
            ev.cpu = t.cpu;
            ev.pid = t.pid;
            ev.comm = Comm::new(t.comm);
            ev.trace_ts = t.ts;
        }
        let mut detail = String::new();
        if let Some(ev_id) = event {
            let roles: Vec<String> = rules.by_event[ev_id as usize]
                .iter()
                .map(|&(lc, b)| {
                    let l = &rules.lifecycles[lc as usize];
                    format!("{} {}", l.bindings[b as usize].role.name(), l.name)
                })
                .collect();
            if !roles.is_empty() {
                detail = format!("[{}] ", roles.join(", "));
            }
        }
        detail.push_str(&String::from_utf8_lossy(crate::fields::trim(text)));
        // A line of several targets is one line of a merged timeline.
        let groups = if self.merge {
            &targets[..targets.len().min(1)]
        } else {
            &targets[..]
        };
        for &t in groups {
            let g = if self.merge { 0 } else { t };
            if let Some(kept) = self.key_entries.get_mut(g) {
                kept.push(Entry {
                    eb: 0,
                    ev: ev.clone(),
                    kind: entry_kind.clone(),
                    note: Note::None,
                    detail: detail.clone(),
                });
            }
        }
    }

    /// Keep an entry of an eb's timeline.
    fn keep(&mut self, e: Entry) {
        self.entries.entry(e.eb).or_insert_with(lines_shown).push(e);
    }

    fn mention(&mut self, r: &Record<'_>) {
        for &eb in self.targets {
            let dec = eb.to_string();
            if names(r.text, dec.as_bytes()) {
                let mut ev = Evidence::from_record(r, self.an.boots.current(), "mention");
                if let Body::Trace(t) = &r.body {
                    ev.cpu = t.cpu;
                    ev.pid = t.pid;
                    ev.comm = Comm::new(t.comm);
                    ev.trace_ts = t.ts;
                }
                self.keep(Entry {
                    eb,
                    ev,
                    kind: EntryKind::Mention,
                    note: Note::None,
                    detail: String::new(),
                });
            }
        }
    }
}

impl RecordSink for Collector<'_> {
    fn caps(&self) -> Caps {
        Caps::events(self.recognizer.clone())
    }

    fn record(&mut self, r: &Record<'_>, kind: Option<EventKind<'_>>) -> SinkResult {
        Collector::record(self, r, kind);
        Ok(Flow::Continue)
    }

    fn end_input(&mut self, input: u32) -> SinkResult {
        self.an.end_input(input)
    }
}

/// Whether key value `kv` found in a line is target `t`'s value (a range:
/// overlaps it).
fn target_matches(t: &Target, kv: &crate::event::declared::KeyValue) -> bool {
    if !t.keys.contains(&kv.key) || usize::from(kv.n) != t.parts.len() {
        return false;
    }
    match kv.len {
        Some(len) if t.parts.len() == 1 => {
            let (a, b) = (kv.parts[0], kv.parts[0].saturating_add(len.max(1)));
            let (x, y) = (
                t.parts[0],
                t.parts[0].saturating_add(t.len.unwrap_or(1).max(1)),
            );
            a < y && x < b
        }
        _ => {
            let at = t.parts[0];
            match t.len {
                // A target range: the line's start inside it.
                Some(l) if t.parts.len() == 1 => {
                    kv.parts[0] >= at && kv.parts[0] < at.saturating_add(l.max(1))
                }
                _ => t.parts.iter().zip(kv.parts).all(|(a, b)| *a == b),
            }
        }
    }
}

/// A one-line description of an event for the timeline.
fn detail_of(k: &EventKind<'_>) -> String {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match k {
        EventKind::Alloc { len, via, .. } => {
            let len = len.map(|l| format!(" len={l}")).unwrap_or_default();
            format!("{}{len}", via.name())
        }
        EventKind::ReadDone(d) | EventKind::BeforeRelease(d) => {
            let mut v = Vec::new();
            if let Some(r) = d.page_refs {
                v.push(format!("page_refs={r}"));
            }
            if let Some(l) = d.level {
                v.push(format!("level={l}"));
            }
            if let Some(f) = d.fsid {
                v.push(format!("fsid={}", crate::fields::format_uuid(&f)));
            }
            v.join(" ")
        }
        EventKind::ValidationFailed { .. } => "!!! Validation failed !!!".into(),
        EventKind::Tracepoint { name, .. } => s(name),
        EventKind::TreeCheck(t) => {
            let what = if t.node { "node" } else { "leaf" };
            let block = t.block.map(|b| format!(" block={b}")).unwrap_or_default();
            format!("corrupt {what}{block}: {}", s(t.reason))
        }
        EventKind::Validation(v) => v.kind.label().to_string(),
        _ => String::new(),
    }
}

/// The prefilter for `targets`: lines that name one of their decimal
/// spellings (with the `called from` lines just before them, for releases),
/// and the markers coverage needs.
fn prefilter(targets: &[u64], extra: &[Vec<u8>]) -> Prefilter {
    let mut keys: Vec<Vec<u8>> = targets.iter().map(|t| t.to_string().into_bytes()).collect();
    keys.extend(extra.iter().cloned());
    Prefilter::new(
        &keys,
        &[
            b"LOST ",
            b" buffer started",
            b"EVENTS DROPPED",
            b"entries-in-buffer",
            b"printk messages dropped",
            // The splats and the tasks that hit them.
            b"kernel BUG at ",
            b"WARNING: ",
            b"BUG: ",
            b"Oops: ",
            b"RIP: ",
            b" PID: ",
        ],
        &[b"called from "],
        CALLED_FROM_LOOKBACK,
        (WINDOW_BEFORE, WINDOW_AFTER),
    )
}

/// Run `timeline` for `ebs` and `keys`, as text or JSON: exit status 1
/// when no line matched.
#[allow(clippy::too_many_arguments)]
pub(crate) fn command(
    cfg: &Config,
    ebs: &[u64],
    keys: &[Target],
    merge: bool,
    json: bool,
    hook: &mut dyn ReaderHook,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Status> {
    let req = Request {
        ebs: ebs.to_vec(),
        keys: keys.to_vec(),
        merge,
        rules: cfg.rules.clone(),
    };
    let (tl, outcome) = run_request(&cfg.inputs, &req, &cfg.read, hook);
    let results = &outcome.inputs[..];
    let failed = output::input_errors(results, err);
    if !cfg.quiet {
        if json {
            render::write_json(out, &tl, results)?;
        } else {
            render::write_text(out, &tl, results, &cfg.style)?;
        }
    }
    out.flush()?;
    Ok(if failed {
        Status::Trouble
    } else if tl.matched() {
        Status::Clean
    } else {
        Status::Findings
    })
}

/// The key spellings a request's prefilter looks for.
fn key_spellings(req: &Request) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = req
        .keys
        .iter()
        .flat_map(|t| req.rules.spellings(t))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Run the timeline over `specs` for what `req` asks.
pub(crate) fn run_request(
    specs: &[InputSpec],
    req: &Request,
    opts: &ReadOptions,
    hook: &mut dyn ReaderHook,
) -> (Timeline, Outcome) {
    let opts = ReadOptions {
        prefilter: Some(Arc::new(prefilter(&req.ebs, &key_spellings(req)))),
        ..opts.clone()
    };
    let mut col = Collector::new(req);
    let outcome = driver::run_inputs(specs, &opts, &mut col, hook);
    (col.finish(&outcome), outcome)
}

/// Run the timeline over in-memory inputs (named `<input N>`) with an
/// explicit prefilter block size: the same pipeline as [`run_request`], for tests
/// and fuzzing, where small blocks exercise the block-boundary code.
pub fn run_bytes(
    inputs: &[&[u8]],
    targets: &[u64],
    opts: &ReadOptions,
    block: usize,
) -> (Timeline, Outcome) {
    let req = Request::ebs(targets);
    run_request_bytes(inputs, &req, opts, block)
}

/// [`run_bytes`] for what `req` asks.
pub(crate) fn run_request_bytes(
    inputs: &[&[u8]],
    req: &Request,
    opts: &ReadOptions,
    block: usize,
) -> (Timeline, Outcome) {
    let opts = ReadOptions {
        prefilter: Some(Arc::new(
            prefilter(&req.ebs, &key_spellings(req)).with_block(block),
        )),
        ..opts.clone()
    };
    let mut col = Collector::new(req);
    let outcome = driver::run_bytes(inputs, &opts, &mut col);
    (col.finish(&outcome), outcome)
}

impl Collector<'_> {
    fn new(req: &Request) -> Collector<'_> {
        Collector {
            targets: &req.ebs,
            keys: &req.keys,
            rules: req.rules.clone(),
            an: Analysis::with_rules(crate::correlate::ebs::DEFAULT_MAX_LIVE, req.rules.clone()),
            recognizer: Recognizer::with_rules(req.rules.clone()),
            entries: FxHashMap::default(),
            key_entries: (0..if req.merge {
                usize::from(!req.keys.is_empty())
            } else {
                req.keys.len()
            })
                .map(|_| lines_shown())
                .collect(),
            merge: req.merge,
            last_kept: FxHashMap::default(),
            called_from: CalledFrom::default(),
        }
    }

    /// The splats hit by a task that has lines in the timeline of `eb`, as
    /// entries: what the task was doing with the eb just before it.
    fn splats_of_tasks(&self, eb: u64, kept: &HeadTail<Entry>) -> Vec<Entry> {
        let tasks: std::collections::BTreeSet<(u32, u32)> = kept
            .iter()
            .filter_map(|(_, e)| e.ev.pid.map(|p| (e.ev.boot, p)))
            .collect();
        let mut entries = Vec::new();
        for sp in self.an.splats.splats() {
            let Some(t) = sp
                .task
                .filter(|t| tasks.contains(&(sp.evidence.boot, t.pid)))
            else {
                continue;
            };
            entries.push(Entry {
                eb,
                ev: sp.evidence.clone(),
                kind: EntryKind::Splat,
                note: Note::None,
                detail: format!(
                    "{}: hit by {} (pid {}), a task of this timeline",
                    sp.title,
                    String::from_utf8_lossy(t.comm.as_bytes()),
                    t.pid
                ),
            });
        }
        entries
    }

    /// Evaluate the rules and split the entries per requested eb and key.
    fn finish(mut self, outcome: &Outcome) -> Timeline {
        self.an.finish();
        let findings = rules::evaluate(&self.an);
        // Inputs that could not be opened read no lines.
        let mut lines: Vec<u64> = outcome.inputs.iter().map(|r| r.summary.lines).collect();
        lines.resize(self.an.lines.len().max(lines.len()), 0);
        let mut tl = Timeline {
            ebs: Vec::new(),
            keys: Vec::new(),
            lines,
            rules: self.rules.clone(),
        };
        for &eb in self.targets {
            let (entries, shown) = match self.entries.remove(&eb) {
                Some(kept) => {
                    let splats = self.splats_of_tasks(eb, &kept);
                    in_order(kept, splats)
                }
                // Asked for twice: a copy of the first.
                None => tl
                    .ebs
                    .iter()
                    .find(|t| t.eb == eb)
                    .map(|t| (t.entries.clone(), t.shown))
                    .unwrap_or_default(),
            };
            tl.ebs.push(EbTimeline {
                eb,
                entries,
                shown,
                findings: findings
                    .iter()
                    .filter(|f| f.eb() == Some(eb))
                    .cloned()
                    .collect(),
            });
        }
        let groups: Vec<Vec<usize>> = if self.merge {
            vec![(0..self.keys.len()).collect()]
        } else {
            (0..self.keys.len()).map(|i| vec![i]).collect()
        };
        let kept = std::mem::take(&mut self.key_entries);
        for (g, kept) in groups.into_iter().zip(kept) {
            let (entries, shown) = in_order(kept, Vec::new());
            let lines: std::collections::HashSet<(u32, u64)> = entries
                .iter()
                .map(|e| (e.ev.pos.input, e.ev.pos.line))
                .collect();
            let cites = |f: &Finding| {
                f.key_subject().is_some()
                    && f.evidence
                        .iter()
                        .any(|x| lines.contains(&(x.pos.input, x.pos.line)))
            };
            tl.keys.push(KeyTimeline {
                targets: g.iter().map(|&i| self.keys[i].clone()).collect(),
                findings: findings.iter().filter(|f| cites(f)).cloned().collect(),
                entries,
                shown,
            });
        }
        tl
    }
}

/// An empty list of a timeline's lines.
fn lines_shown() -> HeadTail<Entry> {
    HeadTail::new(FIRST_LINES_SHOWN, LAST_LINES_SHOWN)
}

/// The kept lines of a timeline, with `extra` ones (splats), in display
/// order; the first and the latest lines are ordered apart when lines
/// between them were not kept.
fn in_order(kept: HeadTail<Entry>, extra: Vec<Entry>) -> (Vec<Entry>, Shown) {
    let (mut head, mut tail, omitted) = kept.into_parts();
    if omitted == 0 {
        head.append(&mut tail);
        head.extend(extra);
        order(&mut head);
        return (head, Shown::default());
    }
    let split = tail.first().map(|e| (e.ev.pos.input, e.ev.pos.line));
    for e in extra {
        if split.is_some_and(|s| (e.ev.pos.input, e.ev.pos.line) < s) {
            head.push(e);
        } else {
            tail.push(e);
        }
    }
    order(&mut head);
    order(&mut tail);
    let at = head.len();
    head.append(&mut tail);
    (head, Shown { omitted, at })
}

/// Display order: by input; within an input by console time when every line
/// has one, else by trace time when every line has one, else file order.
fn order(entries: &mut [Entry]) {
    entries.sort_by_key(|e| (e.ev.pos.input, e.ev.pos.line));
    let mut i = 0;
    while i < entries.len() {
        let input = entries[i].ev.pos.input;
        let j = entries[i..]
            .iter()
            .position(|e| e.ev.pos.input != input)
            .map_or(entries.len(), |k| i + k);
        let part = &mut entries[i..j];
        if part.iter().all(|e| e.ev.console_ns.is_some()) {
            part.sort_by_key(|e| {
                (
                    e.ev.console_ns,
                    e.ev.trace_ts.map(TraceTs::raw),
                    e.ev.pos.line,
                )
            });
        } else if part.iter().all(|e| e.ev.trace_ts.is_some()) {
            part.sort_by_key(|e| (e.ev.trace_ts.map(TraceTs::raw), e.ev.pos.line));
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trace times near the top of the u64 range (a corrupted or hostile
    /// dump) must not overflow the timeline's deltas.
    /// An eb named on more lines than a timeline shows: the first and the
    /// latest are shown in order, the ones between counted, and a splat of
    /// one of its tasks still lands where it happened.
    #[test]
    fn a_timeline_shows_its_first_and_latest_lines_and_counts_the_rest() {
        let n = FIRST_LINES_SHOWN + LAST_LINES_SHOWN + 500;
        let mut data = String::new();
        for i in 0..n {
            data.push_str(&format!(
                "iou-wrk--4101      {}..... {}us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=22020096 len=16384\n",
                i % 4,
                90_000_000 + i * 10
            ));
        }
        let (tl, _) = run_bytes(&[data.as_bytes()], &[22020096], &ReadOptions::default(), 64);
        let t = &tl.ebs[0];
        assert_eq!(t.entries.len(), FIRST_LINES_SHOWN + LAST_LINES_SHOWN);
        assert_eq!(
            t.shown,
            Shown {
                omitted: 500,
                at: FIRST_LINES_SHOWN
            }
        );
        let line = |i: usize| t.entries[i].ev.pos.line;
        assert_eq!(line(FIRST_LINES_SHOWN - 1), FIRST_LINES_SHOWN as u64);
        assert_eq!(line(FIRST_LINES_SHOWN), FIRST_LINES_SHOWN as u64 + 501);
        assert!(t
            .entries
            .windows(2)
            .all(|w| w[0].ev.pos.line < w[1].ev.pos.line));
        let mut out = Vec::new();
        render::write_text(&mut out, &tl, &[], &Default::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(&format!("{} lines (500 not shown)", n)),
            "{}",
            &text[..200]
        );
        assert!(text.contains("... 500 lines not shown: a timeline shows its first 10000"));
    }

    #[test]
    fn huge_trace_times_do_not_overflow_deltas() {
        let data = "iou-wrk--173727   15..... 9223372036854775us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384\n\
                    kworker/-322      15..... 13446744073709551us : end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000\n";
        let (tl, _) = run_bytes(
            &[data.as_bytes()],
            &[15302115328],
            &ReadOptions::default(),
            64,
        );
        assert!(tl.keys.is_empty());
        assert_eq!(tl.ebs[0].entries.len(), 2);
        let mut out = Vec::new();
        render::write_text(&mut out, &tl, &[], &Default::default()).unwrap();
        render::write_json(&mut out, &tl, &[]).unwrap();
    }

    #[test]
    fn whole_number_matches_only() {
        assert!(names(b"eb=14545043456 len", b"14545043456"));
        assert!(names(
            b"read error corrected: ino 0 off 313163105075200 (dev",
            b"313163105075200"
        ));
        assert!(!names(
            b"hash table entries: 256 (order: 0, 4096 bytes, linear)",
            b"4096"
        ));
        assert!(!names(b"eb=145450434560 len", b"14545043456"));
        assert!(!names(b"eb=114545043456", b"14545043456"));
    }
}
