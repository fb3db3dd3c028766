//! Computes with a file's time the way real programs (and a public WASI
//! conformance suite) do: creates `/stamp.txt` on the directory preopened as
//! `/`, reads its `mtim`, sets it to `mtim - 100 s`, reads it back and prints
//! both, in seconds after the Unix epoch. The subtraction is checked: with
//! the wall clock starting at the epoch a new file's `mtim` is 0, and the
//! program panics as those tests do (`mtim is less than 100 s after the
//! epoch`), so it passes only under a later wall-clock start
//! (`DeterminismConfig::wall_start`, the CLI's `--wall-start`).
use std::fs::{self, File};
use std::time::{Duration, UNIX_EPOCH};

fn main() {
    let file = File::create("/stamp.txt").expect("create /stamp.txt");
    let mtime = file.metadata().expect("metadata").modified().expect("mtim");
    let earlier = mtime
        .checked_sub(Duration::from_secs(100))
        .filter(|t| *t >= UNIX_EPOCH)
        .expect("mtim is less than 100 s after the epoch");
    file.set_modified(earlier).expect("set mtim");
    drop(file);
    let back = fs::metadata("/stamp.txt").expect("stat").modified().expect("mtim");
    let secs = |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    println!("mtim {} set {} read back {}", secs(mtime), secs(earlier), secs(back));
    assert_eq!(back, earlier, "the time read back is the time set");
}
