//! Classes of the component targets' operations: `p2_script`'s timer and
//! random lines ([`TimerOp`]) and `p2_fs`'s filesystem lines
//! ([`StdFsOp`]). A component target drives a guest by a script, so the
//! census counts per script operation (each reaches the interface functions
//! its guest's table gives: `p2_timers`' for the first, `fs_script`'s
//! `std::fs` calls for the second) the classes of the values the line
//! passes.
//!
//! Each `*_classes` function gives the classes of one operation as
//! `label:class`, and each `*_universe` every class that can apply to an
//! operation of that name, for [`Census::check`](super::Census::check).

use super::values::{INT_CLASSES, int_class};
use proptests::fs::model::Entry;
use proptests::std_fs::StdFsOp;
use proptests::timers::{Timer, TimerOp};
use std::collections::BTreeMap;

/// `p2_script`'s operations, by keyword.
pub const TIMER_OPS: [&str; 11] = [
    "now",
    "wall",
    "res",
    "sleep",
    "poll",
    "ready",
    "random",
    "u64",
    "insecure",
    "insecure-u64",
    "insecure-seed",
];

/// Classes of a byte count asked of `wasi:random`.
const LEN_CLASSES: [&str; 5] = ["0", "1", "small", "1024", "over the limit"];

/// Classes of a `poll` line's timers, besides each timer's value.
const POLL_CLASSES: [&str; 8] = [
    "count:empty",
    "count:1",
    "count:2-8",
    "count:9-64",
    "kinds:durations",
    "kinds:instants",
    "kinds:mixed",
    "values:repeated",
];

/// Every class that can apply to the `p2_script` operation `op`.
pub fn timer_universe(op: &str) -> Vec<String> {
    let ints = |label: &str| -> Vec<String> {
        INT_CLASSES
            .iter()
            .map(|class| format!("{label}:{class}"))
            .collect()
    };
    match op {
        "sleep" => ints("ns"),
        "poll" => POLL_CLASSES
            .iter()
            .map(|c| c.to_string())
            .chain(ints("duration"))
            .chain(ints("instant"))
            .collect(),
        "ready" => [ints("duration"), ints("instant")].concat(),
        "random" | "insecure" => LEN_CLASSES.iter().map(|c| format!("len:{c}")).collect(),
        _ => Vec::new(),
    }
}

/// The class of a timer's value, under its kind's label.
fn timer_class(timer: &Timer) -> String {
    match *timer {
        Timer::Duration(ns) => format!("duration:{}", int_class(ns as i64)),
        Timer::Instant(ns) => format!("instant:{}", int_class(ns as i64)),
    }
}

/// The class of a random request of `len` bytes (the limit: stock's 64 MiB).
fn len_class(len: u32) -> &'static str {
    match len {
        0 => "0",
        1 => "1",
        1024 => "1024",
        _ if u64::from(len) > 64 << 20 => "over the limit",
        _ => "small",
    }
}

/// The keyword and classes of one `p2_script` operation.
pub fn timer_classes(op: &TimerOp) -> (&'static str, Vec<String>) {
    let classes = match op {
        TimerOp::Sleep(ns) => vec![format!("ns:{}", int_class(*ns as i64))],
        TimerOp::Poll(timers) => {
            let count = match timers.len() {
                0 => "count:empty",
                1 => "count:1",
                2..=8 => "count:2-8",
                _ => "count:9-64",
            };
            let durations = timers
                .iter()
                .filter(|t| matches!(t, Timer::Duration(_)))
                .count();
            let kinds = match durations {
                _ if durations == timers.len() => "kinds:durations",
                0 => "kinds:instants",
                _ => "kinds:mixed",
            };
            let mut values: Vec<(bool, u64)> = timers
                .iter()
                .map(|t| match *t {
                    Timer::Duration(ns) => (false, ns),
                    Timer::Instant(ns) => (true, ns),
                })
                .collect();
            values.sort_unstable();
            values.dedup();
            let mut out = vec![count.to_string(), kinds.to_string()];
            if values.len() < timers.len() {
                out.push("values:repeated".to_string());
            }
            out.extend(timers.iter().map(timer_class));
            out
        }
        TimerOp::Ready(timer) => vec![timer_class(timer)],
        TimerOp::Random(n) | TimerOp::Insecure(n) => vec![format!("len:{}", len_class(*n))],
        _ => Vec::new(),
    };
    (op.name(), classes)
}

/// `p2_fs`'s operations, by keyword.
pub const FS_OPS: [&str; 18] = [
    "write", "append", "pwrite", "read", "pread", "truncate", "mkdir", "rmdir", "rm", "mv", "ln",
    "symlink", "readlink", "stat", "lstat", "ls", "touch", "sleep",
];

/// Shapes of a script path (the guest's absolute path), and what it names
/// in the initial tree.
const PATH_CLASSES: [&str; 18] = [
    "empty",
    "root",
    "a/..",
    "escaping ..",
    "trailing /",
    "trailing /.",
    "//",
    "255-byte name",
    "256-byte name",
    "4096-byte name",
    "NUL",
    "non-UTF-8",
    "names a file",
    "names a dir",
    "names a symlink",
    "through a symlink",
    "under a file",
    "names nothing",
];

/// Classes of a symlink's target.
const TARGET_CLASSES: [&str; 4] = ["relative", "nested", "escaping ..", "absolute"];

/// Classes of written text.
const TEXT_CLASSES: [&str; 3] = ["empty", "short", "over 4 KiB"];

/// Classes of a small count (a length, a size, seconds, nanoseconds).
const SMALL_CLASSES: [&str; 4] = ["0", "1", "small", "other"];

/// Every class that can apply to the `p2_fs` operation `op`.
pub fn fs_universe(op: &str) -> Vec<String> {
    let with = |label: &str, classes: &[&str]| -> Vec<String> {
        classes.iter().map(|c| format!("{label}:{c}")).collect()
    };
    let path = with("path", &PATH_CLASSES);
    match op {
        "write" | "append" => [path, with("text", &TEXT_CLASSES)].concat(),
        "pwrite" => [
            path,
            with("offset", &INT_CLASSES),
            with("offset", &["small"]),
            with("text", &TEXT_CLASSES),
        ]
        .concat(),
        "pread" => [
            path,
            with("offset", &INT_CLASSES),
            with("offset", &["small"]),
            with("len", &SMALL_CLASSES[..3]),
        ]
        .concat(),
        "truncate" => [path, with("size", &SMALL_CLASSES[..3])].concat(),
        "mv" | "ln" => [path, with("path#2", &PATH_CLASSES)].concat(),
        "symlink" => [with("target", &TARGET_CLASSES), path].concat(),
        "touch" => [path, with("seconds", &SMALL_CLASSES)].concat(),
        "sleep" => with("ns", &SMALL_CLASSES),
        _ => path,
    }
}

/// What `path` names in `tree` (symlinks followed once, at the top).
fn path_kind(path: &str, tree: &BTreeMap<String, Entry>) -> &'static str {
    let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let Some((first, rest)) = parts.split_first() else {
        return "names a dir";
    };
    match (tree.get(*first), rest) {
        (Some(Entry::File(_)), []) => "names a file",
        (Some(Entry::Dir(_)), []) => "names a dir",
        (Some(Entry::Symlink(_)), []) => "names a symlink",
        (Some(Entry::Symlink(_)), _) => "through a symlink",
        (Some(Entry::File(_)), _) => "under a file",
        (Some(Entry::Dir(entries)), [name]) => match entries.get(*name) {
            Some(Entry::File(_)) => "names a file",
            Some(Entry::Dir(_)) => "names a dir",
            Some(Entry::Symlink(_)) => "names a symlink",
            None => "names nothing",
        },
        _ => "names nothing",
    }
}

/// The shapes of `path` and what it names in `tree` ([`PATH_CLASSES`]).
fn path_classes(path: &str, tree: &BTreeMap<String, Entry>) -> Vec<&'static str> {
    let parts: Vec<&str> = path.split('/').collect();
    let mut depth = 0i32;
    let mut escapes = false;
    for part in &parts {
        match *part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        escapes |= depth < 0;
    }
    let checks = [
        ("empty", path.is_empty()),
        ("root", path == "/"),
        (
            "a/..",
            parts
                .windows(2)
                .any(|w| !matches!(w[0], "" | "." | "..") && w[1] == ".."),
        ),
        ("escaping ..", escapes),
        ("trailing /", path.len() > 1 && path.ends_with('/')),
        ("trailing /.", path.len() > 2 && path.ends_with("/.")),
        ("//", path.contains("//")),
        ("255-byte name", parts.iter().any(|c| c.len() == 255)),
        ("256-byte name", parts.iter().any(|c| c.len() == 256)),
        ("4096-byte name", parts.iter().any(|c| c.len() >= 4096)),
        ("NUL", path.contains('\0')),
    ];
    let mut out: Vec<&'static str> = checks
        .iter()
        .filter(|(_, yes)| *yes)
        .map(|(c, _)| *c)
        .collect();
    if !path.is_empty() {
        out.push(path_kind(path, tree));
    }
    out
}

/// The class of a symlink target.
fn target_class(target: &str) -> &'static str {
    match target {
        _ if target.starts_with('/') => "absolute",
        _ if target.split('/').any(|c| c == "..") => "escaping ..",
        _ if target.contains('/') => "nested",
        _ => "relative",
    }
}

/// The class of written text.
fn text_class(text: &str) -> &'static str {
    match text.len() {
        0 => "empty",
        4097.. => "over 4 KiB",
        _ => "short",
    }
}

/// The class of a small count.
fn small_class(n: u64) -> &'static str {
    match n {
        0 => "0",
        1 => "1",
        2..=0xffff => "small",
        _ => "other",
    }
}

/// The keyword and classes of one `p2_fs` operation over the initial `tree`.
pub fn fs_classes(op: &StdFsOp, tree: &BTreeMap<String, Entry>) -> (&'static str, Vec<String>) {
    use StdFsOp::*;
    let offset = |o: u64| -> String {
        match int_class(o as i64) {
            "other" | "≈2^40" | "negative" => "offset:other".to_string(),
            class => format!("offset:{class}"),
        }
    };
    let text = |t: &str| format!("text:{}", text_class(t));
    let small = |label: &str, n: u64| format!("{label}:{}", small_class(n));
    // The keyword, the paths by label, and the other values' classes.
    let (name, paths, mut classes): (&'static str, Vec<(&str, &String)>, Vec<String>) = match op {
        Write(p, t) => ("write", vec![("path", p)], vec![text(t)]),
        Append(p, t) => ("append", vec![("path", p)], vec![text(t)]),
        Pwrite(p, o, t) => ("pwrite", vec![("path", p)], vec![offset(*o), text(t)]),
        Read(p) => ("read", vec![("path", p)], vec![]),
        Pread(p, o, n) => (
            "pread",
            vec![("path", p)],
            vec![offset(*o), small("len", u64::from(*n))],
        ),
        Truncate(p, size) => ("truncate", vec![("path", p)], vec![small("size", *size)]),
        Mkdir(p) => ("mkdir", vec![("path", p)], vec![]),
        Rmdir(p) => ("rmdir", vec![("path", p)], vec![]),
        Rm(p) => ("rm", vec![("path", p)], vec![]),
        Mv(a, b) => ("mv", vec![("path", a), ("path#2", b)], vec![]),
        Ln(a, b) => ("ln", vec![("path", a), ("path#2", b)], vec![]),
        Symlink(target, p) => (
            "symlink",
            vec![("path", p)],
            vec![format!("target:{}", target_class(target))],
        ),
        Readlink(p) => ("readlink", vec![("path", p)], vec![]),
        Stat(p) => ("stat", vec![("path", p)], vec![]),
        Lstat(p) => ("lstat", vec![("path", p)], vec![]),
        Ls(p) => ("ls", vec![("path", p)], vec![]),
        Touch(p, seconds) => (
            "touch",
            vec![("path", p)],
            vec![small("seconds", u64::from(*seconds))],
        ),
        Sleep(ns) => ("sleep", vec![], vec![small("ns", u64::from(*ns))]),
    };
    for (label, path) in paths {
        classes.extend(
            path_classes(path, tree)
                .into_iter()
                .map(|c| format!("{label}:{c}")),
        );
    }
    (name, classes)
}

/// `p3_fs`'s operations, by opcode ([`crate::p3_fs::OPS`]).
pub const P3_FS_OPS: [&str; 19] = crate::p3_fs::OPS;

/// The interpreter's path table, by label (`p3_fs/interpreter.wat`).
const P3_PATHS: [&str; 17] = [
    "a",
    "b",
    "c",
    "a/b",
    "b/c",
    ".",
    "..",
    "trailing /",
    "trailing /.",
    "//",
    "escape",
    "a/..",
    "empty",
    "absolute",
    "c/a",
    "255 bytes",
    "256 bytes",
];

/// The interpreter's offsets and sizes (its table at 0x300).
const P3_OFFSETS: [u64; 12] = [
    0,
    1,
    2,
    5,
    10,
    20,
    33,
    63,
    4096,
    i64::MAX as u64,
    1 << 63,
    u64::MAX,
];

/// Classes of `open-at`'s descriptor flags.
const P3_DESCRIPTOR_FLAGS: [&str; 6] = ["none", "read", "write", "read+write", "mutate", "sync"];

/// Classes of a text written.
const P3_TEXTS: [&str; 4] = ["empty", "short", "64 bytes", "5000 bytes"];

/// Classes of a read's length.
const P3_READS: [&str; 3] = ["1", "2-255", "256"];

/// Classes of a new timestamp's byte as the interpreter decodes it: its
/// kind, and for a timestamp its seconds and nanoseconds.
const P3_TIMES: [&str; 14] = [
    "no-change",
    "now",
    "s 0",
    "s 1",
    "s 1000",
    "s 10^9",
    "s 2^31-1",
    "s 2^31",
    "s 2^32",
    "s 2^34",
    "ns 0",
    "ns 5",
    "ns 10^9-1",
    "ns 10^9",
];

/// The classes of the time byte `t` under `label` (see [`P3_TIMES`]).
fn p3_time(label: &str, t: u8) -> Vec<String> {
    match t % 4 {
        0 => vec![format!("{label}:no-change")],
        1 => vec![format!("{label}:now")],
        _ => vec![
            format!("{label}:{}", P3_TIMES[2 + usize::from((t >> 2) & 7)]),
            format!("{label}:{}", P3_TIMES[10 + usize::from((t >> 5) & 3)]),
        ],
    }
}

fn p3_offset(i: u8) -> String {
    let v = P3_OFFSETS[usize::from(i) % P3_OFFSETS.len()];
    int_class(v as i64).to_string()
}

/// The classes of one `p3_fs` operation as the interpreter decodes it:
/// its name, then `label:class` for its paths, flags, offsets, sizes,
/// texts and lengths.
pub fn p3_fs_classes(op: &crate::p3_fs::OpInput) -> (&'static str, Vec<String>) {
    let [code, _, b, c, d, e] = *op;
    let name = P3_FS_OPS[usize::from(code) % P3_FS_OPS.len()];
    let path = |label: &str, i: u8| format!("{label}:{}", P3_PATHS[usize::from(i) % 17]);
    let follow = format!("follow:{}", if c & 1 == 1 { "yes" } else { "no" });
    let text = || {
        let class = match (d, e % 65) {
            (0xf0.., _) => "5000 bytes",
            (_, 0) => "empty",
            (_, 64) => "64 bytes",
            _ => "short",
        };
        format!("text:{class}")
    };
    let classes = match name {
        "open-at" => {
            let oflags = if d >= 0xc0 {
                d & 15
            } else {
                [0, 1, 9, 2, 5, 8, 0, 1][usize::from(d % 8)]
            };
            let dflags = if e >= 0xe0 { e & 63 } else { e & 0x23 };
            let dclass = match dflags {
                f if f & 0x1c != 0 => "sync",
                f if f & 0x20 != 0 => "mutate",
                3 => "read+write",
                2 => "write",
                1 => "read",
                _ => "none",
            };
            vec![
                path("path", b),
                follow,
                format!("oflags:{oflags}"),
                format!("dflags:{dclass}"),
            ]
        }
        "write-via-stream" => vec![format!("offset:{}", p3_offset(c)), text()],
        "append-via-stream" => vec![text()],
        "read-via-stream" => {
            let len = match u16::from(e) + 1 {
                1 => "1",
                256 => "256",
                _ => "2-255",
            };
            vec![format!("offset:{}", p3_offset(c)), format!("len:{len}")]
        }
        "set-size" => vec![format!("size:{}", p3_offset(c))],
        "stat-at" => vec![path("path", b), follow],
        "link-at" => vec![path("path", b), follow, path("path#2", e)],
        "rename-at" => vec![path("path", b), path("path#2", e)],
        "symlink-at" => vec![path("target", e), path("path", b)],
        "create-directory-at" | "unlink-file-at" | "remove-directory-at" | "readlink-at" => {
            vec![path("path", b)]
        }
        "set-times-at" => [
            vec![path("path", b), follow],
            p3_time("atime", d),
            p3_time("mtime", e),
        ]
        .concat(),
        "set-times" => [p3_time("atime", d), p3_time("mtime", e)].concat(),
        _ => Vec::new(),
    };
    (name, classes)
}

/// Every class that can apply to the `p3_fs` operation `op`.
pub fn p3_fs_universe(op: &str) -> Vec<String> {
    let with = |label: &str, classes: &[&str]| -> Vec<String> {
        classes.iter().map(|c| format!("{label}:{c}")).collect()
    };
    let ints: Vec<&str> = INT_CLASSES.iter().copied().chain(["small"]).collect();
    let follow = with("follow", &["yes", "no"]);
    let path = with("path", &P3_PATHS);
    match op {
        "open-at" => {
            let oflags: Vec<String> = (0..16).map(|f| format!("oflags:{f}")).collect();
            [path, follow, oflags, with("dflags", &P3_DESCRIPTOR_FLAGS)].concat()
        }
        "write-via-stream" => [with("offset", &ints), with("text", &P3_TEXTS)].concat(),
        "append-via-stream" => with("text", &P3_TEXTS),
        "read-via-stream" => [with("offset", &ints), with("len", &P3_READS)].concat(),
        "set-size" => with("size", &ints),
        "stat-at" => [path, follow].concat(),
        "link-at" => [path, follow, with("path#2", &P3_PATHS)].concat(),
        "rename-at" => [path, with("path#2", &P3_PATHS)].concat(),
        "symlink-at" => [with("target", &P3_PATHS), path].concat(),
        "create-directory-at" | "unlink-file-at" | "remove-directory-at" | "readlink-at" => path,
        "set-times-at" => [
            path,
            follow,
            with("atime", &P3_TIMES),
            with("mtime", &P3_TIMES),
        ]
        .concat(),
        "set-times" => [with("atime", &P3_TIMES), with("mtime", &P3_TIMES)].concat(),
        _ => Vec::new(),
    }
}
