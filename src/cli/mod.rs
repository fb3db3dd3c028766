//! The command-line auditor (built with the `cli` feature).

/// `println!` for the results on stdout: when the reader stops early
/// (`trace x | head`), the process ends quietly with status 141 (128 +
/// SIGPIPE, what a shell reports for a process a closed pipe killed)
/// instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::cli::stdout_failed(e);
        }
    }};
}

mod args;
mod bundled;
mod child;
mod exit;
mod expect;
mod files;
mod replay;
mod report;
mod versions;
mod wall;

use args::{Cli, Command, Options};
use clap::Parser;
use deterministic_wasi_ctx::audit::{self, Compiled, Fingerprint, RunLabel, Strategy};
use deterministic_wasi_ctx::engine::WASMTIME_MAJOR;
use exit::ExitStatus;
use std::path::Path;
use std::time::Instant;

/// Ends the process after a failed write of results to stdout: 141 for a
/// closed pipe, else 2 with the error on stderr.
fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(141);
    }
    eprintln!("error: writing to stdout: {e}");
    std::process::exit(2)
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::UsageOrLoadError.code()
            } else {
                0
            };
        }
    };
    let status = match cli.command {
        Command::Audit {
            paths,
            options,
            processes,
            json,
            export_fs,
            expect_digest,
            expect_digests,
            wasmtime,
            ignore_fields,
        } => audit_command(
            &paths,
            &options,
            Children {
                processes,
                wasmtime: &wasmtime,
            },
            json,
            export_fs.as_deref(),
            Pins {
                digest: expect_digest.as_deref(),
                file: expect_digests.as_deref(),
            },
            ignore_fields,
        ),
        Command::Trace { path, options } => trace_command(&path, &options),
        Command::Record {
            out,
            path,
            options,
            json,
        } => replay::record_command(&out, &path, &options, json),
        Command::Replay {
            log,
            path,
            options,
            json,
        } => replay::replay_command(&log, &path, &options, json),
        Command::Child {
            path,
            options,
            run_backend,
            run_strategy,
        } => child_command(&path, &options, run_backend.into(), run_strategy.into()),
    };
    status.code()
}

/// `--processes` and `--wasmtime`, as given: which runs happen in child
/// processes.
struct Children<'a> {
    processes: bool,
    wasmtime: &'a str,
}

/// `--expect-digest` and `--expect-digests`, as given.
struct Pins<'a> {
    digest: Option<&'a str>,
    file: Option<&'a Path>,
}

/// Audits every file; the exit status is the worst verdict or error (a
/// digest other than the pinned one counts as a divergence).
fn audit_command(
    paths: &[std::path::PathBuf],
    options: &Options,
    children: Children,
    json: bool,
    export_fs: Option<&Path>,
    pins: Pins,
    ignore_fields: Vec<String>,
) -> ExitStatus {
    let processes = children.processes;
    let inputs = match options.read_inputs() {
        Ok(inputs) => inputs,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitStatus::UsageOrLoadError;
        }
    };
    // The builds for the other wasmtime majors asked for, found before
    // anything runs: a missing one is a usage error.
    let majors = match versions::parse(children.wasmtime) {
        Ok(majors) => majors,
        Err(why) => {
            eprintln!("error: --wasmtime: {why}");
            return ExitStatus::UsageOrLoadError;
        }
    };
    if !majors.contains(&WASMTIME_MAJOR) {
        // Only other majors: their build audits, with these arguments.
        return delegate(majors[0]);
    }
    let mut others = Vec::new();
    for &major in majors.iter().filter(|m| **m != WASMTIME_MAJOR) {
        match versions::binary(major) {
            Ok(exe) => others.push((major, exe)),
            Err(why) => {
                eprintln!("error: {why}");
                return ExitStatus::UsageOrLoadError;
            }
        }
    }
    // The child processes run on these bytes, never on the host paths.
    let child_input = (processes || !others.is_empty()).then(|| child::encode(&inputs));
    let config = match options.audit_config_with(inputs).and_then(|config| {
        let config = audit::AuditConfig {
            ignored_fields: ignore_fields,
            ..config
        };
        config.check().map_err(|e| format!("--ignore-field: {e}"))?;
        Ok(config)
    }) {
        Ok(config) => config,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitStatus::UsageOrLoadError;
        }
    };
    if let Some(dir) = export_fs
        && let Err(why) = files::check_export_dir(dir)
    {
        eprintln!("error: --export-fs {}: {why}", dir.display());
        return ExitStatus::UsageOrLoadError;
    }
    let (files, mut status) = match files::collect(paths) {
        Ok(files) => (files, ExitStatus::Deterministic),
        Err((files, errors)) => {
            for error in errors {
                eprintln!("error: {error}");
            }
            (files, ExitStatus::UsageOrLoadError)
        }
    };
    let expected = match expect::Expected::new(pins.digest, pins.file, &files) {
        Ok(expected) => expected,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitStatus::UsageOrLoadError;
        }
    };
    // The program a replayed log recorded, for the mismatch report's note.
    let recorded = match &options.replay {
        Some(log) => match replay::verify_log(log) {
            Ok(verified) => Some(verified.program),
            Err(why) => {
                eprintln!("error: --replay {}: {why}", log.display());
                return ExitStatus::UsageOrLoadError;
            }
        },
        None => None,
    };
    let mut exported = Vec::new();
    for (index, path) in files.into_iter().enumerate() {
        let started = Instant::now();
        let _progress = report::Progress::start(&path);
        let result = files::load(&path).and_then(|wasm| {
            let mut report = audit::audit(&wasm, &config).map_err(|e| format!("{e:#}"))?;
            if let Some(input) = &child_input {
                let children = (input.as_slice(), processes);
                for (label, fingerprint) in
                    child_runs(&path, &wasm, options, &config, children, &others)?
                {
                    report.add_run(label, fingerprint);
                }
            }
            Ok((report, wasm))
        });
        drop(_progress);
        match result {
            Ok((report, wasm)) => {
                status = status.max(report.verdict().into());
                let pinned = expected.pinned(&path);
                report::print(&path, &report, started.elapsed(), json, pinned);
                if let Some((failed, why)) = replay::failure(&report.outcome) {
                    // Only a mismatch hashes the program for the note.
                    let note = match recorded {
                        Some(program) if failed == ExitStatus::Diverged => {
                            replay::another_program(&program, &wasm)
                        }
                        _ => String::new(),
                    };
                    eprintln!("error: {}: {why}{note}", path.display());
                    status = status.max(failed);
                }
                if let Err(mismatch) = expected.check(&path, &audit::hex(&report.digest())) {
                    eprintln!(
                        "error: {}: digest mismatch: expected {}, actual {}",
                        path.display(),
                        mismatch.expected,
                        mismatch.actual
                    );
                    status = status.max(ExitStatus::Diverged);
                }
                if let Some(dir) = export_fs {
                    match files::export_trees(dir, index + 1, &path, &report.outcome) {
                        Ok(entry) => exported.push(entry),
                        Err(why) => {
                            eprintln!("error: --export-fs: {}: {why}", path.display());
                            status = status.max(ExitStatus::UsageOrLoadError);
                        }
                    }
                }
            }
            Err(why) => {
                eprintln!("error: {}: {why}", path.display());
                status = ExitStatus::UsageOrLoadError;
            }
        }
    }
    if let Some(dir) = export_fs
        && !exported.is_empty()
        && let Err(why) = files::write_manifest(dir, &exported)
    {
        eprintln!("error: --export-fs: {why}");
        status = status.max(ExitStatus::UsageOrLoadError);
    }
    status
}

/// Set for an audit one build hands to another (`--wasmtime <major>`): the
/// major of the build that handed it on.
const DELEGATED: &str = "DWC_DELEGATED_FROM_WASMTIME";

/// `audit --wasmtime <major>` for another major than this binary's: runs
/// that major's build with this process's arguments and ends as it ends.
fn delegate(major: u32) -> ExitStatus {
    let exe = match versions::binary(major) {
        Ok(exe) => exe,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitStatus::UsageOrLoadError;
        }
    };
    // A build that is handed an audit and would hand it on again is not
    // the major it was taken for ($DWC_WASMTIME_<major> names another).
    if let Some(from) = std::env::var_os(DELEGATED) {
        eprintln!(
            "error: --wasmtime {major}: this binary links wasmtime {WASMTIME_MAJOR} and was \
             started as the wasmtime {major} build (by the wasmtime {} build): check \
             DWC_WASMTIME_{major}",
            from.to_string_lossy()
        );
        return ExitStatus::UsageOrLoadError;
    }
    match std::process::Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .env(DELEGATED, WASMTIME_MAJOR.to_string())
        .status()
    {
        Ok(status) => ExitStatus::from_code(status.code()),
        Err(e) => {
            eprintln!("error: cannot start {}: {e}", exe.display());
            ExitStatus::UsageOrLoadError
        }
    }
}

/// Runs `backend` and `strategy` once in a child process of `exe` (this
/// binary, or the build for wasmtime `major`), which reads its stdin and
/// preopens from `input` ([`child::encode`]) on its stdin.
fn run_child(
    path: &Path,
    options: &Options,
    config: &audit::AuditConfig,
    input: &[u8],
    (exe, major): (&Path, u32),
    (backend, strategy): (audit::Backend, Strategy),
) -> Result<(RunLabel, Fingerprint), String> {
    let mut command = std::process::Command::new(exe);
    command.arg("__child").arg(path);
    options.forward(&mut command);
    command
        .arg("--run-backend")
        .arg(args::backend_arg(backend))
        .arg("--run-strategy")
        .arg(strategy.name());
    let mut process = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a child process ({}): {e}", exe.display()))?;
    let output = std::thread::scope(|scope| {
        if let Some(mut stdin) = process.stdin.take() {
            // A child that fails before reading all of it says why on
            // stderr; the broken pipe adds nothing.
            scope.spawn(move || {
                use std::io::Write as _;
                let _ = stdin.write_all(input);
            });
        }
        process.wait_with_output()
    })
    .map_err(|e| format!("the child process: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the child process on wasmtime {major} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let (fingerprint, linked) = report::parse_fingerprint(&output.stdout)?;
    if linked != major {
        return Err(format!(
            "{} is a build of wasmtime {linked}, not {major}",
            exe.display()
        ));
    }
    let label = RunLabel {
        backend: backend.name(),
        strategy: strategy.name(),
        index: config.runs,
        fresh_engine: true,
        child_process: true,
        wasmtime: major,
    };
    Ok((label, fingerprint))
}

/// The runs in child processes for one file: with `--processes`, this
/// binary on the first backend and strategy; for each other wasmtime major
/// `--wasmtime` names, its build on every backend it has and every
/// strategy (a component: wasmtime-wasi only).
fn child_runs(
    path: &Path,
    wasm: &[u8],
    options: &Options,
    config: &audit::AuditConfig,
    (input, processes): (&[u8], bool),
    others: &[(u32, std::path::PathBuf)],
) -> Result<Vec<(RunLabel, Fingerprint)>, String> {
    let mut runs = Vec::new();
    if processes {
        let first = config
            .first_backend_and_strategy()
            .map_err(|e| format!("{e:#}"))?;
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let this = (exe.as_path(), WASMTIME_MAJOR);
        runs.push(run_child(path, options, config, input, this, first)?);
    }
    let is_component = wasmparser::Parser::is_component(wasm);
    for (major, exe) in others {
        for &strategy in &config.strategies {
            for &backend in &config.backends {
                let shared = !is_component || backend == audit::Backend::WasmtimeWasi;
                if shared && versions::has_backend(*major, backend) {
                    let run = (backend, strategy);
                    runs.push(run_child(path, options, config, input, (exe, *major), run)?);
                }
            }
        }
    }
    Ok(runs)
}

fn child_command(
    path: &Path,
    options: &Options,
    backend: audit::Backend,
    strategy: Strategy,
) -> ExitStatus {
    match child::run(path, options, backend, strategy, std::io::stdin().lock()) {
        Ok(outcome) => {
            out!("{}", report::fingerprint_json(&Fingerprint::of(&outcome)));
            ExitStatus::Deterministic
        }
        Err(why) => {
            eprintln!("error: {}: {why}", path.display());
            ExitStatus::UsageOrLoadError
        }
    }
}

fn trace_command(path: &Path, options: &Options) -> ExitStatus {
    let result = options.audit_config().and_then(|mut config| {
        config.spec.max_events = 1_000_000;
        let wasm = files::load(path)?;
        let (backend, strategy) = config
            .first_backend_and_strategy()
            .map_err(|e| format!("{e:#}"))?;
        let engine = strategy.engine().map_err(|e| format!("{e:#}"))?;
        let compiled =
            Compiled::prepared(&engine, &wasm, &config.spec).map_err(|e| format!("{e:#}"))?;
        compiled
            .check_links(&engine, backend)
            .map_err(|e| format!("{e:#}"))?;
        Ok(compiled.run(&engine, backend, &config.spec))
    });
    match result {
        Ok(outcome) => {
            for call in &outcome.events {
                out!("{call}");
            }
            if outcome.host_calls > outcome.events.len() as u64 {
                out!(
                    "... {} more calls",
                    outcome.host_calls - outcome.events.len() as u64
                );
            }
            out!(
                "= {}, {} calls, trace {}",
                outcome.status_text(),
                outcome.host_calls,
                audit::hex(&outcome.trace_digest)
            );
            ExitStatus::Deterministic
        }
        Err(why) => {
            eprintln!("error: {}: {why}", path.display());
            ExitStatus::UsageOrLoadError
        }
    }
}
