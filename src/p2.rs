//! Preview2 components on `wasmtime-wasi`.

use crate::stdio::CapturedOutput;
use crate::{DeterminismConfig, VirtualClock};
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
    output: CapturedOutput,
}

impl DeterministicP2Ctx {
    /// The timeline shared by this context's clocks and timers.
    pub fn clock(&self) -> &VirtualClock {
        &self.clock
    }

    /// Captured stdout/stderr.
    pub fn output(&self) -> &CapturedOutput {
        &self.output
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

impl DeterminismConfig {
    /// Builds a preview2 `wasmtime-wasi` context. Link it with
    /// [`add_to_linker_sync`].
    pub fn build_p2(&self) -> DeterministicP2Ctx {
        let clock = self.virtual_clock();
        let mut builder = wasmtime_wasi::WasiCtxBuilder::new();
        self.apply_to_builder(&mut builder, &clock);
        let output = CapturedOutput::install_wasmtime(
            &mut builder,
            self.get_stdin(),
            self.output_capacity(),
        );
        DeterministicP2Ctx {
            ctx: builder.build(),
            table: ResourceTable::new(),
            clock,
            output,
        }
    }
}

/// Adds the stock preview2 interfaces to `linker`, then the virtual-time
/// `subscribe-duration` / `subscribe-instant` overrides. `get` finds the
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
    crate::sched::p2::add_timers_to_linker(linker, move |t| &get(t).clock)
}
