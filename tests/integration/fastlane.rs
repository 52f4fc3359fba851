//! The fast lane for console dump lines ([`grammar::console_trace`]) must
//! agree with the general path: prefix peeling, then [`grammar::classify`].
//! Checked on generated line shapes (every field width, and bytes changed
//! at random), on random bodies behind a dump line's context, and on every
//! line of the corpus.

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

/// A console dump line with every field drawn at random widths.
fn console_line() -> impl Strategy<Value = Vec<u8>> {
    (
        (0usize..8, 0u64..2_000_000, 1usize..10, 0u64..1_000_000_000),
        (0..COMMS.len(), 0u64..100_000_000, 0usize..9, 0u64..5000),
        (
            0..FLAGS.len(),
            0usize..3,
            0u64..100_000_000_000,
            0..TIMES.len(),
        ),
        0..BODIES.len(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
    )
        .prop_map(
            |((sp, secs, fd, frac), (c, pid, psp, cpu), (f, tsp, ts, tm), b, muts)| {
                let frac = format!("{frac:09}");
                let mut s = format!(
                    "[{}{secs}.{}] {}-{pid}{}{cpu}{}{}{ts}{}{}",
                    " ".repeat(sp),
                    &frac[..fd],
                    COMMS[c],
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
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn console_lane_agrees_with_the_general_path(line in console_line()) {
        agrees(&line);
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
        assert!(agrees(line.as_bytes()), "fast lane missed {line:?}");
    }
    // Shapes it leaves to the general path (which still reads them).
    for line in [
        "[  687.806206] kworker/-43417  1045..... 680529498us : sched_switch: x=1",
        "[  687.806206]   kworker-43417    45..... 680529498us : sched_switch: x=1",
        "[  687.806206] Dumping ftrace buffer:",
        "[  687.806206] [T123] kworker/-43417    45..... 680529498us : sched_switch: x=1",
    ] {
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
            fast += u64::from(agrees(line));
        }
    }
    // The 48-CPU typescript alone has thousands of dump lines in this shape.
    eprintln!("{fast} of {lines} corpus lines took the fast lane");
    assert!(
        fast > 3000,
        "{fast} of {lines} corpus lines took the fast lane"
    );
}
