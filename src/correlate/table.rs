//! A bounded table of per-key state, the memory bound of every tracker.
//!
//! A tracker keeps one state per live key (an extent buffer's start, a
//! page's pfn, ...); the texts a state may later cite live in a
//! [`TextArena`] the tracker owns beside the table. Above `max_live` keys,
//! the table evicts one key it has not seen for a while before it takes a
//! new one: a CLOCK sweep (second chance), so that a lookup only sets a
//! bit and an eviction costs O(1) amortised, with no pass over the whole
//! table. Verdicts that need an absence become unverifiable once anything
//! was evicted (the tracker says so).

use std::hash::Hash;

use rustc_hash::FxHashMap;

use super::arena::{TextArena, TextId};

/// State that keeps texts in a [`TextArena`].
pub(crate) trait Held {
    /// Give its texts back to the arena (it is dropped or evicted).
    fn release_texts(&self, arena: &mut TextArena);

    /// Every arena text it holds, for compaction.
    fn text_ids(&mut self) -> impl Iterator<Item = &mut TextId>;
}

#[derive(Debug)]
struct Entry<S> {
    state: S,
    /// Seen since the clock hand last passed.
    referenced: bool,
}

/// Per-key state for at most `max_live` keys.
///
/// The states live in the hash map itself (one probe finds a key's state);
/// the clock ring holds the keys in the order they came, for eviction.
#[derive(Debug)]
pub(crate) struct KeyTable<K, S> {
    map: FxHashMap<K, Entry<S>>,
    /// The clock's ring of keys; `None` where a key was evicted.
    ring: Vec<Option<K>>,
    /// Free places in the ring.
    free: Vec<u32>,
    hand: usize,
    max_live: usize,
    /// Touches, for compacting the arena now and then.
    ops: u64,
    evicted: u64,
}

impl<K: Hash + Eq + Copy, S: Held + Default> KeyTable<K, S> {
    /// A table that keeps at most `max_live` keys (at least 16).
    pub(crate) fn new(max_live: usize) -> KeyTable<K, S> {
        KeyTable {
            map: FxHashMap::default(),
            ring: Vec::new(),
            free: Vec::new(),
            hand: 0,
            max_live: max_live.max(16),
            ops: 0,
            evicted: 0,
        }
    }

    /// Keys tracked now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Keys evicted so far to stay under the bound.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Every tracked key and its state, in the clock ring's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &S)> {
        self.ring
            .iter()
            .flatten()
            .filter_map(|k| self.map.get_key_value(k).map(|(k, e)| (k, &e.state)))
    }

    /// The state of `key`, if tracked.
    pub(crate) fn get(&self, key: &K) -> Option<&S> {
        self.map.get(key).map(|e| &e.state)
    }

    /// The state of `key`, if tracked, to change (not marking it seen).
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut S> {
        self.map.get_mut(key).map(|e| &mut e.state)
    }

    /// Drop every key, giving their texts back to `arena` (not counted as
    /// evictions: their objects ended, as at the end of a boot).
    pub(crate) fn clear(&mut self, arena: &mut TextArena) {
        for e in self.map.values() {
            e.state.release_texts(arena);
        }
        self.map.clear();
        self.ring.clear();
        self.free.clear();
        self.hand = 0;
    }

    /// Make sure `key` is tracked (evicting another key if the table is
    /// full), mark it as just seen, and return its state, with whether it
    /// was just added (a fresh default state). Compacts `arena` now and
    /// then, when most of it is dead.
    pub(crate) fn touch(&mut self, key: K, arena: &mut TextArena) -> (&mut S, bool) {
        self.ops += 1;
        // The test is two comparisons: made often, the arena never grows
        // far past its bound between two of them.
        if self.ops % 1024 == 0 && arena.needs_compaction() {
            arena.compact(self.map.values_mut().flat_map(|e| e.state.text_ids()));
        }
        let fresh = !self.map.contains_key(&key);
        if fresh {
            if self.map.len() >= self.max_live {
                self.evict_one(arena);
            }
            match self.free.pop() {
                Some(i) => self.ring[i as usize] = Some(key),
                None => self.ring.push(Some(key)),
            }
        }
        let e = self.map.entry(key).or_insert_with(|| Entry {
            state: S::default(),
            referenced: false,
        });
        e.referenced = true;
        (&mut e.state, fresh)
    }

    /// Evict the first key the clock hand finds not seen since it last
    /// passed, giving its texts back to `arena`.
    fn evict_one(&mut self, arena: &mut TextArena) {
        // Two sweeps at most: the first clears every reference bit.
        for _ in 0..2 * self.ring.len() {
            if self.hand >= self.ring.len() {
                self.hand = 0;
            }
            let at = self.hand;
            self.hand += 1;
            let Some(key) = self.ring[at] else {
                continue;
            };
            let Some(e) = self.map.get_mut(&key) else {
                continue;
            };
            if e.referenced {
                e.referenced = false;
                continue;
            }
            if let Some(e) = self.map.remove(&key) {
                e.state.release_texts(arena);
            }
            self.ring[at] = None;
            self.free.push(at as u32);
            self.evicted += 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Note(Option<TextId>);

    impl Held for Note {
        fn release_texts(&self, arena: &mut TextArena) {
            if let Some(t) = self.0 {
                arena.release(t);
            }
        }

        fn text_ids(&mut self) -> impl Iterator<Item = &mut TextId> {
            self.0.iter_mut()
        }
    }

    #[test]
    fn bounded_and_keeps_what_is_used() {
        let mut arena = TextArena::default();
        let mut t: KeyTable<u64, Note> = KeyTable::new(16);
        for k in 0..16 {
            let (s, fresh) = t.touch(k, &mut arena);
            assert!(fresh);
            s.0 = Some(arena.push(format!("key {k}").as_bytes()));
        }
        // Key 3 stays hot while 1000 others pass through.
        for k in 100..1100 {
            t.touch(3, &mut arena);
            t.touch(k, &mut arena);
            assert!(t.len() <= 16);
        }
        assert_eq!(t.evicted(), 1000);
        let kept = t.get(&3).and_then(|n| n.0).expect("the hot key is kept");
        assert_eq!(arena.get(kept), b"key 3");
        assert!(t.get(&0).is_none());
        let (_, fresh) = t.touch(0, &mut arena);
        assert!(fresh, "an evicted key comes back fresh");
    }
}
