//! Which earlier run a new run is compared with.
//!
//! Every run of an audit must give the same fingerprint: runs of one
//! backend and strategy, strategies against each other, backends against
//! each other. Fingerprint equality is transitive, so comparing each new run
//! with one earlier *comparable* run is enough: a poisoned run (see
//! [`Status::Poisoned`](super::Status::Poisoned)) is not comparable, and is
//! never chosen as the reference, so a poisoned first run hides nothing
//! behind it.

use super::{Divergence, Fingerprint, RunLabel, first_difference_ignoring};

/// The earlier run `label` is compared with: the first non-poisoned earlier
/// run of the same backend and strategy, else of the same backend (another
/// strategy), else of any backend. `None` if every earlier run is poisoned
/// (or there is none).
pub(super) fn reference_for<'a>(
    earlier: &'a [(RunLabel, Fingerprint)],
    label: &RunLabel,
) -> Option<&'a (RunLabel, Fingerprint)> {
    let comparable = || earlier.iter().filter(|(_, f)| !f.is_poisoned());
    comparable()
        .find(|(l, _)| l.backend == label.backend && l.strategy == label.strategy)
        .or_else(|| comparable().find(|(l, _)| l.backend == label.backend))
        .or_else(|| comparable().next())
}

/// Compares a new run with its reference ([`reference_for`]) in every field
/// but the `ignored` ones; `None` if they agree, if the new run is
/// poisoned, or if there is no comparable earlier run.
pub(super) fn compare_with_earlier(
    earlier: &[(RunLabel, Fingerprint)],
    label: &RunLabel,
    fingerprint: &Fingerprint,
    ignored: &[String],
) -> Option<Divergence> {
    if fingerprint.is_poisoned() {
        return None;
    }
    let (reference, expected) = reference_for(earlier, label)?;
    first_difference_ignoring(expected, fingerprint, ignored).map(|difference| Divergence {
        expected: reference.clone(),
        actual: label.clone(),
        difference,
    })
}

#[cfg(test)]
mod tests;
