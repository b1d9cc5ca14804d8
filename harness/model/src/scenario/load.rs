use super::input::{self, AtOffset};
use super::printable::one_line;
use super::{Scenario, structure};
use std::fmt;
use std::path::{Path, PathBuf};

/// A scenario that could not be read: always names the file, and the line, column and field
/// when the YAML parser or a semantic check can tell.
#[derive(Debug, Clone)]
pub struct ScenarioError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted path of the offending field, e.g. `projects[1].job_token_allowlist.enabled`.
    pub field: Option<String>,
    pub message: String,
}

/// One line; the file's name, the field and the message quote the scenario, so control
/// characters in them are printed as escapes.
impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", one_line(&self.file.display().to_string()))?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{}`", one_line(field))?;
        }
        write!(f, ": {}", one_line(&self.message))
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    /// A semantic error found after parsing: located by walking the YAML text to `field`.
    /// A field the file leaves out (a required setting it needs) is located at the nearest
    /// enclosing field it has: where the missing one belongs.
    pub fn at(file: &Path, text: &str, field: &str, message: impl Into<String>) -> Self {
        let (line, column) = match locate_or_parent(text, field) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        ScenarioError {
            file: file.to_path_buf(),
            line,
            column,
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// An error in the file's bytes, located at their offset.
    fn at_offset(file: &Path, bytes: &[u8], e: AtOffset) -> Self {
        let (line, column) = input::line_and_column(bytes, e.offset);
        ScenarioError {
            file: file.to_path_buf(),
            line: Some(line),
            column: Some(column),
            field: None,
            message: e.error.to_string(),
        }
    }
}

/// Where `field` is, or else its nearest enclosing field (`job.docker_client` → `job`).
fn locate_or_parent(text: &str, field: &str) -> Option<(usize, usize)> {
    let mut path = field;
    loop {
        if let Some(found) = super::locate(text, path) {
            return Some(found);
        }
        let cut = path.rfind(['.', '['])?;
        path = &path[..cut];
    }
}

/// Reads a scenario file: its bytes checked (size, encoding, characters) before any parser sees
/// them. Returns the scenario and its text (without a byte-order mark), to locate later errors.
pub fn load_file(path: &Path) -> Result<(Scenario, String), ScenarioError> {
    let bytes = input::read_capped(path).map_err(|e| ScenarioError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        field: None,
        message: format!("cannot read: {e}"),
    })?;
    load_bytes(path, &bytes)
}

/// A scenario from a file's bytes (`path` names it in errors): decoded, checked and parsed as
/// `load_file` does.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<(Scenario, String), ScenarioError> {
    let text = input::decode(bytes).map_err(|e| ScenarioError::at_offset(path, bytes, e))?;
    let s = load_str(path, text)?;
    check_fix(path, text, &s)?;
    Ok((s, text.to_string()))
}

/// `fix:` belongs to a failing scenario, and its `scenario` is the file name of a scenario in the
/// same directory. That the file exists and succeeds is checked where the catalogue is read
/// (`regsim diagnose`, tests/diagnose.rs), not here: scenario files are copied elsewhere (matrix
/// and version walks write them to a temporary directory) and must still load.
fn check_fix(path: &Path, text: &str, s: &Scenario) -> Result<(), ScenarioError> {
    let Some(fix) = &s.fix else { return Ok(()) };
    if s.expect.outcome == super::Outcome::Succeeds {
        return Err(ScenarioError::at(
            path,
            text,
            "fix",
            "a scenario that expects the job to succeed has nothing to fix",
        ));
    }
    if fix.text.trim().is_empty() {
        return Err(ScenarioError::at(path, text, "fix.text", "the fix is empty"));
    }
    if let Some(name) = &fix.scenario
        && (name.contains(['/', '\\']) || !(name.ends_with(".yaml") || name.ends_with(".yml")))
    {
        return Err(ScenarioError::at(
            path,
            text,
            "fix.scenario",
            format!("`{name}`: expected the file name of a scenario in the same directory (NAME.yaml)"),
        ));
    }
    Ok(())
}

/// The scenario a `fix.scenario` names, read: `Err` when it is missing, broken or does not
/// expect the job to succeed.
pub fn check_fix_scenario(path: &Path, name: &str) -> Result<(), String> {
    let target = path.parent().unwrap_or(Path::new(".")).join(name);
    match load_file(&target) {
        Ok((f, _)) if f.expect.outcome == super::Outcome::Succeeds => Ok(()),
        Ok(_) => Err(format!("fix scenario `{name}` expects the job to fail")),
        Err(e) => Err(format!("fix scenario `{name}`: {e}")),
    }
}

/// Parses a scenario's text: first its size and characters, then its structure (one document,
/// bounded nesting, unique keys), then the fields.
pub fn load_str(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let text = input::check_text(text).map_err(|e| ScenarioError::at_offset(path, text.as_bytes(), e))?;
    structure::check(text).map_err(|f| ScenarioError {
        file: path.to_path_buf(),
        line: Some(f.line),
        column: Some(f.column),
        field: f.field.filter(|p| !p.is_empty()),
        message: f.error.to_string(),
    })?;
    deserialize(path, text)
}

fn deserialize(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, Scenario>(de).map_err(|e| {
        // serde_path_to_error writes `?` for a position it cannot name (inside a parse error).
        let field = e
            .path()
            .to_string()
            .trim_end_matches(".?")
            .trim_end_matches('?')
            .to_string();
        let field = if field.is_empty() { ".".to_string() } else { field };
        let inner = e.into_inner();
        let loc = inner.location();
        // serde_yaml_ng appends " at line L column C" to its messages; we print the location first.
        let mut message = inner.to_string();
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        // …and may start with the field's or its parent's path, which `field` already says.
        let parent = field.rsplit_once('.').map(|(p, _)| p.to_string());
        for prefix in [Some(field.clone()), parent].into_iter().flatten() {
            if let Some(rest) = message.strip_prefix(&format!("{prefix}: ")) {
                message = rest.to_string();
                break;
            }
        }
        let (mut line, mut column) = (loc.as_ref().map(|l| l.line()), loc.as_ref().map(|l| l.column()));
        if line.is_none()
            && field != "."
            && let Some((l, c)) = super::locate(text, &field)
        {
            line = Some(l);
            column = Some(c);
        }
        ScenarioError {
            file: path.to_path_buf(),
            line,
            column,
            field: if field == "." { None } else { Some(field) },
            message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ScenarioError {
        load_str(Path::new("broken.yaml"), text).unwrap_err()
    }

    const MINIMAL: &str = "description: d\ngitlab:\n  version: 16.2.7\n  external_url: https://gitlab.example.com\n  registry: r.example.com\njob:\n  project: a/b\n  user: u\n  image: r.example.com/a/b/i:1\nrunner:\n  version: 16.2.0\ndocker:\n  version: 20.10.24\nexpect:\n  outcome: fails\n";

    #[test]
    fn minimal_parses() {
        load_str(Path::new("ok.yaml"), MINIMAL).unwrap();
    }

    #[test]
    fn unknown_key_names_line_column_and_field() {
        let e = err(&MINIMAL.replace("  user: u\n", "  user: u\n  imagee: x\n"));
        assert_eq!(e.line, Some(9), "{e}");
        assert_eq!(e.field.as_deref(), Some("job.imagee"), "{e}");
        assert!(e.message.starts_with("unknown field `imagee`"), "{e}");
        assert!(
            e.to_string()
                .starts_with("broken.yaml:9:3: field `job.imagee`: unknown field"),
            "{e}"
        );
    }

    #[test]
    fn wrong_enum_value_names_the_field() {
        let e = err(&MINIMAL.replace("outcome: fails", "outcome: maybe"));
        assert_eq!(e.field.as_deref(), Some("expect.outcome"), "{e}");
        assert_eq!(e.line, Some(15), "{e}");
    }

    #[test]
    fn bad_yaml_is_located() {
        let e = err("description: [unclosed\n");
        assert!(e.line.is_some(), "{e}");
    }
}
