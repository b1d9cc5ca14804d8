//! podman and buildah in the job image (their releases in `versions::containers_tools`):
//! `login`, `logout`, `pull`, `tag` and `push`, as containers/common and containers/image do
//! them. `simulated` speaks to the mocks over real HTTP with c/image's client ported (`client`);
//! `real` runs Debian's podman and buildah in a mount namespace of their own, so the two can be
//! compared byte for byte. Both tools of one job share one host state: c/storage's image store,
//! the auth file (`/run/containers/0/auth.json` for root) and c/image's blob-info cache.

pub mod client;
pub mod real;

use crate::docker_cli::CliRun;
use client::{DockerClient, Failure, Scope, SendError};
use regsim_model::versions::containers_tools::{ERROR_EXIT, PullDefault, Tool, ToolProfile};
use regsim_wire::NotModelled;
use regsim_wire::net::Network;
use regsim_wire::reference::Reference;
use regsim_wire::tls::DaemonTrust;
use std::collections::BTreeMap;

/// One image in c/storage, as a pull left it.
#[derive(Debug, Clone)]
struct StoredImage {
    /// Normalized names (`host/path:tag`).
    names: Vec<String>,
    config_digest: String,
    config: Vec<u8>,
    manifest: Vec<u8>,
    manifest_type: String,
    /// (compressed digest, diff ID) per layer.
    layers: Vec<(String, String)>,
}

/// A blob-info-cache record: the compressed blob of a diff ID, seen at `registry`/`repo`, in the
/// order seen (c/image prefers the most recent location).
#[derive(Debug, Clone)]
struct KnownLocation {
    diff_id: String,
    digest: String,
    registry: String,
    repo: String,
}

/// The job container's containers-storage, auth file and blob-info cache.
#[derive(Debug, Default)]
pub struct Host {
    images: Vec<StoredImage>,
    /// auth.json `auths`: registry → (user, password).
    auths: BTreeMap<String, (String, String)>,
    cache: Vec<KnownLocation>,
}

/// The simulated tools of one job.
pub struct SimulatedTools {
    pub network: Network,
    pub trust: DaemonTrust,
    host: Host,
}

/// What a command line asked for.
struct Parsed {
    /// `--tls-verify`: `None` when not given (registries.conf decides).
    tls_verify: Option<bool>,
    username: Option<String>,
    password: Option<String>,
    positional: Vec<String>,
}

/// Flags regsim reads; any other is refused (it may change what the tool does).
fn parse(args: &[String], with_credentials: bool) -> Result<Parsed, NotModelled> {
    let mut p = Parsed {
        tls_verify: None,
        username: None,
        password: None,
        positional: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--tls-verify" | "--tls-verify=true" => p.tls_verify = Some(true),
            "--tls-verify=false" => p.tls_verify = Some(false),
            "-u" | "--username" if with_credentials => p.username = it.next().cloned(),
            "-p" | "--password" if with_credentials => p.password = it.next().cloned(),
            s if with_credentials && s.starts_with("--username=") => p.username = Some(s[11..].to_string()),
            s if with_credentials && s.starts_with("--password=") => p.password = Some(s[11..].to_string()),
            s if s.starts_with('-') => {
                return Err(NotModelled::new(format!("the flag `{s}` is not simulated")));
            }
            s => p.positional.push(s.to_string()),
        }
    }
    Ok(p)
}

/// A reference as c/image's `docker://` transport reads it; short names are refused (their
/// resolution depends on registries.conf and a terminal).
fn reference(written: &str) -> Result<Reference, NotModelled> {
    let plain = written.strip_prefix("docker://").unwrap_or(written);
    let w = regsim_wire::reference::Written::split(plain);
    if w.domain.is_none() {
        return Err(NotModelled::new(format!(
            "`{written}` is a short name: its resolution (registries.conf's unqualified-search-registries, a prompt) \
             is not modelled; write the registry"
        )));
    }
    Reference::parse(plain).map_err(|e| NotModelled::new(format!("`{written}`: {e}")))
}

/// `host/path:tag` (the tag `latest` when none is written), as libimage prints a pull candidate.
fn normalized(r: &Reference) -> Result<String, NotModelled> {
    if r.digest.is_some() {
        return Err(NotModelled::new(
            "references by digest are not simulated for podman and buildah",
        ));
    }
    Ok(format!("{}/{}:{}", r.domain, r.path, r.tag_or_latest()))
}

/// Whether c/image skips certificate checks (and may fall back to plain HTTP) for `registry`:
/// `--tls-verify` when given, else registries.conf's `insecure`. The job's registries.conf lists
/// no registry, except that a registry on 127.0.0.0/8 is listed insecure: the comparison stage
/// puts every mock on loopback over plain HTTP, and gives the real tools the same entries
/// (`real::RealTools`); c/image itself has no loopback rule.
fn skip_verify(tls_verify: Option<bool>, registry: &str) -> bool {
    match tls_verify {
        Some(v) => !v,
        None => is_loopback(registry),
    }
}

/// `host[:port]` on 127.0.0.0/8.
pub fn is_loopback(registry: &str) -> bool {
    regsim_model::world::Authority::parse(registry).is_ok_and(|a| a.is_loopback())
}

/// The registry c/image dials for a reference's domain.
fn registry_of(r: &Reference) -> String {
    r.registry_host()
}

impl SimulatedTools {
    pub fn new(network: Network, trust: DaemonTrust) -> Self {
        SimulatedTools {
            network,
            trust,
            host: Host::default(),
        }
    }

    /// One `podman …` or `buildah …` line (its words after the command).
    pub async fn run(&mut self, profile: &ToolProfile, args: &[String]) -> Result<CliRun, NotModelled> {
        let mut run = CliRun::default();
        let Some((cmd, rest)) = args.split_first() else {
            return Err(NotModelled::new("a bare tool name"));
        };
        let result = match cmd.as_str() {
            "login" => self.login(rest, &mut run).await,
            "logout" => self.logout(rest, &mut run),
            "pull" => self.pull(profile, rest, &mut run).await,
            "tag" => self.tag(rest),
            "push" => self.push(profile, rest, &mut run).await,
            other => Err(Failure::NotModelled(NotModelled::new(format!(
                "`{} {other}` is not simulated",
                profile.tool.command()
            )))),
        };
        match result {
            Ok(()) => Ok(run),
            Err(Failure::Text(t)) => {
                run.err(format!("Error: {t}\n"));
                run.code = ERROR_EXIT;
                Ok(run)
            }
            Err(Failure::NotModelled(m)) => Err(m),
        }
    }

    fn client(&self, registry: &str, insecure: bool) -> DockerClient {
        let mut c = DockerClient::new(self.network.clone(), self.trust.clone(), registry.to_string(), insecure);
        if let Some((u, p)) = self.host.auths.get(registry) {
            c.username = u.clone();
            c.password = p.clone();
        }
        c
    }

    /// c/common's `Login` with `-u` and `-p`: `CheckAuth`, then the auth file.
    async fn login(&mut self, args: &[String], run: &mut CliRun) -> Result<(), Failure> {
        let p = parse(args, true)?;
        let [server] = p.positional.as_slice() else {
            return Err(NotModelled::new("login with other than one registry argument").into());
        };
        let (Some(user), Some(password)) = (
            p.username.filter(|u| !u.is_empty()),
            p.password.filter(|p| !p.is_empty()),
        ) else {
            return Err(NotModelled::new(
                "login without a username or password prompts on stdin, which in a job is the script itself; not modelled",
            )
            .into());
        };
        // URL arguments become their host[:port]; a path is dropped (the key is the registry).
        let key = server
            .strip_prefix("https://")
            .or_else(|| server.strip_prefix("http://"))
            .map(|s| s.split('/').next().unwrap_or_default().to_string())
            .unwrap_or_else(|| server.split('/').next().unwrap_or_default().to_string());
        if key.is_empty() || key == "docker.io" {
            return Err(NotModelled::new(format!("login to `{server}` is not simulated")).into());
        }
        let mut c = DockerClient::new(
            self.network.clone(),
            self.trust.clone(),
            key.clone(),
            skip_verify(p.tls_verify, &key),
        );
        c.username = user.clone();
        c.password = password.clone();
        match c.check_auth().await {
            Ok(None) => {
                self.host.auths.insert(key, (user, password));
                run.out("Login Succeeded!\n");
                Ok(())
            }
            Ok(Some(client::StatusError::Unauthorized(_))) => Err(Failure::Text(format!(
                "logging into {}: invalid username/password",
                go_quote(&key)
            ))),
            Ok(Some(e)) => Err(Failure::Text(format!(
                "authenticating creds for {}: {}",
                go_quote(&key),
                e.text()
            ))),
            Err(f) => Err(f.wrap(format!("authenticating creds for {}", go_quote(&key)))),
        }
    }

    fn logout(&mut self, args: &[String], run: &mut CliRun) -> Result<(), Failure> {
        let p = parse(args, false)?;
        let [server] = p.positional.as_slice() else {
            return Err(NotModelled::new("logout with other than one registry argument").into());
        };
        let key = server.split('/').next().unwrap_or_default().to_string();
        if self.host.auths.remove(&key).is_some() {
            run.out(format!("Removed login credentials for {key}\n"));
            Ok(())
        } else {
            Err(NotModelled::new(
                "logout of a registry the job never logged in to (c/common then checks docker's config)",
            )
            .into())
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.host.images.iter().position(|i| i.names.iter().any(|n| n == name))
    }

    /// libimage's pull of one fully qualified name.
    async fn pull(&mut self, profile: &ToolProfile, args: &[String], run: &mut CliRun) -> Result<(), Failure> {
        let p = parse(args, false)?;
        let [written] = p.positional.as_slice() else {
            return Err(NotModelled::new("pull with other than one image").into());
        };
        let r = reference(written)?;
        let name = normalized(&r)?;
        if let Some(i) = self.find(&name) {
            return match profile.pull_default {
                PullDefault::Missing => {
                    run.out(format!("{}\n", hex(&self.host.images[i].config_digest)));
                    Ok(())
                }
                PullDefault::Always => Err(NotModelled::new(
                    "podman pull of an image already in storage (c/image compares layers it holds)",
                )
                .into()),
            };
        }
        run.err(format!("Trying to pull {name}...\n"));
        let registry = registry_of(&r);
        let mut c = self.client(&registry, skip_verify(p.tls_verify, &registry));
        c.scope = Some(Scope {
            remote_name: r.path.clone(),
            actions: "pull".into(),
        });
        let source = format!("initializing source docker://{name}");
        let tag = r.tag_or_latest();
        let accept = [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            "application/vnd.docker.distribution.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.index.v1+json",
        ];
        let headers: Vec<(&str, String)> = accept.iter().map(|a| ("accept", a.to_string())).collect();
        let a = c
            .request("GET", &format!("/v2/{}/manifests/{tag}", r.path), &headers, None, None)
            .await
            .map_err(|e| e.into_failure().wrap(&source))?;
        if a.status != 200 {
            return Err(Failure::Text(format!(
                "{source}: reading manifest {tag} in {}/{}: {}",
                r.domain,
                r.path,
                a.registry_error()
            )));
        }
        let manifest_type = a
            .header("content-type")
            .map(|t| t.split(';').next().unwrap_or_default().trim().to_string())
            .unwrap_or_default();
        if !matches!(
            manifest_type.as_str(),
            "application/vnd.docker.distribution.manifest.v2+json" | "application/vnd.oci.image.manifest.v1+json"
        ) {
            return Err(NotModelled::new(format!(
                "a {manifest_type:?} manifest: only single-platform schema 2 and OCI manifests are simulated for c/image"
            ))
            .into());
        }
        let m: serde_json::Value = serde_json::from_slice(&a.body)
            .map_err(|e| NotModelled::new(format!("a manifest that is not JSON: {e}")))?;
        let config_digest = m["config"]["digest"].as_str().unwrap_or_default().to_string();
        let layers: Vec<String> = m["layers"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|d| d["digest"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if layers.len() != 1 {
            return Err(NotModelled::new(format!(
                "an image of {} layers: c/image copies layers concurrently, so the order of their lines is not fixed",
                layers.len()
            ))
            .into());
        }
        let blob = async |c: &mut DockerClient, digest: &str| -> Result<Vec<u8>, Failure> {
            let a = c
                .request("GET", &format!("/v2/{}/blobs/{digest}", r.path), &[], None, None)
                .await
                .map_err(|e| e.into_failure())?;
            if a.status != 200 {
                return Err(unworded("a blob GET", a.status));
            }
            Ok(a.body)
        };
        let config = blob(&mut c, &config_digest).await?;
        let cfg: serde_json::Value = serde_json::from_slice(&config)
            .map_err(|e| NotModelled::new(format!("an image config that is not JSON: {e}")))?;
        if cfg["os"].as_str() != Some("linux") || cfg["architecture"].as_str() != Some("amd64") {
            return Err(NotModelled::new(
                "an image for another platform than linux/amd64 (libimage's platform warning is not modelled)",
            )
            .into());
        }
        let diff_ids: Vec<String> = cfg["rootfs"]["diff_ids"]
            .as_array()
            .map(|l| l.iter().filter_map(|d| d.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        if diff_ids.len() != layers.len() {
            return Err(NotModelled::new("a config whose diff_ids do not match the manifest's layers").into());
        }
        run.err("Getting image source signatures\n");
        for layer in &layers {
            run.err(format!("Copying blob {layer}\n"));
            blob(&mut c, layer).await?;
        }
        run.err(format!("Copying config {config_digest}\n"));
        run.err("Writing manifest to image destination\nStoring signatures\n");
        run.out(format!("{}\n", hex(&config_digest)));
        for (digest, diff_id) in layers.iter().zip(&diff_ids) {
            self.host.cache.push(KnownLocation {
                diff_id: diff_id.clone(),
                digest: digest.clone(),
                registry: registry.clone(),
                repo: r.path.clone(),
            });
        }
        self.host.images.push(StoredImage {
            names: vec![name],
            config_digest,
            config,
            manifest: a.body,
            manifest_type,
            layers: layers.into_iter().zip(diff_ids).collect(),
        });
        Ok(())
    }

    fn tag(&mut self, args: &[String]) -> Result<(), Failure> {
        let p = parse(args, false)?;
        let [source, targets @ ..] = p.positional.as_slice() else {
            return Err(NotModelled::new("tag without an image").into());
        };
        let Some(i) = self.find(&normalized(&reference(source)?)?) else {
            return Err(NotModelled::new(format!("tag of `{source}`, which is not in the job's storage")).into());
        };
        for t in targets {
            let name = normalized(&reference(t)?)?;
            for img in &mut self.host.images {
                img.names.retain(|n| *n != name);
            }
            self.host.images[i].names.push(name);
        }
        Ok(())
    }

    /// c/image's copy from containers-storage to a registry.
    async fn push(&mut self, profile: &ToolProfile, args: &[String], run: &mut CliRun) -> Result<(), Failure> {
        let p = parse(args, false)?;
        let (source, dest_written) = match p.positional.as_slice() {
            [s] => (s.clone(), s.clone()),
            [s, d] => (s.clone(), d.clone()),
            _ => return Err(NotModelled::new("push with other than one or two images").into()),
        };
        let Some(i) = self.find(&normalized(&reference(&source)?)?) else {
            return Err(NotModelled::new(format!("push of `{source}`, which is not in the job's storage")).into());
        };
        let image = self.host.images[i].clone();
        let dest = reference(&dest_written)?;
        // A digest destination is refused as the other commands refuse it.
        normalized(&dest)?;
        let plain_dest = dest_written.strip_prefix("docker://").unwrap_or(&dest_written);
        let wrap = |f: Failure| {
            if profile.push_wrap {
                f.wrap(format!(
                    "pushing image {} to {}",
                    go_quote(&source),
                    go_quote(&format!("docker://{plain_dest}"))
                ))
            } else {
                f
            }
        };
        let registry = registry_of(&dest);
        let mut c = self.client(&registry, skip_verify(p.tls_verify, &registry));
        c.scope = Some(Scope {
            remote_name: dest.path.clone(),
            actions: "pull,push".into(),
        });
        run.err("Getting image source signatures\n");
        let mut manifest_layers = Vec::new();
        for (digest, diff_id) in &image.layers {
            run.err(format!("Copying blob {diff_id}\n"));
            let reused = self
                .reuse_blob(&mut c, &registry, &dest, diff_id)
                .await
                .map_err(|f| wrap(f.wrap(format!("trying to reuse blob {diff_id} at destination"))))?;
            match reused {
                Some(d) => manifest_layers.push(d),
                None => {
                    return Err(NotModelled::new(format!(
                        "a fresh upload of layer {diff_id} (compressed {digest} when pulled): c/image recompresses \
                         the layer from storage with pgzip, whose bytes regsim does not reproduce"
                    ))
                    .into());
                }
            }
        }
        run.err(format!("Copying config {}\n", image.config_digest));
        let path = &dest.path;
        let exists = c
            .request(
                "HEAD",
                &format!("/v2/{path}/blobs/{}", image.config_digest),
                &[],
                None,
                None,
            )
            .await
            .map_err(|e| e.into_failure())?;
        match exists.status {
            200 => {}
            404 => {
                self.upload(&mut c, path, &image.config_digest, image.config.clone())
                    .await?
            }
            s => return Err(unworded("HEAD of the config blob", s)),
        }
        run.err("Writing manifest to image destination\n");
        // The stored manifest (its layers are the reused blobs); c/image writes its own
        // serialization, whose bytes never reach the log.
        if manifest_layers.iter().zip(&image.layers).any(|(a, (b, _))| a != b) {
            return Err(NotModelled::new("a reused blob other than the pulled one (the manifest would change)").into());
        }
        let a = c
            .request(
                "PUT",
                &format!("/v2/{path}/manifests/{}", dest.tag_or_latest()),
                &[("content-type", image.manifest_type.clone())],
                Some(image.manifest.clone()),
                None,
            )
            .await
            .map_err(|e| e.into_failure())?;
        if a.status != 201 {
            return Err(unworded("the manifest PUT", a.status));
        }
        run.err("Storing signatures\n");
        Ok(())
    }

    /// `TryReusingBlobWithOptions`: the diff ID at the destination, then each cached location
    /// of a blob with that diff ID on the same registry (existence check, then a mount).
    async fn reuse_blob(
        &mut self,
        c: &mut DockerClient,
        registry: &str,
        dest: &Reference,
        diff_id: &str,
    ) -> Result<Option<String>, Failure> {
        if blob_exists(c, dest, &dest.path, diff_id, None).await? {
            return Ok(Some(diff_id.to_string()));
        }
        let candidates: Vec<KnownLocation> = self
            .host
            .cache
            .iter()
            .rev()
            .filter(|k| k.diff_id == diff_id && k.registry == registry)
            .cloned()
            .collect();
        for k in candidates {
            let extra = Scope {
                remote_name: k.repo.clone(),
                actions: "pull".into(),
            };
            match blob_exists(c, dest, &k.repo, &k.digest, Some(&extra)).await {
                Ok(true) => {}
                Ok(false) | Err(Failure::Text(_)) => continue,
                Err(f) => return Err(f),
            }
            if k.repo != dest.path {
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("from", &k.repo)
                    .append_pair("mount", &k.digest)
                    .finish();
                let a = c
                    .request(
                        "POST",
                        &format!("/v2/{}/blobs/uploads/?{query}", dest.path),
                        &[],
                        None,
                        Some(&extra),
                    )
                    .await
                    .map_err(SendError::into_failure)?;
                if a.status != 201 {
                    return Err(NotModelled::new(format!(
                        "a cross-repository mount answered {}: c/image then cancels the upload and tries the next \
                         location, which is not modelled",
                        a.status
                    ))
                    .into());
                }
            }
            self.host.cache.push(KnownLocation {
                diff_id: diff_id.to_string(),
                digest: k.digest.clone(),
                registry: registry.to_string(),
                repo: dest.path.clone(),
            });
            return Ok(Some(k.digest));
        }
        Ok(None)
    }

    /// `PutBlobWithOptions` for a blob the registry lacks: POST, PATCH with the bytes, PUT with
    /// the digest.
    async fn upload(&self, c: &mut DockerClient, path: &str, digest: &str, bytes: Vec<u8>) -> Result<(), Failure> {
        let a = c
            .request("POST", &format!("/v2/{path}/blobs/uploads/"), &[], None, None)
            .await
            .map_err(SendError::into_failure)?;
        if a.status != 202 {
            return Err(unworded("the upload POST", a.status));
        }
        let base = url::Url::parse(&format!("http://{}/v2/{path}/blobs/uploads/", c.registry))
            .map_err(|e| NotModelled::new(e.to_string()))?;
        let location = |a: &client::Answer| -> Result<url::Url, Failure> {
            let l = a.header("location").unwrap_or_default();
            base.join(&l)
                .map_err(|e| NotModelled::new(format!("an upload Location {l:?}: {e}")).into())
        };
        let mut at = location(&a)?;
        let a = c
            .request_to(
                "PATCH",
                at.as_str(),
                &[("content-type", "application/octet-stream".into())],
                bytes,
            )
            .await
            .map_err(SendError::into_failure)?;
        if a.status != 202 {
            return Err(unworded("the upload PATCH", a.status));
        }
        at = location(&a)?;
        let mut pairs: Vec<(String, String)> = at
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.retain(|(k, _)| k != "digest");
        pairs.push(("digest".into(), digest.to_string()));
        pairs.sort();
        at.query_pairs_mut().clear().extend_pairs(pairs);
        let a = c
            .request_to(
                "PUT",
                at.as_str(),
                &[("content-type", "application/octet-stream".into())],
                Vec::new(),
            )
            .await
            .map_err(SendError::into_failure)?;
        if a.status != 201 {
            return Err(unworded("the upload PUT", a.status));
        }
        Ok(())
    }
}

/// An answer this port does not word (c/image's text for it was not read): refused.
fn unworded(what: &str, status: u16) -> Failure {
    NotModelled::new(format!(
        "{what} answered {status}; c/image's text for it is not modelled"
    ))
    .into()
}

/// `blobExists`: HEAD of `digest` in `repo` on the destination's registry.
async fn blob_exists(
    c: &mut DockerClient,
    dest: &Reference,
    repo: &str,
    digest: &str,
    extra: Option<&Scope>,
) -> Result<bool, Failure> {
    let a = c
        .request("HEAD", &format!("/v2/{repo}/blobs/{digest}"), &[], None, extra)
        .await
        .map_err(SendError::into_failure)?;
    match a.status {
        200 => Ok(true),
        404 => Ok(false),
        401 => Err(Failure::Text(format!(
            "checking whether a blob {digest} exists in {}/{repo}: {}",
            dest.domain,
            a.registry_error()
        ))),
        s => Err(Failure::Text(format!(
            "failed to read from destination repository {}: {s} ({})",
            dest.path,
            a.status_line.split_once(' ').map(|(_, r)| r).unwrap_or("")
        ))),
    }
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

fn go_quote(s: &str) -> String {
    crate::engine::distribution::go_quote(s)
}

/// Which tool a script line names.
pub fn tool_of(word: &str) -> Option<Tool> {
    match word {
        "podman" => Some(Tool::Podman),
        "buildah" => Some(Tool::Buildah),
        _ => None,
    }
}
