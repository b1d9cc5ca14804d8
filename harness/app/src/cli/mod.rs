//! The command line: clap's definitions (the one source of `--help`, the shell completions and
//! the man page) and what each subcommand does with them. Output goes through [`crate::term`]:
//! a closed pipe ends the command quietly, colour follows `--color`, progress bars appear only on
//! a terminal.

mod catalogue;
mod commands;
mod generate;
mod real_engine;

use crate::run::Overrides;
use crate::term::ColorChoice;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use regsim_model::versions::parse_version;
use std::path::PathBuf;
use std::process::ExitCode;

const RUN_STATUS: &str = "Exit status: 0 every scenario as expected, 1 one or more not as expected, 2 a broken \
                          file or argument (the others still run). With --engine real: 0 the daemon agreed with \
                          every prediction, 1 a line differs or a scenario could not be compared, 2 no daemon \
                          answers, a broken file or argument.";
const EXPLAIN_STATUS: &str = "Exit status: 0 explained, 2 a broken file or argument.";
const SERVE_STATUS: &str = "Exit status: 0 stopped by Ctrl-C, 2 could not start (a broken file, an address \
                            in use).";
const DIAGNOSE_STATUS: &str = "Exit status: 0 a known failure mode matches, 1 none does (or the scenario \
                               --emit-scenario wrote reproduces none of the log's failure lines word for word), 2 the \
                               log or the catalogue cannot be read (or --emit-scenario failed).";
const MATRIX_STATUS: &str = "Exit status: 0 the table was printed (rows that are not modelled say so), 2 a \
                             broken file or argument.";
const IMPORT_STATUS: &str = "Exit status: 0 written, 2 a file that cannot be read or parsed, or a job or runner \
                             that cannot be chosen.";
const GENERATE_STATUS: &str = "Exit status: 0 written, 2 a directory that cannot be written.";

/// `regsim --version`: the release, the commit it was built from and the shipped catalogue's size.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("REGSIM_COMMIT"),
    ", catalogue of ",
    env!("REGSIM_CATALOGUE_SIZE"),
    " scenarios)"
);

#[derive(Parser)]
#[command(
    name = "regsim",
    version = VERSION,
    about = "GitLab container-registry authentication and the job logs it produces, reproduced",
    after_help = "Exit status: 0 success (as expected), 1 not as expected (run) or no match (diagnose), \
                  2 broken input. Each command's --help says more."
)]
pub struct Cli {
    /// Colour on standard output: `auto` when it is a terminal (never with NO_COLOR set; always
    /// with CLICOLOR_FORCE set).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    Text,
    /// One JSON document (docs/json-report.md).
    Json,
    /// JUnit XML: one testcase per scenario, for GitLab's merge-request test reports.
    Junit,
}

/// What pulls the job's images.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineChoice {
    /// regsim's model of the scenario's Docker version.
    Simulated,
    /// Your own Docker daemon (DOCKER_HOST=unix://…, else /var/run/docker.sock), on the same
    /// loopback mocks, beside regsim's prediction for its version.
    Real,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Text,
    /// A Mermaid sequence diagram.
    Mermaid,
    /// One self-contained HTML page for workshops: the sequence diagram drawn (inline SVG, no
    /// script), each exchange with its rules, the tokens decoded, the job log.
    Html,
}

/// `text` for people, `json` for programs.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios (files, or directories searched recursively) and print each job log.
    #[command(after_help = RUN_STATUS)]
    Run {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        versions: Versions,
        #[arg(long, value_enum, default_value = "text")]
        format: RunFormat,
        /// Print the job log as the bytes the runner writes (colours, section markers, resets)
        /// instead of the text of the job page.
        #[arg(long)]
        raw: bool,
        /// Only scenarios whose name (the file's stem) contains PATTERN, or, when PATTERN has
        /// `*`, `?` or `[…]`, whose name or path matches it as a glob. Repeat for any of several.
        #[arg(long, value_name = "PATTERN")]
        filter: Vec<String>,
        /// One line per scenario and the totals, instead of each job log (text only): what a CI
        /// log wants.
        #[arg(long)]
        summary: bool,
        /// Scenarios run at once (default: all of them).
        #[arg(long, short = 'j', value_name = "N", default_value_t = 0, hide_default_value = true)]
        jobs: usize,
        /// `real`: run each job through your own Docker daemon as well and print regsim's
        /// prediction for the daemon's version beside what the daemon made of it, differing lines
        /// marked, writing an observation record per scenario (one at a time; text or json).
        #[arg(long, value_enum, default_value = "simulated")]
        engine: EngineChoice,
        /// Where `--engine real` writes its observation records.
        #[arg(long, value_name = "DIR", default_value = "regsim-observations")]
        observations: PathBuf,
    },
    /// Explain a scenario's auth flow: each HTTP exchange (request line, headers that matter,
    /// status, body), each registry JWT decoded with the granted access next to what was asked,
    /// and the rule behind every decision, down to the job log's error line.
    #[command(after_help = EXPLAIN_STATUS)]
    Explain {
        path: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: ExplainFormat,
        #[command(flatten)]
        versions: Versions,
    },
    /// Keep a scenario's mock servers up on loopback for real clients (docker login, docker
    /// pull), printing each identity's credentials and every request as it happens.
    #[command(after_help = SERVE_STATUS)]
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
        /// Serve every server over HTTPS by the scenario's own names (each on its listener's
        /// port), with certificates from authorities made at start: prints the hosts entry, the
        /// CA for /etc/docker/certs.d and the login. Use with --listen on an address that is not
        /// 127.0.0.0/8, where Docker checks no certificate.
        #[arg(long)]
        tls: bool,
        /// Seconds a connection may stay idle before the servers close it.
        #[arg(long, default_value_t = 30)]
        idle_timeout: u64,
        /// `json`: one JSON object per exchange and line on standard output
        /// (docs/json-serve-trace.md), everything else on standard error.
        #[arg(long, value_enum, default_value = "text")]
        trace_format: crate::serve::TraceFormat,
    },
    /// Read a job log as pasted (raw trace or the job page's text, with or without timestamps,
    /// whole or partial; `-` reads stdin) and name the known failure modes it matches, the
    /// gitlab-runner and Docker versions it can come from, and the fixes. The catalogue
    /// scenarios are its knowledge.
    #[command(after_help = DIAGNOSE_STATUS)]
    Diagnose {
        file: PathBuf,
        /// Write a scenario that reproduces the log's failure lines (checked by running it).
        #[arg(long)]
        emit_scenario: Option<PathBuf>,
        /// The scenario directory to learn from (default: $REGSIM_CATALOGUE, else ./scenarios, else
        /// the repository's).
        #[arg(long)]
        catalogue: Option<PathBuf>,
        /// How many root causes to show.
        #[arg(long, default_value_t = 5)]
        max: usize,
        /// `json`: one document (docs/json-diagnose.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Run one scenario across versions and show, row by row, the first job-log line that
    /// changed: which upgrade changed this? Lists (`16.2.0,16.6.0`) and ranges (`13.0..17.0`,
    /// walking the known releases) are accepted; a flag left out keeps the scenario's version.
    #[command(after_help = MATRIX_STATUS)]
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
        /// `json`: one document (docs/json-matrix.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Combinations run at once (default: all of them).
        #[arg(long, short = 'j', value_name = "N", default_value_t = 0, hide_default_value = true)]
        jobs: usize,
    },
    /// Write a scenario from a job of your .gitlab-ci.yml and, optionally, your runner's
    /// config.toml: what the files say goes in (anchors, `extends:` and defaults resolved;
    /// `include:` listed, not fetched); what they cannot say is a placeholder marked UNKNOWN with
    /// where GitLab's UI shows it; secrets are not copied. The scenario is loaded before it is
    /// written.
    #[command(after_help = IMPORT_STATUS)]
    Import {
        /// The .gitlab-ci.yml.
        gitlab_ci: PathBuf,
        /// The job (required when the file has several).
        #[arg(long)]
        job: Option<String>,
        /// gitlab-runner's config.toml.
        #[arg(long, value_name = "FILE")]
        config_toml: Option<PathBuf>,
        /// The `[[runners]]` entry by name (required when config.toml has several).
        #[arg(long)]
        runner: Option<String>,
        /// The job's project path (`group/project`).
        #[arg(long)]
        project: Option<String>,
        /// GitLab's address (`https://gitlab.example.com`).
        #[arg(long, value_name = "URL")]
        gitlab_url: Option<String>,
        /// The container registry's host (CI_REGISTRY).
        #[arg(long, value_name = "HOST")]
        registry: Option<String>,
        /// A saved answer of GitLab's API (`curl -H "PRIVATE-TOKEN: …" https://GITLAB/api/v4/…`):
        /// /version, /projects/:id (visibility, created_at, container_registry_access_level), or
        /// for one project, as `group/project=FILE`, its job_token_scope, job_token_scope/allowlist,
        /// job_token_scope/groups_allowlist or members/all. Repeat for several.
        #[arg(long, value_name = "[PROJECT=]FILE")]
        gitlab_api: Vec<String>,
        /// Where to write the scenario (default: standard output).
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the completion script for SHELL on standard output (e.g.
    /// `regsim completions bash > ~/.local/share/bash-completion/completions/regsim`).
    #[command(after_help = GENERATE_STATUS)]
    Completions { shell: clap_complete::Shell },
    /// Print regsim's man page (roff) on standard output, or write regsim.1 and one page per
    /// command (regsim-run.1 …) into DIR.
    #[command(after_help = GENERATE_STATUS)]
    Man { dir: Option<PathBuf> },
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

/// clap's definition of the command line: for completions and man pages.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parses the arguments and runs the subcommand.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let colour = cli.color.wanted();
    match cli.command {
        Command::Run {
            paths,
            versions,
            format,
            raw,
            filter,
            summary,
            jobs,
            engine,
            observations,
        } => {
            let run = catalogue::RunArgs {
                paths,
                overrides: versions.into(),
                format,
                raw,
                filter,
                summary,
                jobs,
                colour,
            };
            match engine {
                EngineChoice::Simulated => catalogue::run(run),
                EngineChoice::Real => real_engine::run(run, &observations),
            }
        }
        Command::Explain { path, format, versions } => commands::explain(&path, format, &versions.into(), colour),
        Command::Serve {
            path,
            listen,
            show_secrets,
            live_clock,
            fresh_keys,
            tls,
            idle_timeout,
            trace_format,
        } => commands::serve(
            &path,
            &crate::serve::Options {
                listen,
                show_secrets,
                live_clock,
                fresh_keys,
                tls,
                idle_timeout: std::time::Duration::from_secs(idle_timeout),
                trace_format,
            },
        ),
        Command::Diagnose {
            file,
            emit_scenario,
            catalogue,
            max,
            format,
        } => commands::diagnose(&file, emit_scenario.as_deref(), catalogue, max, format),
        Command::Matrix {
            path,
            runner,
            docker,
            gitlab,
            format,
            jobs,
        } => commands::matrix(&path, [gitlab, runner, docker], format, jobs),
        Command::Import {
            gitlab_ci,
            job,
            config_toml,
            runner,
            project,
            gitlab_url,
            registry,
            gitlab_api,
            output,
        } => commands::import(
            &gitlab_ci,
            job.as_deref(),
            config_toml.as_deref().map(|c| (c, runner.as_deref())),
            crate::import::Options {
                project,
                gitlab_url,
                registry,
                api: Default::default(),
            },
            &gitlab_api,
            output.as_deref(),
        ),
        Command::Completions { shell } => generate::completions(shell),
        Command::Man { dir } => generate::man(dir.as_deref()),
    }
}

/// A command's error on standard error, and status 2.
fn broken(e: impl std::fmt::Display) -> ExitCode {
    crate::term::warn(&format!("regsim: {e}"));
    ExitCode::from(2)
}

/// The multi-threaded runtime each subcommand runs its stages on (it fails when the process is
/// out of threads or descriptors).
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}
