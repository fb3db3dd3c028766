//! Defines `wasi:filesystem/types` and `wasi:filesystem/preopens` in a
//! component linker, replacing stock's host-backed ones, and records each
//! call.

use super::convert::error_index;
use super::ops::{Answer, Calls, Fail, VirtualDirectoryEntries};
use super::{Filesystem, VirtualDescriptor};
use crate::p2::DeterministicP2Ctx;
use crate::sched::p2::WASI_VERSION;
use crate::trace::{Returned, WriteRef};
use wasmtime::component::{Linker, LinkerInstance, Resource, ResourceType};
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode,
    MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};

/// How a successful call's output enters the trace: numbers, and byte
/// strings recorded as writes.
pub(crate) trait Traced {
    fn trace(&self, _values: &mut Vec<i64>, _bytes: &mut Vec<Vec<u8>>) {}
}

impl Traced for () {}

impl Traced for u64 {
    fn trace(&self, values: &mut Vec<i64>, _: &mut Vec<Vec<u8>>) {
        values.push(*self as i64);
    }
}

impl Traced for bool {
    fn trace(&self, values: &mut Vec<i64>, _: &mut Vec<Vec<u8>>) {
        values.push(i64::from(*self));
    }
}

impl Traced for String {
    fn trace(&self, _: &mut Vec<i64>, bytes: &mut Vec<Vec<u8>>) {
        bytes.push(self.as_bytes().to_vec());
    }
}

impl Traced for (Vec<u8>, bool) {
    fn trace(&self, values: &mut Vec<i64>, bytes: &mut Vec<Vec<u8>>) {
        values.push(i64::from(self.1));
        bytes.push(self.0.clone());
    }
}

impl<T: 'static> Traced for Resource<T> {
    fn trace(&self, values: &mut Vec<i64>, _: &mut Vec<Vec<u8>>) {
        values.push(i64::from(self.rep()));
    }
}

impl Traced for DescriptorFlags {
    fn trace(&self, values: &mut Vec<i64>, _: &mut Vec<Vec<u8>>) {
        values.push(descriptor_flag_bits(*self));
    }
}

impl Traced for DescriptorType {
    fn trace(&self, values: &mut Vec<i64>, _: &mut Vec<Vec<u8>>) {
        values.push(*self as u8 as i64);
    }
}

impl Traced for DescriptorStat {
    fn trace(&self, values: &mut Vec<i64>, _: &mut Vec<Vec<u8>>) {
        values.extend([
            self.type_ as u8 as i64,
            self.link_count as i64,
            self.size as i64,
        ]);
        for t in [
            self.data_access_timestamp,
            self.data_modification_timestamp,
            self.status_change_timestamp,
        ] {
            let t = t.map_or((-1, -1), |t| (t.seconds as i64, i64::from(t.nanoseconds)));
            values.extend([t.0, t.1]);
        }
    }
}

impl Traced for MetadataHashValue {
    fn trace(&self, values: &mut Vec<i64>, _: &mut Vec<Vec<u8>>) {
        values.extend([self.lower as i64, self.upper as i64]);
    }
}

impl Traced for Option<DirectoryEntry> {
    fn trace(&self, values: &mut Vec<i64>, bytes: &mut Vec<Vec<u8>>) {
        match self {
            None => values.push(0),
            Some(e) => {
                values.extend([1, e.type_ as u8 as i64]);
                bytes.push(e.name.as_bytes().to_vec());
            }
        }
    }
}

impl Traced for Option<ErrorCode> {
    fn trace(&self, values: &mut Vec<i64>, _: &mut Vec<Vec<u8>>) {
        values.push(self.map_or(-1, error_index));
    }
}

impl Traced for Vec<(Resource<VirtualDescriptor>, String)> {
    fn trace(&self, values: &mut Vec<i64>, bytes: &mut Vec<Vec<u8>>) {
        for (fd, path) in self {
            values.push(i64::from(fd.rep()));
            bytes.push(path.as_bytes().to_vec());
        }
    }
}

/// Records a call (`ok` values prefixed by 0, an `error-code` as `[1,
/// code]`, a trap as a trap) and turns its answer into what the guest gets.
pub(crate) fn answer<T: Traced>(
    fs: &Filesystem,
    name: &str,
    args: &[i64],
    inputs: &[&[u8]],
    out: Answer<T>,
) -> wasmtime::Result<Result<T, ErrorCode>> {
    if let Some(recorder) = &fs.recorder {
        let mut values = Vec::new();
        let mut bytes = Vec::new();
        let result = match &out {
            Ok(v) => {
                values.push(0);
                v.trace(&mut values, &mut bytes);
                Returned::Values(&values)
            }
            Err(Fail::Code(code)) => {
                values.extend([1, error_index(*code)]);
                Returned::Values(&values)
            }
            Err(Fail::Trap(_)) => Returned::Trapped,
        };
        let writes: Vec<WriteRef<'_>> = inputs
            .iter()
            .copied()
            .chain(bytes.iter().map(|b| &b[..]))
            .map(|bytes| WriteRef::Bytes { offset: 0, bytes })
            .collect();
        recorder.record(name, args, result, &writes);
    }
    match out {
        Ok(v) => Ok(Ok(v)),
        Err(Fail::Code(code)) => Ok(Err(code)),
        Err(Fail::Trap(error)) => Err(error),
    }
}

/// The handle number of a resource argument, for the trace.
pub(crate) fn rep<T: 'static>(r: &Resource<T>) -> i64 {
    i64::from(r.rep())
}

/// Defines `[method]descriptor.$name` (or another item of the `types`
/// instance) as a call on [`Calls`], recorded with `args` and `inputs`.
macro_rules! define {
    ($instance:ident, $get:ident, $item:expr,
     |$calls:ident, $($arg:ident : $ty:ty),*| [$($a:expr),*] [$($s:expr),*] $body:expr) => {
        $instance.func_wrap($item, move |mut store, ($($arg,)*): ($($ty,)*)| {
            let ctx = $get(store.data_mut());
            let (fs, table) = ctx.filesystem_parts();
            let args: &[i64] = &[$($a),*];
            let inputs: &[&[u8]] = &[$($s),*];
            let out = {
                let mut $calls = Calls { fs, table };
                $body
            };
            let name = concat!("wasi:filesystem/types.", $item);
            Ok((answer(fs, name, args, inputs, out)?,))
        })?;
    };
}

/// Defines, with `$define` (preview2's `define!`, WASI 0.3's
/// `define_async!`), the `descriptor` methods both releases declare with the
/// same arguments, recorded alike.
macro_rules! same_methods {
    ($define:ident, $instance:ident, $get:ident) => {
        $define!($instance, $get, "[method]descriptor.sync-data",
            |c, fd: Resource<VirtualDescriptor>| [rep(&fd)] [] c.sync(&fd));
        $define!($instance, $get, "[method]descriptor.sync",
            |c, fd: Resource<VirtualDescriptor>| [rep(&fd)] [] c.sync(&fd));
        $define!($instance, $get, "[method]descriptor.get-flags",
            |c, fd: Resource<VirtualDescriptor>| [rep(&fd)] [] c.get_flags(&fd));
        $define!($instance, $get, "[method]descriptor.get-type",
            |c, fd: Resource<VirtualDescriptor>| [rep(&fd)] [] c.get_type(&fd));
        $define!($instance, $get, "[method]descriptor.set-size",
            |c, fd: Resource<VirtualDescriptor>, size: u64| [rep(&fd), size as i64] []
            c.set_size(&fd, size));
        $define!($instance, $get, "[method]descriptor.create-directory-at",
            |c, fd: Resource<VirtualDescriptor>, path: String| [rep(&fd)] [path.as_bytes()]
            c.create_directory_at(&fd, &path));
        $define!($instance, $get, "[method]descriptor.stat",
            |c, fd: Resource<VirtualDescriptor>| [rep(&fd)] [] c.stat(&fd));
        $define!($instance, $get, "[method]descriptor.readlink-at",
            |c, fd: Resource<VirtualDescriptor>, path: String| [rep(&fd)] [path.as_bytes()]
            c.readlink_at(&fd, &path));
        $define!($instance, $get, "[method]descriptor.remove-directory-at",
            |c, fd: Resource<VirtualDescriptor>, path: String| [rep(&fd)] [path.as_bytes()]
            c.remove_directory_at(&fd, &path));
        $define!($instance, $get, "[method]descriptor.rename-at",
            |c, fd: Resource<VirtualDescriptor>, old_path: String,
                new_fd: Resource<VirtualDescriptor>, new_path: String|
            [rep(&fd), rep(&new_fd)] [old_path.as_bytes(), new_path.as_bytes()]
            c.rename_at((&fd, &old_path), (&new_fd, &new_path)));
        $define!($instance, $get, "[method]descriptor.symlink-at",
            |c, fd: Resource<VirtualDescriptor>, old_path: String, new_path: String|
            [rep(&fd)] [old_path.as_bytes(), new_path.as_bytes()]
            c.symlink_at(&fd, &old_path, &new_path));
        $define!($instance, $get, "[method]descriptor.unlink-file-at",
            |c, fd: Resource<VirtualDescriptor>, path: String| [rep(&fd)] [path.as_bytes()]
            c.unlink_file_at(&fd, &path));
        $define!($instance, $get, "[method]descriptor.metadata-hash",
            |c, fd: Resource<VirtualDescriptor>| [rep(&fd)] [] c.metadata_hash(&fd));
    };
}

pub(crate) use same_methods;

/// Replaces `wasi:filesystem/types` and `wasi:filesystem/preopens` in
/// `linker` with the virtual filesystem of the [`DeterministicP2Ctx`] that
/// `get` finds (see the [module docs](super)). The caller switches
/// shadowing on around it.
pub(crate) fn add_filesystem_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
) -> wasmtime::Result<()> {
    let mut types = linker.instance(&format!("wasi:filesystem/types@{WASI_VERSION}"))?;
    define_descriptor(&mut types, get)?;
    types.resource(
        "directory-entry-stream",
        ResourceType::host::<VirtualDirectoryEntries>(),
        move |mut store, rep| {
            let ctx = get(store.data_mut());
            let (_, table) = ctx.filesystem_parts();
            table.delete(Resource::<VirtualDirectoryEntries>::new_own(rep))?;
            Ok(())
        },
    )?;
    define!(types, get, "[method]descriptor.read-via-stream",
        |c, fd: Resource<VirtualDescriptor>, offset: u64| [rep(&fd), offset as i64] []
        c.read_via_stream(&fd, offset));
    define!(types, get, "[method]descriptor.write-via-stream",
        |c, fd: Resource<VirtualDescriptor>, offset: u64| [rep(&fd), offset as i64] []
        c.write_via_stream(&fd, Some(offset)));
    define!(types, get, "[method]descriptor.append-via-stream",
        |c, fd: Resource<VirtualDescriptor>| [rep(&fd)] []
        c.write_via_stream(&fd, None));
    define!(types, get, "[method]descriptor.advise",
        |c, fd: Resource<VirtualDescriptor>, offset: u64, len: u64, advice: Advice|
        [rep(&fd), offset as i64, len as i64, advice as u8 as i64] []
        c.advise(&fd, len, advice));
    define!(types, get, "[method]descriptor.set-times",
        |c, fd: Resource<VirtualDescriptor>, atim: NewTimestamp, mtim: NewTimestamp|
        [rep(&fd), timestamp(atim).0, timestamp(atim).1, timestamp(mtim).0, timestamp(mtim).1] []
        c.set_times(&fd, atim, mtim));
    define!(types, get, "[method]descriptor.read",
        |c, fd: Resource<VirtualDescriptor>, len: u64, offset: u64|
        [rep(&fd), len as i64, offset as i64] []
        c.read(&fd, len, offset));
    define!(types, get, "[method]descriptor.write",
        |c, fd: Resource<VirtualDescriptor>, buf: Vec<u8>, offset: u64|
        [rep(&fd), offset as i64] [&buf]
        c.write(&fd, &buf, offset));
    define!(types, get, "[method]descriptor.read-directory",
        |c, fd: Resource<VirtualDescriptor>| [rep(&fd)] [] c.read_directory(&fd));
    define!(types, get, "[method]descriptor.stat-at",
        |c, fd: Resource<VirtualDescriptor>, flags: PathFlags, path: String|
        [rep(&fd), path_bits(flags)] [path.as_bytes()]
        c.stat_at(&fd, flags, &path));
    define!(types, get, "[method]descriptor.set-times-at",
        |c, fd: Resource<VirtualDescriptor>, flags: PathFlags, path: String,
            atim: NewTimestamp, mtim: NewTimestamp|
        [rep(&fd), path_bits(flags), timestamp(atim).0, timestamp(atim).1,
            timestamp(mtim).0, timestamp(mtim).1] [path.as_bytes()]
        c.set_times_at(&fd, flags, &path, (atim, mtim)));
    define!(types, get, "[method]descriptor.link-at",
        |c, fd: Resource<VirtualDescriptor>, flags: PathFlags, old_path: String,
            new_fd: Resource<VirtualDescriptor>, new_path: String|
        [rep(&fd), path_bits(flags), rep(&new_fd)] [old_path.as_bytes(), new_path.as_bytes()]
        c.link_at((&fd, flags, &old_path), (&new_fd, &new_path)));
    define!(types, get, "[method]descriptor.open-at",
        |c, fd: Resource<VirtualDescriptor>, path_flags: PathFlags, path: String,
            oflags: OpenFlags, flags: DescriptorFlags|
        [rep(&fd), path_bits(path_flags), open_bits(oflags), descriptor_flag_bits(flags)]
        [path.as_bytes()]
        c.open_at(&fd, (path_flags, &path), oflags, flags));
    define!(types, get, "[method]descriptor.metadata-hash-at",
        |c, fd: Resource<VirtualDescriptor>, flags: PathFlags, path: String|
        [rep(&fd), path_bits(flags)] [path.as_bytes()]
        c.metadata_hash_at(&fd, flags, &path));
    define!(types, get, "[method]directory-entry-stream.read-directory-entry",
        |c, stream: Resource<VirtualDirectoryEntries>| [rep(&stream)] []
        c.read_directory_entry(&stream));
    same_methods!(define, types, get);
    // The two functions that do not return a `result`: a failure traps.
    types.func_wrap(
        "[method]descriptor.is-same-object",
        move |mut store, (a, b): (Resource<VirtualDescriptor>, Resource<VirtualDescriptor>)| {
            is_same_object(get(store.data_mut()), &a, &b)
        },
    )?;
    types.func_wrap(
        "filesystem-error-code",
        move |mut store, (error,): (Resource<wasmtime::Error>,)| {
            let ctx = get(store.data_mut());
            let (fs, table) = ctx.filesystem_parts();
            let out = Calls { fs, table }.filesystem_error_code(&error);
            let name = "wasi:filesystem/types.filesystem-error-code";
            no_error(answer(fs, name, &[rep(&error)], &[], out)?)
        },
    )?;
    define_preopens(linker, WASI_VERSION, get)
}

/// Defines the `descriptor` resource in a `wasi:filesystem/types` instance
/// (either release): the handles of [`VirtualDescriptor`]s, whose drop is
/// recorded.
pub(crate) fn define_descriptor<T: 'static>(
    types: &mut LinkerInstance<'_, T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
) -> wasmtime::Result<()> {
    types.resource(
        "descriptor",
        ResourceType::host::<VirtualDescriptor>(),
        move |mut store, fd| {
            let ctx = get(store.data_mut());
            let (fs, table) = ctx.filesystem_parts();
            let out = Calls { fs, table }.drop_descriptor(fd);
            let name = "wasi:filesystem/types.[resource-drop]descriptor";
            answer(fs, name, &[i64::from(fd)], &[], out.map_err(Fail::Trap)).map(drop)
        },
    )
}

/// `is-same-object` (either release), recorded; it has no `result`, so a
/// bad handle traps.
pub(crate) fn is_same_object(
    ctx: &mut DeterministicP2Ctx,
    a: &Resource<VirtualDescriptor>,
    b: &Resource<VirtualDescriptor>,
) -> wasmtime::Result<(bool,)> {
    let (fs, table) = ctx.filesystem_parts();
    let out = Calls { fs, table }.is_same_object(a, b);
    let name = "wasi:filesystem/types.[method]descriptor.is-same-object";
    no_error(answer(fs, name, &[rep(a), rep(b)], &[], out)?)
}

/// Defines `wasi:filesystem/preopens@{version}.get-directories`: a new
/// descriptor for each preopen, recorded.
pub(crate) fn define_preopens<T: 'static>(
    linker: &mut Linker<T>,
    version: &str,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
) -> wasmtime::Result<()> {
    let mut preopens = linker.instance(&format!("wasi:filesystem/preopens@{version}"))?;
    preopens.func_wrap("get-directories", move |mut store, (): ()| {
        let ctx = get(store.data_mut());
        let (fs, table) = ctx.filesystem_parts();
        let out = Calls { fs, table }.get_directories();
        let name = "wasi:filesystem/preopens.get-directories";
        no_error(answer(fs, name, &[], &[], out)?)
    })
}

/// The answer of a function without an `error-code`: [`Calls`] gives these
/// only traps.
fn no_error<T>(out: Result<T, ErrorCode>) -> wasmtime::Result<(T,)> {
    out.map(|v| (v,))
        .map_err(|code| wasmtime::format_err!("unexpected filesystem error {code:?}"))
}

/// A `new-timestamp` as two numbers for the trace: `(-1, 0)` no change,
/// `(-2, 0)` now, else seconds and nanoseconds.
pub(crate) fn timestamp(t: NewTimestamp) -> (i64, i64) {
    match t {
        NewTimestamp::NoChange => (-1, 0),
        NewTimestamp::Now => (-2, 0),
        NewTimestamp::Timestamp(t) => (t.seconds as i64, i64::from(t.nanoseconds)),
    }
}

/// The bits of a flags value, in the WIT declaration order.
fn bits(set: &[bool]) -> i64 {
    set.iter()
        .enumerate()
        .map(|(i, &on)| i64::from(on) << i)
        .sum()
}

pub(crate) fn path_bits(f: PathFlags) -> i64 {
    bits(&[f.contains(PathFlags::SYMLINK_FOLLOW)])
}

pub(crate) fn open_bits(f: OpenFlags) -> i64 {
    bits(&[
        f.contains(OpenFlags::CREATE),
        f.contains(OpenFlags::DIRECTORY),
        f.contains(OpenFlags::EXCLUSIVE),
        f.contains(OpenFlags::TRUNCATE),
    ])
}

pub(crate) fn descriptor_flag_bits(f: DescriptorFlags) -> i64 {
    bits(&[
        f.contains(DescriptorFlags::READ),
        f.contains(DescriptorFlags::WRITE),
        f.contains(DescriptorFlags::FILE_INTEGRITY_SYNC),
        f.contains(DescriptorFlags::DATA_INTEGRITY_SYNC),
        f.contains(DescriptorFlags::REQUESTED_WRITE_SYNC),
        f.contains(DescriptorFlags::MUTATE_DIRECTORY),
    ])
}
