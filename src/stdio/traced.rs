//! WASI 0.3's stdio streams, recorded: wasmtime-wasi serves `wasi:cli`'s
//! `stdin.read-via-stream` and `stdout` / `stderr.write-via-stream` from the
//! `async_stream` of the context's stdin and output pipes. With a
//! [`Recorder`], those streams record every read and write as it happens,
//! in the order the guest's stream operations reach the host:
//!
//! - `wasi:cli/stdin.read(room) -> n`, the `n` bytes read as its write (0
//!   at the end of the input);
//! - `wasi:cli/stdout.write(len) -> accepted` (and `stderr`): what the
//!   guest offered and what the output took (less only at the output
//!   limit). The bytes themselves are the run's stdout and stderr.
//!
//! Preview2's streams (`p2_stream`) are not recorded: a preview2 run's
//! output is compared by content, and preview1's calls are recorded by the
//! tracer.

use crate::trace::{Recorder, Returned, WriteRef};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi_io::streams::InputStream;

/// The trace name of a 0.3 stdin read.
pub(crate) const STDIN_READ: &str = "wasi:cli/stdin.read";
/// The trace name of a 0.3 stdout write.
pub(crate) const STDOUT_WRITE: &str = "wasi:cli/stdout.write";
/// The trace name of a 0.3 stderr write.
pub(crate) const STDERR_WRITE: &str = "wasi:cli/stderr.write";

/// The configuration's stdin, its 0.3 reads recorded when `recorder` is
/// set.
#[derive(Clone, Debug)]
pub(crate) struct Stdin {
    pub(crate) pipe: MemoryInputPipe,
    pub(crate) recorder: Option<Recorder>,
}

impl IsTerminal for Stdin {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for Stdin {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        self.pipe.p2_stream()
    }

    fn async_stream(&self) -> Box<dyn AsyncRead + Send + Sync> {
        let inner = Box::into_pin(self.pipe.async_stream());
        match &self.recorder {
            Some(recorder) => Box::new(TracedRead {
                inner,
                recorder: recorder.clone(),
            }),
            None => Box::new(inner),
        }
    }
}

/// A stdin stream that records each read.
struct TracedRead {
    inner: Pin<Box<dyn AsyncRead + Send + Sync>>,
    recorder: Recorder,
}

impl AsyncRead for TracedRead {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let room = buf.remaining();
        let polled = self.inner.as_mut().poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let bytes = &buf.filled()[before..];
            let writes = [WriteRef::Bytes { offset: 0, bytes }];
            let writes = if bytes.is_empty() {
                &[][..]
            } else {
                &writes[..]
            };
            let result = [bytes.len() as i64];
            self.recorder.record(
                STDIN_READ,
                &[room as i64],
                Returned::Values(&result),
                writes,
            );
        }
        polled
    }
}

/// Records one write of `len` bytes of which the output took `accepted`.
pub(crate) fn record_write(recorder: &Recorder, name: &'static str, len: usize, accepted: usize) {
    let result = [accepted as i64];
    recorder.record(name, &[len as i64], Returned::Values(&result), &[]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stdio::pipe::WasiPipe;
    use deterministic_wasi_ctx_core::stdio::pipe::OutputPipe;
    use tokio::io::AsyncWrite;

    fn calls(recorder: &Recorder) -> Vec<String> {
        let trace = recorder.trace();
        trace.events().iter().map(|e| e.to_string()).collect()
    }

    /// Each read is recorded with the room the reader gave and the bytes it
    /// got, the end of the input included.
    #[test]
    fn stdin_reads_are_recorded_with_their_bytes() {
        let recorder = Recorder::new(16);
        let stdin = Stdin {
            pipe: MemoryInputPipe::new(b"abc".to_vec()),
            recorder: Some(recorder.clone()),
        };
        let mut stream = Box::into_pin(stdin.async_stream());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        for _ in 0..3 {
            let mut room = [0; 2];
            let mut buf = ReadBuf::new(&mut room);
            assert!(stream.as_mut().poll_read(&mut cx, &mut buf).is_ready());
        }
        assert_eq!(
            calls(&recorder),
            [
                "wasi:cli/stdin.read(2) -> 2, wrote 2 bytes @0x0: 61 62",
                "wasi:cli/stdin.read(2) -> 1, wrote 1 bytes @0x0: 63",
                "wasi:cli/stdin.read(2) -> 0",
            ]
        );
    }

    /// A write records what was offered and what the output took: less
    /// only at the output limit.
    #[test]
    fn writes_are_recorded_with_what_the_output_took() {
        let recorder = Recorder::new(16);
        let mut write = WasiPipe(
            OutputPipe::new(true, 4),
            Some((recorder.clone(), STDOUT_WRITE)),
        );
        let mut cx = Context::from_waker(std::task::Waker::noop());
        for chunk in [&b"abc"[..], b"de", b"f"] {
            assert!(Pin::new(&mut write).poll_write(&mut cx, chunk).is_ready());
        }
        assert_eq!(
            calls(&recorder),
            [
                "wasi:cli/stdout.write(3) -> 3",
                "wasi:cli/stdout.write(2) -> 1",
                "wasi:cli/stdout.write(1) -> 0",
            ]
        );
    }
}
