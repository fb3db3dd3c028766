//! What an audit concludes: deterministic, diverged, or poisoned.

use super::{Fingerprint, Report, RunLabel};
use std::fmt;

/// The conclusion of an audit ([`Report::verdict`]).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::audit::{self, AuditConfig, Verdict};
///
/// // Unbounded recursion: where the native stack runs out depends on the host.
/// let wasm = wat::parse_str(r#"(module
///     (func $f (call $f))
///     (func (export "_start") (call $f)))"#)?;
/// let report = audit::audit(&wasm, &AuditConfig::default())?;
/// assert_eq!(report.verdict(), Verdict::Poisoned);
/// assert_eq!(report.verdict().name(), "poisoned");
/// # Ok::<(), wasmtime::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Every run gave the same fingerprint, and none was poisoned.
    Deterministic,
    /// Two runs differ ([`Report::divergence`]).
    Diverged,
    /// No two compared runs differ, but at least one run was poisoned (see
    /// [`Status::Poisoned`](super::Status::Poisoned)): it was not compared,
    /// so the audit cannot vouch for the program.
    Poisoned,
}

impl Verdict {
    /// The lowercase name used in JSON output: `deterministic`, `diverged`
    /// or `poisoned`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Deterministic => "deterministic",
            Verdict::Diverged => "diverged",
            Verdict::Poisoned => "poisoned",
        }
    }
}

impl fmt::Display for Verdict {
    /// The uppercase name used in text output (`DETERMINISTIC`, ...).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name().to_ascii_uppercase())
    }
}

impl Report {
    /// The audit's conclusion: [`Verdict::Diverged`] if there is a
    /// divergence, else [`Verdict::Poisoned`] if any run was poisoned, else
    /// [`Verdict::Deterministic`].
    pub fn verdict(&self) -> Verdict {
        if self.divergence.is_some() {
            Verdict::Diverged
        } else if self.first_poisoned().is_some() {
            Verdict::Poisoned
        } else {
            Verdict::Deterministic
        }
    }

    /// The first poisoned run, if any: its label and fingerprint (whose
    /// status says why, e.g. `poisoned (stack overflow)`).
    pub fn first_poisoned(&self) -> Option<&(RunLabel, Fingerprint)> {
        self.runs.iter().find(|(_, f)| f.is_poisoned())
    }

    /// How many runs were poisoned.
    pub fn poisoned_runs(&self) -> usize {
        self.runs.iter().filter(|(_, f)| f.is_poisoned()).count()
    }
}
