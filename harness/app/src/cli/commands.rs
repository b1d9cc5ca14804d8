//! `explain`, `serve`, `diagnose` and `matrix`: each reads its input, runs, and writes through
//! [`crate::term`].

use super::{ExplainFormat, Format, broken, runtime};
use crate::matrix;
use crate::run::{Batch, Overrides};
use crate::term::{self, emit, warn};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(super) fn explain(path: &Path, format: ExplainFormat, overrides: &Overrides, colour: bool) -> ExitCode {
    let world = match crate::run::load(path, overrides) {
        Ok(w) => w,
        Err(e) => return broken(e),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return broken(e),
    };
    let report = match rt.block_on(crate::run::run_world(&world, path)) {
        Ok(r) => r,
        Err(e) => return broken(format!("{}: {e}", path.display())),
    };
    let x = crate::explain::explain(&world, &report);
    match format {
        ExplainFormat::Text => emit(&crate::explain::text::render(&x, colour)),
        ExplainFormat::Mermaid => emit(&crate::explain::mermaid::render(&x)),
        ExplainFormat::Html => emit(&crate::explain::html::render(&x)),
    }
    ExitCode::SUCCESS
}

pub(super) fn serve(path: &Path, options: &crate::serve::Options) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return broken(e),
    };
    match crate::serve::serve(path, options, &rt) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => broken(e),
    }
}

pub(super) fn diagnose(
    file: &Path,
    emit_to: Option<&Path>,
    catalogue: Option<PathBuf>,
    max: usize,
    format: Format,
) -> ExitCode {
    let (input, source) = match crate::diagnose::read_log(file) {
        Ok(read) => read,
        Err(e) => return broken(e),
    };
    let dir = catalogue.unwrap_or_else(crate::diagnose::default_catalogue);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return broken(e),
    };
    rt.block_on(async move {
        let batch = Batch {
            jobs: 0,
            // The length is set once the catalogue's files are known.
            progress: term::progress::bar(usize::MAX, "catalogue"),
        };
        let built = crate::diagnose::Knowledge::load_or_build(&dir, &batch).await;
        batch.progress.finish_and_clear();
        let k = match built {
            Ok((k, _)) => k,
            Err(e) => return broken(format!("catalogue {}: {e}", dir.display())),
        };
        let d = crate::diagnose::diagnose(&k, &input);
        match format {
            Format::Text => emit(&crate::diagnose::render(&k, &d, &source, max)),
            Format::Json => emit(&crate::diagnose::json::render(&k, &d, &source, max)),
        }
        let mut reproduced = true;
        if let Some(out) = emit_to {
            match crate::diagnose::emit::emit(&k, &d, &source, out).await {
                // In JSON the document is the whole of standard output; the emitted scenario's
                // report is for people.
                Ok(em) if format == Format::Json => {
                    reproduced = em.reproduces_any();
                    warn(em.render().trim_end())
                }
                Ok(em) => {
                    reproduced = em.reproduces_any();
                    emit(&em.render())
                }
                Err(e) => {
                    warn(&format!("regsim: --emit-scenario: {e}"));
                    return ExitCode::from(if d.candidates.is_empty() { 1 } else { 2 });
                }
            }
        }
        // No failure mode, or an emitted scenario that reproduces none of the log's failure
        // lines: exit 1.
        if d.candidates.is_empty() || !reproduced {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    })
}

pub(super) fn matrix(
    path: &Path,
    [gitlab, runner, docker]: [Option<String>; 3],
    format: Format,
    jobs: usize,
) -> ExitCode {
    let list = |spec: &Option<String>, known: &[semver::Version]| -> Result<Vec<Option<semver::Version>>, String> {
        match spec {
            None => Ok(vec![None]),
            Some(s) => Ok(matrix::expand(s, known)?.into_iter().map(Some).collect()),
        }
    };
    let lists = (|| {
        Ok::<_, String>((
            list(&gitlab, &[])?,
            list(&runner, &matrix::runner_minors())?,
            list(&docker, &matrix::docker_representatives())?,
        ))
    })();
    let (g, r, d) = match lists {
        Ok(l) => l,
        Err(e) => return broken(e),
    };
    if let Err(e) = crate::run::load(path, &Overrides::default()) {
        return broken(e);
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return broken(e),
    };
    let batch = Batch {
        jobs,
        progress: term::progress::bar(g.len() * r.len() * d.len(), "combinations"),
    };
    let rows = rt.block_on(matrix::run_batch(path, &g, &r, &d, &batch));
    batch.progress.finish_and_clear();
    match format {
        Format::Text => emit(&matrix::render(&rows)),
        Format::Json => emit(&matrix::json::render(&path.display().to_string(), &rows)),
    }
    ExitCode::SUCCESS
}

/// `regsim import`: reads the files, writes the scenario, and loads it before saying so.
pub(super) fn import(
    gitlab_ci: &Path,
    job: Option<&str>,
    config: Option<(&Path, Option<&str>)>,
    mut options: crate::import::Options,
    gitlab_api: &[String],
    output: Option<&Path>,
) -> ExitCode {
    options.api = match crate::import::gitlab_api::read_all(gitlab_api) {
        Ok(f) => f,
        Err(e) => return broken(e),
    };
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let ci = match read(gitlab_ci)
        .and_then(|t| crate::import::gitlab_ci::read(&t, job).map_err(|e| format!("{}: {e}", gitlab_ci.display())))
    {
        Ok(c) => c,
        Err(e) => return broken(e),
    };
    let mut sources = format!("{} (job `{}`)", gitlab_ci.display(), ci.name);
    let runner = match config {
        None => None,
        Some((path, name)) => match read(path)
            .and_then(|t| crate::import::config_toml::read(&t, name).map_err(|e| format!("{}: {e}", path.display())))
        {
            Ok(r) => {
                sources.push_str(&format!(" and {}", path.display()));
                Some(r)
            }
            Err(e) => return broken(e),
        },
    };
    if !gitlab_api.is_empty() {
        sources.push_str(&format!(" and GitLab's API ({})", gitlab_api.join(", ")));
    }
    let text = crate::import::write(&ci, runner.as_ref(), &options, &sources);
    // The scenario must load: check it where it is written (or in a scratch file for stdout).
    let scratch;
    let path = match output {
        Some(p) => p,
        None => {
            scratch = std::env::temp_dir().join(format!("regsim-import-{}.yaml", std::process::id()));
            &scratch
        }
    };
    if let Err(e) = std::fs::write(path, &text) {
        return broken(format!("{}: {e}", path.display()));
    }
    let loaded = crate::run::load(path, &Overrides::default());
    if output.is_none() {
        let _ = std::fs::remove_file(path);
    }
    if let Err(e) = loaded {
        return broken(format!(
            "the imported scenario does not load (a regsim bug, please report it): {e}"
        ));
    }
    match output {
        Some(p) => {
            warn(&format!(
                "regsim: wrote {} (replace the UNKNOWN values, then `regsim run` it)",
                p.display()
            ));
            ExitCode::SUCCESS
        }
        None => {
            emit(&text);
            ExitCode::SUCCESS
        }
    }
}
