//! The determinism model: one configuration every backend is built from.

use crate::clocks::{ClockPolicy, VirtualClock, duration_nanos};
use crate::fd::Mount;
use crate::fs::{FsTree, VirtualFs};
use std::time::Duration;

/// Everything that decides what a guest can observe. Every backend
/// ([`build_p1`](Self::build_p1), [`build_p2`](Self::build_p2),
/// [`build_wasi_common`](Self::build_wasi_common)) is built from it, so the
/// same configuration gives the same answers on each.
///
/// `new()` (= `default()`) gives:
///
/// | setting | default |
/// |---|---|
/// | [`seed`](Self::seed) | 42 |
/// | [`wall_start`](Self::wall_start) | the Unix epoch |
/// | [`monotonic_start`](Self::monotonic_start) | 0 ns |
/// | [`clock_policy`](Self::clock_policy) | [`ClockPolicy::AdvanceOnSleep`] |
/// | [`args`](Self::args), [`env`](Self::env) | none |
/// | [`stdin`](Self::stdin) | empty |
/// | [`capture_output`](Self::capture_output) | off: stdout and stderr are discarded |
/// | [`output_limit`](Self::output_limit) | 16 MiB per stream, captured or discarded |
/// | [`preopen`](Self::preopen) | none |
/// | [`max_stack`](Self::max_stack) | off: no logical stack limit |
///
/// Nothing is ever inherited from the host: no arguments, environment,
/// host directories, sockets or name lookup. Preopened directories are
/// in-memory [`VirtualFs`] trees.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::{ClockPolicy, DeterminismConfig};
/// use std::time::Duration;
///
/// let config = DeterminismConfig::new()
///     .seed(7)
///     .wall_start(Duration::from_secs(946_684_800)) // 2000-01-01
///     .clock_policy(ClockPolicy::Tick(Duration::from_micros(1)))
///     .capture_output(true);
/// assert_eq!(config.get_seed(), 7);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeterminismConfig {
    seed: u64,
    wall_start: Duration,
    monotonic_start: u64,
    clock_policy: ClockPolicy,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Vec<u8>,
    capture_output: bool,
    output_limit: usize,
    preopens: Vec<Preopen>,
    max_stack: Option<u32>,
}

/// One preopened tree of a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Preopen {
    guest_path: String,
    fs: VirtualFs,
    writable: bool,
}

impl Default for DeterminismConfig {
    fn default() -> Self {
        DeterminismConfig {
            seed: 42,
            wall_start: Duration::ZERO,
            monotonic_start: 0,
            clock_policy: ClockPolicy::AdvanceOnSleep,
            args: Vec::new(),
            env: Vec::new(),
            stdin: Vec::new(),
            capture_output: false,
            output_limit: crate::stdio::DEFAULT_OUTPUT_LIMIT,
            preopens: Vec::new(),
            max_stack: None,
        }
    }
}

impl DeterminismConfig {
    /// The defaults listed in the [type docs](Self).
    pub fn new() -> Self {
        Self::default()
    }

    /// The seed every random stream is derived from (see
    /// [`random`](crate::random)). By default 42.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The wall-clock reading at start, as a duration after the Unix epoch.
    /// By default zero (the epoch). See also [`monotonic_start`](Self::monotonic_start).
    pub fn wall_start(mut self, since_epoch: Duration) -> Self {
        self.wall_start = since_epoch;
        self
    }

    /// The monotonic-clock reading at start, in nanoseconds. By default 0.
    pub fn monotonic_start(mut self, nanos: u64) -> Self {
        self.monotonic_start = nanos;
        self
    }

    /// How virtual time moves. By default [`ClockPolicy::AdvanceOnSleep`].
    pub fn clock_policy(mut self, policy: ClockPolicy) -> Self {
        self.clock_policy = policy;
        self
    }

    /// Command-line arguments the guest sees (the first is the program name).
    /// By default none. Both preview1 backends pass each string as given,
    /// as stock wasmtime-wasi does ([`environ`](crate::environ)), even one
    /// holding a NUL byte (the guest then sees it cut there).
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Environment variables the guest sees. By default none.
    pub fn env(
        mut self,
        env: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        self.env = env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        self
    }

    /// Bytes the guest reads from stdin. By default empty.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }

    /// Whether stdout and stderr are captured into memory (read them with
    /// [`CapturedOutput`](crate::CapturedOutput)) instead of discarded. By
    /// default off: discarded. Capturing changes what the host keeps, never
    /// what the guest sees: discarded output has the same
    /// [`output_limit`](Self::output_limit) and the same answers past it.
    pub fn capture_output(mut self, capture: bool) -> Self {
        self.capture_output = capture;
        self
    }

    /// The most bytes the guest may write to each of stdout and stderr,
    /// whether they are captured or discarded. By default 16 MiB.
    ///
    /// Past it the guest gets the answers of wasmtime-wasi's in-memory pipe,
    /// the same every run and the same under the [audit](crate::audit)
    /// (which captures output with this limit to compare it): a preview1
    /// `fd_write` that does not fit keeps what fits and answers `EIO`
    /// (errno 29); a preview2 stream whose room is used up reports itself
    /// closed at `check-write`, and a write past the room `check-write` gave
    /// traps. `usize::MAX` means no limit (captured output then grows as the
    /// guest writes).
    pub fn output_limit(mut self, bytes: usize) -> Self {
        self.output_limit = bytes;
        self
    }

    /// Preopens `fs` as the directory `guest_path` (fds 3, 4, ... in the
    /// order of the calls), read-write. Every Store built from this
    /// configuration starts from the same tree and its writes stay in that
    /// Store (copy-on-write: building a context copies no file contents);
    /// read the final tree with `descriptors().filesystem(guest_path)`.
    /// Metadata follow the [`fs`](crate::fs) rules: the `n`-th preopen is
    /// device `n` (from 1), snapshot entries have [`wall_start`](Self::wall_start)
    /// as their times, changes are stamped with the virtual wall clock.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs};
    ///
    /// let input = VirtualFs::new().file("in/data.csv", "a,b\n1,2\n").dir("out");
    /// let config = DeterminismConfig::new().preopen("/", input);
    /// let ctx = config.build_p1();
    /// let tree = ctx.descriptors().filesystem("/").unwrap();
    /// assert_eq!(tree.read_file("in/data.csv"), Some(b"a,b\n1,2\n".to_vec()));
    /// ```
    pub fn preopen(mut self, guest_path: impl Into<String>, fs: VirtualFs) -> Self {
        self.preopens.push(Preopen {
            guest_path: guest_path.into(),
            fs,
            writable: true,
        });
        self
    }

    /// Like [`preopen`](Self::preopen), read-only: every call that would
    /// change the tree, or open a file for writing, answers `EPERM` (as stock
    /// wasmtime-wasi's read-only `DirPerms`/`FilePerms`).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs};
    /// let config = DeterminismConfig::new().preopen_read_only("/data", VirtualFs::new());
    /// assert_eq!(config.get_preopens().next(), Some(("/data", false)));
    /// ```
    pub fn preopen_read_only(mut self, guest_path: impl Into<String>, fs: VirtualFs) -> Self {
        self.preopens.push(Preopen {
            guest_path: guest_path.into(),
            fs,
            writable: false,
        });
        self
    }

    /// The preopens' guest paths and whether each is writable, in fd order.
    pub fn get_preopens(&self) -> impl Iterator<Item = (&str, bool)> {
        self.preopens
            .iter()
            .map(|p| (p.guest_path.as_str(), p.writable))
    }

    /// A fresh tree for each preopen (O(1) each: nothing is copied).
    pub(crate) fn mounts(&self) -> Vec<Mount> {
        let snapshot_time = duration_nanos(self.wall_start);
        self.preopens
            .iter()
            .enumerate()
            .map(|(i, p)| Mount {
                guest_path: p.guest_path.clone(),
                tree: FsTree::new(&p.fs, i as u64 + 1, snapshot_time),
                writable: p.writable,
            })
            .collect()
    }

    /// A logical stack limit, in slots: core modules are rewritten before
    /// compilation ([`engine::stack`](crate::engine::stack)) so that deep
    /// recursion traps (`unreachable`) at the same depth on every host.
    /// By default off (`None`): programs run as written and a deep recursion
    /// overflows the native stack where the host's frames say. The
    /// [`audit`](crate::audit) applies it; an embedder compiling by itself
    /// passes its module through
    /// [`engine::stack::prepare`](crate::engine::stack::prepare).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::{DeterminismConfig, engine::stack};
    ///
    /// let config = DeterminismConfig::new().max_stack(stack::DEFAULT_MAX_STACK);
    /// assert_eq!(config.get_max_stack(), Some(8_192));
    /// assert_eq!(DeterminismConfig::new().get_max_stack(), None);
    /// ```
    pub fn max_stack(mut self, slots: impl Into<Option<u32>>) -> Self {
        self.max_stack = slots.into();
        self
    }

    /// The configured logical stack limit ([`max_stack`](Self::max_stack)).
    pub fn get_max_stack(&self) -> Option<u32> {
        self.max_stack
    }

    /// The configured wall-clock start.
    pub fn get_wall_start(&self) -> Duration {
        self.wall_start
    }

    /// The configured seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// The configured clock policy.
    pub fn get_clock_policy(&self) -> ClockPolicy {
        self.clock_policy
    }

    /// A fresh timeline for this configuration.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx::DeterminismConfig;
    /// let clock = DeterminismConfig::new().monotonic_start(10).virtual_clock();
    /// assert_eq!(clock.peek(), 10);
    /// ```
    pub fn virtual_clock(&self) -> VirtualClock {
        VirtualClock::new(self.clock_policy, self.wall_start, self.monotonic_start)
    }

    /// This configuration without its preopens (what a stock context built
    /// later needs; its descriptors are not served from there).
    pub(crate) fn without_preopens(&self) -> DeterminismConfig {
        DeterminismConfig {
            seed: self.seed,
            wall_start: self.wall_start,
            monotonic_start: self.monotonic_start,
            clock_policy: self.clock_policy,
            args: self.args.clone(),
            env: self.env.clone(),
            stdin: self.stdin.clone(),
            capture_output: self.capture_output,
            output_limit: self.output_limit,
            preopens: Vec::new(),
            max_stack: self.max_stack,
        }
    }

    pub(crate) fn get_args(&self) -> &[String] {
        &self.args
    }

    pub(crate) fn get_env(&self) -> &[(String, String)] {
        &self.env
    }

    pub(crate) fn get_stdin(&self) -> &[u8] {
        &self.stdin
    }

    /// Whether output is kept, and how many bytes each stream accepts
    /// (kept or not).
    pub(crate) fn output_policy(&self) -> (bool, usize) {
        (self.capture_output, self.output_limit)
    }
}
