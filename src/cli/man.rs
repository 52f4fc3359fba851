//! The manual page, `man/tracesift.1`: the title, NAME, SYNOPSIS and the
//! global OPTIONS come from the clap definitions through clap_mangen; each
//! command's section is rendered from its clap definition too; the
//! hand-written sections (the capture recipe, FINDING RULES, JSON OUTPUT,
//! EXIT STATUS, ENVIRONMENT, EXAMPLES) come from the same constants the
//! program and the README use, so the page cannot drift from the tool.
//!
//! `tracesift generate-man > man/tracesift.1` regenerates the committed
//! page; an integration test fails when it is stale.

use std::io::{self, Write};

use clap::{Arg, ArgAction, Command, CommandFactory};
use roff::{bold, italic, line_break, roman, Inline, Roff};

use super::Cli;
use crate::rules::Confidence;

/// How to get a capture worth analysing: `(what, commands)` steps. The
/// README carries the same commands; a test keeps them in step.
pub const CAPTURE_RECIPE: &[(&str, &[&str])] = &[
    (
        "Print the object's key where the code runs and where it fails. Put \
         eb->start in a trace_printk() on the paths you suspect (alloc, read \
         completion, release) and in every error message of the check that \
         fires, so the two correlate: the header's bytenr in a tree-checker \
         message comes from the buffer and can itself be garbage.",
        &["trace_printk(\"eb=%llu\\n\", eb->start);"],
    ),
    (
        "Dump the trace buffer on the console when the kernel oopses, and \
         turn the failed check into an oops (BUG_ON() in a debug build). \
         oops_all_cpu_backtrace helps when the culprit runs on another CPU.",
        &[
            "sysctl kernel.ftrace_dump_on_oops=1",
            "sysctl kernel.panic_on_oops=1",
            "sysctl kernel.panic=5",
            "sysctl kernel.oops_all_cpu_backtrace=1",
        ],
    ),
    (
        "Keep the per-CPU buffer small (in KiB): the dump goes out over the \
         console, and 48 CPUs with the default buffer take a very long time \
         on a serial line. A small buffer keeps the last events, which are \
         the ones that matter.",
        &["echo 1 > /sys/kernel/tracing/buffer_size_kb"],
    ),
    (
        "Boot with nowatchdog: a slow console otherwise triggers soft-lockup \
         backtraces that interleave with the dump.",
        &["nowatchdog console=ttyS0,115200"],
    ),
    (
        "Capture the console where the machine cannot lose it: a serial \
         console logged by the host (a VM's serial port to a file, or \
         script(1) on the terminal), or netconsole to another machine.",
        &[
            "script -f typescript",
            "modprobe netconsole netconsole=@/eth0,6666@192.168.0.2/",
        ],
    ),
    (
        "Run the workload, then sift what came out. Mail-wrapped, quoted or \
         compressed copies work as they are.",
        &["tracesift report typescript"],
    ),
];

/// EXAMPLES: `(command, what it does)`.
pub(crate) const EXAMPLES: &[(&str, &str)] = &[
    (
        "tracesift timeline --key daddr=0x851c80 trace.txt",
        "Every line about one XFS buffer's disk address, whatever the line calls it (daddr 8723584, block 0x851c80), with both clocks.",
    ),
    (
        "tracesift report xfs-trace.txt",
        "With the xfs-buf pack: an XFS buffer released after its free, its hold count below zero, or \
         still locked at the end of the trace (the lock a hung task waits for), by (dev, daddr).",
    ),
    (
        "tracesift timeline --key pfn=0x206a78 trace.txt",
        "With the page-ref pack: one page's page_ref_* events; report flags its count below zero and \
         its mapping dropped while references remain.",
    ),
    (
        "tracesift timeline --key bg=1104150528 dmesg.txt trace.txt",
        "With the btrfs-bg pack: one block group in tracepoints (bytenr=) and in the relocation and \
         reclaim messages (block group N, chunk N); report flags its use after removal.",
    ),
    (
        "tracesift timeline --merge --key ptr=ffff888114e14400 --key ptr=ffff888110f2a000 trace.txt",
        "With the kernel-pointer pack: every line naming either pointer, as one timeline.",
    ),
    (
        "tracesift report --rules my-patch.toml typescript",
        "Analyse a capture with the keys, events and lifecycle checks of your own debug patch (see RULES FILES).",
    ),
    (
        "tracesift report typescript",
        "Analyse a serial-console typescript: a summary, then each finding with its evidence lines.",
    ),
    (
        "tracesift report --format markdown typescript | xclip",
        "A mail-ready excerpt (72 columns) to paste into a reply on the list.",
    ),
    (
        "tracesift report --json trace.gz > report.json",
        "One versioned JSON document for a bug tracker; compressed inputs are detected.",
    ),
    (
        "tracesift timeline --eb 15302115328 typescript",
        "Every line about one extent buffer, in trace-time order, with its lifetimes and findings.",
    ),
    (
        "tracesift events trace.txt | jq -c 'select(.kind == \"read-done\")'",
        "The normalised events as NDJSON for jq, DuckDB or ClickHouse.",
    ),
    (
        "tail -f /sys/kernel/tracing/trace_pipe | tracesift events --line-buffered",
        "Stream events as they are traced.",
    ),
    (
        "tracesift export -o 'dump-{}.trace' typescript",
        "Each ftrace dump of a console capture as a clean tracefs trace file (dump-0.trace, ...) for \
         trace tools, perfetto's systrace importer, trappy or LISA.",
    ),
    (
        "tracesift export --format perfetto typescript > typescript.json",
        "The capture's trace as Trace Event Format JSON: open it in the Perfetto UI or \
         chrome://tracing to see each extent buffer's lifetimes, reads and findings per CPU.",
    ),
    (
        "tracesift report --each results/",
        "Analyse every capture under a directory on its own, in parallel, and count the captures \
         each signature (rule and splat title or eb) appears in.",
    ),
    (
        "tracesift report --each --json results/ > reports.ndjson",
        "One report document per capture, as NDJSON, for a database.",
    ),
    (
        "tracesift stats --json dmesg.txt",
        "How every line was read: classes, formats, per-CPU coverage, dumps.",
    ),
    (
        "tracesift report --fail-on warning -q capture.txt || echo suspicious",
        "Use the exit status in a script.",
    ),
];

/// The exit statuses (spec §3).
pub(crate) const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "The run succeeded and nothing at or above --fail-on was found (timeline: a line matched). \
         A closed output pipe (| head) also ends the run quietly with status 0.",
    ),
    (
        "1",
        "The run succeeded and found something at or above --fail-on (timeline: no line matched).",
    ),
    (
        "2",
        "Trouble: a usage error, an input that could not be read to its end (the other inputs are \
         still analysed and reported), or an output error.",
    ),
];

/// Write the manual page.
pub(crate) fn render(out: &mut dyn Write) -> io::Result<()> {
    let cmd = Cli::command();
    let version = cmd.get_version().unwrap_or_default().to_string();
    let man = clap_mangen::Man::new(cmd.clone())
        .date("")
        .source(format!("tracesift {version}"))
        .manual("User Commands");
    man.render_title(out)?;
    man.render_name_section(out)?;
    synopsis(&cmd).to_writer(out)?;
    description(&cmd).to_writer(out)?;
    commands(&cmd).to_writer(out)?;
    man.render_options_section(out)?;
    rules().to_writer(out)?;
    rules_files().to_writer(out)?;
    exit_status().to_writer(out)?;
    json_output().to_writer(out)?;
    environment().to_writer(out)?;
    examples().to_writer(out)?;
    see_also().to_writer(out)?;
    Ok(())
}

/// The page as a string.
#[cfg(test)]
pub(crate) fn to_string() -> String {
    let mut v = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = render(&mut v);
    String::from_utf8_lossy(&v).into_owned()
}

fn visible_commands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

fn visible_args(cmd: &Command) -> impl Iterator<Item = &Arg> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_global_set())
}

/// `--eb ADDR`, `[FILE]...`.
fn arg_usage(a: &Arg) -> Vec<Inline> {
    let value = a
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| a.get_id().to_string().to_uppercase());
    let takes_value = a.get_action().takes_values();
    let repeats = matches!(a.get_action(), ArgAction::Append);
    let mut v = Vec::new();
    let required = a.is_required_set();
    if !required {
        v.push(roman("["));
    }
    if a.is_positional() {
        v.push(italic(value));
        if !required {
            v.push(roman("]"));
        }
        if repeats {
            v.push(roman("..."));
        }
        return v;
    }
    let flag = match (a.get_long(), a.get_short()) {
        (Some(l), _) => format!("--{l}"),
        (None, Some(s)) => format!("-{s}"),
        (None, None) => a.get_id().to_string(),
    };
    v.push(bold(flag));
    if takes_value {
        v.push(roman(" "));
        v.push(italic(value));
    }
    if !required {
        v.push(roman("]"));
    }
    if repeats {
        v.push(roman("..."));
    }
    v
}

fn synopsis(cmd: &Command) -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["SYNOPSIS"]);
    for sub in visible_commands(cmd) {
        let mut line = vec![
            bold("tracesift"),
            roman(" ["),
            italic("OPTIONS"),
            roman("] "),
            bold(sub.get_name()),
        ];
        for a in visible_args(sub) {
            line.push(roman(" "));
            line.extend(arg_usage(a));
        }
        r.text(line);
        r.control("br", []);
    }
    r
}

fn description(cmd: &Command) -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["DESCRIPTION"]);
    let about = cmd
        .get_long_about()
        .map(|s| s.to_string())
        .unwrap_or_default();
    paragraphs(&mut r, &about);
    r.control("PP", []);
    r.text([roman(
        "Lines are classified, never dropped: every line is counted under a class, and lines no \
         grammar recognises are counted and sampled (see stats). A line longer than --line-cap is \
         cut for parsing and counted as truncated. Findings cite the original physical lines \
         as FILE:LINE, even when the line was repaired from a mail-wrapped paste.",
    )]);
    r.control("PP", []);
    r.text([roman(
        "Each finding carries a confidence. Verdicts that need an event to be absent (no alloc \
         before a read, no release between two reads) can be hidden by lost events, by the start \
         of a CPU's window in the ring buffer, or by dropped printk messages; tracesift keeps \
         per-CPU coverage windows and lowers the confidence when a gap could hide the event.",
    )]);
    r.control("SS", ["Getting a capture worth analysing"]);
    for (what, cmds) in CAPTURE_RECIPE {
        r.control("IP", ["\\(bu", "2"]);
        r.text([roman(*what)]);
        preformatted(&mut r, &cmds.join("\n"));
    }
    r
}

fn commands(cmd: &Command) -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["COMMANDS"]);
    for sub in visible_commands(cmd) {
        r.control("SS", [format!("tracesift {}", sub.get_name()).as_str()]);
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|s| s.to_string())
            .unwrap_or_default();
        paragraphs(&mut r, &about);
        for a in visible_args(sub) {
            option(&mut r, a);
        }
    }
    r
}

fn option(r: &mut Roff, a: &Arg) {
    r.control("TP", []);
    r.text(arg_usage(a));
    let help = a
        .get_long_help()
        .or(a.get_help())
        .map(|s| s.to_string())
        .unwrap_or_default();
    let mut text = vec![roman(help)];
    let possible: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|p| !p.is_hide_set())
        .map(|p| p.get_name().to_string())
        .collect();
    if !possible.is_empty() && a.get_action().takes_values() {
        text.push(line_break());
        text.push(roman(format!("Values: {}.", possible.join(", "))));
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && a.get_action().takes_values() {
        text.push(line_break());
        text.push(roman(format!("Default: {}.", defaults.join(", "))));
    }
    r.text(text);
}

fn rules() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["FINDING RULES"]);
    r.text([roman(
        "Rule ids are stable; scripts and bug trackers may match on them. Each finding has a \
         severity (error, warning, info) and a confidence:",
    )]);
    for c in [
        Confidence::Certain,
        Confidence::Likely,
        Confidence::Unverifiable,
    ] {
        r.control("TP", []);
        r.text([bold(c.name())]);
        r.text([roman(c.meaning())]);
    }
    r.control("PP", []);
    r.text([roman("The rules:")]);
    for id in crate::rules::BUILTIN {
        r.control("TP", []);
        r.text([bold(id.id()), roman(format!(" ({})", id.severity().name()))]);
        r.text([roman(capitalised(id.meaning()))]);
        r.control("br", []);
        r.text([italic("What to do:"), roman(format!(" {}.", id.advice()))]);
    }
    r.control("SS", ["Corruption reports"]);
    for para in corruption_reports() {
        r.control("PP", []);
        r.text([roman(para)]);
    }
    r.control("SS", ["Boots, and one finding per fact"]);
    r.text([roman(
        "A capture may hold several boots (a console logged across kernel.panic reboots). \
         A boot starts at the kernel's 'Linux version' banner, where the printk clock \
         goes back to about zero, at a new ftrace dump after a reboot line, at a trace \
         file's header after trace output, or at journalctl's '-- Boot --' marker; input \
         files are not boots (a dmesg beside a trace file of one boot is one boot). \
         Nothing lives across a boot: eb lifetimes, per-CPU windows, lost events, dumps \
         and splats belong to their boot, and every finding says which. race-signature \
         places the boot's kernel release against the fix: affected, already fixed (then \
         it is another bug), or older than the regression.",
    )]);
    r.control("PP", []);
    r.text([roman(
        "The repeats of one rule about one extent buffer in one boot are one finding with \
         a count; the splats of one title in one boot are one kernel-splat finding, which \
         also names the extent buffer its task last touched in the trace. At most 10000 \
         extent buffer findings and 10000 splat titles are kept in full; the report says \
         how many more were counted.",
    )]);
    r.control("PP", []);
    r.text([roman(
        "The rules of the built-in packs (see RULES FILES; ids are namespaced, and \
         --no-packs leaves them out):",
    )]);
    if let Ok(packs) = crate::spec::Rules::with_packs(&[], true) {
        for (l, c) in packs.checks() {
            let id = crate::rules::lifecycle::rule_of(c);
            r.control("TP", []);
            r.text([bold(id.id()), roman(format!(" ({})", id.severity().name()))]);
            r.text([roman(format!(
                "{} (key {}): {}.",
                capitalised(c.kind.name()),
                packs.keys[l.key].name,
                c.meaning
            ))]);
            if !c.advice.is_empty() {
                r.control("br", []);
                r.text([italic("What to do:"), roman(format!(" {}.", id.advice()))]);
            }
        }
    }
    r
}

/// The rules-file format (`doc/rules.md`).
pub(crate) const RULES_FILES: &str = include_str!("../../doc/rules.md");

fn rules_files() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["RULES FILES"]);
    markdown(&mut r, RULES_FILES);
    r
}

/// How btrfs corruption reports become findings (FINDING RULES,
/// "Corruption reports"; the README says the same), with the bounds of
/// [`crate::correlate::reports`].
pub(crate) fn corruption_reports() -> [String; 5] {
    use crate::correlate::reports::{EVIDENCE_BUDGET, FIRST_KEPT, MAX_GROUPS};
    [
        "One corruption is one finding. A corruption is identified by its device, its tree block \
     (the trusted eb start when a message prints it, else the header's block= as printed) and \
     what is wrong (the tree checker's reason, or the kind of validation message). Repeats \
     across time, mirrors and boots are one finding with a count, the first and last \
     occurrence, the mirrors and the boots (JSON: count, first, last, mirrors, every_mirror, \
     boots, device)."
            .to_string(),
        "A tree-checker line and the line the kernel prints right after it for the same device \
     ('read time tree block corruption detected on logical N mirror M', 'block=N read time \
     ...' before 6.0, or after a leaf dump 'block=N write time tree block corruption \
     detected') are one occurrence, cited together. The companion's logical is the trusted \
     eb start: a garbage block= in the tree-checker line is tied to it. A tree-checker \
     rejection is an error even when no eb can be trusted."
            .to_string(),
        "The phase (JSON: phase) says what a rejection implies. At read time the block read \
     from disk is bad: on one mirror the kernel may repair it from another copy; on every \
     mirror (mirrors 1 to k, which the kernel tries in turn) the copies on disk are all bad. \
     At write time the tree checker caught a corruption of the block in memory before it \
     reached disk: suspect RAM or a kernel bug; nothing bad was written."
            .to_string(),
        "Where the values allow it, bit-flip, pointer-in-disk-field and bad-on-every-mirror say \
     how the block was damaged, each citing the line that shows it (JSON: value, with field, \
     found, expected, bit, region)."
            .to_string(),
        format!(
        "Memory stays bounded: a finding cites the lines of the first {FIRST_KEPT} occurrences \
         and of the last (JSON: evidence_omitted counts the others); at most {MAX_GROUPS} \
         distinct corruptions and {MAX_GROUPS} distinct aborts are kept, with at most {} MiB \
         of cited lines; the reports beyond are counted per rule in one finding citing the \
         first of them (JSON: not_kept, and summary.reports).",
        EVIDENCE_BUDGET >> 20
    ),
    ]
}

fn exit_status() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    for (code, what) in EXIT_STATUS {
        r.control("TP", []);
        r.text([bold(*code)]);
        r.text([roman(*what)]);
    }
    r
}

fn json_output() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["JSON OUTPUT"]);
    r.text([roman(
        "Every JSON document carries schema_version and the tool's name and version. Adding \
         fields is not a schema break; removing or renaming one bumps schema_version. Numbers \
         such as eb starts are exact 64-bit integers and may exceed 2^53. The comments below are \
         not part of the output.",
    )]);
    for (title, doc) in [
        ("report --json", crate::output::schema::REPORT),
        ("report --each --json", crate::output::schema::REPORT_EACH),
        ("timeline --json", crate::output::schema::TIMELINE),
        ("stats --json", crate::output::schema::STATS),
        (
            "export --format perfetto",
            crate::output::schema::EXPORT_PERFETTO,
        ),
    ] {
        r.control("SS", [title]);
        markdown(&mut r, doc);
    }
    r.control("SH", ["EVENTS OUTPUT"]);
    markdown(&mut r, crate::output::schema::EVENTS);
    r
}

fn environment() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["ENVIRONMENT"]);
    r.control("TP", []);
    r.text([bold("NO_COLOR")]);
    r.text([roman(
        "When set to a non-empty value, --color auto produces no colour (https://no-color.org).",
    )]);
    r.control("TP", []);
    r.text([bold("TERM")]);
    r.text([roman(
        "When dumb, --color auto produces no colour, tables and other decorations are drawn \
         in ASCII, and no progress bar is shown.",
    )]);
    r.control("TP", []);
    r.text([
        bold("LC_ALL"),
        roman(", "),
        bold("LC_CTYPE"),
        roman(", "),
        bold("LANG"),
    ]);
    r.text([roman(
        "The first of these that is set and not empty names the locale. When it names \
         UTF-8 (contains UTF-8 or utf8 in any case, as en_US.UTF-8 and C.utf8 do), text \
         output draws tables with box-drawing characters and uses a few other non-ASCII \
         marks; otherwise (C, POSIX, another character set, or none set, as tmux and git \
         decide) tables are drawn with +, - and | and every mark is ASCII. LC_ALL=C \
         asks for ASCII. Text from the inputs is shown as it is either way; JSON and \
         the markdown excerpt are the same in every locale.",
    )]);
    r
}

fn examples() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXAMPLES"]);
    for (cmd, what) in EXAMPLES {
        r.control("TP", []);
        r.text([bold(*cmd)]);
        r.text([roman(*what)]);
    }
    r
}

fn see_also() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["SEE ALSO"]);
    r.text([roman(
        "trace-cmd(1), dmesg(1), journalctl(1), the kernel's Documentation/trace/ftrace.rst, \
         and the thread that started it: https://lore.kernel.org/linux-btrfs/ \
         (btrfs: fix race in read_extent_buffer_pages(), March 2024).",
    )]);
    r
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

/// Blank-line separated paragraphs of plain text.
fn paragraphs(r: &mut Roff, text: &str) {
    for (i, p) in text.split("\n\n").enumerate() {
        if i > 0 {
            r.control("PP", []);
        }
        r.text([roman(p.replace('\n', " "))]);
    }
}

/// A block printed as is, indented.
fn preformatted(r: &mut Roff, text: &str) {
    r.control("RS", ["4"]);
    r.control("nf", []);
    r.text([roman(text)]);
    r.control("fi", []);
    r.control("RE", []);
}

/// The small markdown of the schema documents: paragraphs, `#` headings,
/// fenced blocks. Backticks are dropped.
fn markdown(r: &mut Roff, md: &str) {
    let mut para = String::new();
    let mut fence: Option<String> = None;
    let flush = |r: &mut Roff, para: &mut String| {
        if !para.is_empty() {
            r.control("PP", []);
            r.text([roman(para.replace('`', ""))]);
            para.clear();
        }
    };
    for line in md.lines() {
        if let Some(block) = fence.as_mut() {
            if line.starts_with("```") {
                preformatted(r, block.trim_end_matches('\n'));
                fence = None;
            } else {
                block.push_str(line);
                block.push('\n');
            }
            continue;
        }
        if line.starts_with("```") {
            flush(r, &mut para);
            fence = Some(String::new());
        } else if let Some(h) = line.strip_prefix('#') {
            flush(r, &mut para);
            r.control("PP", []);
            r.text([bold(h.trim_start_matches('#').trim().replace('`', ""))]);
        } else if line.trim().is_empty() {
            flush(r, &mut para);
        } else {
            if !para.is_empty() {
                para.push(' ');
            }
            para.push_str(line.trim());
        }
    }
    flush(r, &mut para);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_every_section() {
        let page = to_string().replace("\\-", "-");
        for s in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH DESCRIPTION",
            ".SS \"Getting a capture worth analysing\"",
            ".SH COMMANDS",
            ".SH OPTIONS",
            ".SH \"FINDING RULES\"",
            ".SH \"RULES FILES\"",
            ".SH \"EXIT STATUS\"",
            ".SH \"JSON OUTPUT\"",
            ".SH \"EVENTS OUTPUT\"",
            ".SH ENVIRONMENT",
            ".SH EXAMPLES",
        ] {
            assert!(page.contains(s), "missing {s}");
        }
        for id in crate::rules::BUILTIN {
            assert!(page.contains(id.id()), "rule {} missing", id.id());
        }
        assert!(page.contains("kernel.ftrace_dump_on_oops=1"));
        assert!(page.contains("NO_COLOR"));
        assert!(!page.contains(".SS tracesift generate-man"));
    }

    #[test]
    fn markdown_blocks_become_preformatted() {
        let mut r = Roff::new();
        markdown(
            &mut r,
            "Intro `x`.\n\n# Head\n\n```text\n{\"a\": 1}\n.dot\n```\nTail.\n",
        );
        let s = r.to_roff();
        assert!(s.contains(".nf\n"), "{s}");
        assert!(s.contains("\\&.dot") || s.contains("\\[char46]dot"), "{s}");
        assert!(s.contains("\\fBHead\\fR"), "{s}");
        assert!(s.contains("Intro x."), "{s}");
    }
}
