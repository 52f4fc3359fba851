//! btrfs kernel messages that name a tree block: tree-checker reports
//! (kernel-formats.md C.4, C.5), read-side validation (C.3, both the pre-6.0
//! and the later wording), and transaction aborts / filesystem errors (C.2).
//!
//! Numbers that come from the buffer's own header (`block=` of most
//! tree-checker reporters, `have` of owner mismatch and bad tree block start)
//! are kept as printed and flagged [`TreeCheck::block_trusted`]` == false`;
//! the correlator decides whether to believe them.

use crate::fields::{dec_i64, dec_u32, dec_u64, find_u64_after, trim};
use crate::grammar::kernel::BtrfsMsg;

/// What an owner-mismatch report expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `expect 258`
    Root(u64),
    /// `expect [256, 18446744073709551360]`
    Range(u64, u64),
}

/// A tree-checker report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeCheck<'a> {
    /// `node` (true) or `leaf` (false), itself read from the header.
    pub node: bool,
    /// `root=` as printed (header owner, or the caller's root for owner mismatch).
    pub root: Option<u64>,
    /// `block=` as printed.
    pub block: Option<u64>,
    /// Whether `block=` is `eb->start` by construction (extent, chunk and
    /// node-nritems reporters) rather than read from the header.
    pub block_trusted: bool,
    /// `eb=` appended by a debug patch (always `eb->start`).
    pub eb: Option<u64>,
    /// `slot=`.
    pub slot: Option<i64>,
    /// Owner mismatch: the owner found in the header (`have`) and what was expected.
    pub owner: Option<(u64, Expect)>,
    /// The reason text after the prefix.
    pub reason: &'a [u8],
}

/// Kinds of read-side (and write-side) validation messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValidationKind {
    /// `bad tree block start, [mirror %u ]want %llu have %llu`
    BadTreeBlockStart,
    /// `bad fsid on logical %llu mirror %u` / `bad fsid on block %llu`
    BadFsid,
    /// `bad tree block level, mirror %u level %d on logical %llu` / `bad tree block level %d on %llu`
    BadLevel,
    /// `checksum verify failed on [logical ]%llu ...`
    ChecksumFailed,
    /// `level verify failed on logical %llu mirror %u wanted %u found %u`
    LevelVerifyFailed,
    /// `parent transid verify failed on [logical ]%llu ...`
    ParentTransid,
    /// `tree first key mismatch detected, bytenr=%llu ...`
    FirstKeyMismatch,
    /// `tree level mismatch detected, bytenr=%llu ...`
    LevelMismatch,
    /// `invalid tree nritems, bytenr=%llu ...`
    InvalidNritems,
    /// `read time tree block corruption detected on logical %llu mirror %u` / `block=%llu read time ...`
    ReadTimeCorruption,
    /// `block=%llu write time tree block corruption detected` (write side)
    WriteTimeCorruption,
    /// `block=%llu bad generation, have %llu expect > %llu` (write side)
    WriteBadGeneration,
}

impl ValidationKind {
    /// Stable name used in JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ValidationKind::BadTreeBlockStart => "bad-tree-block-start",
            ValidationKind::BadFsid => "bad-fsid",
            ValidationKind::BadLevel => "bad-tree-block-level",
            ValidationKind::ChecksumFailed => "checksum-verify-failed",
            ValidationKind::LevelVerifyFailed => "level-verify-failed",
            ValidationKind::ParentTransid => "parent-transid-verify-failed",
            ValidationKind::FirstKeyMismatch => "first-key-mismatch",
            ValidationKind::LevelMismatch => "tree-level-mismatch",
            ValidationKind::InvalidNritems => "invalid-nritems",
            ValidationKind::ReadTimeCorruption => "read-time-corruption",
            ValidationKind::WriteTimeCorruption => "write-time-corruption",
            ValidationKind::WriteBadGeneration => "write-bad-generation",
        }
    }

    /// The message, for humans.
    pub(crate) fn label(self) -> &'static str {
        match self {
            ValidationKind::BadTreeBlockStart => "bad tree block start",
            ValidationKind::BadFsid => "bad fsid",
            ValidationKind::BadLevel => "bad tree block level",
            ValidationKind::ChecksumFailed => "checksum verify failed",
            ValidationKind::LevelVerifyFailed => "level verify failed",
            ValidationKind::ParentTransid => "parent transid verify failed",
            ValidationKind::FirstKeyMismatch => "tree first key mismatch",
            ValidationKind::LevelMismatch => "tree level mismatch",
            ValidationKind::InvalidNritems => "invalid tree nritems",
            ValidationKind::ReadTimeCorruption => "read time tree block corruption detected",
            ValidationKind::WriteTimeCorruption => "write time tree block corruption detected",
            ValidationKind::WriteBadGeneration => "bad generation at write time",
        }
    }

    /// Whether the message is emitted when a block is read (the rule
    /// `validation-failed` covers these; write-side ones are context).
    pub(crate) fn read_side(self) -> bool {
        !matches!(
            self,
            ValidationKind::WriteTimeCorruption | ValidationKind::WriteBadGeneration
        )
    }
}

/// When the kernel checked a tree block: after reading it from disk, or
/// before writing it (kernel-formats.md C.3, C.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// At read time: the block as it came from disk (or from another mirror).
    Read,
    /// At write time: the block in memory, about to be written.
    Write,
}

impl Phase {
    /// Stable name used in JSON: `read`, `write`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::Write => "write",
        }
    }
}

impl ValidationKind {
    /// When the message is printed: every read-side check at read time,
    /// the two write-side ones at write time.
    pub(crate) fn phase(self) -> Phase {
        if self.read_side() {
            Phase::Read
        } else {
            Phase::Write
        }
    }

    /// The line the kernel prints right after a failed check to say which
    /// block failed and when (`read time tree block corruption detected on
    /// logical N mirror M`, `block=N write time tree block corruption
    /// detected`): the companion of a tree-checker report.
    pub(crate) fn is_companion(self) -> bool {
        matches!(
            self,
            ValidationKind::ReadTimeCorruption | ValidationKind::WriteTimeCorruption
        )
    }
}

/// A validation message naming a tree block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validation {
    /// Which check failed.
    pub kind: ValidationKind,
    /// The block's logical address (`want`, `logical`, `bytenr`, `block=`): `eb->start`.
    pub eb: u64,
    /// `mirror %u`, when printed.
    pub mirror: Option<u32>,
    /// Header-derived value as printed (`have` of bad tree block start).
    pub have: Option<u64>,
    /// What the parent pointer (or the running transaction) expected:
    /// `wanted` of `parent transid verify failed` and `level verify failed`,
    /// `expect > N` of `bad generation` (then the bound).
    pub wanted: Option<u64>,
    /// What the block's header holds, as printed: `found` of
    /// `parent transid verify failed` and `level verify failed`, `level` of
    /// `bad tree block level`, `have` of `bad generation`.
    pub found: Option<u64>,
}

/// A transaction abort or filesystem error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort<'a> {
    /// The error number (negative).
    pub errno: i64,
    /// `in FUNC:LINE` of `BTRFS: error (device ...) in FUNC:LINE: errno=...`.
    pub func: Option<&'a [u8]>,
    /// The source line of `func`.
    pub line: Option<u32>,
    /// `true` for the `Transaction aborted (error N)` text, `false` for the `errno=` line.
    pub aborted_text: bool,
}

/// Parse a tree-checker report out of a btrfs message body.
///
/// Examples: `corrupted leaf, root=258 block=15302115328 owner mismatch, have 13709377558419367261 expect [256, 18446744073709551360] eb=15302115328`,
/// `corrupt leaf: root=5 block=350945280 slot=85 ino=55495, unknown flags detected: 0x2000000`,
/// `corrupt leaf: block=334871673176064 slot=24 extent bytenr=333252139892736 len=36864 invalid data ref objectid value 65241`.
pub(crate) fn tree_check(msg: &[u8]) -> Option<TreeCheck<'_>> {
    if let Some(r) = msg.strip_prefix(b"corrupted ") {
        // Owner mismatch (reporter O).
        let (node, r) = leaf_or_node(r)?;
        let r = r.strip_prefix(b", root=")?;
        let (r, root) = dec_u64(r).ok()?;
        let r = r.strip_prefix(b" block=")?;
        let (r, block) = dec_u64(r).ok()?;
        let r = r.strip_prefix(b" owner mismatch, have ")?;
        let (r, have) = dec_u64(r).ok()?;
        let r = r.strip_prefix(b" expect ")?;
        let (r, expect) = if let Some(x) = r.strip_prefix(b"[") {
            let (x, a) = dec_u64(x).ok()?;
            let x = x.strip_prefix(b", ")?;
            let (x, b) = dec_u64(x).ok()?;
            (x.strip_prefix(b"]")?, Expect::Range(a, b))
        } else {
            let (x, a) = dec_u64(r).ok()?;
            (x, Expect::Root(a))
        };
        return Some(TreeCheck {
            node,
            root: Some(root),
            block: Some(block),
            block_trusted: false,
            eb: find_u64_after(r, b"eb="),
            slot: None,
            owner: Some((have, expect)),
            reason: b"owner mismatch",
        });
    }
    let r = msg.strip_prefix(b"corrupt ")?;
    let (node, r) = leaf_or_node(r)?;
    let r = r.strip_prefix(b": ")?;
    let (root, r) = match r.strip_prefix(b"root=") {
        Some(x) => {
            let (x, root) = dec_u64(x).ok()?;
            (Some(root), x.strip_prefix(b" ")?)
        }
        None => (None, r),
    };
    let r = r.strip_prefix(b"block=")?;
    let (r, block) = dec_u64(r).ok()?;
    let mut trusted = root.is_none(); // extent_err prints eb->start and no root
    let mut slot = None;
    let mut rest = r;
    if let Some(x) = rest.strip_prefix(b" slot=") {
        let (x, s) = dec_i64(x).ok()?;
        slot = Some(s);
        rest = x;
    }
    if rest.starts_with(b" chunk_start=") || (node && rest.starts_with(b", nritems too ")) {
        trusted = true;
    }
    let reason = match memchr::memmem::find(rest, b" len=") {
        // extent_err: "... extent bytenr=%llu len=%llu %pV" (no comma before the reason)
        Some(p) if memchr::memmem::find(rest, b" extent bytenr=").is_some_and(|e| e < p) => {
            let after = &rest[p + 5..];
            let n = after
                .iter()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(after.len());
            trim(&after[n..])
        }
        _ => reason_of(rest),
    };
    let reason = if reason.is_empty() {
        reason_of(rest)
    } else {
        reason
    };
    Some(TreeCheck {
        node,
        root,
        block: Some(block),
        block_trusted: trusted,
        eb: find_u64_after(rest, b"eb="),
        slot,
        owner: None,
        reason,
    })
}

fn leaf_or_node(r: &[u8]) -> Option<(bool, &[u8])> {
    if let Some(x) = r.strip_prefix(b"leaf") {
        Some((false, x))
    } else {
        r.strip_prefix(b"node").map(|x| (true, x))
    }
}

/// The human reason after the reporter's fields: text after the first `, `.
fn reason_of(rest: &[u8]) -> &[u8] {
    match memchr::memmem::find(rest, b", ") {
        Some(p) => trim(&rest[p + 2..]),
        None => trim(rest),
    }
}

/// A value a tree-checker reason compares with the one it expected, when
/// both are single numbers (ranges and sets say nothing about one bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReasonValue {
    /// `have N expect M`, `has N expect M`, `has=N expect=M` (C.5): the
    /// field as found in the item, and what it should have been when that
    /// is one number (not a range, a set or words: `expect aligned to
    /// 4096`, `should be aligned to 4096`).
    HaveExpect {
        /// The value found (`have`, `has`).
        found: u64,
        /// The value expected, when it is one number.
        expected: Option<u64>,
    },
    /// `bad key order, prev (A B C) current (D E F)` (leaf) or
    /// `bad key order, current (A B C) next (D E F)` (node): two keys that
    /// should be in order, as `(objectid, type, offset)`.
    KeyOrder {
        /// The earlier key (`prev`, or `current` of a node).
        before: Key,
        /// The later key (`current`, or `next` of a node).
        after: Key,
    },
}

/// A btrfs key as printed: `(objectid type offset)`.
pub(crate) type Key = (u64, u64, u64);

/// The numbers a tree-checker reason compares, if it compares two single
/// values: the grammar elements `have_expect` (`... have N expect M`,
/// `... has N expect M`, `... has=N expect=M`, decimal or `0x` hex) and
/// `key_order` (`bad key order, prev (A B C) current (D E F)`).
///
/// Examples: `invalid location key offset:has 9223372036854775808 expect 0`
/// (Olsson, linux-btrfs 2020-04), `bad key order, prev (256 1 0) current
/// (256 1 0)`, `invalid objectid: has=2 expect=1`; with no one expected
/// value, `invalid extent length, have 18446619972284938920 expect aligned
/// to 4096` and `invalid inode transid: has 45277 expect [0, 45276]`.
pub(crate) fn reason_value(reason: &[u8]) -> Option<ReasonValue> {
    if let Some(r) = reason.strip_prefix(b"bad key order, ") {
        let (r, first) = r
            .strip_prefix(b"prev ")
            .or_else(|| r.strip_prefix(b"current "))
            .and_then(key_triple)?;
        let r = r
            .strip_prefix(b" current ")
            .or_else(|| r.strip_prefix(b" next "))?;
        let (_, second) = key_triple(r)?;
        return Some(ReasonValue::KeyOrder {
            before: first,
            after: second,
        });
    }
    // The last `has`/`have` word of the reason, then its `expect`.
    let at = memchr::memrchr_iter(b'h', reason).find_map(|p| {
        let word_start = p == 0 || !reason[p - 1].is_ascii_alphanumeric();
        let r = &reason[p..];
        let n = [&b"has "[..], b"have ", b"has="]
            .iter()
            .find(|w| r.starts_with(w))?
            .len();
        word_start.then_some(p + n)
    })?;
    let (r, found) = number(&reason[at..])?;
    let r = r.strip_prefix(b",").unwrap_or(r);
    // One expected value: a number, then the end or words.
    let expected = r
        .strip_prefix(b" expect ")
        .or_else(|| r.strip_prefix(b" expect="))
        .and_then(number)
        .filter(|(r, _)| matches!(r.first(), None | Some(b' ')))
        .map(|x| x.1);
    Some(ReasonValue::HaveExpect { found, expected })
}

/// `key_triple`, `(%llu %u %llu)`: a btrfs key, as `(693626798080 182
/// 702129324032)` in `bad key order, prev (693626798080 182 702129324032)
/// current (693626798080 182 701861986304)`.
fn key_triple(r: &[u8]) -> Option<(&[u8], Key)> {
    let r = r.strip_prefix(b"(")?;
    let (r, a) = dec_u64(r).ok()?;
    let (r, b) = dec_u64(r.strip_prefix(b" ")?).ok()?;
    let (r, c) = dec_u64(r.strip_prefix(b" ")?).ok()?;
    Some((r.strip_prefix(b")")?, (a, b, c)))
}

/// `number`: decimal (`9223372036854775808`) or `0x` hex
/// (`0x00000000d8649173`, in `name hash mismatch with key, have
/// 0x00000000d8649173 expect 0x00000000f88d2ac3`).
fn number(r: &[u8]) -> Option<(&[u8], u64)> {
    if r.starts_with(b"0x") || r.starts_with(b"0X") {
        crate::fields::hex_u64(r).ok()
    } else {
        dec_u64(r).ok()
    }
}

/// Parse a read/write validation message naming a tree block.
///
/// Examples: `bad tree block start, want 103612416 have 17126188627709133626`,
/// `parent transid verify failed on logical 313163116052480 mirror 2 wanted 12746898 found 12746888`,
/// `read time tree block corruption detected on logical 334871673176064 mirror 1`,
/// `block=350945280 read time tree block corruption detected`.
pub(crate) fn validation(msg: &[u8]) -> Option<Validation> {
    use ValidationKind::*;
    let v = |kind, eb, mirror, have| {
        Some(Validation {
            kind,
            eb,
            mirror,
            have,
            wanted: None,
            found: None,
        })
    };
    if let Some(r) = msg.strip_prefix(b"bad tree block start, ") {
        let (r, mirror) = match r.strip_prefix(b"mirror ") {
            Some(x) => {
                let (x, m) = dec_u32(x).ok()?;
                (x.strip_prefix(b" ")?, Some(m))
            }
            None => (r, None),
        };
        let r = r.strip_prefix(b"want ")?;
        let (r, want) = dec_u64(r).ok()?;
        let have = r
            .strip_prefix(b" have ")
            .and_then(|x| dec_u64(x).ok())
            .map(|x| x.1);
        return v(BadTreeBlockStart, want, mirror, have);
    }
    if let Some(r) = msg.strip_prefix(b"bad fsid on ") {
        let (eb, mirror) = logical_mirror(r)?;
        return v(BadFsid, eb, mirror, None);
    }
    if let Some(r) = msg.strip_prefix(b"bad tree block level") {
        // "bad tree block level, mirror %u level %d on logical %llu" / "bad tree block level %d on %llu"
        let p = memchr::memmem::find(r, b" on ")?;
        let (eb, _) = logical_mirror(&r[p + 4..])?;
        let mirror = find_u64_after(&r[..p], b"mirror ").map(|m| m as u32);
        let level = find_u64_after(&r[..p], b"level ").or_else(|| {
            // old wording: "bad tree block level %d on %llu"
            dec_u64(trim(&r[..p])).ok().map(|x| x.1)
        });
        return v(BadLevel, eb, mirror, None).map(|x| Validation { found: level, ..x });
    }
    for (prefix, kind) in [
        (&b"checksum verify failed on "[..], ChecksumFailed),
        (b"level verify failed on ", LevelVerifyFailed),
        (b"parent transid verify failed on ", ParentTransid),
        (
            b"read time tree block corruption detected on ",
            ReadTimeCorruption,
        ),
    ] {
        if let Some(r) = msg.strip_prefix(prefix) {
            let (eb, mirror) = logical_mirror(r)?;
            let (wanted, found) = match kind {
                LevelVerifyFailed | ParentTransid => wanted_found(r),
                _ => (None, None),
            };
            return v(kind, eb, mirror, None).map(|x| Validation { wanted, found, ..x });
        }
    }
    for (prefix, kind) in [
        (
            &b"tree first key mismatch detected, bytenr="[..],
            FirstKeyMismatch,
        ),
        (b"tree level mismatch detected, bytenr=", LevelMismatch),
        (b"invalid tree nritems, bytenr=", InvalidNritems),
    ] {
        if let Some(r) = msg.strip_prefix(prefix) {
            let (_, eb) = dec_u64(r).ok()?;
            return v(kind, eb, None, None);
        }
    }
    if let Some(r) = msg.strip_prefix(b"block=") {
        let (r, eb) = dec_u64(r).ok()?;
        if r.starts_with(b" read time tree block corruption detected") {
            return v(ReadTimeCorruption, eb, None, None);
        }
        if r.starts_with(b" write time tree block corruption detected") {
            return v(WriteTimeCorruption, eb, None, None);
        }
        if let Some(g) = r.strip_prefix(b" bad generation") {
            // ", have %llu expect > %llu"
            let found = find_u64_after(g, b"have ");
            let wanted = memchr::memmem::find(g, b"expect > ")
                .and_then(|p| dec_u64(&g[p + 9..]).ok())
                .map(|x| x.1);
            return v(WriteBadGeneration, eb, None, None).map(|x| Validation {
                wanted,
                found,
                ..x
            });
        }
    }
    None
}

/// `wanted %llu found %llu` after the block and mirror of
/// `parent transid verify failed` and `level verify failed`.
///
/// Example: ` mirror 2 wanted 12746898 found 12746888` in
/// `parent transid verify failed on logical 313163116052480 mirror 2 wanted 12746898 found 12746888`.
fn wanted_found(r: &[u8]) -> (Option<u64>, Option<u64>) {
    (find_u64_after(r, b"wanted "), find_u64_after(r, b"found "))
}

/// `logical %llu mirror %u` or old `%llu` / `block %llu`.
fn logical_mirror(r: &[u8]) -> Option<(u64, Option<u32>)> {
    let r = r
        .strip_prefix(b"logical ")
        .or_else(|| r.strip_prefix(b"block "))
        .unwrap_or(r);
    let (r, eb) = dec_u64(r).ok()?;
    let mirror = r
        .strip_prefix(b" mirror ")
        .and_then(|x| dec_u32(x).ok())
        .map(|x| x.1);
    Some((eb, mirror))
}

/// Parse a transaction abort or filesystem error from a btrfs message.
///
/// Examples: `BTRFS: Transaction aborted (error -17)`,
/// `BTRFS error (device dm-2 state A): Transaction aborted (error -5)`,
/// `BTRFS: error (device dm-2: state A) in btrfs_create_new_inode:6450: errno=-17 Object already exists`.
pub(crate) fn abort<'a>(m: &BtrfsMsg<'a>) -> Option<Abort<'a>> {
    if let Some(r) = m.msg.strip_prefix(b"Transaction aborted (error ") {
        let (_, errno) = dec_i64(r).ok()?;
        return Some(Abort {
            errno,
            func: None,
            line: None,
            aborted_text: true,
        });
    }
    // `BTRFS: error (device %s%s) in %s:%d: errno=%d %s`: level None, message starts with "error (device".
    let r = m.msg.strip_prefix(b"error ")?;
    let (_, _, r) = crate::grammar::kernel::device_state(r)?;
    let r = r.strip_prefix(b" in ").or_else(|| r.strip_prefix(b"in "))?;
    let colon = memchr::memchr(b':', r)?;
    let func = &r[..colon];
    let (r, line) = dec_u32(&r[colon + 1..]).ok()?;
    let r = r.strip_prefix(b": errno=")?;
    let (_, errno) = dec_i64(r).ok()?;
    Some(Abort {
        errno,
        func: Some(func),
        line: Some(line),
        aborted_text: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::kernel::btrfs_msg;

    #[test]
    fn owner_mismatch_from_the_thread() {
        let m = btrfs_msg(b"BTRFS critical (device dm-0): corrupted leaf, root=258 block=15302115328 owner mismatch, have 13709377558419367261 expect [256, 18446744073709551360] eb=15302115328").unwrap();
        let t = tree_check(m.msg).unwrap();
        assert!(!t.node);
        assert_eq!(
            (t.root, t.block, t.eb),
            (Some(258), Some(15302115328), Some(15302115328))
        );
        assert_eq!(
            t.owner,
            Some((
                13709377558419367261,
                Expect::Range(256, 18446744073709551360)
            ))
        );
        assert!(!t.block_trusted);
        let t = tree_check(b"corrupted node, root=262 block=12450248866117114644 owner mismatch, have 1606127004340072680 expect [256, 18446744073709551360]").unwrap();
        assert_eq!((t.node, t.eb), (true, None));
        let t =
            tree_check(b"corrupted leaf, root=5 block=30408704 owner mismatch, have 7 expect 5")
                .unwrap();
        assert_eq!(t.owner, Some((7, Expect::Root(5))));
    }

    #[test]
    fn corrupt_reporters() {
        let t = tree_check(b"corrupt leaf: root=5 block=350945280 slot=85 ino=55495, unknown flags detected: 0x2000000").unwrap();
        assert_eq!(
            (t.root, t.block, t.slot, t.block_trusted),
            (Some(5), Some(350945280), Some(85), false)
        );
        assert_eq!(t.reason, b"unknown flags detected: 0x2000000");
        let t = tree_check(b"corrupt leaf: block=334871673176064 slot=24 extent bytenr=333252139892736 len=36864 invalid data ref objectid value 65241").unwrap();
        assert!(t.block_trusted);
        assert_eq!(t.root, None);
        let t = tree_check(b"corrupt node: root=2 block=64205750272 slot=121, unaligned pointer, have 64012238993 should be aligned to 4096").unwrap();
        assert!(t.node && !t.block_trusted);
        let t = tree_check(
            b"corrupt node: root=7 block=30408704, nritems too small, have 0 expect range [1,493]",
        )
        .unwrap();
        assert!(t.block_trusted);
        let t = tree_check(b"corrupt leaf: root=3 block=22020096 slot=0 chunk_start=22020096, invalid chunk length, have 0").unwrap();
        assert!(t.block_trusted);
        let t = tree_check(b"corrupt leaf: root=259 block=24071061798912 slot=167 ino=7742, invalid location key offset:has 9223372036854775808 expect 0").unwrap();
        assert_eq!(t.block, Some(24071061798912));
        let t = tree_check(b"corrupt leaf: root=18446744073709551610 block=30949376 slot=104, csum end range (13807616) goes beyond").unwrap();
        assert_eq!(t.root, Some(18446744073709551610));
        assert!(
            tree_check(b"corrupt superblock syschunk array: chunk_start=22020096, x").is_none()
        );
    }

    #[test]
    fn validation_both_eras() {
        let v =
            validation(b"bad tree block start, want 103612416 have 17126188627709133626").unwrap();
        assert_eq!(
            (v.kind, v.eb, v.have, v.mirror),
            (
                ValidationKind::BadTreeBlockStart,
                103612416,
                Some(17126188627709133626),
                None
            )
        );
        let v = validation(b"bad tree block start, mirror 1 want 103612416 have 0").unwrap();
        assert_eq!(v.mirror, Some(1));
        let v = validation(b"parent transid verify failed on 86867968 wanted 45273 found 45276")
            .unwrap();
        assert_eq!((v.kind, v.eb), (ValidationKind::ParentTransid, 86867968));
        let v = validation(b"parent transid verify failed on logical 313163116052480 mirror 2 wanted 12746898 found 12746888").unwrap();
        assert_eq!((v.eb, v.mirror), (313163116052480, Some(2)));
        let v =
            validation(b"level verify failed on logical 313163105075200 mirror 2 wanted 0 found 1")
                .unwrap();
        assert_eq!(v.kind, ValidationKind::LevelVerifyFailed);
        let v = validation(
            b"read time tree block corruption detected on logical 334871673176064 mirror 1",
        )
        .unwrap();
        assert_eq!(
            (v.kind, v.eb),
            (ValidationKind::ReadTimeCorruption, 334871673176064)
        );
        let v = validation(b"block=350945280 read time tree block corruption detected").unwrap();
        assert_eq!(v.eb, 350945280);
        let v = validation(b"block=64205750272 write time tree block corruption detected").unwrap();
        assert!(!v.kind.read_side());
        let v = validation(b"bad fsid on block 22020096").unwrap();
        assert_eq!(v.eb, 22020096);
        let v = validation(b"bad tree block level, mirror 1 level 9 on logical 22020096").unwrap();
        assert_eq!((v.eb, v.mirror), (22020096, Some(1)));
        let v = validation(b"bad tree block level 9 on 22020096").unwrap();
        assert_eq!(v.eb, 22020096);
        let v = validation(
            b"checksum verify failed on logical 22020096 mirror 1 wanted 0x1 found 0x2 level 0",
        )
        .unwrap();
        assert_eq!(v.kind, ValidationKind::ChecksumFailed);
        let v = validation(b"tree first key mismatch detected, bytenr=30408704 parent_transid=7 key expected=(1,2,3) has=(4,5,6)").unwrap();
        assert_eq!(v.eb, 30408704);
        assert!(validation(b"checksum verify failed on").is_none());
    }

    #[test]
    fn reason_values() {
        let v = |s: &str| reason_value(s.as_bytes());
        let he = |found, expected| Some(ReasonValue::HaveExpect { found, expected });
        assert_eq!(
            v("invalid location key offset:has 9223372036854775808 expect 0"),
            he(1 << 63, Some(0))
        );
        assert_eq!(
            v("invalid previous key objectid, have 256 expect 257"),
            he(256, Some(257))
        );
        assert_eq!(v("invalid objectid: has=2 expect=1"), he(2, Some(1)));
        assert_eq!(
            v("name hash mismatch with key, have 0x000000006e5f1b8c expect 0x000000002e5f1b8c"),
            he(0x6e5f1b8c, Some(0x2e5f1b8c))
        );
        // One value found, and no one value expected.
        assert_eq!(
            v("invalid extent length, have 18446619972284938920 expect aligned to 4096"),
            he(18446619972284938920, None)
        );
        assert_eq!(
            v("invalid inode transid: has 45277 expect [0, 45276]"),
            he(45277, None)
        );
        assert_eq!(
            v("invalid root generation, have 45277 expect (0, 45275]"),
            he(45277, None)
        );
        assert_eq!(
            v("unaligned pointer, have 64012238993 should be aligned to 4096"),
            he(64012238993, None)
        );
        assert_eq!(
            v("bad key order, prev (256 108 4096) current (256 108 0)"),
            Some(ReasonValue::KeyOrder {
                before: (256, 108, 4096),
                after: (256, 108, 0)
            })
        );
        assert_eq!(
            v("bad key order, current (5 1 0) next (4 1 0)"),
            Some(ReasonValue::KeyOrder {
                before: (5, 1, 0),
                after: (4, 1, 0)
            })
        );
        assert_eq!(
            v("invalid dir item type, have 33 expect (0, 9)"),
            he(33, None)
        );
        assert_eq!(v("invalid data ref objectid value 65241"), None);
        assert_eq!(
            v("invalid mode: has 00 expect valid S_IF* bit(s)"),
            he(0, None)
        );
        // `has`/`have` as part of a word is not the word.
        assert_eq!(v("xhas 5 expect 4"), None);
        assert_eq!(v("owner mismatch"), None);
    }

    #[test]
    fn validation_values() {
        let v = validation(b"parent transid verify failed on logical 313163116052480 mirror 2 wanted 12746898 found 12746888").unwrap();
        assert_eq!((v.wanted, v.found), (Some(12746898), Some(12746888)));
        let v = validation(b"parent transid verify failed on 86867968 wanted 45273 found 45276")
            .unwrap();
        assert_eq!((v.wanted, v.found), (Some(45273), Some(45276)));
        let v =
            validation(b"level verify failed on logical 313163105075200 mirror 2 wanted 0 found 1")
                .unwrap();
        assert_eq!((v.wanted, v.found), (Some(0), Some(1)));
        let v = validation(b"bad tree block level, mirror 1 level 9 on logical 22020096").unwrap();
        assert_eq!(v.found, Some(9));
        let v = validation(b"bad tree block level 9 on 22020096").unwrap();
        assert_eq!(v.found, Some(9));
        let v = validation(b"block=30408704 bad generation, have 7 expect > 9").unwrap();
        assert_eq!(
            (v.kind, v.eb, v.found, v.wanted),
            (
                ValidationKind::WriteBadGeneration,
                30408704,
                Some(7),
                Some(9)
            )
        );
        assert_eq!(v.kind.phase(), Phase::Write);
        let v = validation(b"block=30408704 write time tree block corruption detected").unwrap();
        assert!(v.kind.is_companion() && v.kind.phase() == Phase::Write);
        let v =
            validation(b"read time tree block corruption detected on logical 1 mirror 3").unwrap();
        assert!(v.kind.is_companion() && v.kind.phase() == Phase::Read);
        assert_eq!(v.mirror, Some(3));
        let v =
            validation(b"bad tree block start, want 103612416 have 17126188627709133626").unwrap();
        assert!(!v.kind.is_companion() && v.kind.phase() == Phase::Read);
    }

    #[test]
    fn aborts() {
        let m = btrfs_msg(b"BTRFS: Transaction aborted (error -17)").unwrap();
        assert_eq!(abort(&m).unwrap().errno, -17);
        let m = btrfs_msg(b"BTRFS: error (device dm-2: state A) in btrfs_create_new_inode:6450: errno=-17 Object already exists").unwrap();
        let a = abort(&m).unwrap();
        assert_eq!(
            (a.errno, a.func, a.line),
            (-17, Some(&b"btrfs_create_new_inode"[..]), Some(6450))
        );
        let m = btrfs_msg(b"BTRFS: error (device vda3) in btrfs_commit_transaction:2505: errno=-5 IO failure (Error while writing out transaction)").unwrap();
        assert_eq!(abort(&m).unwrap().errno, -5);
        let m = btrfs_msg(b"BTRFS error (device dm-2 state A): Transaction aborted (error -5)")
            .unwrap();
        assert_eq!(abort(&m).unwrap().errno, -5);
    }
}
