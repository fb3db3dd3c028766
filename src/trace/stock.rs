//! Stock wasmtime-wasi's preview1 functions called straight from the
//! tracing wrapper ([`super::instantiate_traced_stock`]): with the guest's
//! memory and the Store's context, as wasmtime-wasi's own linker glue calls
//! them, instead of through a proxy instance.

use std::mem::MaybeUninit;
use wasmtime::{AsContextMut, Caller, Memory, ValRaw};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p1::wasi_snapshot_preview1::{self as p1, WasiSnapshotPreview1 as _};
use wiggle::GuestMemory;

/// An argument as the function's type has it, from the tracer's widened
/// integer.
trait Arg {
    fn from_raw(raw: i64) -> Self;
}

impl Arg for i32 {
    fn from_raw(raw: i64) -> i32 {
        // The tracer widened an `i32`: this is that value.
        raw as i32
    }
}

impl Arg for i64 {
    fn from_raw(raw: i64) -> i64 {
        raw
    }
}

/// A function's result: an errno, or nothing (`proc_exit`).
trait Ret {
    fn into_raw(self) -> Option<i32>;
}

impl Ret for i32 {
    fn into_raw(self) -> Option<i32> {
        Some(self)
    }
}

impl Ret for () {
    fn into_raw(self) -> Option<i32> {
        None
    }
}

macro_rules! stock_functions {
    ($( $kind:ident $name:ident ( $($ty:ident),* ); )*) => {
        /// One of stock's preview1 functions.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum StockFn {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                $name,
            )*
        }

        impl StockFn {
            /// The function named `name`, if stock's preview1 has one.
            pub(crate) fn named(name: &str) -> Option<StockFn> {
                match name {
                    $(stringify!($name) => Some(StockFn::$name),)*
                    _ => None,
                }
            }

            /// Calls it with `args` (as many as its type has, widened).
            fn call(
                self,
                ctx: &mut WasiP1Ctx,
                memory: &mut GuestMemory<'_>,
                args: &[i64],
            ) -> wasmtime::Result<Option<i32>> {
                let mut args = args.iter().copied();
                let mut next = || args.next().unwrap_or(0);
                match self {
                    $(StockFn::$name => {
                        let call = p1::$name(ctx, memory, $(<$ty>::from_raw(next())),*);
                        Ok(stock_functions!(@run $kind call)?.into_raw())
                    })*
                }
            }
        }
    };
    // As stock's synchronous linker runs them: its `async` functions on its
    // Tokio runtime, the others as they are.
    (@run sync $call:ident) => { $call };
    (@run async $call:ident) => { wasmtime_wasi::runtime::in_tokio($call) };
}

// Every preview1 function, with its parameters' core types; `async` where
// wasmtime-wasi declares the function async.
stock_functions! {
    sync args_get(i32, i32);
    sync args_sizes_get(i32, i32);
    sync environ_get(i32, i32);
    sync environ_sizes_get(i32, i32);
    sync clock_res_get(i32, i32);
    sync clock_time_get(i32, i64, i32);
    async fd_advise(i32, i64, i64, i32);
    sync fd_allocate(i32, i64, i64);
    async fd_close(i32);
    async fd_datasync(i32);
    async fd_fdstat_get(i32, i32);
    sync fd_fdstat_set_flags(i32, i32);
    sync fd_fdstat_set_rights(i32, i64, i64);
    async fd_filestat_get(i32, i32);
    async fd_filestat_set_size(i32, i64);
    async fd_filestat_set_times(i32, i64, i64, i32);
    async fd_pread(i32, i32, i32, i64, i32);
    sync fd_prestat_get(i32, i32);
    sync fd_prestat_dir_name(i32, i32, i32);
    async fd_pwrite(i32, i32, i32, i64, i32);
    async fd_read(i32, i32, i32, i32);
    async fd_readdir(i32, i32, i32, i64, i32);
    async fd_renumber(i32, i32);
    async fd_seek(i32, i64, i32, i32);
    async fd_sync(i32);
    sync fd_tell(i32, i32);
    async fd_write(i32, i32, i32, i32);
    async path_create_directory(i32, i32, i32);
    async path_filestat_get(i32, i32, i32, i32, i32);
    async path_filestat_set_times(i32, i32, i32, i32, i64, i64, i32);
    async path_link(i32, i32, i32, i32, i32, i32, i32);
    async path_open(i32, i32, i32, i32, i32, i64, i64, i32, i32);
    async path_readlink(i32, i32, i32, i32, i32, i32);
    async path_remove_directory(i32, i32, i32);
    async path_rename(i32, i32, i32, i32, i32, i32);
    async path_symlink(i32, i32, i32, i32, i32);
    async path_unlink_file(i32, i32, i32);
    async poll_oneoff(i32, i32, i32, i32);
    sync proc_exit(i32);
    sync proc_raise(i32);
    sync sched_yield();
    sync random_get(i32, i32);
    sync sock_accept(i32, i32, i32);
    sync sock_recv(i32, i32, i32, i32, i32, i32);
    sync sock_send(i32, i32, i32, i32, i32);
    sync sock_shutdown(i32, i32);
}

/// Where a Store's data keeps the stock preview1 context its linker's
/// functions use (the `f` given to `wasmtime_wasi::p1::add_to_linker_sync`).
pub type StockCtx<T> = fn(&mut T) -> &mut WasiP1Ctx;

/// Calls `function` as wasmtime-wasi's linker glue does (the guest's
/// unshared `memory`, the context `get_ctx` finds, the Store's hostcall
/// fuel) and leaves its result, if it has one, in `space[0]`.
pub(crate) fn call<T>(
    caller: &mut Caller<'_, T>,
    memory: Memory,
    get_ctx: StockCtx<T>,
    function: StockFn,
    args: &[i64],
    space: &mut [MaybeUninit<ValRaw>],
) -> wasmtime::Result<()> {
    let fuel = caller.as_context_mut().hostcall_fuel();
    let (data, store) = memory.data_and_store_mut(&mut *caller);
    let ctx = get_ctx(store);
    ctx.set_hostcall_fuel(fuel);
    let mut memory = GuestMemory::Unshared(data);
    if let Some(errno) = function.call(ctx, &mut memory, args)?
        && let Some(slot) = space.first_mut()
    {
        *slot = MaybeUninit::new(ValRaw::i32(errno));
    }
    Ok(())
}
