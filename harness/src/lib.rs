//! regsim: scenario → world model → mock servers → simulated runner and Docker engine → job log.
//!
//! - `scenario`: the YAML files, read with located errors.
//! - `world`: the scenario given meaning; defaults derived from the release tables.
//! - `policy`: who may pull or push what (pure functions of the world).
//! - `token`: the registry JWT, signed and verified.
//! - `mock`: GitLab's token service and job API, and its registry, as real HTTP servers.
//! - `engine`: the Docker daemon, simulated per version (or the real one, for comparison).
//! - `runner`: the GitLab Runner docker executor and the job log it writes.
//! - `versions`: every version-dependent fact, as tables with their sources.
//! - `http`: the plain-HTTP clients of the simulated side, built once.
//! - `run`: one scenario end to end, and the catalogue concurrently.
//! - `matrix`: one scenario across versions.
//! - `serve`: a scenario's mocks kept up for real clients.
//! - `report`: JUnit XML and JSON documents of a run, for CI.
//! - `explain`: a scenario's auth flow told step by step (text or Mermaid).

pub mod diagnose;
pub mod engine;
pub mod explain;
pub mod go_json;
pub mod http;
pub mod matrix;
pub mod mock;
pub mod policy;
pub mod report;
pub mod run;
pub mod runner;
pub mod scenario;
pub mod serve;
pub mod token;
pub mod versions;
pub mod world;
