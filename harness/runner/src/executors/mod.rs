//! The executor seam: how a job's images are prepared before its script runs. One module per
//! executor, its per-release facts as rows of `regsim_model::versions::runner`; the world names
//! the executor (`world.runner.executor`) and refuses the ones without a module here. The
//! kubernetes executor would be `kubernetes.rs` (the build pod and the kubelet's pulls), shell
//! `shell.rs` (no images at all), docker+machine `docker_machine.rs` — each a match arm below.

mod docker;

use crate::credentials::Ignored;
use crate::pull::PullError;
use crate::services::StartedService;
use crate::trace::Trace;
use regsim_clients::engine::Engine;
use regsim_model::world::{Executor, World};
use regsim_wire::engine_api::ImageInspect;
use regsim_wire::job_api::JobPayload;

/// What an executor's preparation left: the job image (or why not), the services it started, and
/// the credential sources it skipped without a word.
pub struct Prepared {
    pub outcome: Result<ImageInspect, PullError>,
    pub services: Vec<StartedService>,
    pub ignored: Vec<Ignored>,
}

/// Prepares the job's environment with the world's executor, writing its lines to `t`.
pub async fn prepare(world: &World, payload: &JobPayload, engine: &Engine, t: &mut Trace) -> Prepared {
    match world.runner.executor {
        Executor::Docker => docker::prepare(world, payload, engine, t).await,
    }
}
