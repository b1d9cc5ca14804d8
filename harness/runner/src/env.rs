//! Where the runner runs: its world, the GitLab it asks for jobs, and how its machines reach
//! the servers.

use regsim_model::world::World;

/// Where the runner runs: the world it belongs to and the GitLab it asks for jobs.
pub struct JobEnv<'a> {
    pub world: &'a World,
    /// GitLab's base URL as the runner dials it (`http://127.0.0.1:PORT`).
    pub gitlab_url: String,
    /// How the runner's machines dial names (a kubernetes node reaches the registries this way).
    pub network: regsim_wire::net::Network,
    /// What the runner's machines trust: the system store a kubernetes node checks registries with.
    pub trust: regsim_wire::tls::DaemonTrust,
}
