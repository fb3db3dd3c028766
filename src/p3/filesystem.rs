//! `wasi:filesystem@0.3.0` for WASI 0.3 components, served from the same
//! virtual trees, by the same calls, as preview2
//! ([`p2::filesystem`](crate::p2::filesystem)): one program leaves the same
//! tree and sees the same metadata whichever release it is built for.
//!
//! What 0.3 adds, and how it is answered:
//!
//! - The `async func`s complete in the call: the tree answers at once, so
//!   no call ever waits and none completes in another order than called.
//! - `read-via-stream` gives a stream whose every read moves what the
//!   guest's buffer holds (at most 64 KiB; less only at the end of the
//!   file), read at that moment; its future resolves when the stream ends:
//!   `ok` at the end of the file or when the guest drops the stream, the
//!   tree's error after a failed read (`bad-descriptor` for a file not
//!   opened for reading, Linux's `EBADF` as stock gets it). A descriptor
//!   that is not a file traps, as stock's.
//! - `write-via-stream` and `append-via-stream` write all that each guest
//!   write offers before it completes; the future resolves when the guest
//!   drops its end (`ok`), or with the error that ended the stream
//!   (`bad-descriptor` for a file not opened for writing). A file on a
//!   read-only preopen is `not-permitted` and a directory `bad-descriptor`
//!   at once (stock's checks).
//! - `read-directory` lists the entries when called, sorted by name,
//!   without `.` and `..`; a name that is not UTF-8 ends the stream before
//!   it and resolves the future to `illegal-byte-sequence`.
//! - A `new-timestamp` before 1970 (negative seconds, which preview2
//!   cannot express) is `overflow`: the tree keeps times as nanoseconds
//!   since 1970.
//!
//! Every call is recorded in the trace under the same name, with the same
//! arguments and results, as its preview2 counterpart; stream reads and
//! writes as `wasi:filesystem/file-stream` calls, in the order the guest
//! made them.

mod convert;
mod streams;

use self::convert::{
    ToP3, advice, descriptor_flags, new_timestamp, open_flags, path_flags, timestamp_values,
};
use self::streams::{Done, ListingProducer, ReadProducer, WriteConsumer};
use super::WASI_VERSION;
use crate::p2::DeterministicP2Ctx;
use crate::p2::filesystem::{
    Answer, Calls, Fail, FileReader, FileWriter, Filesystem, Traced, VirtualDescriptor, answer,
    define_descriptor, define_preopens, descriptor_flag_bits, error_index, is_same_object,
    open_bits, path_bits, rep, same_methods,
};
use wasmtime::StoreContextMut;
use wasmtime::component::{FutureReader, Linker, Resource, StreamReader};
use wasmtime_wasi::p2::bindings::sync::filesystem::types as p2;
use wasmtime_wasi::p3::bindings::filesystem::types::{
    Advice, DescriptorFlags, DirectoryEntry, ErrorCode, NewTimestamp, OpenFlags, PathFlags,
};

/// The future a stream function returns beside (or for) its stream.
type Outcome = FutureReader<Result<(), ErrorCode>>;

/// Records a call as preview2 records it, and gives the guest its 0.3 value.
fn answer_p3<T: Traced + ToP3>(
    fs: &Filesystem,
    name: &str,
    args: &[i64],
    inputs: &[&[u8]],
    out: Answer<T>,
) -> wasmtime::Result<Result<T::P3, ErrorCode>> {
    Ok(answer(fs, name, args, inputs, out)?
        .map(ToP3::to_p3)
        .map_err(ToP3::to_p3))
}

/// A stream's reader or writer: the call's trace shows only that it
/// succeeded; the stream's reads and writes are recorded as they happen.
impl Traced for FileReader {}
impl Traced for FileWriter {}

/// `read-directory`'s listing, in the trace: the count, then each entry's
/// type (or `-1 - error` for a name that is not UTF-8), and the names.
struct Listing(Vec<Result<p2::DirectoryEntry, p2::ErrorCode>>);

impl Traced for Listing {
    fn trace(&self, values: &mut Vec<i64>, bytes: &mut Vec<Vec<u8>>) {
        values.push(self.0.len() as i64);
        for entry in &self.0 {
            match entry {
                Ok(e) => {
                    values.push(e.type_ as u8 as i64);
                    bytes.push(e.name.as_bytes().to_vec());
                }
                Err(code) => values.push(-1 - error_index(*code)),
            }
        }
    }
}

/// Defines the `async func` `$item` of the `types` instance as a call on
/// [`Calls`], recorded with `args` and `inputs`; it completes in the call.
macro_rules! define_async {
    ($instance:ident, $get:ident, $item:expr,
     |$calls:ident, $($arg:ident : $ty:ty),*| [$($a:expr),*] [$($s:expr),*] $body:expr) => {
        define_async!($instance, $get, $item,
            |$calls, $($arg: $ty),*| args { [$($a),*] } [$($s),*] $body)
    };
    // The trace's numbers as one block (computed once).
    ($instance:ident, $get:ident, $item:expr,
     |$calls:ident, $($arg:ident : $ty:ty),*| args $args:block [$($s:expr),*] $body:expr) => {
        $instance.func_wrap_concurrent($item, move |accessor, ($($arg,)*): ($($ty,)*)| {
            let result = accessor.with(|mut access| {
                let ctx = $get(access.data_mut());
                let (fs, table) = ctx.filesystem_parts();
                let args: &[i64] = &$args;
                let inputs: &[&[u8]] = &[$($s),*];
                let out = {
                    let mut $calls = Calls { fs, table };
                    $body
                };
                answer_p3(fs, concat!("wasi:filesystem/types.", $item), args, inputs, out)
            });
            Box::pin(async move { Ok((result?,)) })
        })?;
    };
}

/// Both times as preview2 takes them, or `overflow` (see the module docs).
fn times(atim: NewTimestamp, mtim: NewTimestamp) -> Answer<(p2::NewTimestamp, p2::NewTimestamp)> {
    Ok((new_timestamp(atim)?, new_timestamp(mtim)?))
}

/// The trace's numbers for two times.
fn time_values(atim: NewTimestamp, mtim: NewTimestamp) -> [i64; 4] {
    let (a, m) = (timestamp_values(atim), timestamp_values(mtim));
    [a.0, a.1, m.0, m.1]
}

/// Replaces stock's `wasi:filesystem/types@0.3.0` and
/// `wasi:filesystem/preopens@0.3.0` in `linker` with the virtual
/// filesystem of the [`DeterministicP2Ctx`] that `get` finds (see the
/// [module docs](self)). The caller switches shadowing on around it.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
) -> wasmtime::Result<()> {
    let mut types = linker.instance(&format!("wasi:filesystem/types@{WASI_VERSION}"))?;
    define_descriptor(&mut types, get)?;
    types.func_wrap(
        "[method]descriptor.read-via-stream",
        move |store, (fd, offset): (Resource<VirtualDescriptor>, u64)| {
            read_via_stream(store, get, &fd, offset)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.write-via-stream",
        move |store, (fd, data, offset): (Resource<VirtualDescriptor>, StreamReader<u8>, u64)| {
            write_via_stream(store, get, &fd, data, Some(offset))
        },
    )?;
    types.func_wrap(
        "[method]descriptor.append-via-stream",
        move |store, (fd, data): (Resource<VirtualDescriptor>, StreamReader<u8>)| {
            write_via_stream(store, get, &fd, data, None)
        },
    )?;
    types.func_wrap(
        "[method]descriptor.read-directory",
        move |store, (fd,): (Resource<VirtualDescriptor>,)| read_directory(store, get, &fd),
    )?;
    define_async!(types, get, "[method]descriptor.advise",
        |c, fd: Resource<VirtualDescriptor>, offset: u64, len: u64, how: Advice|
        [rep(&fd), offset as i64, len as i64, advice(how) as u8 as i64] []
        c.advise(&fd, len, advice(how)));
    define_async!(types, get, "[method]descriptor.set-times",
        |c, fd: Resource<VirtualDescriptor>, atim: NewTimestamp, mtim: NewTimestamp|
        args { let [a0, a1, m0, m1] = time_values(atim, mtim); [rep(&fd), a0, a1, m0, m1] } []
        times(atim, mtim).and_then(|(a, m)| c.set_times(&fd, a, m)));
    define_async!(types, get, "[method]descriptor.stat-at",
        |c, fd: Resource<VirtualDescriptor>, flags: PathFlags, path: String|
        [rep(&fd), path_bits(path_flags(flags))] [path.as_bytes()]
        c.stat_at(&fd, path_flags(flags), &path));
    define_async!(types, get, "[method]descriptor.set-times-at",
        |c, fd: Resource<VirtualDescriptor>, flags: PathFlags, path: String,
            atim: NewTimestamp, mtim: NewTimestamp|
        args {
            let [a0, a1, m0, m1] = time_values(atim, mtim);
            [rep(&fd), path_bits(path_flags(flags)), a0, a1, m0, m1]
        }
        [path.as_bytes()]
        times(atim, mtim).and_then(|t| c.set_times_at(&fd, path_flags(flags), &path, t)));
    define_async!(types, get, "[method]descriptor.link-at",
        |c, fd: Resource<VirtualDescriptor>, flags: PathFlags, old_path: String,
            new_fd: Resource<VirtualDescriptor>, new_path: String|
        [rep(&fd), path_bits(path_flags(flags)), rep(&new_fd)]
        [old_path.as_bytes(), new_path.as_bytes()]
        c.link_at((&fd, path_flags(flags), &old_path), (&new_fd, &new_path)));
    define_async!(types, get, "[method]descriptor.open-at",
        |c, fd: Resource<VirtualDescriptor>, pflags: PathFlags, path: String,
            oflags: OpenFlags, flags: DescriptorFlags|
        [rep(&fd), path_bits(path_flags(pflags)), open_bits(open_flags(oflags)),
            descriptor_flag_bits(descriptor_flags(flags))]
        [path.as_bytes()]
        c.open_at(&fd, (path_flags(pflags), &path), open_flags(oflags), descriptor_flags(flags)));
    define_async!(types, get, "[method]descriptor.metadata-hash-at",
        |c, fd: Resource<VirtualDescriptor>, flags: PathFlags, path: String|
        [rep(&fd), path_bits(path_flags(flags))] [path.as_bytes()]
        c.metadata_hash_at(&fd, path_flags(flags), &path));
    same_methods!(define_async, types, get);
    types.func_wrap_concurrent(
        "[method]descriptor.is-same-object",
        move |accessor, (a, b): (Resource<VirtualDescriptor>, Resource<VirtualDescriptor>)| {
            let result = accessor.with(|mut access| is_same_object(get(access.data_mut()), &a, &b));
            Box::pin(async move { result })
        },
    )?;
    define_preopens(linker, WASI_VERSION, get)
}

/// `read-via-stream`.
fn read_via_stream<T: 'static>(
    mut store: StoreContextMut<'_, T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
    fd: &Resource<VirtualDescriptor>,
    offset: u64,
) -> wasmtime::Result<((StreamReader<u8>, Outcome),)> {
    let reader = {
        let ctx = get(store.data_mut());
        let (fs, table) = ctx.filesystem_parts();
        let out = Calls { fs, table }
            .file_reader(fd, offset)
            .map_err(|fail| match fail {
                // Stock traps here (its descriptor lookup fails the call).
                Fail::Code(code) => Fail::Trap(wasmtime::format_err!(
                    "read-via-stream on a descriptor that is not a file: {code:?}"
                )),
                trap => trap,
            });
        let name = "wasi:filesystem/types.[method]descriptor.read-via-stream";
        answer(fs, name, &[rep(fd), offset as i64], &[], out)?
    };
    let (mut done, outcome) = Done::new(get(store.data_mut()).timeline());
    let stream = match reader {
        Ok(reader) => StreamReader::new(&mut store, ReadProducer { reader, done })?,
        Err(code) => {
            done.finish(Err(code.to_p3()));
            StreamReader::new(&mut store, std::iter::empty())?
        }
    };
    Ok(((stream, FutureReader::new(&mut store, outcome)?),))
}

/// `write-via-stream` (`offset` given) and `append-via-stream` (none).
fn write_via_stream<T: 'static>(
    mut store: StoreContextMut<'_, T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
    fd: &Resource<VirtualDescriptor>,
    data: StreamReader<u8>,
    offset: Option<u64>,
) -> wasmtime::Result<(Outcome,)> {
    let writer = {
        let ctx = get(store.data_mut());
        let (fs, table) = ctx.filesystem_parts();
        let out = Calls { fs, table }.file_writer(fd, offset, p2::ErrorCode::NotPermitted);
        match offset {
            Some(at) => {
                let name = "wasi:filesystem/types.[method]descriptor.write-via-stream";
                answer(fs, name, &[rep(fd), at as i64], &[], out)?
            }
            None => {
                let name = "wasi:filesystem/types.[method]descriptor.append-via-stream";
                answer(fs, name, &[rep(fd)], &[], out)?
            }
        }
    };
    let (mut done, outcome) = Done::new(get(store.data_mut()).timeline());
    match writer {
        Ok(writer) => data.pipe(&mut store, WriteConsumer { writer, done })?,
        Err(code) => {
            let mut data = data;
            data.close(&mut store)?;
            done.finish(Err(code.to_p3()));
        }
    }
    Ok((FutureReader::new(&mut store, outcome)?,))
}

/// `read-directory`.
fn read_directory<T: 'static>(
    mut store: StoreContextMut<'_, T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
    fd: &Resource<VirtualDescriptor>,
) -> wasmtime::Result<((StreamReader<DirectoryEntry>, Outcome),)> {
    let listing = {
        let ctx = get(store.data_mut());
        let (fs, table) = ctx.filesystem_parts();
        let out = Calls { fs, table }.list_directory(fd).map(Listing);
        let name = "wasi:filesystem/types.[method]descriptor.read-directory";
        answer(fs, name, &[rep(fd)], &[], out)?
    };
    let mut entries = Vec::new();
    let mut result = Ok(());
    match listing {
        Ok(Listing(listing)) => {
            for entry in listing {
                match entry {
                    Ok(entry) => entries.push(entry.to_p3()),
                    Err(code) => {
                        result = Err(code.to_p3());
                        break;
                    }
                }
            }
        }
        Err(code) => result = Err(code.to_p3()),
    }
    let (done, outcome) = Done::new(get(store.data_mut()).timeline());
    let producer = ListingProducer {
        entries: entries.into(),
        outcome: result,
        done,
    };
    let stream = StreamReader::new(&mut store, producer)?;
    Ok(((stream, FutureReader::new(&mut store, outcome)?),))
}
