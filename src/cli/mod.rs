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
mod report;
mod wall;

use args::{Cli, Command, Options};
use clap::Parser;
use deterministic_wasi_ctx::audit::{self, Compiled, Fingerprint, RunLabel, Strategy};
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
        } => audit_command(
            &paths,
            &options,
            processes,
            json,
            export_fs.as_deref(),
            Pins {
                digest: expect_digest.as_deref(),
                file: expect_digests.as_deref(),
            },
        ),
        Command::Trace { path, options } => trace_command(&path, &options),
        Command::Child {
            path,
            options,
            run_backend,
            run_strategy,
        } => child_command(&path, &options, run_backend.into(), run_strategy.into()),
    };
    status.code()
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
    processes: bool,
    json: bool,
    export_fs: Option<&Path>,
    pins: Pins,
) -> ExitStatus {
    let inputs = match options.read_inputs() {
        Ok(inputs) => inputs,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitStatus::UsageOrLoadError;
        }
    };
    // The child process runs on these bytes, never on the host paths.
    let child_input = processes.then(|| child::encode(&inputs));
    let config = match options.audit_config_with(inputs) {
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
    let mut exported = Vec::new();
    for (index, path) in files.into_iter().enumerate() {
        let started = Instant::now();
        let _progress = report::Progress::start(&path);
        let result = files::load(&path).and_then(|wasm| {
            let mut report = audit::audit(&wasm, &config).map_err(|e| format!("{e:#}"))?;
            if let Some(input) = &child_input {
                let (label, fingerprint) = run_child(&path, options, &config, input)?;
                report.add_run(label, fingerprint);
            }
            Ok(report)
        });
        drop(_progress);
        match result {
            Ok(report) => {
                status = status.max(report.verdict().into());
                let pinned = expected.pinned(&path);
                report::print(&path, &report, started.elapsed(), json, pinned);
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

/// Runs the first backend and strategy once in a child process of this
/// binary, which reads its stdin and preopens from `input`
/// ([`child::encode`]) on its stdin.
fn run_child(
    path: &Path,
    options: &Options,
    config: &audit::AuditConfig,
    input: &[u8],
) -> Result<(RunLabel, Fingerprint), String> {
    let (backend, strategy) = config
        .first_backend_and_strategy()
        .map_err(|e| format!("{e:#}"))?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
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
        .map_err(|e| format!("cannot start a child process: {e}"))?;
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
            "the child process failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let fingerprint = report::parse_fingerprint(&output.stdout)?;
    let label = RunLabel {
        backend: backend.name(),
        strategy: strategy.name(),
        index: config.runs,
        fresh_engine: true,
        child_process: true,
    };
    Ok((label, fingerprint))
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
