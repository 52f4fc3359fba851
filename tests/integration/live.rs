//! `events` on a live input (issue #19): a slow writer feeds a pipe or a
//! FIFO one line at a time, and each event must come out while the writer
//! still waits, not after about 64 lines or at the end of input. The
//! deadline is a generous liveness bound (a second per line), not a
//! measurement.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Lines the writer sends, one every [`GAP`].
const LINES: usize = 8;
const GAP: Duration = Duration::from_millis(300);
/// How long an event may take to come out after its line went in.
const DEADLINE: Duration = Duration::from_secs(1);

fn line(i: usize) -> String {
    format!(
        "[  100.{i:06}] iou-wrk--{pid:<7}  2..... {ts}us : alloc_extent_buffer: alloc_extent_buffer: alloc eb={eb} len=16384\n",
        pid = 4000 + i,
        ts = 90_000_000 + i * 10,
        eb = 22_020_096 + i as u64 * 16_384,
    )
}

/// Read the child's stdout on a thread; each line with when it came.
fn watch(child: &mut Child) -> mpsc::Receiver<(Instant, String)> {
    let out = child.stdout.take().expect("stdout piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if tx.send((Instant::now(), l)).is_err() {
                break;
            }
        }
    });
    rx
}

/// Write the lines slowly to `w`; after each, the event of that line must
/// come out within the deadline.
fn feed_slowly(w: &mut dyn Write, rx: &mpsc::Receiver<(Instant, String)>) {
    for i in 0..LINES {
        let sent = Instant::now();
        w.write_all(line(i).as_bytes()).unwrap();
        w.flush().unwrap();
        let eb = 22_020_096 + i as u64 * 16_384;
        let (at, got) = rx
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("no event within {DEADLINE:?} of line {i}"));
        assert!(at.duration_since(sent) <= DEADLINE);
        let v: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(v["eb"].as_u64(), Some(eb), "{got}");
        assert_eq!(v["kind"], "alloc", "{got}");
        std::thread::sleep(GAP);
    }
}

fn events_cmd() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("tracesift"));
    c.arg("events")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1");
    c
}

#[test]
fn events_from_a_slow_pipe_come_out_line_by_line() {
    let mut child = events_cmd().arg("-").stdin(Stdio::piped()).spawn().unwrap();
    let rx = watch(&mut child);
    let mut stdin = child.stdin.take().unwrap();
    feed_slowly(&mut stdin, &rx);
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    // Nothing more, nothing twice.
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
}

#[test]
fn events_from_a_slow_fifo_come_out_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("trace_pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        crate::util::note("no mkfifo: the FIFO case is skipped");
        return;
    }
    let mut child = events_cmd()
        .arg(&fifo)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let rx = watch(&mut child);
    // Opening a FIFO for writing waits for its reader.
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    feed_slowly(&mut w, &rx);
    drop(w);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// A mail-wrapped paste arriving at once is still repaired on a pipe: the
/// live reading decides early only when the writer pauses.
#[test]
fn a_paste_through_a_pipe_is_repaired_as_from_a_file() {
    let path = crate::util::fixture("repair/quoted-wrapped-excerpt.txt");
    let data = std::fs::read(&path).unwrap();
    let from_file = crate::util::bin()
        .arg("events")
        .arg(&path)
        .output()
        .unwrap();
    let from_pipe = crate::util::bin()
        .args(["events", "-"])
        .write_stdin(data)
        .output()
        .unwrap();
    assert!(!from_file.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&from_file.stdout),
        String::from_utf8_lossy(&from_pipe.stdout)
    );
}
