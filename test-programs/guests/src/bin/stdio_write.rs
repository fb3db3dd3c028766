//! Writes known lines to stdout and stderr and echoes stdin.
use std::io::Read;

fn main() {
    println!("hello stdout");
    eprintln!("hello stderr");
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("stdin");
    println!("stdin {} bytes: {input:?}", input.len());
    let args: Vec<String> = std::env::args().collect();
    let env: Vec<(String, String)> = std::env::vars().collect();
    println!("args {args:?} env {env:?}");
}
