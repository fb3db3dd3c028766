#![no_main]
use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(
    init: fuzz::seeds::init("fs_diff"),
    |data: &[u8]| -> Corpus {
        let data = fuzz::input::continued(data);
        let mut u = arbitrary::Unstructured::new(&data);
        match deterministic_wasi_ctx_versions::on50::fs_diff::run(&mut u) {
            Ok(()) => Corpus::Keep,
            Err(_) => Corpus::Reject,
        }
    }
);
