//! The descriptor table and the stdio behind it.

use crate::stdio::CapturedOutput;
use std::collections::{BTreeMap, BTreeSet};

/// What a descriptor refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Descriptor {
    /// Standard input: the configured bytes.
    Stdin,
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One context's preview1 descriptors: which numbers are open, and the stdio
/// streams they lead to. Built by
/// [`DeterminismConfig::build_p1`](crate::DeterminismConfig::build_p1) and
/// [`build_wasi_common`](crate::DeterminismConfig::build_wasi_common);
/// served by [`add_descriptors_to_linker`](super::add_descriptors_to_linker).
///
/// # Example
///
/// ```
/// use deterministic_wasi_ctx::DeterminismConfig;
/// use deterministic_wasi_ctx::fd::Descriptor;
///
/// let ctx = DeterminismConfig::new().build_p1();
/// assert_eq!(ctx.descriptors().get(1), Some(Descriptor::Stdout));
/// assert_eq!(ctx.descriptors().get(3), None);
/// ```
#[derive(Debug)]
pub struct Descriptors {
    used: BTreeMap<u32, Descriptor>,
    free: BTreeSet<u32>,
    stdin: Vec<u8>,
    stdin_read: usize,
    output: CapturedOutput,
}

impl Descriptors {
    /// Stdin (fd 0) reading `stdin`, stdout (1) and stderr (2) writing to
    /// `output`.
    pub(crate) fn new(stdin: Vec<u8>, output: CapturedOutput) -> Self {
        Descriptors {
            used: BTreeMap::from([
                (0, Descriptor::Stdin),
                (1, Descriptor::Stdout),
                (2, Descriptor::Stderr),
            ]),
            free: BTreeSet::new(),
            stdin,
            stdin_read: 0,
            output,
        }
    }

    /// What `fd` refers to, if it is open.
    pub fn get(&self, fd: u32) -> Option<Descriptor> {
        self.used.get(&fd).copied()
    }

    /// Closes `fd`: `false` if it was not open.
    pub(crate) fn close(&mut self, fd: u32) -> bool {
        if self.used.remove(&fd).is_none() {
            return false;
        }
        self.free.insert(fd);
        true
    }

    /// Moves `from` to `to`, closing what `to` held; `false` (nothing done)
    /// unless both are open.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> bool {
        let (Some(_), Some(_)) = (self.get(from), self.get(to)) else {
            return false;
        };
        if from != to {
            self.close(to);
            let moved = self.used.remove(&from).expect("checked above");
            self.free.insert(from);
            self.free.remove(&to);
            self.used.insert(to, moved);
        }
        true
    }

    /// Takes up to `max` bytes of stdin (fewer at its end).
    pub(crate) fn read_stdin(&mut self, max: usize) -> &[u8] {
        let start = self.stdin_read;
        let end = start + max.min(self.stdin.len() - start);
        self.stdin_read = end;
        &self.stdin[start..end]
    }

    /// Whether stdin has bytes left.
    pub(crate) fn stdin_left(&self) -> bool {
        self.stdin_read < self.stdin.len()
    }

    /// Appends `bytes` to stdout or stderr, as far as the capture limit
    /// allows: `false` if not all of them fitted.
    pub(crate) fn write_output(&mut self, stream: Descriptor, bytes: &[u8]) -> bool {
        match stream {
            Descriptor::Stdout => self.output.write_stdout(bytes),
            Descriptor::Stderr => self.output.write_stderr(bytes),
            Descriptor::Stdin => false,
        }
    }
}
