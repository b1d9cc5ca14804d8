//! Cross-references between sections: names one part of the scenario gives that another part
//! must hold.

use super::Ctx;
use crate::scenario::{Scenario, ScenarioError};
use crate::world::{Group, Project};

/// Allowlist entries must name projects and groups that exist.
pub(super) fn allowlist_entries(
    ctx: &Ctx<'_>,
    s: &Scenario,
    projects: &[Project],
    groups: &[Group],
) -> Result<(), ScenarioError> {
    for (i, p) in s.projects.iter().enumerate() {
        let Some(al) = &p.job_token_allowlist else { continue };
        for (j, e) in al.projects.iter().enumerate() {
            if !projects.iter().any(|q| q.path.eq_ignore_ascii_case(e)) {
                return Err(ctx.err(
                    &format!("projects[{i}].job_token_allowlist.projects[{j}]"),
                    format!("no project `{e}` in this scenario"),
                ));
            }
        }
        for (j, e) in al.groups.iter().enumerate() {
            if !groups.iter().any(|g| g.path.eq_ignore_ascii_case(e)) {
                return Err(ctx.err(
                    &format!("projects[{i}].job_token_allowlist.groups[{j}]"),
                    format!("no group `{e}` in this scenario"),
                ));
            }
        }
    }
    Ok(())
}

/// The job runs in a project of the scenario.
pub(super) fn job_project(ctx: &Ctx<'_>, s: &Scenario, projects: &[Project]) -> Result<(), ScenarioError> {
    if projects.iter().any(|p| p.path.eq_ignore_ascii_case(&s.job.project)) {
        Ok(())
    } else {
        Err(ctx.err(
            "job.project",
            format!("no project `{}` in this scenario", s.job.project),
        ))
    }
}

/// Each `docker.certs_d` directory names a server of the scenario (by host; the port may differ,
/// which is the mistake some scenarios show).
pub(super) fn certs_d(
    ctx: &Ctx<'_>,
    docker: &crate::world::DockerHost,
    gitlab: &crate::world::Instance,
    registries: &[crate::world::OtherRegistry],
) -> Result<(), ScenarioError> {
    for (i, dir) in docker.tls.certs_d.iter().enumerate() {
        let host = dir.rsplit_once(':').map_or(dir.as_str(), |(h, _)| h);
        let known = std::iter::once(&gitlab.host)
            .chain(std::iter::once(&gitlab.registry))
            .chain(registries.iter().map(|r| &r.host))
            .any(|a| a.host.eq_ignore_ascii_case(host));
        if !known {
            return Err(ctx.err(
                &format!("docker.certs_d[{i}]"),
                format!("`{dir}`: no server of this scenario is named {host}"),
            ));
        }
    }
    Ok(())
}
