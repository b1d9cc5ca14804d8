//! Where the commands write, as Unix tools do: standard output through one place that ends the
//! process quietly, status 0, when the reader has gone (`regsim run … | head -1`; as ripgrep does),
//! colour decided once from `--color`, `NO_COLOR` and `CLICOLOR_FORCE`, and progress bars only
//! on a terminal (`progress`).

pub mod progress;

use std::io::{IsTerminal, Write};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal, unless `NO_COLOR` is set (or when
    /// `CLICOLOR_FORCE` is set, terminal or not).
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour standard output (no-color.org, bixense.com/clicolors).
    pub fn wanted(self) -> bool {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("NO_COLOR") => false,
            ColorChoice::Auto if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") => true,
            ColorChoice::Auto => std::io::stdout().is_terminal(),
        }
    }
}

/// Writes `text` to standard output. A closed pipe ends the process at once with status 0 and
/// nothing on standard error; any other write error is reported and ends it with status 2.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(std::io::stderr(), "regsim: standard output: {e}");
        std::process::exit(2);
    }
}

/// `emit` with a newline.
pub fn emitln(text: &str) {
    emit(&format!("{text}\n"));
}

/// Writes to standard error; a closed standard error is no reason to stop.
pub fn warn(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// `text` in the given ANSI style when `colour`.
pub fn paint(colour: bool, style: anstyle::Style, text: &str) -> String {
    if colour {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

pub const GREEN: anstyle::Style = anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Green)));
pub const RED: anstyle::Style = anstyle::Style::new()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Red)))
    .bold();
pub const YELLOW: anstyle::Style =
    anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Yellow)));
