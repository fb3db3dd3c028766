//! Fuzz targets for `deterministic-wasi-ctx`.
//!
//! Each target is a library function `run(&mut Unstructured)` in its own
//! module; `fuzz_targets/<name>.rs` is a thin libFuzzer shim around it, and
//! `src/tests.rs` drives the same functions on stable Rust (seeded smoke
//! runs and a replay of `corpus/<name>/`). `Err(_)` from `run` means "this
//! input exercised nothing" (it ran out of bytes): not a failure. A real bug
//! panics, with the input's Debug form and the module's text in the message.
//!
//! Set `DWC_FUZZ_DUMP=<dir>` to write every generated module there (as
//! `<blake3>.wasm` and `.wat`) and `DWC_FUZZ_STATS=1` to print, every 1024
//! executions, how many made at least one host call, and for `p1_smith` and
//! `strategy_diff` how many made a `path_*` call, had one succeed and
//! changed a preopened tree ([`record_paths`]; `p1_smith` then keeps its
//! runs' calls in full to read them).

pub mod backend_diff;
pub mod baseline;
pub mod calls;
#[cfg(test)]
mod census;
#[cfg(test)]
mod census_components_tests;
#[cfg(test)]
mod census_logs_tests;
#[cfg(all(test, feature = "p3-guests"))]
mod census_tasks_tests;
#[cfg(test)]
mod census_tests;
pub mod fs_diff;
pub mod input;
pub mod p1_script;
pub mod p1_smith;
pub mod p2_fs;
pub mod p2_script;
pub mod p3_fs;
#[cfg(feature = "p3-guests")]
pub mod p3_tasks;
pub mod p3_waits;
#[cfg(test)]
mod reach_tests;
pub mod replay_log;
pub mod runs;
pub mod seeds;
#[cfg(test)]
mod stack_tests;
pub use runs::{shared_engine, spec};
pub mod stock_diff;
pub mod strategy_diff;
#[cfg(test)]
mod tests;

use arbitrary::{Arbitrary, Unstructured};
use deterministic_wasi_ctx::audit::{
    AuditConfig, Backend, Fingerprint, Outcome, Report, RunSpec, Status, Strategy, audit,
};
use deterministic_wasi_ctx::{ClockPolicy, DeterminismConfig, VirtualFs};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use wasm_encoder::{EntityType, ImportSection, Module, TypeSection, ValType};

/// Fuel per run: small, so generated infinite loops end quickly.
pub const FUEL: u64 = 100_000;

/// The `wasi_snapshot_preview1` functions (witx) and their core parameter
/// types (`i` = i32, `I` = i64). All return an i32 errno except `proc_exit`.
pub const P1_FUNCTIONS: &[(&str, &str)] = &[
    ("args_get", "ii"),
    ("args_sizes_get", "ii"),
    ("environ_get", "ii"),
    ("environ_sizes_get", "ii"),
    ("clock_res_get", "ii"),
    ("clock_time_get", "iIi"),
    ("fd_advise", "iIIi"),
    ("fd_allocate", "iII"),
    ("fd_close", "i"),
    ("fd_datasync", "i"),
    ("fd_fdstat_get", "ii"),
    ("fd_fdstat_set_flags", "ii"),
    ("fd_fdstat_set_rights", "iII"),
    ("fd_filestat_get", "ii"),
    ("fd_filestat_set_size", "iI"),
    ("fd_filestat_set_times", "iIIi"),
    ("fd_pread", "iiiIi"),
    ("fd_prestat_get", "ii"),
    ("fd_prestat_dir_name", "iii"),
    ("fd_pwrite", "iiiIi"),
    ("fd_read", "iiii"),
    ("fd_readdir", "iiiIi"),
    ("fd_renumber", "ii"),
    ("fd_seek", "iIii"),
    ("fd_sync", "i"),
    ("fd_tell", "ii"),
    ("fd_write", "iiii"),
    ("path_create_directory", "iii"),
    ("path_filestat_get", "iiiii"),
    ("path_filestat_set_times", "iiiiIIi"),
    ("path_link", "iiiiiii"),
    ("path_open", "iiiiiIIii"),
    ("path_readlink", "iiiiii"),
    ("path_remove_directory", "iii"),
    ("path_rename", "iiiiii"),
    ("path_symlink", "iiiii"),
    ("path_unlink_file", "iii"),
    ("poll_oneoff", "iiii"),
    ("proc_exit", "i"),
    ("proc_raise", "i"),
    ("sched_yield", ""),
    ("random_get", "ii"),
    ("sock_accept", "iii"),
    ("sock_recv", "iiiiii"),
    ("sock_send", "iiiii"),
    ("sock_shutdown", "ii"),
];

/// The `wasi_unstable` (preview0) functions offered too (same signatures).
pub const P0_FUNCTIONS: &[&str] = &[
    "args_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "environ_sizes_get",
    "fd_fdstat_get",
    "fd_write",
    "fd_read",
    "poll_oneoff",
    "proc_exit",
    "random_get",
    "sched_yield",
];

fn signature(params: &str) -> Vec<ValType> {
    params
        .chars()
        .map(|c| if c == 'I' { ValType::I64 } else { ValType::I32 })
        .collect()
}

/// A module importing every preview1 function (and [`P0_FUNCTIONS`] from
/// `wasi_unstable`): wasm-smith's `available_imports`.
pub fn wasi_imports() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut types = TypeSection::new();
        let mut imports = ImportSection::new();
        let p0 = P1_FUNCTIONS
            .iter()
            .filter(|(name, _)| P0_FUNCTIONS.contains(name));
        let all = P1_FUNCTIONS
            .iter()
            .map(|f| ("wasi_snapshot_preview1", f))
            .chain(p0.map(|f| ("wasi_unstable", f)));
        for (index, (module, (name, params))) in all.enumerate() {
            let results: &[ValType] = if *name == "proc_exit" {
                &[]
            } else {
                &[ValType::I32]
            };
            types
                .ty()
                .function(signature(params), results.iter().copied());
            imports.import(module, name, EntityType::Function(index as u32));
        }
        let mut module = Module::new();
        module.section(&types).section(&imports);
        module.finish()
    })
}

/// The exports every generated module must have: `memory` (1 to 4 pages,
/// so hashing it and growing it stay cheap) and `_start`.
pub fn wasi_exports() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        wat::parse_str(r#"(module (memory (export "memory") 1 4) (func (export "_start")))"#)
            .expect("valid exports module")
    })
}

/// Which execution strategies a generated module must be valid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Cranelift only.
    Cranelift,
    /// Cranelift and the Pulley interpreter.
    Pulley,
}

/// The wasm-smith configuration: WASI imports and exports, proposals the
/// deterministic engine accepts, small memories (every run hashes them),
/// and small functions. Some knobs come from the input.
pub fn smith_config(
    u: &mut Unstructured,
    _flavor: Flavor,
) -> arbitrary::Result<wasm_smith::Config> {
    let mut config = wasm_smith::Config {
        available_imports: Some(wasi_imports().to_vec()),
        exports: Some(wasi_exports().to_vec()),
        max_imports: 100,
        max_memories: 1,
        min_memories: 1,
        max_memory32_bytes: 4 << 16,
        memory_max_size_required: true,
        memory64_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        custom_page_sizes_enabled: false,
        custom_descriptors_enabled: false,
        wide_arithmetic_enabled: false,
        max_tables: 2,
        max_table_elements: 1_000,
        max_funcs: 100,
        max_instructions: 100,
        max_data_segments: 8,
        max_element_segments: 8,
        max_elements: 100,
        max_globals: 10,
        max_types: 20,
        max_tags: 0,
        allow_start_export: false,
        ..wasm_smith::Config::default()
    };
    // A quarter of the inputs use every enabled instruction. The rest leave
    // out SIMD, floats and traps, so that `call` is a much larger share of
    // what wasm-smith picks and fewer runs trap before a host call; half of
    // all inputs also leave out numeric instructions (values then come from
    // locals, globals, loads and host-call results).
    use wasm_smith::InstructionKind as K;
    let mode = u.int_in_range(0u8..=3)?;
    if mode > 0 {
        config.simd_enabled = false;
        config.relaxed_simd_enabled = false;
        config.disallow_traps = true;
        let mut kinds = vec![K::Variable, K::Parametric, K::Control, K::MemoryInt];
        if mode == 1 {
            kinds.push(K::NumericInt);
        }
        config.allowed_instructions = wasm_smith::InstructionKinds::new(&kinds);
    }
    Ok(config)
}

/// A wasm-smith module for `flavor`, from the rest of the input, with a
/// prelude of WASI calls at the start of `_start` ([`calls::add_calls`]).
/// The input's first byte says how many of the following bytes (4 per unit,
/// up to 1,020: a full prelude takes about 300; at most half of what is
/// left) describe the prelude; wasm-smith gets the rest, so neither can
/// starve the other (wasm-smith spends a byte per offered import to decide
/// whether to import it: with no bytes the module imports nothing).
pub fn smith_module(u: &mut Unstructured, flavor: Flavor) -> arbitrary::Result<Vec<u8>> {
    let prelude_len = (4 * usize::from(u.arbitrary::<u8>()?)).min(u.len() / 2);
    let prelude = u.bytes(prelude_len)?;
    let config = smith_config(u, flavor)?;
    let module = wasm_smith::Module::new(config, u)?.to_bytes();
    let (module, _calls) = calls::add_calls(&module, &mut Unstructured::new(prelude))?;
    Ok(module)
}

/// The module's text, for failure messages (or why it cannot be printed).
pub fn wat_of(wasm: &[u8]) -> String {
    wasmprinter::print_bytes(wasm).unwrap_or_else(|e| format!("(unprintable: {e})"))
}

/// Writes `wasm` (and its text) to `$DWC_FUZZ_DUMP`, if set.
pub fn dump(wasm: &[u8]) {
    if let Some(dir) = std::env::var_os("DWC_FUZZ_DUMP") {
        let dir = std::path::PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let name = deterministic_wasi_ctx::audit::hex(&blake3::hash(wasm).as_bytes()[..8]);
        let _ = std::fs::write(dir.join(format!("{name}.wasm")), wasm);
        let _ = std::fs::write(dir.join(format!("{name}.wat")), wat_of(wasm));
    }
}

/// A preview1 backend chosen by the input.
pub fn backend(u: &mut Unstructured) -> arbitrary::Result<Backend> {
    Ok(if u.arbitrary::<bool>()? {
        Backend::WasiCommon
    } else {
        Backend::WasmtimeWasi
    })
}

/// The clock policy and context settings, chosen by the input.
#[derive(Clone, Debug, Arbitrary)]
pub struct ContextInput {
    /// Seed of the random streams.
    pub seed: u64,
    /// Clock policy.
    pub policy: PolicyInput,
    /// Wall clock start, in nanoseconds after the epoch.
    pub wall_start_nanos: u64,
    /// Monotonic clock start.
    pub monotonic_start: u64,
}

/// A clock policy.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum PolicyInput {
    /// `ClockPolicy::Frozen`.
    Frozen,
    /// `ClockPolicy::AdvanceOnSleep`.
    AdvanceOnSleep,
    /// `ClockPolicy::Tick(step ns)`.
    Tick(u32),
}

impl ContextInput {
    /// The policy.
    pub fn policy(&self) -> ClockPolicy {
        match self.policy {
            PolicyInput::Frozen => ClockPolicy::Frozen,
            PolicyInput::AdvanceOnSleep => ClockPolicy::AdvanceOnSleep,
            PolicyInput::Tick(ns) => ClockPolicy::Tick(Duration::from_nanos(u64::from(ns))),
        }
    }

    /// The model's view of these settings.
    pub fn model(&self) -> proptests::model::ModelConfig {
        proptests::model::ModelConfig {
            seed: self.seed,
            wall_start: Duration::from_nanos(self.wall_start_nanos),
            monotonic_start: self.monotonic_start,
            policy: self.policy(),
        }
    }

    /// The real configuration: the model's
    /// ([`to_config`](proptests::model::ModelConfig::to_config)) with
    /// [`tree`] preopened writable as `/` (fd 3) and read-only as `/ro`
    /// (fd 4). The model leaves the trees out: no script operation reaches
    /// them (a `poll_oneoff` subscription on fd 3 or 4, a directory, is
    /// `EBADF` as on any fd but stdio), and preview2 contexts serve no
    /// preopens (`p2_script`'s component sees no directory either way).
    pub fn config(&self) -> DeterminismConfig {
        self.model()
            .to_config()
            .preopen("/", tree().clone())
            .preopen_read_only("/ro", tree().clone())
    }
}

/// The bytes of file `a` in [`tree`].
pub const TREE_A: &[u8] = b"hello, preopen\n";

/// The tree the wasm-smith and script targets preopen
/// ([`ContextInput::config`]): `fs_diff`'s
/// ([`fs_diff_tree`](deterministic_wasi_ctx::script::fs::fs_diff_tree)),
/// with [`TREE_A`] as the bytes of `a`. Made once per process, so each
/// Store's copy costs nothing ([`FsTree::new`](deterministic_wasi_ctx::fs::FsTree::new)
/// is O(1) after a snapshot's first tree).
pub fn tree() -> &'static VirtualFs {
    static TREE: OnceLock<VirtualFs> = OnceLock::new();
    TREE.get_or_init(|| deterministic_wasi_ctx::script::fs::fs_diff_tree(TREE_A))
}

/// Executions and executions with at least one host call, per process.
pub static EXECUTIONS: AtomicU64 = AtomicU64::new(0);
/// See [`EXECUTIONS`].
pub static WITH_HOST_CALLS: AtomicU64 = AtomicU64::new(0);

/// Host calls made by all executions, per process (see [`EXECUTIONS`]).
pub static HOST_CALLS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The host calls of this thread's last recorded execution (corpus
    /// replay reads it: see [`replay_corpus`]).
    static LAST_HOST_CALLS: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Whether statistics beyond the host-call count are collected: the
/// `DWC_FUZZ_STATS` variable is set (read once) or [`collect_stats`] was
/// called. Off, the smith targets keep no calls in full (their runs are
/// digest-only) and [`record_paths`] does nothing.
pub fn stats_on() -> bool {
    static FROM_ENV: OnceLock<bool> = OnceLock::new();
    COLLECT_STATS.load(Ordering::Relaxed)
        || *FROM_ENV.get_or_init(|| std::env::var_os("DWC_FUZZ_STATS").is_some())
}

/// Turns statistics on for this process without the environment variable
/// (a survey test does: see [`stats_on`]). Nothing is printed unless
/// `DWC_FUZZ_STATS` is set.
pub fn collect_stats() {
    COLLECT_STATS.store(true, Ordering::Relaxed);
}

static COLLECT_STATS: AtomicBool = AtomicBool::new(false);

/// Draws a value with `draw`, again while `empty` says it has nothing to run
/// and bytes are left: `arbitrary` stops a list with a coin flip per
/// element, so half of all draws are empty, and a script with no operation
/// would make no host call. `Err` only when the bytes run out first.
pub fn non_empty<T>(
    u: &mut Unstructured,
    mut draw: impl FnMut(&mut Unstructured) -> arbitrary::Result<T>,
    empty: impl Fn(&T) -> bool,
) -> arbitrary::Result<T> {
    loop {
        let value = draw(u)?;
        if !empty(&value) {
            return Ok(value);
        }
        if u.is_empty() {
            return Err(arbitrary::Error::NotEnoughData);
        }
    }
}

/// The host calls of this thread's last recorded execution ([`record`]),
/// `None` if none was recorded since [`forget_last_host_calls`].
pub fn last_host_calls() -> Option<u64> {
    LAST_HOST_CALLS.with(|last| last.get())
}

/// Clears [`last_host_calls`] before an execution.
pub fn forget_last_host_calls() {
    LAST_HOST_CALLS.with(|last| last.set(None));
}

/// Counts one execution.
pub fn record(host_calls: u64) {
    LAST_HOST_CALLS.with(|last| last.set(Some(host_calls)));
    let n = EXECUTIONS.fetch_add(1, Ordering::Relaxed) + 1;
    let with = WITH_HOST_CALLS.fetch_add(u64::from(host_calls > 0), Ordering::Relaxed)
        + u64::from(host_calls > 0);
    let calls = HOST_CALLS.fetch_add(host_calls, Ordering::Relaxed) + host_calls;
    if n.is_multiple_of(1024) && std::env::var_os("DWC_FUZZ_STATS").is_some() {
        eprintln!(
            "dwc-stats: {with}/{n} executions made >= 1 host call ({:.1}%), {:.1} calls per execution",
            100.0 * with as f64 / n as f64,
            calls as f64 / n as f64
        );
    }
}

/// What one execution did with the preopened trees ([`path_use`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathUse {
    /// It made at least one `path_*` call.
    pub called: bool,
    /// At least one `path_*` call returned errno 0.
    pub succeeded: bool,
    /// A preopened tree ended different from how it started: names, types,
    /// contents, inodes, link counts, sizes or times
    /// ([`FsTree::digest`](deterministic_wasi_ctx::fs::FsTree::digest);
    /// reads change no time).
    pub changed: bool,
}

/// What `outcome`, a run under `config`, did with its preopened trees.
///
/// The calls are read from the kept ones ([`Outcome::events`]: a
/// digest-only run shows none, and a `path_*` call after the first
/// `max_events` calls is missed). Each final tree is compared, by digest,
/// with the same preopen in a context freshly built from `config` (a few
/// microseconds: only statistics pay for it).
pub fn path_use(outcome: &Outcome, config: &DeterminismConfig) -> PathUse {
    use deterministic_wasi_ctx::trace::CallResult;
    let paths = || {
        outcome
            .events
            .iter()
            .filter(|call| call.name.starts_with("path_"))
    };
    let initial = config.build_p1();
    let mounts = initial.descriptors().mounts();
    PathUse {
        called: paths().next().is_some(),
        succeeded: paths().any(
            |call| matches!(&call.result, CallResult::Returned(values) if values.first() == Some(&0)),
        ),
        changed: outcome.filesystems.len() != mounts.len()
            || outcome
                .filesystems
                .iter()
                .zip(mounts)
                .any(|((_, tree), mount)| tree.digest() != mount.tree.digest()),
    }
}

/// Executions counted by [`record_paths`], and how many of them called
/// `path_*`, had one succeed and changed a tree, per process.
static PATH_COUNTS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

thread_local! {
    /// This thread's last execution counted by [`record_paths`].
    static LAST_PATH_USE: std::cell::Cell<Option<PathUse>> = const { std::cell::Cell::new(None) };
}

/// Counts what one execution of a wasm-smith target did with the preopened
/// trees ([`path_use`]) when [`stats_on`] (else does nothing); with
/// `DWC_FUZZ_STATS` set, prints the shares every 1024 such executions.
pub fn record_paths(outcome: &Outcome, config: &DeterminismConfig) {
    if !stats_on() {
        return;
    }
    let paths = path_use(outcome, config);
    LAST_PATH_USE.with(|last| last.set(Some(paths)));
    let flags = [true, paths.called, paths.succeeded, paths.changed];
    let [n, called, succeeded, changed] = std::array::from_fn(|i| {
        let add = u64::from(flags[i]);
        PATH_COUNTS[i].fetch_add(add, Ordering::Relaxed) + add
    });
    if n.is_multiple_of(1024) && std::env::var_os("DWC_FUZZ_STATS").is_some() {
        let share = |k: u64| 100.0 * k as f64 / n as f64;
        eprintln!(
            "dwc-stats: of {n} executions, {called} made >= 1 path_* call ({:.1}%), {succeeded} a successful one ({:.1}%), {changed} changed a preopened tree ({:.1}%)",
            share(called),
            share(succeeded),
            share(changed)
        );
    }
}

/// What this thread's last execution counted by [`record_paths`] did.
pub fn last_path_use() -> Option<PathUse> {
    LAST_PATH_USE.with(|last| last.get())
}

/// Audits `wasm` as `config` says and panics with context on an error (an
/// invalid or unlinkable module is a generator bug) or a divergence.
pub fn check_audit(
    target: &str,
    wasm: &[u8],
    config: &AuditConfig,
    input: &dyn std::fmt::Debug,
) -> Report {
    dump(wasm);
    let report = match audit(wasm, config) {
        Ok(report) => report,
        Err(error) => panic!(
            "{target}: audit failed (generator produced an unusable module): {error:?}\ninput: {input:?}\nmodule:\n{}",
            wat_of(wasm)
        ),
    };
    if let Some(divergence) = &report.divergence {
        panic!(
            "{target}: divergence: {divergence}\nruns:\n{}\ninput: {input:?}\nmodule:\n{}",
            describe_runs(&report.runs),
            wat_of(wasm)
        );
    }
    record(report.outcome.host_calls);
    report
}

/// The fast form of [`check_audit`] for one backend on Cranelift, used by
/// `p1_smith`: two runs on the shared Engine and a third on a fresh one
/// ([`check_fast_on`]).
pub fn check_fast(
    target: &str,
    wasm: &[u8],
    backend: Backend,
    spec: &RunSpec,
    input: &dyn std::fmt::Debug,
) -> Outcome {
    check_fast_on(
        target,
        wasm,
        &[backend],
        &[Strategy::Cranelift],
        2,
        spec,
        input,
    )
}

/// The fast form of [`check_audit`]: for each strategy the module is
/// compiled once on the shared Engine ([`shared_engine`]); for each backend
/// it runs `shared_runs` times there, each in a fresh Store, then once more
/// loaded (deserialized, not recompiled) into a fresh Engine. Every
/// fingerprint must equal the first unpoisoned one — across Stores,
/// Engines, backends and strategies, field for field, as the audit compares
/// them — and poisoned runs are set aside. [`check_audit`] compiles again
/// for each fresh Engine (`audit` must: it cannot assume a compile is
/// deterministic); here a compile on each strategy is already compared with
/// the other strategy, so doing it again would only double the cost of an
/// execution. Returns the first run's outcome.
pub fn check_fast_on(
    target: &str,
    wasm: &[u8],
    backends: &[Backend],
    strategies: &[Strategy],
    shared_runs: usize,
    spec: &RunSpec,
    input: &dyn std::fmt::Debug,
) -> Outcome {
    use deterministic_wasi_ctx::audit::{Compiled, first_difference};
    dump(wasm);
    let names = |list: &[&str]| list.join(", ");
    let fail = |what: String| -> ! {
        panic!(
            "{target}: {what}\nbackends: {}\nstrategies: {}\ninput: {input:?}\nmodule:\n{}",
            names(&backends.iter().map(|b| b.name()).collect::<Vec<_>>()),
            names(&strategies.iter().map(|s| s.name()).collect::<Vec<_>>()),
            wat_of(wasm)
        )
    };
    // What runs: `wasm` under `spec`'s logical stack limit, if it has one,
    // rewritten once for every strategy.
    let prepared =
        deterministic_wasi_ctx::engine::stack::prepare(wasm, spec.config.get_max_stack())
            .unwrap_or_else(|e| fail(format!("does not compile (generator bug): {e:?}")));
    // Per strategy: the shared Engine, the compiled module and its bytes.
    let compiled: Vec<_> = strategies
        .iter()
        .map(|&strategy| {
            let engine = shared_engine(strategy);
            let compiled = Compiled::new(engine, &prepared)
                .unwrap_or_else(|e| fail(format!("does not compile (generator bug): {e:?}")));
            for &backend in backends {
                if let Err(e) = compiled.check_links(engine, backend) {
                    fail(format!("does not link (generator bug): {e:?}"));
                }
            }
            let Compiled::Module(module) = &compiled else {
                fail("not a core module".into());
            };
            let serialized = module
                .serialize()
                .unwrap_or_else(|e| fail(format!("serialize: {e:?}")));
            (strategy, engine, compiled, serialized)
        })
        .collect();
    // Digest only (no per-call text) unless statistics are on
    // ([`record_paths`] reads the calls): the trace digest is a fingerprint
    // field, so any difference in any call still shows. Only a divergence
    // pays for the calls in full, to name the first one.
    let all_runs = |spec: &RunSpec| {
        let mut outcomes = Vec::new();
        for (strategy, engine, compiled, serialized) in &compiled {
            for &backend in backends {
                for _ in 0..shared_runs {
                    let label = format!("{}/{} shared engine", backend.name(), strategy.name());
                    outcomes.push((label, compiled.run(engine, backend, spec)));
                }
                let fresh = strategy.engine().expect("engine");
                // SAFETY: produced by `Module::serialize` in this process
                // for an engine with the same configuration.
                let module = unsafe { wasmtime::Module::deserialize(&fresh, serialized) }
                    .unwrap_or_else(|e| fail(format!("deserialize into a fresh engine: {e:?}")));
                let label = format!("{}/{} fresh engine", backend.name(), strategy.name());
                outcomes.push((label, Compiled::Module(module).run(&fresh, backend, spec)));
            }
        }
        outcomes
    };
    let first_divergence = |outcomes: &[(String, Outcome)]| {
        let first = outcomes.iter().position(|(_, o)| !o.is_poisoned())?;
        let (reference_label, reference) = &outcomes[first];
        let reference_fingerprint = Fingerprint::of(reference);
        outcomes.iter().enumerate().find_map(|(index, (label, outcome))| {
            if outcome.is_poisoned() {
                return None;
            }
            let fingerprint = Fingerprint::of(outcome);
            first_difference(&reference_fingerprint, &fingerprint, None).map(|difference| {
                format!(
                    "run {index} ({label}) differs from run {first} ({reference_label}): {difference}\nrun {first}: {:?}\nrun {index}: {:?}",
                    reference_fingerprint.fields, fingerprint.fields
                )
            })
        })
    };
    let quick = RunSpec {
        max_events: if stats_on() { spec.max_events } else { 0 },
        ..spec.clone()
    };
    let mut outcomes = all_runs(&quick);
    let overflow = Status::native_stack_overflow();
    if spec.config.get_max_stack().is_some()
        && let Some((label, _)) = outcomes.iter().find(|(_, o)| o.status == overflow)
    {
        fail(format!(
            "{label} overflowed the native stack with the logical stack limit on"
        ));
    }
    if let Some(found) = first_divergence(&outcomes) {
        let detailed = first_divergence(&all_runs(spec));
        fail(detailed.unwrap_or_else(|| format!("{found}\n(not reproduced with full events)")));
    }
    let (_, outcome) = outcomes.swap_remove(0);
    record(outcome.host_calls);
    outcome
}

fn describe_runs(runs: &[(deterministic_wasi_ctx::audit::RunLabel, Fingerprint)]) -> String {
    runs.iter()
        .map(|(label, f)| format!("  {label}: {:?}\n", f.fields))
        .collect()
}

/// Deterministic pseudo-random input buffers (splitmix64), for smoke tests.
pub fn seeded_inputs(seed: u64, count: usize, len: usize) -> Vec<Vec<u8>> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..count)
        .map(|_| (0..len).map(|_| next() as u8).collect())
        .collect()
}

/// Runs `target` on `count` seeded buffers of `len` bytes; returns how many
/// were not rejected (ran to the end).
pub fn test_n_times(
    count: usize,
    seed: u64,
    len: usize,
    target: impl Fn(&mut Unstructured) -> arbitrary::Result<()>,
) -> usize {
    seeded_inputs(seed, count, len)
        .iter()
        .filter(|data| target(&mut Unstructured::new(&input::continued(data))).is_ok())
        .count()
}

/// Runs `target` on `count` seeded inputs of `len` bytes (as
/// [`test_n_times`] does), going on past a difference: returns one example
/// per kind of difference (the panic's first line and the call it names),
/// after printing each. For survey runs that list every kind at once.
pub fn survey(
    seed: u64,
    count: usize,
    len: usize,
    target: impl Fn(&mut Unstructured) -> arbitrary::Result<()> + std::panic::RefUnwindSafe,
) -> std::collections::BTreeMap<String, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut seen = std::collections::BTreeMap::new();
    for data in seeded_inputs(seed, count, len) {
        let result = std::panic::catch_unwind(|| {
            let _ = target(&mut Unstructured::new(&input::continued(&data)));
        });
        if let Err(e) = result {
            let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
            let lines: Vec<&str> = msg.lines().take(4).collect();
            let call = lines
                .get(1)
                .map(|l| l.split(['{', '(']).next().unwrap_or("").to_string())
                .unwrap_or_default();
            let key = format!("{} {call}", lines.first().unwrap_or(&""));
            seen.entry(key).or_insert_with(|| lines.join("\n"));
        }
    }
    std::panic::set_hook(hook);
    for (kind, example) in &seen {
        eprintln!("== {kind}\n{example}\n");
    }
    seen
}

/// Feeds every file of `corpus/<name>/` to `target` and checks what each
/// did against `corpus/<name>.manifest`: one line per file, `NAME ran N`
/// (decoded and made N host calls, `-` if the target records none) or
/// `NAME rejected` (ran out of bytes). A committed input that no longer
/// decodes, or no longer reaches the host calls it was saved for (a
/// generator change moved it elsewhere), fails the replay instead of passing
/// silently. Set `DWC_BLESS_CORPUS=1` to rewrite the manifest after a
/// deliberate change (and review its diff). Returns how many files there
/// were.
pub fn replay_corpus(
    name: &str,
    target: impl Fn(&mut Unstructured) -> arbitrary::Result<()>,
) -> usize {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    let dir = root.join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut seen = String::new();
    for file in &files {
        let data = std::fs::read(file).expect("read corpus file");
        eprintln!("replaying {}", file.display());
        LAST_HOST_CALLS.with(|last| last.set(None));
        let result = target(&mut Unstructured::new(&input::continued(&data)));
        let calls = LAST_HOST_CALLS.with(|last| last.get());
        let file_name = file.file_name().expect("file name").to_string_lossy();
        let what = match (result, calls) {
            (Err(_), _) => "rejected".to_string(),
            (Ok(()), Some(calls)) => format!("ran {calls}"),
            (Ok(()), None) => "ran -".to_string(),
        };
        seen.push_str(&format!("{file_name} {what}\n"));
    }
    let manifest = root.join(format!("{name}.manifest"));
    if std::env::var_os("DWC_BLESS_CORPUS").is_some() {
        std::fs::write(&manifest, &seen).expect("write manifest");
    } else {
        let expected = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
            panic!("{}: {e} (DWC_BLESS_CORPUS=1 writes it)", manifest.display())
        });
        if let Err(why) = compare_manifest(&expected, &seen) {
            panic!(
                "corpus/{name} is stale: {why} (a generator change? DWC_BLESS_CORPUS=1 rewrites {} after review)",
                manifest.display()
            );
        }
    }
    files.len()
}

/// Compares a corpus manifest with what a replay saw (see
/// [`replay_corpus`]).
///
/// # Errors
///
/// The first line that differs, or a different number of files.
pub fn compare_manifest(expected: &str, seen: &str) -> Result<(), String> {
    if let Some((want, got)) = expected.lines().zip(seen.lines()).find(|(a, b)| a != b) {
        return Err(format!("expected `{want}`, got `{got}`"));
    }
    let (want, got) = (expected.lines().count(), seen.lines().count());
    if want != got {
        return Err(format!("{want} files in the manifest, {got} in the corpus"));
    }
    Ok(())
}
