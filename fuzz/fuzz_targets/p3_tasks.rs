#![no_main]
use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(
    init: {
        deterministic_wasi_ctx_fuzz::seeds::init("p3_tasks");
        deterministic_wasi_ctx_fuzz::p3_tasks::init();
    },
    |data: &[u8]| -> Corpus {
        let data = deterministic_wasi_ctx_fuzz::input::continued(data);
        let mut u = arbitrary::Unstructured::new(&data);
        match deterministic_wasi_ctx_fuzz::p3_tasks::run(&mut u) {
            Ok(()) => Corpus::Keep,
            Err(_) => Corpus::Reject,
        }
    }
);
