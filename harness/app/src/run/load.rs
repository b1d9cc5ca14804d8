//! Reading a scenario file into a world, with the checks that need more than the model: the
//! job's images must live on a registry the scenario describes, or nothing would answer the
//! engine and inventing an answer (a DNS failure, say) would put words in the log no source backs.

use regsim_model::scenario::{self, ScenarioError};
use regsim_model::versions::{self, gitlab as gv};
use regsim_model::world::{self, Overrides, World};
use regsim_runner::expand::{expand, expanded_image};
use regsim_runner::services::split_name_and_version;
use regsim_wire::reference::{Reference, hub_repository};
use std::path::{Path, PathBuf};

/// Reads a scenario file and builds its world, with the command line's versions in place of its own.
pub fn load(path: &Path, overrides: &Overrides) -> Result<World, ScenarioError> {
    let (s, text) = scenario::load_file(path)?;
    let world = world::build(path, &text, &s, overrides)?;
    check_images_are_served(&world, path, &text)?;
    Ok(world)
}

/// The images the job names, as the runner expands them, each with the field that names it.
fn job_images(world: &World) -> Vec<(String, String)> {
    let payload = regsim_servers::gitlab::job_payload(world);
    let mut images = vec![("job.image".to_string(), expanded_image(&payload))];
    for (i, s) in payload.services.iter().enumerate() {
        let name = expand(&s.name, |k| payload.variable(k));
        images.push((format!("job.services[{i}]"), split_name_and_version(&name).image_name));
    }
    images
}

fn check_images_are_served(world: &World, path: &Path, text: &str) -> Result<(), ScenarioError> {
    for (field, image) in job_images(world) {
        // A name Docker's grammar refuses never reaches a registry: the client refuses it first,
        // and that refusal is modelled.
        let Ok(reference) = Reference::parse(&image) else {
            continue;
        };
        check_host(world, &reference, &image).map_err(|m| ScenarioError::at(path, text, &field, m))?;
    }
    Ok(())
}

fn check_host(world: &World, reference: &Reference, image: &str) -> Result<(), String> {
    let host = reference.domain.to_lowercase();
    let gl = &world.gitlab;
    if [gl.host.to_string(), gl.host_with_port()]
        .iter()
        .any(|h| h.to_lowercase() == host)
    {
        return check_proxied(world, reference, image);
    }
    let mut served =
        std::iter::once(gl.registry.to_string()).chain(world.registries.iter().map(|r| r.host.to_string()));
    if served.any(|h| h.to_lowercase() == host) {
        return Ok(());
    }
    if host == "docker.io" {
        return check_on_hub(world, reference, image);
    }
    Err(format!(
        "`{image}` is on {host}, which no registry in this scenario serves (GitLab's registry, `registries:` \
         or, for docker.io, `docker_hub:`)"
    ))
}

/// An image pulled straight from Docker Hub: `docker_hub:` must be described (a repository it
/// does not hold is answered like a private one, a tag it does not hold with MANIFEST_UNKNOWN).
fn check_on_hub(world: &World, _reference: &Reference, image: &str) -> Result<(), String> {
    if world.docker_hub.is_none() {
        return Err(format!("`{image}` is on Docker Hub: describe it under `docker_hub:`"));
    }
    Ok(())
}

/// An image pulled through a group's Dependency Proxy: the release must be one regsim models and
/// Docker Hub must hold the image (what the Hub answers for others was never fetched).
fn check_proxied(world: &World, reference: &Reference, image: &str) -> Result<(), String> {
    let gl = &world.gitlab;
    let Some((_, upstream)) = reference.path.split_once("/dependency_proxy/containers/") else {
        return Err(format!(
            "`{image}` is on GitLab's own host, which serves images only through a group's Dependency Proxy \
             (GROUP/dependency_proxy/containers/IMAGE)"
        ));
    };
    if versions::lookup(&gv::dependency_proxy_eras(), &gl.version).is_none() {
        return Err(format!(
            "GitLab {} has no Dependency Proxy (it arrived in GitLab Premium 11.11)",
            gl.version
        ));
    }
    let Some(hub) = &world.docker_hub else {
        return Err(format!(
            "`{image}` goes through the Dependency Proxy: describe its upstream under `docker_hub:`"
        ));
    };
    // `name:tag@digest`: the digest decides, the tag is ignored.
    let wanted = reference.digest.clone().unwrap_or_else(|| reference.tag_or_latest());
    let repository = hub_repository(upstream);
    let held = hub
        .images
        .iter()
        .any(|i| i.repository == repository && (i.tag == wanted || wanted.starts_with("sha256:")));
    if !held {
        return Err(format!(
            "Docker Hub in this scenario has no `{repository}:{wanted}`; what the Hub answers for images it does \
             not hold was never fetched (docker-errors.md §9)"
        ));
    }
    Ok(())
}

/// Every `.yaml`/`.yml` under the given files and directories, sorted. Links are followed, each
/// directory once (a link back up is a loop, not more files); a name that is not a regular file
/// or directory (a FIFO, a device) is refused by name, since reading it could block or never end.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        walk(p, &mut out, &mut seen)?;
    }
    Ok(out)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>, seen: &mut std::collections::HashSet<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
    if meta.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    if !meta.is_dir() {
        return Err(format!("{}: not a regular file or a directory", p.display()));
    }
    let real = std::fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()))?;
    if !seen.insert(real) {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(p)
        .map_err(|e| format!("{}: {e}", p.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for e in entries {
        let scenario_name = matches!(e.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"));
        match std::fs::metadata(&e) {
            Ok(m) if m.is_dir() => walk(&e, out, seen)?,
            Ok(m) if m.is_file() && scenario_name => out.push(e),
            // A FIFO or device named *.yaml inside a directory: said, then left out.
            Ok(_) if scenario_name => {
                crate::term::warn(&format!("regsim: {}: not a regular file, skipped", e.display()))
            }
            // A dangling link, or a name that is not a scenario's.
            _ => {}
        }
    }
    Ok(())
}
