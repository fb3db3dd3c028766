//! Uses `std::fs` on the directory preopened as `/`: reads an input file,
//! creates a directory and files, writes and reads back, lists a directory,
//! renames, removes, and prints metadata (sizes, link counts, times, inode
//! numbers). Every line is a pure function of the tree it starts from.
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::UNIX_EPOCH;

fn nanos(t: std::io::Result<std::time::SystemTime>) -> u128 {
    t.map(|t| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos())
        .unwrap_or(0)
}

/// `dev`, `ino` and `nlink` of `path`, from wasi-libc's `stat` (preview1's
/// `path_filestat_get`; on preview2, `stat-at` and `metadata-hash-at`).
fn filestat(path: &str) -> (u64, u64, u64) {
    let c_path = std::ffi::CString::new(path).expect("no NUL");
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::stat(c_path.as_ptr(), &mut st) };
    assert_eq!(rc, 0, "stat {path}");
    (st.st_dev as u64, st.st_ino as u64, st.st_nlink as u64)
}

fn main() {
    let input = fs::read_to_string("/in/data.csv").expect("read input");
    let rows = input.lines().count();
    println!("input {} bytes, {rows} rows", input.len());

    fs::create_dir_all("/out/sub").expect("create_dir_all");
    fs::write("/out/result.txt", format!("rows={rows}\n")).expect("write");
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open("/out/result.txt")
        .expect("open append");
    f.write_all(b"done\n").expect("append");
    drop(f);
    println!("read back {:?}", fs::read_to_string("/out/result.txt").expect("read back"));

    let mut f = fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open("/out/sub/seek.bin")
        .expect("open seek");
    f.write_all(b"0123456789").expect("write seek");
    f.seek(SeekFrom::Start(3)).expect("seek");
    let mut three = [0; 3];
    f.read_exact(&mut three).expect("read after seek");
    println!("after seek {:?}", std::str::from_utf8(&three).unwrap());
    f.set_len(4).expect("set_len");
    drop(f);

    fs::rename("/out/sub/seek.bin", "/out/moved.bin").expect("rename");
    fs::hard_link("/out/moved.bin", "/out/link.bin").expect("hard_link");
    let mut names: Vec<String> = fs::read_dir("/out")
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().into_string().unwrap())
        .collect();
    println!("listing {names:?}");
    names.sort();
    println!("sorted {names:?}");

    for path in ["/in/data.csv", "/out/result.txt", "/out/moved.bin", "/out", "/out/sub"] {
        let m = fs::metadata(path).expect("metadata");
        let (dev, ino, nlink) = filestat(path);
        println!(
            "{path}: dir={} len={} dev={dev} ino={ino} nlink={nlink} mtime={} atime={}",
            m.is_dir(),
            m.len(),
            nanos(m.modified()),
            nanos(m.accessed()),
        );
    }

    fs::remove_file("/out/link.bin").expect("remove_file");
    fs::remove_dir("/out/sub").expect("remove_dir");
    let err = fs::remove_dir("/out").expect_err("not empty");
    println!("remove non-empty: errno {:?}", err.raw_os_error());
    let err = fs::read("/missing").expect_err("missing");
    println!("missing: errno {:?}", err.raw_os_error());
    let err = fs::read("/../escape").expect_err("escape");
    println!("escape: errno {:?}", err.raw_os_error());
}
