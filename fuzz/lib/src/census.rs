//! A census of what a generator produces: for every preview1 call in a
//! decoded input, the classes of its arguments (flag bits and meaningful
//! combinations, boundary integers, path shapes, descriptor kinds, buffer
//! shapes, subscription kinds), counted per function and parameter.
//!
//! Each target's test (`census_tests`) turns its decoded inputs into
//! [`Call`]s (a function name and its arguments as the guest passes them)
//! over an [`Image`] of the guest memory the arguments point into, and
//! feeds them to one [`Census`]: the classification below is written once
//! and shared. A [`Census::check`] then names every class of the target's
//! functions that never appeared and is not listed as "not produced" (with
//! the reason), and every listed class that did appear after all.
//!
//! The classes are read from the input, not from a run: a descriptor's kind
//! follows the calls before it as if every `path_open` of something the
//! tree has (or may create) succeeded ([`Fds`]).

pub mod components;
mod fds;
pub mod logs;
mod memory;
mod module;
mod paths;
mod roles;
#[cfg(feature = "p3-guests")]
pub mod tasks;
mod values;
pub mod waits;

use Role::*;
pub use fds::Fds;
pub use memory::Image;
use memory::{buf_classes, iovec_classes, out_classes, subscription_classes};
use paths::{SYMLINKS, path_classes};
pub use roles::{Role, parameters, universe};
use std::collections::BTreeMap;
use values::value_classes;

/// One call as the guest makes it: a preview1 function and its arguments
/// (i32 parameters in the low bits).
#[derive(Clone, Debug)]
pub struct Call {
    /// The function's name.
    pub function: &'static str,
    /// Its arguments.
    pub args: Vec<i64>,
}

/// What the census needs to know about a target's context: its preopens
/// (descriptor and guest-visible name).
pub struct Context {
    /// Memory at the calls.
    pub image: Image,
    /// Descriptor kinds so far.
    pub fds: Fds,
    /// The preopens' descriptors and names.
    pub preopens: Vec<(u32, &'static str)>,
}

impl Context {
    /// A context with the given memory and preopens.
    pub fn new(image: Image, preopens: &[(u32, &'static str)]) -> Context {
        let fds: Vec<u32> = preopens.iter().map(|p| p.0).collect();
        Context {
            image,
            fds: Fds::new(&fds),
            preopens: preopens.to_vec(),
        }
    }
}

/// Counts per function, parameter and class.
#[derive(Default)]
pub struct Census {
    counts: BTreeMap<&'static str, BTreeMap<String, u64>>,
}

/// A class that a target's generator does not produce, by design: a
/// function (or `*`), a `label:class` prefix, and why.
pub type NotProduced = (&'static str, &'static str, &'static str);

impl Census {
    /// Counts one `label:class` of `function`.
    pub fn add(&mut self, function: &'static str, class: String) {
        *self
            .counts
            .entry(function)
            .or_default()
            .entry(class)
            .or_default() += 1;
    }

    /// How often `label:class` of `function` appeared.
    pub fn count(&self, function: &str, class: &str) -> u64 {
        self.counts
            .get(function)
            .and_then(|c| c.get(class))
            .copied()
            .unwrap_or(0)
    }

    /// Classifies `call`'s arguments in `cx`, then follows the call.
    pub fn record(&mut self, call: &Call, cx: &mut Context) {
        let params = parameters(call.function);
        let arg = |i: usize| call.args.get(i).copied().unwrap_or(0);
        let outs: Vec<i64> = params
            .iter()
            .enumerate()
            .filter(|(_, (_, r))| *r == Out)
            .map(|(i, _)| arg(i))
            .collect();
        self.add(call.function, "calls".to_string());
        for (i, (label, role)) in params.iter().enumerate() {
            let classes: Vec<&'static str> = match role {
                Fd | Dir => vec![cx.fds.class(arg(i))],
                Path => match cx.image.read(arg(i), arg(i + 1)) {
                    Some(path) => path_classes(path),
                    None => vec!["out of bounds"],
                },
                Iovs => iovec_classes(&cx.image, arg(i), arg(i + 1), &outs),
                Buf => {
                    let expected = expected_len(call, cx);
                    buf_classes(&cx.image, arg(i), arg(i + 1), expected, &outs)
                }
                Out => out_classes(&cx.image, arg(i)),
                Subs => subscription_classes(&cx.image, arg(i), arg(i + 2)),
                role => value_classes(*role, arg(i)),
            };
            for class in classes {
                self.add(call.function, format!("{label}:{class}"));
            }
        }
        if call.function == "path_filestat_set_times" {
            self.add_set_times_combination(call, cx);
        }
        if let Some(fd) = cx.fds.after(call, &cx.image)
            && call.function == "path_open"
        {
            let out = arg(8) as u32 as usize;
            if let Some(slot) = cx.image.bytes.get_mut(out..out + 4) {
                slot.copy_from_slice(&fd.to_le_bytes());
            }
        }
    }

    /// For `path_filestat_set_times` with a path ending in `/` or `/.` (a
    /// demand for a directory, read differently per call by cap-std and
    /// Linux: a difference from stock that `fs_diff` once missed), the
    /// class `ends:<fstflags> <lookup> <end>`.
    fn add_set_times_combination(&mut self, call: &Call, cx: &Context) {
        let a = |i: usize| call.args.get(i).copied().unwrap_or(0);
        let Some(path) = cx.image.read(a(2), a(3)) else {
            return;
        };
        let end = match path {
            _ if path.ends_with(b"/.") => "/.",
            _ if path.ends_with(b"/") => "/",
            _ => return,
        };
        let class = format!("ends:{} {} {end}", a(6) as u32, a(1) as u32);
        self.add(call.function, class);
    }

    /// Which of `wanted` (function, `label:class`) no input had.
    pub fn missing(&self, wanted: &[(&str, String)]) -> Vec<String> {
        wanted
            .iter()
            .filter(|(f, c)| self.count(f, c) == 0)
            .map(|(f, c)| format!("never produced: {f} {c}"))
            .collect()
    }

    /// The classes of `functions` no input had, less those `not_produced`
    /// lists (by function, or `*`, and a `label:class` prefix; a label's
    /// `#2` is ignored), then those it lists that some input had after all.
    /// A class `rare` lists is neither required nor forbidden per function,
    /// but must appear for one of them at least. `classes` gives the
    /// `label:class` classes that apply to a function: preview1's
    /// ([`preview1_classes`]) or another interface's, such as the
    /// components'.
    pub fn check(
        &self,
        functions: &[&'static str],
        classes: &dyn Fn(&str) -> Vec<String>,
        not_produced: &[NotProduced],
        rare: &[NotProduced],
    ) -> Vec<String> {
        let matches = |list: &[NotProduced], function: &str, class: &str| {
            list.iter()
                .any(|entry| entry_matches(entry, function, class))
        };
        let mut problems = Vec::new();
        let mut rare_seen = vec![false; rare.len()];
        for &function in functions {
            for class in classes(function) {
                let n = self.count(function, &class);
                for (i, entry) in rare.iter().enumerate() {
                    rare_seen[i] |= n > 0 && entry_matches(entry, function, &class);
                }
                if matches(rare, function, &class) {
                    continue;
                }
                match (n, matches(not_produced, function, &class)) {
                    (0, false) => problems.push(format!("never produced: {function} {class}")),
                    (n, true) if n > 0 => problems.push(format!(
                        "listed as not produced but produced {n} times: {function} {class}"
                    )),
                    _ => {}
                }
            }
            if self.count(function, "calls") == 0 {
                problems.push(format!("never called: {function}"));
            }
        }
        for ((f, c, _), seen) in rare.iter().zip(rare_seen) {
            if !seen {
                problems.push(format!("listed as rare but never produced: {f} {c}"));
            }
        }
        problems
    }

    /// One line per function of `functions`: how many of the classes that
    /// apply to it (`classes`, as for [`Census::check`]) appeared,
    /// and how many are listed as not produced (`fd_seek 31/38 (7 not
    /// produced)`).
    pub fn summary(
        &self,
        functions: &[&'static str],
        classes: &dyn Fn(&str) -> Vec<String>,
        not_produced: &[NotProduced],
    ) -> String {
        let mut out = String::new();
        for &function in functions {
            let (mut seen, mut all, mut listed) = (0, 0, 0);
            for class in classes(function) {
                all += 1;
                seen += usize::from(self.count(function, &class) > 0);
                listed += usize::from(
                    not_produced
                        .iter()
                        .any(|entry| entry_matches(entry, function, &class)),
                );
            }
            out.push_str(&format!(
                "{function} {seen}/{all} ({listed} not produced)\n"
            ));
        }
        out
    }

    /// The census as text: one line per function and parameter (`label:
    /// class count · ...`), then what is not produced and why.
    pub fn table(
        &self,
        target: &str,
        not_produced: &[NotProduced],
        rare: &[NotProduced],
    ) -> String {
        let mut out = format!("census of {target} (function, parameter: class count)\n");
        for (function, classes) in &self.counts {
            let calls = classes.get("calls").copied().unwrap_or(0);
            out.push_str(&format!("{function} ({calls} calls)\n"));
            let mut by_label: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for (class, n) in classes {
                if let Some((label, class)) = class.split_once(':') {
                    by_label
                        .entry(label)
                        .or_default()
                        .push(format!("{class} {n}"));
                }
            }
            for (label, classes) in by_label {
                out.push_str(&format!("  {label}: {}\n", classes.join(" · ")));
            }
        }
        for (title, list) in [("not produced", not_produced), ("rare", rare)] {
            out.push_str(&format!("{title}:\n"));
            for (function, class, why) in list {
                out.push_str(&format!("  {function} {class}: {why}\n"));
            }
        }
        out
    }
}

/// The `label:class` classes of a preview1 `function`'s parameters that
/// can occur in a call of it ([`applies`]).
pub fn preview1_classes(function: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (label, role) in parameters(function) {
        for class in universe(role) {
            if applies(function, role, class) {
                out.push(format!("{label}:{class}"));
            }
        }
    }
    out
}

/// Whether a listed `(function, prefix, why)` covers `class` of
/// `function`: a prefix with a `#` is matched as written, one without
/// against the class with its label's `#2` dropped (so it covers both).
fn entry_matches((f, prefix, _): &NotProduced, function: &str, class: &str) -> bool {
    let class = match prefix.contains('#') {
        true => class.to_string(),
        false => strip_suffix(class),
    };
    (*f == "*" || *f == function) && class.starts_with(prefix)
}

/// `label#2:class` as `label:class`.
fn strip_suffix(class: &str) -> String {
    match class.split_once(':') {
        Some((label, rest)) => format!("{}:{rest}", label.split('#').next().unwrap_or(label)),
        None => class.to_string(),
    }
}

/// Whether `class` of a `role` parameter can occur in a call of `function`
/// at all: a buffer is `exact` or `one short` only where the census knows
/// the length the answer needs ([`expected_len`]), and overlaps only a
/// result pointer of the same call.
fn applies(function: &str, role: Role, class: &str) -> bool {
    match (role, class) {
        (Buf, "exact" | "one short") => {
            matches!(function, "fd_prestat_dir_name" | "path_readlink")
        }
        (Buf | Iovs, "overlapping") => parameters(function).iter().any(|(_, r)| *r == Out),
        _ => true,
    }
}

/// The length a buffer of `call` needs to hold its whole answer, where the
/// census knows it: a preopen's name, a symlink's target.
fn expected_len(call: &Call, cx: &Context) -> Option<u32> {
    let a = |i: usize| call.args.get(i).copied().unwrap_or(0);
    match call.function {
        "fd_prestat_dir_name" => cx
            .preopens
            .iter()
            .find(|(fd, _)| i64::from(*fd) == a(0))
            .map(|(_, name)| name.len() as u32),
        "path_readlink" => {
            let path = cx.image.read(a(1), a(2))?;
            SYMLINKS
                .iter()
                .find(|(n, _)| *n == path)
                .map(|(_, target)| target.len() as u32)
        }
        _ => None,
    }
}
