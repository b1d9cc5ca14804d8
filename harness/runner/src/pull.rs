//! The pull manager (`executors/docker/internal/pull/manager.go`, v13.8 →): the pull-policy loop,
//! the Docker client's error text and the `(file.go:LINE:Ns)` suffix (gitlab-runner.md §1, §4).

use super::credentials::{self, Inputs, Resolved};
use super::trace::Trace;
use regsim_clients::engine::Engine;
use regsim_model::versions::runner::{AllowedPullPolicyCheck, AuthLine, PullFailureClass, RunnerRelease};
use regsim_model::versions::v;
use regsim_model::world::World;
use regsim_wire::engine_api::{AuthConfig, DaemonError, ImageInspect};
use regsim_wire::job_api::JobPayload;
use regsim_wire::job_api::{PullPolicy, go_list};
use regsim_wire::reference::Reference;

/// A failed image preparation as the runner carries it.
#[derive(Debug, Clone, Default)]
pub struct PullError {
    pub message: String,
    /// A `*BuildError`: stops the preparation retries.
    pub build_error: bool,
    /// `FailureReason == runner_system_failure` (prints `(system failure)` even as a BuildError).
    pub system_failure_reason: bool,
    /// The engine hit behaviour regsim does not model: the job cannot be told.
    pub unmodelled: Option<regsim_wire::NotModelled>,
}

impl PullError {
    /// The pull cannot be told: stop at once with the reason.
    pub fn unmodelled(m: regsim_wire::NotModelled) -> PullError {
        PullError {
            message: m.reason.clone(),
            build_error: true,
            system_failure_reason: false,
            unmodelled: Some(m),
        }
    }
}

pub struct Puller<'a> {
    pub release: &'a RunnerRelease,
    /// Whole seconds the daemon takes to answer a pull.
    pub pull_seconds: u64,
    /// Seconds the pulls so far took (the section's clock moves by them).
    pub elapsed: std::sync::atomic::AtomicU64,
    pub engine: &'a Engine,
    pub credentials: Inputs<'a>,
    /// What the report should know about sources the runner skipped.
    pub ignored: Vec<credentials::Ignored>,
    /// [`allowed_pull_policies`] of the world.
    pub allowed_pull_policies: Vec<PullPolicy>,
}

/// The Docker Go client's text for an Engine API error (`Error response from daemon: …`).
fn client_text(e: &DaemonError) -> String {
    match e {
        DaemonError::Http { message, .. } => format!("Error response from daemon: {message}"),
        DaemonError::Stream { message } | DaemonError::Client { message } => message.clone(),
        DaemonError::Unmodelled(m) => m.reason.clone(),
    }
}

/// `wrapError`: `%w (%s:%d:%ds)` with the whole seconds since the call began; an inspect takes
/// none, a pull what the scenario says (`docker.pull_seconds`).
fn wrap(text: &str, site: (&str, u32)) -> String {
    wrap_after(text, site, 0)
}

fn wrap_after(text: &str, site: (&str, u32), seconds: u64) -> String {
    format!("{text} ({}:{}:{seconds}s)", site.0, site.1)
}

impl Puller<'_> {
    /// `GetDockerImage`: every policy in turn, then the wrapped last error (v13.8 →); before
    /// 13.8 the one configured policy and its error as it is.
    pub async fn get_docker_image(
        &mut self,
        trace: &mut Trace,
        image: &str,
        requested: &Requested,
    ) -> Result<ImageInspect, PullError> {
        if !self.release.pull_policy_loop {
            let img = self
                .get_image_using_pull_policy(trace, image, requested.policies[0])
                .await?;
            self.mark_used(trace, image, &img);
            return Ok(img);
        }
        let policies = &effective_pull_policies(
            self.release.allowed_pull_policy_check,
            image,
            requested,
            &self.allowed_pull_policies,
        )?;
        let list = go_list(policies);
        if self.release.effective_pull_policy_line {
            trace.println(&format!("Using effective pull policy of {list} for container {image}"));
        }
        let mut last: Option<PullError> = None;
        for (idx, policy) in policies.iter().enumerate() {
            if idx > 0 {
                trace.infoln(&format!("Attempt #{}: Trying \"{policy}\" pull policy", idx + 1));
            }
            match self.get_image_using_pull_policy(trace, image, *policy).await {
                Ok(img) => {
                    self.mark_used(trace, image, &img);
                    return Ok(img);
                }
                Err(e) => {
                    trace.warningln(&format!("Failed to pull image with policy \"{policy}\": {}", e.message));
                    last = Some(e);
                }
            }
        }
        let last = last.expect("at least one policy");
        Err(PullError {
            message: format!(
                "failed to pull image \"{image}\" with specified policies {list}: {}",
                last.message
            ),
            ..last
        })
    }

    fn mark_used(&self, trace: &mut Trace, image: &str, img: &ImageInspect) {
        if let Some(line) = self.using_line(image, img) {
            trace.println(&line);
        }
    }

    /// `markImageAsUsed`'s line; none for an image named by its ID.
    pub fn using_line(&self, image: &str, img: &ImageInspect) -> Option<String> {
        if img.id == image {
            return None;
        }
        Some(match img.repo_digests.first() {
            Some(d) if self.release.digest_in_using_line => {
                format!("Using docker image {} for {image} with digest {d} ...", img.id)
            }
            _ => format!("Using docker image {} for {image} ...", img.id),
        })
    }

    async fn get_image_using_pull_policy(
        &mut self,
        trace: &mut Trace,
        image: &str,
        policy: PullPolicy,
    ) -> Result<ImageInspect, PullError> {
        let resolution = credentials::resolve(image, &self.credentials, self.release);
        self.ignored.extend(resolution.ignored);
        if let Some(m) = resolution.not_modelled {
            // Which credentials the pull would carry cannot be told: nothing after this can be.
            return Err(PullError::unmodelled(m));
        }
        let resolved = resolution.found;
        let warnings = resolution.warnings;
        // resolveAuthConfigForImage, right before the pull: its warnings, then the source line.
        let announce = |trace: &mut Trace| {
            for w in &warnings {
                trace.warningln(w);
            }
            if let Some(Resolved { source, .. }) = &resolved {
                trace.println(&format!("Authenticating with credentials from {source}"));
            }
        };
        if self.release.auth_line == AuthLine::BeforeLookup {
            announce(trace);
        }
        let local = self.engine.inspect_image(image).await;
        if policy == PullPolicy::Never {
            // Not a BuildError in any release: retried, then a system failure (§4.4).
            let site = self
                .release
                .inspect_call_site
                .expect("world checks `never` against the release");
            return local.map_err(|e| PullError {
                message: wrap(&self.inspect_text(image, &e), site),
                build_error: false,
                system_failure_reason: false,
                unmodelled: None,
            });
        }
        if let (Ok(img), PullPolicy::IfNotPresent) = (&local, policy) {
            let words = if self.release.pull_policy_loop {
                "Using locally found image version due to \"if-not-present\" pull policy"
            } else {
                "Using locally found image version due to if-not-present pull policy"
            };
            trace.println(words);
            return Ok(img.clone());
        }
        if self.release.auth_line == AuthLine::BeforePull {
            announce(trace);
        }
        self.pull(trace, image, resolved.map(|r| r.config)).await
    }

    async fn pull(&self, trace: &mut Trace, image: &str, auth: Option<AuthConfig>) -> Result<ImageInspect, PullError> {
        trace.println(&format!("Pulling docker image {image} ..."));
        let reference = if image.contains(':') || image.contains('@') {
            image.to_string()
        } else {
            format!("{image}:latest")
        };
        let registry_auth = AuthConfig::encode(auth.as_ref());
        // The runner's Docker client parses the reference before it asks the daemon anything
        // (`ImagePull`), then sends `fromImage` (`FamiliarName`) and `tag` (`getAPITagFromNamedRef`).
        let pulled = match Reference::parse(&reference) {
            Ok(r) => {
                self.engine
                    .create_image(&r.familiar_name(), &r.api_tag(), &registry_auth)
                    .await
            }
            Err(e) => Err(DaemonError::Client { message: e.to_string() }),
        };
        self.elapsed
            .fetch_add(self.pull_seconds, std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = pulled {
            let text = wrap_after(&client_text(&e), self.release.pull_call_site, self.pull_seconds);
            let mut err = self.classify(text, &e);
            if let DaemonError::Unmodelled(m) = e {
                err.unmodelled = Some(m);
                err.build_error = true; // stop at once: nothing after this can be told
            }
            return Err(err);
        }
        self.engine.inspect_image(image).await.map_err(|e| PullError {
            message: wrap(&self.inspect_text(image, &e), self.release.pull_call_site),
            build_error: false,
            system_failure_reason: false,
            unmodelled: None,
        })
    }

    /// Inspect errors: runners ≤ 15.9 vendor a Docker client that maps 404 itself
    /// (`Error: No such image: NAME`); later clients pass the daemon's text (§4.4).
    fn inspect_text(&self, image: &str, e: &DaemonError) -> String {
        match e {
            DaemonError::Http { status: 404, .. } if self.release.version < v(15, 10, 0) => {
                format!("Error: No such image: {image}")
            }
            other => client_text(other),
        }
    }

    /// Build error or not, per release (gitlab-runner.md §2.6).
    fn classify(&self, message: String, e: &DaemonError) -> PullError {
        let matches = |re: &[&str]| re.iter().any(|p| message.contains(p));
        let (build_error, system_failure_reason) = match self.release.pull_failure_class {
            PullFailureClass::RegexBuildErrorUnwrapped
            | PullFailureClass::RegexBuildErrorShownAsSystemFailure
            | PullFailureClass::RegexBuildError => (matches(&["repository does not exist", "not found"]), false),
            PullFailureClass::WidenedRegex => {
                let hit = matches(&[
                    "request canceled while waiting for connection",
                    "no such host",
                    "repository does not exist",
                    "not found",
                ]);
                let system = matches!(e, DaemonError::Http { status: 500, .. });
                (true, system && !hit)
            }
            PullFailureClass::AlwaysBuildError => (true, false),
        };
        PullError {
            message,
            build_error,
            system_failure_reason,
            unmodelled: None,
        }
    }
}

/// Where the policies `GetDockerImage` is given come from (`GetPullPolicySource`, the words its
/// allowed_pull_policies error names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySource {
    /// `pull_policy:` on the image in .gitlab-ci.yml.
    GitLabCi,
    /// `[runners.docker] pull_policy`.
    Runner,
    /// Neither: `[always]`.
    RunnerDefault,
}

impl PolicySource {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicySource::GitLabCi => "GitLab pipeline config",
            PolicySource::Runner => "Runner config",
            PolicySource::RunnerDefault => "Runner config (default)",
        }
    }
}

/// The policies one `GetDockerImage` call tries, and where they come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub policies: Vec<PullPolicy>,
    pub source: PolicySource,
}

/// The pull policies the runner tries for the job's image, in order: the job's
/// `image:pull_policy`, else the runner's `pull_policy` from config.toml, else `always`
/// (gitlab-runner.md §4.1).
pub fn pull_policies(world: &World, payload: &JobPayload) -> Requested {
    if !payload.image.pull_policy.is_empty() {
        Requested {
            policies: payload.image.pull_policy.clone(),
            source: PolicySource::GitLabCi,
        }
    } else {
        runner_pull_policies(world)
    }
}

/// The runner's own list: what a service gets (the payload carries no service `pull_policy`
/// here, and the runner passes `serviceDefinition.PullPolicies`, v16.2.0 docker.go:386).
pub fn runner_pull_policies(world: &World) -> Requested {
    match world.runner.pull_policy.clone().filter(|p| !p.is_empty()) {
        Some(policies) => Requested {
            policies,
            source: PolicySource::Runner,
        },
        None => Requested {
            policies: vec![PullPolicy::Always],
            source: PolicySource::RunnerDefault,
        },
    }
}

/// `allowed_pull_policies` as the runner reads it (`GetAllowedPullPolicies`, the world's rule).
pub fn allowed_pull_policies(world: &World) -> Vec<PullPolicy> {
    world.runner.allowed_pull_policies().0
}

/// The policies `GetDockerImage` goes on to try once `allowed_pull_policies` has had its say, or
/// the error it stops with before any pull (`AllowedPullPolicyCheck`).
pub fn effective_pull_policies(
    check: AllowedPullPolicyCheck,
    image: &str,
    requested: &Requested,
    allowed: &[PullPolicy],
) -> Result<Vec<PullPolicy>, PullError> {
    let policies = &requested.policies;
    let incompatible = || {
        format!(
            "pull_policy ({}) defined in {} is not one of the allowed_pull_policies ({})",
            go_list(policies),
            requested.source.as_str(),
            go_list(allowed)
        )
    };
    let any_allowed = policies.iter().any(|p| allowed.contains(p));
    let plain = |message: String| PullError {
        message,
        ..PullError::default()
    };
    let build_error = |message: String| PullError {
        message,
        build_error: true,
        ..PullError::default()
    };
    match check {
        AllowedPullPolicyCheck::None => Ok(policies.clone()),
        AllowedPullPolicyCheck::LastPolicyPlain => match policies.last() {
            Some(last) if !allowed.contains(last) => Err(plain(format!(
                "the configured PullPolicies ({}) are not allowed by AllowedPullPolicies ({})",
                go_list(policies),
                go_list(allowed)
            ))),
            _ => Ok(policies.clone()),
        },
        AllowedPullPolicyCheck::AnyPolicyPlain if !any_allowed => {
            Err(plain(format!("failed to pull image '{image}': {}", incompatible())))
        }
        AllowedPullPolicyCheck::AnyPolicyBuildError | AllowedPullPolicyCheck::Intersection if !any_allowed => Err(
            build_error(format!("invalid pull policy for image \"{image}\": {}", incompatible())),
        ),
        AllowedPullPolicyCheck::Intersection => Ok(policies.iter().copied().filter(|p| allowed.contains(p)).collect()),
        AllowedPullPolicyCheck::AnyPolicyPlain | AllowedPullPolicyCheck::AnyPolicyBuildError => Ok(policies.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AllowedPullPolicyCheck as C;
    use PullPolicy::*;

    fn req(policies: &[PullPolicy], source: PolicySource) -> Requested {
        Requested {
            policies: policies.to_vec(),
            source,
        }
    }

    #[test]
    fn allowed_pull_policies_by_release() {
        let ci = req(&[IfNotPresent], PolicySource::GitLabCi);
        let img = "registry.example.com/a/b:1";
        assert_eq!(
            effective_pull_policies(C::None, img, &ci, &[Always]).unwrap(),
            [IfNotPresent]
        );
        let e = effective_pull_policies(C::LastPolicyPlain, img, &ci, &[Always]).unwrap_err();
        assert_eq!(
            e.message,
            "the configured PullPolicies ([if-not-present]) are not allowed by AllowedPullPolicies ([always])"
        );
        assert!(!e.build_error);
        // 15.1–15.2: only the last policy counts.
        let two = req(&[IfNotPresent, Always], PolicySource::Runner);
        assert!(effective_pull_policies(C::LastPolicyPlain, img, &two, &[Always]).is_ok());
        let two_rev = req(&[Always, IfNotPresent], PolicySource::Runner);
        assert!(effective_pull_policies(C::LastPolicyPlain, img, &two_rev, &[Always]).is_err());
        let e = effective_pull_policies(C::AnyPolicyPlain, img, &ci, &[Always]).unwrap_err();
        assert_eq!(
            e.message,
            "failed to pull image 'registry.example.com/a/b:1': pull_policy ([if-not-present]) defined in GitLab \
             pipeline config is not one of the allowed_pull_policies ([always])"
        );
        assert!(!e.build_error);
        assert_eq!(
            effective_pull_policies(C::AnyPolicyPlain, img, &two_rev, &[Always]).unwrap(),
            [Always, IfNotPresent]
        );
        let e = effective_pull_policies(C::AnyPolicyBuildError, img, &ci, &[Always]).unwrap_err();
        assert_eq!(
            e.message,
            "invalid pull policy for image \"registry.example.com/a/b:1\": pull_policy ([if-not-present]) defined in \
             GitLab pipeline config is not one of the allowed_pull_policies ([always])"
        );
        assert!(e.build_error && !e.system_failure_reason);
        assert_eq!(
            effective_pull_policies(C::Intersection, img, &two_rev, &[Always]).unwrap(),
            [Always]
        );
        let d = req(&[Always], PolicySource::RunnerDefault);
        let e = effective_pull_policies(C::Intersection, img, &d, &[IfNotPresent]).unwrap_err();
        assert!(
            e.message.contains("defined in Runner config (default) is not one"),
            "{}",
            e.message
        );
    }
}
