//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use deterministic_wasi_ctx::audit::{AuditConfig, Backend, RunSpec, Strategy};
use deterministic_wasi_ctx::{ClockPolicy, DeterminismConfig, VirtualFs};
use std::path::PathBuf;
use std::time::Duration;

/// Audit WebAssembly programs for determinism under a deterministic WASI context.
#[derive(Parser, Debug)]
#[command(name = "deterministic-wasi-ctx", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run each program several times and report DETERMINISTIC or the first divergence.
    Audit {
        /// `.wasm` modules or components, `.wat` files, directories of them,
        /// or `corpus:<name>` for a program bundled in this binary.
        /// None: the bundled programs (`corpus:args_environ.wat`, ...), but
        /// `corpus:stack_overflow.wat`, POISONED by design.
        paths: Vec<PathBuf>,
        #[command(flatten)]
        options: Options,
        /// Also run once in a child process of this binary (on this
        /// process's `--stdin` bytes and `--dir` snapshots, never re-read).
        #[arg(long)]
        processes: bool,
        /// One JSON object per file on stdout instead of text lines.
        #[arg(long)]
        json: bool,
        /// Write run 0's final preopened trees under DIR (a new or empty
        /// directory): DIR/<n>-<file name>/<m>-<guest path, `/` as `root`>/,
        /// numbered by file and preopen, listed in DIR/manifest.json.
        #[arg(long, value_name = "DIR")]
        export_fs: Option<PathBuf>,
        /// Fail (exit 1) unless the one audited file's digest is HEX (as
        /// printed by a previous audit, on any machine).
        #[arg(long, value_name = "HEX")]
        expect_digest: Option<String>,
        /// Fail (exit 1) unless each file named in FILE — a JSON object
        /// mapping paths, as given to audit, to digests — has that digest.
        /// Files not in it are audited as usual; a key naming no audited
        /// file is a usage error (exit 2).
        #[arg(long, value_name = "FILE.json")]
        expect_digests: Option<PathBuf>,
        /// The wasmtime major(s) to run on: this binary's (the default),
        /// another this project builds (its binary then audits), or `all`
        /// (each other major's runs are child processes of its build, found
        /// next to this binary or as $DWC_WASMTIME_<major>). See README,
        /// "Wasmtime versions".
        #[arg(long, value_name = "46|50|all", default_value_t = deterministic_wasi_ctx::engine::WASMTIME_MAJOR.to_string())]
        wasmtime: String,
        /// Leave fingerprint field FIELD out of every comparison
        /// (repeatable; the names a divergence prints: `fuel consumed`,
        /// `stdout`, `memory NAME`, ...), e.g. the fuel a newer wasmtime
        /// charges. Every other field is still compared; the report lists
        /// what was not.
        #[arg(long = "ignore-field", value_name = "FIELD")]
        ignore_fields: Vec<String>,
    },
    /// Run a program once and print its host calls, one line per call.
    Trace {
        /// The program (a file, or `corpus:<name>` for a bundled one).
        path: PathBuf,
        #[command(flatten)]
        options: Options,
    },
    /// Run a program once under stock wasmtime-wasi on the real host (real
    /// clocks and entropy; `--dir` trees as temporary copies) and write
    /// everything it was answered to LOG. Passes the guest's stdout and
    /// stderr through. Preview1 modules.
    Record {
        /// The log to write (replaced if it exists).
        #[arg(long, value_name = "LOG")]
        out: PathBuf,
        /// The program (a file, or `corpus:<name>` for a bundled one).
        path: PathBuf,
        #[command(flatten)]
        options: Options,
        /// One JSON object (stdout, stderr, exit_code, trap, digest,
        /// host_calls) instead of the guest's output.
        #[arg(long)]
        json: bool,
    },
    /// Run a program once answering every host call from LOG, stopping at
    /// the first call that differs from the recording (exit 1; a bad log,
    /// exit 2). Touches no host resource. Passes the guest's stdout and
    /// stderr through.
    Replay {
        /// The log `record` wrote.
        log: PathBuf,
        /// The program (a file, or `corpus:<name>` for a bundled one).
        path: PathBuf,
        #[command(flatten)]
        options: Options,
        /// One JSON object (stdout, stderr, exit_code, trap, digest,
        /// host_calls) instead of the guest's output.
        #[arg(long)]
        json: bool,
    },
    /// Internal: one run for `audit --processes`; prints a fingerprint as JSON.
    #[command(name = "__child", hide = true)]
    Child {
        path: PathBuf,
        #[command(flatten)]
        options: Options,
        #[arg(long, value_enum)]
        run_backend: BackendArg,
        #[arg(long, value_enum)]
        run_strategy: StrategyArg,
    },
}

/// What `--stdin` and `--dir` name, read once: stdin's bytes and each
/// preopen's guest path and snapshot, in order.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The guest's stdin.
    pub stdin: Vec<u8>,
    /// `(guest path, snapshot)` per `--dir`.
    pub preopens: Vec<(String, VirtualFs)>,
}

/// Options shared by every subcommand.
#[derive(Args, Debug, Clone)]
pub struct Options {
    /// Runs per backend and strategy (at least 2).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(2..=1000))]
    pub runs: u64,
    /// The preview1 implementation; `all` also checks that both agree.
    #[arg(long, value_enum, default_value_t = BackendChoice::WasmtimeWasi)]
    pub backend: BackendChoice,
    /// Execution strategy; `all` also checks that Cranelift and Pulley agree.
    #[arg(long, value_enum, default_value_t = StrategyChoice::Cranelift)]
    pub strategy: StrategyChoice,
    /// Fuel per run.
    #[arg(long, default_value_t = 1_000_000_000)]
    pub fuel: u64,
    /// Seed of every random stream.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Clock policy: frozen, advance-on-sleep, or tick:<duration> (e.g. tick:1us, tick:5ms, tick:100ns).
    #[arg(long, default_value = "advance-on-sleep")]
    pub clock: String,
    /// The wall clock's reading at start: seconds after the Unix epoch
    /// (`1000000000`) or an RFC 3339 date (`2001-09-09T01:46:40Z`). Snapshot
    /// entries (`--dir`) carry this time too. Default: the epoch, 0.
    #[arg(long, value_name = "SECONDS|DATE", default_value = "0", value_parser = super::wall::parse_wall_start)]
    pub wall_start: Duration,
    /// A guest argument (repeatable; the first is the program name).
    #[arg(long = "arg", value_name = "X")]
    pub args: Vec<String>,
    /// A guest environment variable K=V (repeatable).
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// A file whose bytes are the guest's stdin.
    #[arg(long)]
    pub stdin: Option<PathBuf>,
    /// Preopen a snapshot of host directory HOST as GUEST (default: HOST as
    /// written, as the wasmtime CLI does); repeatable. Read once; every run
    /// starts from the snapshot and the host directory is never written.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,
    /// A logical stack limit in slots (`default`: 8192): deep recursion
    /// traps (`unreachable`) at the same depth everywhere instead of
    /// overflowing the native stack. Changes fuel and digests; off by
    /// default. See README, "Stack limit".
    #[arg(long, value_name = "SLOTS|default", value_parser = parse_max_stack)]
    pub max_stack: Option<u32>,
    /// Answer every preview1 call from the record-and-replay log LOG
    /// (written by `record`) instead of a context: each run replays it, and
    /// one whose guest asks something else, or ends otherwise, is an error
    /// (exit 1; a bad log, exit 2). Core modules only. See README, "Record
    /// and replay".
    #[arg(long, value_name = "LOG")]
    pub replay: Option<PathBuf>,
    /// TEST FIXTURE: run under stock, non-deterministic wasmtime-wasi, to see
    /// what the auditor reports for a context that leaks the host.
    #[arg(long)]
    pub no_determinism: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    WasmtimeWasi,
    #[cfg(feature = "wasi-common")]
    WasiCommon,
    /// Every backend built in (without the `wasi-common` feature, only
    /// wasmtime-wasi).
    All,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyChoice {
    Cranelift,
    Pulley,
    All,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendArg {
    WasmtimeWasi,
    #[cfg(feature = "wasi-common")]
    WasiCommon,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyArg {
    Cranelift,
    Pulley,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Backend {
        match b {
            BackendArg::WasmtimeWasi => Backend::WasmtimeWasi,
            #[cfg(feature = "wasi-common")]
            BackendArg::WasiCommon => Backend::WasiCommon,
        }
    }
}

impl From<StrategyArg> for Strategy {
    fn from(s: StrategyArg) -> Strategy {
        match s {
            StrategyArg::Cranelift => Strategy::Cranelift,
            StrategyArg::Pulley => Strategy::Pulley,
        }
    }
}

pub fn backend_arg(b: Backend) -> &'static str {
    b.name()
}

fn parse_clock(s: &str) -> Result<ClockPolicy, String> {
    match s {
        "frozen" => Ok(ClockPolicy::Frozen),
        "advance-on-sleep" => Ok(ClockPolicy::AdvanceOnSleep),
        _ => match s.strip_prefix("tick:") {
            Some(d) => parse_duration(d).map(ClockPolicy::Tick),
            None => Err(format!(
                "`{s}` is not a clock policy: use frozen, advance-on-sleep or tick:<duration>"
            )),
        },
    }
}

/// `<n><unit>` with unit ns, us, ms or s.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 1us, 5ms, 100ns or 2s"))?;
    match unit {
        "ns" => Ok(Duration::from_nanos(n)),
        "us" => Ok(Duration::from_micros(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        _ => Err(format!("`{s}`: the unit must be ns, us, ms or s")),
    }
}

fn parse_max_stack(s: &str) -> Result<u32, String> {
    match s {
        "default" => Ok(deterministic_wasi_ctx::engine::stack::DEFAULT_MAX_STACK),
        _ => match s.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "`{s}` is not a limit: give 1 to 4294967295 slots, or default"
            )),
        },
    }
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not K=V"))
}

impl Options {
    /// Passes these options on to a child process of this binary, but for
    /// `--stdin` and `--dir`: the child gets their bytes from the parent
    /// ([`super::child`]), never the host paths.
    pub fn forward(&self, command: &mut std::process::Command) {
        command
            .arg(format!("--runs={}", self.runs))
            .arg(format!("--fuel={}", self.fuel))
            .arg(format!("--seed={}", self.seed))
            .arg(format!("--clock={}", self.clock))
            .arg(format!(
                "--wall-start={}.{:09}",
                self.wall_start.as_secs(),
                self.wall_start.subsec_nanos()
            ));
        for arg in &self.args {
            command.arg(format!("--arg={arg}"));
        }
        for (k, v) in &self.env {
            command.arg(format!("--env={k}={v}"));
        }
        if self.no_determinism {
            command.arg("--no-determinism");
        }
        if let Some(slots) = self.max_stack {
            command.arg(format!("--max-stack={slots}"));
        }
        if let Some(log) = &self.replay {
            // The child may not share this process's directory.
            let log = std::path::absolute(log).unwrap_or_else(|_| log.clone());
            command.arg("--replay").arg(log);
        }
    }

    /// The audit configuration these options describe, with the host's
    /// `--stdin` and `--dir` read now.
    pub fn audit_config(&self) -> Result<AuditConfig, String> {
        self.audit_config_with(self.read_inputs()?)
    }

    /// Reads `--stdin` and snapshots every `--dir`, once.
    pub fn read_inputs(&self) -> Result<Inputs, String> {
        let stdin = match &self.stdin {
            Some(path) => {
                std::fs::read(path).map_err(|e| format!("--stdin {}: {e}", path.display()))?
            }
            None => Vec::new(),
        };
        let mut preopens = Vec::new();
        for dir in &self.dirs {
            let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
            let fs = VirtualFs::from_host_dir(host).map_err(|e| format!("--dir {host}: {e}"))?;
            preopens.push((guest.to_string(), fs));
        }
        Ok(Inputs { stdin, preopens })
    }

    /// The audit configuration these options describe, on `inputs` (in
    /// place of `--stdin` and `--dir`).
    pub fn audit_config_with(&self, inputs: Inputs) -> Result<AuditConfig, String> {
        if self
            .args
            .iter()
            .chain(self.env.iter().flat_map(|(k, v)| [k, v]))
            .any(|s| s.contains('\0'))
        {
            return Err("arguments and environment variables cannot contain NUL bytes".into());
        }
        if self.replay.is_some() && self.no_determinism {
            return Err("--replay and --no-determinism exclude each other: a replay's answers come from its log".into());
        }
        let mut config = DeterminismConfig::new()
            .seed(self.seed)
            .clock_policy(parse_clock(&self.clock).map_err(|why| format!("--clock: {why}"))?)
            .wall_start(self.wall_start)
            .args(self.args.clone())
            .env(self.env.clone())
            .stdin(inputs.stdin)
            .max_stack(self.max_stack);
        for (guest, fs) in inputs.preopens {
            config = config.preopen(guest, fs);
        }
        let backends = match self.backend {
            BackendChoice::WasmtimeWasi => vec![Backend::WasmtimeWasi],
            #[cfg(feature = "wasi-common")]
            BackendChoice::WasiCommon => vec![Backend::WasiCommon],
            BackendChoice::All => Backend::ALL.to_vec(),
        };
        let strategies = match self.strategy {
            StrategyChoice::Cranelift => vec![Strategy::Cranelift],
            StrategyChoice::Pulley => vec![Strategy::Pulley],
            StrategyChoice::All => vec![Strategy::Cranelift, Strategy::Pulley],
        };
        Ok(AuditConfig {
            runs: self.runs as usize,
            backends,
            strategies,
            spec: RunSpec {
                config,
                fuel: self.fuel,
                max_events: 10_000,
                stock: self.no_determinism,
                keep_memory: false,
                writes_from_signatures: false,
                replay: self.replay.clone(),
            },
            ignored_fields: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_policies_parse() {
        assert_eq!(parse_clock("frozen"), Ok(ClockPolicy::Frozen));
        assert_eq!(
            parse_clock("tick:5ms"),
            Ok(ClockPolicy::Tick(Duration::from_millis(5)))
        );
        assert!(parse_clock("tick:5").is_err());
        assert!(parse_clock("sometimes").is_err());
    }
}
