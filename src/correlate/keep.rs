//! [`HeadTail`]: a numbered list that keeps its first and its latest
//! items, and counts the ones between.
//!
//! Boots, the per-CPU windows of each boot and ftrace dumps are listed in
//! the report, but a capture can hold hundreds of thousands of them (a
//! console logged for weeks across `kernel.panic=5`, a flood of
//! `Dumping ftrace buffer:` lines). The first ones say how the capture
//! began, the latest hold the crash someone is looking at: both are kept,
//! the middle is counted, and every item keeps its number in the whole
//! list, so `boot 812345` and `export --dump 99999` still mean what they
//! say.

use std::collections::VecDeque;

/// A list numbered from 0 that keeps items `0..first` and the latest
/// `last`; the others are dropped as they fall out of the tail, and
/// counted.
#[derive(Debug, Clone)]
pub(crate) struct HeadTail<T> {
    head: Vec<T>,
    tail: VecDeque<T>,
    first: usize,
    last: usize,
    /// Items pushed.
    total: u64,
}

impl<T> HeadTail<T> {
    /// An empty list keeping the first `first` and the latest `last`
    /// items (`last` is at least 1: the newest item is always kept).
    pub(crate) fn new(first: usize, last: usize) -> HeadTail<T> {
        HeadTail {
            head: Vec::new(),
            tail: VecDeque::new(),
            first,
            last: last.max(1),
            total: 0,
        }
    }

    /// Append an item; returns the one that fell out of the list, if any.
    pub(crate) fn push(&mut self, item: T) -> Option<T> {
        self.total += 1;
        if self.head.len() < self.first {
            self.head.push(item);
            return None;
        }
        self.tail.push_back(item);
        if self.tail.len() > self.last {
            self.tail.pop_front()
        } else {
            None
        }
    }

    /// Items pushed, kept or not.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Items pushed but no longer kept.
    pub(crate) fn not_kept(&self) -> u64 {
        self.total - (self.head.len() + self.tail.len()) as u64
    }

    /// Whether nothing was pushed.
    pub(crate) fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The number of the first item of the tail.
    fn tail_start(&self) -> u64 {
        self.total - self.tail.len() as u64
    }

    /// Item `n`, if kept.
    pub(crate) fn get(&self, n: u64) -> Option<&T> {
        if n < self.head.len() as u64 {
            return self.head.get(n as usize);
        }
        let start = self.tail_start();
        n.checked_sub(start)
            .and_then(|k| self.tail.get(usize::try_from(k).ok()?))
    }

    /// Item `n`, if kept.
    pub(crate) fn get_mut(&mut self, n: u64) -> Option<&mut T> {
        if n < self.head.len() as u64 {
            return self.head.get_mut(n as usize);
        }
        let start = self.tail_start();
        n.checked_sub(start)
            .and_then(|k| self.tail.get_mut(usize::try_from(k).ok()?))
    }

    /// The newest item.
    pub(crate) fn newest_mut(&mut self) -> Option<&mut T> {
        match self.tail.back_mut() {
            Some(t) => Some(t),
            None => self.head.last_mut(),
        }
    }

    /// The kept items: the first ones, the latest ones, and how many
    /// between them are not kept.
    pub(crate) fn into_parts(self) -> (Vec<T>, Vec<T>, u64) {
        let not_kept = self.not_kept();
        (self.head, self.tail.into(), not_kept)
    }

    /// The kept items with their numbers, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        let start = self.tail_start();
        let head = self.head.iter().enumerate().map(|(i, t)| (i as u64, t));
        let tail = self
            .tail
            .iter()
            .enumerate()
            .map(move |(i, t)| (start + i as u64, t));
        head.chain(tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_and_the_latest_with_their_numbers() {
        let mut l = HeadTail::new(2, 3);
        let dropped: Vec<_> = (0..10).filter_map(|i| l.push(i * 10)).collect();
        assert_eq!(dropped, [20, 30, 40, 50, 60]);
        assert_eq!(l.total(), 10);
        assert_eq!(l.not_kept(), 5);
        let kept: Vec<_> = l.iter().map(|(n, &v)| (n, v)).collect();
        assert_eq!(kept, [(0, 0), (1, 10), (7, 70), (8, 80), (9, 90)]);
        assert_eq!(l.get(1), Some(&10));
        assert_eq!(l.get(4), None);
        assert_eq!(l.get(9), Some(&90));
        assert_eq!(l.get(10), None);
        assert_eq!(l.newest_mut(), Some(&mut 90));
        *l.get_mut(7).unwrap() += 1;
        assert_eq!(l.get(7), Some(&71));
        assert_eq!(l.into_parts(), (vec![0, 10], vec![71, 80, 90], 5));
    }

    #[test]
    fn a_short_list_keeps_everything() {
        let mut l = HeadTail::new(4, 4);
        for i in 0..3 {
            assert_eq!(l.push(i), None);
        }
        assert_eq!(l.not_kept(), 0);
        assert_eq!(l.newest_mut(), Some(&mut 2));
        assert_eq!(l.iter().count(), 3);
        let mut one = HeadTail::new(0, 1);
        one.push('a');
        assert_eq!(one.push('b'), Some('a'));
        assert_eq!(one.iter().collect::<Vec<_>>(), [(1, &'b')]);
    }
}
