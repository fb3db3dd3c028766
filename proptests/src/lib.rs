//! Model-based property tests for `deterministic-wasi-ctx`.
//!
//! An independent reference [`model`] of the documented semantics (random
//! streams, the clock policies, `poll_oneoff` rules 1-5, preview2 timers) is
//! driven by the same generated operation sequences ([`strategies`]) as the
//! real contexts, which run them as real guest calls ([`run`]): compiled
//! `Script` modules on both preview1 backends, and the `p2_timers` guest
//! program ([`timers`]) as a component and as a preview1 module. The property
//! bodies live in [`checks`] so that the tests in `tests/bites.rs` can run
//! them against deliberately broken variants and show that they fail.
//!
//! Every property sets its case count explicitly with [`config`]; the
//! `PROPTEST_CASES` environment variable replaces it (to run more cases
//! locally). Failure seeds are persisted under `proptest-regressions/`.
#![deny(missing_docs)]

pub mod checks;
pub mod fs;
pub mod model;
pub mod run;
pub mod stack;
pub mod std_fs;
pub mod strategies;
pub mod timers;
pub mod waits;

use proptest::test_runner::{Config, FileFailurePersistence};
use std::time::Duration;

/// The most real time one generated case may take: a generous bound that
/// only a real-time sleep could exceed (this is not a benchmark).
pub const CASE_TIME_LIMIT: Duration = Duration::from_secs(10);

/// The regression file `proptest-regressions/<name>.txt` of this crate, as a
/// `&'static str` for [`config`].
#[macro_export]
macro_rules! regressions {
    ($name:literal) => {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/",
            $name,
            ".txt"
        )
    };
}

/// `cases`, unless the `PROPTEST_CASES` environment variable holds a number,
/// which then wins (proptest's `Config::with_cases` would ignore it).
pub fn cases(cases: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases)
}

/// The configuration of one property: [`cases`]`(cases)` cases, failures
/// persisted to `regressions` (see [`regressions!`]), everything else
/// proptest's default (itself read from the `PROPTEST_*` variables).
///
/// # Example
///
/// ```
/// let config = proptests::config(8, proptests::regressions!("example"));
/// assert!(config.cases > 0);
/// ```
pub fn config(cases: u32, regressions: &'static str) -> Config {
    Config {
        cases: self::cases(cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}
