//! The executor seam: how a job's images are prepared before its script runs. One module per
//! executor, its per-release facts as rows of `regsim_model::versions::runner`; the world names
//! the executor (`world.runner.executor`) and refuses the ones without a module here.
//! docker+machine and docker-autoscaler are the docker executor under their own names (and the
//! autoscaler's dial lines). `kubernetes` creates the build pod and relays the kubelet's pulls
//! through `regsim_clients::containerd`; `shell` pulls no image at all.

mod docker;
mod docker_autoscaler;
mod docker_machine;
mod kubernetes;
mod shell;

pub use kubernetes::cri_requests;

use crate::JobEnv;
use crate::credentials::Ignored;
use crate::pull::PullError;
use crate::services::StartedService;
use crate::trace::Trace;
use regsim_clients::engine::Engine;
pub use regsim_model::versions::job_script::ScriptFailure;
use regsim_model::world::Executor;
use regsim_wire::job_api::JobPayload;

/// What an executor's preparation left: whether the job can go on to its script (or why not),
/// the services it started, and the credential sources it skipped without a word.
pub struct Prepared {
    pub outcome: Result<(), PullError>,
    pub services: Vec<StartedService>,
    pub ignored: Vec<Ignored>,
    /// The line the executor prints when the script's container is created from the build
    /// image (docker executors from 13.9: `Using docker image … for IMAGE …` again).
    pub build_image_line: Option<String>,
    /// How the executor words a script's non-zero exit.
    pub script_failure: ScriptFailure,
}

impl Prepared {
    /// A preparation that cannot be told, before anything ran.
    pub(crate) fn unmodelled(m: regsim_wire::NotModelled) -> Prepared {
        Prepared {
            outcome: Err(PullError::unmodelled(m)),
            services: Vec::new(),
            ignored: Vec::new(),
            build_image_line: None,
            script_failure: ScriptFailure::DockerExitCode,
        }
    }
}

/// Prepares the job's environment with the world's executor, writing its lines to `t`.
pub async fn prepare(env: &JobEnv<'_>, payload: &JobPayload, engine: &Engine, t: &mut Trace) -> Prepared {
    let world = env.world;
    match world.runner.executor {
        Executor::Docker => docker::prepare(world, payload, engine, t, &docker::Flavour::docker()).await,
        Executor::DockerMachine => docker_machine::prepare(world, payload, engine, t).await,
        Executor::DockerAutoscaler => docker_autoscaler::prepare(world, payload, engine, t).await,
        Executor::Kubernetes => kubernetes::prepare(world, payload, env, t).await,
        Executor::Shell => shell::prepare(world, t),
    }
}
