//! The WASI 0.3 build of the `three_ways` guest program (the preview1 and
//! preview2 builds are `guests/src/bin/three_ways.rs`, one directory up):
//! the same calls in the same order, the same stdout, the same final tree.

use test_programs_p3_guests::wasi::clocks::{monotonic_clock, system_clock};
use test_programs_p3_guests::wasi::random::random;
use test_programs_p3_guests::*;

struct ThreeWays;

impl exports::wasi::cli::run::Guest for ThreeWays {
    async fn run() -> Result<(), ()> {
        let mut out = String::new();
        let wall = system_clock::now();
        out.push_str(&format!("wall {}.{:09}\n", wall.seconds, wall.nanoseconds));
        let start = monotonic_clock::now();
        let bytes = random::get_random_bytes(16);
        out.push_str(&format!("random {}\n", hex(&bytes)));
        monotonic_clock::wait_for(5_000_000).await;
        out.push_str(&format!("slept {}\n", monotonic_clock::now() - start));

        let dir = preopen("/");
        let text = format!("made of {}\n", hex(&bytes));
        write_file(&dir, "out.txt", text.into_bytes())
            .await
            .expect("write");
        let (back, _) = read_file(&dir, "out.txt", 4096).await.expect("read");
        out.push_str(&format!(
            "read back {:?}\n",
            String::from_utf8(back).unwrap()
        ));
        out.push_str(&format!("listing {:?}\n", list(&dir).await.expect("list")));
        let missing = read_file(&dir, "missing", 4096).await.err();
        out.push_str(&format!("missing {}\n", missing.is_some()));
        print(out.into_bytes()).await;
        Ok(())
    }
}

export!(ThreeWays);
