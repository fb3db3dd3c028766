//! `p1_smith`: wasm-smith modules importing preview1 (and some preview0)
//! functions, run on the backend the input picks with a small tree
//! preopened ([`crate::tree`], fds 3 and 4): two Stores on one Engine and a
//! third on a fresh Engine must give the same fingerprint, final trees
//! included ([`crate::check_fast`]).

use crate::{ContextInput, Flavor};
use arbitrary::Unstructured;
use deterministic_wasi_ctx::audit::Outcome;

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    run_report(u).map(drop)
}

/// One execution, returning the reference outcome (for statistics).
pub fn run_report(u: &mut Unstructured) -> arbitrary::Result<Outcome> {
    let backend = crate::backend(u)?;
    let context: ContextInput = u.arbitrary()?;
    let wasm = crate::smith_module(u, Flavor::Cranelift)?;
    let spec = crate::spec(context.config());
    let outcome = crate::check_fast("p1_smith", &wasm, backend, &spec, &(backend, &context));
    crate::record_paths(&outcome, &spec.config);
    Ok(outcome)
}
