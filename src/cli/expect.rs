//! Pinned digests: `audit --expect-digest HEX` (one file) and
//! `--expect-digests FILE.json` (`{"PATH": "HEX", ...}`), so a user's CI
//! fails when a program's digest changes — on another machine, another
//! wasmtime patch release or another version of this crate.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The digests a run must reproduce, by path as given on the command line
/// (`corpus:<name>` for a bundled program).
#[derive(Debug, Default)]
pub struct Expected {
    /// Pinned digest (64 lowercase hex digits) by path.
    by_path: BTreeMap<String, String>,
    /// `--expect-digest`: the one digest the only audited file must have.
    single: Option<String>,
}

/// Why an audited file's digest is not the pinned one.
#[derive(Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The pinned digest.
    pub expected: String,
    /// The audit's digest.
    pub actual: String,
}

impl Expected {
    /// The pins given by `--expect-digest` and `--expect-digests`, checked
    /// against the files to audit.
    ///
    /// # Errors
    ///
    /// A digest that is not 64 hex digits, an unreadable or malformed JSON
    /// file, `--expect-digest` with other than exactly one file, or a JSON
    /// key naming no file to audit (a typo would otherwise pin nothing).
    pub fn new(
        single: Option<&str>,
        file: Option<&Path>,
        files: &[PathBuf],
    ) -> Result<Expected, String> {
        let mut expected = Expected::default();
        if let Some(hex) = single {
            if files.len() != 1 {
                return Err(format!(
                    "--expect-digest needs exactly one file to audit, not {}; \
                     use --expect-digests FILE.json for several",
                    files.len()
                ));
            }
            expected.single =
                Some(normalize(hex).map_err(|why| format!("--expect-digest: {why}"))?);
        }
        if let Some(file) = file {
            let context = |why: String| format!("--expect-digests {}: {why}", file.display());
            let text = std::fs::read(file).map_err(|e| context(e.to_string()))?;
            let value: Value = serde_json::from_slice(&text).map_err(|e| context(e.to_string()))?;
            let object = value
                .as_object()
                .ok_or_else(|| context("not a JSON object mapping paths to digests".into()))?;
            for (path, digest) in object {
                let digest = digest
                    .as_str()
                    .ok_or_else(|| context(format!("{path}: the digest is not a string")))
                    .and_then(|hex| {
                        normalize(hex).map_err(|why| context(format!("{path}: {why}")))
                    })?;
                if !files.iter().any(|f| f.to_string_lossy() == *path) {
                    return Err(context(format!(
                        "{path} is pinned but not audited (keys are paths as given to audit)"
                    )));
                }
                expected.by_path.insert(path.clone(), digest);
            }
        }
        Ok(expected)
    }

    /// Compares `path`'s digest (hex) with its pin, if it has one.
    pub fn check(&self, path: &Path, actual: &str) -> Result<(), Mismatch> {
        match self.pinned(path) {
            Some(expected) if expected != actual => Err(Mismatch {
                expected: expected.to_string(),
                actual: actual.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// The pinned digest of `path`, if any (for the JSON output).
    pub fn pinned(&self, path: &Path) -> Option<&str> {
        self.single.as_deref().or_else(|| {
            self.by_path
                .get(&*path.to_string_lossy())
                .map(String::as_str)
        })
    }
}

/// `hex` as 64 lowercase hex digits.
fn normalize(hex: &str) -> Result<String, String> {
    let hex = hex.trim().to_ascii_lowercase();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(format!(
            "`{hex}` is not a digest (64 hex digits, as `audit` prints)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "26563acf00000000000000000000000000000000000000000000000000050ac0";

    #[test]
    fn single_digest_needs_one_file_and_compares() {
        let one = [PathBuf::from("a.wat")];
        let two = [PathBuf::from("a.wat"), PathBuf::from("b.wat")];
        assert!(Expected::new(Some(A), None, &two).is_err());
        assert!(Expected::new(Some("26563acf"), None, &one).is_err());
        let expected = Expected::new(Some(&A.to_uppercase()), None, &one).unwrap();
        assert_eq!(expected.check(Path::new("a.wat"), A), Ok(()));
        let wrong = A.replace('2', "3");
        assert_eq!(
            expected.check(Path::new("a.wat"), &wrong),
            Err(Mismatch {
                expected: A.into(),
                actual: wrong
            })
        );
    }

    #[test]
    fn digest_file_pins_some_paths_and_rejects_unknown_ones() {
        let dir = std::env::temp_dir().join(format!("dwc-expect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("digests.json");
        let files = [PathBuf::from("corpus:nan_bits.wat"), PathBuf::from("b.wat")];
        std::fs::write(&file, format!(r#"{{"corpus:nan_bits.wat": "{A}"}}"#)).unwrap();
        let expected = Expected::new(None, Some(&file), &files).unwrap();
        assert_eq!(expected.check(Path::new("b.wat"), "00"), Ok(()));
        assert_eq!(expected.check(Path::new("corpus:nan_bits.wat"), A), Ok(()));
        assert!(
            expected
                .check(Path::new("corpus:nan_bits.wat"), "00")
                .is_err()
        );
        std::fs::write(&file, format!(r#"{{"typo.wat": "{A}"}}"#)).unwrap();
        let err = Expected::new(None, Some(&file), &files).unwrap_err();
        assert!(err.contains("typo.wat is pinned but not audited"), "{err}");
        std::fs::write(&file, "[1]").unwrap();
        assert!(Expected::new(None, Some(&file), &files).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
