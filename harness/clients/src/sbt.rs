//! `sbt docker:publish` with sbt-native-packager's DockerPlugin (release in
//! `versions::sbt_native_packager`): the plugin runs the job image's Docker CLI (`docker build
//! --force-rm -t ALIAS .`, then `docker push ALIAS`) and logs what the CLI writes, stdout as
//! `[info]`, stderr as `[error]`. The rest of sbt's output (loading the project, staging, the
//! failure report with its stack trace, `Total time`) is not simulated.

use super::docker_cli::{CliRun, DockerCli, Fd};
use regsim_model::versions::sbt_native_packager::PluginProfile;
use regsim_wire::NotModelled;
use regsim_wire::reference::Reference;

/// The plugin settings a scenario gives (already expanded).
#[derive(Debug, Clone)]
pub struct DockerPublish<'a> {
    pub plugin: &'a PluginProfile,
    /// `dockerAlias`: `REPOSITORY/NAME:VERSION`.
    pub alias: String,
    /// The Dockerfile the plugin staged (regsim's builder models only its `FROM`).
    pub dockerfile: String,
}

/// The sbt tasks that mean "publish the Docker image" in sbt 0.13 and 1.x syntax.
pub fn is_publish_task(task: &str) -> bool {
    let compact: String = task.chars().filter(|c| !c.is_whitespace()).collect();
    matches!(compact.as_str(), "docker:publish" | "Docker/publish")
}

/// The process logger: which lines reach sbt's log and at which level. Java's `readLine` ends a
/// line at `\n`, `\r` or `\r\n`; blank lines are dropped.
fn log_lines(run: &CliRun, push: bool, out: &mut String) -> bool {
    let mut please_login = false;
    for (fd, text) in &run.output {
        for line in text.split(['\n', '\r']) {
            if line.trim().is_empty() {
                continue;
            }
            match fd {
                // DP's push logger: a `Please login` line switches the stdout logging off.
                Fd::Stdout if push && (please_login || line.starts_with("Please login")) => please_login = true,
                Fd::Stdout => out.push_str(&format!("[info] {line}\n")),
                // DP's build logger sends the context-upload progress to debug.
                Fd::Stderr
                    if !push
                        && (line.starts_with("Sending build context") || line.starts_with("Uploading context")) => {}
                Fd::Stderr => out.push_str(&format!("[error] {line}\n")),
            }
        }
    }
    please_login
}

/// Runs `docker:publish`: publishLocal (build), then push. Returns sbt's exit code.
pub async fn docker_publish(
    cli: &mut DockerCli<'_>,
    task: &DockerPublish<'_>,
    out: &mut String,
) -> Result<i32, NotModelled> {
    let alias = Reference::parse(&task.alias)
        .map_err(|e| NotModelled::new(format!("dockerAlias `{}` does not parse: {e}", task.alias)))?;
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let build = cli
        .build(&args(&["--force-rm", "-t", &task.alias, "."]), &task.dockerfile)
        .await?;
    log_lines(&build, false, out);
    if build.code != 0 {
        return Ok(1);
    }
    let name = alias.familiar_name();
    out.push_str(&format!(
        "[info] {}\n",
        task.plugin.built_image.text(&name, &alias.tag_or_latest())
    ));
    let push = cli.push(&args(&[&task.alias])).await?;
    let please_login = log_lines(&push, true, out);
    if please_login || push.code != 0 {
        return Ok(1);
    }
    out.push_str(&format!("[info] Published image {}\n", task.alias));
    Ok(0)
}
