//! Stack frames in a report, and which of them is guilty.
//!
//! A report names the function to blame through its faulting instruction
//! pointer (`RIP:`), the function on its first line, or its call trace. Most
//! frames at the top of a trace are the kernel's own reporting machinery
//! (`dump_stack_lvl`, `kasan_report`, `__warn`), generic helpers the buggy
//! code called (`memcpy`, `_raw_spin_lock`, `xas_load`, `kfree`) or
//! plumbing that only passes the bug along (`device_del`, `kobject_put`):
//! the guilty frame is the first one that is none of these.
//! [`infrastructure`] says which functions are, by family.
//!
//! All of this runs once per splat, when its title is made, never per line.

use crate::fields::{is_symbol_char, trim_start};

/// One stack frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// The function as printed, compiler suffixes included
    /// (`scrub_submit.part.0`).
    pub func: &'a [u8],
    /// `? func+0x..`, `(unreliable)`: a stale value found on the stack.
    pub unreliable: bool,
    /// ARM: the caller the line's return address is in
    /// (`(callee) from [<addr>] (caller+0x../0x..)`).
    pub caller: Option<&'a [u8]>,
}

/// The function name without compiler suffixes (`.isra.0`, `.cold`,
/// `.part.12`, `.constprop.0`), as titles print it.
pub(crate) fn base_name(func: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'.', func).unwrap_or(func.len());
    if end == 0 {
        func
    } else {
        &func[..end]
    }
}

/// `func+0x1a/0x40`: whether `r` (what follows a symbol) is an offset/size pair.
fn offset_size(r: &[u8]) -> bool {
    let Some(off) = r.strip_prefix(b"+0x") else {
        return false;
    };
    let hex = off.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    hex > 0 && off[hex..].starts_with(b"/0x")
}

/// `func fs/btrfs/inode.c:123 [inline]`: a frame the symbolizer added for an
/// inlined call.
fn inline_location(r: &[u8]) -> bool {
    let Some(path) = r.strip_prefix(b" ") else {
        return false;
    };
    let tok = path.split(|&c| c == b' ').next().unwrap_or(b"");
    tok.contains(&b'/') || tok.contains(&b'.') && tok.contains(&b':')
}

/// A symbol followed by `+0x../0x..` or by a symbolized inline location.
fn symbol_frame(t: &[u8]) -> Option<&[u8]> {
    let n = t.iter().take_while(|&&c| is_symbol_char(c)).count();
    if n == 0 {
        return None;
    }
    let r = &t[n..];
    (offset_size(r) || inline_location(r) && memchr::memmem::find(r, b"[inline]").is_some())
        .then_some(&t[..n])
}

/// Skip `[<ffffffff81234567>] ` / `[c000000000012345] ` address brackets.
fn skip_addresses(mut t: &[u8]) -> &[u8] {
    while let Some(r) = t.strip_prefix(b"[") {
        let Some(close) = memchr::memchr(b']', r) else {
            return t;
        };
        let inner = &r[..close];
        let inner = inner.strip_prefix(b"<").unwrap_or(inner);
        let inner = inner.strip_suffix(b">").unwrap_or(inner);
        let inner = inner.strip_prefix(b"0x").unwrap_or(inner);
        if inner.is_empty() || !inner.iter().all(|c| c.is_ascii_hexdigit() || *c == b' ') {
            return t;
        }
        t = trim_start(&r[close + 1..]);
    }
    t
}

/// A call-trace line.
///
/// Forms: ` btrfs_check_eb_owner+0xde/0x120 [btrfs]`, ` ? __warn+0x81/0x130`,
/// ` __dump_stack lib/dump_stack.c:88 [inline]`,
/// `[<ffffffff848a2f5f>] sock_kmalloc+0x7f/0xc0 net/core/sock.c:1774`,
/// ARM `[<8011344c>] (unwind_backtrace) from [<8010ef84>] (show_stack+0x18/0x1c)`,
/// powerpc `[c00000007a3ef9f0] [c00000000022d784] rebuild_sched_domains+0x24/0x40 (unreliable)`.
pub(crate) fn frame(line: &[u8]) -> Option<Frame<'_>> {
    let t = trim_start(line);
    let t = skip_addresses(t);
    if let Some(arm) = t.strip_prefix(b"(") {
        // ARM: `(callee) from [<addr>] (caller+0x../0x..)`: the callee, and
        // the caller its return address is in (the unwinder can skip a
        // tail-called function in between: both are frames).
        let n = arm.iter().take_while(|&&c| is_symbol_char(c)).count();
        if !(arm[n..].starts_with(b") from ") || offset_size(&arm[n..])) {
            // `(ftrace buffer empty)`, lockdep's `(&bdev->bd_mutex){+.+.}, at: ...`
            return None;
        }
        let caller = memchr::memmem::find(arm, b") from ").and_then(|p| {
            let r = skip_addresses(trim_start(&arm[p + 7..]));
            let r = r.strip_prefix(b"(")?;
            let k = r.iter().take_while(|&&c| is_symbol_char(c)).count();
            Some(&r[..k])
        });
        return (n > 0).then_some(Frame {
            func: &arm[..n],
            unreliable: false,
            caller: caller.filter(|c| !c.is_empty()),
        });
    }
    let (t, mut unreliable) = match t.strip_prefix(b"? ") {
        Some(r) => (trim_start(r), true),
        None => (t, false),
    };
    let func = symbol_frame(t)?;
    if line.ends_with(b" (unreliable)") {
        unreliable = true;
    }
    Some(Frame {
        func,
        unreliable,
        caller: None,
    })
}

/// The function of an instruction-pointer line, and whether the line is one.
///
/// Forms: `RIP: 0010:btrfs_check_eb_owner+0xde/0x120 [btrfs]`,
/// `RIP: 0010:[<ffffffff82d4e304>]  [<ffffffff82d4e304>] __memset+0x24/0x30`,
/// `IP: [<ffffffff810a376f>] __call_rcu.constprop.76+0x1f/0x280`,
/// `pc : rb_erase+0x26d0/0x3710`, `PC is at blk_rq_map_sg+0x1fc/0x4b0`,
/// `NIP [c00000000022d6b0] partition_sched_domains_locked+0x100/0x590`,
/// `epc : __virt_to_phys+0x44/0x5c`. User space (`RIP: 0033:0x7f5d2bc8d7f7`)
/// and unknown symbols give `Some(None)`.
pub(crate) fn ip_line(line: &[u8]) -> Option<Option<&[u8]>> {
    let t = trim_start(line);
    let r = [
        &b"RIP: "[..],
        b"IP: ",
        b"pc : ",
        b"PC is at ",
        b"NIP ",
        b"epc : ",
        b"EIP: ",
    ]
    .iter()
    .find_map(|p| t.strip_prefix(*p))?;
    let r = trim_start(r);
    // A segment selector: `0010:`.
    let r = match memchr::memchr(b':', r) {
        Some(p) if p <= 4 && r[..p].iter().all(u8::is_ascii_hexdigit) => &r[p + 1..],
        _ => r,
    };
    let r = skip_addresses(trim_start(r));
    Some(symbol_frame(r).filter(|f| !f.starts_with(b"0x")))
}

/// Lines that open another stack in a report: a new trace, or one of the
/// allocation / free / origin stacks of a sanitizer report.
pub(crate) fn stack_header(line: &[u8]) -> bool {
    let t = trim_start(line);
    const HEADS: [&[u8]; 9] = [
        b"Call Trace",
        b"Call trace",
        b"Allocated by task",
        b"Freed by task",
        b"Allocated:",
        b"Freed:",
        b"Uninit was created at",
        b"Uninit was stored to memory at",
        b"Last potentially related work creation",
    ];
    HEADS.iter().any(|h| t.starts_with(h))
        || t.starts_with(b"backtrace") && !t.starts_with(b"backtrace:") && t.ends_with(b":")
        || t.starts_with(b"backtrace:")
        || t.starts_with(b"Backtrace:")
        || t.starts_with(b"page last ")
        || t.ends_with(b"Call Trace:")
        || t.starts_with(b"Local variable ") && memchr::memmem::find(t, b" created at").is_some()
}

/// A pattern for function names.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pat {
    /// The whole name (suffixes removed).
    Is(&'static str),
    /// The name starts with it.
    Starts(&'static str),
    /// The name contains it.
    Has(&'static str),
}

impl Pat {
    pub(crate) fn matches(self, name: &[u8]) -> bool {
        match self {
            Pat::Is(s) => base_name(name) == s.as_bytes(),
            Pat::Starts(s) => name.starts_with(s.as_bytes()),
            Pat::Has(s) => crate::fields::contains(name, s.as_bytes()),
        }
    }
}

/// Whether any pattern matches.
pub(crate) fn any(pats: &[Pat], name: &[u8]) -> bool {
    pats.iter().any(|p| p.matches(name))
}

use Pat::{Has, Is, Starts};

/// Sanitizers and the report machinery: `kasan_report`,
/// `__asan_report_load8_noabort`, `kmsan_internal_check_memory`,
/// `print_address_description`, `check_memory_region`.
const SANITIZER: &[Pat] = &[
    Has("kasan"),
    Has("__asan"),
    Has("kmsan"),
    Has("__msan"),
    Has("__sanitizer"),
    Has("__tsan"),
    Has("kcsan"),
    Starts("kfence_"),
    Has("check_memory_region"),
    Has("read_word_at_a_time"),
    Has("print_address_description"),
    Is("print_report"),
    Is("report_bug"),
];

/// Printing a splat, trapping and dying: `dump_stack_lvl`, `show_stack`,
/// `__warn`, `warn_slowpath_fmt`, `do_error_trap`, `exc_invalid_op`,
/// `fortify_panic`, `skb_panic`.
const REPORTING: &[Pat] = &[
    Has("dump_stack"),
    Has("show_stack"),
    Has("dump_backtrace"),
    Starts("print_"),
    Is("get_taint"),
    Starts("check_panic_on_warn"),
    Has("panic"),
    Has("invalid_op"),
    Has("report_bug"),
    Has("fixup_bug"),
    Has("handle_bug"),
    Has("do_error"),
    Starts("do_trap"),
    Starts("do_error_trap"),
    Starts("do_int3"),
    Has("warn_slowpath"),
    Has("warn_alloc"),
    Is("__warn"),
    Starts("__warn_"),
    Is("warn_bogus_irq_restore"),
    Has("__fortify_report"),
    Has("__fortify_panic"),
    Is("fortify_report"),
    Is("die"),
    Is("__die"),
    Starts("__die_"),
    Is("oops_begin"),
    Is("oops_end"),
    Starts("nmi_"),
    Starts("perf_trace"),
    Has("lockdep"),
    Has("debug_object"),
    Is("timer_is_static_object"),
    Is("work_is_static_object"),
    Is("__schedule_bug"),
    Is("__might_resched"),
    Starts("__bug"),
    Is("bug_handler"),
    Is("call_break_hook"),
    Is("brk_handler"),
    Starts("el1_"),
    Starts("el1h_"),
    Is("do_debug_exception"),
    Is("do_mem_abort"),
    Is("die_kernel_fault"),
    Is("__do_kernel_fault"),
    Is("do_kernel_fault"),
    Is("do_tag_check_fault"),
    Starts("do_translation_fault"),
    Is("do_page_fault"),
    Is("do_bad_area"),
    Is("do_DataAbort"),
    Is("do_PrefetchAbort"),
    Starts("asm_exc_"),
    Starts("exc_"),
    Is("ubsan_epilogue"),
    Starts("__ubsan_handle"),
    Starts("ubsan_"),
    Is("rust_helper_BUG"),
    Is("__stack_chk_fail"),
];

/// Locking primitives: `lock_acquire`, `_raw_spin_lock_irqsave`,
/// `__mutex_lock`, `down_write`, `rwsem_down_read_slowpath`.
const LOCKING: &[Pat] = &[
    Is("lock_acquire"),
    Is("lock_release"),
    Has("lock_class"),
    Is("reacquire_held_locks"),
    Starts("__lock_"),
    Has("spin_lock"),
    Has("spin_trylock"),
    Has("spin_unlock"),
    Has("raw_read_lock"),
    Has("raw_read_trylock"),
    Has("raw_read_unlock"),
    Has("raw_write_lock"),
    Has("raw_write_trylock"),
    Has("raw_write_unlock"),
    Has("queued_spin"),
    Has("queued_read"),
    Has("queued_write"),
    Starts("down"),
    Starts("__down"),
    Has("rwsem_down"),
    Is("up_read"),
    Is("up_write"),
    Has("mutex_lock"),
    Has("mutex_trylock"),
    Has("mutex_unlock"),
    Has("mutex_remove_waiter"),
    Is("mark_lock"),
    Is("hlock_class"),
    Is("osq_lock"),
    Is("osq_unlock"),
    Starts("__wake_up"),
    Has("atomic_dec_and_lock"),
    Is("local_bh_enable"),
    Starts("__local_bh_enable"),
];

/// Memory, string and user-copy helpers: `memcpy`, `strscpy`,
/// `_copy_to_user`, `__might_fault`.
const HELPERS: &[Pat] = &[
    Has("memcpy"),
    Has("memcmp"),
    Has("memset"),
    Has("memchr"),
    Has("memmove"),
    Has("strcmp"),
    Has("strncmp"),
    Has("strcpy"),
    Has("strlcpy"),
    Has("strncpy"),
    Has("strscpy"),
    Has("strlen"),
    Has("strnstr"),
    Is("strstr"),
    Has("strnlen"),
    Has("strchr"),
    Has("strrchr"),
    Has("strcat"),
    Has("copy_to_user"),
    Has("copy_from_user"),
    Has("copy_to_iter"),
    Has("copy_page_to_iter"),
    Has("copy_page_from_iter"),
    Has("copy_from_iter"),
    Has("put_user"),
    Has("get_user"),
    Has("might_fault"),
    Has("might_sleep"),
    Has("list_add"),
    Has("list_del"),
    Has("list_replace"),
    Has("list_move"),
    Has("list_splice"),
    Has("_indirect_thunk_"),
    Has("string"),
    Has("pointer"),
    Has("snprintf"),
    Has("scnprintf"),
    Has("kasprintf"),
    Has("kvasprintf"),
    Has("printk"),
    Has("va_format"),
    Starts("dev_info"),
    Starts("dev_notice"),
    Starts("dev_warn"),
    Starts("dev_err"),
    Starts("dev_alert"),
    Starts("dev_crit"),
    Starts("dev_emerg"),
    Starts("_dev_"),
    Starts("refcount_"),
    Starts("__refcount_"),
    Starts("xas_"),
    Starts("crc32"),
    Starts("crc16"),
    Starts("aes"),
    Starts("xts_"),
    Starts("ecb_"),
    Starts("cbc_"),
    Starts("memdup"),
    Starts("bitmap_"),
    Starts("__bitmap_"),
    Is("find_next_bit"),
    Starts("_find_next"),
    Is("test_and_clear_bit"),
    Is("test_and_set_bit"),
    Is("atomic_read"),
    Starts("rb_"),
    Starts("__rb_"),
    Is("sort"),
    Is("sort_r"),
];

/// Workqueue, timer and device plumbing that only carries the bug along:
/// `flush_work`, `del_timer_sync`, `kobject_put`, `device_del`, `usb_submit_urb`.
const PLUMBING: &[Pat] = &[
    Starts("program_check_"),
    Has("del_timer"),
    Has("flush_work"),
    Has("__cancel_work_timer"),
    Has("cancel_work_sync"),
    Has("try_to_grab_pending"),
    Has("flush_workqueue"),
    Has("drain_workqueue"),
    Has("destroy_workqueue"),
    Has("finish_wait"),
    Has("kthread_stop"),
    Has("kobject_del"),
    Has("kobject_put"),
    Has("kobject_uevent_env"),
    Has("add_uevent_var"),
    Has("get_device_parent"),
    Has("device_add"),
    Has("device_del"),
    Has("device_unregister"),
    Has("device_destroy"),
    Has("device_release"),
    Has("devres_release_all"),
    Has("hwrng_unregister"),
    Has("i2c_del_adapter"),
    Has("__unregister_client"),
    Has("device_for_each_child"),
    Has("rollback_registered"),
    Starts("unregister_netdev"),
    Has("sysfs_remove"),
    Has("device_remove_file"),
    Has("tty_unregister_device"),
    Has("dummy_urb_enqueue"),
    Has("usb_kill_urb"),
    Has("usb_kill_anchored_urbs"),
    Has("usb_control_msg"),
    Has("usb_hcd_submit_urb"),
    Has("usb_submit_urb"),
    Is("complete"),
    Has("wait_for_completion"),
    Is("kfree"),
    Starts("kfree_skb"),
    Is("sk_skb_reason_drop"),
    Starts("queue_work"),
    Starts("__queue_work"),
    Starts("queue_delayed_work"),
    Starts("__queue_delayed_work"),
    Starts("mod_delayed_work"),
    Is("insert_work"),
    Is("lock_timer_base"),
    Starts("__mod_timer"),
    Starts("mod_timer"),
    Starts("add_timer"),
    Starts("timer_delete"),
    Is("iput"),
    Starts("fast_dput"),
    Is("dput"),
    Starts("ida_"),
    Starts("ref_tracker"),
    Starts("klist_"),
    Is("put_device"),
    Starts("skb_pull"),
    Starts("sk_stop_timer"),
    Starts("sk_reset_timer"),
    Has("check_object_size"),
    Has("compound_head"),
    Starts("crypto_"),
    Has("check_heap_object"),
    Starts("__timer_delete"),
    Starts("timer_delete"),
];

/// Allocators and the page cache: `kmem_cache_alloc_node`, `__kmalloc_node`,
/// `__alloc_pages`, `kvfree`, `folio_unlock`, `do_read_cache_folio`.
const MEMORY: &[Pat] = &[
    Starts("kmem_cache_alloc"),
    Starts("__kmem_cache_alloc"),
    Starts("kmem_cache_free"),
    Starts("__kmem_cache_free"),
    Has("kmalloc"),
    Has("kcalloc"),
    Has("kzalloc"),
    Has("krealloc"),
    Starts("kvmalloc"),
    Starts("__kvmalloc"),
    Is("kvfree"),
    Has("alloc_pages"),
    Starts("alloc_page"),
    Has("alloc_frozen_pages"),
    Starts("__free_pages"),
    Starts("free_unref_page"),
    Has("slab_alloc"),
    Has("slab_free"),
    Starts("folio_"),
    Starts("__folio_"),
    Is("unlock_page"),
    Is("lock_page"),
    Starts("do_read_cache"),
    Starts("find_lock_entries"),
    Starts("truncate_inode_pages"),
    Starts("rhashtable_"),
    Starts("__rhashtable_"),
    Starts("rht_"),
];

/// Stack walking and the entry code around traps and interrupts:
/// `arch_stack_walk`, `stack_trace_save`, `trace_hardirqs_on`, `__raw_readb`.
const MACHINE: &[Pat] = &[
    Starts("unwind_"),
    Starts("stack_trace_"),
    Is("arch_stack_walk"),
    Is("walk_stackframe"),
    Has("save_stack"),
    Has("read_once_word"),
    Has("trace_hardirqs"),
    Has("hwasan"),
    Is("__phys_addr"),
    Starts("__raw_read"),
    Starts("__raw_write"),
    Starts("logic_in"),
    Starts("logic_out"),
];

/// Whether a function never names the culprit by itself (see the module doc).
pub(crate) fn infrastructure(func: &[u8]) -> bool {
    [
        SANITIZER, REPORTING, LOCKING, HELPERS, PLUMBING, MEMORY, MACHINE,
    ]
    .iter()
    .any(|pats| any(pats, func))
}

/// Interrupt, syscall, workqueue and timer dispatchers: in a stall or a
/// soft lockup the function they called identifies the loop better than the
/// top of the stack, which lands anywhere in it.
const STALL_ANCHORS: &[Pat] = &[
    Has("process_one_work"),
    Has("do_syscall_"),
    Has("do_fast_syscall_"),
    Has("sysenter_dispatch"),
    Has("tracesys_phase2"),
    Has("netif_receive_skb"),
    Has("do_softirq"),
    Has("call_timer_fn"),
    Has("_run_timers"),
    Has("run_timer_softirq"),
    Has("hrtimer_run_softirq"),
    Has("__hrtimer_run_queues"),
    Has("__run_hrtimer"),
    Has("run_ksoftirqd"),
    Has("smpboot_thread_fn"),
    Starts("kthread"),
    Has("start_secondary"),
    Has("cpu_startup_entry"),
    Has("ret_from_fork"),
    Has("vfs_write"),
    Has("vfs_read"),
    Has("vfs_iter_read"),
    Has("vfs_iter_write"),
    Has("do_iter_read"),
    Has("do_iter_write"),
    Has("vfs_ioctl"),
    Has("ksys_ioctl"),
    Has("compat_ioctl"),
    Has("compat_sys_ioctl"),
    Has("blkdev_driver_ioctl"),
    Has("blkdev_ioctl"),
    Starts("call_read_iter"),
    Starts("call_write_iter"),
    Has("do_iter_readv_writev"),
    Starts("call_mmap"),
    Has("mmap_region"),
    Has("do_mmap"),
    Has("do_dentry_open"),
    Has("vfs_open"),
    Starts("sock_sendmsg"),
    Starts("sock_recvmsg"),
    Starts("sock_release"),
    Starts("__sock_release"),
    Has("__sys_setsockopt"),
    Has("kernel_setsockopt"),
    Has("sock_common_setsockopt"),
    Has("__sys_listen"),
    Has("kernel_listen"),
    Has("sk_common_release"),
    Starts("sock_mmap"),
    Has("__sys_accept"),
    Has("kernel_accept"),
    Starts("sock_do_ioctl"),
    Starts("sock_ioctl"),
    Starts("compat_sock_ioctl"),
    Starts("nfnetlink_rcv_msg"),
    Starts("rtnetlink_rcv_msg"),
    Starts("netlink_dump"),
    Has("__do_fault"),
    Has("do_page_fault"),
    Is("page_fault"),
    Has("__fput"),
    Has("task_work_run"),
    Has("exit_to_usermode"),
    Has("exit_to_user_mode"),
    Has("smp_call_function"),
    Has("ret_fast_syscall"),
    Has("tasklet_action"),
    Has("tasklet_hi_action"),
    Has("invoke_syscall"),
    Starts("el0_svc"),
];

/// System calls whose entry point says too little: for them the stall
/// extractor names the function they dispatched to.
fn discriminated_syscall(f: &[u8]) -> bool {
    let f = strip_syscall_prefix(f);
    let f = f
        .strip_prefix(b"sys_")
        .or_else(|| f.strip_prefix(b"compat_sys_"))
        .or_else(|| f.strip_prefix(b"__sys_"))
        .or_else(|| f.strip_prefix(b"__do_sys_"))
        .or_else(|| f.strip_prefix(b"__se_sys_"))
        .unwrap_or(f);
    matches!(f, b"socketpair" | b"connect" | b"ioctl")
}

/// A syscall entry named as on every machine: `__x64_sys_recvmmsg` →
/// `sys_recvmmsg` (the architecture wrapper goes), `sys_openat2` →
/// `openat2` and `ksys_mount` → `mount` (the bare entry names the call).
pub(crate) fn strip_syscall_prefix(f: &[u8]) -> &[u8] {
    if let Some(r) = f.strip_prefix(b"ksys_").or_else(|| f.strip_prefix(b"sys_")) {
        return r;
    }
    for p in [
        &b"__x64_"[..],
        b"__ia32_",
        b"__arm64_",
        b"__riscv_",
        b"__s390x_",
        b"__s390_",
        b"__powerpc_",
        b"compat_SYSC_",
        b"compat_SyS_",
        b"SYSC_",
        b"SyS_",
    ] {
        if let Some(r) = f.strip_prefix(p) {
            return r;
        }
    }
    f
}

/// Stalls: walking up from the top, the frame just before the first
/// dispatcher ([`STALL_ANCHORS`]), a syscall named without its arch prefix.
pub(crate) fn stall_anchor<'a>(frames: &[&'a [u8]]) -> Option<&'a [u8]> {
    let mut prev = *frames.first()?;
    for &f in frames {
        let anchored = any(STALL_ANCHORS, f) || discriminated_syscall(f);
        if anchored {
            if crate::fields::contains(f, b"smp_call_function") {
                return Some(b"smp_call_function");
            }
            return Some(strip_syscall_prefix(prev));
        }
        prev = f;
    }
    None
}

/// Hung tasks wait in a handful of well-known places; those name the hang
/// better than the waiting primitive: `rtnl_lock`, and every flavour of
/// `synchronize_rcu`. Otherwise the first frame that is not a wait, a lock
/// or the scheduler.
pub(crate) fn hang_frame<'a>(frames: &[&'a [u8]]) -> Option<&'a [u8]> {
    for &f in frames {
        if crate::fields::contains(f, b"rtnl_lock") {
            return Some(b"rtnl_lock");
        }
        for sync in [
            &b"synchronize_rcu"[..],
            b"synchronize_srcu",
            b"synchronize_net",
            b"synchronize_sched",
        ] {
            if crate::fields::contains(f, sync) {
                return Some(b"synchronize_rcu");
            }
        }
    }
    const WAITING: &[Pat] = &[
        Has("sched"),
        Has("_lock"),
        Has("_slowlock"),
        Has("down"),
        Has("rwsem"),
        Has("completion"),
        Has("kthread"),
        Has("wait"),
        Has("synchronize"),
        Has("context_switch"),
        Has("__switch_to"),
        Has("cancel_delayed_work"),
        Has("rcu_barrier"),
        Has("folio_wait"),
        Has("io_schedule"),
    ];
    frames.iter().copied().find(|f| !any(WAITING, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_forms() {
        let f = |s: &str| {
            frame(s.as_bytes())
                .map(|f| (String::from_utf8_lossy(f.func).into_owned(), f.unreliable))
        };
        assert_eq!(
            f(" btrfs_check_eb_owner+0xde/0x120 [btrfs]"),
            Some(("btrfs_check_eb_owner".into(), false))
        );
        assert_eq!(f(" ? __warn+0x81/0x130"), Some(("__warn".into(), true)));
        assert_eq!(
            f(" __dump_stack lib/dump_stack.c:88 [inline]"),
            Some(("__dump_stack".into(), false))
        );
        assert_eq!(
            f("[<ffffffff848a2f5f>] sock_kmalloc+0x7f/0xc0 net/core/sock.c:1774"),
            Some(("sock_kmalloc".into(), false))
        );
        assert_eq!(
            f("[<8011344c>] (unwind_backtrace) from [<8010ef84>] (show_stack+0x18/0x1c)"),
            Some(("unwind_backtrace".into(), false))
        );
        assert_eq!(
            f("[c00000007a3ef9f0] [c00000000022d784] rebuild_sched_domains+0x24/0x40 (unreliable)"),
            Some(("rebuild_sched_domains".into(), true))
        );
        assert_eq!(f("RAX: 0000000000000000 RBX: ffff"), None);
        assert_eq!(f("Modules linked in: btrfs"), None);
        assert_eq!(f(" <TASK>"), None);
        assert_eq!(f("   (ftrace buffer empty)"), None);
        assert_eq!(
            f(" (kacpid){+.+.+.}, at: [<ffffffff8105bbd0>] flush_workqueue+0x0/0xb0"),
            None
        );
    }

    #[test]
    fn ip_forms() {
        let f = |s: &str| {
            ip_line(s.as_bytes()).map(|o| o.map(|f| String::from_utf8_lossy(f).into_owned()))
        };
        assert_eq!(
            f("RIP: 0010:btrfs_check_eb_owner+0xde/0x120 [btrfs]"),
            Some(Some("btrfs_check_eb_owner".into()))
        );
        assert_eq!(
            f("RIP: 0010:[<ffffffff82d4e304>]  [<ffffffff82d4e304>] __memset+0x24/0x30"),
            Some(Some("__memset".into()))
        );
        assert_eq!(
            f("IP: [<ffffffff810a376f>] __call_rcu.constprop.76+0x1f/0x280 kernel/rcu/tree.c:3046"),
            Some(Some("__call_rcu.constprop.76".into()))
        );
        assert_eq!(
            f("pc : rb_erase+0x26d0/0x3710"),
            Some(Some("rb_erase".into()))
        );
        assert_eq!(f("RIP: 0033:0x7f5d2bc8d7f7"), Some(None));
        assert_eq!(f("RSP: 0018:ffffc90000da86d8"), None);
    }

    #[test]
    fn infrastructure_families() {
        for f in [
            "kasan_report",
            "__asan_report_load8_noabort",
            "dump_stack_lvl",
            "_raw_spin_lock_irqsave",
            "memcpy",
            "xas_start",
            "__warn",
            "kfree",
        ] {
            assert!(infrastructure(f.as_bytes()), "{f}");
        }
        for f in ["btrfs_evict_inode", "ip6_fragment", "sctp_sendmsg"] {
            assert!(!infrastructure(f.as_bytes()), "{f}");
        }
    }

    #[test]
    fn stall_and_hang() {
        let frames: Vec<&[u8]> = vec![b"sctp_chunk_free", b"__x64_sys_sendmsg", b"do_syscall_64"];
        assert_eq!(stall_anchor(&frames), Some(&b"sys_sendmsg"[..]));
        let frames: Vec<&[u8]> = vec![
            b"__schedule",
            b"schedule",
            b"rwsem_down_write_slowpath",
            b"iterate_bdevs",
            b"sync_filesystems",
        ];
        assert_eq!(hang_frame(&frames), Some(&b"iterate_bdevs"[..]));
        let frames: Vec<&[u8]> = vec![b"schedule", b"synchronize_rcu.part.0", b"x"];
        assert_eq!(hang_frame(&frames), Some(&b"synchronize_rcu"[..]));
    }
}
