//! Kernel message texts: splat blocks, everyday dmesg noise, the boot
//! banner and what a serial console shows between boots. Shapes follow
//! kernel-formats.md B.8 (oops, WARNING, BUG blocks, x86-64) and the real
//! captures in the shared corpus; none of the noise fires a rule.

use crate::text::{put_hex, Rng};

/// `uname -r` of the simulated kernel (the 2024 race's kernel).
pub(crate) const RELEASE: &str = "6.8.0-rc7";
/// `%sHardware name: %s`.
const HARDWARE: &str = "Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS unknown 2/2/2022";
/// The module list of the machine (one `pr_cont`-joined line).
const MODULES: &str = "Modules linked in: dm_crypt cbc encrypted_keys trusted asn1_encoder tee \
    xt_MASQUERADE xt_tcpudp xt_mark nf_tables nfnetlink intel_rapl_msr intel_rapl_common \
    kvm_amd ccp kvm irqbypass crct10dif_pclmul crc32_pclmul polyval_clmulni polyval_generic \
    gf128mul ghash_clmulni_intel sha512_ssse3 virtio_net net_failover failover virtio_blk \
    btrfs blake2b_generic xor raid6_pq libcrc32c crc32c_generic crc32c_intel";

/// Where a WARN_ON or BUG_ON sits and the stack that reached it.
struct Site {
    /// `file:line`.
    at: &'static str,
    /// The function the WARN_ON or BUG_ON is in.
    func: &'static str,
    /// The function the splat's title names when it is not `func`: the
    /// first frame that is not generic infrastructure (mm, page cache),
    /// as syzkaller picks its guilty frame.
    guilty: Option<&'static str>,
    /// `+0x../0x..`.
    off: &'static str,
    /// In the btrfs module (` [btrfs]` after its symbols).
    btrfs: bool,
    /// Caller frames, innermost first.
    frames: &'static [&'static str],
    /// `Workqueue:` line when a kworker hits it.
    wq: &'static str,
}

impl Site {
    /// The function the title names.
    fn title_func(&self) -> &'static str {
        self.guilty.unwrap_or(self.func)
    }
}

/// WARN_ON sites: the floods and one-off WARNINGs. None of them is
/// `end_bbio_meta_read` (that WARNING is a `duplicate-read-completion`)
/// and none prints a message before its WARNING line.
const WARN_SITES: [Site; 8] = [
    Site {
        at: "fs/btrfs/disk-io.c:4613",
        func: "btrfs_mark_buffer_dirty",
        guilty: None,
        off: "0x10c/0x130",
        btrfs: true,
        frames: &[
            "btrfs_insert_dir_item+0x1f3/0x2a0 [btrfs]",
            "btrfs_add_link+0xd6/0x3f0 [btrfs]",
            "btrfs_create_common+0xc4/0x130 [btrfs]",
            "path_openat+0xe9f/0x1190",
            "do_filp_open+0xb3/0x160",
        ],
        wq: "btrfs-delalloc btrfs_work_helper [btrfs]",
    },
    Site {
        at: "fs/btrfs/block-rsv.c:445",
        func: "btrfs_use_block_rsv",
        guilty: None,
        off: "0x1a8/0x2f0",
        btrfs: true,
        frames: &[
            "btrfs_alloc_tree_block+0x8f/0x560 [btrfs]",
            "btrfs_force_cow_block+0x15a/0x6b0 [btrfs]",
            "btrfs_cow_block+0xdf/0x230 [btrfs]",
            "btrfs_search_slot+0x4f3/0xd00 [btrfs]",
        ],
        wq: "events_unbound btrfs_async_reclaim_metadata_space [btrfs]",
    },
    Site {
        at: "fs/btrfs/locking.c:297",
        func: "btrfs_tree_lock_nested",
        guilty: None,
        off: "0x4e/0x130",
        btrfs: true,
        frames: &[
            "btrfs_lock_root_node+0x28/0x60 [btrfs]",
            "btrfs_search_slot+0x1b2/0xd00 [btrfs]",
            "btrfs_lookup_inode+0x40/0xd0 [btrfs]",
            "btrfs_iget_path+0x8e/0x2f0 [btrfs]",
        ],
        wq: "btrfs-endio-write btrfs_work_helper [btrfs]",
    },
    Site {
        at: "fs/btrfs/inode.c:6450",
        func: "btrfs_create_new_inode",
        guilty: None,
        off: "0xa46/0xa70",
        btrfs: true,
        frames: &[
            "btrfs_create_common+0xc4/0x130 [btrfs]",
            "path_openat+0xe9f/0x1190",
            "do_filp_open+0xb3/0x160",
            "do_sys_openat2+0xab/0xe0",
        ],
        wq: "btrfs-delalloc btrfs_work_helper [btrfs]",
    },
    Site {
        at: "fs/btrfs/transaction.c:2031",
        func: "btrfs_commit_transaction",
        guilty: None,
        off: "0xc2b/0xe80",
        btrfs: true,
        frames: &[
            "transaction_kthread+0x16b/0x1c0 [btrfs]",
            "kthread+0xe8/0x120",
            "ret_from_fork+0x34/0x50",
        ],
        wq: "events_unbound btrfs_async_reclaim_metadata_space [btrfs]",
    },
    Site {
        at: "fs/btrfs/space-info.c:1690",
        func: "__reserve_bytes",
        guilty: None,
        off: "0x5a4/0x740",
        btrfs: true,
        frames: &[
            "btrfs_reserve_metadata_bytes+0x1d/0xd0 [btrfs]",
            "btrfs_block_rsv_refill+0x4b/0x80 [btrfs]",
            "btrfs_truncate_inode_items+0x1c8/0xf30 [btrfs]",
            "btrfs_evict_inode+0x2f2/0x420 [btrfs]",
        ],
        wq: "btrfs-endio-write btrfs_work_helper [btrfs]",
    },
    Site {
        at: "mm/page-writeback.c:2653",
        func: "__folio_mark_dirty",
        guilty: Some("filemap_dirty_folio"),
        off: "0x1e7/0x250",
        btrfs: false,
        frames: &[
            "filemap_dirty_folio+0x5f/0x80",
            "btree_dirty_folio+0x31/0x50 [btrfs]",
            "set_extent_buffer_dirty+0x9c/0x170 [btrfs]",
            "btrfs_mark_buffer_dirty+0x4c/0x130 [btrfs]",
        ],
        wq: "writeback wb_workfn (flush-btrfs-1)",
    },
    Site {
        at: "fs/btrfs/delayed-inode.c:1482",
        func: "btrfs_assert_delayed_root_empty",
        guilty: None,
        off: "0x4a/0x60",
        btrfs: true,
        frames: &[
            "btrfs_commit_transaction+0x4b6/0xe80 [btrfs]",
            "btrfs_sync_fs+0x58/0x1d0 [btrfs]",
            "sync_filesystem+0x70/0x90",
            "__x64_sys_syncfs+0x40/0xa0",
        ],
        wq: "events_unbound btrfs_async_reclaim_metadata_space [btrfs]",
    },
];

/// BUG_ON sites of a second CPU oopsing while the dump prints.
const BUG_SITES: [Site; 2] = [
    Site {
        at: "fs/btrfs/ctree.c:2561",
        func: "btrfs_set_item_key_safe",
        guilty: None,
        off: "0x1a9/0x1b0",
        btrfs: true,
        frames: &[
            "btrfs_drop_extents+0x8b1/0xe70 [btrfs]",
            "insert_reserved_file_extent+0xe5/0x320 [btrfs]",
            "btrfs_finish_one_ordered+0x5a5/0x980 [btrfs]",
            "btrfs_work_helper+0xd4/0x420 [btrfs]",
        ],
        wq: "btrfs-endio-write btrfs_work_helper [btrfs]",
    },
    Site {
        at: "mm/filemap.c:1532",
        func: "folio_unlock",
        guilty: Some("extent_write_cache_pages"),
        off: "0x7c/0x80",
        btrfs: false,
        frames: &[
            "extent_write_cache_pages+0x3d0/0x7c0 [btrfs]",
            "btrfs_writepages+0x8d/0x140 [btrfs]",
            "do_writepages+0xcc/0x1d0",
            "__writeback_single_inode+0x41/0x340",
        ],
        wq: "writeback wb_workfn (flush-btrfs-1)",
    },
];

/// Faulting functions of a NULL pointer dereference on another CPU.
const NULL_SITES: [Site; 2] = [
    Site {
        at: "",
        func: "btrfs_root_node",
        guilty: None,
        off: "0x15/0x60",
        btrfs: true,
        frames: &[
            "btrfs_read_lock_root_node+0x1f/0xa0 [btrfs]",
            "btrfs_search_slot+0x1d4/0xd00 [btrfs]",
            "btrfs_lookup_dir_item+0x91/0xf0 [btrfs]",
            "btrfs_lookup_dentry+0xff/0x630 [btrfs]",
        ],
        wq: "btrfs-endio-meta btrfs_work_helper [btrfs]",
    },
    Site {
        at: "",
        func: "btrfs_get_64",
        guilty: None,
        off: "0x24/0x120",
        btrfs: true,
        frames: &[
            "btrfs_bin_search+0x9a/0x130 [btrfs]",
            "btrfs_search_slot+0x3a8/0xd00 [btrfs]",
            "btrfs_lookup_file_extent+0x4a/0x70 [btrfs]",
            "btrfs_get_extent+0x12b/0x8c0 [btrfs]",
        ],
        wq: "btrfs-endio-meta btrfs_work_helper [btrfs]",
    },
];

/// The BUG_ON that triggers the dump (as in the March 2024 typescript).
const TRIGGER_SITE: Site = Site {
    at: "fs/btrfs/tree-checker.c:2070",
    func: "btrfs_check_eb_owner",
    guilty: None,
    off: "0xde/0x120",
    btrfs: true,
    frames: &[
        "read_block_for_search+0x19e/0x340 [btrfs]",
        "btrfs_search_slot+0x338/0xd00 [btrfs]",
        "btrfs_lookup_dir_item+0x91/0xf0 [btrfs]",
        "btrfs_lookup_dentry+0xff/0x630 [btrfs]",
        "btrfs_lookup+0x12/0x30 [btrfs]",
        "__lookup_slow+0x86/0x130",
        "walk_component+0xdb/0x150",
        "path_lookupat+0x6a/0x1a0",
        "filename_lookup+0xe8/0x1f0",
        "vfs_statx+0x92/0x1c0",
        "io_statx+0x27/0x40",
        "io_issue_sqe+0x5f/0x3e0",
        "io_wq_submit_work+0x8c/0x2d0",
        "io_worker_handle_work+0x159/0x5b0",
        "io_wq_worker+0x10e/0x3b0",
    ],
    wq: "",
};

/// Which splat block to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `WARNING: CPU: ... at file:line func+off` (a [`WARN_SITES`] index).
    Warning(usize),
    /// `kernel BUG at file:line!` with an `invalid opcode` Oops header.
    Bug(usize),
    /// `BUG: kernel NULL pointer dereference` with a page-fault Oops header.
    NullDeref(usize),
}

impl Shape {
    /// WARNING sites to draw floods and one-off WARNINGs from.
    pub(crate) const WARNINGS: usize = WARN_SITES.len();
    /// BUG sites.
    pub(crate) const BUGS: usize = BUG_SITES.len();
    /// NULL-dereference sites.
    pub(crate) const NULLS: usize = NULL_SITES.len();

    /// Whether the block is an oops (die counter, taint `D`).
    pub(crate) fn dies(self) -> bool {
        !matches!(self, Shape::Warning(_))
    }
}

/// Who hits the splat, and the machine's state.
pub(crate) struct Ctx<'a> {
    pub(crate) cpu: u32,
    pub(crate) pid: u32,
    pub(crate) comm: &'a [u8],
    /// A WARNING was printed earlier in this boot (taint `W`).
    pub(crate) warned: bool,
    /// An oops was printed earlier in this boot (taint `D`).
    pub(crate) died: bool,
    /// This oops's `[#N]`.
    pub(crate) die: u32,
}

/// A rendered splat: its physical lines (without any console prefix).
pub(crate) struct Block {
    /// The syzkaller-style title tracesift must give it.
    pub(crate) title: String,
    /// The lines.
    pub(crate) lines: Vec<Vec<u8>>,
    /// Index of the line a finding cites (WARNING / `kernel BUG at` / `BUG:`).
    pub(crate) head: usize,
}

fn sym(site: &Site) -> String {
    let module = if site.btrfs { " [btrfs]" } else { "" };
    format!("{}+{}{module}", site.func, site.off)
}

fn task_line(c: &Ctx<'_>) -> Vec<u8> {
    // print_tainted(): one column per taint flag; `G` first, `D` is flag 7, `W` flag 9.
    let taint = if c.warned || c.died {
        let mut flags = *b"G                  ";
        if c.died {
            flags[7] = b'D';
        }
        if c.warned {
            flags[9] = b'W';
        }
        format!("Tainted: {}", String::from_utf8_lossy(&flags))
    } else {
        "Not tainted".to_string()
    };
    format!(
        "CPU: {} PID: {} Comm: {} {taint} {RELEASE} #1",
        c.cpu,
        c.pid,
        String::from_utf8_lossy(c.comm)
    )
    .into_bytes()
}

/// `RSP:` to `CR2:`: show_regs() of x86-64, random kernel addresses.
fn registers(rng: &mut Rng, out: &mut Vec<Vec<u8>>, cr2: u64) {
    fn kaddr(r: &mut Rng) -> u64 {
        0xffff_a98c_0000_0000 | (r.next() & 0xffff_fff8)
    }
    let line = |names: [&str; 3], r: &mut Rng| {
        let mut l = Vec::with_capacity(72);
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                l.push(b' ');
            }
            l.extend_from_slice(n.as_bytes());
            l.extend_from_slice(b": ");
            let v = if r.pct(35) { r.below(0x100) } else { kaddr(r) };
            put_hex(&mut l, v, 16);
        }
        l
    };
    let mut rsp = b"RSP: 0018:".to_vec();
    put_hex(&mut rsp, kaddr(rng), 16);
    rsp.extend_from_slice(b" EFLAGS: 00010246");
    out.push(rsp);
    out.push(line(["RAX", "RBX", "RCX"], rng));
    out.push(line(["RDX", "RSI", "RDI"], rng));
    out.push(line(["RBP", "R08", "R09"], rng));
    out.push(line(["R10", "R11", "R12"], rng));
    out.push(line(["R13", "R14", "R15"], rng));
    let mut fs = b"FS:  0000000000000000(0000) GS:ffff8fe8bee".to_vec();
    put_hex(&mut fs, rng.below(0x100) << 4, 5);
    fs.extend_from_slice(b"(0000) knlGS:0000000000000000");
    out.push(fs);
    out.push(b"CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033".to_vec());
    let mut cr = b"CR2: ".to_vec();
    put_hex(&mut cr, cr2, 16);
    cr.extend_from_slice(b" CR3: 000000023e8a8000 CR4: 0000000000350ef0");
    out.push(cr);
}

const CODE_UD2: &str = "Code: 00 ff ff ff 4c 89 d7 48 c7 c6 3a f4 6f c0 68 00 01 00 00 48 c7 c2 3f f4 6f c0 48 0f 44 d6 48 c7 c6 10 b4 70 c0 e8 a2 66 01 00 <0f> 0b be 01 00 00 00 e9 42 ff ff ff 4c 39 c9 0f 84";
const CODE_LOAD: &str = "Code: 0f 1f 44 00 00 55 48 89 e5 41 55 41 54 53 48 89 fb 48 83 ec 08 48 8b 47 08 <48> 8b 40 08 48 85 c0 74 2c 4c 8b 63 10 49 89 c5 4c 89 e7 e8 5c";

/// The call trace from `Call Trace:` to `</TASK>`: the exception frames,
/// then `n` of the site's frames.
fn call_trace(site: &Site, exception: &[&str], n: usize, out: &mut Vec<Vec<u8>>) {
    out.push(b"Call Trace:".to_vec());
    out.push(b" <TASK>".to_vec());
    for f in exception {
        out.push(format!(" ? {f}").into_bytes());
    }
    out.push(format!(" ? {}", sym(site)).into_bytes());
    for f in site.frames.iter().take(n) {
        out.push(format!(" {f}").into_bytes());
    }
    out.push(b" </TASK>".to_vec());
}

/// A complete splat block of `shape`, about 25 lines.
pub(crate) fn splat(rng: &mut Rng, shape: Shape, c: &Ctx<'_>) -> Block {
    let mut l: Vec<Vec<u8>> = Vec::with_capacity(32);
    let kworker = c.comm.starts_with(b"kworker/");
    let (site, title, head) = match shape {
        Shape::Warning(i) => {
            let s = &WARN_SITES[i % WARN_SITES.len()];
            l.push(b"------------[ cut here ]------------".to_vec());
            l.push(
                format!(
                    "WARNING: CPU: {} PID: {} at {} {}",
                    c.cpu,
                    c.pid,
                    s.at,
                    sym(s)
                )
                .into_bytes(),
            );
            l.push(MODULES.as_bytes().to_vec());
            (s, format!("WARNING in {}", s.title_func()), 1)
        }
        Shape::Bug(i) => {
            let s = &BUG_SITES[i % BUG_SITES.len()];
            l.push(b"------------[ cut here ]------------".to_vec());
            l.push(format!("kernel BUG at {}!", s.at).into_bytes());
            l.push(format!("invalid opcode: 0000 [#{}] PREEMPT SMP NOPTI", c.die).into_bytes());
            (s, format!("kernel BUG in {}", s.title_func()), 1)
        }
        Shape::NullDeref(i) => {
            let s = &NULL_SITES[i % NULL_SITES.len()];
            l.push(b"BUG: kernel NULL pointer dereference, address: 0000000000000008".to_vec());
            l.push(b"#PF: supervisor read access in kernel mode".to_vec());
            l.push(b"#PF: error_code(0x0000) - not-present page".to_vec());
            l.push(b"PGD 0 P4D 0 ".to_vec());
            l.push(format!("Oops: 0000 [#{}] PREEMPT SMP NOPTI", c.die).into_bytes());
            (
                s,
                format!(
                    "BUG: unable to handle kernel NULL pointer dereference in {}",
                    s.title_func()
                ),
                0,
            )
        }
    };
    l.push(task_line(c));
    l.push(HARDWARE.as_bytes().to_vec());
    if kworker && !site.wq.is_empty() {
        l.push(format!("Workqueue: {}", site.wq).into_bytes());
    }
    l.push(format!("RIP: 0010:{}", sym(site)).into_bytes());
    let null = matches!(shape, Shape::NullDeref(_));
    l.push(if null { CODE_LOAD } else { CODE_UD2 }.as_bytes().to_vec());
    let cr2 = if null {
        8
    } else {
        0x0000_55c7_d000_0000 | (rng.next() & 0xfff_fff8)
    };
    registers(rng, &mut l, cr2);
    let n = 2 + rng.below(3) as usize;
    match shape {
        Shape::Warning(_) => call_trace(site, &["__warn+0x81/0x130"], n, &mut l),
        Shape::Bug(_) => {
            call_trace(site, &["die+0x36/0x90", "do_trap+0xda/0x100"], n, &mut l);
            l.push(MODULES.as_bytes().to_vec());
        }
        Shape::NullDeref(_) => {
            call_trace(
                site,
                &["__die+0x23/0x70", "page_fault_oops+0x171/0x4e0"],
                n,
                &mut l,
            );
            l.push(MODULES.as_bytes().to_vec());
            l.push(b"CR2: 0000000000000008".to_vec());
        }
    }
    l.push(b"---[ end trace 0000000000000000 ]---".to_vec());
    Block {
        title,
        lines: l,
        head,
    }
}

/// The oops that triggers the dump, up to the point where the die
/// notifier dumps the trace buffer (B.8: after `Modules linked in:`); its
/// `---[ end trace ... ]---` follows the dump.
pub(crate) fn trigger_oops(rng: &mut Rng, c: &Ctx<'_>) -> Block {
    let s = &TRIGGER_SITE;
    let mut l = vec![
        b"------------[ cut here ]------------".to_vec(),
        format!("kernel BUG at {}!", s.at).into_bytes(),
        format!("invalid opcode: 0000 [#{}] PREEMPT SMP NOPTI", c.die).into_bytes(),
        task_line(c),
        HARDWARE.as_bytes().to_vec(),
        format!("RIP: 0010:{}", sym(s)).into_bytes(),
        CODE_UD2.as_bytes().to_vec(),
    ];
    registers(rng, &mut l, 0x0000_7f86_d59d_9740);
    call_trace(
        s,
        &[
            "die+0x36/0x90",
            "do_trap+0xda/0x100",
            "do_error_trap+0x6a/0x90",
            "exc_invalid_op+0x50/0x70",
            "asm_exc_invalid_op+0x1a/0x20",
        ],
        s.frames.len(),
        &mut l,
    );
    l.push(MODULES.as_bytes().to_vec());
    Block {
        title: format!("kernel BUG in {}", s.title_func()),
        lines: l,
        head: 1,
    }
}

/// One everyday kernel message (or, with `userspace`, a systemd status
/// line a serial console shows without a printk prefix). Never a finding.
pub(crate) fn noise(rng: &mut Rng, userspace: bool) -> String {
    const UNITS: [(&str, &str); 8] = [
        (
            "systemd-tmpfiles-clean.service",
            "Cleanup of Temporary Directories",
        ),
        ("logrotate.service", "Rotate log files"),
        ("man-db.service", "Daily man-db regeneration"),
        (
            "fstrim.service",
            "Discard unused blocks on filesystems from /etc/fstab",
        ),
        ("session-3.scope", "Session 3 of User root"),
        ("user@0.service", "User Manager for UID 0"),
        ("btrfs-scrub@-.service", "Btrfs scrub on /"),
        ("sysstat-collect.service", "system activity accounting tool"),
    ];
    if userspace {
        let (unit, desc) = *rng.pick(&UNITS);
        return match rng.below(3) {
            0 => format!("[  OK  ] Started {unit} - {desc}."),
            1 => format!("         Starting {unit} - {desc}..."),
            _ => format!("[  OK  ] Finished {unit} - {desc}."),
        };
    }
    let pid = rng.range(400, 48_000);
    match rng.below(26) {
        0 => format!(
            "usb {}-{}: new high-speed USB device number {} using xhci_hcd",
            rng.range(1, 4),
            rng.range(1, 6),
            rng.range(2, 30)
        ),
        1 => format!(
            "usb {}-{}: New USB device found, idVendor={:04x}, idProduct={:04x}, bcdDevice= 1.00",
            rng.range(1, 4),
            rng.range(1, 6),
            rng.below(0x10000),
            rng.below(0x10000)
        ),
        2 => format!("usb {}-{}: USB disconnect, device number {}", rng.range(1, 4), rng.range(1, 6), rng.range(2, 30)),
        3 => {
            let u = String::from_utf8_lossy(&crate::text::uuid_text(rng)).into_owned();
            format!("EXT4-fs (vdb{}): mounted filesystem {u} r/w with ordered data mode. Quota mode: none.", rng.range(1, 3))
        }
        4 => format!("EXT4-fs (vdb{}): unmounting filesystem.", rng.range(1, 3)),
        5 => format!(
            "audit: type=1400 audit(1710342{:03}.{:03}:{}): apparmor=\"STATUS\" operation=\"profile_replace\" profile=\"unconfined\" name=\"lsb_release\" pid={pid} comm=\"apparmor_parser\"",
            rng.below(1000),
            rng.below(1000),
            rng.range(100, 9000)
        ),
        6 => format!(
            "audit: type=1334 audit(1710342{:03}.{:03}:{}): prog-id={} op=LOAD",
            rng.below(1000),
            rng.below(1000),
            rng.range(100, 9000),
            rng.range(20, 400)
        ),
        7 => {
            let (unit, desc) = *rng.pick(&UNITS);
            format!("systemd[1]: Started {unit} - {desc}.")
        }
        8 => {
            let (unit, _) = *rng.pick(&UNITS);
            format!("systemd[1]: {unit}: Deactivated successfully.")
        }
        9 => format!("systemd-journald[{}]: Received client request to flush runtime journal.", rng.range(380, 460)),
        10 => format!("NET: Registered PF_{} protocol family", rng.pick(&["ALG", "VSOCK", "PACKET", "INET6"])),
        11 => format!("IPv6: ADDRCONF(NETDEV_CHANGE): veth{:07x}: link becomes ready", rng.below(1 << 28)),
        12 => format!("br0: port {}(veth{:07x}) entered forwarding state", rng.range(1, 9), rng.below(1 << 28)),
        13 => format!("veth{:07x}: entered promiscuous mode", rng.below(1 << 28)),
        14 => format!("loop{}: detected capacity change from 0 to {}", rng.below(8), rng.range(8, 1 << 20)),
        15 => "BTRFS info (device dm-0): scrub: started on devid 1".to_string(),
        16 => "BTRFS info (device dm-0): scrub: finished on devid 1 with status: 0".to_string(),
        17 => format!("BTRFS info (device dm-0): balance: start -dusage={} -musage={}", rng.range(5, 90), rng.range(5, 90)),
        18 => format!(
            "perf: interrupt took too long ({} > 2500), lowering kernel.perf_event_max_sample_rate to 63750",
            rng.range(2_501, 9_000)
        ),
        19 => format!("hrtimer: interrupt took {} ns", rng.range(100_000, 3_000_000)),
        20 => format!("iou-wrk-45118 ({pid}) used greatest stack depth: {} bytes left", rng.range(9_000, 12_000)),
        21 => format!("kauditd_printk_skb: {} callbacks suppressed", rng.range(2, 40)),
        22 => format!("TCP: request_sock_TCP: Possible SYN flooding on port {}. Sending cookies.  Check SNMP counters.", rng.range(1024, 60_000)),
        23 => format!("zram0: detected capacity change from 0 to {}", rng.range(1 << 20, 1 << 24)),
        24 => format!("Adding {}k swap on /dev/zram0.  Priority:100 extents:1 across:{}k SSDscFS", 8_388_604, 8_388_604),
        _ => format!("virtio_net virtio{} enp{}s0: renamed from eth0", rng.below(4), rng.range(1, 8)),
    }
}

/// The first kernel messages of a boot, with their printk times in µs.
pub(crate) fn boot_banner(
    rng: &mut Rng,
    cpus: usize,
    fsid: &str,
    transid: u64,
) -> Vec<(u64, String)> {
    let mem = [
        "BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable",
        "BIOS-e820: [mem 0x0000000000100000-0x000000007f6ecfff] usable",
        "BIOS-e820: [mem 0x000000007f6ed000-0x000000007f96cfff] reserved",
        "BIOS-e820: [mem 0x00000000e0000000-0x00000000efffffff] reserved",
        "BIOS-e820: [mem 0x0000000100000000-0x000000027fffffff] usable",
    ];
    let mut v: Vec<(u64, String)> = vec![
        (0, format!("Linux version {RELEASE} (builder@buildhost) (gcc (GCC) 13.2.1 20230801, GNU ld (GNU Binutils) 2.42.0) #1 SMP PREEMPT_DYNAMIC Wed Mar 13 17:31:13 EDT 2024")),
        (0, "Command line: root=/dev/mapper/root rw loglevel=7 console=tty0 console=ttyS0,115200 nowatchdog ftrace_dump_on_oops trace_buf_size=1G".into()),
        (0, "BIOS-provided physical RAM map:".into()),
    ];
    v.extend(mem.iter().map(|m| (0, m.to_string())));
    let more: [(u64, String); 22] = [
        (0, "NX (Execute Disable) protection: active".into()),
        (0, "DMI: QEMU Standard PC (Q35 + ICH9, 2009), BIOS unknown 2/2/2022".into()),
        (0, "Hypervisor detected: KVM".into()),
        (1, "clocksource: kvm-clock: mask: 0xffffffffffffffff max_cycles: 0x1cd42e4dffb, max_idle_ns: 881590591483 ns".into()),
        (16_074, format!("smpboot: Allowing {cpus} CPUs, 0 hotplug CPUs")),
        (47_239, "Memory: 8054740K/8384948K available (16384K kernel code, 2142K rwdata, 13240K rodata, 3456K init, 3728K bss, 329948K reserved, 0K cma-reserved)".into()),
        (54_037, "ftrace: allocated 194 pages with 3 groups".into()),
        (56_509, "printk: legacy console [tty0] enabled".into()),
        (251_467, format!("smpboot: Total of {cpus} processors activated (364945.98 BogoMIPS)")),
        (269_346, "pinctrl core: initialized pinctrl subsystem".into()),
        (295_028, "PCI: ECAM [mem 0xe0000000-0xefffffff] reserved as E820 entry".into()),
        (1_002_443, "Freeing unused kernel image (initmem) memory: 3456K".into()),
        (1_533_027, "Run /init as init process".into()),
        (1_601_210, "systemd[1]: systemd 255.4-1 running in system mode (+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP +GCRYPT)".into()),
        (1_623_900, "systemd[1]: Detected virtualization kvm.".into()),
        (3_127_551, format!("BTRFS: device fsid {fsid} devid 1 transid {transid} /dev/mapper/root (254:0) scanned by (udev-worker) (412)")),
        (3_140_912, format!("BTRFS info (device dm-0): first mount of filesystem {fsid}")),
        (3_140_930, "BTRFS info (device dm-0): using crc32c (crc32c-intel) checksum algorithm".into()),
        (3_141_322, "BTRFS info (device dm-0): using free-space-tree".into()),
        (9_884_120, "systemd[1]: Mounting sys-kernel-tracing.mount - Kernel Trace File System...".into()),
        (10_201_554, format!("NET: Registered PF_{} protocol family", rng.pick(&["PACKET", "INET6"]))),
        (11_950_007, "audit: type=1130 audit(1710342060.208:2): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=systemd-journald comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'".into()),
    ];
    v.extend(more);
    v
}

/// Firmware output on the serial console between a reboot and the next
/// kernel (no printk prefix).
pub(crate) const FIRMWARE: [&str; 3] = [
    "BdsDxe: loading Boot0001 \"UEFI QEMU HARDDISK QM00001 \" from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0)",
    "BdsDxe: starting Boot0001 \"UEFI QEMU HARDDISK QM00001 \" from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0)",
    "EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(comm: &[u8]) -> Ctx<'_> {
        Ctx {
            cpu: 3,
            pid: 1234,
            comm,
            warned: true,
            died: false,
            die: 2,
        }
    }

    #[test]
    fn splat_blocks_have_the_real_shape() {
        let mut rng = Rng(7);
        for shape in [Shape::Warning(0), Shape::Bug(1), Shape::NullDeref(0)] {
            for comm in [&b"kworker/u97:3"[..], b"iou-wrk-45118"] {
                let b = splat(&mut rng, shape, &ctx(comm));
                let text: Vec<String> = b
                    .lines
                    .iter()
                    .map(|l| String::from_utf8(l.clone()).unwrap())
                    .collect();
                assert!((21..=34).contains(&text.len()), "{text:#?}");
                let head = &text[b.head];
                match shape {
                    Shape::Warning(_) => {
                        assert!(head.starts_with("WARNING: CPU: 3 PID: 1234 at fs/btrfs/"));
                        assert_eq!(b.title, "WARNING in btrfs_mark_buffer_dirty");
                    }
                    Shape::Bug(_) => {
                        assert_eq!(head, "kernel BUG at mm/filemap.c:1532!");
                        assert_eq!(b.title, "kernel BUG in extent_write_cache_pages");
                        assert!(
                            text.contains(&"invalid opcode: 0000 [#2] PREEMPT SMP NOPTI".into())
                        );
                    }
                    Shape::NullDeref(_) => {
                        assert!(head.starts_with("BUG: kernel NULL pointer dereference"));
                        assert_eq!(
                            b.title,
                            "BUG: unable to handle kernel NULL pointer dereference in btrfs_root_node"
                        );
                    }
                }
                assert!(text
                    .iter()
                    .any(|l| l.ends_with("Tainted: G        W          6.8.0-rc7 #1")));
                assert_eq!(
                    text.iter().filter(|l| l.contains("Workqueue:")).count(),
                    usize::from(comm[0] == b'k')
                );
                assert_eq!(text.last().unwrap(), "---[ end trace 0000000000000000 ]---");
                assert!(
                    text.iter().any(|l| l == " <TASK>") && text.iter().any(|l| l == " </TASK>")
                );
            }
        }
    }

    #[test]
    fn noise_is_never_a_finding_shape() {
        let mut rng = Rng(11);
        for i in 0..20_000 {
            let l = noise(&mut rng, i % 8 == 0);
            for bad in [
                "WARNING",
                "BUG",
                "Oops",
                "cut here",
                "eb=",
                "Call Trace",
                "panic",
                "corrupt",
                "abort",
                "LOST",
            ] {
                assert!(!l.contains(bad), "{l}");
            }
        }
    }

    #[test]
    fn the_banner_starts_a_boot() {
        let b = boot_banner(&mut Rng(1), 48, "b66a67f0-8273-4158-b7bf-988bb5683000", 87);
        assert_eq!(b[0].0, 0);
        assert!(b[0].1.starts_with("Linux version 6.8.0-rc7 "));
        assert!(b.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(b
            .iter()
            .any(|(_, l)| l.contains("smpboot: Allowing 48 CPUs")));
    }
}
