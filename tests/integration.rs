//! The integration test binary: one harness, several modules.
//!
//! Tests that need the shared corpus (`../shared/corpus`, or the directory in
//! `TRACESIFT_CORPUS`) skip themselves with a note when it is absent, and
//! fail instead when `CI` is set. `TRACESIFT_FULL_TESTS=1` runs the long
//! property runs and corpus sweeps (see `integration/util.rs`).

#[path = "integration/boots.rs"]
mod boots;
#[path = "integration/cli.rs"]
mod cli;
#[path = "integration/corpus.rs"]
mod corpus;
#[path = "integration/docs.rs"]
mod docs;
#[path = "integration/duckdb.rs"]
mod duckdb;
#[path = "integration/each.rs"]
mod each;
#[path = "integration/export.rs"]
mod export;
#[path = "integration/fastlane.rs"]
mod fastlane;
#[path = "integration/fixtures.rs"]
mod fixtures;
#[path = "integration/fuzz_corpus.rs"]
mod fuzz_corpus;
#[path = "integration/hostile.rs"]
mod hostile;
#[path = "integration/json_schema.rs"]
mod json_schema;
#[path = "integration/keys.rs"]
mod keys;
#[path = "integration/layers.rs"]
mod layers;
#[path = "integration/live.rs"]
mod live;
#[path = "integration/mail.rs"]
mod mail;
#[path = "integration/props.rs"]
mod props;
#[path = "integration/repair.rs"]
mod repair;
#[path = "integration/reports.rs"]
mod reports;
#[path = "integration/splats.rs"]
mod splats;
#[path = "integration/synth.rs"]
mod synth;
#[path = "integration/syzkaller.rs"]
mod syzkaller;
#[path = "integration/timeline.rs"]
mod timeline;
#[path = "integration/util.rs"]
mod util;
#[path = "integration/verdicts.rs"]
mod verdicts;
#[path = "integration/worker.rs"]
mod worker;
