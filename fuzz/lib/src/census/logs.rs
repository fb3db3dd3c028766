//! Classes of `replay_log`'s inputs: what is done to the recorded log
//! before the replay ([`Mutation`]), and for a changed call record, which
//! part changes ([`Change`]). The script it records is `p1_script`'s
//! [`Script`](deterministic_wasi_ctx::script::Script), whose calls
//! `p1_script`'s census classifies.
//!
//! The matches are exhaustive: a new kind of mutation or change does not
//! compile until it has a class here, and the census then fails until the
//! generator produces it.

use crate::replay_log::{Change, LogInput, Mutation};

/// The census' functions: the mutation of the whole log, and the change of
/// one call's record.
pub const LOG_OPS: [&str; 2] = ["mutation", "change"];

/// The kinds of [`Mutation`].
const MUTATIONS: [&str; 6] = ["none", "flip-bit", "cut", "call", "drop", "repeat"];

/// The kinds of [`Change`].
const CHANGES: [&str; 10] = [
    "result",
    "arg",
    "name",
    "write-offset",
    "write-len",
    "write-byte",
    "extra-write",
    "exit",
    "trap",
    "inputs",
];

/// Every class that can apply to `op` (see [`LOG_OPS`]).
pub fn log_universe(op: &str) -> Vec<String> {
    let kinds: &[&str] = match op {
        "mutation" => &MUTATIONS,
        "change" => &CHANGES,
        _ => &[],
    };
    kinds.iter().map(|kind| format!("kind:{kind}")).collect()
}

/// The classes of one input, per census function: its mutation, and the
/// change when the mutation changes a call.
pub fn log_classes(input: &LogInput) -> Vec<(&'static str, Vec<String>)> {
    let mutation = match &input.mutation {
        Mutation::None => "none",
        Mutation::FlipBit { .. } => "flip-bit",
        Mutation::Cut { .. } => "cut",
        Mutation::Call { .. } => "call",
        Mutation::Drop { .. } => "drop",
        Mutation::Repeat { .. } => "repeat",
    };
    let mut out = vec![("mutation", vec![format!("kind:{mutation}")])];
    if let Mutation::Call { change, .. } = &input.mutation {
        let change = match change {
            Change::Result(_) => "result",
            Change::Arg { .. } => "arg",
            Change::Name(_) => "name",
            Change::WriteOffset { .. } => "write-offset",
            Change::WriteLen { .. } => "write-len",
            Change::WriteByte { .. } => "write-byte",
            Change::ExtraWrite { .. } => "extra-write",
            Change::Exit(_) => "exit",
            Change::Trap => "trap",
            Change::Inputs => "inputs",
        };
        out.push(("change", vec![format!("kind:{change}")]));
    }
    out
}
