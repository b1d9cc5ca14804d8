//! The explanation as one self-contained HTML page for workshops: the [`sequence`] drawn as an
//! inline SVG (no script, no font, nothing fetched), then each exchange with the rules behind its
//! answer, each token decoded with what was asked and what was granted, the engine's and the
//! runner's part, the job log and the causal chain. Everything the scenario or the mocks said is
//! escaped: a scenario's names may hold `<`.

use super::sequence::{Event, Sequence, sequence};
use super::{Explanation, Step};
use regsim_model::scenario::printable::text as safe;

/// The drawing's measures, in CSS pixels: a column per participant, a row per message.
const COLUMN: f64 = 250.0;
const MARGIN: f64 = 16.0;
const HEAD: f64 = 44.0;
const ROW: f64 = 34.0;
const LINE: f64 = 15.0;
/// The width of one character of the 12px monospace text, a little generous so labels fit.
const CHAR: f64 = 7.3;

/// The diagram's colours; tests/explain_html.rs finds the drawing in a screenshot by them.
pub const BACKGROUND: &str = "#f4f7fb";
pub const REQUEST: &str = "#1f4e9c";
pub const GRANTED: &str = "#2e7d32";
pub const REFUSED: &str = "#c62828";
const LIFELINE: &str = "#9aa5b1";
const NOTE: &str = "#fff4cc";
const NOTE_REFUSAL: &str = "#fde3e1";

pub fn render(x: &Explanation) -> String {
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    s.push_str(&format!("<title>regsim explain: {}</title>\n", esc(&x.file)));
    s.push_str(STYLE);
    s.push_str("</head>\n<body>\n");
    s.push_str(&format!("<h1>{}</h1>\n", esc(&x.file)));
    s.push_str(&format!(
        "<p class=\"description\">{}</p>\n<p class=\"versions\">{}</p>\n",
        esc(&x.description),
        esc(&x.versions)
    ));
    s.push_str(&format!(
        "<p class=\"outcome\">Outcome: image pull {}</p>\n",
        esc(&x.outcome)
    ));
    if !x.derived.is_empty() {
        s.push_str("<h2>Derived (defaults the scenario left out)</h2>\n<ul>\n");
        for d in &x.derived {
            s.push_str(&format!("<li>{}</li>\n", esc(d)));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("<h2>The exchange</h2>\n<figure id=\"sequence\">\n");
    s.push_str(&svg(&sequence(x)));
    s.push_str("<figcaption>Each request and answer in order, numbered as below; notes give the rule that said no.</figcaption>\n</figure>\n");
    if !x.chain.is_empty() {
        s.push_str("<h2>Why</h2>\n<ol class=\"chain\">\n");
        for link in &x.chain {
            s.push_str(&format!("<li>{}</li>\n", esc(link)));
        }
        s.push_str("</ol>\n");
    }
    s.push_str("<h2>HTTP exchanges (as the mocks saw them)</h2>\n");
    for step in &x.steps {
        exchange(&mut s, step);
    }
    if !x.tokens.is_empty() {
        s.push_str("<h2>Tokens, decoded</h2>\n");
        for (i, t) in x.tokens.iter().enumerate() {
            s.push_str(&format!(
                "<section class=\"token\" id=\"token-{}\">\n<h3>Token #{}</h3>\n",
                i + 1,
                i + 1
            ));
            if !t.asked.is_empty() {
                s.push_str(&format!("<p>asked: <code>{}</code></p>\n", esc(&t.asked.join(" "))));
            }
            match &t.decoded {
                Ok(d) => {
                    if let Some(access) = t.access() {
                        let granted = if access.is_empty() {
                            "[] (nothing)".to_string()
                        } else {
                            access.join(" ")
                        };
                        s.push_str(&format!("<p>granted: <code>{}</code></p>\n", esc(&granted)));
                    }
                    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
                    s.push_str(&format!(
                        "<pre class=\"jwt\">header: {}\nclaims: {}</pre>\n",
                        esc(&pretty(&d.header)),
                        esc(&pretty(&d.claims))
                    ));
                }
                Err(e) => s.push_str(&format!("<p class=\"no\">undecodable: {}</p>\n", esc(e))),
            }
            s.push_str("</section>\n");
        }
    }
    list(
        &mut s,
        "How dockerd read the answers",
        x.engine.iter().map(|e| e.to_string()),
    );
    list(&mut s, "gitlab-runner", x.runner.iter().cloned());
    s.push_str("<h2>Job log</h2>\n<pre class=\"log\">");
    for l in &x.log_lines {
        s.push_str(&esc(l));
        s.push('\n');
    }
    s.push_str("</pre>\n</body>\n</html>\n");
    s
}

fn list(s: &mut String, title: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return;
    }
    s.push_str(&format!("<h2>{}</h2>\n<ul>\n", esc(title)));
    for i in items {
        s.push_str(&format!("<li>{}</li>\n", esc(&i)));
    }
    s.push_str("</ul>\n");
}

/// One exchange: the request, the answer, the decisions behind it.
fn exchange(s: &mut String, step: &Step) {
    let class = if step.status >= 400 { "no" } else { "yes" };
    s.push_str(&format!(
        "<section class=\"step\" id=\"step-{}\">\n<h3>{}. {} → {} <span class=\"{class}\">{}</span></h3>\n<pre>",
        esc(&step.n),
        esc(&step.n),
        esc(step.client),
        esc(&step.server_label()),
        step.status
    ));
    s.push_str(&esc(&format!("{} {} HTTP/1.1\n", step.method, step.target)));
    for (k, v) in &step.request_headers {
        s.push_str(&esc(&format!("{k}: {v}\n")));
    }
    s.push_str(&format!("\n← <span class=\"{class}\">{}</span>\n", step.status));
    for (k, v) in &step.response_headers {
        s.push_str(&esc(&format!("{k}: {v}\n")));
    }
    if let Some(b) = &step.body {
        s.push_str(&esc(&format!("body: {b}\n")));
    }
    s.push_str("</pre>\n");
    if let Some(n) = step.issued {
        s.push_str(&format!(
            "<p>issues <a href=\"#token-{}\">token #{}</a></p>\n",
            n + 1,
            n + 1
        ));
    }
    if let Some(n) = step.presented {
        s.push_str(&format!(
            "<p>presents <a href=\"#token-{}\">token #{}</a></p>\n",
            n + 1,
            n + 1
        ));
    }
    s.push_str("<ul class=\"rules\">\n");
    for r in &step.rules {
        let class = if r.verdict.is_no() { "no" } else { "yes" };
        s.push_str(&format!("<li class=\"{class}\">⇒ {}</li>\n", esc(&r.to_string())));
    }
    if step.rules.is_empty() {
        s.push_str(&format!("<li class=\"{class}\">⇒ {}</li>\n", esc(&step.note)));
    }
    s.push_str("</ul>\n");
    if !step.upstream.is_empty() {
        s.push_str("<div class=\"upstream\"><p>GitLab asks Docker Hub before it answers:</p>\n");
        for u in &step.upstream {
            exchange(s, u);
        }
        s.push_str("</div>\n");
    }
    s.push_str("</section>\n");
}

/// The sequence as SVG: participants' boxes on top, lifelines down, one row per message (its
/// text above the arrow, cut to the arrow's length; the whole text in the row's `<title>`), notes
/// as boxes over their participant.
fn svg(seq: &Sequence) -> String {
    let n = seq.participants.len().max(1) as f64;
    let width = MARGIN * 2.0 + COLUMN * n;
    let centre = |id: &str| {
        let i = seq.participants.iter().position(|p| p.id == id).unwrap_or(0) as f64;
        MARGIN + COLUMN * i + COLUMN / 2.0
    };
    let mut body = String::new();
    let mut y = HEAD + 24.0;
    for e in &seq.events {
        match e {
            Event::Message {
                from,
                to,
                text,
                answer,
                status,
            } => {
                let (x1, x2) = (centre(from), centre(to));
                // A participant talking to itself gets a short arrow to the right.
                let x2 = if (x2 - x1).abs() < 1.0 { x1 + COLUMN / 2.0 } else { x2 };
                let colour = match status {
                    Some(s) if *s >= 400 => REFUSED,
                    Some(_) => GRANTED,
                    None => REQUEST,
                };
                let chars = (((x2 - x1).abs() - 8.0) / CHAR).max(8.0) as usize;
                let mid = (x1 + x2) / 2.0;
                let dash = if *answer { " stroke-dasharray=\"6 4\"" } else { "" };
                let head = if x2 > x1 { -8.0 } else { 8.0 };
                body.push_str(&format!(
                    "<g class=\"message\"><title>{}</title>\
                     <text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{colour}\">{}</text>\
                     <line x1=\"{x1:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>\
                     <path d=\"M{x2:.1},{y:.1} l{head:.1},-5 l0,10 z\" fill=\"{colour}\"/></g>\n",
                    esc(text),
                    y - 6.0,
                    esc(&fit(text, chars)),
                ));
                y += ROW;
            }
            Event::Note { over, text, refusal } => {
                let w = COLUMN * 1.6;
                let x = (centre(over) - w / 2.0).clamp(MARGIN / 2.0, width - w - MARGIN / 2.0);
                let lines = wrap(text, ((w - 12.0) / CHAR) as usize);
                let h = LINE * lines.len() as f64 + 10.0;
                let fill = if *refusal { NOTE_REFUSAL } else { NOTE };
                let stroke = if *refusal { REFUSED } else { LIFELINE };
                body.push_str(&format!(
                    "<g class=\"note\"><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"3\" \
                     fill=\"{fill}\" stroke=\"{stroke}\"/>",
                    y - 14.0
                ));
                for (i, l) in lines.iter().enumerate() {
                    body.push_str(&format!(
                        "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#222\">{}</text>",
                        x + 6.0,
                        y + LINE * i as f64,
                        esc(l)
                    ));
                }
                body.push_str("</g>\n");
                y += h + 12.0;
            }
        }
    }
    let height = y + 8.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"monospace\" font-size=\"12\" role=\"img\" \
         aria-label=\"sequence diagram\">\n<rect x=\"0\" y=\"0\" width=\"{width:.0}\" height=\"{height:.0}\" \
         fill=\"{BACKGROUND}\"/>\n"
    );
    for p in &seq.participants {
        let c = centre(&p.id);
        s.push_str(&format!(
            "<line x1=\"{c:.1}\" y1=\"{HEAD:.1}\" x2=\"{c:.1}\" y2=\"{:.1}\" stroke=\"{LIFELINE}\" stroke-dasharray=\"3 3\"/>\
             <rect x=\"{:.1}\" y=\"8\" width=\"{:.1}\" height=\"{:.1}\" rx=\"4\" fill=\"#ffffff\" stroke=\"{REQUEST}\"/>\
             <text x=\"{c:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\" fill=\"#111\">{}</text>\n",
            height - 4.0,
            c - COLUMN / 2.0 + 10.0,
            COLUMN - 20.0,
            HEAD - 14.0,
            HEAD / 2.0 + 8.0,
            esc(&fit(&p.label, ((COLUMN - 28.0) / CHAR) as usize))
        ));
    }
    s.push_str(&body);
    s.push_str("</svg>\n");
    s
}

/// `s` cut to `max` characters, the cut marked `…`.
fn fit(s: &str, max: usize) -> String {
    super::sequence::shorten(s, max.saturating_sub(1))
}

/// `s` in lines of at most `width` characters, broken at spaces (a longer word, a URL say, is
/// broken where the line ends).
fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let words = s.split_whitespace().flat_map(|w| {
        let chars: Vec<char> = w.chars().collect();
        chars
            .chunks(width)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
    });
    for w in words {
        if !line.is_empty() && line.chars().count() + 1 + w.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&w);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Text for HTML and SVG: control characters escaped as the text report does, then `&`, `<`,
/// `>` and quotes as entities.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in safe(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #111; max-width: 110em; }
h1 { font-size: 1.4em; font-family: monospace; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccd; }
h3 { font-size: 1em; font-family: monospace; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
figure { margin: 0; overflow-x: auto; }
.yes { color: #2e7d32; }
.no { color: #c62828; font-weight: bold; }
.rules { list-style: none; padding-left: 0.5em; font-family: monospace; }
.upstream { margin-left: 2em; border-left: 3px solid #ccd; padding-left: 1em; }
.versions, .outcome { font-family: monospace; }
</style>
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_wraps_notes() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 5), vec!["abcde", "fghij"]);
        assert_eq!(fit("abcdef", 4), "abc…");
    }
}
