//! Runs a filesystem script read from stdin, one operation per line, with
//! `std::fs` (and wasi-libc for what std lacks) on the directory preopened
//! as `/`, and prints one result line per operation: `ok`, `err <errno>`,
//! or what the operation returns. Built for wasip1 and wasip2, the same
//! script exercises preview1's `path_*`/`fd_*` calls and preview2's
//! `wasi:filesystem`; property tests and a fuzz target compare the two.
//!
//! | line | does | prints on success |
//! |---|---|---|
//! | `write <p> <text>` | `fs::write` | `ok` |
//! | `append <p> <text>` | open with `append`, write | `ok` |
//! | `pwrite <p> <offset> <text>` | open for writing, seek, write | `wrote <n>` |
//! | `read <p>` | `fs::read` | `read <text>` (escaped) |
//! | `pread <p> <offset> <len>` | open, seek, one `read` | `read <text>` |
//! | `truncate <p> <len>` | open for writing, `set_len` | `ok` |
//! | `mkdir <p>`, `rmdir <p>`, `rm <p>` | create / remove a directory, remove a file | `ok` |
//! | `mv <a> <b>`, `ln <a> <b>`, `symlink <target> <p>` | rename, hard link, symlink | `ok` |
//! | `readlink <p>` | `fs::read_link` | `link <target>` |
//! | `stat <p>`, `lstat <p>` | `stat` / `lstat` | `stat <type> <size> <nlink>` (size 0 for a directory), then a `meta` line |
//! | `ls <p>` | `fs::read_dir` | `ls <names, in the order returned>` |
//! | `touch <p> <seconds>` | set the modification time | `ok` |
//! | `sleep <ns>` | `std::thread::sleep` | `slept` |
//!
//! A `meta` line holds what the host decides (`ino`, `dev`, times):
//! `meta ino=<n> dev=<n> atime=<ns> mtime=<ns> ctime=<ns>` (`ino` for `lstat`
//! only: see [`stat`]). A line that does
//! not parse prints `bad <line>`.
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, UNIX_EPOCH};

fn errno(e: std::io::Error) -> String {
    format!("err {}", e.raw_os_error().unwrap_or(-1))
}

fn done(r: std::io::Result<()>) -> String {
    r.map_or_else(errno, |()| "ok".to_string())
}

fn escaped(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

fn c_path(p: &str) -> std::ffi::CString {
    std::ffi::CString::new(p).unwrap_or_default()
}

fn last_errno() -> String {
    errno(std::io::Error::last_os_error())
}

/// `stat` or `lstat` through wasi-libc, which reports `ino` and `dev`.
fn stat(p: &str, follow: bool) -> String {
    let path = c_path(p);
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        if follow {
            libc::stat(path.as_ptr(), &mut st)
        } else {
            libc::lstat(path.as_ptr(), &mut st)
        }
    };
    if rc != 0 {
        return last_errno();
    }
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => "dir",
        libc::S_IFREG => "file",
        libc::S_IFLNK => "symlink",
        _ => "other",
    };
    let ns = |s: i64, n: i64| s as i128 * 1_000_000_000 + n as i128;
    // wasi-libc's preview2 `stat` takes `st_ino` from `metadata-hash-at`
    // without following a final symlink (its flag test is always false), so
    // through a symlink it is the link's: `ino` is printed for `lstat` only.
    let ino = if follow {
        String::new()
    } else {
        format!("ino={} ", st.st_ino)
    };
    format!(
        "stat {kind} {} {}\nmeta {ino}dev={} atime={} mtime={} ctime={}",
        if kind == "dir" { 0 } else { st.st_size },
        st.st_nlink,
        st.st_dev,
        ns(st.st_atim.tv_sec, st.st_atim.tv_nsec as i64),
        ns(st.st_mtim.tv_sec, st.st_mtim.tv_nsec as i64),
        ns(st.st_ctim.tv_sec, st.st_ctim.tv_nsec as i64),
    )
}

fn run(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split(' ').collect();
    let num = |i: usize| words.get(i)?.parse::<u64>().ok();
    Some(match words.as_slice() {
        ["write", p, text] => done(fs::write(p, text)),
        ["append", p, text] => done(
            fs::OpenOptions::new()
                .append(true)
                .open(p)
                .and_then(|mut f| f.write_all(text.as_bytes())),
        ),
        ["pwrite", p, _, text] => {
            let offset = num(2)?;
            match fs::OpenOptions::new().write(true).open(p).and_then(|mut f| {
                f.seek(SeekFrom::Start(offset))?;
                f.write(text.as_bytes())
            }) {
                Ok(n) => format!("wrote {n}"),
                Err(e) => errno(e),
            }
        }
        ["read", p] => fs::read(p).map_or_else(errno, |b| format!("read {}", escaped(&b))),
        ["pread", p, _, _] => {
            let (offset, len) = (num(2)?, num(3)?);
            let mut buf = vec![0; len.min(4096) as usize];
            match fs::File::open(p).and_then(|mut f| {
                f.seek(SeekFrom::Start(offset))?;
                f.read(&mut buf)
            }) {
                Ok(n) => format!("read {}", escaped(&buf[..n])),
                Err(e) => errno(e),
            }
        }
        ["truncate", p, _] => {
            let len = num(2)?;
            done(fs::OpenOptions::new().write(true).open(p).and_then(|f| f.set_len(len)))
        }
        ["mkdir", p] => done(fs::create_dir(p)),
        ["rmdir", p] => done(fs::remove_dir(p)),
        ["rm", p] => done(fs::remove_file(p)),
        ["mv", a, b] => done(fs::rename(a, b)),
        ["ln", a, b] => done(fs::hard_link(a, b)),
        ["symlink", target, p] => {
            let (target, path) = (c_path(target), c_path(p));
            if unsafe { libc::symlink(target.as_ptr(), path.as_ptr()) } == 0 {
                "ok".to_string()
            } else {
                last_errno()
            }
        }
        ["readlink", p] => fs::read_link(p).map_or_else(errno, |t| format!("link {}", t.display())),
        ["stat", p] => stat(p, true),
        ["lstat", p] => stat(p, false),
        ["ls", p] => match fs::read_dir(p) {
            Ok(entries) => {
                let names: Vec<String> = entries
                    .map(|e| e.map_or_else(errno, |e| e.file_name().to_string_lossy().into_owned()))
                    .collect();
                format!("ls {}", names.join(","))
            }
            Err(e) => errno(e),
        },
        ["touch", p, _] => {
            let time = UNIX_EPOCH + Duration::from_secs(num(2)?);
            done(
                fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .and_then(|f| f.set_modified(time)),
            )
        }
        ["sleep", _] => {
            std::thread::sleep(Duration::from_nanos(num(1)?));
            "slept".to_string()
        }
        _ => return None,
    })
}

fn main() {
    let mut script = String::new();
    std::io::stdin().read_to_string(&mut script).expect("stdin");
    for line in script.lines() {
        match run(line) {
            Some(out) => println!("{out}"),
            None => println!("bad {line}"),
        }
    }
}
