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

/// A script that names an address the scenario has no server for (an IP literal included) is
/// never dialled: the simulated clients reach only the stage's own mocks, and the run stops.
#[tokio::test]
async fn a_script_naming_an_unknown_address_dials_nothing() {
    let outsider = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    outsider.set_nonblocking(true).unwrap();
    let port = outsider.local_addr().unwrap().port();
    let src =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/dependency-proxy-docker-login-in-the-job.yaml");
    let text = std::fs::read_to_string(&src).unwrap();
    let start = text.find("  script:").unwrap();
    let end = start + text[start..].find("\nrunner:").unwrap();
    let edited = format!(
        "{}  script: ['docker login -u someone -p something 127.0.0.1:{port}']{}",
        &text[..start],
        &text[end..]
    );
    let dir = std::env::temp_dir().join(format!("regsim-outsider-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("outsider.yaml");
    std::fs::write(&f, edited).unwrap();
    let world = load(&f, &Overrides::default()).expect("the file is valid");
    let err = run_world(&world, &f)
        .await
        .expect_err("the run must stop as not modelled");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(err.not_modelled().is_some(), "{err}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(
        outsider.accept().is_err(),
        "the simulated client dialled an address outside the stage"
    );
}
