//! `regsim run --engine real`: each scenario's job through the user's own Docker daemon on the
//! same loopback mocks, beside regsim's prediction for that daemon's version; one observation
//! record per scenario compared (docs/json-observation.md).

use super::catalogue::RunArgs;
use super::{RunFormat, broken, runtime};
use crate::run::observation::{Line, Observation, not_comparable, observe};
use crate::run::{Overrides, collect, load};
use crate::term::{GREEN, RED, YELLOW, emitln, paint, warn};
use regsim_clients::engine::real::RealDaemon;
use regsim_model::scenario::printable::text as safe;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// What became of one scenario.
enum Verdict {
    Compared(Box<Observation>, PathBuf),
    NotCompared(String),
    Broken(String),
}

pub(super) fn run(a: RunArgs, observations: &Path) -> ExitCode {
    if a.overrides.docker.is_some() {
        return broken("--docker with --engine real: regsim predicts for the daemon's own version");
    }
    if a.format == RunFormat::Junit {
        return broken("--engine real reports as text or json (an observation is not a test case)");
    }
    if a.raw {
        return broken("--engine real compares the job page's text and the raw bytes; --raw has nothing to add");
    }
    if a.jobs > 1 {
        return broken("--engine real runs one scenario at a time: the daemon's image store is shared");
    }
    if a.summary && a.format != RunFormat::Text {
        return broken("--summary is a text report");
    }
    let files = match collect(&a.paths) {
        Ok(f) => f,
        Err(e) => return broken(e),
    };
    let files: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| super::catalogue::selected(f, &a.filter))
        .collect();
    if files.is_empty() {
        return broken("no scenario files to run");
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return broken(e),
    };
    rt.block_on(async {
        let daemon = match RealDaemon::connect().await {
            Ok(d) => Arc::new(d),
            Err(e) => {
                return broken(format!(
                    "--engine real: no Docker daemon answers ({e}); start dockerd, or point DOCKER_HOST=unix://… at \
                     its socket"
                ));
            }
        };
        let engine = match daemon.version_info().await {
            Ok(v) => v,
            Err(e) => return broken(format!("--engine real: the daemon does not say its version: {e}")),
        };
        let docker = match regsim_model::versions::parse_version(&engine.version) {
            Ok(v) => v,
            Err(e) => return broken(format!("--engine real: {e}")),
        };
        if let Err(e) = std::fs::create_dir_all(observations) {
            return broken(format!("{}: {e}", observations.display()));
        }
        let overrides = Overrides {
            docker: Some(docker),
            ..a.overrides.clone()
        };
        let regsim = format!("regsim {}", super::VERSION);
        let mut verdicts = Vec::new();
        for file in &files {
            let verdict = one(file, &overrides, &daemon, &engine, &regsim, observations).await;
            if a.format == RunFormat::Text {
                emitln(&render(file, &verdict, a.summary, a.colour));
            }
            verdicts.push((file.clone(), verdict));
        }
        let count = |f: fn(&Verdict) -> bool| verdicts.iter().filter(|(_, v)| f(v)).count();
        let agree = count(|v| matches!(v, Verdict::Compared(o, _) if o.agree));
        let differ = count(|v| matches!(v, Verdict::Compared(o, _) if !o.agree));
        let not_compared = count(|v| matches!(v, Verdict::NotCompared(_)));
        let broken_files = count(|v| matches!(v, Verdict::Broken(_)));
        if a.format == RunFormat::Json {
            emitln(&json(&engine, &verdicts));
        }
        warn(&format!(
            "regsim: {} scenarios on dockerd {} at {}: {agree} agree, {differ} differ, {not_compared} not compared, \
             {broken_files} broken",
            verdicts.len(),
            engine.version,
            daemon.socket().display()
        ));
        if broken_files > 0 {
            ExitCode::from(2)
        } else if differ > 0 || not_compared > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    })
}

async fn one(
    file: &Path,
    overrides: &Overrides,
    daemon: &Arc<RealDaemon>,
    engine: &regsim_wire::engine_api::EngineVersion,
    regsim: &str,
    dir: &Path,
) -> Verdict {
    let world = match load(file, overrides) {
        Ok(w) => w,
        Err(e) => return Verdict::Broken(e.to_string()),
    };
    if let Some(why) = not_comparable(&world) {
        return Verdict::NotCompared(why.to_string());
    }
    match observe(&world, file, daemon.clone(), engine, regsim).await {
        Ok(o) => {
            let stem = file.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
            let path = dir.join(format!("{stem}.dockerd-{}.json", engine.version));
            let body = serde_json::to_string_pretty(&o).expect("an observation serialises");
            match std::fs::write(&path, body + "\n") {
                Ok(()) => Verdict::Compared(Box::new(o), path),
                Err(e) => Verdict::Broken(format!("{}: {e}", path.display())),
            }
        }
        Err(e) => match e.not_modelled() {
            Some(n) => Verdict::NotCompared(n.to_string()),
            None => Verdict::Broken(format!("{}: {e}", file.display())),
        },
    }
}

/// One scenario as text: the two job pages line by line (each line once where they agree, a
/// `regsim` / `dockerd` pair where they part), then the verdict and where the record went.
fn render(file: &Path, v: &Verdict, summary: bool, colour: bool) -> String {
    let name = file.display();
    let o = match v {
        Verdict::NotCompared(why) => return format!("{} {name}  ({why})", paint(colour, YELLOW, "not compared")),
        Verdict::Broken(why) => return format!("{} {name}  ({why})", paint(colour, YELLOW, "broken      ")),
        Verdict::Compared(o, path) if summary => {
            let word = if o.agree {
                paint(colour, GREEN, "agree       ")
            } else {
                paint(colour, RED, "differ      ")
            };
            return format!("{word} {name}  (record: {})", path.display());
        }
        Verdict::Compared(o, _) => o,
    };
    let mut s = format!(
        "━━ {name}\nregsim's prediction for Docker {} (runner {}, GitLab {}, {} executor) beside dockerd {} ({}, API {}, \
         {}/{}) at {}\n",
        o.predicted_for,
        o.runner,
        o.gitlab,
        o.executor,
        o.engine.version,
        o.engine.go_version,
        o.engine.api_version,
        o.engine.os,
        o.engine.arch,
        o.socket
    );
    for line in &o.lines {
        match line {
            Line::Same { text } => s.push_str(&format!("          │ {}\n", safe(text))),
            Line::Differ { regsim, daemon } => {
                let side = |who: &str, t: &Option<String>| match t {
                    Some(t) => format!("{who} │ {}\n", safe(t)),
                    None => format!("{who} │ (no line)\n"),
                };
                s.push_str(&paint(colour, RED, &side("  regsim  ", regsim)));
                s.push_str(&paint(colour, GREEN, &side("  dockerd ", daemon)));
            }
        }
    }
    let differing = o.lines.iter().filter(|l| matches!(l, Line::Differ { .. })).count();
    let left_out = if o.left_out > 0 {
        format!(
            " ({} layer-status line{} dockerd may or may not send left out)",
            o.left_out,
            if o.left_out == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    let verdict = if o.agree {
        paint(colour, GREEN, "agree:")
            + &format!(" the daemon printed every line regsim predicted, byte for byte{left_out}")
    } else if differing == 0 {
        paint(colour, RED, "differ:") + " the texts agree but the raw trace's bytes (colours, section markers) do not"
    } else {
        paint(colour, RED, "differ:")
            + &format!(
                " {differing} line{} differ{left_out}",
                if differing == 1 { "" } else { "s" }
            )
    };
    let path = match v {
        Verdict::Compared(_, p) => p.display().to_string(),
        _ => String::new(),
    };
    s.push_str(&format!("{verdict}\nrecord: {path} (source: {})", o.source));
    s
}

fn json(engine: &regsim_wire::engine_api::EngineVersion, verdicts: &[(PathBuf, Verdict)]) -> String {
    let mut observations = Vec::new();
    let mut not_compared = Vec::new();
    let mut broken = Vec::new();
    for (file, v) in verdicts {
        match v {
            Verdict::Compared(o, path) => observations.push(serde_json::json!({
                "record": path.display().to_string(),
                "observation": o,
            })),
            Verdict::NotCompared(why) => {
                not_compared.push(serde_json::json!({ "scenario": file.display().to_string(), "why": why }))
            }
            Verdict::Broken(why) => {
                broken.push(serde_json::json!({ "scenario": file.display().to_string(), "error": why }))
            }
        }
    }
    serde_json::to_string_pretty(&serde_json::json!({
        "engine": engine,
        "observations": observations,
        "not_compared": not_compared,
        "broken": broken,
    }))
    .expect("the report serialises")
}
