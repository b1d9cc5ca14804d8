//! Answers of GitLab's REST API (v4) that a user saved with curl, recognised by their shape:
//! `GET /version`, `GET /projects/:id` (or a list of them, `GET /projects`), and for one project
//! (`PROJECT=FILE`, as those answers do not name it) `GET /projects/:id/job_token_scope`,
//! `…/job_token_scope/allowlist`, `…/job_token_scope/groups_allowlist` and
//! `…/members/all`. Field names as docs.gitlab.com/api/projects and
//! api/project_job_token_scopes give them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the answers said.
#[derive(Debug, Clone, Default)]
pub struct ApiFacts {
    /// `/version`'s `version` as written (`16.11.2-ee`).
    pub version: Option<String>,
    /// By `path_with_namespace`.
    pub projects: BTreeMap<String, ProjectFacts>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectFacts {
    /// `private`, `internal` or `public`.
    pub visibility: Option<String>,
    /// `created_at`'s date, `YYYY-MM-DD`.
    pub created_on: Option<String>,
    /// `container_registry_access_level`: `enabled`, `private` or `disabled`.
    pub container_registry: Option<String>,
    /// `container_registry_image_prefix`'s host (`registry.example.com`).
    pub registry_host: Option<String>,
    /// `web_url`'s scheme and host.
    pub gitlab_url: Option<String>,
    /// `job_token_scope`'s `inbound_enabled` ("Limit access to this project").
    pub inbound_enabled: Option<bool>,
    pub allowlist_projects: Option<Vec<String>>,
    pub allowlist_groups: Option<Vec<String>>,
    /// username → role, from `members/all`'s `access_level`; other levels are listed apart.
    pub members: Option<BTreeMap<String, &'static str>>,
    /// Members whose access level regsim has no role for (minimal access, planner).
    pub other_members: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
    #[error("{file}: not JSON (line {line}, column {column}): {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{0}: not an answer regsim reads (GET /version, /projects/:id, and for one project \
         job_token_scope, job_token_scope/allowlist, job_token_scope/groups_allowlist, members/all)"
    )]
    Unrecognised(String),
    #[error("{file}: {what} does not name its project: give it as --gitlab-api group/project={file}")]
    NeedsProject { file: String, what: &'static str },
    #[error("{file}: {field} is {value:?}, which GitLab does not answer")]
    BadValue { file: String, field: String, value: String },
}

/// `[PROJECT=]FILE`: the project part only when the whole argument is not a file.
pub fn split_argument(arg: &str) -> (Option<String>, PathBuf) {
    if !Path::new(arg).exists()
        && let Some((project, file)) = arg.split_once('=')
        && !project.is_empty()
    {
        return (Some(project.trim_matches('/').to_string()), PathBuf::from(file));
    }
    (None, PathBuf::from(arg))
}

/// Reads every `[PROJECT=]FILE` argument into one set of facts.
pub fn read_all(args: &[String]) -> Result<ApiFacts, ApiError> {
    let mut facts = ApiFacts::default();
    for arg in args {
        let (project, file) = split_argument(arg);
        let name = file.display().to_string();
        let text = std::fs::read_to_string(&file).map_err(|e| ApiError::Read(name.clone(), e))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| ApiError::Json {
            file: name.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        read(&mut facts, project.as_deref(), &name, &value)?;
    }
    Ok(facts)
}

/// One answer into `facts`.
pub fn read(facts: &mut ApiFacts, project: Option<&str>, file: &str, v: &serde_json::Value) -> Result<(), ApiError> {
    let needs = |what: &'static str| ApiError::NeedsProject {
        file: file.to_string(),
        what,
    };
    match v {
        serde_json::Value::Object(o) if o.contains_key("path_with_namespace") => project_answer(facts, file, v),
        serde_json::Value::Object(o) if o.contains_key("inbound_enabled") => {
            let p = project.ok_or_else(|| needs("a job_token_scope answer"))?;
            let enabled = o["inbound_enabled"].as_bool().ok_or_else(|| ApiError::BadValue {
                file: file.into(),
                field: "inbound_enabled".into(),
                value: o["inbound_enabled"].to_string(),
            })?;
            facts.projects.entry(p.to_string()).or_default().inbound_enabled = Some(enabled);
            Ok(())
        }
        serde_json::Value::Object(o) if o.contains_key("version") && o.contains_key("revision") => {
            facts.version = o["version"].as_str().map(str::to_string);
            Ok(())
        }
        serde_json::Value::Array(items) => {
            let has = |k: &str| items.first().is_some_and(|i| i.get(k).is_some());
            if items.is_empty() {
                // An empty allowlist or member list: which one cannot be told.
                return match project {
                    Some(_) => Err(ApiError::Unrecognised(format!(
                        "{file} (an empty list: write the allowlist in the scenario by hand)"
                    ))),
                    None => Ok(()),
                };
            }
            if has("access_level") && has("username") {
                let p = project.ok_or_else(|| needs("a members answer"))?;
                let entry = facts.projects.entry(p.to_string()).or_default();
                let mut members = BTreeMap::new();
                for m in items {
                    let user = m["username"].as_str().unwrap_or_default().to_string();
                    match m["access_level"].as_u64().and_then(role) {
                        Some(r) => {
                            members.insert(user, r);
                        }
                        None => entry
                            .other_members
                            .push(format!("{user} (access level {})", m["access_level"])),
                    }
                }
                entry.members = Some(members);
                return Ok(());
            }
            if has("path_with_namespace") {
                match project {
                    // Projects on a project's allowlist.
                    Some(p) => {
                        let list = items
                            .iter()
                            .filter_map(|i| i["path_with_namespace"].as_str().map(str::to_string))
                            .collect();
                        facts.projects.entry(p.to_string()).or_default().allowlist_projects = Some(list);
                    }
                    // A list of projects (GET /projects).
                    None => {
                        for i in items {
                            project_answer(facts, file, i)?;
                        }
                    }
                }
                return Ok(());
            }
            if has("full_path") {
                let p = project.ok_or_else(|| needs("a groups_allowlist answer"))?;
                let list = items
                    .iter()
                    .filter_map(|i| i["full_path"].as_str().map(str::to_string))
                    .collect();
                facts.projects.entry(p.to_string()).or_default().allowlist_groups = Some(list);
                return Ok(());
            }
            Err(ApiError::Unrecognised(file.to_string()))
        }
        _ => Err(ApiError::Unrecognised(file.to_string())),
    }
}

fn project_answer(facts: &mut ApiFacts, file: &str, v: &serde_json::Value) -> Result<(), ApiError> {
    let path = v["path_with_namespace"].as_str().unwrap_or_default().to_string();
    let one_of = |field: &str, allowed: &[&str]| -> Result<Option<String>, ApiError> {
        match v.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
            Some(other) => Err(ApiError::BadValue {
                file: file.into(),
                field: format!("{path}: {field}"),
                value: other.to_string(),
            }),
        }
    };
    let visibility = one_of("visibility", &["private", "internal", "public"])?;
    let container_registry = one_of("container_registry_access_level", &["enabled", "private", "disabled"])?;
    let created_on = match v["created_at"].as_str() {
        None => None,
        Some(t) => {
            let day = t.get(..10).unwrap_or_default();
            let parsed = time::Date::parse(day, time::macros::format_description!("[year]-[month]-[day]"));
            Some(parsed.map(|d| d.to_string()).map_err(|_| ApiError::BadValue {
                file: file.into(),
                field: format!("{path}: created_at"),
                value: t.to_string(),
            })?)
        }
    };
    let registry_host = v["container_registry_image_prefix"]
        .as_str()
        .and_then(|p| p.split('/').next())
        .filter(|h| !h.is_empty())
        .map(str::to_string);
    let gitlab_url = v["web_url"].as_str().and_then(|u| url::Url::parse(u).ok()).map(|u| {
        let mut s = format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default());
        if let Some(p) = u.port() {
            s.push_str(&format!(":{p}"));
        }
        s
    });
    let entry = facts.projects.entry(path).or_default();
    entry.visibility = visibility.or(entry.visibility.take());
    entry.container_registry = container_registry.or(entry.container_registry.take());
    entry.created_on = created_on.or(entry.created_on.take());
    entry.registry_host = registry_host.or(entry.registry_host.take());
    entry.gitlab_url = gitlab_url.or(entry.gitlab_url.take());
    Ok(())
}

/// `access_level` → the role's name (docs.gitlab.com/api/members: 10 guest, 20 reporter,
/// 30 developer, 40 maintainer, 50 owner); minimal access (5) and planner (15) have none here.
fn role(level: u64) -> Option<&'static str> {
    match level {
        10 => Some("guest"),
        20 => Some("reporter"),
        30 => Some("developer"),
        40 => Some("maintainer"),
        50 => Some("owner"),
        _ => None,
    }
}

/// `16.11.2-ee` → `16.11.2`.
pub fn release(version: &str) -> Option<String> {
    let core = version.split(['-', '+']).next()?;
    let parts: Vec<&str> = core.split('.').collect();
    (parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok())).then(|| core.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_told_apart_by_their_shape() {
        let mut f = ApiFacts::default();
        read(
            &mut f,
            None,
            "v.json",
            &json!({"version": "16.11.2-ee", "revision": "abc"}),
        )
        .unwrap();
        read(
            &mut f,
            None,
            "p.json",
            &json!({"path_with_namespace": "team/base", "visibility": "private",
                    "created_at": "2022-11-03T10:00:00.000Z", "container_registry_access_level": "private",
                    "container_registry_image_prefix": "registry.example.com/team/base",
                    "web_url": "https://gitlab.example.com/team/base"}),
        )
        .unwrap();
        read(
            &mut f,
            Some("team/base"),
            "s.json",
            &json!({"inbound_enabled": true, "outbound_enabled": false}),
        )
        .unwrap();
        read(
            &mut f,
            Some("team/base"),
            "a.json",
            &json!([{"id": 2, "path_with_namespace": "team/app"}]),
        )
        .unwrap();
        read(
            &mut f,
            Some("team/base"),
            "g.json",
            &json!([{"id": 3, "full_path": "team/tools"}]),
        )
        .unwrap();
        read(
            &mut f,
            Some("team/base"),
            "m.json",
            &json!([{"username": "ana", "access_level": 30}, {"username": "bo", "access_level": 5}]),
        )
        .unwrap();
        assert_eq!(release(f.version.as_deref().unwrap()).as_deref(), Some("16.11.2"));
        let p = &f.projects["team/base"];
        assert_eq!(p.created_on.as_deref(), Some("2022-11-03"));
        assert_eq!(p.registry_host.as_deref(), Some("registry.example.com"));
        assert_eq!(p.gitlab_url.as_deref(), Some("https://gitlab.example.com"));
        assert_eq!(p.inbound_enabled, Some(true));
        assert_eq!(p.allowlist_projects.as_deref(), Some(&["team/app".to_string()][..]));
        assert_eq!(p.allowlist_groups.as_deref(), Some(&["team/tools".to_string()][..]));
        assert_eq!(p.members.as_ref().unwrap()["ana"], "developer");
        assert_eq!(p.other_members, vec!["bo (access level 5)"]);
        assert!(matches!(
            read(&mut f, None, "s.json", &json!({"inbound_enabled": true})),
            Err(ApiError::NeedsProject { .. })
        ));
        assert!(matches!(
            read(
                &mut f,
                None,
                "x.json",
                &json!({"path_with_namespace": "a/b", "visibility": "secret"})
            ),
            Err(ApiError::BadValue { .. })
        ));
        assert!(matches!(
            read(&mut f, None, "x.json", &json!({"id": 1})),
            Err(ApiError::Unrecognised(_))
        ));
    }
}
