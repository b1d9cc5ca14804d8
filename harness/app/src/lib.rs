//! regsim, the application: scenario → world model → mock servers → simulated runner and Docker
//! engine → job log, and what people do with it. The layers below are crates of their own
//! (`regsim-wire`, `regsim-model`, `regsim-servers`, `regsim-clients`, `regsim-runner`); this one
//! only puts them together.
//!
//! - `run`: one scenario end to end (loading, the report, its text), the catalogue concurrently,
//!   and the same job on a real Docker daemon.
//! - `matrix`: one scenario across versions.
//! - `serve`: a scenario's mocks kept up for real clients.
//! - `report`: JUnit XML and JSON documents of a run, for CI.
//! - `explain`: a scenario's auth flow told step by step (text or Mermaid).
//! - `diagnose`: a pasted job log read against the catalogue.
//! - `import`: a scenario from a user's .gitlab-ci.yml and runner config.toml.
//! - `cli`: the command line over all of these; `term`: where it writes (pipes, colour, progress).

pub mod cli;
pub mod diagnose;
pub mod explain;
pub mod import;
pub mod matrix;
pub mod report;
pub mod run;
pub mod serve;
pub mod term;
