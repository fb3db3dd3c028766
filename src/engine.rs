//! Engine: a wasmtime `Config` and Store limits that make execution itself
//! deterministic.
//!
//! [`deterministic_config`] turns on:
//!
//! - NaN canonicalization, so float results do not carry host NaN bit patterns;
//! - deterministic relaxed SIMD, so `relaxed_*` instructions give the same
//!   lanes on every CPU;
//! - fuel (`consume_fuel`), so a runaway guest is stopped after the same
//!   number of instructions on every host; epoch interruption stays off
//!   because epochs follow wall-clock time;
//!
//! and turns off the proposals wasmtime 46 leaves off and later majors turn on
//! (exceptions, GC, function references, wide arithmetic: a module loads or
//! is refused alike on every major), charges fuel as 46 does on every major,
//! and turns off threads, shared memory and shared-everything threads (thread
//! interleavings are host scheduling). [`store_limits`] fixes how far memories
//! and tables may grow — each memory to [`MAX_MEMORY_BYTES`], and all of a
//! Store's memories *together* to [`MAX_TOTAL_MEMORY_BYTES`] (with
//! multi-memory a guest could otherwise declare [`MAX_INSTANCES`] memories
//! of 256 MiB each) — so `memory.grow` fails at the same size everywhere
//! instead of when the host runs out of memory.
//!
//! Not covered: the *native* stack depth at which a deep recursion overflows
//! depends on the host and compiler (frame sizes differ between Cranelift
//! versions, targets and the Pulley interpreter), as does running out of host
//! memory. Treat those outcomes as host-dependent, not as guest results
//! (the audit reports them as "poisoned"), or rewrite modules with a
//! logical stack limit ([`stack`]) so recursion traps at the same depth
//! everywhere.

use wasmtime::{Config, Engine};

mod cache;
mod exhausted;
mod limits;
pub mod stack;
mod store;
pub(crate) use cache::per_engine;
pub use exhausted::HostExhausted;
pub use limits::DeterministicLimits;
pub use store::{WithLimits, deterministic_store};

/// The wasmtime major this build of the crate links (46 here;
/// `deterministic-wasi-ctx-wasmtime-50` builds the same source on 50). The
/// auditor names it in every run (`audit --wasmtime`).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::engine::WASMTIME_MAJOR;
/// assert!(WASMTIME_MAJOR >= 46);
/// ```
#[cfg(not(wasmtime_50))]
pub const WASMTIME_MAJOR: u32 = 46;

/// The wasmtime major this build of the crate links (50 here; the
/// `deterministic-wasi-ctx` crate builds the same source on 46).
#[cfg(wasmtime_50)]
pub const WASMTIME_MAJOR: u32 = 50;

/// The most linear-memory bytes one memory may grow to: 256 MiB.
pub const MAX_MEMORY_BYTES: usize = 256 << 20;
/// The most linear-memory bytes all of a Store's memories may take together:
/// 256 MiB, so one memory may still use all of it.
pub const MAX_TOTAL_MEMORY_BYTES: usize = 256 << 20;
/// The most elements one table may grow to.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;
/// The most instances, memories and tables one Store may create.
pub const MAX_INSTANCES: usize = 100;
/// The wasm stack limit set on the config, in bytes (wasmtime's default is
/// 512 KiB; fixed here so every build of this crate uses the same value).
pub const MAX_WASM_STACK: usize = 512 << 10;

/// The Pulley target whose pointer width and byte order are this host's:
/// `pulley64` on x86-64 and aarch64, `pulley64be` on s390x (`pulley32` /
/// `pulley32be` on 32-bit hosts).
///
/// Wasmtime runs Pulley bytecode only on a host with the same pointer width
/// and byte order, so a fixed `pulley64` cannot even build an engine on a
/// big-endian host. The guest sees the same little-endian linear memory on
/// every one of them.
///
/// # Example
///
/// ```
/// let mut config = deterministic_wasi_ctx::engine::deterministic_config();
/// config.target(deterministic_wasi_ctx::engine::PULLEY_HOST_TARGET)?;
/// let _engine = wasmtime::Engine::new(&config)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub const PULLEY_HOST_TARGET: &str = match (
    cfg!(target_pointer_width = "64"),
    cfg!(target_endian = "big"),
) {
    (true, false) => "pulley64",
    (true, true) => "pulley64be",
    (false, false) => "pulley32",
    (false, true) => "pulley32be",
};

/// Applies the deterministic settings of the [module docs](self) to `config`.
///
/// # Example
///
/// ```
/// let mut config = wasmtime::Config::new();
/// deterministic_wasi_ctx::engine::configure(&mut config);
/// let engine = wasmtime::Engine::new(&config)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn configure(config: &mut Config) -> &mut Config {
    config
        .cranelift_nan_canonicalization(true)
        .relaxed_simd_deterministic(true)
        .wasm_threads(false)
        .wasm_shared_everything_threads(false)
        .shared_memory(false)
        .consume_fuel(true)
        .epoch_interruption(false)
        .max_wasm_stack(MAX_WASM_STACK)
        // The proposals wasmtime 46 leaves off and 50 turns on by default:
        // off on every major, so a module loads (or is refused) alike.
        .wasm_exceptions(false)
        .wasm_gc(false)
        .wasm_function_references(false)
        .wasm_wide_arithmetic(false);
    same_fuel_on_every_major(config)
}

/// Fuel as wasmtime 46 charges it. Both majors charge a flat cost per
/// operator plus, for bulk operators, 1 per byte or element their runtime
/// operand names (`memory.copy` / `fill` / `init`, `table.*`); wasmtime 50
/// also charges 1 per page of `memory.grow` (`VariableOperatorCost`), which
/// 46 does not. Here that cost is 0, so a program consumes the same fuel on
/// every major this crate builds on (README, "Wasmtime versions"); an
/// embedder who wants 50's charge for growth sets `Config::operator_cost`
/// after [`configure`].
#[cfg(wasmtime_50)]
fn same_fuel_on_every_major(config: &mut Config) -> &mut Config {
    let mut cost = wasmtime::OperatorCost::new();
    cost.variable.memory_grow_per_page = 0;
    config.operator_cost(cost)
}

/// Wasmtime 46's fuel is the reference (see the wasmtime 50 build).
#[cfg(not(wasmtime_50))]
fn same_fuel_on_every_major(config: &mut Config) -> &mut Config {
    config
}

/// A fresh `Config` with [`configure`] applied.
///
/// # Example
///
/// ```
/// let config = deterministic_wasi_ctx::engine::deterministic_config();
/// let _engine = wasmtime::Engine::new(&config)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn deterministic_config() -> Config {
    let mut config = Config::new();
    configure(&mut config);
    config
}

/// An engine with [`deterministic_config`].
///
/// # Errors
///
/// If wasmtime cannot create an engine for this host.
///
/// # Example
///
/// ```
/// let engine = deterministic_wasi_ctx::engine::deterministic_engine()?;
/// let store = wasmtime::Store::new(&engine, ());
/// assert_eq!(store.get_fuel()?, 0);
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn deterministic_engine() -> wasmtime::Result<Engine> {
    Engine::new(&deterministic_config())
}

/// Store limits with the fixed bounds above ([`DeterministicLimits`]).
/// `memory.grow` and `table.grow` past them return -1 (they do not trap), as
/// the spec allows; a growth within them that the host cannot satisfy traps
/// with [`HostExhausted`].
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::engine;
/// use wasmtime::Store;
///
/// struct Data { limits: engine::DeterministicLimits }
/// let engine = engine::deterministic_engine()?;
/// let mut store = Store::new(&engine, Data { limits: engine::store_limits() });
/// store.limiter(|d| &mut d.limits);
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn store_limits() -> DeterministicLimits {
    DeterministicLimits::new()
}
