//! The simulated GitLab Runner (docker executor): it asks mock GitLab for the job, resolves
//! registry credentials, drives the engine through the pull-policy loop and writes the job log
//! byte for byte, per release (`versions::runner`).

pub mod credentials;
pub mod docker_cli;
pub mod docker_host;
pub mod expand;
pub mod job;
pub mod pull;
pub mod sbt;
pub mod script;
pub mod services;
pub mod trace;

pub use job::{JobLog, run_job};
