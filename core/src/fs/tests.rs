//! Unit tests of the virtual filesystem.

mod build;
mod content;
mod digest;
#[cfg(unix)]
mod export;
mod io;
#[cfg(target_os = "linux")]
mod linux;
mod ops;
#[cfg(unix)]
mod reset;
mod resolve;
#[cfg(unix)]
mod snapshot;

use super::{FsTree, OpenOptions, VirtualFs};

/// The snapshot time every test tree uses.
const T0: u64 = 1_000;

fn tree(vfs: &VirtualFs) -> FsTree {
    FsTree::new(vfs, 7, T0)
}

fn read() -> OpenOptions {
    OpenOptions::new()
}

fn write() -> OpenOptions {
    OpenOptions::new().write(true)
}

fn create() -> OpenOptions {
    OpenOptions::new().write(true).create(true)
}
