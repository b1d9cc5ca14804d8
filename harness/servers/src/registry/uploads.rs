//! Pushes: `POST|PATCH|PUT /v2/<name>/blobs/uploads/…` (with cross-repository mounts) and
//! `PUT /v2/<name>/manifests/<reference>`, as docker/distribution v2.8's blob-upload and manifest
//! handlers answer them. What clients push lives in `Pushed`, beside the world's own images.

use super::{RegistryKind, base, error_as};
use crate::image::{self, Blob, Image};
use crate::journal::Answer;
use regsim_wire::digest::sha256_digest;
use regsim_wire::errcode::ErrorCode;
use regsim_wire::media::{LAYER_GZIP, MANIFEST_V2};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The blobs, links and tags clients pushed during one run.
#[derive(Default)]
pub struct Pushed {
    blobs: HashMap<String, Blob>,
    /// (repository, digest): distribution links a blob into each repository that uploaded or
    /// mounted it; only linked blobs are served from that repository.
    links: HashSet<(String, String)>,
    uploads: HashMap<String, (String, Vec<u8>)>,
    /// repository → tag → manifest.
    tags: BTreeMap<String, BTreeMap<String, Blob>>,
    next_upload: u64,
}

impl Pushed {
    pub fn blob(&self, repository: &str, digest: &str) -> Option<Blob> {
        if !self.links.contains(&(repository.to_string(), digest.to_string())) {
            return None;
        }
        self.blobs.get(digest).cloned()
    }

    /// Pushed tags of `repository`, as images.
    pub fn images(&self, repository: &str) -> Vec<(String, Image)> {
        let Some(tags) = self.tags.get(repository) else {
            return Vec::new();
        };
        tags.iter()
            .filter_map(|(tag, m)| {
                image::from_manifest(m.clone(), |d| self.blob(repository, d)).map(|i| (tag.clone(), i))
            })
            .collect()
    }

    /// Upload IDs are counters shaped like distribution's UUIDs, so runs are repeatable.
    fn new_upload(&mut self, repository: &str) -> String {
        self.next_upload += 1;
        let id = format!("00000000-0000-4000-8000-{:012x}", self.next_upload);
        self.uploads.insert(id.clone(), (repository.to_string(), Vec::new()));
        id
    }
}

/// Absolute URLs, as distribution's URL builder makes them from the request's scheme and Host
/// (`base` is `scheme://host`).
fn location(base: &str, path: &str) -> String {
    format!("{base}{path}")
}

/// `POST /v2/<name>/blobs/uploads/[?mount=<digest>&from=<repo>]`. A mount carries the blob if
/// `from` holds it (the handler has checked pull access on `from`); otherwise an upload starts.
pub fn start(pushed: &mut Pushed, host: &str, name: &str, mount: Option<(&str, Option<Blob>)>) -> Answer {
    if let Some((digest, Some(blob))) = mount {
        pushed.blobs.insert(digest.to_string(), blob);
        pushed.links.insert((name.to_string(), digest.to_string()));
        return Answer::new(
            base(201)
                .insert_header(
                    "Location",
                    location(host, &format!("/v2/{name}/blobs/{digest}")).as_str(),
                )
                .insert_header("Docker-Content-Digest", digest),
            format!("mounted {digest}"),
        );
    }
    let id = pushed.new_upload(name);
    accepted(host, name, &id, 0, "upload started")
}

fn accepted(host: &str, name: &str, id: &str, len: usize, note: &str) -> Answer {
    Answer::new(
        base(202)
            .insert_header(
                "Location",
                location(host, &format!("/v2/{name}/blobs/uploads/{id}")).as_str(),
            )
            .insert_header("Range", format!("0-{}", len.saturating_sub(1)).as_str())
            .insert_header("Docker-Upload-UUID", id),
        note.to_string(),
    )
}

fn unknown_upload(kind: RegistryKind, id: &str) -> Answer {
    error_as(kind, ErrorCode::BlobUploadUnknown, None, format!("no upload {id}"))
}

/// `PATCH /v2/<name>/blobs/uploads/<id>`: a chunk.
pub fn patch(kind: RegistryKind, pushed: &mut Pushed, host: &str, name: &str, id: &str, body: &[u8]) -> Answer {
    match pushed.uploads.get_mut(id).filter(|(repo, _)| repo == name) {
        Some((_, bytes)) => {
            bytes.extend_from_slice(body);
            let len = bytes.len();
            accepted(host, name, id, len, &format!("{len} bytes so far"))
        }
        None => unknown_upload(kind, id),
    }
}

/// `PUT /v2/<name>/blobs/uploads/<id>?digest=<d>`: the last chunk, and the digest it must have.
pub fn finish(
    kind: RegistryKind,
    pushed: &mut Pushed,
    host: &str,
    name: &str,
    id: &str,
    digest: Option<&str>,
    body: &[u8],
) -> Answer {
    let Some((repo, mut bytes)) = pushed.uploads.remove(id) else {
        return unknown_upload(kind, id);
    };
    if repo != name {
        pushed.uploads.insert(id.to_string(), (repo, bytes));
        return unknown_upload(kind, id);
    }
    bytes.extend_from_slice(body);
    let actual = sha256_digest(&bytes);
    match digest {
        Some(d) if d == actual => {
            pushed.blobs.insert(actual.clone(), image::blob(LAYER_GZIP, bytes));
            pushed.links.insert((name.to_string(), actual.clone()));
            Answer::new(
                base(201)
                    .insert_header(
                        "Location",
                        location(host, &format!("/v2/{name}/blobs/{actual}")).as_str(),
                    )
                    .insert_header("Docker-Content-Digest", actual.as_str()),
                format!("{actual} stored"),
            )
        }
        Some(d) => error_as(
            kind,
            ErrorCode::DigestInvalid,
            None,
            format!("content is {actual}, not {d}"),
        ),
        None => error_as(kind, ErrorCode::DigestInvalid, None, "no digest parameter"),
    }
}

/// `PUT /v2/<name>/manifests/<reference>`: every blob the manifest names must be in the
/// repository already (`MANIFEST_BLOB_UNKNOWN` otherwise).
pub fn put_manifest(
    kind: RegistryKind,
    pushed: &mut Pushed,
    host: &str,
    name: &str,
    reference: &str,
    body: &[u8],
    has_blob: impl Fn(&str) -> Option<Blob>,
) -> Answer {
    let Ok(m) = serde_json::from_slice::<serde_json::Value>(body) else {
        return error_as(kind, ErrorCode::ManifestInvalid, None, "manifest is not JSON");
    };
    let media_type = match m["mediaType"].as_str() {
        Some(MANIFEST_V2) => MANIFEST_V2,
        _ => {
            return error_as(
                kind,
                ErrorCode::ManifestInvalid,
                None,
                "only schema 2 manifests are modelled",
            );
        }
    };
    let referenced = std::iter::once(&m["config"])
        .chain(m["layers"].as_array().into_iter().flatten())
        .filter_map(|d| d["digest"].as_str());
    for d in referenced {
        let Some(blob) = pushed.blob(name, d).or_else(|| has_blob(d)) else {
            return error_as(
                kind,
                ErrorCode::ManifestBlobUnknown,
                Some(serde_json::Value::String(d.to_string())),
                format!("manifest names {d}, which {name} does not hold"),
            );
        };
        // A blob the world's image holds becomes a pushed link too, so the tag resolves.
        pushed.blobs.entry(d.to_string()).or_insert(blob);
        pushed.links.insert((name.to_string(), d.to_string()));
    }
    let manifest = Blob {
        digest: sha256_digest(body),
        media_type,
        bytes: body.to_vec(),
    };
    let digest = manifest.digest.clone();
    if !reference.starts_with("sha256:") {
        pushed
            .tags
            .entry(name.to_string())
            .or_default()
            .insert(reference.to_string(), manifest);
    }
    Answer::new(
        base(201)
            .insert_header(
                "Location",
                location(host, &format!("/v2/{name}/manifests/{digest}")).as_str(),
            )
            .insert_header("Docker-Content-Digest", digest.as_str()),
        format!("{name}:{reference} → {digest}"),
    )
}
