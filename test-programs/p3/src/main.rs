//! Copies every WASI 0.3 guest program to a short, stable path and prints
//! it, one per line, for the auditor (`.ci/audit.sh`):
//!
//! ```sh
//! cargo run -p test-programs-p3 -- DIR   # DIR/wasip3/<name>.wasm
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: test-programs-p3 DIR");
        return ExitCode::from(2);
    };
    for (name, from) in test_programs_p3::PROGRAMS {
        match test_programs::copy_program(&dir, "wasip3", name, from) {
            Ok(to) => println!("{}", to.display()),
            Err(e) => {
                eprintln!("error: {from} -> {}/wasip3: {e}", dir.display());
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
