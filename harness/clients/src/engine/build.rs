//! `POST /build` and `POST /images/{name}/tag` on the simulated dockerd. Only Dockerfiles made of
//! one `FROM` are modelled: the classic builder's stream for them (moby builder/dockerfile,
//! api/server/backend/build) is the step line, the base image's pull when the engine does not
//! hold it, the base's short ID and `Successfully built`/`tagged`; the built image is the base
//! image under a new name.

use super::simulated::SimulatedEngine;
use super::{DaemonError, ProgressStream};
use regsim_model::versions::docker::stream_wording;
use regsim_wire::engine_api::{AuthConfig, decode_registry_config, resolve_auth_config};
use regsim_wire::reference::Reference;

impl SimulatedEngine {
    pub async fn build(
        &self,
        dockerfile: &str,
        tag: &str,
        registry_config: &str,
    ) -> Result<ProgressStream, DaemonError> {
        let lines: Vec<&str> = dockerfile
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let base = match lines.as_slice() {
            [from] if from.len() > 5 && from[..5].eq_ignore_ascii_case("FROM ") => from[5..].trim(),
            _ => {
                return Err(DaemonError::unmodelled(
                    "only a Dockerfile of one `FROM image` line is modelled by the simulated builder",
                ));
            }
        };
        let base_ref = Reference::parse(base).map_err(|m| DaemonError::Http {
            status: 400,
            message: m.to_string(),
        })?;
        let base_key = format!("{}:{}", base_ref.familiar_name(), base_ref.tag_or_latest());
        let mut out = ProgressStream::default();
        out.stream(format!("Step 1/1 : FROM {base}"));
        out.stream("\n");
        let held = self.images.lock().expect("image store lock").get(&base_key).cloned();
        let image = match held {
            Some(image) => image,
            // The classic builder pulls a base it does not hold (imageSources' PullOptionPreferLocal)
            // into the build's own stream, with the credential X-Registry-Config holds for the
            // base's registry (daemon pullForBuilder → registry.ResolveAuthConfig).
            None => {
                if base_ref.digest.is_some() {
                    return Err(DaemonError::unmodelled(format!(
                        "the build would pull {base} by digest, which the simulated builder does not do"
                    )));
                }
                // registry.GetAuthConfigKey: Docker Hub's credentials sit under its index server.
                let key = if base_ref.domain == "docker.io" {
                    regsim_wire::engine_api::INDEX_SERVER.to_string()
                } else {
                    base_ref.domain.clone()
                };
                let auth = resolve_auth_config(&decode_registry_config(registry_config), &key);
                let header = AuthConfig::encode(Some(&auth));
                let pulled = match self
                    .pull_image(&base_ref.familiar_name(), &base_ref.tag_or_latest(), &header)
                    .await
                {
                    Ok(p) => p,
                    Err(DaemonError::Unmodelled(n)) => return Err(DaemonError::Unmodelled(n)),
                    Err(_) => {
                        return Err(DaemonError::unmodelled(format!(
                            "the build's pull of {base} fails; the classic builder's wording for that is not read"
                        )));
                    }
                };
                out.messages.extend(pulled.messages);
                self.images
                    .lock()
                    .expect("image store lock")
                    .get(&base_key)
                    .cloned()
                    .ok_or_else(|| DaemonError::unmodelled(format!("{base} was pulled but is not held")))?
            }
        };
        let short = image.inspect.id.trim_start_matches("sha256:")[..12].to_string();
        out.stream(format!(" ---> {short}\n"));
        out.stream(format!("Successfully built {short}\n"));
        let target = Reference::parse(tag).map_err(|m| DaemonError::Http {
            status: 400,
            message: m.to_string(),
        })?;
        let key = format!("{}:{}", target.familiar_name(), target.tag_or_latest());
        if stream_wording(&self.version).successfully_tagged {
            out.stream(format!("Successfully tagged {key}\n"));
        }
        self.images.lock().expect("image store lock").insert(key, image);
        Ok(out)
    }

    pub async fn tag_image(&self, source: &str, repo: &str, tag: &str) -> Result<(), DaemonError> {
        let src = Reference::parse(source).map_err(|m| DaemonError::Http {
            status: 400,
            message: m.to_string(),
        })?;
        let src_key = format!("{}:{}", src.familiar_name(), src.tag_or_latest());
        let image = self
            .images
            .lock()
            .expect("image store lock")
            .get(&src_key)
            .cloned()
            .ok_or_else(|| DaemonError::Http {
                status: 404,
                message: self.profile.inspect_not_found.message(source),
            })?;
        let tag = if tag.is_empty() { "latest" } else { tag };
        let target = Reference::parse(&format!("{repo}:{tag}")).map_err(|m| DaemonError::Http {
            status: 400,
            message: m.to_string(),
        })?;
        let key = format!("{}:{}", target.familiar_name(), target.tag_or_latest());
        self.images.lock().expect("image store lock").insert(key, image);
        Ok(())
    }
}
