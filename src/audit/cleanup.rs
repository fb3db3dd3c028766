//! Removing a stock run's host copies of its trees, on the caller's thread
//! (the default) or, when a long-running caller such as a fuzzer asks for
//! it, on a background thread.
//!
//! A stock run ([`RunSpec::stock`](super::RunSpec::stock)) writes each
//! preopened tree to a fresh host directory and removes it after the run.
//! On a journaled filesystem that other processes write to, removing (each
//! unlink frees the entry's blocks) can wait on the journal: `strace` of
//! `fs_diff` while another build ran put 11 ms of a 20 ms execution in
//! `unlinkat`. In the background the next run starts at once; the copies
//! are still made fresh for every run and each is still removed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Condvar, Mutex, OnceLock};

/// Directories waiting for the background thread at most; past that a
/// caller removes its own, so a burst cannot pile up disk space.
const BACKLOG: usize = 16;

static BACKGROUND: AtomicBool = AtomicBool::new(false);

/// Removes the host copies of later stock runs in this process on a
/// background thread (`true`) or on the caller's thread, before
/// [`Compiled::run`](super::Compiled::run) returns (`false`, the default).
///
/// In the background at most 16 copies wait at a time (beyond that a run
/// removes its own); [`wait_for_stock_copies`] returns when none is left.
/// Copies still waiting when the process exits stay in the temporary
/// directory (`dwc-stock-<pid>-<n>`): turn this on only in a long-running
/// process that removal slows down, such as a fuzzer comparing with stock.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::audit;
///
/// audit::remove_stock_copies_in_background(true);
/// // ... many stock runs ...
/// audit::wait_for_stock_copies();
/// audit::remove_stock_copies_in_background(false);
/// ```
pub fn remove_stock_copies_in_background(on: bool) {
    BACKGROUND.store(on, Ordering::Relaxed);
}

/// Returns once every host copy handed to the background thread
/// ([`remove_stock_copies_in_background`]) is removed.
pub fn wait_for_stock_copies() {
    let (pending, removed) = &PENDING;
    let mut count = pending.lock().unwrap_or_else(|e| e.into_inner());
    while *count > 0 {
        count = removed.wait(count).unwrap_or_else(|e| e.into_inner());
    }
}

/// Copies handed over and not yet removed, and the signal of each removal.
static PENDING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// Removes `dirs`, now or in the background (see
/// [`remove_stock_copies_in_background`]).
pub(super) fn remove(dirs: Vec<PathBuf>) {
    if dirs.is_empty() {
        return;
    }
    let dirs = match BACKGROUND.load(Ordering::Relaxed).then(sender).flatten() {
        Some(sender) => {
            *PENDING.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            match sender.try_send(dirs) {
                Ok(()) => return,
                Err(TrySendError::Full(dirs) | TrySendError::Disconnected(dirs)) => {
                    done();
                    dirs
                }
            }
        }
        None => dirs,
    };
    remove_now(&dirs);
}

fn remove_now(dirs: &[PathBuf]) {
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// One handed-over batch is gone.
fn done() {
    let (pending, removed) = &PENDING;
    let mut count = pending.lock().unwrap_or_else(|e| e.into_inner());
    *count = count.saturating_sub(1);
    removed.notify_all();
}

/// The background thread's queue, started on first use (`None` if no
/// thread could be started: the caller then removes its own).
fn sender() -> Option<SyncSender<Vec<PathBuf>>> {
    static SENDER: OnceLock<Option<Mutex<SyncSender<Vec<PathBuf>>>>> = OnceLock::new();
    let sender = SENDER.get_or_init(|| {
        let (sender, receiver) = sync_channel::<Vec<PathBuf>>(BACKLOG);
        std::thread::Builder::new()
            .name("dwc-stock-cleanup".into())
            .spawn(move || {
                for dirs in receiver {
                    remove_now(&dirs);
                    done();
                }
            })
            .ok()
            .map(|_| Mutex::new(sender))
    });
    sender
        .as_ref()
        .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Handed to the background thread, a directory is gone once
    /// [`wait_for_stock_copies`] returns; on the caller's thread, at once.
    #[test]
    fn copies_are_removed_in_either_mode() {
        let base = std::env::temp_dir().join(format!("dwc-cleanup-test-{}", std::process::id()));
        let make = |name: &str| {
            let dir = base.join(name);
            std::fs::create_dir_all(dir.join("sub")).unwrap();
            std::fs::write(dir.join("sub/file"), "x").unwrap();
            dir
        };
        let now = make("now");
        remove(vec![now.clone()]);
        assert!(!now.exists());
        remove_stock_copies_in_background(true);
        let later: Vec<_> = (0..40).map(|i| make(&format!("later-{i}"))).collect();
        for dir in &later {
            remove(vec![dir.clone()]);
        }
        wait_for_stock_copies();
        remove_stock_copies_in_background(false);
        assert!(later.iter().all(|dir| !dir.exists()));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
