//! The mock servers: GitLab (token service, job API, Dependency Proxy), container registries and
//! Docker Hub, each a real HTTP server on 127.0.0.1 (`listen`) with one `Handler` per server.
//! Handlers translate between HTTP and the world model; the decisions live in
//! `regsim_model::policy`. Clients reach them only over HTTP.

pub mod by_name;
pub mod docker_hub;
pub mod gitlab;
pub mod image;
pub mod journal;
pub mod listen;
pub mod netns;
pub mod pki;
pub mod registry;
pub mod request;
pub mod schema1;
pub mod settings;
mod stage;
pub mod tls;
pub mod token;
pub mod wire;

pub use settings::{Clock, Keys, Settings};
pub use stage::{Placement, Stage, StageError};
