//! The audit programs shipped inside the binary (`corpus/audit/*.wat`),
//! named `corpus:<file name>`: `audit` with no PATH audits them, and any
//! command takes such a name where it takes a path, so an installed binary
//! needs no checkout.

/// The prefix of a bundled program's name.
pub const PREFIX: &str = "corpus:";

/// Every bundled program: its file name under `corpus/audit/` and its text.
pub const PROGRAMS: &[(&str, &str)] = &[
    bundle!("args_environ.wat"),
    bundle!("clocks_sleep.wat"),
    bundle!("exit_status.wat"),
    bundle!("fuel_loop.wat"),
    bundle!("memory_grow_limit.wat"),
    bundle!("nan_bits.wat"),
    bundle!("p3_timers.wat"),
    bundle!("poll_mixed.wat"),
    bundle!("random_bytes.wat"),
    bundle!("relaxed_simd.wat"),
    bundle!("stack_overflow.wat"),
    bundle!("unstable_poll.wat"),
];

macro_rules! bundle {
    ($file:literal) => {
        (
            $file,
            // Relative to this file, not to the package: the wasmtime-50
            // adapter (adapters/wasmtime-50) builds this same source.
            include_str!(concat!("../../corpus/audit/", $file)),
        )
    };
}
use bundle;

/// The text of bundled program `name` (`corpus:<file name>`), or `None` if
/// `name` is not one.
pub fn text(name: &str) -> Option<&'static str> {
    let file = name.strip_prefix(PREFIX)?;
    PROGRAMS.iter().find(|(f, _)| *f == file).map(|(_, t)| *t)
}

/// The names of all bundled programs, sorted.
pub fn names() -> Vec<String> {
    PROGRAMS
        .iter()
        .map(|(f, _)| format!("{PREFIX}{f}"))
        .collect()
}

/// Bundled programs left out of the default set: they are POISONED by
/// design (their stack runs out where the host's does), so a default audit
/// can exit 0; each is still audited by name.
pub const NOT_BY_DEFAULT: &[&str] = &["stack_overflow.wat"];

/// What `audit` with no PATH audits: [`names`] but [`NOT_BY_DEFAULT`].
pub fn default_names() -> Vec<String> {
    PROGRAMS
        .iter()
        .filter(|(f, _)| !NOT_BY_DEFAULT.contains(f))
        .map(|(f, _)| format!("{PREFIX}{f}"))
        .collect()
}

#[cfg(test)]
mod tests {
    /// The repository's root: this package's directory, or two up from the
    /// wasmtime-50 adapter's (adapters/wasmtime-50).
    #[cfg(not(wasmtime_50))]
    const REPO: &str = env!("CARGO_MANIFEST_DIR");
    #[cfg(wasmtime_50)]
    const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

    /// The list is exactly `corpus/audit/`'s `.wat` files, sorted: a file
    /// added there and not here (or removed) fails.
    #[test]
    fn bundled_programs_are_the_corpus_directory() {
        let dir = std::path::Path::new(REPO).join("corpus/audit");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("corpus/audit")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".wat"))
            .collect();
        files.sort();
        let listed: Vec<&str> = super::PROGRAMS.iter().map(|(f, _)| *f).collect();
        assert_eq!(listed, files);
        assert_eq!(
            super::text("corpus:nan_bits.wat"),
            Some(super::PROGRAMS[5].1)
        );
        assert_eq!(super::text("nan_bits.wat"), None);
        assert_eq!(super::text("corpus:missing.wat"), None);
    }
}
