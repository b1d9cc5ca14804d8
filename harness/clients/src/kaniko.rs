//! kaniko's executor (`/kaniko/executor --destination …`, releases in `versions::kaniko`): the
//! push-permission check it runs before building, with go-containerregistry's client ported —
//! the keychain (docker/cli's config.json reader, then Google, ECR, ACR and GitLab CI helpers),
//! the `/v2/` ping, the bearer token for `push,pull` and the upload it opens (and cancels) to see
//! whether it may push. Every request goes over real HTTP to the scenario's mocks. A check that
//! passes leads to the build, which is not simulated. Facts: clients-inside-job.md §4.

use crate::docker_cli::CliRun;
use crate::engine::tls::{Check, connect};
use regsim_model::versions::kaniko::{KanikoProfile, PUSH_CHECK_PREFIX};
use regsim_wire::NotModelled;
use regsim_wire::challenge::{Challenge, basic_authorization, parse_challenge};
use regsim_wire::net::Network;
use regsim_wire::reference::Reference;
use regsim_wire::tls::DaemonTrust;
use serde_json::Value;
use std::collections::BTreeMap;

/// What kaniko sees of the job: its environment and the files the script wrote.
pub struct JobView<'a> {
    /// The variables kaniko reads (CI_REGISTRY*, DOCKER_CONFIG, HOME).
    pub env: &'a BTreeMap<String, String>,
    pub files: &'a BTreeMap<String, String>,
}

impl JobView<'_> {
    fn var(&self, k: &str) -> Option<String> {
        self.env.get(k).cloned()
    }
}

/// A failure: kaniko's error text, or a path regsim does not model.
enum Failure {
    Text(String),
    NotModelled(NotModelled),
}

impl From<NotModelled> for Failure {
    fn from(m: NotModelled) -> Self {
        Failure::NotModelled(m)
    }
}

fn nm(why: impl Into<String>) -> Failure {
    Failure::NotModelled(NotModelled::new(why.into()))
}

/// The executor of one job.
pub struct Kaniko {
    pub profile: KanikoProfile,
    pub network: Network,
    pub trust: DaemonTrust,
}

/// Credentials the keychain found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Basic {
    username: String,
    password: String,
}

impl Kaniko {
    /// `/kaniko/executor ARGS`.
    pub async fn executor(&self, args: &[String], job: &JobView<'_>) -> Result<CliRun, NotModelled> {
        let mut destinations = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (a.as_str(), None),
            };
            let mut value = || inline.clone().or_else(|| it.next().cloned());
            match flag {
                "--context" | "-c" | "--dockerfile" | "-f" => {
                    value().ok_or_else(|| NotModelled::new(format!("{flag} without a value")))?;
                }
                "--destination" | "-d" => {
                    destinations.push(value().ok_or_else(|| NotModelled::new("--destination without a value"))?)
                }
                other => return Err(NotModelled::new(format!("the kaniko flag `{other}` is not simulated"))),
            }
        }
        if destinations.is_empty() {
            return Err(NotModelled::new(
                "kaniko without --destination (cobra's usage text) is not simulated",
            ));
        }
        let mut run = CliRun::default();
        let mut checked = Vec::new();
        for d in &destinations {
            let r = Reference::parse(d).map_err(|e| NotModelled::new(format!("--destination {d}: {e}")))?;
            if r.digest.is_some() || regsim_wire::reference::Written::split(d).domain.is_none() {
                return Err(NotModelled::new(format!(
                    "--destination {d}: only host/path[:tag] destinations are simulated"
                )));
            }
            let repo = format!("{}/{}", r.domain, r.path);
            if checked.contains(&repo) {
                continue;
            }
            let tag = format!("{repo}:{}", r.tag_or_latest());
            match self.check_push_permission(&r, job).await {
                Ok(()) => checked.push(repo),
                Err(Failure::Text(t)) => {
                    run.err(format!(
                        "{PUSH_CHECK_PREFIX}: checking push permission for {}: {t}\n",
                        crate::engine::distribution::go_quote(&tag)
                    ));
                    run.code = 1;
                    return Ok(run);
                }
                Err(Failure::NotModelled(m)) => return Err(m),
            }
        }
        Err(NotModelled::new(
            "kaniko's build after a push-permission check that passes (its log stamps each line with the \
             seconds elapsed) is not simulated",
        ))
    }

    /// ggcr `remote.CheckPushPermission`.
    async fn check_push_permission(&self, r: &Reference, job: &JobView<'_>) -> Result<(), Failure> {
        let registry = r.domain.clone();
        let auth = self.resolve(&registry, job).map_err(|f| match f {
            Failure::Text(t) => Failure::Text(format!("resolving authorization for {registry} failed: {t}")),
            other => other,
        })?;
        let scope = format!("repository:{}:push,pull", r.path);
        let mut t = Transport::new(self, &registry, auth, vec![scope])
            .await
            .map_err(|f| match f {
                Failure::Text(t) => Failure::Text(format!("creating push check transport for {registry} failed: {t}")),
                other => other,
            })?;
        let url = format!("{}://{registry}/v2/{}/blobs/uploads/", t.scheme, r.path);
        let a = t
            .round_trip("POST", &url, &[("content-type", "application/json".into())])
            .await?;
        match a.status {
            201 => Ok(()),
            202 => {
                // The check cancels the upload it opened, without waiting for the answer.
                if let Some(loc) = a.header("location") {
                    let cancel = url::Url::parse(&url).and_then(|u| u.join(&loc));
                    if let Ok(cancel) = cancel {
                        let _ = t.round_trip("DELETE", cancel.as_str(), &[]).await;
                    }
                }
                Ok(())
            }
            _ => Err(Failure::Text(transport_error("POST", &url, &a))),
        }
    }

    /// kaniko's keychain (pkg/creds/creds.go): the default keychain, then Google's, the ECR,
    /// ACR and GitLab CI helpers; the first that is not anonymous answers, an error stops it.
    fn resolve(&self, registry: &str, job: &JobView<'_>) -> Result<Option<Basic>, Failure> {
        if let Some(found) = self.default_keychain(registry, job)? {
            return Ok(Some(found));
        }
        let host = registry.split(':').next().unwrap_or(registry);
        if host.ends_with("gcr.io") || host.ends_with("pkg.dev") {
            return Err(nm(
                "Google's keychain (gcloud, application default credentials) is not simulated",
            ));
        }
        if host.contains(".dkr.ecr.") || host.ends_with(".azurecr.io") {
            return Err(nm("the ECR and ACR helpers are not simulated for kaniko"));
        }
        // docker-credential-gitlabci: only for CI_REGISTRY's host (same scheme, port ignored).
        if let Some(ci) = job.var("CI_REGISTRY") {
            let hostname = |s: &str| {
                let s = s.strip_prefix("https://").unwrap_or(s);
                let h = s.split('/').next().unwrap_or_default();
                h.rsplit_once(':')
                    .map(|(h, _)| h.to_string())
                    .unwrap_or_else(|| h.to_string())
            };
            if ci.starts_with("http://") {
                return Err(nm("a CI_REGISTRY with http:// (the GitLab helper compares schemes)"));
            }
            if !hostname(&ci).is_empty()
                && hostname(&ci) == hostname(registry)
                && let (Some(u), Some(p)) = (job.var("CI_REGISTRY_USER"), job.var("CI_REGISTRY_PASSWORD"))
            {
                return Ok(Some(Basic {
                    username: u,
                    password: p,
                }));
            }
        }
        Ok(None)
    }

    /// ggcr's `DefaultKeychain`: `$HOME/.docker/config.json` or `$DOCKER_CONFIG/config.json`
    /// tells whether a config exists; docker/cli's `config.Load($DOCKER_CONFIG)` reads it.
    fn default_keychain(&self, registry: &str, job: &JobView<'_>) -> Result<Option<Basic>, Failure> {
        let home = job.var("HOME").unwrap_or_else(|| "/root".into());
        let docker_config = job.var("DOCKER_CONFIG").unwrap_or_default();
        let join = |dir: &str| format!("{}/config.json", dir.trim_end_matches('/'));
        let found = job.files.contains_key(&join(&format!("{home}/.docker")))
            || (!docker_config.is_empty() && job.files.contains_key(&join(&docker_config)));
        if !found {
            return Ok(None);
        }
        let dir = if docker_config.is_empty() {
            format!("{home}/.docker")
        } else {
            docker_config
        };
        let filename = join(&dir);
        let Some(text) = job.files.get(&filename) else {
            return Ok(None);
        };
        let wrap = |e: String| Failure::Text(self.profile.config_parse_error.wrap(&filename, &e));
        let v: Value = serde_json::from_str(text).map_err(|e| match go_decode_error(text, &e) {
            Some(msg) => wrap(msg),
            None => nm(format!(
                "a config.json Go would refuse with words regsim does not model ({e})"
            )),
        })?;
        if v.get("credsStore").is_some() || v.get("credHelpers").is_some() {
            return Err(nm(
                "a config.json with credsStore or credHelpers (helpers in the kaniko image)",
            ));
        }
        let Some(auths) = v.get("auths").and_then(Value::as_object) else {
            return Ok(None);
        };
        let mut decoded = BTreeMap::new();
        for (key, entry) in auths {
            let basic = match entry.get("auth").and_then(Value::as_str).filter(|a| !a.is_empty()) {
                Some(auth) => decode_auth(auth).map_err(|e| match e {
                    Ok(msg) => wrap(msg),
                    Err(why) => nm(why),
                })?,
                None => Basic {
                    username: entry.get("username").and_then(Value::as_str).unwrap_or_default().into(),
                    password: entry.get("password").and_then(Value::as_str).unwrap_or_default().into(),
                },
            };
            decoded.insert(key.clone(), basic);
        }
        // docker/cli's file store: the exact key, else a key that names the host with a scheme
        // or a path (ConvertToHostname).
        let hit = decoded.get(registry).cloned().or_else(|| {
            decoded
                .iter()
                .find(|(k, _)| convert_to_hostname(k) == registry)
                .map(|(_, b)| b.clone())
        });
        Ok(hit.filter(|b| !b.username.is_empty() || !b.password.is_empty()))
    }
}

/// docker/cli `ConvertToHostname`: drop `http(s)://` and any path.
fn convert_to_hostname(key: &str) -> String {
    let stripped = key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"))
        .unwrap_or(key);
    stripped.split('/').next().unwrap_or_default().to_string()
}

/// docker/cli `decodeAuth`: Go's base64 (which skips `\r` and `\n`), then `user:password`.
/// `Err(Ok(text))` is Go's error text, `Err(Err(why))` a case not modelled.
fn decode_auth(auth: &str) -> Result<Basic, Result<String, String>> {
    use base64::Engine as _;
    let cleaned: String = auth.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| {
            Err(format!(
                "an auth value Go's base64 refuses ({e}); its offset is not modelled"
            ))
        })?;
    let s = String::from_utf8_lossy(&bytes).into_owned();
    match s.split_once(':') {
        Some((u, p)) if !u.is_empty() => Ok(Basic {
            username: u.to_string(),
            password: p.trim_matches('\0').to_string(),
        }),
        _ => Err(Ok("Invalid auth configuration file".into())),
    }
}

/// Go's `encoding/json` error for the config.json mistakes a shell makes: a raw control
/// character inside a string (a wrapped base64 value) reads `invalid character '\n' in string
/// literal`.
fn go_decode_error(text: &str, e: &serde_json::Error) -> Option<String> {
    if e.classify() != serde_json::error::Category::Syntax {
        return None;
    }
    // serde_json points just past the offending character for a control character in a string.
    let msg = e.to_string();
    if msg.starts_with("control character (\\u0000-\\u001F) found while parsing a string") {
        // Which control character: the first one inside a string.
        let mut in_string = false;
        let mut escaped = false;
        for c in text.chars() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                } else if (c as u32) < 0x20 {
                    let quoted = match c {
                        '\n' => "'\\n'".to_string(),
                        '\t' => "'\\t'".to_string(),
                        '\r' => "'\\r'".to_string(),
                        c => format!("'\\x{:02x}'", c as u32),
                    };
                    return Some(format!("invalid character {quoted} in string literal"));
                }
            } else if c == '"' {
                in_string = true;
            }
        }
    }
    None
}

/// An answer, as the client reads it.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
    fn challenges(&self) -> Vec<Challenge> {
        self.headers
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|h| parse_challenge(h).ok())
            .collect()
    }
}

/// ggcr's `transport.Error` text for an answer: `METHOD URL: ` + the registry's error.
fn transport_error(method: &str, url: &str, a: &Answer) -> String {
    format!("{method} {}: {}", redacted(url), response_error(method, a))
}

/// ggcr `redact.URL`: query values other than scope, service, mount, from, digest, n and last
/// become `REDACTED`; the query is re-encoded (keys sorted).
fn redacted(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return url.to_string();
    };
    if u.query().is_none() {
        return url.to_string();
    }
    let keep = ["scope", "service", "mount", "from", "digest", "n", "last"];
    let mut pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let v = if keep.contains(&k.as_ref()) {
                v.into_owned()
            } else {
                "REDACTED".into()
            };
            (k.into_owned(), v)
        })
        .collect();
    // url.Values.Encode: keys sorted, values in order.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

/// `Error.responseErr`.
fn response_error(method: &str, a: &Answer) -> String {
    let status_text = reqwest::StatusCode::from_u16(a.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let raw = String::from_utf8_lossy(&a.body).into_owned();
    let diagnostics: Vec<Value> = serde_json::from_slice::<Value>(&a.body)
        .ok()
        .and_then(|v| v.get("errors").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    match diagnostics.len() {
        0 if raw.is_empty() && method == "HEAD" => format!(
            "unexpected status code {} {status_text} (HEAD responses have no body, use GET for details)",
            a.status
        ),
        0 if raw.is_empty() => format!("unexpected status code {} {status_text}", a.status),
        0 => format!("unexpected status code {} {status_text}: {raw}", a.status),
        1 => diagnostic(&diagnostics[0]),
        _ => format!(
            "multiple errors returned: {}",
            diagnostics.iter().map(diagnostic).collect::<Vec<_>>().join("; ")
        ),
    }
}

/// `Diagnostic.String`: `CODE: message`, then `; DETAIL` printed with Go's `%v`.
fn diagnostic(d: &Value) -> String {
    let code = d.get("code").and_then(Value::as_str).unwrap_or_default();
    let message = d.get("message").and_then(Value::as_str).unwrap_or_default();
    let mut s = format!("{code}: {message}");
    if let Some(detail) = d.get("detail").filter(|v| !v.is_null()) {
        s.push_str("; ");
        s.push_str(&go_v(detail));
    }
    s
}

/// Go's `%v` of a value `encoding/json` decoded into `any`: maps with sorted keys as
/// `map[k:v …]`, slices as `[a b]`, strings bare, whole numbers below 10⁶ as integers.
pub fn go_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            // %v of a float64 is %g with the shortest digits: exponent form from 1e+06.
            Some(f) if f.fract() == 0.0 && f.abs() < 1e6 => format!("{}", f as i64),
            _ => format!("{n}"),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_v).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            format!(
                "map[{}]",
                keys.iter()
                    .map(|k| format!("{k}:{}", go_v(&m[k.as_str()])))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
    }
}

/// ggcr's transport for one registry: ping, then bearer (or basic) auth.
struct Transport<'k> {
    kaniko: &'k Kaniko,
    registry: String,
    scheme: &'static str,
    auth: Option<Basic>,
    /// `None` for a basic (or no) challenge.
    bearer: Option<Bearer>,
}

struct Bearer {
    realm: String,
    service: String,
    scopes: Vec<String>,
    token: String,
}

impl<'k> Transport<'k> {
    /// `transport.NewWithContext`: the ping (https; http too for loopback and private
    /// addresses, `Registry.Scheme`), then a token for `scopes` at once.
    async fn new(
        kaniko: &'k Kaniko,
        registry: &str,
        auth: Option<Basic>,
        scopes: Vec<String>,
    ) -> Result<Self, Failure> {
        let mut t = Transport {
            kaniko,
            registry: registry.to_string(),
            scheme: "https",
            auth,
            bearer: None,
        };
        let http_allowed = crate::containers_image::is_loopback(registry) || registry.starts_with("localhost:");
        let ping = match t.send("GET", &format!("https://{registry}/v2/"), &[], false).await {
            Ok(a) => a,
            Err(_) if http_allowed => {
                t.scheme = "http";
                t.send("GET", &format!("http://{registry}/v2/"), &[], false).await?
            }
            Err(e) => return Err(e),
        };
        match ping.status {
            200 => return Ok(t),
            401 => {}
            s => {
                return Err(nm(format!(
                    "a /v2/ ping answered {s}; ggcr's text for it is not modelled"
                )));
            }
        }
        let challenges = ping.challenges();
        let pick = challenges
            .iter()
            .find(|c| c.scheme == "basic" || c.scheme == "bearer")
            .or(challenges.first());
        match pick {
            Some(c) if c.scheme == "bearer" => {
                let realm = c
                    .params
                    .get("realm")
                    .cloned()
                    .ok_or_else(|| nm("a bearer challenge without a realm"))?;
                t.bearer = Some(Bearer {
                    realm,
                    service: c.params.get("service").cloned().unwrap_or_default(),
                    scopes,
                    token: String::new(),
                });
                t.refresh().await?;
                Ok(t)
            }
            _ => Ok(t),
        }
    }

    /// `bearerTransport.refreshBasic`: GET the realm with the scopes and service, Basic auth
    /// when there are credentials.
    async fn refresh(&mut self) -> Result<(), Failure> {
        let b = self.bearer.as_ref().expect("a bearer transport");
        let mut u = url::Url::parse(&b.realm).map_err(|e| nm(format!("realm {:?}: {e}", b.realm)))?;
        let mut pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "scope" && k != "service")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.extend(b.scopes.iter().map(|s| ("scope".to_string(), s.clone())));
        pairs.push(("service".into(), b.service.clone()));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        u.query_pairs_mut().clear().extend_pairs(pairs);
        let mut headers = Vec::new();
        if let Some(a) = &self.auth {
            headers.push(("authorization", basic_authorization(&a.username, &a.password)));
        }
        let a = self.send("GET", u.as_str(), &headers, false).await?;
        if a.status != 200 {
            return Err(Failure::Text(transport_error("GET", u.as_str(), &a)));
        }
        let v: Value =
            serde_json::from_slice(&a.body).map_err(|e| nm(format!("a token answer that is not JSON: {e}")))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .or_else(|| v.get("token").and_then(Value::as_str))
            .unwrap_or_default();
        if token.is_empty() {
            return Err(nm("a token answer without a token (ggcr prints the whole answer)"));
        }
        self.bearer.as_mut().expect("bearer").token = token.to_string();
        Ok(())
    }

    /// `bearerTransport.RoundTrip`: with the token; an answer that carries a challenge adds the
    /// scopes it names, refreshes the token and is sent once more.
    async fn round_trip(&mut self, method: &str, url: &str, headers: &[(&str, String)]) -> Result<Answer, Failure> {
        let a = self.send(method, url, headers, true).await?;
        let challenges = a.challenges();
        if self.bearer.is_none() || challenges.is_empty() {
            return Ok(a);
        }
        let b = self.bearer.as_mut().expect("bearer");
        let mut new: Vec<String> = challenges
            .iter()
            .filter_map(|c| c.params.get("scope").cloned())
            .filter(|s| !b.scopes.contains(s))
            .collect();
        new.extend(b.scopes.iter().cloned());
        b.scopes = new;
        if let Err(e) = self.refresh().await {
            // http.Client wraps the transport's error as a *url.Error.
            return Err(match e {
                Failure::Text(t) => Failure::Text(format!(
                    "{} {}: {t}",
                    go_method(method),
                    crate::engine::distribution::go_quote(url)
                )),
                other => other,
            });
        }
        self.send(method, url, headers, true).await
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        authorize: bool,
    ) -> Result<Answer, Failure> {
        let parsed = url::Url::parse(url).map_err(|e| nm(format!("{url}: {e}")))?;
        let target = crate::http::target(&self.kaniko.network, &parsed);
        let Some(addr) = target.addr else {
            return Err(nm(format!(
                "kaniko reaches for {}:{}, which no server of this scenario answers",
                target.host, target.port
            )));
        };
        let mut all: Vec<(&str, String)> = vec![
            ("host", target.host_header.clone()),
            ("user-agent", format!("kaniko/v{}", self.kaniko.profile.version)),
        ];
        if authorize && target.host_header == self.registry {
            match (&self.bearer, &self.auth) {
                (Some(b), _) => all.push(("authorization", format!("Bearer {}", b.token))),
                (None, Some(a)) => {
                    all.push(("authorization", basic_authorization(&a.username, &a.password)));
                }
                (None, None) => {}
            }
        }
        all.extend(headers.iter().cloned());
        let result = if parsed.scheme() == "https" {
            let check = Check {
                roots: Some(self.kaniko.trust.system_roots.clone()),
                now: self.kaniko.trust.now,
            };
            match connect(addr, &target.host, &check).await {
                Ok(s) => crate::http::send_on(s, method, &target.path, &all, Vec::new()).await,
                Err(f) => {
                    // A loopback registry's plain HTTP sends the ping to http (see `new`); other
                    // TLS failures are not worded for kaniko.
                    return Err(nm(format!(
                        "a TLS failure ({}): kaniko's wording is not modelled",
                        f.verdict()
                    )));
                }
            }
        } else {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| nm(format!("regsim: dialling the mock failed: {e}")))?;
            crate::http::send_on(stream, method, &target.path, &all, Vec::new()).await
        };
        let (status, headers, body) = result.map_err(|e| nm(format!("regsim: request to the mock failed: {e}")))?;
        Ok(Answer {
            status: status.as_u16(),
            headers,
            body,
        })
    }
}

fn go_method(m: &str) -> String {
    let lower = m.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_v_prints_detail_as_go_does() {
        let d: Value = serde_json::from_str(
            r#"[{"Type":"repository","Class":"","Name":"g/app","Action":"pull"},{"Type":"repository","Class":"","Name":"g/app","Action":"push"}]"#,
        )
        .unwrap();
        assert_eq!(
            go_v(&d),
            "[map[Action:pull Class: Name:g/app Type:repository] map[Action:push Class: Name:g/app Type:repository]]"
        );
    }

    #[test]
    fn a_wrapped_base64_value_breaks_the_json() {
        let text = "{\"auths\":{\"r\":{\"auth\":\"abc\ndef\"}}}\n";
        let e = serde_json::from_str::<Value>(text).unwrap_err();
        assert_eq!(
            go_decode_error(text, &e).as_deref(),
            Some("invalid character '\\n' in string literal")
        );
    }

    #[test]
    fn redaction_keeps_scope_and_service() {
        assert_eq!(
            redacted(
                "https://g.example.com/jwt/auth?service=container_registry&scope=repository%3Ag%2Fa%3Apush%2Cpull&x=1"
            ),
            "https://g.example.com/jwt/auth?scope=repository%3Ag%2Fa%3Apush%2Cpull&service=container_registry&x=REDACTED"
        );
    }
}
