//! Unit tests of the repair stage: one per repair kind, and the negative
//! cases (no join across complete records, no unquoting of payload `>`).

use super::*;

/// A record as it came out: (first line, lines, text, original, repairs).
type Out = (u64, u32, String, String, u16);

fn run_with(enabled: bool, input: &str) -> Vec<Out> {
    let mut r = Repairer::new(enabled);
    let mut got = Vec::new();
    let mut sink = |l: &Logical<'_>| {
        got.push((
            l.pos.line,
            l.lines,
            String::from_utf8_lossy(l.text).into_owned(),
            String::from_utf8_lossy(l.original).into_owned(),
            l.repairs,
        ))
    };
    let mut offset = 0;
    for (i, t) in input.split('\n').enumerate() {
        let line = PhysLine {
            pos: Pos {
                input: 0,
                line: i as u64 + 1,
                offset,
            },
            text: t.as_bytes(),
            clean: 0,
            truncated: false,
        };
        offset += t.len() as u64 + 1;
        r.push(line, &mut sink);
    }
    r.finish(&mut sink);
    // Physical lines are never lost or counted twice.
    let n: u32 = got.iter().map(|g| g.1).sum();
    assert_eq!(n as usize, input.split('\n').count(), "{got:#?}");
    got
}

fn run(input: &str) -> Vec<Out> {
    run_with(true, input)
}

fn texts(out: &[Out]) -> Vec<&str> {
    out.iter().map(|o| o.2.as_str()).collect()
}

const WRAPPED: &str = "\
[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=258
block=15302115328 owner mismatch, have 13709377558419367261 expect
[256, 18446744073709551360] eb=15302115328
[ 2740.240046] iou-wrk--173727   15..... 2649295481us :
alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328
len=16384
[ 2740.301767] kworker/-322      15..... 2649295735us :
end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0
fsid=b66a67f0-8273-4158-b7bf-988bb5683000";

const JOINED: [&str; 3] = [
    "[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=258 block=15302115328 owner mismatch, have 13709377558419367261 expect [256, 18446744073709551360] eb=15302115328",
    "[ 2740.240046] iou-wrk--173727   15..... 2649295481us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384",
    "[ 2740.301767] kworker/-322      15..... 2649295735us : end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000",
];

#[test]
fn pass_through_when_disabled() {
    let input = "> [ 1.000000] a\u{a0}b\n[ 1.1] x [ 2.000000] y\n...";
    let out = run_with(false, input);
    assert_eq!(out.len(), 3);
    for (o, l) in out.iter().zip(input.split('\n')) {
        assert_eq!((o.1, o.2.as_str(), o.3.as_str(), o.4), (1, l, l, 0));
    }
}

#[test]
fn unwrap_cut_records() {
    let out = run(WRAPPED);
    assert_eq!(texts(&out), JOINED);
    assert_eq!(
        out.iter().map(|o| (o.0, o.1)).collect::<Vec<_>>(),
        [(1, 3), (4, 3), (7, 3)]
    );
    assert!(out.iter().all(|o| o.4 == kinds::UNWRAP));
    // The original keeps the physical lines.
    let lines: Vec<&str> = WRAPPED.split('\n').collect();
    assert_eq!(out[0].3, lines[..3].join("\n"));
}

#[test]
fn unwrap_trace_event_name_without_payload() {
    let input = "    btrfs-cleaner-1770    [014] .....   961.534329: btrfs_defrag_file:
entry r/i=5/257 start=0 len=131072 newer=7 thres=262144
    btrfs-cleaner-1770    [014] .....   961.534580: btrfs_defrag_file: defrag target r/i=5/257 start=0 len=65536";
    let out = run(input);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0].2,
        "    btrfs-cleaner-1770    [014] .....   961.534329: btrfs_defrag_file: entry r/i=5/257 start=0 len=131072 newer=7 thres=262144"
    );
}

/// A record cut for its grammar and its continuation: a certain break, the
/// evidence that the input was hard-wrapped (at 70 or a little more).
const CERTAIN_BREAK: &str = "\
[   76.647420] BTRFS error (device sdc): level verify failed on
logical 313163105075200 mirror 2 wanted 0 found 1";

#[test]
fn unwrap_at_the_wrap_width() {
    // A generic message has no grammar to be cut for: the wrap width decides.
    // The certain break comes later, but within the warm-up window.
    let input = "\
[    2.551970] BTRFS: device fsid 75c9efec-6867-4c02-be5c-8d106b352286
devid 14 transid 12746924 /dev/sda scanned by btrfs (142)
[    6.064021] BTRFS info (device sdc): first mount of filesystem
75c9efec-6867-4c02-be5c-8d106b352286
[    6.064064] BTRFS info (device sdc): use zstd compression, level 3
[    6.064079] BTRFS info (device sdc): enabling auto defrag";
    let out = run(&format!("{input}\n{CERTAIN_BREAK}"));
    assert_eq!(
        texts(&out)[..4],
        [
            "[    2.551970] BTRFS: device fsid 75c9efec-6867-4c02-be5c-8d106b352286 devid 14 transid 12746924 /dev/sda scanned by btrfs (142)",
            "[    6.064021] BTRFS info (device sdc): first mount of filesystem 75c9efec-6867-4c02-be5c-8d106b352286",
            "[    6.064064] BTRFS info (device sdc): use zstd compression, level 3",
            "[    6.064079] BTRFS info (device sdc): enabling auto defrag",
        ]
    );
}

#[test]
fn no_unwrap_when_the_first_word_would_have_fitted() {
    // Line 1 is far below the wrap width: a client would have put "ok" on
    // it, so "ok" starts something else.
    let input = "\
[    6.064079] BTRFS info (device sdc): enabling auto defrag
ok
[    6.064021] BTRFS info (device sdc): first mount of filesystem
75c9efec-6867-4c02-be5c-8d106b352286";
    let out = run(&format!("{CERTAIN_BREAK}\n{input}"));
    assert_eq!(
        texts(&out)[1..3],
        [
            "[    6.064079] BTRFS info (device sdc): enabling auto defrag",
            "ok"
        ]
    );
    assert_eq!(out.len(), 4);
}

#[test]
fn no_unwrap_by_width_without_a_certain_break() {
    // Short console lines with other output between them look wrapped, but
    // nothing in the input was cut for its grammar: nothing is joined.
    let input = "\
[  772.918915] BUG: unable to handle kernel paging request at ffff88002bde1e40
unrelated line
[  772.919010] IP: [<ffffffff82d4e304>] __memset+0x24/0x30
<6>[   85.501187] nouveau  [     DRM] suspending kernel object tree...
executing program 1:";
    let out = run(input);
    assert_eq!(out.len(), 5);
    assert!(out.iter().all(|o| o.4 == 0));
}

#[test]
fn no_join_across_complete_records() {
    // Both lines parse as complete records: never joined, wrapped input or not.
    let input = format!("{}\n{}\n{}", JOINED[0], JOINED[1], JOINED[2]);
    let out = run(&input);
    assert_eq!(texts(&out), JOINED);
    assert!(out.iter().all(|o| o.4 == 0 && o.1 == 1));
    // A cut record followed by a complete one stays cut.
    let input = format!(
        "[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=258\n{}",
        JOINED[1]
    );
    let out = run(&input);
    assert_eq!(out.len(), 2);
    // A bare event body is a record of its own after a complete trace line.
    let input = format!(
        "{}\nend_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000",
        JOINED[1]
    );
    assert_eq!(run(&input).len(), 2);
    // Prose after a cut record is joined only if it is not a record start;
    // a blank line always ends a record.
    let input = "[ 1.000000] BTRFS critical (device dm-0): corrupted leaf, root=258\n\nblock=1";
    assert_eq!(run(input).len(), 3);
}

#[test]
fn unquote_levels() {
    let quoted: String = WRAPPED
        .split('\n')
        .map(|l| format!("> {l}\n"))
        .collect::<String>()
        .trim_end()
        .to_string();
    let out = run(&quoted);
    assert_eq!(texts(&out), JOINED);
    assert!(out.iter().all(|o| o.4 == kinds::UNWRAP | kinds::UNQUOTE));
    assert!(out[0].3.starts_with("> [ 2725.113804]"));
    for q in [">> ", "> > ", ">>> ", "> >> "] {
        let out = run(&format!("{q}[ 1.000000] BTRFS info (device sda): x"));
        assert_eq!(out[0].2, "[ 1.000000] BTRFS info (device sda): x", "{q}");
        assert_eq!(out[0].4, kinds::UNQUOTE);
    }
    // Lines of different quote depth are never joined.
    let input = "> [ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=258\n>> block=15302115328";
    assert_eq!(run(input).len(), 2);
}

#[test]
fn payload_greater_than_is_not_unquoted() {
    let input = "\
Memory state around the buggy address:
 ffff88810c70a200: fa fb fb fb fb fb fb fb fc fc fc fc fc fc fc fc
>ffff88810c70a300: fb fb fb fb fb fb fb fb fc fc fc fc fc fc fc fc
                                           ^
> >ffff88810c70a300: fb fb fb fb
 list->next = 0";
    let out = run(input);
    assert_eq!(
        out[2].2,
        ">ffff88810c70a300: fb fb fb fb fb fb fb fb fc fc fc fc fc fc fc fc"
    );
    assert_eq!(out[2].4, 0);
    assert_eq!(out[4].2, ">ffff88810c70a300: fb fb fb fb");
    assert_eq!(out[4].4, kinds::UNQUOTE);
    assert_eq!(out[5].2, " list->next = 0");
}

#[test]
fn quoted_printable_with_evidence() {
    let input = "\
[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=3D258 bl=
ock=3D15302115328 owner mismatch, have 13709377558419367261 expect [256, 1=
8446744073709551360] eb=3D15302115328
util=20";
    let out = run(input);
    assert_eq!(out[0].2, JOINED[0]);
    assert_eq!(out[0].1, 3);
    assert_eq!(out[0].4, kinds::QUOTED_PRINTABLE);
    // Once QP is on, escapes are decoded everywhere.
    assert_eq!(out[1].2, "util ");
    // Without evidence nothing is decoded: `=20`, `=3E` are well-formed
    // escapes but prove nothing, and a bare `=` rules a line out.
    let out = run("cpu=3 util=20\nload=3E\nx=3D1 y=z\nutil=20");
    assert_eq!(
        texts(&out),
        ["cpu=3 util=20", "load=3E", "x=3D1 y=z", "util=20"]
    );
}

#[test]
fn non_breaking_spaces() {
    let out = run("[ 2740.240046]\u{a0}BTRFS\u{a0}info (device sda): x\nlatin1\u{fffd}");
    assert_eq!(out[0].2, "[ 2740.240046] BTRFS info (device sda): x");
    assert_eq!(out[0].4, kinds::NBSP);
    let mut r = Repairer::new(true);
    let mut got = Vec::new();
    let mut sink = |l: &Logical<'_>| got.push((l.text.to_vec(), l.original.to_vec(), l.repairs));
    r.push(
        PhysLine {
            pos: Pos::default(),
            text: b"[ 1.000000]\xa0BTRFS info: lone latin-1",
            clean: 0,
            truncated: false,
        },
        &mut sink,
    );
    r.finish(&mut sink);
    assert_eq!(got[0].0, b"[ 1.000000] BTRFS info: lone latin-1");
    assert_eq!(got[0].1, b"[ 1.000000]\xa0BTRFS info: lone latin-1");
    assert_eq!(got[0].2, kinds::NBSP);
}

#[test]
fn split_joined_records() {
    let input = "[11655.022724] BTRFS critical (device sdc1): corrupt leaf: root=5 block=1399280648192 slot=69 ino=8904454, name hash mismatch with key, have 0x00000000d8649173 expect 0x00000000f88d2ac3 [11655.027629] BTRFS critical (device sdc1): corrupt leaf: root=5 block=1399280648192 slot=69 ino=8904454, name hash mismatch with key, have 0x00000000d8649173 expect 0x00000000f88d2ac3 [11655.027990] BTRFS error (device sdc1): block=1399280648192 read time tree block corruption detected";
    let out = run(input);
    assert_eq!(out.len(), 3);
    assert_eq!(
        out.iter().map(|o| (o.0, o.1, o.4)).collect::<Vec<_>>(),
        [
            (1, 1, kinds::SPLIT),
            (1, 0, kinds::SPLIT),
            (1, 0, kinds::SPLIT)
        ]
    );
    assert!(out[0].2.ends_with("expect 0x00000000f88d2ac3"));
    assert!(out[1].2.starts_with("[11655.027629] BTRFS critical"));
    assert_eq!(
        out[2].2,
        "[11655.027990] BTRFS error (device sdc1): block=1399280648192 read time tree block corruption detected"
    );
    // Each piece cites its own part of the line.
    assert_eq!(out[1].3, out[1].2);
}

#[test]
fn no_split_of_console_output_or_console_events() {
    for input in [
        // The prefix stage reads a record glued after other output.
        "         Startin[    2.193372] systemd[1]: Starting Create Static Device Nodes in /dev...",
        // A trace `console` event carries a printk record as its payload.
        "         godown-213341 [008]  6398.022871: console:              [ 6397.915392] XFS (pmem1): User initiated shutdown received.",
        "[ 1.000000] see [1.5] and [ 2.5] for details",
    ] {
        let out = run(input);
        assert_eq!(out.len(), 1, "{input}");
        assert_eq!(out[0].4, 0, "{input}");
    }
}

#[test]
fn dmesg_indented_continuation_gets_its_prefix_back() {
    let input = "\
[  912.466820] BTRFS info (device dm-2): leaf 350945280 gen 7 total ptrs 2
               item 0 key (256 INODE_ITEM 0) itemoff 16123 itemsize 160
               item 1 key (256 INODE_REF 256) itemoff 16111 itemsize 12
          not at the prefix width";
    let out = run(input);
    assert_eq!(
        texts(&out),
        [
            "[  912.466820] BTRFS info (device dm-2): leaf 350945280 gen 7 total ptrs 2",
            "[  912.466820] item 0 key (256 INODE_ITEM 0) itemoff 16123 itemsize 160",
            "[  912.466820] item 1 key (256 INODE_REF 256) itemoff 16111 itemsize 12",
            "          not at the prefix width",
        ]
    );
    assert_eq!(
        out.iter().map(|o| o.4).collect::<Vec<_>>(),
        [0, kinds::INDENT, kinds::INDENT, 0]
    );
    assert_eq!(out[1].3, input.split('\n').nth(1).unwrap_or_default());
    // Not after a trace line, nor after a blank line.
    let input = "[  707.312025] iou-wrk--45324    18..... 680449566us : foo: bar\n               baz\n\n               qux";
    assert!(run(input).iter().all(|o| o.4 == 0));
}

#[test]
fn elision_lines_are_gaps() {
    let input = "a\n           ...\n.....\n[...]\n[ 1.000000] ...";
    let out = run(input);
    assert_eq!(
        out.iter().map(|o| o.4).collect::<Vec<_>>(),
        [0, kinds::ELISION, kinds::ELISION, kinds::ELISION, 0]
    );
}

#[test]
fn joined_records_are_capped() {
    let mut input =
        String::from("[ 1.000000] BTRFS critical (device dm-0): corrupted leaf, root=258");
    for _ in 0..300 {
        input.push_str("\nxxxxxxxx");
    }
    let out = run(&input);
    assert!(out.iter().all(|o| o.1 <= MAX_JOINED_LINES));
    let mut r = Repairer::with_limit(true, 100);
    let mut n = 0;
    for (i, t) in input.split('\n').enumerate() {
        r.push(
            PhysLine {
                pos: Pos {
                    input: 0,
                    line: i as u64 + 1,
                    offset: 0,
                },
                text: t.as_bytes(),
                clean: 0,
                truncated: false,
            },
            &mut |l: &Logical<'_>| {
                assert!(l.text.len() <= 100);
                n += l.lines;
            },
        );
    }
    r.finish(&mut |l: &Logical<'_>| n += l.lines);
    assert_eq!(n, 301);
}

#[test]
fn no_panic_on_odd_bytes() {
    let inputs: [&[u8]; 8] = [
        b"",
        b">",
        b"=",
        b"\xa0",
        b"\xc2",
        b"[ 1.000000] [",
        b"[ 1.000000] x [ 2.000000]",
        b"               ",
    ];
    let mut r = Repairer::new(true);
    for t in inputs.iter().chain(inputs.iter()) {
        r.push(
            PhysLine {
                pos: Pos::default(),
                text: t,
                clean: 0,
                truncated: false,
            },
            &mut |_: &Logical<'_>| {},
        );
    }
    r.finish(&mut |_: &Logical<'_>| {});
}

#[test]
fn a_certain_break_after_the_warm_up_turns_width_joins_on() {
    let generic = "\
[    6.064021] BTRFS info (device sdc): first mount of filesystem
75c9efec-6867-4c02-be5c-8d106b352286";
    let mut input = String::new();
    for i in 0..WARM_LINES + 6 {
        input.push_str(&format!(
            "prose line {i:3} of a mail that goes on and on about the bug\n"
        ));
    }
    input.push_str(&format!("{generic}\n{CERTAIN_BREAK}\n{generic}"));
    let out = run(&input);
    let n = out.len();
    // Before the first certain break: not joined; after it: joined.
    assert_eq!(out[n - 3].2, "75c9efec-6867-4c02-be5c-8d106b352286");
    assert_eq!(out[n - 2].1, 2, "the certain break itself");
    assert_eq!(
        out[n - 1].2,
        "[    6.064021] BTRFS info (device sdc): first mount of filesystem 75c9efec-6867-4c02-be5c-8d106b352286"
    );
    assert_eq!(out[n - 1].4, kinds::UNWRAP);
}

#[test]
fn where_a_batch_may_start() {
    // Task names right-aligned in 16 columns start fresh: fewer than 8
    // blanks cannot make a dmesg continuation line.
    assert!(Repairer::starts_fresh(
        b"   kworker/u97:3-1019    [004] .....    98.930467: x"
    ));
    assert!(Repairer::starts_fresh(b"iou-wrk-45118-45459   [004] ....."));
    assert!(Repairer::starts_fresh(b"[  707.299281] kernel BUG at"));
    // 8 blanks or more, a quote, a control byte, or too little to tell: not.
    assert!(!Repairer::starts_fresh(
        b"          <idle>-0       [004] d..2."
    ));
    assert!(!Repairer::starts_fresh(
        b"               item 0 key (1 2 3)"
    ));
    assert!(!Repairer::starts_fresh(b"> [ 2740.240046] iou-wrk"));
    assert!(!Repairer::starts_fresh(b"\x1b[0m x"));
    assert!(!Repairer::starts_fresh(b"   "));
    assert!(!Repairer::starts_fresh(b""));
    assert!(Repairer::line_may_continue(b"        x"));
}
