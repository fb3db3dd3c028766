//! The `wasi:filesystem` functions, in stock wasmtime-wasi's order of
//! checks, answered by the preopens' trees (see the [module docs](super)).

use super::convert::{descriptor_stat, descriptor_type, error_code, metadata_hash, new_time};
use super::streams::{FileReader, FileWriter, MAX_READ, StreamFailure, WriteMode};
use super::{Filesystem, Kind, VirtualDescriptor};
use crate::fs::{Errno, FileType, Ino, NewTime, OpenOptions, ROOT, Stat, check_transfer};
use std::collections::VecDeque;
use wasmtime::component::{Resource, ResourceTable, ResourceTableError};
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode,
    MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

/// Why a call did not succeed: an `error-code` for the guest, or a trap
/// (a handle the table does not hold, a full table).
#[derive(Debug)]
pub(crate) enum Fail {
    Code(ErrorCode),
    Trap(wasmtime::Error),
}

impl From<ErrorCode> for Fail {
    fn from(code: ErrorCode) -> Self {
        Fail::Code(code)
    }
}

impl From<Errno> for Fail {
    fn from(errno: Errno) -> Self {
        Fail::Code(error_code(errno))
    }
}

impl From<ResourceTableError> for Fail {
    fn from(error: ResourceTableError) -> Self {
        Fail::Trap(error.into())
    }
}

/// A call's answer.
pub(crate) type Answer<T> = Result<T, Fail>;

/// What the table holds behind a `directory-entry-stream` handle: the
/// entries as `read-directory` listed them.
pub(crate) struct VirtualDirectoryEntries(VecDeque<Result<DirectoryEntry, ErrorCode>>);

/// The calls of one component on its trees and resource table.
pub(crate) struct Calls<'a> {
    pub(crate) fs: &'a Filesystem,
    pub(crate) table: &'a mut ResourceTable,
}

/// An open directory: its preopen and inode.
#[derive(Clone, Copy)]
struct Dir {
    mount: usize,
    ino: Ino,
}

/// An open file: its preopen, inode and open mode.
#[derive(Clone, Copy)]
struct File {
    mount: usize,
    ino: Ino,
    read: bool,
    write: bool,
}

impl Calls<'_> {
    fn descriptor(&self, fd: &Resource<VirtualDescriptor>) -> Answer<&VirtualDescriptor> {
        Ok(self.table.get(fd)?)
    }

    /// A directory function's descriptor: `not-directory` for a file.
    fn dir(&self, fd: &Resource<VirtualDescriptor>) -> Answer<Dir> {
        let d = self.descriptor(fd)?;
        match d.kind {
            Kind::Dir { .. } => Ok(Dir {
                mount: d.mount,
                ino: d.ino,
            }),
            Kind::File { .. } => Err(ErrorCode::NotDirectory.into()),
        }
    }

    /// A file function's descriptor: `bad-descriptor` for a directory.
    fn file(&self, fd: &Resource<VirtualDescriptor>) -> Answer<File> {
        let d = self.descriptor(fd)?;
        match d.kind {
            Kind::File { read, write } => Ok(File {
                mount: d.mount,
                ino: d.ino,
                read,
                write,
            }),
            Kind::Dir { .. } => Err(ErrorCode::BadDescriptor.into()),
        }
    }

    /// The metadata of a descriptor's entry.
    fn entry_stat(&self, fd: &Resource<VirtualDescriptor>) -> Answer<Stat> {
        let d = self.descriptor(fd)?;
        let (mount, ino) = (d.mount, d.ino);
        self.with_tree(mount, |tree, _| tree.stat(ino))
    }

    /// The metadata of the entry at `path` under a directory descriptor.
    fn path_stat(
        &self,
        fd: &Resource<VirtualDescriptor>,
        flags: PathFlags,
        path: &str,
    ) -> Answer<Stat> {
        let d = self.dir(fd)?;
        let follow = flags.contains(PathFlags::SYMLINK_FOLLOW);
        self.with_tree(d.mount, |tree, _| {
            tree.stat_at(d.ino, path.as_bytes(), follow)
        })
    }

    fn writable(&self, mount: usize) -> bool {
        self.fs.mounts()[mount].writable
    }

    /// `not-permitted` unless the preopen may be changed.
    fn mutable(&self, mount: usize) -> Answer<()> {
        if self.writable(mount) {
            Ok(())
        } else {
            Err(ErrorCode::NotPermitted.into())
        }
    }

    /// Runs `op` on preopen `mount`'s tree with the virtual wall clock.
    fn with_tree<T>(
        &self,
        mount: usize,
        op: impl FnOnce(&mut crate::fs::FsTree, u64) -> Result<T, Errno>,
    ) -> Answer<T> {
        let now = self.fs.now();
        let mut mounts = self.fs.mounts();
        Ok(op(&mut mounts[mount].tree, now)?)
    }

    /// `wasi:filesystem/preopens.get-directories`: a new descriptor for each
    /// preopen, with its guest path, in configuration order.
    pub(crate) fn get_directories(&mut self) -> Answer<Vec<(Resource<VirtualDescriptor>, String)>> {
        let preopens: Vec<(String, bool)> = self
            .fs
            .mounts()
            .iter()
            .map(|m| (m.guest_path.clone(), m.writable))
            .collect();
        let mut out = Vec::with_capacity(preopens.len());
        for (mount, (path, writable)) in preopens.into_iter().enumerate() {
            let fd = self.table.push(VirtualDescriptor {
                mount,
                ino: ROOT,
                kind: Kind::Dir {
                    preopen: true,
                    mutate: writable,
                },
            })?;
            out.push((fd, path));
        }
        Ok(out)
    }

    /// `advise`: accepted on a file unless `len` is past `i64::MAX`.
    pub(crate) fn advise(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        len: u64,
        _: Advice,
    ) -> Answer<()> {
        self.file(fd)?;
        if len > i64::MAX as u64 {
            return Err(ErrorCode::Invalid.into());
        }
        Ok(())
    }

    /// `sync` and `sync-data`: the tree is always where it belongs.
    pub(crate) fn sync(&mut self, fd: &Resource<VirtualDescriptor>) -> Answer<()> {
        self.descriptor(fd).map(drop)
    }

    /// `get-flags`: the open mode (`mutate-directory` for a writable
    /// preopen).
    pub(crate) fn get_flags(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
    ) -> Answer<DescriptorFlags> {
        let mut flags = DescriptorFlags::empty();
        match self.descriptor(fd)?.kind {
            Kind::Dir { mutate, .. } => {
                flags |= DescriptorFlags::READ;
                if mutate {
                    flags |= DescriptorFlags::MUTATE_DIRECTORY;
                }
            }
            Kind::File { read, write } => {
                if read {
                    flags |= DescriptorFlags::READ;
                }
                if write {
                    flags |= DescriptorFlags::WRITE;
                }
            }
        }
        Ok(flags)
    }

    /// `get-type`.
    pub(crate) fn get_type(&mut self, fd: &Resource<VirtualDescriptor>) -> Answer<DescriptorType> {
        Ok(descriptor_type(self.entry_stat(fd)?.filetype))
    }

    /// `set-size`: a file of a writable preopen, opened for writing.
    pub(crate) fn set_size(&mut self, fd: &Resource<VirtualDescriptor>, size: u64) -> Answer<()> {
        let f = self.file(fd)?;
        self.mutable(f.mount)?;
        if size > i64::MAX as u64 || !f.write {
            return Err(ErrorCode::Invalid.into());
        }
        self.with_tree(f.mount, |tree, now| tree.set_size(f.ino, size, now))
    }

    /// `set-times`.
    pub(crate) fn set_times(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        atim: NewTimestamp,
        mtim: NewTimestamp,
    ) -> Answer<()> {
        let d = self.descriptor(fd)?;
        let (mount, ino, kind) = (d.mount, d.ino, d.kind);
        let (atim, mtim) = (new_time(atim)?, new_time(mtim)?);
        self.mutable(mount)?;
        let changes = (atim, mtim) != (NewTime::NoChange, NewTime::NoChange);
        if let Kind::Dir { preopen: true, .. } = kind
            && changes
        {
            // A preopen is opened `O_PATH` by stock: `futimens` is EBADF.
            return Err(ErrorCode::BadDescriptor.into());
        }
        self.with_tree(mount, |tree, now| tree.set_times(ino, atim, mtim, now))
    }

    /// `read`: at most 64 KiB at `offset`; end of stream when nothing was read.
    pub(crate) fn read(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        len: u64,
        offset: u64,
    ) -> Answer<(Vec<u8>, bool)> {
        let f = self.file(fd)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX).min(MAX_READ);
        check_transfer(Some(offset), len as u64, f.read).map_err(error_code)?;
        let mut buf = vec![0; len];
        let n = self.with_tree(f.mount, |tree, _| tree.read_at(f.ino, offset, &mut buf))?;
        buf.truncate(n);
        Ok((buf, n == 0))
    }

    /// `write`: `buf` at `offset`, returning how much was written.
    pub(crate) fn write(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        buf: &[u8],
        offset: u64,
    ) -> Answer<u64> {
        let f = self.file(fd)?;
        self.mutable(f.mount)?;
        check_transfer(Some(offset), buf.len() as u64, f.write).map_err(error_code)?;
        let n = self.with_tree(f.mount, |tree, now| tree.write_at(f.ino, offset, buf, now))?;
        Ok(n as u64)
    }

    /// `read-directory`: the entries sorted by name, without `.` and `..`.
    pub(crate) fn read_directory(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
    ) -> Answer<Resource<VirtualDirectoryEntries>> {
        let entries = self.list_directory(fd)?.into();
        Ok(self.table.push(VirtualDirectoryEntries(entries))?)
    }

    /// A directory's entries as `read-directory` lists them (sorted by
    /// name, without `.` and `..`); a name that is not UTF-8 is
    /// `illegal-byte-sequence` in its place.
    pub(crate) fn list_directory(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
    ) -> Answer<Vec<Result<DirectoryEntry, ErrorCode>>> {
        let d = self.dir(fd)?;
        let listing = self.with_tree(d.mount, |tree, _| tree.list(d.ino))?;
        Ok(listing
            .into_iter()
            .filter(|e| e.name != b"." && e.name != b"..")
            .map(|e| match String::from_utf8(e.name) {
                Ok(name) => Ok(DirectoryEntry {
                    type_: descriptor_type(e.filetype),
                    name,
                }),
                Err(_) => Err(ErrorCode::IllegalByteSequence),
            })
            .collect())
    }

    /// `read-directory-entry`.
    pub(crate) fn read_directory_entry(
        &mut self,
        stream: &Resource<VirtualDirectoryEntries>,
    ) -> Answer<Option<DirectoryEntry>> {
        let entries = self.table.get_mut(stream)?;
        Ok(entries.0.pop_front().transpose()?)
    }

    /// `create-directory-at`.
    pub(crate) fn create_directory_at(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        path: &str,
    ) -> Answer<()> {
        let d = self.dir(fd)?;
        self.mutable(d.mount)?;
        self.with_tree(d.mount, |tree, now| {
            tree.create_dir(d.ino, path.as_bytes(), now).map(drop)
        })
    }

    /// `stat`.
    pub(crate) fn stat(&mut self, fd: &Resource<VirtualDescriptor>) -> Answer<DescriptorStat> {
        Ok(descriptor_stat(&self.entry_stat(fd)?))
    }

    /// `stat-at`.
    pub(crate) fn stat_at(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        flags: PathFlags,
        path: &str,
    ) -> Answer<DescriptorStat> {
        Ok(descriptor_stat(&self.path_stat(fd, flags, path)?))
    }

    /// `set-times-at`, resolving as stock does (see preview1's
    /// `path_filestat_set_times`, which stock builds on this function).
    pub(crate) fn set_times_at(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        flags: PathFlags,
        path: &str,
        (atim, mtim): (NewTimestamp, NewTimestamp),
    ) -> Answer<()> {
        let d = self.dir(fd)?;
        let (atim, mtim) = (new_time(atim)?, new_time(mtim)?);
        self.mutable(d.mount)?;
        let follow = flags.contains(PathFlags::SYMLINK_FOLLOW);
        let path = path.as_bytes();
        self.with_tree(d.mount, |tree, now| {
            tree.set_times_at(d.ino, path, follow, atim, mtim, now)
        })
    }

    /// The two directories of `link-at` and `rename-at`, both on writable
    /// preopens.
    fn two_mutable_dirs(
        &self,
        from: &Resource<VirtualDescriptor>,
        to: &Resource<VirtualDescriptor>,
    ) -> Answer<(Dir, Dir)> {
        let (src, dst) = (self.dir(from)?, self.dir(to)?);
        self.mutable(src.mount)?;
        self.mutable(dst.mount)?;
        Ok((src, dst))
    }

    /// `link-at`.
    pub(crate) fn link_at(
        &mut self,
        (fd, flags, old_path): (&Resource<VirtualDescriptor>, PathFlags, &str),
        (new_fd, new_path): (&Resource<VirtualDescriptor>, &str),
    ) -> Answer<()> {
        let (src, dst) = self.two_mutable_dirs(fd, new_fd)?;
        if flags.contains(PathFlags::SYMLINK_FOLLOW) {
            return Err(ErrorCode::Invalid.into());
        }
        if src.mount != dst.mount {
            return Err(ErrorCode::CrossDevice.into());
        }
        self.with_tree(src.mount, |tree, now| {
            tree.link(
                src.ino,
                old_path.as_bytes(),
                false,
                dst.ino,
                new_path.as_bytes(),
                now,
            )
        })
    }

    /// `open-at`.
    pub(crate) fn open_at(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        (path_flags, path): (PathFlags, &str),
        oflags: OpenFlags,
        flags: DescriptorFlags,
    ) -> Answer<Resource<VirtualDescriptor>> {
        let d = self.dir(fd)?;
        let create = oflags.contains(OpenFlags::CREATE);
        let truncate = oflags.contains(OpenFlags::TRUNCATE);
        let write_flag = flags.contains(DescriptorFlags::WRITE);
        if !self.writable(d.mount) && (create || truncate || write_flag) {
            return Err(ErrorCode::NotPermitted.into());
        }
        let sync = DescriptorFlags::FILE_INTEGRITY_SYNC
            | DescriptorFlags::DATA_INTEGRITY_SYNC
            | DescriptorFlags::REQUESTED_WRITE_SYNC;
        if flags.intersects(sync) {
            return Err(ErrorCode::Unsupported.into());
        }
        let directory = oflags.contains(OpenFlags::DIRECTORY);
        if directory && (create || truncate || oflags.contains(OpenFlags::EXCLUSIVE)) {
            return Err(ErrorCode::Invalid.into());
        }
        let write = create || truncate || write_flag;
        let read = flags.contains(DescriptorFlags::READ) || !write_flag;
        let options = OpenOptions::new()
            .follow(path_flags.contains(PathFlags::SYMLINK_FOLLOW))
            .create(create)
            .exclusive(oflags.contains(OpenFlags::EXCLUSIVE))
            .truncate(truncate)
            .directory(directory)
            .write(write);
        let (ino, filetype) = self.with_tree(d.mount, |tree, now| {
            let ino = tree.open(d.ino, path.as_bytes(), &options, now)?;
            Ok((ino, tree.stat(ino)?.filetype))
        })?;
        let kind = match filetype {
            FileType::Directory => Kind::Dir {
                preopen: false,
                mutate: false,
            },
            _ => Kind::File { read, write },
        };
        let pushed = self.table.push(VirtualDescriptor {
            mount: d.mount,
            ino,
            kind,
        });
        if pushed.is_err() {
            let _ = self.with_tree(d.mount, |tree, _| tree.close(ino));
        }
        Ok(pushed?)
    }

    /// Drops a descriptor: an opened (not preopened) entry's handle is
    /// released.
    pub(crate) fn drop_descriptor(&mut self, rep: u32) -> wasmtime::Result<()> {
        let d = self
            .table
            .delete(Resource::<VirtualDescriptor>::new_own(rep))?;
        if !matches!(d.kind, Kind::Dir { preopen: true, .. }) {
            let _ = self.with_tree(d.mount, |tree, _| tree.close(d.ino));
        }
        Ok(())
    }

    /// `readlink-at`.
    pub(crate) fn readlink_at(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        path: &str,
    ) -> Answer<String> {
        let d = self.dir(fd)?;
        let target = self.with_tree(d.mount, |tree, _| tree.readlink(d.ino, path.as_bytes()))?;
        String::from_utf8(target).map_err(|_| ErrorCode::IllegalByteSequence.into())
    }

    /// `remove-directory-at`.
    pub(crate) fn remove_directory_at(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        path: &str,
    ) -> Answer<()> {
        let d = self.dir(fd)?;
        self.mutable(d.mount)?;
        self.with_tree(d.mount, |tree, now| {
            tree.remove_dir(d.ino, path.as_bytes(), now)
        })
    }

    /// `rename-at`.
    pub(crate) fn rename_at(
        &mut self,
        (fd, old_path): (&Resource<VirtualDescriptor>, &str),
        (new_fd, new_path): (&Resource<VirtualDescriptor>, &str),
    ) -> Answer<()> {
        let (src, dst) = self.two_mutable_dirs(fd, new_fd)?;
        if src.mount != dst.mount {
            return Err(ErrorCode::CrossDevice.into());
        }
        self.with_tree(src.mount, |tree, now| {
            tree.rename(
                src.ino,
                old_path.as_bytes(),
                dst.ino,
                new_path.as_bytes(),
                now,
            )
        })
    }

    /// `symlink-at`: a link at `new_path` whose target is `old_path`.
    pub(crate) fn symlink_at(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        old_path: &str,
        new_path: &str,
    ) -> Answer<()> {
        let d = self.dir(fd)?;
        self.mutable(d.mount)?;
        self.with_tree(d.mount, |tree, now| {
            tree.symlink(old_path.as_bytes(), d.ino, new_path.as_bytes(), now)
                .map(drop)
        })
    }

    /// `unlink-file-at`.
    pub(crate) fn unlink_file_at(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        path: &str,
    ) -> Answer<()> {
        let d = self.dir(fd)?;
        self.mutable(d.mount)?;
        self.with_tree(d.mount, |tree, now| {
            tree.unlink(d.ino, path.as_bytes(), now)
        })
    }

    /// A stream's file, retained for the stream; a writer's on a read-only
    /// preopen is `read_only`.
    fn stream_file(
        &self,
        fd: &Resource<VirtualDescriptor>,
        write: Option<ErrorCode>,
    ) -> Answer<File> {
        let f = self.file(fd)?;
        if let Some(read_only) = write
            && !self.writable(f.mount)
        {
            return Err(read_only.into());
        }
        self.with_tree(f.mount, |tree, _| tree.retain(f.ino))?;
        Ok(f)
    }

    /// `read-via-stream`.
    pub(crate) fn read_via_stream(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        offset: u64,
    ) -> Answer<Resource<DynInputStream>> {
        let reader = self.file_reader(fd, offset)?;
        Ok(self.table.push(Box::new(reader) as DynInputStream)?)
    }

    /// A reader of a file descriptor's file from `offset` (`bad-descriptor`
    /// for a directory); it keeps the file open until dropped.
    pub(crate) fn file_reader(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        offset: u64,
    ) -> Answer<FileReader> {
        let f = self.stream_file(fd, None)?;
        Ok(FileReader::new(
            self.fs.clone(),
            f.mount,
            f.ino,
            f.read,
            offset,
        ))
    }

    /// `write-via-stream` (`offset` given) and `append-via-stream` (none).
    pub(crate) fn write_via_stream(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        offset: Option<u64>,
    ) -> Answer<Resource<DynOutputStream>> {
        let writer = self.file_writer(fd, offset, ErrorCode::BadDescriptor)?;
        Ok(self.table.push(Box::new(writer) as DynOutputStream)?)
    }

    /// A writer of a file descriptor's file at `offset` (none: at the end);
    /// `bad-descriptor` for a directory, `read_only` on a read-only
    /// preopen. It keeps the file open until dropped.
    pub(crate) fn file_writer(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        offset: Option<u64>,
        read_only: ErrorCode,
    ) -> Answer<FileWriter> {
        let f = self.stream_file(fd, Some(read_only))?;
        let mode = offset.map_or(WriteMode::Append, WriteMode::At);
        Ok(FileWriter::new(
            self.fs.clone(),
            f.mount,
            f.ino,
            f.write,
            mode,
        ))
    }

    /// `is-same-object`: the same preopen and inode.
    pub(crate) fn is_same_object(
        &mut self,
        a: &Resource<VirtualDescriptor>,
        b: &Resource<VirtualDescriptor>,
    ) -> Answer<bool> {
        let (a, b) = (self.descriptor(a)?, self.descriptor(b)?);
        Ok(a.mount == b.mount && a.ino == b.ino)
    }

    /// `metadata-hash`.
    pub(crate) fn metadata_hash(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
    ) -> Answer<MetadataHashValue> {
        Ok(metadata_hash(&self.entry_stat(fd)?))
    }

    /// `metadata-hash-at`.
    pub(crate) fn metadata_hash_at(
        &mut self,
        fd: &Resource<VirtualDescriptor>,
        flags: PathFlags,
        path: &str,
    ) -> Answer<MetadataHashValue> {
        Ok(metadata_hash(&self.path_stat(fd, flags, path)?))
    }

    /// `filesystem-error-code`: the code of a failed stream operation.
    pub(crate) fn filesystem_error_code(
        &mut self,
        error: &Resource<wasmtime::Error>,
    ) -> Answer<Option<ErrorCode>> {
        let error = self.table.get(error)?;
        Ok(error.downcast_ref::<StreamFailure>().map(|f| f.0))
    }
}
