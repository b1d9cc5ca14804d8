//! The model: a scenario file, the version tables, the world the scenario describes, and GitLab's
//! decisions as pure functions of that world. Nothing here speaks HTTP.
//!
//! - `scenario`: the YAML files, read with located errors.
//! - `versions`: every version-dependent fact, as tables of ranges with their sources.
//! - `world`: the scenario given meaning; defaults derived from the release tables, each with
//!   the rule that gave it.
//! - `policy`: who may pull or push what (the allowlist rule is in `policy/access.rs`).

pub mod policy;
pub mod scenario;
pub mod seeds;
pub mod versions;
pub mod world;
