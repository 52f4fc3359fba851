//! The fast lane for console dump lines ([`grammar::console_trace`]) must
//! take every line printed at printk's and ftrace's field widths, and agree
//! with the general path (prefix peeling, then [`grammar::classify`]) on
//! every line it takes. Checked on generated lines (as printed, and at
//! other widths with bytes changed at random), on random bodies behind a
//! dump line's context, and on every line of the corpus.

use proptest::prelude::*;
use tracesift::grammar::{self, Body};
use tracesift::prefix::{self, layer};

use crate::util::{corpus_files, corpus_or_skip};

/// Check one line; returns whether the fast lane answered.
fn agrees(line: &[u8]) -> bool {
    let (pre, msg) = prefix::peel(line);
    let body = grammar::classify(msg, &pre);
    let Some((lane_pre, lane_msg, t)) = grammar::console_trace(line) else {
        return false;
    };
    let show = String::from_utf8_lossy(line);
    assert_eq!(pre.layers, layer::PRINTK_TIME, "layers of {show:?}");
    assert_eq!(lane_pre, pre, "prefixes of {show:?}");
    assert_eq!(lane_msg, msg, "message of {show:?}");
    assert_eq!(body, Body::Trace(t), "body of {show:?}");
    true
}

/// How a line stands to what printk and ftrace print:
/// `[%5lu.%06lu] %8.8s-%-7d %3d<flags> %4lluus<mark>: <body>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Printed at those widths: the lane must take it.
    Printed,
    /// Printed at those widths, but the comm's first non-blank byte is one
    /// for which `classify` tries the framing or header grammars first
    /// (`Dumping ...`, `# tracer`, `CPU:N`, `-----`): the lane leaves these
    /// to the general path.
    Defers,
    /// Not at those widths (a CPU above 999, a pid above 9999999, other
    /// padding, a changed byte): the lane may take it or leave it.
    Other,
}

/// First non-blank bytes of a message `console_trace` leaves to `classify`.
const DEFERS: &[u8] = b"D-(C#*[IB.vc\xe2";

/// A field of `n` bytes at `at`: `pad` then digits (right-aligned) or
/// digits then `pad` (left-aligned), at least one digit; numbers wider
/// than the field do not fit it.
fn field(t: &[u8], at: usize, n: usize, right: bool) -> bool {
    let Some(f) = t.get(at..at + n) else {
        return false;
    };
    let digits = f.iter().filter(|c| c.is_ascii_digit()).count();
    let (pad, num) = if right {
        f.split_at(n - digits)
    } else {
        let (num, pad) = f.split_at(digits);
        (pad, num)
    };
    digits > 0 && pad.iter().all(|&c| c == b' ') && num.iter().all(u8::is_ascii_digit)
}

/// A field of at least `n` bytes at `at`, right-aligned: spaces to `n`,
/// or more digits and no space. Returns the index after it.
fn field_at_least(t: &[u8], at: usize, n: usize) -> Option<usize> {
    let spaces = t[at.min(t.len())..]
        .iter()
        .take_while(|&&c| c == b' ')
        .count();
    let digits = t[at + spaces..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let ok = digits > 0 && (spaces + digits == n || (spaces == 0 && digits > n));
    ok.then_some(at + spaces + digits)
}

/// The reference: read `line` as printk and ftrace print it, at fixed
/// widths, with nothing borrowed from the crate.
fn shape(line: &[u8]) -> Shape {
    let printed = || -> Option<bool> {
        let t = line.strip_prefix(b"[")?;
        let k = field_at_least(t, 0, 5)?;
        let t = t[k..].strip_prefix(b".")?;
        (t.len() >= 6 && t[..6].iter().all(u8::is_ascii_digit)).then_some(())?;
        let msg = t[6..].strip_prefix(b"] ")?;
        // %8.8s-%-7d %3d
        (msg.len() > 8 && msg[8] == b'-').then_some(())?;
        let fits = field(msg, 9, 7, false) && msg.get(16) == Some(&b' ') && field(msg, 17, 3, true);
        fits.then_some(())?;
        // Flags: 4 to 8 bytes, not starting with a digit, then one space.
        let flags = msg[20..]
            .iter()
            .take_while(|&&c| c != b' ' && c != b'\t')
            .count();
        let ok = (4..=8).contains(&flags) && !msg[20].is_ascii_digit();
        ok.then_some(())?;
        let k = 20 + flags;
        (msg.get(k) == Some(&b' ')).then_some(())?;
        // %4llu us, the mark, ": "
        let k = field_at_least(msg, k + 1, 4)?;
        let rest = msg[k..].strip_prefix(b"us")?;
        let mark_ok = rest.len() >= 3 && b" +!#*@$".contains(&rest[0]) && &rest[1..3] == b": ";
        mark_ok.then_some(())?;
        let first = msg.iter().find(|&&c| c != b' ' && c != b'\t')?;
        Some(DEFERS.contains(first))
    };
    match printed() {
        Some(false) => Shape::Printed,
        Some(true) => Shape::Defers,
        None => Shape::Other,
    }
}

/// Check one line against the reference too: a printed line is taken, one
/// left to the general path on purpose is not, and whatever is taken
/// agrees. Returns whether the fast lane answered.
fn check(line: &[u8]) -> bool {
    let took = agrees(line);
    let show = String::from_utf8_lossy(line);
    match shape(line) {
        Shape::Printed => assert!(took, "the lane left a printed line: {show:?}"),
        Shape::Defers => assert!(!took, "the lane took a line it defers: {show:?}"),
        Shape::Other => {}
    }
    took
}

/// Dump line contexts the lane reads, up to the body.
const HEADS: &[&str] = &[
    "[  687.806206] kworker/-43417    45..... 680529498us : ",
    "[    5.000001]   <idle>-0         0d.h1.    5us+: ",
    "[ 2740.240046] iou-wrk--173727   15..... 2649295481us : ",
];

const COMMS: &[&str] = &[
    "kworker/",
    "iou-wrk-",
    "  <idle>",
    "   <...>",
    "btrfs-tr",
    "Web Cont",
    "kworker/5:2",
    "ls",
    "cc1",
    "Dxyz",
    "#bad",
    "-dash",
    "cat",
    "vmtoolsd",
    "systemd-",
    "a-1",
];
const FLAGS: &[&str] = &[
    ".....", "d..3.", "d.h1.", "dNs2.", "....", "d.s.", "d..1..", "0....", "", ".......",
];
const TIMES: &[&str] = &[
    "us : ",
    "us!: ",
    "us+: ",
    "us : ",
    ".675570920: ",
    ": ",
    "us: ",
    "us :",
];
const BODIES: &[&str] = &[
    "end_bbio_meta_read: read done, eb=15107391488 page_refs=4 eb level=0 fsid=d6cc6aa1-f965-4be4-ad07-8de6e76b47c7",
    "end_bbio_data_read: read done, ino=14790 off=373399552 len=4096 mirror=1",
    "alloc_extent_buffer: alloc_extent_buffer: alloc eb=11495669760 len=16384",
    "alloc_extent_buffer: called from btrfs_release_extent_buffer",
    "btrfs_release_extent_buffer_pages: before release, eb=15302115328 page_refs=0 eb level=0 fsid=00000000-0000-0000-0000-000000000000",
    "sched_switch: prev_comm=iou-wrk-45118 prev_pid=47828 prev_prio=120 prev_state=S ==> next_comm=swapper/46 next_pid=0 next_prio=120",
    "block_rq_complete: 252,0 RM () 15358528 + 32 [0]",
    "btrfs_tree_lock: block=15302115328 generation=9 owner=2",
    "end_bbio_meta_read+0x1a4/0x2c0 [btrfs]: read done, eb=1 page_refs=1 eb level=0 fsid=x",
    "do_nanosleep <-hrtimer_nanosleep",
    "bprint:               select_task_rq_fair: fig: cpu=0",
    "!!! Validation failed, eb=15302115328 !!!",
    "",
];

/// Flags as kernels print them (4 columns before 5.x, 5 since).
const PRINTED_FLAGS: &[&str] = &[
    "....", ".....", "d..3.", "d.h1.", "dNs2.", "d.s.", "X..1.", "dnH2.",
];

/// ftrace's latency marks (`trace_find_mark`), as `us<mark>: `.
const MARKS: &[char] = &[' ', '+', '!', '#', '*', '@', '$'];

/// A console dump line as the kernel prints it.
fn printed_line() -> impl Strategy<Value = Vec<u8>> {
    (
        (0u64..2_000_000, 0u64..1_000_000),
        (0..COMMS.len(), 0u32..=4_194_304, 0u32..1000),
        (
            0..PRINTED_FLAGS.len(),
            0u64..100_000_000_000,
            0..MARKS.len(),
        ),
        0..BODIES.len(),
    )
        .prop_map(|((secs, us), (c, pid, cpu), (f, ts, m), b)| {
            format!(
                "[{secs:5}.{us:06}] {:>8.8}-{pid:<7} {cpu:3}{} {ts:4}us{}: {}",
                COMMS[c], PRINTED_FLAGS[f], MARKS[m], BODIES[b]
            )
            .into_bytes()
        })
}

/// Padding: mostly what printk and ftrace print (`None`), else any.
fn pad() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![3 => Just(None), 1 => (0usize..9).prop_map(Some)]
}

/// Digits of `n`.
fn digits(n: u64) -> usize {
    n.to_string().len()
}

/// A console dump line with each field at its printed width or at another,
/// a comm that may not be cut to 8 bytes, odd flags and time separators,
/// and up to two bytes changed: lines near the printed shape and off it.
fn console_line() -> impl Strategy<Value = Vec<u8>> {
    (
        (
            pad(),
            0u64..2_000_000,
            prop_oneof![3 => Just(6usize), 1 => 1usize..10],
            0u64..1_000_000_000,
        ),
        (
            0..COMMS.len(),
            any::<bool>(),
            0u64..10_000_000,
            pad(),
            0u64..1100,
        ),
        (0..FLAGS.len(), pad(), 0u64..100_000_000_000, 0..TIMES.len()),
        0..BODIES.len(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
    )
        .prop_map(
            |((sp, secs, fd, frac), (c, cut, pid, psp, cpu), (f, tsp, ts, tm), b, muts)| {
                // The printed widths: `[%5lu.`, `-%-7d %3d`, `<flags> %4llu`.
                let sp = sp.unwrap_or(5usize.saturating_sub(digits(secs)));
                let psp = psp.unwrap_or(
                    7usize.saturating_sub(digits(pid)) + 1 + 3usize.saturating_sub(digits(cpu)),
                );
                let tsp = tsp.unwrap_or(1 + 4usize.saturating_sub(digits(ts)));
                let comm = if cut {
                    format!("{:>8.8}", COMMS[c])
                } else {
                    COMMS[c].to_string()
                };
                let frac = format!("{frac:09}");
                let mut s = format!(
                    "[{}{secs}.{}] {comm}-{pid}{}{cpu}{}{}{ts}{}{}",
                    " ".repeat(sp),
                    &frac[..fd],
                    " ".repeat(psp),
                    FLAGS[f],
                    " ".repeat(tsp),
                    TIMES[tm],
                    BODIES[b],
                )
                .into_bytes();
                for (at, byte) in muts {
                    if !s.is_empty() {
                        let i = at.index(s.len());
                        s[i] = byte;
                    }
                }
                s
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::util::cases(1000, 20_000),
        ..ProptestConfig::default()
    })]

    /// Lines as printed: the lane takes them (unless the comm sends them
    /// to the framing and header grammars first) and agrees.
    #[test]
    fn console_lane_takes_printed_lines(line in printed_line()) {
        let shape = shape(&line);
        prop_assert!(shape != Shape::Other, "the reference does not read {:?}", String::from_utf8_lossy(&line));
        prop_assert_eq!(agrees(&line), shape == Shape::Printed, "{:?}", String::from_utf8_lossy(&line));
    }

    /// Lines at any widths, bytes changed: what the lane takes, it reads as
    /// the general path does; it declines only lines off the printed
    /// widths or left to the general path on purpose.
    #[test]
    fn console_lane_agrees_with_the_general_path(line in console_line()) {
        check(&line);
    }

    /// Any bytes after a dump line's context: the lane takes the line and
    /// splits the body as the general path does.
    #[test]
    fn console_lane_agrees_on_arbitrary_bodies(
        head in 0..HEADS.len(),
        body in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut line = HEADS[head].as_bytes().to_vec();
        line.extend_from_slice(&body);
        prop_assert!(agrees(&line), "the lane left {:?}", String::from_utf8_lossy(&line));
    }
}

#[test]
fn console_lane_takes_the_lines_ftrace_prints() {
    for line in [
        "[  687.806206] kworker/-43417    45..... 680529498us : end_bbio_meta_read: read done, eb=15107391488 page_refs=4 eb level=0 fsid=d6cc6aa1-f965-4be4-ad07-8de6e76b47c7",
        "[ 2740.240046] iou-wrk--173727   15..... 2649295481us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384",
        "[    5.000001]   <idle>-0         0d.h1.    5us+: irq_handler_entry: irq=24 name=ahci",
        "[123456.806206] kworker/-43417    45..... 680529498us : sched_switch: x=1",
        "[  687.806206] kworker/-43417    45..... 680529498us : sched_switch: x=1 host kernel: y",
    ] {
        assert_eq!(shape(line.as_bytes()), Shape::Printed, "{line:?}");
        assert!(agrees(line.as_bytes()), "fast lane missed {line:?}");
    }
    // Shapes it leaves to the general path (which still reads them).
    for line in [
        "[  687.806206] kworker/-43417  1045..... 680529498us : sched_switch: x=1",
        "[  687.806206]   kworker-43417    45..... 680529498us : sched_switch: x=1",
        "[  687.806206] Dumping ftrace buffer:",
        "[  687.806206] [T123] kworker/-43417    45..... 680529498us : sched_switch: x=1",
    ] {
        assert_eq!(shape(line.as_bytes()), Shape::Other, "{line:?}");
        assert!(!agrees(line.as_bytes()), "fast lane took {line:?}");
    }
    // Printed, but a comm like `cc1` or `Dxyz` is left to the general path,
    // which tries framing and headers first.
    for line in [
        "[  687.806206]      cc1-43417    45..... 680529498us : sched_switch: x=1",
        "[  687.806206]     Dxyz-43417    45..... 680529498us : sched_switch: x=1",
    ] {
        assert_eq!(shape(line.as_bytes()), Shape::Defers, "{line:?}");
        assert!(!agrees(line.as_bytes()), "fast lane took {line:?}");
    }
}

#[test]
fn console_lane_agrees_on_every_corpus_line() {
    let root = corpus_or_skip!();
    let (mut lines, mut fast) = (0u64, 0u64);
    for p in corpus_files(&root) {
        let data = std::fs::read(&p).unwrap();
        for line in data.split(|&c| c == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            lines += 1;
            fast += u64::from(check(line));
        }
    }
    // The 48-CPU typescript alone has thousands of dump lines in this shape.
    eprintln!("{fast} of {lines} corpus lines took the fast lane");
    assert!(
        fast > 3000,
        "{fast} of {lines} corpus lines took the fast lane"
    );
}
