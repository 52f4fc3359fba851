//! The fuzz targets' code in the normal test suite (issue #19): every seed
//! `fuzz/seed.sh` would make from the fixtures, and every committed
//! regression input under `fuzz/regressions/<target>/`, through the very
//! functions the targets call (`fuzz/fuzz_targets/common.rs`, included
//! here). A target that no longer builds against the library, or whose
//! assertions no longer hold on the fixtures, fails here, not only in a
//! fuzz campaign that CI never runs.
//!
//! With `TRACESIFT_FULL_TESTS=1`, a local corpus (`fuzz/corpus/<target>/`,
//! gitignored) is replayed too.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::util::{full_tests, root};

#[path = "../../fuzz/fuzz_targets/common.rs"]
mod common;

/// The reading-option selectors (first byte) the seeds are tried with:
/// the defaults, tiny reads, a tiny line cap, a 200-byte cap, and the
/// parallel reader with tiny batches (see `common::options`).
const SELECTORS: [u8; 7] = [0x00, 0x05, 0x12, 0x13, 0xc0, 0xc5, 0xd2];

fn fixture_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["fixtures", "fixtures/cases", "fixtures/repair"] {
        let Ok(rd) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "txt") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 20, "fixtures not found: {files:?}");
    files
}

fn with_selector(sel: u8, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(body.len() + 1);
    v.push(sel);
    v.extend_from_slice(body);
    v
}

/// Files of a directory, sorted (none when it does not exist).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Run `f` on each input, naming the one that fails.
fn replay(target: &str, inputs: Vec<(String, Vec<u8>)>, f: fn(&[u8])) {
    let mut extra: Vec<(String, Vec<u8>)> = Vec::new();
    for dir in ["fuzz/regressions", "fuzz/corpus"] {
        if dir == "fuzz/corpus" && !full_tests() {
            continue;
        }
        for p in files_in(&root().join(dir).join(target)) {
            let data = std::fs::read(&p).unwrap();
            extra.push((p.display().to_string(), data));
        }
    }
    let n = inputs.len() + extra.len();
    for (name, data) in inputs.into_iter().chain(extra) {
        let r = std::panic::catch_unwind(|| f(&data));
        assert!(r.is_ok(), "fuzz target {target} fails on {name}");
    }
    assert!(n > 0);
}

/// Every fixture behind every reading-options selector, as `fuzz/seed.sh`
/// seeds the `records` and `report` targets.
fn selected_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut inputs = Vec::new();
    for p in fixture_files() {
        let body = std::fs::read(&p).unwrap();
        for sel in SELECTORS {
            inputs.push((
                format!("{} {sel:#04x}", p.display()),
                with_selector(sel, &body),
            ));
        }
    }
    inputs
}

#[test]
fn records_target_holds_on_the_seeds() {
    replay("records", selected_fixtures(), common::records);
}

#[test]
fn report_target_holds_on_the_seeds() {
    let mut inputs = selected_fixtures();
    // Compressed and truncated inputs, as `fuzz/seed.sh` makes them.
    let text = std::fs::read(root().join("fixtures/thread-excerpt.txt")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::stream::encode_all(&text[..], 3).unwrap();
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&text).unwrap();
    let xz = xz.finish().unwrap();
    for (name, data) in [("gz", &gz), ("zst", &zst), ("xz", &xz)] {
        for sel in [0x00, 0x13, 0xc0] {
            inputs.push((format!("{name} {sel:#04x}"), with_selector(sel, data)));
            let cut = &data[..data.len() / 2];
            inputs.push((format!("{name} cut {sel:#04x}"), with_selector(sel, cut)));
        }
    }
    replay("report", inputs, common::report);
}

#[test]
fn timeline_target_holds_on_the_seeds() {
    let mut inputs = Vec::new();
    for p in fixture_files() {
        let body = std::fs::read(&p).unwrap();
        let text = String::from_utf8_lossy(&body);
        let eb = text
            .split("eb=")
            .nth(1)
            .map(|s| {
                s.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "15302115328".into());
        let hex = eb
            .parse::<u64>()
            .map(|v| format!("{v:#x}"))
            .unwrap_or_default();
        for sel in [0x00, 0x05, 0x12, 0xc0] {
            for addr in [&eb, &hex] {
                let mut data = vec![sel];
                data.extend_from_slice(addr.as_bytes());
                data.push(b'\n');
                data.extend_from_slice(&body);
                inputs.push((format!("{} {addr} {sel:#04x}", p.display()), data));
            }
        }
    }
    replay("timeline", inputs, common::timeline);
}

/// The assertion that broke the `records` target (issue #19: "assertion
/// failed: r.lines >= 1", then "records go backwards"): records split off
/// one physical line share its position, and the target now knows it.
#[test]
fn records_target_accepts_split_records_and_rejects_nothing_else() {
    let data =
        b"\x00[ 1.000000] BTRFS info (device sda): a [ 1.000001] BTRFS info (device sda): b\nx\n";
    common::records(data);
    // The same line with its records far apart in the line is still one line.
    let data = b"\x12[ 1.000000] a [ 1.000001] b [ 1.000002] c\n[ 2.000000] d\n";
    common::records(data);
}
