//! The `path_*` calls: a directory descriptor and a path, answered by the
//! preopen's [`FsTree`](crate::fs::FsTree) in stock `wasmtime-wasi`'s order
//! of checks: argument decoding, the directory descriptor(s) (`EBADF` for
//! anything else), the path strings (budget, bounds, `EILSEQ`), the
//! preopen's permissions (`EPERM` on a read-only one), then the operation.
//! Two preopens are two devices: renaming or linking between them is
//! `EXDEV`.

use super::calls::{Calls, flags, flags16, fs_err, witx};
use super::guest::{CallResult, errno, fail};
use super::table::{Descriptor, DirHandle, FileHandle};
use crate::fs::{FileType, OpenOptions};

/// The arguments of `path_open` after the directory descriptor.
pub struct OpenArgs {
    /// `lookupflags`.
    pub lookup: i32,
    /// The path's pointer and length.
    pub path: (i32, i32),
    /// `oflags`.
    pub oflags: i32,
    /// `fs_rights_base`.
    pub base: i64,
    /// `fs_rights_inheriting` (checked, otherwise unused, as in stock).
    pub inheriting: i64,
    /// `fdflags`.
    pub fdflags: i32,
    /// Where the new descriptor is written.
    pub out: i32,
}

impl Calls<'_, '_> {
    /// Reads a path argument: charged to the budget, then checked for bounds
    /// and UTF-8 (`EILSEQ`).
    pub(super) fn read_path(&mut self, (ptr, len): (i32, i32)) -> CallResult<Vec<u8>> {
        self.guest.charge(u64::from(len as u32))?;
        self.read_path_uncharged((ptr, len))
    }

    /// [`read_path`](Self::read_path) without the charge (stock's
    /// `path_unlink_file` reads its path so).
    fn read_path_uncharged(&mut self, (ptr, len): (i32, i32)) -> CallResult<Vec<u8>> {
        let bytes = self.guest.slice(ptr as u32, len as u32)?;
        match std::str::from_utf8(bytes) {
            Ok(path) => Ok(path.as_bytes().to_vec()),
            Err(_) => fail(errno::ILSEQ),
        }
    }

    /// A directory on a preopen the guest may change.
    fn mutable_dir(&mut self, fd: i32, path: (i32, i32)) -> CallResult<(DirHandle, Vec<u8>)> {
        let d = self.dir(fd)?;
        let path = self.read_path(path)?;
        self.writable(d.mount)?;
        Ok((d, path))
    }

    /// The two directories and paths of `path_link` and `path_rename`, in
    /// stock's order: both directories, both paths, then both preopens'
    /// permissions.
    fn two_mutable_dirs(
        &mut self,
        (from, from_path): (i32, (i32, i32)),
        (to, to_path): (i32, (i32, i32)),
    ) -> CallResult<(DirHandle, DirHandle, Vec<u8>, Vec<u8>)> {
        let src = self.dir(from)?;
        let dst = self.dir(to)?;
        let from_path = self.read_path(from_path)?;
        let to_path = self.read_path(to_path)?;
        self.writable(src.mount)?;
        self.writable(dst.mount)?;
        Ok((src, dst, from_path, to_path))
    }

    /// `path_create_directory`.
    pub fn path_create_directory(&mut self, fd: i32, path: (i32, i32)) -> CallResult<()> {
        let (d, path) = self.mutable_dir(fd, path)?;
        let now = self.fds.now();
        let tree = self.fds.tree_mut(d.mount);
        tree.create_dir(d.ino, &path, now).map(drop).map_err(fs_err)
    }

    /// `path_filestat_get`.
    pub fn path_filestat_get(
        &mut self,
        fd: i32,
        lookup: i32,
        path: (i32, i32),
        out: i32,
    ) -> CallResult<()> {
        let follow = lookupflags(lookup)?;
        let d = self.dir(fd)?;
        let path = self.read_path(path)?;
        let tree = &self.fds.mount(d.mount).tree;
        let stat = tree.stat_at(d.ino, &path, follow).map_err(fs_err)?;
        self.write_filestat(out as u32, Some(&stat))
    }

    /// `path_filestat_set_times`.
    pub fn path_filestat_set_times(
        &mut self,
        fd: i32,
        lookup: i32,
        path: (i32, i32),
        (atim, mtim): (i64, i64),
        fst: i32,
    ) -> CallResult<()> {
        let follow = lookupflags(lookup)?;
        let fst = Self::fstflags(fst)?;
        let (d, path) = self.mutable_dir(fd, path)?;
        let (atim, mtim) = Self::new_times(fst, atim, mtim);
        let now = self.fds.now();
        let tree = self.fds.tree_mut(d.mount);
        tree.set_times_at(d.ino, &path, follow, atim, mtim, now)
            .map_err(fs_err)
    }

    /// `path_link`: following a final symlink is `EINVAL`, as stock refuses it.
    pub fn path_link(
        &mut self,
        (from, lookup, from_path): (i32, i32, (i32, i32)),
        (to, to_path): (i32, (i32, i32)),
    ) -> CallResult<()> {
        let follow = lookupflags(lookup)?;
        let (src, dst, from_path, to_path) =
            self.two_mutable_dirs((from, from_path), (to, to_path))?;
        if follow {
            return fail(errno::INVAL);
        }
        if src.mount != dst.mount {
            return fail(errno::XDEV);
        }
        let now = self.fds.now();
        let tree = self.fds.tree_mut(src.mount);
        tree.link(src.ino, &from_path, false, dst.ino, &to_path, now)
            .map_err(fs_err)
    }

    /// `path_open`: opens (or creates) a file or directory and returns a new
    /// descriptor. The open mode follows stock: writing if `FD_WRITE` is in
    /// the base rights or `O_CREAT`/`O_TRUNC` is given, reading if `FD_READ`
    /// is or writing is not. The sync `fdflags` are `ENOTSUP`.
    pub fn path_open(&mut self, fd: i32, a: &OpenArgs) -> CallResult<()> {
        let follow = lookupflags(a.lookup)?;
        let oflags = flags16("oflags", a.oflags, witx::OFLAGS)?;
        let base = self.rights(a.base)?;
        self.rights(a.inheriting)?;
        let fdflags = flags16("fdflags", a.fdflags, witx::FDFLAGS)?;
        let path = self.read_path(a.path)?;
        let d = match self.open(fd)? {
            Descriptor::Dir(d) => d,
            Descriptor::File(_) => return fail(errno::NOTDIR),
            _ => return fail(errno::BADF),
        };
        let has = |set: u64, bit: u64| set & bit != 0;
        let create = has(oflags, witx::OFLAGS_CREAT);
        let truncate = has(oflags, witx::OFLAGS_TRUNC);
        let write_right = has(base, witx::RIGHTS_FD_WRITE);
        if !self.fds.mount(d.mount).writable && (create || truncate || write_right) {
            return fail(errno::PERM);
        }
        let sync = witx::FDFLAGS_DSYNC | witx::FDFLAGS_RSYNC | witx::FDFLAGS_SYNC;
        if has(fdflags, sync) {
            return fail(errno::NOTSUP);
        }
        let write = create || truncate || write_right;
        let read = has(base, witx::RIGHTS_FD_READ) || !write_right;
        let options = OpenOptions::new()
            .follow(follow)
            .create(create)
            .exclusive(has(oflags, witx::OFLAGS_EXCL))
            .truncate(truncate)
            .directory(has(oflags, witx::OFLAGS_DIRECTORY))
            .write(write);
        let now = self.fds.now();
        let tree = self.fds.tree_mut(d.mount);
        let ino = tree.open(d.ino, &path, &options, now).map_err(fs_err)?;
        let desc = match tree.stat(ino).map_err(fs_err)?.filetype {
            FileType::Directory => Descriptor::Dir(DirHandle {
                mount: d.mount,
                ino,
                preopen: false,
                read,
            }),
            _ => Descriptor::File(FileHandle {
                mount: d.mount,
                ino,
                read,
                write,
                append: has(fdflags, witx::FDFLAGS_APPEND),
                nonblock: has(fdflags, witx::FDFLAGS_NONBLOCK),
                position: 0,
            }),
        };
        let Some(new) = self.fds.push(desc) else {
            let _ = self.fds.tree_mut(d.mount).close(ino);
            return fail(errno::MFILE);
        };
        self.guest.write_u32(a.out as u32, new)
    }

    /// `path_readlink`: the target, cut to the buffer; returns its length.
    pub fn path_readlink(
        &mut self,
        fd: i32,
        path: (i32, i32),
        (buf, buf_len): (i32, i32),
        out: i32,
    ) -> CallResult<()> {
        let d = self.dir(fd)?;
        let path = self.read_path(path)?;
        let tree = &self.fds.mount(d.mount).tree;
        let mut target = tree.readlink(d.ino, &path).map_err(fs_err)?;
        target.truncate(buf_len as u32 as usize);
        self.guest.write_bytes(buf as u32, &target)?;
        self.guest.write_u32(out as u32, target.len() as u32)
    }

    /// `path_remove_directory`.
    pub fn path_remove_directory(&mut self, fd: i32, path: (i32, i32)) -> CallResult<()> {
        let (d, path) = self.mutable_dir(fd, path)?;
        let now = self.fds.now();
        let tree = self.fds.tree_mut(d.mount);
        tree.remove_dir(d.ino, &path, now).map_err(fs_err)
    }

    /// `path_rename`.
    pub fn path_rename(
        &mut self,
        (from, from_path): (i32, (i32, i32)),
        (to, to_path): (i32, (i32, i32)),
    ) -> CallResult<()> {
        let (src, dst, from_path, to_path) =
            self.two_mutable_dirs((from, from_path), (to, to_path))?;
        if src.mount != dst.mount {
            return fail(errno::XDEV);
        }
        let now = self.fds.now();
        let tree = self.fds.tree_mut(src.mount);
        tree.rename(src.ino, &from_path, dst.ino, &to_path, now)
            .map_err(fs_err)
    }

    /// `path_symlink`: the directory is looked up before either path is read.
    pub fn path_symlink(
        &mut self,
        target: (i32, i32),
        fd: i32,
        path: (i32, i32),
    ) -> CallResult<()> {
        let d = self.dir(fd)?;
        let target = self.read_path(target)?;
        let path = self.read_path(path)?;
        self.writable(d.mount)?;
        let now = self.fds.now();
        let tree = self.fds.tree_mut(d.mount);
        tree.symlink(&target, d.ino, &path, now)
            .map(drop)
            .map_err(fs_err)
    }

    /// `path_unlink_file`.
    pub fn path_unlink_file(&mut self, fd: i32, path: (i32, i32)) -> CallResult<()> {
        let d = self.dir(fd)?;
        let path = self.read_path_uncharged(path)?;
        self.writable(d.mount)?;
        let now = self.fds.now();
        let tree = self.fds.tree_mut(d.mount);
        tree.unlink(d.ino, &path, now).map_err(fs_err)
    }
}

/// Decodes `lookupflags`: whether to follow a final symlink.
fn lookupflags(lookup: i32) -> CallResult<bool> {
    Ok(flags("lookupflags", u64::from(lookup as u32), witx::LOOKUPFLAGS)? != 0)
}
