//! Guest memory as the calls see it, and the classes of the buffers,
//! iovecs, result pointers and subscriptions they point at.

/// Guest memory as the calls see it (for what their pointers point at).
pub struct Image {
    /// The bytes; their length is the memory's size.
    pub bytes: Vec<u8>,
}

impl Image {
    /// `len` bytes at `ptr` (i32 arguments, read unsigned), if in bounds.
    pub fn read(&self, ptr: i64, len: i64) -> Option<&[u8]> {
        let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
        self.bytes.get(ptr..ptr.checked_add(len)?)
    }

    /// The little-endian u32 at `at`.
    pub fn u32(&self, at: u64) -> Option<u32> {
        let b = self.read(at as i64, 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

fn overlaps(start: u64, len: u64, outs: &[i64]) -> bool {
    outs.iter()
        .any(|&o| (start..start + len).contains(&u64::from(o as u32)))
}

/// The classes of an iovec array at `ptr` of `count` entries.
pub fn iovec_classes(image: &Image, ptr: i64, count: i64, outs: &[i64]) -> Vec<&'static str> {
    let size = image.bytes.len() as u64;
    let count = u64::from(count as u32);
    let mut out = vec![match count {
        0 => "no iovecs",
        1 => "1 iovec",
        2..=1024 => "many iovecs",
        _ => "huge count",
    }];
    let start = u64::from(ptr as u32);
    if start + 8 * count > size {
        out.push("array out of bounds");
        return out;
    }
    let mut total = 0u64;
    let mut overlap = overlaps(start, 8 * count, outs);
    for i in 0..count {
        let at = start + 8 * i;
        let (buf, len) = (image.u32(at), image.u32(at + 4));
        let (buf, len) = (u64::from(buf.unwrap_or(0)), u64::from(len.unwrap_or(0)));
        total += len;
        if buf + len > size {
            out.push("buffer out of bounds");
        }
        overlap |= overlaps(buf, len, outs) || (buf < start + 8 * count && start < buf + len);
    }
    if count > 0 && total == 0 {
        out.push("empty buffers");
    }
    if overlap {
        out.push("overlapping");
    }
    out.dedup();
    out
}

/// The classes of a byte buffer.
pub fn buf_classes(
    image: &Image,
    ptr: i64,
    len: i64,
    expected: Option<u32>,
    outs: &[i64],
) -> Vec<&'static str> {
    let size = image.bytes.len() as u64;
    let (start, len) = (u64::from(ptr as u32), u64::from(len as u32));
    let mut out = Vec::new();
    if len == 0 {
        out.push("empty");
    }
    match expected {
        Some(e) if len == u64::from(e) => out.push("exact"),
        Some(e) if len + 1 == u64::from(e) => out.push("one short"),
        _ => {}
    }
    if len > size {
        out.push("huge");
    }
    if start + len > size {
        out.push("out of bounds");
    }
    if overlaps(start, len, outs) {
        out.push("overlapping");
    }
    out
}

/// The classes of a result pointer (4 bytes at least).
pub fn out_classes(image: &Image, ptr: i64) -> Vec<&'static str> {
    let at = u64::from(ptr as u32);
    let mut out = vec![if at + 4 > image.bytes.len() as u64 {
        "out of bounds"
    } else {
        "in bounds"
    }];
    if at % 4 != 0 {
        out.push("misaligned");
    }
    out
}

/// The kinds of `count` subscriptions at `ptr`.
pub fn subscription_classes(image: &Image, ptr: i64, count: i64) -> Vec<&'static str> {
    let count = u64::from(count as u32);
    let Some(subs) = image.read(ptr, (48 * count.min(1 << 20)) as i64) else {
        return vec!["out of bounds"];
    };
    let mut out = match count {
        0 => vec!["none"],
        1 => vec![],
        _ => vec!["several"],
    };
    for sub in subs.chunks(48) {
        out.push(match sub[8] {
            0 if sub[40] & 1 == 1 => "clock absolute",
            0 => "clock relative",
            1 => "fd_read",
            2 => "fd_write",
            _ => "invalid tag",
        });
    }
    out.sort_unstable();
    out.dedup();
    out
}
