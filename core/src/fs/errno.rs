//! Errors of filesystem operations, as preview1 errno values.

use std::fmt;

/// A preview1 errno (the same numbers in preview0 and preview1; preview2's
/// `error-code` names map one to one).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx_core::fs::Errno;
/// assert_eq!(Errno::NOENT.0, 44);
/// assert_eq!(Errno::NOENT.to_string(), "errno 44 (NOENT)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(pub u16);

/// The errno for a path that would leave its starting directory (by `..`, an
/// absolute path or a symlink): `EPERM`, as stock wasmtime-wasi reports
/// cap-std's escape error.
pub const ESCAPE: Errno = Errno::PERM;

macro_rules! errnos {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {
        impl Errno {
            $($(#[$doc])* pub const $name: Errno = Errno($value);)*

            /// The errno's short name (`"NOENT"`), or `None` for one this
            /// module never returns.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    /// Permission denied.
    ACCES = 2;
    /// Bad file descriptor: the inode is gone.
    BADF = 8;
    /// Device or resource busy (`rename` of `.` or `..`).
    BUSY = 10;
    /// File exists.
    EXIST = 20;
    /// File too large.
    FBIG = 22;
    /// Illegal byte sequence (a name that is not UTF-8, where one must be).
    ILSEQ = 25;
    /// Invalid argument.
    INVAL = 28;
    /// Is a directory.
    ISDIR = 31;
    /// Too many levels of symbolic links.
    LOOP = 32;
    /// Filename too long.
    NAMETOOLONG = 37;
    /// No such file or directory.
    NOENT = 44;
    /// No space left on device: a [`Limits`](super::Limits) limit.
    NOSPC = 51;
    /// Not a directory.
    NOTDIR = 54;
    /// Directory not empty.
    NOTEMPTY = 55;
    /// Operation not permitted (also [`ESCAPE`]).
    PERM = 63;
    /// Cross-device link.
    XDEV = 75;
    /// Capabilities insufficient.
    NOTCAPABLE = 76;
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "errno {} ({name})", self.0),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl std::error::Error for Errno {}
