//! `regsim explain`: a scenario's auth flow told step by step — each HTTP exchange the mocks
//! answered (request line, the headers that matter, status, body), each JWT decoded with the
//! granted `access` next to what was asked, and the rule behind every decision.
//! Everything comes from a real run: the journal's exchanges and the rules `policy` gave for
//! them, the engine's readings (`engine::Reading`) and the version tables; nothing is decided
//! here.

pub mod html;
pub mod jwt;
pub mod mermaid;
pub mod sequence;
pub mod text;

use crate::run::Report;
use regsim_clients::engine::Reading;
use regsim_model::scenario::Outcome;
use regsim_model::world::World;
use regsim_servers::docker_hub;
use regsim_servers::journal::{Exchange, Rule, Verdict};

pub struct Explanation {
    pub file: String,
    pub description: String,
    pub versions: String,
    /// Defaults the scenario left out and the rule that gave each (the allowlist default …).
    pub derived: Vec<String>,
    pub steps: Vec<Step>,
    /// Tokens in the order they first appear (issued or presented).
    pub tokens: Vec<Token>,
    /// How the engine read the answers and worded its error.
    pub engine: Vec<Reading>,
    /// The runner's part: which credentials it sent and where its error lines come from.
    pub runner: Vec<String>,
    /// The job log's WARNING/ERROR lines (the whole log when there are none).
    pub log_lines: Vec<String>,
    /// The causal chain, one link per part that decided, from the first refusal to the log.
    pub chain: Vec<String>,
    pub outcome: String,
}

/// One HTTP exchange.
pub struct Step {
    /// `3`, or `5.1` for a request GitLab made while answering step 5.
    pub n: String,
    /// Who sent the request: `gitlab-runner`, `dockerd` or `GitLab`.
    pub client: &'static str,
    /// `GitLab`, `registry` (GitLab's), `Docker Hub` or another registry's host.
    pub server: String,
    pub host: String,
    pub method: String,
    pub target: String,
    pub request_headers: Vec<(String, String)>,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The scopes a `/jwt/auth` request asked for.
    pub asked: Vec<String>,
    /// Token (index into `Explanation::tokens`) presented as `Authorization: Bearer`.
    pub presented: Option<usize>,
    /// Token issued in this answer's body.
    pub issued: Option<usize>,
    /// The decisions behind the answer, as `policy` took them.
    pub rules: Vec<Rule>,
    /// The mock's note: what the answer meant.
    pub note: String,
    /// Requests GitLab made upstream while answering this one (the Dependency Proxy).
    pub upstream: Vec<Step>,
}

impl Step {
    /// `GitLab (gitlab.example.com)`, or the host alone for a registry named by its host.
    pub fn server_label(&self) -> String {
        if self.server == self.host {
            self.host.clone()
        } else {
            format!("{} ({})", self.server, self.host)
        }
    }

    /// The first decision that said no.
    pub fn refusal(&self) -> Option<&Rule> {
        self.rules.iter().find(|r| r.verdict.is_no())
    }
}

pub struct Token {
    pub jwt: String,
    pub decoded: Result<jwt::Decoded, String>,
    /// What the request that got it asked for.
    pub asked: Vec<String>,
}

impl Token {
    /// The `access` claim, when the token has one (registry tokens do; proxy tokens do not).
    pub fn access(&self) -> Option<Vec<String>> {
        self.decoded.as_ref().ok().and_then(|d| d.access())
    }
}

/// The headers of an answer worth reading for auth.
const TELLING_RESPONSE_HEADERS: &[&str] = &[
    "www-authenticate",
    "content-type",
    "docker-content-digest",
    "location",
    "ratelimit-limit",
    "ratelimit-remaining",
];

pub fn explain(world: &World, r: &Report) -> Explanation {
    let mut tokens: Vec<Token> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    // GitLab records its own answer after the upstream requests it made for it.
    let mut pending_upstream: Vec<&Exchange> = Vec::new();
    for e in &r.exchange {
        if is_upstream(e) {
            pending_upstream.push(e);
            continue;
        }
        let n = steps.len() + 1;
        let mut step = step(world, e, n.to_string(), &mut tokens);
        step.upstream = pending_upstream
            .drain(..)
            .enumerate()
            .map(|(i, u)| self::step(world, u, format!("{n}.{}", i + 1), &mut tokens))
            .collect();
        steps.push(step);
    }
    // Upstream requests with no GitLab answer after them (cannot happen today) still show.
    for u in pending_upstream {
        let n = steps.len() + 1;
        steps.push(step(world, u, n.to_string(), &mut tokens));
    }

    let all_lines = crate::report::job_log_lines(r);
    let mut log_lines: Vec<String> = all_lines
        .iter()
        .filter(|l| l.starts_with("WARNING:") || l.starts_with("ERROR:") || l.contains("Error response from daemon"))
        .map(|l| l.to_string())
        .collect();
    if log_lines.is_empty() {
        log_lines = all_lines.iter().map(|l| l.to_string()).collect();
    }

    let release = &world.runner.release;
    let mut runner: Vec<String> = all_lines
        .iter()
        .filter(|l| l.starts_with("Authenticating with credentials from"))
        .map(|l| format!("the runner's credential source for the image: \"{l}\""))
        .collect();
    runner.extend(
        r.derived
            .iter()
            .filter(|d| d.starts_with("credential source ignored"))
            .cloned(),
    );
    // A retried preparation repeats its lines; each fact once.
    let mut seen = std::collections::HashSet::new();
    runner.retain(|l| seen.insert(l.clone()));
    if log_lines.iter().any(|l| l.contains("Error response from daemon")) {
        runner.push(format!(
            "gitlab-runner {} prints the daemon's error with the call site ({}:{}) of its pull; {}",
            release.version,
            release.pull_call_site.0,
            release.pull_call_site.1,
            release.sources.join(", ")
        ));
    }

    // The chain explains a failure, or an error or warning the log shows; a clean log needs none.
    let troubled = r.outcome == Outcome::Fails
        || all_lines
            .iter()
            .any(|l| l.starts_with("ERROR:") || l.starts_with("WARNING:"));
    let chain = if troubled {
        chain(&steps, &tokens, &r.engine_trail, &log_lines)
    } else {
        Vec::new()
    };
    let word = |o: Outcome| match o {
        Outcome::Succeeds => "succeeds",
        Outcome::Fails => "fails",
    };
    Explanation {
        file: r.file.clone(),
        description: r.description.clone(),
        versions: format!(
            "GitLab {} · gitlab-runner {} · {}",
            r.gitlab,
            r.runner,
            r.engine_label()
        ),
        derived: r.derived.clone(),
        steps,
        tokens,
        engine: r.engine_trail.clone(),
        runner,
        log_lines,
        chain,
        outcome: format!("{} (expected: {})", word(r.outcome), word(r.expected)),
    }
}

/// Docker Hub's side of the Dependency Proxy: GitLab is the client there.
fn is_upstream(e: &Exchange) -> bool {
    e.server == docker_hub::AUTH_HOST || e.server == docker_hub::REGISTRY_HOST
}

fn step(world: &World, e: &Exchange, n: String, tokens: &mut Vec<Token>) -> Step {
    let (client, server, host) = match e.server.as_str() {
        "gitlab" => (client_of(e), "GitLab".to_string(), world.gitlab.host.to_string()),
        "registry" => (client_of(e), "registry".to_string(), world.gitlab.registry.to_string()),
        _ if is_upstream(e) => ("GitLab", "Docker Hub".to_string(), e.server.clone()),
        other => (client_of(e), other.to_string(), other.to_string()),
    };
    let query = e.target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let asked: Vec<String> = if e.target.starts_with("/jwt/auth") || e.target.starts_with("/token?") {
        url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == "scope")
            .flat_map(|(_, v)| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    } else {
        Vec::new()
    };
    let presented = e
        .request_headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .and_then(|(_, v)| {
            v.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| &v[7..])
        })
        .and_then(|t| token_number(tokens, t.trim(), &[]));
    let body_text = String::from_utf8_lossy(&e.response.body);
    // Only token services' answers carry tokens (the job payload's `token` is the job token).
    let issued = serde_json::from_str::<serde_json::Value>(&body_text)
        .ok()
        .filter(|_| !asked.is_empty() || e.target.starts_with("/jwt/auth"))
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string))
        .and_then(|t| token_number(tokens, &t, &asked));
    // `Accept: */*` is the HTTP client's default, not a choice of the client's.
    let request_headers = e
        .request_headers
        .iter()
        .filter(|(k, v)| !(k == "accept" && v == "*/*"))
        .map(|(k, v)| match (k.as_str(), presented) {
            ("authorization", Some(t)) => (k.clone(), format!("Bearer <token #{}>", t + 1)),
            ("accept", _) if v.split(',').count() > 2 => (
                k.clone(),
                format!(
                    "{} … ({} types)",
                    v.split(',').next().unwrap_or("").trim(),
                    v.split(',').count()
                ),
            ),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let response_headers = e
        .response
        .headers
        .iter()
        .filter(|(k, _)| TELLING_RESPONSE_HEADERS.contains(&k.to_ascii_lowercase().as_str()))
        .cloned()
        .collect();
    Step {
        n,
        client,
        server,
        host,
        method: e.method.clone(),
        target: e.target.clone(),
        request_headers,
        status: e.status,
        response_headers,
        body: body_summary(e, issued),
        asked,
        presented,
        issued,
        rules: e.rules.clone(),
        note: e.note.clone(),
        upstream: Vec::new(),
    }
}

/// The runner asks GitLab for its job; everything else on GitLab's and the registries' side is
/// the Docker daemon (pulls, and the job's `docker login`/`push` through the host daemon).
fn client_of(e: &Exchange) -> &'static str {
    if e.target.starts_with("/api/v4/jobs/request") {
        "gitlab-runner"
    } else {
        "dockerd"
    }
}

/// The number of a token already seen, or a new number for one that decodes as a JWT.
/// Opaque tokens (Docker Hub's mock tokens) get no number and are shown as sent.
fn token_number(tokens: &mut Vec<Token>, raw: &str, asked: &[String]) -> Option<usize> {
    if let Some(i) = tokens.iter().position(|t| t.jwt == raw) {
        return Some(i);
    }
    jwt::decode(raw).ok().map(|_| push_token(tokens, raw, asked))
}

fn push_token(tokens: &mut Vec<Token>, raw: &str, asked: &[String]) -> usize {
    tokens.push(Token {
        jwt: raw.to_string(),
        decoded: jwt::decode(raw),
        asked: asked.to_vec(),
    });
    tokens.len() - 1
}

/// What of a body matters: a token is named, not printed; the job payload shrinks to its image
/// and registry credentials (password masked); error bodies stay whole; binary is a size.
fn body_summary(e: &Exchange, issued: Option<usize>) -> Option<String> {
    let body = &e.response.body;
    if body.is_empty() || e.method == "HEAD" {
        return None;
    }
    if let Some(n) = issued {
        return Some(format!("{{\"token\": <token #{}>, …}}", n + 1));
    }
    let text = std::str::from_utf8(body).ok();
    let json = text.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    match (json, text) {
        (Some(v), _) if e.target.starts_with("/api/v4/jobs/request") => {
            let creds: Vec<serde_json::Value> = v["credentials"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let mut c = c.clone();
                    if c.get("password").is_some() {
                        c["password"] = "•••".into();
                    }
                    c
                })
                .collect();
            Some(format!(
                "job payload: image {}, credentials {}",
                v["image"]["name"],
                serde_json::Value::Array(creds)
            ))
        }
        (Some(v), _) if v.get("errors").is_some() || v.get("message").is_some() => Some(v.to_string()),
        (Some(v), _) => Some(shorten(&v.to_string(), 160)),
        (None, Some(t)) if !t.contains('\0') => Some(shorten(t.trim_end(), 160)),
        _ => Some(format!("<{} bytes>", body.len())),
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}… ({} bytes)", s.chars().take(max).collect::<String>(), s.len())
    }
}

/// From the first refusal to the log, each link in the words of the part that made it: GitLab's
/// policy (who asked, the rule that said no), the token as issued, the server's answer, the
/// engine's sentence and the job log's last error.
fn chain(steps: &[Step], tokens: &[Token], engine: &[Reading], log_lines: &[String]) -> Vec<String> {
    let mut links = Vec::new();
    let decided = steps.iter().position(|s| s.refusal().is_some());
    if let Some(i) = decided {
        let s = &steps[i];
        links.extend(
            s.rules
                .iter()
                .filter(|r| r.verdict == Verdict::Authenticated)
                .map(|r| r.because.clone()),
        );
        for r in s.rules.iter().filter(|r| r.verdict.is_no()) {
            // A dropped action is named in the next link; a refusal names itself.
            links.push(match r.verdict {
                Verdict::Dropped => r.because.clone(),
                _ => r.to_string(),
            });
            if r.verdict == Verdict::Dropped {
                let granted = s
                    .issued
                    .and_then(|t| tokens[t].access())
                    .map(|a| format!("[{}]", a.join(" ")))
                    .unwrap_or_else(|| "[]".into());
                links.push(format!("{} dropped from the token (access granted: {granted})", r.what));
            }
        }
        if s.status >= 400 {
            links.push(format!("{} answers {}: {}", s.server, s.status, s.note));
        }
    }
    // The refusal that reached the client: an error to a request that carried credentials.
    let refused = steps.iter().enumerate().find(|(j, s)| {
        Some(*j) != decided && s.status >= 400 && s.request_headers.iter().any(|(k, _)| k == "authorization")
    });
    if let Some((_, s)) = refused {
        let link = format!("{} answers {}: {}", s.server, s.status, s.note);
        if !links.contains(&link) {
            links.push(link);
        }
    }
    // A refusal the engine made itself, before any request.
    if let Some(t) = engine.iter().find(|t| matches!(t, Reading::NoBasicCredentials)) {
        links.push(format!("the engine: {t}"));
    }
    match engine.iter().rev().find(|t| matches!(t, Reading::Translated { .. })) {
        Some(Reading::Translated { status, message, .. }) => {
            links.push(format!("the engine says HTTP {status} \"{message}\""));
        }
        _ => {
            if let Some(t) = engine.last().filter(|t| !matches!(t, Reading::NoBasicCredentials)) {
                links.push(format!("the engine: {t}"));
            }
        }
    }
    // The log's last error (or warning, or line) ends the chain.
    let last = |prefix: &str| log_lines.iter().rev().find(|l| l.starts_with(prefix));
    if let Some(l) = last("ERROR:").or_else(|| last("WARNING:")).or(log_lines.last()) {
        links.push(format!("the job log says: {l}"));
    }
    links
}
