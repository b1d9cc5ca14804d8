//! A log line as a pattern: the words the runner and the engine chose stay, the values that
//! belong to one installation (hosts, image names, tags, URLs, layer ids, the runner's name,
//! token and release, the `(file.go:LINE:Ns)` call site) become placeholders. Catalogue lines and
//! pasted lines go through the same function, so equal patterns mean "the same sentence".

use regex::Regex;
use std::sync::OnceLock;

/// A value a placeholder stands for, in order of appearance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Value {
    /// `(file.go:LINE:DURATION)`.
    Site {
        file: String,
        line: u32,
        duration: String,
    },
    /// `Get https://…: ` / `Head "https://…": ` — the engine's request in an error.
    Request {
        method: String,
        quoted: bool,
        url: String,
    },
    Url(String),
    /// An image reference (or a path: anything reference-shaped).
    Ref(String),
    Digest(String),
    /// A 12-hex layer or image id.
    Id(String),
    Ip(String),
    RunnerVersion {
        version: String,
        revision: String,
    },
    RunnerName(String),
    RunnerToken(String),
    SystemId(String),
}

impl Value {
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Site { .. } => "site",
            Value::Request { .. } => "request",
            Value::Url(_) => "url",
            Value::Ref(_) => "ref",
            Value::Digest(_) => "digest",
            Value::Id(_) => "id",
            Value::Ip(_) => "ip",
            Value::RunnerVersion { .. } => "version",
            Value::RunnerName(_) => "name",
            Value::RunnerToken(_) => "token",
            Value::SystemId(_) => "system-id",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pattern {
    pub text: String,
    pub values: Vec<Value>,
}

struct Res {
    site: Regex,
    request: Regex,
    url: Regex,
    digest: Regex,
    id: Regex,
    ip: Regex,
    header: Regex,
    on_line: Regex,
    name_tag: Regex,
    /// Sentences whose slot is a repository name even when it is a bare word (`nodejs`): Docker
    /// Hub's short names have no `/` or `:` to look reference-shaped.
    slot: Regex,
    /// What people put in place of a host or name they hide: `*****`, `<REMOVED>`,
    /// `[MASKED]` (GitLab's own mask), `<redacted>`, `[REDACTED]`.
    redaction: Regex,
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| Res {
        site: Regex::new(r"\(([A-Za-z0-9_]+\.go):(\d+):([0-9a-zµ.]+)\)$").unwrap(),
        request: Regex::new(r#"\b(Get|Head|Post|Put|Patch|Delete) ("?)(https?://[^\s"]+?)"?: "#).unwrap(),
        // A sentence's full stop or comma after a URL is not part of it.
        url: Regex::new(r#"https?://[^\s"'<>\)\]]*[^\s"'<>\)\].,;:]"#).unwrap(),
        digest: Regex::new(r"sha256:[0-9a-f]{64}").unwrap(),
        id: Regex::new(r"\b[0-9a-f]{12}\b").unwrap(),
        ip: Regex::new(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b").unwrap(),
        header: Regex::new(r"^Running with gitlab-runner (\S+) \(([0-9a-f]+)\)$").unwrap(),
        on_line: Regex::new(r"^on (\S+) (\S+?)(, system ID: (\S+))?$").unwrap(),
        name_tag: Regex::new(r"^[a-z0-9][a-z0-9._-]*[a-z][a-z0-9._-]*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$").unwrap(),
        redaction: Regex::new(r"(?i)\*{3,}|<(?:removed|redacted|hidden|masked)>|\[(?:masked|redacted|removed)\]").unwrap(),
        slot: Regex::new(r"(?:pull access denied for |repository |Using (?:Docker|docker) executor with image |Pulling docker image )([a-z0-9][a-z0-9._/-]*)(?:,| not found| \.\.\.)").unwrap(),
    })
}

/// Whether `s` holds a redaction marker (an unknown value).
pub fn is_redacted(s: &str) -> bool {
    res().redaction.is_match(s)
}

/// Placeholders are written `⟨kind⟩`: characters a log line does not contain.
fn ph(kind: &str) -> String {
    format!("⟨{kind}⟩")
}

pub fn pattern(line: &str) -> Pattern {
    let r = res();
    let mut values = Vec::new();
    let mut text = line.trim().to_string();
    // A redaction is an unknown value, not text: it becomes a name the rules below read as part
    // of a host or a reference, like any other.
    if r.redaction.is_match(&text) {
        text = r.redaction.replace_all(&text, "redacted").into_owned();
    }
    // The runner's `ERROR: ` / `WARNING: ` in front of a sentence is its colour, not its words: a
    // copy that lost it (a re-typed or reformatted paste) still says the same sentence.
    for prefix in ["ERROR: ", "WARNING: "] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest.to_string();
            break;
        }
    }

    if let Some(c) = r.header.captures(&text) {
        let v = Value::RunnerVersion {
            version: c[1].to_string(),
            revision: c[2].to_string(),
        };
        return Pattern {
            text: format!("Running with gitlab-runner {} ({})", ph("version"), ph("revision")),
            values: vec![v],
        };
    }
    if let Some(c) = r.on_line.captures(&text) {
        let mut values = vec![
            Value::RunnerName(c[1].to_string()),
            Value::RunnerToken(c[2].to_string()),
        ];
        let mut t = format!("on {} {}", ph("name"), ph("token"));
        if let Some(sid) = c.get(4) {
            values.push(Value::SystemId(sid.as_str().to_string()));
            t.push_str(&format!(", system ID: {}", ph("system-id")));
        }
        return Pattern { text: t, values };
    }

    // The call site ends the line; take it first so its `:` do not look like a tag.
    let mut site = None;
    if let Some(c) = r.site.captures(&text) {
        site = Some(Value::Site {
            file: c[1].to_string(),
            line: c[2].parse().unwrap_or(0),
            duration: c[3].to_string(),
        });
        let start = c.get(0).map(|m| m.start()).unwrap_or(text.len());
        text = format!("{}({})", &text[..start], ph("site"));
    }

    // Values in the order they appear: collect spans from every rule, leftmost wins.
    let mut spans: Vec<(usize, usize, String, Value)> = Vec::new();
    for c in r.request.captures_iter(&text) {
        let m = c.get(0).expect("match");
        spans.push((
            m.start(),
            m.end(),
            format!("{}: ", ph("request")),
            Value::Request {
                method: c[1].to_string(),
                quoted: !c[2].is_empty(),
                url: c[3].to_string(),
            },
        ));
    }
    let taken =
        |spans: &[(usize, usize, String, Value)], s: usize, e: usize| spans.iter().any(|(a, b, _, _)| s < *b && *a < e);
    for m in r.url.find_iter(&text) {
        if !taken(&spans, m.start(), m.end()) {
            spans.push((m.start(), m.end(), ph("url"), Value::Url(m.as_str().to_string())));
        }
    }
    for m in r.digest.find_iter(&text) {
        if !taken(&spans, m.start(), m.end()) {
            spans.push((m.start(), m.end(), ph("digest"), Value::Digest(m.as_str().to_string())));
        }
    }
    // Repository slots of known sentences, whatever the name's shape.
    for c in r.slot.captures_iter(&text) {
        let m = c.get(1).expect("group");
        if !taken(&spans, m.start(), m.end()) {
            spans.push((m.start(), m.end(), ph("ref"), Value::Ref(m.as_str().to_string())));
        }
    }
    // Tokens shaped like image references.
    let mut pos = 0;
    for tok in text.split(' ') {
        let (s, e) = (pos, pos + tok.len());
        pos = e + 1;
        let lead = tok.len() - tok.trim_start_matches(['"', '\'', '[', '(']).len();
        let core = tok[lead..].trim_end_matches(['"', '\'', ',', ':', ';', ')', ']', '.']);
        // `...` ends the runner's lines; a reference does not end in a dot.
        if core.is_empty() || core.starts_with('⟨') || core.contains('⟨') {
            continue;
        }
        let (cs, ce) = (s + lead, s + lead + core.len());
        if taken(&spans, cs, ce) {
            continue;
        }
        let refish = (core.contains('/')
            && core.chars().any(|c| c.is_ascii_alphabetic())
            && core.chars().all(|c| c.is_ascii_alphanumeric() || "._-/:@$".contains(c)))
            || r.name_tag.is_match(core);
        if refish {
            spans.push((cs, ce, ph("ref"), Value::Ref(core.to_string())));
        }
    }
    for m in r.ip.find_iter(&text) {
        if !taken(&spans, m.start(), m.end()) {
            spans.push((m.start(), m.end(), ph("ip"), Value::Ip(m.as_str().to_string())));
        }
    }
    for m in r.id.find_iter(&text) {
        if !taken(&spans, m.start(), m.end()) {
            spans.push((m.start(), m.end(), ph("id"), Value::Id(m.as_str().to_string())));
        }
    }
    spans.sort_by_key(|s| s.0);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e, p, v) in spans {
        out.push_str(&text[at..s]);
        out.push_str(&p);
        values.push(v);
        at = e;
    }
    out.push_str(&text[at..]);
    values.extend(site);
    Pattern { text: out, values }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_lines_keep_their_words() {
        let p = pattern(
            "WARNING: Failed to pull image with policy \"always\": Error response from daemon: pull access denied for foobar.example.net/your/project/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied (manager.go:237:0s)",
        );
        assert_eq!(
            p.text,
            // The runner's `WARNING: ` is its colour, not its words (see `pattern`).
            "Failed to pull image with policy \"always\": Error response from daemon: pull access denied for ⟨ref⟩, repository does not exist or may require 'docker login': denied: requested access to the resource is denied (⟨site⟩)"
        );
        assert_eq!(p.values[0], Value::Ref("foobar.example.net/your/project/image".into()));
        let q = pattern(
            "ERROR: Preparation failed: Error response from daemon: Get https://docker-registry.samchu.com/v2/node/manifests/10-alpine: no basic auth credentials (executor_docker.go:168:0s)",
        );
        assert_eq!(
            q.text,
            "Preparation failed: Error response from daemon: ⟨request⟩: no basic auth credentials (⟨site⟩)"
        );
        let h = pattern(
            "Head \"https://x.example/v2/a/manifests/1\": unauthorized: HTTP Basic: Access denied (manager.go:205:0s)",
        );
        assert_eq!(h.text, "⟨request⟩: unauthorized: HTTP Basic: Access denied (⟨site⟩)");
        assert_eq!(
            pattern("Using Docker executor with image alpine:latest ...").text,
            "Using Docker executor with image ⟨ref⟩ ..."
        );
        assert_eq!(pattern("[info] 123456789abc: Preparing").text, "[info] ⟨id⟩: Preparing");
        assert_eq!(pattern("  on docker-runner ckf36eMz").text, "on ⟨name⟩ ⟨token⟩");
        assert_eq!(
            pattern("[info] The push refers to repository [hoge/fuga/nyanyanya/scala]").text,
            "[info] The push refers to repository [⟨ref⟩]"
        );
        assert_eq!(pattern("Will be retried in 3s ...").text, "Will be retried in 3s ...");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for l in [
            "",
            "(",
            "(a.go:1:",
            "⟨ref⟩ x/y",
            "Get https://",
            "é/ü:1 (x.go:9:0s)",
            "on",
            "\"\"\"/",
        ] {
            let _ = pattern(l);
        }
    }
}

/// A pattern without what the runner puts after the sentence: the call site `(⟨site⟩)`, and the
/// `. Check ⟨url⟩ for more information` it appends to a failed preparation (common/build.go from
/// v13.1.0, the URL per release: versions/executors/kubernetes.rs) — a wrapper on the right, which
/// another release, executor or a copy may lack.
pub fn without_trailers(p: &str) -> &str {
    let p = p.trim_end();
    let p = p.strip_suffix("(⟨site⟩)").map(str::trim_end).unwrap_or(p);
    p.strip_suffix(". Check ⟨url⟩ for more information").unwrap_or(p)
}

/// The inner sentences of a pattern, outermost first: what follows each `: ` once the runner's
/// and the engine's wrappers are peeled off one by one (`ERROR: Job failed: failed to pull image
/// "⟨ref⟩" …: Error response from daemon: manifest for ⟨ref⟩ not found: manifest unknown: …`),
/// without the call site. Another release's wrapper, or a client that words the outer layers
/// otherwise, still says the inner ones. Only tails of three words or more count.
pub fn tails(p: &str) -> Vec<String> {
    let body = without_trailers(p);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = body[from..].find(": ") {
        let start = from + i + 2;
        let tail = body[start..].trim();
        if tail.split_whitespace().count() >= 3 {
            out.push(tail.to_string());
        }
        from = start;
    }
    out
}

#[cfg(test)]
mod tail_tests {
    #[test]
    fn tails_peel_the_wrappers() {
        let p = super::pattern(
            "ERROR: Job failed: failed to pull image \"docker:latest\" with specified policies [always]: \
             Error response from daemon: manifest for docker:latest not found: manifest unknown: manifest unknown (manager.go:251:2s)",
        );
        let t = super::tails(&p.text);
        assert!(t.iter().any(|x| x.starts_with("manifest for ⟨ref⟩ not found")), "{t:?}");
        assert!(!t.iter().any(|x| x.contains("⟨site⟩")), "{t:?}");
        assert!(!t.contains(&"manifest unknown".to_string()));
        let k = super::pattern(
            "ERROR: Job failed: prepare environment: image pull failed: toomanyrequests: You have reached your pull \
             rate limit. Check https://docs.gitlab.com/runner/shells/index.html#shell-profile-loading for more information",
        );
        let t = super::tails(&k.text);
        assert!(
            t.contains(&"toomanyrequests: You have reached your pull rate limit".to_string()),
            "{t:?}"
        );
    }
}
