//! Descriptors: the preview1 file-descriptor table, served by this crate on
//! every backend.
//!
//! Stock `wasmtime-wasi` and `wasi-common` each keep their own descriptor
//! table and answer the same guest call differently (which iovecs `fd_write`
//! reads, `EBADF` or `ENOTSOCK`, a trap or an errno, how much a full output
//! buffer accepts). So that one [`DeterminismConfig`](crate::DeterminismConfig)
//! gives one behaviour everywhere, every preview1 function that takes a
//! descriptor (`fd_*`, `path_*`, `sock_*`, and `poll_oneoff`'s fd
//! subscriptions) is answered here, from one table, on both backends
//! ([`add_descriptors_to_linker`]).
//!
//! The reference is stock `wasmtime-wasi` 46 on the same descriptors: the
//! same errno, trap, bytes written and the same order of checks (argument
//! decoding, then the host-call size budget, then the descriptor, then guest
//! memory). A differential test compares the two call for call.
//!
//! The table starts with stdin (fd 0), stdout (1) and stderr (2). Stdio is
//! not a terminal (`filetype` unknown, all `filestat` fields zero), stdin is
//! the configured bytes, stdout and stderr are discarded or captured up to a
//! limit ([`CapturedOutput`](crate::CapturedOutput)). There are no
//! directories, files or sockets yet, so `path_*` calls find no directory
//! (`EBADF`) and `sock_*` calls on an open descriptor answer `ENOTSOCK`.
//!
//! # Example
//!
//! ```
//! use deterministic_wasi_ctx::{DeterminismConfig, engine, p1};
//! use wasmtime::{Linker, Module, Store};
//!
//! // Close stdout, then write to it: EBADF (8) on every backend.
//! let engine = engine::deterministic_engine()?;
//! let module = Module::new(&engine, r#"(module
//!     (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
//!     (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
//!     (memory (export "memory") 1)
//!     (func (export "run") (result i32)
//!       (drop (call $close (i32.const 1)))
//!       (call $write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0))))"#)?;
//! let mut linker = Linker::new(&engine);
//! p1::add_to_linker_sync(&mut linker, |t| t)?;
//! let mut store = Store::new(&engine, DeterminismConfig::new().build_p1());
//! store.set_fuel(1_000_000)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! let errno = instance.get_typed_func::<(), i32>(&mut store, "run")?.call(&mut store, ())?;
//! assert_eq!(errno, 8);
//! # Ok::<(), wasmtime::Error>(())
//! ```

mod calls;
pub(crate) mod guest;
mod link;
mod table;

pub use guest::Failure;
pub use link::add_descriptors_to_linker;
pub use table::{Descriptor, Descriptors};
