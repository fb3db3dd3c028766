//! [`WasiPipe`]: the core's [`OutputPipe`] as wasmtime-wasi's stdout and
//! stderr.

use super::traced;
use crate::trace::Recorder;
use bytes::Bytes;
use deterministic_wasi_ctx_core::stdio::pipe::OutputPipe;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{OutputStream, StreamError};

/// An [`OutputPipe`] as wasmtime-wasi's output stream: past the limit, a
/// preview2 write beyond the room `check-write` gave traps and a full pipe
/// reports itself closed (as wasmtime-wasi's `MemoryOutputPipe`). With a
/// recorder and a trace name, its WASI 0.3 stream (the `AsyncWrite` side;
/// preview2 uses the `OutputStream` one) records every write
/// ([`traced::record_write`]).
#[derive(Clone, Debug)]
pub(crate) struct WasiPipe(
    pub(crate) OutputPipe,
    pub(crate) Option<(Recorder, &'static str)>,
);

#[async_trait::async_trait]
impl OutputStream for WasiPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.0.accept_all(&bytes).map_err(|limit| {
            StreamError::Trap(wasmtime::format_err!(
                "write beyond the output limit of {limit} bytes"
            ))
        })
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        match self.0.room() {
            // Full: no byte will ever be accepted again.
            0 => Err(StreamError::Closed),
            room => Ok(room),
        }
    }
}

#[async_trait::async_trait]
impl Pollable for WasiPipe {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for WasiPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let accepted = self.0.accept_prefix(buf);
        if let Some((recorder, name)) = &self.1 {
            traced::record_write(recorder, name, buf.len(), accepted);
        }
        Poll::Ready(Ok(accepted))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for WasiPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for WasiPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
#[path = "pipe_tests.rs"]
mod tests;
