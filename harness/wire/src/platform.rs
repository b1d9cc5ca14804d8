//! An OS/architecture pair as manifest lists and image configs write it (`linux/arm64/v8`).

/// A platform of an image or of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Default for Platform {
    /// Docker Hub's and distribution's default platform (and this machine's dockerd).
    fn default() -> Self {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }
}

impl Platform {
    /// `os/arch[/variant]`; `None` when it is not of that shape.
    pub fn parse(s: &str) -> Option<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Some(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Some(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => None,
        }
    }
}

impl Platform {
    /// Whether a manifest list's entry (`{"platform": {"os", "architecture", "variant"}}`) is
    /// for this platform: os and architecture equal, and the variant when this one names it (an
    /// arm64 entry without one counts as v8, as containerd's platforms.Normalize has it).
    pub fn matches_entry(&self, entry: &serde_json::Value) -> bool {
        let p = &entry["platform"];
        let variant = p["variant"].as_str().or((p["architecture"] == "arm64").then_some("v8"));
        p["os"] == self.os.as_str()
            && p["architecture"] == self.architecture.as_str()
            && (self.variant.is_none() || variant == self.variant.as_deref())
    }

    /// A host's platform as written in a scenario: an arm64 host reports variant v8 (containerd
    /// platforms.DefaultSpec, cpuVariant).
    pub fn of_host(s: &str) -> Option<Platform> {
        Platform::parse(s).map(|mut p| {
            if p.architecture == "arm64" && p.variant.is_none() {
                p.variant = Some("v8".into());
            }
            p
        })
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Platform;

    #[test]
    fn platforms_parse_and_print() {
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(arm.to_string(), "linux/arm64/v8");
        assert!(Platform::parse("linux").is_none());
        assert_eq!(Platform::default().to_string(), "linux/amd64");
    }
}
