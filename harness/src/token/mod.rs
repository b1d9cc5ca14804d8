//! The registry JWT: GitLab's token service signs it (RS256, libtrust-style `kid`), the registry
//! verifies it. Verification stands apart from the challenge, as in distribution's
//! `registry/auth/token`.

mod challenge;
mod claims;
mod keys;
mod proxy;
mod verify;

pub use challenge::{Challenge, ChallengeError, parse_challenge};
pub use claims::{AccessClaim, Audience, Claims, IssueRequest, UserInfo, issue};
pub use keys::{SigningKey, libtrust_kid};
pub use proxy::{ProxyClaims, issue_proxy_token, verify_proxy_token};
pub use verify::{ClaimSet, ResourceActions, RootCertificate, Trust, VerifyError, covers, trust_for, verify};
