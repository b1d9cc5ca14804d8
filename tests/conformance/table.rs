//! The checks' results and the table `make conformance` prints.

use std::fmt::Write as _;

/// The clients (and servers) a check compares, as the table's column names them.
pub const DOCKERD_VIA_MOCK: &str = "dockerd via mock";
pub const DOCKERD_VIA_REFERENCE: &str = "dockerd via reference";
pub const SKOPEO: &str = "skopeo";
pub const OCI_CLIENT: &str = "oci-client";
pub const FORGED: &str = "forged token";
pub const SCHEMA1: &str = "schema 1";
pub const DOCKERD_BY_NAME: &str = "dockerd by name";
pub const CONTAINERD_CRI: &str = "containerd CRI";

#[derive(Debug)]
pub enum Verdict {
    Agree,
    /// The two sides' labels and texts.
    Differ {
        left: (String, String),
        right: (String, String),
    },
    /// The client or engine is missing here (a failure under CI).
    Skipped(String),
    /// The check cannot be run (a bug in the suite or the harness; always a failure).
    Broken(String),
    /// Not comparable here (the reason: regsim does not model this scenario at the compared
    /// engine, or the client cannot read what the server sends); listed, not a failure.
    NotCompared(String),
}

#[derive(Debug)]
pub struct Check {
    pub scenario: String,
    pub client: &'static str,
    /// What was compared, in a few words (`job log`, `pull allowed`, `GET /v2/ → 401 invalid_token`).
    pub what: String,
    pub verdict: Verdict,
}

impl Check {
    pub fn compare(
        scenario: &str,
        client: &'static str,
        what: impl Into<String>,
        left: (&str, String),
        right: (&str, String),
    ) -> Check {
        let verdict = if left.1 == right.1 {
            Verdict::Agree
        } else {
            Verdict::Differ {
                left: (left.0.to_string(), left.1),
                right: (right.0.to_string(), right.1),
            }
        };
        Check {
            scenario: scenario.to_string(),
            client,
            what: what.into(),
            verdict,
        }
    }

    pub fn skipped(scenario: &str, client: &'static str, why: impl Into<String>) -> Check {
        Check {
            scenario: scenario.to_string(),
            client,
            what: String::new(),
            verdict: Verdict::Skipped(why.into()),
        }
    }

    pub fn broken(scenario: &str, client: &'static str, why: impl Into<String>) -> Check {
        Check {
            scenario: scenario.to_string(),
            client,
            what: String::new(),
            verdict: Verdict::Broken(why.into()),
        }
    }
}

/// Two texts side by side, line by line, `|` between; lines that differ are marked `!`.
fn side_by_side(left: &(String, String), right: &(String, String)) -> String {
    let l: Vec<&str> = left.1.lines().collect();
    let r: Vec<&str> = right.1.lines().collect();
    let width = l
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(left.0.len())
        .min(100);
    let mut out = format!("      {:<width$} | {}\n", left.0, right.0);
    for i in 0..l.len().max(r.len()) {
        let a = l.get(i).copied().unwrap_or("");
        let b = r.get(i).copied().unwrap_or("");
        let mark = if a == b { ' ' } else { '!' };
        let _ = writeln!(out, "    {mark} {a:<width$} | {b}");
    }
    out
}

/// The table, then the one summary line. Returns the text and whether everything agreed (and,
/// under CI, nothing was skipped).
pub fn render(checks: &[Check], not_compared: &[String], ci: bool, took: std::time::Duration) -> (String, bool) {
    let mut out = String::new();
    let name_w = checks.iter().map(|c| c.scenario.len()).max().unwrap_or(8).min(60);
    let client_w = checks.iter().map(|c| c.client.len()).max().unwrap_or(6);
    let _ = writeln!(
        out,
        "{:<name_w$}  {:<client_w$}  verdict  compared",
        "scenario", "client"
    );
    let (mut agree, mut differ, mut skipped) = (0, 0, 0);
    for c in checks {
        let (word, detail) = match &c.verdict {
            Verdict::Agree => {
                agree += 1;
                ("agree", None)
            }
            Verdict::Differ { left, right } => {
                differ += 1;
                ("DIFFER", Some(side_by_side(left, right)))
            }
            Verdict::Skipped(why) => {
                skipped += 1;
                ("SKIPPED", Some(format!("      {why}\n")))
            }
            Verdict::Broken(why) => {
                differ += 1;
                ("BROKEN", Some(format!("      {why}\n")))
            }
            Verdict::NotCompared(why) => ("not compared", Some(format!("      {why}\n"))),
        };
        let _ = writeln!(
            out,
            "{:<name_w$}  {:<client_w$}  {word:<7}  {}",
            c.scenario, c.client, c.what
        );
        if let Some(d) = detail {
            out.push_str(&d);
        }
    }
    let mut per_client: Vec<(&str, usize)> = Vec::new();
    for c in checks
        .iter()
        .filter(|c| !matches!(c.verdict, Verdict::Skipped(_) | Verdict::NotCompared(_)))
    {
        match per_client.iter_mut().find(|(n, _)| *n == c.client) {
            Some((_, k)) => *k += 1,
            None => per_client.push((c.client, 1)),
        }
    }
    let _ = writeln!(
        out,
        "took {:.0} s; checks per client: {}",
        took.as_secs_f64(),
        per_client
            .iter()
            .map(|(n, k)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !not_compared.is_empty() {
        let _ = writeln!(
            out,
            "not compared (runner host not linux/amd64 like this dockerd): {}",
            not_compared.join(", ")
        );
    }
    if skipped > 0 {
        let _ = writeln!(
            out,
            "{skipped} checks SKIPPED (a client or engine is missing here){}",
            if ci { " — a failure under CI" } else { "" }
        );
    }
    let n = agree + differ;
    let _ = writeln!(out, "conformance: {n} checks, {agree} agree, {differ} differ");
    (out, differ == 0 && !(ci && skipped > 0))
}
