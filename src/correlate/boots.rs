//! Boots: where one run of the kernel ends and the next begins.
//!
//! A serial console logged across `kernel.panic=5` (the recipe of the March
//! 2024 thread) records boot after boot in one file, and so does `cat` of
//! several dmesg files. Nothing lives across a boot: extent-buffer
//! lifetimes, per-CPU trace windows, lost events, dumps and splats are all
//! scoped to the boot they happened in, and the correlator closes them at a
//! boundary ([`Boots::record`] says when).
//!
//! A new boot starts at
//!
//! * the kernel's banner, `Linux version 6.8.0-rc7-euclean+ (tavianator@tachyon) ...`,
//!   when the current boot already printed kernel output (a banner at the
//!   top of a capture only names the release);
//! * the printk clock of kernel messages going back to about zero
//!   (`[    0.000000]` after `[ 2740.328424]`), for captures whose banner
//!   was cut (trace lines do not count: the parallel reader sums them up in
//!   runs, and their printk times say nothing a kernel message would not);
//! * a new `Dumping ftrace buffer:` after a reboot line (`Rebooting in 5
//!   seconds..`, `reboot: Restarting system`) with neither of the above in
//!   between, for captures without printk times;
//! * a trace file's header (`# tracer: nop`, trace-cmd's `cpus=8`) after
//!   trace output: another `trace` file, whose clock starts afresh (the
//!   files of several boots concatenated, or two snapshots of one buffer,
//!   which would otherwise repeat its events);
//! * journalctl's `-- Boot 5d3c... --` and `-- Reboot --` markers.
//!
//! Input boundaries are not boot boundaries: a dmesg and a trace file of one
//! boot, or one capture split in two, are one boot.

use super::keep::HeadTail;
use crate::grammar::{Body, Framing, Header};
use crate::input::Pos;
use crate::record::Record;

/// A printk time at or below this is "about zero": the first seconds of a boot.
const NEAR_ZERO_NS: u64 = 10_000_000_000;

/// The printk clock must have gone at least this far back for a new boot:
/// records of one boot may come a little out of order (several CPUs, two
/// consoles), never by minutes.
const MIN_JUMP_BACK_NS: u64 = 30_000_000_000;

/// Boots listed from the start of a capture ([`super::keep::HeadTail`]).
pub(crate) const FIRST_BOOTS_KEPT: usize = 64;

/// Latest boots listed; the current one is among them.
pub(crate) const LAST_BOOTS_KEPT: usize = 64;

/// Longest kernel release kept (`6.8.0-rc7-euclean+`).
const MAX_RELEASE: usize = 64;

/// Why a boot starts where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum BootStart {
    /// The first record of the run.
    Start,
    /// A `Linux version` banner.
    Banner,
    /// The printk clock went back to about zero.
    ClockReset,
    /// A new ftrace dump after a reboot line.
    DumpAfterReboot,
    /// A trace file's header after trace output.
    TraceHeader,
    /// journalctl's boot marker.
    Journal,
}

/// One boot of the machine, as far as the capture shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Boot {
    /// Its first record (input and line; the offset is 0).
    pub first: Pos,
    /// Its last record (input and line; the offset is 0).
    pub last: Pos,
    /// What started it.
    pub start: BootStart,
    /// The kernel release from its banner (`6.8.0-rc7-euclean+`) or from an
    /// oops header (`Not tainted 6.8.0-rc7 #1`), when printed.
    pub release: Option<String>,
}

/// The boots of a run, found record by record: the first
/// [`FIRST_BOOTS_KEPT`] and the latest [`LAST_BOOTS_KEPT`] are kept,
/// the ones between counted.
#[derive(Debug)]
pub struct Boots {
    boots: HeadTail<Boot>,
    /// The current boot printed kernel output (a kernel message or trace
    /// event) or has a banner: a banner now starts another boot.
    has_output: bool,
    /// The current boot's banner was seen.
    has_banner: bool,
    /// The latest printk time of the current boot's records other than
    /// trace lines.
    max_console_ns: Option<u64>,
    /// A reboot line was seen in the current boot.
    rebooting: bool,
}

impl Default for Boots {
    fn default() -> Boots {
        Boots::keeping(FIRST_BOOTS_KEPT, LAST_BOOTS_KEPT)
    }
}

impl Boots {
    /// Note one record. Returns true when it starts a new boot (not for the
    /// first record of the run): the caller closes what the old one left open.
    fn keeping(first: usize, last: usize) -> Boots {
        Boots {
            boots: HeadTail::new(first, last),
            has_output: false,
            has_banner: false,
            max_console_ns: None,
            rebooting: false,
        }
    }

    pub(crate) fn record(&mut self, r: &Record<'_>) -> bool {
        // Where a boot is: its input and line (the byte offset is not kept:
        // the parallel reader's runs of trace lines do not carry one).
        let at = Pos { offset: 0, ..r.pos };
        let start = self.starts_boot(r);
        let new = match start {
            Some(why) if !self.boots.is_empty() => {
                self.begin(at, why);
                true
            }
            _ => {
                if self.boots.is_empty() {
                    self.begin(at, BootStart::Start);
                }
                false
            }
        };
        let last = Pos {
            line: r.pos.line + u64::from(r.lines.max(1)) - 1,
            ..at
        };
        self.observe(r, last);
        new
    }

    /// A run of trace events of the current boot, from `first` to `last`.
    pub(crate) fn trace(&mut self, first: Pos, last: Pos) {
        if self.boots.is_empty() {
            self.begin(first, BootStart::Start);
        }
        self.has_output = true;
        if let Some(b) = self.boots.newest_mut() {
            b.last = last;
        }
    }

    fn begin(&mut self, at: Pos, why: BootStart) {
        self.boots.push(Boot {
            first: at,
            last: at,
            start: why,
            release: None,
        });
        self.has_output = false;
        self.has_banner = false;
        self.max_console_ns = None;
        self.rebooting = false;
    }

    /// Whether `r` starts a new boot, and why.
    fn starts_boot(&self, r: &Record<'_>) -> Option<BootStart> {
        if banner(r).is_some() && (self.has_output || self.has_banner) {
            return Some(BootStart::Banner);
        }
        let traced = matches!(r.body, Body::Trace(_));
        if let (Some(ns), Some(max), false) = (r.prefixes.printk_ns, self.max_console_ns, traced) {
            if ns <= NEAR_ZERO_NS && max >= ns.saturating_add(MIN_JUMP_BACK_NS) {
                return Some(BootStart::ClockReset);
            }
        }
        match r.body {
            Body::Framing(Framing::DumpStart { .. }) if self.rebooting => {
                Some(BootStart::DumpAfterReboot)
            }
            Body::Header(Header::Tracer(_) | Header::TraceCmdVersion(_)) if self.has_output => {
                Some(BootStart::TraceHeader)
            }
            Body::Header(Header::Journal) if self.has_output && journal_boot(r.msg) => {
                Some(BootStart::Journal)
            }
            _ => None,
        }
    }

    /// Note what `r`, whose last physical line is at `last`, tells about the
    /// current boot.
    fn observe(&mut self, r: &Record<'_>, last: Pos) {
        let Some(b) = self.boots.newest_mut() else {
            return;
        };
        b.last = last;
        if let Some(release) = banner(r) {
            b.release = Some(release);
            self.has_banner = true;
        }
        if let Some(ns) = r
            .prefixes
            .printk_ns
            .filter(|_| !matches!(r.body, Body::Trace(_)))
        {
            self.max_console_ns = Some(self.max_console_ns.map_or(ns, |m| m.max(ns)));
        }
        match &r.body {
            Body::Kernel(text) => {
                self.has_output = true;
                if reboot_line(text) {
                    self.rebooting = true;
                }
                if b.release.is_none() {
                    b.release = oops_release(text);
                }
            }
            Body::Trace(_) => self.has_output = true,
            _ => {}
        }
    }

    /// Boots that remember only the current one, for a caller that needs
    /// no more than the current boot's number (`events`).
    pub(crate) fn current_only() -> Boots {
        Boots::keeping(0, 1)
    }

    /// The current boot's number (0 before any record).
    pub(crate) fn current(&self) -> u32 {
        u32::try_from(self.boots.total().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// Boots found, listed or not.
    pub(crate) fn count(&self) -> u64 {
        self.boots.total()
    }

    /// Boots found but not listed.
    pub(crate) fn not_listed(&self) -> u64 {
        self.boots.not_kept()
    }

    /// Boot `n`, if listed.
    pub(crate) fn get(&self, n: u32) -> Option<&Boot> {
        self.boots.get(u64::from(n))
    }

    /// The listed boots with their numbers, in order.
    pub(crate) fn listed(&self) -> impl Iterator<Item = (u32, &Boot)> + '_ {
        self.boots
            .iter()
            .map(|(n, b)| (u32::try_from(n).unwrap_or(u32::MAX), b))
    }
}

/// The kernel message of a record: a kernel line's text, or the message a
/// tracefs `console:` event carries (without its own `[time]`).
fn kernel_text<'a>(r: &Record<'a>) -> Option<&'a [u8]> {
    match &r.body {
        Body::Kernel(text) => Some(text),
        Body::Trace(t) => crate::event::console_message(t),
        _ => None,
    }
}

/// The release a `Linux version 6.8.0-rc7-euclean+ (...)` banner names.
fn banner(r: &Record<'_>) -> Option<String> {
    let text = kernel_text(r)?;
    let rest = crate::fields::trim_start(text).strip_prefix(b"Linux version ")?;
    release_token(rest)
}

/// The first white-space delimited token, as a release (a plausible one:
/// starts with a digit, printable, not too long).
fn release_token(b: &[u8]) -> Option<String> {
    let end = b
        .iter()
        .position(|c| c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let t = &b[..end];
    let plausible = t.first().is_some_and(u8::is_ascii_digit)
        && t.len() <= MAX_RELEASE
        && t.iter().all(|c| c.is_ascii_graphic());
    plausible.then(|| String::from_utf8_lossy(t).into_owned())
}

/// The release an oops header's CPU line names:
/// `CPU: 22 PID: 2159 Comm: iou-wrk-2130 Not tainted 6.8.0-rc7-euclean+ #15`,
/// `... Tainted: G        W          6.8.0-rc7 #1`.
fn oops_release(text: &[u8]) -> Option<String> {
    let t = crate::fields::trim_start(text);
    if !t.starts_with(b"CPU: ") {
        return None;
    }
    let after = if let Some(p) = memchr::memmem::find(t, b" Not tainted ") {
        &t[p + 13..]
    } else {
        let p = memchr::memmem::find(t, b" Tainted: ")?;
        // The taint flags, then the release: the first token starting with a digit.
        let flags = &t[p + 10..];
        let at = flags
            .windows(2)
            .position(|w| w[0] == b' ' && w[1].is_ascii_digit())?;
        &flags[at + 1..]
    };
    release_token(crate::fields::trim_start(after))
}

/// journalctl's marker between boots: `-- Boot 5d3c2d7e... --` (with
/// `--list-boots`/`-b all`) or `-- Reboot --` (older journalctl).
fn journal_boot(msg: &[u8]) -> bool {
    let t = crate::fields::trim_start(msg);
    t.starts_with(b"-- Boot ") || t.starts_with(b"-- Reboot --")
}

/// A line the kernel prints on its way to a reboot.
fn reboot_line(text: &[u8]) -> bool {
    let t = crate::fields::trim_start(text);
    t.starts_with(b"Rebooting in ")
        || t.starts_with(b"reboot: Restarting system")
        || t.starts_with(b"reboot: Power down")
        || t.starts_with(b"---[ end Kernel panic")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{read_input, ReadOptions};

    #[test]
    fn current_only_counts_boots_and_keeps_one() {
        let text = "[    0.000000] Linux version 6.8.0 (b@h) #1\n\
                    [    1.000000] BTRFS info (device sda): first mount\n\
                    [    0.000000] Linux version 6.8.0 (b@h) #2\n\
                    [    1.000000] BTRFS info (device sda): first mount\n\
                    [    0.000000] Linux version 6.8.0 (b@h) #3\n\
                    [    1.000000] BTRFS info (device sda): first mount\n";
        let (mut all, mut one) = (Boots::default(), Boots::current_only());
        let mut seen = Vec::new();
        let mut sink = |r: &Record<'_>| {
            all.record(r);
            one.record(r);
            seen.push((all.current(), one.current()));
        };
        read_input(0, text.as_bytes(), &ReadOptions::default(), &mut sink);
        assert!(seen.iter().all(|&(a, o)| a == o), "{seen:?}");
        assert_eq!(one.current(), 2);
        assert_eq!(all.count(), 3);
        assert_eq!(one.count(), 3);
        assert_eq!(one.not_listed(), 2);
        assert_eq!(one.listed().collect::<Vec<_>>(), [(2, all.get(2).unwrap())]);
    }

    #[test]
    fn the_first_and_the_latest_boots_are_listed_the_rest_counted() {
        let n = FIRST_BOOTS_KEPT + LAST_BOOTS_KEPT + 1000;
        let text: String = (0..n)
            .map(|i| {
                format!(
                    "[    0.000000] Linux version 6.{i}.0 (b@h) #1\n\
                     [    1.000000] BTRFS info (device sda): first mount\n"
                )
            })
            .collect();
        let mut b = Boots::default();
        read_input(
            0,
            text.as_bytes(),
            &ReadOptions::default(),
            &mut |r: &Record<'_>| {
                b.record(r);
            },
        );
        assert_eq!(b.count(), n as u64);
        assert_eq!(b.current() as usize, n - 1);
        assert_eq!(b.not_listed(), 1000);
        let numbers: Vec<u32> = b.listed().map(|(i, _)| i).collect();
        assert_eq!(numbers.len(), FIRST_BOOTS_KEPT + LAST_BOOTS_KEPT);
        assert_eq!(numbers[FIRST_BOOTS_KEPT - 1] as usize, FIRST_BOOTS_KEPT - 1);
        assert_eq!(numbers[FIRST_BOOTS_KEPT] as usize, FIRST_BOOTS_KEPT + 1000);
        // A listed boot keeps its own number, lines and release.
        let last = b.get((n - 1) as u32).unwrap();
        assert_eq!(
            last.release.as_deref(),
            Some(format!("6.{}.0", n - 1).as_str())
        );
        assert_eq!(last.first.line, 2 * n as u64 - 1);
        assert!(b.get(FIRST_BOOTS_KEPT as u32).is_none());
    }

    fn boots(text: &str) -> (Vec<Boot>, Vec<u64>) {
        let mut b = Boots::default();
        let mut starts = Vec::new();
        let mut sink = |r: &Record<'_>| {
            if b.record(r) {
                starts.push(r.pos.line);
            }
        };
        read_input(0, text.as_bytes(), &ReadOptions::default(), &mut sink);
        (b.listed().map(|(_, b)| b.clone()).collect(), starts)
    }

    #[test]
    fn a_banner_at_the_top_names_the_release() {
        let (b, starts) = boots(
            "[    0.000000] Linux version 6.8.0-rc7-euclean+ (tavianator@tachyon) (gcc (GCC) 13.2.1 20230801, GNU ld (GNU Binutils) 2.42.0) #15 SMP PREEMPT_DYNAMIC Wed Mar 13 17:31:13 EDT 2024\n\
             [    0.000000] Command line: root=/dev/sda\n",
        );
        assert!(starts.is_empty());
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].release.as_deref(), Some("6.8.0-rc7-euclean+"));
        assert_eq!(b[0].start, BootStart::Start);
    }

    #[test]
    fn banner_and_clock_reset_start_boots() {
        let (b, starts) = boots(
            "[    0.000000] Linux version 6.8.0-rc7 (a@b) #1 SMP\n\
             [  727.685926] Rebooting in 5 seconds..\n\
             [    0.000000] Linux version 6.8.2 (a@b) #2 SMP\n\
             [  100.000000] BTRFS info (device sda): first mount\n\
             [    0.000001] BIOS-e820: [mem 0x0000000000000400-0x000000000009ffff] usable\n\
             [    0.500000] pci 0000:00:01.0: ok\n",
        );
        assert_eq!(starts, [3, 5]);
        assert_eq!(b.len(), 3);
        assert_eq!(b[1].release.as_deref(), Some("6.8.2"));
        assert_eq!((b[1].first.line, b[1].last.line), (3, 4));
        assert_eq!(b[2].start, BootStart::ClockReset);
        assert_eq!(b[2].release, None);
    }

    #[test]
    fn small_steps_back_are_one_boot() {
        let (b, _) = boots(
            "[  100.000000] a: b\n[   99.000000] c: d\n[   40.000000] e: f\n[    5.000000] g: h\n",
        );
        // 5 s is near zero and 95 s before the boot's latest time: a new boot.
        assert_eq!(b.len(), 2);
        let (b, _) = boots("[   20.000000] a: b\n[    5.000000] c: d\n");
        assert_eq!(b.len(), 1, "a 15 s step back is not a reboot");
    }

    #[test]
    fn a_dump_after_a_reboot_line_without_printk_times() {
        let (b, starts) = boots(
            "Dumping ftrace buffer:\n\
             ---------------------------------\n\
             Rebooting in 5 seconds..\n\
             Dumping ftrace buffer:\n",
        );
        assert_eq!(starts, [4]);
        assert_eq!(b[1].start, BootStart::DumpAfterReboot);
    }

    #[test]
    fn trace_file_headers_and_journal_markers() {
        let (b, starts) = boots(
            "# tracer: nop\n\
             #\n\
             \x20         <idle>-0       [001] d..1.   100.000001: sched_switch: prev_comm=a\n\
             # tracer: nop\n\
             \x20         <idle>-0       [001] d..1.     5.000001: sched_switch: prev_comm=a\n",
        );
        assert_eq!(starts, [4]);
        assert_eq!(b[1].start, BootStart::TraceHeader);
        let (b, starts) = boots(
            "-- Journal begins at Mon 2024-03-11 10:00:00 EDT, ends at Wed 2024-03-13 18:00:00 EDT. --\n\
             Mar 13 17:00:00 tachyon kernel: BTRFS info (device dm-0): first mount\n\
             -- Boot 5d3c2d7e3f8a4b1c9e0f1a2b3c4d5e6f --\n\
             Mar 13 17:40:00 tachyon kernel: BTRFS info (device dm-0): first mount\n",
        );
        assert_eq!(starts, [3], "{b:?}");
        assert_eq!(b[1].start, BootStart::Journal);
    }

    #[test]
    fn release_from_an_oops_header() {
        assert_eq!(
            oops_release(
                b"CPU: 22 PID: 2159 Comm: iou-wrk-2130 Not tainted 6.8.0-rc7-euclean+ #15"
            ),
            Some("6.8.0-rc7-euclean+".into())
        );
        assert_eq!(
            oops_release(
                b"CPU: 1 PID: 5 Comm: kworker/1:0 Tainted: G        W          6.1.0-rc2 #1"
            ),
            Some("6.1.0-rc2".into())
        );
        assert_eq!(oops_release(b"CPU: 1 PID: 5 Comm: x"), None);
    }
}
