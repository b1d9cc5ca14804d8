//! The job's feature flags, as its release reads them (`versions::feature_flags`).

use regsim_model::world::World;
use regsim_wire::NotModelled;
use regsim_wire::job_api::JobPayload;

/// The feature flags' effective values for this job (`versions::feature_flags`): config.toml's,
/// then the job's variables (the runner's environment among them), then the defaults.
pub fn feature_flags(world: &World, payload: &JobPayload) -> Result<Vec<(&'static str, bool, bool)>, NotModelled> {
    regsim_model::versions::feature_flags::effective(&world.runner.version, &world.runner.feature_flags, |k| {
        payload
            .variable(k)
            .or_else(|| world.runner.environment_variable(k).map(str::to_string))
    })
}

/// Whether a flag is on for this job (its default where the release does not declare it: off).
pub fn flag_on(world: &World, payload: &JobPayload, name: &str) -> Result<bool, NotModelled> {
    Ok(feature_flags(world, payload)?
        .iter()
        .find(|(n, _, _)| *n == name)
        .is_some_and(|(_, on, _)| *on))
}
