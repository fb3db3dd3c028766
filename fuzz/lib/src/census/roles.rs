//! Each preview1 function's parameters and every class each can be put in.

use super::paths::PATH_CLASSES;
use super::values::INT_CLASSES;

/// What a parameter is (witx preview1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A descriptor.
    Fd,
    /// A directory descriptor (`path_*`).
    Dir,
    /// `lookupflags`.
    Lookup,
    /// A path's pointer (its length is the next parameter).
    Path,
    /// The length of the pointer before it.
    Len,
    /// `oflags`.
    Oflags,
    /// `rights`.
    Rights,
    /// `fdflags`.
    Fdflags,
    /// `fstflags`.
    Fst,
    /// `whence`.
    Whence,
    /// `advice`.
    Advice,
    /// `clockid`.
    Clock,
    /// A file offset (`filedelta` for `fd_seek`).
    Offset,
    /// A size or length (`filesize`).
    Size,
    /// A timestamp (or a clock's precision).
    Time,
    /// A `dircookie`.
    Cookie,
    /// An iovec array's pointer (its count is the next parameter).
    Iovs,
    /// A byte buffer's pointer (its length is the next parameter).
    Buf,
    /// A result pointer.
    Out,
    /// `poll_oneoff`'s subscriptions (their count two parameters on).
    Subs,
    /// `poll_oneoff`'s subscription count (classified with [`Role::Subs`]).
    Count,
    /// A signal.
    Signal,
    /// An exit code.
    Exit,
    /// `riflags`.
    Riflags,
    /// `siflags`.
    Siflags,
    /// `sdflags`.
    Sdflags,
}

use Role::*;

/// Every preview1 function's parameters (the order of
/// [`crate::P1_FUNCTIONS`]).
const SIGNATURES: &[(&str, &[Role])] = &[
    ("args_get", &[Out, Out]),
    ("args_sizes_get", &[Out, Out]),
    ("environ_get", &[Out, Out]),
    ("environ_sizes_get", &[Out, Out]),
    ("clock_res_get", &[Clock, Out]),
    ("clock_time_get", &[Clock, Time, Out]),
    ("fd_advise", &[Fd, Offset, Size, Advice]),
    ("fd_allocate", &[Fd, Offset, Size]),
    ("fd_close", &[Fd]),
    ("fd_datasync", &[Fd]),
    ("fd_fdstat_get", &[Fd, Out]),
    ("fd_fdstat_set_flags", &[Fd, Fdflags]),
    ("fd_fdstat_set_rights", &[Fd, Rights, Rights]),
    ("fd_filestat_get", &[Fd, Out]),
    ("fd_filestat_set_size", &[Fd, Size]),
    ("fd_filestat_set_times", &[Fd, Time, Time, Fst]),
    ("fd_pread", &[Fd, Iovs, Len, Offset, Out]),
    ("fd_prestat_get", &[Fd, Out]),
    ("fd_prestat_dir_name", &[Fd, Buf, Len]),
    ("fd_pwrite", &[Fd, Iovs, Len, Offset, Out]),
    ("fd_read", &[Fd, Iovs, Len, Out]),
    ("fd_readdir", &[Fd, Buf, Len, Cookie, Out]),
    ("fd_renumber", &[Fd, Fd]),
    ("fd_seek", &[Fd, Offset, Whence, Out]),
    ("fd_sync", &[Fd]),
    ("fd_tell", &[Fd, Out]),
    ("fd_write", &[Fd, Iovs, Len, Out]),
    ("path_create_directory", &[Dir, Path, Len]),
    ("path_filestat_get", &[Dir, Lookup, Path, Len, Out]),
    (
        "path_filestat_set_times",
        &[Dir, Lookup, Path, Len, Time, Time, Fst],
    ),
    ("path_link", &[Dir, Lookup, Path, Len, Dir, Path, Len]),
    (
        "path_open",
        &[Dir, Lookup, Path, Len, Oflags, Rights, Rights, Fdflags, Out],
    ),
    ("path_readlink", &[Dir, Path, Len, Buf, Len, Out]),
    ("path_remove_directory", &[Dir, Path, Len]),
    ("path_rename", &[Dir, Path, Len, Dir, Path, Len]),
    ("path_symlink", &[Path, Len, Dir, Path, Len]),
    ("path_unlink_file", &[Dir, Path, Len]),
    ("poll_oneoff", &[Subs, Out, Count, Out]),
    ("proc_exit", &[Exit]),
    ("proc_raise", &[Signal]),
    ("sched_yield", &[]),
    ("random_get", &[Buf, Len]),
    ("sock_accept", &[Fd, Fdflags, Out]),
    ("sock_recv", &[Fd, Iovs, Len, Riflags, Out, Out]),
    ("sock_send", &[Fd, Iovs, Len, Siflags, Out]),
    ("sock_shutdown", &[Fd, Sdflags]),
];

/// The parameters of `function`, with a label each (a role's name, `#2`
/// for its second parameter of that role).
pub fn parameters(function: &str) -> Vec<(String, Role)> {
    let roles = SIGNATURES
        .iter()
        .find(|(name, _)| *name == function)
        .map_or(&[][..], |(_, roles)| roles);
    let mut out: Vec<(String, Role)> = Vec::new();
    for &role in roles {
        let base = format!("{role:?}").to_lowercase();
        let label = match out.iter().filter(|(_, r)| *r == role).count() {
            0 => base,
            n => format!("{base}#{}", n + 1),
        };
        out.push((label, role));
    }
    out
}

/// Every class a parameter of `role` can be put in (empty for roles
/// classified with the one before them).
pub fn universe(role: Role) -> &'static [&'static str] {
    match role {
        Fd | Dir => &[
            "stdio",
            "preopen",
            "file",
            "dir",
            "closed",
            "renumbered",
            "never opened",
        ],
        Lookup => &["0", "FOLLOW", "invalid"],
        Path => &PATH_CLASSES,
        Oflags => &[
            "0",
            "CREAT",
            "DIRECTORY",
            "EXCL",
            "TRUNC",
            "CREAT|EXCL",
            "CREAT|TRUNC",
            "DIRECTORY|CREAT",
            "invalid",
        ],
        Rights => &[
            "none",
            "FD_READ only",
            "FD_WRITE only",
            "FD_READ|FD_WRITE",
            "other bits",
            "all",
            "invalid",
        ],
        Fdflags => &[
            "0",
            "APPEND",
            "DSYNC",
            "NONBLOCK",
            "RSYNC",
            "SYNC",
            "APPEND|NONBLOCK",
            "invalid",
        ],
        Fst => &[
            "0",
            "ATIM",
            "ATIM_NOW",
            "MTIM",
            "MTIM_NOW",
            "ATIM|MTIM",
            "ATIM_NOW|MTIM_NOW",
            "ATIM|ATIM_NOW",
            "MTIM|MTIM_NOW",
            "invalid",
        ],
        Whence => &["SET", "CUR", "END", "invalid"],
        Advice => &[
            "NORMAL",
            "SEQUENTIAL",
            "RANDOM",
            "WILLNEED",
            "DONTNEED",
            "NOREUSE",
            "invalid",
        ],
        Clock => &[
            "REALTIME",
            "MONOTONIC",
            "PROCESS_CPUTIME",
            "THREAD_CPUTIME",
            "invalid",
        ],
        Offset | Size | Time | Cookie => &INT_CLASSES,
        Iovs => &[
            "no iovecs",
            "1 iovec",
            "many iovecs",
            "huge count",
            "empty buffers",
            "buffer out of bounds",
            "array out of bounds",
            "overlapping",
        ],
        Buf => &[
            "empty",
            "exact",
            "one short",
            "huge",
            "out of bounds",
            "overlapping",
        ],
        Out => &["in bounds", "out of bounds", "misaligned"],
        Subs => &[
            "clock relative",
            "clock absolute",
            "fd_read",
            "fd_write",
            "several",
            "none",
            "out of bounds",
            "invalid tag",
        ],
        Signal => &["0", "valid", "invalid"],
        Exit => &["0", "nonzero"],
        Riflags => &["0", "RECV_PEEK", "RECV_WAITALL", "invalid"],
        Siflags => &["0", "invalid"],
        Sdflags => &["0", "RD", "WR", "RD|WR", "invalid"],
        Len | Count => &[],
    }
}
