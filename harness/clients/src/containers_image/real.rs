//! The real podman and buildah (Debian's 4.3.1 and 1.28.2), run for a job so the simulated ones
//! can be compared with them. Each command runs in a mount namespace of its own (`unshare -m`)
//! where the job's state is bind-mounted over the places the tools write as root —
//! `/var/lib/containers` (the blob-info cache), `/run/containers` (the auth file) and
//! `/etc/containers` (a policy and registries.conf of the job's own) — so nothing on the machine
//! changes, and the job's commands share that state as they would in one container. Storage is
//! a vfs store under the job's directory (`--root`, `--runroot`).

use crate::docker_cli::{CliRun, Fd};
use regsim_model::versions::containers_tools::Tool;
use regsim_wire::NotModelled;
use std::io::Read;
use std::path::PathBuf;

/// The job's directory; removed when dropped.
pub struct RealTools {
    dir: PathBuf,
}

/// What the namespace mounts before it runs the tool (`$1` is the job directory). When
/// `/var/lib/containers` does not exist (no podman has run as root here), a tmpfs over
/// `/var/lib` inside the namespace provides the mount point.
const PRELUDE: &str = r#"set -e
d="$1"; shift
mount --bind "$d/etc" /etc/containers
mount -t tmpfs tmpfs /run
mkdir -p /run/containers
mount --bind "$d/run" /run/containers
if [ ! -d /var/lib/containers ]; then mount -t tmpfs tmpfs /var/lib; mkdir -p /var/lib/containers; fi
mount --bind "$d/varlib" /var/lib/containers
exec "$@""#;

impl RealTools {
    /// A fresh job directory, or why the real tools cannot run here.
    pub fn new() -> Result<RealTools, NotModelled> {
        for tool in ["podman", "buildah", "unshare"] {
            if which(tool).is_none() {
                return Err(NotModelled::new(format!(
                    "`{tool}` is not installed here (Debian packages podman, buildah, util-linux)"
                )));
            }
        }
        if !std::path::Path::new("/etc/containers").is_dir() {
            return Err(NotModelled::new(
                "/etc/containers is missing (Debian package golang-github-containers-common, a dependency of podman)",
            ));
        }
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("regsim-containers-{}-{n}", std::process::id()));
        let io = |e: std::io::Error| NotModelled::new(format!("job directory {}: {e}", dir.display()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["etc", "run", "varlib", "home", "storage", "runroot"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(io)?;
        }
        std::fs::write(
            dir.join("etc/policy.json"),
            "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}\n",
        )
        .map_err(io)?;
        // No search registries and no short-name aliases: every name is written in full.
        std::fs::write(dir.join("etc/registries.conf"), "unqualified-search-registries = []\n").map_err(io)?;
        std::fs::write(dir.join("etc/containers.conf"), "").map_err(io)?;
        Ok(RealTools { dir })
    }

    /// One `podman …` or `buildah …` line: what it wrote (stdout and stderr in the order written,
    /// as one job log shows them) and its exit code.
    pub async fn run(&self, tool: Tool, args: &[String]) -> Result<CliRun, NotModelled> {
        self.list_loopback_registries(args)?;
        let dir = self.dir.clone();
        let args = args.to_vec();
        tokio::task::spawn_blocking(move || run_blocking(&dir, tool, &args))
            .await
            .map_err(|e| NotModelled::new(format!("the real {} did not finish: {e}", tool.command())))?
    }
}

impl RealTools {
    /// The registries.conf rule the simulated tools follow (`super::skip_verify`): every
    /// registry on 127.0.0.0/8 a command names is listed `insecure = true`.
    fn list_loopback_registries(&self, args: &[String]) -> Result<(), NotModelled> {
        let path = self.dir.join("etc/registries.conf");
        let mut conf = std::fs::read_to_string(&path).unwrap_or_default();
        for a in args.iter().filter(|a| !a.starts_with('-')) {
            let plain = a.strip_prefix("docker://").unwrap_or(a);
            let host = plain.split('/').next().unwrap_or_default();
            // The real tools run in this machine's network: a name would be looked up in its
            // DNS. Only loopback addresses are dialled (a tag or registry argument names one).
            if (host.contains('.') || host.contains(':')) && !super::is_loopback(host) {
                return Err(NotModelled::new(format!(
                    "the real tools run only against registries on 127.0.0.0/8; `{host}` would be looked up in \
                     this machine's DNS"
                )));
            }
            let entry = format!("[[registry]]\nlocation = \"{host}\"\ninsecure = true\n");
            if super::is_loopback(host) && !conf.contains(&entry) {
                conf.push_str(&entry);
            }
        }
        std::fs::write(&path, conf).map_err(|e| NotModelled::new(format!("{}: {e}", path.display())))
    }
}

fn run_blocking(dir: &std::path::Path, tool: Tool, args: &[String]) -> Result<CliRun, NotModelled> {
    let fail = |e: std::io::Error| NotModelled::new(format!("running the real {}: {e}", tool.command()));
    let (mut reader, writer) = std::io::pipe().map_err(fail)?;
    let mut cmd = std::process::Command::new("unshare");
    cmd.arg("-m")
        .arg("--")
        .arg("sh")
        .arg("-c")
        .arg(PRELUDE)
        .arg("sh")
        .arg(dir)
        .arg(tool.command())
        .arg("--root")
        .arg(dir.join("storage"))
        .arg("--runroot")
        .arg(dir.join("runroot"))
        .arg("--storage-driver")
        .arg("vfs")
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", dir.join("home"))
        .env("CONTAINERS_CONF", dir.join("etc/containers.conf"))
        .stdin(std::process::Stdio::null())
        .stdout(writer.try_clone().map_err(fail)?)
        .stderr(writer);
    let mut child = cmd.spawn().map_err(fail)?;
    // The command holds the only write ends now.
    drop(cmd);
    let mut out = Vec::new();
    // Bounded: the tools talk only to the stage's mocks, which answer or close.
    reader.read_to_end(&mut out).map_err(fail)?;
    let status = child.wait().map_err(fail)?;
    let code = status.code().unwrap_or(-1);
    let text = String::from_utf8_lossy(&out).into_owned();
    if code != 0 && text.contains("mount:") {
        return Err(NotModelled::new(format!(
            "the mount namespace for the real {} could not be set up: {text}",
            tool.command()
        )));
    }
    Ok(CliRun {
        output: vec![(Fd::Stdout, text)],
        code,
    })
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|f| f.is_file()))
}

impl Drop for RealTools {
    fn drop(&mut self) {
        // vfs layers are plain directories; nothing stays mounted outside the namespaces.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
