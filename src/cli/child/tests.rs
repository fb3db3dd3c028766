use super::*;
use crate::cli::args::{Cli, Command};
use clap::Parser;
use deterministic_wasi_ctx::audit::Fingerprint;
use std::path::PathBuf;

/// The options of `audit ARGS`, as the parent parses them.
fn audit_options(args: &[&str]) -> Options {
    let argv = ["deterministic-wasi-ctx", "audit"].iter().chain(args);
    match Cli::try_parse_from(argv).expect("audit arguments").command {
        Command::Audit { options, .. } => options,
        other => panic!("not audit: {other:?}"),
    }
}

/// The options the parent passes to the child (through
/// [`Options::forward`]), as the child parses them.
fn child_options(parent: &Options, program: &str) -> Options {
    let mut command = std::process::Command::new("unused");
    parent.forward(&mut command);
    let mut argv: Vec<String> = vec![
        "deterministic-wasi-ctx".into(),
        "__child".into(),
        program.into(),
    ];
    argv.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    argv.extend(
        [
            "--run-backend",
            "wasmtime-wasi",
            "--run-strategy",
            "cranelift",
        ]
        .map(String::from),
    );
    match Cli::try_parse_from(argv).expect("child arguments").command {
        Command::Child { options, .. } => options,
        other => panic!("not __child: {other:?}"),
    }
}

fn fs_script() -> &'static str {
    test_programs::PROGRAMS
        .iter()
        .find(|(name, _, _)| *name == "fs_script")
        .expect("fs_script guest")
        .1
}

/// A fresh host directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dwc-child-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tree")).expect("scratch dir");
    dir
}

/// `audit --processes` must compare the child's run with the parent's on
/// the same inputs. The parent reads `--stdin` (a script reading `f`) and
/// snapshots `--dir`; then the host changes both (another script, another
/// `f`). The child, given the parent's encoded inputs, runs exactly as the
/// parent's run did; given inputs read from the changed host, it differs
/// (so the program does see both inputs, and this test can fail). With the
/// child re-reading `--dir` and `--stdin` from the host, as it used to,
/// the first comparison fails.
#[test]
fn the_child_runs_on_the_parents_inputs_not_the_host() {
    let base = scratch("inputs");
    let tree = base.join("tree");
    let stdin = base.join("stdin.txt");
    std::fs::write(tree.join("f"), "one").unwrap();
    std::fs::write(tree.join("g"), "gee").unwrap();
    std::fs::write(&stdin, "read f\nstat f\n").unwrap();
    let program = fs_script();
    let dir_arg = format!("{}::/", tree.display());
    let parent = audit_options(&["--dir", &dir_arg, "--stdin", &stdin.to_string_lossy()]);

    let inputs = parent.read_inputs().unwrap();
    let encoded = encode(&inputs);
    let config = parent.audit_config_with(inputs).unwrap();
    let wasm = crate::cli::files::load(Path::new(program)).unwrap();
    let engine = Strategy::Cranelift.engine().unwrap();
    let compiled = Compiled::new(&engine, &wasm).unwrap();
    let parent_run = Fingerprint::of(&compiled.run(&engine, Backend::WasmtimeWasi, &config.spec));

    // The host changes after the parent's snapshot.
    std::fs::write(tree.join("f"), "two, longer").unwrap();
    std::fs::write(&stdin, "read g\nstat f\n").unwrap();

    let child = child_options(&parent, program);
    let run = |input: &[u8]| {
        Fingerprint::of(
            &super::run(
                Path::new(program),
                &child,
                Backend::WasmtimeWasi,
                Strategy::Cranelift,
                input,
            )
            .expect("child run"),
        )
    };
    assert_eq!(run(&encoded), parent_run);
    let changed = encode(&parent.read_inputs().unwrap());
    assert_ne!(run(&changed), parent_run, "the program ignores its inputs");
    std::fs::remove_dir_all(&base).unwrap();
}

/// The encoding round-trips every kind of entry, names that are not UTF-8,
/// empty files and the limits; a cut or tampered encoding is an error,
/// never a panic.
#[test]
fn inputs_round_trip_and_damage_is_an_error() {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_entries: 50,
    };
    // A sparse file: 2 GiB with three bytes stored at its end.
    let mut sparse = deterministic_wasi_ctx::fs::FileContent::default();
    sparse.write((1 << 31) - 3, b"end");
    let fs = VirtualFs::with_limits(limits)
        .file("a/b.txt", "bee")
        .file(b"caf\xe9", "")
        .dir("empty")
        .symlink("up", "../../out")
        .try_file_content("sparse", sparse)
        .unwrap();
    let inputs = Inputs {
        stdin: b"in\0put".to_vec(),
        preopens: vec![
            ("/".into(), fs.clone()),
            ("/other".into(), VirtualFs::new()),
        ],
    };
    let bytes = encode(&inputs);
    let back = decode(&bytes).unwrap();
    assert_eq!(back.stdin, inputs.stdin);
    assert_eq!(back.preopens.len(), 2);
    assert_eq!(back.preopens[1].0, "/other");
    let (guest, decoded) = &back.preopens[0];
    assert_eq!(guest, "/");
    assert_eq!(decoded.limits(), limits);
    assert_eq!(
        FsTree::new(decoded, 1, 0).digest(),
        FsTree::new(&fs, 1, 0).digest()
    );
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(decode(&longer).is_err());
    let mut huge = bytes.clone();
    huge[TAG.len()..TAG.len() + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(decode(&huge).is_err());
}

/// The child takes no host inputs: `--dir` or `--stdin` given to it is an
/// error, and the parent does not pass them on.
#[test]
fn the_child_refuses_host_inputs() {
    let parent = audit_options(&["--dir", "/nonexistent::/", "--stdin", "/nonexistent"]);
    let child = child_options(&parent, "x.wasm");
    assert!(child.dirs.is_empty() && child.stdin.is_none());
    let err = super::run(
        Path::new("x.wasm"),
        &parent,
        Backend::WasmtimeWasi,
        Strategy::Cranelift,
        &encode(&Inputs {
            stdin: Vec::new(),
            preopens: Vec::new(),
        })[..],
    )
    .unwrap_err();
    assert!(err.contains("not --dir or --stdin"), "{err}");
}
