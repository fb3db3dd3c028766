//! The rule on hand-written modules: heights, releases on every exit, the
//! counter's index, and the depth at which recursion traps.

use super::{FRAME_BASE, info::ModuleInfo, instrument};
use crate::engine;
use wasmtime::{Instance, Module, Store, Trap};

/// The max height of the first defined function of `wat`.
fn height_of(wat: &str) -> u32 {
    let wasm = wat::parse_str(wat).expect("test module parses");
    let info = ModuleInfo::read(&wasm).expect("module info");
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.expect("parses") {
            let ty = info.func_types[info.imported_funcs as usize];
            return super::height::max_height(&info, ty, &body).expect("height");
        }
    }
    panic!("no function body")
}

/// Instruments `wat` with `limit`, calls its `run` export and returns its
/// result or trap.
fn run(wat: &str, limit: u32) -> Result<i32, Trap> {
    let wasm = wat::parse_str(wat).expect("test module parses");
    let wasm = instrument(&wasm, limit).expect("instruments");
    let engine = engine::deterministic_engine().expect("engine");
    let module = Module::new(&engine, &wasm).expect("instrumented module validates");
    let mut store = Store::new(&engine, ());
    store.set_fuel(100_000_000).expect("fuel");
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .expect("run export");
    f.call(&mut store, ())
        .map_err(|e| *e.downcast_ref::<Trap>().expect("a trap"))
}

#[test]
fn heights_follow_blocks_and_polymorphic_stacks() {
    assert_eq!(height_of("(module (func))"), 0);
    assert_eq!(
        height_of("(module (func (result i32) i32.const 1 i32.const 2 i32.add))"),
        2
    );
    // A block's parameters stay counted once; its results replace them.
    assert_eq!(
        height_of(
            "(module (func (result i32) i32.const 1 i32.const 2
                (block (param i32 i32) (result i32) i32.add) ))"
        ),
        2
    );
    // After `unreachable` the stack restarts at the block's base: the pops
    // of `i32.add` do not go below it and its push counts from there.
    assert_eq!(
        height_of(
            "(module (func (result i32) i32.const 1 drop
                (block (result i32) unreachable i32.add)))"
        ),
        1
    );
    // Values left under `unreachable` are gone: what follows counts from
    // the base (2, not 4).
    assert_eq!(
        height_of(
            "(module (func (result i32) (block (result i32)
                i32.const 1 i32.const 2 unreachable i32.const 3 i32.const 4 i32.add)))"
        ),
        2
    );
    assert_eq!(
        height_of(
            "(module (func (block i32.const 1 i32.const 2 br 0
                i32.const 3 i32.const 4 drop drop)))"
        ),
        2
    );
    // `br` resets too: the values after it count from the base.
    assert_eq!(
        height_of(
            "(module (func i32.const 1 i32.const 1 i32.const 1 drop drop drop
                (block br 0 i32.const 1 drop)))"
        ),
        3
    );
    // `else` restarts at the base.
    assert_eq!(
        height_of(
            "(module (func (param i32) local.get 0
                (if (then i32.const 1 i32.const 2 drop drop)
                    (else i32.const 3 drop))))"
        ),
        2
    );
    // A call pops its arguments and pushes its results.
    assert_eq!(
        height_of(
            r#"(module (import "m" "g" (func $g (param i32 i32 i32) (result i32 i32)))
                (func (result i32) i32.const 0 i32.const 0 i32.const 0 call $g drop))"#
        ),
        3
    );
}

/// A recursion that counts its calls in memory and returns the count when
/// it traps is not possible (a trap returns nothing), so the count is read
/// from memory afterwards: here `run` recurses `$f` until the trap.
const RECURSE: &str = r#"(module
    (memory (export "memory") 1)
    (func $f (param i32) (local i64 i64)
        (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
        (call $f (local.get 0)))
    (func (export "run") (result i32) (call $f (i32.const 0)) (i32.const 0)))"#;

/// Calls before the trap of [`RECURSE`] under `limit`.
fn recursion_depth(limit: u32) -> i32 {
    let wasm = instrument(&wat::parse_str(RECURSE).expect("parses"), limit).expect("instruments");
    let engine = engine::deterministic_engine().expect("engine");
    let module = Module::new(&engine, &wasm).expect("validates");
    let mut store = Store::new(&engine, ());
    store.set_fuel(100_000_000).expect("fuel");
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let f = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .expect("run");
    let error = f.call(&mut store, ()).expect_err("recursion traps");
    assert_eq!(error.downcast_ref(), Some(&Trap::UnreachableCodeReached));
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let mut count = [0u8; 4];
    memory.read(&store, 0, &mut count).expect("read");
    i32::from_le_bytes(count)
}

#[test]
fn recursion_traps_at_the_depth_the_rule_gives() {
    // run: cost 2 + 0 + 0 + 1 (its result) = 3. $f: 2 + 1 param + 2 locals
    // + height 3 (address, loaded value, constant in the store) = 8.
    let run_cost = FRAME_BASE + 1;
    let f_cost = FRAME_BASE + 1 + 2 + 3;
    for limit in [100, 1000, 4099] {
        let expected = (limit - run_cost) / f_cost;
        assert_eq!(recursion_depth(limit) as u32, expected, "limit {limit}");
    }
}

#[test]
fn a_frame_larger_than_the_limit_traps_on_entry() {
    let wat = r#"(module (func (export "run") (result i32) (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) i32.const 7))"#;
    // cost = 2 + 0 + 40 + 1 = 43: above LEAF_MAX_COST, so counted.
    assert_eq!(run(wat, 43), Ok(7));
    assert_eq!(run(wat, 42), Err(Trap::UnreachableCodeReached));
}

#[test]
fn small_leaves_are_exempt_and_their_callers_reserve_room_for_them() {
    // $small: 2 + 1 + 26 + 3 = 32 (exempt); $big: 2 + 1 + 27 + 3 = 33 (not).
    let module = |callee: &str| {
        format!(
            r#"(module
            (func $small (param i32) (result i32) (local {small})
                (i32.add (local.get 0) (i32.add (local.get 0) (local.get 0))))
            (func $big (param i32) (result i32) (local {big})
                (i32.add (local.get 0) (i32.add (local.get 0) (local.get 0))))
            (func (export "run") (result i32) (call {callee} (i32.const 1))))"#,
            small = "i64 ".repeat(26),
            big = "i64 ".repeat(27),
        )
    };
    // `run` costs 2 + 0 + 0 + 1 = 3, plus the largest exempt leaf (32):
    // 35, whichever it calls; the big leaf adds its own 33 when entered.
    assert_eq!(run(&module("$small"), 35), Ok(3));
    assert_eq!(
        run(&module("$small"), 34),
        Err(Trap::UnreachableCodeReached)
    );
    assert_eq!(run(&module("$big"), 68), Ok(3));
    assert_eq!(run(&module("$big"), 67), Err(Trap::UnreachableCodeReached));
}

/// `$leave` leaves through `how` each of 1000 times it is called; with a
/// limit of 100 slots any exit that forgets its release traps within 50
/// calls. It calls `$nop` first, so that it is not an exempt leaf.
fn leaves_through(body: &str) -> String {
    format!(
        r#"(module
        (type $t (func (param i32) (result i32)))
        (table 1 funcref) (elem (i32.const 0) $other)
        (func $other (param i32) (result i32) (local.get 0))
        (func $nop)
        (func $leave (param i32) (result i32) (call $nop) {body})
        (func (export "run") (result i32) (local $i i32)
            (loop $l
                (drop (call $leave (local.get $i)))
                (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                    (i32.const 1000))))
            (local.get $i)))"#
    )
}

#[test]
fn every_exit_releases_the_frame() {
    let bodies = [
        "(local.get 0)",
        "(return (local.get 0))",
        "(br 0 (local.get 0))",
        "(drop (br_if 0 (local.get 0) (i32.const 1))) (i32.const 5)",
        "(drop (br_if 0 (local.get 0) (i32.const 0))) (i32.const 5)",
        "(block (result i32) (br_table 0 1 (local.get 0) (local.get 0)))",
        "(block (result i32) (br_table 1 0 (local.get 0) (local.get 0)))",
        "(return_call $other (local.get 0))",
        "(return_call_indirect (type $t) (local.get 0) (i32.const 0))",
    ];
    for body in bodies {
        assert_eq!(run(&leaves_through(body), 100), Ok(1000), "{body}");
    }
}

#[test]
fn multi_value_bodies_and_existing_globals_keep_working() {
    let wat = r#"(module
        (import "env" "g" (global $imported i32))
        (global $mine (mut i32) (i32.const 40))
        (func $nop)
        (func $pair (result i32 i32) (call $nop) (br 0 (global.get $mine) (i32.const 2)))
        (func (export "run") (result i32)
            (global.set $mine (i32.add (call $pair)))
            (global.get $mine)))"#;
    let wasm = wat::parse_str(wat).expect("parses");
    let wasm = instrument(&wasm, 1000).expect("instruments");
    let engine = engine::deterministic_engine().expect("engine");
    let module = Module::new(&engine, &wasm).expect("validates");
    let globals: Vec<_> = module.imports().map(|i| i.name().to_string()).collect();
    assert_eq!(globals, ["g"]);
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000_000).expect("fuel");
    let g = wasmtime::Global::new(
        &mut store,
        wasmtime::GlobalType::new(wasmtime::ValType::I32, wasmtime::Mutability::Const),
        wasmtime::Val::I32(1),
    )
    .expect("global");
    let instance = Instance::new(&mut store, &module, &[g.into()]).expect("instantiates");
    let f = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .expect("run");
    assert_eq!(f.call(&mut store, ()).expect("runs"), 42);
}

/// The core module of the component tests: `f(n)` recurses `n` deep (cost
/// 6 a frame: 2 + 1 parameter + a height of 3).
const RECURSIVE_CORE_MODULE: &str = r#"(core module $m
    (func $f (export "f") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0))
        (then (i32.const 0))
        (else (i32.add (i32.const 1)
                       (call $f (i32.sub (local.get 0) (i32.const 1))))))))"#;

/// [`RECURSIVE_CORE_MODULE`], instantiated once and its `f` lifted as
/// `run`, inside a component; `extra` is spliced after that instance (more
/// instances, or nothing).
fn recursive_component(extra: &str) -> String {
    format!(
        r#"(component
          {RECURSIVE_CORE_MODULE}
          (core instance $i (instantiate $m))
          {extra}
          (func (export "run") (param "n" u32) (result u32)
            (canon lift (core func $i "f"))))"#
    )
}

/// [`recursive_component`] in the binary format.
fn recursive_component_wasm(extra: &str) -> Vec<u8> {
    wat::parse_str(recursive_component(extra)).expect("test component parses")
}

/// Instruments `component` with `limit` and calls its `run` with `n`.
fn run_component(component: &[u8], limit: u32, n: u32) -> Result<u32, Trap> {
    use wasmtime::component::{Component, Linker};
    let wasm = super::prepare(component, Some(limit)).expect("instruments");
    let engine = engine::deterministic_engine().expect("engine");
    let component = Component::new(&engine, &*wasm).expect("instrumented component validates");
    let mut store = Store::new(&engine, ());
    store.set_fuel(100_000_000).expect("fuel");
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .expect("instantiates");
    let run = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "run")
        .expect("run export");
    run.call(&mut store, (n,))
        .map(|(depth,)| depth)
        .map_err(|e| *e.downcast_ref::<Trap>().expect("a trap"))
}

#[test]
fn a_components_core_modules_trap_at_the_depth_the_rule_gives() {
    let component = recursive_component_wasm("");
    // 60 slots hold 10 frames of 6: f(9) down to f(0).
    assert_eq!(run_component(&component, 60, 9), Ok(9));
    assert_eq!(
        run_component(&component, 60, 10),
        Err(Trap::UnreachableCodeReached)
    );
    // Without a limit the component is compiled as written.
    assert_eq!(
        &*super::prepare(&component, None).expect("as is"),
        &component[..]
    );
}

#[test]
fn each_core_instance_of_a_component_gets_an_equal_share() {
    let two = recursive_component_wasm("(core instance $j (instantiate $m))");
    assert_eq!(super::component::instantiations(&two), Ok(2));
    // 120 slots for two instances: 60 each, the same boundary as above.
    assert_eq!(run_component(&two, 120, 9), Ok(9));
    assert_eq!(
        run_component(&two, 120, 10),
        Err(Trap::UnreachableCodeReached)
    );
}

#[test]
fn nested_components_are_rewritten_and_counted() {
    let inner = recursive_component("");
    let nested = wat::parse_str(format!(
        r#"(component
          (component $inner {inner_body})
          (core module $empty)
          (core instance (instantiate $empty))
          (instance $x (instantiate $inner))
          (export "run" (func $x "run")))"#,
        // The inner component's fields, without its own `(component` and `)`.
        inner_body = &inner["(component".len()..inner.len() - 1]
    ))
    .expect("test component parses");
    assert_eq!(super::component::instantiations(&nested), Ok(2));
    assert_eq!(run_component(&nested, 120, 9), Ok(9));
    assert_eq!(
        run_component(&nested, 120, 10),
        Err(Trap::UnreachableCodeReached)
    );
}

#[test]
fn a_component_without_core_modules_is_copied_byte_for_byte() {
    let component = wat::parse_str(
        r#"(component
          (import "host" (func $h (param "x" u32) (result u32)))
          (type $t (record (field "a" u32) (field "b" string)))
          (export "h" (func $h))
          (@custom "note" "kept"))"#,
    )
    .expect("test component parses");
    assert_eq!(
        super::instrument(&component, 100).expect("rewrites"),
        component
    );
}

/// A component nested deeper than the rewriter goes is refused with an
/// error (not a host stack overflow); one at the bound is rewritten.
#[test]
fn deeply_nested_components_get_an_error_not_a_host_overflow() {
    let nested = |depth: u32| {
        let mut wat = String::from("(component)");
        for _ in 0..depth {
            wat = format!("(component {wat})");
        }
        wat::parse_str(&wat).expect("test component parses")
    };
    assert_eq!(
        nested_binary(3),
        nested(3),
        "the binary builder matches the text"
    );
    let max = super::component::MAX_NESTING;
    assert!(super::instrument(&nested_binary(max as usize), 100).is_ok());
    let error = super::instrument(&nested_binary(max as usize + 1), 100).expect_err("refused");
    assert!(error.to_string().contains("nested more than"), "{error}");
    // Far deeper than any host stack could recurse (written directly: the
    // text parser would recurse too): still one error.
    assert!(super::instrument(&nested_binary(100_000), 100).is_err());
}

/// Empty components nested `depth` deep, in the binary format, built from
/// the outside in (each level: the component header, then a component
/// section holding the next level).
fn nested_binary(depth: usize) -> Vec<u8> {
    const HEADER: &[u8] = b"\0asm\x0d\0\x01\0";
    // A size in LEB128, as wasm-encoder writes every `u32`.
    let leb = |n: usize, out: &mut Vec<u8>| {
        wasm_encoder::Encode::encode(&u32::try_from(n).expect("a test size"), out)
    };
    // lengths[k]: the size of the component k levels above the innermost.
    let mut lengths = vec![HEADER.len()];
    for _ in 0..depth {
        let inner = *lengths.last().expect("the innermost length");
        let mut size = Vec::new();
        leb(inner, &mut size);
        lengths.push(HEADER.len() + 1 + size.len() + inner);
    }
    let mut out = Vec::with_capacity(lengths[depth]);
    for &inner in lengths[..depth].iter().rev() {
        out.extend_from_slice(HEADER);
        out.push(4); // a component section
        leb(inner, &mut out);
    }
    out.extend_from_slice(HEADER);
    out
}
