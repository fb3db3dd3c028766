//! `versions_diff`: the crate on wasmtime 46 and on wasmtime 50, compared.
//!
//! Each input decodes as a `p1_smith` input does (a preview1 backend, the
//! context settings and a wasm-smith module with a prelude of WASI calls;
//! `p1_smith`'s seeds are this target's). The module runs once on wasmtime
//! 46 (on the backend the input picks: wasi-common or wasmtime-wasi) and
//! once on wasmtime 50 (wasmtime-wasi: wasi-common ended at 46), both with
//! Cranelift, in fresh Stores on the same configuration. The two
//! fingerprints must be equal field for field, as `audit --wasmtime all`
//! compares runs: the same host calls and answers, exit status or trap,
//! fuel, memory and trees. A poisoned run (a host limit) is not compared.
//! A difference panics with both fingerprints and the module's text.
//!
//! Two differences are wasmtime's, and listed (README, "Wasmtime
//! versions"), both about fuel:
//!
//! - wasmtime 50 charges fuel for the constant expressions it evaluates at
//!   instantiation beyond a plain number (`ref.func`, `ref.null`,
//!   `global.get`, extended constants), 46 does not
//!   ([`charged_const_exprs`]): fuel may be higher on 50;
//! - wasmtime 46 charges a bulk operation's fuel (one per byte or element)
//!   before it runs, also when it then fails, 50 once it has succeeded
//!   ([`bulk_ops`], found by this target): fuel may be higher on 46.
//!
//! For a module with either, the fuel may differ only in the direction its
//! rules allow, and every other field must be equal; if one run ran out of
//! fuel first (the other did not, or later, after more host calls), it must
//! be the side a rule charges more (what followed is not comparable); if both ran out in a bulk operation, the memory may
//! differ too (46 stopped before the operation, 50 after it). For any other
//! module every field must be equal, fuel included.

// `on50` compiles two of the fuzz library's files against wasmtime 50:
// their paths name the crate `deterministic_wasi_ctx` and wasmtime
// `wasmtime`, which in this package are the wasmtime 50 builds.
extern crate dwc50 as deterministic_wasi_ctx;
extern crate wasmtime50 as wasmtime;

pub mod on50;

use arbitrary::Unstructured;
use dwc46::audit::{Backend, Fingerprint, first_difference};
use fuzz::ContextInput;

/// One execution.
///
/// # Errors
///
/// Only when the input runs out (no test).
///
/// # Panics
///
/// On a difference between the versions, or a module one version compiles
/// and the other does not.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let input = fuzz::p1_smith::decode(u)?;
    fuzz::dump(&input.wasm);
    let config50 = config50(&input.context);
    if let Some(difference) = compare(&input.wasm, input.backend, &input.context, &config50, 0) {
        // Again with the calls kept, to name the first that differs.
        let detailed = compare(&input.wasm, input.backend, &input.context, &config50, 1_000);
        panic!(
            "versions_diff: wasmtime 46 ({}) and wasmtime 50 differ: {}\ncontext: {:?}\nmodule:\n{}",
            input.backend.name(),
            detailed.unwrap_or(difference),
            input.context,
            fuzz::wat_of(&input.wasm)
        );
    }
    Ok(())
}

/// The wasmtime 50 side's configuration for `context`: what
/// [`ContextInput::config`] builds on 46, through 50's builder (the
/// clock policy and the trees are the core's types, shared by both).
pub fn config50(context: &ContextInput) -> dwc50::DeterminismConfig {
    let model = context.model();
    dwc50::DeterminismConfig::new()
        .seed(model.seed)
        .wall_start(model.wall_start)
        .monotonic_start(model.monotonic_start)
        .clock_policy(model.policy)
        .preopen("/", fuzz::tree().clone())
        .preopen_read_only("/ro", fuzz::tree().clone())
}

/// Runs `wasm` on 46 (`backend`, `context`) and on 50 (`config50`), each
/// keeping `max_events` calls; the first difference between the two
/// fingerprints, if any (`None` as well when a run is poisoned).
///
/// # Panics
///
/// When a version cannot compile or link the module.
pub fn compare(
    wasm: &[u8],
    backend: Backend,
    context: &ContextInput,
    config50: &dwc50::DeterminismConfig,
    max_events: usize,
) -> Option<String> {
    let (fields46, events46, poisoned46) = run46(wasm, backend, context, max_events);
    let (fields50, events50, poisoned50) = run50(wasm, config50, max_events);
    if poisoned46 || poisoned50 {
        return None;
    }
    let a = Fingerprint::from_parts(fields46, events46);
    let b = Fingerprint::from_parts(fields50, events50);
    let (consts, bulk) = (charged_const_exprs(wasm), bulk_ops(wasm));
    if !consts && !bulk {
        return first_difference(&a, &b, None).map(|d| shown(d, &a, &b));
    }
    // The listed fuel differences: which side may have consumed more.
    let (more46, more50) = (bulk, consts);
    let fuel = |f: &Fingerprint| {
        f.field(FUEL)
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or_default()
    };
    let out_of_fuel = |f: &Fingerprint| f.status().starts_with("trap OutOfFuel");
    let calls = |f: &Fingerprint| {
        f.field(HOST_CALLS)
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or_default()
    };
    let (f46, f50) = (fuel(&a), fuel(&b));
    let first = match (out_of_fuel(&a), out_of_fuel(&b)) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        (true, true) if calls(&a) != calls(&b) => Some(calls(&a) < calls(&b)),
        _ => None,
    };
    if let Some(on46) = first {
        // The side charged more ran out first (the only one to run out, or
        // the one with fewer calls), having made no more calls than the
        // other by then; what followed is not comparable.
        let (ran_out, other, allowed) = if on46 {
            (&a, &b, more46)
        } else {
            (&b, &a, more50)
        };
        return (!allowed || calls(ran_out) > calls(other)).then(|| {
            format!(
                "status: {} on 46, {} on 50 (only the side a listed fuel rule charges more may run out first)",
                a.status_text(),
                b.status_text()
            )
        });
    }
    if (f46 > f50 && !more46) || (f50 > f46 && !more50) {
        return Some(format!(
            "fuel consumed: {f46} on 46, {f50} on 50 (no listed rule lets this side use more)"
        ));
    }
    // Both out of fuel in a bulk operation: 46 stopped before it, 50 after
    // it (then charged), so the memory it wrote may differ; nothing else.
    let both_ran_out = bulk && out_of_fuel(&a) && out_of_fuel(&b);
    let named: Vec<&str> = a
        .fields
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| *n != FUEL && !(both_ran_out && n.starts_with("memory ")))
        .collect();
    first_difference(&a, &b, Some(&named)).map(|d| shown(d, &a, &b))
}

/// A difference with both runs' fields.
fn shown(difference: impl std::fmt::Display, a: &Fingerprint, b: &Fingerprint) -> String {
    format!(
        "{difference}\nwasmtime 46: {:?}\nwasmtime 50: {:?}",
        a.fields, b.fields
    )
}

/// Whether `wasm` has a bulk operation whose fuel the two majors charge at
/// different times (README, "Wasmtime versions"): `memory.copy`,
/// `memory.fill`, `memory.init`, `table.copy`, `table.fill`, `table.init`
/// or `table.grow`. Wasmtime 46 charges one fuel per unit before the
/// operation runs, also when it then fails (a table that cannot grow, an
/// access out of bounds); wasmtime 50 charges once it has succeeded. So a
/// run may use more fuel on 46, never less, and run out of it first. An
/// unreadable module counts as having one.
pub fn bulk_ops(wasm: &[u8]) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { return true };
        if let Payload::CodeSectionEntry(body) = payload {
            let Ok(mut ops) = body.get_operators_reader() else {
                return true;
            };
            while !ops.eof() {
                match ops.read() {
                    Ok(
                        Operator::MemoryCopy { .. }
                        | Operator::MemoryFill { .. }
                        | Operator::MemoryInit { .. }
                        | Operator::TableCopy { .. }
                        | Operator::TableFill { .. }
                        | Operator::TableInit { .. }
                        | Operator::TableGrow { .. },
                    ) => return true,
                    Ok(_) => {}
                    Err(_) => return true,
                }
            }
        }
    }
    false
}

/// The fingerprint field of the fuel a run consumed.
const FUEL: &str = "fuel consumed";

/// The fingerprint field of the number of host calls.
const HOST_CALLS: &str = "host calls";

/// Whether `wasm` has a constant expression that wasmtime 50 charges fuel
/// for and 46 does not: a global's initializer, a table's initializer, an
/// element or data segment's offset, or an element given as an expression,
/// other than one plain numeric constant. An unreadable module counts as
/// having one (it fails to compile on both versions anyway).
pub fn charged_const_exprs(wasm: &[u8]) -> bool {
    use wasmparser::{DataKind, ElementItems, ElementKind, Operator, Parser, Payload, TableInit};
    let charged = |expr: &wasmparser::ConstExpr| -> bool {
        let mut ops = expr.get_operators_reader();
        let first = ops.read();
        let plain = matches!(
            first,
            Ok(Operator::I32Const { .. }
                | Operator::I64Const { .. }
                | Operator::F32Const { .. }
                | Operator::F64Const { .. }
                | Operator::V128Const { .. })
        );
        !(plain && matches!(ops.read(), Ok(Operator::End)))
    };
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { return true };
        let found = match payload {
            Payload::GlobalSection(globals) => globals
                .into_iter()
                .any(|g| g.map_or(true, |g| charged(&g.init_expr))),
            Payload::TableSection(tables) => tables.into_iter().any(|t| {
                t.map_or(true, |t| matches!(t.init, TableInit::Expr(e) if charged(&e)))
            }),
            Payload::ElementSection(elements) => elements.into_iter().any(|e| {
                e.map_or(true, |e| {
                    let offset = matches!(e.kind, ElementKind::Active { offset_expr, .. } if charged(&offset_expr));
                    offset || matches!(e.items, ElementItems::Expressions(..))
                })
            }),
            Payload::DataSection(data) => data.into_iter().any(|d| {
                d.map_or(true, |d| {
                    matches!(d.kind, DataKind::Active { offset_expr, .. } if charged(&offset_expr))
                })
            }),
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

/// A run's fingerprint parts (fields, events) and whether it was poisoned.
type Parts = (Vec<(String, String)>, Vec<String>, bool);

fn run46(wasm: &[u8], backend: Backend, context: &ContextInput, max_events: usize) -> Parts {
    use dwc46::audit::{Compiled, RunSpec, Strategy};
    let engine = fuzz::shared_engine(Strategy::Cranelift);
    let compiled = Compiled::new(engine, wasm)
        .unwrap_or_else(|e| panic!("wasmtime 46 does not compile the module: {e:?}"));
    compiled
        .check_links(engine, backend)
        .unwrap_or_else(|e| panic!("wasmtime 46 does not link the module: {e:?}"));
    let spec = RunSpec {
        max_events,
        ..fuzz::spec(context.config())
    };
    let outcome = compiled.run(engine, backend, &spec);
    let fingerprint = dwc46::audit::Fingerprint::of(&outcome);
    (
        fingerprint.fields,
        fingerprint.events,
        outcome.is_poisoned(),
    )
}

fn run50(wasm: &[u8], config: &dwc50::DeterminismConfig, max_events: usize) -> Parts {
    use dwc50::audit::{Backend, Compiled, RunSpec};
    let engine = on50::shared_engine(dwc50::audit::Strategy::Cranelift);
    let compiled = Compiled::new(engine, wasm)
        .unwrap_or_else(|e| panic!("wasmtime 50 does not compile the module: {e:?}"));
    compiled
        .check_links(engine, Backend::WasmtimeWasi)
        .unwrap_or_else(|e| panic!("wasmtime 50 does not link the module: {e:?}"));
    let spec = RunSpec {
        max_events,
        ..on50::spec(config.clone())
    };
    let outcome = compiled.run(engine, Backend::WasmtimeWasi, &spec);
    let fingerprint = dwc50::audit::Fingerprint::of(&outcome);
    (
        fingerprint.fields,
        fingerprint.events,
        outcome.is_poisoned(),
    )
}

#[cfg(test)]
mod tests;
