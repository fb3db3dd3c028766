//! Paths of the compiled guest programs (see `build.rs`): `P1_<NAME>` is the
//! wasm32-wasip1 core module, `P2_<NAME>` the wasm32-wasip2 component.
//!
//! ```
//! assert!(test_programs::PROGRAMS.iter().any(|(name, _, _)| *name == "random_bytes"));
//! ```

include!(concat!(env!("OUT_DIR"), "/programs.rs"));

/// Copies the guest program `from` to `DIR/KIND/NAME.wasm` (creating the
/// folder) and returns the new path: the short, stable paths the main job
/// (`.ci/audit.sh`) audits.
///
/// ```
/// let dir = std::env::temp_dir().join("test-programs-doc");
/// let (name, p1, _) = test_programs::PROGRAMS[0];
/// let copy = test_programs::copy_program(&dir, "wasip1", name, p1).unwrap();
/// assert_eq!(std::fs::read(copy).unwrap(), std::fs::read(p1).unwrap());
/// ```
pub fn copy_program(
    dir: &std::path::Path,
    kind: &str,
    name: &str,
    from: &str,
) -> std::io::Result<std::path::PathBuf> {
    let to = dir.join(kind).join(format!("{name}.wasm"));
    std::fs::create_dir_all(dir.join(kind))?;
    std::fs::copy(from, &to)?;
    Ok(to)
}
