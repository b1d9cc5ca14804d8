//! `GET|HEAD /v2/<name>/blobs/<digest>`.

use super::{RegistryKind, base, error_as};
use crate::image::Blob;
use crate::journal::Answer;
use regsim_wire::errcode::ErrorCode;

/// `blob` is what the repository holds under `digest`, if anything.
pub fn get(kind: RegistryKind, blob: Option<Blob>, digest: &str) -> Answer {
    match blob {
        Some(b) => Answer::new(
            base(200)
                .insert_header("Docker-Content-Digest", b.digest.as_str())
                .insert_header("Etag", format!("\"{}\"", b.digest).as_str())
                .insert_header("Cache-Control", "max-age=31536000")
                .insert_header("Accept-Ranges", "bytes")
                .set_body_raw(b.bytes.clone(), "application/octet-stream"),
            format!("{} bytes", b.bytes.len()),
        ),
        None => error_as(
            kind,
            ErrorCode::BlobUnknown,
            Some(serde_json::Value::String(digest.to_string())),
            "no such blob",
        ),
    }
}
