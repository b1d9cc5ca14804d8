//! Progress on long work (a matrix, diagnose's catalogue run, a run of many scenarios): a bar on
//! standard error when both standard output and standard error are terminals, nothing otherwise
//! — piped output stays exactly what it would be without it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar over `total` steps named `what`, or a hidden one that draws nothing.
pub fn bar(total: usize, what: &str) -> ProgressBar {
    if !(std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) || total < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}
