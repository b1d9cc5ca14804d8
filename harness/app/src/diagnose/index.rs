//! diagnose's knowledge kept between runs: the catalogue's simulated logs as patterns, written
//! once to a cache file and read back while nothing it was built from changed — the scenario
//! files (every byte) and this very binary (its path, size and modification time, so a rebuilt
//! regsim never reads an index an older one wrote). Reading it takes milliseconds where running
//! the catalogue takes most of a second.
//!
//! Where: `$REGSIM_CACHE_DIR`, else `$XDG_CACHE_HOME/regsim`, else `~/.cache/regsim`;
//! `REGSIM_CACHE_DIR=off` keeps no index. A cache that cannot be read or written is never an
//! error: diagnose then runs the catalogue, as without one.

use super::registry::RegistryClass;
use super::{Entry, Knowledge, ScenarioLine};
use crate::run::{Batch, collect};
use regsim_model::scenario::{FixSpec, Outcome};
use regsim_model::world::Executor;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The index's format; another one is rebuilt.
pub const FORMAT: &str = "regsim-diagnose-index/1";

#[derive(serde::Serialize, serde::Deserialize)]
struct IndexFile {
    format: String,
    key: String,
    entries: Vec<IndexEntry>,
    skipped: Vec<String>,
    fix_problems: Vec<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct IndexEntry {
    file: PathBuf,
    name: String,
    description: String,
    seed: Option<String>,
    fix: Option<FixSpec>,
    outcome: Outcome,
    runner: String,
    docker: String,
    executor: Executor,
    lines: Vec<ScenarioLine>,
    registries: BTreeSet<RegistryClass>,
}

/// The directory the index lives in, if any.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("REGSIM_CACHE_DIR") {
        Some(v) if v == "off" || v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(|x| PathBuf::from(x).join("regsim"))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/regsim"))),
    }
}

/// What the index was built from, hashed: this binary's identity and every scenario file.
fn key(dir: &Path) -> Result<String, String> {
    // Everything hashed at once (a catalogue is well under a megabyte).
    let mut h: Vec<u8> = Vec::new();
    h.extend_from_slice(FORMAT.as_bytes());
    h.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
    if let Ok(exe) = std::env::current_exe()
        && let Ok(meta) = std::fs::metadata(&exe)
    {
        h.extend_from_slice(exe.to_string_lossy().as_bytes());
        h.extend_from_slice(&meta.len().to_le_bytes());
        if let Ok(t) = meta
            .modified()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).map_err(std::io::Error::other))
        {
            h.extend_from_slice(&t.as_nanos().to_le_bytes());
        }
    }
    let mut files = collect(&[dir.to_path_buf()])?;
    files.sort();
    for f in &files {
        h.extend_from_slice(f.to_string_lossy().as_bytes());
        h.push(0);
        let bytes = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        h.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        h.extend_from_slice(&bytes);
    }
    Ok(sha256_hex(&h))
}

fn sha256_hex(b: &[u8]) -> String {
    let d = regsim_wire::digest::sha256_digest(b);
    d.trim_start_matches("sha256:").to_string()
}

/// The index file for a catalogue directory.
fn path_for(cache: &Path, dir: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let h = sha256_hex(abs.to_string_lossy().as_bytes());
    cache.join(format!("diagnose-{}.json", &h[..16]))
}

fn to_file(k: &Knowledge, key: String) -> IndexFile {
    IndexFile {
        format: FORMAT.into(),
        key,
        entries: k
            .entries
            .iter()
            .map(|e| IndexEntry {
                file: e.file.clone(),
                name: e.name.clone(),
                description: e.description.clone(),
                seed: e.seed.map(|s| s.id.to_string()),
                fix: e.fix.clone(),
                outcome: e.outcome,
                runner: e.runner.to_string(),
                docker: e.docker.to_string(),
                executor: e.executor,
                lines: e.lines.clone(),
                registries: e.registries.clone(),
            })
            .collect(),
        skipped: k.skipped.clone(),
        fix_problems: k.fix_problems.clone(),
    }
}

fn from_file(f: IndexFile) -> Option<Knowledge> {
    let mut k = Knowledge {
        skipped: f.skipped,
        fix_problems: f.fix_problems,
        ..Default::default()
    };
    for e in f.entries {
        let seed = match &e.seed {
            Some(id) => Some(regsim_model::seeds::Seed::find(id)?),
            None => None,
        };
        k.entries.push(Entry {
            file: e.file,
            name: e.name,
            description: e.description,
            seed,
            fix: e.fix,
            outcome: e.outcome,
            runner: semver::Version::parse(&e.runner).ok()?,
            docker: semver::Version::parse(&e.docker).ok()?,
            executor: e.executor,
            lines: e.lines,
            registries: e.registries,
        });
    }
    k.recount();
    Some(k)
}

/// Where the knowledge came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Read from the index.
    Index,
    /// The catalogue was run (and the index written, where it could be).
    Built,
}

impl Knowledge {
    /// The index's knowledge when it was built from exactly these files by this binary, else
    /// the catalogue run (and the index written for next time).
    pub async fn load_or_build(dir: &Path, batch: &Batch) -> Result<(Knowledge, Source), String> {
        let cache = cache_dir();
        let key = key(dir).ok();
        if let (Some(cache), Some(key)) = (&cache, &key) {
            let file = path_for(cache, dir);
            let read = std::fs::read(&file)
                .ok()
                .and_then(|b| serde_json::from_slice::<IndexFile>(&b).ok())
                .filter(|f| f.format == FORMAT && f.key == *key)
                .and_then(from_file);
            if let Some(mut k) = read {
                k.from_index = true;
                return Ok((k, Source::Index));
            }
        }
        let k = Knowledge::build_with(dir, batch).await?;
        if let (Some(cache), Some(key)) = (cache, key) {
            let file = path_for(&cache, dir);
            // Written beside and renamed, so a reader never sees half a file.
            let tmp = file.with_extension(format!("json.{}", std::process::id()));
            let written = std::fs::create_dir_all(&cache)
                .and_then(|_| serde_json::to_vec(&to_file(&k, key)).map_err(std::io::Error::other))
                .and_then(|b| std::fs::write(&tmp, b))
                .and_then(|_| std::fs::rename(&tmp, &file));
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
        }
        Ok((k, Source::Built))
    }
}
