//! Record and replay: a log of everything the world answered a preview1
//! guest, and the rules that replay it.
//!
//! A recording keeps, per host call, what the trace keeps (name, arguments,
//! result) plus every byte the call wrote into guest memory and a digest of
//! the data it took from guest memory (the bytes it wrote out, its paths,
//! its subscriptions). A replay answers each call from the log after
//! checking that the guest asks the same thing: the same function, the same
//! arguments, the same data. Nothing here touches wasmtime or the host: the
//! log is bytes in and out ([`LogWriter`], [`LogReader`]), guest memory is a
//! slice ([`answer`]).
//!
//! # The log format (version 1)
//!
//! ```text
//! log     := "dwc-log\n" version:u32le  deflate(body)
//! body    := header call* end
//! header  := kind:u8 (1 = preview1 module, 2 = preview2 component)
//!            program:[u8; 32] (BLAKE3 of the program)
//! call    := 0x01 flags:u8 name:str args:varint* result write* inputs
//!            flags: bit 0 = imported from `wasi_unstable`
//! result  := 0x00 n:varint zigzag* | 0x01 status:zigzag | 0x02 (trapped)
//! write   := count:varint, then per write offset:varint
//!            ( 0x00 len:varint bytes   -- stored here
//!            | 0x01 index:varint )      -- the same bytes as stored write #index
//! inputs  := 0x00 | 0x01 digest:[u8; 16]
//! end     := 0x02 calls:varint status stdout:blob stderr:blob digest:[u8; 32]
//! status  := 0x00 (returned) | 0x01 code:zigzag (exit) | 0x02 (trapped)
//! blob    := len:varint blake3:[u8; 32]
//! str     := len:varint bytes
//! ```
//!
//! A component's call (kind 2) is its import's name
//! (`wasi:io/streams.[method]input-stream.read`), its arguments and result
//! flattened to integers, the bytes of the result's strings and byte lists
//! as writes whose offsets are those values' positions among the result's
//! integers, and a digest of the arguments' bytes as `inputs`; a handle
//! the guest drops is a call `[resource-drop]<resource>(number)`.
//!
//! Integers are LEB128 (`varint`, at most 10 bytes), signed ones zigzag
//! encoded first. `args` is a count then the values. A write of at least
//! [`STORED_ONCE_MIN`] bytes is kept in a table the writer and the reader
//! build alike (until it holds [`TABLE_ENTRIES`] writes or
//! [`TABLE_BYTES`] bytes), and a later write with the same bytes names its
//! entry instead of repeating them. `digest` is the BLAKE3 of the body
//! before it, so a log is checked whole ([`verify`]) before a replay trusts
//! any of it. The writer streams: its memory is the table and one call.

mod check;
mod format;
#[cfg(test)]
mod tests;

pub use check::{Answer, Changed, Inputs, Mismatch, answer, answer_component, inputs_digest};
pub use format::{
    Entry, LogCall, LogEnd, LogError, LogReader, LogWriter, ProgramKind, STORED_ONCE_MIN,
    TABLE_BYTES, TABLE_ENTRIES, VERSION, Verified, verify,
};
