//! `POST /api/v4/jobs/request`: the job payload a runner receives (gitlab-rails.md §6: variables
//! and the `credentials` array).

use crate::journal::Answer;
use crate::request::Request;
use crate::wire::Wire;
use regsim_model::scenario::RegistryAccess;
use regsim_model::versions::gitlab as gv;
use regsim_model::world::World;
use regsim_wire::job_api::{
    CredentialKind, JobPayload, PayloadCredential, PayloadImage, PayloadService, PayloadVariable,
};
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};

/// The payload for the scenario's job. Variables come predefined first, then `.gitlab-ci.yml`,
/// then the project's CI/CD settings, so that later (higher-precedence) values win in the
/// runner's last-match lookup.
pub fn job_payload(world: &World) -> JobPayload {
    let gl = &world.gitlab;
    let project = world
        .project(&world.job.project)
        .expect("world checks the job's project");
    let var = |k: &str, v: String, public: bool, masked: bool| PayloadVariable {
        key: k.into(),
        value: v,
        public,
        masked,
        file: false,
        raw: false,
    };
    let mut variables = vec![
        var("CI_JOB_ID", world.job.id.to_string(), true, false),
        var("CI_JOB_TOKEN", world.job.token.clone(), false, true),
        var("CI_PROJECT_PATH", project.path.clone(), true, false),
        var("CI_SERVER_URL", gl.external_url(), true, false),
        var("CI_SERVER_HOST", gl.host.host.clone(), true, false),
        var("CI_REGISTRY_USER", "gitlab-ci-token".into(), true, false),
        var("CI_REGISTRY_PASSWORD", world.job.token.clone(), false, true),
    ];
    if gl.version < gv::CI_BUILD_TOKEN_REMOVED {
        variables.push(var("CI_BUILD_TOKEN", world.job.token.clone(), false, true));
    }
    // CI_DEPLOY_USER / CI_DEPLOY_PASSWORD exist only when the project has an active deploy token
    // named exactly `gitlab-deploy-token` (docs: user/project/deploy_tokens, "GitLab deploy
    // token"); a group's token of that name is not modelled (the runner refuses the job).
    let today = world.clock.date();
    if let Some(t) = world.tokens.iter().find(|t| {
        t.kind == regsim_model::scenario::TokenKind::DeployToken
            && t.name == "gitlab-deploy-token"
            && t.owner == regsim_model::world::TokenOwner::Project(project.path.clone())
            && !t.revoked
            && t.expires_at.is_none_or(|d| today < d)
    }) {
        variables.push(var(
            "CI_DEPLOY_USER",
            t.username.clone().unwrap_or_default(),
            true,
            false,
        ));
        variables.push(var("CI_DEPLOY_PASSWORD", t.value.clone(), false, true));
    }
    if gl.registry_enabled {
        variables.push(var("CI_REGISTRY", gl.registry.to_string(), true, false));
        if project.registry_access.value != RegistryAccess::Disabled {
            variables.push(var(
                "CI_REGISTRY_IMAGE",
                format!("{}/{}", gl.registry, project.path.to_lowercase()),
                true,
                false,
            ));
        }
    }
    if gl.dependency_proxy && gl.version >= gv::DEPENDENCY_PROXY_AUTHENTICATED {
        // Project#dependency_proxy_variables (gitlab-rails.md §5.6): the server always with its
        // port; the prefixes down-cased from 13.10.
        let server = gl.host_with_port();
        let case = |p: &str| {
            if gl.version >= gv::DEPENDENCY_PROXY_DIGESTS_AND_DOWNCASE {
                p.to_lowercase()
            } else {
                p.to_string()
            }
        };
        let namespace = project.path.rsplit_once('/').map(|(n, _)| n).unwrap_or("");
        let root = namespace.split('/').next().unwrap_or("");
        variables.push(var("CI_DEPENDENCY_PROXY_SERVER", server.clone(), true, false));
        variables.push(var(
            "CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX",
            format!("{server}/{}/dependency_proxy/containers", case(root)),
            true,
            false,
        ));
        if gl.version >= gv::DEPENDENCY_PROXY_DIRECT_PREFIX {
            variables.push(var(
                "CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX",
                format!("{server}/{}/dependency_proxy/containers", namespace.to_lowercase()),
                true,
                false,
            ));
        }
        variables.push(var("CI_DEPENDENCY_PROXY_USER", "gitlab-ci-token".into(), true, false));
        variables.push(var(
            "CI_DEPENDENCY_PROXY_PASSWORD",
            world.job.token.clone(),
            false,
            true,
        ));
    }
    for (k, v) in &world.job.variables {
        variables.push(var(k, v.clone(), true, false));
    }
    for (k, v) in &project.variables {
        variables.push(PayloadVariable {
            file: project.file_variables.contains(k),
            raw: project.raw_variables.contains(k),
            ..var(k, v.clone(), false, false)
        });
    }
    let mut credentials = Vec::new();
    if gl.registry_enabled {
        credentials.push(PayloadCredential {
            kind: CredentialKind::Registry,
            url: gl.registry.to_string(),
            username: "gitlab-ci-token".into(),
            password: world.job.token.clone(),
        });
    }
    if gl.dependency_proxy && gl.version >= gv::DEPENDENCY_PROXY_CREDENTIALS {
        credentials.push(PayloadCredential {
            kind: CredentialKind::Registry,
            url: gl.host_with_port(),
            username: "gitlab-ci-token".into(),
            password: world.job.token.clone(),
        });
    }
    JobPayload {
        id: world.job.id,
        token: world.job.token.clone(),
        image: PayloadImage {
            name: world.job.image.clone(),
            pull_policy: world.job.image_pull_policy.clone().unwrap_or_default(),
        },
        services: world
            .job
            .services
            .iter()
            .map(|(name, alias)| PayloadService {
                name: name.clone(),
                alias: alias.clone(),
            })
            .collect(),
        variables,
        credentials,
        features: serde_json::json!({"trace_sections": true}),
        job_info: regsim_wire::job_api::JobInfo { project_id: project.id },
        // A project's default job timeout (Settings → CI/CD → General pipelines): 60 minutes.
        runner_info: regsim_wire::job_api::RunnerInfo { timeout: 3600 },
    }
}

pub(super) fn request(world: &World, req: &Request, taken: &AtomicBool) -> Answer {
    #[derive(Deserialize)]
    struct Body {
        token: String,
    }
    let Ok(body) = serde_json::from_slice::<Body>(&req.body) else {
        return Answer::json(
            400,
            &serde_json::json!({"error": "token is missing"}),
            "no runner token in the request",
        );
    };
    if body.token != world.runner.token {
        return Answer::json(
            403,
            &serde_json::json!({"message": "403 Forbidden"}),
            "unknown runner token",
        );
    }
    if taken.swap(true, Ordering::SeqCst) {
        return Answer::new(Wire::new(204), "no pending job");
    }
    let payload = job_payload(world);
    let value = serde_json::to_value(&payload).expect("payload serialises");
    Answer::json(
        201,
        &value,
        format!(
            "job {} of {} for runner {}",
            world.job.id, world.job.project, world.runner.name
        ),
    )
}
