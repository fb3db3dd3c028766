//! `record`, `replay`, and what `audit --replay` adds to an audit.

use super::args::Options;
use super::exit::ExitStatus;
use super::{files, report};
use deterministic_wasi_ctx::audit::{self, Compiled, Outcome, Status, hex};
use deterministic_wasi_ctx::replay::{self, Verified};
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Checks the whole log at `log` ([`replay::verify`]) before any guest sees
/// an answer from it; the program it names and its end.
pub fn verify_log(log: &Path) -> Result<Verified, String> {
    let file = std::fs::File::open(log).map_err(|e| e.to_string())?;
    replay::verify(std::io::BufReader::new(file)).map_err(|e| e.to_string())
}

/// A note for a replay's mismatch report when the log was recorded from
/// `recorded` (the BLAKE3 in its header) and `wasm` is another program: the
/// likely cause, the wrong file given. Empty when they are the same.
pub fn another_program(recorded: &[u8; 32], wasm: &[u8]) -> String {
    let this = blake3::hash(wasm);
    if this.as_bytes() == recorded {
        return String::new();
    }
    format!(
        " (the log was recorded from another program: BLAKE3 {}, this one {})",
        hex(recorded),
        this.to_hex()
    )
}

/// The exit status and report of a replay that failed, if `outcome` is one.
pub fn failure(outcome: &Outcome) -> Option<(ExitStatus, &str)> {
    let Status::Trapped { kind, .. } = &outcome.status else {
        return None;
    };
    let status = match kind.as_str() {
        Status::REPLAY_MISMATCH => ExitStatus::Diverged,
        Status::REPLAY_BAD_LOG => ExitStatus::UsageOrLoadError,
        _ => return None,
    };
    Some((status, outcome.trap_message.as_deref().unwrap_or_default()))
}

/// `program` compiled for the first strategy of `options` (a preview1
/// module or a preview2 component), with the engine, its bytes and the
/// run's spec.
fn load(
    path: &Path,
    options: &Options,
) -> Result<(wasmtime::Engine, Compiled, Vec<u8>, audit::RunSpec), String> {
    let config = options.audit_config()?;
    let wasm = files::load(path)?;
    let (_, strategy) = config
        .first_backend_and_strategy()
        .map_err(|e| format!("{e:#}"))?;
    let engine = strategy.engine().map_err(|e| format!("{e:#}"))?;
    // Checked the way a replay checks it: a component whose imports cannot
    // be recorded (WASI 0.3) is refused before anything runs.
    let mut checked = config.spec.clone();
    checked.replay = Some(path.to_path_buf());
    let compiled = Compiled::prepared(&engine, &wasm, &checked).map_err(|e| format!("{e:#}"))?;
    Ok((engine, compiled, wasm, config.spec))
}

/// `record --out LOG PROGRAM`.
pub fn record_command(out: &Path, path: &Path, options: &Options, json: bool) -> ExitStatus {
    if options.replay.is_some() || options.no_determinism {
        eprintln!(
            "error: record runs under stock wasmtime-wasi already: drop --replay and --no-determinism"
        );
        return ExitStatus::UsageOrLoadError;
    }
    let result = load(path, options).and_then(|(engine, compiled, wasm, mut spec)| {
        spec.stock = true;
        let file =
            std::fs::File::create(out).map_err(|e| format!("--out {}: {e}", out.display()))?;
        let writer = std::io::BufWriter::new(file);
        match &compiled {
            Compiled::Module(module) => audit::record(&engine, module, &wasm, &spec, writer),
            Compiled::Component(component, _) => {
                audit::record_component(&engine, component, &wasm, &spec, writer)
            }
        }
        .map(|(outcome, _)| outcome)
        .map_err(|e| format!("--out {}: {e:#}", out.display()))
    });
    match result {
        Ok(outcome) => {
            print_run(path, &outcome, json);
            ExitStatus::Deterministic
        }
        Err(why) => {
            eprintln!("error: {}: {why}", path.display());
            ExitStatus::UsageOrLoadError
        }
    }
}

/// `replay LOG PROGRAM`.
pub fn replay_command(log: &Path, path: &Path, options: &Options, json: bool) -> ExitStatus {
    if options.replay.is_some() || options.no_determinism {
        eprintln!("error: replay takes its log as an argument: drop --replay and --no-determinism");
        return ExitStatus::UsageOrLoadError;
    }
    let recorded = match verify_log(log) {
        Ok(verified) => verified.program,
        Err(why) => {
            eprintln!("error: {}: {why}", log.display());
            return ExitStatus::UsageOrLoadError;
        }
    };
    let result = load(path, options).map(|(engine, compiled, wasm, mut spec)| {
        spec.replay = Some(log.to_path_buf());
        let outcome = compiled.run(&engine, audit::Backend::WasmtimeWasi, &spec);
        (outcome, wasm)
    });
    match result {
        Ok((outcome, wasm)) => {
            print_run(path, &outcome, json);
            match failure(&outcome) {
                Some((status, why)) => {
                    let note = match status {
                        ExitStatus::Diverged => another_program(&recorded, &wasm),
                        _ => String::new(),
                    };
                    eprintln!("error: {}: {why}{note}", path.display());
                    status
                }
                None => ExitStatus::Deterministic,
            }
        }
        Err(why) => {
            eprintln!("error: {}: {why}", path.display());
            ExitStatus::UsageOrLoadError
        }
    }
}

/// The guest's stdout and stderr, passed through, or one JSON object.
fn print_run(path: &Path, outcome: &Outcome, json: bool) {
    if json {
        let (exit_code, trap) = report::status_json(outcome);
        let line = json!({
            "path": path.display().to_string(),
            "exit_code": exit_code,
            "trap": trap,
            "digest": hex(&outcome.digest()),
            "trace_digest": hex(&outcome.trace_digest),
            "host_calls": outcome.host_calls,
            "fuel_consumed": outcome.fuel_consumed,
            "stdout": hex(&outcome.stdout),
            "stderr": hex(&outcome.stderr),
            "output_encoding": "hex",
        });
        out!("{line}");
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(&outcome.stdout)
        .and_then(|()| stdout.flush())
    {
        super::stdout_failed(e);
    }
    let _ = std::io::stderr().write_all(&outcome.stderr);
}
