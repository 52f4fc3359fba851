//! The `tracesift` binary: parse arguments, run, map the outcome to an exit status.

#![forbid(unsafe_code)]

use std::io::{self, BufWriter, LineWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use tracesift::app::{self, Status};
use tracesift::cli::{Cli, Generate};
use tracesift::config::{Config, Env};

/// glibc's malloc serves a block of 128 KiB or more with its own mapping,
/// until such a block is freed: then it raises that threshold to the
/// block's size (up to 32 MiB), and later large blocks (read batches,
/// parsed records, growing hash tables) come from the heap, where they
/// leave holes that are never given back. On 1 GiB of a capture that cost
/// 20 to 40 MiB of peak RSS, varying from run to run (#19: `export` from a
/// pipe 90 to 133 MiB, with a fixed threshold 79 MiB). The threshold can
/// only be fixed before the first allocation, by the environment
/// (`MALLOC_MMAP_THRESHOLD_`), so the binary runs itself again with it set,
/// once, unless it is set already. Without glibc, or when the program
/// cannot be run again, nothing changes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_malloc_threshold() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MALLOC_MMAP_THRESHOLD_";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    // `exec` returns only when it failed: go on in this process then.
    let _ = std::process::Command::new(exe)
        .arg0(arg0)
        .args(args)
        .env(VAR, "131072")
        .exec();
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fix_malloc_threshold() {}

fn main() -> ExitCode {
    fix_malloc_threshold();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    if let Some(generate) = Generate::from_command(&cli.command) {
        let mut out = io::stdout().lock();
        return match generate.write(&mut out).and_then(|()| out.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(io::stderr(), "tracesift: writing output: {e}");
                ExitCode::from(Status::Trouble as u8)
            }
        };
    }
    let env = Env::detect();
    let cfg = match Config::from_cli(cli, &env) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(io::stderr(), "tracesift: {e}");
            return ExitCode::from(Status::Trouble as u8);
        }
    };
    let stdout = io::stdout();
    // Line-buffered on a terminal (and for `events --line-buffered`), block-buffered otherwise.
    let mut out: Box<dyn Write> = if env.stdout_tty {
        Box::new(LineWriter::new(stdout.lock()))
    } else {
        Box::new(BufWriter::with_capacity(64 * 1024, stdout.lock()))
    };
    // Not locked for the whole run: the progress bar's ticker thread writes
    // to standard error too.
    let mut err = io::stderr();
    match app::run(&cfg, &mut out, &mut err) {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(err, "tracesift: writing output: {e}");
            ExitCode::from(Status::Trouble as u8)
        }
    }
}
