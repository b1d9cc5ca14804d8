//! Putting a scenario's images into the reference registry before a client pulls: the same bytes
//! the mock registry serves, pushed over distribution's HTTP API (a monolithic blob upload per
//! blob, then the manifest) with a push token the mock's key signed — the registry cannot tell it
//! from one GitLab's token service issued.

use regsim_model::policy::Access;
use regsim_servers::image::{Blob, Image};
use regsim_servers::token::{IssueRequest, SigningKey, issue};
use std::net::SocketAddr;

/// A token for `access` (`(repository, actions)`), stamped at `now`, from `issuer`.
pub fn token(issuer: &str, now: i64, access: &[(&str, &[&str])]) -> String {
    let access: Vec<Access> = access
        .iter()
        .map(|(name, actions)| Access {
            kind: regsim_wire::scope::ResourceType::Repository,
            name: name.to_string(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            project: None,
        })
        .collect();
    issue(IssueRequest {
        key: SigningKey::shared(),
        jti: format!("regsim-conformance-{now}"),
        service: "container_registry",
        issuer,
        now,
        expire_minutes: 5,
        sub: Some("regsim-conformance".into()),
        access: &access,
        meta: None,
        auth_type: "none",
        user_info: None,
    })
}

/// Pushes `image` as `repository:tag` to the registry at `addr`.
pub async fn push(
    addr: SocketAddr,
    issuer: &str,
    now: i64,
    repository: &str,
    tag: &str,
    image: &Image,
) -> Result<(), String> {
    let bearer = format!("Bearer {}", token(issuer, now, &[(repository, &["pull", "push"])]));
    let http = reqwest::Client::new();
    let base = format!("http://{addr}/v2/{repository}");
    for blob in image.blobs() {
        upload(&http, &base, &bearer, blob).await?;
    }
    let r = http
        .put(format!("{base}/manifests/{tag}"))
        .header("Authorization", &bearer)
        .header("Content-Type", regsim_wire::media::MANIFEST_V2)
        .body(image.manifest.bytes.clone())
        .send()
        .await
        .map_err(|e| format!("PUT manifest {repository}:{tag}: {e}"))?;
    if r.status().as_u16() != 201 {
        return Err(format!(
            "PUT manifest {repository}:{tag}: {} {}",
            r.status(),
            r.text().await.unwrap_or_default()
        ));
    }
    Ok(())
}

/// `POST …/blobs/uploads/` then `PUT <Location>&digest=…` with the whole blob (distribution
/// v2.8.2 docs/spec/api.md, "Monolithic Upload").
async fn upload(http: &reqwest::Client, base: &str, bearer: &str, blob: &Blob) -> Result<(), String> {
    let start = http
        .post(format!("{base}/blobs/uploads/"))
        .header("Authorization", bearer)
        .send()
        .await
        .map_err(|e| format!("POST {base}/blobs/uploads/: {e}"))?;
    if start.status().as_u16() != 202 {
        return Err(format!("POST {base}/blobs/uploads/: {}", start.status()));
    }
    let location = start
        .headers()
        .get("Location")
        .and_then(|l| l.to_str().ok())
        .ok_or("upload started without a Location")?
        .to_string();
    let sep = if location.contains('?') { '&' } else { '?' };
    let r = http
        .put(format!("{location}{sep}digest={}", blob.digest))
        .header("Authorization", bearer)
        .header("Content-Type", "application/octet-stream")
        .body(blob.bytes.clone())
        .send()
        .await
        .map_err(|e| format!("PUT blob {}: {e}", blob.digest))?;
    if r.status().as_u16() != 201 {
        return Err(format!("PUT blob {}: {}", blob.digest, r.status()));
    }
    Ok(())
}
