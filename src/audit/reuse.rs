//! Reusing a stock run's host copies of its trees: a long-running caller
//! (a fuzzer comparing with stock) can have each run's directories reset
//! to the next run's trees instead of written fresh and removed.
//!
//! A stock run ([`RunSpec::stock`](super::RunSpec::stock)) needs a host
//! directory per preopened tree holding the tree's names, types, contents
//! and symlink targets. Writing one fresh per run and removing it after
//! cost `fs_diff` most of an execution on this project's ext4: each
//! inode allocated after thousands of recent removals scans past them.
//! [`FsTree::reset`](crate::fs::FsTree::reset) makes a directory the last
//! run left hold the next tree, creating and removing only what that run
//! changed; what stock can see of it is what it sees of a fresh export,
//! but the host's metadata (inode numbers, times, a directory's size, the
//! order of a listing), which the comparisons with stock leave out.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Directories kept per preopen position at most; more are removed.
const KEPT: usize = 4;

static REUSE: AtomicBool = AtomicBool::new(false);

/// Kept directories, by the position of the preopen they served.
static POOL: Mutex<Vec<Vec<PathBuf>>> = Mutex::new(Vec::new());

/// Later stock runs in this process reset the host directories of earlier
/// ones to their trees (`true`) instead of writing fresh ones and removing
/// them after (`false`, the default).
///
/// A directory serves one run at a time and goes back to a pool after it
/// (at most 4 per preopen position). Directories still kept when the
/// process exits stay in the temporary directory (`dwc-stock-<pid>-<n>`);
/// [`remove_kept_stock_copies`] removes them. Turn this on only in a
/// long-running process whose comparisons with stock leave out the host's
/// metadata, such as a fuzzer.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::audit;
///
/// audit::reuse_stock_copies(true);
/// // ... many stock runs ...
/// audit::reuse_stock_copies(false);
/// audit::remove_kept_stock_copies();
/// ```
pub fn reuse_stock_copies(on: bool) {
    REUSE.store(on, Ordering::Relaxed);
}

/// Removes every directory kept for reuse ([`reuse_stock_copies`]).
pub fn remove_kept_stock_copies() {
    let kept: Vec<PathBuf> = lock().drain(..).flatten().collect();
    super::cleanup::remove(kept);
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Vec<PathBuf>>> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A kept directory for the preopen at `position`, when reuse is on.
pub(super) fn take(position: usize) -> Option<PathBuf> {
    if !REUSE.load(Ordering::Relaxed) {
        return None;
    }
    let dir = lock().get_mut(position).and_then(Vec::pop);
    #[cfg(test)]
    RESETS.fetch_add(usize::from(dir.is_some()), Ordering::Relaxed);
    dir
}

/// Kept directories taken so far (for the tests).
#[cfg(test)]
static RESETS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The directories a run used, by preopen position: kept for reuse when
/// it is on and there is room, else removed.
pub(super) fn give_back(dirs: Vec<PathBuf>) {
    let mut removed = Vec::new();
    if REUSE.load(Ordering::Relaxed) {
        let mut pool = lock();
        for (position, dir) in dirs.into_iter().enumerate() {
            if pool.len() <= position {
                pool.resize_with(position + 1, Vec::new);
            }
            if pool[position].len() < KEPT {
                pool[position].push(dir);
            } else {
                removed.push(dir);
            }
        }
    } else {
        removed = dirs;
    }
    super::cleanup::remove(removed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeterminismConfig;
    use crate::audit::{Backend, Compiled, RunSpec};
    use crate::fs::VirtualFs;

    /// A run that adds a file and changes another, then a run of another
    /// tree on the kept directory: the second stock run sees exactly its
    /// own tree (read back after it: nothing of the first run is left),
    /// and answers as on a fresh copy. The module writes `junk` and
    /// rewrites `a`; its second run's tree has no `a` at all, and is
    /// read-only, so that run's writes fail and leave the tree as reset.
    #[test]
    fn a_kept_copy_holds_exactly_the_next_runs_tree() {
        let wat = r#"(module
          (import "wasi_snapshot_preview1" "path_open"
            (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "junk")
          (data (i32.const 8) "a")
          (data (i32.const 16) "\20\00\00\00\03\00\00\00")
          (data (i32.const 32) "xyz")
          (func (export "_start")
            ;; creat `junk` and `a` (trunc), write "xyz" to each.
            (drop (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 4)
              (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 100)))
            (drop (call $write (i32.load (i32.const 100)) (i32.const 16) (i32.const 1) (i32.const 104)))
            (drop (call $open (i32.const 3) (i32.const 0) (i32.const 8) (i32.const 1)
              (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 100)))
            (drop (call $write (i32.load (i32.const 100)) (i32.const 16) (i32.const 1) (i32.const 104)))))"#;
        let engine = crate::engine::deterministic_engine().unwrap();
        let compiled = Compiled::new(&engine, &wat::parse_str(wat).unwrap()).unwrap();
        let run = |config: DeterminismConfig| {
            let spec = RunSpec {
                config,
                fuel: 10_000_000,
                max_events: 100,
                stock: true,
                keep_memory: false,
                writes_from_signatures: false,
                replay: None,
            };
            let outcome = compiled.run(&engine, Backend::WasmtimeWasi, &spec);
            let (_, tree) = &outcome.filesystems[0];
            tree.walk()
                .into_iter()
                .map(|e| {
                    (
                        String::from_utf8_lossy(&e.path).into_owned(),
                        format!("{:?}", e.content),
                    )
                })
                .collect::<Vec<_>>()
        };
        let first = || VirtualFs::new().file("a", "hello").dir("d");
        let second = || VirtualFs::new().file("d/b", "2");
        let writable = |fs| run(DeterminismConfig::new().preopen("/", fs));
        let read_only = |fs| run(DeterminismConfig::new().preopen_read_only("/", fs));
        reuse_stock_copies(true);
        let resets = RESETS.load(Ordering::Relaxed);
        let reused = (writable(first()), read_only(second()));
        assert!(
            RESETS.load(Ordering::Relaxed) > resets,
            "the second run reset a kept copy"
        );
        reuse_stock_copies(false);
        remove_kept_stock_copies();
        let fresh = (writable(first()), read_only(second()));
        assert_eq!(reused, fresh);
        let names: Vec<&str> = fresh.0.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(names, ["", "a", "d", "junk"]);
        let names: Vec<&str> = reused.1.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(names, ["", "d", "d/b"], "nothing of the first run is left");
    }
}
