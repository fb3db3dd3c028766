//! Copies every guest program to short, stable paths and prints them, one
//! per line, for the auditor (`.ci/audit.sh`):
//!
//! ```sh
//! cargo run -p test-programs -- DIR   # DIR/wasip1/<name>.wasm, DIR/wasip2/<name>.wasm
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: test-programs DIR");
        return ExitCode::from(2);
    };
    for (name, p1, p2) in test_programs::PROGRAMS {
        for (kind, from) in [("wasip1", p1), ("wasip2", p2)] {
            match test_programs::copy_program(&dir, kind, name, from) {
                Ok(to) => println!("{}", to.display()),
                Err(e) => {
                    eprintln!("error: {from} -> {}/{kind}: {e}", dir.display());
                    return ExitCode::from(2);
                }
            }
        }
    }
    ExitCode::SUCCESS
}
