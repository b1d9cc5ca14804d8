//! The text report `regsim run` prints: description, versions, derived defaults, the exchange,
//! the job log, the outcome.

use super::Report;
use crate::term::{GREEN, RED, paint};
use regsim_model::scenario::Outcome;
use regsim_model::scenario::printable::text as safe;

/// The text report: description, versions, derived defaults, the exchange, the job log, outcome.
/// Everything but the job log and the script's output passes through [`safe`]: it quotes the
/// scenario (its description, names, expected lines), whose control characters must not reach
/// a terminal. The log's bytes are the runner's and stay as they are.
pub fn render_text(r: &Report, raw: bool) -> String {
    render_text_coloured(r, raw, false)
}

/// `render_text`, with the verdict coloured when `colour` (on a terminal): green as expected,
/// red not.
pub fn render_text_coloured(r: &Report, raw: bool, colour: bool) -> String {
    let mut s = header(r);
    s.push_str(&exchange(r));
    s.push_str(&log_block(r, raw));
    s.push_str(&verdict(r, colour));
    s
}

/// One line per scenario, for CI logs (`regsim run --summary`): the verdict, the file, what
/// happened and what was expected.
pub fn summary_line(r: &Report, colour: bool) -> String {
    let what = r.job_log.stage();
    let mut detail = format!("{what} {}", outcome_word(r.outcome));
    if r.outcome != r.expected {
        detail.push_str(&format!(", expected {}", outcome_word(r.expected)));
    }
    if let Some(m) = r.missing_lines.first() {
        detail.push_str(&format!(
            "; {} expected line(s) missing, first: {m}",
            r.missing_lines.len()
        ));
    }
    format!(
        "{} {}  ({})",
        verdict_word(r.ok(), colour),
        safe(&r.file),
        safe(&detail)
    )
}

/// The verdict as `run --summary` and the report's last line show it.
pub fn verdict_word(ok: bool, colour: bool) -> String {
    if ok {
        paint(colour, GREEN, "as expected    ")
    } else {
        paint(colour, RED, "NOT AS EXPECTED")
    }
}

fn header(r: &Report) -> String {
    let mut s = String::new();
    s.push_str(&format!("━━ {}\n", r.file));
    s.push_str(&format!("{}\n", r.description));
    if let Some(seed) = &r.seed {
        s.push_str(&format!("Reproduces: {}\n", seed.citation()));
    }
    s.push_str(&format!(
        "GitLab {} · gitlab-runner {} · {}\n",
        r.gitlab,
        r.runner,
        r.engine_label()
    ));
    if !r.derived.is_empty() {
        s.push_str("Derived:\n");
        for d in &r.derived {
            s.push_str(&format!("  - {d}\n"));
        }
    }
    safe(&s).into_owned()
}

fn exchange(r: &Report) -> String {
    let mut s = String::new();
    s.push_str("Exchange:\n");
    for (i, e) in r.exchange.iter().enumerate() {
        let creds = if e.credentials.is_empty() {
            String::new()
        } else {
            format!(" [{}]", e.credentials)
        };
        s.push_str(&format!(
            "  {:>2}. {:<8} {} {}{creds} → {} {}\n",
            i + 1,
            e.server,
            e.method,
            e.target,
            e.status,
            e.note
        ));
    }
    safe(&s).into_owned()
}

/// The job log and the script's output, as the runner wrote them.
fn log_block(r: &Report, raw: bool) -> String {
    let mut s = String::new();
    let log = if raw { &r.job_log.raw } else { &r.job_log.plain };
    s.push_str(if raw {
        "--- job log (raw bytes) ---\n"
    } else {
        "--- job log ---\n"
    });
    if raw && r.job_log.timestamps_unmodelled {
        s.push_str("(gitlab-runner 18.7+ prefixes raw lines with timestamps by default; regsim does not write them)\n");
    }
    s.push_str(log);
    if !log.ends_with('\n') {
        s.push('\n');
    }
    match &r.job_log.continued {
        Some(c) => {
            s.push_str(&format!("--- {} ---\n", c.not_modelled_before));
            let rest = if raw { &c.raw } else { &c.plain };
            s.push_str(rest);
            if !rest.ends_with('\n') {
                s.push('\n');
            }
            s.push_str("--- end of job log ---\n");
        }
        None => log_end(r, &mut s),
    }
    if !raw && !r.job_log.sections.is_empty() {
        s.push_str("--- sections: each header with the duration the job page shows beside it ---\n");
        for sec in &r.job_log.sections {
            s.push_str(&format!("{} {}\n", sec.header, sec.duration));
        }
    }
    s
}

/// How a log that stops at the preparation ends.
fn log_end(r: &Report, s: &mut String) {
    s.push_str("--- end of job log");
    let log = &r.job_log;
    s.push_str(match (log.image_ready, log.no_image) {
        (true, true) => {
            " (no image on this executor: the job goes on to its script, which with later stages is not simulated) ---\n"
        }
        (true, false) => " (the image is ready; the job's script and later stages are not simulated) ---\n",
        (false, _) => " ---\n",
    });
}

fn verdict(r: &Report, colour: bool) -> String {
    let mut s = String::new();
    let verdict = if r.ok() {
        paint(colour, GREEN, "as expected")
    } else {
        paint(colour, RED, "NOT AS EXPECTED")
    };
    let what = r.job_log.stage();
    s.push_str(&format!(
        "Outcome: {what} {} (expected: {}) — {verdict}\n",
        outcome_word(r.outcome),
        outcome_word(r.expected)
    ));
    for m in &r.missing_lines {
        s.push_str(&safe(&format!("  missing line: {m}\n")));
    }
    for (line, why) in &r.not_reproduced {
        s.push_str(&safe(&format!("  post line not reproduced: {line}\n    why: {why}\n")));
    }
    s
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeds => "succeeds",
        Outcome::Fails => "fails",
    }
}
