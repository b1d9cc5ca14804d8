//! Quay (quay/quay v3.18.0): every 401 carries `Bearer realm="<app>/v2/auth",service="<host>"`
//! and the scope, never an `error=` parameter (`auth/registry_jwt_auth.py:70-84`); its error
//! JSON always has a `detail` object (`endpoints/v2/errors.py:24-30`), and `Unauthorized` is
//! UNAUTHORIZED, `access to the requested resource is not authorized` (`errors.py:170-179`).
//! Bad credentials at `/v2/auth` raise `InvalidLogin`; its texts are UNCONFIRMED
//! (docs/research/registries-identities.md §4.1).

use super::{ProductTexts, Refused, errors_body};
use crate::registry::access::{Challenge, Refusal, scope_of};
use regsim_wire::challenge::bearer;

pub struct Quay;

const MESSAGE: &str = "access to the requested resource is not authorized";

impl ProductTexts for Quay {
    fn token_path(&self) -> &'static str {
        "/v2/auth"
    }

    fn service(&self, _: &str, host: &str) -> String {
        host.to_string()
    }

    fn refusal(&self, r: &Refused<'_>) -> Challenge {
        let scope = scope_of(r.records);
        Challenge {
            www_authenticate: bearer(r.realm, r.service, scope.as_deref(), None),
            note: format!("{MESSAGE} ({})", self.source()),
            refusal: Some(Refusal {
                status: 401,
                content_type: "application/json",
                not_modelled: None,
                body: errors_body("UNAUTHORIZED", MESSAGE, Some("{}"), false),
            }),
        }
    }

    /// `InvalidLogin` at `/v2/auth` (v2auth.py:93): UNCONFIRMED wording `Invalid Username or
    /// Password`, as Quay's UI words it.
    fn wrong_login(&self) -> Option<Refusal> {
        Some(Refusal {
            status: 401,
            content_type: "application/json",
            not_modelled: None,
            body: errors_body("UNAUTHORIZED", "Invalid Username or Password", Some("{}"), false),
        })
    }

    fn source(&self) -> &'static str {
        "quay/quay@v3.18.0 endpoints/v2/errors.py"
    }
}
