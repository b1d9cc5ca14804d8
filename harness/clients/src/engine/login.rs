//! `POST /auth` on the simulated dockerd (`docker login`): docker-errors.md §5.2 — ping `/v2/`,
//! then for a token registry an offline token (`client_id=docker&offline_token=true`, no scope)
//! and the ping again with it; for a Basic registry the ping again with the credentials.

use super::distribution::ClientError;
use super::simulated::{SimulatedEngine, url_error};
use super::{AuthConfig, DaemonError};
use regsim_wire::reference::Reference;

impl SimulatedEngine {
    pub async fn login(&self, username: &str, password: &str, server: &str) -> Result<String, DaemonError> {
        let quoted = self.profile.quoted_urls;
        // The server address names a registry host; a path or scheme the CLI passed is dropped.
        let host = server
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default();
        let r = Reference::parse(&format!("{host}/x")).map_err(|m| DaemonError::Http {
            status: 400,
            message: m.to_string(),
        })?;
        let ping_url = format!("{}/v2/", self.endpoint(&r).await);
        let fail = |e: ClientError| DaemonError::Http {
            status: 500,
            message: url_error("Get", &ping_url, e).render(quoted),
        };
        let ping = self.send("GET", &ping_url, &[]).await.map_err(fail)?;
        let challenges = ping.challenges();
        if ping.status == 200 {
            return Ok("Login Succeeded".into());
        }
        let auth = AuthConfig {
            username: username.into(),
            password: password.into(),
            ..Default::default()
        };
        let authorization = if challenges.iter().any(|c| c.scheme == "bearer") {
            self.token(&challenges, &auth, &[], true).await
        } else {
            self.authorize(&challenges, &auth, "").await
        }
        .map_err(fail)?;
        let headers: Vec<(&str, String)> = authorization.iter().map(|a| ("authorization", a.clone())).collect();
        let again = self.send("GET", &ping_url, &headers).await.map_err(fail)?;
        if again.status == 200 {
            return Ok("Login Succeeded".into());
        }
        Err(DaemonError::Http {
            status: 401,
            message: format!(
                "login attempt to {ping_url} failed with status: {}",
                again.as_http().status_line
            ),
        })
    }
}
