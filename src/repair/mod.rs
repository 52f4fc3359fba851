//! Stage 2b: paste repair, between physical lines and the grammars.
//!
//! Input: cleaned physical lines. Output: logical records, each with the
//! position of its first physical line and the original text for citations.
//! With repair off every physical line is one record, unchanged.

use crate::input::Pos;

/// Repair kinds applied to a record (bit set).
pub mod kinds {
    /// Hard-wrapped continuation lines joined back.
    pub const UNWRAP: u16 = 1 << 0;
    /// Mail quote markers (`> `, `>> `, `> > `) removed.
    pub const UNQUOTE: u16 = 1 << 1;
    /// Quoted-printable escapes (`=3D`) or soft line breaks undone.
    pub const QUOTED_PRINTABLE: u16 = 1 << 2;
    /// Non-breaking spaces turned into spaces.
    pub const NBSP: u16 = 1 << 3;
    /// One of several records that were joined on one physical line.
    pub const SPLIT: u16 = 1 << 4;
    /// An indented continuation line joined to its record.
    pub const INDENT: u16 = 1 << 5;

    /// Names used in `stats`, in bit order.
    pub const NAMES: [&str; 6] = [
        "unwrapped",
        "unquoted",
        "quoted_printable",
        "nbsp",
        "split",
        "indent_joined",
    ];
}

/// A cleaned physical line.
#[derive(Debug, Clone, Copy)]
pub struct PhysLine<'a> {
    /// Its position.
    pub pos: Pos,
    /// Its text after console clean-up.
    pub text: &'a [u8],
    /// [`crate::input::clean_flags`].
    pub clean: u8,
    /// Whether it was cut at the line cap.
    pub truncated: bool,
}

/// A logical record out of the repair stage.
#[derive(Debug, Clone, Copy)]
pub struct Logical<'a> {
    /// Position of the first physical line.
    pub pos: Pos,
    /// Physical lines covered.
    pub lines: u32,
    /// The record text.
    pub text: &'a [u8],
    /// The physical lines as read, `\n`-joined.
    pub original: &'a [u8],
    /// Clean-up flags of its lines, or-ed.
    pub clean: u8,
    /// Whether any of its lines was truncated.
    pub truncated: bool,
    /// [`kinds`] applied.
    pub repairs: u16,
}

/// The repair stage.
#[derive(Debug)]
pub struct Repairer {
    enabled: bool,
}

impl Repairer {
    /// A repairer; with `enabled == false` it passes lines through unchanged.
    pub fn new(enabled: bool) -> Repairer {
        Repairer { enabled }
    }

    /// Take one physical line; emit zero or more finished records.
    pub fn push(&mut self, line: PhysLine<'_>, out: &mut dyn FnMut(&Logical<'_>)) {
        let _ = self.enabled;
        out(&Logical {
            pos: line.pos,
            lines: 1,
            text: line.text,
            original: line.text,
            clean: line.clean,
            truncated: line.truncated,
            repairs: 0,
        });
    }

    /// End of input: emit what is pending.
    pub fn finish(&mut self, _out: &mut dyn FnMut(&Logical<'_>)) {}
}
