//! The text script of the `p2_timers` guest program
//! (`test-programs/guests/src/bin/p2_timers.rs`): one operation per line on
//! stdin, one result line per operation on stdout.

use std::fmt;

/// One timer of a `poll` or `ready` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// `d:<ns>`: `subscribe-duration(ns)` (preview1: a relative monotonic
    /// clock subscription).
    Duration(u64),
    /// `i:<ns>`: `subscribe-instant(ns)` (preview1: an absolute monotonic
    /// clock subscription).
    Instant(u64),
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timer::Duration(d) => write!(f, "d:{d}"),
            Timer::Instant(t) => write!(f, "i:{t}"),
        }
    }
}

/// One line of the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimerOp {
    /// `now`: read the monotonic clock.
    Now,
    /// `wall`: read the wall clock.
    Wall,
    /// `res`: both resolutions.
    Res,
    /// `sleep <ns>`: `subscribe-duration` + `block`.
    Sleep(u64),
    /// `poll <timer>...`: one pollable per timer, then `wasi:io/poll.poll`
    /// (never empty).
    Poll(Vec<Timer>),
    /// `ready <timer>`: the non-blocking `pollable.ready`.
    Ready(Timer),
    /// `random <n>`: `get-random-bytes(n)`.
    Random(u32),
    /// `u64`: `get-random-u64`.
    U64,
    /// `insecure <n>`: `get-insecure-random-bytes(n)`.
    Insecure(u32),
    /// `insecure-u64`: `get-insecure-random-u64`.
    InsecureU64,
    /// `insecure-seed`: `insecure-seed`.
    InsecureSeed,
}

impl TimerOp {
    /// The operation's keyword.
    pub fn name(&self) -> &'static str {
        match self {
            TimerOp::Now => "now",
            TimerOp::Wall => "wall",
            TimerOp::Res => "res",
            TimerOp::Sleep(_) => "sleep",
            TimerOp::Poll(_) => "poll",
            TimerOp::Ready(_) => "ready",
            TimerOp::Random(_) => "random",
            TimerOp::U64 => "u64",
            TimerOp::Insecure(_) => "insecure",
            TimerOp::InsecureU64 => "insecure-u64",
            TimerOp::InsecureSeed => "insecure-seed",
        }
    }
}

impl fmt::Display for TimerOp {
    /// The script line, without its newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            TimerOp::Sleep(ns) => write!(f, " {ns}"),
            TimerOp::Poll(timers) => timers.iter().try_for_each(|t| write!(f, " {t}")),
            TimerOp::Ready(t) => write!(f, " {t}"),
            TimerOp::Random(n) | TimerOp::Insecure(n) => write!(f, " {n}"),
            _ => Ok(()),
        }
    }
}

/// The program's stdin for `ops`.
///
/// # Example
///
/// ```
/// use proptests::timers::{Timer, TimerOp, script_text};
/// let text = script_text(&[TimerOp::Now, TimerOp::Poll(vec![Timer::Duration(5), Timer::Instant(9)])]);
/// assert_eq!(text, "now\npoll d:5 i:9\n");
/// ```
pub fn script_text(ops: &[TimerOp]) -> String {
    ops.iter().map(|op| format!("{op}\n")).collect()
}
