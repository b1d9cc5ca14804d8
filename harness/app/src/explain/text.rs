//! The explanation as text: numbered exchanges, decoded tokens, the engine's and the runner's
//! part, and the causal chain. Colour (bold headings, red refusals, green grants) only when the
//! caller asks for it (`--color`: by default a terminal on stdout and NO_COLOR unset).

use super::{Explanation, Step};
use anstyle::{AnsiColor, Style};
use regsim_model::scenario::printable::text as safe;
use regsim_servers::journal::Rule;

struct Paint {
    on: bool,
}

impl Paint {
    /// `s` with its control characters escaped (it may quote the scenario), then coloured.
    fn with(&self, style: Style, s: &str) -> String {
        let s = safe(s);
        if self.on {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }
    fn head(&self, s: &str) -> String {
        self.with(Style::new().bold(), s)
    }
    fn status(&self, code: u16) -> String {
        let colour = if code >= 400 { AnsiColor::Red } else { AnsiColor::Green };
        self.with(Style::new().fg_color(Some(colour.into())).bold(), &code.to_string())
    }
    fn note(&self, status: u16, note: &str) -> String {
        let colour = if status >= 400 { AnsiColor::Red } else { AnsiColor::Cyan };
        self.with(Style::new().fg_color(Some(colour.into())), note)
    }
    fn rule(&self, r: &Rule) -> String {
        let colour = if r.verdict.is_no() {
            AnsiColor::Red
        } else {
            AnsiColor::Cyan
        };
        self.with(Style::new().fg_color(Some(colour.into())), &r.to_string())
    }
}

pub fn render(x: &Explanation, colour: bool) -> String {
    let p = Paint { on: colour };
    let mut s = String::new();
    s.push_str(&p.head(&format!("━━ {}", x.file)));
    s.push('\n');
    s.push_str(&safe(&format!("{}\n{}\n", x.description, x.versions)));
    if !x.derived.is_empty() {
        s.push_str(&p.head("Derived (defaults the scenario left out):"));
        s.push('\n');
        for d in &x.derived {
            s.push_str(&safe(&format!("  - {d}\n")));
        }
    }
    s.push('\n');
    s.push_str(&p.head("HTTP exchanges (as the mocks saw them):"));
    s.push('\n');
    for step in &x.steps {
        render_step(&mut s, &p, x, step, "");
    }
    if !x.engine.is_empty() {
        s.push('\n');
        s.push_str(&p.head("How dockerd read the answers:"));
        s.push('\n');
        for e in &x.engine {
            s.push_str(&safe(&format!("  - {e}\n")));
        }
    }
    if !x.runner.is_empty() {
        s.push('\n');
        s.push_str(&p.head("gitlab-runner:"));
        s.push('\n');
        for r in &x.runner {
            s.push_str(&safe(&format!("  - {r}\n")));
        }
    }
    s.push('\n');
    s.push_str(&p.head("Job log:"));
    s.push('\n');
    // The job log's lines as the runner wrote them.
    for l in &x.log_lines {
        s.push_str(&format!("  {l}\n"));
    }
    if !x.chain.is_empty() {
        s.push('\n');
        s.push_str(&p.head("Why:"));
        s.push('\n');
        for (i, link) in x.chain.iter().enumerate() {
            s.push_str(&safe(&format!("  {}{link}\n", if i == 0 { "  " } else { "→ " })));
        }
    }
    s.push_str(&format!("\nOutcome: image pull {}\n", x.outcome));
    s
}

/// One exchange. What the mocks saw quotes the scenario (names, credentials), so each line is
/// escaped; the coloured parts were escaped by [`Paint`] before their colours.
fn render_step(s: &mut String, p: &Paint, x: &Explanation, step: &Step, indent: &str) {
    let painted = |s: &mut String, text: &str| {
        s.push_str(indent);
        s.push_str("     ");
        s.push_str(text);
        s.push('\n');
    };
    let line = |s: &mut String, text: &str| painted(s, &safe(text));
    s.push_str(&safe(&format!(
        "{indent}{:>3}. {} → {}\n",
        step.n,
        step.client,
        step.server_label()
    )));
    line(s, &format!("{} {} HTTP/1.1", step.method, step.target));
    for (k, v) in &step.request_headers {
        line(s, &format!("{k}: {v}"));
    }
    if !step.upstream.is_empty() {
        line(s, "(GitLab asks Docker Hub before it answers:)");
        for u in &step.upstream {
            render_step(s, p, x, u, &format!("{indent}     "));
        }
    }
    painted(s, &format!("← {}", p.status(step.status)));
    for (k, v) in &step.response_headers {
        line(s, &format!("{k}: {v}"));
    }
    if let Some(b) = &step.body {
        line(s, &format!("body: {b}"));
    }
    if !step.asked.is_empty() {
        line(s, &format!("asked:   {}", step.asked.join(" ")));
    }
    if let Some(n) = step.issued {
        let t = &x.tokens[n];
        match &t.decoded {
            Ok(d) => {
                if let Some(access) = t.access() {
                    line(s, &format!("granted: {}", access_list(&access)));
                }
                line(s, &format!("token #{} header: {}", n + 1, d.header));
                line(s, &format!("token #{} claims: {}", n + 1, pretty(&d.claims, indent)));
            }
            Err(e) => line(s, &format!("token #{}: undecodable ({e})", n + 1)),
        }
    }
    if let Some(n) = step.presented
        && let Some(access) = x.tokens[n].access()
    {
        line(s, &format!("token #{} grants: {}", n + 1, access_list(&access)));
    }
    // The policy's decisions where there were some; otherwise what the server's answer meant.
    for r in &step.rules {
        painted(s, &format!("⇒ {}", p.rule(r)));
    }
    if step.rules.is_empty() {
        painted(s, &format!("⇒ {}", p.note(step.status, &step.note)));
    }
}

fn access_list(access: &[String]) -> String {
    if access.is_empty() {
        "[] (nothing)".to_string()
    } else {
        access.join(" ")
    }
}

/// Claims on one line each, indented under the step.
fn pretty(v: &serde_json::Value, indent: &str) -> String {
    serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .replace('\n', &format!("\n{indent}       "))
}
