//! Configuring a `wasmtime_wasi::WasiCtxBuilder` (shared by preview1 and preview2).

use crate::stdio::CapturedOutput;
use crate::{DeterminismConfig, VirtualClock, random};
use wasmtime_wasi::WasiCtxBuilder;

impl DeterminismConfig {
    /// Makes `builder` deterministic: seeded secure and insecure random
    /// streams and insecure seed, the wall and monotonic clocks of `clock`,
    /// no network or name lookup, and this configuration's arguments and
    /// environment. Stdio is left alone (the `build_*` methods set it).
    ///
    /// `poll_oneoff` and preview2 timers still need the linker overrides that
    /// share `clock` ([`sched::add_scheduling_to_linker`](crate::sched::add_scheduling_to_linker),
    /// [`sched::p2::add_timers_to_linker`](crate::sched::p2::add_timers_to_linker)).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::DeterminismConfig;
    /// let config = DeterminismConfig::new();
    /// let clock = config.virtual_clock();
    /// let mut builder = wasmtime_wasi::WasiCtxBuilder::new();
    /// config.apply_to_builder(&mut builder, &clock);
    /// let _ctx = builder.build_p1();
    /// ```
    pub fn apply_to_builder<'b>(
        &self,
        builder: &'b mut WasiCtxBuilder,
        clock: &VirtualClock,
    ) -> &'b mut WasiCtxBuilder {
        let seed = self.get_seed();
        builder
            .secure_random(random::secure_stream(seed))
            .insecure_random(random::insecure_stream(seed))
            .insecure_random_seed(random::insecure_seed(seed))
            .wall_clock(crate::clocks::WasiClock(clock.clone()))
            .monotonic_clock(crate::clocks::WasiClock(clock.clone()))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .args(self.get_args())
            .envs(self.get_env())
    }
}

impl DeterminismConfig {
    /// A deterministic builder on `clock` with this configuration's stdio
    /// installed (its WASI 0.3 streams recorded in `recorder`, if any), and
    /// the handle to its captured output.
    pub(crate) fn wasmtime_builder(
        &self,
        clock: &VirtualClock,
        recorder: Option<&crate::trace::Recorder>,
    ) -> (WasiCtxBuilder, CapturedOutput) {
        let mut builder = WasiCtxBuilder::new();
        self.apply_to_builder(&mut builder, clock);
        let (keep, limit) = self.output_policy();
        let output = CapturedOutput::new(keep, limit);
        crate::stdio::attach_wasmtime(&output, &mut builder, self.get_stdin(), recorder);
        (builder, output)
    }
}

/// Makes a `wasmtime_wasi::WasiCtxBuilder` deterministic with the default
/// [`DeterminismConfig`]; the entry point of the original crate, kept with its
/// name and signature.
///
/// The clocks get a timeline of their own that no scheduler shares, so with
/// the stock linker sleeping does not advance them. Prefer
/// [`DeterminismConfig::build_p1`] / [`build_p2`](DeterminismConfig::build_p2)
/// with [`p1::add_to_linker_sync`](crate::p1::add_to_linker_sync) /
/// [`p2::add_to_linker_sync`](crate::p2::add_to_linker_sync), which share one
/// timeline between clocks and scheduling.
///
/// # Example
///
/// ```
/// let mut builder = wasmtime_wasi::WasiCtxBuilder::new();
/// deterministic_wasi_ctx::add_determinism_to_wasi_ctx_builder(&mut builder);
/// let _ctx = builder.build_p1();
/// ```
pub fn add_determinism_to_wasi_ctx_builder(builder: &mut WasiCtxBuilder) -> &mut WasiCtxBuilder {
    let config = DeterminismConfig::default();
    let clock = config.virtual_clock();
    config.apply_to_builder(builder, &clock)
}
