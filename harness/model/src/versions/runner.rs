//! GitLab Runner (docker executor) behaviour per release. Facts: docs/research/gitlab-runner.md
//! (§ numbers below) and /tmp-free copies of the tag reads summarised there; revisions come from
//! `data/runner_revisions.tsv` (tag → `git rev-parse TAG^{commit}` of the gitlab-runner mirror).

use super::{Era, era, lookup, v};
use regsim_wire::NotModelled;
use semver::Version;
use std::sync::OnceLock;

/// Where the docker executor's pull call sits: the `(file.go:LINE:Ns)` suffix of a failed pull.
pub fn pull_call_site() -> Vec<Era<Option<(&'static str, u32)>>> {
    const S: &str = "gitlab-runner.md §1.2 (git grep of ImagePullBlocking at every tag)";
    vec![
        era(v(10, 0, 0), None, S),
        era(v(11, 1, 0), Some(("executor_docker.go", 168)), S),
        era(v(11, 11, 0), Some(("executor_docker.go", 172)), S),
        era(v(11, 11, 1), Some(("executor_docker.go", 174)), S),
        era(v(11, 11, 2), Some(("executor_docker.go", 175)), S),
        era(v(12, 1, 0), Some(("executor_docker.go", 192)), S),
        era(v(12, 3, 0), Some(("executor_docker.go", 188)), S),
        era(v(12, 9, 0), Some(("docker.go", 196)), S),
        era(v(12, 9, 1), Some(("docker.go", 198)), S),
        era(v(12, 10, 3), Some(("docker.go", 200)), S),
        era(v(13, 0, 0), Some(("docker.go", 198)), S),
        era(v(13, 0, 1), Some(("docker.go", 200)), S),
        era(v(13, 1, 0), Some(("docker.go", 119)), S),
        era(v(13, 2, 0), Some(("docker.go", 131)), S),
        era(v(13, 3, 0), Some(("docker.go", 142)), S),
        era(v(13, 7, 0), Some(("docker.go", 143)), S),
        era(v(13, 8, 0), Some(("docker.go", 147)), S),
        era(v(13, 9, 0), Some(("manager.go", 205)), S),
        era(v(14, 3, 0), Some(("manager.go", 214)), S),
        era(v(14, 4, 0), Some(("manager.go", 203)), S),
        era(v(15, 1, 0), Some(("manager.go", 235)), S),
        era(v(15, 2, 0), Some(("manager.go", 240)), S),
        era(v(15, 3, 0), Some(("manager.go", 235)), S),
        era(v(15, 5, 0), Some(("manager.go", 237)), S),
        era(v(16, 6, 0), Some(("manager.go", 250)), S),
        era(v(17, 3, 0), Some(("manager.go", 251)), S),
        era(v(17, 8, 0), Some(("manager.go", 254)), S),
        era(v(17, 11, 0), Some(("manager.go", 253)), S),
        era(v(18, 0, 0), Some(("manager.go", 238)), S),
        era(v(18, 6, 0), Some(("manager.go", 237)), S),
        era(v(18, 9, 0), Some(("manager.go", 238)), S),
        era(v(19, 2, 0), Some(("manager.go", 343)), S),
        era(v(19, 3, 0), Some(("manager.go", 419)), S),
    ]
}

/// The first image inspect in `getImageUsingPullPolicy` (what pull policy `never` reports).
pub fn inspect_call_site() -> Vec<Era<Option<(&'static str, u32)>>> {
    const S: &str = "gitlab-runner.md §1.3";
    vec![
        era(v(10, 0, 0), None, "gitlab-runner.md §1.3: before 13.9 not tabulated"),
        era(v(13, 9, 0), Some(("manager.go", 129)), S),
        era(v(14, 3, 0), Some(("manager.go", 139)), S),
        era(v(14, 4, 0), Some(("manager.go", 128)), S),
        era(v(15, 1, 0), Some(("manager.go", 160)), S),
        era(v(15, 2, 0), Some(("manager.go", 165)), S),
        era(v(15, 3, 0), Some(("manager.go", 160)), S),
        era(v(15, 5, 0), Some(("manager.go", 162)), S),
        era(v(16, 6, 0), Some(("manager.go", 163)), S),
        era(v(17, 8, 0), Some(("manager.go", 166)), S),
        era(v(17, 11, 0), Some(("manager.go", 165)), S),
        era(v(18, 0, 0), Some(("manager.go", 150)), S),
        era(v(18, 6, 0), Some(("manager.go", 149)), S),
        era(v(18, 9, 0), Some(("manager.go", 150)), S),
        era(v(19, 2, 0), Some(("manager.go", 196)), S),
        era(v(19, 3, 0), Some(("manager.go", 272)), S),
    ]
}

/// Where the colour reset of a log line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetPlacement {
    /// `prefix + Sprintln(args)` then a separate `\e[0;m`: the reset opens the next raw line.
    AfterNewline,
    /// `prefix + text + "\e[0;m\n"`.
    BeforeNewline,
}

pub fn reset_placement() -> Vec<Era<ResetPlacement>> {
    vec![
        era(
            v(10, 0, 0),
            ResetPlacement::AfterNewline,
            "gitlab-runner.md §2.1 (common/build_logger.go v11.7.0, v14.1.0)",
        ),
        era(
            v(14, 2, 0),
            ResetPlacement::BeforeNewline,
            "gitlab-runner.md §2.1 (common/build_logger.go v14.2.0 sendLog)",
        ),
    ]
}

/// How `setTraceStatus` writes `Job failed` for a BuildError.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFailedLine {
    /// `SoftErrorln("Job failed:", err)`.
    Plain,
    /// `SoftErrorln(fmt.Sprintln("Job failed:", err))`: an extra `\n` before the reset, seen as an
    /// empty line after the ERROR line.
    ExtraEmptyLine,
}

pub fn job_failed_line() -> Vec<Era<JobFailedLine>> {
    vec![
        era(v(10, 0, 0), JobFailedLine::Plain, "gitlab-runner.md §2.5"),
        era(
            v(14, 3, 0),
            JobFailedLine::ExtraEmptyLine,
            "gitlab-runner.md §2.5 (v14.3.0 – v18.5.x msg := fmt.Sprintln)",
        ),
        era(
            v(18, 6, 0),
            JobFailedLine::Plain,
            "gitlab-runner.md §2.5 (v18.6.0 fmt.Sprint)",
        ),
    ]
}

/// How a failed pull is classified (§2.6): whether it is a BuildError (no retries) and whether
/// `setTraceStatus` recognises a wrapped BuildError.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullFailureClass {
    /// ≤ v13.7.x: `(repository does not exist|not found)` → BuildError, returned unwrapped, so
    /// `setTraceStatus` recognises it (`ERROR: Job failed: …`); anything else is retried.
    RegexBuildErrorUnwrapped,
    /// `(repository does not exist|not found)` → BuildError; but `setTraceStatus` uses a type
    /// assertion, so the wrapped BuildError still prints `(system failure)` (v13.8.0 – v14.0.1).
    RegexBuildErrorShownAsSystemFailure,
    /// Same regex; `errors.As` everywhere (v14.1.0 – v14.2.x).
    RegexBuildError,
    /// Regex widened; daemon 500 (errdefs System) without a match → runner system failure.
    WidenedRegex,
    /// Every pull error is a BuildError (v14.4.0 →).
    AlwaysBuildError,
}

pub fn pull_failure_class() -> Vec<Era<PullFailureClass>> {
    use PullFailureClass::*;
    const S: &str = "gitlab-runner.md §2.6, §2.5 (setTraceStatus type assertion ≤ v14.0.1)";
    vec![
        era(v(10, 0, 0), RegexBuildErrorUnwrapped, S),
        era(v(13, 8, 0), RegexBuildErrorShownAsSystemFailure, S),
        era(v(14, 1, 0), RegexBuildError, S),
        era(v(14, 3, 0), WidenedRegex, S),
        era(v(14, 4, 0), AlwaysBuildError, S),
    ]
}

/// How `helpers.ShortenToken` shows the runner token in `  on NAME TOKEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortTokenRule {
    First8,
    /// `GR` + 7 hex and length ≥ 17 → first 17.
    Rotation,
    /// adds `glrt-` → [5:14].
    Glrt,
    /// adds `glcbt-` → [6:15].
    Glcbt,
    /// adds `glrtr-` → [6:15].
    Glrtr,
    /// prefixes stripped by regex, then the first 9.
    StripThen9,
}

/// What the runner makes of a DOCKER_AUTH_CONFIG of Type File (docs/research/
/// runner-executors-credentials.md §2: which call reads the variable, `Get` (the file's path for
/// a file variable) or `Value` (its content)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAuthConfig {
    /// Read as its content: the credentials apply.
    Read,
    /// Read as the temporary file's path, which is no JSON: the source is dropped silently.
    DroppedSilently,
}

#[rustfmt::skip]
pub fn file_auth_config() -> Vec<Era<FileAuthConfig>> {
    use FileAuthConfig::*;
    vec![
        //   since          reads             source
        era(v(10, 0, 0),  Read,             "before 9eef945e7, JobVariables.Get returned a file variable's content"),
        era(v(15, 7, 0),  DroppedSilently,  "[SRC] v15.7.0 common/variables.go:54-66 (Get returns the file's path, 9eef945e7), common/build.go:1340-1342 GetDockerAuthConfig uses Get; gitlab-runner#29575"),
        era(v(15, 7, 4),  Read,             "[SRC] v15.7.4 common/build.go:1341-1342 uses Value (a3297271c)"),
        era(v(15, 8, 0),  DroppedSilently,  "[SRC] v15.8.0 common/build.go still uses Get"),
        era(v(15, 8, 1),  Read,             "[SRC] v15.8.1 common/build.go uses Value (a3297271c, first in v15.9.0)"),
        era(v(16, 9, 0),  DroppedSilently,  "[SRC] v16.9.0 common/build_settings.go:110,138 validate calls variables.Get (511bf632b, MR !4611; its revert MR !4646 names the bug)"),
        era(v(16, 9, 1),  Read,             "[SRC] v16.9.1 common/build_settings.go:138 variables.Value (2838ec9fc, first in v16.10.0)"),
    ]
}

/// How the runner picks among entries that name the same registry (docs/research/
/// runner-executors-credentials.md §2.2). Go ranges over maps in random order, so where two
/// entries match the same image with different credentials, which one is used changes from job
/// to job: regsim says so instead of picking one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialOrder {
    /// Sources in order; inside one source, the map's random order (`ResolveDockerAuthConfig`
    /// ranges over one source's map; from 13.4 the merged map keeps the first per host).
    RandomWithinSource,
    /// One map of every source's entries keyed by the raw key, walked in random order: entries
    /// of different sources compete too (13.1.0 – 13.3.x).
    RandomAcrossSources,
    /// One config's entries sorted by key, the first per path kept (`withStableOrder`, 18.3.0 →).
    SortedWithinSource,
}

#[rustfmt::skip]
pub fn credential_order() -> Vec<Era<CredentialOrder>> {
    use CredentialOrder::*;
    vec![
        //   since          order                 source
        era(v(10, 0, 0),  RandomWithinSource,   "[SRC] v13.0.0 helpers/docker/auth_config.go:160-185 ResolveDockerAuthConfig ranges over one source's map, sources tried in order (executors/docker/docker.go:120-151)"),
        era(v(13, 1, 0),  RandomAcrossSources,  "[SRC] v13.1.0 helpers/docker/auth/auth.go:66-93 res[registry] keyed by the raw key, ResolveConfigForImage ranges over it (5b76351a3)"),
        era(v(13, 4, 0),  RandomWithinSource,   "[SRC] v13.4.0 auth.go:86-87 keyed by convertToHostname, first source wins (a74d75537); v16.2.0 auth.go:89-100 the same"),
        era(v(18, 3, 0),  SortedWithinSource,   "[SRC] v18.3.0 auth.go:342-358 withStableOrder (4817f4fce \"Consume docker auth info in order\")"),
    ]
}

/// What the runner does with `credHelpers`, a helper's "not found", and a source that fails
/// (a helper missing or failing, a config that does not parse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelperHandling {
    /// `credHelpers` entries are run (12.0.0 →); before, only `credsStore` is.
    pub cred_helpers_run: bool,
    /// A helper's "credentials not found" leaves an entry under the config's key with empty
    /// credentials, which matches the image (≤ 18.2: entries keyed by the map key); from 18.3 the
    /// entry's ServerAddress, empty then, is its key and it matches nothing.
    pub not_found_matches: bool,
    /// A failing DOCKER_AUTH_CONFIG source is reported as `WARNING: Failed to resolve credentials
    /// from $DOCKER_AUTH_CONFIG: …` (18.11.0 →); before, dropped without a line.
    pub warns_on_variable_error: bool,
}

#[rustfmt::skip]
pub fn helper_handling() -> Vec<Era<HelperHandling>> {
    let h = |cred_helpers_run, not_found_matches, warns_on_variable_error| HelperHandling { cred_helpers_run, not_found_matches, warns_on_variable_error };
    vec![
        era(v(10, 0, 0),  h(false, true, false),  "[SRC] credsStore run from v9.5.0 (d2191e85e); credHelpers not read before ca9bb8c35"),
        era(v(12, 0, 0),  h(true, true, false),   "[SRC] credHelpers run from v12.0.0 (ca9bb8c35); v16.2.0 auth.go:224-291 readConfigsFromReader returns nil, err when a helper fails; helpersAuths[registry] keyed by the config's key"),
        era(v(18, 3, 0),  h(true, false, false),  "[SRC] v18.3.0 auth.go:342-358 withStableOrder keys entries by AuthConfig.ServerAddress; docker/cli v27.5.0 native_store.go Get sets ServerAddress from the helper's answer, empty on not found"),
        era(v(18, 11, 0), h(true, false, true),   "[SRC] v18.11.0 auth.go:152 logger.Warningln(\"Failed to resolve credentials from %v: %v. Credentials from this source will not be used.\"), absent at v18.10.0 (cb9b117f6)"),
    ]
}

/// Whether the runner expands `$NAME` in a variable's value (DOCKER_AUTH_CONFIG included: it is
/// read from `GetAllVariables`, which is `variables.Expand()`), and whether it honours `raw`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableExpansion {
    /// Every value is expanded (os.Expand over the job's variables).
    All,
    /// Values of variables sent with `raw: true` are left alone.
    UnlessRaw,
}

#[rustfmt::skip]
pub fn variable_expansion() -> Vec<Era<VariableExpansion>> {
    use VariableExpansion::*;
    vec![
        era(v(10, 0, 0),  All,        "[SRC] v11.1.0 common/variables.go:55-63 Expand has no raw check; common/build.go GetDockerAuthConfig reads GetAllVariables(), which is variables.Expand()"),
        era(v(12, 10, 0), UnlessRaw,  "[SRC] 23bae347a \"Add support for raw variables\" (first tag v12.10.0); v13.0.0 – v18.5.0 common/variables.go Expand skips variable.Raw; v17.4.0 common/build_settings.go:143 reads DOCKER_AUTH_CONFIG from GetAllVariables"),
    ]
}

/// The docker-autoscaler's dial lines in the job log (runner-executors-credentials.md §4,
/// `executors/internal/autoscaler/acquisition.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoscalerDial {
    /// `Dialing instance ID...` and `Instance ID connected` (Println).
    Printed,
    /// Both at debug level: not in the job log.
    DebugOnly,
    /// `Dialing instance ID[, IP…]...`: which addresses, NOT CONFIRMED.
    WithAddresses,
}

#[rustfmt::skip]
pub fn autoscaler_dial() -> Vec<Era<Option<AutoscalerDial>>> {
    use AutoscalerDial::*;
    vec![
        era(v(10, 0, 0),  None,                "no docker-autoscaler executor before v15.9.0"),
        era(v(15, 9, 0),  Some(Printed),       "[SRC] v15.9.0 executors/internal/autoscaler/acquisition.go:48,55"),
        era(v(16, 6, 0),  Some(DebugOnly),     "[SRC] v16.6.0 acquisition.go:86,91 Debugln (patches of 16.6 NOT CONFIRMED)"),
        era(v(16, 7, 0),  Some(Printed),       "[SRC] v17.5.0 acquisition.go:93,101"),
        era(v(18, 2, 0),  Some(WithAddresses), "[SRC] v18.2.0 acquisition.go:103,111 strings.Join(ident, \", \"); the addresses NOT CONFIRMED"),
    ]
}

pub fn short_token_rule() -> Vec<Era<ShortTokenRule>> {
    use ShortTokenRule::*;
    const S: &str = "gitlab-runner.md §2.2 (helpers/shorten_token.go)";
    vec![
        era(v(10, 0, 0), First8, S),
        era(v(14, 10, 0), Rotation, S),
        era(v(15, 9, 0), Glrt, S),
        era(v(17, 9, 0), Glcbt, S),
        era(v(18, 1, 0), Glrtr, S),
        era(v(18, 2, 0), StripThen9, S),
    ]
}

pub fn shorten_token(rule: ShortTokenRule, token: &str) -> String {
    use ShortTokenRule::*;
    let take = |s: &str, a: usize, b: usize| s.chars().skip(a).take(b - a).collect::<String>();
    let is_rotation = |t: &str| t.len() >= 17 && t.starts_with("GR") && t[2..9].chars().all(|c| c.is_ascii_hexdigit());
    if rule == StripThen9 {
        let mut t = token;
        for p in [
            "glrt-t1_", "glrt-t2_", "glrt-t3_", "glrt-", "t1_", "t2_", "t3_", "glrtr-", "glcbt-",
        ] {
            if let Some(rest) = t.strip_prefix(p) {
                t = rest;
                break;
            }
        }
        if t.len() >= 9 && t.starts_with("GR") && t[2..9].chars().all(|c| c.is_ascii_hexdigit()) {
            t = &t[9..];
        }
        return take(t, 0, 9.min(t.chars().count()));
    }
    if token.len() < 8 {
        return token.to_string();
    }
    if matches!(rule, Glrtr) && token.starts_with("glrtr-") {
        return take(token, 6, 15);
    }
    if matches!(rule, Glcbt | Glrtr) && token.starts_with("glcbt-") {
        return take(token, 6, 15);
    }
    if matches!(rule, Glrt | Glcbt | Glrtr) && token.starts_with("glrt-") {
        return take(token, 5, 14);
    }
    if matches!(rule, Rotation | Glrt | Glcbt | Glrtr) && is_rotation(token) {
        return take(token, 0, 17);
    }
    take(token, 0, 8)
}

/// Everything the simulated runner needs to know about one release.
#[derive(Debug, Clone)]
pub struct RunnerRelease {
    pub version: Version,
    /// `git rev-parse --short=8` of the tag; `None` when the tag is not in the table.
    pub revision: Option<String>,
    pub pull_call_site: (&'static str, u32),
    pub inspect_call_site: Option<(&'static str, u32)>,
    pub reset: ResetPlacement,
    pub job_failed_line: JobFailedLine,
    pub pull_failure_class: PullFailureClass,
    pub short_token: ShortTokenRule,
    /// Several pull policies tried in turn, with `WARNING: Failed to pull image with policy …` and
    /// the `failed to pull image … with specified policies …` wrapper (v13.8.0 →, §4.2–4.3).
    pub pull_policy_loop: bool,
    /// The `prepare_executor` section and `Preparing the "docker" executor` (v12.9.0 →, §2.3).
    pub sections: bool,
    pub auth_line: AuthLine,
    /// `Starting service NAME:VERSION ...` (≤ v17.0) or `…VERSION...` without the space
    /// (v17.1.0 →; docker.go createService, read at v17.0.0 and v17.1.0).
    pub service_line_spaced: bool,
    /// `Waiting for services to be up and running (timeout 30 seconds)...` (v15.0.0 →) or without
    /// the timeout (before): `waitForServices`, read at v11.7.0 executor_docker.go:752, v14.10.0,
    /// v15.0.0 docker.go:473, v16.2.0 services.go:80 (default `DefaultWaitForServicesTimeout` 30).
    pub wait_for_services_timeout_shown: bool,
    /// A service's `alias:` split on commas and blanks (v15.8.0 →, `Image.Aliases`); one name before.
    pub service_aliases_split: bool,
    /// `, system ID: s_…` on the `  on` line (v15.8.0 →).
    pub system_id: bool,
    /// `Using effective pull policy of [..] for container IMAGE` (v18.0.0 →).
    pub effective_pull_policy_line: bool,
    pub allowed_pull_policy_check: AllowedPullPolicyCheck,
    /// Host-only (`H`, ≤ v17.4) or longest-path-prefix (`P`, v17.5 →) credential matching.
    pub credential_matching: CredentialMatching,
    /// `Using docker image … with digest … ...` (v13.4.0 →); before, without digest.
    pub digest_in_using_line: bool,
    pub file_auth_config: FileAuthConfig,
    pub credential_order: CredentialOrder,
    pub variable_expansion: VariableExpansion,
    /// `None`: no docker-autoscaler executor in this release.
    pub autoscaler_dial: Option<AutoscalerDial>,
    pub helpers: HelperHandling,
    pub sources: Vec<&'static str>,
}

/// Where `Authenticating with credentials from …` is printed (gitlab-runner.md §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthLine {
    /// ≤ v12.0: never (Debug only).
    Never,
    /// v12.1 – v13.0: when credentials match, before the local image lookup.
    BeforeLookup,
    /// v13.1 →: right before `Pulling docker image …`.
    BeforePull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialMatching {
    /// v13.4 – v17.4: entry keys lower-cased, exact host[:port] equality.
    HostLowercased,
    /// v17.5 – v18.0.x: path-prefix lookup, most specific entry wins; the scheme regex
    /// `(?i)^http[s]://` strips only `https://`, so a key written `http://host` matches no
    /// image, silently [SRC helpers/docker/auth/auth.go:343 at every tag v17.5.0 … v18.0.5].
    PathPrefixHttpsOnly,
    /// v18.1.0 →: the same with `(?i)^https?://` (0de4d6e3d "Fix authentication towards HTTP
    /// docker registries"; no 17.x or 18.0.x backport).
    PathPrefix,
}

/// The oldest release the simulated runner speaks for: the first with the `(file.go:LINE:Ns)`
/// suffix (§1.1).
pub const OLDEST_MODELLED: Version = v(11, 1, 0);

/// The first release that talks to dockerd through Docker's own Go client (`Error response from
/// daemon: …`); before it, fsouza/go-dockerclient printed `API error (NNN): …`. Every modelled
/// release is past it, so the `API error` forms never appear in a simulated log.
/// [SRC gitlab-runner@v9.0.0 helpers/docker/official_docker_client.go, commit 38dff79d9]
pub const FIRST_OFFICIAL_DOCKER_CLIENT: Version = v(9, 0, 0);

/// How `GetDockerImage` holds the policies it would try against `allowed_pull_policies` (default:
/// the runner's own `pull_policy` list, `GetAllowedPullPolicies`), before any pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowedPullPolicyCheck {
    /// No check: the key does not exist yet.
    None,
    /// Only the last policy tried decides (the loop resets its flag per policy); a plain error
    /// `the configured PullPolicies ([…]) are not allowed by AllowedPullPolicies ([…])`.
    LastPolicyPlain,
    /// One allowed policy lets every policy be tried; a plain error `failed to pull image 'IMAGE':
    /// pull_policy ([…]) defined in SOURCE is not one of the allowed_pull_policies ([…])`.
    AnyPolicyPlain,
    /// As `AnyPolicyPlain`, as a `BuildError` (ConfigurationError): `invalid pull policy for image
    /// "IMAGE": pull_policy …`.
    AnyPolicyBuildError,
    /// Only the allowed policies are tried (`ComputeEffectivePullPolicies`); none allowed is the
    /// `invalid pull policy for image …` BuildError.
    Intersection,
}

impl AllowedPullPolicyCheck {
    /// What the check does, for a report's notes.
    pub fn describe(self) -> &'static str {
        match self {
            AllowedPullPolicyCheck::None => "no check (allowed_pull_policies does not exist yet)",
            AllowedPullPolicyCheck::LastPolicyPlain => {
                "only the last policy is held against the list; not allowed is a plain error (retried, then a system failure)"
            }
            AllowedPullPolicyCheck::AnyPolicyPlain => {
                "one allowed policy lets every policy be tried; none is a plain error (retried, then a system failure)"
            }
            AllowedPullPolicyCheck::AnyPolicyBuildError => {
                "one allowed policy lets every policy be tried; none is a build error (ConfigurationError)"
            }
            AllowedPullPolicyCheck::Intersection => {
                "only the allowed policies are tried; none is a build error (ConfigurationError)"
            }
        }
    }
}

#[rustfmt::skip]
pub fn allowed_pull_policy_check() -> Vec<Era<AllowedPullPolicyCheck>> {
    use AllowedPullPolicyCheck::*;
    vec![
        era(v(10, 0, 0), None,                "[SRC] v15.0.0 common/config.go has no AllowedPullPolicies"),
        era(v(15, 1, 0), LastPolicyPlain,     "[SRC] v15.1.0 executors/docker/internal/pull/manager.go:77-83,112-126 verifyPullPolicies; v15.2.0 :118-133 the same loop"),
        era(v(15, 3, 0), AnyPolicyPlain,      "[SRC] v15.3.0 manager.go:77-78 `failed to pull image '%s': %w`, common/consts.go:61 IncompatiblePullPolicy; v17.7.0 the same"),
        era(v(17, 8, 0), AnyPolicyBuildError, "[SRC] v17.8.0 manager.go:80-85 BuildError{`invalid pull policy for image %q: %w`, ConfigurationError}; absent at v17.7.0"),
        era(v(18, 0, 0), Intersection,        "[SRC] v18.0.0 manager.go:80-88, helpers/pull_policies/pull_policies.go ComputeEffectivePullPolicies"),
    ]
}

/// `FF_TIMESTAMPS` defaults to true from 18.7.0: raw trace lines get timestamp prefixes
/// (gitlab-runner.md §2.1; runner v18.6.0 vs v18.7.0 `common/feature_flags.go`).
pub const FF_TIMESTAMPS_ON: Version = v(18, 7, 0);

pub fn release(version: &Version) -> Result<RunnerRelease, NotModelled> {
    if *version < OLDEST_MODELLED {
        return Err(NotModelled::new(format!(
            "gitlab-runner {version}: releases before {OLDEST_MODELLED} (no error suffix) are not modelled{}",
            if *version < FIRST_OFFICIAL_DOCKER_CLIENT {
                "; this release talks to dockerd through fsouza/go-dockerclient, whose errors read `API error (NNN): …` \
                 (gitlab-runner@v1.11.0 helpers/docker/client.go; the official client from v9.0.0, commit 38dff79d9; \
                 anchors.md §2.1)"
            } else {
                ""
            }
        )));
    }
    let site = lookup(&pull_call_site(), version).and_then(|e| e.value);
    let pull_call_site =
        site.ok_or_else(|| NotModelled::new(format!("gitlab-runner {version}: no pull call site known")))?;
    let classes = pull_failure_class();
    let cls = lookup(&classes, version)
        .expect("table starts at OLDEST_MODELLED")
        .clone();
    let matching = if *version >= v(18, 1, 0) {
        CredentialMatching::PathPrefix
    } else if *version >= v(17, 5, 0) {
        CredentialMatching::PathPrefixHttpsOnly
    } else {
        CredentialMatching::HostLowercased
    };
    Ok(RunnerRelease {
        version: version.clone(),
        revision: revision(version),
        pull_call_site,
        inspect_call_site: lookup(&inspect_call_site(), version).and_then(|e| e.value),
        reset: lookup(&reset_placement(), version).unwrap().value,
        job_failed_line: lookup(&job_failed_line(), version).unwrap().value,
        pull_failure_class: cls.value,
        short_token: lookup(&short_token_rule(), version).unwrap().value,
        pull_policy_loop: *version >= v(13, 8, 0),
        sections: *version >= v(12, 9, 0),
        auth_line: if *version >= v(13, 1, 0) {
            AuthLine::BeforePull
        } else if *version >= v(12, 1, 0) {
            AuthLine::BeforeLookup
        } else {
            AuthLine::Never
        },
        service_line_spaced: *version < v(17, 1, 0),
        wait_for_services_timeout_shown: *version >= v(15, 0, 0),
        service_aliases_split: *version >= v(15, 8, 0),
        system_id: *version >= v(15, 8, 0),
        effective_pull_policy_line: *version >= v(18, 0, 0),
        allowed_pull_policy_check: lookup(&allowed_pull_policy_check(), version).unwrap().value,
        credential_matching: matching,
        digest_in_using_line: *version >= v(13, 4, 0),
        file_auth_config: lookup(&file_auth_config(), version).unwrap().value,
        credential_order: lookup(&credential_order(), version).unwrap().value,
        variable_expansion: lookup(&variable_expansion(), version).unwrap().value,
        autoscaler_dial: lookup(&autoscaler_dial(), version).unwrap().value,
        helpers: lookup(&helper_handling(), version).unwrap().value,
        sources: vec![
            "gitlab-runner.md §1.2 call sites",
            "gitlab-runner.md §2 formats",
            "gitlab-runner.md §3.3 matching eras",
            cls.source,
        ],
    })
}

/// Tag → revision, read once from the table shipped with regsim.
pub fn revision(version: &Version) -> Option<String> {
    static TABLE: OnceLock<Vec<(Version, String)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        include_str!("../../data/runner_revisions.tsv")
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split('\t');
                let ver = Version::parse(f.next()?).ok()?;
                Some((ver, f.next()?.to_string()))
            })
            .collect()
    });
    table.iter().find(|(v, _)| v == version).map(|(_, r)| r.clone())
}

/// Every release tag in the revision table (for `matrix` walks and the version-table test).
pub fn known_releases() -> Vec<Version> {
    include_str!("../../data/runner_revisions.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| Version::parse(l.split('\t').next()?).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_eras_have_the_seed_call_sites() {
        // seeds 000 (manager.go:237) and 001 (manager.go:205).
        assert_eq!(release(&v(16, 2, 0)).unwrap().pull_call_site, ("manager.go", 237));
        assert_eq!(release(&v(14, 2, 0)).unwrap().pull_call_site, ("manager.go", 205));
        assert_eq!(release(&v(13, 9, 0)).unwrap().pull_call_site, ("manager.go", 205));
        assert_eq!(release(&v(16, 5, 3)).unwrap().pull_call_site, ("manager.go", 237));
        assert_eq!(release(&v(16, 6, 0)).unwrap().pull_call_site, ("manager.go", 250));
        assert!(release(&v(17, 0, 0)).unwrap().service_line_spaced);
        assert!(!release(&v(17, 1, 0)).unwrap().service_line_spaced);
    }

    #[test]
    fn revisions_come_from_the_tag_table() {
        assert_eq!(revision(&v(11, 7, 0)).as_deref(), Some("8bb608ff"));
        assert_eq!(revision(&v(16, 2, 0)).as_deref(), Some("782e15da"));
        assert_eq!(revision(&v(14, 2, 0)).as_deref(), Some("58ba2b95"));
        assert_eq!(revision(&v(99, 0, 0)), None);
    }

    #[test]
    fn short_tokens_follow_each_era() {
        use ShortTokenRule::*;
        assert_eq!(shorten_token(First8, "ckf36eMzXYZ"), "ckf36eMz");
        assert_eq!(shorten_token(Glrt, "glrt-abcdEFGH1234567"), "abcdEFGH1");
        assert_eq!(shorten_token(Glrt, "short"), "short");
        assert_eq!(shorten_token(Rotation, "GR1348941abcdefghij"), "GR1348941abcdefgh");
        assert_eq!(shorten_token(StripThen9, "veryverylongtoken"), "veryveryl");
        assert_eq!(shorten_token(StripThen9, "glrt-t1_abcdefghijk"), "abcdefghi");
    }
}
