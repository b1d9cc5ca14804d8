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
    let mut claims = part(parts[1], "claims")?;
    // The Dependency Proxy's token carries the raw token it speaks for (gitlab-rails.md §5.2):
    // a secret the user typed into the scenario, shown masked.
    for field in ["personal_access_token", "deploy_token", "group_access_token"] {
        if let Some(v) = claims.get_mut(field)
            && let Some(s) = v.as_str()
        {
            *v = regsim_wire::secret::masked(s).into();
        }
    }
    Ok(Decoded {
        header: part(parts[0], "header")?,
        claims,
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
        // {"user_id":1,"personal_access_token":"glpat-secret-value"}
        let with_pat =
            super::decode("e30.eyJ1c2VyX2lkIjoxLCJwZXJzb25hbF9hY2Nlc3NfdG9rZW4iOiJnbHBhdC1zZWNyZXQtdmFsdWUifQ.s")
                .unwrap();
        assert!(
            !with_pat.claims.to_string().contains("secret-value"),
            "{}",
            with_pat.claims
        );
    }
}
