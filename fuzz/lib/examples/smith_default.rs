//! Writes `count` wasm-smith modules made with wasm-smith's default settings,
//! except that they import nothing and export a `_start: [] -> []` (so the
//! audit can instantiate and run them) and leave out the proposals the
//! deterministic engine turns off (threads, GC and typed function
//! references, exceptions), as `<dir>/smith-<i>.wasm`: the
//! held-out set of the stack limit's measurement (README, "Stack limit").
//! Module `i` is a pure function of `i` (seeded 4 KiB of input each).
//!
//! `cargo run -p deterministic-wasi-ctx-fuzz --example smith_default -- <dir> <count>`
//! then `deterministic-wasi-ctx audit --backend all --strategy all
//! --max-stack default <dir>/*.wasm`.

use arbitrary::Unstructured;
use deterministic_wasi_ctx_fuzz::seeded_inputs;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: smith_default <dir> <count>"));
    let count: usize = args.next().map_or(300, |s| s.parse().expect("count"));
    std::fs::create_dir_all(&dir).expect("creates the output directory");
    let exports = wat::parse_str(r#"(module (func (export "_start")))"#).expect("exports parse");
    let mut written = 0;
    for (i, data) in seeded_inputs(0xdefa_0175, count, 4096).iter().enumerate() {
        let config = wasm_smith::Config {
            max_imports: 0,
            exports: Some(exports.clone()),
            threads_enabled: false,
            shared_everything_threads_enabled: false,
            gc_enabled: false,
            exceptions_enabled: false,
            ..wasm_smith::Config::default()
        };
        match wasm_smith::Module::new(config, &mut Unstructured::new(data)) {
            Ok(module) => {
                std::fs::write(dir.join(format!("smith-{i:03}.wasm")), module.to_bytes())
                    .expect("writes a module");
                written += 1;
            }
            Err(e) => eprintln!("input {i}: {e}"),
        }
    }
    eprintln!("{written} modules in {}", dir.display());
}
