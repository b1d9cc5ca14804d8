//! A scenario file's bytes, whatever they are: read, checked and turned into a world as
//! `regsim run` does — an error for anything that is not a scenario, never a panic, and in time
//! linear in the input (the structure check drives libyaml's scanner through raw pointers).

#![no_main]

use libfuzzer_sys::fuzz_target;
use regsim_model::{scenario, world};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.yaml");
    match scenario::load_bytes(path, data) {
        Ok((s, text)) => {
            if let Err(e) = world::build(path, &text, &s, &Default::default()) {
                // Formatting locates the field in the text again: part of what a user sees.
                let _ = e.to_string();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
