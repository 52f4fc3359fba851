//! The `tracesift` binary: parse arguments, run, map the outcome to an exit status.

use std::io::{self, BufWriter, LineWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use tracesift::app::{self, Status};
use tracesift::cli::{Cli, Generate};
use tracesift::config::{Config, Env};

fn main() -> ExitCode {
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
