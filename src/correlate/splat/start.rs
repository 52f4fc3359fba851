//! The lines that open a kernel report (or join the one in progress).
//!
//! This is the only part of splat handling that runs on every kernel line,
//! so it dispatches on the first byte and looks inside a line only for the
//! few glued forms that real consoles produce. Each recogniser's doc comment
//! quotes a real line.

use crate::fields::{dec_u32, trim, trim_start};

/// What a line does to the reports around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// A report header; the report's text starts at byte `at` of the message.
    Header {
        /// Offset of the header in the message.
        at: usize,
        /// How it relates to oops headers and to reports in progress.
        family: Family,
    },
    /// An oops header with its die counter: `invalid opcode: 0000 [#1] PREEMPT SMP`.
    /// It belongs to the `kernel BUG` / page fault report before it, if one
    /// waits for it, else it opens a report of its own.
    Die {
        /// Offset of the header in the message.
        at: usize,
        /// The die counter `#N`.
        die: u32,
    },
    /// `Kernel panic - not syncing: ...`.
    Panic {
        /// Offset of the header in the message.
        at: usize,
        /// The panic only follows from a report before it (`Fatal exception`,
        /// `panic_on_warn set`, `hung_task: blocked tasks`).
        consequence: bool,
    },
}

/// How a report header relates to oops headers and to the report in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// The kernel prints an oops header (`... [#N]`) after it: `kernel BUG at`,
    /// `BUG: unable to handle page fault`, `Unable to handle kernel paging request`.
    WantsDie,
    /// Any other report.
    Plain,
    /// Printed in the middle of another report without ending it:
    /// `PANIC: double fault`, `unregister_netdevice: waiting for`.
    Inner,
}

/// Recognise a line that opens or joins a report. `kernel` says whether the
/// line carried a kernel console prefix (free-text `WARNING:` lines count
/// only then: user space prints such lines too).
pub(crate) fn start(msg: &[u8], kernel: bool) -> Option<Start> {
    let lead = msg.len() - trim_start(msg).len();
    if let Some(s) = anchored(&msg[lead..], kernel) {
        return Some(shift(s, lead));
    }
    glued(msg, kernel)
}

fn shift(s: Start, by: usize) -> Start {
    match s {
        Start::Header { at, family } => Start::Header {
            at: at + by,
            family,
        },
        Start::Die { at, die } => Start::Die { at: at + by, die },
        Start::Panic { at, consequence } => Start::Panic {
            at: at + by,
            consequence,
        },
    }
}

/// A header at the start of the message.
const fn opening(family: Family) -> Start {
    Start::Header { at: 0, family }
}

fn header(family: Family) -> Option<Start> {
    Some(opening(family))
}

/// Headers at the start of a message, by first byte.
fn anchored(t: &[u8], kernel: bool) -> Option<Start> {
    match *t.first()? {
        b'B' => bug_line(t).or_else(|| boot_line(t)),
        b'W' => t
            .strip_prefix(b"WARNING:")
            .and_then(|r| warning_line(r, kernel)),
        b'I' => t.strip_prefix(b"INFO:").and_then(info_line),
        b'K' | b'k' => panic_line(t).or_else(|| kernel_bug_line(t)),
        b'U' => ubsan_line(t).or_else(|| arm_fault_line(t)),
        b'P' => t
            .starts_with(b"PANIC: double fault")
            .then_some(opening(Family::Inner)),
        b'u' => t
            .starts_with(b"unregister_netdevice: waiting for ")
            .then_some(opening(Family::Inner)),
        b'S' => (t.starts_with(b"SYZFAIL:") || t.starts_with(b"SYZFATAL:"))
            .then_some(opening(Family::Plain)),
        b't' => t
            .starts_with(b"trusty: panic")
            .then_some(opening(Family::Plain)),
        b'V' => vfs_line(t),
        b'[' => lockdep_banner(t),
        b'r' => t
            .strip_prefix(b"rcu: ")
            .filter(|r| r.starts_with(b"INFO: "))
            .and_then(|r| anchored(r, kernel))
            .map(|s| shift(s, 5)),
        b'w' => t
            .strip_prefix(b"watchdog: ")
            .filter(|r| r.starts_with(b"BUG: "))
            .and_then(|r| anchored(r, kernel))
            .map(|s| shift(s, 10)),
        b'N' => t
            .strip_prefix(b"NMI watchdog: ")
            .filter(|r| r.starts_with(b"BUG: "))
            .and_then(|r| anchored(r, kernel))
            .map(|s| shift(s, 14)),
        b'f' if t.starts_with(b"fatal error: ") && !kernel => header(Family::Plain),
        b'p' if t.starts_with(b"panic: ") && !kernel => header(Family::Plain),
        b'a' if t.starts_with(b"attempt to ") && t.ends_with(b" with overflow") => {
            header(Family::Plain)
        }
        _ => None,
    }
}

/// `BUG: KASAN: slab-use-after-free in xas_start+0x1ef/0x7b0`,
/// `BUG: unable to handle page fault for address: ffffde202758ca0b`,
/// `BUG: memory leak`, `BUG kmalloc-64 (Not tainted): Object already free`.
fn bug_line(t: &[u8]) -> Option<Start> {
    if let Some(r) = t.strip_prefix(b"BUG:") {
        let r = trim_start(r);
        if r.starts_with(b"no syscalls can create resource") {
            return None;
        }
        let wants = r.starts_with(b"unable to handle")
            || r.starts_with(b"Unable to handle")
            || r.starts_with(b"kernel NULL pointer dereference")
            || r.starts_with(b"Kernel NULL pointer dereference")
            || r.starts_with(b"stack guard page")
            || r.starts_with(b"TASK stack guard page");
        return header(if wants {
            Family::WantsDie
        } else {
            Family::Plain
        });
    }
    // SLUB: `BUG kmalloc-64 (Not tainted): Object already free`.
    let r = t.strip_prefix(b"BUG ")?;
    (r.starts_with(b"kmalloc-") && memchr::memmem::find(r, b": Object already free").is_some())
        .then_some(opening(Family::Plain))
}

/// `Booting the kernel.`: the machine rebooted without a panic message.
fn boot_line(t: &[u8]) -> Option<Start> {
    (trim(t) == b"Booting the kernel.").then_some(opening(Family::Plain))
}

/// Free-text warnings the kernel prints on purpose, not bugs:
/// `WARNING: The mand mount option has been deprecated and`,
/// `warning: `syz.1.261' uses wireless extensions which will stop working for Wi-Fi 7 hardware; use nl80211`.
fn benign_warning(r: &[u8]) -> bool {
    const BENIGN: [&[u8]; 6] = [
        b"the mand mount option",
        b"The mand mount option",
        b"fbcon: Driver",
        b"workqueue cpumask: online intersect > possible intersect",
        b"/etc/ssh/moduli does not exist",
        b"Unsupported flag value",
    ];
    BENIGN.iter().any(|b| r.starts_with(b))
        || r.windows(24)
            .any(|w| w.eq_ignore_ascii_case(b"uses wireless extensions"))
}

/// `WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450 btrfs_create_new_inode+0xa46/0xa70 [btrfs]`,
/// `WARNING: net/mac80211/tx.c:5024 at __ieee80211_beacon_get+0x125d/0x1630, CPU#1: syz.9.803/11907`,
/// `WARNING: possible circular locking dependency detected`, `WARNING: foo`.
fn warning_line(r: &[u8], kernel: bool) -> Option<Start> {
    let r = trim_start(r);
    if benign_warning(r) || crate::fields::contains(r, b"USES WIRELESS EXTENSIONS") {
        return None;
    }
    let structured = r.starts_with(b"CPU: ")
        || r.starts_with(b"at ")
        || memchr::memmem::find(r, b" at ").is_some() && r.contains(&b'/');
    const LOCKDEP: [&[u8]; 11] = [
        b"possible ",
        b"suspicious RCU usage",
        b"bad unlock balance",
        b"inconsistent lock state",
        b"lock held ",
        b"held lock freed",
        b"Nested lock was not taken",
        b"kernel stack ",
        b"HARDIRQ-safe",
        b"SOFTIRQ-safe",
        b"refcount_t: ",
    ];
    let lockdep = LOCKDEP.iter().any(|p| r.starts_with(p)) || r.ends_with(b"still has locks held!");
    (structured || lockdep || kernel || r.is_empty()).then_some(opening(Family::Plain))
}

/// `INFO: task jbd2/sda-8:3563 blocked for more than 140 seconds.`,
/// `INFO: rcu_sched self-detected stall on CPU`, `INFO: trying to register non-static key.`;
/// not `INFO: NMI handler (perf_event_nmi_handler) took too long to run: 2.277 msecs`.
fn info_line(r: &[u8]) -> Option<Start> {
    let r = trim_start(r);
    // A line cut short (`INFO: t`) is printed again in full.
    if !r.is_empty() && r.len() < 8 {
        return None;
    }
    const BENIGN: [&[u8]; 6] = [
        b"NMI handler",
        b"Stall ended before state dump start",
        b"lockdep is turned off",
        b"recovery required on readonly filesystem",
        b"no syscalls can create resource",
        b"sys_",
    ];
    if BENIGN.iter().any(|b| r.starts_with(b))
        || memchr::memmem::find(r, b"took too long").is_some()
    {
        return None;
    }
    header(Family::Plain)
}

/// `Kernel panic - not syncing: Fatal exception`,
/// `Kernel panic - not syncing: panic_on_warn set ...`.
fn panic_line(t: &[u8]) -> Option<Start> {
    let r = t.strip_prefix(b"Kernel panic - not syncing")?;
    let r = trim_start(r.strip_prefix(b":").unwrap_or(r));
    const CONSEQUENCES: [&[u8]; 7] = [
        b"Fatal exception",
        b"panic_on_warn set",
        b"hung_task: blocked tasks",
        b"softlockup: hung tasks",
        b"hardlockup:",
        b"RCU Stall",
        b"panic_on_oops",
    ];
    Some(Start::Panic {
        at: 0,
        consequence: CONSEQUENCES.iter().any(|c| r.starts_with(c)),
    })
}

/// `kernel BUG at fs/btrfs/tree-checker.c:2070!`, `Kernel BUG at ffffffc0 [verbose debug info unavailable]`.
fn kernel_bug_line(t: &[u8]) -> Option<Start> {
    (t.starts_with(b"kernel BUG at ") || t.starts_with(b"Kernel BUG at "))
        .then_some(opening(Family::WantsDie))
}

/// `UBSAN: array-index-out-of-bounds in fs/jfs/jfs_dmap.c:2867:6`,
/// `UBSAN: Undefined behaviour in drivers/usb/core/devio.c:1517:25`.
fn ubsan_line(t: &[u8]) -> Option<Start> {
    t.starts_with(b"UBSAN: ").then_some(opening(Family::Plain))
}

/// ARM and arm64 faults: `Unable to handle kernel paging request at virtual address dead000000000108`,
/// `Unable to handle kernel NULL pointer dereference at virtual address 00000004`,
/// `Unhandled fault: page domain fault (0x81b) at 0x00001044`.
fn arm_fault_line(t: &[u8]) -> Option<Start> {
    (t.starts_with(b"Unable to handle kernel ") || t.starts_with(b"Unhandled fault:"))
        .then_some(opening(Family::WantsDie))
}

/// `VFS: Busy inodes after unmount of loop0. Self-destruct in 5 seconds.`,
/// `VFS: Close: file count is 0`.
fn vfs_line(t: &[u8]) -> Option<Start> {
    (t.starts_with(b"VFS: Busy inodes after unmount")
        || t.starts_with(b"VFS: Close: file count is 0"))
    .then_some(opening(Family::Plain))
}

/// Lockdep banners of kernels before 4.15: `[ INFO: possible circular locking dependency detected ]`,
/// `[ BUG: bad unlock balance detected! ]`.
fn lockdep_banner(t: &[u8]) -> Option<Start> {
    let r = t.strip_prefix(b"[ ")?;
    (r.starts_with(b"INFO: ") || r.starts_with(b"BUG: ")).then_some(opening(Family::Plain))
}

/// An oops header: `WHAT: CODE [#N]`.
///
/// `invalid opcode: 0000 [#1] PREEMPT SMP NOPTI`, `Oops: 0000 [#1] SMP NOPTI`,
/// `general protection fault, probably for non-canonical address 0xdffffc0002c3fefa: 0000 [#1] PREEMPT SMP KASAN`,
/// `Internal error: Oops - BUG: 00000000f2000800 [#1] SMP`, `Oops: int3: 0000 [#1] SMP KASAN NOPTI`.
pub(crate) fn die_line(t: &[u8]) -> Option<Start> {
    let p = die_bracket(t)?;
    let (_, die) = dec_u32(&t[p + 3..]).ok()?;
    let before = &t[..p];
    let colon = memchr::memrchr(b':', before)?;
    let code = trim(&before[colon + 1..]);
    if code.is_empty() || code.len() > 16 || !code.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    // KASAN's hint printed without its newline: `... user memory accessgeneral protection fault: 0000 [#1]`.
    let at = match memchr::memmem::find(before, b"general protection fault") {
        Some(g) if g > 0 && before[g - 1].is_ascii_alphabetic() => g,
        _ => 0,
    };
    Some(Start::Die { at, die })
}

/// ` [#`: where a die counter starts. `#` is rare in kernel lines, so this
/// costs one `memchr` on most of them.
fn die_bracket(t: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'#', &t[from..]) {
        let hash = from + p;
        if hash >= 2 && &t[hash - 2..hash] == b" [" {
            return Some(hash - 2);
        }
        from = hash + 1;
    }
    None
}

/// Headers glued after other text on the same line: a Go log time
/// (`2018/01/09 14:28:48 BUG: memory leak`), a login prompt (`syzkaller
/// login: Unable to handle kernel paging request`), the end of an
/// unterminated line (`... 34359738352 bytes[   76.471107] BUG: unable to
/// handle kernel paging request at ffffffffa4493138`); and oops headers,
/// wherever their ` [#N]` is ([`die_line`]). One pass over the line for `[`
/// and `#`, which most kernel lines do not have.
fn glued(msg: &[u8], kernel: bool) -> Option<Start> {
    let t = trim_start(msg);
    let lead = msg.len() - t.len();
    if let Some(rest) = go_log_time(t) {
        let at = t.len() - rest.len();
        return anchored(rest, false).map(|s| shift(s, lead + at));
    }
    // The first colon of the line ends `HOST login`.
    if let Some(c) = memchr::memchr(b':', &t[..t.len().min(64)]) {
        let host = &t[..c];
        if let Some(h) = host.strip_suffix(b" login") {
            let at = c + 2;
            if !h.contains(&b' ') && t.get(c + 1) == Some(&b' ') {
                return anchored(&t[at..], kernel).map(|s| shift(s, lead + at));
            }
        }
    }
    for p in memchr::memchr2_iter(b'[', b'#', t) {
        if t[p] == b'#' {
            if p >= 2 && &t[p - 2..p] == b" [" {
                if let Some(s) = die_line(t) {
                    return Some(shift(s, lead));
                }
            }
            continue;
        }
        // A console time bracket in the middle of the line.
        let Some(len) = time_bracket(&t[p..]).filter(|_| p > 0) else {
            continue;
        };
        let rest = &t[p + len..];
        let rest_t = trim_start(rest);
        let at = p + len + (rest.len() - rest_t.len());
        if let Some(s) = anchored(rest_t, kernel).or_else(|| die_line(rest_t)) {
            return Some(shift(s, lead + at));
        }
    }
    None
}

/// `[  76.471107]` (and a following `[ T123]` caller id): its length with the space after it.
fn time_bracket(t: &[u8]) -> Option<usize> {
    let r = t.strip_prefix(b"[")?;
    let close = memchr::memchr(b']', &r[..r.len().min(24)])?;
    let inner = trim(&r[..close]);
    let dot = memchr::memchr(b'.', inner)?;
    let ok = dot > 0
        && inner[..dot].iter().all(u8::is_ascii_digit)
        && inner.len() > dot + 1
        && inner[dot + 1..].iter().all(u8::is_ascii_digit);
    if !ok {
        return None;
    }
    let mut len = close + 2;
    // A caller id glued to it: `[ T6659]`.
    if let Some(c) = t[len..].strip_prefix(b"[") {
        if let Some(e) = memchr::memchr(b']', &c[..c.len().min(10)]) {
            let id = trim(&c[..e]);
            if id.len() > 1
                && matches!(id[0], b'T' | b'C')
                && id[1..].iter().all(u8::is_ascii_digit)
            {
                len += e + 2;
            }
        }
    }
    Some(len)
}

/// `2018/01/09 14:28:48 ` (Go's log package): the rest of the line.
fn go_log_time(t: &[u8]) -> Option<&[u8]> {
    if t.len() < 20 {
        return None;
    }
    let shape = b"dddd/dd/dd dd:dd:dd ";
    for (i, &s) in shape.iter().enumerate() {
        let c = t[i];
        let ok = match s {
            b'd' => c.is_ascii_digit(),
            _ => c == s,
        };
        if !ok {
            return None;
        }
    }
    Some(&t[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: Start) -> usize {
        match s {
            Start::Header { at, .. } | Start::Die { at, .. } | Start::Panic { at, .. } => at,
        }
    }

    fn s(line: &str, kernel: bool) -> Option<Start> {
        start(line.as_bytes(), kernel)
    }

    #[test]
    fn headers() {
        let h = |f| Some(opening(f));
        assert_eq!(
            s("kernel BUG at fs/btrfs/tree-checker.c:2070!", true),
            h(Family::WantsDie)
        );
        assert_eq!(
            s(
                "BUG: KASAN: slab-use-after-free in xas_start+0x1ef/0x7b0",
                true
            ),
            h(Family::Plain)
        );
        assert_eq!(
            s("WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450 btrfs_create_new_inode+0xa46/0xa70 [btrfs]", false),
            h(Family::Plain)
        );
        assert_eq!(s("WARNING: foo", true), h(Family::Plain));
        assert_eq!(s("WARNING: foo", false), None);
        assert_eq!(
            s(
                "WARNING: The mand mount option has been deprecated and",
                true
            ),
            None
        );
        assert_eq!(
            s(
                "INFO: NMI handler (perf_event_nmi_handler) took too long to run: 2.277 msecs",
                true
            ),
            None
        );
        assert_eq!(
            s(
                "watchdog: BUG: soft lockup - CPU#0 stuck for 134s! [kworker/0:2:1400]",
                true
            ),
            Some(Start::Header {
                at: 10,
                family: Family::Plain
            })
        );
        assert_eq!(
            s(
                "Kernel panic - not syncing: Fatal exception in interrupt",
                true
            ),
            Some(Start::Panic {
                at: 0,
                consequence: true
            })
        );
        assert_eq!(
            s("Kernel panic - not syncing: sysrq triggered crash", true),
            Some(Start::Panic {
                at: 0,
                consequence: false
            })
        );
        assert_eq!(
            s("invalid opcode: 0000 [#2] PREEMPT SMP NOPTI", true),
            Some(Start::Die { at: 0, die: 2 })
        );
        assert_eq!(
            s("general protection fault, probably for non-canonical address 0xdffffc0002c3fefa: 0000 [#1] PREEMPT SMP KASAN", true),
            Some(Start::Die { at: 0, die: 1 })
        );
        assert_eq!(
            s("PANIC: double fault, error_code: 0x0", true),
            h(Family::Inner)
        );
    }

    #[test]
    fn glued_headers() {
        assert_eq!(
            s("2018/01/09 14:28:48 BUG: memory leak", false),
            Some(Start::Header {
                at: 20,
                family: Family::Plain
            })
        );
        let line = "syz-executor7: vmalloc: allocation failure: 34359738352 bytes[   76.471107] BUG: unable to handle kernel paging request at ffffffffa4493138";
        let st = s(line, true).unwrap();
        assert!(line[at(st)..].starts_with("BUG: unable"));
        let line = "kasan: GPF could be caused by NULL-ptr deref or user memory accessgeneral protection fault: 0000 [#1] PREEMPT SMP KASAN";
        let st = s(line, true).unwrap();
        assert!(line[at(st)..].starts_with("general protection fault"));
    }

    #[test]
    fn not_headers() {
        for line in [
            "Speculative Return Stack Overflow: WARNING: See https://kernel.org/doc/html/latest/admin-guide/hw-vuln/srso.html for more details.",
            "XFS (loop4): WARNING: Reset corrupted AGFL on AG 0. 1 blocks leaked. Please unmount and run xfs_repair.",
            "traps: syz-executor229[3615] general protection fault ip:7feb96eb56a1 sp:20000fd0 error:0 in syz-executor2295634012[7feb96e75000+84000]",
            "ODEBUG: free active (active state 0) object type: timer_list hint: delayed_work_timer_fn+0x0/0x90",
            "BUG UNIX (Not tainted): kasan: bad access detected",
            "xlog_status: enable:1, panic:1, dump:2",
            "BIOS-e820: [mem 0x0000000000000400-0x000000000009ffff] usable",
            "I'll start by showing do_nanosleep(), since",
        ] {
            assert_eq!(s(line, true), None, "{line}");
        }
    }
}
