#![no_main]
use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    let mut u = arbitrary::Unstructured::new(data);
    match deterministic_wasi_ctx_fuzz::p2_fs::run(&mut u) {
        Ok(()) => Corpus::Keep,
        Err(_) => Corpus::Reject,
    }
});
