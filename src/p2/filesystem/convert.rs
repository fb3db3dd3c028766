//! Conversions between the tree's preview1 answers and `wasi:filesystem`
//! values: errnos to `error-code`, [`Stat`] to `descriptor-stat`, times.

use crate::fs::{Errno, FileType, NewTime, Stat};
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    Datetime, DescriptorStat, DescriptorType, ErrorCode, MetadataHashValue, NewTimestamp,
};

/// The `error-code` for a preview1 errno, as stock wasmtime-wasi maps the
/// same host error (an errno with no `error-code` of its own is `io`).
pub(crate) fn error_code(errno: Errno) -> ErrorCode {
    use ErrorCode as E;
    match errno.0 {
        2 => E::Access,
        6 => E::WouldBlock,
        7 => E::Already,
        8 => E::BadDescriptor,
        10 => E::Busy,
        16 => E::Deadlock,
        19 => E::Quota,
        20 => E::Exist,
        22 => E::FileTooLarge,
        25 => E::IllegalByteSequence,
        26 => E::InProgress,
        27 => E::Interrupted,
        28 => E::Invalid,
        31 => E::IsDirectory,
        32 => E::Loop,
        34 => E::TooManyLinks,
        35 => E::MessageSize,
        37 => E::NameTooLong,
        40 => E::NoDevice,
        44 => E::NoEntry,
        46 => E::NoLock,
        48 => E::InsufficientMemory,
        51 => E::InsufficientSpace,
        52 | 58 => E::Unsupported,
        54 => E::NotDirectory,
        55 => E::NotEmpty,
        56 => E::NotRecoverable,
        59 => E::NoTty,
        60 => E::NoSuchDevice,
        61 => E::Overflow,
        63 => E::NotPermitted,
        64 => E::Pipe,
        69 => E::ReadOnly,
        70 => E::InvalidSeek,
        74 => E::TextFileBusy,
        75 => E::CrossDevice,
        _ => E::Io,
    }
}

/// The number an `error-code` has in the trace (its case index).
pub(crate) fn error_index(code: ErrorCode) -> i64 {
    code as u8 as i64
}

/// The `descriptor-type` of a tree entry.
pub(crate) fn descriptor_type(t: FileType) -> DescriptorType {
    match t {
        FileType::Directory => DescriptorType::Directory,
        FileType::RegularFile => DescriptorType::RegularFile,
        FileType::SymbolicLink => DescriptorType::SymbolicLink,
    }
}

/// Nanoseconds since the epoch as a `datetime`.
pub(crate) fn datetime(nanos: u64) -> Datetime {
    Datetime {
        seconds: nanos / 1_000_000_000,
        nanoseconds: (nanos % 1_000_000_000) as u32,
    }
}

/// A tree entry's metadata as a `descriptor-stat`: every time is present
/// (`status-change-timestamp` is the entry's `ctim`).
pub(crate) fn descriptor_stat(stat: &Stat) -> DescriptorStat {
    DescriptorStat {
        type_: descriptor_type(stat.filetype),
        link_count: stat.nlink,
        size: stat.size,
        data_access_timestamp: Some(datetime(stat.atim)),
        data_modification_timestamp: Some(datetime(stat.mtim)),
        status_change_timestamp: Some(datetime(stat.ctim)),
    }
}

/// The `metadata-hash` of an entry: its inode number and its device, so
/// wasi-libc's `st_ino` (the hash's lower half) is the inode number a
/// preview1 guest sees for the same entry.
pub(crate) fn metadata_hash(stat: &Stat) -> MetadataHashValue {
    MetadataHashValue {
        lower: stat.ino,
        upper: stat.dev,
    }
}

/// A `new-timestamp` as the tree takes it. A `datetime` is normalized as
/// stock does (nanoseconds past a second carry into the seconds); one past
/// what 64-bit nanoseconds hold (the year 2554) is `overflow`, where stock
/// would set it, or panic when the carry overflows the seconds.
pub(crate) fn new_time(t: NewTimestamp) -> Result<NewTime, ErrorCode> {
    match t {
        NewTimestamp::NoChange => Ok(NewTime::NoChange),
        NewTimestamp::Now => Ok(NewTime::Now),
        NewTimestamp::Timestamp(Datetime {
            seconds,
            nanoseconds,
        }) => {
            let nanos = u128::from(seconds) * 1_000_000_000 + u128::from(nanoseconds);
            u64::try_from(nanos)
                .map(NewTime::At)
                .map_err(|_| ErrorCode::Overflow)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_errno_the_tree_gives_has_its_own_error_code() {
        for (errno, code) in [
            (Errno::NOENT, ErrorCode::NoEntry),
            (Errno::BADF, ErrorCode::BadDescriptor),
            (Errno::NOTDIR, ErrorCode::NotDirectory),
            (Errno::NOSPC, ErrorCode::InsufficientSpace),
            (Errno::PERM, ErrorCode::NotPermitted),
        ] {
            assert_eq!(error_code(errno), code);
        }
        assert_eq!(error_code(Errno(9999)), ErrorCode::Io);
    }

    #[test]
    fn times_carry_and_overflow() {
        let t = |seconds, nanoseconds| {
            new_time(NewTimestamp::Timestamp(Datetime {
                seconds,
                nanoseconds,
            }))
        };
        assert_eq!(t(1, 1_500_000_000), Ok(NewTime::At(2_500_000_000)));
        assert_eq!(t(u64::MAX, u32::MAX), Err(ErrorCode::Overflow));
        assert_eq!(datetime(2_500_000_001).nanoseconds, 500_000_001);
    }
}
