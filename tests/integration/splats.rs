//! Splat grouping: one oops printed twice is one splat, and a panic belongs
//! to the oops that caused it (issue #14.4). Fixtures in `fixtures/cases/`,
//! sources in `fixtures/README.md`; the real captures they are shaped like
//! are checked too when the corpus is present.

use crate::util::{corpus_or_skip, fixture, report_json};

/// (title, line, die, panicked) of every splat.
fn splats(v: &serde_json::Value) -> Vec<(String, u64, Option<u64>, bool)> {
    v["splats"]
        .as_array()
        .expect("splats")
        .iter()
        .map(|s| {
            (
                s["title"].as_str().unwrap_or("").to_string(),
                s["line"].as_u64().unwrap_or(0),
                s["die"].as_u64(),
                s["panicked"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn splat_findings(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "kernel-splat")
        .map(|f| f["message"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn an_oops_printed_again_in_its_report_section_is_one_splat() {
    let (v, code) = report_json(&[&fixture("cases/oops-printed-twice.txt")]);
    assert_eq!(code, 1);
    assert_eq!(
        splats(&v),
        [("kernel BUG in set_state_bits".to_string(), 2, Some(1), true)]
    );
    assert_eq!(
        splat_findings(&v),
        ["kernel BUG in set_state_bits (the kernel panicked)"]
    );
}

#[test]
fn an_oops_on_serial_and_netconsole_is_one_splat() {
    let (v, _) = report_json(&[&fixture("cases/oops-serial-and-netconsole.txt")]);
    let title =
        "BUG: unable to handle kernel NULL pointer dereference in btrfs_qgroup_trace_extent_post";
    assert_eq!(splats(&v), [(title.to_string(), 1, Some(1), true)]);
    assert_eq!(v["splats"][0]["type"], "OOPS");
    assert_eq!(v["splats"][0]["frame"], "btrfs_qgroup_trace_extent_post");
    assert_eq!(v["splats"][0]["corrupted"], false);
}

#[test]
fn the_panic_belongs_to_the_oops_whose_header_came_last() {
    let (v, _) = report_json(&[&fixture("cases/panic-after-second-oops.txt")]);
    let bug = "kernel BUG in btrfs_check_eb_owner".to_string();
    assert_eq!(
        splats(&v),
        [
            (bug.clone(), 2, Some(1), false),
            (bug.clone(), 15, Some(2), true),
            (bug, 17, Some(3), false),
        ]
    );
}

#[test]
fn corpus_healer_report_is_one_splat() {
    let root = corpus_or_skip!();
    let f = root.join("real-world/btrfs-2023-08-healer-fuzz-set-state-bits-no-timestamps.txt");
    let (v, _) = report_json(&[&f]);
    assert_eq!(
        splats(&v),
        [(
            "kernel BUG in set_state_bits".to_string(),
            61,
            Some(1),
            true
        )]
    );
}

#[test]
fn corpus_typescript_panic_is_die_2s() {
    let root = corpus_or_skip!();
    let (v, _) = report_json(&[&root.join("linux-btrfs-ml/typescript-2.txt")]);
    let panicked: Vec<_> = splats(&v)
        .into_iter()
        .filter(|s| s.3)
        .map(|s| (s.1, s.2))
        .collect();
    assert_eq!(panicked, [(3394, Some(2))]);
}
