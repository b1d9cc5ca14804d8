//! Shell completions and man pages, generated from the same clap definitions as `--help`.

use super::{broken, command};
use crate::term::emit;
use std::path::Path;
use std::process::ExitCode;

pub(super) fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command(), "regsim", &mut out);
    emit(&String::from_utf8_lossy(&out));
    ExitCode::SUCCESS
}

/// `regsim man`: regsim(1) on standard output; `regsim man DIR`: regsim.1 and regsim-CMD.1 for
/// each command, written into DIR.
pub(super) fn man(dir: Option<&Path>) -> ExitCode {
    let cmd = command();
    let Some(dir) = dir else {
        return match page(&cmd) {
            Ok(roff) => {
                emit(&roff);
                ExitCode::SUCCESS
            }
            Err(e) => broken(e),
        };
    };
    let mut pages = vec![("regsim.1".to_string(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("regsim-{}", sub.get_name());
        // The sub-page's title and synopsis name the whole command, as git-pull(1) does.
        let sub = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("regsim {}", sub.get_name()));
        pages.push((format!("{name}.1"), sub));
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        return broken(format!("{}: {e}", dir.display()));
    }
    for (file, cmd) in pages {
        let path = dir.join(&file);
        if let Err(e) = page(&cmd).and_then(|roff| std::fs::write(&path, roff)) {
            return broken(format!("{}: {e}", path.display()));
        }
    }
    ExitCode::SUCCESS
}

fn page(cmd: &clap::Command) -> std::io::Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
