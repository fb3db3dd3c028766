//! Hostile and edge-case calls, answered by the virtual filesystem and by
//! stock wasmtime-wasi on a host copy of the same tree: the same
//! `error-code` (or the same success) for every call, and the same answer
//! every run.

use super::ops::{Calls, Fail};
use crate::{DeterminismConfig, VirtualFs};
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::sync::filesystem::preopens::Host as _;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    Advice, Datetime, DescriptorFlags, ErrorCode, Host as _, HostDescriptor, NewTimestamp,
    OpenFlags, PathFlags,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

struct Stock {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Stock {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// One call, with descriptors named by their index in the list of
/// descriptors opened so far (0: `/`, 1: `/ro`).
#[derive(Clone, Debug)]
enum Op {
    Open(usize, bool, &'static str, OpenFlags, DescriptorFlags),
    Read(usize, u64, u64),
    Write(usize, &'static [u8], u64),
    SetSize(usize, u64),
    SetTimes(usize, NewTimestamp),
    Mkdir(usize, &'static str),
    Rmdir(usize, &'static str),
    Unlink(usize, &'static str),
    Rename(usize, &'static str, usize, &'static str),
    Link(usize, bool, &'static str, usize, &'static str),
    Symlink(usize, &'static str, &'static str),
    Readlink(usize, &'static str),
    StatAt(usize, bool, &'static str),
    ReadDir(usize),
    Flags(usize),
    Advise(usize, u64, u64),
    Sync(usize),
    SetTimesAt(usize, bool, &'static str, NewTimestamp),
    Type(usize),
    ReadStream(usize),
    WriteStream(usize),
}

/// What both sides must agree on: success (with the bytes read or the
/// names listed, where there are some) or the error code.
type Outcome = Result<String, ErrorCode>;

fn snapshot() -> VirtualFs {
    VirtualFs::new()
        .file("a.txt", "hello")
        .dir("d/e")
        .file("d/f", "ff")
        .symlink("link", "a.txt")
        .symlink("up", "../x")
}

const R: DescriptorFlags = DescriptorFlags::READ;
const W: DescriptorFlags = DescriptorFlags::WRITE;

fn script() -> Vec<Op> {
    use Op::*;
    let file = OpenFlags::empty();
    let long: &'static str = Box::leak("n".repeat(300).into_boxed_str());
    vec![
        Open(0, true, "a.txt", file, R),                 // 2
        Open(0, true, "a.txt", OpenFlags::CREATE, W),    // 3
        Open(0, false, "link", file, R),                 // loop
        Open(0, true, "../x", file, R),                  // escape
        Open(0, true, "/abs", file, R),                  // absolute
        Open(0, true, "up", file, R),                    // through a symlink out
        Open(0, true, long, file, R),                    // too long
        Open(0, true, "a.txt", OpenFlags::DIRECTORY, R), // not a dir
        Open(0, true, "d", OpenFlags::DIRECTORY | OpenFlags::CREATE, R),
        Open(
            0,
            true,
            "a.txt",
            file,
            R | DescriptorFlags::DATA_INTEGRITY_SYNC,
        ),
        Open(
            0,
            true,
            "a.txt",
            OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
            W,
        ),
        Open(0, true, "d", file, W),     // dir for writing
        Open(1, true, "a.txt", file, W), // read-only preopen
        Open(1, true, "new", OpenFlags::CREATE, R),
        Open(1, true, "a.txt", file, R),             // 4
        Open(0, true, "d", OpenFlags::DIRECTORY, R), // 5
        Open(2, true, "x", file, R),                 // a file as a dir
        Read(2, u64::MAX, 0),
        Read(2, 3, 1),
        Read(2, 0, 0),
        Read(2, 10, 5),
        Read(2, 10, u64::MAX),
        Read(2, 10, i64::MAX as u64),
        Read(3, 10, 0), // write-only
        Read(0, 10, 0), // a dir
        Write(3, b"HE", 0),
        Write(3, b"", 1),
        Write(3, b"x", u64::MAX),
        Write(2, b"x", 0), // read-only open
        Write(4, b"x", 0), // read-only preopen
        SetSize(3, u64::MAX),
        SetSize(2, 1),
        SetSize(3, 9),
        SetSize(5, 1),
        SetTimes(
            3,
            NewTimestamp::Timestamp(Datetime {
                seconds: u64::MAX,
                nanoseconds: 0,
            }),
        ),
        SetTimes(4, NewTimestamp::Now),
        SetTimes(0, NewTimestamp::Now), // preopen: O_PATH
        SetTimes(0, NewTimestamp::NoChange),
        Mkdir(0, "d"),
        Mkdir(0, "g"),
        Mkdir(1, "g"),
        Mkdir(0, "a.txt/x"),
        Rmdir(0, "d"),
        Rmdir(0, "a.txt"),
        Rmdir(0, "."),
        Unlink(0, "d"),
        Unlink(0, "missing"),
        Rename(0, "d", 0, "d/e/inside"),
        Rename(0, "g", 5, "g2"),
        Rename(0, "a.txt", 1, "b"),
        Link(0, true, "a.txt", 0, "l2"),
        Link(0, false, "a.txt", 0, "l2"),
        Link(0, false, "d", 0, "l3"),
        Symlink(0, "/etc/passwd", "abs"),
        Symlink(0, "a.txt", "link"),
        Symlink(0, "a\0b", "nul"),
        Readlink(0, "a.txt"),
        Readlink(0, "link"),
        StatAt(0, true, "link"),
        StatAt(0, false, "missing/x"),
        StatAt(0, true, "a.txt/"),
        StatAt(2, true, "x"),
        ReadDir(0),
        ReadDir(5),
        ReadDir(2),
        Flags(0),
        Flags(1),
        Flags(2),
        Flags(3),
        Flags(5),
        Advise(2, u64::MAX, 10),
        Advise(2, 0, u64::MAX),
        Advise(2, 0, i64::MAX as u64),
        Advise(5, 0, 1),
        Sync(0),
        Sync(2),
        Sync(5),
        Type(0),
        Type(2),
        Type(5),
        SetTimesAt(0, true, "a.txt", NewTimestamp::Now),
        SetTimesAt(0, false, "link", NewTimestamp::Now),
        SetTimesAt(0, true, "missing", NewTimestamp::NoChange),
        SetTimesAt(0, false, "missing", NewTimestamp::NoChange),
        SetTimesAt(0, false, "missing/x", NewTimestamp::NoChange),
        SetTimesAt(1, true, "a.txt", NewTimestamp::Now),
        SetTimesAt(2, true, "x", NewTimestamp::Now),
        SetTimesAt(0, true, "up", NewTimestamp::Now),
        ReadStream(5),
        WriteStream(4),
        ReadStream(2),
        WriteStream(3),
        Unlink(0, "a.txt"),
        Read(2, 100, 0), // still open
    ]
}

/// Runs the script on the virtual filesystem.
fn run_ours() -> Vec<Outcome> {
    let config = DeterminismConfig::new()
        .preopen("/", snapshot())
        .preopen_read_only("/ro", snapshot());
    let mut ctx = config.build_p2();
    let (fs, table) = ctx.filesystem_parts();
    let mut c = Calls { fs, table };
    let mut fds: Vec<Resource<super::VirtualDescriptor>> = c
        .get_directories()
        .expect("preopens")
        .into_iter()
        .map(|(fd, _)| fd)
        .collect();
    let code = |f: Fail| match f {
        Fail::Code(code) => code,
        Fail::Trap(e) => panic!("trap: {e}"),
    };
    let mut out = Vec::new();
    for op in script() {
        let fd = |i: usize| Resource::<super::VirtualDescriptor>::new_borrow(fds[i].rep());
        let r: Result<String, Fail> = match op {
            Op::Open(d, follow, path, o, f) => c
                .open_at(&fd(d), (follow_flags(follow), path), o, f)
                .map(|new| {
                    fds.push(new);
                    String::new()
                }),
            Op::Read(d, len, off) => c
                .read(&fd(d), len, off)
                .map(|(b, eof)| format!("{b:?} {eof}")),
            Op::Write(d, b, off) => c.write(&fd(d), b, off).map(|n| n.to_string()),
            Op::SetSize(d, n) => c.set_size(&fd(d), n).map(|()| String::new()),
            Op::SetTimes(d, t) => c
                .set_times(&fd(d), t, NewTimestamp::NoChange)
                .map(|()| String::new()),
            Op::Mkdir(d, p) => c.create_directory_at(&fd(d), p).map(|()| String::new()),
            Op::Rmdir(d, p) => c.remove_directory_at(&fd(d), p).map(|()| String::new()),
            Op::Unlink(d, p) => c.unlink_file_at(&fd(d), p).map(|()| String::new()),
            Op::Rename(a, p, b, q) => c
                .rename_at((&fd(a), p), (&fd(b), q))
                .map(|()| String::new()),
            Op::Link(a, follow, p, b, q) => c
                .link_at((&fd(a), follow_flags(follow), p), (&fd(b), q))
                .map(|()| String::new()),
            Op::Symlink(d, target, p) => c.symlink_at(&fd(d), target, p).map(|()| String::new()),
            Op::Readlink(d, p) => c.readlink_at(&fd(d), p),
            Op::StatAt(d, follow, p) => c
                .stat_at(&fd(d), follow_flags(follow), p)
                .map(|s| format!("{:?} {} {}", s.type_, s.link_count, s.size)),
            Op::ReadDir(d) => c.read_directory(&fd(d)).map(|s| {
                let mut names = Vec::new();
                while let Ok(Some(e)) = c.read_directory_entry(&s) {
                    names.push(format!("{}:{:?}", e.name, e.type_));
                }
                names.join(",")
            }),
            Op::Flags(d) => c.get_flags(&fd(d)).map(|f| format!("{f:?}")),
            Op::Advise(d, _, len) => c
                .advise(&fd(d), len, Advice::Normal)
                .map(|()| String::new()),
            Op::Sync(d) => c.sync(&fd(d)).map(|()| String::new()),
            Op::SetTimesAt(d, follow, p, t) => c
                .set_times_at(&fd(d), follow_flags(follow), p, (t, NewTimestamp::NoChange))
                .map(|()| String::new()),
            Op::Type(d) => c.get_type(&fd(d)).map(|t| format!("{t:?}")),
            Op::ReadStream(d) => c.read_via_stream(&fd(d), 0).map(|_| String::new()),
            Op::WriteStream(d) => c.write_via_stream(&fd(d), Some(0)).map(|_| String::new()),
        };
        out.push(r.map_err(code));
    }
    out
}

fn follow_flags(follow: bool) -> PathFlags {
    if follow {
        PathFlags::SYMLINK_FOLLOW
    } else {
        PathFlags::empty()
    }
}

/// Runs the script on stock wasmtime-wasi over host copies of the trees.
fn run_stock(host: &std::path::Path) -> Vec<Outcome> {
    let config = DeterminismConfig::new().preopen("/", snapshot());
    let rw = host.join("rw");
    let ro = host.join("ro");
    for dir in [&rw, &ro] {
        config.mounts()[0].tree.export(dir).expect("export");
    }
    let mut builder = wasmtime_wasi::WasiCtxBuilder::new();
    crate::stock::preopen_dir(&mut builder, &rw, "/", true).expect("preopen");
    crate::stock::preopen_dir(&mut builder, &ro, "/ro", false).expect("preopen");
    let mut stock = Stock {
        ctx: builder.build(),
        table: ResourceTable::new(),
    };
    let mut v = stock.filesystem();
    let mut fds: Vec<Resource<Descriptor>> = v
        .get_directories()
        .expect("preopens")
        .into_iter()
        .map(|(fd, _)| fd)
        .collect();
    let mut out = Vec::new();
    for op in script() {
        let fd = |i: usize| Resource::<Descriptor>::new_borrow(fds[i].rep());
        let r = match op {
            Op::Open(d, follow, path, o, f) => v
                .open_at(fd(d), follow_flags(follow), path.into(), o, f)
                .map(|new| {
                    fds.push(new);
                    String::new()
                }),
            Op::Read(d, len, off) => v.read(fd(d), len, off).map(|(b, eof)| format!("{b:?} {eof}")),
            Op::Write(d, b, off) => v.write(fd(d), b.to_vec(), off).map(|n| n.to_string()),
            Op::SetSize(d, n) => v.set_size(fd(d), n).map(|()| String::new()),
            Op::SetTimes(d, t) => v.set_times(fd(d), t, NewTimestamp::NoChange).map(|()| String::new()),
            Op::Mkdir(d, p) => v.create_directory_at(fd(d), p.into()).map(|()| String::new()),
            Op::Rmdir(d, p) => v.remove_directory_at(fd(d), p.into()).map(|()| String::new()),
            Op::Unlink(d, p) => v.unlink_file_at(fd(d), p.into()).map(|()| String::new()),
            Op::Rename(a, p, b, q) => v.rename_at(fd(a), p.into(), fd(b), q.into()).map(|()| String::new()),
            Op::Link(a, follow, p, b, q) => v
                .link_at(fd(a), follow_flags(follow), p.into(), fd(b), q.into())
                .map(|()| String::new()),
            Op::Symlink(d, target, p) => v.symlink_at(fd(d), target.into(), p.into()).map(|()| String::new()),
            Op::Readlink(d, p) => v.readlink_at(fd(d), p.into()),
            Op::StatAt(d, follow, p) => v
                .stat_at(fd(d), follow_flags(follow), p.into())
                .map(|s| format!("{:?} {} {}", s.type_, s.link_count, s.size)),
            Op::ReadDir(d) => v.read_directory(fd(d)).map(|s| {
                let mut names = Vec::new();
                while let Ok(Some(e)) = wasmtime_wasi::p2::bindings::sync::filesystem::types::HostDirectoryEntryStream::read_directory_entry(&mut v, Resource::new_borrow(s.rep())) {
                    names.push(format!("{}:{:?}", e.name, e.type_));
                }
                names.sort();
                names.join(",")
            }),
            Op::Flags(d) => v.get_flags(fd(d)).map(|f| format!("{f:?}")),
            Op::Advise(d, off, len) => v.advise(fd(d), off, len, Advice::Normal).map(|()| String::new()),
            Op::Sync(d) => v.sync(fd(d)).map(|()| String::new()),
            Op::SetTimesAt(d, follow, p, t) => v
                .set_times_at(fd(d), follow_flags(follow), p.into(), t, NewTimestamp::NoChange)
                .map(|()| String::new()),
            Op::Type(d) => v.get_type(fd(d)).map(|t| format!("{t:?}")),
            Op::ReadStream(d) => v.read_via_stream(fd(d), 0).map(|_| String::new()),
            Op::WriteStream(d) => v.write_via_stream(fd(d), 0).map(|_| String::new()),
        };
        let r = r.map_err(|e| v.convert_error_code(e).expect("not a trap"));
        out.push(r);
    }
    out
}

#[test]
fn hostile_calls_answer_as_stock_does_on_a_real_directory() {
    let host = std::env::temp_dir().join(format!("dwc-p2-fs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&host);
    let stock = run_stock(&host);
    let _ = std::fs::remove_dir_all(&host);
    let ours = run_ours();
    assert_eq!(ours, run_ours(), "the same answers every run");
    let known = stock_differs();
    let mut seen = Vec::new();
    let mut differ = Vec::new();
    for ((op, a), b) in script().iter().zip(&ours).zip(&stock) {
        let call = format!("{op:?}");
        if a == b {
            continue;
        }
        match known.iter().find(|(c, _)| *c == call) {
            Some((_, expected)) if expected == b => seen.push(call),
            _ => differ.push(format!("{call}: ours {a:?}, stock {b:?}")),
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    let known: Vec<&str> = known.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        seen, known,
        "every known difference from stock still occurs"
    );
}

/// The calls where this wasmtime's stock wasmtime-wasi answers otherwise
/// than ours, with stock's answer. Ours are the same on every wasmtime
/// (they are what stock 46 answers); none differ on 46.
#[cfg(not(wasmtime_50))]
fn stock_differs() -> Vec<(&'static str, Outcome)> {
    Vec::new()
}

/// The calls where this wasmtime's stock wasmtime-wasi answers otherwise
/// than ours, with stock's answer. Ours are the same on every wasmtime
/// (they are what stock 46 answers); stock 50 changed these three (README,
/// "Wasmtime versions").
#[cfg(wasmtime_50)]
fn stock_differs() -> Vec<(&'static str, Outcome)> {
    vec![
        // A preopen is opened with O_PATH. Stock 46 set its times with
        // futimens, which fails with EBADF on such a descriptor; stock 50
        // on Linux uses utimensat(fd, "", AT_EMPTY_PATH), which succeeds.
        ("SetTimes(0, NewTimestamp::Now)", Ok(String::new())),
        // A read stream on a directory: stock 46 bad-descriptor (not a
        // file), stock 50 is-directory.
        ("ReadStream(5)", Err(ErrorCode::IsDirectory)),
        // A write stream on a file opened read-only: stock 46
        // bad-descriptor, stock 50 not-permitted.
        ("WriteStream(4)", Err(ErrorCode::NotPermitted)),
    ]
}

/// Handles used after they are dropped are traps (never a host panic), and
/// what outlives its descriptor keeps working: a listing already taken, and
/// a stream on a file that was then unlinked (its bytes stay readable, and
/// are freed when the stream goes).
#[test]
fn dropped_handles_trap_and_streams_keep_their_file() {
    let config = DeterminismConfig::new().preopen("/", snapshot());
    let mut ctx = config.build_p2();
    let (fs, table) = ctx.filesystem_parts();
    let mut c = Calls { fs, table };
    let root = c.get_directories().expect("preopens").remove(0).0;
    let root = Resource::<super::VirtualDescriptor>::new_borrow(root.rep());
    let file = c
        .open_at(
            &root,
            (PathFlags::empty(), "a.txt"),
            OpenFlags::empty(),
            DescriptorFlags::READ,
        )
        .expect("open");
    let rep = file.rep();
    let listing = c.read_directory(&root).expect("listing");
    let stream = c.read_via_stream(&file, 1).expect("stream");
    c.drop_descriptor(rep).expect("first drop");
    assert!(c.drop_descriptor(rep).is_err(), "a second drop traps");
    let dropped = Resource::<super::VirtualDescriptor>::new_borrow(rep);
    assert!(matches!(c.stat(&dropped), Err(Fail::Trap(_))));
    assert!(matches!(c.read(&dropped, 1, 0), Err(Fail::Trap(_))));
    c.unlink_file_at(&root, "a.txt").expect("unlink");
    let entry = c.read_directory_entry(&listing).expect("entry");
    assert_eq!(
        entry.map(|e| e.name),
        Some("a.txt".to_string()),
        "taken before"
    );
    let used = fs.mounts()[0].tree.used_bytes();
    let mut reader = c.table.delete(stream).expect("stream");
    assert_eq!(&reader.read(100).expect("read")[..], b"ello");
    drop(reader);
    assert_eq!(
        fs.mounts()[0].tree.used_bytes(),
        used - 5,
        "freed with the stream"
    );
}
