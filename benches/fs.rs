//! The virtual filesystem's costs, side by side with stock wasmtime-wasi on
//! a host directory (tmpfs `/dev/shm` when there is one):
//!
//! - `fs/copy_1mib`: a guest opens a 1 MiB file and a new output file and
//!   copies one to the other in 4 KiB `fd_read`/`fd_write` calls;
//! - `fs/build_context`: building a context with a 10,000-file tree
//!   preopened, and with none (copy-on-write: no per-Store copying);
//! - `fs/snapshot_10k`: reading that tree from a host directory.
//!
//! Run: `cargo bench --bench fs`.

use criterion::{Criterion, criterion_group, criterion_main};
use deterministic_wasi_ctx::{DeterminismConfig, VirtualFs, engine, p1};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use wasmtime::{Linker, Module, Store, TypedFunc};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{DirPerms, FilePerms};

const GUEST: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "data")
  (data (i32.const 32) "out")
  ;; iovec at 64: 4096 bytes at 4096
  (data (i32.const 64) "\00\10\00\00\00\10\00\00")
  (func (export "copy") (local $in i32) (local $out i32) (local $n i32)
    (if (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 4) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8))
      (then unreachable))
    (local.set $in (i32.load (i32.const 8)))
    ;; O_CREAT | O_TRUNC, FD_WRITE
    (if (call $open (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 3) (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8))
      (then unreachable))
    (local.set $out (i32.load (i32.const 8)))
    (loop $l
      (if (call $read (local.get $in) (i32.const 64) (i32.const 1) (i32.const 0)) (then unreachable))
      (local.set $n (i32.load (i32.const 0)))
      (if (local.get $n)
        (then
          (i32.store (i32.const 68) (local.get $n))
          (if (call $write (local.get $out) (i32.const 64) (i32.const 1) (i32.const 0)) (then unreachable))
          (i32.store (i32.const 68) (i32.const 4096))
          (br $l))))
    (drop (call $close (local.get $in)))
    (drop (call $close (local.get $out))))
  (func (export "_start")))"#;

const MIB: usize = 1 << 20;

/// A fresh empty host directory for stock, on tmpfs when there is one.
fn host_dir(name: &str) -> PathBuf {
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("dwc-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

fn copy_1mib(c: &mut Criterion) {
    let engine = engine::deterministic_engine().expect("engine");
    let module = Module::new(&engine, GUEST).expect("module");
    let data: Vec<u8> = (0..MIB).map(|i| (i * 7) as u8).collect();
    let mut group = c.benchmark_group("fs/copy_1mib");

    let config = DeterminismConfig::new().preopen("/", VirtualFs::new().file("data", data.clone()));
    let mut linker = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |t| t).expect("link");
    let mut store = Store::new(&engine, config.build_p1());
    store.set_fuel(u64::MAX).expect("fuel");
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let copy: TypedFunc<(), ()> = instance.get_typed_func(&mut store, "copy").expect("copy");
    group.bench_function("virtual", |b| {
        b.iter(|| copy.call(&mut store, ()).expect("copy"))
    });
    let out = store
        .data()
        .descriptors()
        .filesystem("/")
        .and_then(|t| t.read_file("out"));
    assert_eq!(out.as_deref(), Some(&data[..]), "the virtual copy is exact");

    let dir = host_dir("copy");
    std::fs::write(dir.join("data"), &data).expect("write data");
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t).expect("link");
    let mut builder = wasmtime_wasi::WasiCtxBuilder::new();
    builder
        .preopened_dir(&dir, "/", DirPerms::all(), FilePerms::all())
        .expect("preopen");
    let mut store = Store::new(&engine, builder.build_p1());
    store.set_fuel(u64::MAX).expect("fuel");
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let copy: TypedFunc<(), ()> = instance.get_typed_func(&mut store, "copy").expect("copy");
    group.bench_function("stock (host dir)", |b| {
        b.iter(|| copy.call(&mut store, ()).expect("copy"))
    });
    assert_eq!(
        std::fs::read(dir.join("out")).expect("out"),
        data,
        "the stock copy is exact"
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
    group.finish();
}

fn ten_thousand_files() -> VirtualFs {
    (0..10_000).fold(VirtualFs::new(), |fs, i| {
        fs.file(format!("d{}/f{i}.txt", i % 100), format!("file {i}"))
    })
}

fn build_context(c: &mut Criterion) {
    let mut group = c.benchmark_group("fs/build_context");
    let tree = ten_thousand_files();
    let with = DeterminismConfig::new().preopen("/", tree);
    // The first context numbers the snapshot's inodes once; later ones share them.
    black_box(with.build_p1());
    group.bench_function("10k-file preopen", |b| {
        b.iter(|| black_box(with.build_p1()))
    });
    let without = DeterminismConfig::new();
    group.bench_function("no preopen", |b| b.iter(|| black_box(without.build_p1())));
    group.finish();
}

fn snapshot_10k(c: &mut Criterion) {
    let dir = host_dir("snapshot");
    for i in 0..10_000 {
        let sub = dir.join(format!("d{}", i % 100));
        std::fs::create_dir_all(&sub).expect("dir");
        std::fs::write(sub.join(format!("f{i}.txt")), format!("file {i}")).expect("file");
    }
    let mut group = c.benchmark_group("fs/snapshot_10k");
    group.sample_size(10);
    group.bench_function("from_host_dir", |b| {
        b.iter(|| VirtualFs::from_host_dir(&dir).expect("snapshot"))
    });
    group.finish();
    std::fs::remove_dir_all(&dir).expect("clean up");
}

criterion_group!(benches, copy_1mib, build_context, snapshot_10k);
criterion_main!(benches);
