//! `POST /images/{name}/push` on the simulated dockerd: the graphdriver push of
//! docker-errors.md §5.3 (ping, token for `push,pull`, per layer a HEAD, a cross-repository mount
//! when dockerd's metadata knows another repository on the registry, else an upload; then the
//! config and the manifest) and the stream it writes (§6). Wording per version:
//! `versions::docker::stream_table`.
//!
//! dockerd uploads up to five layers at once (`max-concurrent-uploads`); regsim walks them one
//! after another, which gives the same lines for the cases modelled: success with layers that
//! finish in order, and a failure on the first upload, which ends the push for every layer.

use super::distribution::ClientError;
use super::simulated::{LocalImage, SimulatedEngine, url_error};
use super::{AuthConfig, DaemonError, ProgressStream};
use regsim_model::versions::docker::stream_wording;
use regsim_wire::digest::sha256_digest;
use regsim_wire::errcode::ErrorCode;
use regsim_wire::reference::Reference;

/// dockerd's default `--max-concurrent-uploads`: layers beyond it print `Waiting` first
/// (moby@v20.10.24 distribution/xfer/upload.go:121, cmd/dockerd defaults).
const MAX_CONCURRENT_UPLOADS: usize = 5;

/// How one layer's push ended.
enum LayerPush {
    Done(&'static str),
    Mounted(String),
}

/// What an upload carries.
enum UploadBody {
    /// Bytes dockerd sends as they are (the image config).
    AsIs(Vec<u8>),
    /// A layer: dockerd compresses it anew with Go's compress/gzip (moby distribution/push_v2.go
    /// `compress`), so the blob, its digest and the manifest's are not the pulled blob's and
    /// cannot be computed here [OBS dockerd 20.10.24: a fresh upload's `digest:` line differed].
    Recompressed { layer: String },
}

/// Why a push stopped before its manifest was accepted.
enum PushStop {
    /// The error that ends the stream.
    Error(String),
    /// An error dockerd retries with back-off.
    Retried,
    /// What dockerd would do next is not modelled.
    Unmodelled(String),
}

/// `retry_on_error`'s verdict: `Some(text)` ends the push, `None` is retried.
impl From<Option<String>> for PushStop {
    fn from(e: Option<String>) -> Self {
        e.map_or(PushStop::Retried, PushStop::Error)
    }
}

impl SimulatedEngine {
    pub async fn push_image(&self, name: &str, tag: &str, registry_auth: &str) -> Result<ProgressStream, DaemonError> {
        let joined = if tag.is_empty() {
            name.to_string()
        } else {
            format!("{name}:{tag}")
        };
        let r = Reference::parse(&joined).map_err(|m| DaemonError::Http {
            status: 400,
            message: m.to_string(),
        })?;
        let wording = stream_wording(&self.version);
        let mut out = ProgressStream::default();
        out.status(None, format!("{} [{}]", wording.push_refers_to, r.familiar_name()));
        let key = format!("{}:{}", r.familiar_name(), r.tag_or_latest());
        let Some(image) = self.images.lock().expect("image store lock").get(&key).cloned() else {
            out.error = Some(format!(
                "An image does not exist locally with the tag: {}",
                r.familiar_name()
            ));
            return Ok(out);
        };
        let auth = AuthConfig::decode(registry_auth);
        match self.push(&r, &image, &auth, &mut out).await {
            Ok(()) => {}
            Err(PushStop::Error(e)) => out.error = Some(e),
            Err(PushStop::Retried) => {
                return Err(DaemonError::unmodelled(
                    "this push error is retried by dockerd with back-off (`Retrying in N seconds`), which regsim does not model",
                ));
            }
            Err(PushStop::Unmodelled(m)) => return Err(DaemonError::unmodelled(m)),
        }
        Ok(out)
    }

    /// The push proper.
    async fn push(
        &self,
        r: &Reference,
        image: &LocalImage,
        auth: &AuthConfig,
        out: &mut ProgressStream,
    ) -> Result<(), PushStop> {
        let quoted = self.profile.quoted_urls;
        let base = self.endpoint(r).await;
        let ping_url = format!("{base}/v2/");
        let ping = self
            .send("GET", &ping_url, &[])
            .await
            .map_err(|e| retry_on_error(&url_error("Get", &ping_url, e), quoted))?;
        let challenges = ping.challenges();
        let own_scope = format!("repository:{}:push,pull", r.path);
        let registry = r.registry_host();

        // Descriptors run from the top layer down (push_v2.go pushV2Tag); each prints Preparing,
        // and those past the concurrency limit wait.
        let layers: Vec<_> = image.layers.iter().rev().collect();
        for l in &layers {
            out.status(Some(short_id(&l.diff_id)), "Preparing");
        }
        for l in layers.iter().skip(MAX_CONCURRENT_UPLOADS) {
            out.status(Some(short_id(&l.diff_id)), "Waiting");
        }
        for l in &layers {
            let id = short_id(&l.diff_id);
            match self
                .push_layer(&base, r, &registry, &challenges, auth, &own_scope, l)
                .await?
            {
                LayerPush::Done(s) => out.status(Some(id), s),
                LayerPush::Mounted(from) => out.status(Some(id), format!("Mounted from {from}")),
            }
        }
        // The config, silently, then the manifest: the schema2 builder stats the config blob and
        // puts it only when the registry does not know it (distribution v2.7+
        // manifest/schema2/builder.go Build, vendored by moby). Its errors and the manifest's
        // come back whole, not through retryOnError.
        let token = self
            .token(&challenges, auth, &[&own_scope], false)
            .await
            .map_err(|e| retry_on_error(&e, quoted))?;
        let config_digest = sha256_digest(&image.config);
        let config_url = format!("{base}/v2/{}/blobs/{config_digest}", r.path);
        let auth_header: Vec<(&str, String)> = token.iter().map(|t| ("authorization", t.clone())).collect();
        let stat = self
            .send("HEAD", &config_url, &auth_header)
            .await
            .map_err(|e| Some(url_error("Head", &config_url, e).render(quoted)))?;
        match stat.status {
            200 => {}
            404 => {
                self.upload_blob(
                    &base,
                    r,
                    token.as_deref(),
                    &config_digest,
                    UploadBody::AsIs(image.config.clone()),
                    Errors::Whole,
                )
                .await?
            }
            other => {
                return Err(PushStop::Unmodelled(format!(
                    "the registry answered {other} to the config blob's HEAD: what dockerd prints then is not modelled"
                )));
            }
        }
        let manifest = manifest_for(image);
        let url = format!("{base}/v2/{}/manifests/{}", r.path, r.tag_or_latest());
        let mut headers = vec![("content-type", regsim_wire::media::MANIFEST_V2.to_string())];
        if let Some(t) = &token {
            headers.push(("authorization", t.clone()));
        }
        let put = self
            .send_body("PUT", &url, &headers, manifest.clone())
            .await
            .map_err(|e| retry_on_error(&url_error("Put", &url, e), quoted))?;
        if !(200..300).contains(&put.status) {
            // The manifest's error goes back whole, not through retryOnError (which keeps only
            // the first of several): an insufficient_scope 401 prints `errors:`, the challenge's
            // `denied` and the body's `unauthorized` [OBS dockerd 20.10.24 against the mock,
            // scenario cli-28-3-docker-auth-config-beats-docker-login; moby v20.10.24
            // distribution/push_v2.go pushV2Tag returns manSvc.Put's error as it is].
            return Err(Some(self.registry_error(&put).render(quoted)).into());
        }
        let digest = put
            .header("docker-content-digest")
            .map(str::to_string)
            .unwrap_or_else(|| sha256_digest(&manifest));
        out.status(
            None,
            format!("{}: digest: {digest} size: {}", r.tag_or_latest(), manifest.len()),
        );
        let mut sources = self.blob_sources.lock().expect("metadata lock");
        for l in &image.layers {
            let s = sources.entry(l.digest.clone()).or_default();
            let here = (registry.clone(), r.path.clone());
            if !s.contains(&here) {
                s.push(here);
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn push_layer(
        &self,
        base: &str,
        r: &Reference,
        registry: &str,
        challenges: &[regsim_wire::challenge::Challenge],
        auth: &AuthConfig,
        own_scope: &str,
        layer: &super::simulated::LocalLayer,
    ) -> Result<LayerPush, PushStop> {
        let quoted = self.profile.quoted_urls;
        // layerAlreadyExists: a HEAD for a digest dockerd knows; a failed token request or a
        // refusal here is only logged.
        let token = self.token(challenges, auth, &[own_scope], false).await.ok().flatten();
        let head_url = format!("{base}/v2/{}/blobs/{}", r.path, layer.digest);
        let auth_header: Vec<(&str, String)> = token.iter().map(|t| ("authorization", t.clone())).collect();
        if let Ok(h) = self.send("HEAD", &head_url, &auth_header).await
            && h.status == 200
        {
            return Ok(LayerPush::Done("Layer already exists"));
        }
        // Cross-repository mount from another repository of the same registry; any failure
        // falls through to a plain upload (§5.3).
        let candidates: Vec<String> = self
            .blob_sources
            .lock()
            .expect("metadata lock")
            .get(&layer.digest)
            .into_iter()
            .flatten()
            .filter(|(reg, repo)| reg == registry && *repo != r.path)
            .map(|(_, repo)| repo.clone())
            .collect();
        for from in candidates {
            let from_scope = format!("repository:{from}:pull");
            let Ok(t) = self.token(challenges, auth, &[own_scope, &from_scope], false).await else {
                continue;
            };
            let url = format!(
                "{base}/v2/{}/blobs/uploads/?from={}&mount={}",
                r.path,
                super::simulated::go_query_escape(&from),
                super::simulated::go_query_escape(&layer.digest)
            );
            let headers: Vec<(&str, String)> = t.iter().map(|t| ("authorization", t.clone())).collect();
            if let Ok(m) = self.send("POST", &url, &headers).await
                && m.status == 201
            {
                return Ok(LayerPush::Mounted(from));
            }
        }
        let token = self
            .token(challenges, auth, &[own_scope], false)
            .await
            .map_err(|e| retry_on_error(&e, quoted))?;
        let body = UploadBody::Recompressed {
            layer: format!("{} of {}", short_id(&layer.diff_id), r.familiar_name()),
        };
        self.upload_blob(base, r, token.as_deref(), &layer.digest, body, Errors::RetryOnError)
            .await?;
        Ok(LayerPush::Done("Pushed"))
    }

    /// `POST …/blobs/uploads/` → `PATCH` the bytes → `PUT ?digest=`.
    async fn upload_blob(
        &self,
        base: &str,
        r: &Reference,
        token: Option<&str>,
        digest: &str,
        body: UploadBody,
        errors: Errors,
    ) -> Result<(), PushStop> {
        let quoted = self.profile.quoted_urls;
        let verdict = |e: &ClientError, quoted: bool| match errors {
            Errors::RetryOnError => retry_on_error(e, quoted),
            Errors::Whole => Some(e.render(quoted)),
        };
        let auth: Vec<(&str, String)> = token.iter().map(|t| ("authorization", t.to_string())).collect();
        let start_url = format!("{base}/v2/{}/blobs/uploads/", r.path);
        let started = self
            .send("POST", &start_url, &auth)
            .await
            .map_err(|e| verdict(&url_error("Post", &start_url, e), quoted))?;
        if started.status != 202 {
            return Err(verdict(&self.registry_error(&started), quoted).into());
        }
        let bytes = match body {
            UploadBody::AsIs(bytes) => bytes,
            // The registry accepted the upload; dockerd would now send its own compression.
            UploadBody::Recompressed { layer } => {
                return Err(PushStop::Unmodelled(format!(
                    "dockerd would upload layer {layer} afresh, recompressed with Go's gzip; the digests it would print \
                     are not computable here (only pushes whose layers exist or mount in the registry are modelled)"
                )));
            }
        };
        let location = started.header("location").unwrap_or_default().to_string();
        let patched = self
            .send_body("PATCH", &location, &auth, bytes)
            .await
            .map_err(|e| verdict(&url_error("Patch", &location, e), quoted))?;
        if patched.status != 202 {
            return Err(verdict(&self.registry_error(&patched), quoted).into());
        }
        let next = patched.header("location").unwrap_or(&location).to_string();
        let sep = if next.contains('?') { '&' } else { '?' };
        let put_url = format!("{next}{sep}digest={}", super::simulated::go_query_escape(digest));
        let put = self
            .send("PUT", &put_url, &auth)
            .await
            .map_err(|e| verdict(&url_error("Put", &put_url, e), quoted))?;
        if put.status != 201 {
            return Err(verdict(&self.registry_error(&put), quoted).into());
        }
        Ok(())
    }
}

/// How an upload's error reaches the push's stream.
#[derive(Clone, Copy)]
enum Errors {
    /// A layer's (`pushV2.Upload` through the transfer manager's `retryOnError`).
    RetryOnError,
    /// The config's, from the manifest builder: as returned.
    Whole,
}

/// `stringid.TruncateID` of the diff ID: the 12 hex digits progress lines show.
fn short_id(diff_id: &str) -> &str {
    let hex = diff_id.strip_prefix("sha256:").unwrap_or(diff_id);
    &hex[..hex.len().min(12)]
}

/// The schema 2 manifest dockerd writes for the image: docker/distribution's `schema2.FromStruct`
/// marshals with a three-space indent (`json.MarshalIndent(m, "", "   ")`), which the real
/// daemon's digests and sizes confirm.
fn manifest_for(image: &LocalImage) -> Vec<u8> {
    use regsim_wire::media::{CONFIG_V1, LAYER_GZIP, MANIFEST_V2};
    let m = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_V2,
        "config": {"mediaType": CONFIG_V1, "size": image.config.len(), "digest": sha256_digest(&image.config)},
        "layers": image.layers.iter().map(|l| serde_json::json!({"mediaType": LAYER_GZIP, "size": l.bytes.len(), "digest": l.digest})).collect::<Vec<_>>(),
    });
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(&m, &mut ser).expect("json");
    buf
}

/// `retryOnError` (moby distribution/errors.go, 1.13.1 – 29): these registry errors, `no basic
/// auth credentials` and unparsable bodies are final and printed bare (a url.Error is unwrapped);
/// anything else — a bare error code among them — is retried with back-off (`None`).
fn retry_on_error(e: &ClientError, quoted: bool) -> Option<String> {
    const FINAL: &[ErrorCode] = &[
        ErrorCode::Unauthorized,
        ErrorCode::Unsupported,
        ErrorCode::Denied,
        ErrorCode::TooManyRequests,
        ErrorCode::NameUnknown,
    ];
    match e {
        ClientError::Errors(v) => v.first().and_then(|f| retry_on_error(f, quoted)),
        ClientError::Coded { code, .. } if FINAL.contains(code) => Some(e.render(quoted)),
        ClientError::Url { inner, .. } => match inner.as_ref() {
            ClientError::Plain(m) if m == "no basic auth credentials" => Some(m.clone()),
            inner => retry_on_error(inner, quoted),
        },
        ClientError::UnexpectedResponse { .. } => Some(e.render(quoted)),
        _ => None,
    }
}

impl SimulatedEngine {
    fn registry_error(&self, resp: &super::simulated::Response) -> ClientError {
        super::distribution::handle_error_response(&resp.as_http(), &self.profile)
    }
}
