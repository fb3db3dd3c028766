//! What the WASI 0.3 guest programs share: the bindings of `wit/program.wit`
//! (wit-bindgen, async) and small helpers over them. Every program is one
//! file in `examples/`, built as a component exporting `wasi:cli/run`.

wit_bindgen::generate!({
    path: "wit",
    world: "program",
    pub_export_macro: true,
    default_bindings_module: "test_programs_p3_guests",
    generate_all,
});

use wasi::cli::stdout;
use wasi::filesystem::preopens;
use wasi::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};
pub use wit_bindgen::StreamResult;

/// The directory preopened as `name`.
pub fn preopen(name: &str) -> Descriptor {
    preopens::get_directories()
        .into_iter()
        .find_map(|(dir, n)| (n == name).then_some(dir))
        .unwrap_or_else(|| panic!("no preopen {name}"))
}

/// Writes `bytes` to stdout through one stream and waits for the result.
pub async fn print(bytes: Vec<u8>) {
    let (mut tx, rx) = wit_stream::new();
    let done = stdout::write_via_stream(rx);
    let left = tx.write_all(bytes).await;
    assert!(left.is_empty(), "stdout took part of the output");
    drop(tx);
    done.await.expect("stdout");
}

/// Creates (or truncates) `path` under `dir` and writes `bytes` through one
/// stream, and waits for the result.
pub async fn write_file(dir: &Descriptor, path: &str, bytes: Vec<u8>) -> Result<(), ErrorCode> {
    let file = dir
        .open_at(
            PathFlags::empty(),
            path.to_string(),
            OpenFlags::CREATE | OpenFlags::TRUNCATE,
            DescriptorFlags::WRITE,
        )
        .await?;
    let (mut tx, rx) = wit_stream::new();
    let done = file.write_via_stream(rx, 0);
    let left = tx.write_all(bytes).await;
    assert!(left.is_empty(), "the file took part of the data");
    drop(tx);
    done.await
}

/// Reads `path` under `dir` through one stream, `chunk` bytes at most per
/// read: its bytes and how many reads returned data.
pub async fn read_file(
    dir: &Descriptor,
    path: &str,
    chunk: usize,
) -> Result<(Vec<u8>, usize), ErrorCode> {
    let file = dir
        .open_at(
            PathFlags::empty(),
            path.to_string(),
            OpenFlags::empty(),
            DescriptorFlags::READ,
        )
        .await?;
    let (mut rx, done) = file.read_via_stream(0);
    let mut data = Vec::new();
    let mut reads = 0;
    loop {
        let (result, buf) = rx.read(Vec::with_capacity(chunk)).await;
        match result {
            StreamResult::Complete(_) => {
                reads += 1;
                data.extend_from_slice(&buf);
            }
            StreamResult::Dropped | StreamResult::Cancelled => break,
        }
    }
    drop(rx);
    done.await?;
    Ok((data, reads))
}

/// The sorted names in `dir`.
pub async fn list(dir: &Descriptor) -> Result<Vec<String>, ErrorCode> {
    let (rx, done) = dir.read_directory();
    let mut names: Vec<String> = rx.collect().await.into_iter().map(|e| e.name).collect();
    done.await?;
    names.sort();
    Ok(names)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
