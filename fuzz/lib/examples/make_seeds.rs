//! Writes seed inputs for each target: the first `count` seeded buffers a
//! target accepts, as `<dir>/<target>/seed-<i>` (rename to their SHA-1
//! afterwards; see `corpus/README.md`).
//!
//! `cargo run -p deterministic-wasi-ctx-fuzz --example make_seeds -- <dir> <count>`
use deterministic_wasi_ctx_fuzz::*;

type Target = fn(&mut arbitrary::Unstructured) -> arbitrary::Result<()>;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("output dir"));
    let count: usize = args.next().map_or(4, |s| s.parse().expect("count"));
    let targets: [(&str, Target, usize); 7] = [
        ("p1_smith", p1_smith::run, 2048),
        ("p1_script", p1_script::run, 512),
        ("p2_script", p2_script::run, 1024),
        ("backend_diff", backend_diff::run, 512),
        ("strategy_diff", strategy_diff::run, 2048),
        ("baseline", baseline::run, 2048),
        ("p2_fs", p2_fs::run, 512),
    ];
    for (name, run, len) in targets {
        let out = dir.join(name);
        std::fs::create_dir_all(&out).expect("mkdir");
        let mut kept = 0;
        for (i, data) in seeded_inputs(0x5eed, 200, len).iter().enumerate() {
            if kept == count {
                break;
            }
            if run(&mut arbitrary::Unstructured::new(data)).is_ok() {
                std::fs::write(out.join(format!("seed-{i}")), data).expect("write");
                kept += 1;
            }
        }
        println!("{name}: {kept} seeds");
    }
}
