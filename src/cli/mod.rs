//! The command line, as clap derive structs. Only this module (with the
//! generators of the man page and the shell completions) and `main.rs` know
//! about clap; the rest of the crate sees the `Config` that `config.rs` resolves from it.

pub mod man;

use std::ffi::OsString;
use std::io::{self, Write};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

/// Sift kernel trace captures for extent-buffer lifetime anomalies and kernel splats.
#[derive(Debug, Parser)]
#[command(
    name = "tracesift",
    version,
    about = "Sift kernel trace captures for extent-buffer lifetime anomalies and kernel splats",
    long_about = "Sift kernel trace captures for extent-buffer lifetime anomalies and kernel splats.\n\n\
tracesift reads serial-console typescripts with ftrace_dump_on_oops dumps, tracefs trace and \
trace_pipe files, trace-cmd report output, dmesg and journal logs, plain or gzip/zstd/xz \
compressed, even when pasted through a mail client. It correlates btrfs extent-buffer (eb) \
events by eb start into per-allocation lifetimes and flags anomalies such as two read \
completions for one allocation (the read_extent_buffer_pages() race fixed by ef1e68236b91).",
    after_help = "Exit status: 0 nothing at or above --fail-on; 1 findings at or above --fail-on \
(timeline: no line matched); 2 trouble (usage, unreadable input).",
    propagate_version = true
)]
pub struct Cli {
    #[allow(missing_docs)]
    #[command(flatten)]
    pub global: GlobalArgs,
    #[allow(missing_docs)]
    #[command(subcommand)]
    pub command: Command,
}

/// Options valid for every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// When to use colours: auto, always, never
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorWhen::Auto,
        global = true,
        long_help = "When to use colours in text output. 'auto' colours only when standard output \
is a terminal, NO_COLOR is unset or empty, and TERM is not 'dumb'. JSON and markdown are never coloured."
    )]
    pub color: ColorWhen,

    /// Lowest severity that makes the exit status 1
    #[arg(
        long,
        value_enum,
        value_name = "LEVEL",
        default_value_t = FailOn::Error,
        global = true,
        long_help = "Exit with status 1 when a finding of this severity or higher is reported \
('never' always exits 0 when the run itself succeeded)."
    )]
    pub fail_on: FailOn,

    /// Print nothing but errors; rely on the exit status
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Truncate lines longer than this for parsing (bytes; K, M, G suffixes)
    #[arg(
        long,
        value_name = "BYTES",
        default_value = "1M",
        value_parser = parse_size,
        global = true,
        long_help = "Lines longer than this are cut to this length for parsing and counted as truncated; \
the rest of the line is read and discarded, so memory stays bounded whatever the input holds."
    )]
    pub line_cap: usize,

    /// Do not repair mail-wrapped, quoted or joined lines
    #[arg(
        long,
        global = true,
        long_help = "Turn off paste repair. By default tracesift rejoins lines hard-wrapped by mail clients, \
removes '> ' quoting, decodes quoted-printable residue and non-breaking spaces, splits records \
joined on one line, gives dmesg's indented continuation lines their record's prefix back and marks \
'...' elision lines as gaps; citations always point at the original physical lines."
    )]
    pub no_repair: bool,

    /// Never show a progress bar
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// Threads for parsing (0: one per core)
    #[arg(
        short = 'j',
        long,
        value_name = "N",
        default_value_t = 0,
        global = true,
        long_help = "Parse large inputs on N threads (0, the default, means one per core; 1 reads \
everything on one thread). The results are the same whatever N is; only the speed changes."
    )]
    pub threads: usize,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse captures: findings with evidence, splats, coverage
    #[command(
        long_about = "Analyse captures: correlate extent-buffer events into per-allocation \
lifetimes, flag anomalies with stable rule ids (duplicate-read-completion, race-signature, \
read-after-release, validation-failed, tree-check-failure, implausible-header-value, \
read-without-alloc, inconsistent-read, kernel-splat, transaction-abort, lost-events), each with \
its evidence lines and a confidence that accounts for lost events."
    )]
    Report(ReportArgs),
    /// Every line that concerns some extent buffers, in time order
    #[command(
        long_about = "Every line that concerns the given extent buffers (debug-patch lines, \
the 'called from' line of each release, tree-checker and read-validation messages that name them, \
btrfs tracepoints naming the block), in trace-time order within a dump or trace and console-time \
order for console lines, with both clocks, the CPU, the task, the delta to the previous line, \
lifetimes and insert races marked, and the findings about them. Exits 0 when a line matched and 1 \
when none did, like grep."
    )]
    Timeline(TimelineArgs),
    /// The recognised events as NDJSON, one object per line
    #[command(
        long_about = "Stream the recognised events as newline-delimited JSON, one object per \
event, for jq, DuckDB or ClickHouse. Every trace line is an event (kind \"trace\" when it is \
nothing more specific); see the EVENTS OUTPUT section of the man page for the fields. Works on a \
stream: 'tail -f capture | tracesift events --line-buffered'."
    )]
    Events(EventsArgs),
    /// Show how every line was read: classes, formats, per-CPU coverage, dumps
    #[command(
        long_about = "Show how every line was read: the line classes (which add up to the \
number of lines), the trace formats and console prefixes detected, per-CPU coverage windows with \
lost events, the ftrace dumps found (empty or not), and samples of unrecognised lines."
    )]
    Stats(StatsArgs),
    /// List the rules: built-in, from the packs, from rules files
    #[command(
        long_about = "List every rule: the built-in ones, those of the built-in packs (xfs-buf, \
page-ref, btrfs-bg, kernel-pointer) and those of the rules files given with --rules, with their \
keys and declared events. With --check FILE, validate one rules file and say what it declares \
(exit 2 with file:line:column when it is wrong). See RULES FILES in the man page for the format."
    )]
    Rules(RulesCmdArgs),

    /// Write the trace inside captures as clean tracefs text or Perfetto JSON
    #[command(
        long_about = "Write the trace inside captures for other tools. --format tracefs (the \
default) writes each ftrace dump as a clean tracefs 'trace' file: the '# tracer:' header with \
entries-in-buffer/entries-written and #P:, then one event per line in the normal (not latency) \
format, with console prefixes, paste damage and interleaved kernel messages removed and \
'CPU:N [LOST M EVENTS]' markers kept where they were, in the dump's order; perfetto's systrace \
importer, trace-cmd-based tools, LISA and trappy read it, and so does tracesift. --format \
perfetto writes one JSON document in the Chrome/Perfetto Trace Event Format: each extent \
buffer lifetime an async slice from its alloc to its final release, reads, lost events and \
findings as instant events, one track per CPU and one process per dump; open it in the \
Perfetto UI (ui.perfetto.dev) or chrome://tracing. By default every dump is written, and the \
trace lines outside every dump (all of a tracefs or trace-cmd file) as one more trace; --dump, \
--boot and --all choose otherwise. Exits 1 when there was no trace line to write."
    )]
    Export(ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(
        long_about = "Print a completion script for SHELL on standard output. For example: \
'tracesift completions bash > ~/.local/share/bash-completion/completions/tracesift', \
'tracesift completions zsh > ~/.zfunc/_tracesift' (with ~/.zfunc in fpath), \
'tracesift completions fish > ~/.config/fish/completions/tracesift.fish'."
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on standard output
    #[command(hide = true)]
    GenerateMan,
}

/// Rules files and packs, for the commands that recognise events.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A rules file (TOML) declaring keys, events and lifecycles; repeat for several
    #[arg(
        long = "rules",
        value_name = "FILE",
        long_help = "Load a rules file (TOML) declaring keys, events and lifecycle checks (see RULES \
FILES in the man page); repeat for several. Its events are tried before the built-in packs'. An \
error in it stops the run with status 2 and says file:line:column."
    )]
    pub rules: Vec<OsString>,

    /// Leave out the built-in packs (xfs-buf, page-ref, btrfs-bg, kernel-pointer)
    #[arg(long)]
    pub no_packs: bool,
}

/// `tracesift rules`.
#[derive(Debug, Args)]
pub struct RulesCmdArgs {
    /// Validate this rules file and say what it declares
    #[arg(long, value_name = "FILE")]
    pub check: Option<OsString>,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub rules: RulesArgs,
}

/// `tracesift completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Commands that print something about tracesift itself instead of reading inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generate {
    /// A completion script.
    Completions(Shell),
    /// The manual page.
    Man,
}

impl Generate {
    /// The generator `command` asks for, if it is one.
    pub fn from_command(command: &Command) -> Option<Generate> {
        match command {
            Command::Completions(a) => Some(Generate::Completions(a.shell)),
            Command::GenerateMan => Some(Generate::Man),
            _ => None,
        }
    }

    /// Write it to `out`.
    pub fn write(self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Generate::Completions(shell) => {
                let mut cmd = completion_command();
                clap_complete::generate(shell, &mut cmd, "tracesift", out);
                Ok(())
            }
            Generate::Man => man::render(out),
        }
    }
}

/// `tracesift report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value_t = Format::Text,
        long_help = "Output format: 'text' (summary table and findings with file:line evidence), \
'json' (one versioned document for bug trackers; see the JSON OUTPUT section of the man page), \
'markdown' (a mail-ready excerpt, at most 72 columns, with the original lines)."
    )]
    pub format: Format,

    /// Short for --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Track at most this many extent buffers at once
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::correlate::ebs::DEFAULT_MAX_LIVE,
        long_help = "Memory is bounded by the number of extent buffers tracked at once, about \
0.8 KiB each (some 110 MiB in all at the default bound, reached only by a capture with that \
many ebs allocated and never released). Above this bound the least recently seen ones are forgotten, the \
report says so, and verdicts that need an event to be absent (read-without-alloc) become \
unverifiable."
    )]
    pub max_live_ebs: usize,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub rules: RulesArgs,

    /// Analyse each input on its own, in parallel; directories are walked
    #[arg(
        long,
        long_help = "Analyse each input on its own instead of together, in parallel across inputs \
(-j threads, each reading its input on one thread), and print one summary that groups the \
findings of all inputs by signature (rule, and splat title or extent buffer): 'kernel-splat: \
kernel BUG in btrfs_check_eb_owner: 37 captures'. With --json, one report document per input \
as NDJSON, in input order, each with its 'path'. A directory is walked as ripgrep and fd walk \
one: .gitignore (inside a git repository), .ignore and .rgignore rules are honoured, hidden \
files and directories are skipped, symbolic links are not followed; files named on the command \
line are always read. Exit status 2 if an input could not be read, else 1 if any input has \
findings at or above --fail-on."
    )]
    pub each: bool,

    /// With --each: walk hidden files and directories too
    #[arg(long, requires = "each")]
    pub hidden: bool,

    /// With --each: do not honour .gitignore, .ignore and .rgignore files
    #[arg(long, requires = "each")]
    pub no_ignore: bool,

    /// Capture files ('-' for standard input; compressed files are detected)
    #[arg(value_name = "FILE")]
    pub files: Vec<OsString>,
}

/// `tracesift timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Extent buffer start (eb->start), decimal or 0x hex; repeat for several
    #[arg(
        long = "eb",
        value_name = "ADDR",
        required_unless_present = "keys",
        value_parser = crate::units::parse_addr
    )]
    pub ebs: Vec<u64>,

    /// A declared key and its value (daddr=0x851c80, ptr=ffff888114e14400); repeat for several
    #[arg(
        long = "key",
        value_name = "NAME=VALUE",
        long_help = "Every line naming this value of a declared key (see 'tracesift rules' for the \
keys of the packs and your rules files): pfn=0x206a78, daddr=0x851c80, ptr=ffff888114e14400, \
bg=1104150528, xfs-buf=252:18,0x2 (a composite key, parts separated by ','). The value is read \
in the key's format (decimal, 0x hex, pointer, major:minor) and found however the capture spells \
it. Repeat for several; --eb ADDR stays the shorthand for extent buffers."
    )]
    pub keys: Vec<String>,

    /// With several --key: one timeline of every line about any of them
    #[arg(long)]
    pub merge: bool,

    /// Write one JSON document instead of text
    #[arg(long)]
    pub json: bool,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub rules: RulesArgs,

    /// Capture files ('-' for standard input; compressed files are detected)
    #[arg(value_name = "FILE")]
    pub files: Vec<OsString>,
}

/// `tracesift events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Flush after every event (for 'tail -f | tracesift events | jq')
    #[arg(long)]
    pub line_buffered: bool,

    #[allow(missing_docs)]
    #[command(flatten)]
    pub rules: RulesArgs,

    /// Capture files ('-' for standard input; compressed files are detected)
    #[arg(value_name = "FILE")]
    pub files: Vec<OsString>,
}

/// `tracesift export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value_t = ExportFormatArg::Tracefs,
        long_help = "Output format: 'tracefs' (a tracefs 'trace' file per dump, normal line format) \
or 'perfetto' (one JSON document in the Trace Event Format, for the Perfetto UI and chrome://tracing)."
    )]
    pub format: ExportFormatArg,

    /// Only this dump (0 is the first, as in report's coverage.dumps)
    #[arg(
        long,
        value_name = "N",
        conflicts_with_all = ["boot", "all"],
        long_help = "Write only dump N of the capture: 0 is the first 'Dumping ftrace buffer:', \
in the order of report --json's coverage.dumps (stats lists them too)."
    )]
    pub dump: Option<u32>,

    /// Every trace line of boot N (0 is the first, as in report's boots)
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "all",
        long_help = "Write every trace line of boot N, in or out of dumps, as one trace: 0 is the \
first boot, in the order of report --json's boots."
    )]
    pub boot: Option<u32>,

    /// Every trace line of the inputs, as one trace
    #[arg(long)]
    pub all: bool,

    /// Write to FILE instead of standard output; '{}' in it makes one file per dump
    #[arg(
        short = 'o',
        long,
        value_name = "FILE",
        long_help = "Write to FILE instead of standard output. With --format tracefs, a '{}' in \
FILE makes one file per trace written, '{}' replaced by the dump's number ('dump-{}.trace' gives \
dump-0.trace, dump-1.trace), 'rest' for the lines outside dumps ('all' when there is no dump \
or with --all), or the boot's number with --boot; without one, several traces follow each other \
in one stream, each with its own header."
    )]
    pub output: Option<std::path::PathBuf>,

    /// Capture files ('-' for standard input; compressed files are detected)
    #[arg(value_name = "FILE")]
    pub files: Vec<OsString>,
}

/// `export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormatArg {
    /// tracefs `trace` text.
    Tracefs,
    /// Trace Event Format JSON for Perfetto and chrome://tracing.
    Perfetto,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables and findings for a terminal.
    Text,
    /// One JSON document.
    Json,
    /// A mail-ready excerpt (72 columns).
    Markdown,
}

/// `tracesift stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Write one JSON document instead of tables
    #[arg(long)]
    pub json: bool,

    /// Capture files ('-' for standard input; compressed files are detected)
    #[arg(value_name = "FILE")]
    pub files: Vec<OsString>,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour when writing to a terminal that allows it.
    Auto,
    /// Always colour text output.
    Always,
    /// Never colour.
    Never,
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Exit 1 on error findings.
    Error,
    /// Exit 1 on warning or error findings.
    Warning,
    /// Exit 1 on any finding.
    Info,
    /// Never exit 1 because of findings.
    Never,
}

/// The command line as completions see it: clap_complete would offer hidden
/// subcommands (`generate-man`), so they are left out of this copy.
fn completion_command() -> clap::Command {
    let full = Cli::command();
    let mut cmd = clap::Command::new("tracesift")
        .version(env!("CARGO_PKG_VERSION"))
        .about(full.get_about().map(|a| a.to_string()).unwrap_or_default());
    for a in full.get_arguments() {
        cmd = cmd.arg(a.clone());
    }
    for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
        cmd = cmd.subcommand(sub.clone());
    }
    cmd
}

/// Parse `1M`, `512K`, `2G`, `4096`.
pub(crate) fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1usize << 10),
        Some('m' | 'M') => (&s[..s.len() - 1], 1 << 20),
        Some('g' | 'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n: usize = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 4096, 512K, 1M)"))?;
    let v = n
        .checked_mul(mult)
        .ok_or_else(|| format!("'{s}' is too large"))?;
    if v == 0 {
        return Err("the line cap must be at least 1 byte".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("x").is_err());
    }
}
