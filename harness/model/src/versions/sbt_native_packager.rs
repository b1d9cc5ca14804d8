//! sbt-native-packager's DockerPlugin (`sbt docker:publish`) inside a job: what it logs around
//! the `docker build` and `docker push` it runs. Facts: docs/research/sbt-native-packager.md
//! (read at the plugin's tags, DP = `src/main/scala/com/typesafe/sbt/packager/docker/DockerPlugin.scala`).
//!
//! What every modelled release shares (v1.2.0 – v1.4.x, DP's process loggers):
//! - the build runs `docker build --force-rm -t ALIAS .` in the staging directory; each non-blank
//!   stdout line of the CLI is logged `[info]`, each non-blank stderr line `[error]`, except
//!   stderr lines starting with `Sending build context` / `Uploading context` (debug);
//! - the push runs `docker push ALIAS`; stdout → `[info]` (a line starting `Please login` stops
//!   the logging and fails the task), stderr → `[error]`; success ends with `Published image ALIAS`;
//! - lines are read by Java's `BufferedReader.readLine`, which also ends a line at `\r`.

use super::{Era, era, lookup, v};
use regsim_wire::NotModelled;
use semver::Version;

/// The line publishLocal logs after a successful build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltImageLine {
    /// `Built image REPO/NAME:VERSION` (v1.2.0 – v1.3.5).
    Versioned,
    /// `Built image REPO/NAME with tags [T1, T2]` (v1.3.6 →, commit b805c7e8).
    WithTags,
}

impl BuiltImageLine {
    /// The text for one alias `name:tag`.
    pub fn text(self, name: &str, tag: &str) -> String {
        match self {
            BuiltImageLine::Versioned => format!("Built image {name}:{tag}"),
            BuiltImageLine::WithTags => format!("Built image {name} with tags [{tag}]"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PluginProfile {
    pub version: Version,
    pub built_image: BuiltImageLine,
    pub source: &'static str,
}

/// One row per era, oldest first; `None`: the era is known to differ in ways not modelled.
#[rustfmt::skip]
pub fn plugin_table() -> Vec<Era<Option<BuiltImageLine>>> {
    vec![
        era(v(1, 2, 0), Some(BuiltImageLine::Versioned),
            "sbt-native-packager v1.3.5 DP:120 `log.info(s\"Built image ${dockerAlias.value.versioned}\")`; loggers DP:308-326, 361-395 (sbt-native-packager.md §0, §1)"),
        era(v(1, 3, 6), Some(BuiltImageLine::WithTags),
            "sbt-native-packager v1.3.20 DP:188-190 (commit b805c7e8, #1138); loggers DP:456-474, 509-543 (sbt-native-packager.md §0, §1)"),
        era(v(1, 5, 0), None,
            "sbt-native-packager 1.5.0+ prunes intermediate images after the build (`Removing intermediate image(s)`), 1.8.0+ logs BuildKit output differently: not modelled (sbt-native-packager.md §1)"),
    ]
}

pub fn profile(version: &Version) -> Result<PluginProfile, NotModelled> {
    let table = plugin_table();
    let row = lookup(&table, version).ok_or_else(|| {
        NotModelled::new(format!(
            "sbt-native-packager {version}: releases before 1.2.0 are not in the research (sbt-native-packager.md)"
        ))
    })?;
    match row.value {
        Some(built_image) => Ok(PluginProfile {
            version: version.clone(),
            built_image,
            source: row.source,
        }),
        None => Err(NotModelled::new(format!(
            "sbt-native-packager {version}: {}",
            row.source
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_image_line_changed_in_1_3_6() {
        let p = |s: &str| profile(&crate::versions::parse_version(s).unwrap());
        assert_eq!(
            p("1.3.5").unwrap().built_image.text("h/a/b", "latest"),
            "Built image h/a/b:latest"
        );
        assert_eq!(
            p("1.3.20").unwrap().built_image.text("h/a/b", "latest"),
            "Built image h/a/b with tags [latest]"
        );
        assert!(p("1.1.6").is_err());
        assert!(p("1.8.1").is_err());
    }
}
