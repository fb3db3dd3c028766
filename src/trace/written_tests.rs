//! The tracer records what a call wrote, where it wrote it: generated
//! preview1 and preview0 calls (reads into huge, overlapping, empty and
//! many iovecs, random pointers and lengths, directory listings, links,
//! stat records, polls, argument tables) are traced, and every byte the
//! call changed must lie in a recorded region, and every recorded byte must
//! have been written.
//!
//! "Written" is observed, not assumed: each call runs in two Stores whose
//! memory is filled with complementary junk before the call (the call's
//! inputs, such as iovec arrays and paths, written alike over both), so a
//! byte the call writes changes in at least one of them. A recorded byte
//! that changed in neither must be one of the inputs (which the call may
//! overwrite with the value they held).

use super::test_runs::{Mode, p1_linker};
use super::{Recorder, Write};
use crate::{DeterminismConfig, VirtualFs};
use wasmtime::{Engine, Func, Instance, Module, Store, Val};

/// Guest memory: 4 pages.
const MEMORY: u32 = 4 << 16;

/// The traced functions and their parameters (`i`: i32, `I`: i64).
const FUNCTIONS: &[(&str, &str)] = &[
    ("fd_read", "iiii"),
    ("fd_pread", "iiiIi"),
    ("random_get", "ii"),
    ("fd_readdir", "iiiIi"),
    ("path_readlink", "iiiiii"),
    ("clock_time_get", "iIi"),
    ("clock_res_get", "ii"),
    ("fd_prestat_get", "ii"),
    ("fd_prestat_dir_name", "iii"),
    ("fd_filestat_get", "ii"),
    ("path_filestat_get", "iiiii"),
    ("fd_fdstat_get", "ii"),
    ("poll_oneoff", "iiii"),
    ("args_get", "ii"),
    ("environ_get", "ii"),
    ("args_sizes_get", "ii"),
    ("fd_seek", "iIii"),
    ("fd_tell", "ii"),
    ("path_open", "iiiiiIIii"),
    ("fd_write", "iiii"),
];

const MODULES: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

/// A module importing every [`FUNCTIONS`] entry from both modules and
/// exporting each as `module.name`.
fn module_wat() -> String {
    let mut imports = String::new();
    let mut funcs = String::new();
    for module in MODULES {
        for (name, params) in FUNCTIONS {
            let types: Vec<&str> = params
                .chars()
                .map(|c| if c == 'I' { "i64" } else { "i32" })
                .collect();
            let id = format!("${module}.{name}");
            imports.push_str(&format!(
                "(import \"{module}\" \"{name}\" (func {id} (param {}) (result i32)))\n",
                types.join(" ")
            ));
            let gets: String = (0..types.len())
                .map(|i| format!("(local.get {i})"))
                .collect();
            funcs.push_str(&format!(
                "(func (export \"{module}.{name}\") (param {}) (result i32) (call {id} {gets}))\n",
                types.join(" ")
            ));
        }
    }
    format!(
        "(module\n{imports}(memory (export \"memory\") {})\n{funcs})",
        MEMORY >> 16
    )
}

/// SplitMix64: the generator's randomness, seeded per run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// A pointer: mostly in bounds and aligned to `align`, sometimes near
    /// the end, rarely anywhere.
    fn ptr(&mut self, align: u32) -> u32 {
        match self.below(10) {
            0 => self.next() as u32,
            1 => (MEMORY - 1 - self.below(64) as u32) & !(align - 1),
            _ => (self.below(u64::from(MEMORY) - 64) as u32) & !(align - 1),
        }
    }

    /// A length: empty, small, the whole memory, or huge.
    fn len(&mut self) -> u32 {
        match self.below(6) {
            0 => 0,
            1 => 1,
            2 => self.below(300) as u32,
            3 => MEMORY,
            4 => u32::MAX,
            _ => self.below(u64::from(MEMORY)) as u32,
        }
    }
}

/// One generated call: which export, its arguments and the inputs written
/// before it (the same in both Stores).
#[derive(Debug)]
struct Call {
    export: String,
    args: Vec<Val>,
    inputs: Vec<(u32, Vec<u8>)>,
}

/// `count` iovecs at a random place: empty ones, whole-memory and huge
/// ones, small ones, and several over the same buffer.
fn iovecs(rng: &mut Rng, inputs: &mut Vec<(u32, Vec<u8>)>) -> (u32, u32) {
    let count = rng.pick(&[0u32, 1, 2, 3, 8, 1000]);
    let shared = rng.ptr(1);
    let mut array = Vec::new();
    for _ in 0..count {
        let (ptr, len) = match rng.below(5) {
            0 => (rng.ptr(1), 0),
            1 => (0, rng.pick(&[MEMORY, u32::MAX, 1 << 24])),
            2 => (shared, rng.len()),
            _ => (rng.ptr(1), rng.len()),
        };
        array.extend_from_slice(&ptr.to_le_bytes());
        array.extend_from_slice(&len.to_le_bytes());
    }
    let at = rng
        .ptr(4)
        .min(MEMORY - array.len().min(MEMORY as usize) as u32)
        & !3;
    inputs.push((at, array));
    (at, count)
}

/// A path at a random place.
fn path(rng: &mut Rng, inputs: &mut Vec<(u32, Vec<u8>)>) -> (i32, i32) {
    let name: &[u8] = rng.pick(&[&b"f"[..], b"d", b"link", b"d/g", b"nope", b""]);
    let at = rng.ptr(1).min(MEMORY - 8);
    inputs.push((at, name.to_vec()));
    (at as i32, name.len() as i32)
}

/// One random call of a random function.
fn generate(rng: &mut Rng) -> Call {
    let module = rng.pick(&MODULES);
    let (name, _) = rng.pick(FUNCTIONS);
    let mut inputs = Vec::new();
    let fd = |rng: &mut Rng| rng.pick(&[0, 0, 1, 3, 3, 4, 5, 6, 77]);
    let p = |rng: &mut Rng, align: u32| rng.ptr(align) as i32;
    let n = |rng: &mut Rng| rng.len() as i32;
    let i = Val::I32;
    let args: Vec<Val> = match name {
        "fd_read" | "fd_write" => {
            let (iovs, count) = iovecs(rng, &mut inputs);
            vec![i(fd(rng)), i(iovs as i32), i(count as i32), i(p(rng, 4))]
        }
        "fd_pread" => {
            let (iovs, count) = iovecs(rng, &mut inputs);
            let at = rng.pick(&[0i64, 5, 2999, 1 << 31, -1]);
            vec![
                i(fd(rng)),
                i(iovs as i32),
                i(count as i32),
                Val::I64(at),
                i(p(rng, 4)),
            ]
        }
        "random_get" => vec![i(p(rng, 1)), i(rng.below(300) as i32)],
        "fd_readdir" => vec![
            i(fd(rng)),
            i(p(rng, 1)),
            i(n(rng)),
            Val::I64(rng.pick(&[0, 1, 2, 3, 1 << 40])),
            i(p(rng, 4)),
        ],
        "path_readlink" => {
            let (path, len) = path(rng, &mut inputs);
            vec![i(3), i(path), i(len), i(p(rng, 1)), i(n(rng)), i(p(rng, 4))]
        }
        "clock_time_get" => vec![i(rng.pick(&[0, 1, 2, 3, 9])), Val::I64(1), i(p(rng, 8))],
        "clock_res_get" => vec![i(rng.pick(&[0, 1, 2, 3, 9])), i(p(rng, 8))],
        "fd_prestat_get" | "fd_filestat_get" | "fd_fdstat_get" | "fd_tell" => {
            vec![i(fd(rng)), i(p(rng, 8))]
        }
        "fd_prestat_dir_name" => vec![i(fd(rng)), i(p(rng, 1)), i(n(rng))],
        "path_filestat_get" => {
            let (path, len) = path(rng, &mut inputs);
            vec![i(3), i(rng.pick(&[0, 1])), i(path), i(len), i(p(rng, 8))]
        }
        "poll_oneoff" => {
            let count = rng.pick(&[0u32, 1, 2, 5]);
            let size = if module == "wasi_unstable" { 56 } else { 48 };
            let mut subs = Vec::new();
            for k in 0..count {
                let mut record = vec![0u8; size];
                record[0..8].copy_from_slice(&u64::from(k).to_le_bytes());
                if rng.below(2) == 0 {
                    // A relative clock subscription (monotonic).
                    let at = size - 32;
                    record[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
                    record[at + 8..at + 16].copy_from_slice(&rng.below(1000).to_le_bytes());
                } else {
                    record[8] = 1; // fd_read
                    record[16..20].copy_from_slice(&(fd(rng) as u32).to_le_bytes());
                }
                subs.extend_from_slice(&record);
            }
            let at = rng.ptr(8).min(MEMORY - 512) & !7;
            inputs.push((at, subs));
            vec![i(at as i32), i(p(rng, 8)), i(count as i32), i(p(rng, 4))]
        }
        "args_get" | "environ_get" | "args_sizes_get" => vec![i(p(rng, 4)), i(p(rng, 1))],
        "fd_seek" => vec![
            i(fd(rng)),
            Val::I64(rng.pick(&[0, 7, -1, 1 << 40])),
            i(rng.pick(&[0, 1, 2, 3])),
            i(p(rng, 8)),
        ],
        "path_open" => {
            let (path, len) = path(rng, &mut inputs);
            vec![
                i(3),
                i(rng.pick(&[0, 1])),
                i(path),
                i(len),
                i(rng.pick(&[0, 1, 2])),
                Val::I64(rng.pick(&[0, -1, 0x3f])),
                Val::I64(0),
                i(0),
                i(p(rng, 4)),
            ]
        }
        other => unreachable!("{other} has no generator"),
    };
    Call {
        export: format!("{module}.{name}"),
        args,
        inputs,
    }
}

/// One Store running the module traced.
struct Side {
    store: Store<crate::p1::DeterministicP1Ctx>,
    instance: Instance,
    recorder: Recorder,
}

impl Side {
    fn new(engine: &Engine, module: &Module, mode: Mode) -> Side {
        let config = DeterminismConfig::new()
            .args(["prog", "ab"])
            .env([("K", "v"), ("EMPTY", "")])
            .stdin((0..5000u32).map(|b| (b * 7 + 3) as u8).collect::<Vec<u8>>())
            .preopen(
                "/",
                VirtualFs::new()
                    .file("f", (0..3000u32).map(|b| b as u8).collect::<Vec<u8>>())
                    .dir("d")
                    .file("d/g", "x")
                    .symlink("link", "f"),
            );
        let mut store = Store::new(engine, config.build_p1());
        let recorder = Recorder::new(usize::MAX);
        let instance = mode
            .instantiate(&p1_linker(engine), &mut store, module, &recorder)
            .unwrap();
        Side {
            store,
            instance,
            recorder,
        }
    }

    /// Fills memory with `junk` (complemented if `flip`), writes the
    /// inputs, runs `call`; the memory before and after, the result, and
    /// the call's recorded regions (`None` if it trapped).
    fn run(&mut self, call: &Call, junk: &[u8], flip: bool) -> Ran {
        let memory = self.instance.get_memory(&mut self.store, "memory").unwrap();
        let data = memory.data_mut(&mut self.store);
        for (byte, j) in data.iter_mut().zip(junk) {
            *byte = if flip { !j } else { *j };
        }
        for (at, bytes) in &call.inputs {
            let at = *at as usize;
            data[at..at + bytes.len()].copy_from_slice(bytes);
        }
        let before = data.to_vec();
        let func: Func = self
            .instance
            .get_func(&mut self.store, &call.export)
            .unwrap();
        let mut result = [Val::I32(0)];
        let outcome = func.call(&mut self.store, &call.args, &mut result);
        let after = memory.data(&self.store).to_vec();
        let trace = self.recorder.trace();
        let event = trace.events().last().unwrap();
        let regions = outcome.is_ok().then(|| {
            event
                .writes
                .iter()
                .map(|write| match write {
                    Write::Bytes { offset, len, .. } => (*offset, *len),
                    Write::MemoryDigest(_) => panic!("{call:?}: whole-memory digest"),
                })
                .collect()
        });
        Ran {
            before,
            after,
            result: outcome.map(|()| result[0].unwrap_i32()).ok(),
            regions,
        }
    }
}

struct Ran {
    before: Vec<u8>,
    after: Vec<u8>,
    result: Option<i32>,
    regions: Option<Vec<(u32, u32)>>,
}

/// Runs `calls` generated calls from `seed` on two Stores and checks each
/// call's recorded regions against the bytes it changed.
fn check_generated_calls(seed: u64, calls: usize, mode: Mode) {
    let engine = Engine::default();
    let module = Module::new(&engine, module_wat()).unwrap();
    let mut rng = Rng(seed);
    let (mut a, mut b) = (
        Side::new(&engine, &module, mode),
        Side::new(&engine, &module, mode),
    );
    let mut junk = vec![0u8; MEMORY as usize];
    let mut checked = 0;
    for index in 0..calls {
        let call = generate(&mut rng);
        for chunk in junk.chunks_mut(8) {
            let word = rng.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        let (x, y) = (a.run(&call, &junk, false), b.run(&call, &junk, true));
        let context = format!("seed {seed}, call {index}: {call:?}");
        assert_eq!(x.result, y.result, "{context}");
        assert_eq!(x.regions, y.regions, "{context}");
        let Some(regions) = x.regions else {
            continue;
        };
        checked += 1;
        let mut recorded = vec![false; MEMORY as usize];
        let mut total = 0u64;
        for &(offset, len) in &regions {
            let end = offset as usize + len as usize;
            assert!(
                len > 0 && end <= MEMORY as usize,
                "{context}: empty or out-of-bounds region {offset:#x}+{len}"
            );
            recorded[offset as usize..end].fill(true);
            total += u64::from(len);
        }
        let mut input = vec![false; MEMORY as usize];
        for (at, bytes) in &call.inputs {
            input[*at as usize..*at as usize + bytes.len()].fill(true);
        }
        let mut distinct = 0u64;
        for at in 0..MEMORY as usize {
            let changed = x.before[at] != x.after[at] || y.before[at] != y.after[at];
            assert!(
                !changed || recorded[at],
                "{context}: byte {at:#x} changed but is not recorded in {regions:x?}"
            );
            assert!(
                !recorded[at] || changed || input[at],
                "{context}: byte {at:#x} is recorded in {regions:x?} but was not written"
            );
            distinct += u64::from(recorded[at]);
        }
        // Regions overlap only where a call writes one place twice (a read
        // into a buffer over its own `nread`, an argument table over its
        // strings): a few bytes, never a region recorded twice over.
        assert!(
            total <= distinct + 16,
            "{context}: {total} bytes recorded over {distinct} distinct ones: {regions:x?}"
        );
    }
    assert!(
        checked > calls / 4,
        "only {checked} of {calls} calls returned"
    );
}

/// The served functions called straight from the tracer (what the audit
/// records). Through proxies ([`super::instantiate_traced`]) every call is
/// recorded from its signature instead, as a stock run must be.
#[test]
fn served_calls_record_exactly_the_bytes_they_write() {
    for seed in 0..3 {
        check_generated_calls(seed, 150, Mode::Served);
    }
}
