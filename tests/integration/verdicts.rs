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
