//! Amazon ECR: Basic auth only. The challenge `Basic realm="https://<host>/",service="ecr.amazonaws.com"`
//! is quoted in public client code; the 401 body `Not Authorized` (text/plain) is a second-hand
//! quote; an expired authorization token is refused with 403 DENIED `Your authorization token has
//! expired. Reauthenticate and try again.` as reported 2021 – 2024 (docs/research/
//! registries-identities.md §5.2). The password is the helper's 12-hour token, the user `AWS`.

use crate::registry::access::{AccessController, AccessRecord, Challenge, Refusal};
use regsim_model::policy::third_party::{Login, login};
use regsim_model::world::OtherRegistry;

pub struct EcrAuth {
    pub registry: OtherRegistry,
}

impl AccessController for EcrAuth {
    fn authorized(&self, authorization: Option<&str>, _: &[AccessRecord<'_>]) -> Result<(), Challenge> {
        let creds = authorization.and_then(regsim_wire::challenge::basic_credentials);
        let www_authenticate = format!(
            "Basic realm=\"https://{}/\",service=\"ecr.amazonaws.com\"",
            self.registry.host
        );
        let refuse = |note: &str, refusal: Refusal| Challenge {
            www_authenticate: www_authenticate.clone(),
            note: note.to_string(),
            refusal: Some(refusal),
        };
        let not_authorized = || Refusal {
            status: 401,
            content_type: "text/plain; charset=utf-8",
            body: b"Not Authorized\n".to_vec(),
            not_modelled: None,
        };
        match login(&self.registry, creds.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))) {
            Login::Account(_) => Ok(()),
            Login::Anonymous => Err(refuse("no basic credentials: challenge", not_authorized())),
            Login::Wrong => Err(refuse("not an authorization token of this registry", not_authorized())),
            Login::Expired => Err(refuse(
                "the authorization token has expired",
                Refusal {
                    status: 403,
                    content_type: "application/json; charset=utf-8",
                    not_modelled: None,
                    body: super::errors_body(
                        "DENIED",
                        "Your authorization token has expired. Reauthenticate and try again.",
                        None,
                        false,
                    ),
                },
            )),
        }
    }
}
