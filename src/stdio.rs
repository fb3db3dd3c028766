//! Stdio: empty or configured stdin; stdout and stderr discarded or captured,
//! with one byte limit either way.

mod pipe;

use pipe::OutputPipe;

/// The stdout and stderr a context wrote: kept in memory when
/// [`DeterminismConfig::capture_output`](crate::DeterminismConfig::capture_output)
/// is on, empty otherwise.
///
/// Either way each stream accepts at most
/// [`output_limit`](crate::DeterminismConfig::output_limit) bytes and answers
/// the guest the same way past it: capturing changes what the host keeps,
/// never what the guest sees.
///
/// It is a handle: it can be read while the Store that owns the context is
/// still alive.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::DeterminismConfig;
/// let ctx = DeterminismConfig::new().capture_output(true).build_p1();
/// assert!(ctx.output().stdout().is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct CapturedOutput {
    stdout: OutputPipe,
    stderr: OutputPipe,
}

impl Default for CapturedOutput {
    /// Discarded output with the default limit
    /// ([`DeterminismConfig::new`](crate::DeterminismConfig::new)'s).
    fn default() -> Self {
        let (keep, limit) = crate::DeterminismConfig::new().output_policy();
        CapturedOutput::new(keep, limit)
    }
}

impl CapturedOutput {
    /// Stdout and stderr accepting `limit` bytes each, kept if `keep`.
    pub(crate) fn new(keep: bool, limit: usize) -> CapturedOutput {
        CapturedOutput {
            stdout: OutputPipe::new(keep, limit),
            stderr: OutputPipe::new(keep, limit),
        }
    }

    /// Bytes written to stdout so far (empty when discarded).
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.contents()
    }

    /// Bytes written to stderr so far (empty when discarded).
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr.contents()
    }

    /// Appends to stdout as far as the limit allows; `false` if not all of
    /// `bytes` fitted.
    pub(crate) fn write_stdout(&self, bytes: &[u8]) -> bool {
        self.stdout.write_limited(bytes)
    }

    /// [`write_stdout`](Self::write_stdout) for stderr.
    pub(crate) fn write_stderr(&self, bytes: &[u8]) -> bool {
        self.stderr.write_limited(bytes)
    }

    /// Gives `builder` stdin from `stdin`, and these streams as stdout and
    /// stderr.
    pub(crate) fn attach_wasmtime(
        &self,
        builder: &mut wasmtime_wasi::WasiCtxBuilder,
        stdin: &[u8],
    ) {
        builder.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(
            stdin.to_vec(),
        ));
        builder.stdout(self.stdout.clone());
        builder.stderr(self.stderr.clone());
    }

    /// Gives a wasi-common context stdin from `stdin`, and these streams as
    /// stdout and stderr.
    #[cfg(feature = "wasi-common")]
    pub(crate) fn attach_common(&self, ctx: &wasi_common::WasiCtx, stdin: &[u8]) {
        use wasi_common::pipe::{ReadPipe, WritePipe};
        ctx.set_stdin(Box::new(ReadPipe::from(stdin.to_vec())));
        ctx.set_stdout(Box::new(WritePipe::new(self.stdout.clone())));
        ctx.set_stderr(Box::new(WritePipe::new(self.stderr.clone())));
    }
}
