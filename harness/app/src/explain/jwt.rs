//! A registry JWT taken apart for reading: header and claims as JSON. No verification here —
//! the mock registry verified it (or refused it) and its answer is in the exchange.

use base64::Engine as _;

#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
}

pub fn decode(jwt: &str) -> Result<Decoded, String> {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    if parts.len() != 3 {
        return Err(format!("not a JWT: {} parts", parts.len()));
    }
    let part = |s: &str, what: &str| -> Result<serde_json::Value, String> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|e| format!("JWT {what} is not base64url: {e}"))?;
        serde_json::from_slice(&raw).map_err(|e| format!("JWT {what} is not JSON: {e}"))
    };
    Ok(Decoded {
        header: part(parts[0], "header")?,
        claims: part(parts[1], "claims")?,
    })
}

impl Decoded {
    /// The `access` claim as `type:name:actions` entries; `None` when the token has no such
    /// claim (the Dependency Proxy's tokens).
    pub fn access(&self) -> Option<Vec<String>> {
        let access = self.claims.get("access")?.as_array()?;
        let entries = access
            .iter()
            .map(|a| {
                let actions: Vec<&str> = a["actions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str())
                    .collect();
                format!(
                    "{}:{}:{}",
                    a["type"].as_str().unwrap_or("?"),
                    a["name"].as_str().unwrap_or("?"),
                    actions.join(",")
                )
            })
            .collect();
        Some(entries)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn broken_tokens_are_errors_not_panics() {
        assert!(super::decode("a.b").is_err());
        assert!(super::decode("!!.e30.x").is_err());
        let d = super::decode("eyJhbGciOiJSUzI1NiJ9.eyJhY2Nlc3MiOltdfQ.sig").unwrap();
        assert_eq!(d.header["alg"], "RS256");
        assert_eq!(d.access(), Some(vec![]));
        let proxy = super::decode("eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.sig").unwrap();
        assert_eq!(proxy.access(), None);
    }
}
