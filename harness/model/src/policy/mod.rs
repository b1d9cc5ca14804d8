//! Who may pull or push what: GitLab's decisions as pure functions of the world model, with no
//! HTTP in sight. The token service (`mock::gitlab::jwt`) only translates these answers.
//!
//! Sources: docs/research/gitlab-rails.md §1.2–1.4 (authentication and the service's error
//! rows), §2 (scope and path rules), §3 (identities, abilities, roles), §4 (the job token
//! allowlist).

mod access;
pub mod dependency_proxy;
pub mod docker_hub;
mod identity;
mod path;
pub mod third_party;

pub use access::{Access, Decision, Denial, Grant, authorize, can_access};
pub use identity::{Abilities, Actor, AuthFailure, Authenticated, authenticate};
pub use path::{project_for_repository, valid_repository_path};

#[cfg(test)]
mod tests;
