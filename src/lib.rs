//! tracesift: sift kernel trace captures for extent-buffer lifetime
//! anomalies and kernel splats.
//!
//! # The pipeline
//!
//! Each stage has one job and a documented interface; data gets more
//! "owned" as it moves right.
//!
//! ```text
//! input ──▶ lines ──▶ repair ──▶ prefix ──▶ grammar ──▶ event ──▶ correlate ──▶ rules ──▶ report
//! bytes     physical   logical    console    Record<'a>  Event     lifetimes,    Finding   text, JSON,
//! (gz/zst/  lines,     records    layers     (borrowed)  (owned    coverage                markdown,
//!  xz)      cleaned                                      numbers)                          NDJSON
//! ```
//!
//! * [`input`]: files and stdin, decompression by magic bytes, one reusable
//!   line buffer with `memchr`, a line cap, console clean-up.
//! * [`repair`]: undo what mail clients and terminals did to a paste.
//! * [`prefix`]: peel syslog / journal / dmesg / kmsg / printk prefixes.
//! * [`grammar`]: nom grammars for ftrace lines (normal, latency/dump,
//!   function_graph, trace-cmd), framing, headers, kernel messages.
//! * [`record`]: drives the stages above for one input into a [`record::RecordSink`].
//! * [`stats`]: the `stats` sink; [`correlate::coverage`]: per-CPU windows and dumps.
//! * [`report`]: reporters and the JSON schemas; [`progress`]: the progress bar.
//! * [`synth`]: not a stage: a generator of large synthetic captures with
//!   known anomalies, for tests and benchmarks (`examples/gen_capture.rs`).
//!
//! # Invariants
//!
//! * The top level never fails on input: every line is counted under a
//!   class; an unrecognised line is counted and sampled, never dropped.
//! * No allocation per line on the hot path: records borrow the read buffer.
//! * No `unsafe` code.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod config;
pub mod correlate;
pub mod event;
pub mod fields;
pub mod grammar;
pub mod input;
pub mod prefix;
pub mod progress;
pub mod reader;
pub mod record;
pub mod repair;
pub mod report;
pub mod rules;
pub mod stats;
pub mod synth;
pub mod timeline;
pub mod units;
