//! One module for every filesystem script: the calls and their data come
//! on stdin instead of being compiled in.
//!
//! A compiled script ([`CompiledFsScript::wasm`]) is a new module per
//! script, and compiling it cost about half of an `fs_diff` execution.
//! The interpreter ([`interpreter_wat`]) is compiled once. Given a
//! script's [`interpreter_stdin`](CompiledFsScript::interpreter_stdin), it
//! makes the same calls with the same arguments, its memory holds the same
//! data at the same offsets, and each result lands at the same address, so
//! [`CompiledFsScript::results`] reads it unchanged. What it adds before
//! the first call of the script is a *preamble*: `fd_read` on stdin until
//! the table and the data are in memory (the count of those reads is kept
//! at [`PREAMBLE_CALLS_AT`]), and `memory.grow` to the script's size.
//!
//! Memory, as the preamble leaves it:
//!
//! ```text
//! 0x0000  count:u32 pages:u32 data_len:u32 0:u32
//! 0x0010  the calls, ENTRY bytes each:
//!         import:u32 result_at:u32 then 9 arguments as u64
//!         (an i32 argument is the low half)
//! 0x0fe0  the preamble's fd_read count (u32)
//! 0x0ff0  the preamble's iovec, then its nread
//! 0x1000  the script's data, as its data segments place it; then its
//!         result slots (zero)
//! ```

use super::{CompiledFsScript, IMPORTS};
use std::fmt::Write as _;

/// Where the data of a script starts (its first input).
const DATA_AT: u32 = 0x1000;
/// Where the calls start.
const CALLS_AT: u32 = 0x10;
/// Bytes per call in the table.
const ENTRY: u32 = 8 + 9 * 8;
/// Where the preamble keeps how many `fd_read` calls it made.
pub const PREAMBLE_CALLS_AT: u32 = 0xfe0;
/// The most calls the table holds.
pub const MAX_INTERPRETED_CALLS: usize = ((PREAMBLE_CALLS_AT - CALLS_AT) / ENTRY) as usize;

// A full table ends before the preamble's words and holds any script
// `FsScript`'s `Arbitrary` draws.
const _: () = assert!(CALLS_AT + ENTRY * MAX_INTERPRETED_CALLS as u32 <= PREAMBLE_CALLS_AT);
const _: () = assert!(MAX_INTERPRETED_CALLS >= super::MAX_OPS);

impl CompiledFsScript {
    /// What the interpreter ([`interpreter_wat`]) reads on stdin to make
    /// this script's calls: `None` when the script has more than
    /// [`MAX_INTERPRETED_CALLS`] calls (compile it instead).
    ///
    /// # Example
    ///
    /// ```
    /// use deterministic_wasi_ctx_core::script::fs::{Fd, FsOp, FsPath, FsScript};
    ///
    /// let script = FsScript {
    ///     ops: vec![FsOp::PathCreateDirectory { dir: Fd(3), path: FsPath::new("out") }],
    /// };
    /// let stdin = script.compile().interpreter_stdin().unwrap();
    /// // The table (4 KiB), then the path's bytes at 0x1000.
    /// assert_eq!(&stdin[0x1000..0x1003], b"out");
    /// ```
    pub fn interpreter_stdin(&self) -> Option<Vec<u8>> {
        let module = &self.module;
        if module.calls.len() > MAX_INTERPRETED_CALLS {
            return None;
        }
        let end = module
            .data
            .iter()
            .map(|(at, bytes)| at + bytes.len() as u32)
            .max()
            .unwrap_or(DATA_AT)
            .max(DATA_AT);
        let mut stdin = vec![0u8; end as usize];
        let mut put = |at: u32, bytes: &[u8]| {
            stdin[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
        };
        put(0, &(module.calls.len() as u32).to_le_bytes());
        put(4, &module.pages.to_le_bytes());
        put(8, &(end - DATA_AT).to_le_bytes());
        for (index, (result_at, call)) in module.calls.iter().enumerate() {
            let entry = CALLS_AT + ENTRY * index as u32;
            let import = IMPORTS
                .iter()
                .position(|(name, _)| *name == call.name)
                .expect("every call is to a listed import");
            put(entry, &(import as u32).to_le_bytes());
            put(entry + 4, &result_at.to_le_bytes());
            for (k, arg) in call.args.iter().enumerate() {
                let value = match *arg {
                    super::I32(v) => u64::from(v),
                    super::I64(v) => v,
                };
                put(entry + 8 + 8 * k as u32, &value.to_le_bytes());
            }
        }
        for (at, bytes) in &module.data {
            put(*at, bytes);
        }
        Some(stdin)
    }
}

/// The interpreter module ([`interpreter_wat`]) as binary WebAssembly.
///
/// # Example
///
/// ```
/// let wasm = deterministic_wasi_ctx_core::script::fs::interpreter_wasm();
/// assert_eq!(&wasm[..4], b"\0asm");
/// ```
pub fn interpreter_wasm() -> Vec<u8> {
    wat::parse_str(interpreter_wat()).expect("the interpreter is valid text")
}

/// The interpreter module, as WebAssembly text: it imports every function
/// a script can call (each from `wasi_snapshot_preview1`), exports its
/// memory and `_start`, and runs the script its stdin holds (see the
/// module's documentation). A stdin that is short, or asks for more
/// memory than there is, traps in the preamble.
///
/// # Example
///
/// ```
/// let wat = deterministic_wasi_ctx_core::script::fs::interpreter_wat();
/// assert!(wat.contains("\"path_open\""));
/// ```
pub fn interpreter_wat() -> String {
    let mut wat = String::from("(module\n");
    for (index, (name, params)) in IMPORTS.iter().enumerate() {
        let _ = writeln!(
            wat,
            "  (import \"wasi_snapshot_preview1\" \"{name}\" (func $f{index} (param {params}) (result i32)))"
        );
    }
    let read = IMPORTS
        .iter()
        .position(|(name, _)| *name == "fd_read")
        .expect("fd_read is listed");
    let _ = write!(
        wat,
        r#"  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  ;; Reads exactly $len bytes of stdin to $dst (traps on an error or an
  ;; early end).
  (func $read_to (param $dst i32) (param $len i32)
    (local $n i32)
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store (i32.const 0xff0) (local.get $dst))
        (i32.store (i32.const 0xff4) (local.get $len))
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (if (call $f{read} (i32.const 0) (i32.const 0xff0) (i32.const 1) (i32.const 0xff8))
          (then unreachable))
        (local.set $n (i32.load (i32.const 0xff8)))
        (if (i32.eqz (local.get $n)) (then unreachable))
        (if (i32.gt_u (local.get $n) (local.get $len)) (then unreachable))
        (local.set $dst (i32.add (local.get $dst) (local.get $n)))
        (local.set $len (i32.sub (local.get $len) (local.get $n)))
        (br $more))))
  (func (export "_start")
    (local $i i32) (local $e i32)
    (call $read_to (i32.const 0) (i32.const {DATA_AT}))
    (if (i32.gt_u (i32.load (i32.const 4)) (i32.const 1))
      (then
        (if (i32.eq (memory.grow (i32.sub (i32.load (i32.const 4)) (i32.const 1))) (i32.const -1))
          (then unreachable))))
    (call $read_to (i32.const {DATA_AT}) (i32.load (i32.const 8)))
    (i32.store (i32.const {PREAMBLE_CALLS_AT}) (global.get $calls))
    (block $end
      (loop $call
        (br_if $end (i32.ge_u (local.get $i) (i32.load (i32.const 0))))
        (local.set $e (i32.add (i32.const {CALLS_AT}) (i32.mul (local.get $i) (i32.const {ENTRY}))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
"#
    );
    // One block per import; `br_table` leaves the blocks down to the
    // import's, whose call follows its `end`.
    let count = IMPORTS.len();
    for index in (0..count).rev() {
        let _ = writeln!(wat, "        (block $b{index}");
    }
    wat.push_str("        (block $bad\n          (br_table");
    for index in 0..count {
        let _ = write!(wat, " $b{index}");
    }
    wat.push_str(" $bad (i32.load (local.get $e))))\n        unreachable)\n");
    for (index, (_, params)) in IMPORTS.iter().enumerate() {
        let mut args = String::new();
        for (k, ty) in params.split_whitespace().enumerate() {
            let _ = write!(
                args,
                " ({ty}.load offset={} (local.get $e))",
                8 + 8 * k as u32
            );
        }
        // The block this call follows the end of is closed after it, but
        // for the last (outermost) one.
        let close = if index + 1 < count { ")" } else { "" };
        let _ = writeln!(
            wat,
            "        (i32.store (i32.load offset=4 (local.get $e)) (call $f{index}{args}))\n        (br $call){close}"
        );
    }
    wat.push_str("        )))\n)\n");
    wat
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::fs::{Fd, FsOp, FsPath, FsScript};

    /// The interpreter is a valid module (that a full table fits below the
    /// preamble's words, and holds a generated script, is checked where
    /// the constants are).
    #[test]
    fn the_interpreter_validates_and_its_table_fits() {
        wasmparser::Validator::new()
            .validate_all(&interpreter_wasm())
            .expect("valid");
    }

    /// The table holds each call's import, result address and arguments,
    /// and the data sits where the compiled module's segments put it.
    #[test]
    fn stdin_holds_the_calls_and_the_data() {
        let ops = vec![
            FsOp::PathCreateDirectory {
                dir: Fd(3),
                path: FsPath::new("out"),
            },
            FsOp::FdFilestatSetSize { fd: Fd(7), size: 5 },
        ];
        let compiled = FsScript { ops }.compile();
        let stdin = compiled.interpreter_stdin().expect("fits");
        let u32_at = |at: usize| u32::from_le_bytes(stdin[at..at + 4].try_into().unwrap());
        let u64_at = |at: usize| u64::from_le_bytes(stdin[at..at + 8].try_into().unwrap());
        assert_eq!(u32_at(0), 2);
        assert_eq!(u32_at(4), compiled.module.pages);
        assert_eq!(stdin.len(), DATA_AT as usize + u32_at(8) as usize);
        for (index, (at, call)) in compiled.module.calls.iter().enumerate() {
            let entry = CALLS_AT as usize + ENTRY as usize * index;
            assert_eq!(IMPORTS[u32_at(entry) as usize].0, call.name);
            assert_eq!(u32_at(entry + 4), *at);
            for (k, arg) in call.args.iter().enumerate() {
                let want = match *arg {
                    super::super::I32(v) => u64::from(v),
                    super::super::I64(v) => v,
                };
                assert_eq!(
                    u64_at(entry + 8 + 8 * k),
                    want,
                    "{} argument {k}",
                    call.name
                );
            }
        }
        for (at, bytes) in &compiled.module.data {
            assert_eq!(&stdin[*at as usize..*at as usize + bytes.len()], &bytes[..]);
        }
        assert_eq!(
            u64_at(CALLS_AT as usize + ENTRY as usize + 16),
            super::super::offset(5)
        );
    }

    /// A script longer than the table is compiled instead.
    #[test]
    fn a_script_past_the_table_has_no_stdin() {
        let op = FsOp::FdSync {
            fd: Fd(3),
            data_only: false,
        };
        let ops = vec![op; MAX_INTERPRETED_CALLS + 1];
        assert!(FsScript { ops }.compile().interpreter_stdin().is_none());
    }
}
