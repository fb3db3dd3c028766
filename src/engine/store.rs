//! [`deterministic_store`]: a Store that is safe by default.

use super::DeterministicLimits;
use wasmtime::{Engine, Store};

/// Store data that carries its [`DeterministicLimits`], so that
/// [`deterministic_store`] can make them the Store's resource limiter.
///
/// The crate's contexts implement it
/// ([`DeterministicP1Ctx`](crate::p1::DeterministicP1Ctx),
/// [`DeterministicP2Ctx`](crate::p2::DeterministicP2Ctx) and, with the
/// `wasi-common` feature, [`DeterministicCommonCtx`](crate::common::DeterministicCommonCtx));
/// an embedder's own Store data implements it with one field.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::engine::{self, DeterministicLimits, WithLimits};
/// use deterministic_wasi_ctx::{DeterminismConfig, p1::DeterministicP1Ctx};
///
/// struct Host { wasi: DeterministicP1Ctx, limits: DeterministicLimits }
/// impl WithLimits for Host {
///     fn limits_mut(&mut self) -> &mut DeterministicLimits { &mut self.limits }
/// }
/// let engine = engine::deterministic_engine()?;
/// let host = Host { wasi: DeterminismConfig::new().build_p1(), limits: engine::store_limits() };
/// let store = engine::deterministic_store(&engine, host, 1_000)?;
/// assert_eq!(store.get_fuel()?, 1_000);
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub trait WithLimits: 'static {
    /// The limits the Store's limiter consults.
    fn limits_mut(&mut self) -> &mut DeterministicLimits;
}

/// A Store for `data` with what every deterministic run needs and a plain
/// `Store::new` forgets: the data's [`DeterministicLimits`] installed as the
/// resource limiter (so `memory.grow` fails at the same size on every host,
/// not where host RAM runs out) and `fuel` units of fuel (so a runaway guest
/// stops after the same number of instructions everywhere).
///
/// # Errors
///
/// If `engine` does not consume fuel (build it with
/// [`deterministic_engine`](super::deterministic_engine) or
/// [`configure`](super::configure)).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{DeterminismConfig, engine, p1};
/// use wasmtime::{Linker, Module};
///
/// let engine = engine::deterministic_engine()?;
/// // Asks for 512 MiB: past the 256 MiB a memory may have, so it fails.
/// let module = Module::new(&engine, r#"(module
///     (memory (export "memory") 1)
///     (func (export "grow") (result i32) (memory.grow (i32.const 8192))))"#)?;
/// let mut linker = Linker::new(&engine);
/// p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
/// let mut store = engine::deterministic_store(&engine, DeterminismConfig::new().build_p1(), 1_000_000)?;
/// let instance = linker.instantiate(&mut store, &module)?;
/// let grow = instance.get_typed_func::<(), i32>(&mut store, "grow")?;
/// assert_eq!(grow.call(&mut store, ())?, -1);
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn deterministic_store<T: WithLimits>(
    engine: &Engine,
    data: T,
    fuel: u64,
) -> wasmtime::Result<Store<T>> {
    let mut store = Store::new(engine, data);
    store.limiter(|data| data.limits_mut());
    store.set_fuel(fuel).map_err(|e| {
        e.context(
            "deterministic_store: the engine must consume fuel (engine::deterministic_engine does)",
        )
    })?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeterminismConfig;

    /// A memory's growth stops at the crate's limit with the helper, and
    /// goes on past it (as far as wasmtime's own bounds) without: so the
    /// test would catch a helper that forgot the limiter.
    #[test]
    fn the_store_limits_memory_and_sets_fuel() {
        let engine = super::super::deterministic_engine().unwrap();
        let module = wasmtime::Module::new(
            &engine,
            r#"(module (memory 1) (func (export "grow") (result i32) (memory.grow (i32.const 8192))))"#,
        )
        .unwrap();
        let grow = |store: &mut Store<crate::p1::DeterministicP1Ctx>| {
            let instance = wasmtime::Instance::new(&mut *store, &module, &[]).unwrap();
            let grow = instance
                .get_typed_func::<(), i32>(&mut *store, "grow")
                .unwrap();
            grow.call(&mut *store, ()).unwrap()
        };
        let ctx = || DeterminismConfig::new().build_p1();
        let mut store = deterministic_store(&engine, ctx(), 10_000).unwrap();
        assert_eq!(store.get_fuel().unwrap(), 10_000);
        assert_eq!(grow(&mut store), -1, "512 MiB is past the limit");
        let mut plain = Store::new(&engine, ctx());
        plain.set_fuel(10_000).unwrap();
        assert_eq!(grow(&mut plain), 1, "without the limiter the host decides");

        let no_fuel = Engine::default();
        let err = deterministic_store(&no_fuel, ctx(), 1)
            .err()
            .expect("no fuel");
        assert!(format!("{err:#}").contains("must consume fuel"), "{err:#}");
    }
}
