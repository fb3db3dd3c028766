//! `wasi:filesystem@0.3.0` values to and from the preview2 values the
//! shared filesystem calls ([`Calls`](crate::p2::filesystem)) take and give.
//! The two releases declare the same records, flags and cases, except: 0.3
//! times are `instant`s (signed seconds), `descriptor-type` has
//! `other(option<string>)` where preview2 has `unknown`, and `error-code`
//! has no `would-block`.

use crate::p2::filesystem::VirtualDescriptor;
use wasmtime::component::Resource;
use wasmtime_wasi::p2::bindings::sync::filesystem::types as p2;
use wasmtime_wasi::p3::bindings::clocks::system_clock::Instant;
use wasmtime_wasi::p3::bindings::filesystem::types as p3;

/// A preview2 answer as the 0.3 value of the same meaning.
pub(super) trait ToP3 {
    type P3;
    fn to_p3(self) -> Self::P3;
}

/// Values both releases share.
macro_rules! same {
    ($($t:ty),*) => {$(
        impl ToP3 for $t {
            type P3 = $t;
            fn to_p3(self) -> $t {
                self
            }
        }
    )*};
}

same!((), bool, String, Resource<VirtualDescriptor>);

impl ToP3 for p2::DescriptorType {
    type P3 = p3::DescriptorType;
    fn to_p3(self) -> p3::DescriptorType {
        use p2::DescriptorType as D;
        match self {
            D::Unknown => p3::DescriptorType::Other(None),
            D::BlockDevice => p3::DescriptorType::BlockDevice,
            D::CharacterDevice => p3::DescriptorType::CharacterDevice,
            D::Directory => p3::DescriptorType::Directory,
            D::Fifo => p3::DescriptorType::Fifo,
            D::SymbolicLink => p3::DescriptorType::SymbolicLink,
            D::RegularFile => p3::DescriptorType::RegularFile,
            D::Socket => p3::DescriptorType::Socket,
        }
    }
}

/// The `descriptor-flags` of both releases, flag for flag.
const DESCRIPTOR_FLAGS: [(p2::DescriptorFlags, p3::DescriptorFlags); 6] = [
    (p2::DescriptorFlags::READ, p3::DescriptorFlags::READ),
    (p2::DescriptorFlags::WRITE, p3::DescriptorFlags::WRITE),
    (
        p2::DescriptorFlags::FILE_INTEGRITY_SYNC,
        p3::DescriptorFlags::FILE_INTEGRITY_SYNC,
    ),
    (
        p2::DescriptorFlags::DATA_INTEGRITY_SYNC,
        p3::DescriptorFlags::DATA_INTEGRITY_SYNC,
    ),
    (
        p2::DescriptorFlags::REQUESTED_WRITE_SYNC,
        p3::DescriptorFlags::REQUESTED_WRITE_SYNC,
    ),
    (
        p2::DescriptorFlags::MUTATE_DIRECTORY,
        p3::DescriptorFlags::MUTATE_DIRECTORY,
    ),
];

impl ToP3 for p2::DescriptorFlags {
    type P3 = p3::DescriptorFlags;
    fn to_p3(self) -> p3::DescriptorFlags {
        DESCRIPTOR_FLAGS
            .into_iter()
            .filter(|(f, _)| self.contains(*f))
            .fold(p3::DescriptorFlags::empty(), |all, (_, g)| all | g)
    }
}

fn instant(t: p2::Datetime) -> Instant {
    // Preview2 seconds come from 64-bit nanoseconds, so they fit an `s64`.
    Instant {
        seconds: t.seconds as i64,
        nanoseconds: t.nanoseconds,
    }
}

impl ToP3 for p2::DescriptorStat {
    type P3 = p3::DescriptorStat;
    fn to_p3(self) -> p3::DescriptorStat {
        p3::DescriptorStat {
            type_: self.type_.to_p3(),
            link_count: self.link_count,
            size: self.size,
            data_access_timestamp: self.data_access_timestamp.map(instant),
            data_modification_timestamp: self.data_modification_timestamp.map(instant),
            status_change_timestamp: self.status_change_timestamp.map(instant),
        }
    }
}

impl ToP3 for p2::MetadataHashValue {
    type P3 = p3::MetadataHashValue;
    fn to_p3(self) -> p3::MetadataHashValue {
        p3::MetadataHashValue {
            lower: self.lower,
            upper: self.upper,
        }
    }
}

impl ToP3 for p2::DirectoryEntry {
    type P3 = p3::DirectoryEntry;
    fn to_p3(self) -> p3::DirectoryEntry {
        p3::DirectoryEntry {
            type_: self.type_.to_p3(),
            name: self.name,
        }
    }
}

impl ToP3 for p2::ErrorCode {
    type P3 = p3::ErrorCode;
    fn to_p3(self) -> p3::ErrorCode {
        use p2::ErrorCode as E;
        use p3::ErrorCode as C;
        match self {
            E::Access => C::Access,
            // 0.3 has no `would-block`; the tree never answers it.
            E::WouldBlock => C::Other(None),
            E::Already => C::Already,
            E::BadDescriptor => C::BadDescriptor,
            E::Busy => C::Busy,
            E::Deadlock => C::Deadlock,
            E::Quota => C::Quota,
            E::Exist => C::Exist,
            E::FileTooLarge => C::FileTooLarge,
            E::IllegalByteSequence => C::IllegalByteSequence,
            E::InProgress => C::InProgress,
            E::Interrupted => C::Interrupted,
            E::Invalid => C::Invalid,
            E::Io => C::Io,
            E::IsDirectory => C::IsDirectory,
            E::Loop => C::Loop,
            E::TooManyLinks => C::TooManyLinks,
            E::MessageSize => C::MessageSize,
            E::NameTooLong => C::NameTooLong,
            E::NoDevice => C::NoDevice,
            E::NoEntry => C::NoEntry,
            E::NoLock => C::NoLock,
            E::InsufficientMemory => C::InsufficientMemory,
            E::InsufficientSpace => C::InsufficientSpace,
            E::NotDirectory => C::NotDirectory,
            E::NotEmpty => C::NotEmpty,
            E::NotRecoverable => C::NotRecoverable,
            E::Unsupported => C::Unsupported,
            E::NoTty => C::NoTty,
            E::NoSuchDevice => C::NoSuchDevice,
            E::Overflow => C::Overflow,
            E::NotPermitted => C::NotPermitted,
            E::Pipe => C::Pipe,
            E::ReadOnly => C::ReadOnly,
            E::InvalidSeek => C::InvalidSeek,
            E::TextFileBusy => C::TextFileBusy,
            E::CrossDevice => C::CrossDevice,
        }
    }
}

/// A 0.3 `path-flags` as preview2's.
pub(super) fn path_flags(f: p3::PathFlags) -> p2::PathFlags {
    if f.contains(p3::PathFlags::SYMLINK_FOLLOW) {
        p2::PathFlags::SYMLINK_FOLLOW
    } else {
        p2::PathFlags::empty()
    }
}

/// A 0.3 `open-flags` as preview2's.
pub(super) fn open_flags(f: p3::OpenFlags) -> p2::OpenFlags {
    use p2::OpenFlags as O;
    use p3::OpenFlags as P;
    [
        (P::CREATE, O::CREATE),
        (P::DIRECTORY, O::DIRECTORY),
        (P::EXCLUSIVE, O::EXCLUSIVE),
        (P::TRUNCATE, O::TRUNCATE),
    ]
    .into_iter()
    .filter(|(p, _)| f.contains(*p))
    .fold(O::empty(), |all, (_, o)| all | o)
}

/// A 0.3 `descriptor-flags` as preview2's.
pub(super) fn descriptor_flags(f: p3::DescriptorFlags) -> p2::DescriptorFlags {
    DESCRIPTOR_FLAGS
        .into_iter()
        .filter(|(_, g)| f.contains(*g))
        .fold(p2::DescriptorFlags::empty(), |all, (f, _)| all | f)
}

/// A 0.3 `advice` as preview2's.
pub(super) fn advice(a: p3::Advice) -> p2::Advice {
    match a {
        p3::Advice::Normal => p2::Advice::Normal,
        p3::Advice::Sequential => p2::Advice::Sequential,
        p3::Advice::Random => p2::Advice::Random,
        p3::Advice::WillNeed => p2::Advice::WillNeed,
        p3::Advice::DontNeed => p2::Advice::DontNeed,
        p3::Advice::NoReuse => p2::Advice::NoReuse,
    }
}

/// A 0.3 `new-timestamp` as preview2's. The tree keeps times as
/// nanoseconds since 1970, so an `instant` before 1970 (negative seconds)
/// is `overflow`, as one past 2554 is.
pub(super) fn new_timestamp(t: p3::NewTimestamp) -> Result<p2::NewTimestamp, p2::ErrorCode> {
    Ok(match t {
        p3::NewTimestamp::NoChange => p2::NewTimestamp::NoChange,
        p3::NewTimestamp::Now => p2::NewTimestamp::Now,
        p3::NewTimestamp::Timestamp(Instant {
            seconds,
            nanoseconds,
        }) => p2::NewTimestamp::Timestamp(p2::Datetime {
            seconds: u64::try_from(seconds).map_err(|_| p2::ErrorCode::Overflow)?,
            nanoseconds,
        }),
    })
}

/// A `new-timestamp` as two numbers for the trace: `(0, -1)` no change,
/// `(0, -2)` now, else seconds (which may be negative in 0.3) and
/// nanoseconds (never negative).
pub(super) fn timestamp_values(t: p3::NewTimestamp) -> (i64, i64) {
    match t {
        p3::NewTimestamp::NoChange => (0, -1),
        p3::NewTimestamp::Now => (0, -2),
        p3::NewTimestamp::Timestamp(t) => (t.seconds, i64::from(t.nanoseconds)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_times_keep_their_meaning() {
        let all = p3::DescriptorFlags::all();
        assert_eq!(descriptor_flags(all).to_p3(), all);
        assert_eq!(
            descriptor_flags(p3::DescriptorFlags::empty()),
            p2::DescriptorFlags::empty()
        );
        let o = p3::OpenFlags::CREATE | p3::OpenFlags::TRUNCATE;
        assert_eq!(
            open_flags(o),
            p2::OpenFlags::CREATE | p2::OpenFlags::TRUNCATE
        );
        let before_1970 = p3::NewTimestamp::Timestamp(Instant {
            seconds: -1,
            nanoseconds: 0,
        });
        assert!(matches!(
            new_timestamp(before_1970),
            Err(p2::ErrorCode::Overflow)
        ));
        assert_eq!(timestamp_values(before_1970), (-1, 0));
        assert_eq!(timestamp_values(p3::NewTimestamp::NoChange), (0, -1));
        assert!(matches!(
            p2::ErrorCode::CrossDevice.to_p3(),
            p3::ErrorCode::CrossDevice
        ));
        assert!(matches!(
            p2::ErrorCode::WouldBlock.to_p3(),
            p3::ErrorCode::Other(None)
        ));
    }
}
