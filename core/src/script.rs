//! WASI call scripts: a sequence of preview1 calls with *valid* pointers,
//! compiled into a core module whose `_start` makes the calls in order and
//! records every result in linear memory.
//!
//! Property tests and fuzz targets generate [`Script`]s, run the compiled
//! module under a context, and read back one [`OpResult`] per call with
//! [`CompiledScript::results`], to compare with a model or another run.
//!
//! Memory layout of the compiled module (one 64 KiB page per 64 KiB needed):
//! inputs (subscriptions, iovecs, write data) first, then one *slot* per
//! operation holding its errno (4 bytes) followed by its outputs. Nothing the
//! host writes can overlap another operation's slot, so each result is
//! exactly what that one call produced.
//!
//! # Example
//!
//! ```
//! use deterministic_wasi_ctx_core::script::{Op, Script};
//!
//! let script = Script { ops: vec![Op::RandomGet { len: 2 }, Op::SchedYield] };
//! let compiled = script.compile();
//! assert!(compiled.wat().contains("random_get"));
//! ```

use std::fmt::Write as _;

pub mod fs;

/// Clock ids, by their preview1 number.
pub const CLOCK_REALTIME: u32 = 0;
/// Monotonic clock id.
pub const CLOCK_MONOTONIC: u32 = 1;

/// The most bytes one `RandomGet` asks for.
pub const MAX_RANDOM_LEN: u32 = 4096;
/// The most subscriptions in one `PollOneoff`.
pub const MAX_SUBSCRIPTIONS: usize = 8;
/// The most bytes one `FdWrite` writes.
pub const MAX_WRITE_LEN: usize = 256;
/// Room given to `args_get` / `environ_get` pointer arrays and strings.
pub const STRINGS_ROOM: u32 = 1024;

/// One preview1 call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Op {
    /// `clock_time_get(id, precision)`; ids above 3 are passed as given.
    ClockTimeGet {
        /// Clock id.
        id: u32,
        /// Requested precision.
        precision: u64,
    },
    /// `clock_res_get(id)`.
    ClockResGet {
        /// Clock id.
        id: u32,
    },
    /// `random_get` of `len % (MAX_RANDOM_LEN + 1)` bytes.
    RandomGet {
        /// Requested length (reduced modulo `MAX_RANDOM_LEN + 1`).
        len: u32,
    },
    /// `poll_oneoff` over the first [`MAX_SUBSCRIPTIONS`] subscriptions (an
    /// empty list is allowed: it must give `EINVAL`).
    PollOneoff {
        /// The subscriptions.
        subs: Vec<Subscription>,
    },
    /// `sched_yield()`.
    SchedYield,
    /// `args_sizes_get` then `args_get`.
    Args,
    /// `environ_sizes_get` then `environ_get`.
    Environ,
    /// `fd_write(fd, [data])`; `fd` is reduced to 1 (stdout) or 2 (stderr).
    FdWrite {
        /// 1 for stdout, 2 for stderr (other values: `1 + fd % 2`).
        fd: u8,
        /// The bytes (the first [`MAX_WRITE_LEN`]).
        data: Vec<u8>,
    },
    /// `proc_exit(code)`; the script ends here.
    ProcExit {
        /// Exit status.
        code: u32,
    },
}

/// One `poll_oneoff` subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Subscription {
    /// A clock subscription.
    Clock {
        /// Guest identifier copied into the event.
        userdata: u64,
        /// Clock id.
        id: u32,
        /// Relative timeout or absolute deadline (ns).
        timeout: u64,
        /// Whether `timeout` is absolute.
        absolute: bool,
    },
    /// Readiness of `fd` for reading.
    FdRead {
        /// Guest identifier.
        userdata: u64,
        /// Descriptor.
        fd: u32,
    },
    /// Readiness of `fd` for writing.
    FdWrite {
        /// Guest identifier.
        userdata: u64,
        /// Descriptor.
        fd: u32,
    },
}

/// A sequence of calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Script {
    /// The calls, in order.
    pub ops: Vec<Op>,
}

/// What one call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpResult {
    /// The errno the call returned (0 on success).
    pub errno: u16,
    /// What the call wrote, decoded per operation.
    pub output: Output,
}

/// A call's outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// No outputs (`sched_yield`, `proc_exit`).
    None,
    /// A timestamp or resolution.
    Time(u64),
    /// Random bytes.
    Bytes(Vec<u8>),
    /// `poll_oneoff` events (`nevents` of them).
    Events(Vec<Event>),
    /// Argument or environment strings (NUL-terminated entries, joined).
    Strings {
        /// Count reported by the `*_sizes_get` call.
        count: u32,
        /// Buffer size reported by the `*_sizes_get` call.
        size: u32,
        /// The buffer `*_get` filled.
        buffer: Vec<u8>,
    },
    /// Bytes written by `fd_write`.
    Written(u32),
}

/// One decoded `poll_oneoff` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// From the subscription.
    pub userdata: u64,
    /// Per-event errno.
    pub errno: u16,
    /// Event type (0 clock, 1 fd_read, 2 fd_write).
    pub kind: u8,
    /// `fd_readwrite.nbytes`.
    pub nbytes: u64,
    /// `fd_readwrite.flags`.
    pub flags: u16,
}

impl Op {
    /// The operation as the compiled module performs it (lengths and
    /// descriptors reduced to their valid ranges).
    pub fn normalized(&self) -> Op {
        match self {
            Op::RandomGet { len } => Op::RandomGet {
                len: len % (MAX_RANDOM_LEN + 1),
            },
            Op::PollOneoff { subs } => Op::PollOneoff {
                subs: subs.iter().take(MAX_SUBSCRIPTIONS).copied().collect(),
            },
            Op::FdWrite { fd, data } => Op::FdWrite {
                fd: if *fd == 1 || *fd == 2 {
                    *fd
                } else {
                    1 + fd % 2
                },
                data: data.iter().take(MAX_WRITE_LEN).copied().collect(),
            },
            other => other.clone(),
        }
    }
}

/// Where one operation's results live in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Slot {
    op: Op,
    at: u32,
}

/// A compiled script: its module text and where its results are.
#[derive(Clone, Debug)]
pub struct CompiledScript {
    wat: String,
    slots: Vec<Slot>,
}

impl Script {
    /// Compiles the script (see the [module docs](self) for the layout).
    /// Operations after a `ProcExit` are dropped.
    pub fn compile(&self) -> CompiledScript {
        let mut data = String::new();
        let mut body = String::new();
        let mut slots = Vec::new();
        // Inputs from 0x1000 up; slots after all inputs.
        let mut input_at: u32 = 0x1000;
        let mut inputs: Vec<(u32, Vec<u8>)> = Vec::new();
        let ops: Vec<Op> = {
            let mut ops = Vec::new();
            for op in &self.ops {
                ops.push(op.normalized());
                if matches!(op, Op::ProcExit { .. }) {
                    break;
                }
            }
            ops
        };
        // First pass: place inputs.
        let mut input_of = Vec::new();
        for op in &ops {
            let bytes = match op {
                Op::PollOneoff { subs } => subs.iter().flat_map(encode_subscription).collect(),
                Op::FdWrite { data, .. } => data.clone(),
                _ => Vec::new(),
            };
            let at = align8(input_at);
            input_at = at + bytes.len() as u32 + 8;
            input_of.push(at);
            if !bytes.is_empty() {
                inputs.push((at, bytes));
            }
        }
        let mut slot_at = align8(input_at + 0x100);
        for (op, &input) in ops.iter().zip(&input_of) {
            let at = slot_at;
            let out = at + 8; // errno at `at`, outputs 8-aligned after it
            let call = match op {
                Op::ClockTimeGet { id, precision } => format!(
                    "(call $clock_time_get (i32.const {id}) (i64.const {}) (i32.const {out}))",
                    *precision as i64
                ),
                Op::ClockResGet { id } => {
                    format!("(call $clock_res_get (i32.const {id}) (i32.const {out}))")
                }
                Op::RandomGet { len } => {
                    format!("(call $random_get (i32.const {out}) (i32.const {len}))")
                }
                Op::PollOneoff { subs } => format!(
                    "(call $poll_oneoff (i32.const {input}) (i32.const {}) (i32.const {}) (i32.const {out}))",
                    out + 8,
                    subs.len()
                ),
                Op::SchedYield => "(call $sched_yield)".to_string(),
                Op::Args | Op::Environ => {
                    let (sizes, get) = if *op == Op::Args {
                        ("$args_sizes_get", "$args_get")
                    } else {
                        ("$environ_sizes_get", "$environ_get")
                    };
                    // sizes at out, out+4; pointer array at out+8; buffer after it.
                    let ptrs = out + 8;
                    let buf = ptrs + STRINGS_ROOM;
                    format!(
                        "(if (result i32) (i32.eqz (call {sizes} (i32.const {out}) (i32.const {}))) \
                         (then (if (result i32) (i32.and \
                           (i32.le_u (i32.mul (i32.load (i32.const {out})) (i32.const 4)) (i32.const {STRINGS_ROOM})) \
                           (i32.le_u (i32.load (i32.const {})) (i32.const {STRINGS_ROOM}))) \
                           (then (call {get} (i32.const {ptrs}) (i32.const {buf}))) \
                           (else (i32.const 0xffff)))) \
                         (else (i32.const 0xfffe)))",
                        out + 4,
                        out + 4
                    )
                }
                Op::FdWrite { fd, data } => {
                    // iovec at out+8 (ptr, len), nwritten at out.
                    inputs.push((out + 8, iovec(input, data.len() as u32)));
                    format!(
                        "(call $fd_write (i32.const {fd}) (i32.const {}) (i32.const 1) (i32.const {out}))",
                        out + 8
                    )
                }
                Op::ProcExit { code } => {
                    format!("(call $proc_exit (i32.const {code})) (i32.const 0)")
                }
            };
            writeln!(body, "    (i32.store (i32.const {at}) {call})").unwrap();
            slot_at = align8(out + slot_size(op));
            slots.push(Slot { op: op.clone(), at });
        }
        for (at, bytes) in &inputs {
            writeln!(data, "  (data (i32.const {at}) \"{}\")", escape(bytes)).unwrap();
        }
        let pages = slot_at.div_ceil(65536).max(1);
        let wat = format!(
            r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $clock_res_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") {pages})
{data}  (func (export "_start")
{body}  ))"#
        );
        CompiledScript { wat, slots }
    }
}

impl CompiledScript {
    /// The module, as WebAssembly text.
    pub fn wat(&self) -> &str {
        &self.wat
    }

    /// The module, as binary WebAssembly.
    ///
    /// # Panics
    ///
    /// Never for a module [`Script::compile`] produced (its text is always valid).
    pub fn wasm(&self) -> Vec<u8> {
        wat::parse_str(&self.wat).expect("compiled scripts are valid text")
    }

    /// The operations as performed (normalized, cut after `ProcExit`).
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.slots.iter().map(|s| &s.op)
    }

    /// Reads every operation's result out of the final `memory`. Operations
    /// that did not run (after an exit or a trap) read as errno 0 with zeroed
    /// outputs; compare only the prefix that ran.
    pub fn results(&self, memory: &[u8]) -> Vec<OpResult> {
        self.slots
            .iter()
            .map(|slot| read_result(slot, memory))
            .collect()
    }
}

fn read_result(slot: &Slot, memory: &[u8]) -> OpResult {
    let bytes = |at: u32, len: u32| -> Vec<u8> {
        let (start, end) = (at as usize, at as usize + len as usize);
        memory
            .get(start..end)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    };
    let u32_at = |at: u32| u32::from_le_bytes(bytes(at, 4).try_into().unwrap_or_default());
    let u64_at = |at: u32| u64::from_le_bytes(bytes(at, 8).try_into().unwrap_or_default());
    let errno = u32_at(slot.at) as u16;
    let out = slot.at + 8;
    let output = match &slot.op {
        Op::ClockTimeGet { .. } | Op::ClockResGet { .. } => Output::Time(u64_at(out)),
        Op::RandomGet { len } => Output::Bytes(bytes(out, *len)),
        Op::PollOneoff { subs } => {
            let n = u32_at(out).min(subs.len() as u32);
            let events = (0..n)
                .map(|i| {
                    let e = out + 8 + i * 32;
                    Event {
                        userdata: u64_at(e),
                        errno: u32_at(e + 8) as u16,
                        kind: bytes(e + 10, 1).first().copied().unwrap_or(0),
                        nbytes: u64_at(e + 16),
                        flags: u32_at(e + 24) as u16,
                    }
                })
                .collect();
            Output::Events(events)
        }
        Op::Args | Op::Environ => {
            let size = u32_at(out + 4);
            Output::Strings {
                count: u32_at(out),
                size,
                buffer: bytes(out + 8 + STRINGS_ROOM, size.min(STRINGS_ROOM)),
            }
        }
        Op::FdWrite { .. } => Output::Written(u32_at(out)),
        Op::SchedYield | Op::ProcExit { .. } => Output::None,
    };
    OpResult { errno, output }
}

/// Bytes reserved after the errno word for an operation's outputs.
fn slot_size(op: &Op) -> u32 {
    match op {
        Op::ClockTimeGet { .. } | Op::ClockResGet { .. } => 8,
        Op::RandomGet { len } => *len,
        // nevents (+pad) then one 32-byte event per subscription
        Op::PollOneoff { subs } => 8 + 32 * subs.len() as u32,
        Op::Args | Op::Environ => 8 + 2 * STRINGS_ROOM,
        Op::FdWrite { .. } => 8 + 8,
        Op::SchedYield | Op::ProcExit { .. } => 0,
    }
}

fn encode_subscription(sub: &Subscription) -> Vec<u8> {
    let mut r = vec![0u8; 48];
    let (userdata, tag) = match *sub {
        Subscription::Clock {
            userdata,
            id,
            timeout,
            absolute,
        } => {
            r[16..20].copy_from_slice(&id.to_le_bytes());
            r[24..32].copy_from_slice(&timeout.to_le_bytes());
            r[40..42].copy_from_slice(&u16::from(absolute).to_le_bytes());
            (userdata, 0)
        }
        Subscription::FdRead { userdata, fd } => {
            r[16..20].copy_from_slice(&fd.to_le_bytes());
            (userdata, 1)
        }
        Subscription::FdWrite { userdata, fd } => {
            r[16..20].copy_from_slice(&fd.to_le_bytes());
            (userdata, 2)
        }
    };
    r[0..8].copy_from_slice(&userdata.to_le_bytes());
    r[8] = tag;
    r
}

fn iovec(ptr: u32, len: u32) -> Vec<u8> {
    let mut v = ptr.to_le_bytes().to_vec();
    v.extend_from_slice(&len.to_le_bytes());
    v
}

fn align8(x: u32) -> u32 {
    x.div_ceil(8) * 8
}

fn escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_compiles_to_valid_wasm() {
        let script = Script {
            ops: vec![
                Op::ClockTimeGet {
                    id: 1,
                    precision: u64::MAX,
                },
                Op::ClockResGet { id: 9 },
                Op::RandomGet { len: 5000 },
                Op::PollOneoff {
                    subs: vec![
                        Subscription::Clock {
                            userdata: 1,
                            id: 1,
                            timeout: 5,
                            absolute: true,
                        },
                        Subscription::FdRead { userdata: 2, fd: 0 },
                        Subscription::FdWrite { userdata: 3, fd: 7 },
                    ],
                },
                Op::PollOneoff { subs: vec![] },
                Op::SchedYield,
                Op::Args,
                Op::Environ,
                Op::FdWrite {
                    fd: 9,
                    data: b"hi".to_vec(),
                },
                Op::ProcExit { code: 3 },
                Op::SchedYield,
            ],
        };
        let compiled = script.compile();
        assert_eq!(
            compiled.ops().count(),
            10,
            "ops after proc_exit are dropped"
        );
        assert_eq!(
            compiled.ops().nth(2),
            Some(&Op::RandomGet {
                len: 5000 % (MAX_RANDOM_LEN + 1)
            })
        );
        wasmparser::validate(&compiled.wasm()).expect("valid module");
    }
}
