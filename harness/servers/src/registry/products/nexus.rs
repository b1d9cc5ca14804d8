//! Sonatype Nexus Repository's Docker connector with the Docker Bearer Token Realm. Closed
//! source: the realm `/v2/token` with the service equal to the realm, and distribution 2.1's old
//! UNAUTHORIZED message with `"detail":null`, are UNCONFIRMED reconstructions; the message is what
//! a Docker CLI printed against a self-hosted Nexus in gitlab-runner#38909
//! (docs/research/registries-identities.md §3).

use super::{ProductTexts, Refused, errors_body};
use crate::registry::access::{Challenge, Refusal, scope_of};
use regsim_wire::challenge::bearer;

pub struct Nexus;

const MESSAGE: &str = "access to the requested resource is not authorized";

fn refusal() -> Refusal {
    Refusal {
        status: 401,
        content_type: "application/json",
        not_modelled: None,
        body: errors_body("UNAUTHORIZED", MESSAGE, Some("null"), false),
    }
}

impl ProductTexts for Nexus {
    fn token_path(&self) -> &'static str {
        "/v2/token"
    }

    fn service(&self, realm: &str, _: &str) -> String {
        realm.to_string()
    }

    fn refusal(&self, r: &Refused<'_>) -> Challenge {
        let scope = scope_of(r.records);
        Challenge {
            www_authenticate: bearer(r.realm, r.service, scope.as_deref(), None),
            note: format!("{MESSAGE} ({})", self.source()),
            refusal: Some(refusal()),
        }
    }

    /// UNCONFIRMED: the token endpoint refuses wrong credentials with the same body.
    fn wrong_login(&self) -> Option<Refusal> {
        Some(refusal())
    }

    fn source(&self) -> &'static str {
        "Nexus Docker connector, UNCONFIRMED reconstruction (registries-identities.md §3)"
    }
}
