//! docker-autoscaler (`executors/docker/autoscaler`, v15.9.0 →): the docker executor on an
//! instance a fleeting plugin provides. Its `Prepare` acquires the instance and prints the dial
//! lines before the docker executor's, per release (`versions::runner::autoscaler_dial`).

use super::Prepared;
use super::docker::{Flavour, prepare as prepare_docker};
use crate::trace::Trace;
use regsim_clients::engine::Engine;
use regsim_model::versions::runner::AutoscalerDial;
use regsim_model::world::World;
use regsim_wire::job_api::JobPayload;

pub(super) async fn prepare(world: &World, payload: &JobPayload, engine: &Engine, t: &mut Trace) -> Prepared {
    let id = &world.runner.instance_id;
    let per_attempt = match world.runner.release.autoscaler_dial {
        Some(AutoscalerDial::Printed) => vec![format!("Dialing instance {id}..."), format!("Instance {id} connected")],
        Some(AutoscalerDial::DebugOnly) => Vec::new(),
        Some(AutoscalerDial::WithAddresses) | None => {
            let m = regsim_wire::NotModelled::new(format!(
                "gitlab-runner {}: the docker-autoscaler's dial line names the instance's addresses from 18.2.0, \
                 and which ones is not confirmed (runner-executors-credentials.md §4)",
                world.runner.version
            ));
            return Prepared::unmodelled(m);
        }
    };
    let flavour = Flavour {
        name: "docker-autoscaler",
        per_attempt,
        // A retried preparation releases the instance and acquires one again: whether the same.
        no_retry: Some(format!(
            "gitlab-runner {}: a docker-autoscaler preparation that is retried acquires an instance again, and \
             which one is not known",
            world.runner.version
        )),
    };
    prepare_docker(world, payload, engine, t, &flavour).await
}
