//! Path shapes, and what a path names in the fuzz tree.

/// Path shapes.
pub const PATH_CLASSES: [&str; 22] = [
    "empty",
    ".",
    "..",
    "a/..",
    "trailing /",
    "trailing /.",
    "//",
    "absolute",
    "names a file",
    "names a dir",
    "names a symlink",
    "through a symlink",
    "symlink loop",
    "escaping symlink",
    "escaping ..",
    "255-byte name",
    "256-byte name",
    "300-byte name",
    "4096-byte name",
    "NUL",
    "non-UTF-8",
    "out of bounds",
];

/// The symlinks of the fuzz tree ([`crate::tree`], `fs_diff_tree`) and
/// their targets.
pub const SYMLINKS: [(&[u8], &[u8]); 5] = [
    (b"link", b"a"),
    (b"dlink", b"b"),
    (b"loop", b"loop"),
    (b"up", b"../a"),
    (b"abs", b"/a"),
];

/// What a path names in the fuzz tree, following every symlink (`None`:
/// nothing, an escape or a loop).
pub fn tree_kind(path: &[u8]) -> Option<&'static str> {
    let trailing = path.ends_with(b"/") || path.ends_with(b"/.");
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut todo: Vec<Vec<u8>> = path
        .split(|&b| b == b'/')
        .rev()
        .map(<[u8]>::to_vec)
        .collect();
    if path.is_empty() || path.first() == Some(&b'/') {
        return None;
    }
    let mut hops = 0;
    while let Some(c) = todo.pop() {
        match c.as_slice() {
            b"" | b"." => {}
            b".." => {
                stack.pop()?;
            }
            name => {
                if let Some((_, target)) = SYMLINKS
                    .iter()
                    .find(|(n, _)| stack.is_empty() && *n == name)
                {
                    hops += 1;
                    if hops > 8 || target.first() == Some(&b'/') {
                        return None;
                    }
                    todo.extend(target.split(|&b| b == b'/').rev().map(<[u8]>::to_vec));
                } else {
                    stack.push(name.to_vec());
                }
            }
        }
    }
    let kind = match stack.join(&b'/').as_slice() {
        b"" | b"b" | b"b/d" => "dir",
        b"a" | b"b/c.txt" => "file",
        _ => return None,
    };
    (kind == "dir" || !trailing).then_some(kind)
}

/// The shapes of `path` ([`PATH_CLASSES`] but `out of bounds`).
pub fn path_classes(path: &[u8]) -> Vec<&'static str> {
    let mut out = Vec::new();
    let parts: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    let symlink = |c: &[u8]| SYMLINKS.iter().any(|(n, _)| *n == c);
    let mut depth = 0i32;
    let mut escapes = false;
    for c in &parts {
        match *c {
            b"" | b"." => {}
            b".." => depth -= 1,
            _ => depth += 1,
        }
        escapes |= depth < 0;
    }
    let checks = [
        ("empty", path.is_empty()),
        (".", path == b"."),
        ("..", path == b".."),
        (
            "a/..",
            parts
                .windows(2)
                .any(|w| !matches!(w[0], b"" | b"." | b"..") && w[1] == b".."),
        ),
        ("trailing /", path.len() > 1 && path.ends_with(b"/")),
        ("trailing /.", path.len() > 2 && path.ends_with(b"/.")),
        ("//", path.windows(2).any(|w| w == b"//")),
        ("absolute", path.first() == Some(&b'/')),
        ("names a file", tree_kind(path) == Some("file")),
        ("names a dir", tree_kind(path) == Some("dir")),
        (
            "names a symlink",
            parts.last().is_some_and(|c| symlink(c)) && parts.len() == 1,
        ),
        (
            "through a symlink",
            parts.len() > 1 && parts.first().is_some_and(|c| symlink(c)),
        ),
        ("symlink loop", parts.first() == Some(&&b"loop"[..])),
        (
            "escaping symlink",
            matches!(parts.first(), Some(&b"up") | Some(&b"abs")),
        ),
        ("escaping ..", escapes),
        ("255-byte name", parts.iter().any(|c| c.len() == 255)),
        ("256-byte name", parts.iter().any(|c| c.len() == 256)),
        ("300-byte name", parts.iter().any(|c| c.len() == 300)),
        ("4096-byte name", parts.iter().any(|c| c.len() >= 4096)),
        ("NUL", path.contains(&0)),
        ("non-UTF-8", std::str::from_utf8(path).is_err()),
    ];
    out.extend(checks.iter().filter(|(_, yes)| *yes).map(|(c, _)| *c));
    out
}
