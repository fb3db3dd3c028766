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
}

impl Resolved {
    /// The name a new entry would get, or why there can be none.
    pub(crate) fn name(&self, otherwise: Errno) -> Result<&[u8], Errno> {
        match &self.last {
            Last::Name(name) => Ok(name),
            _ => Err(otherwise),
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
        self.resolve_with(start, path, follow_last, false)
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
    ) -> Result<Resolved, Errno> {
        self.dir(start)?;
        if path.is_empty() {
            return Err(Errno::NOENT);
        }
        if path.len() >= PATH_MAX {
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
        let mut links = 0;
        while let Some(comp) = todo.pop() {
            let last = todo.is_empty();
            let cur = *stack.last().expect("never empty");
            if comp.len() > NAME_MAX {
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
        let ino = r.ino.ok_or(Errno::NOENT)?;
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
    }
}
