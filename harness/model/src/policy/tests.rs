//! Table tests of the decisions, straight on the world model (no HTTP).

use super::*;
use crate::scenario::load_str;
use crate::world::{World, build};
use regsim_wire::scope::RequestedScope;
use std::path::Path;

/// A small world: group `your` with `your/project` (the image) and `your/other` (the job).
fn world(gitlab: &str, created_in: &str, extra_project: &str, tokens: &str) -> World {
    let text = format!(
        r#"
description: policy table
clock: 2024-03-01T10:00:00Z
gitlab: {{ version: "{gitlab}", external_url: "https://gitlab.example.com", registry: "registry.example.com:5050" }}
groups:
  - path: your
    members: {{ dev: developer }}
projects:
  - path: your/project
    created_in: "{created_in}"
    images: ["your/project/image:latest"]
    {extra_project}
  - path: your/other
    created_in: "{created_in}"
  - path: elsewhere/app
    created_in: "{created_in}"
    members: {{ stranger: maintainer }}
tokens: {tokens}
job: {{ project: your/other, user: dev, image: "registry.example.com:5050/your/project/image:latest" }}
runner: {{ version: 16.2.0 }}
docker: {{ version: 20.10.24 }}
expect: {{ outcome: fails }}
"#
    );
    let s = load_str(Path::new("t.yaml"), &text).unwrap();
    build(Path::new("t.yaml"), &text, &s, &Default::default()).unwrap()
}

fn pull(w: &World, login: &str, password: &str) -> Result<Grant, Denial> {
    let auth = authenticate(w, Some((login, password))).expect("authenticates");
    let scope = RequestedScope::parse("repository:your/project/image:pull").unwrap();
    authorize(w, &auth, &[scope])
}

#[test]
fn allowlist_default_follows_project_age() {
    // gitlab-rails.md §4.3: on for projects created in ≥ 15.9.
    let new = world("16.2.7", "16.1.0", "", "[]");
    let g = pull(&new, "gitlab-ci-token", &new.job.token.clone()).unwrap();
    assert!(g.access.is_empty(), "{:?}", g.decisions);
    assert!(g.decisions[0].1.because.contains("is not on it"), "{:?}", g.decisions);

    let old = world("16.2.7", "15.8.0", "", "[]");
    let g = pull(&old, "gitlab-ci-token", &old.job.token.clone()).unwrap();
    assert_eq!(g.access.len(), 1, "{:?}", g.decisions);
    assert_eq!(g.access[0].actions, ["pull"]);
}

#[test]
fn allowlist_entry_or_setting_off_lets_the_job_pull() {
    for extra in [
        "job_token_allowlist: { projects: [your/other] }",
        "job_token_allowlist: { enabled: false }",
    ] {
        let w = world("16.2.7", "16.1.0", extra, "[]");
        let g = pull(&w, "gitlab-ci-token", &w.job.token.clone()).unwrap();
        assert_eq!(g.access.len(), 1, "{extra}: {:?}", g.decisions);
    }
}

#[test]
fn group_entries_need_seventeen() {
    let w = world("17.2.0", "16.1.0", "job_token_allowlist: { groups: [your] }", "[]");
    let g = pull(&w, "gitlab-ci-token", &w.job.token.clone()).unwrap();
    assert_eq!(g.access.len(), 1, "{:?}", g.decisions);
}

#[test]
fn eighteen_enforces_the_allowlist_even_for_old_projects() {
    let w = world("18.0.0", "15.0.0", "", "[]");
    let g = pull(&w, "gitlab-ci-token", &w.job.token.clone()).unwrap();
    assert!(g.access.is_empty(), "{:?}", g.decisions);
}

#[test]
fn job_token_never_pushes_elsewhere() {
    let w = world("16.2.7", "15.0.0", "", "[]");
    let auth = authenticate(&w, Some(("gitlab-ci-token", &w.job.token))).unwrap();
    let scope = RequestedScope::parse("repository:your/project/image:push,pull").unwrap();
    let g = authorize(&w, &auth, &[scope]).unwrap();
    assert_eq!(g.access[0].actions, ["pull"]);
}

#[test]
fn the_triggering_user_needs_reporter_on_a_private_target() {
    let text_user = "stranger";
    let mut w = world("14.2.0", "14.0.0", "", "[]");
    w.job.user = text_user.into();
    let g = pull(&w, "gitlab-ci-token", &w.job.token.clone()).unwrap();
    assert!(g.access.is_empty());
    assert!(
        g.decisions[0]
            .1
            .because
            .contains("stranger is not a member of your/project"),
        "{:?}",
        g.decisions
    );
}

const TOKENS: &str = r#"
  - { kind: project_access_token, name: pull, value: glpat-dev, project: your/project, role: developer, scopes: [read_registry] }
  - { kind: project_access_token, name: guest, value: glpat-guest, project: your/project, role: guest, scopes: [read_registry] }
  - { kind: project_access_token, name: old, value: glpat-old, project: your/project, role: developer, scopes: [read_registry], expires_at: 2024-02-01 }
  - { kind: personal_access_token, name: repo, value: glpat-repo, user: dev, scopes: [read_repository] }
  - { kind: deploy_token, name: deploy, value: gldt-1, project: your/project, scopes: [read_registry] }
"#;

#[test]
fn tokens_table() {
    let w = world("16.2.7", "16.1.0", "", TOKENS);
    // Project access token, Developer, read_registry: the bot is a member → pull.
    assert_eq!(pull(&w, "anything", "glpat-dev").unwrap().access.len(), 1);
    // Guest role: authenticated, pull dropped (not an error).
    let g = pull(&w, "anything", "glpat-guest").unwrap();
    assert!(
        g.access.is_empty() && g.decisions[0].1.because.contains("only Guest"),
        "{:?}",
        g.decisions
    );
    // read_repository only: no registry ability → 403.
    let d = pull(&w, "dev", "glpat-repo").unwrap_err();
    assert_eq!((d.status, d.message.as_str()), (403, "access forbidden"));
    // Deploy token: login must be its username.
    assert_eq!(pull(&w, "gitlab+deploy-token-5", "gldt-1").unwrap().access.len(), 1);
    assert!(matches!(
        authenticate(&w, Some(("someone", "gldt-1"))),
        Err(AuthFailure::WrongCredentials { .. })
    ));
}

#[test]
fn expired_tokens_are_not_found() {
    let w = world("16.2.7", "16.1.0", "", TOKENS);
    match authenticate(&w, Some(("x", "glpat-old"))) {
        Err(AuthFailure::WrongCredentials { why }) => {
            assert!(why.contains("expired on 2024-02-01"), "{why}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn anonymous_gets_403_when_nothing_is_public() {
    let w = world("16.2.7", "16.1.0", "", "[]");
    let auth = authenticate(&w, None).unwrap();
    let scope = RequestedScope::parse("repository:your/project/image:pull").unwrap();
    let d = authorize(&w, &auth, &[scope]).unwrap_err();
    assert_eq!(d.status, 403);
}

#[test]
fn public_registry_lets_anyone_pull_but_job_tokens_follow_sixteen_six() {
    let extra = "visibility: public";
    let w = world("16.6.0", "16.1.0", extra, "[]");
    let auth = authenticate(&w, None).unwrap();
    let scope = RequestedScope::parse("repository:your/project/image:pull").unwrap();
    assert_eq!(
        authorize(&w, &auth, std::slice::from_ref(&scope)).unwrap().access.len(),
        1
    );
    let g = pull(&w, "gitlab-ci-token", &w.job.token.clone()).unwrap();
    assert_eq!(g.access.len(), 1, "{:?}", g.decisions);
    let w = world(
        "16.6.0",
        "16.1.0",
        "visibility: public\n    container_registry: private",
        "[]",
    );
    let g = pull(&w, "gitlab-ci-token", &w.job.token.clone()).unwrap();
    assert!(g.access.is_empty(), "{:?}", g.decisions);
}

#[test]
fn paths_map_to_projects_at_most_two_levels_down() {
    let w = world("16.2.7", "16.1.0", "", "[]");
    assert_eq!(
        project_for_repository(&w, "your/project/a/b").unwrap().path,
        "your/project"
    );
    assert!(project_for_repository(&w, "your/project/a/b/c").is_none());
    assert!(!valid_repository_path("alpine"));
    assert!(valid_repository_path("your/project/image"));
    assert!(!valid_repository_path("Your//project"));
}

/// Dependency Proxy decisions (gitlab-rails.md §5.2, §5.4), on the same small world: `dev` is
/// Developer in `your`; `stranger` is a member of `elsewhere/app` only.
mod dependency_proxy_table {
    use super::*;
    use crate::policy::dependency_proxy::{ProxySubject, ProxyTokenRefusal, may_pull_through, proxy_token};

    fn token_for(w: &World, login: &str, password: &str) -> Result<ProxySubject, ProxyTokenRefusal> {
        let auth = authenticate(w, Some((login, password))).expect("authenticates");
        proxy_token(w, &auth)
    }

    #[test]
    fn job_token_acts_as_the_user_and_needs_guest_on_the_group() {
        let w = world("16.2.0", "16.0.0", "", "[]");
        let s = token_for(&w, "gitlab-ci-token", &w.job.token.clone()).unwrap();
        assert_eq!(
            s,
            ProxySubject::User {
                username: "dev".into(),
                token: None
            }
        );
        assert!(may_pull_through(&w, &s, "your").allowed);
        let stranger = ProxySubject::User {
            username: "stranger".into(),
            token: None,
        };
        let d = may_pull_through(&w, &stranger, "your");
        assert!(
            !d.allowed && d.because.contains("project membership does not count"),
            "{}",
            d.because
        );
        assert!(!may_pull_through(&w, &s, "nope").allowed);
    }

    #[test]
    fn sso_enforcement_needs_an_active_session_except_for_bots_and_older_owners() {
        let user = |u: &str| ProxySubject::User {
            username: u.into(),
            token: None,
        };
        let enforce = |w: &mut World, sessions: &[&str]| {
            w.groups[0].sso_enforced_for_dependency_proxy = Some(sessions.iter().map(|s| s.to_string()).collect());
        };
        let mut w = world("16.2.0", "16.0.0", "", "[]");
        enforce(&mut w, &[]);
        let d = may_pull_through(&w, &user("dev"), "your");
        assert!(
            !d.allowed && d.because.contains("no active SSO session"),
            "{}",
            d.because
        );
        enforce(&mut w, &["dev"]);
        assert!(may_pull_through(&w, &user("dev"), "your").allowed);
        // A group access token's bot is exempt (SessionEnforcer#user_allowed?: user.bot?).
        enforce(&mut w, &[]);
        w.groups[0].members.insert("bot".into(), crate::scenario::Role::Guest);
        let bot = ProxySubject::GroupAccessToken {
            bot: "bot".into(),
            token: "t".into(),
        };
        assert!(may_pull_through(&w, &bot, "your").allowed);
        // Owners were exempt until MR !149154 (regsim: 17.0).
        w.groups[0].members.insert("own".into(), crate::scenario::Role::Owner);
        assert!(may_pull_through(&w, &user("own"), "your").allowed);
        let mut w17 = world("17.0.0", "16.0.0", "", "[]");
        enforce(&mut w17, &[]);
        w17.groups[0].members.insert("own".into(), crate::scenario::Role::Owner);
        assert!(!may_pull_through(&w17, &user("own"), "your").allowed);
    }

    #[test]
    fn anonymous_gets_no_proxy_token() {
        let w = world("16.2.0", "16.0.0", "", "[]");
        let auth = authenticate(&w, None).unwrap();
        assert!(matches!(
            proxy_token(&w, &auth),
            Err(ProxyTokenRefusal::Forbidden { .. })
        ));
    }

    #[test]
    fn from_18_0_a_read_only_token_is_refused() {
        let tokens =
            r#"[{ kind: personal_access_token, name: ro, value: glpat-ro, user: dev, scopes: [read_registry] }]"#;
        let before = world("17.11.0", "16.0.0", "", tokens);
        assert!(token_for(&before, "dev", "glpat-ro").is_ok());
        let after = world("18.0.0", "16.0.0", "", tokens);
        assert!(matches!(
            token_for(&after, "dev", "glpat-ro"),
            Err(ProxyTokenRefusal::Forbidden { .. })
        ));
    }

    #[test]
    fn before_the_proxy_authenticated_only_public_groups_are_read() {
        use crate::policy::dependency_proxy::may_pull_anonymously;
        let mut w = world("13.6.0", "13.0.0", "", "[]");
        assert!(
            !may_pull_anonymously(&w, "your").allowed,
            "groups are private by default"
        );
        w.groups[0].visibility = crate::scenario::Visibility::Public;
        assert!(may_pull_anonymously(&w, "your").allowed);
        assert!(!may_pull_anonymously(&w, "nobody").allowed);
    }

    #[rstest::rstest]
    #[case("14.10.0", crate::scenario::Role::Developer, true)]
    #[case("15.0.0", crate::scenario::Role::Developer, false)]
    #[case("15.0.0", crate::scenario::Role::Maintainer, true)]
    #[case("17.0.0", crate::scenario::Role::Maintainer, false)]
    #[case("17.0.0", crate::scenario::Role::Owner, true)]
    fn who_may_switch_the_proxy_on_or_off(
        #[case] gitlab: &str,
        #[case] role: crate::scenario::Role,
        #[case] allowed: bool,
    ) {
        use crate::policy::dependency_proxy::may_change_proxy_setting;
        let w = world(gitlab, "13.0.0", "", "[]");
        assert_eq!(may_change_proxy_setting(&w, role).allowed, allowed);
    }
}

#[test]
fn a_blocked_user_authenticates_with_nothing() {
    // A personal access token of a blocked user, and the job token of its pipeline.
    let mut w = world(
        "17.4.1",
        "15.8.0",
        "",
        r#"[{ kind: personal_access_token, name: old-laptop, value: glpat-blockedUserToken0, user: dev, scopes: [read_registry] }]"#,
    );
    assert!(pull(&w, "dev", "glpat-blockedUserToken0").is_ok());
    w.users.iter_mut().find(|u| u.username == "dev").unwrap().blocked = true;
    for (login, password) in [
        ("dev", "glpat-blockedUserToken0"),
        ("gitlab-ci-token", w.job.token.as_str()),
    ] {
        match authenticate(&w, Some((login, password))) {
            Err(AuthFailure::WrongCredentials { why }) => assert!(why.contains("blocked"), "{why}"),
            other => panic!("{login}: {other:?}"),
        }
    }
}
