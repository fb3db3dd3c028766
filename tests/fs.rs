//! The virtual filesystem through guest calls, on both preview1 backends
//! (the audit's runner; every test asserts the backends agree on the full
//! fingerprint): the deliberate differences from stock the README lists,
//! limits, hostile inputs, and that an audit never writes the host.

use deterministic_wasi_ctx::audit::{Backend, Compiled, Fingerprint, Outcome, RunSpec, Strategy};
use deterministic_wasi_ctx::fs::{Limits, WalkContent};
use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs};

/// Imports, a 2-page memory and `$run` as `_start`, storing what `body`
/// leaves at address 0 (an i32, usually an errno).
fn module(body: &str, data: &str) -> Vec<u8> {
    let wat = format!(
        r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  {data}
  (func (export "_start") (local $i i32) (local $e i32)
    {body}))"#
    );
    wat::parse_str(&wat).expect("valid test module")
}

/// The preview1 backends: wasi-common only with its feature (the
/// wasmtime-50 adapter has none).
#[cfg(feature = "wasi-common")]
const BACKENDS: [Backend; 2] = [Backend::WasmtimeWasi, Backend::WasiCommon];
#[cfg(not(feature = "wasi-common"))]
const BACKENDS: [Backend; 1] = [Backend::WasmtimeWasi];

/// Runs `wasm` on both backends (twice each); asserts they all agree and
/// returns the first outcome (with its memory).
fn run(wasm: &[u8], config: &DeterminismConfig) -> Outcome {
    let engine = Strategy::Cranelift.engine().expect("engine");
    let compiled = Compiled::new(&engine, wasm).expect("compiles");
    let spec = RunSpec {
        config: config.clone(),
        fuel: 1_000_000_000,
        max_events: 16,
        stock: false,
        keep_memory: true,
        writes_from_signatures: false,
        replay: None,
    };
    let runs: Vec<Outcome> = BACKENDS
        .into_iter()
        .flat_map(|b| [b, b])
        .map(|b| compiled.run(&engine, b, &spec))
        .collect();
    for r in &runs[1..] {
        assert_eq!(Fingerprint::of(r).fields, Fingerprint::of(&runs[0]).fields);
    }
    runs.into_iter().next().expect("two runs per backend")
}

fn u32_at(o: &Outcome, at: usize) -> u32 {
    let m = o.memory.as_ref().expect("kept memory");
    u32::from_le_bytes(m[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(o: &Outcome, at: usize) -> u64 {
    let m = o.memory.as_ref().expect("kept memory");
    u64::from_le_bytes(m[at..at + 8].try_into().expect("8 bytes"))
}

fn tree() -> VirtualFs {
    VirtualFs::new().file("a", "hello").dir("b/c")
}

/// `(call $open (i32.const 3) ...)` opening the path at 100 (length `len`)
/// with `oflags`, read and write rights, new fd at 8.
fn open(dir: u32, len: u32, oflags: u32) -> String {
    format!(
        "(call $open (i32.const {dir}) (i32.const 1) (i32.const 100) (i32.const {len}) (i32.const {oflags}) (i64.const 66) (i64.const 0) (i32.const 0) (i32.const 8))"
    )
}

#[test]
fn rename_between_two_preopens_is_exdev() {
    let config = DeterminismConfig::new()
        .preopen("/", tree())
        .preopen("/other", VirtualFs::new());
    let wasm = module(
        "(i32.store (i32.const 0) (call $rename (i32.const 3) (i32.const 100) (i32.const 1) (i32.const 4) (i32.const 100) (i32.const 1)))",
        r#"(data (i32.const 100) "a")"#,
    );
    let out = run(&wasm, &config);
    assert_eq!(u32_at(&out, 0), 75, "EXDEV");
    // Nothing moved in either tree.
    assert_eq!(out.filesystems[0].1.read_file("a"), Some(b"hello".to_vec()));
    assert_eq!(out.filesystems[1].1.walk().len(), 1);
}

#[test]
fn writes_past_the_limits_are_enospc_and_a_huge_size_is_a_hole() {
    let limits = Limits {
        max_bytes: 8,
        max_entries: 10,
    };
    let small = VirtualFs::with_limits(limits).file("a", "12345");
    let config = DeterminismConfig::new().preopen("/", small);
    // Open `a` (fd 4), write 6 bytes twice, then set its size to 1 TiB.
    let wasm = module(
        &format!(
            "(drop {open})
             (i32.store (i32.const 40) (call $write (i32.const 4) (i32.const 16) (i32.const 1) (i32.const 44)))
             (i32.store (i32.const 48) (call $write (i32.const 4) (i32.const 16) (i32.const 1) (i32.const 52)))
             (i32.store (i32.const 0) (call $set_size (i32.const 4) (i64.const 0x10000000000)))",
            open = open(3, 1, 0)
        ),
        // iovec at 16: 6 bytes at 200; fdflags APPEND is not used, the
        // position starts at 0: the first write overwrites and grows to 6.
        r#"(data (i32.const 16) "\c8\00\00\00\06\00\00\00") (data (i32.const 100) "a") (data (i32.const 200) "abcdef")"#,
    );
    let out = run(&wasm, &config);
    assert_eq!(
        (u32_at(&out, 40), u32_at(&out, 44)),
        (0, 6),
        "first write: all 6 bytes"
    );
    // The second write at offset 6 fits 2 of its 6 bytes (8 in all).
    assert_eq!((u32_at(&out, 48), u32_at(&out, 52)), (0, 2));
    // 1 TiB is a hole, as on a host filesystem: it succeeds and stores
    // nothing more.
    assert_eq!(u32_at(&out, 0), 0, "a 1 TiB size is a hole");
    let tree = &out.filesystems[0].1;
    let walk = tree.walk();
    let a = walk.iter().find(|e| e.path == b"a").expect("a");
    let WalkContent::File(content) = a.content else {
        panic!("a is a file: {a:?}");
    };
    assert_eq!((content.len(), content.stored_bytes()), (1 << 40, 8));
    assert_eq!(content.nonzero_runs(), vec![(0, b"abcdefab".to_vec())]);
    assert_eq!(tree.used_bytes(), 8);
}

#[test]
fn readdir_dotdot_is_the_parent_inode() {
    let config = DeterminismConfig::new().preopen("/", tree());
    // Open directory `b` (fd 4), list it into 300.
    let wasm = module(
        &format!(
            "(drop {open})
             (i32.store (i32.const 0) (call $readdir (i32.const 4) (i32.const 300) (i32.const 200) (i64.const 0) (i32.const 4)))",
            open = open(3, 1, 2).replace("(i64.const 66)", "(i64.const 2)")
        ),
        r#"(data (i32.const 100) "b")"#,
    );
    let out = run(&wasm, &config);
    assert_eq!(u32_at(&out, 0), 0);
    // Inodes by the rule: root 1, `a` 2, `b` 3, `b/c` 4.
    assert_eq!(u64_at(&out, 300 + 8), 3, "`.` is b");
    assert_eq!(u64_at(&out, 300 + 25 + 8), 1, "`..` is the root");
    assert_eq!(u64_at(&out, 300 + 25 + 26 + 8), 4, "`c`");
    assert_eq!(u32_at(&out, 4), 25 + 26 + 25, "bytes used");
}

#[test]
fn poll_on_a_file_is_ready_at_once() {
    let config = DeterminismConfig::new().preopen("/", tree());
    // Open `a` (fd 4); one fd_read subscription at 400 for fd 4; events at 504.
    let wasm = module(
        &format!(
            "(drop {open})
             (i32.store (i32.const 0) (call $poll (i32.const 400) (i32.const 504) (i32.const 1) (i32.const 4)))",
            open = open(3, 1, 0)
        ),
        r#"(data (i32.const 100) "a") (data (i32.const 400) "\07\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\04\00\00\00")"#,
    );
    let out = run(&wasm, &config);
    assert_eq!((u32_at(&out, 0), u32_at(&out, 4)), (0, 1), "one event");
    assert_eq!(u64_at(&out, 504), 7, "userdata");
    assert_eq!(
        out.memory.as_ref().expect("memory")[504 + 10],
        1,
        "fd_read event"
    );
    assert_eq!(u64_at(&out, 504 + 16), 0, "nbytes");
}

#[test]
fn more_than_the_descriptor_limit_is_emfile() {
    let config = DeterminismConfig::new().preopen("/", tree());
    let limit = deterministic_wasi_ctx::fd::MAX_OPEN_DESCRIPTORS as u32;
    // Open `a` until an error; store the errno and how many opened.
    let wasm = module(
        &format!(
            "(block $done (loop $again
               (local.set $e {open})
               (br_if $done (local.get $e))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br $again)))
             (i32.store (i32.const 0) (local.get $e))
             (i32.store (i32.const 4) (local.get $i))",
            open = open(3, 1, 0)
        ),
        r#"(data (i32.const 100) "a")"#,
    );
    let out = run(&wasm, &config);
    assert_eq!(u32_at(&out, 0), 33, "EMFILE");
    assert_eq!(
        u32_at(&out, 4),
        limit - 4,
        "stdio and the preopen hold four"
    );
}

#[test]
fn hostile_paths_get_errnos_or_traps_never_panics() {
    let config = DeterminismConfig::new()
        .preopen("/", tree().symlink("loop", "loop").symlink("out", "../x"))
        .preopen_read_only("/ro", tree());
    let cases: &[(&str, u32, u32, u32)] = &[
        // path, preopen fd, oflags, expected errno
        ("loop", 3, 0, 32),    // ELOOP
        ("out", 3, 0, 63),     // escape: EPERM
        ("../a", 3, 0, 63),    // escape
        ("/a", 3, 0, 63),      // absolute
        ("a\u{0}b", 3, 0, 28), // NUL: EINVAL
        ("missing", 3, 0, 44), // ENOENT
        ("a", 4, 1, 63),       // create on a read-only preopen: EPERM
        ("a", 1, 0, 8),        // stdout is not a directory: EBADF
        ("a", 9, 0, 8),        // not open: EBADF
        ("a/", 3, 0, 54),      // a file with a trailing slash: ENOTDIR
    ];
    for &(path, dir, oflags, errno) in cases {
        let escaped: String = path.bytes().map(|b| format!("\\{b:02x}")).collect();
        let wasm = module(
            &format!(
                "(i32.store (i32.const 0) {})",
                open(dir, path.len() as u32, oflags)
            ),
            &format!(r#"(data (i32.const 100) "{escaped}")"#),
        );
        let out = run(&wasm, &config);
        assert_eq!(
            u32_at(&out, 0),
            errno,
            "path_open({dir}, {path:?}, oflags {oflags})"
        );
    }
    // Bad UTF-8 is EILSEQ; a path running off memory traps (both backends).
    let wasm = module(
        &format!("(i32.store (i32.const 0) {})", open(3, 1, 0)),
        r#"(data (i32.const 100) "\ff")"#,
    );
    assert_eq!(u32_at(&run(&wasm, &config), 0), 25);
    let wasm = module(
        "(drop (call $open (i32.const 3) (i32.const 0) (i32.const 131070) (i32.const 10) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8)))",
        "",
    );
    let out = run(&wasm, &config);
    assert!(out.status.to_string().starts_with("trap"), "{}", out.status);
}

#[test]
fn an_audit_that_writes_leaves_the_host_directory_unchanged() {
    let host = std::env::temp_dir().join(format!("dwc-fs-host-{}", std::process::id()));
    std::fs::create_dir_all(&host).expect("temp dir");
    std::fs::write(host.join("a"), "hello").expect("write");
    let snapshot = VirtualFs::from_host_dir(&host).expect("snapshot");
    let config = DeterminismConfig::new().preopen("/", snapshot);
    // Create `new` and truncate `a`.
    let wasm = module(
        &format!(
            "(i32.store (i32.const 0) {create}) (i32.store (i32.const 4) {truncate})",
            create = open(3, 3, 1).replace("(i32.const 100)", "(i32.const 120)"),
            truncate = open(3, 1, 8)
        ),
        r#"(data (i32.const 100) "a") (data (i32.const 120) "new")"#,
    );
    let out = run(&wasm, &config);
    assert_eq!((u32_at(&out, 0), u32_at(&out, 4)), (0, 0));
    assert_eq!(out.filesystems[0].1.read_file("a"), Some(Vec::new()));
    assert_eq!(out.filesystems[0].1.read_file("new"), Some(Vec::new()));
    let names: Vec<_> = std::fs::read_dir(&host)
        .expect("read host")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["a"], "nothing created on the host");
    assert_eq!(std::fs::read(host.join("a")).expect("read"), b"hello");
    std::fs::remove_dir_all(&host).expect("clean up");
}
