//! `job:`: the job's image and pull policy, variables, services, repeats, and what its script
//! needs (the job image's Docker CLI, a Dockerfile, sbt-native-packager).

use super::Ctx;
use super::tokens::short_hash;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::versions::{docker_cli, sbt_native_packager};
use crate::world::{Job, SbtNativePackager};
use regsim_wire::job_api::PullPolicy;

/// `pull_policy:` as written (one or a list) → the policies, each one the runner knows.
pub(super) fn pull_policies(
    ctx: &Ctx<'_>,
    field: &str,
    written: Option<&scenario::PullPolicies>,
) -> Result<Option<Vec<PullPolicy>>, ScenarioError> {
    written
        .map(|list| {
            list.to_vec()
                .iter()
                .map(|p| {
                    PullPolicy::parse(p).ok_or_else(|| {
                        ctx.err(
                            field,
                            format!("unsupported pull_policy `{p}` (always, if-not-present, never)"),
                        )
                    })
                })
                .collect()
        })
        .transpose()
}

pub(super) fn build(ctx: &Ctx<'_>, s: &Scenario) -> Result<Job, ScenarioError> {
    let (image, image_pull_policy) = match &s.job.image {
        scenario::ImageSpec::Name(n) => (n.clone(), None),
        scenario::ImageSpec::Full(f) => (f.name.clone(), f.pull_policy.as_ref()),
    };
    let image_pull_policy = pull_policies(ctx, "job.image.pull_policy", image_pull_policy)?;
    // The runner's own list is checked here too, in the order users read them.
    pull_policies(ctx, "runner.pull_policy", s.runner.pull_policy.as_ref())?;
    Ok(Job {
        id: 4242,
        project: s.job.project.clone(),
        user: s.job.user.clone(),
        token: format!(
            "jobtoken{}",
            short_hash(&format!("{}:{}", ctx.path.display(), s.job.project))
        ),
        image,
        image_pull_policy,
        repeat: repeat(ctx, s.job.repeat.as_ref())?,
        variables: s.job.variables.clone(),
        services: s
            .job
            .services
            .iter()
            .map(|sv| (sv.name().to_string(), sv.alias().map(str::to_string)))
            .collect(),
        script: s.job.script.clone(),
        docker_client: docker_client(ctx, s)?,
        dockerfile: s.job.dockerfile.clone(),
        sbt_native_packager: sbt(ctx, s.job.sbt_native_packager.as_ref())?,
    })
}

/// `repeat:` → (runs, minutes apart), within one of Docker Hub's 6-hour windows.
fn repeat(ctx: &Ctx<'_>, r: Option<&scenario::RepeatSpec>) -> Result<(u32, u32), ScenarioError> {
    match r {
        None => Ok((1, 0)),
        Some(r) if r.times == 0 => Err(ctx.err("job.repeat.times", "a job runs at least once")),
        // Docker Hub's counter restarts after 6 hours; regsim keeps one window.
        Some(r) if u64::from(r.times - 1) * u64::from(r.every_minutes) >= 360 => Err(ctx.err(
            "job.repeat",
            format!(
                "{} runs {} minutes apart span {} minutes: Docker Hub's 6-hour rate-limit window would restart, \
                 which is not modelled",
                r.times,
                r.every_minutes,
                (r.times - 1) * r.every_minutes
            ),
        )),
        Some(r) => Ok((r.times, r.every_minutes)),
    }
}

/// The job image's Docker CLI: required when the script runs docker (or sbt's DockerPlugin).
fn docker_client(ctx: &Ctx<'_>, s: &Scenario) -> Result<Option<docker_cli::ClientProfile>, ScenarioError> {
    match &s.job.docker_client {
        None if s
            .job
            .script
            .iter()
            .any(|l| l.trim_start().starts_with("docker ") || l.trim_start().starts_with("sbt ")) =>
        {
            Err(ctx.err(
                "job.docker_client",
                "the script runs docker (or sbt's DockerPlugin): say which Docker CLI the job image has (e.g. \"18.09.4\")",
            ))
        }
        None => Ok(None),
        Some(t) => docker_cli::profile(&ctx.version("job.docker_client", t)?)
            .map(Some)
            .map_err(|m| ctx.err("job.docker_client", m.reason)),
    }
}

fn sbt(
    ctx: &Ctx<'_>,
    spec: Option<&scenario::SbtNativePackagerSpec>,
) -> Result<Option<SbtNativePackager>, ScenarioError> {
    let Some(spec) = spec else {
        return Ok(None);
    };
    let field = "job.sbt_native_packager.version";
    let profile =
        sbt_native_packager::profile(&ctx.version(field, &spec.version)?).map_err(|m| ctx.err(field, m.reason))?;
    Ok(Some(SbtNativePackager {
        profile,
        alias: spec.docker_alias.clone(),
        base_image: spec.docker_base_image.clone(),
    }))
}
