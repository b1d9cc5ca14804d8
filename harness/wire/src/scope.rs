//! What a token is asked for and grants: `type:name:actions` scopes as clients request them in
//! `scope=` and challenges name them, and the actions GitLab knows.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pull,
    Push,
    Delete,
    All,
}

impl Action {
    /// As scopes write it (`pull`, `push`, `delete`, `*`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
            Action::All => "*",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "pull" => Action::Pull,
            "push" => Action::Push,
            "delete" => Action::Delete,
            "*" => Action::All,
            _ => return None,
        })
    }
}

/// One `scope` parameter: `type:name:actions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedScope {
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl RequestedScope {
    /// `type, name, actions = scope.split(':', 3)`; a scope without actions is malformed.
    pub fn parse(s: &str) -> Option<RequestedScope> {
        let mut it = s.splitn(3, ':');
        let kind = it.next()?.to_string();
        let name = it.next()?.to_string();
        let actions = it.next()?.split(',').map(str::to_string).collect();
        Some(RequestedScope { kind, name, actions })
    }
}

impl std::fmt::Display for RequestedScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.kind, self.name, self.actions.join(","))
    }
}
