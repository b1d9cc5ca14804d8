//! What a token is asked for and grants: `type:name:actions` scopes as clients request them in
//! `scope=` and challenges name them, and the actions GitLab knows.

/// An action a scope asks for or a token grants, in GitLab's and distribution's words.
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

/// The resource type a scope names. GitLab's token service knows two; others are kept as
/// written, to be ignored by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceType {
    Repository,
    Registry,
    Other(String),
}

impl ResourceType {
    pub fn parse(s: &str) -> ResourceType {
        match s {
            "repository" => ResourceType::Repository,
            "registry" => ResourceType::Registry,
            other => ResourceType::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ResourceType::Repository => "repository",
            ResourceType::Registry => "registry",
            ResourceType::Other(s) => s,
        }
    }
}

impl serde::Serialize for ResourceType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ResourceType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Ok(ResourceType::parse(&s))
    }
}

impl std::fmt::Display for ResourceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `scope` parameter: `type:name:actions`. Actions stay as written: GitLab drops the ones it
/// does not know, each with its own decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedScope {
    pub kind: ResourceType,
    pub name: String,
    pub actions: Vec<String>,
}

impl RequestedScope {
    /// `type, name, actions = scope.split(':', 3)`; a scope without actions is malformed.
    pub fn parse(s: &str) -> Option<RequestedScope> {
        let mut it = s.splitn(3, ':');
        let kind = ResourceType::parse(it.next()?);
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
