//! `GET|HEAD /v2/<name>/blobs/<digest>`.

use super::{Flavor, Reply, base, error_as};
use crate::mock::errcode;
use crate::mock::image::Blob;

/// `blob` is what the repository holds under `digest`, if anything.
pub fn get(flavor: Flavor, blob: Option<Blob>, digest: &str) -> Reply {
    match blob {
        Some(b) => Reply {
            response: base(200)
                .insert_header("Docker-Content-Digest", b.digest.as_str())
                .insert_header("Etag", format!("\"{}\"", b.digest).as_str())
                .insert_header("Cache-Control", "max-age=31536000")
                .insert_header("Accept-Ranges", "bytes")
                .set_body_raw(b.bytes.clone(), "application/octet-stream"),
            status: 200,
            note: format!("{} bytes", b.bytes.len()),
        },
        None => error_as(
            flavor,
            &errcode::BLOB_UNKNOWN,
            Some(serde_json::Value::String(digest.to_string())),
            "no such blob",
        ),
    }
}
