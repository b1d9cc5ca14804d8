//! GitLab (Rails) behaviour per version. Facts: docs/research/gitlab-rails.md (§ numbers below).
//! Several boundaries are not pinned in the research; those rows say so and give the reasoning,
//! and the scenario output names the row that decided.

use super::{Era, era, lookup, v};
use semver::Version;

/// The 401 body text of `/jwt/auth` for wrong credentials (§1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicAuthDenied {
    /// `HTTP Basic: Access denied`.
    Short,
    /// `HTTP Basic: Access denied. The provided password or token is incorrect or your account has
    /// 2FA enabled and you must use a personal access token instead of a password. See <url>`.
    ProvidedPasswordOrToken,
    /// `HTTP Basic: Access denied. If a password was provided for Git authentication, …`.
    IfAPasswordWasProvided,
}

pub fn basic_auth_denied() -> Vec<Era<BasicAuthDenied>> {
    use BasicAuthDenied::*;
    vec![
        era(
            v(8, 0, 0),
            Short,
            "gitlab-rails.md §1.3: 10.x–14.x code (13.x snapshots read) [end of era UNCONFIRMED]",
        ),
        era(
            v(15, 0, 0),
            ProvidedPasswordOrToken,
            "gitlab-rails.md §1.3: text confirmed by the 17.4 docs; first release UNCONFIRMED (\"about 15.x\")",
        ),
        era(
            v(17, 5, 0),
            IfAPasswordWasProvided,
            "gitlab-rails.md §1.3: current code; first release UNCONFIRMED (\"17.5 or later\")",
        ),
    ]
}

impl BasicAuthDenied {
    /// The message for wrong credentials; `external_url` renders `help_page_url`. The short era's
    /// 2FA variant ends with `profile_personal_access_tokens_url`, whose path regsim renders as
    /// `/-/profile/personal_access_tokens` [inferred; not read in that release's routes].
    pub fn message(self, external_url: &str, two_factor_or_no_password_auth: bool) -> String {
        let base = external_url.trim_end_matches('/');
        match self {
            BasicAuthDenied::Short if two_factor_or_no_password_auth => format!(
                "HTTP Basic: Access denied\nYou must use a personal access token with 'api' scope for Git over HTTP.\n\
                 You can generate one at {base}/-/profile/personal_access_tokens"
            ),
            BasicAuthDenied::Short => "HTTP Basic: Access denied".to_string(),
            BasicAuthDenied::ProvidedPasswordOrToken => format!(
                "HTTP Basic: Access denied. The provided password or token is incorrect or your account has 2FA enabled \
                 and you must use a personal access token instead of a password. \
                 See {base}/help/user/profile/account/two_factor_authentication#troubleshooting"
            ),
            BasicAuthDenied::IfAPasswordWasProvided => format!(
                "HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect \
                 or you're required to use a token instead of a password. If a token was provided, it was either incorrect, \
                 expired, or improperly scoped. See {base}/help/user/profile/account/two_factor_authentication_troubleshooting.md\
                 #error-http-basic-access-denied-if-a-password-was-provided-for-git-authentication-"
            ),
        }
    }
}

/// The newest GitLab release regsim knows, as major.minor: GitLab and gitlab-runner release
/// together with the same major.minor (the runner's docs ask to keep them in step), and the
/// newest runner tag regsim has is the last row of data/runner_revisions.tsv.
pub fn newest_known() -> Version {
    let newest = super::runner::known_releases().into_iter().max().unwrap_or(v(0, 0, 0));
    v(newest.major, newest.minor, 0)
}

/// Refuses a release newer than [`newest_known`] (its patch releases are all accepted): regsim
/// would otherwise run it as the newest era, and a version that does not exist would pass.
pub fn check_known(version: &Version) -> Result<(), regsim_wire::NotModelled> {
    let newest = newest_known();
    if (version.major, version.minor) > (newest.major, newest.minor) {
        return Err(regsim_wire::NotModelled::new(format!(
            "GitLab {version} is newer than any release regsim knows (up to {}.{}.x: GitLab ships with the \
             gitlab-runner of the same major.minor, and the newest runner tag regsim has is {}.{})",
            newest.major, newest.minor, newest.major, newest.minor
        )));
    }
    Ok(())
}

/// Facts about one GitLab release that the token service and the allowlist depend on.
#[derive(Debug, Clone)]
pub struct GitlabRelease {
    pub version: Version,
    pub basic_auth_denied: Era<BasicAuthDenied>,
}

pub fn release(version: &Version) -> GitlabRelease {
    GitlabRelease {
        version: version.clone(),
        basic_auth_denied: lookup(&basic_auth_denied(), version)
            .cloned()
            .unwrap_or_else(|| basic_auth_denied()[0].clone()),
    }
}

/// New projects get the inbound allowlist ("Limit access to this project") on from this release.
pub const INBOUND_ALLOWLIST_DEFAULT_ON: Version = v(15, 9, 0);
/// The day GitLab 15.9 was released (GitLab.com runs each release from that day; releases came
/// out on the 22nd of the month then): about.gitlab.com/releases/2023/02/22/gitlab-15-9-released.
/// `regsim import` places a project's `created_at` on one side of it.
pub const INBOUND_ALLOWLIST_DEFAULT_ON_RELEASED: &str = "2023-02-22";
pub const INBOUND_ALLOWLIST_DEFAULT_SOURCE: &str = "gitlab-rails.md §4.3, gitlab-org/gitlab#340822; the self-managed cutover release is UNCONFIRMED (users often say 16.0)";

/// The instance setting `enforce_ci_inbound_job_token_scope_enabled` exists from 17.6 (default
/// false) and is switched on for every instance by the 18.0 migrations.
pub const INSTANCE_ENFORCEMENT_SETTING: Version = v(17, 6, 0);
pub const INSTANCE_ENFORCEMENT_ON: Version = v(18, 0, 0);
pub const INSTANCE_ENFORCEMENT_SOURCE: &str = "gitlab-rails.md §4.3: setting added 17.5/17.6 (default false); 18.0 \
     migrations ChangeCiJobTokenAllowlistSettingDefault and EnableCiJobTokenAllowlistSetting turn it on";

/// Groups can be added to the inbound allowlist from 17.0 (§4.3).
pub const GROUP_ALLOWLIST: Version = v(17, 0, 0);

/// From 16.6 the allowlist also limits job tokens on public and internal projects, except that a
/// registry visible to "everyone with access" stays readable (§4.5).
pub const ALLOWLIST_LIMITS_PUBLIC_INTERNAL: Version = v(16, 6, 0);
pub const ALLOWLIST_LIMITS_PUBLIC_INTERNAL_SOURCE: &str = "gitlab-rails.md §4.5 (ProjectPolicy job_token_container_registry; docs: 16.6 \"Limit job token scope for public or internal projects\")";

/// The registry JWT's nested `user` claim and the `meta` of access entries: absent from the 13.x
/// code and from a 2022 example token, present in 17.x/18.x code (§1.6). The first release is
/// UNCONFIRMED; regsim adds them from 17.0, the oldest release whose code was read with them.
pub const JWT_USER_AND_META: Version = v(17, 0, 0);

/// `scopes_param` splits each `scope` value on whitespace in the newest code (§1.1); 13.x does not.
/// First release UNCONFIRMED; regsim splits from 17.0 (gitlab-org/gitlab#425045 is from 2023).
pub const SCOPE_WHITESPACE_SPLIT: Version = v(17, 0, 0);

/// The Dependency Proxy entry in the job payload `credentials` (MR !51927; docs date runner
/// auto-auth to 13.9).
pub const DEPENDENCY_PROXY_CREDENTIALS: Version = v(13, 9, 0);

/// The legacy `CI_BUILD_TOKEN` (the job token under its 8.x name, masked like it) is gone from
/// 16.0: deprecated in 9.0, removal announced in 14.8 for 16.0 (gitlab-org/gitlab#352957; removal
/// notice commit 1bf50a49; registries-identities.md §7.1). Its first release is older than any
/// GitLab regsim models.
pub const CI_BUILD_TOKEN_REMOVED: Version = v(16, 0, 0);

/// The Dependency Proxy's CI variables and runner-side authentication begin with 13.7, the
/// release that made it authenticate (private groups; anonymous access removed); how the proxy
/// itself answered before is `dependency_proxy_eras`.
pub const DEPENDENCY_PROXY_AUTHENTICATED: Version = v(13, 7, 0);
/// Pull by digest and Docker 20.x clients; the group image prefix down-cased (MR !54559).
pub const DEPENDENCY_PROXY_DIGESTS_AND_DOWNCASE: Version = v(13, 10, 0);
/// `CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX` (§5.6).
pub const DEPENDENCY_PROXY_DIRECT_PREFIX: Version = v(14, 3, 0);
/// Group deploy tokens (read_registry + write_registry) may pull: "14.x" (MR !64363); the
/// minor release is UNCONFIRMED, regsim takes 14.0.
pub const DEPENDENCY_PROXY_DEPLOY_TOKENS: Version = v(14, 0, 0);
/// Group access tokens may pull; tags pull every architecture (16.2 and earlier: x86_64 only).
pub const DEPENDENCY_PROXY_GROUP_TOKENS_AND_MULTIARCH: Version = v(16, 3, 0);
/// The manifest `Accept` types the Dependency Proxy sends Docker Hub, by release. Without the
/// manifest-list type a multi-platform tag comes back as its linux/amd64 manifest (distribution
/// v2.8.3 registry/handlers/manifests.go:190-227, Docker Hub alike): "x86_64 only … with a
/// specific tag" until 16.3. Without any Accept, schema 2 images come back converted to schema 1.
#[rustfmt::skip]
pub fn dependency_proxy_accept() -> Vec<super::Era<&'static [&'static str]>> {
    use super::era;
    const V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
    const OCI: &str = "application/vnd.oci.image.manifest.v1+json";
    const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    const LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    vec![
        era(v(13, 7, 0), &[], "MR !52805: \"the Dependency Proxy does not specify any Accept headers when pulling from DockerHub\" (docs/research/dependency-proxy.md Q1)"),
        era(v(13, 10, 0), &[V2, OCI], "ContainerRegistry::Client::ACCEPTED_TYPES (pull_manifest_service.rb, stored 13.10–14.x code); 13.10 via MR !53667 with pull by digest [release inferred] (docs/research/dependency-proxy.md Q1)"),
        // The OCI index joined in a release between 13.10 and 16.2 that was not found; regsim
        // leaves it out there, which changes nothing for the Docker Hub mock (it serves no OCI indexes).
        era(v(16, 3, 0), &[V2, OCI, OCI_INDEX, LIST], "DependencyProxy::Manifest::ACCEPTED_TYPES after MR !127545 (docs: resolved in 16.3) (docs/research/dependency-proxy.md Q1)"),
    ]
}

/// How the Dependency Proxy for container images serves manifests, by release. Facts:
/// docs/research/dependency-proxy-13x.md (GitLab source read at dated commits; no release tag could
/// be read, so each row says how it was placed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyEra {
    /// A GitLab Premium feature: on a Free instance `verify_dependency_proxy_enabled!` answers
    /// `render_404` (empty body for Docker's requests).
    pub premium_only: bool,
    /// `/v2` and the proxy's routes want a proxy JWT (`DependencyProxy::Auth`, 401 with a
    /// challenge without one). Before, `/v2` was a bare 200 and every request anonymous: only
    /// groups an anonymous visitor can read (public ones) could be pulled through.
    pub authenticates: bool,
    pub cache: ManifestCache,
    pub reply: ManifestReply,
}

/// Whether and how the proxy keeps manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestCache {
    /// Every manifest request is a GET to Docker Hub (`PullManifestService`).
    None,
    /// Cached under `image:tag.json`, revalidated by an upstream HEAD's digest (MR !48845).
    ByTag,
    /// Also found by digest, and revalidated by digest and content type (pull by digest, 13.10).
    ByTagOrDigest,
}

/// What a manifest response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestReply {
    /// `render json: <upstream body>`: `application/json; charset=utf-8`, no digest header.
    RenderJson,
    /// `send_upload(manifest.file)` of the cached `image:tag.json`: no digest header; the type
    /// Rails guesses from the `.json` name, `application/json` [inferred, the 13.7–13.9 controller
    /// text was not found].
    SendFileJson,
    /// `Docker-Content-Digest`, `Docker-Distribution-Api-Version`, `Etag` and the upstream
    /// Content-Type (13.10 →, later through Workhorse).
    WithDigest,
}

#[rustfmt::skip]
pub fn dependency_proxy_eras() -> Vec<Era<ProxyEra>> {
    use ManifestCache as C;
    use ManifestReply as R;
    let row = |premium_only, authenticates, cache, reply| ProxyEra { premium_only, authenticates, cache, reply };
    vec![
        era(v(11, 11, 0), row(true,  false, C::None,          R::RenderJson),   "ee controller and DependencyProxyAccess (nickbrandt/GitLab 85f16046, c9298215; 13.5-era EE) — dependency-proxy-13x.md Q2, Q4"),
        era(v(13, 6, 0),  row(false, false, C::None,          R::RenderJson),   "moved to Free (gitlab#273655; CE code at gitlabhq c19dce02, read at 7e9c479f, a master commit a week before 13.6.0) — dependency-proxy-13x.md Q2, Q4"),
        era(v(13, 7, 0),  row(false, true,  C::ByTag,         R::SendFileJson), "DependencyProxy::Auth (MR !46042, gitlabhq 8b573c94) and manifest caching (MR !48845); the manifest reply is reconstructed, UNCONFIRMED — dependency-proxy-13x.md Q2, Q3, Q5"),
        era(v(13, 10, 0), row(false, true,  C::ByTagOrDigest, R::WithDigest),   "content-type and pull-by-digest controller (MR !53667; 13.10 per the docs, 13.9 UNCONFIRMED) — dependency-proxy-13x.md Q2, Q5"),
    ]
}

/// The feature flag that switched the proxy's authentication on: default on from 13.7, removed
/// in 15.0. Off, the proxy behaves as 13.6 did (no authentication; public groups only).
pub const PRIVATE_GROUPS_FLAG: &str = "dependency_proxy_for_private_groups";
pub const PRIVATE_GROUPS_FLAG_REMOVED: Version = v(15, 0, 0);

/// Who may change a group's Dependency Proxy settings (`admin_dependency_proxy`): Developer, then
/// Maintainer from 15.0 (gitlab#350682), then Owner from 17.0 (gitlab#370471). Seed 002: "GitLab
/// 15.0 changed the required role from Developer to Maintainer". dependency-proxy-13x.md Q7.
pub fn dependency_proxy_admin_role() -> Vec<Era<crate::scenario::Role>> {
    use crate::scenario::Role;
    vec![
        era(
            v(11, 11, 0),
            Role::Developer,
            "group_policy.rb `rule { developer & dependency_proxy_available }.enable :admin_dependency_proxy` (13.6–13.9 code) — dependency-proxy-13x.md Q7",
        ),
        era(
            v(15, 0, 0),
            Role::Maintainer,
            "group_policy.rb `rule { maintainer & dependency_proxy_available }` (15.x code; gitlab#350682; docs) — dependency-proxy-13x.md Q7",
        ),
        era(
            v(17, 0, 0),
            Role::Owner,
            "`owner & dependency_proxy_available` (gitlab#370471) — dependency-proxy-13x.md Q7",
        ),
    ]
}

/// SAML SSO "Enforce SSO-only authentication for Git and Dependency Proxy activity" covers the
/// proxy (MR !67373, gitlab#337969; milestone about 14.2–14.3, UNCONFIRMED: regsim takes 14.3).
pub const DEPENDENCY_PROXY_SSO_ENFORCEMENT: Version = v(14, 3, 0);
/// Group Owners lose their exemption from that SSO check (MR !149154, 2024; the release is
/// UNCONFIRMED: regsim takes 17.0, the first release after the MR).
pub const SSO_ENFORCEMENT_COVERS_OWNERS: Version = v(17, 0, 0);

/// "Dependency Proxy token scope enforcement": tokens need read_registry and write_registry.
pub const DEPENDENCY_PROXY_SCOPE_ENFORCEMENT: Version = v(18, 0, 0);
pub const DEPENDENCY_PROXY_GROUP_DEFAULT_SOURCE: &str = "the docs say the proxy is \"enabled by default\"; the DB \
     default of dependency_proxy_group_settings.enabled became true in a 15.x migration (release UNCONFIRMED, \
     gitlab-rails.md §5.3 item 6)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_past_the_newest_runner_tag_are_unknown() {
        let newest = newest_known();
        assert!(check_known(&v(newest.major, newest.minor, 9)).is_ok());
        assert!(check_known(&v(newest.major, newest.minor + 1, 0)).is_err());
        assert!(
            check_known(&v(99, 99, 99))
                .unwrap_err()
                .reason
                .starts_with("GitLab 99.99.99 is newer")
        );
    }

    #[test]
    fn basic_auth_wording_by_era() {
        let url = "https://gitlab.example.com";
        assert_eq!(
            release(&v(14, 2, 0)).basic_auth_denied.value.message(url, false),
            "HTTP Basic: Access denied"
        );
        assert!(
            release(&v(16, 2, 7))
                .basic_auth_denied
                .value
                .message(url, false)
                .ends_with(
                    "See https://gitlab.example.com/help/user/profile/account/two_factor_authentication#troubleshooting"
                )
        );
        assert!(
            release(&v(18, 0, 0))
                .basic_auth_denied
                .value
                .message(url, false)
                .contains("If a password was provided")
        );
    }
}
