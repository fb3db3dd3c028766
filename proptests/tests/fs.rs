//! The virtual filesystem against its independent model (`proptests::fs`):
//! generated trees and call sequences, real guest calls on both preview1
//! backends and in fresh Stores.

use proptest::prelude::*;
use proptests::fs::check::check_fs_case;
use proptests::fs::strategies::case;
use proptests::{config, regressions};

proptest! {
    #![proptest_config(config(1024, regressions!("fs")))]

    /// Opens (create, exclusive, truncate, append, directory), reads and
    /// writes (positioned or not), seeks, size changes, listings (whole and
    /// truncated, from any cookie), mkdir, rmdir, unlink, rename, hard and
    /// symbolic links, readlink, stat with and without following, set_times
    /// and sleeps, on small trees full of name collisions and symlinks:
    /// every answer, and the final tree with all its metadata (inode
    /// numbers, link counts, sizes, times), equals the model's on both
    /// backends; a fresh Store gives the same fingerprint.
    #[test]
    fn fs_calls_match_the_model(case in case(32)) {
        let config = case.config();
        check_fs_case(&case, &config)?;
    }
}
