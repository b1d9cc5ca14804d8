//! docker/distribution's htpasswd access controller (upstream v2.8,
//! `registry/auth/htpasswd/access.go`): Basic credentials checked against the file's users, a
//! `Basic realm` challenge otherwise.

use super::{AccessController, AccessRecord, Challenge};
use base64::Engine as _;
use std::collections::BTreeMap;

pub struct Htpasswd {
    pub realm: String,
    /// User → password (the file's bcrypt hashes are beside the point here).
    pub users: BTreeMap<String, String>,
}

impl AccessController for Htpasswd {
    fn authorized(&self, authorization: Option<&str>, _: &[AccessRecord<'_>]) -> Result<(), Challenge> {
        let given = authorization
            .filter(|h| h.len() > 6 && h[..6].eq_ignore_ascii_case("basic "))
            .and_then(|h| base64::engine::general_purpose::STANDARD.decode(h[6..].trim()).ok())
            .map(|raw| String::from_utf8_lossy(&raw).into_owned());
        let note = match given.as_deref().and_then(|g| g.split_once(':')) {
            Some((u, p)) if self.users.get(u).is_some_and(|want| want == p) => return Ok(()),
            Some((u, _)) if self.users.contains_key(u) => format!("wrong password for {u}"),
            Some((u, _)) => format!("no htpasswd user {u}"),
            None => "no basic credentials: challenge".to_string(),
        };
        Err(Challenge {
            www_authenticate: format!("Basic realm=\"{}\"", self.realm),
            note,
            refusal: None,
        })
    }
}
