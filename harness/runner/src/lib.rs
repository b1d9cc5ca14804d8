//! The simulated GitLab Runner: it asks mock GitLab for the job, resolves registry credentials,
//! has its executor prepare the images (the pull-policy loop against the engine) and writes the
//! job log byte for byte, per release (`regsim_model::versions::runner`).
//!
//! - `job`: one job end to end, its outcome, and the header and final lines every executor shares.
//! - `executors`: the executor seam (docker today).
//! - `credentials`: which registry credentials the runner hands to Docker for an image.
//! - `pull`: the pull manager and its error text.
//! - `services`, `docker_host`, `script`, `shell`: the job's services, the daemon its Docker CLI
//!   reaches, the script's registry lines, and the little shell that reads them.
//! - `trace`, `expand`, `flags`: the trace bytes, `$VAR` expansion, the job's feature flags.

pub mod credentials;
pub mod docker_host;
mod env;
pub mod executors;
pub mod expand;
pub mod flags;
mod job;
pub mod pull;
pub mod script;
pub mod services;
pub mod shell;
pub mod trace;

pub use env::JobEnv;
pub use job::{Continued, JobLog, RunError, run_job};
pub use pull::{pull_policies, runner_pull_policies};
