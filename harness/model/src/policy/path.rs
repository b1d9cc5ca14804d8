//! `ContainerRegistry::Path` (gitlab-rails.md §2): which project a repository path belongs to.

use crate::world::{Project, World};

/// `container_repository_name_regex`, more than one component, fewer than 20.
pub fn valid_repository_path(path: &str) -> bool {
    let lower = path.to_lowercase();
    let comps: Vec<&str> = lower.split('/').collect();
    if comps.len() < 2 || comps.len() >= 20 {
        return false;
    }
    // \A[a-z0-9]+(([._/]|__|-*)[a-z0-9])*\z
    let b = lower.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // a separator run: one of `.`, `_`, `/`, `__`, or any number of `-`
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &lower[start..i];
        let ok = matches!(sep, "." | "_" | "/" | "__") || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// The three longest prefixes (down to two components) are tried: an image may sit at most two
/// levels below its project.
pub fn project_for_repository<'w>(world: &'w World, path: &str) -> Option<&'w Project> {
    let lower = path.to_lowercase();
    let comps: Vec<&str> = lower.split('/').collect();
    (2..=comps.len())
        .rev()
        .take(3)
        .map(|n| comps[..n].join("/"))
        .find_map(|candidate| world.projects.iter().find(|p| p.path.to_lowercase() == candidate))
}
