//! The logical stack limit against its reference model: generated call
//! graphs (self, mutual, indirect and tail recursion, deep locals, big
//! operand stacks, a helper leaving by every kind of exit) trap with
//! `unreachable` after exactly the number of calls the rule gives, on
//! Cranelift and on Pulley.

use deterministic_wasi_ctx::engine::{self, stack};
use proptest::prelude::*;
use proptests::stack::{CallGraph, call_graph};
use proptests::{config, regressions};
use std::sync::OnceLock;
use wasmtime::{Engine, Instance, Module, Store, Trap};

fn engines() -> &'static [(&'static str, Engine); 2] {
    static ENGINES: OnceLock<[(&'static str, Engine); 2]> = OnceLock::new();
    ENGINES.get_or_init(|| {
        let mut pulley = engine::deterministic_config();
        pulley
            .target(engine::PULLEY_HOST_TARGET)
            .expect("pulley target");
        [
            ("cranelift", engine::deterministic_engine().expect("engine")),
            ("pulley", Engine::new(&pulley).expect("pulley engine")),
        ]
    })
}

/// Runs the instrumented graph on `engine`: its trap and the calls counted
/// in memory.
fn run(engine: &Engine, graph: &CallGraph) -> (Option<Trap>, u64) {
    let wasm = wat::parse_str(graph.wat()).expect("generated WAT parses");
    let wasm = stack::instrument(&wasm, graph.limit).expect("instruments");
    let module = Module::new(engine, &wasm).expect("instrumented module compiles");
    let mut store = Store::new(engine, ());
    store.set_fuel(u64::MAX / 2).expect("fuel");
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .expect("run");
    let trap = run
        .call(&mut store, ())
        .err()
        .map(|e| *e.downcast_ref::<Trap>().expect("a trap"));
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let mut count = [0u8; 4];
    memory.read(&store, 0, &mut count).expect("read");
    (trap, u64::from(u32::from_le_bytes(count)))
}

proptest! {
    #![proptest_config(config(256, regressions!("stack_depth")))]

    /// Every generated graph traps with `unreachable` after the model's
    /// number of calls, the same on both strategies.
    #[test]
    fn trap_depth_matches_the_rule(graph in call_graph()) {
        let expected = graph.expected_calls();
        for (name, engine) in engines() {
            let (trap, calls) = run(engine, &graph);
            prop_assert_eq!(trap, Some(Trap::UnreachableCodeReached), "{}", name);
            prop_assert_eq!(calls, expected, "{} on\n{}", name, graph.wat());
        }
    }
}
