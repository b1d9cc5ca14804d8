//! Harbor 2.x (goharbor/harbor v2.0 → v2.15, `src/server/middleware/v2auth/auth.go`): a request
//! without `Authorization` gets a Bearer challenge naming `/service/token` and the service
//! `harbor-registry`; one with a token that falls short (or Basic) gets `Basic realm="harbor"`.
//! The body's message is written twice: `UnauthorizedError(err).WithMessage(err.Error())`
//! marshals `Message + ": " + Cause` (`src/lib/errors/errors.go`), sent with `Fprintln`
//! (docs/research/registries-identities.md §2.2–2.4).

use super::{ProductTexts, Refused, errors_body};
use crate::registry::access::{Challenge, Refusal, scope_of};
use regsim_wire::challenge::bearer;

pub struct Harbor;

impl ProductTexts for Harbor {
    fn token_path(&self) -> &'static str {
        "/service/token"
    }

    /// `token.Registry` (src/core/service/token/creator.go:48).
    fn service(&self, _: &str, _: &str) -> String {
        "harbor-registry".into()
    }

    fn refusal(&self, r: &Refused<'_>) -> Challenge {
        // reqChecker.check, in its order.
        let err = match r.records.first() {
            None => "unauthorized".to_string(),
            Some(_) if !r.had_authorization && matches!(r.method, "GET" | "HEAD") => {
                "authorize header needed to send HEAD to repository".to_string()
            }
            Some(rec) => {
                let action = rec
                    .actions
                    .iter()
                    .map(|a| a.as_str())
                    .find(|a| *a != "pull")
                    .unwrap_or("pull");
                format!("unauthorized to access repository: {}, action: {action}", rec.name)
            }
        };
        // getChallenge: Basic for any request that carried Authorization.
        let www_authenticate = if r.had_authorization {
            "Basic realm=\"harbor\"".to_string()
        } else {
            let scope = scope_of(r.records);
            // Harbor writes realm, service, then scope — bearer() keeps that order.
            bearer(r.realm, r.service, scope.as_deref(), None)
        };
        Challenge {
            www_authenticate,
            note: format!("{err} ({})", self.source()),
            refusal: Some(Refusal {
                status: 401,
                content_type: "application/json; charset=utf-8",
                not_modelled: None,
                body: errors_body("UNAUTHORIZED", &format!("{err}: {err}"), None, true),
            }),
        }
    }

    /// Wrong credentials give no security context, and the token service carries on as anonymous
    /// (v2.10.0 `src/server/middleware/security/basic_auth.go` Generate returns nil on a failed
    /// login; `src/core/service/token/creator.go` refuses only scope-less anonymous requests).
    fn wrong_login(&self) -> Option<Refusal> {
        None
    }

    fn knows_missing_project(&self) -> bool {
        false
    }

    fn source(&self) -> &'static str {
        "Harbor 2.x v2auth middleware, goharbor/harbor@v2.10.0"
    }
}
