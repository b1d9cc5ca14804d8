//! Workshop mode: `regsim serve` answers for an edited scenario without a restart — same
//! addresses, same trace — so a teacher can flip a setting while participants pull.

use regsim::run::{Overrides, job_env, load, simulated_engine};
use regsim_runner::run_job;
use regsim_servers::{Placement, Stage};
use std::path::PathBuf;

fn scenario(name: &str) -> regsim_model::world::World {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(name);
    load(&f, &Overrides::default()).expect("catalogue scenario loads")
}

#[tokio::test]
async fn a_reloaded_stage_keeps_its_addresses_and_answers_for_the_new_world() {
    let blocked = scenario("seed-000-allowlist-blocks-cross-project-pull.yaml");
    let allowed = scenario("allowlist-entry-added-pulls.yaml");
    let mut stage = Stage::start(&blocked, Placement::Loopback).await.unwrap();
    let (gitlab, registry) = (*stage.gitlab.address(), *stage.registry.address());
    let mut trace = stage.journal.subscribe();

    let before = run_job(&job_env(&stage), &simulated_engine(&stage)).await.unwrap();
    assert!(!before.image_ready, "{}", before.plain);

    stage.reload(&allowed, Placement::Loopback).await.unwrap();
    assert_eq!((*stage.gitlab.address(), *stage.registry.address()), (gitlab, registry));
    let after = run_job(&job_env(&stage), &simulated_engine(&stage)).await.unwrap();
    assert!(after.image_ready, "{}", after.plain);
    // The live trace goes on across the reload.
    let mut seen = 0;
    while trace.try_recv().is_ok() {
        seen += 1;
    }
    assert!(seen > 6, "{seen} exchanges traced");
}

#[tokio::test]
async fn an_edit_that_needs_other_servers_is_refused_and_the_old_world_stays() {
    let gitlab_only = scenario("seed-000-allowlist-blocks-cross-project-pull.yaml");
    let with_hub = scenario("seed-002-dependency-proxy-below-guest-404.yaml");
    let mut stage = Stage::start(&gitlab_only, Placement::Loopback).await.unwrap();
    let err = stage.reload(&with_hub, Placement::Loopback).await.unwrap_err();
    assert!(err.to_string().contains("docker_hub"), "{err}");
    assert_eq!(stage.world.name, gitlab_only.name);
}
