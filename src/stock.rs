//! Stock `wasmtime-wasi` set-up that the auditor's stock runs and the tests
//! comparing against stock share, one function per call whose signature
//! differs between the wasmtime majors this source builds against (README,
//! "Wasmtime versions").

use std::path::Path;
use wasmtime_wasi::WasiCtxBuilder;

/// Preopens host directory `host` at `guest` in a stock builder: everything
/// allowed when `writable`, reading only otherwise.
///
/// wasmtime 46 takes directory and file permission flags.
#[cfg(not(wasmtime_50))]
pub(crate) fn preopen_dir(
    builder: &mut WasiCtxBuilder,
    host: &Path,
    guest: &str,
    writable: bool,
) -> wasmtime::Result<()> {
    use wasmtime_wasi::{DirPerms, FilePerms};
    let (dir_perms, file_perms) = if writable {
        (DirPerms::all(), FilePerms::all())
    } else {
        (DirPerms::READ, FilePerms::READ)
    };
    builder.preopened_dir(host, guest, dir_perms, file_perms)?;
    Ok(())
}

/// Preopens host directory `host` at `guest` in a stock builder: everything
/// allowed when `writable`, reading only otherwise.
///
/// wasmtime 50 takes one `FsPerms` (read-only or read-write) for the
/// directory and everything under it.
#[cfg(wasmtime_50)]
pub(crate) fn preopen_dir(
    builder: &mut WasiCtxBuilder,
    host: &Path,
    guest: &str,
    writable: bool,
) -> wasmtime::Result<()> {
    use wasmtime_wasi::FsPerms;
    let perms = if writable {
        FsPerms::ReadWrite
    } else {
        FsPerms::ReadOnly
    };
    builder.preopened_dir(host, guest, perms)?;
    Ok(())
}
