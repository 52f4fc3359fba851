//! Declared lifecycles: the machine that follows every key a rules file
//! declares through the events that open, use, close, get and put it
//! ([`crate::spec::Lifecycle`]), and notes what its checks look for as
//! facts; the rules (`rules`) judge them once coverage is known.
//!
//! One [`KeyTable`] holds every lifecycle's keys, keyed by (lifecycle,
//! value), so one CLOCK bound covers them all; the lines a fact may cite
//! live in a [`TextArena`]. Nothing outlives its boot
//! ([`Tracker::end_boot`]): what is still open then is open at the end.
//!
//! Two details a kernel's objects need:
//!
//! * an object may get its key after it is created (an uncached XFS
//!   buffer has daddr -1 until it is submitted): an open event whose key is
//!   one of the key's `unset` values is held for its task, and the task's
//!   next event of that lifecycle with a real key opens it;
//! * a range key (start + length) joins events by overlap: an event whose
//!   start falls inside an open range is about that range.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::correlate::arena::{Light, TextArena, TextId};
use crate::correlate::evidence::Evidence;
use crate::correlate::table::{Held, KeyTable};
use crate::correlate::tracker::Tracker;
use crate::event::declared::Hit;
use crate::event::{Event, EventKind};
use crate::spec::{Binding, CheckKind, Role, Rules, MAX_PARTS};

/// Facts kept per declared rule; more are counted, not kept.
pub(crate) const MAX_FACTS_PER_RULE: usize = 1000;

/// A fact's group: one finding per (lifecycle, check, key value, boot).
type Group = (u16, u16, [u64; MAX_PARTS], u32);

/// Open events waiting for their key, per task, at most.
const MAX_PENDING: usize = 4096;

/// Bytes of line text those open events may hold together (lines may be
/// as long as the line cap).
const MAX_PENDING_BYTES: usize = 16 << 20;

/// A line kept with the name of its event.
#[derive(Debug, Clone, Copy)]
struct Kept {
    line: Light,
    name: TextId,
    role: Role,
}

/// One key's state in one lifecycle.
#[derive(Debug, Default)]
struct State {
    /// Open now.
    open: bool,
    /// The open event of the current lifetime (none when the lifetime began
    /// before the trace).
    opened: Option<Kept>,
    /// The close, while closed and not yet reported.
    closed: Option<Kept>,
    /// The count, when the lifecycle counts.
    count: Option<i64>,
    /// The count comes from get/put since a seen open (not printed).
    relative: bool,
    /// The last event.
    last: Option<Kept>,
    /// The watched field's last value.
    watch: Option<u64>,
    /// Per `at-most` check (by index in the lifecycle), the events counted
    /// in this lifetime and the first `max + 1` of them.
    counted: Vec<(u16, u32, Vec<Kept>)>,
}

impl Held for State {
    fn release_texts(&self, arena: &mut TextArena) {
        for k in self.kept() {
            arena.release(k.line.text);
            arena.release(k.name);
        }
    }

    fn text_ids(&mut self) -> impl Iterator<Item = &mut TextId> {
        let counted = self.counted.iter_mut().flat_map(|c| c.2.iter_mut());
        self.opened
            .iter_mut()
            .chain(self.closed.iter_mut())
            .chain(self.last.iter_mut())
            .chain(counted)
            .flat_map(|k| [&mut k.line.text, &mut k.name])
    }
}

impl State {
    fn kept(&self) -> impl Iterator<Item = &Kept> {
        self.opened
            .iter()
            .chain(self.closed.iter())
            .chain(self.last.iter())
            .chain(self.counted.iter().flat_map(|c| c.2.iter()))
    }
}

/// What could change a fact's verdict, for its confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absence {
    /// Events lost between evidence lines `a` and `b`.
    Between(usize, usize),
    /// An event before evidence line `i` (before the trace window).
    Before(usize),
    /// An event after evidence line `i`, to the end of its boot.
    After(usize),
    /// Nothing: the trace printed the fact (a count below zero).
    Printed,
}

/// A fact found while an event is applied: the check, the lines, the
/// message's values, what could change it, whether the lifetime's open was
/// seen.
type Found = (u16, Vec<Kept>, Vec<(&'static str, String)>, Absence, bool);

/// A fact of check `c` resting on two lines, nothing lost between them.
fn pair(c: u16, a: Kept, b: Kept) -> Found {
    (c, vec![a, b], vec![], Absence::Between(0, 1), false)
}

/// Something a check looks for, found.
#[derive(Debug, Clone)]
pub struct Fact {
    /// The lifecycle (index in [`Rules::lifecycles`]).
    pub lifecycle: u16,
    /// The check (index in its lifecycle's checks).
    pub check: u16,
    /// The key's value (its parts).
    pub value: [u64; MAX_PARTS],
    /// The lines it rests on.
    pub evidence: Vec<Evidence>,
    /// Values for the message's placeholders.
    pub vars: Vec<(&'static str, String)>,
    /// What could change it.
    pub absence: Absence,
    /// The lifetime began before the trace (no open seen).
    pub implicit: bool,
    /// Keys had been evicted to bound memory.
    pub after_eviction: bool,
    /// The boot it happened in.
    pub boot: u32,
    /// The same again for the key in its boot (counted, not kept).
    pub again: u64,
}

/// Follows every declared lifecycle.
#[derive(Debug)]
pub struct DeclaredTracker {
    rules: Arc<Rules>,
    table: KeyTable<(u16, [u64; MAX_PARTS]), State>,
    arena: TextArena,
    /// Open events waiting for their key, per (boot, pid, lifecycle), owned
    /// (the arena may be compacted meanwhile).
    pending: FxHashMap<(u32, u32, u16), (Evidence, Vec<u8>)>,
    /// Bytes of text `pending` holds (an upper bound: replaced entries
    /// are not subtracted until it is cleared).
    pending_bytes: usize,
    /// Open ranges per lifecycle: (lifecycle, start) → end.
    ranges: BTreeMap<(u16, u64), u64>,
    max_live: usize,
    /// The facts found.
    pub facts: Vec<Fact>,
    /// Per rule id, facts found beyond [`MAX_FACTS_PER_RULE`].
    pub suppressed: BTreeMap<String, u64>,
    kept_per_rule: FxHashMap<(u16, u16), usize>,
    /// Where each kept fact is, by its group.
    groups: FxHashMap<Group, usize>,
    /// Declared events seen.
    pub events: u64,
}

impl DeclaredTracker {
    /// A tracker for `rules`, keeping at most `max_live` keys over all lifecycles.
    pub(crate) fn new(rules: Arc<Rules>, max_live: usize) -> DeclaredTracker {
        DeclaredTracker {
            rules,
            table: KeyTable::new(max_live),
            arena: TextArena::default(),
            pending: FxHashMap::default(),
            pending_bytes: 0,
            ranges: BTreeMap::new(),
            max_live: max_live.max(16),
            facts: Vec::new(),
            suppressed: BTreeMap::new(),
            kept_per_rule: FxHashMap::default(),
            groups: FxHashMap::default(),
            events: 0,
        }
    }

    /// The rules it follows.
    pub(crate) fn rules(&self) -> &Arc<Rules> {
        &self.rules
    }

    /// Bytes the arena of kept lines holds.
    #[cfg(test)]
    pub(crate) fn arena_bytes(&self) -> usize {
        self.arena.capacity()
    }

    fn name_of(&self, k: &Kept) -> String {
        String::from_utf8_lossy(self.arena.get(k.name)).into_owned()
    }

    fn evidence(&self, k: &Kept) -> Evidence {
        self.arena.evidence(&k.line, k.role.name())
    }

    /// Note a fact of check `check` of lifecycle `lc`: counted on the one
    /// kept for the same key in the same boot, if any; else kept, unless
    /// that rule already has its share (then counted as not kept).
    #[allow(clippy::too_many_arguments)]
    fn fact(
        &mut self,
        lc: u16,
        check: u16,
        value: [u64; MAX_PARTS],
        evidence: Vec<Evidence>,
        vars: Vec<(&'static str, String)>,
        absence: Absence,
        implicit: bool,
    ) {
        let boot = evidence.first().map_or(0, |e| e.boot);
        if let Some(f) = self
            .groups
            .get(&(lc, check, value, boot))
            .and_then(|&i| self.facts.get_mut(i))
        {
            f.again += 1;
            return;
        }
        let n = self.kept_per_rule.entry((lc, check)).or_insert(0);
        if *n >= MAX_FACTS_PER_RULE {
            let id = self.rules.lifecycles[lc as usize].checks[check as usize]
                .id
                .clone();
            *self.suppressed.entry(id).or_insert(0) += 1;
            return;
        }
        *n += 1;
        let after_eviction = self.table.evicted() > 0;
        self.groups
            .insert((lc, check, value, boot), self.facts.len());
        self.facts.push(Fact {
            lifecycle: lc,
            check,
            value,
            evidence,
            vars,
            absence,
            implicit,
            after_eviction,
            boot,
            again: 0,
        });
    }

    /// Take one declared event (`hit` found in `e`).
    pub(crate) fn hit(&mut self, e: &Event<'_>, hit: &Hit) {
        self.events += 1;
        let rules = Arc::clone(&self.rules);
        let Some(uses) = rules.by_event.get(hit.event as usize) else {
            return;
        };
        for &(lc, bi) in uses {
            let l = &rules.lifecycles[lc as usize];
            let Some(&b) = l.bindings.get(bi as usize) else {
                continue;
            };
            self.apply(&rules, e, hit, lc, b);
        }
    }

    fn apply(&mut self, rules: &Rules, e: &Event<'_>, hit: &Hit, lc: u16, b: Binding) {
        let l = &rules.lifecycles[lc as usize];
        let key = &rules.keys[l.key];
        let mut value = [0u64; MAX_PARTS];
        let mut unset = false;
        for (i, slot) in b.parts.iter().take(b.nparts as usize).enumerate() {
            let Some(v) = hit.get(*slot) else {
                return;
            };
            value[i] = v;
            let part = key.parts.get(i).map_or(key, |&p| &rules.keys[p]);
            unset |= part.unset.contains(&v);
        }
        let task = e.pid.map(|pid| (e.boot, pid, lc));
        if unset {
            if let (Role::Open, Some(t)) = (b.role, task) {
                let ev = Evidence::from_event(e, b.role.name());
                let bytes = ev.text.len();
                if self.pending.len() >= MAX_PENDING
                    || self.pending_bytes + bytes > MAX_PENDING_BYTES
                {
                    self.pending.clear();
                    self.pending_bytes = 0;
                }
                self.pending_bytes += bytes;
                self.pending.insert(t, (ev, name_of_event(rules, e)));
            }
            return;
        }
        // A range: an event inside an open range is about that range.
        if key.is_range() {
            let start = value[0];
            match b.role {
                Role::Open => {
                    let len = b.len.and_then(|s| hit.get(s)).unwrap_or(1).max(1);
                    if self.ranges.len() >= self.max_live {
                        self.ranges.pop_first();
                    }
                    self.ranges.insert((lc, start), start.saturating_add(len));
                }
                _ => {
                    let inside = self
                        .ranges
                        .range(..=(lc, start))
                        .next_back()
                        .filter(|((l2, s), end)| *l2 == lc && *s <= start && start < **end)
                        .map(|((_, s), _)| *s);
                    if let Some(s) = inside {
                        value[0] = s;
                    }
                }
            }
        }
        let pending = task.and_then(|t| self.pending.remove(&t));
        let (state, _) = self.table.touch((lc, value), &mut self.arena);
        // Kept after the touch, which may compact the arena.
        let this = Kept {
            line: self.arena.light(e),
            name: self.arena.push(&name_of_event(rules, e)),
            role: b.role,
        };
        let pending = pending.map(|(ev, name)| Kept {
            line: self.arena.light_of(&ev),
            name: self.arena.push(&name),
            role: Role::Open,
        });
        let mut facts: Vec<Found> = Vec::new();
        let check = |k: CheckKind| -> Option<u16> {
            l.checks.iter().position(|c| c.kind == k).map(|i| i as u16)
        };
        // An object whose key came later: its held open opens it now.
        if let Some(p) = pending {
            if !state.open {
                open(state, &mut self.arena, p, l, &b, hit);
            }
        }
        match b.role {
            Role::Open => {
                if state.open {
                    if let (Some(c), Some(prev)) = (check(CheckKind::DoubleOpen), state.opened) {
                        facts.push(pair(c, prev, this));
                    }
                }
                open(state, &mut self.arena, this, l, &b, hit);
            }
            Role::Close => {
                if !state.open {
                    match state.closed {
                        Some(prev) => {
                            if let Some(c) = check(CheckKind::UseAfterClose) {
                                facts.push(pair(c, prev, this));
                            }
                        }
                        None => {
                            if let Some(c) = check(CheckKind::CloseWithoutOpen) {
                                facts.push((c, vec![this], vec![], Absence::Before(0), true));
                            }
                        }
                    }
                }
                state.open = false;
                forget(&mut self.arena, state.opened.take());
                forget(&mut self.arena, state.closed.replace(this));
                state.count = None;
                state.relative = false;
                state.watch = None;
                forget_counted(&mut self.arena, state);
            }
            Role::Use | Role::Get | Role::Put => {
                if !state.open {
                    if let Some(prev) = state.closed.take() {
                        if let Some(c) = check(CheckKind::UseAfterClose) {
                            facts.push(pair(c, prev, this));
                        }
                    }
                    // Open since before the trace (or since the report above).
                    state.open = true;
                    state.opened = None;
                }
                if state.relative {
                    match b.role {
                        Role::Get => state.count = state.count.map(|c| c.saturating_add(1)),
                        Role::Put => state.count = state.count.map(|c| c.saturating_sub(1)),
                        _ => {}
                    }
                }
            }
        }
        // A printed count.
        let printed = b.count.and_then(|s| hit.get(s)).map(|v| v as i64);
        if let Some(c) = printed {
            state.count = Some(c);
            state.relative = false;
        }
        if let (Some(c), Some(n)) = (check(CheckKind::CountBelowZero), state.count) {
            if n < 0 && b.role != Role::Close {
                let vars = vec![("count", n.to_string())];
                if printed.is_some() {
                    facts.push((c, vec![this], vars, Absence::Printed, false));
                } else if let Some(o) = state.opened {
                    facts.push((c, vec![o, this], vars, Absence::Between(0, 1), false));
                }
                // Reported once: the count is unknown from here.
                state.count = None;
            }
        }
        // at-most: more than `max` of an event in one lifetime.
        for (ci, c) in l.checks.iter().enumerate() {
            if c.kind != CheckKind::AtMost || c.event != Some(hit.event) {
                continue;
            }
            let ci = ci as u16;
            let slot = match state.counted.iter().position(|x| x.0 == ci) {
                Some(i) => i,
                None => {
                    state.counted.push((ci, 0, Vec::new()));
                    state.counted.len() - 1
                }
            };
            let (_, n, kept) = &mut state.counted[slot];
            *n += 1;
            if kept.len() <= c.max as usize && kept.len() < 16 {
                kept.push(this);
            }
            if *n == c.max + 1 {
                let mut ev: Vec<Kept> = state.opened.iter().copied().collect();
                let first = ev.len();
                ev.extend(kept.iter().copied());
                let last = ev.len() - 1;
                let vars = vec![("n", n.to_string()), ("max", c.max.to_string())];
                let implicit = state.opened.is_none();
                facts.push((ci, ev, vars, Absence::Between(first, last), implicit));
            }
        }
        // changes-while: a watched field changes while a condition holds.
        if let Some(w) = b.watch.and_then(|s| hit.get(s)) {
            for (ci, c) in l.checks.iter().enumerate() {
                if c.kind != CheckKind::ChangesWhile {
                    continue;
                }
                let Some(old) = state.watch else { continue };
                if old == w || c.to.is_some_and(|t| t != w) {
                    continue;
                }
                let holds = match &c.cond {
                    None => true,
                    Some(cd) => {
                        let v = if cd.is_count {
                            state.count
                        } else {
                            b.cond.and_then(|s| hit.get(s)).map(|v| v as i64)
                        };
                        v.is_some_and(|v| cd.op.holds(v, cd.value))
                    }
                };
                if holds {
                    let prev = state.last.unwrap_or(this);
                    let mut vars = vec![
                        ("old", raw_text(old)),
                        ("new", raw_text(w)),
                        ("field", c.field.clone().unwrap_or_default()),
                    ];
                    if let Some(cd) = &c.cond {
                        vars.push(("cond", cd.to_string()));
                    }
                    if let Some(n) = state.count {
                        vars.push(("count", n.to_string()));
                    }
                    facts.push((
                        ci as u16,
                        vec![prev, this],
                        vars,
                        Absence::Between(0, 1),
                        false,
                    ));
                }
            }
            state.watch = Some(w);
        }
        if let Some(old) = state.last.replace(this) {
            // Still cited by the state?
            let cited = state
                .kept()
                .any(|k| k.line.text == old.line.text && k.name == old.name);
            if !cited {
                self.arena.release(old.line.text);
                self.arena.release(old.name);
            }
        }
        for (c, kept, mut vars, absence, implicit) in facts {
            let evidence: Vec<Evidence> = kept.iter().map(|k| self.evidence(k)).collect();
            vars.push(("event", self.name_of(&this)));
            if let Some(o) = kept.iter().find(|k| k.role == Role::Open) {
                vars.push(("open_event", self.name_of(o)));
                vars.push(("open_line", o.line.pos.line.to_string()));
            }
            if let Some(o) = kept.iter().find(|k| k.role == Role::Close) {
                vars.push(("close_event", self.name_of(o)));
                vars.push(("close_line", o.line.pos.line.to_string()));
            }
            self.fact(lc, c, value, evidence, vars, absence, implicit);
        }
    }

    /// Facts about what is still open (a boot ended, or the input).
    fn seal(&mut self) {
        let rules = Arc::clone(&self.rules);
        let mut open_at_end: Vec<(u16, u16, [u64; MAX_PARTS], Kept)> = Vec::new();
        for ((lc, value), st) in self.table.iter() {
            let l = &rules.lifecycles[*lc as usize];
            let Some(c) = l.checks.iter().position(|c| c.kind == CheckKind::OpenAtEnd) else {
                continue;
            };
            if let (true, Some(o)) = (st.open, st.opened) {
                open_at_end.push((*lc, c as u16, *value, o));
            }
        }
        // Deterministic order: by line.
        open_at_end.sort_by_key(|x| (x.3.line.pos.input, x.3.line.pos.line, x.0, x.2));
        for (lc, c, value, o) in open_at_end {
            let vars = vec![
                ("event", self.name_of(&o)),
                ("open_event", self.name_of(&o)),
                ("open_line", o.line.pos.line.to_string()),
            ];
            let ev = vec![self.evidence(&o)];
            self.fact(lc, c, value, ev, vars, Absence::After(0), false);
        }
    }
}

/// The name of a line's event: its trace name, or its declared event's.
fn name_of_event(rules: &Rules, e: &Event<'_>) -> Vec<u8> {
    match (e.name, &e.kind) {
        (Some(n), _) if n != b"console" => n.to_vec(),
        (_, EventKind::Declared(h)) => rules
            .events
            .get(h.event as usize)
            .map_or_else(Vec::new, |d| d.name.as_bytes().to_vec()),
        _ => Vec::new(),
    }
}

/// `k` is no longer kept: its texts go back to the arena (a line also
/// kept elsewhere in the state may be given back twice, which only makes
/// the arena compact sooner; never giving one back would let it grow).
fn forget(arena: &mut TextArena, k: Option<Kept>) {
    if let Some(k) = k {
        arena.release(k.line.text);
        arena.release(k.name);
    }
}

/// The `at-most` counts of a lifetime end.
fn forget_counted(arena: &mut TextArena, state: &mut State) {
    for (_, _, kept) in state.counted.drain(..) {
        for k in kept {
            forget(arena, Some(k));
        }
    }
}

/// Start a lifetime at `k`.
fn open(
    state: &mut State,
    arena: &mut TextArena,
    k: Kept,
    l: &crate::spec::Lifecycle,
    b: &Binding,
    hit: &Hit,
) {
    forget(arena, state.opened.replace(k));
    forget(arena, state.closed.take());
    forget_counted(arena, state);
    state.open = true;
    state.watch = None;
    let counts = l
        .bindings
        .iter()
        .any(|x| matches!(x.role, Role::Get | Role::Put));
    match b.count.and_then(|s| hit.get(s)) {
        Some(v) => {
            state.count = Some(v as i64);
            state.relative = false;
        }
        None if counts => {
            // An open holds one reference.
            state.count = Some(1);
            state.relative = true;
        }
        None => state.count = None,
    }
}

/// A raw value for a message: hex when it looks like an address.
fn raw_text(v: u64) -> String {
    if v >= 1 << 63 {
        "(text)".into()
    } else if v > 0xffff {
        format!("{v:#x}")
    } else {
        v.to_string()
    }
}

impl Tracker for DeclaredTracker {
    type Note = ();

    /// Only declared events matter here; [`DeclaredTracker::hit`] takes them.
    fn event(&mut self, e: &Event<'_>) {
        if let EventKind::Declared(h) = e.kind {
            self.hit(e, &h);
        }
    }

    /// Nothing lives across a boot: what is open is open at its end.
    fn end_boot(&mut self) {
        self.seal();
        self.table.clear(&mut self.arena);
        self.pending.clear();
        self.pending_bytes = 0;
        self.ranges.clear();
    }

    /// The end of the input ends its last boot.
    fn finish(&mut self) {
        self.end_boot();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::correlate::Analysis;
    use crate::spec::Rules;

    /// Lifetimes that end give their lines back: the arena stays bounded
    /// by the live keys, not by the number of lifetimes in the trace.
    #[test]
    fn ended_lifetimes_give_their_lines_back() {
        let mut text = String::new();
        let n = 60_000u64;
        for i in 0..n {
            for ev in ["xfs_buf_init", "xfs_buf_unlock", "xfs_buf_free"] {
                text.push_str(&format!(
                    "  mount-1504  [009]   146.{i:06}: {ev}: dev 252:18 daddr {:#x} bbcount 0x1 hold 1 pincount 0 lock 0 flags READ caller xfs_buf_get_map+0x270\n",
                    i + 1
                ));
            }
        }
        let rules = Arc::new(Rules::with_packs(&[], true).unwrap());
        let mut an = Analysis::with_rules(1000, rules);
        let (_, err) = crate::reader::read_input(0, text.as_bytes(), &Default::default(), &mut an);
        assert!(err.is_none());
        an.finish();
        assert_eq!(an.declared.events, 3 * n);
        assert!(
            an.declared.facts.is_empty(),
            "{:?}",
            an.declared.facts.first()
        );
        // 180k events of ~150 bytes, kept twice each (two lifecycles):
        // some 50 MiB if nothing were given back.
        assert!(
            an.declared.arena_bytes() < 24 << 20,
            "arena holds {} bytes",
            an.declared.arena_bytes()
        );
    }

    /// Open events waiting for their key hold at most
    /// `MAX_PENDING_BYTES` of line text, however long their lines.
    #[test]
    fn opens_waiting_for_their_key_are_bounded_in_bytes() {
        let mut text = String::new();
        let tail = "x".repeat(100 << 10);
        for pid in 0..300u32 {
            text.push_str(&format!(
                "  mount-{pid}  [009]   146.449458: xfs_buf_init: dev 252:18 daddr 0xffffffffffffffff bbcount 0x1 hold 1 pincount 0 lock 0 flags NO_IOACCT bufops 0x0 caller xfs_buf_get_uncached+0x5c {tail}\n"
            ));
        }
        let rules = Arc::new(Rules::with_packs(&[], true).unwrap());
        let mut an = Analysis::with_rules(1000, rules);
        let (_, err) = crate::reader::read_input(0, text.as_bytes(), &Default::default(), &mut an);
        assert!(err.is_none());
        assert!(an.declared.pending_bytes <= super::MAX_PENDING_BYTES);
        assert!(!an.declared.pending.is_empty());
    }
}
