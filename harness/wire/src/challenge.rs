//! `WWW-Authenticate` challenges: as servers write them (distribution's token and htpasswd access
//! controllers, GitLab's Dependency Proxy, Docker Hub) and as Docker's client parses them
//! (docker/distribution `registry/client/auth/challenge`): a scheme and comma-separated
//! `key="value"` parameters.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lower-cased scheme (`bearer`, `basic`).
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChallengeError(pub String);

/// The `error` parameter of a bearer challenge (RFC 6750 §3.1, as distribution's token access
/// controller sets it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    InvalidToken,
    InsufficientScope,
}

impl BearerError {
    pub fn as_str(self) -> &'static str {
        match self {
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
        }
    }
}

/// A challenge as a server writes it: `Scheme k="v",k="v"`, no blanks after the commas, every
/// value quoted, the parameters in the order given.
pub fn render(scheme: &str, params: &[(&str, &str)]) -> String {
    let params: Vec<String> = params.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{scheme} {}", params.join(","))
}

/// distribution's token challenge: `Bearer realm="R",service="S"[,scope="…"][,error="…"]`.
pub fn bearer(realm: &str, service: &str, scope: Option<&str>, error: Option<BearerError>) -> String {
    let mut params = vec![("realm", realm), ("service", service)];
    if let Some(s) = scope {
        params.push(("scope", s));
    }
    if let Some(e) = error {
        params.push(("error", e.as_str()));
    }
    render("Bearer", &params)
}

/// Parses one challenge header value.
pub fn parse_challenge(header: &str) -> Result<Challenge, ChallengeError> {
    let h = header.trim();
    let (scheme, mut rest) = match h.find(' ') {
        Some(i) => (&h[..i], h[i + 1..].trim_start()),
        None => (h, ""),
    };
    if scheme.is_empty() {
        return Err(ChallengeError(format!("no scheme in {header:?}")));
    }
    let mut params = BTreeMap::new();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| ChallengeError(format!("parameter without value in {header:?}")))?;
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = &rest[eq + 1..];
        let value;
        if let Some(r) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = r.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            out.push(n);
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => out.push(c),
                }
            }
            let end = end.ok_or_else(|| ChallengeError(format!("unterminated quote in {header:?}")))?;
            value = out;
            rest = &r[end + 1..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        params.insert(key, value);
        rest = rest.trim_start().trim_start_matches(',').trim_start();
    }
    Ok(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

/// An `Authorization: Basic …` value (Go's `Request.SetBasicAuth`).
pub fn basic_authorization(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The user and password of an `Authorization: Basic …` header (`None` for another scheme or
/// bytes that are not base64); a value without `:` is all user, as Go's `BasicAuth` reads it.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    header.get(..6).filter(|s| s.eq_ignore_ascii_case("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(header[6..].trim())
        .ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    Some(match text.split_once(':') {
        Some((u, p)) => (u.to_string(), p.to_string()),
        None => (text, String::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gitlab_registry_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",scope="repository:a/b:pull",error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://gitlab.example.com/jwt/auth");
        assert_eq!(c.params["error"], "insufficient_scope");
        let b = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(b.scheme, "basic");
        assert!(parse_challenge(r#"Bearer realm="x"#).is_err());
        let written = bearer(
            "https://g/jwt/auth",
            "container_registry",
            Some("repository:a/b:pull"),
            Some(BearerError::InsufficientScope),
        );
        assert_eq!(
            written,
            r#"Bearer realm="https://g/jwt/auth",service="container_registry",scope="repository:a/b:pull",error="insufficient_scope""#
        );
        assert_eq!(parse_challenge(&written).unwrap().params["error"], "insufficient_scope");
    }

    #[test]
    fn basic_headers_read_as_go_reads_them() {
        assert_eq!(
            basic_credentials("Basic Y2k6Q2ktUGE1NXdvcmQ="),
            Some(("ci".into(), "Ci-Pa55word".into()))
        );
        assert_eq!(basic_credentials("bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }
}
