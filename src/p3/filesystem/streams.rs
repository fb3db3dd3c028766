//! The byte streams of `read-via-stream`, `write-via-stream` and
//! `append-via-stream` for WASI 0.3, answered at once: a read moves what
//! the guest's buffer holds (at most 64 KiB, less only at the end of the
//! file), a write writes all the guest offers. Both go through preview2's
//! [`FileReader`] and [`FileWriter`], so the bytes, limits, errors and
//! trace records are the same in both releases.

use super::convert::ToP3;
use crate::VirtualClock;
use crate::p2::filesystem::{FileReader, FileWriter, MAX_READ};
use deterministic_wasi_ctx_core::sched::concurrent::Waits;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::oneshot;
use wasmtime::StoreContextMut;
use wasmtime::component::{
    Destination, Source, StreamConsumer, StreamProducer, StreamResult, VecBuffer,
};
use wasmtime_wasi::p3::bindings::filesystem::types::{DirectoryEntry, ErrorCode};

/// Where a stream's outcome goes: the `future` returned beside it resolves
/// to it when the stream ends (the end of the file, an error, or the guest
/// dropping its end). Dropped unsent, it sends `ok`.
pub(super) struct Done(Option<oneshot::Sender<Result<(), ErrorCode>>>);

/// The value of the `future` a stream function returns: the outcome.
type Outcome = Result<Result<(), ErrorCode>, oneshot::error::RecvError>;

impl Done {
    /// The outcome's sender, and the future's end: the outcome once sent,
    /// delivered as a turn of the executor ([`Waits::turn`]) with the ticket
    /// taken now, in the call that started the stream. wasmtime lowers such
    /// a value into the guest on a later turn of its event loop, and when
    /// several are ready at once its versions deliver them in different
    /// orders; as turns they are ready one at a time, in the order the
    /// guest started the streams.
    pub(super) fn new(
        (clock, waits): (&VirtualClock, &Waits),
    ) -> (Done, impl Future<Output = Outcome> + Send + 'static) {
        let (sender, receiver) = oneshot::channel();
        let turn = waits.turn(clock, waits.ticket());
        let outcome = async move {
            let outcome = receiver.await?;
            turn.await;
            Ok(outcome)
        };
        (Done(Some(sender)), outcome)
    }

    /// Sends `result` the first time; later calls do nothing.
    pub(super) fn finish(&mut self, result: Result<(), ErrorCode>) {
        if let Some(sender) = self.0.take() {
            // The guest may have dropped the future: nothing to tell then.
            let _ = sender.send(result);
        }
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        self.finish(Ok(()));
    }
}

/// The producer behind `read-via-stream`'s stream.
pub(super) struct ReadProducer {
    pub(super) reader: FileReader,
    pub(super) done: Done,
}

impl<D> StreamProducer<D> for ReadProducer {
    type Item = u8;
    type Buffer = VecBuffer<u8>;

    fn poll_produce<'a>(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'a, D>,
        dst: Destination<'a, u8, VecBuffer<u8>>,
        _: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let me = self.get_mut();
        let mut dst = dst.as_direct(store, MAX_READ);
        let room = dst.remaining().len();
        // A zero-length read asks whether the stream is ready: it always is.
        if room == 0 {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        Poll::Ready(Ok(match me.reader.read_next(room) {
            Ok(bytes) if bytes.is_empty() => {
                me.done.finish(Ok(()));
                StreamResult::Dropped
            }
            Ok(bytes) => {
                dst.remaining()[..bytes.len()].copy_from_slice(&bytes);
                dst.mark_written(bytes.len());
                StreamResult::Completed
            }
            Err(code) => {
                me.done.finish(Err(code.to_p3()));
                StreamResult::Dropped
            }
        }))
    }
}

/// The producer behind `read-directory`'s stream: the listing taken at the
/// call, as many entries per read as the guest asks for.
/// Dropped before the end, the listing was fine so far (`ok`).
pub(super) struct ListingProducer {
    pub(super) entries: std::collections::VecDeque<DirectoryEntry>,
    /// What the future resolves to once every entry was read.
    pub(super) outcome: Result<(), ErrorCode>,
    pub(super) done: Done,
}

impl<D> StreamProducer<D> for ListingProducer {
    type Item = DirectoryEntry;
    type Buffer = VecBuffer<DirectoryEntry>;

    fn poll_produce<'a>(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<'a, D>,
        mut dst: Destination<'a, DirectoryEntry, VecBuffer<DirectoryEntry>>,
        _: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let me = self.get_mut();
        if me.entries.is_empty() {
            let outcome = std::mem::replace(&mut me.outcome, Ok(()));
            me.done.finish(outcome);
            return Poll::Ready(Ok(StreamResult::Dropped));
        }
        // A guest reader says how many it takes; a host reader gets one.
        let room = dst.remaining(&mut store).unwrap_or(1);
        if room == 0 {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        let n = room.min(me.entries.len());
        let batch: Vec<DirectoryEntry> = me.entries.drain(..n).collect();
        dst.set_buffer(batch.into());
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

/// The consumer of the stream `write-via-stream` and `append-via-stream`
/// take.
pub(super) struct WriteConsumer {
    pub(super) writer: FileWriter,
    pub(super) done: Done,
}

impl<D> StreamConsumer<D> for WriteConsumer {
    type Item = u8;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<D>,
        src: Source<u8>,
        _: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let me = self.get_mut();
        let mut src = src.as_direct(store);
        let n = src.remaining().len();
        if n == 0 {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        Poll::Ready(Ok(match me.writer.write_next(src.remaining()) {
            Ok(()) => {
                src.mark_read(n);
                StreamResult::Completed
            }
            // What was written before the error stays written; the stream
            // ends and the future tells why.
            Err(code) => {
                me.done.finish(Err(code.to_p3()));
                StreamResult::Dropped
            }
        }))
    }
}
