//! distribution's token access controller (`registry/auth/token/accesscontroller.go`) as GitLab's
//! registry is configured: a bearer JWT from GitLab's `/jwt/auth`, verified as distribution 2.8.2
//! verifies it (`crate::token::verify`), then every record the request needs must be covered by
//! its `access` claim (`insufficient_scope` otherwise).

use super::{AccessController, AccessRecord, Challenge, scope_of};
use crate::settings::{Clock, Settings};
use crate::token::{Trust, covers, trust_for, verify};
use regsim_model::world::World;
use regsim_wire::challenge::{BearerError, bearer};

/// The registry's `auth.token` settings.
pub struct TokenAuth {
    /// `auth.token.realm`: GitLab's `/jwt/auth`.
    pub realm: String,
    /// `auth.token.service`.
    pub service: String,
    trust: Trust,
    /// Whose time tokens are checked against, and the world it reads the scenario's from.
    clock: Clock,
    world: std::sync::Arc<World>,
}

/// The service GitLab's registry names in its challenges and tokens.
pub const SERVICE: &str = "container_registry";

impl TokenAuth {
    /// GitLab's registry: realm `EXTERNAL_URL/jwt/auth`, issuer from `gitlab.yml`, the committed
    /// signing key's certificate as the root bundle.
    pub fn for_gitlab(world: &std::sync::Arc<World>, settings: &Settings) -> TokenAuth {
        TokenAuth {
            realm: format!("{}/jwt/auth", world.gitlab.external_url()),
            service: SERVICE.into(),
            trust: trust_for(settings.keys.signing, &world.gitlab.issuer, SERVICE),
            clock: settings.clock,
            world: world.clone(),
        }
    }

    fn challenge(&self, records: &[AccessRecord<'_>], error: Option<BearerError>, note: String) -> Challenge {
        let scope = scope_of(records);
        Challenge {
            www_authenticate: bearer(&self.realm, &self.service, scope.as_deref(), error),
            note,
            refusal: None,
        }
    }
}

impl AccessController for TokenAuth {
    fn authorized(&self, authorization: Option<&str>, records: &[AccessRecord<'_>]) -> Result<(), Challenge> {
        // accesscontroller.go `Authorized`: the header split at single spaces must be exactly
        // `bearer` (any case) and one token.
        let bearer_token = authorization.and_then(|h| match h.split(' ').collect::<Vec<_>>()[..] {
            [scheme, jwt] if scheme.eq_ignore_ascii_case("bearer") => Some(jwt),
            _ => None,
        });
        let Some(jwt) = bearer_token else {
            return Err(self.challenge(records, None, "no bearer token: challenge".into()));
        };
        let now = self.clock.token_now(&self.world);
        let claims = verify(jwt, &self.trust, now)
            .map_err(|e| self.challenge(records, Some(BearerError::InvalidToken), format!("invalid_token: {e}")))?;
        for r in records {
            for a in r.actions {
                if !covers(&claims, "repository", r.name, a.as_str()) {
                    return Err(self.challenge(
                        records,
                        Some(BearerError::InsufficientScope),
                        format!("insufficient_scope: token grants no {a} on {}", r.name, a = a.as_str()),
                    ));
                }
            }
        }
        Ok(())
    }
}
