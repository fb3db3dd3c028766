//! Builds every program in `guests/examples` for wasm32-unknown-unknown (a
//! core module with wit-bindgen's component type in a custom section), makes
//! each a WASI 0.3 component with `wit-component`, and writes `programs.rs`
//! into `OUT_DIR`: one path constant per program (`P3_<NAME>`) and a table.
//!
//! Rust has no target for WASI 0.3: the component is the core module plus
//! the types wit-bindgen recorded, with no adapter. The toolchain is chosen
//! by `../toolchain.rs`, as for the preview1 and preview2 guests; with none
//! that has the target, the build fails naming the fix (`rustup target add
//! wasm32-unknown-unknown`; the README's test command does it).

use std::env;
use std::fmt::Write as _;
use std::path::PathBuf;

include!("../toolchain.rs");

const TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let guests = manifest_dir.join("guests");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    let target_dir = out_dir.join("guests-target");
    for watched in ["src", "examples", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", guests.join(watched).display());
    }

    let programs = program_names(&guests.join("examples"));

    let status = guest_cargo(&[TARGET])
        .args([
            "build",
            "--release",
            "--locked",
            "--examples",
            "--target",
            TARGET,
        ])
        .arg("--manifest-path")
        .arg(guests.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .expect("failed to run cargo for the WASI 0.3 guest programs");
    assert!(
        status.success(),
        "building the WASI 0.3 guest programs failed (see the output above)"
    );

    let mut code = String::new();
    let mut table = String::from("/// Every program: (name, WASI 0.3 component path).\n");
    table.push_str("pub const PROGRAMS: &[(&str, &str)] = &[\n");
    for name in &programs {
        let module_path = target_dir
            .join(TARGET)
            .join("release/examples")
            .join(format!("{name}.wasm"));
        let module = std::fs::read(&module_path).unwrap_or_else(|e| {
            panic!(
                "{name} is not built as {} (is it a cdylib [[example]] in guests/Cargo.toml?): {e}",
                module_path.display()
            )
        });
        let component = wit_component::ComponentEncoder::default()
            .module(&module)
            .and_then(|encoder| encoder.validate(true).encode())
            .unwrap_or_else(|e| panic!("{name}: making the component failed: {e:?}"));
        let path = out_dir.join(format!("{name}.component.wasm"));
        std::fs::write(&path, component).expect("write the component");
        let constant = format!("P3_{}", name.to_uppercase());
        writeln!(code, "/// `{name}` as a WASI 0.3 component.").unwrap();
        writeln!(
            code,
            "pub const {constant}: &str = {:?};",
            path.display().to_string()
        )
        .unwrap();
        writeln!(table, "    ({name:?}, {constant}),").unwrap();
        // The `p3_tasks` fuzz target's guest, embedded: OSS-Fuzz runs the
        // fuzzers on a machine without this build tree.
        if name == "tasks" {
            writeln!(
                code,
                "/// The `tasks` component's bytes (embedded).\npub const P3_TASKS_BYTES: &[u8] = include_bytes!({:?});",
                path.display().to_string()
            )
            .unwrap();
        }
    }
    table.push_str("];\n");
    code.push_str(&table);
    std::fs::write(out_dir.join("programs.rs"), code).expect("write programs.rs");
}
