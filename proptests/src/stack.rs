//! Call graphs for the logical stack limit
//! ([`deterministic_wasi_ctx::engine::stack`]): a generator of recursive
//! modules, their rendering as WAT, and a reference model of the frame-cost
//! rule that predicts how many calls are made before the limit traps.
//!
//! The model is written from the rule as the README and the module docs
//! state it (`own = 2 + params + locals + max operand height`; a function
//! that calls nothing and owns at most 32 slots is exempt, and every calling
//! function adds the largest exempt leaf's cost; checked on entry, released
//! on every exit, a tail call releasing before the callee enters); it knows
//! the heights of the generated bodies from their shape, not by
//! interpreting them.

use proptest::prelude::*;

/// The fixed part of a frame's cost, as documented.
const FRAME_BASE: u64 = 2;

/// The largest cost of a function that calls nothing and is left
/// uninstrumented, as documented.
const LEAF_MAX_COST: u64 = 32;

/// How a function calls the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// `call`.
    Direct,
    /// `call_indirect` through the table (slot = function index).
    Indirect,
    /// `return_call`.
    Tail,
    /// `return_call_indirect`.
    TailIndirect,
}

impl CallKind {
    fn is_tail(self) -> bool {
        matches!(self, CallKind::Tail | CallKind::TailIndirect)
    }

    fn is_indirect(self) -> bool {
        matches!(self, CallKind::Indirect | CallKind::TailIndirect)
    }
}

/// How the leaf helper leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Falls off the end.
    FallThrough,
    /// `return`.
    Return,
    /// `br 0` (the body's label).
    Br,
    /// A taken `br_if 0`.
    BrIf,
    /// `br_table` whose only target is the body's label.
    BrTable,
}

/// One function of the recursion.
#[derive(Clone, Debug)]
pub struct Func {
    /// Parameters (alternately `i32` and `i64`).
    pub params: u32,
    /// Declared `i64` locals.
    pub locals: u32,
    /// `i32` values pushed under the callee's arguments.
    pub extra: u32,
    /// Calls of the helper before the next call.
    pub helper_calls: u32,
    /// The function called next.
    pub callee: usize,
    /// How it is called.
    pub kind: CallKind,
}

/// A module: `run` calls function 0, each function calls the helper and
/// then its callee, forever; every function and the helper add one to the
/// `i32` at address 0 on entry.
#[derive(Clone, Debug)]
pub struct CallGraph {
    /// The functions, `$f0` first.
    pub funcs: Vec<Func>,
    /// The helper's declared locals.
    pub helper_locals: u32,
    /// How the helper leaves.
    pub helper_exit: Exit,
    /// The logical limit to instrument with.
    pub limit: u32,
}

fn call_kind() -> impl Strategy<Value = CallKind> {
    prop_oneof![
        Just(CallKind::Direct),
        Just(CallKind::Indirect),
        Just(CallKind::Tail),
        Just(CallKind::TailIndirect),
    ]
}

fn exit() -> impl Strategy<Value = Exit> {
    prop_oneof![
        Just(Exit::FallThrough),
        Just(Exit::Return),
        Just(Exit::Br),
        Just(Exit::BrIf),
        Just(Exit::BrTable),
    ]
}

/// One function calling one of `n`: small and deep locals, small and big
/// operand stacks.
fn func(n: usize) -> impl Strategy<Value = Func> {
    (
        0u32..8,
        prop_oneof![0u32..4, 0u32..300],
        prop_oneof![0u32..4, 0u32..200],
        0u32..4,
        0..n,
        call_kind(),
    )
        .prop_map(|(params, locals, extra, helper_calls, callee, kind)| Func {
            params,
            locals,
            extra,
            helper_calls,
            callee,
            kind,
        })
}

/// Call graphs of 1 to 4 functions (self, mutual, indirect and tail
/// recursion) whose endless walk from `$f0` goes deeper, under limits of
/// 1 to 20,000 slots.
pub fn call_graph() -> impl Strategy<Value = CallGraph> {
    (1usize..=4)
        .prop_flat_map(|n| {
            (
                proptest::collection::vec(func(n), n),
                0u32..50,
                exit(),
                prop_oneof![1u32..100, 1u32..20_000],
            )
        })
        .prop_map(|(funcs, helper_locals, helper_exit, limit)| CallGraph {
            funcs,
            helper_locals,
            helper_exit,
            limit,
        })
        .prop_filter(
            "a cycle of tail calls alone never exhausts the stack",
            |g| !g.cycle_is_all_tail(),
        )
}

impl CallGraph {
    /// Whether the cycle the walk from `$f0` ends in has only tail calls.
    fn cycle_is_all_tail(&self) -> bool {
        let mut seen = vec![false; self.funcs.len()];
        let mut at = 0;
        while !seen[at] {
            seen[at] = true;
            at = self.funcs[at].callee;
        }
        // `at` is on the cycle: walk it once.
        let start = at;
        loop {
            if !self.funcs[at].kind.is_tail() {
                return false;
            }
            at = self.funcs[at].callee;
            if at == start {
                return true;
            }
        }
    }

    /// The arguments of a call to function `j`.
    fn args(&self, j: usize) -> String {
        (0..self.funcs[j].params)
            .map(|p| {
                if p % 2 == 0 {
                    "(i32.const 1) "
                } else {
                    "(i64.const 1) "
                }
            })
            .collect()
    }

    /// The module as WAT.
    pub fn wat(&self) -> String {
        let n = self.funcs.len();
        let count = "(i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))";
        let mut wat = String::from("(module (memory (export \"memory\") 1)\n");
        for (i, f) in self.funcs.iter().enumerate() {
            let params: String = (0..f.params)
                .map(|p| if p % 2 == 0 { " i32" } else { " i64" })
                .collect();
            wat += &format!("(type $t{i} (func (param{params})))\n");
        }
        let names: String = (0..n).map(|i| format!(" $f{i}")).collect();
        wat += &format!("(table {n} funcref) (elem (i32.const 0){names})\n");
        let exit = match self.helper_exit {
            Exit::FallThrough => "(local.get 0)",
            Exit::Return => "(return (local.get 0))",
            Exit::Br => "(br 0 (local.get 0))",
            Exit::BrIf => "(drop (br_if 0 (local.get 0) (local.get 0))) (i32.const 5)",
            Exit::BrTable => "(br_table 0 (local.get 0) (local.get 0))",
        };
        wat += &format!(
            "(func $helper (param i32) (result i32) {} {count} {exit})\n",
            locals(self.helper_locals)
        );
        for (i, f) in self.funcs.iter().enumerate() {
            let j = f.callee;
            let helpers = "(drop (call $helper (i32.const 7))) ".repeat(f.helper_calls as usize);
            let extra = "(i32.const 1) ".repeat(f.extra as usize);
            let args = self.args(j);
            let call = match f.kind {
                CallKind::Direct => format!("(call $f{j} {args})"),
                CallKind::Indirect => {
                    format!("(call_indirect (type $t{j}) {args} (i32.const {j}))")
                }
                CallKind::Tail => format!("(return_call $f{j} {args})"),
                CallKind::TailIndirect => {
                    format!("(return_call_indirect (type $t{j}) {args} (i32.const {j}))")
                }
            };
            let drops = if f.kind.is_tail() {
                String::new()
            } else {
                "drop ".repeat(f.extra as usize)
            };
            wat += &format!(
                "(func $f{i} (type $t{i}) {} {count} {helpers} {extra} {call} {drops})\n",
                locals(f.locals)
            );
        }
        wat += &format!("(func (export \"run\") (call $f0 {})))\n", self.args(0));
        wat
    }

    /// The helper's frame cost by the rule: its one parameter, its locals,
    /// and its highest operand stack: the counter update's 3 values (its
    /// exits need at most 2, a value and a condition).
    fn helper_cost(&self) -> u64 {
        let height = 3;
        FRAME_BASE + 1 + u64::from(self.helper_locals) + height
    }

    /// Whether the helper (which calls nothing) is an exempt leaf.
    fn helper_is_exempt(&self) -> bool {
        self.helper_cost() <= LEAF_MAX_COST
    }

    /// What every calling function adds for the largest exempt leaf: the
    /// helper's cost if it is one (the other functions all call).
    fn reserve(&self) -> u64 {
        if self.helper_is_exempt() {
            self.helper_cost()
        } else {
            0
        }
    }

    /// Function `i`'s frame cost by the rule.
    fn cost(&self, i: usize) -> u64 {
        let f = &self.funcs[i];
        let callee = &self.funcs[f.callee];
        // The counter update needs 3; a helper call 1; the call needs the
        // extra values, the arguments and for an indirect call the index.
        let call = f.extra + callee.params + u32::from(f.kind.is_indirect());
        let height = u64::from(call.max(3));
        FRAME_BASE + u64::from(f.params) + u64::from(f.locals) + height + self.reserve()
    }

    /// The cost of the exported `run`: `$f0`'s arguments on its stack, and
    /// the reserve (it calls).
    fn run_cost(&self) -> u64 {
        FRAME_BASE + u64::from(self.funcs[0].params) + self.reserve()
    }

    /// How many entries (functions and helper) the instrumented module
    /// makes before the limit traps, by the rule.
    pub fn expected_calls(&self) -> u64 {
        let limit = u64::from(self.limit);
        let mut used = 0u64;
        let enter = |cost: u64, used: &mut u64| {
            if *used + cost > limit {
                return false;
            }
            *used += cost;
            true
        };
        if !enter(self.run_cost(), &mut used) {
            return 0;
        }
        let mut calls = 0;
        let mut at = 0;
        loop {
            if !enter(self.cost(at), &mut used) {
                return calls;
            }
            calls += 1;
            for _ in 0..self.funcs[at].helper_calls {
                if self.helper_is_exempt() {
                    calls += 1;
                    continue;
                }
                if !enter(self.helper_cost(), &mut used) {
                    return calls;
                }
                calls += 1;
                used -= self.helper_cost();
            }
            if self.funcs[at].kind.is_tail() {
                used -= self.cost(at);
            }
            at = self.funcs[at].callee;
        }
    }
}

/// `n` declared `i64` locals.
fn locals(n: u32) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("(local{})", " i64".repeat(n as usize))
    }
}
