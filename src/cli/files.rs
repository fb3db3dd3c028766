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

/// Where [`export_trees`] wrote one program's trees (for the manifest).
pub struct Exported {
    /// The program as given to audit.
    program: String,
    /// Its folder under the export directory.
    folder: String,
    /// `(guest path, folder under the program's folder)` per tree.
    trees: Vec<(String, String)>,
}

/// Writes `outcome`'s final trees to `DIR/<n>-<file name>/<m>-<guest
/// path>/`: `n` is the program's position among the audited files and `m`
/// the preopen's position (both from 1), so that no two programs and no two
/// preopens share a folder (`wasip1/x.wasm` and `wasip2/x.wasm`, guest
/// paths `/a/b` and `/a_b`); the names after the numbers are only a hint
/// (`/` as `root`, other bytes than ASCII letters, digits, `.`, `_` and `-`
/// as `_`). [`write_manifest`] records the exact paths.
pub fn export_trees(
    dir: &Path,
    index: usize,
    program: &Path,
    outcome: &deterministic_wasi_ctx::audit::Outcome,
) -> Result<Exported, String> {
    let name = program
        .file_name()
        .map_or_else(|| "program".into(), |n| n.to_string_lossy().into_owned());
    let folder = format!("{index}-{}", hint(&name));
    let base = dir.join(&folder);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::create_dir(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let mut trees = Vec::new();
    for (position, (guest, tree)) in outcome.filesystems.iter().enumerate() {
        let trimmed = guest.trim_matches('/');
        let leaf = if trimmed.is_empty() { "root" } else { trimmed };
        let leaf = format!("{}-{}", position + 1, hint(leaf));
        let target = base.join(&leaf);
        tree.export(&target)
            .map_err(|e| format!("{}: {e}", target.display()))?;
        trees.push((guest.clone(), leaf));
    }
    Ok(Exported {
        program: program.to_string_lossy().into_owned(),
        folder,
        trees,
    })
}

/// A name made safe for a folder: at most 64 bytes of ASCII letters,
/// digits, `.`, `_` and `-`, every other character as `_`.
fn hint(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

/// Writes `DIR/manifest.json`: `{"programs": [{"path": <as given to audit>,
/// "folder": "1-x.wasm", "trees": [{"guest": "/", "folder": "1-root"},
/// ...]}, ...]}`, the programs in audit order.
pub fn write_manifest(dir: &Path, exported: &[Exported]) -> Result<(), String> {
    let programs: Vec<serde_json::Value> = exported
        .iter()
        .map(|e| {
            let trees: Vec<serde_json::Value> = e
                .trees
                .iter()
                .map(|(guest, folder)| serde_json::json!({"guest": guest, "folder": folder}))
                .collect();
            serde_json::json!({"path": e.program, "folder": e.folder, "trees": trees})
        })
        .collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "programs": programs }))
        .map_err(|e| e.to_string())?;
    let path = dir.join("manifest.json");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut file| {
            use std::io::Write as _;
            file.write_all(text.as_bytes())
        })
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::hint;

    #[test]
    fn hints_keep_safe_characters_only() {
        assert_eq!(hint("x.wasm"), "x.wasm");
        assert_eq!(hint("a/b c:é"), "a_b_c__");
        assert_eq!(hint(&"y".repeat(100)).len(), 64);
    }
}
