//! The shell executor (`executors/shell`): no image and no services; the job's commands run on
//! the runner host as the runner's user, whose `~/.docker/config.json` keeps every earlier
//! `docker login` (runner-executors-credentials.md §6).

use super::Prepared;
use crate::trace::Trace;
use regsim_model::versions::executors::shell::using_line;
use regsim_model::versions::lookup;
use regsim_model::world::World;

/// The shell regsim's scripts are written for.
const SHELL: &str = "bash";

pub(super) fn prepare(world: &World, t: &mut Trace) -> Prepared {
    let release = &world.runner.release;
    let clock = world.clock.unix_timestamp();
    let line = lookup(&using_line(), &world.runner.version)
        .expect("the table starts at 10.0")
        .value
        .text(SHELL);
    if release.sections {
        t.open_section("prepare_executor", clock, "Preparing the \"shell\" executor");
    }
    t.println(&line);
    if release.sections {
        t.section_end("prepare_executor", clock);
    }
    Prepared {
        outcome: Ok(()),
        services: Vec::new(),
        ignored: Vec::new(),
        build_image_line: None,
        script_failure: super::ScriptFailure::ShellExitStatus,
    }
}
