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
    let mut out = Vec::new();
    let mut sink = |r: &Record<'_>| {
        out.push((
            r.pos.line,
            r.pos.offset,
            r.class.name().to_string(),
            String::from_utf8_lossy(r.text).into_owned(),
        ))
    };
    let opts = ReadOptions {
        line_cap: cap,
        read_size,
        ..ReadOptions::default()
    };
    read_input(0, data, &opts, &mut sink);
    out
}

fn report(data: &[u8], read_size: usize) -> String {
    let mut an = Analysis::new(1000);
    let opts = ReadOptions {
        read_size,
        ..ReadOptions::default()
    };
    read_input(0, data, &opts, &mut an);
    tracesift::record::RecordSink::end_input(&mut an, 0);
    let findings = tracesift::rules::evaluate(&mut an);
    let mut out = Vec::new();
    tracesift::report::json::write(&mut out, &an, &findings, &[]).unwrap();
    String::from_utf8(out).expect("JSON is UTF-8")
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
