//! One program three ways: this file is its preview1 module and preview2
//! component; `p3/guests/examples/three_ways.rs` is its WASI 0.3 component.
//! It reads the wall clock, takes 16 random bytes, sleeps 5 ms, writes a file
//! made of the bytes to the directory preopened as `/`, reads it back, lists
//! the directory and tries a missing file, then prints what it saw in one
//! write. All three builds make the same calls in the same order, so they
//! print the same bytes and leave the same tree.
use std::fmt::Write as _;
use std::fs;
use test_programs_guests::*;

fn main() {
    let mut out = String::new();
    let wall = wall_now();
    writeln!(
        out,
        "wall {}.{:09}",
        wall / 1_000_000_000,
        wall % 1_000_000_000
    )
    .unwrap();
    let start = monotonic_now();
    let bytes = secure_random(16);
    writeln!(out, "random {}", hex(&bytes)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    writeln!(out, "slept {}", monotonic_now() - start).unwrap();

    fs::write("/out.txt", format!("made of {}\n", hex(&bytes))).expect("write");
    let back = fs::read_to_string("/out.txt").expect("read");
    writeln!(out, "read back {back:?}").unwrap();
    let mut names: Vec<String> = fs::read_dir("/")
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().into_string().unwrap())
        .collect();
    names.sort();
    writeln!(out, "listing {names:?}").unwrap();
    writeln!(out, "missing {}", fs::read("/missing").is_err()).unwrap();
    print!("{out}");
}
