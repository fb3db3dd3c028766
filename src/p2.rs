//! Preview2 components on `wasmtime-wasi`.

pub mod filesystem;

use crate::fs::FsTree;
use crate::random::{self, Pcg64Mcg};
use crate::sched::p2::WASI_VERSION;
use crate::stdio::CapturedOutput;
use crate::trace::{Recorder, Returned, WriteRef};
use crate::{DeterminismConfig, VirtualClock};
use deterministic_wasi_ctx_core::sched::concurrent::Waits;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A deterministic preview2 context for `wasmtime-wasi`: a [`WasiCtx`], its
/// resource table, and the virtual clock its timers share.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{DeterminismConfig, p2};
/// let ctx = DeterminismConfig::new().seed(1).build_p2();
/// assert_eq!(ctx.clock().peek(), 0);
/// ```
pub struct DeterministicP2Ctx {
    ctx: WasiCtx,
    table: ResourceTable,
    clock: VirtualClock,
    /// WASI 0.3's waits on `clock` ([`crate::p3`]).
    waits: Waits,
    output: CapturedOutput,
    pub(crate) random: Pcg64Mcg,
    pub(crate) insecure: Pcg64Mcg,
    pub(crate) insecure_seed: u128,
    recorder: Option<Recorder>,
    pub(crate) fs: filesystem::Filesystem,
    limits: crate::engine::DeterministicLimits,
}

impl DeterministicP2Ctx {
    /// The timeline shared by this context's clocks and timers.
    pub fn clock(&self) -> &VirtualClock {
        &self.clock
    }

    /// The clock and the WASI 0.3 waits on it, for
    /// [`sched::p3::add_waits_to_linker`](crate::sched::p3::add_waits_to_linker).
    ///
    /// ```
    /// let mut ctx = deterministic_wasi_ctx::DeterminismConfig::new().build_p2();
    /// let (clock, waits) = ctx.timeline();
    /// assert_eq!((clock.peek(), waits.pending()), (0, 0));
    /// ```
    pub fn timeline(&mut self) -> (&VirtualClock, &Waits) {
        (&self.clock, &self.waits)
    }

    /// The executor that runs this context's WASI 0.3 components
    /// ([`crate::p3`]): it shares the context's clock and waits, so take it
    /// before moving the context into a Store.
    ///
    /// ```
    /// let ctx = deterministic_wasi_ctx::DeterminismConfig::new().build_p2();
    /// let driver = ctx.driver();
    /// assert_eq!(driver.run(async { 7 })?, 7);
    /// # Ok::<(), wasmtime::Error>(())
    /// ```
    pub fn driver(&self) -> crate::p3::Driver {
        crate::p3::Driver::new(self.clock.clone(), self.waits.clone())
    }

    /// Captured stdout/stderr.
    pub fn output(&self) -> &CapturedOutput {
        &self.output
    }

    /// The tree preopened as `guest_path`, as this Store has left it (a
    /// copy-on-write clone: O(1)). `None` if nothing is preopened there.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs};
    /// let ctx = DeterminismConfig::new()
    ///     .preopen("/", VirtualFs::new().file("a.txt", "A"))
    ///     .build_p2();
    /// let tree = ctx.filesystem("/").unwrap();
    /// assert_eq!(tree.read_file("a.txt"), Some(b"A".to_vec()));
    /// assert!(ctx.filesystem("/other").is_none());
    /// ```
    pub fn filesystem(&self, guest_path: &str) -> Option<FsTree> {
        self.fs
            .mounts()
            .iter()
            .find(|m| m.guest_path == guest_path)
            .map(|m| m.tree.clone())
    }

    /// Every preopened tree with its guest path, in preopen order, as this
    /// Store has left them.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs};
    /// let ctx = DeterminismConfig::new()
    ///     .preopen("/in", VirtualFs::new())
    ///     .preopen_read_only("/data", VirtualFs::new())
    ///     .build_p2();
    /// let paths: Vec<String> = ctx.filesystems().into_iter().map(|(p, _)| p).collect();
    /// assert_eq!(paths, ["/in", "/data"]);
    /// ```
    pub fn filesystems(&self) -> Vec<(String, FsTree)> {
        self.fs
            .mounts()
            .iter()
            .map(|m| (m.guest_path.clone(), m.tree.clone()))
            .collect()
    }

    /// The filesystem state and the resource table, borrowed apart.
    pub(crate) fn filesystem_parts(&mut self) -> (&filesystem::Filesystem, &mut ResourceTable) {
        (&self.fs, &mut self.table)
    }
}

/// The Store limits [`engine::deterministic_store`](crate::engine::deterministic_store)
/// installs: [`DeterministicLimits::new`](crate::engine::DeterministicLimits::new)
/// for a new context.
impl crate::engine::WithLimits for DeterministicP2Ctx {
    fn limits_mut(&mut self) -> &mut crate::engine::DeterministicLimits {
        &mut self.limits
    }
}

impl WasiView for DeterministicP2Ctx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

impl DeterministicP2Ctx {
    pub(crate) fn record(&self, name: &str, args: &[u64], result: Vec<i64>, bytes: Option<&[u8]>) {
        if let Some(recorder) = &self.recorder {
            let args: Vec<i64> = args.iter().map(|&a| a as i64).collect();
            let writes: Vec<WriteRef<'_>> = bytes
                .map(|bytes| WriteRef::Bytes { offset: 0, bytes })
                .into_iter()
                .collect();
            recorder.record(name, &args, Returned::Values(&result), &writes);
        }
    }
}

impl DeterminismConfig {
    /// Builds a preview2 context whose clock reads, timers, random draws and
    /// filesystem calls are recorded in `recorder` (see
    /// [`trace`](crate::trace)).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::{DeterminismConfig, trace::Recorder};
    /// let recorder = Recorder::new(0);
    /// let ctx = DeterminismConfig::new().build_p2_traced(&recorder);
    /// ctx.clock().read_monotonic();
    /// assert_eq!(recorder.trace().calls(), 1);
    /// ```
    pub fn build_p2_traced(&self, recorder: &Recorder) -> DeterministicP2Ctx {
        self.build_p2_recorded(Some(recorder))
    }

    /// Builds a preview2 `wasmtime-wasi` context. Link it with
    /// [`add_to_linker_sync`] (or [`add_to_linker_async`]).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::DeterminismConfig;
    /// use std::time::Duration;
    ///
    /// let ctx = DeterminismConfig::new().build_p2();
    /// let before = ctx.clock().read_monotonic();
    /// ctx.clock().sleep(Duration::from_secs(1)); // virtual: returns at once
    /// assert_eq!(ctx.clock().read_monotonic() - before, 1_000_000_000);
    /// ```
    pub fn build_p2(&self) -> DeterministicP2Ctx {
        self.build_p2_recorded(None)
    }

    fn build_p2_recorded(&self, recorder: Option<&Recorder>) -> DeterministicP2Ctx {
        let mut clock = self.virtual_clock();
        if let Some(recorder) = recorder {
            clock = clock.recorded_by(recorder.clone());
        }
        let (mut builder, output) = self.wasmtime_builder(&clock, recorder);
        let seed = self.get_seed();
        let fs = filesystem::Filesystem::new(self.mounts(), clock.clone(), recorder.cloned());
        DeterministicP2Ctx {
            ctx: builder.build(),
            table: ResourceTable::new(),
            clock,
            waits: Waits::new(),
            output,
            random: random::secure_stream(seed),
            insecure: random::insecure_stream(seed),
            insecure_seed: random::insecure_seed(seed),
            recorder: recorder.cloned(),
            fs,
            limits: crate::engine::DeterministicLimits::new(),
        }
    }
}

/// Adds the stock preview2 interfaces to `linker`, then replaces the ones
/// that carry nondeterminism: `wasi:clocks/monotonic-clock` (virtual-time
/// timers, see [`sched::p2`](crate::sched::p2)), `wasi:random/{random,
/// insecure, insecure-seed}` (the seeded streams of [`random`]) and
/// `wasi:filesystem/{types, preopens}` (the configured virtual trees, see
/// [`filesystem`]), recorded when the context was built with
/// [`build_p2_traced`](DeterminismConfig::build_p2_traced). `get` finds the
/// [`DeterministicP2Ctx`] in the store data (`|t| t` when it *is* the store
/// data); a wrapper type forwards [`WasiView`] to it.
///
/// # Errors
///
/// If the linker rejects a definition.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::p2::{DeterministicP2Ctx, add_to_linker_sync};
/// let engine = wasmtime::Engine::default();
/// let mut linker = wasmtime::component::Linker::<DeterministicP2Ctx>::new(&engine);
/// add_to_linker_sync(&mut linker, |t| t)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_to_linker_sync<T: WasiView + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    replace_nondeterministic(linker, get)
}

/// [`add_to_linker_sync`] for embedders that drive the Store with
/// `instantiate_async` and `call_async` (on tokio): stock wasmtime-wasi's
/// async preview2 interfaces, then the same replacements as the sync path
/// (virtual-time timers, seeded random streams, the virtual filesystem). `wasi:io/poll.poll` awaits
/// the crate's timers, which are ready at once after moving virtual time:
/// no tokio timer is ever armed, and the guest sees the same answers and
/// trace as on the sync path.
///
/// # Errors
///
/// If the linker rejects a definition.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::p2::{DeterministicP2Ctx, add_to_linker_async};
/// let engine = wasmtime::Engine::default();
/// let mut linker = wasmtime::component::Linker::<DeterministicP2Ctx>::new(&engine);
/// add_to_linker_async(&mut linker, |t| t)?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_to_linker_async<T: WasiView + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    replace_nondeterministic(linker, get)
}

/// Replaces stock's timers, filesystem and random interfaces in `linker`
/// (which needs shadowing on), leaving shadowing off after, wasmtime's
/// default: a component linker has no getter to restore another setting.
fn replace_nondeterministic<T: WasiView + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
) -> wasmtime::Result<()> {
    crate::sched::p2::add_timers_to_linker(linker, move |t| &get(t).clock)?;
    linker.allow_shadowing(true);
    let replaced = filesystem::add_filesystem_to_linker(linker, get).and_then(|()| {
        let release = crate::random::components::Release {
            version: WASI_VERSION,
            seed_function: "insecure-seed",
            clamp: false,
        };
        crate::random::components::add_to_linker(linker, get, release)
    });
    linker.allow_shadowing(false);
    replaced
}

#[cfg(test)]
mod linking_tests {
    use super::{DeterministicP2Ctx, WASI_VERSION};
    use wasmtime::component::Linker;

    /// Replacing stock's interfaces needs shadowing, and linking leaves it
    /// off afterwards (wasmtime's default): a later definition of a served
    /// name is refused instead of silently replacing the crate's.
    #[test]
    fn linking_leaves_shadowing_off() {
        let engine = wasmtime::Engine::default();
        for async_linker in [false, true] {
            let mut linker = Linker::<DeterministicP2Ctx>::new(&engine);
            match async_linker {
                false => super::add_to_linker_sync(&mut linker, |t| t).unwrap(),
                true => super::add_to_linker_async(&mut linker, |t| t).unwrap(),
            }
            let again = linker
                .instance(&format!("wasi:random/random@{WASI_VERSION}"))
                .and_then(|mut random| random.func_wrap("get-random-u64", |_, (): ()| Ok((0u64,))));
            assert!(again.is_err(), "shadowing was left on");
        }
    }
}
