//! Building the world from a parsed scenario, one section at a time, in the order the checks have
//! always run (a file with two mistakes reports the same one first): the clock, the instance,
//! users, groups and projects with their allowlists, tokens, other registries, Docker Hub, the
//! job, the runner host, the Docker engine, the expectation. Each section validates its own
//! fields; cross-references between sections are checked apart (`checks`).

mod checks;
mod docker_hub;
mod expect;
mod hosts;
mod instance;
mod job;
mod namespaces;
mod registries;
mod tokens;

use super::{Overrides, World};
use crate::scenario::{Scenario, ScenarioError, StoredImageSpec};
use crate::seeds::{SEEDS, Seed};
use crate::versions::parse_version;
use semver::Version;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The clock a scenario gets when it names none.
pub const DEFAULT_CLOCK: &str = "2025-01-15T09:00:00Z";

/// The file being built, to locate errors in.
pub(super) struct Ctx<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl Ctx<'_> {
    /// An error at `field`, located in the file's text.
    pub fn err(&self, field: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(self.path, self.text, field, message)
    }

    /// A version written at `field`.
    pub fn version(&self, field: &str, text: &str) -> Result<Version, ScenarioError> {
        parse_version(text).map_err(|m| self.err(field, m.to_string()))
    }

    /// The version at `field`, unless the command line gave one.
    pub fn version_or(&self, over: &Option<Version>, field: &str, text: &str) -> Result<Version, ScenarioError> {
        match over {
            Some(v) => Ok(v.clone()),
            None => self.version(field, text),
        }
    }

    /// An image's layer count: Docker's push sends at most a handful at once, more only adds
    /// `Waiting` lines, so regsim keeps it small.
    pub fn layers(&self, spec: &StoredImageSpec, field: &str) -> Result<usize, ScenarioError> {
        match spec.layers() {
            n @ 1..=64 => Ok(n),
            n => Err(self.err(&format!("{field}.layers"), format!("{n}: expected 1 to 64 layers"))),
        }
    }
}

/// `seed:`: one of the posts regsim reproduces.
fn seed(ctx: &Ctx<'_>, s: &Scenario) -> Result<Option<&'static Seed>, ScenarioError> {
    let Some(id) = &s.seed else { return Ok(None) };
    Seed::find(id).map(Some).ok_or_else(|| {
        let known: Vec<&str> = SEEDS.iter().map(|s| s.id).collect();
        ctx.err(
            "seed",
            format!("`{id}` is not a seed regsim knows ({})", known.join(", ")),
        )
    })
}

/// Checks a parsed scenario and builds its world, with the versions the command line gave in
/// place of the file's. `text` is the file's text, to locate errors.
pub fn build(path: &Path, text: &str, s: &Scenario, overrides: &Overrides) -> Result<World, ScenarioError> {
    let ctx = Ctx { path, text };
    let clock_text = s.clock.as_deref().unwrap_or(DEFAULT_CLOCK);
    let clock = OffsetDateTime::parse(clock_text, &Rfc3339)
        .map_err(|e| ctx.err("clock", format!("`{clock_text}` is not an RFC 3339 time: {e}")))?;
    let gitlab = instance::build(&ctx, s, overrides)?;
    let mut users = namespaces::users(&ctx, s)?;
    let mut groups = namespaces::groups(&ctx, s, &gitlab.version)?;
    let mut projects = namespaces::projects(&ctx, s, &gitlab.version)?;
    checks::allowlist_entries(&ctx, s, &projects, &groups)?;
    let tokens = tokens::build(&ctx, s, &mut users, &mut projects, &mut groups)?;
    let registries = registries::build(&ctx, s, &gitlab)?;
    let docker_hub = docker_hub::build(&ctx, s)?;
    checks::job_project(&ctx, s, &projects)?;
    let job = job::build(&ctx, s)?;
    let runner = hosts::runner(&ctx, s, overrides, &job)?;
    let docker = hosts::docker(&ctx, s, overrides)?;
    let cluster = hosts::cluster(&ctx, s)?;
    checks::certs_d(&ctx, &docker, &gitlab, &registries)?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(World {
        name,
        description: s.description.trim().to_string(),
        seed: seed(&ctx, s)?,
        clock,
        token_clock: clock,
        gitlab,
        users,
        groups,
        projects,
        tokens,
        registries,
        docker_hub,
        job,
        runner,
        docker,
        cluster,
        expect: expect::build(&ctx, s)?,
    })
}
