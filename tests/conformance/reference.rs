//! The reference registry: Debian's `docker-registry` package (docker/distribution v2.8.2), with
//! token auth pointed at a mock GitLab's `/jwt/auth`, in a container started by testcontainers.
//!
//! No image registry is reachable here, so the image is built `FROM scratch` out of the package's
//! own files: the binary and the libraries `ldd` says it links. Host networking lets the
//! registry reach the mock on 127.0.0.1 and the real dockerd reach the registry there.

use regsim_servers::token::SigningKey;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use testcontainers::core::WaitFor;
use testcontainers::runners::{AsyncBuilder, AsyncRunner};
use testcontainers::{ContainerAsync, GenericBuildableImage, GenericImage, ImageExt};

pub const BINARY: &str = "/usr/bin/docker-registry";
pub const IMAGE: &str = "regsim-conformance-registry";
pub const TAG: &str = "2.8.2";

/// distribution's configuration (docs/configuration.md at v2.8.2): filesystem storage, token
/// auth. `REGISTRY_HTTP_ADDR`, `REGISTRY_AUTH_TOKEN_REALM` and `REGISTRY_AUTH_TOKEN_ISSUER`
/// override the placeholders per container.
const CONFIG: &str = "\
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: 127.0.0.1:5000
auth:
  token:
    realm: http://127.0.0.1:1/jwt/auth
    service: container_registry
    issuer: placeholder
    rootcertbundle: /etc/docker/registry/root.crt
";

/// Why the reference registry cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    (!Path::new(BINARY).exists()).then(|| {
        format!("{BINARY} is missing (Debian package `docker-registry`, distribution 2.8.2): apt-get install docker-registry")
    })
}

/// The shared libraries the binary loads, resolved as `ldd` prints them (`name => /path (0x…)`
/// and the loader's own `/path (0x…)` line); empty for a static binary.
fn linked_libraries(binary: &str) -> Result<Vec<PathBuf>, String> {
    let out = std::process::Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| format!("ldd {binary}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("not a dynamic executable") || text.contains("statically linked") {
        return Ok(Vec::new());
    }
    Ok(text
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = l.split("=>").last()?.trim().split(" (").next()?.trim();
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect())
}

/// Builds `regsim-conformance-registry:2.8.2` through the local dockerd; pulls nothing.
pub async fn build_image() -> Result<(), String> {
    let mut dockerfile = String::from("FROM scratch\nCOPY docker-registry /docker-registry\n");
    let mut image = GenericBuildableImage::new(IMAGE, TAG).with_file(BINARY, "docker-registry");
    for (i, lib) in linked_libraries(BINARY)?.into_iter().enumerate() {
        // The loader path is often a symlink; copy the file it names, to the path ldd printed.
        let real = std::fs::canonicalize(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
        let name = format!("lib{i}");
        dockerfile.push_str(&format!("COPY {name} {}\n", lib.display()));
        image = image.with_file(real, name);
    }
    dockerfile.push_str(
        "COPY config.yml /etc/docker/registry/config.yml\n\
         COPY root.crt /etc/docker/registry/root.crt\n\
         ENTRYPOINT [\"/docker-registry\"]\n\
         CMD [\"serve\", \"/etc/docker/registry/config.yml\"]\n",
    );
    image
        .with_dockerfile_string(dockerfile)
        .with_data(CONFIG, "config.yml")
        // The certificate of the mock's signing key: distribution derives the libtrust key ID
        // from it and looks tokens' `kid` up there (registry/auth/token/accesscontroller.go).
        .with_data(SigningKey::shared().certificate_pem, "root.crt")
        .build_image()
        .await
        .map(|_| ())
        .map_err(|e| format!("building {IMAGE}:{TAG}: {e}"))
}

/// One running reference registry.
pub struct Reference {
    pub addr: SocketAddr,
    container: ContainerAsync<GenericImage>,
}

impl Reference {
    /// Starts a registry on a free loopback port of its own choosing (port 0: a port picked here
    /// and bound later could be taken in between), trusting tokens from `gitlab` (the mock's base
    /// URL) signed by the mock's key with `issuer`. Its address is the one it logs
    /// (`listening on ADDR`, registry/registry.go at v2.8.2 logs the bound listener).
    pub async fn start(label: &str, gitlab: &str, issuer: &str) -> Result<Reference, String> {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "regsim-conformance-{}-{}-{}",
            label.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
            std::process::id(),
            STARTED.fetch_add(1, Ordering::SeqCst)
        );
        let container = GenericImage::new(IMAGE, TAG)
            .with_wait_for(WaitFor::message_on_stderr("listening on"))
            .with_network("host")
            .with_container_name(name)
            .with_env_var("REGISTRY_HTTP_ADDR", "127.0.0.1:0")
            .with_env_var("REGISTRY_AUTH_TOKEN_REALM", format!("{gitlab}/jwt/auth"))
            .with_env_var("REGISTRY_AUTH_TOKEN_ISSUER", issuer)
            .with_startup_timeout(Duration::from_secs(60))
            .start()
            .await
            .map_err(|e| format!("starting the reference registry: {e}"))?;
        let err = container.stderr_to_vec().await.unwrap_or_default();
        let log = String::from_utf8_lossy(&err);
        let addr = log
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split(['"', ' ', ',']).next())
            .and_then(|a| a.parse::<SocketAddr>().ok());
        match addr {
            Some(addr) => Ok(Reference { addr, container }),
            None => {
                let _ = container.rm().await;
                Err(format!("the reference registry did not log its address:\n{log}"))
            }
        }
    }

    /// What the registry logged (its token verdicts are at level info).
    pub async fn logs(&self) -> String {
        let err = self.container.stderr_to_vec().await.unwrap_or_default();
        String::from_utf8_lossy(&err).into_owned()
    }

    pub async fn stop(self) {
        let _ = self.container.rm().await;
    }
}
