//! An independent model of one preopened virtual directory: the rules the
//! crate's `fs` module documents (inode numbering, times, link counts,
//! listings) and the preview1 answers Linux gives, for the operations
//! [`strategies`](super::strategies) generates.
//!
//! It shares no code with the crate: a plain map of inodes, path lookup
//! written from the POSIX description, and preview1's record layouts
//! written out by hand.

use deterministic_wasi_ctx::script::fs::{FsOp, FsOutput, FsResult, offset};
use std::collections::{BTreeMap, BTreeSet};

/// preview1 errno values the modelled operations can give.
pub mod errno {
    /// Bad descriptor.
    pub const BADF: u16 = 8;
    /// File exists.
    pub const EXIST: u16 = 20;
    /// Invalid argument.
    pub const INVAL: u16 = 28;
    /// Is a directory.
    pub const ISDIR: u16 = 31;
    /// Too many symlinks.
    pub const LOOP: u16 = 32;
    /// No such entry.
    pub const NOENT: u16 = 44;
    /// Not a directory.
    pub const NOTDIR: u16 = 54;
    /// Directory not empty.
    pub const NOTEMPTY: u16 = 55;
    /// Not permitted.
    pub const PERM: u16 = 63;
}
use errno::*;

/// The inode number of the preopened directory.
pub const ROOT: u64 = 1;
/// The size every directory reports.
pub const DIR_SIZE: u64 = 4096;
/// The `dev` of the first preopen.
pub const DEV: u64 = 1;
/// Symlinks one resolution follows before `ELOOP`.
pub const MAX_SYMLINKS: usize = 40;

/// What an inode holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A directory: its entries and its parent (the root's is itself).
    Dir {
        /// Name to inode.
        entries: BTreeMap<Vec<u8>, u64>,
        /// The directory holding it.
        parent: u64,
    },
    /// A regular file's bytes.
    File(Vec<u8>),
    /// A symlink's target.
    Symlink(Vec<u8>),
}

/// One inode.
#[derive(Clone, Debug)]
struct Node {
    body: Body,
    /// Hard links (1 for a directory in the tree, 0 once removed).
    links: u64,
    open: u64,
    atim: u64,
    mtim: u64,
    ctim: u64,
}

/// An open descriptor.
#[derive(Clone, Debug)]
enum Open {
    Dir {
        ino: u64,
        /// The preopen itself holds no handle on its inode.
        preopen: bool,
    },
    File {
        ino: u64,
        pos: u64,
        read: bool,
        write: bool,
        append: bool,
    },
}

/// An initial tree, as the strategies generate it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A file with these bytes.
    File(Vec<u8>),
    /// A directory with these entries.
    Dir(BTreeMap<String, Entry>),
    /// A symlink with this target.
    Symlink(String),
}

/// A metadata record: dev, ino, filetype, nlink, size, atim, mtim, ctim.
pub type Filestat = [u64; 8];

/// The model: one tree preopened as fd 3, stdio as 0-2.
#[derive(Clone, Debug)]
pub struct FsModel {
    nodes: BTreeMap<u64, Node>,
    next_ino: u64,
    fds: BTreeMap<u32, Open>,
    free: BTreeSet<u32>,
    now: u64,
}

/// The last component of a path and the directory holding it.
struct Place {
    parent: u64,
    name: Vec<u8>,
    ino: Option<u64>,
}

impl FsModel {
    /// The model of `root`'s entries, snapshotted at `wall_start` (ns).
    pub fn new(root: &BTreeMap<String, Entry>, wall_start: u64) -> FsModel {
        // Snapshot entries are numbered in byte order of their full paths.
        let mut paths = Vec::new();
        collect(root, "", &mut paths);
        paths.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let ino_of: BTreeMap<&str, u64> = paths
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.as_str(), i as u64 + 2))
            .collect();
        let node = |body| Node {
            body,
            links: 1,
            open: 0,
            atim: wall_start,
            mtim: wall_start,
            ctim: wall_start,
        };
        let entries_of = |dir: &BTreeMap<String, Entry>, prefix: &str| {
            dir.keys()
                .map(|name| {
                    (
                        name.as_bytes().to_vec(),
                        ino_of[join(prefix, name).as_str()],
                    )
                })
                .collect()
        };
        let mut nodes = BTreeMap::new();
        nodes.insert(
            ROOT,
            node(Body::Dir {
                entries: entries_of(root, ""),
                parent: ROOT,
            }),
        );
        for (path, entry) in &paths {
            let parent = match path.rfind('/') {
                Some(i) => ino_of[&path[..i]],
                None => ROOT,
            };
            let body = match entry {
                Entry::File(bytes) => Body::File(bytes.clone()),
                Entry::Symlink(target) => Body::Symlink(target.as_bytes().to_vec()),
                Entry::Dir(children) => Body::Dir {
                    entries: entries_of(children, path),
                    parent,
                },
            };
            nodes.insert(ino_of[path.as_str()], node(body));
        }
        let mut fds = BTreeMap::new();
        fds.insert(
            3,
            Open::Dir {
                ino: ROOT,
                preopen: true,
            },
        );
        FsModel {
            next_ino: paths.len() as u64 + 2,
            nodes,
            fds,
            free: BTreeSet::new(),
            now: wall_start,
        }
    }

    fn node(&self, ino: u64) -> &Node {
        &self.nodes[&ino]
    }

    fn node_mut(&mut self, ino: u64) -> &mut Node {
        self.nodes.get_mut(&ino).expect("live inode")
    }

    fn entries(&self, dir: u64) -> Option<&BTreeMap<Vec<u8>, u64>> {
        match &self.node(dir).body {
            Body::Dir { entries, .. } => Some(entries),
            _ => None,
        }
    }

    fn entries_mut(&mut self, dir: u64) -> &mut BTreeMap<Vec<u8>, u64> {
        match &mut self.node_mut(dir).body {
            Body::Dir { entries, .. } => entries,
            _ => panic!("not a directory"),
        }
    }

    fn is_dir(&self, ino: u64) -> bool {
        matches!(self.node(ino).body, Body::Dir { .. })
    }

    /// `ino`'s metadata record.
    pub fn stat(&self, ino: u64) -> Filestat {
        let n = self.node(ino);
        let (filetype, nlink, size) = match &n.body {
            Body::Dir { entries, .. } => {
                let subdirs = entries.values().filter(|&&i| self.is_dir(i)).count() as u64;
                let nlink = if n.links == 0 { 0 } else { 2 + subdirs };
                (3, nlink, DIR_SIZE)
            }
            Body::File(bytes) => (4, n.links, bytes.len() as u64),
            Body::Symlink(target) => (7, n.links, target.len() as u64),
        };
        [DEV, ino, filetype, nlink, size, n.atim, n.mtim, n.ctim]
    }

    /// Follows `path` from directory `dir` to the directory holding its last
    /// component (following every symlink on the way), and looks that
    /// component up, following it if `follow`.
    fn place(&self, dir: u64, path: &[u8], follow: bool, hops: &mut usize) -> Result<Place, u16> {
        let names: Vec<&[u8]> = path
            .split(|&b| b == b'/')
            .filter(|n| !n.is_empty())
            .collect();
        let Some((last, walk)) = names.split_last() else {
            return Err(NOENT);
        };
        let mut at = dir;
        for name in walk {
            let entries = self.entries(at).ok_or(NOTDIR)?;
            let ino = *entries.get(*name).ok_or(NOENT)?;
            at = self.follow(at, ino, hops)?;
        }
        let entries = self.entries(at).ok_or(NOTDIR)?;
        let ino = entries.get(*last).copied();
        if let (true, Some(ino)) = (follow, ino)
            && let Body::Symlink(target) = &self.node(ino).body
        {
            *hops += 1;
            if *hops > MAX_SYMLINKS {
                return Err(LOOP);
            }
            return self.place(at, &target.clone(), true, hops);
        }
        Ok(Place {
            parent: at,
            name: last.to_vec(),
            ino,
        })
    }

    /// `ino` (an entry of `dir`), or what it leads to if it is a symlink.
    fn follow(&self, dir: u64, ino: u64, hops: &mut usize) -> Result<u64, u16> {
        let Body::Symlink(target) = &self.node(ino).body else {
            return Ok(ino);
        };
        *hops += 1;
        if *hops > MAX_SYMLINKS {
            return Err(LOOP);
        }
        self.place(dir, target, true, hops)?.ino.ok_or(NOENT)
    }

    fn lookup(&self, dir: u64, path: &[u8], follow: bool) -> Result<Place, u16> {
        self.place(dir, path, follow, &mut 0)
    }

    /// The entry `path` names from descriptor `fd`, which must exist.
    fn existing(&self, fd: u8, path: &[u8], follow: bool) -> Result<(Place, u64), u16> {
        let at = self.dir_fd(u32::from(fd))?;
        let p = self.lookup(at, path, follow)?;
        let ino = p.ino.ok_or(NOENT)?;
        Ok((p, ino))
    }

    /// Unlinks or removes the entry at `p` (its directory changes).
    fn remove(&mut self, p: &Place) {
        self.drop_entry(p.parent, &p.name);
        self.touch_dir(p.parent);
    }

    /// The directory a path call starts from. preview1 answers `EBADF` for
    /// a file (it lacks the path rights), except `path_open` (`ENOTDIR`).
    fn dir_fd(&self, fd: u32) -> Result<u64, u16> {
        match self.fds.get(&fd) {
            Some(Open::Dir { ino, .. }) => Ok(*ino),
            _ => Err(BADF),
        }
    }

    fn touch_dir(&mut self, dir: u64) {
        let now = self.now;
        let n = self.node_mut(dir);
        n.mtim = now;
        n.ctim = now;
    }

    fn new_node(&mut self, parent: u64, name: Vec<u8>, body: Body) -> Result<u64, u16> {
        if self.node(parent).links == 0 {
            return Err(NOENT);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        let now = self.now;
        self.nodes.insert(
            ino,
            Node {
                body,
                links: 1,
                open: 0,
                atim: now,
                mtim: now,
                ctim: now,
            },
        );
        self.entries_mut(parent).insert(name, ino);
        self.touch_dir(parent);
        Ok(ino)
    }

    /// Drops `ino` once nothing links or holds it.
    fn collect_garbage(&mut self, ino: u64) {
        let n = self.node(ino);
        if n.links == 0 && n.open == 0 {
            self.nodes.remove(&ino);
        }
    }

    /// Removes entry `name` of `parent` (an unlink, rmdir or replacement).
    fn drop_entry(&mut self, parent: u64, name: &[u8]) {
        let ino = self.entries_mut(parent).remove(name).expect("entry");
        let now = self.now;
        let n = self.node_mut(ino);
        n.links -= 1;
        n.ctim = now;
        self.collect_garbage(ino);
    }

    /// The descriptor number stock gives a new descriptor: the highest one
    /// freed, else one past the highest in use.
    fn push_fd(&mut self, open: Open) -> u32 {
        let fd = match self.free.pop_last() {
            Some(fd) => fd,
            None => self.fds.keys().last().map_or(3, |&fd| fd + 1),
        };
        self.fds.insert(fd, open);
        fd
    }

    /// Runs `op` and returns what the guest sees.
    pub fn apply(&mut self, op: &FsOp) -> FsResult {
        match self.apply_inner(op) {
            Ok(output) => FsResult { errno: 0, output },
            Err(errno) => FsResult {
                errno,
                output: FsOutput::None,
            },
        }
    }

    fn apply_inner(&mut self, op: &FsOp) -> Result<FsOutput, u16> {
        use FsOutput::{Bytes, Count, Dirents, None, Offset};
        match op {
            FsOp::Sleep { nanos } => {
                self.now += u64::from(*nanos);
                Ok(Count(1))
            }
            FsOp::PathOpen {
                dir,
                follow,
                path,
                oflags,
                write,
                fdflags,
                ..
            } => self.open(
                u32::from(dir.0),
                *follow,
                &path.0,
                *oflags,
                *write,
                *fdflags,
            ),
            FsOp::FdClose { fd } => {
                let open = self.fds.remove(&u32::from(fd.0)).ok_or(BADF)?;
                self.free.insert(u32::from(fd.0));
                match open {
                    Open::Dir { preopen: true, .. } => {}
                    Open::Dir { ino, .. } | Open::File { ino, .. } => {
                        self.node_mut(ino).open -= 1;
                        self.collect_garbage(ino);
                    }
                }
                Ok(None)
            }
            FsOp::FdWrite { fd, data } => self.write(u32::from(fd.0), data, false, 0),
            FsOp::FdPwrite { fd, data, offset } => self.write(u32::from(fd.0), data, true, *offset),
            FsOp::FdRead { fd, len } => {
                let bytes = self.read(u32::from(fd.0), *len, Option::None)?;
                Ok(Bytes(bytes.len() as u32, bytes))
            }
            FsOp::FdPread { fd, len, offset } => {
                let bytes = self.read(u32::from(fd.0), *len, Some(*offset))?;
                Ok(Bytes(bytes.len() as u32, bytes))
            }
            FsOp::FdSeek { fd, offset, whence } => {
                let (ino, pos) = self.file_fd(u32::from(fd.0))?;
                let base = match whence {
                    0 => 0,
                    1 => pos,
                    _ => self.stat(ino)[4],
                } as i128;
                let new = base + i128::from(*offset);
                if new < 0 {
                    return Err(INVAL);
                }
                self.set_pos(u32::from(fd.0), new as u64);
                Ok(Offset(new as u64))
            }
            FsOp::FdTell { fd } => Ok(Offset(self.file_fd(u32::from(fd.0))?.1)),
            FsOp::FdFilestatGet { fd } => match self.fds.get(&u32::from(fd.0)) {
                Some(Open::Dir { ino, .. } | Open::File { ino, .. }) => {
                    Ok(FsOutput::Filestat(self.stat(*ino)))
                }
                Option::None => Err(BADF),
            },
            FsOp::FdFilestatSetSize { fd, size } => {
                // ftruncate of a descriptor not open for writing: EINVAL.
                let ino = match self.fds.get(&u32::from(fd.0)) {
                    Some(Open::File {
                        ino, write: true, ..
                    }) => *ino,
                    Some(Open::File { .. }) => return Err(INVAL),
                    _ => return Err(BADF),
                };
                let now = self.now;
                let n = self.node_mut(ino);
                if let Body::File(bytes) = &mut n.body {
                    bytes.resize(*size as usize, 0);
                }
                n.mtim = now;
                n.ctim = now;
                Ok(None)
            }
            FsOp::FdReaddir { fd, len, cookie } => {
                let ino = match self.fds.get(&u32::from(fd.0)) {
                    Some(Open::Dir { ino, .. }) => *ino,
                    // preview1 answers EBADF (a file descriptor lacks the
                    // readdir right), where Linux's getdents says ENOTDIR.
                    _ => return Err(BADF),
                };
                // A removed directory lists `.` and `..` only: Linux's
                // `iterate_dir` refuses it (`IS_DEADDIR`, `ENOENT`), and
                // stock wasmtime-wasi's reader (rustix) takes that as the
                // end of the listing, after the two entries preview1 adds.
                let mut buf = self.dirents(ino, u64::from(*cookie));
                buf.truncate(usize::from(*len));
                Ok(Dirents(buf.len() as u32, buf))
            }
            FsOp::PathCreateDirectory { dir, path } => {
                let at = self.dir_fd(u32::from(dir.0))?;
                let p = self.lookup(at, &path.0, false)?;
                if p.ino.is_some() {
                    return Err(EXIST);
                }
                self.new_node(
                    p.parent,
                    p.name,
                    Body::Dir {
                        entries: BTreeMap::new(),
                        parent: p.parent,
                    },
                )?;
                Ok(None)
            }
            FsOp::PathRemoveDirectory { dir, path } => {
                let (p, ino) = self.existing(dir.0, &path.0, false)?;
                match self.entries(ino) {
                    Option::None => Err(NOTDIR),
                    Some(entries) if !entries.is_empty() => Err(NOTEMPTY),
                    Some(_) => {
                        self.remove(&p);
                        Ok(None)
                    }
                }
            }
            FsOp::PathUnlinkFile { dir, path } => {
                let (p, ino) = self.existing(dir.0, &path.0, false)?;
                if self.is_dir(ino) {
                    return Err(ISDIR);
                }
                self.remove(&p);
                Ok(None)
            }
            FsOp::PathRename {
                from_dir,
                from,
                to_dir,
                to,
            } => {
                let src = self.dir_fd(u32::from(from_dir.0))?;
                let dst = self.dir_fd(u32::from(to_dir.0))?;
                self.rename(src, &from.0, dst, &to.0).map(|()| None)
            }
            FsOp::PathLink {
                from_dir,
                from,
                to_dir,
                to,
                ..
            } => {
                let src = self.dir_fd(u32::from(from_dir.0))?;
                let dst = self.dir_fd(u32::from(to_dir.0))?;
                let old = self.lookup(src, &from.0, false)?;
                let new = self.lookup(dst, &to.0, false)?;
                let ino = old.ino.ok_or(NOENT)?;
                if new.ino.is_some() {
                    return Err(EXIST);
                }
                if self.is_dir(ino) {
                    return Err(PERM);
                }
                if self.node(new.parent).links == 0 {
                    return Err(NOENT);
                }
                self.entries_mut(new.parent).insert(new.name, ino);
                let now = self.now;
                let n = self.node_mut(ino);
                n.links += 1;
                n.ctim = now;
                self.touch_dir(new.parent);
                Ok(None)
            }
            FsOp::PathSymlink { target, dir, path } => {
                let at = self.dir_fd(u32::from(dir.0))?;
                let p = self.lookup(at, &path.0, false)?;
                if p.ino.is_some() {
                    return Err(EXIST);
                }
                self.new_node(p.parent, p.name, Body::Symlink(target.0.clone()))?;
                Ok(None)
            }
            FsOp::PathReadlink { dir, path, len } => {
                let (_, ino) = self.existing(dir.0, &path.0, false)?;
                let Body::Symlink(target) = &self.node(ino).body else {
                    return Err(INVAL);
                };
                let mut bytes = target.clone();
                bytes.truncate(usize::from(*len));
                Ok(Bytes(bytes.len() as u32, bytes))
            }
            FsOp::PathFilestatGet { dir, follow, path } => {
                let (_, ino) = self.existing(dir.0, &path.0, *follow)?;
                Ok(FsOutput::Filestat(self.stat(ino)))
            }
            FsOp::PathFilestatSetTimes {
                dir,
                follow,
                path,
                atim,
                mtim,
                fst,
            } => {
                let (_, ino) = self.existing(dir.0, &path.0, *follow)?;
                let now = self.now;
                let time = |set: u8, set_now: u8, value: u64| {
                    if fst & set_now != 0 {
                        Some(now)
                    } else if fst & set != 0 {
                        Some(value)
                    } else {
                        Option::None
                    }
                };
                // The times as the script passes them (`script::fs::offset`
                // maps large values onto boundaries).
                let (a, m) = (time(1, 2, offset(*atim)), time(4, 8, offset(*mtim)));
                let n = self.node_mut(ino);
                if let Some(a) = a {
                    n.atim = a;
                }
                if let Some(m) = m {
                    n.mtim = m;
                }
                if a.is_some() || m.is_some() {
                    n.ctim = now;
                }
                Ok(None)
            }
            other => panic!("the model does not cover {other:?}"),
        }
    }

    fn open(
        &mut self,
        dir: u32,
        follow: bool,
        path: &[u8],
        oflags: u8,
        write: bool,
        fdflags: u8,
    ) -> Result<FsOutput, u16> {
        let (create, directory, excl, trunc) = (
            oflags & 1 != 0,
            oflags & 2 != 0,
            oflags & 4 != 0,
            oflags & 8 != 0,
        );
        let at = match self.fds.get(&dir) {
            Some(Open::File { .. }) => return Err(NOTDIR),
            _ => self.dir_fd(dir)?,
        };
        // O_CREAT|O_EXCL never follows a final symlink.
        let p = self.lookup(at, path, follow && !(create && excl))?;
        let ino = match p.ino {
            Option::None if create => self.new_node(p.parent, p.name, Body::File(Vec::new()))?,
            Option::None => return Err(NOENT),
            Some(_) if create && excl => return Err(EXIST),
            Some(ino) => {
                match &self.node(ino).body {
                    Body::Dir { .. } if create || trunc || write => return Err(ISDIR),
                    Body::Dir { .. } => {}
                    Body::Symlink(_) => return Err(LOOP),
                    Body::File(_) if directory => return Err(NOTDIR),
                    Body::File(_) => {
                        if trunc {
                            let now = self.now;
                            let n = self.node_mut(ino);
                            n.body = Body::File(Vec::new());
                            n.mtim = now;
                            n.ctim = now;
                        }
                    }
                }
                ino
            }
        };
        self.node_mut(ino).open += 1;
        let open = if self.is_dir(ino) {
            Open::Dir {
                ino,
                preopen: false,
            }
        } else {
            Open::File {
                ino,
                pos: 0,
                read: true,
                write: write || create || trunc,
                append: fdflags & 1 != 0,
            }
        };
        Ok(FsOutput::Count(self.push_fd(open)))
    }

    /// A file descriptor's inode and position (`EBADF` for a directory).
    fn file_fd(&self, fd: u32) -> Result<(u64, u64), u16> {
        match self.fds.get(&fd) {
            Some(Open::File { ino, pos, .. }) => Ok((*ino, *pos)),
            _ => Err(BADF),
        }
    }

    fn set_pos(&mut self, fd: u32, new: u64) {
        if let Some(Open::File { pos, .. }) = self.fds.get_mut(&fd) {
            *pos = new;
        }
    }

    fn read(&mut self, fd: u32, len: u16, at: Option<u64>) -> Result<Vec<u8>, u16> {
        let Some(Open::File {
            ino,
            pos,
            read: true,
            ..
        }) = self.fds.get(&fd).cloned()
        else {
            return Err(BADF);
        };
        let Body::File(data) = &self.node(ino).body else {
            return Err(BADF);
        };
        let start = at.unwrap_or(pos).min(data.len() as u64) as usize;
        let end = (start + usize::from(len)).min(data.len());
        let bytes = data[start..end].to_vec();
        if at.is_none() {
            self.set_pos(fd, pos + bytes.len() as u64);
        }
        Ok(bytes)
    }

    fn write(&mut self, fd: u32, data: &[u8], positioned: bool, at: u64) -> Result<FsOutput, u16> {
        let Some(Open::File {
            ino,
            pos,
            write: true,
            append,
            ..
        }) = self.fds.get(&fd).cloned()
        else {
            return Err(BADF);
        };
        let now = self.now;
        let n = self.node_mut(ino);
        let Body::File(bytes) = &mut n.body else {
            return Err(BADF);
        };
        let start = if append {
            bytes.len()
        } else if positioned {
            at as usize
        } else {
            pos as usize
        };
        if !data.is_empty() {
            if bytes.len() < start + data.len() {
                bytes.resize(start + data.len(), 0);
            }
            bytes[start..start + data.len()].copy_from_slice(data);
            n.mtim = now;
            n.ctim = now;
        }
        if !positioned {
            self.set_pos(fd, (start + data.len()) as u64);
        }
        Ok(FsOutput::Count(data.len() as u32))
    }

    fn rename(&mut self, src: u64, from: &[u8], dst: u64, to: &[u8]) -> Result<(), u16> {
        let old = self.lookup(src, from, false)?;
        let new = self.lookup(dst, to, false)?;
        let ino = old.ino.ok_or(NOENT)?;
        if self.is_dir(ino) && self.is_within(new.parent, ino) {
            return Err(INVAL);
        }
        if let Some(target) = new.ino
            && self.is_within(old.parent, target)
        {
            return Err(NOTEMPTY);
        }
        if new.ino == Some(ino) {
            return Ok(());
        }
        if let Some(target) = new.ino {
            match (self.is_dir(ino), self.entries(target)) {
                (true, Option::None) => return Err(NOTDIR),
                (false, Some(_)) => return Err(ISDIR),
                (true, Some(entries)) if !entries.is_empty() => return Err(NOTEMPTY),
                _ => {}
            }
        }
        if self.node(new.parent).links == 0 {
            return Err(NOENT);
        }
        if new.ino.is_some() {
            self.drop_entry(new.parent, &new.name);
        }
        self.entries_mut(old.parent).remove(&old.name);
        self.entries_mut(new.parent).insert(new.name, ino);
        let (now, parent) = (self.now, new.parent);
        let n = self.node_mut(ino);
        n.ctim = now;
        if let Body::Dir { parent: p, .. } = &mut n.body {
            *p = parent;
        }
        self.touch_dir(old.parent);
        self.touch_dir(new.parent);
        Ok(())
    }

    /// Whether `ino` is `ancestor` or lies under it.
    fn is_within(&self, mut ino: u64, ancestor: u64) -> bool {
        loop {
            if ino == ancestor {
                return true;
            }
            match &self.node(ino).body {
                Body::Dir { parent, .. } if *parent != ino => ino = *parent,
                _ => return false,
            }
        }
    }

    /// `fd_readdir`'s records of `dir` from `cookie`, untruncated: `.`,
    /// `..`, then the entries by name bytes; `d_next` is the index + 1.
    fn dirents(&self, dir: u64, cookie: u64) -> Vec<u8> {
        let Body::Dir { entries, parent } = &self.node(dir).body else {
            return Vec::new();
        };
        let mut list = vec![(b".".to_vec(), dir), (b"..".to_vec(), *parent)];
        list.extend(entries.iter().map(|(name, &ino)| (name.clone(), ino)));
        let mut buf = Vec::new();
        for (i, (name, ino)) in list.iter().enumerate().skip(cookie as usize) {
            buf.extend_from_slice(&(i as u64 + 1).to_le_bytes());
            buf.extend_from_slice(&ino.to_le_bytes());
            buf.extend_from_slice(&(name.len() as u32).to_le_bytes());
            buf.extend_from_slice(&[self.stat(*ino)[2] as u8, 0, 0, 0]);
            buf.extend_from_slice(name);
        }
        buf
    }

    /// Every entry reachable from the root, the root first (path `""`), in
    /// byte order of the full path: path, metadata, and a file's bytes or
    /// a symlink's target.
    pub fn walk(&self) -> Vec<(Vec<u8>, Filestat, Vec<u8>)> {
        let mut out = Vec::new();
        let mut todo = vec![(Vec::new(), ROOT)];
        while let Some((path, ino)) = todo.pop() {
            let content = match &self.node(ino).body {
                Body::Dir { entries, .. } => {
                    for (name, &child) in entries {
                        let mut p = path.clone();
                        if !p.is_empty() {
                            p.push(b'/');
                        }
                        p.extend_from_slice(name);
                        todo.push((p, child));
                    }
                    Vec::new()
                }
                Body::File(bytes) => bytes.clone(),
                Body::Symlink(target) => target.clone(),
            };
            out.push((path, self.stat(ino), content));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Every path of `dir` (recursively) with its entry.
fn collect<'a>(dir: &'a BTreeMap<String, Entry>, prefix: &str, out: &mut Vec<(String, &'a Entry)>) {
    for (name, entry) in dir {
        let path = join(prefix, name);
        if let Entry::Dir(children) = entry {
            collect(children, &path, out);
        }
        out.push((path, entry));
    }
}
