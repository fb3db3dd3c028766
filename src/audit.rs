//! Audit: run a program several times — fresh Stores, a fresh Engine,
//! optionally other backends and execution strategies — and report either
//! "deterministic" with the digest, or the first divergence.
//!
//! Within one backend and strategy every run must give the same
//! [`Fingerprint`] (status, stdout, stderr, memories, globals, fuel, host-call
//! trace). Strategies are compared the same way (Cranelift against the Pulley
//! interpreter: our stand-in for another platform). Backends are compared
//! the same way too: the crate serves every preview1 call whose stock
//! answers differ between them (descriptors, arguments and environment,
//! randomness, scheduling), so a difference between backends is a bug.
//! Poisoned runs (stack overflow, host resource exhaustion: see
//! [`Status::Poisoned`]) are reported, not compared, and never serve as the
//! reference: each other run is compared with the first *non-poisoned* run
//! of its backend and strategy (else of its backend, else of any), so a
//! divergence between the other runs is found whichever run was poisoned,
//! and outranks the poisoning. An audit with no divergence but a poisoned
//! run has the verdict [`Verdict::Poisoned`], not [`Verdict::Deterministic`].
//! A limit that is the same on every host (the Store limits of
//! [`engine`](crate::engine): memory, table and instance counts and sizes)
//! is not poisoning: its trap or refused growth is compared like any other
//! result.
//!
//! Each run is given [`RunSpec::config`] as an embedding would be, except
//! that stdout and stderr are captured to be compared: with the
//! configuration's [`output_limit`](crate::DeterminismConfig::output_limit),
//! whose answers past the limit are the same captured or discarded, so the
//! audit certifies what the default (discarding) embedding runs.
//!
//! # Example
//!
//! ```
//! use deterministic_wasi_ctx::audit::{self, AuditConfig};
//!
//! let wasm = wat::parse_str(r#"(module
//!     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
//!     (memory (export "memory") 1)
//!     (func (export "_start") (drop (call $r (i32.const 0) (i32.const 8)))))"#)?;
//! let report = audit::audit(&wasm, &AuditConfig::default())?;
//! assert!(report.divergence.is_none());
//! assert_eq!(report.verdict(), audit::Verdict::Deterministic);
//! assert_eq!(report.outcome.host_calls, 1);
//! # Ok::<(), wasmtime::Error>(())
//! ```

mod cleanup;
mod compare;
mod outcome;
mod reuse;
mod run;
mod verdict;

pub use cleanup::{remove_stock_copies_in_background, wait_for_stock_copies};
pub use outcome::{
    Difference, Fingerprint, Outcome, Status, first_difference, first_difference_ignoring, hex,
};
pub use reuse::{remove_kept_stock_copies, reuse_stock_copies};
pub use run::{Backend, Compiled, ComponentImports, RunSpec, Strategy, record, record_component};
pub use verdict::Verdict;

use crate::DeterminismConfig;
use std::fmt;

/// How to audit. `default()` gives 3 runs on wasmtime-wasi with Cranelift,
/// 10^9 fuel, the default [`DeterminismConfig`], 10,000 calls kept per run.
#[derive(Clone, Debug)]
pub struct AuditConfig {
    /// Runs per backend and strategy (at least 2; the last uses a fresh Engine).
    pub runs: usize,
    /// Backends for core modules (components always use wasmtime-wasi).
    pub backends: Vec<Backend>,
    /// Execution strategies.
    pub strategies: Vec<Strategy>,
    /// What each run is given.
    pub spec: RunSpec,
    /// Fingerprint fields left out of every comparison (names as
    /// [`Fingerprint::fields`] has them; see [`first_difference_ignoring`]).
    /// Empty by default: every field is compared.
    pub ignored_fields: Vec<String>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            runs: 3,
            backends: vec![Backend::WasmtimeWasi],
            strategies: vec![Strategy::Cranelift],
            spec: RunSpec {
                config: DeterminismConfig::new(),
                fuel: 1_000_000_000,
                max_events: 10_000,
                stock: false,
                keep_memory: false,
                writes_from_signatures: false,
                replay: None,
            },
            ignored_fields: Vec::new(),
        }
    }
}

impl AuditConfig {
    /// Checks that there is something to run: at least one backend and one
    /// strategy (the fields are public, so a caller can empty them).
    ///
    /// ```
    /// use deterministic_wasi_ctx::audit::AuditConfig;
    ///
    /// assert!(AuditConfig::default().check().is_ok());
    /// let none = AuditConfig { strategies: vec![], ..AuditConfig::default() };
    /// assert!(none.check().unwrap_err().to_string().contains("no execution strategy"));
    /// let typo = AuditConfig { ignored_fields: vec!["fuel".into()], ..AuditConfig::default() };
    /// assert!(typo.check().unwrap_err().to_string().contains("not a fingerprint field"));
    /// ```
    ///
    /// # Errors
    ///
    /// If `backends` or `strategies` is empty, or an ignored field is not a
    /// fingerprint field's name ([`Fingerprint::is_field_name`]: a typo would
    /// otherwise leave everything compared while the caller believes
    /// otherwise).
    pub fn check(&self) -> wasmtime::Result<()> {
        if self.backends.is_empty() {
            wasmtime::bail!("the audit configuration has no backend: give at least one");
        }
        if self.strategies.is_empty() {
            wasmtime::bail!("the audit configuration has no execution strategy: give at least one");
        }
        if let Some(name) = self
            .ignored_fields
            .iter()
            .find(|name| !Fingerprint::is_field_name(name))
        {
            wasmtime::bail!(
                "`{name}` is not a fingerprint field: status, stdout, stderr, fuel consumed, host calls, trace digest, memory NAME, global NAME or fs PATH"
            );
        }
        Ok(())
    }

    /// The first backend and the first strategy: what a single run uses
    /// (`trace`, a child process).
    ///
    /// # Errors
    ///
    /// As [`AuditConfig::check`].
    pub fn first_backend_and_strategy(&self) -> wasmtime::Result<(Backend, Strategy)> {
        self.check()?;
        Ok((self.backends[0], self.strategies[0]))
    }
}

/// Which run a result came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLabel {
    /// Backend name.
    pub backend: &'static str,
    /// Strategy name.
    pub strategy: &'static str,
    /// Index among the runs of this backend and strategy.
    pub index: usize,
    /// Whether the run used an Engine of its own.
    pub fresh_engine: bool,
    /// Whether the run happened in a child process.
    pub child_process: bool,
    /// The wasmtime major the run linked
    /// ([`WASMTIME_MAJOR`](crate::engine::WASMTIME_MAJOR) for this build's
    /// own runs; another for a run of another major's build).
    pub wasmtime: u32,
}

impl fmt::Display for RunLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "run {} ({}/{} on wasmtime {}",
            self.index, self.backend, self.strategy, self.wasmtime
        )?;
        if self.fresh_engine {
            f.write_str(", fresh engine")?;
        }
        if self.child_process {
            f.write_str(", child process")?;
        }
        f.write_str(")")
    }
}

/// Two runs that differ, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The run compared against.
    pub expected: RunLabel,
    /// The run that differs.
    pub actual: RunLabel,
    /// The first difference.
    pub difference: Difference,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} vs {}: {}",
            self.expected, self.actual, self.difference
        )
    }
}

/// The result of an audit.
#[derive(Clone, Debug)]
pub struct Report {
    /// The first run's outcome (poisoned or not: see [`Report::verdict`]).
    pub outcome: Outcome,
    /// Every run's label and fingerprint, in the order they ran.
    pub runs: Vec<(RunLabel, Fingerprint)>,
    /// The first divergence, if any.
    pub divergence: Option<Divergence>,
    /// The fields left out of the comparisons ([`AuditConfig::ignored_fields`]).
    pub ignored_fields: Vec<String>,
}

impl Report {
    /// The reference digest.
    ///
    /// # Panics
    ///
    /// If `runs` is empty (never for a report [`audit`] returns).
    pub fn digest(&self) -> [u8; 32] {
        self.runs[0].1.digest
    }

    /// Adds a run ([`audit`] adds each of its own runs this way, the CLI a
    /// child process's) and, unless a divergence is already known, compares
    /// it with its reference: the first
    /// non-poisoned run of the same backend and strategy (else of the same
    /// backend, else of any), whichever runs were poisoned.
    pub fn add_run(&mut self, label: RunLabel, fingerprint: Fingerprint) {
        if self.divergence.is_none() {
            self.divergence = compare::compare_with_earlier(
                &self.runs,
                &label,
                &fingerprint,
                &self.ignored_fields,
            );
        }
        self.runs.push((label, fingerprint));
    }
}

/// Audits `wasm` (a core module or component, binary) as `config` says.
/// Compiles once per Engine and reuses the compiled program across Stores.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::audit::{AuditConfig, Verdict, audit};
///
/// let wasm = wat::parse_str(r#"(module
///     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $r (i32.const 0) (i32.const 16)))))"#)?;
/// let report = audit(&wasm, &AuditConfig::default())?;
/// assert_eq!(report.verdict(), Verdict::Deterministic);
/// // Stock wasmtime-wasi's random bytes differ from run to run.
/// let mut stock = AuditConfig::default();
/// stock.spec.stock = true;
/// assert_eq!(audit(&wasm, &stock)?.verdict(), Verdict::Diverged);
/// # Ok::<(), wasmtime::Error>(())
/// ```
///
/// # Errors
///
/// If `config` has no backend or no strategy ([`AuditConfig::check`]), the
/// program does not compile, imports something the context does not
/// provide, or an engine cannot be built. Traps and exits are outcomes, not
/// errors.
pub fn audit(wasm: &[u8], config: &AuditConfig) -> wasmtime::Result<Report> {
    config.check()?;
    run::no_component_replay(wasm, &config.spec)?;
    let max_stack = config.spec.config.get_max_stack();
    let wasm = &*crate::engine::stack::prepare(wasm, max_stack)?;
    let runs = config.runs.max(2);
    let is_component = wasmparser::Parser::is_component(wasm);
    let backends: Vec<Backend> = if is_component {
        vec![Backend::WasmtimeWasi]
    } else {
        config.backends.clone()
    };
    let mut report: Option<Report> = None;
    for &strategy in &config.strategies {
        let engine = strategy.engine()?;
        let compiled = Compiled::new(&engine, wasm)?;
        for &backend in &backends {
            compiled.check_links(&engine, backend)?;
        }
        for &backend in &backends {
            for index in 0..runs {
                let fresh_engine = index == runs - 1;
                let outcome = if fresh_engine {
                    let engine = strategy.engine()?;
                    Compiled::new(&engine, wasm)?.run(&engine, backend, &config.spec)
                } else {
                    compiled.run(&engine, backend, &config.spec)
                };
                let label = RunLabel {
                    backend: backend.name(),
                    strategy: strategy.name(),
                    index,
                    fresh_engine,
                    child_process: false,
                    wasmtime: crate::engine::WASMTIME_MAJOR,
                };
                let fingerprint = Fingerprint::of(&outcome);
                match &mut report {
                    Some(report) => report.add_run(label, fingerprint),
                    None => {
                        report = Some(Report {
                            outcome,
                            runs: vec![(label, fingerprint)],
                            divergence: None,
                            ignored_fields: config.ignored_fields.clone(),
                        })
                    }
                }
            }
        }
    }
    let report = report.ok_or_else(|| wasmtime::Error::msg("the audit made no run"))?;
    if max_stack.is_some() {
        native_overflow_is_a_bug(&report.runs)?;
    }
    Ok(report)
}

/// With a logical stack limit on, a native stack overflow means the limit
/// did not fire first: the guarantee of [`engine::stack`](crate::engine::stack)
/// failed, which is a bug in this crate, not a guest result. Reported as an
/// error naming the run instead of a quiet POISONED verdict.
fn native_overflow_is_a_bug(runs: &[(RunLabel, Fingerprint)]) -> wasmtime::Result<()> {
    let overflow = Status::native_stack_overflow().to_string();
    for (label, fingerprint) in runs {
        if fingerprint.status() == overflow {
            wasmtime::bail!(
                "BUG: {label} overflowed the native stack with the logical stack limit on: \
                 the limit must fire first (please report this program)"
            );
        }
    }
    Ok(())
}
