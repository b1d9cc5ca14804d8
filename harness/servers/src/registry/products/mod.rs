//! Registry products with a token service of their own, one module each: what their token
//! service is called, and how each words a refusal (docs/research/registries-identities.md §2–§5).
//! Who may pull is the model's pure rule (`regsim_model::policy::third_party`); the
//! [`ProductAuth`] controller asks it and lets the product render the answer, as distribution's
//! errors render their own challenge.

mod ecr;
mod harbor;
mod nexus;
mod quay;

pub use ecr::EcrAuth;

use super::access::{AccessController, AccessRecord, Challenge, Refusal};
use crate::settings::{Clock, Settings};
use crate::token::{IssueRequest, Trust, covers, issue, trust_for, verify};
use regsim_model::policy::Access;
use regsim_model::policy::third_party::{Login, Requester, login, may_pull};
use regsim_model::world::{OtherRegistry, Product, TokenServiceFront, World};
use regsim_wire::scope::ResourceType;
use std::sync::Arc;

/// What a request looked like when it was refused.
pub struct Refused<'a> {
    /// The request carried an `Authorization` header (a token that fell short, or Basic).
    pub had_authorization: bool,
    pub method: &'a str,
    /// Empty for `/v2/`.
    pub records: &'a [AccessRecord<'a>],
    /// The realm and service of the product's token service.
    pub realm: &'a str,
    pub service: &'a str,
}

/// One product's words.
pub trait ProductTexts: Send + Sync {
    /// The token service's path on the registry's host.
    fn token_path(&self) -> &'static str;
    /// The `service` its challenges and tokens name.
    fn service(&self, realm: &str, host: &str) -> String;
    /// The refusal of a registry request.
    fn refusal(&self, r: &Refused<'_>) -> Challenge;
    /// The token service's answer to wrong credentials; `None`: it carries on as anonymous.
    fn wrong_login(&self) -> Option<Refusal>;
    /// Where each text comes from, for the journal.
    fn source(&self) -> &'static str;
    /// Whether regsim knows the answer for a project the registry does not have (Harbor looks
    /// the project up first and answers with the lookup's error, whose text is not known).
    fn knows_missing_project(&self) -> bool {
        true
    }
}

fn texts(product: Product) -> Box<dyn ProductTexts> {
    match product {
        Product::Harbor => Box::new(harbor::Harbor),
        Product::Nexus => Box::new(nexus::Nexus),
        Product::Quay => Box::new(quay::Quay),
    }
}

/// A product's token service and registry check over one [`OtherRegistry`].
pub struct ProductAuth {
    texts: Box<dyn ProductTexts>,
    registry: OtherRegistry,
    realm: String,
    service: String,
    trust: Trust,
    settings: Settings,
    clock: Clock,
    world: Arc<World>,
}

/// The issuer products' tokens name (Harbor's `harbor-token-issuer`; the others' are not seen by
/// clients, which never read a token).
const ISSUER: &str = "harbor-token-issuer";

impl ProductAuth {
    pub fn new(world: &Arc<World>, registry: &OtherRegistry, product: Product, settings: &Settings) -> ProductAuth {
        let texts = texts(product);
        let scheme = if registry.certificate.is_tls() { "https" } else { "http" };
        let realm = format!("{scheme}://{}{}", registry.host, texts.token_path());
        let service = texts.service(&realm, &registry.host.to_string());
        ProductAuth {
            trust: trust_for(settings.keys.signing, ISSUER, &service),
            texts,
            registry: registry.clone(),
            realm,
            service,
            settings: *settings,
            clock: settings.clock,
            world: world.clone(),
        }
    }

    /// The token service: the requester from Basic credentials (if any), then a token granting
    /// what the model's rule allows of the asked scopes.
    pub fn token(&self, authorization: Option<&str>, scopes: &[String]) -> Result<(String, String), Refusal> {
        if let regsim_model::world::RegistryAuth::Product {
            token_service: TokenServiceFront::HtmlPage(status),
            ..
        } = &self.registry.auth
        {
            return Err(html_page(*status));
        }
        let creds = authorization.map(regsim_wire::challenge::basic_credentials);
        let mut wrong = false;
        let who = match creds {
            None => Requester::Anonymous,
            Some(c) => match login(&self.registry, c.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))) {
                Login::Account(a) => Requester::Account(a),
                Login::Anonymous => Requester::Anonymous,
                Login::Wrong | Login::Expired => match self.texts.wrong_login() {
                    Some(r) => return Err(r),
                    None => {
                        wrong = true;
                        Requester::Anonymous
                    }
                },
            },
        };
        let mut access = Vec::new();
        for scope in scopes.iter().flat_map(|s| s.split(' ')) {
            let mut parts = scope.splitn(3, ':');
            let (Some("repository"), Some(name), Some(actions)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let granted: Vec<String> = actions
                .split(',')
                .filter(|a| *a == "pull" && may_pull(&self.registry, &who, name))
                .map(str::to_string)
                .collect();
            access.push(Access {
                kind: ResourceType::Repository,
                name: name.to_string(),
                actions: granted,
                project: None,
            });
        }
        let now = self.clock.token_now(&self.world);
        let sub = match &who {
            Requester::Account(a) => Some(a.clone()),
            Requester::Anonymous => None,
        };
        let token = issue(IssueRequest {
            key: self.settings.keys.signing,
            jti: format!("{}-{now}", self.texts.token_path()),
            service: &self.service,
            issuer: ISSUER,
            now,
            expire_minutes: 30,
            sub: sub.clone(),
            access: &access,
            meta: None,
            auth_type: "",
            user_info: None,
        });
        let granted: Vec<String> = access
            .iter()
            .filter(|a| !a.actions.is_empty())
            .map(|a| format!("{} {}", a.actions.join(","), a.name))
            .collect();
        let granted = if granted.is_empty() {
            "nothing".to_string()
        } else {
            granted.join(", ")
        };
        let said = match (sub, wrong) {
            (Some(a), _) => format!("token of {a} granting {granted}"),
            (None, true) => format!("wrong credentials, so an anonymous token granting {granted}"),
            (None, false) => format!("anonymous token granting {granted}"),
        };
        Ok((token, said))
    }
}

impl super::access::TokenService for ProductAuth {
    fn path(&self) -> &'static str {
        self.texts.token_path()
    }
    fn token(&self, authorization: Option<&str>, scopes: &[String]) -> Result<(String, String), Refusal> {
        ProductAuth::token(self, authorization, scopes)
    }
    fn answers_any_method(&self) -> bool {
        matches!(
            self.registry.auth,
            regsim_model::world::RegistryAuth::Product {
                token_service: TokenServiceFront::HtmlPage(_),
                ..
            }
        )
    }
}

impl AccessController for ProductAuth {
    fn token_service(&self) -> Option<&dyn super::access::TokenService> {
        Some(self)
    }

    fn authorized(&self, authorization: Option<&str>, records: &[AccessRecord<'_>]) -> Result<(), Challenge> {
        self.authorized_for("GET", authorization, records)
    }

    fn authorized_for(
        &self,
        method: &str,
        authorization: Option<&str>,
        records: &[AccessRecord<'_>],
    ) -> Result<(), Challenge> {
        let refuse = || {
            self.texts.refusal(&Refused {
                had_authorization: authorization.is_some(),
                method,
                records,
                realm: &self.realm,
                service: &self.service,
            })
        };
        if !self.texts.knows_missing_project() {
            let missing = records.iter().find(|r| {
                let project = r.name.split('/').next().unwrap_or_default();
                !self
                    .registry
                    .images
                    .iter()
                    .any(|i| i.repository.split('/').next() == Some(project))
                    && !self.registry.auth.public_projects().iter().any(|p| p == project)
            });
            if let Some(r) = missing {
                let mut c = refuse();
                let m = regsim_wire::NotModelled::new(format!(
                    "{} has no project for {}: its answer carries the project lookup's error, whose text is not known",
                    self.registry.host, r.name
                ));
                if let Some(refusal) = c.refusal.as_mut() {
                    refusal.not_modelled = Some(m);
                }
                return Err(c);
            }
        }
        let Some(jwt) = authorization.and_then(|h| h.strip_prefix("Bearer ")) else {
            return Err(refuse());
        };
        let now = self.clock.token_now(&self.world);
        let Ok(claims) = verify(jwt, &self.trust, now) else {
            return Err(refuse());
        };
        if records.is_empty() && claims.subject.is_empty() {
            // `/v2/` needs an authenticated requester (Harbor's login target).
            return Err(refuse());
        }
        for r in records {
            for a in r.actions {
                if !covers(&claims, "repository", r.name, a.as_str()) {
                    return Err(refuse());
                }
            }
        }
        Ok(())
    }
}

/// `{"errors":[{"code":CODE,"message":MESSAGE}]}` as Go's encoder writes it, and a newline
/// (`fmt.Fprintln`), when `newline`.
pub(super) fn errors_body(code: &str, message: &str, detail: Option<&str>, newline: bool) -> Vec<u8> {
    let detail = detail.map(|d| format!(",\"detail\":{d}")).unwrap_or_default();
    let mut b = format!(
        "{{\"errors\":[{{\"code\":{},\"message\":{}{detail}}}]}}",
        regsim_wire::go_json::string(code),
        regsim_wire::go_json::string(message)
    );
    if newline {
        b.push('\n');
    }
    b.into_bytes()
}

/// nginx's own error page for `status` (what a reverse proxy in front of a token service sends
/// when the upstream is down or the path is not routed), or a sign-in page for 200. The exact
/// page depends on the proxy; dockerd only quotes it in a 4xx's error text.
fn html_page(status: u16) -> Refusal {
    let reason = match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "Error",
    };
    let body = if status == 200 {
        "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form method=\"post\" action=\"/login\"></form></body></html>\n".to_string()
    } else {
        format!(
            "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )
    };
    Refusal {
        status,
        content_type: "text/html",
        body: body.into_bytes(),
        not_modelled: None,
    }
}
