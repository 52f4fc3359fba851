//! What the verdicts say (issue #14): the kernel a race signature is about,
//! a read whose only alloc lost an insert race, a report on nothing.

use crate::util::{bin, fixture, report_json};

fn finding<'a>(v: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == rule))
        .unwrap_or_else(|| panic!("no {rule} finding in {v}"))
}

#[test]
fn race_signature_places_the_kernel_against_the_fix() {
    let (v, _) = report_json(&[&fixture("cases/race-signature-affected-kernel.txt")]);
    let f = finding(&v, "race-signature");
    assert_eq!(f["kernel"]["release"], "6.8.0-rc7-euclean+");
    assert_eq!(f["kernel"]["standing"], "affected");
    let m = f["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("kernel 6.8.0-rc7-euclean+ is in the affected range"),
        "{m}"
    );

    let (v, _) = report_json(&[&fixture("cases/race-signature-fixed-kernel.txt")]);
    let f = finding(&v, "race-signature");
    assert_eq!(f["kernel"]["standing"], "fixed");
    let m = f["message"].as_str().unwrap_or_default();
    assert!(m.contains("already carries its fix"), "{m}");
    assert!(m.contains("another bug with the same signature"), "{m}");

    // No banner: no kernel, the ranges as before.
    let (v, _) = report_json(&[&fixture("thread-excerpt.txt")]);
    let f = finding(&v, "race-signature");
    assert!(f.get("kernel").is_none());
    assert!(f["message"]
        .as_str()
        .unwrap_or_default()
        .ends_with("affected kernels: 6.5 to 6.6.23, 6.7 to 6.7.11, 6.8 to 6.8.2"));
}

#[test]
fn a_read_after_a_lost_insert_race_names_the_discarded_alloc() {
    let (v, _) = report_json(&[&fixture("cases/read-after-lost-race.txt")]);
    let f = v["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["eb"] == 30408704u64))
        .expect("a finding about eb 30408704");
    assert_eq!(f["rule"], "read-without-alloc");
    let m = f["message"].as_str().unwrap_or_default();
    assert!(!m.contains("no alloc before it"), "{m}");
    assert!(m.contains("lost the insert race"), "{m}");
    let roles: Vec<_> = f["evidence"]
        .as_array()
        .map(|e| e.iter().map(|e| e["role"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(roles, ["discarded-alloc", "read-done"]);
    // The timeline tells the same story.
    let out = bin()
        .args(["timeline", "--eb", "30408704"])
        .arg(fixture("cases/read-after-lost-race.txt"))
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "loses an insert race and is discarded; the winning alloc is not in the trace"
        ),
        "{text}"
    );
}

#[test]
fn no_report_about_an_input_that_could_not_be_read() {
    let out = bin()
        .args(["report", "/nonexistent/capture.txt"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
    // With one input read, the report is about what could be read.
    let out = bin()
        .args(["report", "/nonexistent/capture.txt"])
        .arg(fixture("cases/neg-insert-race.txt"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("No findings in what could be read."),
        "{text}"
    );
    assert!(!text.contains("No findings.\n"), "{text}");
}

/// Trace lines of the debug patch at a trace time in microseconds.
fn patch_line(t: u64, cpu: u32, what: &str) -> String {
    format!("kworker/-322      {cpu:2}..... {t}us : {what}\n")
}

#[test]
fn a_bug_that_repeats_is_one_finding_and_memory_stays_bounded() {
    // 3000 allocations of one eb, each read twice: one finding, counted.
    let mut cycles = String::new();
    let mut t = 100_000_000;
    for _ in 0..3000 {
        for (cpu, what) in [
            (1, "alloc_extent_buffer: alloc_extent_buffer: alloc eb=30408704 len=16384"),
            (1, "end_bbio_meta_read: read done, eb=30408704 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000"),
            (2, "end_bbio_meta_read: read done, eb=30408704 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000"),
            (1, "alloc_extent_buffer: called from release_extent_buffer"),
            (1, "btrfs_release_extent_buffer_pages: before release, eb=30408704 page_refs=1 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000"),
        ] {
            t += 1;
            cycles.push_str(&patch_line(t, cpu, what));
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cycles.txt");
    std::fs::write(&path, &cycles).expect("write");
    let (v, _) = report_json(&[&path]);
    let f = v["findings"].as_array().expect("findings");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["rule"], "duplicate-read-completion");
    assert_eq!(f[0]["count"], 6000);
    let m = f[0]["message"].as_str().unwrap_or_default();
    assert!(
        m.ends_with("the same in 2999 more allocations of it in this boot"),
        "{m}"
    );
    assert_eq!(v["summary"]["not_kept"], serde_json::json!({}));

    // Reads of 10,500 distinct ebs with no alloc: 10,000 kept, the rest counted.
    let mut reads = String::new();
    for i in 0..10_500u64 {
        reads.push_str(&patch_line(
            100_000_000 + 2_000_000 + i,
            1,
            &format!("end_bbio_meta_read: read done, eb={} page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000", 30408704 + i * 16384),
        ));
    }
    let path = dir.path().join("reads.txt");
    std::fs::write(&path, &reads).expect("write");
    let (v, _) = report_json(&[&path]);
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(10_000));
    assert_eq!(v["summary"]["not_kept"]["read-without-alloc"], 500);
    let text = bin().arg("report").arg(&path).output().expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Not kept to bound memory: 500 read-without-alloc findings (at most 10000"),
        "{}",
        &text[..text.len().min(2000)]
    );
}

#[test]
fn the_summary_counts_the_events_that_events_prints() {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(fixture("cases"))
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    if let Some(root) = crate::util::corpus() {
        files.push(root.join("linux-btrfs-ml/typescript-2.txt"));
        files.push(root.join("syzkaller/linux-report-704"));
    }
    for f in files {
        let out = bin().arg("events").arg(&f).output().expect("run");
        let printed = out.stdout.iter().filter(|&&c| c == b'\n').count() as u64;
        let (v, _) = report_json(&[&f]);
        assert_eq!(v["summary"]["events"], printed, "{}", f.display());
    }
}

#[test]
fn a_flood_of_one_splat_is_one_finding_with_a_count() {
    let block = |i: u64, func: &str| {
        format!(
            "[{t:5}.000000] ------------[ cut here ]------------\n\
             [{t:5}.000001] WARNING: CPU: 2 PID: 5191 at fs/btrfs/inode.c:6450 {func}+0xa46/0xa70 [btrfs]\n\
             [{t:5}.000002] RIP: 0010:{func}+0xa46/0xa70 [btrfs]\n\
             [{t:5}.000003] Call Trace:\n\
             [{t:5}.000004]  <TASK>\n\
             [{t:5}.000005]  btrfs_create_common+0xd6/0x130 [btrfs]\n\
             [{t:5}.000006]  </TASK>\n\
             [{t:5}.000007] ---[ end trace 0000000000000000 ]---\n",
            t = 100 + i
        )
    };
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&block(i, "btrfs_create_new_inode"));
    }
    text.push_str(&block(3000, "btrfs_mark_buffer_dirty"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("flood.txt");
    std::fs::write(&path, &text).expect("write");
    let (v, _) = report_json(&[&path]);
    let f: Vec<_> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["title"].as_str().unwrap_or("?").to_string(),
                f["count"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        f,
        [
            ("WARNING in btrfs_create_new_inode".to_string(), Some(3000)),
            ("WARNING in btrfs_mark_buffer_dirty".to_string(), Some(1)),
        ]
    );
    let first = &v["findings"][0];
    assert_eq!(
        first["message"],
        "WARNING in btrfs_create_new_inode (3000 times)"
    );
    assert_eq!(first["evidence"].as_array().map(Vec::len), Some(8));
    // The list of splats keeps them all here (under its bound).
    assert_eq!(v["splats"].as_array().map(Vec::len), Some(3001));
    assert_eq!(v["summary"]["splats_not_listed"], 0);
}

#[test]
fn a_splat_names_what_its_task_did_last_in_the_trace() {
    let root = crate::util::corpus_or_skip!();
    let capture = root.join("linux-btrfs-ml/typescript-2.txt");
    let (v, _) = report_json(&[&capture]);
    let f = finding(&v, "kernel-splat");
    let m = f["message"].as_str().unwrap_or_default();
    assert!(
        m.ends_with("; task iou-wrk-45116 (pid 45509) last touched eb 13531021312 in the trace"),
        "{m}"
    );
    let trail: Vec<_> = f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter(|e| e["role"] == "task-trail")
        .map(|e| e["pid"].as_u64())
        .collect();
    assert_eq!(trail, [Some(45509); 3]);
    // The timeline of that eb shows the splat its task hit.
    let out = bin()
        .args(["timeline", "--eb", "13531021312"])
        .arg(&capture)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kernel BUG in btrfs_check_eb_owner: hit by iou-wrk-45116 (pid 45509), a task of this timeline"),
        "{text}"
    );
}
