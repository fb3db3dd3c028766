//! Which files to audit, and loading them.

use super::bundled;
use std::path::{Path, PathBuf};

/// The files named by `paths` (directories expanded, sorted; a bundled
/// program by its `corpus:` name), or with no paths the bundled corpus
/// (but the programs POISONED by design: [`bundled::default_names`]).
/// Missing paths are reported in `Err` together with the files that were
/// found.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, (Vec<PathBuf>, Vec<String>)> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    if paths.is_empty() {
        files.extend(bundled::default_names().into_iter().map(PathBuf::from));
    }
    for path in paths {
        let name = path.to_string_lossy();
        if name.starts_with(bundled::PREFIX) {
            match bundled::text(&name) {
                Some(_) => files.push(path.clone()),
                None => errors.push(format!(
                    "{name}: no such bundled program (they are: {})",
                    bundled::names().join(", ")
                )),
            }
        } else if path.is_dir() {
            expand(path, &mut files, &mut errors);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            errors.push(format!("{}: no such file or directory", path.display()));
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err((files, errors))
    }
}

/// Every `.wasm` and `.wat` file under `dir`, recursively, sorted.
fn expand(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            expand(&path, files, errors);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("wasm" | "wat")
        ) {
            files.push(path);
        }
    }
}

/// The binary WebAssembly in `path`, or of the bundled program it names
/// (`.wat` text is translated).
pub fn load(path: &Path) -> Result<Vec<u8>, String> {
    if let Some(text) = bundled::text(&path.to_string_lossy()) {
        return wat::parse_str(text).map_err(|e| format!("invalid text format: {e}"));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    if path.extension().is_some_and(|e| e == "wat") {
        return wat::parse_bytes(&bytes)
            .map(|b| b.into_owned())
            .map_err(|e| {
                format!(
                    "invalid text format: {}",
                    e.to_string().lines().next().unwrap_or("")
                )
            });
    }
    Err("not a WebAssembly binary (no \\0asm header) and not a .wat file".into())
}

/// `--export-fs DIR` must be new or empty (nothing is ever overwritten).
pub fn check_export_dir(dir: &Path) -> Result<(), String> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            Some(_) => Err("exists and is not empty".into()),
            None => Ok(()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Writes `outcome`'s final trees to DIR/<file name>/<guest path>/ (`/` as
/// `root`, other slashes as `_`).
pub fn export_trees(
    dir: &Path,
    program: &Path,
    outcome: &deterministic_wasi_ctx::audit::Outcome,
) -> Result<(), String> {
    let name = program
        .file_name()
        .map_or_else(|| "program".into(), |n| n.to_string_lossy().into_owned());
    for (guest, tree) in &outcome.filesystems {
        let trimmed = guest.trim_matches('/').replace('/', "_");
        let leaf = if trimmed.is_empty() {
            "root".to_string()
        } else {
            trimmed
        };
        let target = dir.join(&name).join(leaf);
        tree.export(&target)
            .map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}
