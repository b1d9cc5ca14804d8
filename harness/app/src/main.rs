//! `regsim`: run scenario files and print the job logs they produce.

use clap::{Parser, Subcommand, ValueEnum};
use regsim::run::{Overrides, collect, render_text, run_all};
use regsim::{matrix, report};
use regsim_model::versions::parse_version;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "regsim",
    version,
    about = "GitLab container-registry authentication and the job logs it produces, reproduced"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    /// One JSON document (docs/json-report.md).
    Json,
    /// JUnit XML: one testcase per scenario, for GitLab's merge-request test reports.
    Junit,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Text,
    Mermaid,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios (files, or directories searched recursively) and print each job log.
    /// Exits 1 when a scenario's outcome differs from its expectation, 2 when a file is broken.
    Run {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        versions: Versions,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Print the job log as the bytes the runner writes (colours, section markers, resets)
        /// instead of the text of the job page.
        #[arg(long)]
        raw: bool,
    },
    /// Explain a scenario's auth flow: each HTTP exchange (request line, headers that matter,
    /// status, body), each registry JWT decoded with the granted access next to what was asked,
    /// and the rule behind every decision, down to the job log's error line.
    Explain {
        path: PathBuf,
        /// `text` (colour only on a terminal, never with NO_COLOR) or `mermaid` (a sequence
        /// diagram).
        #[arg(long, value_enum, default_value = "text")]
        format: ExplainFormat,
        #[command(flatten)]
        versions: Versions,
    },
    /// Keep a scenario's mock servers up on loopback for real clients (docker login, docker
    /// pull), printing each identity's credentials and every request as it happens.
    Serve {
        path: PathBuf,
        /// `IP[:PORT]`: the registry listens there, GitLab on PORT+1, other registries after.
        /// Default: 127.0.0.1 on free ports.
        #[arg(long)]
        listen: Option<String>,
        /// Print every identity's password or token in full (by default they are masked; the
        /// scenario file holds them).
        #[arg(long)]
        show_secrets: bool,
        /// Stamp and check tokens with the machine's clock, so they expire as on a real GitLab
        /// (by default the scenario's clock stands still and tokens never expire).
        #[arg(long)]
        live_clock: bool,
        /// Sign tokens with keys made at start instead of the committed test key, which anyone
        /// can use to mint tokens the mocks accept.
        #[arg(long)]
        fresh_keys: bool,
        /// Seconds a connection may stay idle before the servers close it.
        #[arg(long, default_value_t = 30)]
        idle_timeout: u64,
    },
    /// Read a job log as pasted (raw trace or the job page's text, with or without timestamps,
    /// whole or partial; `-` reads stdin) and name the known failure modes it matches, the
    /// gitlab-runner and Docker versions it can come from, and the fixes. The catalogue
    /// scenarios are its knowledge. Exits 0 when a failure mode matches, 1 when none does, 2 when
    /// the log or the catalogue cannot be read.
    Diagnose {
        file: PathBuf,
        /// Write a scenario that reproduces the log's failure lines (checked by running it).
        #[arg(long)]
        emit_scenario: Option<PathBuf>,
        /// The scenario directory to learn from (default: ./scenarios, else the repository's).
        #[arg(long)]
        catalogue: Option<PathBuf>,
        /// How many root causes to show.
        #[arg(long, default_value_t = 5)]
        max: usize,
    },
    /// Run one scenario across versions and show, row by row, the first job-log line that
    /// changed: which upgrade changed this? Lists (`16.2.0,16.6.0`) and ranges (`13.0..17.0`,
    /// walking the known releases) are accepted; a flag left out keeps the scenario's version.
    Matrix {
        path: PathBuf,
        /// gitlab-runner releases; ranges walk the first tag of each minor release.
        #[arg(long)]
        runner: Option<String>,
        /// Docker Engine versions; ranges walk one representative per engine-table row.
        #[arg(long)]
        docker: Option<String>,
        /// GitLab versions (lists only).
        #[arg(long)]
        gitlab: Option<String>,
    },
}

/// The versions a run uses instead of the scenario's, typed from here to the world.
#[derive(clap::Args)]
struct Versions {
    /// gitlab-runner release to use instead of the scenario's.
    #[arg(long, value_parser = parse_version)]
    runner: Option<semver::Version>,
    /// Docker Engine version to use instead of the scenario's.
    #[arg(long, value_parser = parse_version)]
    docker: Option<semver::Version>,
    /// GitLab version to use instead of the scenario's.
    #[arg(long, value_parser = parse_version)]
    gitlab: Option<semver::Version>,
}

impl From<Versions> for Overrides {
    fn from(v: Versions) -> Overrides {
        Overrides {
            gitlab: v.gitlab,
            runner: v.runner,
            docker: v.docker,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Diagnose {
            file,
            emit_scenario,
            catalogue,
            max,
        } => diagnose(&file, emit_scenario.as_deref(), catalogue, max),
        Command::Serve {
            path,
            listen,
            show_secrets,
            live_clock,
            fresh_keys,
            idle_timeout,
        } => {
            let options = regsim::serve::Options {
                listen,
                show_secrets,
                live_clock,
                fresh_keys,
                idle_timeout: std::time::Duration::from_secs(idle_timeout),
            };
            match regsim::serve::serve(&path, &options, &runtime()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("regsim: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Explain { path, format, versions } => explain(&path, format, &versions.into()),
        Command::Matrix {
            path,
            runner,
            docker,
            gitlab,
        } => {
            let list =
                |spec: &Option<String>, known: &[semver::Version]| -> Result<Vec<Option<semver::Version>>, String> {
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
                Err(e) => {
                    eprintln!("regsim: {e}");
                    return ExitCode::from(2);
                }
            };
            if let Err(e) = regsim::run::load(&path, &Overrides::default()) {
                eprintln!("regsim: {e}");
                return ExitCode::from(2);
            }
            let rt = runtime();
            let rows = rt.block_on(matrix::run(&path, &g, &r, &d));
            print!("{}", matrix::render(&rows));
            ExitCode::SUCCESS
        }
        Command::Run {
            paths,
            versions,
            format,
            raw,
        } => {
            let files = match collect(&paths) {
                Ok(f) if f.is_empty() => {
                    eprintln!(
                        "regsim: no scenario files under {}",
                        paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    return ExitCode::from(2);
                }
                Ok(f) => f,
                Err(e) => {
                    eprintln!("regsim: {e}");
                    return ExitCode::from(2);
                }
            };
            let overrides: Overrides = versions.into();
            let rt = runtime();
            let results = rt.block_on(run_all(&files, &overrides));
            let entries: Vec<report::Entry> = files
                .into_iter()
                .zip(results)
                .map(|(file, result)| report::Entry { file, result })
                .collect();
            for e in &entries {
                match (&e.result, format) {
                    (Ok(rep), Format::Text) => println!("{}", render_text(rep, raw)),
                    (Ok(_), _) => {}
                    (Err(err), _) => eprintln!("regsim: {err}"),
                }
            }
            match format {
                Format::Text => {}
                Format::Json => println!("{}", report::json::render(&entries)),
                Format::Junit => print!("{}", report::junit::render(&entries)),
            }
            let count = |s: report::Status| entries.iter().filter(|e| e.status() == s).count();
            let (broken, unexpected) = (count(report::Status::Broken), count(report::Status::NotAsExpected));
            let total = entries.len();
            eprintln!(
                "regsim: {total} scenarios, {} as expected, {unexpected} not as expected, {broken} broken",
                total - unexpected - broken
            );
            if broken > 0 {
                ExitCode::from(2)
            } else if unexpected > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

fn diagnose(
    file: &std::path::Path,
    emit: Option<&std::path::Path>,
    catalogue: Option<PathBuf>,
    max: usize,
) -> ExitCode {
    let (input, source) = match regsim::diagnose::read_log(file) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("regsim: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = catalogue.unwrap_or_else(regsim::diagnose::default_catalogue);
    let rt = runtime();
    rt.block_on(async move {
        let k = match regsim::diagnose::Knowledge::build(&dir).await {
            Ok(k) => k,
            Err(e) => {
                eprintln!("regsim: catalogue {}: {e}", dir.display());
                return ExitCode::from(2);
            }
        };
        let d = regsim::diagnose::diagnose(&k, &input);
        print!("{}", regsim::diagnose::render(&k, &d, &source, max));
        if let Some(out) = emit {
            match regsim::diagnose::emit::emit(&k, &d, &source, out).await {
                Ok(em) => print!("{}", em.render()),
                Err(e) => {
                    eprintln!("regsim: --emit-scenario: {e}");
                    return ExitCode::from(if d.candidates.is_empty() { 1 } else { 2 });
                }
            }
        }
        if d.candidates.is_empty() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    })
}

fn explain(path: &std::path::Path, format: ExplainFormat, overrides: &Overrides) -> ExitCode {
    let world = match regsim::run::load(path, overrides) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("regsim: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = runtime();
    let report = match rt.block_on(regsim::run::run_world(&world, path)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("regsim: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let x = regsim::explain::explain(&world, &report);
    match format {
        ExplainFormat::Text => print!(
            "{}",
            regsim::explain::text::render(&x, regsim::explain::text::colour_wanted())
        ),
        ExplainFormat::Mermaid => print!("{}", regsim::explain::mermaid::render(&x)),
    }
    ExitCode::SUCCESS
}

/// The multi-threaded runtime each subcommand runs its stages on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
