//! The simulated dockerd: the pull dance of docker-errors.md §5.1 over real HTTP against the
//! mocks, and the error text each version prints for what came back (§1, §4). The version
//! differences live in `versions::docker`; this file only applies them.

use super::distribution::{ClientError, HttpResponse, handle_error_response_why};
use super::schema1;
use super::tls;
use super::{AuthConfig, DaemonError, ImageInspect, Message, ProgressStream, Reading};
use regsim_wire::digest::sha256_digest;
use regsim_wire::errcode::ErrorCode;
use regsim_wire::media::{MANIFEST_LIST_V2, OCI_INDEX};
use regsim_wire::net::Network;
use regsim_wire::platform::Platform;
use regsim_wire::reference::Reference;
use regsim_wire::tls::DaemonTrust;

use base64::Engine as _;
use regsim_model::versions::docker::{EngineProfile, ManifestProbe, PullDeniedWording};
use regsim_wire::challenge::parse_challenge;
use semver::Version;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

/// Manifest types dockerd 20.10 accepts, one `Accept` header each (it sends them in Go map order;
/// regsim keeps one fixed order).
const ACCEPT_20_10: &[&str] = &[
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json",
];

pub struct SimulatedEngine {
    pub profile: EngineProfile,
    pub(super) version: Version,
    /// The host's platform, picked from manifest lists.
    platform: Platform,
    network: Network,
    http: reqwest::Client,
    /// The image store, by familiar reference with tag (`host/path:tag`).
    pub(super) images: Mutex<BTreeMap<String, LocalImage>>,
    /// dockerd's v2 metadata: for each blob digest, the (registry, repository) pairs it was pulled
    /// from or pushed to. Push uses it to try cross-repository mounts.
    pub(super) blob_sources: Mutex<BTreeMap<String, Vec<(String, String)>>>,
    /// What the daemon noticed that a job log does not show (an image of another platform).
    notes: Mutex<Vec<String>>,
    /// How the engine read the registry's answers and worded its errors, step by step, with the
    /// rule for each (`regsim explain` shows it; the job log only shows the result).
    trail: Mutex<Vec<Reading>>,
    /// A request for a host no server of the scenario answers: the engine never dials an address
    /// the stage did not give it (an IP literal in a script included), and what Docker prints
    /// when a registry cannot be reached is not modelled, so the call ends as not modelled.
    unreachable: Mutex<Option<regsim_wire::NotModelled>>,
    /// What the daemon trusts (system store, certs.d, insecure registries).
    trust: DaemonTrust,
    /// How the registry endpoint of the call under way checks certificates: dockerd builds one
    /// TLS configuration per endpoint and uses it for the registry and its token realm alike.
    check: Mutex<Option<tls::Check>>,
}

/// An image in the simulated engine's store.
/// `fromImage` and `tag` of `POST /images/create` as one reference.
fn joined_ref(from_image: &str, tag: &str) -> String {
    if tag.starts_with("sha256:") {
        format!("{from_image}@{tag}")
    } else {
        format!("{from_image}:{tag}")
    }
}

/// A layer's ID in pull progress lines: its compressed digest's first 12 hex digits
/// (`stringid.TruncateID` of the descriptor's digest).
fn short_id(digest: &str) -> String {
    digest.trim_start_matches("sha256:").chars().take(12).collect()
}

#[derive(Debug, Clone)]
pub struct LocalImage {
    pub inspect: ImageInspect,
    pub config: Vec<u8>,
    /// Base layer first.
    pub layers: Vec<LocalLayer>,
}

#[derive(Debug, Clone)]
pub struct LocalLayer {
    /// The uncompressed digest; its first 12 hex digits are the layer's ID in progress lines.
    pub diff_id: String,
    /// The compressed blob's digest and bytes, as pulled.
    pub digest: String,
    pub bytes: Vec<u8>,
}

pub(super) struct Response {
    pub(super) status: u16,
    status_line: String,
    headers: reqwest::header::HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Response {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The `WWW-Authenticate` challenges that parse.
    pub(super) fn challenges(&self) -> Vec<regsim_wire::challenge::Challenge> {
        self.as_http()
            .www_authenticate
            .iter()
            .filter_map(|h| parse_challenge(h).ok())
            .collect()
    }
    pub(super) fn as_http(&self) -> HttpResponse<'_> {
        HttpResponse {
            status: self.status,
            status_line: self.status_line.clone(),
            content_type: self.header("content-type"),
            www_authenticate: self
                .headers
                .get_all("www-authenticate")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect(),
            body: &self.body,
        }
    }
}

/// Why a pull stopped.
enum Failure {
    /// Before any progress message: an HTTP error of the Engine API.
    Registry(ClientError),
    /// A manifest list without an entry for the host's platform (pullManifestList): an error in
    /// the progress stream, after `TAG: Pulling from REPO`.
    NoMatchingManifest(Platform),
    /// Something regsim does not model (the reason).
    NotModelled(String),
}

impl SimulatedEngine {
    pub fn new(
        profile: EngineProfile,
        version: Version,
        platform: Platform,
        network: Network,
        trust: DaemonTrust,
    ) -> Self {
        let http = crate::http::shared();
        SimulatedEngine {
            profile,
            version,
            platform,
            network,
            http,
            images: Mutex::new(BTreeMap::new()),
            blob_sources: Mutex::new(BTreeMap::new()),
            notes: Mutex::new(Vec::new()),
            trail: Mutex::new(Vec::new()),
            unreachable: Mutex::new(None),
            trust,
            check: Mutex::new(None),
        }
    }

    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().expect("notes lock").clone()
    }

    /// Another engine on the same network with an empty image store: a dind service's daemon.
    /// What a program in a job container on this host sees: the names the host resolves, and
    /// its image's own system store (no certs.d, no insecure registries), as a dind daemon does.
    pub fn container_view(&self) -> (Network, DaemonTrust) {
        let trust = DaemonTrust {
            system_roots: self.trust.system_roots.iter().take(1).cloned().collect(),
            certs_d: Vec::new(),
            insecure_registries: Vec::new(),
            now: self.trust.now,
        };
        (self.network.clone(), trust)
    }

    pub fn sibling(&self, version: &Version) -> Result<SimulatedEngine, regsim_wire::NotModelled> {
        let profile =
            regsim_model::versions::docker::profile(version, regsim_model::versions::docker::ImageStore::Graphdriver)?;
        // The dind daemon's own trust: its image's system store, no certs.d, no insecure registries.
        let trust = DaemonTrust {
            system_roots: self.trust.system_roots.iter().take(1).cloned().collect(),
            certs_d: Vec::new(),
            insecure_registries: Vec::new(),
            now: self.trust.now,
        };
        Ok(SimulatedEngine::new(
            profile,
            version.clone(),
            self.platform.clone(),
            self.network.clone(),
            trust,
        ))
    }

    /// A request the engine would not send, since the call before: it makes that call not modelled.
    pub fn take_unreachable(&self) -> Option<regsim_wire::NotModelled> {
        self.unreachable.lock().expect("unreachable lock").take()
    }

    /// The steps recorded so far (see `trail`).
    pub fn trail(&self) -> Vec<Reading> {
        self.trail.lock().expect("trail lock").clone()
    }

    pub(super) fn record(&self, step: Reading) {
        self.trail.lock().expect("trail lock").push(step);
    }

    /// `HandleErrorResponse` on a response to `METHOD url`, noting how it was read.
    pub(super) fn read_error(&self, method: &str, url: &str, r: &Response) -> ClientError {
        let (e, why) = handle_error_response_why(&r.as_http(), &self.profile);
        self.record(Reading::ErrorResponse {
            method: method.into(),
            url: url.into(),
            status: r.status,
            why,
        });
        e
    }

    pub async fn create_image(&self, from_image: &str, tag: &str, registry_auth: &str) -> Result<(), DaemonError> {
        self.pull_and_store(from_image, tag, registry_auth).await.map(drop)
    }

    /// `POST /images/create` as the job's `docker pull` sees it: the progress stream dockerd
    /// writes (moby distribution/pull_v2.go and xfer/download.go, the same messages from v18.09.9
    /// to v28.2.0; observed with dockerd 20.10.24): `TAG: Pulling from PATH`, per layer `Already
    /// exists` or `Pulling fs layer` / `Verifying Checksum` / `Download complete` / `Pull
    /// complete` (progress-bar messages omitted: a non-terminal CLI skips them), `Digest: …`, and
    /// `Status: Downloaded newer image for REF` or `Status: Image is up to date for REF`.
    /// Downloads run three at a time and report as they finish, so with more than one layer to
    /// fetch the order is not fixed: refused.
    pub async fn pull_image(
        &self,
        from_image: &str,
        tag: &str,
        registry_auth: &str,
    ) -> Result<ProgressStream, DaemonError> {
        if self.version >= regsim_model::versions::v(29, 0, 0) || self.version < regsim_model::versions::v(18, 9, 0) {
            return Err(DaemonError::unmodelled(format!(
                "Docker {}: the pull progress stream is read for 18.09 – 28.x graphdriver engines only",
                regsim_model::versions::docker::shown(&self.version)
            )));
        }
        let (before, known): (Option<String>, std::collections::BTreeSet<String>) = {
            let images = self.images.lock().expect("image store lock");
            let key = Reference::parse(&joined_ref(from_image, tag))
                .map(|r| r.familiar_string())
                .unwrap_or_default();
            (
                images.get(&key).map(|i| i.inspect.id.clone()),
                images
                    .values()
                    .flat_map(|i| i.layers.iter().map(|l| l.diff_id.clone()))
                    .collect(),
            )
        };
        let (reference, image) = self.pull_and_store(from_image, tag, registry_auth).await?;
        let status = |id: Option<String>, status: String| Message::Status { id, status };
        let tag_or_digest = reference.digest.clone().unwrap_or_else(|| reference.tag_or_latest());
        let mut messages = vec![status(Some(tag_or_digest), format!("Pulling from {}", reference.path))];
        let up_to_date = before.as_deref() == Some(image.inspect.id.as_str());
        if !up_to_date {
            let fresh: Vec<usize> = (0..image.layers.len())
                .filter(|i| !known.contains(&image.layers[*i].diff_id))
                .collect();
            let last = image.layers.len().saturating_sub(1);
            if fresh.len() > 1 || fresh.first().is_some_and(|i| *i != last) {
                return Err(DaemonError::unmodelled(
                    "a pull with more than one layer to download, or a shared layer after a fresh one: dockerd's \
                     download goroutines report in no fixed order",
                ));
            }
            if !fresh.is_empty() {
                self.notes.lock().expect("notes lock").push(
                    "docker pull: dockerd hands the client only each layer's latest status when it lags (moby \
                     xfer/transfer.go Broadcast), so a real log may lack `Pulling fs layer`, `Verifying Checksum` or \
                     `Download complete`; `Pull complete` always comes"
                        .into(),
                );
            }
            for l in &image.layers {
                let id = short_id(&l.digest);
                if known.contains(&l.diff_id) {
                    messages.push(status(Some(id), "Already exists".into()));
                } else {
                    for s in [
                        "Pulling fs layer",
                        "Verifying Checksum",
                        "Download complete",
                        "Pull complete",
                    ] {
                        messages.push(status(Some(id.clone()), s.into()));
                    }
                }
            }
        }
        let digest = image
            .inspect
            .repo_digests
            .first()
            .and_then(|d| d.split_once('@').map(|(_, d)| d.to_string()))
            .unwrap_or_default();
        messages.push(status(None, format!("Digest: {digest}")));
        let requested = reference.familiar_string();
        messages.push(status(
            None,
            if up_to_date {
                format!("Status: Image is up to date for {requested}")
            } else {
                format!("Status: Downloaded newer image for {requested}")
            },
        ));
        Ok(ProgressStream { messages, error: None })
    }

    /// The pull behind `create_image` and `pull_image`: the image, stored under its reference.
    async fn pull_and_store(
        &self,
        from_image: &str,
        tag: &str,
        registry_auth: &str,
    ) -> Result<(Reference, LocalImage), DaemonError> {
        let joined = joined_ref(from_image, tag);
        let reference = Reference::parse(&joined).map_err(|m| DaemonError::Http {
            status: 400,
            message: m.to_string(),
        })?;
        let auth = AuthConfig::decode(registry_auth);
        match self.pull(&reference, &auth).await {
            Ok(image) => {
                let key = reference.familiar_string();
                let mut sources = self.blob_sources.lock().expect("metadata lock");
                for l in &image.layers {
                    let s = sources.entry(l.digest.clone()).or_default();
                    let here = (reference.registry_host(), reference.path.clone());
                    if !s.contains(&here) {
                        s.push(here);
                    }
                }
                self.images.lock().expect("image store lock").insert(key, image.clone());
                Ok((reference, image))
            }
            Err(Failure::Registry(e)) if self.profile.v1_fallback && allows_v1_fallback(&e) => {
                Err(DaemonError::unmodelled(format!(
                    "Docker {} falls back to the v1 protocol after \"{}\" (allowV1Fallback); what it prints then is not modelled",
                    regsim_model::versions::docker::shown(&self.version),
                    e.render(self.profile.quoted_urls)
                )))
            }
            Err(Failure::Registry(e)) => {
                let out = self.translate_pull_error(&e, &reference);
                if let DaemonError::Http { status, message } = &out {
                    self.record(Reading::Translated {
                        first: e.first().render(self.profile.quoted_urls),
                        status: *status,
                        message: message.clone(),
                        rule: format!(
                            "Docker {}: {}; {}",
                            regsim_model::versions::docker::shown(&self.version),
                            self.profile.line,
                            self.profile.source
                        ),
                    });
                }
                Err(out)
            }
            // Observed on dockerd 20.10.24 (docker-errors.md §4(l)); moby distribution/pull_v2.go
            // pullManifestList, which formats the platform with platforms.Format. Read for 18.09
            // and later graphdriver engines; older ones are not.
            Err(Failure::NoMatchingManifest(p)) if self.version >= regsim_model::versions::v(18, 9, 0) => {
                let message = format!("no matching manifest for {p} in the manifest list entries");
                self.record(Reading::NoMatchingManifest {
                    platform: p.to_string(),
                    message: message.clone(),
                });
                Err(DaemonError::Stream { message })
            }
            Err(Failure::NotModelled(why)) => Err(DaemonError::unmodelled(format!(
                "Docker {}: {why}",
                regsim_model::versions::docker::shown(&self.version)
            ))),
            Err(Failure::NoMatchingManifest(p)) => Err(DaemonError::unmodelled(format!(
                "Docker {} found no {p} entry in a manifest list; its wording for that is not researched",
                regsim_model::versions::docker::shown(&self.version)
            ))),
        }
    }

    pub async fn inspect_image(&self, name: &str) -> Result<ImageInspect, DaemonError> {
        let not_found = |n: &str| DaemonError::Http {
            status: 404,
            message: self.profile.inspect_not_found.message(n),
        };
        let r = Reference::parse(name).map_err(|_| not_found(name))?;
        let key = if r.tag.is_none() && r.digest.is_none() {
            format!("{}:latest", r.familiar_name())
        } else {
            r.familiar_string()
        };
        // A reference with both a tag and a digest is looked up by its digest alone (moby
        // reference/store.go `Get`: "only lookup by digest as it takes precedence over tag").
        let stored = match &r.digest {
            Some(d) => format!("{}@{d}", r.familiar_name()),
            None => key.clone(),
        };
        self.images
            .lock()
            .expect("image store lock")
            .get(&stored)
            .map(|i| i.inspect.clone())
            .ok_or_else(|| not_found(&key))
    }

    /// Where dockerd sends registry requests, and how it checks their certificates from now on:
    /// `https://host` with the system store and `certs.d/host[:port]`; for an insecure registry
    /// (127.0.0.0/8, `insecure-registries`) `https://` without any check when the server speaks
    /// TLS, else `http://` — dockerd tries them in that order and falls back silently (§5.1).
    pub(super) async fn endpoint(&self, r: &Reference) -> String {
        let host = r.registry_host();
        let insecure = tls::is_insecure(&self.trust, &host);
        let check = tls::Check {
            roots: (!insecure).then(|| tls::roots_for(&self.trust, &host)),
            now: self.trust.now,
        };
        *self.check.lock().expect("check lock") = Some(check.clone());
        if !insecure {
            if self
                .trust
                .certs_d
                .iter()
                .any(|(dir, _)| dir.eq_ignore_ascii_case(&host))
            {
                self.record(Reading::Handshake {
                    host: host.clone(),
                    verdict: format!("checked against the system store and /etc/docker/certs.d/{host}/ca.crt"),
                });
            }
            return format!("https://{host}");
        }
        let (name, port) = match host.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().unwrap_or(443)),
            None => (host.clone(), 443),
        };
        let speaks_tls = match self.network.resolve(&name, port, "/v2/") {
            Some(addr) => tls::connect(addr, &name, &check).await.is_ok(),
            None => false,
        };
        self.record(Reading::Handshake {
            host: host.clone(),
            verdict: if speaks_tls {
                "an insecure registry: https, its certificate not checked".into()
            } else {
                "an insecure registry that does not speak TLS: plain http".into()
            },
        });
        format!("{}://{host}", if speaks_tls { "https" } else { "http" })
    }

    async fn pull(&self, r: &Reference, auth: &AuthConfig) -> Result<LocalImage, Failure> {
        let base = self.endpoint(r).await;
        let ping_url = format!("{base}/v2/");
        let ping = self
            .send("GET", &ping_url, &[])
            .await
            .map_err(|e| Failure::Registry(url_error("Get", &ping_url, e)))?;
        let challenges = ping.challenges();

        let reference = r.digest.clone().unwrap_or_else(|| r.tag_or_latest());
        let manifest_url = format!("{base}/v2/{}/manifests/{reference}", r.path);
        let by_digest = r.digest.is_some();
        let op = match (self.profile.manifest_probe, by_digest) {
            (ManifestProbe::HeadThenGet, false) => "Head",
            _ => "Get",
        };
        // The auth modifier runs inside the first request that needs it, so its failure is a
        // *url.Error of that request (§1.4).
        let scope = format!("repository:{}:pull", r.path);
        let authorization = self
            .authorize(&challenges, auth, &scope)
            .await
            .map_err(|e| Failure::Registry(url_error(op, &manifest_url, e)))?;
        let mut headers: Vec<(&str, String)> = ACCEPT_20_10.iter().map(|a| ("accept", a.to_string())).collect();
        if let Some(a) = &authorization {
            headers.push(("authorization", a.clone()));
        }
        let manifest = if op == "Head" {
            self.manifest_by_resolved_tag(r, &base, &manifest_url, &headers).await?
        } else {
            // ≤ 19.03 by tag, and every engine by digest: one GET.
            self.get_ok(&manifest_url, &headers).await?
        };
        // The digest the image is stored under: the manifest's own (its canonical payload for
        // schema 1), not a header.
        let digest = manifest_digest(&manifest)?;
        let blob_headers: Vec<(&str, String)> = authorization.iter().map(|a| ("authorization", a.clone())).collect();
        if is_schema1(&manifest) {
            return self.pull_schema1(r, &base, &manifest, &blob_headers).await;
        }
        let m = self.platform_manifest(r, &base, &manifest, &headers).await?;
        self.pull_schema2(r, &base, &m, &digest, &blob_headers).await
    }

    /// 20.10 →: the tag resolves to a descriptor (`tags.Get`: the HEAD's digest, or else a GET
    /// whose digest header or body gives it), and the manifest is then fetched by that digest
    /// (`manifestStore.Get`); 20.10 – 28.1 fall back to the tag when that digest is not found.
    async fn manifest_by_resolved_tag(
        &self,
        r: &Reference,
        base: &str,
        manifest_url: &str,
        headers: &[(&str, String)],
    ) -> Result<Response, Failure> {
        let head = self
            .send("HEAD", manifest_url, headers)
            .await
            .map_err(|e| Failure::Registry(url_error("Head", manifest_url, e)))?;
        let head_digest = (200..300)
            .contains(&head.status)
            .then(|| head.header("docker-content-digest").map(str::to_string))
            .flatten();
        let digest = match head_digest {
            Some(d) => d,
            None => {
                self.record(Reading::HeadThenGet {
                    url: manifest_url.to_string(),
                    status: head.status,
                });
                let get = self.get_ok(manifest_url, headers).await?;
                match get.header("docker-content-digest") {
                    Some(d) => d.to_string(),
                    None => manifest_digest(&get)?,
                }
            }
        };
        match self
            .get_ok(&format!("{base}/v2/{}/manifests/{digest}", r.path), headers)
            .await
        {
            Err(Failure::Registry(e)) if self.profile.tag_fallback && is_not_found(&e) => {
                self.record(Reading::TagFallback {
                    digest: digest.clone(),
                    error: e.first().render(self.profile.quoted_urls),
                });
                self.get_ok(manifest_url, headers).await.map_err(|_| {
                    Failure::NotModelled(
                        "the pull by tag after the fallback failed too; the daemon's wrapped error \
                         (\"error after falling back to get manifest by tag\") is not modelled"
                            .into(),
                    )
                })
            }
            other => other,
        }
    }

    /// A schema 2 manifest as JSON; a manifest list or OCI index is narrowed to the entry for
    /// the host's platform, fetched by digest (`pullManifestList`).
    async fn platform_manifest(
        &self,
        r: &Reference,
        base: &str,
        manifest: &Response,
        headers: &[(&str, String)],
    ) -> Result<serde_json::Value, Failure> {
        let parse = |body: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(body)
                .map_err(|e| Failure::Registry(ClientError::Plain(format!("regsim: manifest is not JSON: {e}"))))
        };
        let m = parse(&manifest.body)?;
        if m["mediaType"] != MANIFEST_LIST_V2 && m["mediaType"] != OCI_INDEX {
            return Ok(m);
        }
        let wanted = &self.platform;
        let entry = m["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| wanted.matches_entry(e))
            .and_then(|e| e["digest"].as_str().map(str::to_string));
        let Some(entry) = entry else {
            return Err(Failure::NoMatchingManifest(wanted.clone()));
        };
        let got = self
            .get_ok(&format!("{base}/v2/{}/manifests/{entry}", r.path), headers)
            .await?;
        parse(&got.body)
    }

    /// The config and layers a schema 2 manifest names, stored under the manifest's `digest`.
    async fn pull_schema2(
        &self,
        r: &Reference,
        base: &str,
        m: &serde_json::Value,
        digest: &str,
        blob_headers: &[(&str, String)],
    ) -> Result<LocalImage, Failure> {
        let config = m["config"]["digest"].as_str().unwrap_or_default().to_string();
        let mut blobs = vec![config.clone()];
        blobs.extend(
            m["layers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["digest"].as_str().map(str::to_string)),
        );
        let mut fetched = Vec::new();
        for b in &blobs {
            fetched.push(self.fetch_blob(base, r, b, blob_headers).await?);
        }
        let config_bytes = fetched.remove(0);
        let c: serde_json::Value = serde_json::from_slice(&config_bytes).unwrap_or_default();
        self.note_other_platform(r, &c);
        let diff_ids: Vec<String> = c["rootfs"]["diff_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str().map(str::to_string))
            .collect();
        let layers = blobs[1..]
            .iter()
            .zip(fetched)
            .zip(diff_ids)
            .map(|((digest, bytes), diff_id)| LocalLayer {
                diff_id,
                digest: digest.clone(),
                bytes,
            })
            .collect();
        Ok(LocalImage {
            inspect: ImageInspect {
                id: config,
                repo_digests: vec![format!("{}@{digest}", r.familiar_name())],
            },
            config: config_bytes,
            layers,
        })
    }

    /// `pullSchema1`: the layers the manifest names (base first, `throwaway` ones skipped), then
    /// the image config moby derives from the v1 JSON; its sha256 is the image ID.
    async fn pull_schema1(
        &self,
        r: &Reference,
        base: &str,
        manifest: &Response,
        blob_headers: &[(&str, String)],
    ) -> Result<LocalImage, Failure> {
        let plain = |e: String| Failure::Registry(ClientError::Plain(e));
        let refused = |e: schema1::Refusal| match e {
            schema1::Refusal::Daemon(m) => plain(m),
            schema1::Refusal::NotModelled(m) => Failure::NotModelled(m),
        };
        let m = schema1::parse(&manifest.body).map_err(plain)?;
        schema1::verify(&m).map_err(plain)?;
        let mut layers = Vec::new();
        for (blob_sum, throwaway) in schema1::layers(&m).map_err(refused)? {
            if throwaway {
                continue;
            }
            let bytes = self.fetch_blob(base, r, &blob_sum, blob_headers).await?;
            let mut tar = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut tar)
                .map_err(|e| plain(format!("regsim: layer {blob_sum} is not gzip: {e}")))?;
            layers.push(LocalLayer {
                diff_id: sha256_digest(&tar),
                digest: blob_sum,
                bytes,
            });
        }
        let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let config = schema1::image_config(&m, &diff_ids).map_err(refused)?;
        let c: serde_json::Value = serde_json::from_slice(&config).unwrap_or_default();
        self.note_other_platform(r, &c);
        Ok(LocalImage {
            inspect: ImageInspect {
                id: sha256_digest(&config),
                repo_digests: vec![format!("{}@{}", r.familiar_name(), sha256_digest(&m.canonical))],
            },
            config,
            layers,
        })
    }

    /// One blob, checked against its digest.
    async fn fetch_blob(
        &self,
        base: &str,
        r: &Reference,
        digest: &str,
        headers: &[(&str, String)],
    ) -> Result<Vec<u8>, Failure> {
        let url = format!("{base}/v2/{}/blobs/{digest}", r.path);
        let got = self
            .send("GET", &url, headers)
            .await
            .map_err(|e| Failure::Registry(url_error("Get", &url, e)))?;
        if got.status != 200 || sha256_digest(&got.body) != digest {
            return Err(Failure::Registry(self.read_error("GET", &url, &got)));
        }
        Ok(got.body)
    }

    /// A single-platform image is stored whatever its platform (docker-errors.md §4(l)); its
    /// binaries fail only when a container starts.
    fn note_other_platform(&self, r: &Reference, c: &serde_json::Value) {
        if c["os"] != self.platform.os.as_str() || c["architecture"] != self.platform.architecture.as_str() {
            self.notes.lock().expect("notes lock").push(format!(
                "{} is a {}/{} image on this {} host: the pull succeeds, and the job's container then fails to start \
                 with `exec format error` (the kernel refuses its binaries; the container runtime's words, \
                 docker-errors.md §4(l)); the runner's lines for that are not simulated",
                r.familiar_string(),
                c["os"].as_str().unwrap_or("?"),
                c["architecture"].as_str().unwrap_or("?"),
                self.platform
            ));
        }
    }

    /// A GET that must answer 200; anything else is a registry error parsed from the response.
    async fn get_ok(&self, url: &str, headers: &[(&str, String)]) -> Result<Response, Failure> {
        let got = self
            .send("GET", url, headers)
            .await
            .map_err(|e| Failure::Registry(url_error("Get", url, e)))?;
        if (300..400).contains(&got.status) {
            // Go's client follows redirects; what dockerd then reads (a sign-in page, …) is not traced.
            return Err(Failure::NotModelled(format!(
                "GET {url} answered {} to {}: dockerd follows the redirect, and what it makes of that page is not modelled",
                got.status,
                got.header("location").unwrap_or("?")
            )));
        }
        if got.status != 200 {
            return Err(Failure::Registry(self.read_error("GET", url, &got)));
        }
        Ok(got)
    }

    /// Docker's token and basic handlers (docker/distribution `registry/client/auth`).
    pub(super) async fn authorize(
        &self,
        challenges: &[regsim_wire::challenge::Challenge],
        auth: &AuthConfig,
        scope: &str,
    ) -> Result<Option<String>, ClientError> {
        self.token(challenges, auth, &[scope], false).await
    }

    /// The token request: `scopes` (none for a login, which asks for an offline token instead).
    pub(super) async fn token(
        &self,
        challenges: &[regsim_wire::challenge::Challenge],
        auth: &AuthConfig,
        scopes: &[&str],
        login: bool,
    ) -> Result<Option<String>, ClientError> {
        let has_creds = !auth.username.is_empty() && !auth.password.is_empty();
        let basic = || {
            let raw = format!("{}:{}", auth.username, auth.password);
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
        };
        if let Some(c) = challenges.iter().find(|c| c.scheme == "bearer") {
            let realm = c.params.get("realm").cloned().unwrap_or_default();
            // url.Values.Encode: keys sorted, repeated keys in order; `account` only with
            // credentials; a login adds `client_id` and `offline_token` (§5.2).
            let mut q: Vec<(&str, &str)> = Vec::new();
            if has_creds {
                q.push(("account", &auth.username));
            }
            if login {
                q.push(("client_id", "docker"));
                q.push(("offline_token", "true"));
            }
            q.extend(scopes.iter().map(|s| ("scope", *s)));
            if let Some(s) = c.params.get("service") {
                q.push(("service", s));
            }
            q.sort_by_key(|(k, _)| *k);
            let query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", go_query_escape(v))).collect();
            let url = format!("{realm}?{}", query.join("&"));
            let headers: Vec<(&str, String)> = if has_creds {
                vec![("authorization", basic())]
            } else {
                vec![]
            };
            let resp = self.send("GET", &url, &headers).await?;
            if !(200..300).contains(&resp.status) {
                return Err(self.read_error("GET", &url, &resp));
            }
            // distribution's session.go decodes the first JSON value (json.NewDecoder, so text after
            // it is ignored): `unable to decode token response: %s` with Go's JSON error.
            let first = serde_json::Deserializer::from_slice(&resp.body)
                .into_iter::<serde_json::Value>()
                .next()
                .unwrap_or_else(|| serde_json::from_slice::<serde_json::Value>(b""));
            let tr: serde_json::Value = first.map_err(|e| {
                let body = String::from_utf8_lossy(&resp.body);
                ClientError::Plain(format!(
                    "unable to decode token response: {}",
                    super::distribution::go_json_error(&body, &e)
                ))
            })?;
            let token = tr
                .get("access_token")
                .or_else(|| tr.get("token"))
                .and_then(|t| t.as_str())
                .unwrap_or("");
            if token.is_empty() {
                return Err(ClientError::Plain(
                    "authorization server did not include a token in the response".into(),
                ));
            }
            return Ok(Some(format!("Bearer {token}")));
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            if !has_creds {
                self.record(Reading::NoBasicCredentials);
                return Err(ClientError::Plain("no basic auth credentials".into()));
            }
            return Ok(Some(basic()));
        }
        Ok(None)
    }

    /// One HTTP request to a mock, dialled through the scenario's name table.
    pub(super) async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
    ) -> Result<Response, ClientError> {
        self.send_body(method, url, headers, Vec::new()).await
    }

    /// One HTTP request with a body (blob uploads, manifests).
    pub(super) async fn send_body(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Response, ClientError> {
        let parsed = url::Url::parse(url).map_err(|e| ClientError::Plain(format!("parse {url:?}: {e}")))?;
        let crate::http::Target {
            host,
            port,
            addr,
            path,
            host_header,
        } = crate::http::target(&self.network, &parsed);
        let Some(addr): Option<SocketAddr> = addr else {
            let why = format!(
                "the job reaches for {host}:{port}, which no server of this scenario answers; what Docker prints \
                 when it cannot reach a registry is not modelled"
            );
            *self.unreachable.lock().expect("unreachable lock") = Some(regsim_wire::NotModelled::new(why.clone()));
            return Err(ClientError::Plain(why));
        };
        if parsed.scheme() == "https" {
            return self
                .send_tls(addr, &host, &host_header, method, &path, headers, body)
                .await;
        }
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("static method");
        let mut req = self
            .http
            .request(m, format!("http://{addr}{path}"))
            .header("host", host_header)
            .header(
                "user-agent",
                format!(
                    "docker/{} go/go{} os/linux arch/amd64",
                    self.version, self.profile.go_version
                ),
            );
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        if !body.is_empty() {
            req = req.body(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ClientError::Plain(format!("regsim: request to the mock failed: {e}")))?;
        let status = resp.status();
        let status_line = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        Ok(Response {
            status: status.as_u16(),
            status_line,
            headers,
            body,
        })
    }

    fn user_agent(&self) -> String {
        format!(
            "docker/{} go/go{} os/linux arch/amd64",
            self.version, self.profile.go_version
        )
    }

    /// One request over TLS: a handshake checked as the endpoint's configuration says (Go's
    /// order and words), then HTTP/1.1 on that connection.
    #[allow(clippy::too_many_arguments)]
    async fn send_tls(
        &self,
        addr: SocketAddr,
        host: &str,
        host_header: &str,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Response, ClientError> {
        let check = self
            .check
            .lock()
            .expect("check lock")
            .clone()
            .unwrap_or_else(|| tls::Check {
                roots: Some(self.trust.system_roots.clone()),
                now: self.trust.now,
            });
        let stream = match tls::connect(addr, host, &check).await {
            Ok(s) => s,
            Err(failure) => {
                self.record(Reading::Handshake {
                    host: host_header.to_string(),
                    verdict: failure.verdict(),
                });
                if self.profile.v1_fallback {
                    // dockerd ≤ 17.09 tries the registry's v1 endpoint after a failed v2 one; what
                    // it then prints for a TLS failure is not traced.
                    let why = format!(
                        "Docker {} falls back to the v1 protocol after this TLS failure ({}); what it then prints is not modelled",
                        self.version,
                        failure.verdict()
                    );
                    *self.unreachable.lock().expect("unreachable lock") =
                        Some(regsim_wire::NotModelled::new(why.clone()));
                    return Err(ClientError::Plain(why));
                }
                let wording = regsim_model::versions::docker::tls_wording(&self.version);
                return Err(match failure.render(wording) {
                    Ok(text) => ClientError::Plain(text),
                    Err(why) => {
                        let why = format!("a TLS failure regsim does not word: {why}");
                        *self.unreachable.lock().expect("unreachable lock") =
                            Some(regsim_wire::NotModelled::new(why.clone()));
                        ClientError::Plain(why)
                    }
                });
            }
        };
        let mut all = vec![("host", host_header.to_string()), ("user-agent", self.user_agent())];
        all.extend(headers.iter().map(|(k, v)| (*k, v.clone())));
        let (status, headers, body) = crate::http::send_on(stream, method, path, &all, body)
            .await
            .map_err(|e| ClientError::Plain(format!("regsim: request to the mock failed: {e}")))?;
        let status_line = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
        Ok(Response {
            status: status.as_u16(),
            status_line,
            headers,
            body,
        })
    }

    /// `TranslatePullError` and the Engine API status it leads to (§1.3, §1.5).
    fn translate_pull_error(&self, err: &ClientError, r: &Reference) -> DaemonError {
        let quoted = self.profile.quoted_urls;
        let first = err.first();
        let not_found = |message: String| DaemonError::Http { status: 404, message };
        if let ClientError::Coded { code, .. } = first {
            let cause = first.render(quoted);
            let with_cause = self.profile.pull_denied == PullDeniedWording::WithCause;
            match code {
                ErrorCode::Denied => {
                    return not_found(match self.profile.pull_denied {
                        PullDeniedWording::NotFoundOrNoPullAccess => {
                            format!(
                                "repository {} not found: does not exist or no pull access",
                                r.familiar_name()
                            )
                        }
                        PullDeniedWording::WithoutCause => format!(
                            "pull access denied for {}, repository does not exist or may require 'docker login'",
                            r.familiar_name()
                        ),
                        PullDeniedWording::WithCause => format!(
                            "pull access denied for {}, repository does not exist or may require 'docker login': {cause}",
                            r.familiar_name()
                        ),
                    });
                }
                ErrorCode::ManifestUnknown => {
                    let head = format!("manifest for {} not found", r.familiar_string());
                    return not_found(if with_cause { format!("{head}: {cause}") } else { head });
                }
                ErrorCode::NameUnknown => {
                    let head = format!("repository {} not found", r.familiar_name());
                    return not_found(if with_cause { format!("{head}: {cause}") } else { head });
                }
                _ => {}
            }
        }
        // errdefs.Unknown → 500 (Docker 29 maps UNAUTHORIZED to 401; the text is the same).
        let status = match first {
            ClientError::Coded { code, .. } | ClientError::Bare { code }
                if *code == ErrorCode::Unauthorized && self.version.major >= 29 =>
            {
                401
            }
            _ => 500,
        };
        DaemonError::Http {
            status,
            message: first.render(quoted),
        }
    }
}

/// moby `isNotFound`: DENIED, MANIFEST_UNKNOWN or NAME_UNKNOWN among the errors.
fn is_not_found(e: &ClientError) -> bool {
    match e {
        ClientError::Errors(v) => v.iter().any(is_not_found),
        ClientError::Coded { code, .. } | ClientError::Bare { code } => {
            matches!(
                code,
                ErrorCode::Denied | ErrorCode::ManifestUnknown | ErrorCode::NameUnknown
            )
        }
        _ => false,
    }
}

/// The media type a manifest response declares (`mime.ParseMediaType` of Content-Type).
fn media_type(r: &Response) -> String {
    r.header("content-type")
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// distribution's manifest registry maps these to schema 1 (`manifest/schema1/manifest.go` init):
/// no Content-Type, `application/json` and the signed type.
fn is_schema1(r: &Response) -> bool {
    let t = media_type(r);
    t.is_empty() || t == "application/json" || t == regsim_wire::media::MANIFEST_V1_SIGNED
}

/// `distribution.UnmarshalManifest`'s descriptor digest: a schema 1 manifest's canonical payload,
/// any other manifest's bytes as they came.
fn manifest_digest(r: &Response) -> Result<String, Failure> {
    if is_schema1(r) {
        let m = schema1::parse(&r.body).map_err(|e| Failure::Registry(ClientError::Plain(e)))?;
        Ok(sha256_digest(&m.canonical))
    } else {
        Ok(sha256_digest(&r.body))
    }
}

/// moby@v1.13.1 `allowV1Fallback`: UNAUTHORIZED, MANIFEST_UNKNOWN or NAME_UNKNOWN as the first
/// `errcode.Error`, or a url.Error carrying `no basic auth credentials`.
fn allows_v1_fallback(e: &ClientError) -> bool {
    match e {
        ClientError::Url { inner, .. } => {
            matches!(inner.as_ref(), ClientError::Plain(m) if m == "no basic auth credentials")
        }
        other => {
            matches!(
                other.first(),
                ClientError::Coded {
                    code: ErrorCode::Unauthorized | ErrorCode::ManifestUnknown | ErrorCode::NameUnknown,
                    ..
                }
            )
        }
    }
}

pub(super) fn url_error(op: &'static str, url: &str, inner: ClientError) -> ClientError {
    ClientError::Url {
        op,
        url: url.to_string(),
        inner: Box::new(inner),
    }
}

/// Go's `url.QueryEscape`.
pub(crate) fn go_query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_escape_matches_go() {
        assert_eq!(
            super::go_query_escape("repository:your/project/image:pull"),
            "repository%3Ayour%2Fproject%2Fimage%3Apull"
        );
    }
}
