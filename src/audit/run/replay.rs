//! A run answered from a record-and-replay log ([`crate::replay`]), and a
//! recording: a stock run whose calls also go to a log.

use super::{
    ComponentImports, Host, RunSpec, exit_status, finish, finish_component, run_stock_module,
    run_stock_traced, start, store,
};
use crate::audit::outcome::{Outcome, Status};
use crate::replay::{Failure, LogEnd, LogError, LogWriter, ProgramKind, Replayer};
use crate::trace::p1::Direct;
use crate::trace::{self, CallResult, Recorder};
use std::io::{BufReader, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use wasmtime::component::{Component, Linker as ComponentLinker};
use wasmtime::{Engine, Linker, Module};

/// How a run ended, as a log's end record has it.
fn ended(status: &Status) -> CallResult {
    match status {
        Status::Exited(code) => CallResult::Exit(*code),
        _ => CallResult::Trapped,
    }
}

/// Runs `module` (compiled from `wasm`) once under stock wasmtime-wasi's
/// preview1, as `audit --no-determinism` does (real clocks, entropy and
/// scheduling; `spec`'s arguments, environment, stdin and preopens, the
/// preopens as temporary copies, so the host's folders are never written),
/// and writes everything the run was answered to `out` as a log
/// ([`crate::replay`]), ended with the run's exit status and output.
///
/// Returns the outcome and `out`, flushed.
///
/// # Errors
///
/// If writing the log fails. What the guest does is the outcome.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::audit::{self, AuditConfig, Strategy};
/// use deterministic_wasi_ctx::replay;
///
/// let wasm = wat::parse_str(r#"(module
///     (import "wasi_snapshot_preview1" "clock_time_get" (func $t (param i32 i64 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $t (i32.const 0) (i64.const 1) (i32.const 8)))))"#)?;
/// let engine = Strategy::Cranelift.engine()?;
/// let module = wasmtime::Module::new(&engine, &wasm)?;
/// let spec = AuditConfig::default().spec;
/// let (outcome, log) = audit::record(&engine, &module, &wasm, &spec, Vec::new())?;
/// assert_eq!(outcome.host_calls, 1);
/// assert_eq!(replay::verify(&log[..])?.end.calls, 1);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub fn record<W: Write + Send + 'static>(
    engine: &Engine,
    module: &Module,
    wasm: &[u8],
    spec: &RunSpec,
    out: W,
) -> wasmtime::Result<(Outcome, W)> {
    let log = Arc::new(Mutex::new(LogWriter::new(out, wasm)?));
    let recorder = Recorder::new(spec.max_events).with_sink(log.clone());
    let outcome = run_stock_module(engine, module, spec, &recorder);
    // The run's Store, and the tracer's handles with it, are gone.
    drop(recorder);
    end_log(log, outcome)
}

/// [`record`] for a preview2 component: runs `component` (compiled from
/// `wasm`) once under stock wasmtime-wasi's preview2, each of its calls
/// traced through the forwarder ([`trace`](crate::trace)) and written to
/// `out` flattened (the log format: [`crate::replay`]).
///
/// # Errors
///
/// If the component's imports cannot be recorded (WASI 0.3's async
/// functions), or writing the log fails.
///
/// # Example
///
/// ```no_run
/// use deterministic_wasi_ctx::audit::{self, AuditConfig, Strategy};
/// # fn run(wasm: &[u8]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let engine = Strategy::Cranelift.engine()?;
/// let component = wasmtime::component::Component::new(&engine, wasm)?;
/// let spec = AuditConfig::default().spec;
/// let (outcome, log) = audit::record_component(&engine, &component, wasm, &spec, Vec::new())?;
/// assert_eq!(deterministic_wasi_ctx::replay::verify(&log[..])?.end.calls, outcome.host_calls);
/// # Ok(()) }
/// ```
pub fn record_component<W: Write + Send + 'static>(
    engine: &Engine,
    component: &Component,
    wasm: &[u8],
    spec: &RunSpec,
    out: W,
) -> wasmtime::Result<(Outcome, W)> {
    let imports = ComponentImports::new(wasm);
    if let Err(why) = imports.forwarder() {
        wasmtime::bail!("this component cannot be recorded: {why}");
    }
    let log = Arc::new(Mutex::new(LogWriter::new_component(out, wasm)?));
    let recorder = Recorder::new(spec.max_events).with_sink(log.clone());
    let outcome = run_stock_traced(engine, component, &imports, spec, recorder);
    end_log(log, outcome)
}

/// Ends the log of a recording with `outcome`, once the run's Store (and
/// every handle on the log with it) is gone; returns the outcome and the
/// log's writer, flushed.
fn end_log<W: Write + Send + 'static>(
    log: Arc<Mutex<LogWriter<W>>>,
    outcome: Outcome,
) -> wasmtime::Result<(Outcome, W)> {
    let end = LogEnd::new(
        outcome.host_calls,
        ended(&outcome.status),
        &outcome.stdout,
        &outcome.stderr,
    );
    let writer = Arc::try_unwrap(log)
        .map_err(|_| wasmtime::format_err!("the log is still shared after the run"))?
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let out = writer
        .finish(&end)
        .map_err(|e| wasmtime::format_err!("writing the log: {e}"))?;
    Ok((outcome, out))
}

/// Opens the log at `path` for a replay of a program of `kind`.
fn open(path: &Path, kind: ProgramKind) -> Result<Replayer, LogError> {
    let file =
        std::fs::File::open(path).map_err(|e| LogError::Io(format!("{}: {e}", path.display())))?;
    let replayer = Replayer::new(BufReader::new(file))?;
    if replayer.kind() != kind {
        let what = |kind| match kind {
            ProgramKind::Module => "a preview1 module",
            ProgramKind::Component => "a preview2 component",
        };
        return Err(LogError::Corrupt(format!(
            "a log of {}, given {}",
            what(replayer.kind()),
            what(kind)
        )));
    }
    Ok(replayer)
}

/// Runs `component` once answering from the log at `path` (see
/// [`RunSpec::replay`]).
pub(super) fn run_component(
    engine: &Engine,
    component: &Component,
    imports: &ComponentImports,
    spec: &RunSpec,
    path: &Path,
) -> Outcome {
    let recorder = Recorder::new(spec.max_events);
    let replayer = match open(path, ProgramKind::Component) {
        Ok(replayer) => replayer.traced(&recorder),
        Err(error) => return unopened(engine, spec, &recorder, error),
    };
    let mut linker = ComponentLinker::new(engine);
    let linked = crate::replay::component::add_to_linker(
        &mut linker,
        imports.wasm(),
        |h: &mut Host<Replayer>| &mut h.ctx,
    );
    let mut store = store(engine, replayer, spec.fuel, 0);
    let out = linked.and_then(|()| {
        let command = wasmtime_wasi::p2::bindings::sync::Command::instantiate(
            &mut store, component, &linker,
        )?;
        exit_status(command.wasi_cli_run().call_run(&mut store))
    });
    let pipes = {
        let ctx = &store.data().ctx;
        (ctx.stdout().to_vec(), ctx.stderr().to_vec())
    };
    let mut outcome = finish_component(out, &mut store, spec.fuel, &recorder, pipes, Vec::new());
    if let Err(failure) = store.data_mut().ctx.finish(&ended(&outcome.status)) {
        fail(&mut outcome, &failure);
    }
    outcome
}

/// The outcome of a replay whose log did not open.
fn unopened(engine: &Engine, spec: &RunSpec, recorder: &Recorder, error: LogError) -> Outcome {
    let mut store = store(engine, (), spec.fuel, 0);
    let mut outcome = finish(
        Err(wasmtime::Error::new(error.clone())),
        &mut store,
        spec,
        recorder,
        (Vec::new(), Vec::new()),
        Vec::new(),
    );
    fail(&mut outcome, &Failure::Log(error));
    outcome
}

/// Runs `module` once answering from the log at `path` (see
/// [`RunSpec::replay`]).
pub(super) fn run(engine: &Engine, module: &Module, spec: &RunSpec, path: &Path) -> Outcome {
    let recorder = Recorder::new(spec.max_events);
    let replayer = match open(path, ProgramKind::Module) {
        Ok(replayer) => replayer,
        Err(error) => return unopened(engine, spec, &recorder, error),
    };
    let mut linker = Linker::new(engine);
    let linked =
        crate::replay::add_to_linker(&mut linker, module, |h: &mut Host<Replayer>| &mut h.ctx);
    let mut store = store(
        engine,
        replayer,
        spec.fuel,
        trace::max_proxy_instances(module),
    );
    let out = linked.and_then(|()| start(&linker, &mut store, module, &recorder, Direct::None));
    let pipes = {
        let ctx = &store.data().ctx;
        (ctx.stdout().to_vec(), ctx.stderr().to_vec())
    };
    let mut outcome = finish(out, &mut store, spec, &recorder, pipes, Vec::new());
    if let Err(failure) = store.data_mut().ctx.finish(&ended(&outcome.status)) {
        fail(&mut outcome, &failure);
    }
    outcome
}

/// Marks `outcome` as a replay that failed with `failure`.
fn fail(outcome: &mut Outcome, failure: &Failure) {
    let kind = match failure {
        Failure::Mismatch(_) => Status::REPLAY_MISMATCH,
        Failure::Log(_) => Status::REPLAY_BAD_LOG,
    };
    outcome.status = Status::Trapped {
        kind: kind.into(),
        after_calls: outcome.host_calls,
    };
    outcome.trap_message = Some(failure.to_string());
}
