//! Property tests: no panic on arbitrary bytes, and the same records and
//! findings whatever the read chunking.
//!
//! A plain `cargo test` runs a few cases of each property; with
//! `TRACESIFT_FULL_TESTS=1` (as `.ci/run` does) each runs many more (see
//! [`crate::util::cases`]).

use proptest::prelude::*;
use tracesift::correlate::Analysis;
use tracesift::input::Positional;
use tracesift::reader::{read_input, read_input_at, ReadOptions};
use tracesift::record::Record;

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
    records_from(data, None, opts)
}

/// `data` in a file of its own, for positional reads; the file is removed
/// when the guard drops.
struct TempInput(std::path::PathBuf);

impl TempInput {
    fn new(data: &[u8]) -> TempInput {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tracesift-props-{}-{n}", std::process::id()));
        std::fs::write(&path, data).expect("temp file");
        TempInput(path)
    }

    fn positional(&self) -> Positional {
        let f = std::fs::File::open(&self.0).expect("temp file");
        let size = f.metadata().expect("metadata").len();
        Positional::new(f, size).expect("positional reads")
    }
}

impl Drop for TempInput {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// [`records_with`], the workers reading `at` (holding `data`) themselves.
fn records_from(data: &[u8], at: Option<Positional>, opts: &ReadOptions) -> Vec<Full> {
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
    read_input_at(0, data, at, opts, &mut sink);
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
    // A long console line now and then, as in a real capture, so the input
    // is not taken for a hard-wrapped paste.
    piece.extend_from_slice(LINES[1].as_bytes());
    piece.push(b'\n');
    let per_piece = piece.iter().filter(|&&c| c == b'\n').count();
    for _ in 0..5200usize.div_ceil(per_piece) {
        v.extend_from_slice(&piece);
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
    report_from(data, None, opts)
}

fn report_from(data: &[u8], at: Option<Positional>, opts: &ReadOptions) -> String {
    let mut an = Analysis::new(1000);
    read_input_at(0, data, at, opts, &mut an);
    tracesift::reader::RecordSink::end_input(&mut an, 0).unwrap();
    an.finish();
    let findings = tracesift::rules::evaluate(&an);
    let mut out = Vec::new();
    tracesift::report::json::write(&mut out, &an, &findings, &[]).unwrap();
    String::from_utf8(out).expect("JSON is UTF-8")
}

proptest! {
    // Inputs long enough for raw lines to go to the workers: fewer cases.
    #![proptest_config(ProptestConfig {
        cases: crate::util::cases(8, 96),
        ..ProptestConfig::default()
    })]

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

    /// Workers reading blocks of the file at positions see what the stream
    /// reader sees, whatever the batch size and the line cap (a small cap
    /// sends long lines back to the stream reader).
    #[test]
    fn same_records_and_findings_when_workers_read_the_file(
        data in capture(),
        threads in 2usize..4,
        batch in 1usize..40,
        cap in prop_oneof![Just(tracesift::input::DEFAULT_LINE_CAP), 40usize..400],
    ) {
        let data = long(&data);
        let file = TempInput::new(&data);
        let seq = ReadOptions { line_cap: cap, ..ReadOptions::default() };
        let par = ReadOptions { line_cap: cap, ..parallel(threads, batch) };
        prop_assert_eq!(
            records_from(&data, Some(file.positional()), &par),
            records_with(&data, &seq)
        );
        prop_assert_eq!(
            report_from(&data, Some(file.positional()), &par),
            report_with(&data, &seq)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::util::cases(64, 1024),
        ..ProptestConfig::default()
    })]

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
    fn line_cap_bounds_every_record(data in capture(), cap in 1usize..200, rs in 1usize..300) {
        let mut n = 0u64;
        let mut ok = true;
        let mut sink = |r: &Record<'_>| {
            n += 1;
            // Clean-up only removes bytes, so a physical line is never longer
            // than the cap (a repaired record joins at most `lines` of them).
            // (A record split off a joined line counts 0 lines but holds part of one.)
            ok &= r.original.len() <= (r.lines.max(1) as usize) * (cap + 1);
            ok &= r.pos.offset <= data.len() as u64;
        };
        let opts = ReadOptions { line_cap: cap, read_size: rs, ..ReadOptions::default() };
        let (sum, err) = read_input(0, &data[..], &opts, &mut sink);
        prop_assert!(ok);
        prop_assert!(err.is_none());
        prop_assert_eq!(sum.bytes, data.len() as u64);
    }

    /// Every line is counted under exactly one class.
    #[test]
    fn classes_add_up_to_the_lines(data in capture(), rs in 1usize..300) {
        use tracesift::reader::RecordSink as _;
        let mut st = tracesift::stats::StatsCollector::default();
        let opts = ReadOptions { read_size: rs, ..ReadOptions::default() };
        let (sum, _) = read_input(0, &data[..], &opts, &mut st);
        st.end_input(0).unwrap();
        st.finish();
        prop_assert_eq!(st.total_classes().iter().sum::<u64>(), sum.lines);
    }
}

proptest! {
    // The slower properties (whole pipelines twice per case): fewer cases.
    #![proptest_config(ProptestConfig {
        cases: crate::util::cases(32, 256),
        ..ProptestConfig::default()
    })]

    /// Truncation of long lines must not depend on where reads end either.
    #[test]
    fn same_truncated_records_whatever_the_read_size(
        data in capture(),
        cap in 1usize..120,
        rs in 1usize..64,
    ) {
        prop_assert_eq!(records(&data, rs, cap), records(&data, 1 << 20, cap));
    }

    /// The timeline's block prefilter sees every line, whatever the block size.
    #[test]
    fn timeline_counts_every_line_whatever_the_block_size(data in capture(), block in 1usize..400) {
        // Physical lines (a repaired record may cover several).
        let mut ignore = |_: &Record<'_>| {};
        let (sum, _) = read_input(0, &data[..], &ReadOptions::default(), &mut ignore);
        let want = sum.lines;
        let (tl, _) = tracesift::timeline::run_bytes(
            &[&data[..]],
            &[15302115328],
            &ReadOptions::default(),
            block,
        );
        prop_assert_eq!(&tl.lines, &vec![want]);
        let (big, _) = tracesift::timeline::run_bytes(
            &[&data[..]],
            &[15302115328],
            &ReadOptions::default(),
            1 << 20,
        );
        // Every line naming the eb is found whatever the block size.
        let lines = |t: &tracesift::timeline::Timeline| {
            let mut v: Vec<u64> = t.ebs[0].entries.iter().map(|e| e.ev.pos.line).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        prop_assert_eq!(lines(&tl), lines(&big));
    }
}

#[test]
fn classes_add_up_for_random_input() {
    use tracesift::reader::RecordSink as _;
    let data: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut st = tracesift::stats::StatsCollector::default();
    let (sum, _) = read_input(0, &data[..], &ReadOptions::default(), &mut st);
    st.end_input(0).unwrap();
    st.finish();
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

// ---------------------------------------------------------------------------
// Round trip: render kernel text from generated event fields, parse it back
// with the crate's grammars and `recognize`, and get the same fields.
// The renderers below follow the kernel's format strings
// (kernel-formats.md A.6/A.7, E.1, C.5).

mod round_trip {
    use proptest::prelude::*;
    use tracesift::event::{self, AllocVia, EbDump, EventKind, Expect, TreeCheck};
    use tracesift::grammar::{Body, TraceFormat, TraceTs};
    use tracesift::reader::{read_input, ReadOptions};
    use tracesift::record::Record;

    /// The debug patch's messages: (caller symbol, payload, expected kind).
    #[derive(Debug, Clone)]
    enum Msg {
        Alloc { eb: u64, len: u64, clone: bool },
        Read(u64, i32, i32, [u8; 16]),
        Release(u64, i32, i32, [u8; 16]),
        CalledFrom(bool),
        ValidationFailed(u64),
    }

    fn fsid_text(f: &[u8; 16]) -> String {
        let h: String = f.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }

    impl Msg {
        fn symbol(&self) -> &'static str {
            match self {
                Msg::Alloc { clone: false, .. } => "alloc_extent_buffer",
                Msg::Alloc { clone: true, .. } => "btrfs_clone_extent_buffer",
                Msg::Read(..) | Msg::ValidationFailed(_) => "end_bbio_meta_read",
                Msg::Release(..) => "btrfs_release_extent_buffer_pages",
                Msg::CalledFrom(_) => "btrfs_release_extent_buffer_pages",
            }
        }

        /// `trace_printk` payload, as the patch's format strings print it.
        fn payload(&self) -> String {
            match self {
                Msg::Alloc { eb, len, .. } => format!("{}: alloc eb={eb} len={len}", self.symbol()),
                Msg::Read(eb, r, l, f) => format!(
                    "read done, eb={eb} page_refs={r} eb level={l} fsid={}",
                    fsid_text(f)
                ),
                Msg::Release(eb, r, l, f) => format!(
                    "before release, eb={eb} page_refs={r} eb level={l} fsid={}",
                    fsid_text(f)
                ),
                Msg::CalledFrom(true) => "called from release_extent_buffer".into(),
                Msg::CalledFrom(false) => "called from btrfs_release_extent_buffer".into(),
                Msg::ValidationFailed(eb) => format!("!!! Validation failed, eb={eb} !!!"),
            }
        }

        fn kind(&self) -> EventKind<'static> {
            let dump = |eb, r: i32, l: i32, f| EbDump {
                eb,
                page_refs: Some(r as i64),
                level: Some(l as i64),
                fsid: Some(f),
            };
            match *self {
                Msg::Alloc { eb, len, clone } => EventKind::Alloc {
                    eb,
                    len: Some(len),
                    via: if clone {
                        AllocVia::Clone
                    } else {
                        AllocVia::AllocExtentBuffer
                    },
                },
                Msg::Read(eb, r, l, f) => EventKind::ReadDone(dump(eb, r, l, f)),
                Msg::Release(eb, r, l, f) => EventKind::BeforeRelease(dump(eb, r, l, f)),
                Msg::CalledFrom(true) => EventKind::CalledFrom {
                    func: b"release_extent_buffer",
                },
                Msg::CalledFrom(false) => EventKind::CalledFrom {
                    func: b"btrfs_release_extent_buffer",
                },
                Msg::ValidationFailed(eb) => EventKind::ValidationFailed { eb },
            }
        }
    }

    fn msg() -> impl Strategy<Value = Msg> {
        let fsid = any::<[u8; 16]>();
        prop_oneof![
            (any::<u64>(), any::<u64>(), any::<bool>()).prop_map(|(eb, len, clone)| Msg::Alloc {
                eb,
                len,
                clone
            }),
            (any::<u64>(), any::<i32>(), any::<i32>(), fsid)
                .prop_map(|(e, r, l, f)| Msg::Read(e, r, l, f)),
            (any::<u64>(), any::<i32>(), any::<i32>(), fsid)
                .prop_map(|(e, r, l, f)| Msg::Release(e, r, l, f)),
            any::<bool>().prop_map(Msg::CalledFrom),
            any::<u64>().prop_map(Msg::ValidationFailed),
        ]
    }

    /// The context of one trace line.
    #[derive(Debug, Clone)]
    struct Ctx {
        comm: String,
        pid: u32,
        cpu: u32,
        flags: String,
        /// µs for the latency format, ns for the normal one.
        ts: u64,
        mark: char,
        /// printk time in µs, for a console prefix.
        console_us: Option<u64>,
    }

    fn flags() -> impl Strategy<Value = String> {
        "[.dDX][.nNp][.hHsS][.0-9][.0-9]?"
    }

    /// Whether a comm starts like a syslog priority (`<5>`): a line starting
    /// so is read as one, so such a comm cannot round-trip.
    fn looks_like_priority(comm: &str) -> bool {
        let b = comm.as_bytes();
        let digits = b.iter().skip(1).take_while(|c| c.is_ascii_digit()).count();
        b.first() == Some(&b'<') && digits > 0 && b.get(1 + digits) == Some(&b'>')
    }

    /// Normal format: comm may have spaces, dashes and digits inside.
    fn normal_ctx() -> impl Strategy<Value = Ctx> {
        (
            "[a-zA-Z<_/][a-zA-Z0-9 :/_<>-]{0,14}[a-zA-Z/_>:]"
                .prop_filter("a syslog priority", |c: &String| !looks_like_priority(c)),
            0u32..=4_194_304,
            0u32..=8191,
            flags(),
            0u64..=u64::MAX / 1_000_000_000 - 1,
            0u64..1_000_000_000,
            proptest::option::of(0u64..=99_999_999_999),
        )
            .prop_map(|(comm, pid, cpu, flags, secs, ns, console_us)| Ctx {
                comm,
                pid,
                cpu,
                flags,
                ts: secs * 1_000_000_000 + ns,
                mark: ' ',
                console_us,
            })
    }

    /// Latency / dump format: an 8-character comm (no spaces or digits,
    /// which would be ambiguous with the pid and CPU columns).
    fn latency_ctx() -> impl Strategy<Value = Ctx> {
        (
            "[a-zA-Z<_/][a-zA-Z/_<>.:-]{0,7}",
            0u32..=4_194_304,
            0u32..=8191,
            flags(),
            0u64..=u64::MAX / 1000,
            prop_oneof![
                Just(' '),
                Just('+'),
                Just('!'),
                Just('#'),
                Just('*'),
                Just('@'),
                Just('$')
            ],
            proptest::option::of(0u64..=99_999_999_999),
        )
            .prop_map(|(comm, pid, cpu, flags, ts, mark, console_us)| Ctx {
                comm,
                pid,
                cpu,
                flags,
                ts,
                mark,
                console_us,
            })
    }

    fn console(us: Option<u64>) -> String {
        us.map_or(String::new(), |us| {
            format!("[{:5}.{:06}] ", us / 1_000_000, us % 1_000_000)
        })
    }

    /// `"%16s-%-7d [%03d] %s %5lu.%09lu: %s: %s"` (tracefs `trace`, nanosecond clock shown as 9 digits).
    fn render_normal(c: &Ctx, m: &Msg) -> String {
        format!(
            "{}{:>16}-{:<7} [{:03}] {} {:5}.{:09}: {}: {}",
            console(c.console_us),
            c.comm,
            c.pid,
            c.cpu,
            c.flags,
            c.ts / 1_000_000_000,
            c.ts % 1_000_000_000,
            m.symbol(),
            m.payload()
        )
    }

    /// `"%8.8s-%-7d %3d%s %4lldus%c: %s: %s"` (`ftrace_dump_on_oops`).
    fn render_latency(c: &Ctx, m: &Msg) -> String {
        format!(
            "{}{:>8.8}-{:<7} {:3}{} {:4}us{}: {}: {}",
            console(c.console_us),
            c.comm,
            c.pid,
            c.cpu,
            c.flags,
            c.ts,
            c.mark,
            m.symbol(),
            m.payload()
        )
    }

    /// Parse one line; run `check` on its record and event.
    fn parse_one(line: &str, check: &mut dyn FnMut(&Record<'_>, Option<event::Event<'_>>)) {
        let mut n = 0;
        let mut sink = |r: &Record<'_>| {
            n += 1;
            check(r, event::Recognizer::builtin().recognize(r));
        };
        read_input(
            0,
            format!("{line}\n").as_bytes(),
            &ReadOptions::default(),
            &mut sink,
        );
        assert_eq!(n, 1, "one record for {line:?}");
    }

    fn check_trace(line: &str, c: &Ctx, m: &Msg, format: TraceFormat, ts: TraceTs) {
        parse_one(line, &mut |r, e| {
            let Body::Trace(t) = &r.body else {
                panic!("not a trace line: {line:?}\n{:?}", r.body);
            };
            assert_eq!(t.format, format, "{line:?}");
            assert_eq!(t.flags, Some(c.flags.as_bytes()), "{line:?}");
            let mark = (c.mark != ' ').then_some(c.mark as u8);
            assert_eq!(t.mark, mark, "{line:?}");
            let e = e.unwrap_or_else(|| panic!("no event: {line:?}"));
            assert_eq!(e.kind, m.kind(), "{line:?}");
            assert_eq!(e.comm, c.comm.as_bytes(), "{line:?}");
            assert_eq!((e.pid, e.cpu), (Some(c.pid), Some(c.cpu)), "{line:?}");
            assert_eq!(e.trace_ts, Some(ts), "{line:?}");
            assert_eq!(e.console_ns, c.console_us.map(|u| u * 1000), "{line:?}");
            assert_eq!(e.pos.line, 1);
        });
    }

    /// A tree-checker owner-mismatch report (tree-checker.c, with the
    /// debug patch's `eb=` appended).
    #[derive(Debug, Clone)]
    struct Owner {
        node: bool,
        root: u64,
        block: u64,
        have: u64,
        expect: Expect,
        eb: Option<u64>,
        device: String,
        console_us: u64,
    }

    fn owner() -> impl Strategy<Value = Owner> {
        (
            any::<bool>(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            prop_oneof![
                any::<u64>().prop_map(Expect::Root),
                (any::<u64>(), any::<u64>()).prop_map(|(a, b)| Expect::Range(a, b)),
            ],
            proptest::option::of(any::<u64>()),
            "(sd[a-z][0-9]|dm-[0-9]{1,2}|nvme0n1p[0-9])",
            0u64..=99_999_999_999,
        )
            .prop_map(
                |(node, root, block, have, expect, eb, device, console_us)| Owner {
                    node,
                    root,
                    block,
                    have,
                    expect,
                    eb,
                    device,
                    console_us,
                },
            )
    }

    fn render_owner(o: &Owner) -> String {
        let expect = match o.expect {
            Expect::Root(r) => r.to_string(),
            Expect::Range(a, b) => format!("[{a}, {b}]"),
        };
        let eb = o.eb.map_or(String::new(), |e| format!(" eb={e}"));
        format!(
            "{}BTRFS critical (device {}): corrupted {}, root={} block={} owner mismatch, have {} expect {expect}{eb}",
            console(Some(o.console_us)),
            o.device,
            if o.node { "node" } else { "leaf" },
            o.root,
            o.block,
            o.have,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: crate::util::cases(128, 1024),
            ..ProptestConfig::default()
        })]

        #[test]
        fn normal_format_lines_round_trip(c in normal_ctx(), m in msg()) {
            let line = render_normal(&c, &m);
            check_trace(&line, &c, &m, TraceFormat::Normal, TraceTs::Ns(c.ts));
        }

        #[test]
        fn latency_format_lines_round_trip(c in latency_ctx(), m in msg()) {
            let line = render_latency(&c, &m);
            check_trace(&line, &c, &m, TraceFormat::Latency, TraceTs::SinceReset(c.ts * 1000));
        }

        #[test]
        fn tree_checker_owner_mismatch_round_trips(o in owner()) {
            let line = render_owner(&o);
            parse_one(&line, &mut |_, e| {
                let e = e.unwrap_or_else(|| panic!("no event: {line:?}"));
                let want = TreeCheck {
                    node: o.node,
                    root: Some(o.root),
                    block: Some(o.block),
                    block_trusted: false,
                    eb: o.eb,
                    slot: None,
                    owner: Some((o.have, o.expect)),
                    reason: b"owner mismatch",
                };
                assert_eq!(e.kind, EventKind::TreeCheck(want), "{line:?}");
                assert_eq!(e.console_ns, Some(o.console_us * 1000));
                assert_eq!(e.kind.eb(), o.eb, "an untrusted block= is never the eb");
            });
        }
    }
}

/// Positional reading hands over to the stream reader before a line longer
/// than the cap, and for the end of the file (here without a final `\n`);
/// line numbers and offsets run on across both hand-overs.
#[test]
fn workers_reading_the_file_hand_over_to_the_stream() {
    let mut data = long(LINES[1].as_bytes());
    let half = data.len() / 2;
    let at = half + data[half..].iter().position(|&c| c == b'\n').unwrap() + 1;
    let long_line = format!("[  707.310565] {}\n", "x".repeat(3000));
    data.splice(at..at, long_line.into_bytes());
    data.extend_from_slice(LINES[0].as_bytes());
    let file = TempInput::new(&data);
    let seq = ReadOptions {
        line_cap: 1000,
        ..ReadOptions::default()
    };
    let par = ReadOptions {
        line_cap: 1000,
        ..parallel(2, 8)
    };
    let want = records_with(&data, &seq);
    assert!(want.iter().any(|r| r.8), "the long line is truncated");
    assert_eq!(records_from(&data, Some(file.positional()), &par), want);
    assert_eq!(
        report_from(&data, Some(file.positional()), &par),
        report_with(&data, &seq)
    );
}

/// A file that reports no size (tracefs's `trace_pipe`, whose reads consume
/// what they return) is never read at positions, nor as a second stream:
/// here the positional handle is an empty file, and every record still
/// comes, from the stream.
#[test]
fn a_file_with_no_size_is_read_as_a_stream_only() {
    let data = long(LINES[1].as_bytes());
    let empty = TempInput::new(b"");
    let at = Positional::new(std::fs::File::open(&empty.0).expect("temp file"), 0)
        .expect("positional reads");
    let par = parallel(2, 8);
    assert_eq!(
        records_from(&data, Some(at), &par),
        records_with(&data, &ReadOptions::default())
    );
}
