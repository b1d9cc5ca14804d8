//! `regsim matrix` and `regsim run` read one outcome (`JobLog::outcome`): on every catalogue
//! scenario, and on a version the scenario does not pin, they agree.

use regsim::matrix::{self, RowOutcome};
use regsim::run::{Overrides, collect, load, run_world};
use regsim_model::versions::parse_version;
use std::path::PathBuf;

fn scenarios() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

async fn run_outcome(path: &std::path::Path, overrides: &Overrides) -> String {
    let world = load(path, overrides).unwrap_or_else(|e| panic!("{e}"));
    match run_world(&world, path).await {
        Ok(r) => RowOutcome::Ran(r.outcome).to_string(),
        Err(e) => format!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_and_run_agree_on_every_catalogue_scenario() {
    let files = collect(&[scenarios()]).unwrap();
    assert!(files.len() > 70, "{} scenarios", files.len());
    for f in files {
        let rows = matrix::run(&f, &[None], &[None], &[None]).await;
        assert_eq!(rows.len(), 1);
        let from_run = run_outcome(&f, &Overrides::default()).await;
        assert_eq!(rows[0].outcome.to_string(), from_run, "{}", f.display());
    }
}

/// The case that found the double computation: seed 003's job fails in its script (the old
/// client's push is denied) although its image is ready; matrix once said "succeeds".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_script_fails_the_row_too() {
    let f = scenarios().join("seed-003-sbt-publish-old-docker-client-denied.yaml");
    let docker = parse_version("18.09.4").unwrap();
    let rows = matrix::run(&f, &[None], &[None], &[Some(docker.clone())]).await;
    let overrides = Overrides {
        docker: Some(docker),
        ..Default::default()
    };
    assert_eq!(rows[0].outcome.to_string(), "fails");
    assert_eq!(run_outcome(&f, &overrides).await, "fails");
    // The row's log holds the script's output, so a change there shows as a difference.
    assert!(
        rows[0].log.as_deref().unwrap_or_default().contains("denied"),
        "{:?}",
        rows[0].log
    );
}
