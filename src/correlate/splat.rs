//! Grouping oops / WARNING / BUG / panic lines into splats with
//! syzkaller-style titles (`kernel BUG in btrfs_check_eb_owner`,
//! `WARNING in btrfs_create_new_inode`, `KASAN: slab-use-after-free Read in xas_start`).
//!
//! A splat starts at its WARNING / `kernel BUG at` / `BUG:` / Oops header /
//! panic / hung-task line. Titles that need the faulting function take it
//! from the first `RIP:` that follows (skipping generic helpers such as
//! `fortify_panic` or `__schedule`), or from the first reliable call-trace
//! frame. On a console where several CPUs oops at once, lines interleave:
//! pending splats are served first-in first-out, an Oops header `[#N]`
//! attaches to the oldest `kernel BUG at` still waiting for one, and a
//! `file:line` already resolved gives the same function to every later BUG
//! at that location.

use std::collections::HashMap;

use crate::correlate::evidence::Evidence;
use crate::event::{Event, EventKind};
use crate::grammar::kernel::OopsLine;
use crate::prefix::Caller;

/// What started a splat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum SplatKind {
    /// `WARNING:`
    #[serde(rename = "WARNING")]
    Warning,
    /// `kernel BUG at` / `BUG:`
    #[serde(rename = "BUG")]
    Bug,
    /// `BUG: KASAN:`
    #[serde(rename = "KASAN")]
    Kasan,
    /// An Oops header with no BUG line before it (`general protection fault`, `Oops:`).
    #[serde(rename = "Oops")]
    Oops,
    /// `Kernel panic - not syncing:` not caused by an earlier splat.
    #[serde(rename = "panic")]
    Panic,
    /// `INFO: task ... blocked`, RCU stalls.
    #[serde(rename = "INFO")]
    Info,
}

impl SplatKind {
    /// Name as serialised.
    pub fn name(self) -> &'static str {
        match self {
            SplatKind::Warning => "WARNING",
            SplatKind::Bug => "BUG",
            SplatKind::Kasan => "KASAN",
            SplatKind::Oops => "Oops",
            SplatKind::Panic => "panic",
            SplatKind::Info => "INFO",
        }
    }
}

/// One kernel splat.
#[derive(Debug, Clone)]
pub struct Splat {
    /// What started it.
    pub kind: SplatKind,
    /// The syzkaller-style title.
    pub title: String,
    /// Its first line (the WARNING / BUG / Oops / panic line).
    pub evidence: Evidence,
    /// `file:line` from a WARNING or `kernel BUG at` line.
    pub location: Option<String>,
    /// The function the title names, once known.
    pub func: Option<String>,
    /// The die counter of its Oops header.
    pub die: Option<u32>,
    /// A `Kernel panic - not syncing: Fatal exception` followed it.
    pub panicked: bool,
    /// `WARNING ... at fs/btrfs/extent_io.c:N end_bbio_meta_read`: the kernel's
    /// own duplicate-read check (6.10+).
    pub end_bbio_meta_read: bool,
    /// Waiting for a function name.
    pending: Pending,
    /// Waiting for an Oops header.
    wants_header: bool,
    caller: Option<Caller>,
    input: u32,
    kasan_access: Option<&'static str>,
    base_title: TitleShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// Title complete.
    No,
    /// Take the function from RIP (or frames if RIP is generic).
    Rip,
    /// Take the function from call-trace frames only (hung tasks, stalls).
    Frames,
    /// RIP was generic; take the first reliable frame.
    FramesAfterRip,
}

/// How to build the title once the function is known.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TitleShape {
    /// `PREFIX in FUNC`, falling back to `FALLBACK`.
    In { prefix: String, fallback: String },
    /// Fixed.
    Fixed,
}

/// Functions that never name the culprit (syzkaller skips similar frames).
fn generic_function(f: &[u8]) -> bool {
    const EXACT: &[&[u8]] = &[
        b"fortify_panic",
        b"__fortify_panic",
        b"__warn",
        b"report_bug",
        b"handle_bug",
        b"exc_invalid_op",
        b"asm_exc_invalid_op",
        b"do_trap",
        b"do_error_trap",
        b"die",
        b"__die",
        b"__die_body",
        b"oops_begin",
        b"panic",
        b"show_stack",
        b"print_report",
        b"schedule",
        b"__schedule",
        b"schedule_timeout",
        b"schedule_preempt_disabled",
        b"io_schedule",
        b"io_schedule_timeout",
        b"bit_wait_io",
        b"bit_wait",
        b"__wait_on_bit",
        b"out_of_line_wait_on_bit",
        b"__wait_on_buffer",
        b"__wait_for_common",
        b"wait_for_completion",
        b"__switch_to",
        b"lock_acquire",
        b"__lock_acquire",
        b"srso_return_thunk",
        b"ret_from_fork",
        b"ret_from_fork_asm",
        b"kthread",
        b"folio_wait_bit_common",
        b"rwsem_down_read_slowpath",
        b"rwsem_down_write_slowpath",
        b"down_read",
        b"down_write",
        b"__might_fault",
        b"__might_sleep",
        b"___might_sleep",
        b"memcpy",
        b"memset",
        b"__memset",
        b"__memcpy",
        b"memmove",
        b"strlen",
        b"strcpy",
        b"strncpy",
        b"xas_start",
        b"xas_load",
        b"xas_find",
    ];
    const PREFIXES: &[&[u8]] = &[
        b"dump_stack",
        b"__dump_stack",
        b"warn_slowpath",
        b"kasan_",
        b"__kasan_",
        b"__asan_",
        b"asan_",
        b"check_memory_region",
        b"print_address_description",
        b"nmi_",
        b"_raw_spin",
        b"__raw_spin",
        b"native_",
        b"pv_",
        b"__pv_",
        b"mutex_lock",
        b"__mutex_lock",
        b"lockdep_",
        b"rcu_",
        b"__x64_sys_",
        b"do_syscall",
        b"entry_SYSCALL",
        b"__fortify",
        b"ubsan_",
        b"__ubsan_",
        b"__sanitizer_cov",
        b"register_lock_class",
        b"__lockdep",
        b"lock_release",
    ];
    EXACT.contains(&f) || PREFIXES.iter().any(|p| f.starts_with(p))
}

/// Groups oops lines into splats.
#[derive(Debug, Default)]
pub struct SplatTracker {
    /// The splats found, in order.
    pub splats: Vec<Splat>,
    /// `file:line` → function, learned from resolved `kernel BUG at` splats.
    loc_func: HashMap<String, String>,
    /// Index of the splat whose call trace is being read.
    in_trace: Option<usize>,
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A function name for a title: without compiler suffixes (`.cold`,
/// `.isra.0`, `.part.0`, `.constprop.0`), as syzkaller prints it.
fn func_name(b: &[u8]) -> String {
    let base = b.split(|&c| c == b'.').next().unwrap_or(b);
    s(if base.is_empty() { b } else { base })
}

/// Lockdep and other kernel `WARNING:` texts that are splats even without a console prefix.
fn known_warning_text(t: &[u8]) -> bool {
    const KNOWN: [&[u8]; 9] = [
        b"possible ",
        b"suspicious RCU usage",
        b"bad unlock balance",
        b"inconsistent lock state",
        b"lock held ",
        b"held lock freed",
        b"kernel stack ",
        b"CPU: ",
        b"refcount_t: ",
    ];
    KNOWN.iter().any(|k| t.starts_with(k))
}

impl SplatTracker {
    /// Feed one event (only oops lines matter).
    pub fn event(&mut self, e: &Event<'_>) {
        let EventKind::Oops(line) = e.kind else {
            return;
        };
        match line {
            OopsLine::Warning { location, func } => {
                let loc = location.map(s);
                let meta = func == Some(b"end_bbio_meta_read")
                    || location.is_some_and(|l| l.starts_with(b"fs/btrfs/extent_io.c"))
                        && func.is_none_or(|f| f == b"end_bbio_meta_read");
                let shape = TitleShape::In {
                    prefix: "WARNING".into(),
                    fallback: loc
                        .as_ref()
                        .map_or_else(|| "WARNING".to_string(), |l| format!("WARNING at {l}")),
                };
                let i = self.start(e, SplatKind::Warning, shape, loc, false);
                let sp = &mut self.splats[i];
                sp.end_bbio_meta_read = meta && func.is_some();
                match func {
                    Some(f) => self.resolve(i, &func_name(f)),
                    None => sp.pending = Pending::Rip,
                }
            }
            OopsLine::WarningText(t) => {
                // Unprefixed text (user space on the console, ld.so) is not a kernel splat.
                if !e.prefixed && !known_warning_text(t) {
                    return;
                }
                let title = format!("WARNING: {}", s(t));
                let i = self.start(e, SplatKind::Warning, TitleShape::Fixed, None, false);
                self.splats[i].title = title;
                self.splats[i].pending = Pending::No;
            }
            OopsLine::KernelBug { location } => {
                let loc = s(location);
                let shape = TitleShape::In {
                    prefix: "kernel BUG".into(),
                    fallback: format!("kernel BUG at {loc}"),
                };
                let known = self.loc_func.get(&loc).cloned();
                let i = self.start(e, SplatKind::Bug, shape, Some(loc), true);
                match known {
                    Some(f) => self.resolve(i, &f),
                    None => self.splats[i].pending = Pending::Rip,
                }
            }
            OopsLine::Kasan { kind, func } => {
                let shape = TitleShape::In {
                    prefix: format!("KASAN: {}", s(kind)),
                    fallback: format!("KASAN: {}", s(kind)),
                };
                let i = self.start(e, SplatKind::Kasan, shape, None, true);
                match func {
                    Some(f) if !f.is_empty() && !generic_function(f) => {
                        self.resolve(i, &func_name(f))
                    }
                    _ => self.splats[i].pending = Pending::Frames,
                }
            }
            OopsLine::KasanAccess { write } => {
                if let Some(sp) = self
                    .splats
                    .iter_mut()
                    .rev()
                    .find(|sp| sp.kind == SplatKind::Kasan && sp.input == e.pos.input)
                {
                    if sp.kasan_access.is_none() {
                        sp.kasan_access = Some(if write { "Write" } else { "Read" });
                        rebuild_title(sp);
                    }
                }
            }
            OopsLine::Bug(text) => {
                let (prefix, needs_func) = bug_title(text);
                let shape = if needs_func {
                    TitleShape::In {
                        prefix: prefix.clone(),
                        fallback: prefix.clone(),
                    }
                } else {
                    TitleShape::Fixed
                };
                let i = self.start(e, SplatKind::Bug, shape, None, needs_func);
                let sp = &mut self.splats[i];
                sp.title = prefix;
                sp.pending = if needs_func {
                    Pending::Rip
                } else {
                    Pending::No
                };
            }
            OopsLine::OopsHeader { what, die } => {
                let caller = e.caller;
                let input = e.pos.input;
                let waiting = self.splats.iter().position(|sp| {
                    sp.wants_header
                        && sp.input == input
                        && (caller.is_none() || sp.caller.is_none() || sp.caller == caller)
                });
                match waiting {
                    Some(i) => {
                        let sp = &mut self.splats[i];
                        sp.wants_header = false;
                        sp.die = Some(die);
                    }
                    None => {
                        let what = s(what);
                        let what = what.strip_prefix("Oops - ").unwrap_or(&what).to_string();
                        let shape = TitleShape::In {
                            prefix: what.clone(),
                            fallback: what,
                        };
                        let i = self.start(e, SplatKind::Oops, shape, None, false);
                        self.splats[i].die = Some(die);
                        self.splats[i].pending = Pending::Rip;
                    }
                }
            }
            OopsLine::Panic(msg) => {
                // Panics that are the consequence of the splat before them.
                let after_splat = msg.starts_with(b"Fatal exception")
                    || memchr::memmem::find(msg, b"panic_on_warn set").is_some()
                    || msg.starts_with(b"hung_task: blocked tasks")
                    || msg.starts_with(b"softlockup: hung tasks")
                    || msg.starts_with(b"RCU Stall");
                let input = e.pos.input;
                if after_splat {
                    if let Some(sp) = self.splats.iter_mut().rev().find(|sp| sp.input == input) {
                        sp.panicked = true;
                        return;
                    }
                }
                let i = self.start(e, SplatKind::Panic, TitleShape::Fixed, None, false);
                let msg = s(msg);
                let msg = msg.split(" exitcode=").next().unwrap_or(&msg).trim_end();
                self.splats[i].title = format!("kernel panic: {msg}");
                self.splats[i].pending = Pending::No;
            }
            OopsLine::Hung | OopsLine::RcuStall | OopsLine::Lockdep(_) => {
                let lockdep;
                let prefix = match line {
                    OopsLine::Hung => "INFO: task hung",
                    OopsLine::Lockdep(l) => {
                        lockdep = format!("INFO: {}", s(l));
                        &lockdep
                    }
                    _ => "INFO: rcu detected stall",
                };
                let shape = TitleShape::In {
                    prefix: prefix.into(),
                    fallback: prefix.into(),
                };
                let i = self.start(e, SplatKind::Info, shape, None, false);
                self.splats[i].pending = Pending::Frames;
            }
            OopsLine::Rip { func: Some(f) } => {
                if let Some(i) = self.oldest_pending(e, &[Pending::Rip]) {
                    if generic_function(f) {
                        self.splats[i].pending = Pending::FramesAfterRip;
                        self.in_trace = Some(i);
                    } else {
                        self.resolve(i, &func_name(f));
                    }
                }
            }
            OopsLine::CallTrace => {
                self.in_trace = self
                    .oldest_pending(e, &[Pending::Frames, Pending::FramesAfterRip, Pending::Rip]);
            }
            OopsLine::Frame {
                func,
                unreliable: false,
            } => {
                if let Some(i) = self.in_trace {
                    let sp = &self.splats[i];
                    if sp.pending != Pending::No
                        && sp.input == e.pos.input
                        && !generic_function(func)
                    {
                        self.resolve(i, &func_name(func));
                        self.in_trace = None;
                    }
                }
            }
            OopsLine::EndTrace => {
                self.in_trace = None;
            }
            _ => {}
        }
    }

    fn start(
        &mut self,
        e: &Event<'_>,
        kind: SplatKind,
        shape: TitleShape,
        location: Option<String>,
        wants_header: bool,
    ) -> usize {
        let title = match &shape {
            TitleShape::In { fallback, .. } => fallback.clone(),
            TitleShape::Fixed => String::new(),
        };
        self.splats.push(Splat {
            kind,
            title,
            evidence: Evidence::from_event(e, "splat"),
            location,
            func: None,
            die: None,
            panicked: false,
            end_bbio_meta_read: false,
            pending: Pending::No,
            wants_header,
            caller: e.caller,
            input: e.pos.input,
            kasan_access: None,
            base_title: shape,
        });
        self.splats.len() - 1
    }

    fn oldest_pending(&self, e: &Event<'_>, states: &[Pending]) -> Option<usize> {
        let caller = e.caller;
        // Prefer a splat from the same printk caller; else the oldest one waiting.
        let waiting = |sp: &&Splat| states.contains(&sp.pending) && sp.input == e.pos.input;
        let same = self
            .splats
            .iter()
            .enumerate()
            .filter(|(_, sp)| waiting(sp) && caller.is_some() && sp.caller == caller)
            .map(|(i, _)| i)
            .next();
        same.or_else(|| {
            self.splats
                .iter()
                .enumerate()
                .filter(|(_, sp)| waiting(sp))
                .map(|(i, _)| i)
                .next()
        })
    }

    fn resolve(&mut self, i: usize, func: &str) {
        let sp = &mut self.splats[i];
        sp.func = Some(func.to_string());
        sp.pending = Pending::No;
        if sp.kind == SplatKind::Warning
            && sp
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with("fs/btrfs/extent_io.c"))
        {
            sp.end_bbio_meta_read = func == "end_bbio_meta_read";
        }
        rebuild_title(sp);
        if sp.kind == SplatKind::Bug {
            if let Some(loc) = sp.location.clone() {
                let func = func.to_string();
                self.loc_func.insert(loc.clone(), func.clone());
                // Every BUG at the same file:line is in the same function.
                for other in self.splats.iter_mut() {
                    if other.pending != Pending::No
                        && other.kind == SplatKind::Bug
                        && other.location.as_deref() == Some(&loc)
                    {
                        other.func = Some(func.clone());
                        other.pending = Pending::No;
                        rebuild_title(other);
                    }
                }
            }
        }
    }

    /// The splats, with pending titles settled on their fallbacks.
    pub fn finish(&mut self) -> &[Splat] {
        for sp in &mut self.splats {
            sp.pending = Pending::No;
        }
        &self.splats
    }
}

fn rebuild_title(sp: &mut Splat) {
    if let TitleShape::In { prefix, fallback } = &sp.base_title {
        let prefix = match sp.kasan_access {
            Some(acc) => format!("{prefix} {acc}"),
            None => prefix.clone(),
        };
        sp.title = match &sp.func {
            Some(f) => format!("{prefix} in {f}"),
            None => match sp.kasan_access {
                Some(_) => prefix,
                None => fallback.clone(),
            },
        };
    }
}

/// Title prefix of a `BUG:` line, and whether it takes ` in FUNC`.
fn bug_title(text: &[u8]) -> (String, bool) {
    let t = s(text);
    const WITH_FUNC: [(&str, &str); 6] = [
        (
            "kernel NULL pointer dereference",
            "BUG: kernel NULL pointer dereference",
        ),
        (
            "unable to handle page fault",
            "BUG: unable to handle kernel paging request",
        ),
        (
            "unable to handle kernel paging request",
            "BUG: unable to handle kernel paging request",
        ),
        (
            "unable to handle kernel NULL pointer dereference",
            "BUG: unable to handle kernel NULL pointer dereference",
        ),
        ("soft lockup", "BUG: soft lockup"),
        ("scheduling while atomic", "BUG: scheduling while atomic"),
    ];
    for (needle, title) in WITH_FUNC {
        if t.starts_with(needle) {
            return (title.to_string(), true);
        }
    }
    let cut = t.find([':', ',']).unwrap_or(t.len());
    (format!("BUG: {}", t[..cut].trim()), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{read_input, ReadOptions};
    use crate::record::Record;

    fn titles(text: &str) -> Vec<(String, u64, bool)> {
        let mut t = SplatTracker::default();
        let mut sink = |r: &Record<'_>| {
            if let Some(e) = crate::event::Recognizer::builtin().recognize(r) {
                t.event(&e);
            }
        };
        read_input(0, text.as_bytes(), &ReadOptions::default(), &mut sink);
        t.finish()
            .iter()
            .map(|s| (s.title.clone(), s.evidence.pos.line, s.panicked))
            .collect()
    }

    #[test]
    fn warning_and_bug_titles() {
        let t = titles(
            "[  178.564993] ------------[ cut here ]------------\n\
             [  178.567792] BTRFS: Transaction aborted (error -17)\n\
             [  178.570606] WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450 btrfs_create_new_inode+0xa46/0xa70 [btrfs]\n\
             [  178.607815] RIP: 0010:btrfs_create_new_inode+0xa46/0xa70 [btrfs]\n\
             [  178.800079] ---[ end trace 0000000000000000 ]---\n",
        );
        assert_eq!(
            t,
            vec![("WARNING in btrfs_create_new_inode".to_string(), 3, false)]
        );
        let t = titles(
            "[  707.299280] ------------[ cut here ]------------\n\
             [  707.299281] kernel BUG at fs/btrfs/tree-checker.c:2070!\n\
             [  707.299290] NMI backtrace for cpu 6\n\
             [  707.299629] RIP: 0010:btrfs_check_eb_owner+0xde/0x120 [btrfs]\n\
             [  707.300439] RIP: 0010:native_write_msr+0xa/0x30\n\
             [  707.330039] kernel BUG at fs/btrfs/tree-checker.c:2070!\n\
             [  707.309525] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n\
             [  727.384866] invalid opcode: 0000 [#2] PREEMPT SMP NOPTI\n\
             [  727.436554] Kernel panic - not syncing: Fatal exception\n",
        );
        assert_eq!(
            t,
            vec![
                ("kernel BUG in btrfs_check_eb_owner".to_string(), 2, false),
                ("kernel BUG in btrfs_check_eb_owner".to_string(), 6, true),
            ]
        );
    }

    #[test]
    fn warning_wrapped_without_function_takes_rip() {
        let t = titles("WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450\nRIP: 0010:btrfs_create_new_inode+0xa46/0xa70 [btrfs]\n");
        assert_eq!(t[0].0, "WARNING in btrfs_create_new_inode");
        let t = titles("WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450\n");
        assert_eq!(t[0].0, "WARNING at fs/btrfs/inode.c:6450");
    }

    #[test]
    fn kasan_hung_and_panic() {
        let t = titles("BUG: KASAN: slab-out-of-bounds in do_raw_write_lock+0x1/0x2\nWrite of size 4 at addr ffff\n");
        assert_eq!(
            t[0].0,
            "KASAN: slab-out-of-bounds Write in do_raw_write_lock"
        );
        let t = titles(
            "INFO: task jbd2/sda-8:3563 blocked for more than 140 seconds.\nCall Trace:\n __schedule+0x897/0x1e60\n schedule+0xfe/0x350\n jbd2_journal_commit_transaction+0x658a/0x8ee4\n",
        );
        assert_eq!(t[0].0, "INFO: task hung in jbd2_journal_commit_transaction");
        let t = titles("Kernel panic - not syncing: sysrq triggered crash\n");
        assert_eq!(t[0].0, "kernel panic: sysrq triggered crash");
        let t = titles("BUG: kernel NULL pointer dereference, address: 0000000000000001\nOops: 0000 [#1] SMP NOPTI\nRIP: 0010:__set_page_dirty_buffers+0x5a/0x110\n");
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].0,
            "BUG: kernel NULL pointer dereference in __set_page_dirty_buffers"
        );
        let t = titles("Speculative Return Stack Overflow: WARNING: See https://kernel.org/doc/html/latest/admin-guide/hw-vuln/srso.html for more details.\n");
        assert!(t.is_empty());
    }
}
