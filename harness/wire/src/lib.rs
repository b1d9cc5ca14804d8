//! The wire vocabulary: the words both sides of regsim's exchanges share, and nothing else. The
//! mock servers write them, the simulated clients read them, and the two meet only here and on
//! real HTTP. This crate knows no scenario, no version table and no world.
//!
//! - `reference`: the one image-reference type, with the ports of Go's parsers it is built from.
//! - `digest`, `media`, `platform`, `tar`: content addressing and image formats.
//! - `errcode`, `challenge`, `scope`, `claims`: the registry protocol's errors, challenges,
//!   scopes and token claims.
//! - `job_api`: the job payload GitLab sends a runner.
//! - `engine_api`: what the runner and a job's Docker CLI exchange with a Docker daemon.
//! - `go_json`: Go's `encoding/json` text, where hashed bytes must be Go's.
//! - `net`: the name table that stands in for DNS.
//! - `secret`: how a secret a user typed is printed (never whole).
//! - `NotModelled`: the one way to say "regsim does not know", carried to the run's result.

pub mod challenge;
pub mod claims;
pub mod digest;
pub mod engine_api;
pub mod errcode;
pub mod go_json;
pub mod job_api;
pub mod media;
pub mod net;
mod not_modelled;
pub mod platform;
pub mod reference;
pub mod scope;
pub mod secret;
pub mod tar;
pub mod tls;

pub use not_modelled::NotModelled;
