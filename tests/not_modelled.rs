//! Scenarios whose behaviour regsim knows it does not model: the run must stop with a reason,
//! never print a log made of guesses.

use regsim::run::{Overrides, load, run_world};
use std::path::PathBuf;

#[tokio::test]
async fn a_dependency_proxy_pull_before_13_10_stops_with_the_reason() {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/not_modelled/dependency-proxy-13-9-pull.yaml");
    let world = load(&f, &Overrides::default()).expect("the file is valid");
    let err = run_world(&world, &f)
        .await
        .expect_err("a pre-13.10 proxy pull is not modelled");
    assert!(
        err.contains("without an Accept header") && err.contains("schema 1"),
        "{err}"
    );
}
