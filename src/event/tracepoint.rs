//! btrfs tracepoints that carry a tree-block start (kernel-formats.md D.1, D.2).
//!
//! Every btrfs event prints `<fsid>: ` and then its fields; the table below
//! says which fields hold a tree block's start.

use crate::event::EventKind;
use crate::fields::{find_u64_after, uuid};

/// Field names holding block starts, per tracepoint.
fn fields_of(name: &[u8]) -> Option<&'static [&'static [u8]]> {
    // Every name below starts with `btrfs_`, `add_` or `run_`.
    if !matches!(name.first(), Some(b'b' | b'a' | b'r')) {
        return None;
    }
    Some(match name {
        b"btrfs_tree_read_lock"
        | b"btrfs_tree_lock"
        | b"btrfs_tree_unlock"
        | b"btrfs_tree_read_unlock"
        | b"btrfs_tree_read_unlock_blocking"
        | b"btrfs_set_lock_blocking_read"
        | b"btrfs_set_lock_blocking_write"
        | b"btrfs_try_tree_read_lock"
        | b"btrfs_try_tree_write_lock"
        | b"btrfs_tree_read_lock_atomic" => &[b"block="],
        b"btrfs_cow_block" => &[b"orig_buf=", b"cow_buf="],
        b"add_delayed_tree_ref" | b"run_delayed_tree_ref" => &[b"bytenr=", b"parent="],
        b"add_delayed_ref_head" | b"run_delayed_ref_head" => &[b"bytenr="],
        b"btrfs_reserved_extent_alloc" | b"btrfs_reserved_extent_free" => &[b"start="],
        b"btrfs_reserve_extent" | b"btrfs_reserve_extent_cluster" => &[b"start="],
        b"btrfs_qgroup_trace_extent"
        | b"btrfs_qgroup_account_extents"
        | b"btrfs_qgroup_account_extent" => &[b"bytenr="],
        b"btrfs_prelim_ref_merge" | b"btrfs_prelim_ref_insert" => {
            &[b"parent=", b"wanted_disk_byte="]
        }
        _ => return None,
    })
}

/// The blocks a btrfs tracepoint names, as an event.
///
/// Example: `btrfs_tree_read_lock: b66a67f0-8273-4158-b7bf-988bb5683000: block=15302115328 generation=87 ...`.
pub(crate) fn blocks<'a>(name: &'a [u8], payload: &'a [u8]) -> Option<EventKind<'a>> {
    let keys = fields_of(name)?;
    // Fields follow the fsid; tolerate a missing fsid (`fields` option, old kernels).
    let fields = match uuid(payload) {
        Ok((r, _)) => r.strip_prefix(b": ").unwrap_or(r),
        Err(_) => payload,
    };
    // Data extents are not tree blocks.
    if name.ends_with(b"ref_head") && memchr::memmem::find(fields, b"is_data=1").is_some() {
        return None;
    }
    if name.starts_with(b"btrfs_reserve_extent")
        && !(memchr::memmem::find(fields, b"METADATA").is_some()
            || memchr::memmem::find(fields, b"SYSTEM").is_some())
    {
        return None;
    }
    let mut blocks = [None, None];
    for (slot, key) in blocks.iter_mut().zip(keys.iter()) {
        *slot = find_u64_after(fields, key).filter(|&b| b != 0);
    }
    if blocks[0].is_none() {
        blocks = [blocks[1], None];
    }
    blocks[0].map(|_| EventKind::Tracepoint { name, blocks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_and_cow_events() {
        let k = blocks(
            b"btrfs_tree_read_lock",
            b"b66a67f0-8273-4158-b7bf-988bb5683000: block=15302115328 generation=87 start_ns=1 end_ns=2 diff_ns=1 owner=258 is_log_tree=0",
        )
        .unwrap();
        assert_eq!(
            k,
            EventKind::Tracepoint {
                name: b"btrfs_tree_read_lock",
                blocks: [Some(15302115328), None]
            }
        );
        let k = blocks(
            b"btrfs_cow_block",
            b"b66a67f0-8273-4158-b7bf-988bb5683000: root=5(FS_TREE) refs=2 orig_buf=30408704 (orig_level=0) cow_buf=30425088 (cow_level=0)",
        )
        .unwrap();
        assert_eq!(
            k,
            EventKind::Tracepoint {
                name: b"btrfs_cow_block",
                blocks: [Some(30408704), Some(30425088)]
            }
        );
        assert!(blocks(
            b"run_delayed_ref_head",
            b"b66a67f0-8273-4158-b7bf-988bb5683000: bytenr=1 num_bytes=4096 action=ADD is_data=1"
        )
        .is_none());
        assert!(blocks(
            b"defrag_add_target",
            b"69fd3173-f190-4b0d-b5d0-9c995f2950cc: root=5"
        )
        .is_none());
    }
}
