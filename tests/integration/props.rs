//! Property tests: no panic on arbitrary bytes, and the same records and
//! findings whatever the read chunking.

use proptest::prelude::*;
use tracesift::correlate::Analysis;
use tracesift::record::{read_input, ReadOptions, Record};

/// Real lines the generator mixes with noise.
const LINES: &[&str] = &[
    "[ 2740.240046] iou-wrk--173727   15..... 2649295481us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384",
    "[ 2740.301767] kworker/-322      15..... 2649295735us : end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000",
    "[  707.312025] iou-wrk--45324    18..... 680449566us : alloc_extent_buffer: called from btrfs_release_extent_buffer",
    "[  707.312080] iou-wrk--45324    18..... 680449567us : btrfs_release_extent_buffer_pages: before release, eb=15302115328 page_refs=0 eb level=0 fsid=00000000-0000-0000-0000-000000000000",
    "[  707.310658] CPU:18 [LOST 468484 EVENTS]",
    "[  707.310564] Dumping ftrace buffer:",
    "[  707.310566] ---------------------------------",
    "[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=258 block=15302115328 owner mismatch, have 13709377558419367261 expect [256, 18446744073709551360] eb=15302115328",
    "[  707.299281] kernel BUG at fs/btrfs/tree-checker.c:2070!",
    "[  707.299629] RIP: 0010:btrfs_check_eb_owner+0xde/0x120 [btrfs]",
    "   kworker/u16:3-322     [015] .....  2649.295735: end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000",
    "# tracer: nop",
    " 0)   0.198 us    |          _raw_spin_lock_irqsave();",
    "Feb 17 11:00:34 hactar kernel: BTRFS error (device dm-0): block=711870922752 write time tree block corruption detected",
    "",
    // Mail residue for the repair stage: wrapped, quoted, quoted-printable,
    // joined and dmesg-indented records, elisions.
    "[ 2725.113804] BTRFS critical (device dm-0): corrupted leaf, root=258",
    "block=15302115328 owner mismatch, have 13709377558419367261 expect",
    "> [ 2740.240046] iou-wrk--173727   15..... 2649295481us :",
    "> alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328",
    "len=16384",
    "root=3D258 bl=",
    "[ 1.000000] BTRFS info (device sda): a [ 1.000001] BTRFS info (device sda): b",
    "            item 0 key (256 INODE_ITEM 0) itemoff 16123 itemsize 160",
    "...",
];

fn capture() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        (0..LINES.len()).prop_map(|i| format!("{}\n", LINES[i]).into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..80),
        Just(b"\r\n".to_vec()),
        Just(b"\x1b[0;32m".to_vec()),
        Just(vec![0u8; 3]),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn records(data: &[u8], read_size: usize, cap: usize) -> Vec<(u64, u64, String, String)> {
    let opts = ReadOptions {
        line_cap: cap,
        read_size,
        ..ReadOptions::default()
    };
    records_with(data, &opts)
        .into_iter()
        .map(|(line, offset, class, text, ..)| (line, offset, class, text))
        .collect()
}

type Full = (u64, u64, String, String, String, u32, u16, u8, bool, String);

/// Every field of every record, with these options.
fn records_with(data: &[u8], opts: &ReadOptions) -> Vec<Full> {
    let mut out = Vec::new();
    let mut sink = |r: &Record<'_>| {
        out.push((
            r.pos.line,
            r.pos.offset,
            r.class.name().to_string(),
            String::from_utf8_lossy(r.text).into_owned(),
            String::from_utf8_lossy(r.original).into_owned(),
            r.lines,
            r.repairs,
            r.clean,
            r.truncated,
            format!("{:?} {:?}", r.prefixes, r.body),
        ))
    };
    read_input(0, data, opts, &mut sink);
    out
}

/// Options that parse on `threads` threads from the first byte, in batches
/// of `batch` records.
fn parallel(threads: usize, batch: usize) -> ReadOptions {
    ReadOptions {
        threads,
        parallel_after: 0,
        batch_records: batch,
        ..ReadOptions::default()
    }
}

/// `data` repeated until it has enough lines for the repair stage to settle
/// (so that raw lines go to the workers).
fn long(data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let mut piece = data.to_vec();
    if !piece.ends_with(b"\n") {
        piece.push(b'\n');
    }
    while v.iter().filter(|&&c| c == b'\n').count() < 5200 {
        v.extend_from_slice(&piece);
        // A long console line now and then, as in a real capture, so the
        // input is not taken for a hard-wrapped paste.
        v.extend_from_slice(LINES[1].as_bytes());
        v.push(b'\n');
    }
    v
}

fn report(data: &[u8], read_size: usize) -> String {
    report_with(
        data,
        &ReadOptions {
            read_size,
            ..ReadOptions::default()
        },
    )
}

fn report_with(data: &[u8], opts: &ReadOptions) -> String {
    let mut an = Analysis::new(1000);
    read_input(0, data, opts, &mut an);
    tracesift::record::RecordSink::end_input(&mut an, 0);
    let findings = tracesift::rules::evaluate(&mut an);
    let mut out = Vec::new();
    tracesift::report::json::write(&mut out, &an, &findings, &[]).unwrap();
    String::from_utf8(out).expect("JSON is UTF-8")
}

proptest! {
    // Inputs long enough for raw lines to go to the workers: fewer cases.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn same_records_when_workers_repair_raw_lines(
        data in capture(),
        threads in 2usize..4,
        batch in 1usize..40,
    ) {
        let data = long(&data);
        let seq = ReadOptions::default();
        let par = parallel(threads, batch);
        prop_assert_eq!(records_with(&data, &par), records_with(&data, &seq));
        prop_assert_eq!(report_with(&data, &par), report_with(&data, &seq));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_panic_and_valid_json_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let json = report(&data, 4096);
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        prop_assert_eq!(v["schema_version"].as_u64(), Some(1));
    }

    #[test]
    fn no_panic_on_capture_like_bytes(data in capture()) {
        let json = report(&data, 4096);
        prop_assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
    }

    #[test]
    fn same_records_whatever_the_read_size(data in capture(), rs in 1usize..64) {
        let want = records(&data, 1 << 20, 1 << 20);
        prop_assert_eq!(records(&data, rs, 1 << 20), want);
    }

    #[test]
    fn same_findings_whatever_the_read_size(data in capture(), rs in 1usize..300) {
        prop_assert_eq!(report(&data, rs), report(&data, 1 << 20));
    }

    #[test]
    fn same_records_and_findings_whatever_the_threads(
        data in capture(),
        threads in 2usize..4,
        batch in 1usize..9,
    ) {
        let seq = ReadOptions::default();
        let par = parallel(threads, batch);
        prop_assert_eq!(records_with(&data, &par), records_with(&data, &seq));
        prop_assert_eq!(report_with(&data, &par), report_with(&data, &seq));
    }

    #[test]
    fn line_cap_bounds_every_record(data in capture(), cap in 1usize..200) {
        for (_, _, _, text) in records(&data, 7, cap) {
            // Clean-up only removes bytes, so a record is never longer than the cap.
            prop_assert!(text.len() <= cap * 3 + 3);
        }
    }
}

#[test]
fn classes_add_up_for_random_input() {
    use tracesift::record::RecordSink as _;
    let data: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut st = tracesift::stats::StatsCollector::default();
    let (sum, _) = read_input(0, &data[..], &ReadOptions::default(), &mut st);
    st.end_input(0);
    let total: u64 = st.total_classes().iter().sum();
    assert_eq!(total, sum.lines);
}

/// Raw lines go to the workers, batches must be cut inside a long run of
/// indented lines (each may continue the one before), and clean-up and
/// repair work on the workers: the records are still the sequential ones.
#[test]
fn parallel_reader_matches_across_forced_cuts() {
    let mut data = Vec::new();
    for i in 0..6000 {
        data.extend_from_slice(LINES[i % 3].as_bytes());
        data.push(b'\n');
    }
    // A multi-line dmesg record: indented continuation lines.
    data.extend_from_slice(b"[ 1.000000] BTRFS info (device sda): leaf 30425088 gen 7\n");
    for i in 0..300 {
        data.extend_from_slice(
            format!("               item {i} key (256 INODE_ITEM 0) itemoff 16123\n").as_bytes(),
        );
    }
    // Console residue the workers must clean, quoting, a joined record.
    data.extend_from_slice(b"\x1b[0;32m[  OK  ] Started\r\n> quoted line\n\0\0[ 2.0] x\r y\n");
    data.extend_from_slice(LINES[22].as_bytes());
    data.push(b'\n');
    for i in 0..3000 {
        data.extend_from_slice(LINES[(i % 4) + 1].as_bytes());
        data.push(b'\n');
    }
    let seq = ReadOptions::default();
    let want = records_with(&data, &seq);
    for (threads, batch) in [(2, 1), (2, 3), (3, 7), (2, 64)] {
        let par = parallel(threads, batch);
        assert_eq!(
            records_with(&data, &par),
            want,
            "threads {threads}, batch {batch}"
        );
        assert_eq!(report_with(&data, &par), report_with(&data, &seq));
    }
}
