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

/// `regsim matrix --runner` shows each change of the runner's credential resolution where a
/// catalogue scenario crosses it (issue: credential resolution per release, bugs included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_matrix_shows_each_credential_resolution_change() {
    let rows_for = |file: &'static str, versions: &'static [&'static str]| async move {
        let runners: Vec<_> = versions.iter().map(|v| Some(parse_version(v).unwrap())).collect();
        matrix::run(&scenarios().join(file), &[None], &runners, &[None]).await
    };
    let outcome = |r: &matrix::Row| r.outcome.to_string();
    let log = |r: &matrix::Row| r.log.clone().unwrap_or_default();

    // 13.1 – 13.3: every source's entries in one map, Go's random order decides; 13.4 fixes it.
    let rows = rows_for(
        "runner-13-4-variable-beats-the-job-payload.yaml",
        &["13.0.0", "13.2.0", "13.4.0"],
    )
    .await;
    assert_eq!(outcome(&rows[0]), "succeeds");
    assert!(outcome(&rows[1]).contains("random map order"), "{}", outcome(&rows[1]));
    assert_eq!(outcome(&rows[2]), "succeeds");

    // Two keys for one registry in one source: random up to 18.2, sorted from 18.3.
    let rows = rows_for(
        "runner-18-3-two-keys-for-one-registry-sorted.yaml",
        &["18.2.0", "18.3.0"],
    )
    .await;
    assert!(outcome(&rows[0]).contains("random map order"), "{}", outcome(&rows[0]));
    assert_eq!(outcome(&rows[1]), "fails");

    // A helper's "not found" matches the image up to 18.2, nothing from 18.3.
    let rows = rows_for(
        "ecr-helper-finds-no-aws-credentials-runner-17.yaml",
        &["18.2.0", "18.3.0"],
    )
    .await;
    assert!(log(&rows[0]).contains("Authenticating with credentials from $DOCKER_AUTH_CONFIG"));
    assert!(!log(&rows[1]).contains("Authenticating with credentials from"));

    // A missing helper: silent up to 18.10, a warning from 18.11; credHelpers not run before 12.0.
    let rows = rows_for("ecr-credential-helper-not-installed.yaml", &["18.10.0", "18.11.0"]).await;
    assert!(!log(&rows[0]).contains("Failed to resolve credentials"));
    assert!(log(&rows[1]).contains("WARNING: Failed to resolve credentials from $DOCKER_AUTH_CONFIG"));
    let rows = rows_for("ecr-credential-helper-installed-pulls.yaml", &["11.10.0", "12.0.0"]).await;
    assert_eq!(
        (outcome(&rows[0]).as_str(), outcome(&rows[1]).as_str()),
        ("fails", "succeeds")
    );

    // Raw variables honoured from 12.10.
    let rows = rows_for("harbor-robot-name-in-a-raw-variable.yaml", &["12.9.0", "12.10.0"]).await;
    assert_eq!(
        (outcome(&rows[0]).as_str(), outcome(&rows[1]).as_str()),
        ("fails", "succeeds")
    );

    // http:// keys match no image in 17.5 – 18.0; file-type DOCKER_AUTH_CONFIG dropped in 16.9.0.
    let rows = rows_for(
        "runner-18-1-http-key-matches-again.yaml",
        &["17.4.0", "17.5.0", "18.1.0"],
    )
    .await;
    let auth = |r: &matrix::Row| log(r).contains("Authenticating with credentials from $DOCKER_AUTH_CONFIG");
    assert_eq!(
        (auth(&rows[0]), auth(&rows[1]), auth(&rows[2])),
        (true, false, true),
        "{:?}",
        rows.iter().map(outcome).collect::<Vec<_>>()
    );
    let rows = rows_for(
        "runner-16-9-1-file-docker-auth-config-read.yaml",
        &["16.8.0", "16.9.0", "16.9.1"],
    )
    .await;
    assert_eq!(
        (auth(&rows[0]), auth(&rows[1]), auth(&rows[2])),
        (true, false, true),
        "{:?}",
        rows.iter().map(outcome).collect::<Vec<_>>()
    );
}

/// The docker-autoscaler's dial lines by runner release: printed from 15.9, debug only in 16.6,
/// printed again from 16.7, and refused from 18.2 (the addresses they name are not confirmed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_matrix_shows_the_autoscaler_dial_lines() {
    let f = scenarios().join("seed-000-on-docker-autoscaler.yaml");
    let runners: Vec<_> = ["16.5.0", "16.6.0", "16.7.0", "18.2.0"]
        .iter()
        .map(|v| Some(parse_version(v).unwrap()))
        .collect();
    let rows = matrix::run(&f, &[None], &runners, &[None]).await;
    let dials = |r: &matrix::Row| {
        r.log
            .as_deref()
            .unwrap_or_default()
            .contains("Dialing instance i-0f3e9c2a7b1d84c56...")
    };
    assert_eq!((dials(&rows[0]), dials(&rows[1]), dials(&rows[2])), (true, false, true));
    assert!(rows[3].outcome.to_string().contains("addresses"), "{}", rows[3].outcome);
}

/// The kubernetes executor by runner release: 13.1 – 13.3 refused (pull-secret keys as written);
/// no Warning events and the apiserver's pod names up to
/// 16.1; the events printed in 16.2, behind an off-by-default flag from 16.3 (this scenario
/// turns it on in config.toml, so the header names it), the active-deadline line from 16.5, the
/// container named from 17.5, the shorter docs URL from 17.11, and refused from 18.0 (one line per
/// container in Go's map order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_matrix_shows_where_the_kubernetes_lines_change() {
    let f = scenarios().join("kubernetes-runner-16-8-warning-events-behind-a-flag.yaml");
    let runners: Vec<_> = [
        "13.2.0", "16.2.0", "16.4.0", "16.5.0", "17.5.0", "17.11.0", "18.0.0", "16.1.0",
    ]
    .iter()
    .map(|v| Some(parse_version(v).unwrap()))
    .collect();
    let rows = matrix::run(&f, &[None], &runners, &[None]).await;
    let log = |i: usize| rows[i].log.clone().unwrap_or_default();
    assert!(
        rows[0].outcome.to_string().contains("as written"),
        "{}",
        rows[0].outcome
    );
    assert!(!log(7).contains("Event retrieved"), "16.1 reads no events");
    assert!(
        log(7).contains("-concurrent-0x7k2p to be running"),
        "16.1: the apiserver's suffix"
    );
    assert!(log(1).contains("Event retrieved from the cluster: Error: ErrImagePull"));
    assert!(!log(1).contains("feature flags:"), "16.2 does not declare the flag");
    assert!(log(2).contains("  feature flags: FF_RETRIEVE_POD_WARNING_EVENTS:true"));
    assert!(
        log(2).contains("Event retrieved from the cluster"),
        "the flag turns them on"
    );
    assert!(!log(2).contains("activeDeadlineSeconds"));
    assert!(log(3).contains("the Pod activeDeadlineSeconds will be set to the job timeout: 1h0m0s..."));
    assert!(log(4).contains("for container \"build\" with policy \"\""));
    assert!(log(4).contains("shells/index.html#shell-profile-loading"));
    assert!(log(5).contains("https://docs.gitlab.com/runner/shells/#shell-profile-loading"));
    assert!(!log(5).contains("feature flags:"), "on by default from 17.2");
    assert!(rows[6].outcome.to_string().contains("map"), "{}", rows[6].outcome);
}
