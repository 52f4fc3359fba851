//! Kernel message grammars: the btrfs message prefix (kernel-formats.md C.1)
//! and the lines of oops / WARNING / BUG / panic blocks (B.8).
//!
//! Also [`looks_kernel`]: whether a line with no console prefix at all (a
//! mail paste, a syzkaller report) has the shape of a kernel message.

use crate::fields::{dec_u32, symbol_len, trim, trim_start};

/// btrfs message level word (`logtypes[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum BtrfsLevel {
    /// `BTRFS emergency`
    Emergency,
    /// `BTRFS alert`
    Alert,
    /// `BTRFS critical`
    Critical,
    /// `BTRFS error`
    Error,
    /// `BTRFS warning`
    Warning,
    /// `BTRFS notice`
    Notice,
    /// `BTRFS info`
    Info,
    /// `BTRFS debug`
    Debug,
}

/// A parsed btrfs message prefix.
///
/// Forms: `BTRFS critical (device dm-2): msg`, `BTRFS error (device dm-2: state EA): msg`
/// (up to 6.9), `BTRFS error (device dm-2 state EA): msg` (6.10+), `BTRFS info: msg`,
/// and the literal `BTRFS: msg` of `pr_*()` callers (then `level` is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BtrfsMsg<'a> {
    /// The level word, `None` for a bare `BTRFS:`.
    pub level: Option<BtrfsLevel>,
    /// Kernel device name (`dm-2`, `sda1`), when printed.
    pub device: Option<&'a [u8]>,
    /// State letters (`EA`), when printed.
    pub state: Option<&'a [u8]>,
    /// The message after the prefix.
    pub msg: &'a [u8],
}

/// Parse a btrfs message prefix.
pub(crate) fn btrfs_msg(text: &[u8]) -> Option<BtrfsMsg<'_>> {
    let r = trim_start(text).strip_prefix(b"BTRFS")?;
    if let Some(msg) = r.strip_prefix(b": ") {
        return Some(BtrfsMsg {
            level: None,
            device: None,
            state: None,
            msg,
        });
    }
    let r = r.strip_prefix(b" ")?;
    const LV: [(&[u8], BtrfsLevel); 8] = [
        (b"emergency", BtrfsLevel::Emergency),
        (b"alert", BtrfsLevel::Alert),
        (b"critical", BtrfsLevel::Critical),
        (b"error", BtrfsLevel::Error),
        (b"warning", BtrfsLevel::Warning),
        (b"notice", BtrfsLevel::Notice),
        (b"info", BtrfsLevel::Info),
        (b"debug", BtrfsLevel::Debug),
    ];
    let (word, level) = LV.iter().find(|(w, _)| r.starts_with(w))?;
    let r = &r[word.len()..];
    if let Some(msg) = r.strip_prefix(b": ") {
        return Some(BtrfsMsg {
            level: Some(*level),
            device: None,
            state: None,
            msg,
        });
    }
    let (device, state, msg) = device_state(r.strip_prefix(b" ")?)?;
    Some(BtrfsMsg {
        level: Some(*level),
        device: Some(device),
        state,
        msg,
    })
}

/// Device, state letters and the rest of a btrfs message.
pub(crate) type DeviceState<'a> = (&'a [u8], Option<&'a [u8]>, &'a [u8]);

/// `(device dm-2)`, `(device dm-2: state EA)`, `(device dm-2 state EA)` then `: msg`
/// (or ` in func:line: ...` for `BTRFS: error (device ...) in ...`).
pub(crate) fn device_state(r: &[u8]) -> Option<DeviceState<'_>> {
    let r = r.strip_prefix(b"(device ")?;
    let close = memchr::memchr(b')', r)?;
    let inner = &r[..close];
    let (device, state) = match memchr::memmem::find(inner, b" state ") {
        Some(s) => {
            let dev = &inner[..s];
            let dev = dev.strip_suffix(b":").unwrap_or(dev);
            (dev, Some(&inner[s + 7..]))
        }
        None => (inner, None),
    };
    let rest = &r[close + 1..];
    let msg = rest.strip_prefix(b": ").unwrap_or(rest);
    Some((device, state, msg))
}

/// One line of an oops / WARNING / BUG / panic block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OopsLine<'a> {
    /// `------------[ cut here ]------------`
    CutHere,
    /// `WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450 btrfs_create_new_inode+0xa46/0xa70 [btrfs]`
    Warning {
        /// `file:line` when printed.
        location: Option<&'a [u8]>,
        /// The function, from `%pS`.
        func: Option<&'a [u8]>,
    },
    /// `WARNING: possible circular locking dependency detected` (any other WARNING text).
    WarningText(&'a [u8]),
    /// `kernel BUG at fs/btrfs/tree-checker.c:2070!`
    KernelBug {
        /// `file:line`.
        location: &'a [u8],
    },
    /// `BUG: KASAN: slab-use-after-free in xas_start+0x1ef/0x7b0`
    Kasan {
        /// The report kind (`slab-use-after-free`).
        kind: &'a [u8],
        /// The function named after `in`.
        func: Option<&'a [u8]>,
    },
    /// `BUG: kernel NULL pointer dereference, address: ...` and every other `BUG:` line.
    Bug(&'a [u8]),
    /// `Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI`, `general protection fault, ...: 0000 [#1] ...`,
    /// `Internal error: Oops - BUG: 00000000f2000800 [#1] SMP`.
    OopsHeader {
        /// The text before the error code (`invalid opcode`).
        what: &'a [u8],
        /// The die counter `#N`.
        die: u32,
    },
    /// `Kernel panic - not syncing: Fatal exception`
    Panic(&'a [u8]),
    /// `---[ end trace 0000000000000000 ]---` (and the `end Kernel panic` marker).
    EndTrace,
    /// `RIP: 0010:btrfs_check_eb_owner+0xde/0x120 [btrfs]`, `pc : func+0x../0x..`.
    Rip {
        /// The kernel function, `None` for user space (`RIP: 0033:0x7f...`).
        func: Option<&'a [u8]>,
    },
    /// `Call Trace:` / `Call trace:`.
    CallTrace,
    /// A stack frame: ` ? btrfs_check_eb_owner+0xde/0x120 [btrfs ...]`.
    Frame {
        /// The function.
        func: &'a [u8],
        /// `?` frames are unreliable.
        unreliable: bool,
    },
    /// `<TASK>`, `</IRQ>`, ...
    StackMarker,
    /// `INFO: task jbd2/sda-8:3563 blocked for more than 140 seconds.`
    Hung,
    /// `INFO: rcu_sched detected stalls on CPUs/tasks:` and similar.
    RcuStall,
    /// Any other `INFO:` line.
    Info(&'a [u8]),
    /// A lockdep report: `INFO: trying to register non-static key.` and friends.
    Lockdep(&'a [u8]),
    /// `Read of size 8 at addr ...` / `Write of size ...` (KASAN access).
    KasanAccess {
        /// A write access.
        write: bool,
    },
    /// `Modules linked in:`, `CPU: N PID: N Comm:`, `Hardware name:`, registers, `Code:`, ...
    Body,
}

impl OopsLine<'_> {
    /// Whether the line is an event of its own (`tracesift events` prints
    /// it, and the summary counts it): a report's start, its instruction
    /// pointer, a panic. Frames, markers and register dumps are only lines
    /// of a report.
    pub(crate) fn is_event(&self) -> bool {
        matches!(
            self,
            OopsLine::Warning { .. }
                | OopsLine::WarningText(_)
                | OopsLine::KernelBug { .. }
                | OopsLine::Kasan { .. }
                | OopsLine::Bug(_)
                | OopsLine::OopsHeader { .. }
                | OopsLine::Panic(_)
                | OopsLine::Hung
                | OopsLine::RcuStall
                | OopsLine::Lockdep(_)
                | OopsLine::Rip { func: Some(_) }
        )
    }
}

/// Recognise an oops-block line.
pub(crate) fn oops_line(text: &[u8]) -> Option<OopsLine<'_>> {
    let t = trim_start(text);
    keyword_line(t)
        .or_else(|| oops_header(t))
        .or_else(|| frame(text))
}

/// Oops lines that start with a keyword.
fn keyword_line(t: &[u8]) -> Option<OopsLine<'_>> {
    // The soft-lockup detector prints through pr_fmt("watchdog: ").
    let t = t
        .strip_prefix(b"watchdog: ")
        .or_else(|| t.strip_prefix(b"NMI watchdog: "))
        .unwrap_or(t);
    let first = *t.first()?;
    match first {
        b'-' => {
            if t.starts_with(b"------------[ cut here ]------------") {
                return Some(OopsLine::CutHere);
            }
            if t.starts_with(b"---[ end trace") || t.starts_with(b"---[ end Kernel panic") {
                return Some(OopsLine::EndTrace);
            }
            None
        }
        b'W' => {
            if let Some(r) = t.strip_prefix(b"WARNING: ") {
                return Some(warning(r));
            }
            if t.starts_with(b"Write of size ") {
                return Some(OopsLine::KasanAccess { write: true });
            }
            t.starts_with(b"Workqueue: ").then_some(OopsLine::Body)
        }
        b'k' | b'K' => {
            if let Some(r) = t
                .strip_prefix(b"kernel BUG at ")
                .or_else(|| t.strip_prefix(b"Kernel BUG at "))
            {
                let end = r
                    .iter()
                    .position(|&c| c == b'!' || c == b' ')
                    .unwrap_or(r.len());
                return Some(OopsLine::KernelBug {
                    location: &r[..end],
                });
            }
            if let Some(r) = t.strip_prefix(b"Kernel panic - not syncing: ") {
                return Some(OopsLine::Panic(trim(r)));
            }
            if t.starts_with(b"Kernel Offset:") {
                return Some(OopsLine::Body);
            }
            None
        }
        b'B' => {
            let r = t.strip_prefix(b"BUG: ")?;
            if let Some(k) = r.strip_prefix(b"KASAN: ") {
                let (kind, func) = match memchr::memmem::find(k, b" in ") {
                    Some(p) => (&k[..p], Some(symbol_of(&k[p + 4..]))),
                    None => (trim(k), None),
                };
                return Some(OopsLine::Kasan { kind, func });
            }
            Some(OopsLine::Bug(trim(r)))
        }
        b'R' if t.starts_with(b"RIP: ") => Some(OopsLine::Rip {
            func: rip_func(&t[5..]),
        }),
        b'I' if t.starts_with(b"IP: ") => Some(OopsLine::Rip {
            func: rip_func(&t[4..]),
        }),
        b'p' if t.starts_with(b"pc : ") => Some(OopsLine::Rip {
            func: rip_func(&t[5..]),
        }),
        b'C' if t == b"Call Trace:" || t == b"Call trace:" => Some(OopsLine::CallTrace),
        b'<' => {
            let inner = t.strip_prefix(b"<")?.strip_suffix(b">")?;
            let inner = inner.strip_prefix(b"/").unwrap_or(inner);
            (!inner.is_empty()
                && inner.len() <= 8
                && inner.iter().all(|c| c.is_ascii_uppercase() || *c == b'#'))
            .then_some(OopsLine::StackMarker)
        }
        b'I' if t.starts_with(b"INFO: ") => {
            let r = &t[6..];
            if r.starts_with(b"task ") && memchr::memmem::find(r, b" blocked ").is_some() {
                return Some(OopsLine::Hung);
            }
            if memchr::memmem::find(r, b"detected stall").is_some()
                || memchr::memmem::find(r, b"self-detected stall").is_some()
            {
                return Some(OopsLine::RcuStall);
            }
            const LOCKDEP: [&[u8]; 6] = [
                b"trying to register non-static key",
                b"possible recursive locking detected",
                b"inconsistent lock state",
                b"possible irq lock inversion dependency detected",
                b"suspicious RCU usage",
                b"possible circular locking dependency detected",
            ];
            if let Some(l) = LOCKDEP.iter().find(|l| r.starts_with(l)) {
                return Some(OopsLine::Lockdep(l));
            }
            Some(OopsLine::Info(trim(r)))
        }
        b'r' if t.starts_with(b"rcu: INFO: ")
            && memchr::memmem::find(t, b"detected stall").is_some() =>
        {
            Some(OopsLine::RcuStall)
        }
        b'R' if t.starts_with(b"Read of size ") => Some(OopsLine::KasanAccess { write: false }),
        _ => None,
    }
}

/// `WARNING: CPU: %d PID: %d at %s:%d %pS` / `at %pS`, old `WARNING: at %s:%d %pS()`,
/// or any other text.
fn warning(r: &[u8]) -> OopsLine<'_> {
    // 2025+: `WARNING: net/mac80211/tx.c:5024 at __ieee80211_beacon_get+0x125d/0x1630, CPU#1: comm/pid`
    if let Some(p) = memchr::memmem::find(r, b" at ") {
        let loc = &r[..p];
        let f = symbol_of(&r[p + 4..]);
        let plus = r.get(p + 4 + f.len()) == Some(&b'+');
        if plus
            && !f.is_empty()
            && loc.contains(&b':')
            && loc.contains(&b'/')
            && !loc.contains(&b' ')
        {
            return OopsLine::Warning {
                location: Some(loc),
                func: Some(f),
            };
        }
    }
    let at = if r.starts_with(b"CPU: ") || r.starts_with(b"at ") {
        memchr::memmem::find(r, b"at ").map(|p| &r[p + 3..])
    } else {
        None
    };
    match at {
        Some(a) => {
            let a = trim(a);
            let sp = memchr::memchr(b' ', a);
            let (loc, func) = match sp {
                Some(s) if a[..s].contains(&b':') && !a[..s].contains(&b'+') => {
                    (Some(&a[..s]), Some(symbol_of(trim_start(&a[s + 1..]))))
                }
                _ if a.contains(&b'+') => (None, Some(symbol_of(a))),
                _ if a.contains(&b':') => (Some(a), None),
                _ => (None, None),
            };
            let func = func.filter(|f| !f.is_empty());
            OopsLine::Warning {
                location: loc,
                func,
            }
        }
        None => OopsLine::WarningText(trim(r)),
    }
}

/// The symbol at the start of `s` (up to `+`, space or `(`).
pub(crate) fn symbol_of(s: &[u8]) -> &[u8] {
    let s = trim_start(s);
    let n = symbol_len(s);
    &s[..n]
}

/// The function of a `RIP:` line; `None` for user space.
fn rip_func(r: &[u8]) -> Option<&[u8]> {
    let r = trim_start(r);
    // "0010:func+0x..", "0033:0x7f..", "0010:[<ffffffff82d4e304>]  [<ffffffff82d4e304>] __memset+0x24/0x30"
    let r = match r.iter().position(|&c| c == b':') {
        Some(p) if p <= 4 && r[..p].iter().all(u8::is_ascii_hexdigit) => &r[p + 1..],
        _ => r,
    };
    let r = if r.starts_with(b"[<") {
        let last = memchr::memrchr(b']', r)?;
        trim_start(&r[last + 1..])
    } else {
        r
    };
    let f = symbol_of(r);
    if f.is_empty() || f.starts_with(b"0x") || r.get(f.len()) != Some(&b'+') {
        return None;
    }
    Some(f)
}

/// Oops header: `[Oops: ]WHAT: CODE [#N]...`.
fn oops_header(t: &[u8]) -> Option<OopsLine<'_>> {
    let p = memchr::memmem::find(t, b" [#")?;
    let (_, die) = dec_u32(&t[p + 3..]).ok()?;
    let before = &t[..p];
    let colon = memchr::memrchr(b':', before)?;
    let code = trim(&before[colon + 1..]);
    if code.is_empty() || !code.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let what = &before[..colon];
    let what = what.strip_prefix(b"Oops: ").unwrap_or(what);
    Some(OopsLine::OopsHeader { what, die })
}

/// A call-trace frame: ` func+0x1a/0x40 [mod]`, ` ? func+0x..`, symbolized
/// ` func+0x../0x.. fs/btrfs/x.c:12`, ` __dump_stack lib/dump_stack.c:88 [inline]`,
/// and ARM's `[<8011344c>] (unwind_backtrace) from [<8010ef84>] (show_stack+0x18/0x1c)`.
pub(crate) fn frame(text: &[u8]) -> Option<OopsLine<'_>> {
    if !matches!(text.first(), Some(b' ' | b'\t' | b'[')) {
        return None;
    }
    let t = trim_start(text);
    if let Some(r) = t.strip_prefix(b"[<") {
        // ARM: `[<addr>] (func) from ...`; old x86: `[<addr>] func+0x../0x..`, `[<addr>] ? func+0x..`.
        let close = memchr::memmem::find(r, b">] ")?;
        let rest = &r[close + 3..];
        if let Some(arm) = rest.strip_prefix(b"(") {
            let f = symbol_of(arm);
            return (!f.is_empty()).then_some(OopsLine::Frame {
                func: f,
                unreliable: false,
            });
        }
        let (rest, unreliable) = match rest.strip_prefix(b"? ") {
            Some(x) => (x, true),
            None => (rest, false),
        };
        let f = symbol_of(rest);
        return (!f.is_empty() && rest.get(f.len()) == Some(&b'+')).then_some(OopsLine::Frame {
            func: f,
            unreliable,
        });
    }
    let (t, unreliable) = match t.strip_prefix(b"? ") {
        Some(r) => (r, true),
        None => (t, false),
    };
    let f = symbol_of(t);
    if f.is_empty() {
        return None;
    }
    let r = &t[f.len()..];
    let ok = if let Some(off) = r.strip_prefix(b"+0x") {
        off.iter()
            .position(|&c| c == b'/')
            .is_some_and(|s| off[..s].iter().all(u8::is_ascii_hexdigit))
    } else if let Some(path) = r.strip_prefix(b" ") {
        // symbolized inline frame: "func file.c:NN [inline]"
        let tok = path.split(|&c| c == b' ').next().unwrap_or(b"");
        tok.contains(&b'/') && tok.contains(&b':') && (tok.contains(&b'.'))
    } else {
        false
    };
    ok.then_some(OopsLine::Frame {
        func: f,
        unreliable,
    })
}

/// Whether an unprefixed line has the shape of a kernel message.
pub(crate) fn looks_kernel(text: &[u8]) -> bool {
    let t = trim_start(text);
    if t.is_empty() {
        return false;
    }
    if oops_line(text).is_some() || btrfs_msg(t).is_some() {
        return true;
    }
    const STARTS: &[&[u8]] = &[
        b"XFS (",
        b"EXT4-fs",
        b"F2FS-fs",
        b"Modules linked in:",
        b"CPU: ",
        b"Hardware name:",
        b"Code: ",
        b"Code:",
        b"NMI backtrace for cpu",
        b"Sending NMI from CPU",
        b"Rebooting in ",
        b"page:",
        b"page: ",
        b"memcg:",
        b"aops:",
        b"flags: 0x",
        b"page_type:",
        b"raw: ",
        b"head: ",
        b"page dumped because:",
        b"#PF: ",
        b"PGD ",
        b"Allocated by task ",
        b"Freed by task ",
        b"Last potentially related work creation:",
        b"Second to last potentially related work creation:",
        b"The buggy address ",
        b"Memory state around the buggy address:",
        b"irq event stamp:",
        b"hardirqs last ",
        b"softirqs last ",
        b"Tainted: ",
        b"Not tainted",
        b"task:",
        b"UBSAN: ",
        b"Dumping ftrace",
        b"Kernel Offset:",
        b"Showing busy workqueues",
        b"FAULT_INJECTION: ",
        b"name failslab",
        b"possible reason:",
        b"other info that might help",
        b"stack backtrace:",
        b"lock(",
        b"Unable to handle kernel",
        b"Mem abort info:",
        b"Data abort info:",
        b"ESR = ",
        b"user pgtable:",
        b"Internal error:",
        b"Process ",
        b"Stack: ",
        b"Backtrace:",
        b"NMI watchdog:",
        b"watchdog: BUG:",
        b"rcu: ",
        b"sysrq: ",
        b"loop",
        b"blk_update_request:",
        b"I/O error",
        b"SELinux: ",
        b"audit: ",
        b"systemd[1]: ",
        b"run fstests ",
    ];
    if STARTS.iter().any(|s| t.starts_with(s)) {
        return true;
    }
    // KASAN report rules and shadow-memory rows.
    if t.len() >= 20 && t.iter().all(|&c| c == b'=') {
        return true;
    }
    if shadow_row(t) {
        return true;
    }
    register_line(t)
}

/// KASAN shadow memory row: ` ffff88810c70a200: fb fb fb ...` (`>` marks the faulting row).
fn shadow_row(t: &[u8]) -> bool {
    let t = t.strip_prefix(b">").unwrap_or(t);
    t.len() > 20 && t[16] == b':' && t[..16].iter().all(u8::is_ascii_hexdigit) && t[17] == b' '
}

/// Register dump lines: `RAX: 0000000000000000 RBX: ...`, `FS:  00007f86d59d9740(0000) ...`,
/// `CR2: 000055c7d0a7a938 ...`, arm64 `x29: ffff8000833c3a90 x28: ...`.
fn register_line(t: &[u8]) -> bool {
    let colon = match t.iter().take(6).position(|&c| c == b':') {
        Some(c) if c >= 2 => c,
        _ => return false,
    };
    let name = &t[..colon];
    let name_ok = name
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        || (name[0] == b'x' && name[1..].iter().all(u8::is_ascii_digit))
        || name == b"lr "
        || name == b"sp "
        || name == b"pc ";
    let v = trim_start(&t[colon + 1..]);
    name_ok && v.len() >= 4 && v[..4].iter().all(u8::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btrfs_prefixes() {
        let m = btrfs_msg(b"BTRFS critical (device dm-0): corrupted leaf, root=258").unwrap();
        assert_eq!(
            (m.level, m.device, m.state),
            (Some(BtrfsLevel::Critical), Some(&b"dm-0"[..]), None)
        );
        assert_eq!(m.msg, b"corrupted leaf, root=258");
        let m = btrfs_msg(b"BTRFS error (device dm-2: state EA): x").unwrap();
        assert_eq!((m.device, m.state), (Some(&b"dm-2"[..]), Some(&b"EA"[..])));
        let m = btrfs_msg(b"BTRFS error (device dm-2 state EA): x").unwrap();
        assert_eq!(
            (m.device, m.state, m.msg),
            (Some(&b"dm-2"[..]), Some(&b"EA"[..]), &b"x"[..])
        );
        let m = btrfs_msg(b"BTRFS info: x").unwrap();
        assert_eq!((m.level, m.device), (Some(BtrfsLevel::Info), None));
        let m = btrfs_msg(b"BTRFS: Transaction aborted (error -17)").unwrap();
        assert_eq!(
            (m.level, m.msg),
            (None, &b"Transaction aborted (error -17)"[..])
        );
        assert!(btrfs_msg(b"BTRFSx").is_none());
    }

    #[test]
    fn oops_lines() {
        assert_eq!(
            oops_line(b"------------[ cut here ]------------"),
            Some(OopsLine::CutHere)
        );
        assert_eq!(
            oops_line(b"WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450 btrfs_create_new_inode+0xa46/0xa70 [btrfs]"),
            Some(OopsLine::Warning {
                location: Some(b"fs/btrfs/inode.c:6450"),
                func: Some(b"btrfs_create_new_inode")
            })
        );
        assert_eq!(
            oops_line(b"WARNING: CPU: 0 PID: 1 at kvm_arch_vcpu_ioctl_run+0x1/0x2"),
            Some(OopsLine::Warning {
                location: None,
                func: Some(b"kvm_arch_vcpu_ioctl_run")
            })
        );
        assert_eq!(
            oops_line(b"WARNING: foo"),
            Some(OopsLine::WarningText(b"foo"))
        );
        assert_eq!(
            oops_line(b"kernel BUG at fs/btrfs/tree-checker.c:2070!"),
            Some(OopsLine::KernelBug {
                location: b"fs/btrfs/tree-checker.c:2070"
            })
        );
        assert_eq!(
            oops_line(b"invalid opcode: 0000 [#2] PREEMPT SMP NOPTI"),
            Some(OopsLine::OopsHeader {
                what: b"invalid opcode",
                die: 2
            })
        );
        assert_eq!(
            oops_line(b"Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI"),
            Some(OopsLine::OopsHeader {
                what: b"invalid opcode",
                die: 1
            })
        );
        assert_eq!(
            oops_line(b"Internal error: Oops - BUG: 00000000f2000800 [#1] SMP"),
            Some(OopsLine::OopsHeader {
                what: b"Internal error: Oops - BUG",
                die: 1
            })
        );
        assert_eq!(
            oops_line(b"RIP: 0010:btrfs_check_eb_owner+0xde/0x120 [btrfs]"),
            Some(OopsLine::Rip {
                func: Some(b"btrfs_check_eb_owner")
            })
        );
        assert_eq!(
            oops_line(b"RIP: 0033:0x7f86d5ad6dc0"),
            Some(OopsLine::Rip { func: None })
        );
        assert_eq!(
            oops_line(b"RIP: 0010:[<ffffffff82d4e304>]  [<ffffffff82d4e304>] __memset+0x24/0x30"),
            Some(OopsLine::Rip {
                func: Some(b"__memset")
            })
        );
        assert_eq!(
            oops_line(b" ? btrfs_check_eb_owner+0xde/0x120 [btrfs 290fe500927c39e916d6cdb139ee0675587b5b87]"),
            Some(OopsLine::Frame {
                func: b"btrfs_check_eb_owner",
                unreliable: true
            })
        );
        assert_eq!(
            oops_line(b" __dump_stack lib/dump_stack.c:88 [inline]"),
            Some(OopsLine::Frame {
                func: b"__dump_stack",
                unreliable: false
            })
        );
        assert_eq!(
            oops_line(b"[<8011344c>] (unwind_backtrace) from [<8010ef84>] (show_stack+0x18/0x1c)"),
            Some(OopsLine::Frame {
                func: b"unwind_backtrace",
                unreliable: false
            })
        );
        assert_eq!(oops_line(b" <TASK>"), Some(OopsLine::StackMarker));
        assert_eq!(oops_line(b" </IRQ>"), Some(OopsLine::StackMarker));
        assert_eq!(
            oops_line(b"BUG: KASAN: slab-use-after-free in xas_start+0x1ef/0x7b0"),
            Some(OopsLine::Kasan {
                kind: b"slab-use-after-free",
                func: Some(b"xas_start")
            })
        );
        assert_eq!(
            oops_line(b"Kernel panic - not syncing: Fatal exception"),
            Some(OopsLine::Panic(b"Fatal exception"))
        );
        assert_eq!(
            oops_line(b"---[ end trace 0000000000000000 ]---"),
            Some(OopsLine::EndTrace)
        );
        assert_eq!(
            oops_line(b"INFO: task jbd2/sda-8:3563 blocked for more than 140 seconds."),
            Some(OopsLine::Hung)
        );
        // Not splats.
        assert_eq!(
            oops_line(b"Speculative Return Stack Overflow: WARNING: See https://kernel.org/x"),
            None
        );
        assert_eq!(
            oops_line(b"I'll start by showing do_nanosleep(), since"),
            None
        );
        assert_eq!(
            oops_line(b"BIOS-e820: [mem 0x0000000000000400-0x000000000009ffff] usable"),
            None
        );
    }

    #[test]
    fn unprefixed_kernel_shapes() {
        for s in [
            "  BTRFS critical (device dm-0): corrupted node, root=256",
            "RAX: 0000000000000000 RBX: ffffbb8edf8afbb8 RCX: 0000000000000000",
            "FS:  00007f86d59d9740(0000) GS:ffff8fe8beeae780(0000)",
            "CR2: 000055c7d0a7a938 CR3: 000000023e8a8000 CR4: 0000000000350ef0",
            "page:00000000789c68b4 refcount:4 mapcount:0",
            "Modules linked in: dm_crypt",
            "XFS (pmem1): log mount failed",
        ] {
            assert!(looks_kernel(s.as_bytes()), "{s}");
        }
        for s in [
            "I added eb->start to the message",
            "$ grep 'eb=15302115328' typescript-5",
            "Thanks,",
            "Qu",
        ] {
            assert!(!looks_kernel(s.as_bytes()), "{s}");
        }
    }
}
