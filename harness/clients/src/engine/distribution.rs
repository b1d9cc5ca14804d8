//! The registry client errors vendored into dockerd (docker/distribution `registry/client`,
//! `registry/api/errcode`) and the text Go prints for each. Facts: docker-errors.md §1.1–1.4.

use regsim_model::versions::docker::{EngineProfile, ErrorBodyParsing};
use regsim_wire::challenge::parse_challenge;
use regsim_wire::errcode::ErrorCode;

/// An error value inside dockerd's registry client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// `errcode.Error`: a code with a message (what a body with detail or a custom message gives).
    Coded { code: ErrorCode, message: String },
    /// `errcode.ErrorCode`: a bare code (no detail and the default message): prints the code only.
    Bare { code: ErrorCode },
    /// `errcode.Errors`: several.
    Errors(Vec<ClientError>),
    /// `UnexpectedHTTPResponseError`: the body did not parse.
    UnexpectedResponse {
        status: u16,
        parse_error: String,
        body: String,
    },
    /// `UnexpectedHTTPStatusError`: outside 400–499.
    UnexpectedStatus { status_line: String },
    /// `*url.Error`: a failure inside the round trip (token fetch, basic credentials).
    Url {
        op: &'static str,
        url: String,
        inner: Box<ClientError>,
    },
    /// A plain Go error (`no basic auth credentials`, …).
    Plain(String),
}

impl ClientError {
    pub fn render(&self, quoted_urls: bool) -> String {
        match self {
            ClientError::Coded { code, message } => format!("{}: {message}", code.words()),
            ClientError::Bare { code } => code.words(),
            ClientError::Errors(v) => match v.len() {
                0 => "<nil>".into(),
                1 => v[0].render(quoted_urls),
                _ => {
                    let mut s = "errors:\n".to_string();
                    for e in v {
                        s.push_str(&e.render(quoted_urls));
                        s.push('\n');
                    }
                    s
                }
            },
            ClientError::UnexpectedResponse {
                status,
                parse_error,
                body,
            } => {
                format!(
                    "error parsing HTTP {status} response body: {parse_error}: {}",
                    go_quote(body)
                )
            }
            ClientError::UnexpectedStatus { status_line } => format!("received unexpected HTTP status: {status_line}"),
            ClientError::Url { op, url, inner } => {
                if quoted_urls {
                    format!("{op} {}: {}", go_quote(url), inner.render(quoted_urls))
                } else {
                    format!("{op} {url}: {}", inner.render(quoted_urls))
                }
            }
            ClientError::Plain(s) => s.clone(),
        }
    }

    /// The first error, as the pull translator looks at it (`Errors[0]`).
    pub fn first(&self) -> &ClientError {
        match self {
            ClientError::Errors(v) if !v.is_empty() => v[0].first(),
            other => other,
        }
    }
}

/// A code as the client reads it: one it knows, else `UNKNOWN`.
fn canonical_code(code: &str) -> ErrorCode {
    ErrorCode::parse(code).unwrap_or(ErrorCode::Unknown)
}

/// A response as the client sees it.
pub struct HttpResponse<'a> {
    pub status: u16,
    pub status_line: String,
    pub content_type: Option<&'a str>,
    pub www_authenticate: Vec<&'a str>,
    pub body: &'a [u8],
}

/// `client.HandleErrorResponse` for the engine's vendored distribution version.
pub fn handle_error_response(r: &HttpResponse<'_>, profile: &EngineProfile) -> ClientError {
    handle_error_response_why(r, profile).0
}

/// `handle_error_response`, with the branch it took in words (for `regsim explain`).
pub fn handle_error_response_why(r: &HttpResponse<'_>, profile: &EngineProfile) -> (ClientError, String) {
    handle_error_response_vendored(r, profile.error_body, profile.quoted_urls)
}

/// `handleErrorResponse` of the distribution copy `error_body` names (dockerd's vendored one, or
/// the copy containers/image keeps in docker/distribution_error.go); `quoted_urls` only words
/// the explanation.
pub fn handle_error_response_vendored(
    r: &HttpResponse<'_>,
    error_body: ErrorBodyParsing,
    quoted_urls: bool,
) -> (ClientError, String) {
    if !(400..500).contains(&r.status) {
        let e = ClientError::UnexpectedStatus {
            status_line: r.status_line.clone(),
        };
        let why = format!("HTTP {} is outside 400–499: UnexpectedHTTPStatusError", r.status);
        return (e, why);
    }
    // OAuth errors in the challenge come first (RFC 6750 §3.1).
    for h in &r.www_authenticate {
        let Ok(c) = parse_challenge(h) else { continue };
        if c.scheme != "bearer" {
            continue;
        }
        let code = match c.params.get("error").map(String::as_str) {
            Some("invalid_token") => ErrorCode::Unauthorized,
            Some("insufficient_scope") => ErrorCode::Denied,
            _ => continue,
        };
        let message = c
            .params
            .get("error_description")
            .filter(|d| !d.is_empty())
            .cloned()
            .unwrap_or_else(|| code.message().into());
        let first = ClientError::Coded { code, message };
        let why = format!(
            "the challenge's error=\"{}\" comes before the body (RFC 6750 §3.1): errcode {code}, \"{}\" (docker-errors.md §1.2)",
            c.params.get("error").map(String::as_str).unwrap_or(""),
            first.render(quoted_urls)
        );
        let mut all = vec![first];
        match parse_body(r, error_body) {
            ClientError::Errors(v) => all.extend(v),
            other => all.push(other),
        }
        return (ClientError::Errors(all), why);
    }
    let err = parse_body(r, error_body);
    if r.status == 401
        && let ClientError::UnexpectedResponse { .. } = err
    {
        let e = ClientError::Coded {
            code: ErrorCode::Unauthorized,
            message: ErrorCode::Unauthorized.message().into(),
        };
        let why = "a 401 whose body does not parse reads as errcode UNAUTHORIZED, \"authentication required\" (docker-errors.md §1.2)".to_string();
        return (e, why);
    }
    let why = format!(
        "the body reads as \"{}\" ({:?} parsing; docker-errors.md §1.2)",
        err.first().render(quoted_urls),
        error_body
    );
    (err, why)
}

/// `parseHTTPErrorResponse`, per vendored distribution version (docker-errors.md §1.2).
fn parse_body(r: &HttpResponse<'_>, error_body: ErrorBodyParsing) -> ClientError {
    let body = String::from_utf8_lossy(r.body).into_owned();
    if error_body == ErrorBodyParsing::Distribution283 {
        let json_type = r
            .content_type
            .and_then(|ct| ct.split(';').next())
            .map(|m| {
                m.trim().eq_ignore_ascii_case("application/json")
                    || m.trim().eq_ignore_ascii_case("application/vnd.api+json")
            })
            .unwrap_or(false);
        if !json_type {
            let code = match r.status {
                401 => ErrorCode::Unauthorized,
                403 => ErrorCode::Denied,
                429 => ErrorCode::TooManyRequests,
                _ => ErrorCode::Unknown,
            };
            return ClientError::Coded { code, message: body };
        }
    }
    // Legacy `{"details": "…"}` bodies.
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&body)
        && let Some(d) = v.get("details").and_then(|d| d.as_str()).filter(|d| !d.is_empty())
    {
        let code = match r.status {
            401 => ErrorCode::Unauthorized,
            429 => ErrorCode::TooManyRequests,
            403 if error_body != ErrorBodyParsing::Distribution281 => ErrorCode::Denied,
            _ => ErrorCode::Unknown,
        };
        return ClientError::Coded {
            code,
            message: d.into(),
        };
    }
    match parse_errors_json(&body) {
        Ok(errs) if !errs.is_empty() => ClientError::Errors(errs),
        Ok(_) => ClientError::UnexpectedResponse {
            status: r.status,
            parse_error: "no error details found in HTTP response body".into(),
            body,
        },
        Err(e) => ClientError::UnexpectedResponse {
            status: r.status,
            parse_error: e,
            body,
        },
    }
}

/// `errcode.Errors.UnmarshalJSON`, with its collapse rule.
fn parse_errors_json(body: &str) -> Result<Vec<ClientError>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| go_json_error(body, &e))?;
    let entries = v.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
    Ok(entries
        .iter()
        .map(|e| {
            let raw_code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
            let code = canonical_code(raw_code);
            let default = code.message();
            let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("").to_string();
            let detail = e.get("detail").filter(|d| !d.is_null());
            if detail.is_none() && (message.is_empty() || message == default) {
                ClientError::Bare { code }
            } else {
                ClientError::Coded { code, message }
            }
        })
        .collect())
}

/// The text of Go's `encoding/json` error for the bodies a registry realistically sends.
pub(crate) fn go_json_error(body: &str, e: &serde_json::Error) -> String {
    let trimmed = body.trim_start();
    match trimmed.chars().next() {
        None => "unexpected end of JSON input".into(),
        Some(c) if !"{[\"tfn-0123456789".contains(c) => {
            format!("invalid character {} looking for beginning of value", go_quote_char(c))
        }
        _ if e.is_eof() => "unexpected end of JSON input".into(),
        _ => {
            // A valid value followed by more text, e.g. `404 page not found`.
            let after = e.column().saturating_sub(1);
            let c = body
                .lines()
                .nth(e.line().saturating_sub(1))
                .and_then(|l| l.chars().nth(after))
                .unwrap_or(' ');
            format!("invalid character {} after top-level value", go_quote_char(c))
        }
    }
}

fn go_quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        c if c.is_control() => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

/// Go's `strconv.Quote` (`%q`) for the strings that appear in these errors.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use regsim_model::versions::docker::{ImageStore, profile};
    use regsim_model::versions::v;

    fn resp<'a>(status: u16, ct: Option<&'a str>, challenge: Vec<&'a str>, body: &'a str) -> HttpResponse<'a> {
        HttpResponse {
            status,
            status_line: format!("{status} X"),
            content_type: ct,
            www_authenticate: challenge,
            body: body.as_bytes(),
        }
    }

    #[test]
    fn observed_twenty_ten_texts() {
        // docker-errors.md §7, observed on dockerd 20.10.24.
        let p = profile(&v(20, 10, 24), ImageStore::Graphdriver).unwrap();
        let json = Some("application/json");
        let r = |s, ct, ch, b| handle_error_response(&resp(s, ct, ch, b), &p).first().render(true);
        assert_eq!(
            r(
                401,
                json,
                vec![r#"Bearer realm="x",service="y",error="insufficient_scope""#],
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[]}]}"#
            ),
            "denied: requested access to the resource is denied"
        );
        assert_eq!(
            r(
                401,
                json,
                vec![],
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#
            ),
            "unauthorized"
        );
        assert_eq!(
            r(
                401,
                json,
                vec![],
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"HTTP Basic: Access denied"}]}"#
            ),
            "unauthorized: HTTP Basic: Access denied"
        );
        assert_eq!(
            r(
                403,
                json,
                vec![],
                r#"{"errors":[{"code":"DENIED","message":"access forbidden"}],"http_status":403}"#
            ),
            "denied: access forbidden"
        );
        assert_eq!(
            r(401, Some("text/plain"), vec![], "HTTP Basic: Access denied"),
            "unauthorized: authentication required"
        );
        assert_eq!(
            r(404, None, vec![], ""),
            "error parsing HTTP 404 response body: unexpected end of JSON input: \"\""
        );
        assert_eq!(
            r(404, Some("text/plain"), vec![], "404 page not found\n"),
            "error parsing HTTP 404 response body: invalid character 'p' after top-level value: \"404 page not found\\n\""
        );
        assert_eq!(
            r(
                403,
                Some("text/html"),
                vec![],
                "<html><body><h1>403 Forbidden</h1></body></html>"
            ),
            "error parsing HTTP 403 response body: invalid character '<' looking for beginning of value: \"<html><body><h1>403 Forbidden</h1></body></html>\""
        );
        assert_eq!(
            r(401, json, vec![], r#"{"details":"incorrect username or password"}"#),
            "unauthorized: incorrect username or password"
        );
        assert_eq!(
            handle_error_response(&resp(500, None, vec![], ""), &p).render(true),
            "received unexpected HTTP status: 500 X"
        );
    }

    #[test]
    fn twenty_five_reads_content_type_first() {
        let p = profile(&v(25, 0, 0), ImageStore::Graphdriver).unwrap();
        let e = handle_error_response(&resp(401, Some("text/plain"), vec![], "HTTP Basic: Access denied"), &p);
        assert_eq!(e.render(true), "unauthorized: HTTP Basic: Access denied");
        let e = handle_error_response(&resp(404, None, vec![], ""), &p);
        assert_eq!(e.render(true), "unknown: ");
    }
}
