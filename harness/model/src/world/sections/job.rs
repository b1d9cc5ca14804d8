//! `job:`: the job's image and pull policy, variables, services, repeats, and what its script
//! needs (the job image's Docker CLI, a Dockerfile, sbt-native-packager).

use super::Ctx;
use super::tokens::short_hash;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::versions::containers_tools::{self, Tool, ToolProfile};
use crate::versions::{docker_cli, sbt_native_packager};
use crate::world::{Job, JobTool, SbtNativePackager};
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
    names(ctx, s)?;
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
        podman: containers_tool(ctx, s, Tool::Podman)?,
        buildah: containers_tool(ctx, s, Tool::Buildah)?,
        kaniko: kaniko(ctx, s)?,
        dockerfile: s.job.dockerfile.clone(),
        sbt_native_packager: sbt(ctx, s.job.sbt_native_packager.as_ref())?,
    })
}

/// The longest service alias regsim takes: its own bound, the length Docker allows a repository
/// name. Docker's checks of link and network aliases were not traced, so this is not theirs.
pub const MAX_ALIAS_CHARS: usize = 255;

/// Names a job could never send: GitLab refuses a pipeline whose image or service `name` is
/// blank (`validates :name, type: String, presence: true` in gitlabhq
/// lib/gitlab/ci/config/entry/image.rb and service.rb), so no job reaches the runner. Other
/// names go to the runner, and Docker's refusals (the reference grammar) are in the job log.
fn names(ctx: &Ctx<'_>, s: &Scenario) -> Result<(), ScenarioError> {
    let blank = |field: &str| {
        ctx.err(
            field,
            "GitLab refuses a pipeline whose image or service name is blank (the CI config's `name` \
             must be present), so no job reaches the runner",
        )
    };
    match &s.job.image {
        scenario::ImageSpec::Name(n) if n.trim().is_empty() => return Err(blank("job.image")),
        scenario::ImageSpec::Full(f) if f.name.trim().is_empty() => return Err(blank("job.image.name")),
        _ => {}
    }
    for (i, sv) in s.job.services.iter().enumerate() {
        let full = matches!(sv, scenario::ServiceSpec::Full(_));
        if sv.name().trim().is_empty() {
            return Err(blank(&format!("job.services[{i}]{}", if full { ".name" } else { "" })));
        }
        if let Some(a) = sv.alias()
            && a.chars().count() > MAX_ALIAS_CHARS
        {
            return Err(ctx.err(
                &format!("job.services[{i}].alias"),
                format!(
                    "an alias of {} characters: regsim refuses aliases over {MAX_ALIAS_CHARS} characters (its own \
                     bound; Docker's checks of link and network aliases are not modelled)",
                    a.chars().count()
                ),
            ));
        }
    }
    Ok(())
}

/// The most runs `repeat:` may ask for. Each run is a whole job against the mocks; Docker Hub's
/// anonymous limit (100 a window) is reached long before, so more would only take time.
pub const MAX_REPEATS: u32 = 1000;

/// `repeat:` → (runs, minutes apart), within one of Docker Hub's 6-hour windows.
fn repeat(ctx: &Ctx<'_>, r: Option<&scenario::RepeatSpec>) -> Result<(u32, u32), ScenarioError> {
    let Some(r) = r else { return Ok((1, 0)) };
    if r.times == 0 {
        return Err(ctx.err("job.repeat.times", "a job runs at least once"));
    }
    if r.times > MAX_REPEATS {
        return Err(ctx.err(
            "job.repeat.times",
            format!(
                "{} runs: regsim runs a job at most {MAX_REPEATS} times (Docker Hub's anonymous limit, 100 pulls \
                 a window, is reached long before; more runs would only take time)",
                r.times
            ),
        ));
    }
    // Docker Hub's counter restarts after 6 hours; regsim keeps one window.
    let span = u64::from(r.times - 1) * u64::from(r.every_minutes);
    if span >= 360 {
        return Err(ctx.err(
            "job.repeat",
            format!(
                "{} runs {} minutes apart span {span} minutes: Docker Hub's 6-hour rate-limit window would restart, \
                 which is not modelled",
                r.times, r.every_minutes
            ),
        ));
    }
    Ok((r.times, r.every_minutes))
}

/// The job image's Docker CLI: required when the script runs docker (or sbt's DockerPlugin).
fn docker_client(ctx: &Ctx<'_>, s: &Scenario) -> Result<Option<docker_cli::ClientProfile>, ScenarioError> {
    match &s.job.docker_client {
        None if JobTool::DockerCli.runs(&s.job.script) => Err(ctx.err(
            "job.docker_client",
            "the script runs docker (or sbt's DockerPlugin): say which Docker CLI the job image has (e.g. \"18.09.4\")",
        )),
        None => Ok(None),
        Some(t) => docker_cli::profile(&ctx.version("job.docker_client", t)?)
            .map(Some)
            .map_err(|m| ctx.err("job.docker_client", m.reason)),
    }
}

/// The job image's podman or buildah: required when the script runs it.
fn containers_tool(ctx: &Ctx<'_>, s: &Scenario, tool: Tool) -> Result<Option<ToolProfile>, ScenarioError> {
    let (field, written) = match tool {
        Tool::Podman => ("job.podman", &s.job.podman),
        Tool::Buildah => ("job.buildah", &s.job.buildah),
    };
    let runs = match tool {
        Tool::Podman => JobTool::Podman,
        Tool::Buildah => JobTool::Buildah,
    }
    .runs(&s.job.script);
    match written {
        None if runs => Err(ctx.err(
            field,
            format!(
                "the script runs {}: say which release the job image has (e.g. \"{}\")",
                tool.command(),
                match tool {
                    Tool::Podman => "4.3.1",
                    Tool::Buildah => "1.28.2",
                }
            ),
        )),
        None => Ok(None),
        Some(t) => containers_tools::profile(tool, &ctx.version(field, t)?)
            .map(Some)
            .map_err(|m| ctx.err(field, m.reason)),
    }
}

/// The job image's kaniko: required when the script runs `/kaniko/executor`.
fn kaniko(ctx: &Ctx<'_>, s: &Scenario) -> Result<Option<crate::versions::kaniko::KanikoProfile>, ScenarioError> {
    let runs = JobTool::Kaniko.runs(&s.job.script);
    match &s.job.kaniko {
        None if runs => Err(ctx.err(
            "job.kaniko",
            "the script runs /kaniko/executor: say which kaniko release the job image has (e.g. \"1.23.2\")",
        )),
        None => Ok(None),
        Some(t) => crate::versions::kaniko::profile(&ctx.version("job.kaniko", t)?)
            .map(Some)
            .map_err(|m| ctx.err("job.kaniko", m.reason)),
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
