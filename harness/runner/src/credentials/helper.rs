//! The credential-helper protocol as the runner's copy of docker/cli speaks it
//! (docker/docker-credential-helpers `client/client.go`, v0.6.3 – v0.9.x): the program
//! `docker-credential-NAME`, one argument (`get`, `list`), the server URL on stdin, JSON on stdout;
//! a failure is the helper's stdout, exit status 1 (docs/research/registries-identities.md §6.1).
//!
//! Helpers are real processes: a scenario's helpers are installed as small programs in a directory
//! that stands for the runner host's `$PATH` ([`Installed`]), and the same client talks to real
//! helper binaries in the tests.

use regsim_model::world::CredentialHelper;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// docker-credential-helpers `credentials/error.go`: the text a helper prints when it has nothing.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// What `get` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub server_url: String,
    pub username: String,
    pub secret: String,
}

/// A helper call that failed, as `client.go` words it: `error getting credentials - err: %v, out:
/// `%s``, where `err` is Go's `os/exec` error and `out` the helper's trimmed stdout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error {verb} credentials - err: {err}, out: `{out}`")]
pub struct HelperError {
    /// `getting` or `listing`.
    pub verb: &'static str,
    pub err: String,
    pub out: String,
}

/// Where helpers are looked up: the directory standing for the runner host's `$PATH`.
pub trait HelperPath: Sync {
    fn dir(&self) -> Option<&Path>;
    /// The helper's environment besides `PATH` (real helpers need a `HOME`, say).
    fn env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// Real helper binaries in `dir`, run with `env` (for tests against installed helpers).
pub struct SystemHelpers {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl HelperPath for SystemHelpers {
    fn dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }
    fn env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }
}

impl HelperPath for PathBuf {
    fn dir(&self) -> Option<&Path> {
        Some(self)
    }
}

/// `client.Get`: `Ok(None)` for the not-found answer (which docker/cli turns into empty
/// credentials, not an error).
pub fn get(path: &dyn HelperPath, helper: &str, server: &str) -> Result<Option<Credentials>, HelperError> {
    let out = run(path, helper, "get", server).map_err(|(err, out)| HelperError {
        verb: "getting",
        err,
        out,
    });
    match out {
        Ok(stdout) => {
            #[derive(serde::Deserialize)]
            struct Answer {
                #[serde(rename = "ServerURL", default)]
                server_url: String,
                #[serde(rename = "Username", default)]
                username: String,
                #[serde(rename = "Secret", default)]
                secret: String,
            }
            let a: Answer = serde_json::from_str(&stdout).map_err(|e| HelperError {
                verb: "getting",
                err: format!("helper answer is not JSON: {e}"),
                out: stdout.trim().to_string(),
            })?;
            Ok(Some(Credentials {
                // client.go starts from `Credentials{ServerURL: serverURL}` and decodes over it.
                server_url: if a.server_url.is_empty() {
                    server.to_string()
                } else {
                    a.server_url
                },
                username: a.username,
                secret: a.secret,
            }))
        }
        Err(e) if e.out == NOT_FOUND => Ok(None),
        Err(e) => Err(e),
    }
}

/// `client.List`: server URL → user name.
pub fn list(path: &dyn HelperPath, helper: &str) -> Result<BTreeMap<String, String>, HelperError> {
    let stdout = run(path, helper, "list", "unused").map_err(|(err, out)| HelperError {
        verb: "listing",
        err,
        out,
    })?;
    serde_json::from_str(&stdout).map_err(|e| HelperError {
        verb: "listing",
        err: format!("helper answer is not JSON: {e}"),
        out: stdout.trim().to_string(),
    })
}

/// One call: `Err((go_exec_error, trimmed_stdout))` when the program is missing or exits non-zero.
fn run(path: &dyn HelperPath, helper: &str, action: &str, input: &str) -> Result<String, (String, String)> {
    let program = format!("docker-credential-{helper}");
    // Go's exec.LookPath error, as the runner's Go release prints it (registries-identities.md
    // §6.2: Go ≥ 1.19 builds outside a directory holding the program).
    let missing = || {
        (
            format!("exec: \"{program}\": executable file not found in $PATH"),
            String::new(),
        )
    };
    let Some(file) = path.dir().map(|d| d.join(&program)).filter(|f| f.is_file()) else {
        return Err(missing());
    };
    let mut child = Command::new(&file)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env_clear()
        .env("PATH", path.dir().map(Path::as_os_str).unwrap_or_default())
        .envs(path.env())
        .spawn()
        .map_err(|_| missing())?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that does not read its input is fine: the pipe closes either way.
        let _ = stdin.write_all(input.as_bytes());
    }
    let output = child.wait_with_output().map_err(|e| (e.to_string(), String::new()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        let status = match output.status.code() {
            Some(c) => format!("exit status {c}"),
            None => "signal: killed".to_string(),
        };
        Err((status, stdout.trim().to_string()))
    }
}

/// A scenario's helpers installed as programs in a fresh directory (removed on drop).
pub struct Installed {
    dir: Option<PathBuf>,
}

impl HelperPath for Installed {
    fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

impl Installed {
    /// No helpers at all (no directory is made).
    pub fn none() -> Installed {
        Installed { dir: None }
    }

    /// Writes one `docker-credential-NAME` shell program per helper: `get` answers the configured
    /// credentials or the not-found text, `list` the configured servers; a failing helper prints
    /// its text and exits 1 for every action.
    pub fn install(helpers: &BTreeMap<String, CredentialHelper>) -> std::io::Result<Installed> {
        if helpers.is_empty() {
            return Ok(Installed::none());
        }
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("regsim-helpers-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let installed = Installed { dir: Some(dir.clone()) };
        for (name, helper) in helpers {
            let file = dir.join(format!("docker-credential-{name}"));
            std::fs::write(&file, script(helper))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        Ok(installed)
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// `'…'` for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn script(helper: &CredentialHelper) -> String {
    let mut s = String::from("#!/bin/sh\n# A credential helper of a regsim scenario.\n");
    match helper {
        CredentialHelper::Fails(text) => {
            s.push_str(&format!("printf '%s\\n' {}\nexit 1\n", sh_quote(text)));
        }
        CredentialHelper::Answers(servers) => {
            // Builtins only: the helper's PATH is its own directory. `read` sets the variable even
            // when the input has no final newline (as the protocol sends it).
            s.push_str("IFS= read -r server\ncase \"$1\" in\nget)\n  case \"$server\" in\n");
            for (server, (user, secret)) in servers {
                let json = serde_json::json!({"ServerURL": server, "Username": user, "Secret": secret}).to_string();
                s.push_str(&format!(
                    "  {}) printf '%s\\n' {}; exit 0;;\n",
                    sh_quote(server),
                    sh_quote(&json)
                ));
            }
            s.push_str(&format!(
                "  esac\n  printf '%s\\n' {}\n  exit 1;;\n",
                sh_quote(NOT_FOUND)
            ));
            let listed: BTreeMap<&str, &str> = servers.iter().map(|(k, (u, _))| (k.as_str(), u.as_str())).collect();
            let listed = serde_json::to_string(&listed).expect("a map of strings");
            s.push_str(&format!("list) printf '%s\\n' {}; exit 0;;\n", sh_quote(&listed)));
            s.push_str("*) printf '%s\\n' \"unknown action: $1\"; exit 1;;\nesac\n");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_helpers_speak_the_protocol() {
        let mut servers = BTreeMap::new();
        servers.insert(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com".to_string(),
            ("AWS".to_string(), "it's a token".to_string()),
        );
        let mut helpers = BTreeMap::new();
        helpers.insert("ecr-login".to_string(), CredentialHelper::Answers(servers));
        helpers.insert(
            "broken".to_string(),
            CredentialHelper::Fails("no account selected".into()),
        );
        let installed = Installed::install(&helpers).unwrap();
        let got = get(&installed, "ecr-login", "123456789012.dkr.ecr.eu-west-1.amazonaws.com")
            .unwrap()
            .unwrap();
        assert_eq!((got.username.as_str(), got.secret.as_str()), ("AWS", "it's a token"));
        assert_eq!(get(&installed, "ecr-login", "other.example.com"), Ok(None));
        assert_eq!(
            list(&installed, "ecr-login").unwrap().into_iter().collect::<Vec<_>>(),
            vec![(
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com".to_string(),
                "AWS".to_string()
            )]
        );
        assert_eq!(
            get(&installed, "broken", "x").unwrap_err().to_string(),
            "error getting credentials - err: exit status 1, out: `no account selected`"
        );
        assert_eq!(
            get(&installed, "nope", "x").unwrap_err().to_string(),
            "error getting credentials - err: exec: \"docker-credential-nope\": executable file not found in $PATH, out: ``"
        );
        let dir = installed.dir().unwrap().to_path_buf();
        drop(installed);
        assert!(!dir.exists());
    }
}
