//! What every tracker is: a machine that follows one kind of object (an
//! extent buffer, a splat, a corruption report) through the events about
//! it, keyed by what identifies the object, with its memory bounded by a
//! [`super::table::KeyTable`]. [`super::Analysis`] hands each event to the
//! trackers that take its kind; rules read their facts at the end.

use crate::event::Event;

/// Follows one kind of object through the events about it.
pub(crate) trait Tracker {
    /// What an event meant to its object (shown by `timeline`).
    type Note;

    /// Take one event about the objects this tracker follows.
    fn event(&mut self, e: &Event<'_>) -> Self::Note;

    /// The boot ended: no object outlives it, so close what is open.
    fn end_boot(&mut self) {}

    /// The input is read: settle what still waits for more lines.
    fn finish(&mut self) {}
}
