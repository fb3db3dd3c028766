//! Well-formed arguments: what each preview1 parameter *is*, so that nine
//! prelude calls in ten pass arguments a real program would (descriptors
//! that exist, aligned output pointers with room, iovecs over real buffers,
//! paths from the tree, valid flags) and get past argument checking to the
//! host's real work; the tenth call keeps the any-value arguments that
//! exercise the checks themselves ([`super::word`], [`super::wide`]).
//!
//! Each function's parameters are spelled as one character per parameter
//! (the witx signatures of `wasi_snapshot_preview1`, lowered):
//!
//! | role | meaning | drawn as |
//! |---|---|---|
//! | `f` | a descriptor | mostly the descriptor the last `path_open` returned (the prelude opens file `a` first when the module imports `path_open`; else mostly stdio), or a preopen (3, 4), stdio, or one just past them |
//! | `d` | a directory descriptor | 3, 4 or the last opened descriptor |
//! | `p` `_` | a path and its length | one of [`super::path_entries`]: four in five of the first 13 [`super::PATHS`], which exist or can be created; else any table entry or long name |
//! | `b` `_` | a buffer and its length | a pointer into [`BUFFERS`], up to 256 bytes |
//! | `v` `_` | (i)ovecs and their count | [`IOVECS`], 0 to 4 of them |
//! | `o` | where a result goes | the call's own 128 bytes of [`OUTPUTS`] (a second result 96 bytes in) |
//! | `O` | where `path_open` writes the new descriptor | [`OPENED`] |
//! | `e` | an enum or flags | four in five from the values programs use ([`usual`]: `O_CREAT` or none, no sync flags, valid time-flag pairs, the realtime and monotonic clocks), else the valid range ([`super::TYPED_PARAMS`]) |
//! | `x` | an offset or size (i64) | mostly within a few KiB, sometimes a boundary (2^31, 2^32, 2^63 - 1, -1, ...) |
//! | `t` | a timestamp (i64) | nanoseconds up to about 30 years, sometimes a boundary |
//! | `c` | a directory cookie (i64) | 0 to 8 |
//! | `s` | `poll_oneoff`'s subscriptions | [`SUBSCRIPTIONS`] |
//! | `n` | how many subscriptions | 1 to 3 |
//! | `w` | anything else | [`super::word`] / [`super::wide`] |

use super::{AREA, TYPED_PARAMS};
use arbitrary::Unstructured;
use wasm_encoder::{Instruction, MemArg};

/// Where `path_open`'s new descriptor is written; reads of it give the
/// descriptor to later calls. The prelude starts it at 3 (the writable
/// preopen), so it is a directory until something is opened.
pub const OPENED: u32 = 3 * AREA;
/// 32 slots of 128 bytes (8-aligned) for results: each call's own.
pub const OUTPUTS: u32 = 3 * AREA + 512;
/// Four iovecs (`{buf, len}`), each over 128 bytes of [`BUFFERS`].
pub const IOVECS: u32 = OUTPUTS + 32 * 128;
/// Buffers the iovecs and `b` arguments point into: 4 KiB.
pub const BUFFERS: u32 = IOVECS + 64;
/// Three `poll_oneoff` subscriptions (48 bytes each): a relative
/// monotonic-clock timeout of 1 ms, an absolute realtime one at 2 s, and
/// reading stdin.
pub const SUBSCRIPTIONS: u32 = BUFFERS + 4096;

// The areas follow each other in the first page (the required `memory`
// export has at least one), past the path table: checked when compiling.
const _: () = assert!(OPENED >= 2 * AREA + 512);
const _: () = assert!(OUTPUTS >= OPENED + 4 && IOVECS == OUTPUTS + 32 * 128);
const _: () = assert!(BUFFERS >= IOVECS + 32 && SUBSCRIPTIONS == BUFFERS + 4096);
const _: () = assert!(SUBSCRIPTIONS + 3 * 48 <= 65_536);

/// Each preview1 function's parameter roles (see the module docs).
const SIGNATURES: &[(&str, &str)] = &[
    ("args_get", "oo"),
    ("args_sizes_get", "oo"),
    ("environ_get", "oo"),
    ("environ_sizes_get", "oo"),
    ("clock_res_get", "eo"),
    ("clock_time_get", "exo"),
    ("fd_advise", "fxxe"),
    ("fd_allocate", "fxx"),
    ("fd_close", "f"),
    ("fd_datasync", "f"),
    ("fd_fdstat_get", "fo"),
    ("fd_fdstat_set_flags", "fe"),
    ("fd_fdstat_set_rights", "fee"),
    ("fd_filestat_get", "fo"),
    ("fd_filestat_set_size", "fx"),
    ("fd_filestat_set_times", "ftte"),
    ("fd_pread", "fv_xo"),
    ("fd_prestat_get", "fo"),
    ("fd_prestat_dir_name", "fb_"),
    ("fd_pwrite", "fv_xo"),
    ("fd_read", "fv_o"),
    ("fd_readdir", "fb_co"),
    ("fd_renumber", "ff"),
    ("fd_seek", "fxeo"),
    ("fd_sync", "f"),
    ("fd_tell", "fo"),
    ("fd_write", "fv_o"),
    ("path_create_directory", "dp_"),
    ("path_filestat_get", "dep_o"),
    ("path_filestat_set_times", "dep_tte"),
    ("path_link", "dep_dp_"),
    ("path_open", "dep_eeeeO"),
    ("path_readlink", "dp_b_o"),
    ("path_remove_directory", "dp_"),
    ("path_rename", "dp_dp_"),
    ("path_symlink", "p_dp_"),
    ("path_unlink_file", "dp_"),
    ("poll_oneoff", "sono"),
    ("proc_exit", "w"),
    ("proc_raise", "e"),
    ("random_get", "b_"),
    ("sched_yield", ""),
    ("sock_accept", "feo"),
    ("sock_recv", "fv_eoo"),
    ("sock_send", "fv_eo"),
    ("sock_shutdown", "fe"),
];

/// The roles of `name`'s parameters, if it is a preview1 function.
pub fn roles(name: &str) -> Option<&'static str> {
    SIGNATURES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

/// The instructions that lay out [`IOVECS`] and [`SUBSCRIPTIONS`] and
/// start [`OPENED`] at 3.
pub fn layout(memarg: MemArg) -> Vec<Instruction<'static>> {
    let mut code = vec![
        Instruction::I32Const(OPENED as i32),
        Instruction::I32Const(3),
        Instruction::I32Store(memarg),
    ];
    for i in 0..4u32 {
        for (offset, value) in [(0, BUFFERS + 128 * i), (4, 128)] {
            code.push(Instruction::I32Const((IOVECS + 8 * i + offset) as i32));
            code.push(Instruction::I32Const(value as i32));
            code.push(Instruction::I32Store(memarg));
        }
    }
    // Subscriptions: userdata @0, tag @8 (0 clock, 1 fd_read), then the
    // clock's id @16, timeout @24, precision @32, flags @40 (1: absolute),
    // or the fd @16. Stored as 32-bit words: the rest of each is zero.
    for offset in (0..3 * 48).step_by(8) {
        code.push(Instruction::I32Const((SUBSCRIPTIONS + offset) as i32));
        code.push(Instruction::I64Const(0));
        code.push(Instruction::I64Store(MemArg { align: 3, ..memarg }));
    }
    let words: [(u32, u32); 9] = [
        (0, 1),
        (16, 1),
        (24, 1_000_000),
        (48, 2),
        (64, 0),
        (72, 2_000_000_000),
        (88, 1),
        (96, 3),
        (104, 1),
    ];
    for (offset, value) in words {
        code.push(Instruction::I32Const((SUBSCRIPTIONS + offset) as i32));
        code.push(Instruction::I32Const(value as i32));
        code.push(Instruction::I32Store(memarg));
    }
    code
}

/// The values programs usually pass for an enum or flags parameter.
fn usual(name: &str, position: usize) -> Option<&'static [i64]> {
    // fstflags: ATIM 1, ATIM_NOW 2, MTIM 4, MTIM_NOW 8 (never both of a pair).
    const FST: &[i64] = &[0, 1, 2, 4, 8, 1 | 4, 2 | 8, 1 | 8, 2 | 4];
    // fdflags without the sync flags (ENOTSUP here as in stock).
    const FD: &[i64] = &[0, 1, 4, 1 | 4];
    Some(match (name, position) {
        ("clock_time_get" | "clock_res_get", 0) => &[0, 1],
        ("path_open", 4) => &[0, 0, 1, 1 | 8, 1 | 4, 2],
        ("path_open", 7) | ("fd_fdstat_set_flags", 1) => FD,
        ("fd_filestat_set_times", 3) | ("path_filestat_set_times", 6) => FST,
        _ => return None,
    })
}

fn four_in_five(u: &mut Unstructured) -> arbitrary::Result<bool> {
    u.ratio(4u8, 5)
}

/// How many of the first [`super::PATHS`] name something in the tree or a
/// name that can be created (`a` to `dlink/c.txt`).
const WELL_FORMED_PATHS: usize = 13;

/// A call of `path_open` (function `index`) that opens file `a` (the first
/// path table entry, in `entries`) in the writable preopen with every right
/// and writes its descriptor to [`OPENED`]; its errno is dropped.
pub fn open_a_file(index: u32, entries: &[(u32, u32)]) -> Vec<Instruction<'static>> {
    let (address, len) = entries.first().copied().unwrap_or((0, 0));
    vec![
        Instruction::I32Const(3),
        Instruction::I32Const(1), // follow symlinks
        Instruction::I32Const(address as i32),
        Instruction::I32Const(len as i32),
        Instruction::I32Const(0), // no oflags: it exists
        Instruction::I64Const(super::RIGHTS),
        Instruction::I64Const(super::RIGHTS),
        Instruction::I32Const(0),
        Instruction::I32Const(OPENED as i32),
        Instruction::Call(index),
        Instruction::Drop,
    ]
}

/// Boundary values for 64-bit offsets, sizes and times.
const BOUNDARIES: &[i64] = &[
    0,
    1,
    (1 << 31) - 1,
    1 << 31,
    1 << 32,
    1 << 40,
    i64::MAX,
    -1,
    i64::MIN,
];

/// One well-formed call to draw arguments for.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// The function.
    pub name: &'a str,
    /// Its parameters' roles ([`roles`]).
    pub roles: &'a str,
    /// Which call of the prelude it is (its output slot).
    pub index: u32,
    /// The prelude opened a file at [`OPENED`] (else descriptors are mostly
    /// stdio).
    pub have_file: bool,
}

/// Pushes onto `code` the arguments of `call`; `entries` are the path
/// table's `(address, length)` pairs.
pub fn arguments(
    call: &Call<'_>,
    entries: &[(u32, u32)],
    memarg: MemArg,
    u: &mut Unstructured,
    code: &mut Vec<Instruction<'static>>,
) -> arbitrary::Result<()> {
    let Call {
        name,
        roles,
        index: call,
        have_file,
    } = *call;
    // The call's own 128 bytes: its first result at the start (room for
    // three poll events), a second one 96 bytes in.
    let mut outs = [
        OUTPUTS + 128 * (call % 32),
        OUTPUTS + 128 * (call % 32) + 96,
    ]
    .into_iter();
    let opened = [
        Instruction::I32Const(OPENED as i32),
        Instruction::I32Load(memarg),
    ];
    let wide = i64_params(name);
    for (position, role) in roles.chars().enumerate() {
        let wide = wide.get(position).copied().unwrap_or(false);
        match role {
            '_' => {} // pushed with its pointer
            // Without `path_open` nothing is opened: stdio, then.
            'f' if !have_file && four_in_five(u)? => {
                code.push(Instruction::I32Const(u.int_in_range(0..=2)?));
            }
            'f' => match u.int_in_range(0u8..=19)? {
                0..=2 => code.push(Instruction::I32Const(u.int_in_range(3..=4)?)),
                3..=13 => code.extend(opened.iter().cloned()),
                14..=17 => code.push(Instruction::I32Const(u.int_in_range(0..=2)?)),
                _ => code.push(Instruction::I32Const(u.int_in_range(5..=8)?)),
            },
            's' => code.push(Instruction::I32Const(SUBSCRIPTIONS as i32)),
            'n' => code.push(Instruction::I32Const(u.int_in_range(1..=3)?)),
            'd' => match u.int_in_range(0u8..=9)? {
                0..=4 => code.push(Instruction::I32Const(3)),
                5..=6 => code.push(Instruction::I32Const(4)),
                _ => code.extend(opened.iter().cloned()),
            },
            'p' => {
                // Four in five name something in the tree or a name that
                // can be created ([`super::PATHS`] lists those first).
                let (address, len) = match u.ratio(4u8, 5)? {
                    true => *u.choose(&entries[..WELL_FORMED_PATHS.min(entries.len())])?,
                    false => *u.choose(entries)?,
                };
                code.push(Instruction::I32Const(address as i32));
                code.push(Instruction::I32Const(len as i32));
            }
            'b' => {
                let len = u.int_in_range(0..=256u32)?;
                let at = BUFFERS + 8 * u.int_in_range(0..=(4096 - 256) / 8)?;
                code.push(Instruction::I32Const(at as i32));
                code.push(Instruction::I32Const(len as i32));
            }
            'v' => {
                code.push(Instruction::I32Const(IOVECS as i32));
                code.push(Instruction::I32Const(u.int_in_range(0..=4)?));
            }
            'o' => {
                let out = outs.next().unwrap_or(OUTPUTS);
                code.push(Instruction::I32Const(out as i32));
            }
            'O' => code.push(Instruction::I32Const(OPENED as i32)),
            'e' if four_in_five(u)? && usual(name, position).is_some() => {
                let choices = usual(name, position).unwrap_or(&[0]);
                let value = *u.choose(choices)?;
                code.push(match wide {
                    true => Instruction::I64Const(value),
                    false => Instruction::I32Const(value as i32),
                });
            }
            'e' => {
                let max = TYPED_PARAMS
                    .iter()
                    .find(|(n, p, _)| *n == name && *p == position)
                    .map_or(0, |(_, _, max)| *max);
                let value = u.int_in_range(0..=max)?;
                code.push(match wide {
                    true => Instruction::I64Const(value),
                    false => Instruction::I32Const(value as i32),
                });
            }
            'x' | 't' | 'c' => {
                let value = match (role, u.int_in_range(0u8..=9)?) {
                    ('c', _) => u.int_in_range(0..=8)?,
                    ('x', 0..=6) => u.int_in_range(0..=4096)?,
                    ('t', 0..=6) => u.int_in_range(0..=1_000_000_000_000_000_000)?,
                    (_, 7..=8) => *u.choose(BOUNDARIES)?,
                    _ => u.arbitrary()?,
                };
                code.push(Instruction::I64Const(value));
            }
            _ => code.push(match wide {
                true => Instruction::I64Const(super::wide(u)?),
                false => Instruction::I32Const(super::word(u)?),
            }),
        }
    }
    Ok(())
}

/// Which of `name`'s parameters are i64 ([`crate::P1_FUNCTIONS`]).
fn i64_params(name: &str) -> Vec<bool> {
    crate::P1_FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(Vec::new(), |(_, params)| {
            params.chars().map(|c| c == 'I').collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every role string has one role per parameter of the witx signature
    /// ([`crate::P1_FUNCTIONS`]), lengths after their pointers, i64 roles on
    /// i64 parameters only, and every `e` has a known valid range.
    #[test]
    fn roles_match_the_signatures() {
        for (name, params) in crate::P1_FUNCTIONS {
            let roles = roles(name).unwrap_or_else(|| panic!("{name}: no roles"));
            assert_eq!(roles.len(), params.len(), "{name}: {roles} for {params}");
            let chars: Vec<char> = roles.chars().collect();
            for (position, &role) in chars.iter().enumerate() {
                if matches!(role, 'p' | 'b' | 'v') {
                    assert_eq!(
                        chars.get(position + 1),
                        Some(&'_'),
                        "{name}: {role} needs a length"
                    );
                }
                if role == '_' {
                    let before = position.checked_sub(1).map(|p| chars[p]);
                    assert!(
                        matches!(before, Some('p' | 'b' | 'v')),
                        "{name}: stray length"
                    );
                }
                if role == 'e' {
                    assert!(
                        TYPED_PARAMS
                            .iter()
                            .any(|(n, p, _)| n == name && *p == position),
                        "{name}: parameter {position} has no valid range"
                    );
                }
                let wide = params.as_bytes()[position] == b'I';
                if matches!(role, 'x' | 't' | 'c') {
                    assert!(
                        wide,
                        "{name}: {role} at {position} is an i64 role on an i32"
                    );
                }
                if matches!(
                    role,
                    'f' | 'd' | 'p' | 'b' | 'v' | 'o' | 'O' | '_' | 's' | 'n'
                ) {
                    assert!(
                        !wide,
                        "{name}: {role} at {position} is an i32 role on an i64"
                    );
                }
            }
        }
        assert_eq!(SIGNATURES.len(), crate::P1_FUNCTIONS.len());
    }
}
