//! The built-in packs: rules files shipped in the binary, written in the
//! same format as a user's (`tracesift rules` lists them; `--no-packs`
//! turns them off).
//!
//! | pack | key | follows |
//! |---|---|---|
//! | `xfs-buf` | (dev, daddr) | `xfs_buf_*` tracepoints: hold/rele, lock/unlock, free; XFS messages naming a daddr |
//! | `page-ref` | pfn | `page_ref_*` tracepoints: the refcount and the mapping |
//! | `btrfs-bg` | bytenr | btrfs block-group tracepoints and relocation/reclaim messages |
//! | `kernel-pointer` | pointer | any field holding a kernel pointer (for `timeline --key ptr=...`) |

use super::Text;

/// The packs, by name, with their TOML.
pub(crate) const PACKS: [(&str, &str); 4] = [
    ("xfs-buf", include_str!("packs/xfs-buf.toml")),
    ("page-ref", include_str!("packs/page-ref.toml")),
    ("btrfs-bg", include_str!("packs/btrfs-bg.toml")),
    ("kernel-pointer", include_str!("packs/kernel-pointer.toml")),
];

/// Every pack, as files to load.
pub(crate) fn all() -> Vec<Text> {
    PACKS
        .iter()
        .map(|(name, text)| Text {
            name: format!("builtin:{name}"),
            text: (*text).to_string(),
            builtin: true,
        })
        .collect()
}
