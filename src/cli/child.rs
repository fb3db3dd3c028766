//! `audit --processes`: the run in a child process of this binary, on the
//! parent's inputs.
//!
//! The parent reads `--stdin` and snapshots every `--dir` once; the child
//! must run on those bytes, not on the host paths (which may have changed
//! since), so the parent sends them down the child's stdin and never passes
//! `--dir` or `--stdin` on. The encoding ([`encode`]), all integers u64
//! little-endian: the tag `dwc child inputs v1\0`; stdin's length and
//! bytes; the number of preopens; per preopen its guest path (length,
//! bytes), its snapshot's limits (`max_bytes`, `max_entries`) and entries
//! (count; per entry in walk order a type byte, 0 directory, 1 file, 2
//! symlink, the path's length and bytes, and for a file or symlink the
//! contents' or target's length and bytes).

use super::args::{Inputs, Options};
use deterministic_wasi_ctx::VirtualFs;
use deterministic_wasi_ctx::audit::{Backend, Compiled, Outcome, Strategy};
use deterministic_wasi_ctx::fs::{FileContent, FsTree, Limits, MAX_FILE_SIZE, WalkContent};
use std::io::Read;
use std::path::Path;

/// The tag that starts the encoding.
const TAG: &[u8] = b"dwc child inputs v1\0";

/// `inputs` as the bytes the child reads from its stdin.
pub fn encode(inputs: &Inputs) -> Vec<u8> {
    let mut out = TAG.to_vec();
    put_bytes(&mut out, &inputs.stdin);
    put(&mut out, inputs.preopens.len() as u64);
    for (guest, fs) in &inputs.preopens {
        put_bytes(&mut out, guest.as_bytes());
        let limits = fs.limits();
        put(&mut out, limits.max_bytes);
        put(&mut out, limits.max_entries);
        let tree = FsTree::new(fs, 1, 0);
        let entries = tree.walk();
        // The root (always first) is implied.
        put(&mut out, entries.len().saturating_sub(1) as u64);
        for entry in entries.iter().skip(1) {
            match entry.content {
                WalkContent::Directory => {
                    out.push(0);
                    put_bytes(&mut out, &entry.path);
                }
                WalkContent::File(content) => {
                    // Sparse: the size, then each stored run at its offset.
                    out.push(1);
                    put_bytes(&mut out, &entry.path);
                    put(&mut out, content.len());
                    put(&mut out, content.extents().count() as u64);
                    for (at, bytes) in content.extents() {
                        put(&mut out, at);
                        put_bytes(&mut out, bytes);
                    }
                }
                WalkContent::Symlink(target) => {
                    out.push(2);
                    put_bytes(&mut out, &entry.path);
                    put_bytes(&mut out, target);
                }
            }
        }
    }
    out
}

/// The inputs [`encode`] wrote, rebuilt (each snapshot under its limits).
pub fn decode(bytes: &[u8]) -> Result<Inputs, String> {
    let mut r = Reader(bytes);
    if r.take(TAG.len())? != TAG {
        return Err("not the parent's inputs (bad tag)".into());
    }
    let stdin = r.bytes()?.to_vec();
    let mut preopens = Vec::new();
    for _ in 0..r.u64()? {
        let guest = String::from_utf8(r.bytes()?.to_vec())
            .map_err(|_| "a guest path is not UTF-8".to_string())?;
        let limits = Limits {
            max_bytes: r.u64()?,
            max_entries: r.u64()?,
        };
        let mut fs = VirtualFs::with_limits(limits);
        for _ in 0..r.u64()? {
            let kind = r.take(1)?[0];
            let path = r.bytes()?;
            fs = match kind {
                0 => fs.try_dir(path),
                1 => {
                    let content = r.file_content(limits.max_bytes)?;
                    fs.try_file_content(path, content)
                }
                2 => fs.try_symlink(path, r.bytes()?),
                _ => return Err(format!("unknown entry type {kind}")),
            }
            .map_err(|e| format!("preopen {guest}: {e}"))?;
        }
        preopens.push((guest, fs));
    }
    if !r.0.is_empty() {
        return Err("trailing bytes after the parent's inputs".into());
    }
    Ok(Inputs { stdin, preopens })
}

/// The child's run: `options` (which must not name host inputs) with the
/// inputs read from `input`, on `backend` and `strategy`.
pub fn run(
    path: &Path,
    options: &Options,
    backend: Backend,
    strategy: Strategy,
    mut input: impl Read,
) -> Result<Outcome, String> {
    if !options.dirs.is_empty() || options.stdin.is_some() {
        return Err(
            "__child takes its preopens and stdin from the parent, not --dir or --stdin".into(),
        );
    }
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| format!("reading the parent's inputs: {e}"))?;
    let inputs = decode(&bytes).map_err(|e| format!("the parent's inputs: {e}"))?;
    let config = options.audit_config_with(inputs)?;
    let wasm = super::files::load(path)?;
    let engine = strategy.engine().map_err(|e| format!("{e:#}"))?;
    let compiled =
        Compiled::prepared(&engine, &wasm, &config.spec).map_err(|e| format!("{e:#}"))?;
    Ok(compiled.run(&engine, backend, &config.spec))
}

fn put(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Reads the encoding front to back; running short is an error.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.0.len() {
            return Err("the parent's inputs end early".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, String> {
        let mut le = [0; 8];
        le.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(le))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = usize::try_from(self.u64()?).map_err(|_| "a length does not fit".to_string())?;
        self.take(n)
    }

    /// A sparse file: its size, then its stored runs. Every run must end
    /// within the size, the size within [`MAX_FILE_SIZE`], and the bytes the
    /// runs store (gap zeros included) within `max_bytes`, checked before
    /// each run is stored: a damaged encoding is an error, never a large
    /// allocation.
    fn file_content(&mut self, max_bytes: u64) -> Result<FileContent, String> {
        let size = self.u64()?;
        if size > MAX_FILE_SIZE {
            return Err(format!("a file of {size} bytes is past the size limit"));
        }
        let mut content = FileContent::default();
        let mut charged = 0u64;
        for _ in 0..self.u64()? {
            let at = self.u64()?;
            let bytes = self.bytes()?;
            if at
                .checked_add(bytes.len() as u64)
                .is_none_or(|end| end > size)
            {
                return Err("a file's stored run ends past its size".into());
            }
            charged = charged.saturating_add(content.write_charge(at, bytes.len() as u64));
            if charged > max_bytes {
                return Err("a file stores more than the snapshot's byte limit".into());
            }
            content.write(at, bytes);
        }
        if charged.saturating_add(content.set_len_charge(size)) > max_bytes {
            return Err("a file stores more than the snapshot's byte limit".into());
        }
        content.set_len(size);
        Ok(content)
    }
}

#[cfg(test)]
mod tests;
