//! Stdio for the wasmtime backends: the [`CapturedOutput`] streams (the
//! core's) attached to a `wasmtime-wasi` builder or a `wasi-common` context.

mod pipe;
pub(crate) mod traced;

pub use deterministic_wasi_ctx_core::stdio::{CapturedOutput, DEFAULT_OUTPUT_LIMIT};

/// Gives `builder` stdin from `stdin`, and these streams as stdout and
/// stderr; with a `recorder`, their WASI 0.3 streams record every read and
/// write ([`traced`]).
pub(crate) fn attach_wasmtime(
    output: &CapturedOutput,
    builder: &mut wasmtime_wasi::WasiCtxBuilder,
    stdin: &[u8],
    recorder: Option<&crate::trace::Recorder>,
) {
    builder.stdin(traced::Stdin {
        pipe: wasmtime_wasi::p2::pipe::MemoryInputPipe::new(stdin.to_vec()),
        recorder: recorder.cloned(),
    });
    let traced = |name| recorder.map(|r| (r.clone(), name));
    builder.stdout(pipe::WasiPipe(
        output.stdout_pipe().clone(),
        traced(traced::STDOUT_WRITE),
    ));
    builder.stderr(pipe::WasiPipe(
        output.stderr_pipe().clone(),
        traced(traced::STDERR_WRITE),
    ));
}

/// Gives a wasi-common context stdin from `stdin`, and these streams as
/// stdout and stderr.
#[cfg(feature = "wasi-common")]
pub(crate) fn attach_common(output: &CapturedOutput, ctx: &wasi_common::WasiCtx, stdin: &[u8]) {
    use wasi_common::pipe::{ReadPipe, WritePipe};
    ctx.set_stdin(Box::new(ReadPipe::from(stdin.to_vec())));
    ctx.set_stdout(Box::new(WritePipe::new(output.stdout_pipe().clone())));
    ctx.set_stderr(Box::new(WritePipe::new(output.stderr_pipe().clone())));
}
