//! `p1_smith`: wasm-smith modules importing preview1 (and some preview0)
//! functions, run on the backend the input picks with a small tree
//! preopened ([`crate::tree`], fds 3 and 4): two Stores on one Engine and a
//! third on a fresh Engine must give the same fingerprint, final trees
//! included ([`crate::check_fast`]).

use crate::{ContextInput, Flavor};
use arbitrary::Unstructured;
use deterministic_wasi_ctx::audit::{Backend, Outcome};

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    run_report(u).map(drop)
}

/// What one input decodes to: the backend, the context and the module, in
/// that order ([`crate::baseline`] decodes its input the same way, so both
/// run the same modules).
pub struct Input {
    /// The preview1 backend the module runs on.
    pub backend: Backend,
    /// The context's configuration.
    pub context: ContextInput,
    /// The wasm-smith module with its WASI-call prelude.
    pub wasm: Vec<u8>,
}

/// Decodes one input.
pub fn decode(u: &mut Unstructured) -> arbitrary::Result<Input> {
    Ok(Input {
        backend: crate::backend(u)?,
        context: u.arbitrary()?,
        wasm: crate::smith_module(u, Flavor::Cranelift)?,
    })
}

/// One execution, returning the reference outcome (for statistics).
pub fn run_report(u: &mut Unstructured) -> arbitrary::Result<Outcome> {
    let Input {
        backend,
        context,
        wasm,
    } = decode(u)?;
    let spec = crate::spec(context.config());
    let outcome = crate::check_fast("p1_smith", &wasm, backend, &spec, &(backend, &context));
    crate::record_paths(&outcome, &spec.config);
    Ok(outcome)
}
