//! Path resolution: from a starting directory, never above it.

use super::errno::{ESCAPE, Errno};
use super::node::Kind;
use super::tree::FsTree;
use super::types::Ino;
use super::{MAX_SYMLINKS, NAME_MAX, PATH_MAX};

/// The last component of a resolved path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Last {
    Name(Vec<u8>),
    Dot,
    DotDot,
}

/// Where a path leads.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    /// The directory holding the last component (for `.`/`..`: the directory
    /// the component was read in).
    pub(crate) parent: Ino,
    pub(crate) last: Last,
    /// The entry, if it exists.
    pub(crate) ino: Option<Ino>,
    /// The path (or the symlink it ended in) had a trailing `/`.
    pub(crate) slash: bool,
    /// The last name's directory was removed (it is open, but has no
    /// link): as Linux finds a removed directory before it reads a name's
    /// length, looking a name up there is `ENOENT` however long it is.
    pub(crate) removed: bool,
}

impl Resolved {
    /// The name a new entry would get, or why there can be none (`otherwise`
    /// for `.` and `..`, `EINVAL` for a NUL byte, `ENAMETOOLONG` for a name
    /// over [`NAME_MAX`]).
    pub(crate) fn name(&self, otherwise: Errno) -> Result<&[u8], Errno> {
        match &self.last {
            Last::Name(name) if name.contains(&0) => Err(Errno::INVAL),
            Last::Name(_) if self.removed => Err(Errno::NOENT),
            Last::Name(name) if name.len() > NAME_MAX => Err(Errno::NAMETOOLONG),
            Last::Name(name) => Ok(name),
            _ => Err(otherwise),
        }
    }

    /// The entry, or why there is none: `EINVAL` for a name with a NUL
    /// byte, `ENAMETOOLONG` for one over [`NAME_MAX`], else `ENOENT`.
    pub(crate) fn found(&self) -> Result<Ino, Errno> {
        match (&self.last, self.ino) {
            (_, Some(ino)) => Ok(ino),
            (Last::Name(name), None) if name.contains(&0) => Err(Errno::INVAL),
            (Last::Name(_), None) if self.removed => Err(Errno::NOENT),
            (Last::Name(name), None) if name.len() > NAME_MAX => Err(Errno::NAMETOOLONG),
            _ => Err(Errno::NOENT),
        }
    }
}

fn split(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

impl FsTree {
    /// Resolves `path` from directory `start`. Intermediate symlinks are
    /// always followed; the last one only with `follow_last`.
    pub(crate) fn resolve(
        &self,
        start: Ino,
        path: &[u8],
        follow_last: bool,
    ) -> Result<Resolved, Errno> {
        self.resolve_with(start, path, follow_last, false, None)
    }

    /// [`resolve`](Self::resolve) for the calls that stock answers by
    /// opening the parent directory first (create, remove, rename, link,
    /// symlink, readlink), as cap-std does: a NUL in the last component is
    /// found only when the walk reaches it. With `slash_is_dot` (remove,
    /// unlink, symlink, link's new name, readlink) a trailing `/` reads as a
    /// final `.`: `dir/` names `dir` itself as `.`, and a final symlink
    /// before it is followed.
    pub(crate) fn resolve_parent_first(
        &self,
        start: Ino,
        path: &[u8],
        follow_last: bool,
        slash_is_dot: bool,
    ) -> Result<Resolved, Errno> {
        self.resolve_with(start, path, follow_last, false, Some(slash_is_dot))
    }

    /// [`resolve`](Self::resolve); with `stop_at_slash`, a last component
    /// with a trailing `/` is returned as it is, not followed (Linux's
    /// `O_CREAT` checks for that before following a final symlink).
    pub(crate) fn resolve_with(
        &self,
        start: Ino,
        path: &[u8],
        follow_last: bool,
        stop_at_slash: bool,
        parent_first: Option<bool>,
    ) -> Result<Resolved, Errno> {
        self.dir(start)?;
        if path.is_empty() {
            return Err(Errno::NOENT);
        }
        // No host call can take a NUL (Rust's `CString` refuses it): stock
        // checks the whole path before resolving it, or only the part before
        // the last component for the calls that open the parent first
        // (that component then fails where the walk reaches it).
        // A trailing `/` is a final `.` for those calls (as cap-std reads
        // it), so the whole path is then the parent's.
        let dot = parent_first == Some(true) && path.ends_with(b"/");
        let checked = if parent_first.is_some() && !dot {
            parent_part(path)
        } else {
            path
        };
        if checked.contains(&0) {
            return Err(Errno::INVAL);
        }
        // Then the same part's length, as the kernel copies the C string
        // in: for the calls that open the parent first, a last name of
        // `PATH_MAX` bytes or more is the operation's (see
        // [`Resolved::found`] and [`FsTree::two_paths`]).
        if checked.len() >= PATH_MAX {
            return Err(Errno::NAMETOOLONG);
        }
        if path[0] == b'/' {
            return Err(ESCAPE);
        }
        // Directories walked through; `..` pops, never past `start`.
        let mut stack = vec![start];
        // Components still to walk, the next one last.
        let mut todo: Vec<Vec<u8>> = split(path).rev().map(<[u8]>::to_vec).collect();
        let mut slash = path.ends_with(b"/");
        if dot {
            todo.insert(0, b".".to_vec());
            slash = false;
        }
        let mut links = 0;
        // Only the walk's start can be a removed directory: one has no name
        // to reach it by, and `..` never leaves the start.
        let start_removed = self.node(start)?.links == 0;
        while let Some(comp) = todo.pop() {
            let last = todo.is_empty();
            let cur = *stack.last().expect("never empty");
            if comp.contains(&0) && !last {
                // No host call can take it (Rust's `CString` refuses it),
                // so it fails where the walk reaches it; in the last name,
                // when the operation uses it (see [`Resolved::found`]).
                return Err(Errno::INVAL);
            }
            // The last name's length is checked by the operation, once its
            // directory is found (Linux answers `EISDIR` for `O_CREAT` with a
            // trailing `/`, say, before `ENAMETOOLONG`): see [`Resolved::found`].
            // In a removed directory no name is found, whatever its length.
            let removed = start_removed && cur == start;
            if comp.len() > NAME_MAX && !last && !removed {
                return Err(Errno::NAMETOOLONG);
            }
            match comp.as_slice() {
                b"." => {
                    if last {
                        return Ok(found(cur, Last::Dot, cur, slash));
                    }
                }
                b".." => {
                    if stack.len() == 1 {
                        return Err(ESCAPE);
                    }
                    stack.pop();
                    if last {
                        let up = *stack.last().expect("never empty");
                        return Ok(found(cur, Last::DotDot, up, slash));
                    }
                }
                _ => {
                    let Some(&ino) = self.dir(cur)?.entries.get(&comp) else {
                        if last {
                            return Ok(Resolved {
                                parent: cur,
                                last: Last::Name(comp),
                                ino: None,
                                slash,
                                removed,
                            });
                        }
                        return Err(Errno::NOENT);
                    };
                    if last && slash && stop_at_slash {
                        return Ok(found(cur, Last::Name(comp), ino, slash));
                    }
                    match &self.node(ino)?.kind {
                        Kind::Symlink(target) if !last || follow_last => {
                            links += 1;
                            if links > MAX_SYMLINKS {
                                return Err(Errno::LOOP);
                            }
                            if target.is_empty() {
                                return Err(Errno::NOENT);
                            }
                            if target.len() >= PATH_MAX {
                                return Err(Errno::NAMETOOLONG);
                            }
                            if target[0] == b'/' {
                                return Err(ESCAPE);
                            }
                            if last {
                                slash |= target.ends_with(b"/");
                            }
                            todo.extend(split(target).rev().map(<[u8]>::to_vec));
                        }
                        Kind::Dir(_) if !last => stack.push(ino),
                        _ if last => return Ok(found(cur, Last::Name(comp), ino, slash)),
                        _ => return Err(Errno::NOTDIR),
                    }
                }
            }
        }
        unreachable!("a non-empty relative path has a last component")
    }

    /// The inode `path` names from `start` (following a final symlink when
    /// `follow` or when the path ends in `/`).
    pub(crate) fn lookup(&self, start: Ino, path: &[u8], follow: bool) -> Result<Ino, Errno> {
        let r = self.resolve(start, path, follow || path.ends_with(b"/"))?;
        let ino = r.found()?;
        if r.slash && !self.node(ino)?.is_dir() {
            return Err(Errno::NOTDIR);
        }
        Ok(ino)
    }

    /// Opens the directory holding the last component of `path` as cap-std
    /// does before a no-follow `utimensat` that changes nothing, for its
    /// errors only: a trailing `/` or `/.` makes the whole path that
    /// directory (so `file/` is `ENOTDIR`); the last name itself reaches
    /// the host only as a C string (a NUL byte is `EINVAL`), and the kernel
    /// returns before looking it up, so its length and existence do not
    /// matter (a 300-byte name is no error).
    pub(crate) fn check_parent(&self, start: Ino, path: &[u8]) -> Result<(), Errno> {
        let r = self.resolve_parent_first(start, path, false, true)?;
        match r.last {
            Last::Name(name) if name.contains(&0) => Err(Errno::INVAL),
            _ => Ok(()),
        }
    }

    /// [`lookup`](Self::lookup) for the calls that open the parent first.
    pub(crate) fn lookup_parent_first(
        &self,
        start: Ino,
        path: &[u8],
        follow: bool,
    ) -> Result<Ino, Errno> {
        let r = self.resolve_parent_first(start, path, follow, true)?;
        let ino = r.found()?;
        if r.slash && !self.node(ino)?.is_dir() {
            return Err(Errno::NOTDIR);
        }
        Ok(ino)
    }

    /// Whether `ancestor` is `ino` or one of its ancestors.
    pub(crate) fn is_ancestor(&self, ancestor: Ino, mut ino: Ino) -> bool {
        for _ in 0..=self.table.entries {
            if ino == ancestor {
                return true;
            }
            match self.dir(ino) {
                Ok(dir) if dir.parent != ino => ino = dir.parent,
                _ => return false,
            }
        }
        false
    }
}

fn found(parent: Ino, last: Last, ino: Ino, slash: bool) -> Resolved {
    Resolved {
        parent,
        last,
        ino: Some(ino),
        slash,
        removed: false,
    }
}

/// The part of `path` before its last component (and the slashes after it).
fn parent_part(path: &[u8]) -> &[u8] {
    let end = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let start = path[..end]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    &path[..start]
}
