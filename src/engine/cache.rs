//! Values built once per [`Engine`] and reused by every Store on it: the
//! audit's linkers and the trace's proxy modules.
//!
//! Audits and fuzzers run one program in many Stores, so building a linker
//! (about a hundred host functions) or compiling a proxy for each run would
//! dominate them. They also create a *fresh* Engine per program, used once.
//! Every cached value (a `Linker`, a `Module`) holds its Engine, so a cache
//! entry keeps that Engine and its code memory alive. Entries are therefore
//! grouped by Engine and whole Engines are evicted: only the
//! [`ENGINES`] most recently used Engines keep values here, and a used-once
//! Engine is released (with all its values) a few programs later, while a
//! long-lived shared Engine stays because every use refreshes it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Mutex;
use wasmtime::Engine;

/// How many Engines keep cached values: enough for a shared Engine per
/// compilation strategy plus a fresh one, with room for a few threads.
pub(crate) const ENGINES: usize = 6;

type Values = HashMap<(TypeId, String), Box<dyn Any + Send>>;

/// The process-wide cache.
static VALUES: PerEngine = PerEngine::new(ENGINES);

/// The value of type `V` cached for `engine` under `key` in the
/// process-wide cache, built by `build` on a miss.
pub(crate) fn per_engine<V: Clone + Send + 'static>(
    engine: &Engine,
    key: &str,
    build: impl FnOnce() -> wasmtime::Result<V>,
) -> wasmtime::Result<V> {
    VALUES.get(engine, key, build)
}

/// Cached values for the most recently used Engines.
pub(crate) struct PerEngine {
    /// Least recently used first.
    engines: Mutex<Vec<(Engine, Values)>>,
    capacity: usize,
}

impl PerEngine {
    /// An empty cache keeping values for `capacity` Engines.
    pub(crate) const fn new(capacity: usize) -> Self {
        Self {
            engines: Mutex::new(Vec::new()),
            capacity,
        }
    }

    /// The value of type `V` for `engine` under `key`, built by `build` on
    /// a miss.
    ///
    /// `build` runs without the lock held (it may compile), so two threads
    /// missing at once both build and the later insert wins; either value
    /// is correct.
    pub(crate) fn get<V: Clone + Send + 'static>(
        &self,
        engine: &Engine,
        key: &str,
        build: impl FnOnce() -> wasmtime::Result<V>,
    ) -> wasmtime::Result<V> {
        let slot = (TypeId::of::<V>(), key.to_owned());
        if let Some(value) = self.with_engine(engine, |values| {
            values
                .get(&slot)
                .and_then(|v| v.downcast_ref::<V>())
                .cloned()
        }) {
            return Ok(value);
        }
        let value = build()?;
        self.with_engine(engine, |values| {
            values.insert(slot, Box::new(value.clone()));
        });
        Ok(value)
    }

    /// Runs `f` on `engine`'s values (created empty if absent), marking the
    /// Engine most recently used and evicting the least recently used
    /// beyond the capacity.
    fn with_engine<R>(&self, engine: &Engine, f: impl FnOnce(&mut Values) -> R) -> R {
        let mut engines = self.engines.lock().unwrap_or_else(|e| e.into_inner());
        let entry = match engines.iter().position(|(e, _)| Engine::same(e, engine)) {
            Some(index) => engines.remove(index),
            None => (engine.clone(), Values::new()),
        };
        engines.push(entry);
        let excess = engines.len().saturating_sub(self.capacity.max(1));
        let evicted: Vec<_> = engines.drain(..excess).collect();
        let result = f(&mut engines.last_mut().expect("just pushed").1);
        drop(engines);
        // Dropping an Engine's modules unmaps their code: outside the lock.
        drop(evicted);
        result
    }

    /// How many Engines hold values now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.engines.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_built_once_per_engine_and_key() {
        let cache = PerEngine::new(ENGINES);
        let engine = Engine::default();
        let mut builds = 0;
        for _ in 0..3 {
            let v = cache
                .get(&engine, "a", || {
                    builds += 1;
                    Ok(7u32)
                })
                .unwrap();
            assert_eq!(v, 7);
        }
        assert_eq!(builds, 1);
        let b = cache.get(&engine, "b", || Ok(8u32)).unwrap();
        let other_type = cache.get(&engine, "a", || Ok(9u64)).unwrap();
        assert_eq!((b, other_type), (8, 9));
    }

    #[test]
    fn used_once_engines_are_released_and_a_busy_one_stays() {
        let cache = PerEngine::new(ENGINES);
        let shared = Engine::default();
        let mut shared_builds = 0;
        let mut released = Vec::new();
        for _ in 0..4 * ENGINES {
            cache
                .get(&shared, "shared", || {
                    shared_builds += 1;
                    Ok(())
                })
                .unwrap();
            let fresh = Engine::default();
            // The cached value holds its Engine, as a Linker or Module does.
            cache.get(&fresh, "held", || Ok(fresh.clone())).unwrap();
            released.push(fresh.weak());
        }
        assert_eq!(shared_builds, 1, "the busy engine was evicted");
        assert_eq!(cache.len(), ENGINES);
        // Only the most recent used-once engines are still held.
        let alive = released.iter().filter(|w| w.upgrade().is_some()).count();
        assert_eq!(alive, ENGINES - 1, "used-once engines are kept alive");
    }
}
