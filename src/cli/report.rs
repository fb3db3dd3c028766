//! Printing audit results, and the child-process fingerprint format.

use deterministic_wasi_ctx::audit::{
    Difference, Fingerprint, Outcome, Report, Status, Verdict, hex,
};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Prints `auditing PATH (Ns)` to stderr every few seconds while a file takes
/// long, when stderr is a terminal (a person waiting); stops when dropped.
/// Never writes to stdout, and never to a redirected stderr, whose lines
/// (one per bad file) must not depend on how fast the host is.
pub struct Progress {
    done: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    pub fn start(path: &Path) -> Progress {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Progress {
                done: None,
                thread: None,
            };
        }
        let (done, wait) = mpsc::channel::<()>();
        let path = path.display().to_string();
        let thread = std::thread::spawn(move || {
            let mut waited = 0;
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                wait.recv_timeout(Duration::from_secs(3))
            {
                waited += 3;
                eprintln!("auditing {path} ({waited}s)...");
            }
        });
        Progress {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The `exit_code` and `trap` fields of a JSON report: one of them null.
pub fn status_json(outcome: &Outcome) -> (Value, Value) {
    match &outcome.status {
        Status::Exited(code) => (json!(code), Value::Null),
        Status::Trapped { kind, after_calls } => (
            Value::Null,
            json!({
                "kind": kind,
                "after_calls": after_calls,
                "message": outcome.trap_message,
            }),
        ),
        Status::Poisoned(why) => (Value::Null, json!({ "kind": "poisoned", "reason": why })),
    }
}

/// One line (or one JSON object) for a file.
/// `expected_digest` is the digest pinned for this file (`--expect-digest`,
/// `--expect-digests`), shown in the JSON object.
pub fn print(
    path: &Path,
    report: &Report,
    elapsed: Duration,
    json: bool,
    expected_digest: Option<&str>,
) {
    let outcome = &report.outcome;
    if json {
        let (exit_code, trap) = status_json(outcome);
        let divergence = match &report.divergence {
            None => Value::Null,
            Some(d) => {
                let mut object = json!({
                    "expected_run": d.expected.to_string(),
                    "actual_run": d.actual.to_string(),
                    "expected_wasmtime": d.expected.wasmtime,
                    "actual_wasmtime": d.actual.wasmtime,
                    "description": d.difference.to_string(),
                });
                match &d.difference {
                    Difference::Call {
                        index,
                        expected,
                        actual,
                    } => {
                        object["call_index"] = json!(index);
                        object["expected"] = json!(expected);
                        object["actual"] = json!(actual);
                    }
                    Difference::Field {
                        name,
                        expected,
                        actual,
                    } => {
                        object["field"] = json!(name);
                        object["expected"] = json!(expected);
                        object["actual"] = json!(actual);
                    }
                }
                object
            }
        };
        let poisoned = match report.first_poisoned() {
            None => Value::Null,
            Some((label, fingerprint)) => json!({
                "run": label.to_string(),
                "status": fingerprint.status_text(),
            }),
        };
        // Each preopen's final tree, as its digest (`FsTree::digest`), so
        // two programs' output trees compare without `--export-fs`.
        let filesystems: Vec<Value> = outcome
            .filesystems
            .iter()
            .map(|(guest, tree)| json!({ "guest_path": guest, "digest": hex(&tree.digest()) }))
            .collect();
        // Every run, in order, with the wasmtime major it linked.
        let run_details: Vec<Value> = report
            .runs
            .iter()
            .map(|(label, fingerprint)| {
                json!({
                    "run": label.to_string(),
                    "wasmtime": label.wasmtime,
                    "backend": label.backend,
                    "strategy": label.strategy,
                    "child_process": label.child_process,
                    "status": fingerprint.status_text(),
                })
            })
            .collect();
        let mut wasmtime: Vec<u32> = Vec::new();
        for (label, _) in &report.runs {
            if !wasmtime.contains(&label.wasmtime) {
                wasmtime.push(label.wasmtime);
            }
        }
        let line = json!({
            "path": path.display().to_string(),
            "verdict": report.verdict().name(),
            "deterministic": report.verdict() == Verdict::Deterministic,
            "poisoned_runs": report.poisoned_runs(),
            "poisoned": poisoned,
            "runs": report.runs.len(),
            "run_details": run_details,
            "wasmtime": wasmtime,
            "digest": hex(&report.digest()),
            "expected_digest": expected_digest,
            "exit_code": exit_code,
            "trap": trap,
            "host_calls": outcome.host_calls,
            "fuel_consumed": outcome.fuel_consumed,
            "stdout": hex(&outcome.stdout),
            "stderr": hex(&outcome.stderr),
            "output_encoding": "hex",
            "filesystems": filesystems,
            "seconds": elapsed.as_secs_f64(),
            "divergence": divergence,
            "ignored_fields": report.ignored_fields,
        });
        out!("{line}");
        return;
    }
    let verdict = report.verdict();
    match (&report.divergence, report.first_poisoned()) {
        (Some(divergence), _) => out!("{}: {verdict} {divergence}", path.display()),
        (None, Some((label, fingerprint))) => out!(
            "{}: {verdict} {label}: {} ({} of {} runs poisoned, {:.2}s)",
            path.display(),
            fingerprint.status_text(),
            report.poisoned_runs(),
            report.runs.len(),
            elapsed.as_secs_f64(),
        ),
        (None, None) => out!(
            "{}: {verdict} {} {} calls {:.2}s ({}, {} runs{})",
            path.display(),
            hex(&report.digest()),
            outcome.host_calls,
            elapsed.as_secs_f64(),
            outcome.status_text(),
            report.runs.len(),
            not_compared(&report.ignored_fields),
        ),
    }
}

/// `, not compared: A, B` for the fields an audit left out, or nothing.
fn not_compared(ignored: &[String]) -> String {
    if ignored.is_empty() {
        String::new()
    } else {
        format!(", not compared: {}", ignored.join(", "))
    }
}

/// The child process's output: `{"fields": [[name, value], ...], "events":
/// [...], "trap_message": null or "..."}`.
pub fn fingerprint_json(fingerprint: &Fingerprint) -> Value {
    json!({
        "wasmtime": deterministic_wasi_ctx::engine::WASMTIME_MAJOR,
        "fields": fingerprint.fields,
        "events": fingerprint.events,
        "trap_message": fingerprint.trap_message,
    })
}

/// Parses [`fingerprint_json`] output: the fingerprint and the wasmtime
/// major of the build that printed it.
pub fn parse_fingerprint(bytes: &[u8]) -> Result<(Fingerprint, u32), String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("unreadable child output: {e}"))?;
    let major = value["wasmtime"]
        .as_u64()
        .and_then(|m| u32::try_from(m).ok())
        .ok_or("child output names no wasmtime version")?;
    let fields = value["fields"]
        .as_array()
        .ok_or("child output has no fields")?
        .iter()
        .map(|pair| {
            let name = pair[0].as_str().ok_or("bad field name")?;
            let value = pair[1].as_str().ok_or("bad field value")?;
            Ok((name.to_string(), value.to_string()))
        })
        .collect::<Result<Vec<_>, &str>>()?;
    let events = value["events"]
        .as_array()
        .ok_or("child output has no events")?
        .iter()
        .map(|e| e.as_str().map(String::from).ok_or("bad event"))
        .collect::<Result<Vec<_>, &str>>()?;
    let trap_message = value["trap_message"].as_str().map(String::from);
    let fingerprint = Fingerprint::from_parts(fields, events).with_trap_message(trap_message);
    Ok((fingerprint, major))
}
