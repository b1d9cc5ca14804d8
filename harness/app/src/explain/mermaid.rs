//! The explanation as a Mermaid sequence diagram, ready for slides: one arrow per request and
//! per answer (numbered as in the text), a note with the rule at each decision that said no, the
//! engine's wording and the job log's last error.

use super::{Explanation, Step};
use regsim_clients::engine::Reading;

pub fn render(x: &Explanation) -> String {
    let mut s = String::from("sequenceDiagram\n");
    let mut participants: Vec<(String, String)> = vec![
        ("runner".into(), "gitlab-runner".into()),
        ("dockerd".into(), "dockerd".into()),
    ];
    let mut add = |step: &Step| {
        let id = participant_id(&step.server, &step.host);
        if !participants.iter().any(|(i, _)| *i == id) {
            participants.push((id, step.server_label()));
        }
    };
    for step in &x.steps {
        add(step);
        step.upstream.iter().for_each(&mut add);
    }
    for (id, label) in &participants {
        s.push_str(&format!("    participant {id} as {}\n", text(label)));
    }
    for step in &x.steps {
        arrows(&mut s, x, step);
    }
    if let Some(Reading::Translated {
        first, status, message, ..
    }) = x.engine.iter().rev().find(|t| matches!(t, Reading::Translated { .. }))
    {
        let note = format!("TranslatePullError: \"{first}\" becomes HTTP {status} \"{message}\"");
        s.push_str(&format!("    Note over dockerd: {}\n", wrap(&text(&note))));
        s.push_str(&format!(
            "    dockerd-->>runner: {}\n",
            text(&format!("{status} {}", shorten(message, 60)))
        ));
    }
    if let Some(l) = x
        .log_lines
        .iter()
        .rev()
        .find(|l| l.starts_with("ERROR:"))
        .or_else(|| x.log_lines.iter().rev().find(|l| l.starts_with("WARNING:")))
    {
        s.push_str(&format!("    Note over runner: {}\n", wrap(&text(&shorten(l, 240)))));
    }
    s
}

fn arrows(s: &mut String, x: &Explanation, step: &Step) {
    let client = match step.client {
        "gitlab-runner" => "runner".to_string(),
        "dockerd" => "dockerd".to_string(),
        _ => "gitlab".to_string(),
    };
    let server = participant_id(&step.server, &step.host);
    let auth = step
        .request_headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| format!(" [{}]", shorten(v, 40)))
        .unwrap_or_default();
    s.push_str(&format!(
        "    {client}->>{server}: {}\n",
        text(&format!(
            "{}. {} {}{auth}",
            step.n,
            step.method,
            shorten(&step.target, 90)
        ))
    ));
    for u in &step.upstream {
        arrows(s, x, u);
    }
    let mut answer = step.status.to_string();
    if let Some(n) = step.issued {
        answer.push_str(&format!(" token #{}", n + 1));
        if let Some(access) = x.tokens[n].access() {
            answer.push_str(&format!(" access [{}]", access.join(" ")));
        }
    } else if let Some((_, c)) = step
        .response_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
    {
        answer.push_str(&format!(" {}", shorten(c, 120)));
    }
    s.push_str(&format!("    {server}-->>{client}: {}\n", text(&answer)));
    for r in step.rules.iter().filter(|r| r.verdict.is_no()) {
        s.push_str(&format!("    Note over {server}: {}\n", wrap(&text(&r.to_string()))));
    }
    // A refusal the policy did not give (the registry's insufficient_scope, a Basic 401 …).
    if step.rules.is_empty() && step.status >= 400 && step.request_headers.iter().any(|(k, _)| k == "authorization") {
        s.push_str(&format!("    Note over {server}: {}\n", wrap(&text(&step.note))));
    }
}

fn participant_id(server: &str, host: &str) -> String {
    match server {
        "GitLab" => "gitlab".into(),
        "registry" => "registry".into(),
        _ => format!(
            "r_{}",
            host.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
        ),
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// Mermaid's message text ends at `;` and a newline, `#` starts an entity, and `<…>` would be
/// read as HTML: write them as entities (`#59;`, `#35;`, `#60;`, `#62;`), so `<br>` (added by
/// `wrap` afterwards) is the only markup.
fn text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '#' => "#35;".to_string(),
            ';' => "#59;".to_string(),
            '<' => "#60;".to_string(),
            '>' => "#62;".to_string(),
            '\n' | '\r' => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Long notes broken into lines of about 60 characters.
fn wrap(s: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for w in s.split(' ') {
        if line > 0 && line + w.len() > 60 {
            out.push_str("<br>");
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(w);
        line += w.len();
    }
    out
}
