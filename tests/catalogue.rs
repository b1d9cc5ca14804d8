//! Every catalogue scenario, run on the mocks with the simulated engine: its outcome must match
//! its expectation, and its whole report (derived defaults, the HTTP exchange, the job log) must
//! match the reviewed snapshot in `snapshots/`. No filters: ports never appear in named mode, and
//! clocks and ids come from the scenario.

use regsim::run::{Overrides, load, render_text, run_world};
use rstest::rstest;
use std::path::PathBuf;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario(#[files("../../scenarios/**/*.yaml")] path: PathBuf) {
    let world = load(&path, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    // Shown as `scenarios/…`, whatever the checkout's absolute path.
    let parts: Vec<_> = path.components().collect();
    let at = parts
        .iter()
        .rposition(|c| c.as_os_str() == "scenarios")
        .expect("under scenarios/");
    let shown: PathBuf = parts[at..].iter().collect();
    let report = run_world(&world, &shown)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = render_text(&report, false);
    assert!(report.ok(), "{text}");
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(world.name.as_str(), text);
    });
}
