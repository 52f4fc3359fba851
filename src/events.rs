//! `tracesift events`: every recognised event as one JSON object per line
//! (NDJSON), for jq, DuckDB or ClickHouse. The schema:
#![doc = include_str!("../doc/schema/events.md")]

use std::borrow::Cow;
use std::io::{self, Write};

use crate::config::Config;
use crate::correlate::boots::Boots;
use crate::output::{self, Status};
use crate::reader::driver::{self, ReaderHook};

use serde::Serialize;

use crate::event::{self, Event, EventKind, Expect, Recognizer};
use crate::grammar::kernel::OopsLine;
use crate::reader::{Caps, Flow, RecordSink, SinkResult};
use crate::record::Record;
use crate::spec::Rules;

fn lossy(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// One event as serialised.
#[derive(Serialize)]
struct EventDoc<'a> {
    input: u32,
    line: u64,
    boot: u32,
    #[serde(skip_serializing_if = "is_one")]
    lines: u32,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    eb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comm: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_ts_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_ts_counter: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    console_ts_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    declared: Option<&'a str>,
    fields: Fields<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Args<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keys: Vec<KeyDoc>,
}

/// A key value an event names (`{"key": "daddr", "value": "0x851c80"}`).
#[derive(Serialize)]
struct KeyDoc {
    key: String,
    value: String,
}

/// Most `key=value` pairs of one payload put into `args`.
const MAX_ARGS: usize = 64;

/// The fields of an event's text as one JSON object, in the order printed:
/// a decimal integer as a number, anything else as a string; a key printed
/// twice keeps its first value.
enum Args<'a> {
    /// The `key=value` pairs of a trace payload ([`crate::fields::key_values`]).
    Pairs(&'a [u8]),
    /// Every named field ([`crate::event::fields`]: also `name value` and
    /// `name: value`): for declared events, kernel messages among them, and
    /// trace payloads without a `key=value` pair (`dev 259:1 daddr 0x851c80`).
    Named(&'a [u8]),
}

impl<'a> Args<'a> {
    fn of(e: &Event<'a>) -> Option<Args<'a>> {
        let named = |t: &'a [u8]| {
            crate::event::fields::fields(t)
                .any(|f| !f.name.is_empty())
                .then_some(Args::Named(t))
        };
        match (e.payload, &e.kind) {
            (Some(p), EventKind::Declared(_)) => named(p),
            (Some(p), _) if crate::fields::key_values(p).next().is_some() => Some(Args::Pairs(p)),
            (Some(p), EventKind::Trace) => named(p),
            (None, EventKind::Declared(_)) => named(e.msg),
            _ => None,
        }
    }

    fn pairs(&self) -> Box<dyn Iterator<Item = (&'a [u8], &'a [u8])> + 'a> {
        match *self {
            Args::Pairs(t) => Box::new(crate::fields::key_values(t)),
            Args::Named(t) => Box::new(
                crate::event::fields::fields(t)
                    .filter(|f| !f.name.is_empty())
                    .map(|f| (f.name, f.value)),
            ),
        }
    }
}

impl Serialize for Args<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut seen: Vec<&[u8]> = Vec::new();
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.pairs() {
            if seen.len() == MAX_ARGS {
                break;
            }
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            let key = lossy(k);
            match integer(v) {
                Some(Int::U(n)) => m.serialize_entry(&key, &n)?,
                Some(Int::I(n)) => m.serialize_entry(&key, &n)?,
                None => m.serialize_entry(&key, &lossy(v))?,
            }
        }
        m.end()
    }
}

enum Int {
    U(u64),
    I(i64),
}

/// A decimal integer as printed by `%d`/`%llu` (`0`, `16384`, `-5`), not
/// one with leading zeros (`0001` is a flag word, kept as text).
fn integer(v: &[u8]) -> Option<Int> {
    let (neg, digits) = match v.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, v),
    };
    let plain = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() == 1 || digits[0] != b'0');
    if !plain {
        return None;
    }
    let text = std::str::from_utf8(v).ok()?;
    if neg {
        text.parse().ok().map(Int::I)
    } else {
        text.parse().ok().map(Int::U)
    }
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

#[derive(Serialize, Default)]
struct Fields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    len: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_refs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fsid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    func: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocks: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    block: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    block_trusted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slot: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_have: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expect: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mirror: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    have: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errno: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Cow<'a, str>>,
}

/// The fields of an oops line that is an event ([`OopsLine::is_event`]).
fn oops_fields(l: &OopsLine<'_>) -> Option<Fields<'static>> {
    if !l.is_event() {
        return None;
    }
    let own = |b: &[u8]| Some(Cow::Owned(String::from_utf8_lossy(b).into_owned()));
    let f = |line: &'static str| Fields {
        line: Some(Cow::Borrowed(line)),
        ..Fields::default()
    };
    Some(match *l {
        OopsLine::Warning { location, func } => Fields {
            function: func.and_then(own),
            location: location.and_then(own),
            ..f("warning")
        },
        OopsLine::WarningText(t) => Fields {
            text: own(t),
            ..f("warning")
        },
        OopsLine::KernelBug { location } => Fields {
            location: own(location),
            ..f("kernel-bug")
        },
        OopsLine::Kasan { kind, func } => Fields {
            text: own(kind),
            function: func.and_then(own),
            ..f("kasan")
        },
        OopsLine::Bug(t) => Fields {
            text: own(t),
            ..f("bug")
        },
        OopsLine::OopsHeader { what, .. } => Fields {
            text: own(what),
            ..f("oops")
        },
        OopsLine::Panic(t) => Fields {
            text: own(t),
            ..f("panic")
        },
        OopsLine::Hung => f("hung-task"),
        OopsLine::RcuStall => f("rcu-stall"),
        OopsLine::Lockdep(t) => Fields {
            text: own(t),
            ..f("lockdep")
        },
        OopsLine::Rip { func: Some(fun) } => Fields {
            function: own(fun),
            ..f("rip")
        },
        _ => return None,
    })
}

fn fields<'a>(e: &Event<'a>) -> Option<Fields<'a>> {
    Some(match &e.kind {
        EventKind::Alloc { len, via, .. } => Fields {
            len: *len,
            via: Some(via.name()),
            ..Fields::default()
        },
        EventKind::ReadDone(d) | EventKind::BeforeRelease(d) => Fields {
            page_refs: d.page_refs,
            level: d.level,
            fsid: d.fsid.map(|f| crate::fields::format_uuid(&f)),
            ..Fields::default()
        },
        EventKind::CalledFrom { func } => Fields {
            func: Some(lossy(func)),
            ..Fields::default()
        },
        EventKind::ValidationFailed { .. } => Fields::default(),
        EventKind::Tracepoint { blocks, .. } => Fields {
            blocks: Some(blocks.iter().flatten().copied().collect()),
            ..Fields::default()
        },
        EventKind::TreeCheck(t) => Fields {
            node: Some(t.node),
            root: t.root,
            block: t.block,
            block_trusted: Some(t.block_trusted),
            slot: t.slot,
            owner_have: t.owner.map(|o| o.0),
            expect: t.owner.map(|o| match o.1 {
                Expect::Root(r) => vec![r],
                Expect::Range(a, b) => vec![a, b],
            }),
            reason: Some(lossy(t.reason)),
            ..Fields::default()
        },
        EventKind::Validation(v) => Fields {
            check: Some(v.kind.name()),
            mirror: v.mirror,
            have: v.have,
            ..Fields::default()
        },
        EventKind::Abort(a) => Fields {
            errno: Some(a.errno),
            func: a.func.map(lossy),
            line: a.line.map(|l| Cow::Owned(l.to_string())),
            ..Fields::default()
        },
        EventKind::Oops(l) => oops_fields(l)?,
        EventKind::Lost { count, .. } => Fields {
            count: *count,
            ..Fields::default()
        },
        EventKind::Trace => Fields {
            payload: e.payload.map(lossy),
            ..Fields::default()
        },
        EventKind::Declared(_) => Fields {
            payload: e.payload.map(lossy),
            ..Fields::default()
        },
    })
}

/// The text whose fields an event has: a trace event's payload, a kernel
/// message's text.
fn text_of<'a>(e: &Event<'a>) -> &'a [u8] {
    e.payload.unwrap_or(e.msg)
}

/// Serialise one event as a JSON object (no newline); `None` for events
/// that are not streamed (call-trace frames and other oops body lines).
pub fn event_json(e: &Event<'_>) -> Option<Vec<u8>> {
    event_json_with(e, None)
}

/// [`event_json`] with the keys `rules` declares (and declared events' names).
pub(crate) fn event_json_with(e: &Event<'_>, rules: Option<&Rules>) -> Option<Vec<u8>> {
    let fields = fields(e)?;
    let (ns, counter) = crate::output::docs::trace_ts(e.trace_ts);
    let eb = match &e.kind {
        EventKind::TreeCheck(t) => t.eb.or(t.block.filter(|_| t.block_trusted)),
        k => k.eb(),
    };
    // A lost-events marker's CPU is the one it names.
    let cpu = match e.kind {
        EventKind::Lost { cpu, .. } => Some(cpu),
        _ => e.cpu,
    };
    let doc = EventDoc {
        input: e.pos.input,
        line: e.pos.line,
        boot: e.boot,
        lines: e.lines,
        kind: e.kind.name(),
        eb,
        event: e.name.filter(|n| !n.is_empty()).map(lossy),
        cpu,
        pid: e.pid,
        comm: (!e.comm.is_empty()).then(|| lossy(e.comm)),
        trace_ts_ns: ns,
        trace_ts_counter: counter,
        console_ts_ns: e.console_ns,
        declared: match (&e.kind, rules) {
            (EventKind::Declared(h), Some(r)) => {
                r.events.get(h.event as usize).map(|d| d.name.as_str())
            }
            _ => None,
        },
        fields,
        keys: rules.map_or_else(Vec::new, |r| key_docs(r, e)),
        args: Args::of(e),
    };
    serde_json::to_vec(&doc).ok()
}

/// The declared keys an event names.
fn key_docs(rules: &Rules, e: &Event<'_>) -> Vec<KeyDoc> {
    let event = match &e.kind {
        EventKind::Declared(h) => Some(h.event),
        _ => None,
    };
    crate::event::declared::key_values(rules, event, text_of(e))
        .iter()
        .map(|kv| KeyDoc {
            key: rules.keys[kv.key].name.clone(),
            value: kv.display(rules),
        })
        .collect()
}

/// Run `events`, flushing after each event when `line_buffered`.
pub(crate) fn command(
    cfg: &Config,
    line_buffered: bool,
    hook: &mut dyn ReaderHook,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Status> {
    let mut sink = EventWriter::new(
        &mut *out,
        line_buffered,
        Recognizer::with_rules(cfg.rules.clone()),
    );
    // A live input's events come out as they arrive, whatever the buffering.
    let opts = crate::reader::ReadOptions {
        live: Some(crate::input::readahead::LiveTimes::default()),
        ..cfg.read.clone()
    };
    let outcome = driver::run_inputs(&cfg.inputs, &opts, &mut sink, hook);
    let failed = output::input_errors(&outcome.inputs, err);
    if let Some(e) = outcome.sink_error {
        return Err(e);
    }
    out.flush()?;
    Ok(if failed {
        Status::Trouble
    } else {
        Status::Clean
    })
}

/// A [`RecordSink`] writing each recognised event as one NDJSON line.
pub(crate) struct EventWriter<W: Write> {
    out: W,
    line_buffered: bool,
    recognizer: Recognizer,
    /// The boots so far: every event carries the index of its boot.
    boots: Boots,
    /// Events written.
    pub written: u64,
}

impl<W: Write> EventWriter<W> {
    /// Write the events `recognizer` finds to `out`, flushing after each
    /// event when `line_buffered`.
    pub(crate) fn new(out: W, line_buffered: bool, recognizer: Recognizer) -> EventWriter<W> {
        EventWriter {
            out,
            line_buffered,
            recognizer,
            boots: Boots::current_only(),
            written: 0,
        }
    }

    fn write_event(&mut self, e: &Event<'_>) -> io::Result<()> {
        let rules = self.recognizer.rules().map(|r| &**r);
        let Some(mut json) = event_json_with(e, rules) else {
            return Ok(());
        };
        json.push(b'\n');
        self.out.write_all(&json)?;
        if self.line_buffered {
            self.out.flush()?;
        }
        self.written += 1;
        Ok(())
    }
}

impl<W: Write> RecordSink for EventWriter<W> {
    fn caps(&self) -> Caps {
        Caps::events(self.recognizer.clone())
    }

    fn record(&mut self, r: &Record<'_>, kind: Option<EventKind<'_>>) -> SinkResult {
        self.boots.record(r);
        if let Some(k) = kind {
            let e = Event {
                boot: self.boots.current(),
                ..event::assemble(r, k)
            };
            self.write_event(&e)?;
        }
        Ok(Flow::Continue)
    }

    /// A live input waits for its writer: what was written so far goes out.
    fn idle(&mut self) -> SinkResult {
        self.out.flush()?;
        Ok(Flow::Continue)
    }
}
