//! The tokens GitLab's token service issues and registries verify: the registry JWT (RS256,
//! libtrust-style `kid`) and the Dependency Proxy's HS256 token. Verification stands apart from
//! the challenge, as in distribution's `registry/auth/token`; the claims themselves are wire
//! vocabulary (`regsim_wire::claims`).

mod claims;
mod keys;
mod proxy;
mod verify;

pub use claims::{IssueRequest, issue};
pub use keys::{SigningKey, libtrust_kid};
pub use proxy::{committed_proxy_secret, issue_proxy_token, verify_proxy_token};
pub use verify::{ClaimSet, ResourceActions, RootCertificate, Trust, VerifyError, covers, trust_for, verify};
