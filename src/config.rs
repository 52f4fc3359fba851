//! Raw command-line arguments → a resolved [`Config`]: colour and the
//! character set of tables decided, inputs resolved (stdin only when it is
//! not a terminal), limits set. Below this module nothing knows about clap
//! or reads the environment.

use std::io::IsTerminal;

use std::sync::Arc;

use crate::cli::{self, Cli, ColorWhen, Command, RulesArgs};
use crate::input::InputSpec;
use crate::output::Style;
use crate::reader::ReadOptions;
use crate::spec::{Rules, Target, Text};

/// What the user asked for, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The command and its own options.
    pub command: CommandConfig,
    /// Inputs in command-line order.
    pub inputs: Vec<InputSpec>,
    /// Reading options (line cap, repair).
    pub read: ReadOptions,
    /// Output styling.
    pub style: Style,
    /// Findings at or above this severity make the exit status 1 (`None`: never).
    pub fail_on: Option<crate::rules::Severity>,
    /// Print only errors.
    pub quiet: bool,
    /// Show a progress bar on stderr for large inputs (both stderr and stdout
    /// are terminals, text output, not `--quiet`).
    pub progress: bool,
    /// The declared keys, events and lifecycles: the built-in packs (unless
    /// `--no-packs`) and the `--rules` files.
    pub rules: Arc<Rules>,
}

/// Per-command options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandConfig {
    /// `report`.
    Report {
        /// Output format.
        format: ReportFormat,
        /// Bound on tracked ebs.
        max_live: usize,
        /// `--each`: every input analysed on its own, directories walked.
        each: Option<Walk>,
    },
    /// `timeline`.
    Timeline {
        /// The ebs, in request order, without duplicates.
        ebs: Vec<u64>,
        /// The declared keys' values, in request order.
        keys: Vec<Target>,
        /// One timeline for all keys.
        merge: bool,
        /// `--json`.
        json: bool,
    },
    /// `rules`.
    Rules {
        /// `--check FILE`: validate this file.
        check: Option<String>,
    },
    /// `events`.
    Events {
        /// Flush after every event.
        line_buffered: bool,
    },
    /// `stats`.
    Stats {
        /// `--json`.
        json: bool,
    },
    /// `export`.
    Export {
        /// What to write.
        format: ExportFormat,
        /// Which trace lines.
        select: ExportSelect,
        /// `-o FILE` (`None`: standard output); `{}` in it: one file per trace.
        output: Option<std::path::PathBuf>,
    },
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// tracefs `trace` text.
    Tracefs,
    /// Trace Event Format JSON.
    Perfetto,
}

/// Which trace lines `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportSelect {
    /// Every dump, each a trace of its own; all trace lines when there is no dump.
    Dumps,
    /// One dump, by its index.
    Dump(u32),
    /// Every trace line of one boot, by its index.
    Boot(u32),
    /// Every trace line.
    All,
}

/// How `report --each` walks directories (as ripgrep and fd do by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Walk {
    /// `--hidden`: hidden files and directories too.
    pub hidden: bool,
    /// `--no-ignore`: `.gitignore`, `.ignore` and `.rgignore` files are not honoured.
    pub no_ignore: bool,
}

/// `report` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Text for a terminal.
    Text,
    /// One JSON document.
    Json,
    /// Mail-ready, 72 columns.
    Markdown,
}

/// Why the arguments cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The environment facts colour, the character set and input resolution
/// depend on.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// Standard output is a terminal.
    pub stdout_tty: bool,
    /// Standard input is a terminal.
    pub stdin_tty: bool,
    /// Standard error is a terminal.
    pub stderr_tty: bool,
    /// `NO_COLOR` is set to a non-empty value.
    pub no_color: bool,
    /// `TERM=dumb`.
    pub term_dumb: bool,
    /// The locale's character set is UTF-8 (see [`locale_is_utf8`]).
    pub utf8_locale: bool,
}

impl Env {
    /// Read them from this process.
    pub fn detect() -> Env {
        Env {
            stdout_tty: std::io::stdout().is_terminal(),
            stdin_tty: std::io::stdin().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            term_dumb: std::env::var_os("TERM").is_some_and(|v| v == "dumb"),
            utf8_locale: locale_is_utf8(
                std::env::var_os("LC_ALL").as_deref(),
                std::env::var_os("LC_CTYPE").as_deref(),
                std::env::var_os("LANG").as_deref(),
            ),
        }
    }
}

/// Whether the locale named by `LC_ALL`, `LC_CTYPE` and `LANG` uses UTF-8.
///
/// The effective value is the first of the three that is set and not empty
/// (POSIX's order for the character-type category); it names UTF-8 when it
/// contains `UTF-8` or `UTF8` in any case (`en_US.UTF-8`, `C.utf8`). Unset,
/// `C`, `POSIX` and any other character set (`en_US.ISO-8859-1`) are not
/// UTF-8: the C library's default locale is ASCII. tmux and git decide the
/// same way from the same variables; the C library is not asked, as
/// tracesift never calls `setlocale`.
pub(crate) fn locale_is_utf8(
    lc_all: Option<&std::ffi::OsStr>,
    lc_ctype: Option<&std::ffi::OsStr>,
    lang: Option<&std::ffi::OsStr>,
) -> bool {
    let Some(value) = [lc_all, lc_ctype, lang]
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty())
    else {
        return false;
    };
    let value = value.to_string_lossy().to_ascii_lowercase();
    value.contains("utf-8") || value.contains("utf8")
}

/// Whether tables and decorations may use box drawing and other non-ASCII
/// characters: the locale is UTF-8 and the terminal is not `dumb`.
pub(crate) fn use_unicode(env: &Env) -> bool {
    env.utf8_locale && !env.term_dumb
}

/// Decide whether text output is coloured.
pub(crate) fn use_color(when: ColorWhen, env: &Env) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => env.stdout_tty && !env.no_color && !env.term_dumb,
    }
}

fn inputs(files: &[std::ffi::OsString], env: &Env) -> Result<Vec<InputSpec>, UsageError> {
    if files.is_empty() {
        if env.stdin_tty {
            return Err(UsageError(
                "no input: give capture FILEs, or pipe a capture into standard input (e.g. 'dmesg | tracesift report')"
                    .into(),
            ));
        }
        return Ok(vec![InputSpec::Stdin]);
    }
    Ok(files.iter().map(|f| InputSpec::from_arg(f)).collect())
}

/// Read a rules file given on the command line.
pub(crate) fn rules_text(path: &std::ffi::OsStr) -> Result<Text, UsageError> {
    let name = path.to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("{name}: cannot read the rules file: {e}")))?;
    Ok(Text {
        name,
        text,
        builtin: false,
    })
}

/// The rules of `--rules` and the packs (unless `--no-packs`).
pub(crate) fn load_rules(a: &RulesArgs) -> Result<Rules, UsageError> {
    let files = a
        .rules
        .iter()
        .map(|p| rules_text(p))
        .collect::<Result<Vec<_>, _>>()?;
    Rules::with_packs(&files, !a.no_packs).map_err(|e| UsageError(e.to_string()))
}

impl Config {
    /// Resolve parsed arguments against the environment.
    pub fn from_cli(cli: Cli, env: &Env) -> Result<Config, UsageError> {
        let g = &cli.global;
        let fail_on = match g.fail_on {
            cli::FailOn::Error => Some(crate::rules::Severity::Error),
            cli::FailOn::Warning => Some(crate::rules::Severity::Warning),
            cli::FailOn::Info => Some(crate::rules::Severity::Info),
            cli::FailOn::Never => None,
        };
        let read = ReadOptions {
            line_cap: g.line_cap,
            repair: !g.no_repair,
            threads: match g.threads {
                0 => crate::reader::available_threads(),
                n => n,
            },
            ..ReadOptions::default()
        };
        let mut rules = Rules::empty();
        let (command, files, json_like) = match cli.command {
            Command::Stats(a) => (CommandConfig::Stats { json: a.json }, a.files, a.json),
            Command::Timeline(a) => {
                rules = load_rules(&a.rules)?;
                let mut ebs = Vec::new();
                for e in a.ebs {
                    if !ebs.contains(&e) {
                        ebs.push(e);
                    }
                }
                let mut keys: Vec<Target> = Vec::new();
                for k in &a.keys {
                    let t = rules
                        .target(k)
                        .map_err(|e| UsageError(format!("--key {k}: {e}")))?;
                    if !keys.contains(&t) {
                        keys.push(t);
                    }
                }
                (
                    CommandConfig::Timeline {
                        ebs,
                        keys,
                        merge: a.merge,
                        json: a.json,
                    },
                    a.files,
                    a.json,
                )
            }
            Command::Rules(a) => {
                rules = load_rules(&a.rules)?;
                let check = a.check.map(|c| c.to_string_lossy().into_owned());
                let style = Style {
                    color: use_color(g.color, env),
                    unicode: use_unicode(env),
                    ..Style::default()
                };
                return Ok(Config {
                    command: CommandConfig::Rules { check },
                    inputs: Vec::new(),
                    read,
                    style,
                    fail_on,
                    quiet: g.quiet,
                    progress: false,
                    rules: Arc::new(rules),
                });
            }
            Command::Completions(_) | Command::GenerateMan => {
                return Err(UsageError(
                    "this command prints a file and reads no inputs".into(),
                ))
            }
            Command::Export(a) => {
                let format = match a.format {
                    cli::ExportFormatArg::Tracefs => ExportFormat::Tracefs,
                    cli::ExportFormatArg::Perfetto => ExportFormat::Perfetto,
                };
                let select = match (a.dump, a.boot, a.all) {
                    (Some(n), _, _) => ExportSelect::Dump(n),
                    (_, Some(n), _) => ExportSelect::Boot(n),
                    (_, _, true) => ExportSelect::All,
                    _ => ExportSelect::Dumps,
                };
                let pattern = a
                    .output
                    .as_ref()
                    .is_some_and(|o| o.to_string_lossy().contains("{}"));
                if pattern && format == ExportFormat::Perfetto {
                    return Err(UsageError(
                        "--format perfetto writes one document: '{}' in -o is for --format tracefs"
                            .into(),
                    ));
                }
                let output = a.output.filter(|o| o.as_os_str() != "-");
                (
                    CommandConfig::Export {
                        format,
                        select,
                        output,
                    },
                    a.files,
                    true,
                )
            }
            Command::Events(a) => {
                rules = load_rules(&a.rules)?;
                (
                    CommandConfig::Events {
                        line_buffered: a.line_buffered,
                    },
                    a.files,
                    true,
                )
            }
            Command::Report(a) => {
                rules = load_rules(&a.rules)?;
                let format = match (a.json, a.format) {
                    (true, _) | (_, cli::Format::Json) => ReportFormat::Json,
                    (_, cli::Format::Markdown) => ReportFormat::Markdown,
                    (_, cli::Format::Text) => ReportFormat::Text,
                };
                let plain = format != ReportFormat::Text;
                let each = a.each.then_some(Walk {
                    hidden: a.hidden,
                    no_ignore: a.no_ignore,
                });
                if each.is_some() && format == ReportFormat::Markdown {
                    return Err(UsageError(
                        "--each writes a text summary or, with --json, one JSON document per input; not markdown"
                            .into(),
                    ));
                }
                (
                    CommandConfig::Report {
                        format,
                        max_live: a.max_live_ebs,
                        each,
                    },
                    a.files,
                    plain,
                )
            }
        };
        let style = Style {
            color: !json_like && use_color(g.color, env),
            unicode: use_unicode(env),
            ..Style::default()
        };
        Ok(Config {
            command,
            inputs: inputs(&files, env)?,
            read,
            style,
            fail_on,
            quiet: g.quiet,
            // Never in pipes, JSON or streaming modes, when only errors may be
            // printed, or on a terminal that cannot redraw a line.
            progress: !g.no_progress
                && !g.quiet
                && !json_like
                && env.stderr_tty
                && env.stdout_tty
                && !env.term_dumb,
            rules: Arc::new(rules),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env {
            stdout_tty: true,
            stdin_tty: false,
            stderr_tty: false,
            no_color: false,
            term_dumb: false,
            utf8_locale: true,
        }
    }

    #[test]
    fn color_rules() {
        assert!(use_color(ColorWhen::Auto, &env()));
        assert!(!use_color(
            ColorWhen::Auto,
            &Env {
                no_color: true,
                ..env()
            }
        ));
        assert!(!use_color(
            ColorWhen::Auto,
            &Env {
                term_dumb: true,
                ..env()
            }
        ));
        assert!(!use_color(
            ColorWhen::Auto,
            &Env {
                stdout_tty: false,
                ..env()
            }
        ));
        assert!(use_color(
            ColorWhen::Always,
            &Env {
                no_color: true,
                ..env()
            }
        ));
        assert!(!use_color(ColorWhen::Never, &env()));
    }

    #[test]
    fn stdin_terminal_without_files_is_a_usage_error() {
        assert!(inputs(
            &[],
            &Env {
                stdin_tty: true,
                ..env()
            }
        )
        .is_err());
        assert_eq!(inputs(&[], &env()).unwrap(), vec![InputSpec::Stdin]);
        assert_eq!(
            inputs(
                &["-".into()],
                &Env {
                    stdin_tty: true,
                    ..env()
                }
            )
            .unwrap(),
            vec![InputSpec::Stdin]
        );
    }

    #[test]
    fn locale_rules() {
        let utf8 = |all: Option<&str>, ctype: Option<&str>, lang: Option<&str>| {
            locale_is_utf8(
                all.map(std::ffi::OsStr::new),
                ctype.map(std::ffi::OsStr::new),
                lang.map(std::ffi::OsStr::new),
            )
        };
        assert!(utf8(None, None, Some("en_US.UTF-8")));
        assert!(utf8(None, None, Some("C.utf8")));
        assert!(utf8(None, Some("de_DE.Utf-8@euro"), None));
        assert!(!utf8(None, None, None), "unset is the C locale");
        assert!(!utf8(None, None, Some("C")));
        assert!(!utf8(None, None, Some("POSIX")));
        assert!(!utf8(None, None, Some("en_US.ISO-8859-1")));
        // LC_ALL wins over LC_CTYPE, which wins over LANG.
        assert!(!utf8(Some("C"), Some("en_US.UTF-8"), Some("en_US.UTF-8")));
        assert!(utf8(Some("C.UTF-8"), Some("C"), Some("C")));
        assert!(!utf8(None, Some("POSIX"), Some("en_US.UTF-8")));
        // Empty values count as unset.
        assert!(utf8(Some(""), Some(""), Some("en_US.UTF-8")));
        assert!(!utf8(Some(""), None, Some("")));
    }

    #[test]
    fn unicode_needs_a_utf8_locale_and_a_capable_terminal() {
        assert!(use_unicode(&env()));
        assert!(!use_unicode(&Env {
            utf8_locale: false,
            ..env()
        }));
        assert!(!use_unicode(&Env {
            term_dumb: true,
            ..env()
        }));
    }
}
