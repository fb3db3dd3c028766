//! `stock_diff`: modules calling the preview1 functions this crate serves
//! itself — every descriptor call (`fd_*`, `path_*`, `sock_*`), `args_*`,
//! `environ_*` and `proc_raise` — with hostile arguments (pointers at 0, at
//! and past the end of memory, misaligned; counts of 0 and -1; bad flags and
//! enum values; closed and renumbered descriptors), under varied arguments,
//! environment, stdin and output limits. Three runs must agree:
//!
//! - stock `wasmtime-wasi` (the independent reference: what the crate
//!   re-implements) and the crate on `wasmtime-wasi`: the same exit status or
//!   trap point, every call's result and the bytes it wrote (the trace
//!   digest), stdout, stderr and final memory. Trap messages are not
//!   compared (each names its own cause).
//! - the crate on `wasmtime-wasi` and on `wasi-common`: the full fingerprint
//!   (on wasmtime 46; wasi-common ended there).
//!
//! The same file is compiled against the crate on wasmtime 50 by
//! `adapters/versions` (`stock_diff_50`): the helpers it takes from `super`
//! are this crate's root there and that package's `on50` module.
//!
//! A quarter of the calls go to the functions whose stock answers are not
//! deterministic ([`VIRTUAL`]: clocks, randomness, scheduling, `proc_exit`);
//! an input that makes one is compared across backends only.

use arbitrary::Unstructured;
use deterministic_wasi_ctx::DeterminismConfig;
use deterministic_wasi_ctx::audit::{
    Backend, Compiled, Fingerprint, Outcome, RunSpec, Status, Strategy,
};
use std::sync::OnceLock;
use wasmtime::Engine;

/// The preview1 functions whose stock answers are not deterministic (the
/// host's clocks and entropy; a real sleep): calls to them are compared
/// across the crate's backends only. Every other function of
/// [`P1_FUNCTIONS`](super::P1_FUNCTIONS) is one the crate serves with stock
/// wasmtime-wasi's rules (descriptors, arguments, environment,
/// `proc_raise`), compared with stock too.
pub const VIRTUAL: &[&str] = &[
    "clock_res_get",
    "clock_time_get",
    "random_get",
    "poll_oneoff",
    "sched_yield",
    "proc_exit",
];

/// Function `index` of [`P1_FUNCTIONS`](super::P1_FUNCTIONS).
fn function(index: usize) -> (&'static str, &'static str) {
    super::P1_FUNCTIONS[index]
}

/// Whether function `index` is drawn from the deterministic group (not
/// [`VIRTUAL`]) when the generator picks a group.
fn comparable_with_stock(index: usize) -> bool {
    !VIRTUAL.contains(&function(index).0)
}

/// Whether a call to function `index` still lets the run be compared with
/// stock: every function outside [`VIRTUAL`], and `proc_exit`, which is
/// drawn with them (so that committed inputs keep decoding as they did)
/// but which stock answers deterministically and the crate serves by
/// stock's rules.
fn compared_with_stock(index: usize) -> bool {
    comparable_with_stock(index) || function(index).0 == "proc_exit"
}

/// Memory is one page; these i32 values hit its edges and beyond.
const I32_EDGES: &[i32] = &[
    0,
    1,
    2,
    3,
    4,
    5,
    7,
    8,
    16,
    24,
    64,
    100,
    1024,
    65528,
    65532,
    65533,
    65535,
    65536,
    65537,
    i32::MAX,
    -1,
    i32::MIN,
];
const I64_EDGES: &[i64] = &[
    0,
    1,
    -1,
    2,
    1 << 32,
    i64::MAX,
    i64::MIN,
    1 << 29,
    0x1fff_ffff,
    (1 << 31) - 1,
    1 << 31,
];

/// The memory every module starts with: two iovecs at 0 (`{16, 5}`,
/// `{0, 0}`), "hello" at 16 and "abc" at 21, a path "a/b" at 38, invalid
/// UTF-8 at 46, then three `poll_oneoff` subscriptions at 64 (an
/// [`I32_EDGES`] pointer): a relative 1 µs monotonic timer, an `fd_read` on
/// fd 0 and an `fd_write` on fd 1. (They sat at 70, and the third was not
/// there, until the census showed that no call ever read an fd one.)
const DATA: &str = concat!(
    r#"\10\00\00\00\05\00\00\00\00\00\00\00\00\00\00\00hello\61\62\63\00\00\00\00\00\00\00\00\00\00\00\00\00\00a/b\00\00\00\00\00\ff\fe"#,
    r#"\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00"#,
    r#"\07\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\e8\03\00\00\00\00\00\00"#,
    r#"\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00"#,
    r#"\08\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00"#,
    r#"\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00"#,
    r#"\09\00\00\00\00\00\00\00\02\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00"#,
    r#"\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00"#,
);

/// One generated call: function index into [`P1_FUNCTIONS`](super::P1_FUNCTIONS), preview0 or not, and
/// its arguments (as i64; i32 parameters take the low bits).
#[derive(Clone, Debug)]
pub struct Call {
    /// Index into [`P1_FUNCTIONS`](super::P1_FUNCTIONS).
    pub function: usize,
    /// Import from `wasi_unstable` instead of `wasi_snapshot_preview1`.
    pub preview0: bool,
    /// Arguments.
    pub args: Vec<i64>,
}

/// A generated input: the calls and the context.
#[derive(Clone, Debug)]
pub struct Input {
    /// The calls, in order.
    pub calls: Vec<Call>,
    /// Arguments the guest sees.
    pub args: Vec<String>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Stdin bytes.
    pub stdin: Vec<u8>,
    /// Captured-output limit per stream.
    pub output_limit: usize,
}

fn arg(u: &mut Unstructured, wide: bool) -> arbitrary::Result<i64> {
    Ok(match u.int_in_range(0u8..=9)? {
        0..=5 if wide => *u.choose(I64_EDGES)?,
        0..=5 => i64::from(*u.choose(I32_EDGES)?),
        6 | 7 => i64::from(u.int_in_range(0u8..=24)?),
        _ if wide => u.arbitrary()?,
        _ => i64::from(u.arbitrary::<i32>()?),
    })
}

fn text(u: &mut Unstructured) -> arbitrary::Result<String> {
    let pool = ["", "a", "prog", "x=y", "é", "a\0b", "--flag"];
    Ok(if u.ratio(1u8, 4)? {
        u.arbitrary()?
    } else {
        (*u.choose(&pool)?).to_string()
    })
}

/// Decodes an input.
pub fn input(u: &mut Unstructured) -> arbitrary::Result<Input> {
    let mut calls = Vec::new();
    for _ in 0..u.int_in_range(1u8..=8)? {
        // Three calls in four to functions comparable with stock.
        let want_comparable = !u.ratio(1u8, 4)?;
        let candidates: Vec<usize> = (0..super::P1_FUNCTIONS.len())
            .filter(|&i| comparable_with_stock(i) == want_comparable)
            .collect();
        let function = *u.choose(&candidates)?;
        let params = self::function(function).1;
        let args = params
            .chars()
            .map(|c| arg(u, c == 'I'))
            .collect::<arbitrary::Result<_>>()?;
        calls.push(Call {
            function,
            // Preview0 has no `sock_accept`.
            preview0: self::function(function).0 != "sock_accept" && u.ratio(1u8, 5)?,
            args,
        });
    }
    let args = (0..u.int_in_range(0u8..=3)?)
        .map(|_| text(u))
        .collect::<arbitrary::Result<_>>()?;
    let env = (0..u.int_in_range(0u8..=2)?)
        .map(|_| Ok((text(u)?, text(u)?)))
        .collect::<arbitrary::Result<_>>()?;
    let stdin_len = u.int_in_range(0..=16)?;
    let stdin = u.bytes(stdin_len)?.to_vec();
    let output_limit = *u.choose(&[0usize, 1, 4, 5, 16 << 20])?;
    Ok(Input {
        calls,
        args,
        env,
        stdin,
        output_limit,
    })
}

impl Input {
    /// The module: imports what the calls use, stores each call's result
    /// at 60000.
    pub fn wat(&self) -> String {
        let mut imports = String::new();
        let mut body = String::new();
        for (i, call) in self.calls.iter().enumerate() {
            let (name, params) = function(call.function);
            let module = if call.preview0 {
                "wasi_unstable"
            } else {
                "wasi_snapshot_preview1"
            };
            let types: Vec<&str> = params
                .chars()
                .map(|c| if c == 'I' { "i64" } else { "i32" })
                .collect();
            let result = if name == "proc_exit" {
                ""
            } else {
                "(result i32)"
            };
            imports.push_str(&format!(
                "(import \"{module}\" \"{name}\" (func $f{i} (param {}) {result}))\n",
                types.join(" ")
            ));
            let args: Vec<String> = params
                .chars()
                .zip(&call.args)
                .map(|(c, &v)| {
                    if c == 'I' {
                        format!("(i64.const {v})")
                    } else {
                        format!("(i32.const {})", v as i32)
                    }
                })
                .collect();
            body.push_str(&if name == "proc_exit" {
                format!("(call $f{i} {})\n", args.join(" "))
            } else {
                format!(
                    "(i32.store (i32.const 60000) (call $f{i} {}))\n",
                    args.join(" ")
                )
            });
        }
        format!(
            "(module\n{imports}(memory (export \"memory\") 1)\n(data (i32.const 0) \"{DATA}\")\n(func (export \"_start\")\n{body}))"
        )
    }

    /// The context configuration.
    pub fn config(&self) -> DeterminismConfig {
        DeterminismConfig::new()
            .args(self.args.clone())
            .env(self.env.clone())
            .stdin(self.stdin.clone())
            .output_limit(self.output_limit)
    }
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Strategy::Cranelift.engine().expect("engine"))
}

/// Status without the trap's message: what must match stock.
fn status_class(status: &Status) -> String {
    match status {
        Status::Trapped { after_calls, .. } => format!("trap after {after_calls} calls"),
        other => other.to_string(),
    }
}

/// What must match between stock and the crate: status (without a trap's
/// wording), trace digest, stdout, stderr and memories.
type StockView<'a> = (
    String,
    [u8; 32],
    &'a [u8],
    &'a [u8],
    &'a [(String, usize, [u8; 32])],
);

/// The [`StockView`] of an outcome.
fn against_stock(o: &Outcome) -> StockView<'_> {
    (
        status_class(&o.status),
        o.trace_digest,
        &o.stdout,
        &o.stderr,
        &o.memories,
    )
}

/// One execution.
pub fn run(u: &mut Unstructured) -> arbitrary::Result<()> {
    let input = input(u)?;
    check(&input);
    Ok(())
}

/// Runs `input` three ways and panics on a difference.
pub fn check(input: &Input) {
    let wat = input.wat();
    let wasm = wat::parse_str(&wat).expect("generated module is valid");
    super::dump(&wasm);
    let engine = engine();
    let compiled = Compiled::new(engine, &wasm).expect("compiles");
    // The crate's runs are recorded as stock's is (from each call's
    // signature), so the trace digests are comparable.
    let spec = |stock| RunSpec {
        stock,
        writes_from_signatures: true,
        replay: None,
        ..super::spec(input.config())
    };
    let ours = compiled.run(engine, Backend::WasmtimeWasi, &spec(false));
    super::record(ours.host_calls);
    // Stock is run only where it is deterministic (and never sleeps).
    let comparable = input.calls.iter().all(|c| compared_with_stock(c.function));
    let stock = comparable.then(|| compiled.run(engine, Backend::WasmtimeWasi, &spec(true)));
    if let Some(stock) = stock
        && against_stock(&ours) != against_stock(&stock)
    {
        panic!(
            "stock_diff: the crate differs from stock wasmtime-wasi\n  stock: {} {:?}\n  crate: {} {:?}\n{}\ninput: {input:?}\nmodule:\n{wat}",
            stock.status,
            stock
                .events
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>(),
            ours.status,
            ours.events
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>(),
            difference_note(&stock, &ours),
        );
    }
    // The crate's other backends (wasi-common, on wasmtime 46).
    for &backend in &Backend::ALL[1..] {
        let other = compiled.run(engine, backend, &spec(false));
        if let Some(d) = deterministic_wasi_ctx::audit::first_difference(
            &Fingerprint::of(&ours),
            &Fingerprint::of(&other),
            None,
        ) {
            panic!(
                "stock_diff: wasmtime-wasi and {} differ: {d}\ninput: {input:?}\nmodule:\n{wat}",
                backend.name()
            );
        }
    }
}

fn difference_note(a: &Outcome, b: &Outcome) -> String {
    format!(
        "stdout {:?} vs {:?}; stderr {:?} vs {:?}; memories {:?} vs {:?}",
        a.stdout, b.stdout, a.stderr, b.stderr, a.memories, b.memories
    )
}
