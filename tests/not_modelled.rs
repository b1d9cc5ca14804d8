//! Scenarios whose behaviour regsim knows it does not model: the run must stop with a reason,
//! never print a log made of guesses.

use regsim::run::{Overrides, load, run_world};
use std::path::PathBuf;

/// The run's refusal: it must be typed as not modelled, and its text says why.
async fn stops_with(file: &str, overrides: &Overrides) -> String {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../").join(file);
    let world = load(&f, overrides).expect("the file is valid");
    let err = run_world(&world, &f)
        .await
        .expect_err("the run must stop as not modelled");
    assert!(err.not_modelled().is_some(), "not typed as not modelled: {err}");
    err.to_string()
}

#[tokio::test]
async fn a_private_group_behind_the_13_6_proxy_stops_at_the_sign_in_redirect() {
    let err = stops_with(
        "tests/not_modelled/dependency-proxy-13-6-private-group.yaml",
        &Overrides::default(),
    )
    .await;
    assert!(
        err.contains(regsim_wire::NotModelled::PREFIX) && err.contains("302") && err.contains("/users/sign_in"),
        "{err}"
    );
}

#[tokio::test]
async fn docker_20_asking_a_13_9_proxy_for_a_digest_stops_with_the_reason() {
    let overrides = Overrides {
        docker: Some(semver::Version::new(20, 10, 24)),
        ..Default::default()
    };
    let err = stops_with(
        "scenarios/dependency-proxy-13-9-runner-auto-auth-pulls.yaml",
        &overrides,
    )
    .await;
    assert!(
        err.contains(regsim_wire::NotModelled::PREFIX) && err.contains("13.7–13.9") && err.contains("by digest"),
        "{err}"
    );
}
