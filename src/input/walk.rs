//! Inputs named by directories, walked the way ripgrep and fd walk them
//! (with the `ignore` crate, which is ripgrep's own walker):
//!
//! * `.gitignore` rules apply inside a git repository (with
//!   `.git/info/exclude` and the global git excludes file), `.ignore` and
//!   `.rgignore` rules everywhere, each in its directory and below, and
//!   those of parent directories too; `no_ignore` turns all of them off;
//! * hidden files and directories (a name starting with `.`) are skipped
//!   unless `hidden`;
//! * symbolic links are not followed (a link to a file is not read either);
//! * entries are visited in file-name order, so a run is deterministic.
//!
//! A path named on the command line that is not a directory is always an
//! input, hidden or ignored or not, as in ripgrep. Paths are produced
//! lazily: a directory of a million captures is never listed in memory.

use std::path::Path;

use super::source::{InputError, InputSpec};

/// How directories are walked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WalkOptions {
    /// Hidden files and directories too.
    pub hidden: bool,
    /// Ignore files (`.gitignore`, `.ignore`, `.rgignore`) are not honoured.
    pub no_ignore: bool,
}

/// One input found, or why a part of a directory could not be walked.
#[derive(Debug)]
pub(crate) enum Found {
    /// An input to read.
    Input(InputSpec),
    /// A directory entry that could not be read.
    Error(InputError),
}

/// The inputs that a list of command-line inputs names: each file as it
/// is, each directory walked ([`WalkOptions`]).
pub(crate) struct Inputs {
    args: std::vec::IntoIter<InputSpec>,
    walk: Option<ignore::Walk>,
    opts: WalkOptions,
}

impl Inputs {
    /// Walk `args` in order.
    pub(crate) fn new(args: Vec<InputSpec>, opts: WalkOptions) -> Inputs {
        Inputs {
            args: args.into_iter(),
            walk: None,
            opts,
        }
    }

    fn walker(&self, dir: &Path) -> ignore::Walk {
        let honour = !self.opts.no_ignore;
        ignore::WalkBuilder::new(dir)
            .hidden(!self.opts.hidden)
            .ignore(honour)
            .git_ignore(honour)
            .git_global(honour)
            .git_exclude(honour)
            .parents(honour)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build()
    }
}

/// The error of a walk, as an input error of the path it is about.
fn walk_error(e: ignore::Error, fallback: &Path) -> InputError {
    let path = match &e {
        ignore::Error::WithPath { path, .. } => path.clone(),
        _ => fallback.to_path_buf(),
    };
    let name = path.display().to_string();
    let io = match e.into_io_error() {
        Some(io) => io,
        None => std::io::Error::other("cannot be walked"),
    };
    InputError::from_io(&name, io)
}

impl Iterator for Inputs {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        loop {
            if let Some(w) = self.walk.as_mut() {
                match w.next() {
                    Some(Ok(entry)) => {
                        if entry.file_type().is_some_and(|t| t.is_file()) {
                            return Some(Found::Input(InputSpec::Path(entry.into_path())));
                        }
                        continue;
                    }
                    Some(Err(e)) => return Some(Found::Error(walk_error(e, Path::new("?")))),
                    None => self.walk = None,
                }
            }
            match self.args.next()? {
                InputSpec::Path(p) if p.is_dir() => self.walk = Some(self.walker(&p)),
                spec => return Some(Found::Input(spec)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(args: Vec<InputSpec>, opts: WalkOptions, base: &Path) -> Vec<String> {
        Inputs::new(args, opts)
            .map(|f| match f {
                Found::Input(InputSpec::Path(p)) => {
                    p.strip_prefix(base).unwrap_or(&p).display().to_string()
                }
                Found::Input(InputSpec::Stdin) => "-".into(),
                Found::Error(e) => format!("error: {e}"),
            })
            .collect()
    }

    #[test]
    fn walks_like_ripgrep() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            "b.txt",
            "a/2.log",
            "a/1.log",
            ".hidden/x.txt",
            ".dot.txt",
            "skip/y.txt",
            "keep.tmp",
        ] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "x\n").unwrap();
        }
        // `.ignore` works outside a git repository; `.gitignore` does not.
        std::fs::write(d.join(".ignore"), "skip/\n").unwrap();
        std::fs::write(d.join(".gitignore"), "*.tmp\n").unwrap();
        let base = d.to_path_buf();
        let root = InputSpec::Path(base.clone());
        assert_eq!(
            names(vec![root], WalkOptions::default(), &base),
            ["a/1.log", "a/2.log", "b.txt", "keep.tmp"]
        );
        let all = names(
            vec![InputSpec::Path(base.clone())],
            WalkOptions {
                hidden: true,
                no_ignore: true,
            },
            &base,
        );
        for f in [".dot.txt", ".hidden/x.txt", "skip/y.txt", ".ignore"] {
            assert!(all.iter().any(|n| n == f), "{f} in {all:?}");
        }
        // Named files are read whatever the rules say, in argument order.
        assert_eq!(
            names(
                vec![
                    InputSpec::Path(d.join("skip/y.txt")),
                    InputSpec::Stdin,
                    InputSpec::Path(d.join(".dot.txt"))
                ],
                WalkOptions::default(),
                &base
            ),
            ["skip/y.txt", "-", ".dot.txt"]
        );
    }

    #[test]
    fn gitignore_applies_inside_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join(".git")).unwrap();
        std::fs::write(d.join(".gitignore"), "*.tmp\n").unwrap();
        std::fs::write(d.join("a.tmp"), "x\n").unwrap();
        std::fs::write(d.join("b.txt"), "x\n").unwrap();
        let base = d.to_path_buf();
        assert_eq!(
            names(
                vec![InputSpec::Path(base.clone())],
                WalkOptions::default(),
                &base
            ),
            ["b.txt"]
        );
    }
}
