//! Record a preview1 run's host answers in a log, and replay them bit for
//! bit (README, "Record and replay").
//!
//! The log format and the rules that check and answer each call live in
//! the core ([`deterministic_wasi_ctx_core::replay`], re-exported here);
//! this module links them into wasmtime:
//!
//! - **Recording**: trace the run with [`trace::instantiate_traced`] and a
//!   [`Recorder`](crate::trace::Recorder) that also sends every call to a
//!   [`LogWriter`] ([`Recorder::with_sink`](crate::trace::Recorder::with_sink)).
//!   Any linker works: stock wasmtime-wasi's, to record a real run (what
//!   the `record` command does), or this crate's. End the log with
//!   [`LogWriter::end`] once the guest stops.
//! - **Replaying**: [`add_to_linker`] defines every preview1 import of a
//!   module to answer from a [`Replayer`] in the Store's data: no host
//!   resource is touched, and the first call that differs from the
//!   recording stops the run with a [`Failure`]. [`Replayer::finish`] then
//!   checks that the run ended as recorded.
//!
//! Traced the same way, a replay has the recording's trace digest: the
//! calls, their results and every byte written into guest memory.
//!
//! # Example
//!
//! ```
//! use deterministic_wasi_ctx::replay::{self, LogEnd, LogWriter, Replayer};
//! use deterministic_wasi_ctx::trace::{self, CallResult, Recorder};
//! use deterministic_wasi_ctx::engine;
//! use std::sync::{Arc, Mutex};
//! use wasmtime::{Linker, Module, Store};
//!
//! let wat = r#"(module
//!     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
//!     (memory (export "memory") 1)
//!     (func (export "_start") (drop (call $r (i32.const 16) (i32.const 8)))))"#;
//! let engine = engine::deterministic_engine()?;
//! let module = Module::new(&engine, wat)?;
//!
//! // Record a run under stock wasmtime-wasi: real entropy.
//! let log = Arc::new(Mutex::new(LogWriter::new(Vec::new(), wat.as_bytes())?));
//! let mut linker = Linker::new(&engine);
//! wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t)?;
//! let mut store = Store::new(&engine, wasmtime_wasi::WasiCtxBuilder::new().build_p1());
//! store.set_fuel(1_000_000)?;
//! let recorder = Recorder::new(0).with_sink(log.clone());
//! let instance = trace::instantiate_traced(&linker, &mut store, &module, &recorder)?;
//! instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
//! let recorded = instance.get_memory(&mut store, "memory").unwrap().data(&store)[16..24].to_vec();
//! log.lock().unwrap().end(&LogEnd::new(0, CallResult::Exit(0), b"", b""))?;
//! let bytes = log.lock().unwrap().get_ref().clone();
//!
//! // Replay it: the same 8 bytes, from the log.
//! let mut linker = Linker::new(&engine);
//! replay::add_to_linker(&mut linker, &module, |r: &mut Replayer| r)?;
//! let mut store = Store::new(&engine, Replayer::new(std::io::Cursor::new(bytes))?);
//! store.set_fuel(1_000_000)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! instance.get_typed_func::<(), ()>(&mut store, "_start")?.call(&mut store, ())?;
//! let replayed = instance.get_memory(&mut store, "memory").unwrap().data(&store)[16..24].to_vec();
//! assert_eq!(replayed, recorded);
//! assert_eq!(store.data_mut().finish(&CallResult::Exit(0))?.calls, 1);
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```

pub mod component;

use crate::trace::p1::{WASI_MODULES, preview1_signature, raw_ints};
pub use deterministic_wasi_ctx_core::replay::*;
use deterministic_wasi_ctx_core::trace::table;
use deterministic_wasi_ctx_core::trace::{CallHead, CallResult, Recorder, Returned, WriteRef};
use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::mem::MaybeUninit;
use wasmtime::{Caller, Extern, Linker, Memory, Module, ValRaw, ValType};

/// Why a replay stopped before its guest did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The guest asked something the recording's did not.
    Mismatch(Mismatch),
    /// The log cannot answer (it is not whole, or not this call's).
    Log(LogError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Mismatch(m) => m.fmt(f),
            Failure::Log(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Failure {}

/// The state of one replay: the log being read, the guest's output, and the
/// first failure. Keep it in the Store's data and link it with
/// [`add_to_linker`]; one Replayer serves one Store.
pub struct Replayer {
    reader: LogReader<Box<dyn Read + Send>>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    failure: Option<Failure>,
    /// The guest's exported `memory`, once looked up.
    memory: Option<Option<Memory>>,
    /// The call record being answered (its buffers kept from call to call).
    call: LogCall,
    /// A component's stdout and stderr streams: the numbers of the handles
    /// `get-stdout` and `get-stderr` answered.
    output_streams: [Option<i64>; 2],
    /// Where a component's replayed calls are traced, as the recording's
    /// were.
    recorder: Option<Recorder>,
}

impl fmt::Debug for Replayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replayer")
            .field("calls", &self.reader.calls())
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

impl Replayer {
    /// A replay of the log `log` reads. Check a log whole with [`verify`]
    /// first (a second read) when a guest must see no answer from a log
    /// that turns out to be corrupt further on.
    ///
    /// # Errors
    ///
    /// If `log` does not start as a log of this format version does.
    pub fn new(log: impl Read + Send + 'static) -> Result<Self, LogError> {
        Ok(Replayer {
            reader: LogReader::new(Box::new(log) as Box<dyn Read + Send>)?,
            stdout: Vec::new(),
            stderr: Vec::new(),
            failure: None,
            memory: None,
            call: LogCall::empty(),
            output_streams: [None, None],
            recorder: None,
        })
    }

    /// This replayer, also tracing every call of a component it answers in
    /// `recorder`, as the recording traced it: a replay's trace digest is
    /// the recording's. (A module's replay is traced by the tracer that
    /// wraps its imports instead.)
    pub fn traced(mut self, recorder: &Recorder) -> Self {
        self.recorder = Some(recorder.clone());
        self
    }

    /// What kind of program the log recorded.
    pub fn kind(&self) -> ProgramKind {
        self.reader.kind()
    }

    /// Calls answered so far.
    pub fn calls(&self) -> u64 {
        self.reader.calls()
    }

    /// What the guest wrote to stdout (fd 1) so far.
    pub fn stdout(&self) -> &[u8] {
        &self.stdout
    }

    /// What the guest wrote to stderr (fd 2) so far.
    pub fn stderr(&self) -> &[u8] {
        &self.stderr
    }

    /// The failure that stopped the run, if one did.
    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// Checks, once the guest has stopped, that the recording ended here
    /// too, as `ended` (`Exit(status)`, `Trapped`, or `Returned` for a
    /// `_start` that returned: the same as `Exit(0)`) and with the same
    /// stdout and stderr; returns the log's end record.
    ///
    /// # Errors
    ///
    /// The failure that stopped the run, a recording that made more calls,
    /// or one that ended otherwise.
    pub fn finish(&mut self, ended: &CallResult) -> Result<LogEnd, Failure> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        let index = self.reader.calls();
        let end = match self.reader.next_entry().map_err(Failure::Log)? {
            Entry::Call(call) => {
                return Err(Failure::Mismatch(Mismatch {
                    index,
                    expected: CallHead(&call.name, &call.args).to_string(),
                    actual: "the end of the run".into(),
                }));
            }
            Entry::End(end) => end,
        };
        let normal = |r: &CallResult| match r {
            CallResult::Returned(_) => CallResult::Exit(0),
            other => other.clone(),
        };
        let ours = LogEnd::new(index, normal(ended), &self.stdout, &self.stderr);
        let differs = |what: &str, recorded: String, replayed: String| {
            Err(Failure::Mismatch(Mismatch {
                index,
                expected: format!("{what} {recorded}"),
                actual: format!("{what} {replayed}"),
            }))
        };
        if normal(&end.status) != ours.status {
            return differs(
                "the run ending with",
                end_text(&end.status),
                end_text(&ours.status),
            );
        }
        for (what, recorded, replayed) in [
            ("stdout", end.stdout, ours.stdout),
            ("stderr", end.stderr, ours.stderr),
        ] {
            if recorded != replayed {
                let text = |(len, hash): (u64, [u8; 32])| {
                    format!("of {len} bytes (blake3 {})", crate::audit::hex(&hash[..8]))
                };
                return differs(what, text(recorded), text(replayed));
            }
        }
        Ok(end)
    }

    /// Answers one call into `memory`, keeping the first failure.
    fn answer(
        &mut self,
        name: &str,
        preview0: bool,
        args: &[i64],
        memory: &mut [u8],
    ) -> Result<Answer, Failure> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        let index = self.reader.calls();
        let result = match self.reader.next_call_into(&mut self.call) {
            Err(error) => Err(Failure::Log(error)),
            Ok(Some(_)) => Err(Failure::Mismatch(Mismatch {
                index,
                expected: "the end of the run".into(),
                actual: CallHead(name, args).to_string(),
            })),
            Ok(None) => answer(index, &self.call, name, preview0, args, memory)
                .map_err(|e| e.map_or_else(Failure::Log, Failure::Mismatch)),
        };
        if let Err(failure) = &result {
            self.failure = Some(failure.clone());
        }
        if let (Ok(Answer::Returned(values)), "fd_write", Some(&fd @ (1 | 2))) =
            (&result, name, args.first())
            && values.first() == Some(&0)
        {
            let out = if fd == 1 {
                &mut self.stdout
            } else {
                &mut self.stderr
            };
            table::inputs_after(name, args, Some(0), &*memory, &mut |offset, len| {
                out.extend_from_slice(table::bytes_at(memory, offset, len));
            });
        }
        result
    }
}

impl Replayer {
    /// Answers one call of a component's import ([`component`]): `args`
    /// and `inputs` are its arguments flattened; the answer's values and
    /// [`Replayer::written`] are its result flattened.
    fn answer_component(
        &mut self,
        name: &str,
        args: &[i64],
        inputs: Option<[u8; 16]>,
        bytes: &[(u32, Vec<u8>)],
    ) -> Result<Answer, Failure> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        let index = self.reader.calls();
        let result = match self.reader.next_call_into(&mut self.call) {
            Err(error) => Err(Failure::Log(error)),
            Ok(Some(_)) => Err(Failure::Mismatch(Mismatch {
                index,
                expected: "the end of the run".into(),
                actual: CallHead(name, args).to_string(),
            })),
            Ok(None) => {
                answer_component(index, &self.call, name, args, inputs).map_err(Failure::Mismatch)
            }
        };
        match &result {
            Err(failure) => self.failure = Some(failure.clone()),
            Ok(Answer::Returned(values)) => self.component_output(name, args, values, bytes),
            Ok(_) => {}
        }
        if let (Some(recorder), Ok(answer)) = (&self.recorder, &result) {
            let writes: Vec<WriteRef<'_>> = self
                .call
                .writes
                .iter()
                .map(|(offset, bytes)| WriteRef::Bytes {
                    offset: *offset,
                    bytes,
                })
                .collect();
            let returned = match answer {
                Answer::Returned(values) => Returned::Values(values),
                Answer::Exit(status) => Returned::Exit(*status),
                Answer::Trapped => Returned::Trapped,
            };
            recorder.record(name, args, returned, &writes);
        }
        result
    }

    /// Keeps what the guest writes to its stdout and stderr streams.
    fn component_output(
        &mut self,
        name: &str,
        args: &[i64],
        values: &[i64],
        bytes: &[(u32, Vec<u8>)],
    ) {
        match name {
            "wasi:cli/stdout.get-stdout" => self.output_streams[0] = values.first().copied(),
            "wasi:cli/stderr.get-stderr" => self.output_streams[1] = values.first().copied(),
            "wasi:io/streams.[method]output-stream.write"
            | "wasi:io/streams.[method]output-stream.blocking-write-and-flush"
                if values.first() == Some(&0) =>
            {
                let out = match args.first() {
                    Some(stream) if self.output_streams[0] == Some(*stream) => &mut self.stdout,
                    Some(stream) if self.output_streams[1] == Some(*stream) => &mut self.stderr,
                    _ => return,
                };
                if let Some((_, written)) = bytes.first() {
                    out.extend_from_slice(written);
                }
            }
            _ => {}
        }
    }

    /// The bytes of the strings and lists of the call answered last.
    fn written(&self) -> &[(u32, std::sync::Arc<[u8]>)] {
        &self.call.writes
    }
}

fn end_text(status: &CallResult) -> String {
    match status {
        CallResult::Exit(code) => format!("exit({code})"),
        CallResult::Trapped => "a trap".into(),
        CallResult::Returned(_) => "exit(0)".into(),
    }
}

/// Defines every function `module` imports from `wasi_snapshot_preview1`
/// or `wasi_unstable` in `linker`, answering from the [`Replayer`] `get`
/// finds in the Store's data (see the [module docs](self) for an example;
/// functions whose signature cannot be preview1's are left undefined).
/// Each call checks the guest asks what the recording did, makes the
/// recorded writes in the guest's exported `memory`, and returns the
/// recorded result: an exit status as [`wasmtime_wasi::I32Exit`], a
/// recorded trap as a trap. A [`Failure`] stops the run (the error it
/// returns holds it; [`Replayer::failure`] keeps it).
///
/// # Errors
///
/// If `linker` already defines one of those imports.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    module: &Module,
    get: fn(&mut T) -> &mut Replayer,
) -> wasmtime::Result<()> {
    let mut defined = HashSet::new();
    for import in module.imports() {
        let (from, name) = (import.module(), import.name());
        let Some(ty) = import.ty().func().cloned() else {
            continue;
        };
        // As the tracer: another signature is left undefined, so the module
        // fails to link as it did recorded.
        if !WASI_MODULES.contains(&from)
            || !preview1_signature(&ty)
            || !defined.insert((from.to_string(), name.to_string()))
        {
            continue;
        }
        let preview0 = from == "wasi_unstable";
        let owned = name.to_string();
        let params: Vec<ValType> = ty.params().collect();
        let results: Vec<ValType> = ty.results().collect();
        let host = move |caller: Caller<'_, T>, space: &mut [MaybeUninit<ValRaw>]| {
            // SAFETY: wasmtime initialises the parameter slots, of `params`.
            let args = unsafe { raw_ints(space, &params) };
            let args = &args[..params.len()];
            replay_call(caller, get, (&owned, preview0), args, (&results, space))
        };
        // SAFETY: `host` reads exactly the parameters of `ty` (integers, as
        // `preview1_signature` checked) and writes exactly its results.
        unsafe { linker.func_new_unchecked(from, name, ty, host)? };
    }
    Ok(())
}

/// One replayed call: see [`add_to_linker`].
fn replay_call<T>(
    mut caller: Caller<'_, T>,
    get: fn(&mut T) -> &mut Replayer,
    (name, preview0): (&str, bool),
    args: &[i64],
    (types, results): (&[ValType], &mut [MaybeUninit<ValRaw>]),
) -> wasmtime::Result<()> {
    // Looked up by name once per Store (a Replayer serves one Store).
    let memory = match get(caller.data_mut()).memory {
        Some(known) => known,
        None => {
            let found = match caller.get_export("memory") {
                Some(Extern::Memory(memory)) => Some(memory),
                _ => None,
            };
            get(caller.data_mut()).memory = Some(found);
            found
        }
    };
    let mut none = [0u8; 0];
    let (data, host) = match memory {
        Some(memory) => memory.data_and_store_mut(&mut caller),
        None => (&mut none[..], caller.data_mut()),
    };
    let replayer = get(host);
    match replayer.answer(name, preview0, args, data)? {
        Answer::Returned(values) => {
            if values.len() != types.len() {
                let failure = Failure::Log(LogError::Corrupt(format!(
                    "call {}: {} values recorded for `{name}`, which returns {}",
                    replayer.calls() - 1,
                    values.len(),
                    types.len()
                )));
                replayer.failure = Some(failure.clone());
                return Err(failure.into());
            }
            for ((slot, value), ty) in results.iter_mut().zip(values).zip(types) {
                slot.write(match ty {
                    ValType::I64 => ValRaw::i64(value),
                    _ => ValRaw::i32(value as i32),
                });
            }
            Ok(())
        }
        Answer::Exit(status) => Err(wasmtime_wasi::I32Exit(status).into()),
        Answer::Trapped => Err(wasmtime::format_err!(
            "`{name}` trapped when recorded, so it traps in the replay"
        )),
    }
}
