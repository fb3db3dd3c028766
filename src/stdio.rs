//! Stdio: empty or configured stdin, discarded or captured stdout/stderr.

use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// Where one output stream of a context went.
#[derive(Clone, Debug, Default)]
enum Sink {
    #[default]
    Discarded,
    Wasmtime(MemoryOutputPipe),
    #[cfg(feature = "wasi-common")]
    Common(std::sync::Arc<std::sync::RwLock<LimitedBuffer>>),
}

impl Sink {
    /// Appends as much of `bytes` as the limit allows: `false` if not all
    /// of them fitted (stock wasmtime-wasi's rule for a full pipe: keep what
    /// fits, then fail).
    fn write_limited(&self, bytes: &[u8]) -> bool {
        match self {
            Sink::Discarded => true,
            Sink::Wasmtime(pipe) => {
                use wasmtime_wasi_io::{bytes::Bytes, streams::OutputStream};
                let mut pipe = pipe.clone();
                let room = pipe.check_write().unwrap_or(0);
                let fits = bytes.len().min(room);
                if fits > 0 {
                    // Within `check_write`'s room, so the pipe accepts it.
                    let _ = pipe.write(Bytes::copy_from_slice(&bytes[..fits]));
                }
                fits == bytes.len()
            }
            #[cfg(feature = "wasi-common")]
            Sink::Common(buffer) => {
                let mut buffer = buffer.write().unwrap_or_else(|e| e.into_inner());
                let room = buffer.capacity.saturating_sub(buffer.bytes.len());
                let fits = bytes.len().min(room);
                buffer.bytes.extend_from_slice(&bytes[..fits]);
                fits == bytes.len()
            }
        }
    }

    fn contents(&self) -> Vec<u8> {
        match self {
            Sink::Discarded => Vec::new(),
            Sink::Wasmtime(pipe) => pipe.contents().to_vec(),
            #[cfg(feature = "wasi-common")]
            Sink::Common(buffer) => buffer
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .bytes
                .clone(),
        }
    }
}

/// The stdout and stderr a context captured (empty when capture is off; see
/// [`DeterminismConfig::capture_output`](crate::DeterminismConfig::capture_output)).
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
#[derive(Clone, Debug, Default)]
pub struct CapturedOutput {
    stdout: Sink,
    stderr: Sink,
}

impl CapturedOutput {
    /// Bytes written to stdout so far.
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.contents()
    }

    /// Bytes written to stderr so far.
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr.contents()
    }

    /// Appends to stdout as far as the capture limit allows; `false` if
    /// not all of `bytes` fitted. Discarded output accepts everything.
    pub(crate) fn write_stdout(&self, bytes: &[u8]) -> bool {
        self.stdout.write_limited(bytes)
    }

    /// [`write_stdout`](Self::write_stdout) for stderr.
    pub(crate) fn write_stderr(&self, bytes: &[u8]) -> bool {
        self.stderr.write_limited(bytes)
    }

    /// Installs stdio on a wasmtime-wasi builder: stdin from `stdin`, and
    /// stdout/stderr captured up to `capacity` bytes each when given.
    pub(crate) fn install_wasmtime(
        builder: &mut wasmtime_wasi::WasiCtxBuilder,
        stdin: &[u8],
        capacity: Option<usize>,
    ) -> CapturedOutput {
        let output = CapturedOutput::wasmtime_pipes(capacity);
        output.attach_wasmtime(builder, stdin);
        output
    }

    /// Stdout/stderr pipes of wasmtime-wasi's kind, captured up to
    /// `capacity` bytes each when given, for a builder to share later
    /// ([`attach_wasmtime`](Self::attach_wasmtime)).
    pub(crate) fn wasmtime_pipes(capacity: Option<usize>) -> CapturedOutput {
        let Some(capacity) = capacity else {
            return CapturedOutput::default();
        };
        CapturedOutput {
            stdout: Sink::Wasmtime(MemoryOutputPipe::new(capacity)),
            stderr: Sink::Wasmtime(MemoryOutputPipe::new(capacity)),
        }
    }

    /// Gives `builder` stdin from `stdin`, and these pipes as stdout and
    /// stderr where they capture (otherwise the builder's default).
    pub(crate) fn attach_wasmtime(
        &self,
        builder: &mut wasmtime_wasi::WasiCtxBuilder,
        stdin: &[u8],
    ) {
        builder.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(
            stdin.to_vec(),
        ));
        if let Sink::Wasmtime(pipe) = &self.stdout {
            builder.stdout(pipe.clone());
        }
        if let Sink::Wasmtime(pipe) = &self.stderr {
            builder.stderr(pipe.clone());
        }
    }

    /// Installs stdio on a wasi-common context (see [`install_wasmtime`](Self::install_wasmtime)).
    #[cfg(feature = "wasi-common")]
    pub(crate) fn install_common(
        ctx: &wasi_common::WasiCtx,
        stdin: &[u8],
        capacity: Option<usize>,
    ) -> CapturedOutput {
        use std::sync::{Arc, RwLock};
        use wasi_common::pipe::{ReadPipe, WritePipe};
        ctx.set_stdin(Box::new(ReadPipe::from(stdin.to_vec())));
        let Some(capacity) = capacity else {
            ctx.set_stdout(Box::new(WritePipe::new(std::io::sink())));
            ctx.set_stderr(Box::new(WritePipe::new(std::io::sink())));
            return CapturedOutput::default();
        };
        let buffer = || {
            Arc::new(RwLock::new(LimitedBuffer {
                bytes: Vec::new(),
                capacity,
            }))
        };
        let (stdout, stderr) = (buffer(), buffer());
        ctx.set_stdout(Box::new(WritePipe::from_shared(stdout.clone())));
        ctx.set_stderr(Box::new(WritePipe::from_shared(stderr.clone())));
        CapturedOutput {
            stdout: Sink::Common(stdout),
            stderr: Sink::Common(stderr),
        }
    }
}

/// An in-memory stream that refuses writes past its capacity.
#[cfg(feature = "wasi-common")]
#[derive(Debug)]
pub(crate) struct LimitedBuffer {
    bytes: Vec<u8>,
    capacity: usize,
}

#[cfg(feature = "wasi-common")]
impl std::io::Write for LimitedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.capacity {
            return Err(std::io::Error::other("captured output limit reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
