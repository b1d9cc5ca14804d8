//! A pasted job log, whatever it holds: matched against the catalogue's logs and rendered as
//! `regsim diagnose` prints it, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use regsim::diagnose::{Knowledge, diagnose, render};
use std::path::Path;
use std::sync::OnceLock;

/// The catalogue's knowledge, built once per fuzzing process: it runs every scenario.
fn knowledge() -> &'static Knowledge {
    static K: OnceLock<Knowledge> = OnceLock::new();
    K.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let k = rt.block_on(Knowledge::build(&dir)).expect("the catalogue runs");
        // A catalogue that did not run would make every input match nothing: fuzzing in vain.
        assert!(
            k.skipped.is_empty() && !k.entries.is_empty(),
            "the catalogue did not run whole: {:?}",
            k.skipped
        );
        k
    })
}

fuzz_target!(
    // Before the first input, so that libFuzzer's `-timeout` does not count the catalogue's run.
    init: {
        knowledge();
    },
    |data: &[u8]| {
    let k = knowledge();
    let d = diagnose(k, data);
    let _ = render(k, &d, "fuzz", 5);
    let _ = d.matched_failure_lines();
    }
);
