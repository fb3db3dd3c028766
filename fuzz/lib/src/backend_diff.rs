//! `backend_diff`: `p1_script` inputs on wasi-common and on wasmtime-wasi
//! must give the same observable results: every decoded script result
//! (random stream, clock values, sleeps, poll events, errnos), the exit
//! status and stdout/stderr. (Their stdio `fdstat` rights differ by design;
//! scripts do not read them.)

use crate::p1_script::{self, ScriptInput};
use arbitrary::Unstructured;
use deterministic_wasi_ctx::audit::Backend;

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let input = p1_script::input(u)?;
    check(&input);
    Ok(())
}

/// Compares the two backends on `input` (panics on a difference).
pub fn check(input: &ScriptInput) {
    let compiled = input.script.compile();
    let mut runs = p1_script::run_on(
        input,
        &compiled,
        &[Backend::WasmtimeWasi, Backend::WasiCommon],
    )
    .into_iter();
    let (a, ra) = runs.next().expect("a wasmtime-wasi run");
    let (b, rb) = runs.next().expect("a wasi-common run");
    let ops: Vec<_> = compiled.ops().cloned().collect();
    // Both backends trap at a clock call with an invalid id (a host error,
    // worded differently: see `ScriptInput::expected_end`): compare up to it.
    let (end, ran) = input.expected_end(&compiled);
    let (ra, rb) = (&ra[..ran], &rb[..ran]);
    let known = ran < ops.len()
        && p1_script::same_end(&a.status, &end)
        && p1_script::same_end(&b.status, &end);
    let difference = if a.status != b.status && !known {
        Some(format!(
            "status: wasmtime-wasi {}, wasi-common {}",
            a.status_text(),
            b.status_text()
        ))
    } else if let Some(i) = (0..ra.len()).find(|&i| ra[i] != rb[i]) {
        Some(format!(
            "op #{i} {:?}: wasmtime-wasi {:?}, wasi-common {:?}",
            ops[i], ra[i], rb[i]
        ))
    } else if !known && (a.stdout != b.stdout || a.stderr != b.stderr) {
        Some(format!(
            "output: wasmtime-wasi {:?}/{:?}, wasi-common {:?}/{:?}",
            a.stdout, a.stderr, b.stdout, b.stderr
        ))
    } else {
        None
    };
    // The wasmtime-wasi run's calls: the share of executions reaching WASI
    // (`DWC_FUZZ_STATS`) counts real calls, as for the other targets.
    crate::record(a.host_calls);
    if let Some(difference) = difference {
        panic!(
            "backend_diff: {difference}\ninput: {input:?}\nmodule:\n{}",
            compiled.wat()
        );
    }
}
