//! [`DeterministicLimits`]: the Store's resource limiter.

use super::{
    HostExhausted, MAX_INSTANCES, MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS, MAX_TOTAL_MEMORY_BYTES,
};
use wasmtime::ResourceLimiter;

/// The Store limits of the [engine module](super): each memory up to
/// [`MAX_MEMORY_BYTES`], all of the Store's memories together up to
/// [`MAX_TOTAL_MEMORY_BYTES`], each table up to [`MAX_TABLE_ELEMENTS`], and
/// [`MAX_INSTANCES`] instances, memories and tables. A `memory.grow` or
/// `table.grow` past them returns -1 (it does not trap), as the spec allows;
/// a memory whose *initial* size is past them fails instantiation. More
/// instances, memories or tables than [`MAX_INSTANCES`] fail instantiation
/// with wasmtime's "resource limit exceeded" error, the same on every host. A
/// growth within the limits that the host's allocation fails traps with
/// [`HostExhausted`].
///
/// The total counts every byte this limiter has let a memory of the Store
/// take, creation included, from the Store's start: memories live as long as
/// their Store, so nothing is ever given back. (The rare growth that wasmtime
/// fails after the limiter allowed it — the host's allocation failing — still
/// counts: the total only ever over-estimates, and that run traps with
/// [`HostExhausted`] anyway.) Growth past a memory's declared maximum is refused
/// here, before it is counted.
///
/// Wasmtime reads the instance, memory and table counts when
/// [`Store::limiter`](wasmtime::Store::limiter) is called, so set
/// [`with_extra_instances`](Self::with_extra_instances) before that.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::engine::{self, DeterministicLimits};
/// use wasmtime::{Module, Store};
///
/// struct Data { limits: DeterministicLimits }
/// let engine = engine::deterministic_engine()?;
/// let mut store = Store::new(&engine, Data { limits: engine::store_limits() });
/// store.limiter(|d| &mut d.limits);
/// store.set_fuel(1_000)?;
/// // Two memories of 128 MiB reach the 256 MiB total: a third page is refused.
/// let module = Module::new(&engine, r#"(module
///     (memory 2048) (memory 2048)
///     (func (export "grow") (result i32) (memory.grow 1 (i32.const 1))))"#)?;
/// let instance = wasmtime::Instance::new(&mut store, &module, &[])?;
/// let grow = instance.get_typed_func::<(), i32>(&mut store, "grow")?;
/// assert_eq!(grow.call(&mut store, ())?, -1);
/// assert_eq!(store.data().limits.memory_bytes(), engine::MAX_TOTAL_MEMORY_BYTES);
/// # Ok::<(), wasmtime::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct DeterministicLimits {
    /// Instances allowed on top of [`MAX_INSTANCES`] (the tracer's proxies).
    extra_instances: usize,
    /// Bytes of linear memory allowed so far, across the Store's memories.
    memory_bytes: usize,
}

impl DeterministicLimits {
    /// The limits documented on the type.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows `extra` instances on top of [`MAX_INSTANCES`], for instances
    /// the host creates in the guest's Store that are not the guest's own:
    /// the audit grants
    /// [`trace::max_proxy_instances`](crate::trace::max_proxy_instances)
    /// so that tracing's proxies leave the guest its full limit.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::engine::{DeterministicLimits, MAX_INSTANCES};
    /// use wasmtime::ResourceLimiter;
    ///
    /// let limits = DeterministicLimits::new().with_extra_instances(3);
    /// assert_eq!(limits.instances(), MAX_INSTANCES + 3);
    /// assert_eq!(limits.memories(), MAX_INSTANCES);
    /// ```
    pub fn with_extra_instances(mut self, extra: usize) -> Self {
        self.extra_instances = extra;
        self
    }

    /// Bytes of linear memory the Store's memories have been allowed so far
    /// (at most [`MAX_TOTAL_MEMORY_BYTES`]).
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }
}

impl ResourceLimiter for DeterministicLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_MEMORY_BYTES || maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let total = self
            .memory_bytes
            .saturating_add(desired.saturating_sub(current));
        if total > MAX_TOTAL_MEMORY_BYTES {
            return Ok(false);
        }
        self.memory_bytes = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    /// The host could not give what `memory_growing` allowed: a trap with
    /// [`HostExhausted::Memory`] in its chain, not a -1 the guest would see
    /// only on this host.
    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(error.context(HostExhausted::Memory))
    }

    /// As [`memory_grow_failed`](Self::memory_grow_failed), for tables.
    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(error.context(HostExhausted::Table))
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES.saturating_add(self.extra_instances)
    }

    fn tables(&self) -> usize {
        MAX_INSTANCES
    }

    fn memories(&self) -> usize {
        MAX_INSTANCES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::{Instance, Module, Store};

    fn store(limits: DeterministicLimits) -> Store<DeterministicLimits> {
        let engine = super::super::deterministic_engine().unwrap();
        let mut store = Store::new(&engine, limits);
        store.limiter(|l| l);
        store.set_fuel(1_000_000).unwrap();
        store
    }

    /// How many instances of an empty module the Store takes.
    fn instances_allowed(limits: DeterministicLimits) -> usize {
        let mut store = store(limits);
        let module = Module::new(store.engine(), "(module)").unwrap();
        (0..)
            .take_while(|_| Instance::new(&mut store, &module, &[]).is_ok())
            .count()
    }

    #[test]
    fn the_guest_gets_max_instances_and_the_extra_ones_are_on_top() {
        assert_eq!(instances_allowed(DeterministicLimits::new()), MAX_INSTANCES);
        assert_eq!(
            instances_allowed(DeterministicLimits::new().with_extra_instances(7)),
            MAX_INSTANCES + 7
        );
    }

    /// `grow` grows memory `i` by `pages`; four memories of 1 page each.
    const FOUR_MEMORIES: &str = r#"(module
        (memory $a 1) (memory $b 1) (memory $c 1) (memory $d 1)
        (func (export "grow") (param $i i32) (param $pages i32) (result i32)
            (block $d (block $c (block $b (block $a
                (br_table $a $b $c $d (local.get $i)))
                (return (memory.grow $a (local.get $pages))))
                (return (memory.grow $b (local.get $pages))))
                (return (memory.grow $c (local.get $pages))))
            (memory.grow $d (local.get $pages))))"#;

    /// Grows the four memories in turn by 300 pages (18.75 MiB) until a
    /// growth fails; returns the results in order.
    fn grow_until_refused() -> Vec<i32> {
        let mut store = store(DeterministicLimits::new());
        let module = Module::new(store.engine(), FOUR_MEMORIES).unwrap();
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let grow = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "grow")
            .unwrap();
        let mut results = Vec::new();
        for i in 0.. {
            let result = grow.call(&mut store, (i % 4, 300)).unwrap();
            results.push(result);
            if result == -1 {
                break;
            }
        }
        results
    }

    #[test]
    fn several_memories_together_stop_at_the_total_cap_every_run() {
        let first = grow_until_refused();
        // 4 pages at the start, 4096 pages in the cap: 13 growths of 300
        // fit (3904 pages), the 14th would take 4204.
        assert_eq!(first.len(), 14, "{first:?}");
        assert_eq!(first[13], -1);
        // Each memory's old size in pages: 1, 1, 1, 1, 301, 301, ...
        assert_eq!(&first[..5], &[1, 1, 1, 1, 301]);
        for _ in 0..3 {
            assert_eq!(grow_until_refused(), first);
        }
    }

    #[test]
    fn one_memory_may_use_the_whole_cap_but_not_more() {
        let mut limits = DeterministicLimits::new();
        assert!(limits.memory_growing(0, MAX_MEMORY_BYTES, None).unwrap());
        assert!(!limits.memory_growing(0, 1, None).unwrap());
        let mut limits = DeterministicLimits::new();
        assert!(
            !limits
                .memory_growing(0, MAX_MEMORY_BYTES + 1, None)
                .unwrap()
        );
        assert_eq!(limits.memory_bytes(), 0, "a refused growth is not counted");
        assert!(!limits.memory_growing(0, 2, Some(1)).unwrap());
        assert_eq!(limits.memory_bytes(), 0, "past the declared maximum");
    }
}
