//! A logical stack limit: core modules are rewritten before compilation so
//! that deep recursion traps at the same call depth on every host, engine
//! and execution strategy, long before the native stack could overflow.
//!
//! # The rule
//!
//! Every function the module *defines* (imported ones cost nothing) has an
//! own frame cost, in slots, `own(f)` below, made of:
//!
//! - [`FRAME_BASE`] (2) stands for the return address and frame link;
//! - `params(f)` is the number of parameters of its type;
//! - `locals(f)` is the number of locals its body declares;
//! - `max_height(f)` is the highest the operand stack gets in its body,
//!   counting each value as one slot whatever its type, found by an abstract
//!   interpretation of the body that tracks only how many values are on the
//!   stack: each operator pops and pushes its arity; a block's values start
//!   from the height under its parameters; after `unreachable`, `br`,
//!   `br_table`, `return`, a tail call or a throw the stack is polymorphic
//!   and restarts at the enclosing block's base.
//!
//! A function that calls nothing (no `call`, `call_indirect`, `call_ref`,
//! tail call, `resume` or `switch`) and whose own cost is at most
//! [`LEAF_MAX_COST`] (32) is an *exempt leaf*: it is not instrumented.
//! Instead every function that does call something adds, to its own cost,
//! the largest exempt leaf's cost in the module (0 if there is none), so
//! a leaf frame on top of the deepest counted one is still paid for:
//!
//! ```text
//! cost(f) = own(f) + (largest exempt leaf, if f calls anything)
//! own(f)  = FRAME_BASE + params(f) + locals(f) + max_height(f)
//! ```
//!
//! A mutable `i32` global, the *counter*, is appended after every existing
//! global (no existing index moves; it is not exported). Each defined
//! function but the exempt leaves then:
//!
//! 1. on entry, traps with `unreachable` if `counter + cost(f)` would pass
//!    the limit, else adds `cost(f)` to the counter (a function whose cost
//!    alone passes the limit traps on every entry);
//! 2. runs its original body wrapped in one block, so that falling off the
//!    end and every `br`, `br_if` or `br_table` to the body's outermost
//!    label reach the same place, where `cost(f)` is taken off again;
//! 3. takes `cost(f)` off before every `return`, `return_call`,
//!    `return_call_indirect` and `return_call_ref` (a tail call releases the
//!    caller's frame before the callee takes its own).
//!
//! A trap needs no release: the run is over. The audit therefore sees a
//! logical stack exhaustion as the wasm trap **`UnreachableCodeReached`**,
//! after the same number of host calls and with the same fuel everywhere.
//!
//! # What it does not cover
//!
//! - An instance called again after a trap keeps the counter the trap left
//!   (less room); the audit never does that.
//! - An exception caught by `try_table` leaves the frames it unwound
//!   counted: the count only ever goes up, so the result is still the same
//!   everywhere, just stricter.
//! - A component's core modules are each rewritten by this rule, each with
//!   `limit / n` slots, `n` being the number of core instantiations the
//!   component names (nested components' counted once): frames of several
//!   instances can be live at once, each instance with its own counter, and
//!   together they stay within the limit. A nested component instantiated
//!   several times multiplies its instances past that count; a native
//!   overflow it then causes is still reported by the audit as a bug, never
//!   as a result. Components nested more than 100 deep are refused with an
//!   error (the rewriting recurses once per level).
//!
//! # Example
//!
//! ```
//! use deterministic_wasi_ctx::engine::stack;
//!
//! let wasm = wat::parse_str("(module (func $f (export \"f\") (call $f)))")?;
//! let limited = stack::instrument(&wasm, 1000)?;
//! let engine = deterministic_wasi_ctx::engine::deterministic_engine()?;
//! let module = wasmtime::Module::new(&engine, &limited)?;
//! let mut store = wasmtime::Store::new(&engine, ());
//! store.set_fuel(1_000_000)?;
//! let f = wasmtime::Instance::new(&mut store, &module, &[])?
//!     .get_typed_func::<(), ()>(&mut store, "f")?;
//! let error = f.call(&mut store, ()).unwrap_err();
//! // cost(f) = 2 + 0 + 0 + 0: the 501st nested call traps.
//! assert_eq!(error.downcast_ref(), Some(&wasmtime::Trap::UnreachableCodeReached));
//! # Ok::<(), wasmtime::Error>(())
//! ```

use std::borrow::Cow;

mod component;
mod height;
mod info;
mod rewrite;

/// The fixed part of every frame's cost, in slots ([module docs](self)).
pub const FRAME_BASE: u32 = 2;

/// The largest own cost, in slots, of a function that calls nothing and is
/// therefore left as written ([module docs](self)).
pub const LEAF_MAX_COST: u32 = 32;

/// The limit `--max-stack` uses when given no number, in slots, checked to
/// fire before the native stack (wasmtime's
/// [`MAX_WASM_STACK`](super::MAX_WASM_STACK)) can overflow, under Cranelift
/// and Pulley, on x86-64, aarch64 and s390x, with at least 1.5 times that
/// much native stack to spare. s390x's Cranelift frames (each with its
/// 160-byte register save area) set it: see the README, "Stack limit".
pub const DEFAULT_MAX_STACK: u32 = 8_192;

/// Rewrites `wasm`, a core module or a component in the binary format, so
/// that it traps once its frames cost more than `limit` slots ([module
/// docs](self)).
///
/// Cost: one pass to read each module, one to rewrite it, each linear in its
/// size; the rewritten module is a little larger (about 20 bytes a
/// function). A component's other sections are copied as they are.
///
/// # Errors
///
/// If `wasm` does not parse, or a body is malformed in a way that hides its
/// stack effect (such a module would not validate).
pub fn instrument(wasm: &[u8], limit: u32) -> wasmtime::Result<Vec<u8>> {
    let rewritten = if wasmparser::Parser::is_component(wasm) {
        component::instantiations(wasm).and_then(|n| component::rewrite(wasm, limit / n.max(1)))
    } else {
        instrument_module(wasm, limit)
    };
    rewritten.map_err(|e| wasmtime::format_err!("stack limit: {e}"))
}

/// [`instrument`] for a core module.
fn instrument_module(wasm: &[u8], limit: u32) -> Result<Vec<u8>, String> {
    use wasm_encoder::reencode::Reencode;

    let info = info::ModuleInfo::read(wasm)?;
    let mut rewriter = rewrite::Rewriter::new(info, limit);
    let mut module = wasm_encoder::Module::new();
    rewriter
        .parse_core_module(&mut module, wasmparser::Parser::new(0), wasm)
        .map_err(|e| e.to_string())?;
    Ok(module.finish())
}

/// `wasm` as it should be compiled under an optional limit: unchanged
/// without one, [`instrument`]ed with one.
///
/// # Errors
///
/// As [`instrument`].
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::engine::stack;
///
/// let wasm = wat::parse_str("(module)")?;
/// assert_eq!(&*stack::prepare(&wasm, None)?, &wasm[..]);
/// assert_ne!(&*stack::prepare(&wasm, Some(100))?, &wasm[..]);
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn prepare(wasm: &[u8], limit: Option<u32>) -> wasmtime::Result<Cow<'_, [u8]>> {
    match limit {
        None => Ok(Cow::Borrowed(wasm)),
        Some(limit) => instrument(wasm, limit).map(Cow::Owned),
    }
}

#[cfg(test)]
mod tests;
