//! The explanation as a Mermaid sequence diagram, ready for slides: the [`sequence`] written in
//! Mermaid's syntax.

use super::Explanation;
use super::sequence::{Event, sequence};

pub fn render(x: &Explanation) -> String {
    let seq = sequence(x);
    let mut s = String::from("sequenceDiagram\n");
    for p in &seq.participants {
        s.push_str(&format!("    participant {} as {}\n", p.id, text(&p.label)));
    }
    for e in &seq.events {
        match e {
            Event::Message {
                from,
                to,
                text: t,
                answer,
                ..
            } => {
                let arrow = if *answer { "-->>" } else { "->>" };
                s.push_str(&format!("    {from}{arrow}{to}: {}\n", text(t)));
            }
            Event::Note { over, text: t, .. } => {
                s.push_str(&format!("    Note over {over}: {}\n", wrap(&text(t))));
            }
        }
    }
    s
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
