//! Concurrent tasks from a script (the `p3_tasks` fuzz target's guest): up
//! to four tasks run at once, each its own list of operations on timers,
//! file streams and its own file, and the program logs every operation as
//! it completes, with the monotonic time since the start.
//!
//! The script is stdin. Byte 0 gives the number of tasks (`1 + b % 4`);
//! then every 3 bytes `s x y` are one operation (at most 48) of task
//! `s % tasks`, of kind `(s / 4) % 8`:
//!
//! | kind | operation | log |
//! |---|---|---|
//! | 0 | `wait-for(x µs)` | `wait` |
//! | 1 | create or truncate the task's file `t<task>`, write `x` bytes through one stream | `write x ok` |
//! | 2 | open it (created if missing), append `x` bytes through one stream | `append x ok` |
//! | 3 | read the task's file through one stream, `1 + y % 32` bytes a read | `read <len> <hash>` |
//! | 4 | read `input` the same way, `1 + x % 64` bytes a read | `input <len> <hash>` |
//! | 5 | `stat-at` the task's file | `size <n>` |
//! | 6 | `unlink-file-at` the task's file | `unlink ok` |
//! | 7 | `wait-for(10 y µs)` | `wait` |
//!
//! The bytes written are `y, y+1, ...` (wrapping). A failed operation logs
//! `error <code>` after its name. Each line is `<task>.<n> <log> @<ns>`
//! (`n` counting the task's own operations), in completion order; after
//! every task is done come `final <name> <size> <hash>` for each regular
//! file of the preopen and `final <name> <type>` for anything else, sorted
//! by name. `<hash>` is FNV-1a (64 bits, hex).

use std::cell::RefCell;
use test_programs_p3_guests::wasi::cli::stdin;
use test_programs_p3_guests::wasi::clocks::monotonic_clock;
use test_programs_p3_guests::wasi::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};
use test_programs_p3_guests::*;

/// The most tasks and operations a script runs.
const MAX_TASKS: u8 = 4;
const MAX_OPS: usize = 48;

/// FNV-1a, 64 bits.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `len` bytes counting up from `first`.
fn pattern(first: u8, len: u8) -> Vec<u8> {
    (0..len).map(|i| first.wrapping_add(i)).collect()
}

async fn read_stdin() -> Vec<u8> {
    let (mut rx, done) = stdin::read_via_stream();
    let mut script = Vec::new();
    loop {
        let (result, buf) = rx.read(Vec::with_capacity(4096)).await;
        match result {
            StreamResult::Complete(_) => script.extend_from_slice(&buf),
            StreamResult::Dropped | StreamResult::Cancelled => break,
        }
    }
    drop(rx);
    done.await.expect("stdin");
    script
}

async fn open(
    dir: &Descriptor,
    name: &str,
    how: OpenFlags,
    flags: DescriptorFlags,
) -> Result<Descriptor, ErrorCode> {
    dir.open_at(PathFlags::empty(), name.to_string(), how, flags)
        .await
}

/// Writes `bytes` through one stream (appending or at offset 0).
async fn send(file: &Descriptor, bytes: Vec<u8>, append: bool) -> Result<(), ErrorCode> {
    let (mut tx, rx) = wit_stream::new();
    let done = match append {
        true => file.append_via_stream(rx),
        false => file.write_via_stream(rx, 0),
    };
    let left = tx.write_all(bytes).await;
    assert!(left.is_empty(), "the file took part of the data");
    drop(tx);
    done.await
}

/// Reads `name` through one stream, `chunk` bytes a read: its length and hash.
async fn read(dir: &Descriptor, name: &str, chunk: usize) -> Result<(usize, u64), ErrorCode> {
    let file = open(dir, name, OpenFlags::empty(), DescriptorFlags::READ).await?;
    let (mut rx, done) = file.read_via_stream(0);
    let mut data = Vec::new();
    loop {
        let (result, buf) = rx.read(Vec::with_capacity(chunk)).await;
        match result {
            StreamResult::Complete(_) => data.extend_from_slice(&buf),
            StreamResult::Dropped | StreamResult::Cancelled => break,
        }
    }
    drop(rx);
    done.await?;
    Ok((data.len(), fnv(&data)))
}

/// One operation, as its log text.
async fn run_op(dir: &Descriptor, task: u8, kind: u8, x: u8, y: u8) -> String {
    let own = format!("t{task}");
    let answer = |name: &str, r: Result<String, ErrorCode>| match r {
        Ok(text) => format!("{name}{text}"),
        Err(e) => format!("{name} error {e:?}"),
    };
    match kind {
        0 => {
            monotonic_clock::wait_for(u64::from(x) * 1_000).await;
            "wait".into()
        }
        1 | 2 => {
            let append = kind == 2;
            let how = match append {
                true => OpenFlags::CREATE,
                false => OpenFlags::CREATE | OpenFlags::TRUNCATE,
            };
            let result = async {
                let file = open(dir, &own, how, DescriptorFlags::WRITE).await?;
                send(&file, pattern(y, x), append).await
            }
            .await;
            let name = if append { "append" } else { "write" };
            answer(&format!("{name} {x}"), result.map(|()| " ok".into()))
        }
        3 => answer(
            "read",
            read(dir, &own, 1 + usize::from(y % 32))
                .await
                .map(|(len, hash)| format!(" {len} {hash:016x}")),
        ),
        4 => answer(
            "input",
            read(dir, "input", 1 + usize::from(x % 64))
                .await
                .map(|(len, hash)| format!(" {len} {hash:016x}")),
        ),
        5 => answer(
            "size",
            dir.stat_at(PathFlags::empty(), own)
                .await
                .map(|stat| format!(" {}", stat.size)),
        ),
        6 => answer(
            "unlink",
            dir.unlink_file_at(own).await.map(|()| " ok".into()),
        ),
        _ => {
            monotonic_clock::wait_for(u64::from(y) * 10_000).await;
            "wait".into()
        }
    }
}

struct Tasks;

impl exports::wasi::cli::run::Guest for Tasks {
    async fn run() -> Result<(), ()> {
        let script = read_stdin().await;
        let dir = preopen("/");
        let start = monotonic_clock::now();
        let tasks = 1 + script.first().copied().unwrap_or(0) % MAX_TASKS;
        let mut ops: Vec<Vec<(u8, u8, u8)>> = vec![Vec::new(); usize::from(tasks)];
        for op in script
            .get(1..)
            .unwrap_or_default()
            .chunks_exact(3)
            .take(MAX_OPS)
        {
            let (s, x, y) = (op[0], op[1], op[2]);
            ops[usize::from(s % tasks)].push(((s / 4) % 8, x, y));
        }
        let log = RefCell::new(String::new());
        futures::future::join_all(ops.iter().enumerate().map(|(task, list)| {
            let (dir, log) = (&dir, &log);
            async move {
                for (n, &(kind, x, y)) in list.iter().enumerate() {
                    let text = run_op(dir, task as u8, kind, x, y).await;
                    let at = monotonic_clock::now() - start;
                    log.borrow_mut()
                        .push_str(&format!("{task}.{n} {text} @{at}\n"));
                }
            }
        }))
        .await;
        let mut out = log.into_inner();
        let (rx, done) = dir.read_directory();
        let mut entries = rx.collect().await;
        done.await.expect("list");
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        for entry in entries {
            let name = entry.name;
            match entry.type_ {
                DescriptorType::RegularFile => {
                    let (len, hash) = read(&dir, &name, 4096).await.expect("read back");
                    out.push_str(&format!("final {name} {len} {hash:016x}\n"));
                }
                other => out.push_str(&format!("final {name} {other:?}\n")),
            }
        }
        print(out.into_bytes()).await;
        Ok(())
    }
}

export!(Tasks);
