//! tracesift: sift kernel trace captures for extent-buffer lifetime
//! anomalies, btrfs corruption reports and kernel splats.
//!
//! # The pipeline
//!
//! Each stage has one job and a documented interface; data gets more
//! "owned" as it moves right.
//!
//! ```text
//! input ──▶ repair ──▶ prefix ──▶ grammar ──▶ event ──▶ correlate ──▶ rules ──▶ report, timeline,
//! bytes     logical    console    Record<'a>  Event     boots,        Finding   events, stats
//! (gz/zst/  records    layers     (borrowed)  (owned    lifetimes,              (text, JSON,
//!  xz)                                        numbers)  coverage                markdown, NDJSON)
//!           └──────────── reader: drives them, on worker threads ───┘
//! ```
//!
//! # Layers
//!
//! A module may import only the modules of the layers above its own row
//! (`tests/integration/layers.rs` checks it, outside `#[cfg(test)]` code):
//!
//! | layer | modules | what they do |
//! |---|---|---|
//! | 1 | `fields` `units` | byte scanners for numbers and names; addresses and times as users write them |
//! | 2 | `input` | files and stdin, decompression by magic bytes, line splitting with `memchr`, a line cap |
//! | 3 | `prefix` | syslog / journal / dmesg / kmsg / printk prefixes peeled |
//! | 4 | `grammar` | nom grammars: ftrace lines, framing, headers, kernel and btrfs messages |
//! | 5 | `repair` | what mail clients and terminals did to a paste, undone |
//! | 6 | `record` `spec` | the [`record::Record`] type alone; rules files (keys, events, lifecycles) parsed and compiled |
//! | 7 | `event` | a [`event::Recognizer`] turns a record into at most one [`event::Event`] |
//! | 8 | `reader` | drives layers 2–7 for each input into a [`reader::RecordSink`], in parallel when it pays |
//! | 9 | `correlate` | boots, eb lifetimes, splats, corruption reports, coverage ([`correlate::Analysis`]) |
//! | 10 | `rules` | findings with stable ids, judged on a finished analysis |
//! | 11 | `output` | exit statuses, styling, escaping, the JSON pieces documents share |
//! | 12 | `cli` | the command line (the only module with clap, besides `main.rs`) |
//! | 13 | `config` | the command line resolved against the environment |
//! | 14 | `report` `timeline` `events` `stats` `export` `catalog` `progress` | one module per command (and the progress bar), none importing another |
//! | 15 | `app` | runs the command a [`config::Config`] names |
//!
//! # Invariants
//!
//! * The top level never fails on input: every line is counted under a
//!   class; an unrecognised line is counted and sampled, never dropped.
//! * No allocation per line on the hot path: records borrow the read buffer.
//! * Memory is bounded by the live keys (extent buffers, splats waiting for
//!   their function), never by the size of the input.
//! * No `unsafe` code.
//!
//! # Visibility
//!
//! Modules are public so that the tests, benches, examples, the fuzz
//! targets and the `synth` member reach what they check; items inside them
//! are `pub(crate)` unless one of those needs them
//! (`scripts/narrow-visibility.py` narrows every item and widens back what
//! the other targets or a public signature need). The binary itself is one
//! caller among them.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Most items are crate-internal (see Visibility): the developer docs are
// built with `cargo doc --document-private-items`, where these links resolve.
#![allow(rustdoc::private_intra_doc_links)]

pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod correlate;
pub mod event;
pub mod events;
pub mod export;
pub mod fields;
pub mod grammar;
pub mod input;
pub mod output;
pub mod prefix;
pub mod progress;
pub mod reader;
pub mod record;
pub mod repair;
pub mod report;
pub mod rules;
pub mod spec;
pub mod stats;
pub mod timeline;
pub mod units;
