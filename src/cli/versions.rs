//! `audit --wasmtime`: which wasmtime majors a program runs on, and where
//! the builds for the other majors are.
//!
//! One binary links one wasmtime. The same source is built once per major
//! (`deterministic-wasi-ctx` on 46, `deterministic-wasi-ctx-50` on 50, see
//! README "Wasmtime versions"), and a run on another major is a child
//! process of that major's binary, given the same inputs as a
//! `--processes` child ([`super::child`]).

use deterministic_wasi_ctx::audit::Backend;
use deterministic_wasi_ctx::engine::WASMTIME_MAJOR;
use std::path::PathBuf;

/// Every wasmtime major the project builds this command for, with the
/// binary's name.
pub const BUILDS: [(u32, &str); 2] = [
    (46, "deterministic-wasi-ctx"),
    (50, "deterministic-wasi-ctx-50"),
];

/// The majors `--wasmtime` selects, this binary's first.
pub fn parse(value: &str) -> Result<Vec<u32>, String> {
    if value == "all" {
        let mut all = vec![WASMTIME_MAJOR];
        all.extend(
            BUILDS
                .iter()
                .map(|(m, _)| *m)
                .filter(|m| *m != WASMTIME_MAJOR),
        );
        return Ok(all);
    }
    let known = || {
        let names: Vec<String> = BUILDS.iter().map(|(m, _)| m.to_string()).collect();
        names.join(", ")
    };
    match value.parse::<u32>() {
        Ok(major) if BUILDS.iter().any(|(m, _)| *m == major) => Ok(vec![major]),
        _ => Err(format!(
            "`{value}` is not a wasmtime version this project builds: use {} or all",
            known()
        )),
    }
}

/// Whether the build for `major` has `backend` (wasi-common ended with
/// wasmtime 46).
pub fn has_backend(major: u32, backend: Backend) -> bool {
    backend == Backend::WasmtimeWasi || major <= 46
}

/// The binary built for `major`: `DWC_WASMTIME_<major>` if set, else the
/// binary's name next to this one.
///
/// # Errors
///
/// One line saying where it was looked for and how to build it.
pub fn binary(major: u32) -> Result<PathBuf, String> {
    let Some((_, name)) = BUILDS.iter().find(|(m, _)| *m == major) else {
        return Err(format!("wasmtime {major} is not built by this project"));
    };
    let variable = format!("DWC_WASMTIME_{major}");
    if let Some(path) = std::env::var_os(&variable) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{variable}={}: no such file (the wasmtime {major} build of this command)",
                path.display()
            ))
        };
    }
    let here = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let sibling = here.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if sibling.is_file() {
        return Ok(sibling);
    }
    Err(format!(
        "--wasmtime {major}: the wasmtime {major} build of this command ({name}) is neither \
         next to this binary ({}) nor named by {variable}; build it (README, \"Wasmtime versions\")",
        sibling.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_starts_with_this_major_and_names_every_build() {
        let all = parse("all").unwrap();
        assert_eq!(all[0], WASMTIME_MAJOR);
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(sorted, [46, 50]);
        assert_eq!(parse("50").unwrap(), [50]);
        assert!(parse("47").unwrap_err().contains("use 46, 50 or all"));
        assert!(parse("").is_err());
    }

    #[test]
    fn wasi_common_is_only_on_46() {
        assert!(has_backend(50, Backend::WasmtimeWasi));
        assert!(has_backend(46, Backend::WasmtimeWasi));
        #[cfg(feature = "wasi-common")]
        {
            assert!(has_backend(46, Backend::WasiCommon));
            assert!(!has_backend(50, Backend::WasiCommon));
        }
    }
}
