//! Stdio: empty or configured stdin; stdout and stderr discarded or captured,
//! with one byte limit either way.

pub mod pipe;

use pipe::OutputPipe;

/// The stdout and stderr a context wrote: kept in memory when
/// the configuration captures output (`DeterminismConfig::capture_output` in
/// the adapters), empty otherwise.
///
/// Either way each stream accepts at most
/// `output_limit` bytes and answers
/// the guest the same way past it: capturing changes what the host keeps,
/// never what the guest sees.
///
/// It is a handle: it can be read while the Store that owns the context is
/// still alive.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::CapturedOutput;
///
/// // Kept, at most 4 bytes per stream.
/// let output = CapturedOutput::new(true, 4);
/// assert!(output.write_stdout(b"hey"));
/// assert!(!output.write_stdout(b"there")); // only "t" fits
/// assert_eq!(output.stdout(), b"heyt");
/// ```
#[derive(Clone, Debug)]
pub struct CapturedOutput {
    stdout: OutputPipe,
    stderr: OutputPipe,
}

/// The bytes each of stdout and stderr accepts unless configured otherwise:
/// 16 MiB.
pub const DEFAULT_OUTPUT_LIMIT: usize = 16 << 20;

impl Default for CapturedOutput {
    /// Discarded output with the default limit ([`DEFAULT_OUTPUT_LIMIT`]).
    fn default() -> Self {
        CapturedOutput::new(false, DEFAULT_OUTPUT_LIMIT)
    }
}

impl CapturedOutput {
    /// The stdout stream (a handle: clones share it).
    pub fn stdout_pipe(&self) -> &OutputPipe {
        &self.stdout
    }

    /// The stderr stream (a handle: clones share it).
    pub fn stderr_pipe(&self) -> &OutputPipe {
        &self.stderr
    }

    /// Stdout and stderr accepting `limit` bytes each, kept if `keep`.
    pub fn new(keep: bool, limit: usize) -> CapturedOutput {
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
    pub fn write_stdout(&self, bytes: &[u8]) -> bool {
        self.stdout.write_limited(bytes)
    }

    /// [`write_stdout`](Self::write_stdout) for stderr.
    pub fn write_stderr(&self, bytes: &[u8]) -> bool {
        self.stderr.write_limited(bytes)
    }
}
