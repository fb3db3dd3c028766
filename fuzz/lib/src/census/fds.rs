//! Descriptor kinds along a call sequence.

use super::Call;
use super::memory::Image;
use super::paths::tree_kind;
use std::collections::BTreeMap;

/// A descriptor's kind, as the calls before it leave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Stdio,
    Preopen,
    File,
    Dir,
    Closed,
    Renumbered,
}

/// Descriptor kinds along a call sequence: stdio, the preopens, what
/// `path_open` opens (the lowest free number, as if every open of an entry
/// of the tree, or a create, succeeded), closed and renumbered ones.
pub struct Fds {
    kinds: BTreeMap<u32, Kind>,
    renumbered_dirs: Vec<u32>,
}

impl Fds {
    /// Stdio and `preopens` (directories).
    pub fn new(preopens: &[u32]) -> Fds {
        let mut kinds: BTreeMap<u32, Kind> = (0..3).map(|fd| (fd, Kind::Stdio)).collect();
        kinds.extend(preopens.iter().map(|&fd| (fd, Kind::Preopen)));
        Fds {
            kinds,
            renumbered_dirs: Vec::new(),
        }
    }

    fn kind(&self, fd: i64) -> Option<Kind> {
        self.kinds.get(&(fd as u32)).copied()
    }

    fn is_dir(&self, fd: i64) -> bool {
        matches!(self.kind(fd), Some(Kind::Preopen | Kind::Dir))
            || (self.kind(fd) == Some(Kind::Renumbered)
                && self.renumbered_dirs.contains(&(fd as u32)))
    }

    /// The class of descriptor `fd`.
    pub fn class(&self, fd: i64) -> &'static str {
        match self.kind(fd) {
            Some(Kind::Stdio) => "stdio",
            Some(Kind::Preopen) => "preopen",
            Some(Kind::File) => "file",
            Some(Kind::Dir) => "dir",
            Some(Kind::Closed) => "closed",
            Some(Kind::Renumbered) => "renumbered",
            None => "never opened",
        }
    }

    /// Follows `call`; returns the descriptor a `path_open` is taken to
    /// return.
    pub fn after(&mut self, call: &Call, image: &Image) -> Option<u32> {
        let a = |i: usize| call.args.get(i).copied().unwrap_or(0);
        match call.function {
            "path_open" => {
                let path = image.read(a(2), a(3))?;
                let oflags = a(4) as u32;
                let kind = match tree_kind(path) {
                    Some("dir") => Kind::Dir,
                    Some(_) if oflags & 2 == 0 => Kind::File,
                    None if oflags & 3 == 1 && !path.is_empty() => Kind::File,
                    _ => return None,
                };
                if !self.is_dir(a(0)) {
                    return None;
                }
                let fd = (3..)
                    .find(|fd| matches!(self.kinds.get(fd), None | Some(Kind::Closed)))
                    .unwrap_or(3);
                self.kinds.insert(fd, kind);
                Some(fd)
            }
            "fd_close" if self.kind(a(0)).is_some_and(|k| k != Kind::Closed) => {
                self.kinds.insert(a(0) as u32, Kind::Closed);
                None
            }
            "fd_renumber" => {
                let (from, to) = (a(0) as u32, a(1) as u32);
                let live = |k: Option<&Kind>| k.is_some_and(|k| *k != Kind::Closed);
                if from != to && live(self.kinds.get(&from)) && live(self.kinds.get(&to)) {
                    if self.is_dir(a(0)) {
                        self.renumbered_dirs.push(to);
                    }
                    self.kinds.insert(to, Kind::Renumbered);
                    self.kinds.insert(from, Kind::Closed);
                }
                None
            }
            _ => None,
        }
    }
}
