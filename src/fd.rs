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
//! limit ([`CapturedOutput`](crate::CapturedOutput)). Preopened directories
//! ([`DeterminismConfig::preopen`](crate::DeterminismConfig::preopen)) follow
//! as fds 3, 4, ..., each with its own copy-on-write
//! [`FsTree`](crate::fs::FsTree): `path_*` and the `fd_*` calls on files and
//! directories are answered from it with stock's checks (see
//! [`paths`](self#paths)), so what a guest reads, writes and lists is the
//! same every run and on every backend. There are no sockets: `sock_*`
//! calls on an open descriptor answer `ENOTSOCK`.
//!
//! # Paths
//!
//! Stock's order of checks: argument decoding, the directory descriptor(s)
//! (`EBADF` for anything else; `ENOTDIR` for a file given to `path_open`),
//! the path strings (budget, bounds, `EILSEQ`), the preopen's permissions
//! (`EPERM` when read-only), then the tree's answer (its rules are in
//! [`fs`](crate::fs)). Two preopens are two devices: `path_rename` and
//! `path_link` between them answer `EXDEV`. At most
//! [`MAX_OPEN_DESCRIPTORS`] are open at once (`EMFILE` beyond).
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

mod link;

pub(crate) use deterministic_wasi_ctx_core::fd::guest;
pub use deterministic_wasi_ctx_core::fd::{
    Descriptor, Descriptors, DirHandle, Failure, FileHandle, MAX_OPEN_DESCRIPTORS, Mount, OpenArgs,
};
pub use link::add_descriptors_to_linker;
pub(crate) use link::define_descriptors;
