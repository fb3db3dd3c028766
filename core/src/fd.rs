//! Descriptors: the preview1 file-descriptor table and every call that
//! takes a descriptor, answered over guest memory as bytes.
//!
//! [`Calls`] is one call's view: the [`Descriptors`] of the context, the
//! guest's memory and host-call budget ([`Guest`]) and the snapshot's
//! [`Layout`](crate::sched::abi::Layout). Its methods are the preview1
//! functions (`fd_*`, `path_*`, `sock_*`), each returning the errno the
//! guest gets or a trap ([`Failure`]). The reference is stock
//! `wasmtime-wasi` 46 on the same descriptors: the same errno, trap, bytes
//! written and the same order of checks.

pub mod calls;
pub mod guest;
pub mod paths;
pub mod table;

pub use calls::Calls;
pub use guest::{CallResult, Failure, Guest};
pub use paths::OpenArgs;
pub use table::{Descriptor, Descriptors, DirHandle, FileHandle, MAX_OPEN_DESCRIPTORS, Mount};
