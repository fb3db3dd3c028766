//! Concurrency on purpose: two timers, a sleeping subtask, a read of stdin
//! and four file reads are all in flight at once, and the program prints
//! each as it completes, with the monotonic time since the start. The
//! files are written first, concurrently. Under the crate the order and the
//! times are the same every run (reads complete at once, in the order they
//! were started, and time moves only to the earliest timer when every
//! operation waits); under stock wasmtime-wasi the times are the host's.

use std::cell::RefCell;
use test_programs_p3_guests::wasi::cli::stdin;
use test_programs_p3_guests::wasi::clocks::monotonic_clock;
use test_programs_p3_guests::wasi::random::random;
use test_programs_p3_guests::*;

/// The files: name and size (empty, a few bytes, one and three 16 KiB
/// reads and more).
const FILES: [(&str, usize); 4] = [("empty", 0), ("small", 5), ("one", 16_384), ("big", 40_000)];

struct Race;

impl exports::wasi::cli::run::Guest for Race {
    async fn run() -> Result<(), ()> {
        let start = monotonic_clock::now();
        let events = RefCell::new(Vec::new());
        let event = |what: String| {
            let at = monotonic_clock::now() - start;
            events.borrow_mut().push(format!("+{at} {what}"));
        };
        let dir = preopen("/");

        futures::future::join_all(FILES.iter().map(|&(name, size)| {
            let dir = &dir;
            let event = &event;
            async move {
                let bytes = (0..size).map(|i| (i % 251) as u8).collect();
                write_file(dir, name, bytes).await.expect("write");
                event(format!("wrote {name}"));
            }
        }))
        .await;

        let timer = |name: &'static str, ns: u64| {
            let event = &event;
            async move {
                monotonic_clock::wait_for(ns).await;
                event(format!("{name} timer"));
            }
        };
        let sleeper = async {
            monotonic_clock::wait_for(20_000_000).await;
            write_file(&dir, "late", b"written after 20 ms".to_vec())
                .await
                .expect("write late");
            event("sleeper wrote late".into());
        };
        let input = async {
            let (mut rx, done) = stdin::read_via_stream();
            let mut total = 0;
            loop {
                let (result, buf) = rx.read(Vec::with_capacity(4)).await;
                match result {
                    StreamResult::Complete(_) => total += buf.len(),
                    _ => break,
                }
            }
            drop(rx);
            done.await.expect("stdin");
            event(format!("stdin {total} bytes"));
        };
        let reads = futures::future::join_all(FILES.iter().map(|&(name, size)| {
            let dir = &dir;
            let event = &event;
            async move {
                let (data, reads) = read_file(dir, name, 16_384).await.expect("read");
                assert_eq!(data.len(), size, "{name}");
                event(format!(
                    "read {name}: {} bytes in {reads} reads",
                    data.len()
                ));
            }
        }));
        futures::join!(
            timer("slow", 30_000_000),
            timer("fast", 10_000_000),
            sleeper,
            input,
            reads
        );

        let mut out = events.into_inner().join("\n");
        out.push_str(&format!("\nrandom {:016x}\n", random::get_random_u64()));
        out.push_str(&format!("listing {:?}\n", list(&dir).await.expect("list")));
        print(out.into_bytes()).await;
        Ok(())
    }
}

export!(Race);
