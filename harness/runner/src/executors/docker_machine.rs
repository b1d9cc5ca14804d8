//! docker+machine (`executors/docker/machine`): the docker executor on a worker VM that
//! docker-machine provides. Its own messages (`Using existing docker-machine`, `Created
//! docker-machine`, `Starting docker-machine build...`) go to the runner's log, not the job's
//! (v17.5.0 `executors/docker/machine/machine.go:30,83,85,99`), so the job log is the docker
//! executor's under its own name (the 13.12 job-log corpus, v14.1.0
//! `helpers/trace/testdata/corpus/log-1`). Credentials and helpers are the manager's: the runner
//! process resolves them and sends them in the API request; the worker VM's own config.json plays
//! no part (runner-executors-credentials.md §1).

use super::Prepared;
use super::docker::{Flavour, prepare as prepare_docker};
use crate::trace::Trace;
use regsim_clients::engine::Engine;
use regsim_model::world::World;
use regsim_wire::job_api::JobPayload;

pub(super) async fn prepare(world: &World, payload: &JobPayload, engine: &Engine, t: &mut Trace) -> Prepared {
    let flavour = Flavour {
        name: "docker+machine",
        per_attempt: Vec::new(),
        no_retry: None,
    };
    prepare_docker(world, payload, engine, t, &flavour).await
}
