//! Operations on paths: open, create, remove, rename, link, symlinks, times.

use super::errno::{ESCAPE, Errno};
use super::node::{Dir, Kind};
use super::resolve::{Last, Resolved};
use super::tree::FsTree;
use super::types::{Ino, NewTime, OpenOptions, Stat};
use super::{NAME_MAX, PATH_MAX};
use std::sync::Arc;

impl FsTree {
    /// Opens (and with `options.create`, creates) the entry `path` names from
    /// directory `dir`, counting a handle on it (release it with
    /// [`close`](Self::close)). What `path_open` calls.
    ///
    /// As Linux's `openat`: a missing entry is `ENOENT`, or created as an
    /// empty regular file with `create` (in the directory a dangling final
    /// symlink points into, when following); `create` with `exclusive` on an
    /// existing entry (even a symlink) is `EEXIST`; `create`, `truncate` or
    /// `write` on a directory is `EISDIR`; a final symlink not followed is
    /// `ELOOP`, even with `directory`; `directory` on a file is `ENOTDIR`;
    /// `create` with a trailing `/` (of the path, or of a final symlink's
    /// target) is `EISDIR`. `directory` together with `create`, `exclusive`
    /// or `truncate` is `EINVAL`. The last three are stock wasmtime-wasi's
    /// answers (its `open_at` refuses those flags first, and opens before it
    /// checks for a directory, so `O_NOFOLLOW` wins); plain Linux would say
    /// `ENOTDIR` for a symlink opened with `O_DIRECTORY | O_NOFOLLOW`.
    ///
    /// # Errors
    ///
    /// The above, the [path errors](super#the-rules-written-once), `ENOENT`
    /// for creating in a removed directory, `ENOSPC` past `max_entries`.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{Errno, FsTree, OpenOptions, ROOT, VirtualFs};
    ///
    /// let mut tree = FsTree::new(&VirtualFs::new().file("old", "x"), 1, 0);
    /// let create_new = OpenOptions::new().create(true).exclusive(true);
    /// assert_eq!(tree.open(ROOT, b"old", &create_new, 9), Err(Errno::EXIST));
    /// let ino = tree.open(ROOT, b"new", &create_new, 9)?;
    /// assert_eq!(tree.stat(ino)?.ctim, 9);
    /// assert_eq!(tree.open(ROOT, b"missing", &OpenOptions::new(), 9), Err(Errno::NOENT));
    /// # Ok::<(), Errno>(())
    /// ```
    pub fn open(
        &mut self,
        dir: Ino,
        path: &[u8],
        options: &OpenOptions,
        now: u64,
    ) -> Result<Ino, Errno> {
        let ino = self.open_inner(dir, path, options, now)?;
        *self.handles.entry(ino).or_insert(0) += 1;
        Ok(ino)
    }

    fn open_inner(
        &mut self,
        dir: Ino,
        path: &[u8],
        o: &OpenOptions,
        now: u64,
    ) -> Result<Ino, Errno> {
        if o.directory && (o.create || o.exclusive || o.truncate) {
            return Err(Errno::INVAL);
        }
        let excl = o.create && o.exclusive;
        let follow = (o.follow || path.ends_with(b"/")) && !excl;
        let r = self.resolve_with(dir, path, follow, o.create, None)?;
        if excl && r.ino.is_some() && !matches!(r.last, Last::Name(_)) {
            // `.` and `..` exist before anything else is checked.
            return Err(Errno::EXIST);
        }
        // Linux refuses creating with a trailing `/` (of the path or of a
        // final symlink's target) before following any further.
        if o.create && r.slash {
            return Err(Errno::ISDIR);
        }
        let Some(ino) = r.ino else {
            if !o.create {
                r.found()?;
            }
            let name = r.name(Errno::EXIST)?.to_vec();
            return self.create_entry(r.parent, name, Kind::File(Arc::default()), now);
        };
        if excl {
            return Err(Errno::EXIST);
        }
        match &self.node(ino)?.kind {
            Kind::Dir(_) if o.create || o.truncate || o.write => Err(Errno::ISDIR),
            Kind::Dir(_) => Ok(ino),
            _ if r.slash => Err(Errno::NOTDIR),
            // Before `directory`: stock wasmtime-wasi opens, then checks.
            Kind::Symlink(_) => Err(Errno::LOOP),
            _ if o.directory => Err(Errno::NOTDIR),
            Kind::File(_) => {
                if o.truncate {
                    self.set_size(ino, 0, now)?;
                }
                Ok(ino)
            }
        }
    }

    /// Links a new node of `kind` as `name` in `parent`: `ENOENT` if the
    /// parent was removed, `ENOSPC` past `max_entries`.
    fn create_entry(
        &mut self,
        parent: Ino,
        name: Vec<u8>,
        kind: Kind,
        now: u64,
    ) -> Result<Ino, Errno> {
        if self.node(parent)?.links == 0 {
            return Err(Errno::NOENT);
        }
        let is_dir = matches!(kind, Kind::Dir(_));
        let ino = self.add_node(kind, now)?;
        let p = self.dir_mut(parent)?;
        p.entries.insert(name, ino);
        if is_dir {
            p.subdirs += 1;
            self.dir_mut(ino)?.parent = parent;
        }
        self.modified(parent, now)?;
        Ok(ino)
    }

    /// The metadata of the entry `path` names from `dir`, following a final
    /// symlink when `follow`. What `path_filestat_get` calls.
    ///
    /// # Errors
    ///
    /// The [path errors](super#the-rules-written-once); `ENOENT` if missing.
    pub fn stat_at(&self, dir: Ino, path: &[u8], follow: bool) -> Result<Stat, Errno> {
        let ino = if follow {
            self.lookup(dir, path, true)?
        } else {
            // As stock wasmtime-wasi (cap-std's `symlink_metadata`): trailing
            // `/` and `/.` after a single name are dropped, so `link/` is the
            // symlink itself...
            let trimmed = trim_final_dots(path);
            if trimmed.len() < path.len() && trimmed.contains(&b'/') {
                // ... of a single name: with more, a trailing `/` follows
                // the last symlink as on Linux.
                self.lookup(dir, path, false)?
            } else {
                self.resolve(dir, trimmed, false)?.found()?
            }
        };
        self.stat(ino)
    }

    /// Sets the access and modification times of `ino`; the change time
    /// becomes `now` unless both are [`NewTime::NoChange`] (then nothing
    /// changes, as Linux's `utimensat`).
    ///
    /// # Errors
    ///
    /// `EBADF` if `ino` is gone.
    pub fn set_times(
        &mut self,
        ino: Ino,
        atim: NewTime,
        mtim: NewTime,
        now: u64,
    ) -> Result<(), Errno> {
        self.node(ino)?;
        if atim == NewTime::NoChange && mtim == NewTime::NoChange {
            return Ok(());
        }
        let times = self.times_mut(ino)?;
        let pick = |new: NewTime, old: u64| match new {
            NewTime::NoChange => old,
            NewTime::Now => now,
            NewTime::At(t) => t,
        };
        times.atim = pick(atim, times.atim);
        times.mtim = pick(mtim, times.mtim);
        times.ctim = now;
        Ok(())
    }

    /// Sets the times of the entry `path` names from directory `dir`, as
    /// stock wasmtime-wasi does it on Linux (`path_filestat_set_times`,
    /// `set-times-at`). Following a final symlink, the whole path is
    /// looked up (its `set_times`); not following, the parent is opened
    /// first and the last name is changed without being followed (its
    /// `set_symlink_times`). Not following and changing nothing, only the
    /// parent is resolved: the kernel changes nothing about the last name and
    /// never looks it up, so a missing one is no error.
    ///
    /// # Errors
    ///
    /// The [path errors](super#the-rules-written-once); `ENOENT` if missing.
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::fs::{Errno, FsTree, NewTime, ROOT, VirtualFs};
    ///
    /// let mut tree = FsTree::new(&VirtualFs::new().file("f", "x"), 1, 0);
    /// tree.set_times_at(ROOT, b"f", true, NewTime::At(5), NewTime::Now, 9)?;
    /// let stat = tree.stat_at(ROOT, b"f", true)?;
    /// assert_eq!((stat.atim, stat.mtim), (5, 9));
    /// let unchanged = (NewTime::NoChange, NewTime::NoChange);
    /// assert_eq!(tree.set_times_at(ROOT, b"gone", false, unchanged.0, unchanged.1, 9), Ok(()));
    /// assert_eq!(tree.set_times_at(ROOT, b"gone", true, unchanged.0, unchanged.1, 9), Err(Errno::NOENT));
    /// # Ok::<(), Errno>(())
    /// ```
    pub fn set_times_at(
        &mut self,
        dir: Ino,
        path: &[u8],
        follow: bool,
        atim: NewTime,
        mtim: NewTime,
        now: u64,
    ) -> Result<(), Errno> {
        if !follow && (atim, mtim) == (NewTime::NoChange, NewTime::NoChange) {
            return self.check_parent(dir, path);
        }
        let ino = if follow {
            self.lookup(dir, path, true)?
        } else {
            self.lookup_parent_first(dir, path, false)?
        };
        self.set_times(ino, atim, mtim, now)
    }

    /// Creates directory `path` (a trailing `/` is allowed). Returns its inode.
    ///
    /// # Errors
    ///
    /// `EEXIST` if the entry exists (a symlink is not followed, `.` and `..`
    /// always exist); `ENOENT` for a missing parent; `ENOSPC`; the path errors.
    pub fn create_dir(&mut self, dir: Ino, path: &[u8], now: u64) -> Result<Ino, Errno> {
        let r = self.resolve_parent_first(dir, path, false, false)?;
        if r.ino.is_some() {
            return Err(Errno::EXIST);
        }
        let name = r.name(Errno::EXIST)?.to_vec();
        self.create_entry(r.parent, name, Kind::Dir(Dir::default()), now)
    }

    /// Removes the empty directory `path` (a final symlink is not followed).
    ///
    /// # Errors
    ///
    /// `ENOENT`; `ENOTDIR` if it is not a directory; `ENOTEMPTY`; `EINVAL`
    /// for a last component `.` and `ENOTEMPTY` for `..` (as Linux).
    pub fn remove_dir(&mut self, dir: Ino, path: &[u8], now: u64) -> Result<(), Errno> {
        let r = self.resolve_parent_first(dir, path, false, true)?;
        let name = match &r.last {
            Last::Name(name) => name.clone(),
            // Stock (cap-std) refuses both as `EINVAL`; Linux says
            // `ENOTEMPTY` for `..`.
            Last::Dot | Last::DotDot => return Err(Errno::INVAL),
        };
        let ino = r.found()?;
        match &self.node(ino)?.kind {
            Kind::Dir(d) if !d.entries.is_empty() => return Err(Errno::NOTEMPTY),
            Kind::Dir(_) => {}
            _ => return Err(Errno::NOTDIR),
        }
        let parent = self.dir_mut(r.parent)?;
        parent.entries.remove(&name);
        parent.subdirs -= 1;
        self.modified(r.parent, now)?;
        self.node_mut(ino)?.links = 0;
        self.changed(ino, now)?;
        self.release(ino);
        Ok(())
    }

    /// Removes the name `path` of a file or symlink (a final symlink is
    /// removed, not followed). The inode goes when its last link and handle
    /// do.
    ///
    /// # Errors
    ///
    /// `ENOENT`; `EISDIR` for a directory (as Linux, also for `.` and `..`);
    /// `ENOTDIR` for a non-directory named with a trailing `/`.
    pub fn unlink(&mut self, dir: Ino, path: &[u8], now: u64) -> Result<(), Errno> {
        // A trailing `/` follows a final symlink first (as stock).
        let r = self.resolve_parent_first(dir, path, false, true)?;
        let name = r.name(Errno::ISDIR)?.to_vec();
        let ino = r.found()?;
        if self.node(ino)?.is_dir() {
            return Err(Errno::ISDIR);
        }
        if r.slash {
            return Err(Errno::NOTDIR);
        }
        self.dir_mut(r.parent)?.entries.remove(&name);
        self.modified(r.parent, now)?;
        self.node_mut(ino)?.links -= 1;
        self.changed(ino, now)?;
        self.release(ino);
        Ok(())
    }

    /// Renames `from` (in directory `from_dir`) to `to` (in `to_dir`), as
    /// POSIX `rename`: final symlinks are not followed; an existing `to` is
    /// replaced if it is a file or symlink and `from` is not a directory, or
    /// if both are directories and `to` is empty. Renaming an entry onto
    /// itself (or onto another hard link of it) does nothing.
    ///
    /// # Errors
    ///
    /// `ENOENT` if `from` is missing; `EBUSY` if either last component is
    /// `.` or `..`; `EINVAL` for moving a directory into itself or below;
    /// `ENOTEMPTY` for replacing a non-empty directory (or an ancestor of
    /// `from`); `ENOTDIR` for a directory onto a non-directory or a trailing
    /// `/` on a non-directory; `EISDIR` for a non-directory onto a directory.
    pub fn rename(
        &mut self,
        from_dir: Ino,
        from: &[u8],
        to_dir: Ino,
        to: &[u8],
        now: u64,
    ) -> Result<(), Errno> {
        let (src, dst) = self.two_paths(TwoPaths::Rename, (from_dir, from, false), (to_dir, to))?;
        // `two_paths` answered `EBUSY` for `.` and `..`.
        let (Last::Name(src_name), Last::Name(dst_name)) = (src.last.clone(), dst.last.clone())
        else {
            return Err(Errno::BUSY);
        };
        let src_ino = src.found()?;
        let src_is_dir = self.node(src_ino)?.is_dir();
        if (src.slash || dst.slash) && !src_is_dir {
            return Err(Errno::NOTDIR);
        }
        if src_is_dir && self.is_ancestor(src_ino, dst.parent) {
            return Err(Errno::INVAL);
        }
        if let Some(dst_ino) = dst.ino {
            let dst_node = self.node(dst_ino)?;
            if dst_node.is_dir() && self.is_ancestor(dst_ino, src.parent) {
                return Err(Errno::NOTEMPTY);
            }
            if dst_ino == src_ino {
                return Ok(());
            }
            match (&dst_node.kind, src_is_dir) {
                (Kind::Dir(_), false) => return Err(Errno::ISDIR),
                (Kind::Dir(d), true) if !d.entries.is_empty() => return Err(Errno::NOTEMPTY),
                (Kind::Dir(_), true) => {}
                (_, true) => return Err(Errno::NOTDIR),
                (_, false) => {}
            }
        } else if self.node(dst.parent)?.links == 0 {
            return Err(Errno::NOENT);
        }
        // Unlink the source, then the replaced entry, then link the source.
        let s = self.dir_mut(src.parent)?;
        s.entries.remove(&src_name);
        if src_is_dir {
            s.subdirs -= 1;
        }
        let d = self.dir_mut(dst.parent)?;
        let replaced = d.entries.insert(dst_name, src_ino);
        if src_is_dir {
            d.subdirs += 1;
            if replaced.is_some() {
                d.subdirs -= 1;
            }
            self.dir_mut(src_ino)?.parent = dst.parent;
        }
        self.modified(src.parent, now)?;
        self.modified(dst.parent, now)?;
        self.changed(src_ino, now)?;
        if let Some(old) = replaced {
            let node = self.node_mut(old)?;
            node.links = if node.is_dir() { 0 } else { node.links - 1 };
            self.changed(old, now)?;
            self.release(old);
        }
        Ok(())
    }

    /// Makes `to` (in `to_dir`) another hard link to the entry `from` names
    /// (in `from_dir`; a final symlink is followed only with `follow`, else
    /// the link is to the symlink itself).
    ///
    /// # Errors
    ///
    /// `ENOENT` if `from` is missing or `to` ends in `/`; `EEXIST` if `to`
    /// exists; `EPERM` if `from` is a directory; the path errors.
    pub fn link(
        &mut self,
        from_dir: Ino,
        from: &[u8],
        follow: bool,
        to_dir: Ino,
        to: &[u8],
        now: u64,
    ) -> Result<(), Errno> {
        let (src, dst) = self.two_paths(TwoPaths::Link, (from_dir, from, follow), (to_dir, to))?;
        let ino = src.found()?;
        if src.slash && !self.node(ino)?.is_dir() {
            return Err(Errno::NOTDIR);
        }
        if dst.ino.is_some() {
            return Err(Errno::EXIST);
        }
        let name = dst.name(Errno::EXIST)?.to_vec();
        if dst.slash {
            return Err(Errno::NOENT);
        }
        if self.node(ino)?.is_dir() {
            return Err(Errno::PERM);
        }
        if self.node(dst.parent)?.links == 0 {
            return Err(Errno::NOENT);
        }
        self.dir_mut(dst.parent)?.entries.insert(name, ino);
        self.modified(dst.parent, now)?;
        self.node_mut(ino)?.links += 1;
        self.changed(ino, now)?;
        Ok(())
    }

    /// Resolves the two paths of a [`rename`](Self::rename) or
    /// [`link`](Self::link) in stock wasmtime-wasi's order of checks (its
    /// p1 call → `wasi:filesystem` → cap-std's `rename`/`hard_link` → one
    /// `renameat`/`linkat` on Linux), written once here:
    ///
    /// 1. **The old path's directory, then the new path's** (cap-std opens
    ///    both parents before the one system call): an empty path is
    ///    `ENOENT`; a NUL byte (`EINVAL`) or `PATH_MAX` bytes
    ///    (`ENAMETOOLONG`) in the part before the last name come before
    ///    that part is walked; then the walk's own errors (`ENOENT`,
    ///    `ENOTDIR`, `ELOOP`, a directory name over `NAME_MAX`, an escape).
    ///    A trailing `/`: a rename drops it from the new path and keeps it
    ///    on the old name as a demand for a directory; a link reads it as a
    ///    final `.` (the whole path is then the directory).
    /// 2. **Both last names as C strings**, the old one first: a NUL byte
    ///    is `EINVAL` (before the kernel sees either path, so a NUL in the
    ///    new name wins over anything wrong with the old one).
    /// 3. **The names' lengths as the kernel copies them in**: `PATH_MAX`
    ///    bytes or more is `ENAMETOOLONG`, the old name's first, then (for
    ///    a rename, whose kernel code finds both parents first) the new
    ///    one's; a link's `linkat` looks the old path up before it copies
    ///    the new one, so there it comes with step 6.
    /// 4. **Rename only: `.` or `..`** as either last name is `EBUSY`,
    ///    before either name is looked up (so a 300-byte old name renamed
    ///    onto `dir/..` is `EBUSY`).
    /// 5. **The old name is looked up**: in a removed directory `ENOENT`
    ///    (whatever its length), over `NAME_MAX` `ENAMETOOLONG`, missing
    ///    `ENOENT`.
    /// 6. **The new name is looked up**: in a removed directory `ENOENT`,
    ///    over `NAME_MAX` `ENAMETOOLONG` (a link's `.` or `..` is the
    ///    operation's `EEXIST`).
    ///
    /// The operation's own checks come after.
    pub(crate) fn two_paths(
        &self,
        call: TwoPaths,
        (from_dir, from, follow): (Ino, &[u8], bool),
        (to_dir, to): (Ino, &[u8]),
    ) -> Result<(Resolved, Resolved), Errno> {
        let (src, dst) = match call {
            TwoPaths::Rename => (
                self.resolve_parent_first(from_dir, from, false, false)?,
                self.resolve_parent_first(to_dir, trim_slashes(to), false, false)?,
            ),
            TwoPaths::Link => (
                self.resolve_parent_first(from_dir, from, follow, true)?,
                self.resolve_parent_first(to_dir, to, false, true)?,
            ),
        };
        let name = |r: &Resolved| match &r.last {
            Last::Name(name) => name.clone(),
            Last::Dot | Last::DotDot => Vec::new(),
        };
        let (old, new) = (name(&src), name(&dst));
        if old.contains(&0) || new.contains(&0) {
            return Err(Errno::INVAL);
        }
        let too_long = |name: &[u8]| name.len() >= PATH_MAX;
        if too_long(&old) || (call == TwoPaths::Rename && too_long(&new)) {
            return Err(Errno::NAMETOOLONG);
        }
        let is_name = |r: &Resolved| matches!(r.last, Last::Name(_));
        if call == TwoPaths::Rename && !(is_name(&src) && is_name(&dst)) {
            return Err(Errno::BUSY);
        }
        if old.len() > NAME_MAX && !src.removed {
            return Err(Errno::NAMETOOLONG);
        }
        src.found()?;
        if dst.removed && matches!(dst.last, Last::Name(_)) {
            return Err(Errno::NOENT);
        }
        if new.len() > NAME_MAX {
            return Err(Errno::NAMETOOLONG);
        }
        Ok((src, dst))
    }

    /// Creates symlink `path` holding `target` (stored as given; it may
    /// dangle, and is checked only when followed). Returns its inode.
    ///
    /// # Errors
    ///
    /// `ENOENT` for an empty target or a `path` ending in `/`;
    /// `ENAMETOOLONG` for a target of 4096 bytes or more; `EEXIST`;
    /// `ENOSPC`; the path errors.
    pub fn symlink(
        &mut self,
        target: &[u8],
        dir: Ino,
        path: &[u8],
        now: u64,
    ) -> Result<Ino, Errno> {
        if target.first() == Some(&b'/') {
            return Err(ESCAPE);
        }
        if target.is_empty() {
            // Found once the parent is open and the new name passed to the
            // host (which refuses a NUL in it), before its length is checked.
            let r = self.resolve_parent_first(dir, path, false, true)?;
            if matches!(&r.last, Last::Name(name) if name.contains(&0)) {
                return Err(Errno::INVAL);
            }
            return Err(Errno::NOENT);
        }
        let r = self.resolve_parent_first(dir, path, false, true)?;
        // Both strings become C strings before `symlinkat` (a NUL byte in
        // either is `EINVAL`), then the kernel copies the target in.
        let name_has_nul = matches!(&r.last, Last::Name(name) if name.contains(&0));
        if target.contains(&0) || name_has_nul {
            return Err(Errno::INVAL);
        }
        if target.len() >= PATH_MAX {
            return Err(Errno::NAMETOOLONG);
        }
        if r.ino.is_some() {
            return Err(Errno::EXIST);
        }
        let name = r.name(Errno::EXIST)?.to_vec();
        if r.slash {
            return Err(Errno::NOENT);
        }
        self.create_entry(r.parent, name, Kind::Symlink(target.into()), now)
    }

    /// The target of symlink `path` (a final symlink is read, not followed).
    ///
    /// # Errors
    ///
    /// `ENOENT`; `EINVAL` if it is not a symlink; the path errors.
    pub fn readlink(&self, dir: Ino, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let r = self.resolve_parent_first(dir, path, false, true)?;
        let ino = r.found()?;
        match &self.node(ino)?.kind {
            // Stock wasmtime-wasi (cap-std) refuses to show an absolute target.
            Kind::Symlink(target) if target.first() == Some(&b'/') => Err(ESCAPE),
            Kind::Symlink(target) => Ok(target.to_vec()),
            _ => Err(Errno::INVAL),
        }
    }
}

/// Which call [`FsTree::two_paths`] checks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TwoPaths {
    /// `path_rename`.
    Rename,
    /// `path_link`.
    Link,
}

/// `path` without trailing `/` and `/.` components (cap-std drops them
/// before `symlink_metadata`); a path of nothing else is kept.
fn trim_final_dots(mut path: &[u8]) -> &[u8] {
    loop {
        let trimmed = if let Some(p) = path.strip_suffix(b"/") {
            p
        } else if let Some(p) = path.strip_suffix(b"/.") {
            p
        } else {
            return path;
        };
        if trimmed.is_empty() {
            return path;
        }
        path = trimmed;
    }
}

/// `path` without trailing slashes (a path of only slashes is kept).
fn trim_slashes(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b != b'/') {
        Some(i) => &path[..=i],
        None => path,
    }
}
