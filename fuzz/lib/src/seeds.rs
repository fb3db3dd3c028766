//! A plain `cargo fuzz run <target>` starts from the committed seeds.
//!
//! cargo-fuzz hands libFuzzer `fuzz/corpus/<target>/` (created empty, not in
//! git) as the corpus when none is named; the committed seeds live in
//! `corpus/<target>/` at the repository root, where `cargo test` replays
//! them against their manifests. Each shim's `init` calls [`seed_empty_corpus`]
//! before libFuzzer reads its corpus folders: if every folder it was given
//! is empty, the committed seeds are copied into the first one. A corpus a
//! user already has is never touched, new inputs never land in the
//! committed folder, and a binary run away from a checkout (OSS-Fuzz, which
//! ships the seeds as `<target>_seed_corpus.zip`) finds no seed folder and
//! does nothing.

use std::io;
use std::path::{Path, PathBuf};

/// The repository's committed seed folder of `target`
/// (`<repository>/corpus/<target>`), as this crate was built.
pub fn committed_seeds(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus")
        .join(target)
}

/// Copies the files of `seeds` into the first corpus folder named in
/// libFuzzer's command line `args` (the program name first, then flags
/// `-name=value`, then corpus folders or input files) when every folder
/// named there exists and is empty. Returns how many files it copied: 0 when
/// no folder was named (a run on files, `-merge=1` with inputs), when any
/// named folder has files, or when `seeds` does not exist.
///
/// # Errors
///
/// Reading `seeds` or the corpus folders, or copying a file, failed.
pub fn seed_empty_corpus(args: &[String], seeds: &Path) -> io::Result<usize> {
    let folders: Vec<&Path> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(Path::new)
        .collect();
    let Some(first) = folders.first() else {
        return Ok(0);
    };
    for folder in &folders {
        if !folder.is_dir() || std::fs::read_dir(folder)?.next().is_some() {
            return Ok(0);
        }
    }
    if !seeds.is_dir() {
        return Ok(0);
    }
    let mut copied = 0;
    for entry in std::fs::read_dir(seeds)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), first.join(entry.file_name()))?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// What each shim's `init` runs: [`seed_empty_corpus`] with this process's
/// arguments and [`committed_seeds`]`(target)`, reporting on stderr what it
/// copied (libFuzzer's own log is on stderr too). A failure is reported and
/// fuzzing goes on from whatever the folder holds.
pub fn init(target: &str) {
    let args: Vec<String> = std::env::args().collect();
    let seeds = committed_seeds(target);
    match seed_empty_corpus(&args, &seeds) {
        Ok(0) => {}
        Ok(n) => eprintln!(
            "INFO: {target}: the corpus folder was empty: copied the {n} committed seeds of {}",
            seeds.display()
        ),
        Err(e) => eprintln!(
            "WARNING: {target}: could not copy the committed seeds of {}: {e}",
            seeds.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dwc-seeds-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn args(list: &[&Path]) -> Vec<String> {
        let mut args = vec!["p1_smith".to_string(), "-max_total_time=5".to_string()];
        args.extend(list.iter().map(|p| p.display().to_string()));
        args
    }

    #[test]
    fn an_empty_corpus_folder_gets_the_committed_seeds() {
        let seeds = committed_seeds("p1_smith");
        let committed = std::fs::read_dir(&seeds).expect("committed seeds").count();
        assert!(committed > 0);
        let base = scratch("empty");
        let corpus = base.join("corpus");
        std::fs::create_dir(&corpus).expect("corpus dir");
        assert_eq!(
            seed_empty_corpus(&args(&[&corpus]), &seeds).expect("copies"),
            committed
        );
        assert_eq!(
            std::fs::read_dir(&corpus).expect("corpus").count(),
            committed
        );
        // A second start finds the folder full and copies nothing.
        assert_eq!(
            seed_empty_corpus(&args(&[&corpus]), &seeds).expect("no copy"),
            0
        );
        std::fs::remove_dir_all(&base).expect("clean up");
    }

    #[test]
    fn a_corpus_the_user_has_and_runs_on_files_are_left_alone() {
        let seeds = committed_seeds("p1_smith");
        let base = scratch("kept");
        let (empty, full) = (base.join("empty"), base.join("full"));
        std::fs::create_dir(&empty).expect("dir");
        std::fs::create_dir(&full).expect("dir");
        std::fs::write(full.join("mine"), b"x").expect("file");
        // Two folders, one with inputs: libFuzzer reads both, nothing to add.
        assert_eq!(
            seed_empty_corpus(&args(&[&empty, &full]), &seeds).expect("ok"),
            0
        );
        // A run on one input file, and a run with no folder at all.
        assert_eq!(
            seed_empty_corpus(&args(&[&full.join("mine")]), &seeds).expect("ok"),
            0
        );
        assert_eq!(seed_empty_corpus(&args(&[]), &seeds).expect("ok"), 0);
        // No seed folder (a binary away from its checkout).
        assert_eq!(
            seed_empty_corpus(&args(&[&empty]), &base.join("none")).expect("ok"),
            0
        );
        assert_eq!(std::fs::read_dir(&empty).expect("dir").count(), 0);
        assert_eq!(std::fs::read_dir(&full).expect("dir").count(), 1);
        std::fs::remove_dir_all(&base).expect("clean up");
    }

    #[test]
    fn every_target_has_committed_seeds() {
        let targets =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz_targets"))
                .expect("fuzz_targets");
        let mut count = 0;
        for shim in targets {
            let path = shim.expect("entry").path();
            let target = path
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).expect("shim");
            assert!(
                text.contains(&format!("seeds::init(\"{target}\")")),
                "{}: its init must seed an empty corpus with its own name",
                path.display()
            );
            let seeds = std::fs::read_dir(committed_seeds(&target))
                .expect("seed folder")
                .count();
            assert!(seeds > 0, "{target} has no committed seeds");
            count += 1;
        }
        assert!(count >= 9, "found {count} shims");
    }
}
