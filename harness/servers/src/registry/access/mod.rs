//! The access controllers a registry can sit behind (distribution's `registry/auth`): each checks
//! a request's `Authorization` against the access records the request needs and, when it says
//! no, returns a [`Challenge`] that renders its own answer (distribution's `auth.Challenge`).
//! One module per controller: `token` (GitLab's token auth against `/jwt/auth`), `htpasswd`
//! (upstream distribution's Basic auth), `open` (no auth at all). A new controller (Harbor's token
//! service, say) is a new module here and a [`super::RegistryConfig`] that names it.

mod htpasswd;
mod open;
mod token;

pub use htpasswd::Htpasswd;
pub use open::Open;
pub use token::TokenAuth;

use regsim_wire::scope::Action;

/// One access record a request needs: `repository:<name>:<actions>` (distribution's
/// `auth.Access`, one per action).
#[derive(Debug, Clone, Copy)]
pub struct AccessRecord<'a> {
    pub name: &'a str,
    pub actions: &'a [Action],
}

/// What GET and HEAD need.
pub const PULL: &[Action] = &[Action::Pull];
/// What writes need: distribution asks for pull and push.
pub const PUSH: &[Action] = &[Action::Pull, Action::Push];

/// An unauthorized answer's challenge: the header the controller sets, and why (for the journal).
/// A controller that is not distribution's brings its own answer (`refusal`); without one, the
/// registry answers distribution's 401 UNAUTHORIZED with the access records as detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub www_authenticate: String,
    pub note: String,
    pub refusal: Option<Refusal>,
}

/// A whole answer a product words itself: status, body and its content type (the challenge
/// header aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The product's answer here is not known: the run stops with this.
    pub not_modelled: Option<regsim_wire::NotModelled>,
}

/// distribution's `auth.AccessController`: may this request have these records?
pub trait AccessController: Send + Sync {
    /// `Ok` lets the request through; `Err` is the challenge to answer with (401 UNAUTHORIZED).
    fn authorized(&self, authorization: Option<&str>, records: &[AccessRecord<'_>]) -> Result<(), Challenge>;

    /// The same, for controllers whose answer depends on the method (Harbor's "HEAD" rule).
    fn authorized_for(
        &self,
        _method: &str,
        authorization: Option<&str>,
        records: &[AccessRecord<'_>],
    ) -> Result<(), Challenge> {
        self.authorized(authorization, records)
    }

    /// A token service on the registry's own host (Harbor's `/service/token`, …): its path.
    fn token_service(&self) -> Option<&dyn TokenService> {
        None
    }
}

/// A token service the registry's host answers itself.
pub trait TokenService: Send + Sync {
    fn path(&self) -> &'static str;
    /// `Ok((token, note))` or the refusal to answer with.
    fn token(&self, authorization: Option<&str>, scopes: &[String]) -> Result<(String, String), Refusal>;
    /// Whether what answers there answers every method alike (a reverse proxy's page); otherwise
    /// only GET is modelled.
    fn answers_any_method(&self) -> bool {
        false
    }
}

/// The records as a challenge's `scope` writes them: `repository:NAME:a,b`, space-separated
/// (distribution joins them in its map order; regsim keeps the request's order).
pub fn scope_of(records: &[AccessRecord<'_>]) -> Option<String> {
    (!records.is_empty()).then(|| {
        records
            .iter()
            .map(|r| {
                let actions: Vec<&str> = r.actions.iter().map(|a| a.as_str()).collect();
                format!("repository:{}:{}", r.name, actions.join(","))
            })
            .collect::<Vec<_>>()
            .join(" ")
    })
}
