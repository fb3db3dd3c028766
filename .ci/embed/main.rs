//! An embedder outside this repository, on the wasmtime of the adapter it
//! depends on (.ci/embed.sh writes its Cargo.toml in a temporary folder):
//! runs a preview1 module and a preview2 component through the crate's
//! public API, twice each in fresh Stores, and prints each program's audit
//! digest for the script to compare with another wasmtime major's.
//!
//! The same source builds against every major's crate (the script builds it
//! on 46 and on 50). Usage: `embed <module.wasm> <component.wasm>`; prints
//! `<path> <digest> <digest of every field but fuel> <fuel>` per program.

use deterministic_wasi_ctx::audit::{AuditConfig, Fingerprint, Verdict, audit, hex};
use deterministic_wasi_ctx::{DeterminismConfig, engine, p1, p2};

/// Runs the module's `_start` in a fresh Store; its stdout.
fn run_module(path: &str) -> wasmtime::Result<Vec<u8>> {
    let engine = engine::deterministic_engine()?;
    let module = wasmtime::Module::from_file(&engine, path)?;
    let mut linker = wasmtime::Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    let mut ctx = DeterminismConfig::new().capture_output(true).build_p1();
    ctx.set_guest_module(&module);
    let mut store = engine::deterministic_store(&engine, ctx, 10_000_000_000)?;
    let instance = linker.instantiate(&mut store, &module)?;
    let ended = instance
        .get_typed_func::<(), ()>(&mut store, "_start")?
        .call(&mut store, ());
    // `proc_exit(0)` ends the call with the backend's exit error.
    match ended {
        Ok(()) => {}
        Err(e) if e.downcast_ref::<wasmtime_wasi::I32Exit>().map(|x| x.0) == Some(0) => {}
        Err(e) => return Err(e),
    }
    Ok(store.data().output().stdout())
}

/// Runs the component's `wasi:cli/run` in a fresh Store; its stdout.
fn run_component(path: &str) -> wasmtime::Result<Vec<u8>> {
    let engine = engine::deterministic_engine()?;
    let component = wasmtime::component::Component::from_file(&engine, path)?;
    let mut linker = wasmtime::component::Linker::new(&engine);
    p2::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    let ctx = DeterminismConfig::new().capture_output(true).build_p2();
    let mut store = engine::deterministic_store(&engine, ctx, 10_000_000_000)?;
    let command =
        wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)?;
    match command.wasi_cli_run().call_run(&mut store)? {
        Ok(()) => Ok(store.data().output().stdout()),
        Err(()) => wasmtime::bail!("{path}: wasi:cli/run returned an error"),
    }
}

fn main() -> wasmtime::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module, component] = args.as_slice() else {
        wasmtime::bail!("usage: embed <module.wasm> <component.wasm>");
    };
    for (path, run) in [
        (module, run_module as fn(&str) -> wasmtime::Result<Vec<u8>>),
        (component, run_component),
    ] {
        let first = run(path)?;
        let second = run(path)?;
        if first != second {
            wasmtime::bail!("{path}: two fresh Stores wrote different stdout");
        }
        let report = audit(&std::fs::read(path)?, &AuditConfig::default())?;
        if report.verdict() != Verdict::Deterministic {
            wasmtime::bail!("{path}: the audit says {}", report.verdict().name());
        }
        let fields = Fingerprint::of(&report.outcome).fields;
        let mut without_fuel = blake3::Hasher::new();
        for (name, value) in fields.iter().filter(|(name, _)| name != "fuel consumed") {
            without_fuel.update(name.as_bytes()).update(&[0]);
            without_fuel.update(value.as_bytes()).update(&[0]);
        }
        println!(
            "{path} {} {} {}",
            hex(&report.digest()),
            without_fuel.finalize().to_hex(),
            report.outcome.fuel_consumed
        );
    }
    Ok(())
}
