//! The command's exit statuses, and which one wins when several files are
//! audited.

use deterministic_wasi_ctx::audit::Verdict;

/// An exit status, ordered from best to worst: auditing several files exits
/// with the worst one (`max`). Usage and load errors outrank a divergence,
/// which outranks a poisoned run, which outranks success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Every file deterministic (and a successful `trace` or child run).
    Deterministic,
    /// No divergence, but some run poisoned (stack overflow, host resource
    /// exhaustion): the audit cannot vouch for that file.
    Poisoned,
    /// Some file diverged, or its digest is not the one pinned with
    /// `--expect-digest` / `--expect-digests`.
    Diverged,
    /// A usage error, or a file that cannot be loaded.
    UsageOrLoadError,
}

impl ExitStatus {
    /// The process exit code: 0, 3, 1 and 2 respectively.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Deterministic => 0,
            ExitStatus::Diverged => 1,
            ExitStatus::UsageOrLoadError => 2,
            ExitStatus::Poisoned => 3,
        }
    }
}

impl ExitStatus {
    /// The status a process of this command ended with (`code`, `None`
    /// when a signal ended it): any code but 0, 1 and 3 counts as an error.
    pub fn from_code(code: Option<i32>) -> ExitStatus {
        match code {
            Some(0) => ExitStatus::Deterministic,
            Some(1) => ExitStatus::Diverged,
            Some(3) => ExitStatus::Poisoned,
            _ => ExitStatus::UsageOrLoadError,
        }
    }
}

impl From<Verdict> for ExitStatus {
    fn from(verdict: Verdict) -> ExitStatus {
        match verdict {
            Verdict::Deterministic => ExitStatus::Deterministic,
            Verdict::Diverged => ExitStatus::Diverged,
            Verdict::Poisoned => ExitStatus::Poisoned,
        }
    }
}
