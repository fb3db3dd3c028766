//! Classes of integer, flag and enum arguments.

use super::Role::{self, *};

/// Boundary integers (exact), then within 64 KiB of one.
pub const INT_CLASSES: [&str; 12] = [
    "0",
    "1",
    "2^31-1",
    "2^31",
    "2^32",
    "2^63-1",
    "-1",
    "i64::MIN",
    "≈2^31",
    "≈2^32",
    "≈2^63-1",
    "≈i64::MIN",
];

/// The class of a 64-bit integer: a boundary of [`INT_CLASSES`], else
/// `≈2^40`, `small` (below 64 KiB), `negative` or `other`.
pub fn int_class(v: i64) -> &'static str {
    const NEAR: i64 = 1 << 16;
    let near = |base: i64| v.abs_diff(base) <= NEAR as u64;
    match v {
        0 => "0",
        1 => "1",
        0x7fff_ffff => "2^31-1",
        0x8000_0000 => "2^31",
        0x1_0000_0000 => "2^32",
        i64::MAX => "2^63-1",
        -1 => "-1",
        i64::MIN => "i64::MIN",
        _ if near(1 << 31) => "≈2^31",
        _ if near(1 << 32) => "≈2^32",
        _ if near(1 << 40) => "≈2^40",
        _ if v >= i64::MAX - NEAR => "≈2^63-1",
        _ if v <= i64::MIN + NEAR => "≈i64::MIN",
        2..NEAR => "small",
        _ if v < 0 => "negative",
        _ => "other",
    }
}

/// Named flag bits, then the combinations of [`universe`] (all of a
/// combination's bits set); `invalid` for bits past `valid`.
fn flag_classes(value: u64, valid: u64, bits: &[(&'static str, u64)]) -> Vec<&'static str> {
    if value & !valid != 0 {
        return vec!["invalid"];
    }
    let mut out = vec![];
    if value == 0 {
        out.push("0");
    }
    out.extend(
        bits.iter()
            .filter(|(_, b)| value & b == *b && *b != 0)
            .map(|(n, _)| *n),
    );
    out
}

/// The classes of a flag or enum value of `role`.
pub fn value_classes(role: Role, value: i64) -> Vec<&'static str> {
    let v32 = u64::from(value as u32);
    let pick = |names: &[&'static str], limit: u64| match names.get(v32 as usize) {
        Some(n) if v32 < limit => vec![*n],
        _ => vec!["invalid"],
    };
    match role {
        Lookup => flag_classes(v32, 1, &[("FOLLOW", 1)]),
        Oflags => flag_classes(
            v32,
            15,
            &[
                ("CREAT", 1),
                ("DIRECTORY", 2),
                ("EXCL", 4),
                ("TRUNC", 8),
                ("CREAT|EXCL", 5),
                ("CREAT|TRUNC", 9),
                ("DIRECTORY|CREAT", 3),
            ],
        ),
        Fdflags => flag_classes(
            v32,
            31,
            &[
                ("APPEND", 1),
                ("DSYNC", 2),
                ("NONBLOCK", 4),
                ("RSYNC", 8),
                ("SYNC", 16),
                ("APPEND|NONBLOCK", 5),
            ],
        ),
        Fst => flag_classes(
            v32,
            15,
            &[
                ("ATIM", 1),
                ("ATIM_NOW", 2),
                ("MTIM", 4),
                ("MTIM_NOW", 8),
                ("ATIM|MTIM", 5),
                ("ATIM_NOW|MTIM_NOW", 10),
                ("ATIM|ATIM_NOW", 3),
                ("MTIM|MTIM_NOW", 12),
            ],
        ),
        Rights => {
            let all = (1u64 << 30) - 1;
            let v = value as u64;
            let rw = 1 << 1 | 1 << 6;
            vec![match v {
                _ if v & !all != 0 => "invalid",
                0 => "none",
                2 => "FD_READ only",
                64 => "FD_WRITE only",
                66 => "FD_READ|FD_WRITE",
                _ if v == all => "all",
                _ if v & !rw != 0 => "other bits",
                _ => "invalid",
            }]
        }
        Whence => pick(&["SET", "CUR", "END"], 3),
        Advice => pick(
            &[
                "NORMAL",
                "SEQUENTIAL",
                "RANDOM",
                "WILLNEED",
                "DONTNEED",
                "NOREUSE",
            ],
            6,
        ),
        Clock => pick(
            &["REALTIME", "MONOTONIC", "PROCESS_CPUTIME", "THREAD_CPUTIME"],
            4,
        ),
        Signal => vec![match v32 {
            0 => "0",
            1..=30 => "valid",
            _ => "invalid",
        }],
        Exit => vec![if v32 == 0 { "0" } else { "nonzero" }],
        Riflags => flag_classes(v32, 3, &[("RECV_PEEK", 1), ("RECV_WAITALL", 2)]),
        Siflags => flag_classes(v32, 0, &[]),
        Sdflags => flag_classes(v32, 3, &[("RD", 1), ("WR", 2), ("RD|WR", 3)]),
        Offset | Size | Time | Cookie => vec![int_class(value)],
        _ => vec![],
    }
}
