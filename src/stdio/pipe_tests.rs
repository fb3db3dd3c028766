//! Kept or discarded, a pipe answers alike, and as wasmtime-wasi's
//! `MemoryOutputPipe` does.

use super::*;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// What a guest learns from each step: preview1 writes (did all fit?),
/// then preview2 `check-write` and `write` results, as text.
fn answers(stream: &mut dyn OutputStream, p1: &dyn Fn(&[u8]) -> bool) -> Vec<String> {
    let mut seen = vec![
        format!("{}", p1(b"abcd")),
        format!("{}", p1(b"efgh")),
        format!("{:?}", stream.check_write().map_err(|e| e.to_string())),
    ];
    seen.push(format!(
        "{:?}",
        stream.write(Bytes::from_static(b"xyz")).map_err(|_| "trap")
    ));
    seen.push(format!(
        "{:?}",
        stream
            .write(Bytes::from_static(b"z"))
            .map_err(|e| e.to_string())
    ));
    seen.push(format!(
        "{:?}",
        stream.check_write().map_err(|e| e.to_string())
    ));
    seen.push(format!("{}", p1(b"")));
    seen.push(format!("{}", p1(b"!?")));
    seen
}

#[test]
fn kept_and_discarded_output_answer_alike_and_as_stock_does() {
    let kept = OutputPipe::new(true, 10);
    let dropped = OutputPipe::new(false, 10);
    let kept_answers = answers(&mut WasiPipe(kept.clone(), None), &|b| {
        kept.write_limited(b)
    });
    let dropped_answers = answers(&mut WasiPipe(dropped.clone(), None), &|b| {
        dropped.write_limited(b)
    });
    assert_eq!(kept_answers, dropped_answers);
    // 4 + 4 fit, 2 bytes of room: a 3-byte write traps, 1 byte fits,
    // then a 2-byte write keeps 1 and fails.
    assert_eq!(
        kept_answers,
        [
            "true",
            "true",
            "Ok(2)",
            "Err(\"trap\")",
            "Ok(())",
            "Ok(1)",
            "true",
            "false"
        ]
    );
    assert_eq!(kept.contents(), b"abcdefghz!");
    assert_eq!(dropped.contents(), b"");
    // Stock's memory pipe on the preview2 side: the same answers.
    let mut stock = MemoryOutputPipe::new(10);
    let stock_p1 = stock.clone();
    let stock_answers = answers(&mut stock, &|b| {
        let mut pipe = stock_p1.clone();
        let fits = b.len().min(pipe.check_write().unwrap_or(0));
        if fits > 0 {
            let _ = pipe.write(Bytes::copy_from_slice(&b[..fits]));
        }
        fits == b.len()
    });
    assert_eq!(stock_answers, kept_answers);
}

#[test]
fn a_full_pipe_is_closed() {
    let mut pipe = OutputPipe::new(false, 2);
    assert!(pipe.write_limited(b"ab"));
    assert!(matches!(
        WasiPipe(pipe.clone(), None).check_write(),
        Err(StreamError::Closed)
    ));
    assert!(!pipe.write_limited(b"c"));
    assert!(std::io::Write::write(&mut pipe, b"c").is_err());
    assert_eq!(std::io::Write::write(&mut pipe, b"").ok(), Some(0));
}
