//! The job's `script:` lines that drive Docker: the job image's Docker CLI (its version in
//! `versions::docker_cli`) talking to the runner host's daemon through the mounted socket. The
//! runner echoes each line as `$ line`; what follows is the CLI's output, stdout and stderr in the
//! order written. Lines that are not `docker login|tag|push|build` are not run.

use super::expand::expand;
use crate::engine::reference::Reference;
use crate::engine::{AuthConfig, DaemonError, Engine, Message, ProgressStream};
use crate::mock::gitlab::JobPayload;
use crate::versions::docker_cli::{ClientProfile, PushCredentials};
use std::collections::BTreeMap;

/// What the script printed, and whether it got to the end.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScriptLog {
    pub text: String,
    /// The exit code of the first failing command, if one failed.
    pub failed_with: Option<i32>,
}

/// Splits a shell line into words: blanks separate, '…' and "…" group, variables expand outside
/// single quotes (enough for the `docker` lines of .gitlab-ci.yml files).
fn words(line: &str, lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut any = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            '\'' => {
                any = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unterminated '".into()),
                    }
                }
            }
            '"' => {
                any = true;
                let mut quoted = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => quoted.push(c),
                        None => return Err("unterminated \"".into()),
                    }
                }
                cur.push_str(&expand(&quoted, lookup));
            }
            _ => {
                any = true;
                let mut bare = String::from(c);
                while let Some(&n) = chars.peek() {
                    if matches!(n, ' ' | '\t' | '\'' | '"') {
                        break;
                    }
                    bare.push(n);
                    chars.next();
                }
                cur.push_str(&expand(&bare, lookup));
            }
        }
    }
    if any {
        out.push(cur);
    }
    Ok(out)
}

/// `-x VALUE`, `--long VALUE` or `--long=VALUE`.
fn flag(args: &[String], short: &str, long: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        if a == short || a == long {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&format!("{long}=")).map(str::to_string)
        }
    })
}

/// Arguments that are not flags or their values.
fn positional(args: &[String], with_values: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
        } else if with_values.contains(&a.as_str()) {
            skip = true;
        } else if !a.starts_with('-') {
            out.push(a.clone());
        }
    }
    out
}

/// A non-terminal CLI's rendering of a stream (`jsonmessage.DisplayJSONMessagesStream`): each
/// status on its own line, builder output as is, the closing error on stderr.
fn render(stream: &ProgressStream, out: &mut String) {
    for m in &stream.messages {
        match m {
            Message::Status { id: Some(id), status } => out.push_str(&format!("{id}: {status}\n")),
            Message::Status { id: None, status } => out.push_str(&format!("{status}\n")),
            Message::Stream(s) => out.push_str(s),
        }
    }
    if let Some(e) = &stream.error {
        out.push_str(&format!("{e}\n"));
    }
}

fn daemon_error(e: DaemonError, out: &mut String) -> Result<i32, String> {
    match e {
        DaemonError::Http { message, .. } => {
            out.push_str(&format!("Error response from daemon: {message}\n"));
            Ok(1)
        }
        DaemonError::Stream { message } => {
            out.push_str(&format!("{message}\n"));
            Ok(1)
        }
        DaemonError::Unmodelled(m) => Err(m),
    }
}

/// The images the script's `docker tag` lines create (a comparison removes them afterwards).
pub fn tagged_names(payload: &JobPayload, script: &[String]) -> Vec<String> {
    let lookup = |k: &str| payload.variable(k);
    script
        .iter()
        .filter_map(|l| words(l, &lookup).ok())
        .filter_map(|w| match w.as_slice() {
            [d, t, args @ ..] if d == "docker" && t == "tag" => positional(args, &[]).get(1).cloned(),
            _ => None,
        })
        .collect()
}

/// Runs the script's lines; `Err` when a line needs behaviour regsim does not model.
pub async fn run_script(
    engine: &Engine,
    payload: &JobPayload,
    client: &ClientProfile,
    dockerfile: Option<&str>,
    script: &[String],
) -> Result<ScriptLog, String> {
    let lookup = |k: &str| payload.variable(k);
    let mut text = String::new();
    // The CLI's config.json: server address → credentials.
    let mut logins: BTreeMap<String, (String, String)> = BTreeMap::new();
    for line in script {
        text.push_str(&format!("$ {line}\n"));
        let w = words(line, &lookup).map_err(|e| format!("script line `{line}`: {e}"))?;
        let (cmd, args) = match w.as_slice() {
            [docker, cmd, args @ ..] if docker == "docker" => (cmd.as_str(), args),
            _ => return Err(format!("script line `{line}`: only `docker …` lines are simulated")),
        };
        let code = match cmd {
            "login" => {
                let user = flag(args, "-u", "--username").unwrap_or_default();
                let password = flag(args, "-p", "--password").ok_or_else(|| {
                    format!("script line `{line}`: only `docker login -u USER -p PASSWORD HOST` is simulated")
                })?;
                let server = positional(args, &["-u", "--username", "-p", "--password"])
                    .first()
                    .cloned()
                    .ok_or_else(|| format!("script line `{line}`: logging in to Docker Hub is not simulated"))?;
                match engine.login(&user, &password, &server).await {
                    Ok(status) => {
                        // The job image runs as root with the default config location.
                        text.push_str(&client.login.before_status("/root/.docker/config.json"));
                        text.push_str(&format!("{status}\n"));
                        logins.insert(server, (user, password));
                        0
                    }
                    Err(e) => daemon_error(e, &mut text)?,
                }
            }
            "build" => {
                let tag = flag(args, "-t", "--tag")
                    .ok_or_else(|| format!("script line `{line}`: only `docker build -t NAME .` is simulated"))?;
                let dockerfile = dockerfile
                    .ok_or_else(|| format!("script line `{line}`: the scenario gives no `job.dockerfile`"))?;
                return Err(format!(
                    "script line `{line}` (-t {tag}, {} bytes of Dockerfile): the CLI's `Sending build context to Docker daemon` \
                     line is not researched per client release, so builds are not simulated",
                    dockerfile.len()
                ));
            }
            "tag" => {
                let p = positional(args, &[]);
                let [source, target] = p.as_slice() else {
                    return Err(format!("script line `{line}`: expected `docker tag SOURCE TARGET`"));
                };
                let t = Reference::parse(target).map_err(|m| format!("script line `{line}`: {m}"))?;
                let repo = t.familiar_name();
                match engine.tag_image(source, &repo, &t.tag_or_latest()).await {
                    Ok(()) => 0,
                    Err(e) => daemon_error(e, &mut text)?,
                }
            }
            "push" => {
                let p = positional(args, &[]);
                let [name] = p.as_slice() else {
                    return Err(format!("script line `{line}`: expected `docker push NAME`"));
                };
                let r = Reference::parse(name).map_err(|m| format!("script line `{line}`: {m}"))?;
                let auth = match client.push_credentials {
                    PushCredentials::FromConfigFile => logins.get(&r.registry_host()).map(|(u, p)| AuthConfig {
                        username: u.clone(),
                        password: p.clone(),
                        serveraddress: r.registry_host(),
                        ..Default::default()
                    }),
                    PushCredentials::NoneUsable => None,
                };
                // The CLI's own encoding (base64 URL alphabet of the JSON; `{}` with nothing).
                let header = AuthConfig::encode(Some(&auth.unwrap_or_default()));
                let tag = r.tag.clone().unwrap_or_default();
                match engine.push_image(&r.familiar_name(), &tag, &header).await {
                    Ok(stream) => {
                        render(&stream, &mut text);
                        i32::from(stream.error.is_some())
                    }
                    Err(e) => daemon_error(e, &mut text)?,
                }
            }
            other => return Err(format!("script line `{line}`: `docker {other}` is not simulated")),
        };
        if code != 0 {
            return Ok(ScriptLog {
                text,
                failed_with: Some(code),
            });
        }
    }
    Ok(ScriptLog {
        text,
        failed_with: None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_split_and_expand_like_a_shell() {
        let l = |k: &str| (k == "CI_REGISTRY").then(|| "r.example.com:5050".to_string());
        assert_eq!(
            super::words(r#"docker login -u 'a b' -p "$CI_REGISTRY" $CI_REGISTRY/x"#, &l).unwrap(),
            [
                "docker",
                "login",
                "-u",
                "a b",
                "-p",
                "r.example.com:5050",
                "r.example.com:5050/x"
            ]
        );
        assert!(super::words("docker 'x", &l).is_err());
    }
}
