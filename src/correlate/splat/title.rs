//! Report kinds and their titles.
//!
//! A title names what went wrong and where, the way syzkaller (the kernel
//! fuzzer whose titles kernel developers search for) writes them:
//! `KASAN: slab-use-after-free Read in btrfs_evict_inode`,
//! `INFO: task hung in jbd2_journal_commit_transaction`,
//! `possible deadlock in blkdev_reread_part`. `verdict` reads a whole
//! report once, when it ends: its first line says which kind of report it
//! is (each `fn` below quotes one), the kind says where to look for the
//! guilty frame (`frames.rs`), and the title is normalised so that two
//! reports of one bug get one title (numbers, addresses and line numbers
//! become `NUM`, `ADDR` and `LINE`, as syzkaller does).
//!
//! A report that is cut short, interleaved with other output or garbled
//! is `corrupted`; when no frame can be found the title says
//! `in corrupted`.

use super::frames::{self, any, base_name, hang_frame, stall_anchor, Pat};
use crate::fields::{contains, trim, trim_start};

use Pat::{Has, Is, Starts};

/// The kind of a report, as the JSON `type` field names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportType {
    /// `BUG: KASAN:` (and the `INFO: Freed in` remains of old ones).
    Kasan,
    /// `BUG: KMSAN:`.
    Kmsan,
    /// `BUG: KCSAN:`.
    Kcsan,
    /// `BUG: KFENCE:`.
    Kfence,
    /// `UBSAN:`.
    Ubsan,
    /// `kernel BUG at`, `BUG:` lines not covered by another type.
    Bug,
    /// `WARNING:` (`WARN_ON`), including refcount and object-debugging warnings.
    Warning,
    /// A fault without a `BUG:` line: general protection fault, paging
    /// request, NULL pointer dereference, divide error, invalid opcode, double fault.
    Oops,
    /// Lockdep: possible deadlocks, inconsistent lock state, suspicious RCU
    /// usage, lock balance.
    Lockdep,
    /// A task hung (`INFO: task ... blocked`, `can't die`).
    Hang,
    /// `INFO: rcu_* detected stalls`.
    RcuStall,
    /// Soft lockups, spinlock lockups, workqueue lockups.
    Lockup,
    /// `BUG: memory leak` (kmemleak).
    Leak,
    /// Sleeping or scheduling in atomic context, preemptible-context misuse.
    AtomicSleep,
    /// `Kernel panic - not syncing:` with no report before it.
    Panic,
    /// The machine rebooted without saying why.
    Reboot,
    /// Failures of the fuzzing tools (`SYZFAIL:`, a Go runtime error).
    Tool,
}

impl ReportType {
    /// Every type, in the order of the documentation.
    pub const ALL: [ReportType; 17] = [
        ReportType::Kasan,
        ReportType::Kmsan,
        ReportType::Kcsan,
        ReportType::Kfence,
        ReportType::Ubsan,
        ReportType::Bug,
        ReportType::Warning,
        ReportType::Oops,
        ReportType::Lockdep,
        ReportType::Hang,
        ReportType::RcuStall,
        ReportType::Lockup,
        ReportType::Leak,
        ReportType::AtomicSleep,
        ReportType::Panic,
        ReportType::Reboot,
        ReportType::Tool,
    ];

    /// The stable name used in JSON (`type`).
    pub fn name(self) -> &'static str {
        match self {
            ReportType::Kasan => "KASAN",
            ReportType::Kmsan => "KMSAN",
            ReportType::Kcsan => "KCSAN",
            ReportType::Kfence => "KFENCE",
            ReportType::Ubsan => "UBSAN",
            ReportType::Bug => "BUG",
            ReportType::Warning => "WARNING",
            ReportType::Oops => "OOPS",
            ReportType::Lockdep => "LOCKDEP",
            ReportType::Hang => "HANG",
            ReportType::RcuStall => "RCU-STALL",
            ReportType::Lockup => "LOCKUP",
            ReportType::Leak => "LEAK",
            ReportType::AtomicSleep => "ATOMIC-SLEEP",
            ReportType::Panic => "PANIC",
            ReportType::Reboot => "REBOOT",
            ReportType::Tool => "TOOL",
        }
    }
}

/// What a report says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The title.
    pub title: String,
    /// The report kind.
    pub kind: ReportType,
    /// The guilty frame named in the title.
    pub frame: Option<String>,
    /// The report is cut, interleaved or garbled.
    pub corrupted: bool,
    /// No known kind: the title is the header line itself.
    pub free_text: bool,
}

/// The lines of one report, its header first (text after the console prefix).
pub(crate) struct Report<'a> {
    lines: &'a [&'a [u8]],
    /// A fault-injection stack (`should_failslab`) was read as part of the
    /// report's: its frames cannot be trusted.
    poisoned: std::cell::Cell<bool>,
}

/// Functions a kind of report skips on top of [`frames::infrastructure`].
type Skip = &'static [Pat];

impl<'a> Report<'a> {
    fn new(lines: &'a [&'a [u8]]) -> Report<'a> {
        Report {
            lines,
            poisoned: std::cell::Cell::new(false),
        }
    }

    fn line(&self, i: usize) -> &'a [u8] {
        self.lines.get(i).copied().unwrap_or(b"")
    }

    /// The first line at or after `from` that `pred` accepts.
    fn find(&self, from: usize, pred: impl Fn(&[u8]) -> bool) -> Option<usize> {
        (from..self.lines.len()).find(|&i| pred(self.lines[i]))
    }

    /// The first line at or after `from` containing `needle`.
    fn find_text(&self, from: usize, needle: &[u8]) -> Option<usize> {
        self.find(from, |l| contains(l, needle))
    }

    fn keep(f: &[u8], skip: Skip) -> bool {
        !frames::infrastructure(f) && !any(skip, f)
    }

    /// Reliable frames from line `from` on, up to the next stack header.
    fn stack(&self, from: usize, skip: Skip, out: &mut Vec<&'a [u8]>) {
        for i in from..self.lines.len() {
            let l = self.lines[i];
            if frames::stack_header(l) {
                return;
            }
            if let Some(f) = frames::frame(l) {
                if !f.unreliable && f.func.starts_with(b"should_fail") {
                    self.poisoned.set(true);
                    return;
                }
                if f.unreliable {
                    continue;
                }
                for func in std::iter::once(f.func).chain(f.caller) {
                    if Self::keep(func, skip) && out.last() != Some(&func) {
                        out.push(func);
                    }
                }
            }
        }
    }

    /// The frames after the first `Call Trace:` (or other stack header) at or after `from`.
    fn trace(&self, from: usize, skip: Skip, out: &mut Vec<&'a [u8]>) -> bool {
        match self.find(from, frames::stack_header) {
            Some(i) => {
                self.stack(i + 1, skip, out);
                true
            }
            None => false,
        }
    }

    /// The kept frames of the first call trace.
    fn trace_frames(&self, skip: Skip) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        self.trace(1, skip, &mut out);
        out
    }

    /// The first kept frame of the first call trace.
    fn trace_frame(&self, skip: Skip) -> Option<&'a [u8]> {
        self.trace_frames(skip).first().copied()
    }

    /// The kept frames printed right after the header (sanitizers since
    /// 5.x), or those of the first call trace.
    fn header_frames(&self, skip: Skip) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        self.stack(1, skip, &mut out);
        if out.is_empty() {
            self.trace(1, skip, &mut out);
        }
        out
    }

    /// The first instruction-pointer line at or after `from`: its index and
    /// its function (`None` for user space).
    fn ip(&self, from: usize) -> Option<(usize, Option<&'a [u8]>)> {
        (from..self.lines.len()).find_map(|i| frames::ip_line(self.lines[i]).map(|f| (i, f)))
    }

    /// The faulting instruction's function, then the call trace after it.
    fn ip_then_trace(&self, from: usize, skip: Skip) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        match self.ip(from) {
            Some((i, f)) => {
                if let Some(f) = f.filter(|f| Self::keep(f, skip)) {
                    out.push(f);
                }
                self.trace(i + 1, skip, &mut out);
            }
            None => {
                self.trace(from, skip, &mut out);
            }
        }
        out
    }

    /// A warning: the faulting instruction and the frames printed right
    /// after it; failing that, the call trace.
    fn warning_frames(&self, from: usize, skip: Skip) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        if let Some((i, f)) = self.ip(from) {
            if let Some(f) = f.filter(|f| Self::keep(f, skip)) {
                out.push(f);
            }
            self.stack(i + 1, skip, &mut out);
        }
        if out.is_empty() {
            self.trace(from, skip, &mut out);
        }
        out
    }

    /// The function of the first `at: func+0x..` line after the line
    /// containing `after` (lockdep's way of naming where a lock was taken).
    fn at_frame(&self, from: usize, after: &[u8]) -> Option<&'a [u8]> {
        let start = match after.is_empty() {
            true => from,
            false => self.find_text(from, after)? + 1,
        };
        (start..self.lines.len()).find_map(|i| at_func(self.lines[i]))
    }

    /// The functions of the next `count` `at:` lines from `from` that are
    /// not helpers; returns the line after the last one read.
    fn at_frames(&self, from: usize, count: usize, skip: Skip, out: &mut Vec<&'a [u8]>) -> usize {
        let mut next = from;
        for _ in 0..count {
            let Some(k) = (next..self.lines.len()).find(|&k| at_func(self.lines[k]).is_some())
            else {
                break;
            };
            if let Some(f) = at_func(self.lines[k]).filter(|f| Self::keep(f, skip)) {
                out.push(f);
            }
            next = k + 1;
        }
        next
    }
}

/// `(&bdev->bd_mutex){+.+.}, at: [<ffffffff8232bf0e>] blkdev_reread_part+0x1e/0x40`:
/// the function after `at:`.
fn at_func(l: &[u8]) -> Option<&[u8]> {
    let p = memchr::memmem::find(l, b"at: ")?;
    let f = frames::frame(&l[p + 4..])?;
    Some(f.func)
}

/// Owned text of a function name for a title (suffixes dropped).
fn fname(f: &[u8]) -> String {
    String::from_utf8_lossy(cpp_name(base_name(f))).into_owned()
}

/// The name in an Itanium C++ mangled symbol of a plain function
/// (`_Z8fakeNameiii` → `fakeName`); anything else as it is.
fn cpp_name(f: &[u8]) -> &[u8] {
    let Some(r) = f.strip_prefix(b"_Z") else {
        return f;
    };
    let d = r.iter().take_while(|c| c.is_ascii_digit()).count();
    let len: usize = std::str::from_utf8(&r[..d])
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    match d.checked_add(len).and_then(|end| r.get(d..end)) {
        Some(name) if len > 0 => name,
        _ => f,
    }
}

/// How a title is completed by a frame.
struct Titled {
    kind: ReportType,
    prefix: String,
    frame: Option<String>,
    corrupted: bool,
    free_text: bool,
}

impl Titled {
    fn new(kind: ReportType, prefix: impl Into<String>) -> Titled {
        Titled {
            kind,
            prefix: prefix.into(),
            frame: None,
            corrupted: false,
            free_text: false,
        }
    }

    /// A header no known kind matched: its own title.
    fn free(mut self) -> Titled {
        self.free_text = true;
        self
    }

    /// `PREFIX in FRAME`, or `PREFIX in corrupted` when no frame was found.
    fn framed(mut self, frame: Option<&[u8]>) -> Titled {
        match frame {
            Some(f) => self.frame = Some(fname(f)),
            None => self.corrupted = true,
        }
        self
    }

    fn corrupt(mut self) -> Titled {
        self.corrupted = true;
        self
    }

    fn done(self, framed: bool) -> Verdict {
        let title = match (&self.frame, framed) {
            (Some(f), true) => format!("{} in {f}", self.prefix),
            (None, true) => format!("{} in corrupted", self.prefix),
            _ => self.prefix,
        };
        Verdict {
            title: normalize(&title),
            kind: self.kind,
            frame: self.frame,
            corrupted: self.corrupted,
            free_text: self.free_text,
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Title a report whose first line is a header [`super::start::start`] accepted.
pub(crate) fn verdict(lines: &[&[u8]]) -> Verdict {
    let rep = Report::new(lines);
    let h = trim(rep.line(0));
    let mut v = header_verdict(&rep, h);
    if !v.corrupted {
        v.corrupted = rep.poisoned.get() || broken(&rep, &v);
    }
    v
}

fn header_verdict(rep: &Report<'_>, h: &[u8]) -> Verdict {
    if let Some(r) = h.strip_prefix(b"[ ") {
        // Lockdep banners before 4.15: `[ INFO: possible circular locking dependency detected ]`.
        let r = trim(r.strip_suffix(b"]").unwrap_or(r));
        return header_verdict(rep, r);
    }
    if let Some(r) = h.strip_prefix(b"BUG:") {
        return bug(rep, trim_start(r));
    }
    if let Some(r) = h.strip_prefix(b"WARNING:") {
        return warning(rep, trim_start(r));
    }
    if let Some(r) = h.strip_prefix(b"INFO:") {
        return info(rep, trim_start(r));
    }
    if let Some(r) = h
        .strip_prefix(b"kernel BUG at ")
        .or_else(|| h.strip_prefix(b"Kernel BUG at "))
    {
        return kernel_bug(rep, r);
    }
    if let Some(r) = h.strip_prefix(b"Kernel panic - not syncing") {
        let r = trim_start(r.strip_prefix(b":").unwrap_or(r));
        return panic(rep, r);
    }
    if let Some(r) = h.strip_prefix(b"UBSAN: ") {
        return ubsan(rep, r);
    }
    if let Some(r) = h.strip_prefix(b"Unable to handle kernel ") {
        return arm_fault(rep, r);
    }
    if h.starts_with(b"Unhandled fault") {
        return framed(ReportType::Oops, "Unhandled fault", first(&arm_frames(rep)));
    }
    if h.starts_with(b"PANIC: double fault") {
        let f = rep
            .ip(1)
            .and_then(|(_, f)| f)
            .filter(|f| Report::keep(f, &[]));
        return framed(ReportType::Oops, "PANIC: double fault", f);
    }
    if h.starts_with(b"unregister_netdevice: waiting for") {
        return Titled::new(
            ReportType::Bug,
            "unregister_netdevice: waiting for DEV to become free",
        )
        .done(false);
    }
    if h.starts_with(b"SYZFAIL:") || h.starts_with(b"SYZFATAL:") {
        return Titled::new(ReportType::Tool, text(h)).done(false);
    }
    if h.starts_with(b"fatal error: ") || h.starts_with(b"panic: ") {
        return Titled::new(ReportType::Tool, "go runtime error").done(false);
    }
    if h.starts_with(b"trusty: panic") {
        return trusty(rep, h);
    }
    if h.starts_with(b"VFS: Busy inodes after unmount") {
        return Titled::new(
            ReportType::Bug,
            "VFS: Busy inodes after unmount (use-after-free)",
        )
        .done(false);
    }
    if h.starts_with(b"VFS: Close: file count is 0") {
        return Titled::new(
            ReportType::Bug,
            "VFS: Close: file count is zero (use-after-free)",
        )
        .done(false);
    }
    if h.starts_with(b"Booting the kernel") {
        return Titled::new(ReportType::Reboot, "unexpected kernel reboot").done(false);
    }
    if h.starts_with(b"BUG ") {
        return Titled::new(ReportType::Bug, "BUG: Object already free").done(false);
    }
    if h.starts_with(b"attempt to ") {
        return rust_panic(rep, h);
    }
    die(rep, h)
}

/// `PREFIX in FRAME` (or `PREFIX in corrupted`).
fn framed(kind: ReportType, prefix: impl Into<String>, frame: Option<&[u8]>) -> Verdict {
    Titled::new(kind, prefix).framed(frame).done(true)
}

/// A title from a header alone, the report being cut or garbled.
fn corrupt_title(kind: ReportType, title: impl Into<String>) -> Verdict {
    Titled::new(kind, title).corrupt().done(false)
}

/// The first of a list of frames.
fn first<'a>(frames: &[&'a [u8]]) -> Option<&'a [u8]> {
    frames.first().copied()
}

/// `BUG: ...` lines.
fn bug(rep: &Report<'_>, r: &[u8]) -> Verdict {
    if let Some(k) = r.strip_prefix(b"KASAN: ") {
        return kasan(rep, k);
    }
    if let Some(k) = r.strip_prefix(b"KMSAN: ") {
        return kmsan(rep, k);
    }
    if let Some(k) = r.strip_prefix(b"KCSAN: ") {
        // `BUG: KCSAN: data-race in find_next_bit / rcu_report_exp_cpu_mult`
        return Titled::new(ReportType::Kcsan, format!("KCSAN: {}", text(k))).done(false);
    }
    if let Some(k) = r.strip_prefix(b"KFENCE: ") {
        return kfence(rep, k);
    }
    if r.is_empty() {
        return corrupt_title(ReportType::Bug, "BUG: corrupted");
    }
    // Page faults: `BUG: unable to handle page fault for address: ffffde202758ca0b`,
    // `BUG: kernel NULL pointer dereference, address: 0000000000000086`.
    let null = [
        &b"unable to handle kernel NULL pointer dereference"[..],
        b"kernel NULL pointer dereference",
        b"Kernel NULL pointer dereference",
    ];
    if null.iter().any(|p| r.starts_with(p)) {
        return fault(rep, "BUG: unable to handle kernel NULL pointer dereference");
    }
    let paging = [
        &b"unable to handle kernel paging request"[..],
        b"unable to handle page fault",
        b"Unable to handle kernel data access",
        b"Unable to handle kernel instruction fetch",
    ];
    if paging.iter().any(|p| r.starts_with(p)) {
        return fault(rep, "BUG: unable to handle kernel paging request");
    }
    if r.starts_with(b"unable to handle kernel") || r.starts_with(b"Unable to handle kernel") {
        // The second half of the message was lost.
        return corrupt_title(ReportType::Oops, "BUG: unable to handle kernel");
    }
    if r.starts_with(b"soft lockup") {
        // `BUG: soft lockup - CPU#0 stuck for 134s! [kworker/0:2:1400]`
        let frames = rep.ip_then_trace(1, &[]);
        return framed(
            ReportType::Lockup,
            "BUG: soft lockup",
            stall_anchor(&frames),
        );
    }
    for lock in [&b"spinlock "[..], b"rwlock "] {
        if let Some(what) = r.strip_prefix(lock) {
            // `BUG: spinlock already unlocked on CPU#1, migration/1/12`
            let what = what.split(|&c| c == b',').next().unwrap_or(what);
            let what = match memchr::memmem::find(what, b" on CPU") {
                Some(p) => &what[..p],
                None => what,
            };
            let kind = if what.starts_with(b"lockup") {
                ReportType::Lockup
            } else {
                ReportType::Lockdep
            };
            return framed(
                kind,
                format!("BUG: {}{}", text(lock), text(trim(what))),
                rep.trace_frame(&[Has("spin_"), Has("_lock")]),
            );
        }
    }
    // Lockdep under a `[ BUG: ... ]` banner (before 4.15):
    // `[ BUG: syz-executor/31761 still has locks held! ]`.
    if let Some(v) = lockdep(rep, r, "BUG") {
        return v;
    }
    if r.starts_with(b"Invalid wait context") {
        // `[ BUG: Invalid wait context ]`: lockdep's wait-type check.
        return framed(
            ReportType::Lockdep,
            "WARNING: locking bug",
            lockdep_trace(rep),
        );
    }
    for fixed in [
        &b"Bad rss-counter state"[..],
        b"non-zero nr_ptes on freeing mm",
        b"non-zero nr_pmds on freeing mm",
        b"Bad page map",
        b"workqueue lockup",
    ] {
        if r.starts_with(fixed) {
            let kind = if fixed == b"workqueue lockup" {
                ReportType::Lockup
            } else {
                ReportType::Bug
            };
            return Titled::new(kind, format!("BUG: {}", text(fixed))).done(false);
        }
    }
    if r.starts_with(b"Dentry ") && contains(r, b"still in use") {
        // `BUG: Dentry ffff880175978600{i=8bb9,n=lo}  still in use (1) [unmount of proc proc]`
        return Titled::new(ReportType::Bug, "BUG: Dentry still in use in unmount").done(false);
    }
    if r.starts_with(b"Bad page state") {
        // `BUG: Bad page state in process syz.3.584  pfn:7071f`: blamed on
        // whoever allocated the page (`page last allocated via ...`).
        let mut frames = Vec::new();
        if let Some(i) = rep.find(1, |l| trim_start(l).starts_with(b"page last allocated")) {
            rep.stack(i + 1, BAD_PAGE, &mut frames);
        }
        return framed(ReportType::Bug, "BUG: Bad page state", first(&frames));
    }
    if r.starts_with(b"sleeping function called from invalid context") {
        return framed(
            ReportType::AtomicSleep,
            "BUG: sleeping function called from invalid context",
            rep.trace_frame(&[]),
        );
    }
    if let Some(u) = r.strip_prefix(b"using ") {
        // `BUG: using __this_cpu_read() in preemptible [00000000] code: syz-executor7/11203`
        if let Some(p) = memchr::memmem::find(u, b"() in preemptible") {
            return framed(
                ReportType::AtomicSleep,
                format!("BUG: using {}() in preemptible code", text(&u[..p])),
                rep.trace_frame(PREEMPTIBLE),
            );
        }
    }
    if r.starts_with(b"scheduling while atomic") {
        return framed(
            ReportType::AtomicSleep,
            "BUG: scheduling while atomic",
            rep.trace_frame(&[Has("schedule")]),
        );
    }
    if r.starts_with(b"workqueue leaked lock or atomic") {
        // `    last function: addrconf_dad_work`
        let f = rep
            .find_text(1, b"last function: ")
            .map(|i| {
                let l = rep.line(i);
                let p = memchr::memmem::find(l, b"last function: ").unwrap_or(0) + 15;
                crate::grammar::kernel::symbol_of(&l[p..])
            })
            .filter(|f| !f.is_empty());
        return framed(
            ReportType::Lockdep,
            "BUG: workqueue leaked lock or atomic",
            f,
        );
    }
    if r.starts_with(b"memory leak") {
        return framed(ReportType::Leak, "memory leak", rep.trace_frame(LEAK));
    }
    if r.starts_with(b"stack guard page was hit") || r.starts_with(b"TASK stack guard page was hit")
    {
        // A stack overflow: the recursion is deep in the stack, like a stall's loop.
        let frames = rep.ip_then_trace(1, &[]);
        return framed(
            ReportType::Bug,
            "BUG: stack guard page was hit",
            stall_anchor(&frames),
        );
    }
    if r.starts_with(b"corrupted list") {
        return Titled::new(ReportType::Bug, "BUG: corrupted list").done(false);
    }
    Titled::new(ReportType::Bug, format!("BUG: {}", text(r)))
        .free()
        .done(false)
}

/// Allocation helpers a memory-leak backtrace starts with: `kmem_cache_alloc`,
/// `__kmalloc_track_caller`, `kstrdup`, `idr_alloc_cyclic`.
const LEAK: Skip = &[
    Has("kmemleak"),
    Has("kmalloc"),
    Has("kcalloc"),
    Has("kzalloc"),
    Has("vmalloc"),
    Has("mmap"),
    Has("kmem"),
    Has("slab"),
    Has("alloc"),
    Has("create_object"),
    Has("idr_get"),
    Has("list_lru_init"),
    Has("kasprintf"),
    Has("kvasprintf"),
    Has("pcpu_create"),
    Has("strdup"),
    Has("strndup"),
    Has("memdup"),
    Starts("kobject_"),
    Is("sget_userns"),
];

/// The page allocator and the page owner tracking of its allocation stacks.
const BAD_PAGE: Skip = &[
    Has("alloc"),
    Has("page_owner"),
    Is("post_alloc_hook"),
    Starts("get_page_from_freelist"),
    Starts("page_pool"),
    Starts("__page_pool"),
];

/// The checks behind `using smp_processor_id() in preemptible code`.
const PREEMPTIBLE: Skip = &[
    Has("preemption"),
    Has("preempt"),
    Has("debug_"),
    Has("processor_id"),
    Has("this_cpu"),
];

/// Page faults and other faults that print the faulting instruction.
fn fault(rep: &Report<'_>, prefix: &str) -> Verdict {
    let frames = rep.ip_then_trace(1, &[]);
    framed(ReportType::Oops, prefix, first(&frames))
}

/// `BUG: KASAN: slab-use-after-free in xas_start+0x1ef/0x7b0` then
/// `Read of size 8 at addr ffff888077ec2bf8 by task syz-executor.0/6659`.
fn kasan(rep: &Report<'_>, k: &[u8]) -> Verdict {
    let access = (1..rep.lines.len().min(64)).find_map(|i| {
        let l = trim_start(rep.line(i));
        if l.starts_with(b"Read of size") || l.starts_with(b"Read at addr") {
            Some("Read")
        } else if l.starts_with(b"Write of size") || l.starts_with(b"Write at addr") {
            Some("Write")
        } else {
            None
        }
    });
    if k.starts_with(b"double-free or invalid-free in ") || k.starts_with(b"invalid-free in ") {
        let skip: Skip = &[
            Starts("kmem_"),
            Starts("slab_"),
            Has("kfree"),
            Has("vunmap"),
            Has("vfree"),
            Has("kvfree"),
        ];
        let mut frames = Vec::new();
        if let Some(p) = memchr::memmem::find(k, b" in ") {
            let f = crate::grammar::kernel::symbol_of(&k[p + 4..]);
            if !f.is_empty() && Report::keep(f, skip) {
                frames.push(f);
            }
        }
        rep.trace(1, skip, &mut frames);
        return framed(ReportType::Kasan, "KASAN: invalid-free", first(&frames));
    }
    let kind_len = k
        .iter()
        .take_while(|c| c.is_ascii_lowercase() || **c == b'-')
        .count();
    let kind = text(&k[..kind_len]);
    let rest = &k[kind_len..];
    match (rest.strip_prefix(b" in "), access) {
        (Some(f), Some(acc)) => {
            let mut frames = Vec::new();
            let f = crate::grammar::kernel::symbol_of(f);
            if !f.is_empty() && Report::keep(f, &[]) {
                frames.push(f);
            }
            rep.trace(1, &[], &mut frames);
            framed(
                ReportType::Kasan,
                format!("KASAN: {kind} {acc}"),
                first(&frames),
            )
        }
        (None, Some(acc)) if rest.starts_with(b" on address") => {
            Titled::new(ReportType::Kasan, format!("KASAN: {kind} {acc}")).done(false)
        }
        _ => corrupt_title(ReportType::Kasan, format!("KASAN: {}", text(k))),
    }
}

/// `BUG: KMSAN: uninit-value in ext4_evict_inode+0xdd/0x26b0`, its frames
/// right after it (or after `Call Trace:` on older kernels).
fn kmsan(rep: &Report<'_>, k: &[u8]) -> Verdict {
    let kind_len = k
        .iter()
        .take_while(|c| c.is_ascii_lowercase() || **c == b'-')
        .count();
    let kind = text(&k[..kind_len]);
    let skip: Skip = if kind == "kernel-usb-infoleak" {
        USB_SUBMIT
    } else {
        &[]
    };
    framed(
        ReportType::Kmsan,
        format!("KMSAN: {kind}"),
        first(&rep.header_frames(skip)),
    )
}

/// The USB request helpers a driver bug reaches the check through.
const USB_SUBMIT: Skip = &[
    Is("usb_submit_urb"),
    Is("usb_start_wait_urb"),
    Is("usb_bulk_msg"),
    Is("usb_interrupt_msg"),
    Is("usb_control_msg"),
];

/// `BUG: KFENCE: use-after-free read in test_use_after_free_read+0xb3/0x143`.
fn kfence(rep: &Report<'_>, k: &[u8]) -> Verdict {
    let what = match memchr::memmem::find(k, b" in ") {
        Some(p) => &k[..p],
        None => k,
    };
    framed(
        ReportType::Kfence,
        format!("KFENCE: {}", text(what)),
        first(&rep.header_frames(&[])),
    )
}

/// `WARNING: ...` lines.
fn warning(rep: &Report<'_>, r: &[u8]) -> Verdict {
    if r.is_empty() {
        return corrupt_title(ReportType::Warning, "WARNING: corrupted");
    }
    if let Some(v) = lockdep(rep, r, "WARNING") {
        return v;
    }
    if let Some((file, func)) = warning_site(r) {
        return warn_at(rep, file, func);
    }
    if r.starts_with(b"kernel stack regs ") || r.starts_with(b"kernel stack frame pointer ") {
        return Titled::new(
            ReportType::Warning,
            "WARNING: kernel stack regs has bad value",
        )
        .done(false);
    }
    Titled::new(ReportType::Warning, format!("WARNING: {}", text(r)))
        .free()
        .done(false)
}

/// The file and function of a WARN_ON's header line.
///
/// `CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450 btrfs_create_new_inode+0xa46/0xa70 [btrfs]`,
/// `CPU: 3 PID: 1975 at fs/locks.c:241 locks_free_lock_context+0x118/0x180()`,
/// `net/mac80211/tx.c:5024 at __ieee80211_beacon_get+0x125d/0x1630, CPU#1: syz.9.803/11907` (2025),
/// `lib/refcount.c:19 at 0x0, CPU#1: syz.3.20/6051`.
fn warning_site(r: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = memchr::memmem::find(r, b" at ")
        .map(|p| p + 4)
        .or_else(|| r.starts_with(b"at ").then_some(3))?;
    let before = &r[..at.saturating_sub(4)];
    let after = trim_start(&r[at..]);
    if r.starts_with(b"CPU: ") || r.starts_with(b"at ") {
        // Old form: `at FILE:LINE FUNC+..` or `at FUNC+..`.
        let first = after.split(|&c| c == b' ').next().unwrap_or(b"");
        if first.contains(&b':') && !first.contains(&b'+') {
            let func = crate::grammar::kernel::symbol_of(&after[first.len()..]);
            return Some((first, func));
        }
        return Some((b"", crate::grammar::kernel::symbol_of(after)));
    }
    // 2025 form: `FILE:LINE at FUNC+.., CPU#N: comm/pid`.
    (before.contains(&b':') && before.contains(&b'/') && !before.contains(&b' '))
        .then(|| (before, crate::grammar::kernel::symbol_of(after)))
}

/// The kind of WARN_ON, from where it fired.
fn warn_at(rep: &Report<'_>, file: &[u8], func: &[u8]) -> Verdict {
    let file = file.strip_prefix(b"./").unwrap_or(file);
    let in_file = |f: &[u8]| contains(file, f);
    let (prefix, skip): (&str, Skip) = if in_file(b"lib/debugobjects.c")
        && (func.starts_with(b"debug_print")
            || func.starts_with(b"debug_check")
            || func.is_empty()
            || func.starts_with(b"0x"))
    {
        ("WARNING: ODEBUG bug", ODEBUG)
    } else if in_file(b"mm/usercopy.c") && contains(func, b"usercopy_warn") {
        ("WARNING: bad usercopy", &[Has("usercopy"), Has("__check")])
    } else if in_file(b"lib/kobject.c") && func.starts_with(b"kobject_") {
        ("WARNING: kobject bug", &[Starts("kobject_")])
    } else if in_file(b"fs/proc/generic.c") && func.starts_with(b"proc_register") {
        ("WARNING: proc registration bug", &[Starts("proc_")])
    } else if in_file(b"lib/refcount.c") {
        (
            "WARNING: refcount bug",
            &[Has("refcount"), Starts("kobject_")],
        )
    } else if in_file(b"kernel/locking/lockdep.c") && contains(func, b"lock") {
        (
            "WARNING: locking bug",
            &[
                Is("lock_sock_nested"),
                Is("release_sock"),
                Has("lock_class"),
                Is("hlock_class"),
            ],
        )
    } else if in_file(b"mm/vmalloc.c") && func.starts_with(b"__vmalloc_node_range") {
        // `WARN_ON_ONCE(!size)` at the top of `__vmalloc_node_range`.
        (
            "WARNING: zero-size vmalloc",
            &[Has("vmalloc"), Has("vzalloc")],
        )
    } else if file.starts_with(b"mm/") && kmalloc_like(func) {
        ("WARNING: kmalloc bug", KMALLOC)
    } else if contains(func, b"usb_submit_urb") {
        let frames = rep.warning_frames(1, USB_SUBMIT);
        let f = first(&frames).map_or("corrupted".to_string(), fname);
        let mut t = Titled::new(
            ReportType::Warning,
            format!("WARNING in {f}/usb_submit_urb"),
        );
        if frames.is_empty() {
            t.corrupted = true;
        } else {
            t.frame = Some(f);
        }
        return t.done(false);
    } else {
        ("WARNING", &[])
    };
    let frames = rep.warning_frames(1, skip);
    let kind = if prefix.contains("locking") {
        ReportType::Lockdep
    } else {
        ReportType::Warning
    };
    framed(kind, prefix, first(&frames))
}

fn kmalloc_like(func: &[u8]) -> bool {
    // `kmalloc_slab`, `__kmalloc_node`, `kvmalloc_node`, `krealloc`
    let f = func.strip_prefix(b"__").unwrap_or(func);
    let f = f
        .strip_prefix(b"kv")
        .or_else(|| f.strip_prefix(b"k"))
        .unwrap_or(f);
    let f = if f.len() > 1 && !f.starts_with(b"malloc") {
        &f[1..]
    } else {
        f
    };
    f.starts_with(b"malloc") || func.starts_with(b"krealloc")
}

/// Object debugging and the timer / work / free paths it checks from.
const ODEBUG: Skip = &[
    Has("debug_"),
    Has("rcu"),
    Has("hrtimer_"),
    Has("timer_"),
    Has("work_"),
    Has("percpu_"),
    Has("kmem_"),
    Has("slab_"),
    Has("kfree"),
    Has("vunmap"),
    Has("vfree"),
    Has("__free_"),
    Has("kobject_"),
];

/// The allocators behind `WARNING: kmalloc bug`.
const KMALLOC: Skip = &[
    Has("kmalloc"),
    Has("kcalloc"),
    Has("kzalloc"),
    Has("krealloc"),
    Has("vmalloc"),
    Has("slab"),
    Has("kmem"),
];

/// Lockdep reports, under a `WARNING:` (4.15+) or `INFO:` (older) banner.
fn lockdep(rep: &Report<'_>, r: &[u8], level: &str) -> Option<Verdict> {
    let deadlock = |after: &[u8]| -> Verdict {
        let Some(i) = rep.find_text(1, after) else {
            // Cut before the lock it is about.
            return corrupt_title(ReportType::Lockdep, format!("{level}: {}", text(r)));
        };
        if level == "INFO" {
            // Before 4.15: the function taking the lock, as printed.
            return framed(
                ReportType::Lockdep,
                "possible deadlock",
                rep.at_frame(i + 1, b""),
            );
        }
        // The lock being taken, the lock held, then the dependency chain.
        let mut frames = Vec::new();
        let next = rep.at_frames(i + 1, 2, WORKQUEUE_LOCKS, &mut frames);
        rep.stack(next, WORKQUEUE_LOCKS, &mut frames);
        framed(ReportType::Lockdep, "possible deadlock", first(&frames))
    };
    if r.starts_with(b"possible circular locking dependency detected") {
        return Some(deadlock(b"is trying to acquire lock"));
    }
    if r.starts_with(b"possible recursive locking detected") {
        return Some(deadlock(b"is trying to acquire lock"));
    }
    if r.starts_with(b"possible irq lock inversion dependency detected") {
        return Some(deadlock(b"just changed the state of lock"));
    }
    if (r.starts_with(b"SOFTIRQ-safe -> SOFTIRQ-unsafe")
        || r.starts_with(b"HARDIRQ-safe -> HARDIRQ-unsafe")
        || r.starts_with(b"SOFTIRQ-READ-safe")
        || r.starts_with(b"HARDIRQ-READ-safe"))
        && contains(r, b"lock order detected")
    {
        // Where the lock became irq-safe names the interrupt handler.
        if let Some(i) = rep.find(1, |l| contains(l, b"-irq-safe at:")) {
            let mut frames = Vec::new();
            rep.stack(i + 1, &[], &mut frames);
            return Some(framed(
                ReportType::Lockdep,
                "possible deadlock",
                first(&frames),
            ));
        }
        return Some(deadlock(b"is trying to acquire"));
    }
    if r.starts_with(b"inconsistent lock state") {
        return Some(lock_site(rep, level, "inconsistent lock state", b"takes"));
    }
    if r.starts_with(b"suspicious RCU usage") {
        // `./include/linux/rcupdate.h:302 Illegal context switch in RCU read-side critical section!`
        let t = Titled::new(
            ReportType::Lockdep,
            format!("{level}: suspicious RCU usage"),
        );
        if rep.find(1, has_source_line).is_none() {
            return Some(t.corrupt().done(false));
        }
        return Some(t.framed(rep.trace_frame(RCU_USAGE)).done(true));
    }
    if r.starts_with(b"bad unlock balance detected") {
        return Some(unlock_balance(rep, &format!("{level}: bad unlock balance")));
    }
    if r.starts_with(b"held lock freed") {
        return Some(lock_site(rep, level, "held lock freed", b""));
    }
    if r.starts_with(b"lock held when returning to user space") {
        return Some(framed(
            ReportType::Lockdep,
            format!("{level}: lock held when returning to user space"),
            rep.at_frame(1, b"leaving the kernel with locks still held"),
        ));
    }
    if r.ends_with(b"still has locks held!") {
        return Some(lock_site(rep, level, "still has locks held", b""));
    }
    if r.starts_with(b"Nested lock was not taken") {
        return Some(lock_site(rep, level, "nested lock was not taken", b""));
    }
    None
}

/// Workqueue functions whose locks stand for the work items they flush.
const WORKQUEUE_LOCKS: Skip = &[
    Is("process_one_work"),
    Is("flush_workqueue"),
    Is("__flush_workqueue"),
    Is("drain_workqueue"),
    Is("destroy_workqueue"),
];

/// RCU helpers and allocators that only report the caller's context.
const RCU_USAGE: Skip = &[
    Has("rcu"),
    Has("kmem"),
    Has("slab"),
    Has("kmalloc"),
    Has("vmalloc"),
    Has("kcalloc"),
    Has("kzalloc"),
];

/// `./include/linux/kvm_host.h:536 suspicious rcu_dereference_check() usage!`:
/// a line naming a source file and line.
fn has_source_line(l: &[u8]) -> bool {
    let t = trim_start(l);
    let tok = t.split(|&c| c == b' ').next().unwrap_or(b"");
    let Some(colon) = memchr::memrchr(b':', tok) else {
        return false;
    };
    let (file, line) = (&tok[..colon], &tok[colon + 1..]);
    file.contains(&b'.') && !line.is_empty() && line.iter().all(u8::is_ascii_digit)
}

/// A lockdep report about one lock: the function the `at:` line after
/// `after` names (`inconsistent lock state ... takes: ... at: vprintk_emit`),
/// or, when that one is a helper, the first frame of the stack backtrace.
/// Before 4.15 (`INFO:` and `BUG:` banners) the `at:` function as printed.
/// Inconsistent lock state is titled without its level.
fn lock_site(rep: &Report<'_>, level: &str, what: &str, after: &[u8]) -> Verdict {
    let prefix = match what {
        "inconsistent lock state" => what.to_string(),
        _ => format!("{level}: {what}"),
    };
    let t = Titled::new(ReportType::Lockdep, prefix);
    let from = match after.is_empty() {
        true => Some(1),
        false => rep.find_text(1, after).map(|i| i + 1),
    };
    let Some(from) = from else {
        return t.framed(None).done(true);
    };
    if level != "WARNING" {
        return t.framed(rep.at_frame(from, b"")).done(true);
    }
    let mut frames = Vec::new();
    let next = rep.at_frames(from, 1, &[], &mut frames);
    rep.trace(next, &[], &mut frames);
    t.framed(first(&frames)).done(true)
}

/// The first frame of a lockdep report's stack backtrace.
fn lockdep_trace<'a>(rep: &Report<'a>) -> Option<&'a [u8]> {
    rep.trace_frame(&[])
}

/// `bad unlock balance detected!` then `... is trying to release lock (...) at:`
/// and the function on the next line, or the stack backtrace when that is a helper.
fn unlock_balance(rep: &Report<'_>, prefix: &str) -> Verdict {
    let mut frames = Vec::new();
    if let Some(i) = rep.find_text(1, b"is trying to release lock") {
        let f = (i..rep.lines.len().min(i + 16)).find_map(|j| {
            let l = rep.line(j);
            let l = match memchr::memmem::find(l, b"at: ") {
                Some(p) => &l[p + 4..],
                None => l,
            };
            frames::frame(l).filter(|f| !f.unreliable).map(|f| f.func)
        });
        if let Some(f) = f.filter(|f| Report::keep(f, &[])) {
            frames.push(f);
        }
        rep.trace(i + 1, &[], &mut frames);
    }
    framed(ReportType::Lockdep, prefix, first(&frames))
}

/// `INFO: ...` lines.
fn info(rep: &Report<'_>, r: &[u8]) -> Verdict {
    if r.is_empty() {
        return corrupt_title(ReportType::Bug, "INFO: corrupted");
    }
    if let Some(v) = lockdep(rep, r, "INFO") {
        return v;
    }
    if r.starts_with(b"rcu_") && contains(r, b"stall") {
        return rcu_stall(rep);
    }
    if r.starts_with(b"trying to register non-static key") {
        return framed(
            ReportType::Lockdep,
            "INFO: trying to register non-static key",
            rep.trace_frame(&[Has("stack"), Has("lock"), Has("IRQ")]),
        );
    }
    if let Some(t) = r.strip_prefix(b"task ") {
        if contains(t, b" blocked for more than ")
            || contains(t, b" blocked in I/O wait for more than")
        {
            return framed(
                ReportType::Hang,
                "INFO: task hung",
                hang_frame(&rep.trace_frames(&[])),
            );
        }
        if contains(t, b"can't die for more than") {
            return framed(
                ReportType::Hang,
                "INFO: task can't die",
                rep.trace_frame(&[Has("schedule")]),
            );
        }
    }
    if r.starts_with(b"Freed in ") || r.starts_with(b"Allocated in ") {
        // The remains of an old-style KASAN report: `INFO: Freed in fasync_free_rcu+0x14/0x20 age=624 cpu=0 pid=3`.
        return corrupt_title(ReportType::Kasan, format!("INFO: {}", text(r)));
    }
    // A header cut short (`INFO: t`) and printed again: take the full one.
    if r.len() < 8 {
        if let Some(i) = rep.find(1, |l| trim_start(l).starts_with(b"INFO: ")) {
            let full = trim(rep.line(i));
            if full.len() > r.len() + 6 {
                let sub = Report::new(&rep.lines[i..]);
                return info(&sub, trim_start(&full[5..]));
            }
        }
    }
    Titled::new(ReportType::Bug, format!("INFO: {}", text(r)))
        .free()
        .done(false)
}

/// `INFO: rcu_preempt detected stalls on CPUs/tasks:`: the loop the stalled
/// CPU was in, from the stack the timer interrupt caught it in.
fn rcu_stall(rep: &Report<'_>) -> Verdict {
    let skip: Skip = &[Has("apic_timer_interrupt"), Has("rcu"), Has("sysvec_")];
    let mut frames = Vec::new();
    if let Some(i) = rep.find(1, interrupt_entry) {
        // The interrupt entry, then the interrupted instruction and its stack.
        let ip = rep
            .ip(i + 1)
            .filter(|&(j, _)| rep.find(i + 1, frames::stack_header).is_none_or(|h| h > j));
        match ip {
            Some((j, f)) => {
                if let Some(f) = f.filter(|f| Report::keep(f, skip)) {
                    frames.push(f);
                }
                rep.stack(j + 1, skip, &mut frames);
            }
            None => rep.stack(i + 1, skip, &mut frames),
        }
        if stall_anchor(&frames).is_none() {
            frames.clear();
            rep.stack(i + 1, skip, &mut frames);
        }
    }
    framed(
        ReportType::RcuStall,
        "INFO: rcu detected stall",
        stall_anchor(&frames),
    )
}

/// The frame where a timer interrupt entered: `apic_timer_interrupt+0x93/0xa0`,
/// `asm_sysvec_apic_timer_interrupt+0x12/0x20`, ARM `(gic_handle_irq) from [<..>] (__irq_svc+0x6c/0x90)`.
fn interrupt_entry(l: &[u8]) -> bool {
    if contains(l, b"apic_timer_interrupt") {
        return true;
    }
    frames::frame(l).is_some_and(|f| {
        std::iter::once(f.func).chain(f.caller).any(|func| {
            matches!(
                base_name(func),
                b"__irq_svc" | b"el1_irq" | b"el1h_64_irq" | b"el1_interrupt" | b"__irq_usr"
            )
        })
    })
}

/// `kernel BUG at fs/btrfs/tree-checker.c:2070!`
fn kernel_bug(rep: &Report<'_>, r: &[u8]) -> Verdict {
    if r.starts_with(b"mm/usercopy.c") {
        return framed(
            ReportType::Bug,
            "BUG: bad usercopy",
            rep.trace_frame(&[Has("usercopy"), Has("__check")]),
        );
    }
    if r.starts_with(b"lib/list_debug.c") {
        return framed(ReportType::Bug, "BUG: corrupted list", rep.trace_frame(&[]));
    }
    let frames = rep.ip_then_trace(1, &[Starts("skb_put"), Starts("skb_push")]);
    framed(ReportType::Bug, "kernel BUG", first(&frames))
}

/// `Kernel panic - not syncing: ...` opening a report.
fn panic(rep: &Report<'_>, r: &[u8]) -> Verdict {
    if let Some(f) = r.strip_prefix(b"stack-protector: Kernel stack is corrupted in:") {
        let f = trim_start(f);
        let sym = crate::grammar::kernel::symbol_of(f);
        let named = !sym.is_empty() && !sym.iter().all(u8::is_ascii_hexdigit);
        let f = if named {
            Some(sym)
        } else {
            rep.trace_frame(&[Has("stack_chk")])
        };
        return framed(ReportType::Panic, "kernel panic: stack is corrupted", f);
    }
    if r.starts_with(b"corrupted stack end detected inside scheduler") {
        let mut frames = Vec::new();
        rep.trace(1, &[Has("schedule"), Has("retint_kernel")], &mut frames);
        return framed(
            ReportType::Panic,
            "kernel panic: corrupted stack end",
            stall_anchor(&frames),
        );
    }
    if r.starts_with(b"Couldn't open N_TTY ldisc") {
        return Titled::new(ReportType::Panic, "kernel panic: Couldn't open N_TTY ldisc")
            .done(false);
    }
    for consequence in [
        &b"Fatal exception"[..],
        b"panic_on_warn set",
        b"hung_task: blocked tasks",
    ] {
        if r.starts_with(consequence) {
            // The report that caused it was lost.
            return corrupt_title(
                ReportType::Panic,
                format!("kernel panic: {}", text(consequence)),
            );
        }
    }
    let msg = match memchr::memmem::find(r, b" exitcode=") {
        Some(p) => &r[..p],
        None => r,
    };
    Titled::new(
        ReportType::Panic,
        format!("kernel panic: {}", text(trim(msg))),
    )
    .done(false)
}

/// `UBSAN: Undefined behaviour in drivers/usb/core/devio.c:1517:25`,
/// `UBSAN: array-index-out-of-bounds in fs/jfs/jfs_dmap.c:2867:6`.
fn ubsan(rep: &Report<'_>, r: &[u8]) -> Verdict {
    let kind = if r.starts_with(b"Undefined behaviour") {
        "undefined-behaviour".to_string()
    } else {
        let p = memchr::memmem::find(r, b" in ").unwrap_or(r.len());
        text(trim(&r[..p]))
    };
    let mut frames = Vec::new();
    rep.trace(1, &[Has("ubsan"), Has("overflow")], &mut frames);
    framed(ReportType::Ubsan, format!("UBSAN: {kind}"), first(&frames))
}

/// ARM and arm64: the `PC is at` / `pc :` line, then `Call trace:` / `Backtrace:`.
fn arm_frames<'a>(rep: &Report<'a>) -> Vec<&'a [u8]> {
    let mut frames = rep.ip_then_trace(1, &[]);
    if frames.is_empty() {
        if let Some(i) = rep.find(1, |l| trim_start(l).starts_with(b"Backtrace:")) {
            rep.stack(i + 1, &[], &mut frames);
        }
    }
    frames
}

/// `Unable to handle kernel paging request at virtual address dead000000000108`,
/// `Unable to handle kernel NULL pointer dereference at virtual address 00000004`,
/// `Unable to handle kernel access to user memory without uaccess routines at virtual address ...`.
fn arm_fault(rep: &Report<'_>, r: &[u8]) -> Verdict {
    let what = if r.starts_with(b"NULL pointer dereference") {
        "NULL pointer dereference"
    } else if r.starts_with(b"access to user memory") {
        "access to user memory"
    } else {
        "paging request"
    };
    framed(
        ReportType::Oops,
        format!("BUG: unable to handle kernel {what}"),
        first(&arm_frames(rep)),
    )
}

/// `trusty: panic (caller 0xffffffffe0002314): failed(-5) to start app 6`,
/// `trusty: panic (...): ASSERT FAILED at (trusty/kernel/lib/trusty/ipc.c:472): !list_in_list(&chan->node)`.
fn trusty(rep: &Report<'_>, h: &[u8]) -> Verdict {
    // A console time stamp glued into the line splits it.
    if let Some(i) = (0..rep.lines.len().min(3)).find(|&i| contains(rep.line(i), b"ASSERT FAILED"))
    {
        let h = rep.line(i);
        let p = memchr::memmem::find(h, b"ASSERT FAILED").unwrap_or(0);
        let r = &h[p..];
        let msg = match memchr::memmem::find(r, b"): ") {
            Some(q) => trim(&r[q + 3..]),
            None => b"",
        };
        return Titled::new(
            ReportType::Bug,
            format!("trusty: ASSERT FAILED: {}", text(msg)),
        )
        .done(false);
    }
    let msg = match memchr::memmem::find(h, b"): ") {
        Some(q) => trim(&h[q + 3..]),
        None => b"",
    };
    Titled::new(ReportType::Bug, format!("trusty: panic: {}", text(msg))).done(false)
}

/// Rust's overflow checks: `attempt to add with overflow` (after
/// `rust_kernel: panicked at ...`), blamed on the first Rust frame below
/// the panic machinery.
fn rust_panic(rep: &Report<'_>, h: &[u8]) -> Verdict {
    let first = rep.trace_frame(&[
        Has("rust_begin_unwind"),
        Has("panicking"),
        Has("panic_const"),
    ]);
    let prefix = text(trim(h));
    match first.and_then(rust_demangle) {
        // A demangled path (`<rust_binder::process::Process>::update_ref`)
        // is kept as it is, numbers included.
        Some(name) => Verdict {
            title: sanitize(&format!("{prefix} in {name}")),
            kind: ReportType::Panic,
            frame: Some(name),
            corrupted: false,
            free_text: false,
        },
        None => framed(ReportType::Panic, prefix, first),
    }
}

/// A Rust v0 mangled symbol `_RNvMs3_NtCshgDM7dBCdno_11rust_binder7processNtB5_7Process10update_ref`
/// as `<rust_binder::process::Process>::update_ref` (the shapes the kernel's
/// Rust code produces: paths of identifiers, inherent and trait impls).
fn rust_demangle(sym: &[u8]) -> Option<String> {
    let s = base_name(sym);
    let s = s.strip_prefix(b"_R")?;
    let mut d = Demangler {
        s,
        pos: 0,
        paths: Vec::new(),
    };
    d.path()
}

struct Demangler<'a> {
    s: &'a [u8],
    pos: usize,
    /// Paths by their starting offset, for back-references.
    paths: Vec<(usize, String)>,
}

impl Demangler<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    /// `_` or a base-62 number ending in `_`.
    fn base62(&mut self) -> Option<usize> {
        if self.peek()? == b'_' {
            self.pos += 1;
            return Some(0);
        }
        let mut n = 0usize;
        loop {
            let c = self.next()?;
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'z' => c - b'a' + 10,
                b'A'..=b'Z' => c - b'A' + 36,
                b'_' => return n.checked_add(1),
                _ => return None,
            };
            n = n.checked_mul(62)?.checked_add(v as usize)?;
        }
    }

    fn disambiguator(&mut self) -> Option<()> {
        if self.peek() == Some(b's') {
            self.pos += 1;
            self.base62()?;
        }
        Some(())
    }

    fn ident(&mut self) -> Option<String> {
        if self.peek() == Some(b'u') {
            return None;
        }
        let start = self.pos;
        while self.peek()?.is_ascii_digit() {
            self.pos += 1;
        }
        let n: usize = std::str::from_utf8(&self.s[start..self.pos])
            .ok()?
            .parse()
            .ok()?;
        if self.peek() == Some(b'_') {
            self.pos += 1;
        }
        let id = self.s.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(String::from_utf8_lossy(id).into_owned())
    }

    fn path(&mut self) -> Option<String> {
        let start = self.pos;
        let out = match self.next()? {
            b'C' => {
                self.disambiguator()?;
                self.ident()?
            }
            b'N' => {
                let _ns = self.next()?;
                let parent = self.path()?;
                self.disambiguator()?;
                let id = self.ident()?;
                format!("{parent}::{id}")
            }
            b'M' => {
                self.disambiguator()?;
                let _impl_path = self.path()?;
                let ty = self.path()?;
                format!("<{ty}>")
            }
            b'X' => {
                self.disambiguator()?;
                let _impl_path = self.path()?;
                let ty = self.path()?;
                let tr = self.path()?;
                format!("<{ty} as {tr}>")
            }
            b'B' => {
                let at = self.base62()?;
                let p = self.paths.iter().find(|(o, _)| *o == at)?.1.clone();
                return Some(p);
            }
            _ => return None,
        };
        self.paths.push((start, out.clone()));
        Some(out)
    }
}

/// An oops header (`WHAT: CODE [#N]`) opening a report.
fn die(rep: &Report<'_>, h: &[u8]) -> Verdict {
    let what = match memchr::memmem::find(h, b" [#") {
        Some(p) => &h[..p],
        None => h,
    };
    let what = match memchr::memrchr(b':', what) {
        Some(c) => &what[..c],
        None => what,
    };
    let what = what.strip_prefix(b"Oops: ").unwrap_or(what);
    let (prefix, kind) = if contains(what, b"general protection fault") {
        ("general protection fault", ReportType::Oops)
    } else if what.starts_with(b"stack segment") {
        ("stack segment fault", ReportType::Oops)
    } else if what.starts_with(b"divide error") || what.starts_with(b"divide_error") {
        ("divide error", ReportType::Oops)
    } else if what.starts_with(b"invalid opcode") {
        ("invalid opcode", ReportType::Oops)
    } else if what.starts_with(b"int3") {
        ("int3", ReportType::Oops)
    } else if what.starts_with(b"Internal error") {
        let frames = arm_frames(rep);
        return framed(ReportType::Oops, "Internal error", first(&frames));
    } else if what.starts_with(b"Oops") || what.is_empty() || what.iter().all(u8::is_ascii_hexdigit)
    {
        ("Oops", ReportType::Oops)
    } else {
        let p = trim(what);
        let p = String::from_utf8_lossy(p).into_owned();
        let frames = rep.ip_then_trace(1, &[]);
        return framed(ReportType::Oops, p, first(&frames));
    };
    let frames = rep.ip_then_trace(1, &[]);
    framed(kind, prefix, first(&frames))
}

/// Whether a titled report is cut or garbled: no stack where its kind
/// always prints one, or a console timestamp glued into its title.
fn broken(rep: &Report<'_>, v: &Verdict) -> bool {
    if has_time_bracket(v.title.as_bytes()) {
        return true;
    }
    let stackless = v.free_text
        || matches!(
            v.kind,
            ReportType::Kcsan | ReportType::Reboot | ReportType::Tool | ReportType::Panic
        )
        || [
            "BUG: Bad rss-counter",
            "BUG: workqueue lockup",
            "BUG: workqueue leaked lock",
            "unregister_netdevice",
            "WARNING: kernel stack",
            "trusty",
            "VFS:",
            "BUG: stack guard page",
        ]
        .iter()
        .any(|p| v.title.starts_with(p))
        || v.title.contains("lock held when returning to user space");
    if stackless {
        return false;
    }
    let headers: Vec<usize> = (1..rep.lines.len())
        .filter(|&i| frames::stack_header(rep.line(i)))
        .collect();
    if headers.is_empty() {
        // Sanitizers print their frames right after the header.
        return !rep.lines.iter().skip(1).any(|l| frames::frame(l).is_some());
    }
    // The first stack of each kind must show a frame before the next one starts.
    let kind = |l: &[u8]| {
        let t = trim_start(l);
        match t.first() {
            Some(b'A') => 1,
            Some(b'F') => 2,
            Some(b'b') => 3,
            _ => 0,
        }
    };
    let mut seen = [false; 4];
    for &i in &headers {
        let k = kind(rep.line(i));
        if std::mem::replace(&mut seen[k], true) {
            continue;
        }
        if rep.lines.len() < i + 3 {
            return true;
        }
        let framed = (i + 1..rep.lines.len().min(i + 16))
            .take_while(|&j| !frames::stack_header(rep.line(j)))
            .any(|j| {
                let l = rep.line(j);
                frames::frame(l).is_some() || contains(l, b"(stack is not available)")
            });
        if !framed {
            return true;
        }
    }
    false
}

/// `[  649.625993]` somewhere in a string.
fn has_time_bracket(t: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'[', &t[from..]) {
        let r = &t[from + p + 1..];
        let r = trim_start(r);
        let d = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if d > 0 && r.get(d) == Some(&b'.') {
            let f = r[d + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if f > 0 && r.get(d + 1 + f) == Some(&b']') {
                return true;
            }
        }
        from += p + 1;
    }
    false
}

/// Make two titles of one bug equal: executor names and numbers, addresses,
/// IP addresses, line numbers, `+0x../0x..` offsets, CPU numbers and other
/// numbers are replaced by placeholders, then [`sanitize`].
pub(crate) fn normalize(title: &str) -> String {
    let t = title.as_bytes();
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let prev = out.last().copied();
        let rest = &t[i..];
        // `syz-executor.3/1234` → `syz-executor`; `syzkaller12345` → `syzkaller`.
        if let Some((name, n)) = executor_name(rest) {
            out.extend_from_slice(name);
            i += n;
            continue;
        }
        let c = t[i];
        let word_start = prev.is_none_or(|p| !p.is_ascii_alphanumeric() && p != b'_');
        // `+0x1ef/0x7b0` after a symbol.
        if c == b'+' && prev.is_some_and(|p| p.is_ascii_alphanumeric() || p == b'_') {
            if let Some(n) = offset_len(&t[i..]) {
                i += n;
                continue;
            }
        }
        // Addresses: 6+ hex digits (optionally `0x`), not inside a word.
        if prev.is_some_and(|p| !p.is_ascii_alphabetic() && p != b'0') {
            let start = if t[i..].starts_with(b"0x") { i + 2 } else { i };
            let h = t[start..]
                .iter()
                .take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                .count();
            if h >= 6 {
                out.extend_from_slice(b"ADDR");
                i = start + h;
                continue;
            }
        }
        // IPv4 addresses.
        if c.is_ascii_digit() && word_start {
            if let Some(n) = ipv4_len(&t[i..]) {
                out.extend_from_slice(b"IP");
                i += n;
                continue;
            }
        }
        // `file.c:123` → `file.c:LINE`.
        if c == b':' && prev.is_some_and(|p| p.is_ascii_alphanumeric()) && ends_with_extension(&out)
        {
            let d = t[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if d > 0 {
                out.extend_from_slice(b":LINE");
                i += 1 + d;
                while t.get(i) == Some(&b':') && t.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    i += 1 + t[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                }
                continue;
            }
        }
        // `CPU#3` → `CPU`.
        if rest.starts_with(b"CPU#") && rest.get(4).is_some_and(u8::is_ascii_digit) {
            out.extend_from_slice(b"CPU");
            i += 4 + rest[4..].iter().take_while(|c| c.is_ascii_digit()).count();
            continue;
        }
        // Other numbers standing alone (or long ones ending a word: `testdir264563108`).
        if c.is_ascii_digit() && prev.is_some_and(|p| !p.is_ascii_digit()) {
            let d = t[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let alone = prev.is_some_and(|p| !p.is_ascii_alphanumeric() && p != b'_');
            if !alone && d < 3 {
                out.extend_from_slice(&t[i..i + d]);
                i += d;
                continue;
            }
            let next = t.get(i + d);
            if next.is_none_or(|n| !n.is_ascii_alphanumeric() && *n != b'_') {
                out.extend_from_slice(b"NUM");
                i += d;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    sanitize(&String::from_utf8_lossy(&out))
}

/// `syz-executor.3/1234`, `syzkaller12345`: the name without its
/// numbers, and the length matched.
fn executor_name(t: &[u8]) -> Option<(&'static [u8], usize)> {
    let name: &'static [u8] = [&b"syz-executor"[..], b"syzkaller"]
        .into_iter()
        .find(|n| t.starts_with(n))?;
    let r = &t[name.len()..];
    let mut k = 0;
    if name == b"syz-executor"
        && r.first() == Some(&b'.')
        && r.get(1).is_some_and(u8::is_ascii_digit)
    {
        k = 1;
    }
    let d = r[k..].iter().take_while(|c| c.is_ascii_digit()).count();
    if d == 0 {
        return Some((name, name.len()));
    }
    k += d;
    if matches!(r.get(k), Some(b'/' | b':')) {
        let d2 = r[k + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if d2 > 0 {
            k += 1 + d2;
        }
    }
    Some((name, name.len() + k))
}

/// `+0x1ef/0x7b0`: its length.
fn offset_len(t: &[u8]) -> Option<usize> {
    let r = t.strip_prefix(b"+0x")?;
    let a = r.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    let r2 = r[a..].strip_prefix(b"/0x")?;
    let b = r2.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    (a > 0 && b > 0).then_some(3 + a + 3 + b)
}

/// `192.168.0.2`: its length.
fn ipv4_len(t: &[u8]) -> Option<usize> {
    let mut k = 0;
    for part in 0..4 {
        let d = t[k..].iter().take_while(|c| c.is_ascii_digit()).count();
        if d == 0 || d > 3 {
            return None;
        }
        k += d;
        if part < 3 {
            if t.get(k) != Some(&b'.') {
                return None;
            }
            k += 1;
        }
    }
    Some(k)
}

/// Whether `out` ends with `.ext` (a file name before `:LINE`).
fn ends_with_extension(out: &[u8]) -> bool {
    let w = out
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    w > 0 && out.len() > w && out[out.len() - w - 1] == b'.'
}

/// At most 120 printable ASCII characters, single spaces, no control bytes:
/// corrupted lines can be long and can hold anything.
pub(crate) fn sanitize(title: &str) -> String {
    let mut out = String::with_capacity(title.len().min(120));
    let mut prev = ' ';
    for (n, c) in title.chars().enumerate() {
        if n >= 120 {
            break;
        }
        let c = if c == '\t' { ' ' } else { c };
        if !(' '..='~').contains(&c) || c == ' ' && prev == ' ' {
            continue;
        }
        out.push(c);
        prev = c;
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn title_of(report: &str) -> Verdict {
        let lines: Vec<&[u8]> = report.lines().map(str::as_bytes).collect();
        verdict(&lines)
    }

    #[test]
    fn normalization() {
        assert_eq!(
            normalize("KASAN: use-after-free in do_con_write.part.23+0x1c50/0x1cb0 at addr ffff88000012c43a"),
            "KASAN: use-after-free in do_con_write.part.NUM at addr ADDR"
        );
        assert_eq!(
            normalize("kernel panic: VFS: Unable to mount root fs on unknown-block(0,0)"),
            "kernel panic: VFS: Unable to mount root fs on unknown-block(NUM,NUM)"
        );
        assert_eq!(
            normalize("INFO: Freed in fasync_free_rcu+0x14/0x20 age=624 cpu=0 pid=3"),
            "INFO: Freed in fasync_free_rcu age=NUM cpu=NUM pid=NUM"
        );
        assert_eq!(
            normalize("WARNING in btrfs_create_new_inode"),
            "WARNING in btrfs_create_new_inode"
        );
        assert_eq!(normalize("a\u{1b}[31m  b\u{fffd}"), "a[31m b");
    }

    #[test]
    fn kasan_title_skips_the_report_machinery() {
        let v = title_of(
            "BUG: KASAN: slab-use-after-free in xas_start+0x1ef/0x7b0\n\
             Read of size 8 at addr ffff888077ec2bf8 by task syz-executor.0/6659\n\
             Call Trace:\n\
             \x20<TASK>\n\
             \x20dump_stack_lvl+0x1e7/0x2d0\n\
             \x20print_report+0x163/0x540\n\
             \x20kasan_report+0x175/0x1b0\n\
             \x20xas_start+0x1ef/0x7b0\n\
             \x20xas_find+0x177/0xaa0\n\
             \x20btrfs_evict_inode+0x208/0x1000\n",
        );
        assert_eq!(
            v.title,
            "KASAN: slab-use-after-free Read in btrfs_evict_inode"
        );
        assert_eq!(v.frame.as_deref(), Some("btrfs_evict_inode"));
        assert_eq!(v.kind, ReportType::Kasan);
        assert!(!v.corrupted);
    }

    #[test]
    fn warning_without_frames_is_corrupted() {
        let v = title_of(
            "WARNING: CPU: 0 PID: 0 at net/sched/sch_generic.c:316 dev_watchdog+0x648/0x770\n",
        );
        assert_eq!(v.title, "WARNING in corrupted");
        assert!(v.corrupted, "no call trace");
        let v = title_of("WARNING: CPU: 0 PID: 1 at kernel/x.c:1 __warn+0x1/0x2\nCall Trace:\n");
        assert_eq!(v.title, "WARNING in corrupted");
        assert!(v.corrupted);
    }

    proptest::proptest! {
        /// Whatever the report holds, its title is at most 120 printable
        /// ASCII characters on one line (no mojibake, no escapes).
        #[test]
        fn titles_are_short_printable_ascii(
            lines in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "", "BUG: KASAN: ", "BUG: KMSAN: ", "BUG: ", "WARNING: ", "WARNING: CPU: 0 PID: 1 at ",
                        "INFO: ", "INFO: task ", "INFO: rcu_sched detected stalls", "kernel BUG at ",
                        "Kernel panic - not syncing: ", "general protection fault: 0000 [#1] ",
                        "Unable to handle kernel ", "UBSAN: ", "RIP: 0010:", " ", "Call Trace:",
                        "[<80112233>] (", "at: ", "_RNv", "_Z", "apic_timer_interrupt",
                        "Read of size ", "trusty: panic", "attempt to add with overflow",
                    ]),
                    proptest::collection::vec(proptest::num::u8::ANY, 0..80),
                ),
                1..40,
            )
        ) {
            let owned: Vec<Vec<u8>> = lines
                .iter()
                .map(|(h, tail)| [h.as_bytes(), tail].concat())
                .collect();
            let refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
            let v = verdict(&refs);
            proptest::prop_assert!(v.title.len() <= 120);
            proptest::prop_assert!(v.title.bytes().all(|b| (0x20..0x7f).contains(&b)), "{:?}", v.title);
        }
    }

    #[test]
    fn cpp_symbols() {
        assert_eq!(cpp_name(b"_Z8fakeNameiii"), b"fakeName");
        assert_eq!(
            cpp_name(b"_Z18446744073709551615x"),
            b"_Z18446744073709551615x"
        );
        assert_eq!(rust_demangle(b"_RNvC18446744073709551615x"), None);
        assert_eq!(cpp_name(b"_Z99x"), b"_Z99x");
        assert_eq!(cpp_name(b"btrfs_evict_inode"), b"btrfs_evict_inode");
    }

    #[test]
    fn rust_symbols() {
        assert_eq!(
            rust_demangle(
                b"_RNvMs3_NtCshgDM7dBCdno_11rust_binder7processNtB5_7Process10update_ref"
            )
            .as_deref(),
            Some("<rust_binder::process::Process>::update_ref")
        );
    }
}
