//! The explanation as a sequence of messages and notes between participants: what the Mermaid
//! diagram and the HTML page's drawing both show (one arrow per request and per answer, numbered
//! as in the text; a note with the rule at each decision that said no, the engine's wording and
//! the job log's last error).

use super::{Explanation, Step};
use regsim_clients::engine::Reading;

pub struct Sequence {
    pub participants: Vec<Participant>,
    pub events: Vec<Event>,
}

pub struct Participant {
    /// An identifier: letters, digits and `_`.
    pub id: String,
    pub label: String,
}

pub enum Event {
    /// A request (`answer: false`) or its answer, with the answer's status.
    Message {
        from: String,
        to: String,
        text: String,
        answer: bool,
        status: Option<u16>,
    },
    /// A note over one participant; `refusal` when it names a decision that said no or an error.
    Note { over: String, text: String, refusal: bool },
}

pub fn sequence(x: &Explanation) -> Sequence {
    let mut participants = vec![
        Participant {
            id: "runner".into(),
            label: "gitlab-runner".into(),
        },
        Participant {
            id: "dockerd".into(),
            label: "dockerd".into(),
        },
    ];
    let mut add = |step: &Step| {
        let id = participant_id(&step.server, &step.host);
        if !participants.iter().any(|p| p.id == id) {
            participants.push(Participant {
                id,
                label: step.server_label(),
            });
        }
    };
    for step in &x.steps {
        add(step);
        step.upstream.iter().for_each(&mut add);
    }
    let mut events = Vec::new();
    for step in &x.steps {
        arrows(&mut events, x, step);
    }
    if let Some(Reading::Translated {
        first, status, message, ..
    }) = x.engine.iter().rev().find(|t| matches!(t, Reading::Translated { .. }))
    {
        events.push(Event::Note {
            over: "dockerd".into(),
            text: format!("TranslatePullError: \"{first}\" becomes HTTP {status} \"{message}\""),
            refusal: true,
        });
        events.push(Event::Message {
            from: "dockerd".into(),
            to: "runner".into(),
            text: format!("{status} {}", shorten(message, 60)),
            answer: true,
            status: Some(*status),
        });
    }
    if let Some(l) = x
        .log_lines
        .iter()
        .rev()
        .find(|l| l.starts_with("ERROR:"))
        .or_else(|| x.log_lines.iter().rev().find(|l| l.starts_with("WARNING:")))
    {
        events.push(Event::Note {
            over: "runner".into(),
            text: shorten(l, 240),
            refusal: l.starts_with("ERROR:"),
        });
    }
    Sequence { participants, events }
}

fn arrows(events: &mut Vec<Event>, x: &Explanation, step: &Step) {
    let client = match step.client {
        "gitlab-runner" => "runner",
        "dockerd" => "dockerd",
        _ => "gitlab",
    }
    .to_string();
    let server = participant_id(&step.server, &step.host);
    let auth = step
        .request_headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| format!(" [{}]", shorten(v, 40)))
        .unwrap_or_default();
    events.push(Event::Message {
        from: client.clone(),
        to: server.clone(),
        text: format!("{}. {} {}{auth}", step.n, step.method, shorten(&step.target, 90)),
        answer: false,
        status: None,
    });
    for u in &step.upstream {
        arrows(events, x, u);
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
    events.push(Event::Message {
        from: server.clone(),
        to: client,
        text: answer,
        answer: true,
        status: Some(step.status),
    });
    for r in step.rules.iter().filter(|r| r.verdict.is_no()) {
        events.push(Event::Note {
            over: server.clone(),
            text: r.to_string(),
            refusal: true,
        });
    }
    // A refusal the policy did not give (the registry's insufficient_scope, a Basic 401 …).
    if step.rules.is_empty() && step.status >= 400 && step.request_headers.iter().any(|(k, _)| k == "authorization") {
        events.push(Event::Note {
            over: server,
            text: step.note.clone(),
            refusal: true,
        });
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

pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}
