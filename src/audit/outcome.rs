//! What a run produced, its digest, and how two runs are compared.

use crate::trace::HostCall;
use std::fmt;

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// It returned (status 0) or exited with this status.
    Exited(i32),
    /// It trapped: the trap's kind and how many host calls came before it.
    Trapped {
        /// A wasm trap's [`wasmtime::Trap`] name (`OutOfFuel`,
        /// `UnreachableCodeReached`, ...), or [`Status::HOST_ERROR`] for an
        /// error returned by a host function, whatever its message: the two
        /// preview1 backends word the same error differently. The message is
        /// kept beside the status ([`Outcome::trap_message`]), for display.
        kind: String,
        /// Host calls made before the trap.
        after_calls: u64,
    },
    /// It hit a limit whose position depends on the host: a native stack
    /// overflow ([`wasmtime::Trap::StackOverflow`]) or the host out of memory
    /// (see [`Status::classify`]). Decided from the error's type, never its
    /// wording. Not a guest result: a poisoned run is compared with no other.
    Poisoned(String),
}

impl Status {
    /// The trap kind of every error a host function returns (an
    /// out-of-bounds guest pointer, an invalid enum value, a bad exit
    /// status, ...), whichever backend raised it and however it words it.
    ///
    /// ```
    /// use deterministic_wasi_ctx::audit::Status;
    ///
    /// let error = wasmtime::Error::msg("pointer out of bounds");
    /// let status = Status::of(Err(error), 2);
    /// assert_eq!(status.to_string(), "trap host error after 2 calls");
    /// ```
    pub const HOST_ERROR: &'static str = "host error";

    /// The trap kind of a replay ([`RunSpec::replay`](super::RunSpec::replay))
    /// whose guest asked something other than the recording, or ended
    /// otherwise; the message is the report
    /// ([`Mismatch`](crate::replay::Mismatch)).
    pub const REPLAY_MISMATCH: &'static str = "replay mismatch";

    /// The trap kind of a replay whose log cannot answer (not a log, not
    /// whole, or not this call's); the message says why.
    pub const REPLAY_BAD_LOG: &'static str = "replay bad log";

    /// The status of a run that overflowed the native stack
    /// ([`wasmtime::Trap::StackOverflow`]): poisoned, since where it happens
    /// depends on the host. With a logical stack limit on
    /// ([`engine::stack`](crate::engine::stack)) it is a bug of this crate.
    ///
    /// ```
    /// use deterministic_wasi_ctx::audit::Status;
    ///
    /// let overflow = Status::of(Err(wasmtime::Trap::StackOverflow.into()), 0);
    /// assert_eq!(overflow, Status::native_stack_overflow());
    /// assert_eq!(overflow.to_string(), "poisoned (stack overflow)");
    /// ```
    pub fn native_stack_overflow() -> Status {
        Status::Poisoned("stack overflow".into())
    }

    /// Classifies a run's result; `calls` is the number of host calls made.
    /// A host error's own message is dropped: [`Status::classify`] keeps it.
    pub fn of(result: wasmtime::Result<()>, calls: u64) -> Status {
        Status::classify(result, calls).0
    }

    /// Classifies a run's result like [`Status::of`], and returns with it a
    /// host error's own message (`None` for anything else: exits, wasm
    /// traps, poisoned runs).
    ///
    /// Poisoned: a [`wasmtime::Trap::StackOverflow`]; an error whose chain
    /// holds [`HostExhausted`](crate::engine::HostExhausted) (a growth the
    /// Store's limits allowed but the host could not give),
    /// [`wasmtime::OutOfMemory`], or an I/O error of kind `OutOfMemory`.
    /// Anything else is a result compared like any other, including
    /// wasmtime's "resource limit exceeded" for more instances, memories or
    /// tables than the Store's limits allow (the same on every host).
    ///
    /// ```
    /// use deterministic_wasi_ctx::audit::Status;
    ///
    /// let error = wasmtime::Error::msg("Invalid enum value Clockid");
    /// let (status, message) = Status::classify(Err(error), 0);
    /// assert_eq!(status, Status::Trapped { kind: Status::HOST_ERROR.into(), after_calls: 0 });
    /// assert_eq!(message.as_deref(), Some("Invalid enum value Clockid"));
    /// assert_eq!(Status::classify(Ok(()), 3), (Status::Exited(0), None));
    /// ```
    pub fn classify(result: wasmtime::Result<()>, calls: u64) -> (Status, Option<String>) {
        let error = match result {
            Ok(()) => return (Status::Exited(0), None),
            Err(error) => error,
        };
        if let Some(status) = crate::trace::exit_status(&error) {
            return (Status::Exited(status), None);
        }
        if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
            let status = match trap {
                wasmtime::Trap::StackOverflow => Status::native_stack_overflow(),
                other => Status::Trapped {
                    kind: format!("{other:?}"),
                    after_calls: calls,
                },
            };
            return (status, None);
        }
        if let Some(why) = host_exhaustion(&error) {
            return (Status::Poisoned(why.into()), None);
        }
        let message = error.root_cause().to_string();
        let status = Status::Trapped {
            kind: Status::HOST_ERROR.into(),
            after_calls: calls,
        };
        (status, Some(message))
    }
}

/// Why `error` is the host running out of memory, if it is, decided by the
/// types in its chain, never by its wording: a growth the Store's limits
/// allowed but the host could not give ([`HostExhausted`](crate::engine::HostExhausted)),
/// an allocation wasmtime could not make ([`wasmtime::OutOfMemory`]), or an
/// I/O error of kind [`OutOfMemory`](std::io::ErrorKind::OutOfMemory).
/// wasmtime's deterministic limits (more instances, memories or tables than
/// the Store allows) are none of these: they are host errors like any other.
fn host_exhaustion(error: &wasmtime::Error) -> Option<&'static str> {
    if let Some(exhausted) = error.downcast_ref::<crate::engine::HostExhausted>() {
        return Some(match exhausted {
            crate::engine::HostExhausted::Memory => "host out of memory: memory growth",
            crate::engine::HostExhausted::Table => "host out of memory: table growth",
        });
    }
    if error.is::<wasmtime::OutOfMemory>() {
        return Some("host out of memory");
    }
    let io_oom = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::OutOfMemory)
    });
    io_oom.then_some("host out of memory")
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(code) => write!(f, "exit {code}"),
            Status::Trapped { kind, after_calls } => {
                write!(f, "trap {kind} after {after_calls} calls")
            }
            Status::Poisoned(why) => write!(f, "poisoned ({why})"),
        }
    }
}

/// Everything observable about one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// A host error's own message when `status` is a
    /// [`Status::HOST_ERROR`] trap, for display. Not a fingerprint field:
    /// backends word the same error differently.
    pub trap_message: Option<String>,
    /// Bytes written to stdout.
    pub stdout: Vec<u8>,
    /// Bytes written to stderr.
    pub stderr: Vec<u8>,
    /// Each exported memory at the end (core modules): name, size in bytes
    /// and BLAKE3 of its contents.
    pub memories: Vec<(String, usize, [u8; 32])>,
    /// Final value of each exported global (core modules), rendered with its type.
    pub globals: Vec<(String, String)>,
    /// Fuel the run consumed.
    pub fuel_consumed: u64,
    /// Host calls made.
    pub host_calls: u64,
    /// Digest of the whole host-call trace.
    pub trace_digest: [u8; 32],
    /// The first calls of the trace, in full.
    pub events: Vec<HostCall>,
    /// Each preopened directory's final tree (guest path, tree), in fd
    /// order. A fingerprint field as its digest ([`FsTree::digest`](crate::fs::FsTree::digest)),
    /// so runs that write different files differ.
    pub filesystems: Vec<(String, crate::fs::FsTree)>,
    /// The exported `memory`'s final contents, if
    /// [`RunSpec::keep_memory`](super::RunSpec::keep_memory) asked for them
    /// and the module exports one. Not a fingerprint field (`memories` holds
    /// its digest).
    pub memory: Option<Vec<u8>>,
}

impl Outcome {
    /// The outcome's observable fields as `(name, value)` pairs, in a fixed
    /// order; memories appear as their length and BLAKE3 digest.
    pub fn fields(&self) -> Vec<(String, String)> {
        let mut fields = vec![
            ("status".to_string(), self.status.to_string()),
            ("stdout".to_string(), hex(&self.stdout)),
            ("stderr".to_string(), hex(&self.stderr)),
        ];
        for (name, len, digest) in &self.memories {
            fields.push((
                format!("memory {name}"),
                format!("{len} bytes, blake3 {}", hex(digest)),
            ));
        }
        for (name, value) in &self.globals {
            fields.push((format!("global {name}"), value.clone()));
        }
        for (guest_path, tree) in &self.filesystems {
            fields.push((
                format!("fs {guest_path}"),
                format!("blake3 {}", hex(&tree.digest())),
            ));
        }
        fields.push(("fuel consumed".into(), self.fuel_consumed.to_string()));
        fields.push(("host calls".into(), self.host_calls.to_string()));
        fields.push((TRACE_DIGEST.into(), hex(&self.trace_digest)));
        fields
    }

    /// One digest over every field (BLAKE3 of the `fields()` encoding:
    /// for each pair, name and value each as u32 length + bytes).
    pub fn digest(&self) -> [u8; 32] {
        Fingerprint::of(self).digest
    }

    /// Whether the run is poisoned (see [`Status::Poisoned`]).
    pub fn is_poisoned(&self) -> bool {
        matches!(self.status, Status::Poisoned(_))
    }

    /// The status as a user reads it: [`Status`]'s text, then a host error's
    /// own message, if any (`trap host error after 1 calls: ...`).
    pub fn status_text(&self) -> String {
        with_message(&self.status.to_string(), self.trap_message.as_deref())
    }
}

/// `status` followed by `: message` when there is one.
fn with_message(status: &str, message: Option<&str>) -> String {
    match message {
        Some(message) => format!("{status}: {message}"),
        None => status.to_string(),
    }
}

/// The comparable form of an [`Outcome`]: its fields, its kept calls as text
/// and its digest. Runs in child processes report this form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// `Outcome::fields()`.
    pub fields: Vec<(String, String)>,
    /// The kept calls, strace-style.
    pub events: Vec<String>,
    /// Digest over `fields`.
    pub digest: [u8; 32],
    /// [`Outcome::trap_message`]: shown in differences, not compared and
    /// not part of the digest.
    pub trap_message: Option<String>,
}

impl Fingerprint {
    /// The fingerprint of `outcome`.
    pub fn of(outcome: &Outcome) -> Fingerprint {
        let fields = outcome.fields();
        Fingerprint {
            digest: digest_fields(&fields),
            events: outcome.events.iter().map(ToString::to_string).collect(),
            fields,
            trap_message: outcome.trap_message.clone(),
        }
    }

    /// Rebuilds a fingerprint from its parts, recomputing the digest (no
    /// trap message: see [`Fingerprint::with_trap_message`]).
    pub fn from_parts(fields: Vec<(String, String)>, events: Vec<String>) -> Fingerprint {
        Fingerprint {
            digest: digest_fields(&fields),
            events,
            fields,
            trap_message: None,
        }
    }

    /// This fingerprint with `message` as its trap message (the digest does
    /// not change).
    pub fn with_trap_message(self, message: Option<String>) -> Fingerprint {
        Fingerprint {
            trap_message: message,
            ..self
        }
    }

    /// The status field.
    pub fn status(&self) -> &str {
        self.field("status").unwrap_or("")
    }

    /// The status field followed by the trap message, if any: what
    /// [`Outcome::status_text`] gives for the run.
    pub fn status_text(&self) -> String {
        with_message(self.status(), self.trap_message.as_deref())
    }

    /// Whether the run is poisoned (see [`Status::Poisoned`]).
    pub fn is_poisoned(&self) -> bool {
        self.status().starts_with("poisoned")
    }

    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` can name a field of a fingerprint
    /// ([`Outcome::fields`]): `status`, `stdout`, `stderr`, `fuel consumed`,
    /// `host calls`, `trace digest`, or `memory NAME`, `global NAME`,
    /// `fs PATH`.
    ///
    /// ```
    /// use deterministic_wasi_ctx::audit::Fingerprint;
    ///
    /// assert!(Fingerprint::is_field_name("fuel consumed"));
    /// assert!(Fingerprint::is_field_name("memory memory"));
    /// assert!(!Fingerprint::is_field_name("fuel"));
    /// ```
    pub fn is_field_name(name: &str) -> bool {
        let fixed = [
            "status",
            "stdout",
            "stderr",
            "fuel consumed",
            "host calls",
            TRACE_DIGEST,
        ];
        fixed.contains(&name)
            || ["memory ", "global ", "fs "].iter().any(|prefix| {
                name.strip_prefix(prefix)
                    .is_some_and(|rest| !rest.is_empty())
            })
    }
}

fn digest_fields(fields: &[(String, String)]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    for (name, value) in fields {
        for part in [name, value] {
            hasher.update(&(part.len() as u32).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    *hasher.finalize().as_bytes()
}

/// Where two runs first differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    /// Host call `index` (0-based) differs; `None` means that run made no
    /// such call.
    Call {
        /// Index in the trace.
        index: usize,
        /// The first run's call.
        expected: Option<String>,
        /// The second run's call.
        actual: Option<String>,
    },
    /// An outcome field differs (the calls kept in full were identical).
    Field {
        /// The field's name (see [`Outcome::fields`]).
        name: String,
        /// The first run's value.
        expected: String,
        /// The second run's value.
        actual: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_none = |c: &Option<String>| c.clone().unwrap_or_else(|| "(no call)".into());
        match self {
            Difference::Call {
                index,
                expected,
                actual,
            } => write!(
                f,
                "call #{index}: expected `{}`, got `{}`",
                or_none(expected),
                or_none(actual)
            ),
            Difference::Field {
                name,
                expected,
                actual,
            } => write!(
                f,
                "{name}: expected {}, got {}",
                shorten(expected),
                shorten(actual)
            ),
        }
    }
}

/// `value`, or its first 80 bytes or fewer (cut at a character boundary)
/// and its full length when it is longer.
fn shorten(value: &str) -> String {
    const KEEP: usize = 80;
    if value.len() > KEEP {
        let kept = &value[..value.floor_char_boundary(KEEP)];
        format!("{kept}... ({} bytes)", value.len())
    } else {
        value.to_string()
    }
}

/// The first difference between two fingerprints: the first differing kept
/// call, else the first differing field; `None` when the digests agree.
///
/// `only` limits the comparison to the named fields (used across backends,
/// whose memories legitimately differ); calls are then not compared.
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::audit::{AuditConfig, Backend, Compiled, Fingerprint, RunSpec, Strategy, first_difference};
/// use deterministic_wasi_ctx::DeterminismConfig;
///
/// let wasm = wat::parse_str(r#"(module
///     (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (drop (call $r (i32.const 0) (i32.const 4)))))"#)?;
/// let engine = Strategy::Cranelift.engine()?;
/// let compiled = Compiled::new(&engine, &wasm)?;
/// let run = |seed| {
///     let spec = RunSpec { config: DeterminismConfig::new().seed(seed), ..AuditConfig::default().spec };
///     Fingerprint::of(&compiled.run(&engine, Backend::WasmtimeWasi, &spec))
/// };
/// assert!(first_difference(&run(1), &run(1), None).is_none());
/// let difference = first_difference(&run(1), &run(2), None).unwrap();
/// assert!(difference.to_string().contains("random_get"), "{difference}");
/// # Ok::<(), wasmtime::Error>(())
/// ```
pub fn first_difference(
    a: &Fingerprint,
    b: &Fingerprint,
    only: Option<&[&str]>,
) -> Option<Difference> {
    match only {
        None => differ(a, b, &|_| true, true, true),
        Some(only) => differ(a, b, &|name| only.contains(&name), false, false),
    }
}

/// The first difference between `a` and `b` in every field but the
/// `ignored` ones (names as [`Fingerprint::fields`] has them, checked by
/// [`Fingerprint::is_field_name`]), calls first unless the trace digest is
/// ignored: what `audit --ignore-field` compares, for differences a user
/// accepts, such as the fuel a newer wasmtime charges (README, "Wasmtime
/// versions"). With nothing ignored it is [`first_difference`].
///
/// ```
/// use deterministic_wasi_ctx::audit::{Fingerprint, first_difference_ignoring};
///
/// let run = |fuel: u64, stdout: &str| Fingerprint::from_parts(
///     vec![
///         ("stdout".into(), stdout.into()),
///         ("fuel consumed".into(), fuel.to_string()),
///     ],
///     Vec::new(),
/// );
/// let fuel = ["fuel consumed".to_string()];
/// assert!(first_difference_ignoring(&run(10, "6869"), &run(12, "6869"), &[]).is_some());
/// assert!(first_difference_ignoring(&run(10, "6869"), &run(12, "6869"), &fuel).is_none());
/// // Every other field is still compared.
/// let other = first_difference_ignoring(&run(10, "6869"), &run(12, "6868"), &fuel).unwrap();
/// assert!(other.to_string().starts_with("stdout"), "{other}");
/// ```
pub fn first_difference_ignoring(
    a: &Fingerprint,
    b: &Fingerprint,
    ignored: &[String],
) -> Option<Difference> {
    let kept = |name: &str| !ignored.iter().any(|i| i == name);
    differ(a, b, &kept, kept(TRACE_DIGEST), ignored.is_empty())
}

/// The field holding the digest of the calls.
const TRACE_DIGEST: &str = "trace digest";

/// The first difference in the fields `kept` keeps, calls first when
/// `calls`; `whole` when every field is kept (equal digests then mean
/// equal fingerprints).
fn differ(
    a: &Fingerprint,
    b: &Fingerprint,
    kept: &dyn Fn(&str) -> bool,
    calls: bool,
    whole: bool,
) -> Option<Difference> {
    if whole && a.digest == b.digest {
        return None;
    }
    if calls {
        let n = a.events.len().max(b.events.len());
        if let Some(index) = (0..n).find(|&i| a.events.get(i) != b.events.get(i)) {
            return Some(Difference::Call {
                index,
                expected: a.events.get(index).cloned(),
                actual: b.events.get(index).cloned(),
            });
        }
    }
    for (name, _) in a.fields.iter().filter(|(name, _)| kept(name)) {
        let (x, y) = (a.field(name), b.field(name));
        if x != y {
            // The status is compared without a host error's own message,
            // and shown with it.
            let shown = |fingerprint: &Fingerprint, value: Option<&str>| match value {
                Some(_) if name == "status" => fingerprint.status_text(),
                Some(value) => value.to_string(),
                None => "(missing)".to_string(),
            };
            return Some(Difference::Field {
                name: name.clone(),
                expected: shown(a, x),
                actual: shown(b, y),
            });
        }
    }
    // Same fields by name in `a`; `b` has an extra one.
    let extra = b
        .fields
        .iter()
        .find(|(name, _)| kept(name) && a.field(name).is_none());
    extra.map(|(name, value)| Difference::Field {
        name: name.clone(),
        expected: "(missing)".into(),
        actual: value.clone(),
    })
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
