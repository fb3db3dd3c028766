//! Defining the descriptor calls in a linker, for both preview1 snapshots.

use super::guest::{CallResult, Failure, Guest};
use crate::VirtualClock;
use crate::sched::abi::{GuestMemory, Layout, PollError, TAG_FD_READ};
use crate::served::{GuestModule, serve};
use deterministic_wasi_ctx_core::fd::calls::Calls;
use deterministic_wasi_ctx_core::fd::paths::OpenArgs;
use deterministic_wasi_ctx_core::fd::table::Descriptors;
use wasmtime::{AsContextMut, Caller, Linker};

/// The two preview1-family module names and their layouts.
const MODULES: [(&str, Layout); 2] = [
    ("wasi_snapshot_preview1", Layout::Preview1),
    ("wasi_unstable", Layout::Preview0),
];

/// Runs one call: finds the guest's `memory` (a trap without one, before
/// anything else, as stock does), then `call` on the descriptors, and turns
/// the result into the errno returned to the guest or a trap.
fn run<T: 'static>(
    caller: &mut Caller<'_, T>,
    (get, guest): (
        impl Fn(&mut T) -> &mut Descriptors,
        impl Fn(&mut T) -> GuestModule,
    ),
    layout: Layout,
    name: &str,
    call: impl FnOnce(&mut Calls<'_, '_>) -> CallResult<()>,
) -> wasmtime::Result<i32> {
    let Some(memory) = crate::served::guest_memory(caller, guest) else {
        wasmtime::bail!("{name}: missing required memory export");
    };
    let budget = caller.as_context_mut().hostcall_fuel();
    let (bytes, data) = memory.data_and_store_mut(caller);
    let mut calls = Calls {
        fds: get(data),
        guest: Guest::new(bytes, budget, crate::served::write_log()),
        layout,
    };
    match call(&mut calls) {
        Ok(()) => Ok(0),
        Err(Failure::Errno(errno)) => Ok(i32::from(errno)),
        Err(Failure::Trap(why)) => wasmtime::bail!("{name}: {why}"),
    }
}

/// Defines one call under `$module`: `$name(args) => body using calls`.
macro_rules! define {
    ($linker:ident, $module:ident, $layout:ident, $get:ident,
     $name:literal ($($arg:ident : $ty:ty),*) => |$calls:ident| $body:expr) => {
        serve(
            $linker,
            $module,
            $name,
            move |caller: &mut Caller<'_, T>, $($arg: $ty),*| -> wasmtime::Result<i32> {
                run(caller, $get, $layout, $name, |$calls| $body)
            },
        )?;
    };
}

/// Defines every preview1 function that takes a descriptor — `fd_*`,
/// `path_*`, `sock_*` and `poll_oneoff` (whose fd subscriptions consult the
/// table; its clock rules are [`sched::poll`](crate::sched::poll)'s) — plus
/// `proc_raise`, under both `wasi_snapshot_preview1` and `wasi_unstable`,
/// replacing any earlier definitions. `descriptors` finds the table in the
/// store data and `clock` the timeline.
///
/// [`p1::add_to_linker_sync`](crate::p1::add_to_linker_sync) and
/// [`common::add_to_linker_sync`](crate::common::add_to_linker_sync) call it
/// after the stock functions, so both backends answer these calls from here.
///
/// # Errors
///
/// Only if the linker rejects a definition for a reason other than an
/// earlier one of the same name.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::p1::DeterministicP1Ctx;
/// use wasmtime::{Engine, Linker};
///
/// let engine = Engine::default();
/// let mut linker: Linker<DeterministicP1Ctx> = Linker::new(&engine);
/// wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t.wasi())?;
/// deterministic_wasi_ctx::fd::add_descriptors_to_linker(
///     &mut linker,
///     |t| t.descriptors_mut(),
///     |t| t.clock(),
/// )?;
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn add_descriptors_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    descriptors: impl Fn(&mut T) -> &mut Descriptors + Copy + Send + Sync + 'static,
    clock: impl Fn(&mut T) -> &VirtualClock + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    define_descriptors(linker, descriptors, clock, |_| GuestModule::default())
}

/// [`add_descriptors_to_linker`], finding the memory by the index `guest`
/// gives where it can.
pub(crate) fn define_descriptors<T: 'static>(
    linker: &mut Linker<T>,
    descriptors: impl Fn(&mut T) -> &mut Descriptors + Copy + Send + Sync + 'static,
    clock: impl Fn(&mut T) -> &VirtualClock + Copy + Send + Sync + 'static,
    guest: impl Fn(&mut T) -> GuestModule + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    let get = (descriptors, guest);
    for (module, layout) in MODULES {
        define!(linker, module, layout, get, "fd_advise"(fd: i32, offset: i64, len: i64, advice: i32)
            => |c| c.fd_advise(fd, offset, len, advice));
        define!(linker, module, layout, get, "fd_allocate"(fd: i32, offset: i64, len: i64)
            => |c| c.fd_allocate(fd, offset, len));
        define!(linker, module, layout, get, "fd_close"(fd: i32) => |c| c.fd_close(fd));
        define!(linker, module, layout, get, "fd_datasync"(fd: i32) => |c| c.fd_sync(fd));
        define!(linker, module, layout, get, "fd_sync"(fd: i32) => |c| c.fd_sync(fd));
        define!(linker, module, layout, get, "fd_fdstat_get"(fd: i32, out: i32)
            => |c| c.fd_fdstat_get(fd, out));
        define!(linker, module, layout, get, "fd_fdstat_set_flags"(fd: i32, flags: i32)
            => |c| c.fd_fdstat_set_flags(fd, flags));
        define!(linker, module, layout, get, "fd_fdstat_set_rights"(fd: i32, base: i64, inheriting: i64)
            => |c| c.fd_fdstat_set_rights(fd, base, inheriting));
        define!(linker, module, layout, get, "fd_filestat_get"(fd: i32, out: i32)
            => |c| c.fd_filestat_get(fd, out));
        define!(linker, module, layout, get, "fd_filestat_set_size"(fd: i32, size: i64)
            => |c| c.fd_filestat_set_size(fd, size));
        define!(linker, module, layout, get, "fd_filestat_set_times"(fd: i32, atim: i64, mtim: i64, fst: i32)
            => |c| c.fd_filestat_set_times(fd, atim, mtim, fst));
        define!(linker, module, layout, get, "fd_read"(fd: i32, iovs: i32, count: i32, out: i32)
            => |c| c.fd_read(fd, iovs, count, out));
        define!(linker, module, layout, get, "fd_pread"(fd: i32, iovs: i32, count: i32, at: i64, out: i32)
            => |c| c.fd_pread(fd, iovs, count, at, out));
        define!(linker, module, layout, get, "fd_write"(fd: i32, iovs: i32, count: i32, out: i32)
            => |c| c.fd_write(fd, iovs, count, out));
        define!(linker, module, layout, get, "fd_pwrite"(fd: i32, iovs: i32, count: i32, at: i64, out: i32)
            => |c| c.fd_pwrite(fd, iovs, count, at, out));
        define!(linker, module, layout, get, "fd_prestat_get"(fd: i32, out: i32)
            => |c| c.fd_prestat_get(fd, out));
        define!(linker, module, layout, get, "fd_prestat_dir_name"(fd: i32, path: i32, len: i32)
            => |c| c.fd_prestat_dir_name(fd, path, len));
        define!(linker, module, layout, get, "fd_renumber"(from: i32, to: i32)
            => |c| c.fd_renumber(from, to));
        define!(linker, module, layout, get, "fd_seek"(fd: i32, offset: i64, whence: i32, out: i32)
            => |c| c.fd_seek(fd, offset, whence, out));
        define!(linker, module, layout, get, "fd_tell"(fd: i32, out: i32) => |c| c.fd_tell(fd, out));
        define!(linker, module, layout, get, "fd_readdir"(fd: i32, buf: i32, len: i32, cookie: i64, out: i32)
            => |c| c.fd_readdir(fd, buf, len, cookie, out));
        define!(linker, module, layout, get, "path_create_directory"(fd: i32, path: i32, len: i32)
            => |c| c.path_create_directory(fd, (path, len)));
        define!(linker, module, layout, get, "path_filestat_get"(fd: i32, lookup: i32, path: i32, len: i32, out: i32)
            => |c| c.path_filestat_get(fd, lookup, (path, len), out));
        define!(linker, module, layout, get, "path_filestat_set_times"(fd: i32, lookup: i32, path: i32, len: i32, atim: i64, mtim: i64, fst: i32)
            => |c| c.path_filestat_set_times(fd, lookup, (path, len), (atim, mtim), fst));
        define!(linker, module, layout, get, "path_link"(from: i32, lookup: i32, p: i32, pl: i32, to: i32, q: i32, ql: i32)
            => |c| c.path_link((from, lookup, (p, pl)), (to, (q, ql))));
        define!(linker, module, layout, get, "path_open"(fd: i32, lookup: i32, path: i32, len: i32, oflags: i32, base: i64, inheriting: i64, fdflags: i32, out: i32)
            => |c| c.path_open(fd, &OpenArgs { lookup, path: (path, len), oflags, base, inheriting, fdflags, out }));
        define!(linker, module, layout, get, "path_readlink"(fd: i32, path: i32, len: i32, buf: i32, buf_len: i32, out: i32)
            => |c| c.path_readlink(fd, (path, len), (buf, buf_len), out));
        define!(linker, module, layout, get, "path_remove_directory"(fd: i32, path: i32, len: i32)
            => |c| c.path_remove_directory(fd, (path, len)));
        define!(linker, module, layout, get, "path_rename"(from: i32, p: i32, pl: i32, to: i32, q: i32, ql: i32)
            => |c| c.path_rename((from, (p, pl)), (to, (q, ql))));
        define!(linker, module, layout, get, "path_symlink"(p: i32, pl: i32, fd: i32, q: i32, ql: i32)
            => |c| c.path_symlink((p, pl), fd, (q, ql)));
        define!(linker, module, layout, get, "path_unlink_file"(fd: i32, path: i32, len: i32)
            => |c| c.path_unlink_file(fd, (path, len)));
        define!(linker, module, layout, get, "proc_raise"(signal: i32) => |c| c.proc_raise(signal));
        if layout == Layout::Preview1 {
            // Preview0 has no `sock_accept`.
            define!(linker, module, layout, get, "sock_accept"(fd: i32, flags: i32, _out: i32)
                => |c| c.sock_accept(fd, flags));
        }
        define!(linker, module, layout, get, "sock_recv"(fd: i32, _iovs: i32, _count: i32, flags: i32, _out: i32, _oflags: i32)
            => |c| c.sock_recv(fd, flags));
        define!(linker, module, layout, get, "sock_send"(fd: i32, _iovs: i32, _count: i32, flags: i32, _out: i32)
            => |c| c.sock_send(fd, flags));
        define!(linker, module, layout, get, "sock_shutdown"(fd: i32, how: i32)
            => |c| c.sock_shutdown(fd, how));
        add_poll_oneoff(linker, module, layout, get, clock)?;
    }
    Ok(())
}

/// `poll_oneoff` with [`sched::poll`](crate::sched::poll)'s clock rules; an
/// `fd_read` subscription is ready on stdin and on a file, an `fd_write` one
/// on stdout, stderr and a file of a writable preopen, and any other
/// descriptor is `EBADF`.
fn add_poll_oneoff<T: 'static>(
    linker: &mut Linker<T>,
    module: &str,
    layout: Layout,
    (descriptors, guest): (
        impl Fn(&mut T) -> &mut Descriptors + Copy + Send + Sync + 'static,
        impl Fn(&mut T) -> GuestModule + Copy + Send + Sync + 'static,
    ),
    clock: impl Fn(&mut T) -> &VirtualClock + Copy + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    serve(
        linker,
        module,
        "poll_oneoff",
        move |caller: &mut Caller<'_, T>, subs: i32, events: i32, n: i32, nevents: i32| {
            let Some(memory) = crate::served::guest_memory(caller, guest) else {
                wasmtime::bail!("poll_oneoff: missing required memory export");
            };
            let clock = clock(caller.data_mut()).clone();
            let (bytes, data) = memory.data_and_store_mut(&mut *caller);
            let fds = descriptors(data);
            let ready = |fd: u32, tag: u8| fds.poll_ready(fd, tag == TAG_FD_READ);
            let mut memory = GuestMemory::new(bytes, crate::served::write_log());
            let (subs, events, n, nevents) = (subs as u32, events as u32, n as u32, nevents as u32);
            match crate::sched::poll::poll_oneoff(
                &clock,
                layout,
                &mut memory,
                (subs, events, n, nevents),
                &ready,
            ) {
                Ok(()) => Ok(0),
                Err(PollError::Errno(errno)) => Ok(i32::from(errno as u16)),
                Err(PollError::Trap(why)) => wasmtime::bail!("poll_oneoff: {why}"),
            }
        },
    )?;
    Ok(())
}
