//! A prelude of WASI calls for wasm-smith modules.
//!
//! wasm-smith rarely picks `call` to an import, and when it does the
//! arguments are whatever is on the stack: most generated modules never
//! reach a WASI function, and those that do mostly pass pointers far outside
//! memory. [`add_calls`] prepends a prelude to the body of the module's
//! `_start`, built from input bytes: a few `i32.store`s of plausible words
//! in the first 4 KiB of memory, the layout the calls use (a table of
//! paths, four iovecs over 4 KiB of buffers, three `poll_oneoff`
//! subscriptions, a slot for an opened descriptor: [`roles`]), then 16 to
//! 40 calls to the module's own WASI imports. Four preludes in five are
//! *well-formed*: they first open file `a` (when the module imports
//! `path_open`) and pass, in 39 calls of 40, the arguments a real program
//! would ([`roles`]: existing descriptors, aligned result pointers with
//! room, paths from the tree, valid flags, offsets with some boundary
//! values), so most calls reach the host's real work and succeed; the
//! fifth passes any-value arguments in one call in three, fuzzing the
//! argument checks and their traps. Results are dropped; wasm-smith's own
//! code runs after the prelude, on the memory the calls left behind. The
//! prelude runs once per instance: a flag byte at [`FLAG`] guards it, since
//! wasm-smith code may call `_start` again (recursion or `return_call`).
//!
//! The fuzz targets preopen a small tree ([`crate::tree`]) as fds 3 and 4.
//! So that `path_*` calls name something in it, the prelude first stores a
//! fixed table of path strings ([`PATHS`], the same for every input) at
//! [`PATH_TABLE`], past the prelude area: the prelude's own stores and
//! pointers never reach it, so only a long write or an any-value pointer can
//! overwrite it before a call reads it. Each path argument of a `path_*`
//! call (a witx `string`: a pointer and a length) is one table entry three
//! times in four, else two ordinary arguments; its directory descriptor is
//! 3 or 4 nine times in ten, else an ordinary argument (so one in ten of
//! those is any value, as everywhere).
//!
//! The prelude only calls imports the module already has, and is placed at
//! the start of an existing body, so no index in the module changes.
//!
//! # Example
//!
//! ```
//! use arbitrary::Unstructured;
//! use deterministic_wasi_ctx_fuzz::calls::add_calls;
//!
//! let wasm = wat::parse_str(r#"(module
//!     (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
//!     (memory (export "memory") 1)
//!     (func (export "_start")))"#).unwrap();
//! let bytes = [1u8; 64];
//! let (with_calls, added) = add_calls(&wasm, &mut Unstructured::new(&bytes)).unwrap();
//! assert!(added > 0);
//! wasmparser::validate(&with_calls).unwrap();
//! ```

mod roles;

use arbitrary::Unstructured;
pub use roles::{BUFFERS, IOVECS, OPENED, OUTPUTS};
use wasm_encoder::reencode::{Error as ReencodeError, Reencode, utils};
use wasm_encoder::{BlockType, CodeSection, Instruction, MemArg};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef, ValType};

/// At most this many stores and calls in one prelude.
pub const MAX_STORES: usize = 16;
/// See [`MAX_STORES`].
pub const MAX_CALLS: usize = 40;
/// A prelude makes at least this many calls (when the module imports any).
pub const MIN_CALLS: usize = 16;

/// Prelude pointers and stores stay below this address (memory has at least
/// one 64 KiB page: the required `memory` export says so).
pub const AREA: u32 = 4096;
/// The byte (just past the prelude area) that records that the prelude ran.
pub const FLAG: u32 = AREA;

/// Where the prelude stores [`PATHS`], one after the other (no separators:
/// a path is a pointer and a length). Past the prelude area with a gap, so
/// that a call writing a few bytes past [`AREA`] does not reach it either.
pub const PATH_TABLE: u32 = 2 * AREA;

/// The paths `path_*` calls are given: names in the preopened tree
/// ([`crate::tree`]: file `a`, `b/c.txt`, directory `b/d`, symlinks `link`
/// to `a`, `dlink` to `b`, `loop` to itself, `up` to `../a`, `abs` to
/// `/a`), names that do not exist yet, through a symlink, with a trailing
/// slash, escaping the preopen, absolute, empty, with `..` after a name,
/// ending in `/.` and with `//`.
pub const PATHS: &[&str] = &[
    "a",
    "b/c.txt",
    "b/d",
    "b",
    "link",
    "dlink",
    "loop",
    "up",
    "abs",
    "new",
    "b/new",
    "b/d/new",
    "dlink/c.txt",
    "..",
    ".",
    "a/",
    "/a",
    "",
    "b/../a",
    "b/.",
    "b//c.txt",
];

/// Where the prelude fills [`LONG_NAME_LENGTHS`]`[3]` bytes of `x` (one
/// `memory.fill`): names of 255, 256, 300 and 4096 bytes are prefixes of
/// it, the last entries of [`path_entries`]. Past the subscriptions, in the
/// first page.
pub const LONG_NAMES: u32 = roles::SUBSCRIPTIONS + 256;

/// The long names' lengths: the longest a name may be on Linux (255), one
/// more, and two that no tree can hold.
pub const LONG_NAME_LENGTHS: [u32; 4] = [255, 256, 300, 4096];

const _: () = assert!(LONG_NAMES + LONG_NAME_LENGTHS[3] <= 65_536);

/// The `path_*` parameters that are a path (witx `string`): the position of
/// its pointer, its length being the next parameter. Checked against the
/// preview1 witx (`wasi_snapshot_preview1.witx`, the same file in
/// wasmtime-wasi 46 and wasi-common 46).
const PATH_PARAMS: &[(&str, usize)] = &[
    ("path_create_directory", 1),
    ("path_filestat_get", 2),
    ("path_filestat_set_times", 2),
    ("path_link", 2),
    ("path_link", 5),
    ("path_open", 2),
    ("path_readlink", 1),
    ("path_remove_directory", 1),
    ("path_rename", 1),
    ("path_rename", 4),
    ("path_symlink", 0),
    ("path_symlink", 3),
    ("path_unlink_file", 1),
];

/// The `path_*` parameters that are a directory descriptor (same source as
/// [`PATH_PARAMS`]).
const DIR_PARAMS: &[(&str, usize)] = &[
    ("path_create_directory", 0),
    ("path_filestat_get", 0),
    ("path_filestat_set_times", 0),
    ("path_link", 0),
    ("path_link", 4),
    ("path_open", 0),
    ("path_readlink", 0),
    ("path_remove_directory", 0),
    ("path_rename", 0),
    ("path_rename", 3),
    ("path_symlink", 2),
    ("path_unlink_file", 0),
];

/// The address and length of every path a `path_*` call may be given: each
/// [`PATHS`] entry in the table, then the long names.
pub fn path_entries() -> impl Iterator<Item = (u32, u32)> {
    let table = PATHS.iter().scan(PATH_TABLE, |address, path| {
        let entry = (*address, path.len() as u32);
        *address += entry.1;
        Some(entry)
    });
    table.chain(LONG_NAME_LENGTHS.iter().map(|&len| (LONG_NAMES, len)))
}

/// A function import of the module, by function index.
struct Import {
    index: u32,
    name: String,
    params: Vec<ValType>,
    results: usize,
}

/// What the prelude needs to know about a module.
struct Shape {
    imports: Vec<Import>,
    imported_funcs: u32,
    start: Option<u32>,
    memory: Option<u32>,
}

fn shape(wasm: &[u8]) -> wasmparser::Result<Shape> {
    let mut types = Vec::new();
    let mut shape = Shape {
        imports: Vec::new(),
        imported_funcs: 0,
        start: None,
        memory: None,
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::TypeSection(section) => {
                for ty in section.into_iter_err_on_gc_types() {
                    types.push(ty?);
                }
            }
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import?;
                    if let TypeRef::Func(ty) | TypeRef::FuncExact(ty) = import.ty {
                        let ty = &types[ty as usize];
                        shape.imports.push(Import {
                            index: shape.imported_funcs,
                            name: import.name.to_string(),
                            params: ty.params().to_vec(),
                            results: ty.results().len(),
                        });
                        shape.imported_funcs += 1;
                    }
                }
            }
            Payload::ExportSection(section) => {
                for export in section {
                    let export = export?;
                    match (export.name, export.kind) {
                        ("_start", ExternalKind::Func) => shape.start = Some(export.index),
                        ("memory", ExternalKind::Memory) => shape.memory = Some(export.index),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(shape)
}

/// An i32 argument or stored word: mostly small ids, aligned pointers into
/// the prelude area and short lengths; one in ten is any value.
fn word(u: &mut Unstructured) -> arbitrary::Result<i32> {
    Ok(match u.int_in_range(0u8..=9)? {
        0..=2 => u.int_in_range(0..=3)?,
        3..=6 => 8 * u.int_in_range(0..=(AREA / 8 - 1) as i32)?,
        7..=8 => u.int_in_range(0..=64)?,
        _ => u.arbitrary()?,
    })
}

/// A `path_*` call's directory descriptor: the writable preopen (fd 3) six
/// times in ten, the read-only one (fd 4) three, else a [`word`].
fn dir_fd(u: &mut Unstructured) -> arbitrary::Result<i32> {
    Ok(match u.int_in_range(0u8..=9)? {
        0..=5 => 3,
        6..=8 => 4,
        _ => word(u)?,
    })
}

/// An i64 argument: mostly a timeout or offset up to ten seconds in
/// nanoseconds, sometimes small, one in ten any value.
fn wide(u: &mut Unstructured) -> arbitrary::Result<i64> {
    Ok(match u.int_in_range(0u8..=9)? {
        0..=5 => u.int_in_range(0..=10_000_000_000)?,
        6..=8 => u.int_in_range(0..=64)?,
        _ => u.arbitrary()?,
    })
}

/// Parameters that are enums or flags (clock ids, `whence`, `advice`,
/// lookup/open/fd flags, rights, ...) with their largest valid value: a
/// value outside the type makes wiggle trap, which ends the run at that
/// call, so nine in ten are drawn from the valid range.
const TYPED_PARAMS: &[(&str, usize, i64)] = &[
    ("clock_time_get", 0, 3),
    ("clock_res_get", 0, 3),
    ("fd_seek", 2, 2),
    ("fd_advise", 3, 5),
    ("fd_fdstat_set_flags", 1, 31),
    ("fd_fdstat_set_rights", 1, RIGHTS),
    ("fd_fdstat_set_rights", 2, RIGHTS),
    ("fd_filestat_set_times", 3, 15),
    ("path_filestat_get", 1, 1),
    ("path_filestat_set_times", 1, 1),
    ("path_filestat_set_times", 6, 15),
    ("path_link", 1, 1),
    ("path_open", 1, 1),
    ("path_open", 4, 15),
    ("path_open", 5, RIGHTS),
    ("path_open", 6, RIGHTS),
    ("path_open", 7, 31),
    ("proc_raise", 0, 30),
    ("sock_accept", 1, 31),
    ("sock_recv", 3, 3),
    ("sock_send", 3, 0),
    ("sock_shutdown", 1, 3),
];

/// Every preview1 `rights` bit.
const RIGHTS: i64 = (1 << 30) - 1;

fn valid_max(name: &str, param: usize) -> Option<i64> {
    TYPED_PARAMS
        .iter()
        .find(|(n, p, _)| *n == name && *p == param)
        .map(|(_, _, max)| *max)
}

/// Whether parameter `param` of `name` is in `table`.
fn listed(table: &[(&str, usize)], name: &str, param: usize) -> bool {
    table.contains(&(name, param))
}

/// The stores that write [`PATHS`] at [`PATH_TABLE`], 8 bytes at a time,
/// and the fill that writes the long names at [`LONG_NAMES`].
fn path_table(memarg: MemArg) -> Vec<Instruction<'static>> {
    let bytes = PATHS.concat().into_bytes();
    let mut code = vec![
        Instruction::I32Const(LONG_NAMES as i32),
        Instruction::I32Const(i32::from(b'x')),
        Instruction::I32Const(LONG_NAME_LENGTHS[3] as i32),
        Instruction::MemoryFill(memarg.memory_index),
    ];
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let mut word = [0; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        code.push(Instruction::I32Const((PATH_TABLE + 8 * i as u32) as i32));
        code.push(Instruction::I64Const(i64::from_le_bytes(word)));
        code.push(Instruction::I64Store(memarg));
    }
    code
}

fn prelude(
    shape: &Shape,
    memory_index: u32,
    u: &mut Unstructured,
) -> arbitrary::Result<Vec<Instruction<'static>>> {
    let memarg = |align| MemArg {
        offset: 0,
        align,
        memory_index,
    };
    // if (memory[FLAG] == 0) { memory[FLAG] = 1; path table; stores; calls }
    let mut code = vec![
        Instruction::I32Const(FLAG as i32),
        Instruction::I32Load8U(memarg(0)),
        Instruction::I32Eqz,
        Instruction::If(BlockType::Empty),
        Instruction::I32Const(FLAG as i32),
        Instruction::I32Const(1),
        Instruction::I32Store8(memarg(0)),
    ];
    code.extend(path_table(memarg(3)));
    code.extend(roles::layout(memarg(2)));
    let stores = u.int_in_range(0..=MAX_STORES)?;
    for _ in 0..stores {
        let address = 4 * u.int_in_range(0..=AREA / 4 - 1)?;
        code.push(Instruction::I32Const(address as i32));
        code.push(Instruction::I32Const(word(u)?));
        code.push(Instruction::I32Store(memarg(2)));
    }
    let calls = if shape.imports.is_empty() {
        0
    } else {
        u.int_in_range(MIN_CALLS..=MAX_CALLS)?
    };
    let entries: Vec<(u32, u32)> = path_entries().collect();
    // Four preludes in five are well-formed but for one call in forty; the
    // fifth keeps any-value arguments in one call in three, so that the
    // argument checks (and their traps) are fuzzed too without cutting most
    // runs short at their first hostile call.
    let hostile_in = if u.ratio(4u8, 5)? { 40 } else { 3 };
    // A well-formed prelude whose module imports `path_open` first opens
    // file `a` read-write (its descriptor at `roles::OPENED`), so that the
    // descriptor calls after it have a file to work on.
    let opener = shape.imports.iter().find(|i| i.name == "path_open");
    if hostile_in == 40
        && let Some(open) = opener
    {
        code.extend(roles::open_a_file(open.index, &entries));
    }
    for call in 0..calls {
        let mut import = u.choose(&shape.imports)?;
        // Calls that cannot succeed here (no sockets; no signals) are drawn
        // again once in well-formed preludes.
        if hostile_in == 40 && (import.name.starts_with("sock_") || import.name == "proc_raise") {
            import = u.choose(&shape.imports)?;
        }
        let name = import.name.as_str();
        // Well-formed calls (`roles`) or the any-value arguments below;
        // `proc_exit` only as the last call, so that it does not cut the
        // prelude short.
        if name == "proc_exit" && call + 1 < calls {
            continue;
        }
        let well_formed = u.ratio(hostile_in - 1, hostile_in)?;
        if let Some(roles) = roles::roles(name).filter(|_| well_formed) {
            let call = roles::Call {
                name,
                roles,
                index: call as u32,
                have_file: opener.is_some(),
            };
            roles::arguments(&call, &entries, memarg(2), u, &mut code)?;
            code.push(Instruction::Call(import.index));
            code.extend((0..import.results).map(|_| Instruction::Drop));
            continue;
        }
        // The length of a path whose pointer was just pushed.
        let mut length = None;
        for (position, param) in import.params.iter().enumerate() {
            if let Some(len) = length.take() {
                code.push(Instruction::I32Const(len));
                continue;
            }
            let pair =
                *param == ValType::I32 && import.params.get(position + 1) == Some(&ValType::I32);
            if pair && listed(PATH_PARAMS, name, position) && u.ratio(3u8, 4)? {
                let (address, len) = *u.choose(&entries)?;
                code.push(Instruction::I32Const(address as i32));
                length = Some(len as i32);
                continue;
            }
            if listed(DIR_PARAMS, name, position) {
                code.push(Instruction::I32Const(dir_fd(u)?));
                continue;
            }
            let valid = match valid_max(name, position) {
                Some(max) if u.ratio(9u8, 10)? => Some(u.int_in_range(0..=max)?),
                _ => None,
            };
            code.push(match (param, valid) {
                (ValType::I64, Some(value)) => Instruction::I64Const(value),
                (_, Some(value)) => Instruction::I32Const(value as i32),
                (ValType::I64, None) => Instruction::I64Const(wide(u)?),
                _ => Instruction::I32Const(word(u)?),
            });
        }
        code.push(Instruction::Call(import.index));
        code.extend((0..import.results).map(|_| Instruction::Drop));
    }
    code.push(Instruction::End);
    Ok(code)
}

/// Copies a module, prepending `code` to the body of defined function
/// number `target`.
struct Prepend {
    target: u32,
    next: u32,
    code: Vec<Instruction<'static>>,
}

impl Reencode for Prepend {
    type Error = std::convert::Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        let index = self.next;
        self.next += 1;
        if index != self.target {
            return utils::parse_function_body(self, code, func);
        }
        let mut function = self.new_function_with_parsed_locals(&func)?;
        for instruction in &self.code {
            function.instruction(instruction);
        }
        let mut reader = func.get_operators_reader()?;
        while !reader.eof() {
            function.instruction(&self.parse_instruction(&mut reader)?);
        }
        code.function(&function);
        Ok(())
    }
}

/// Returns `wasm` with a prelude of WASI calls (drawn from `u`) at the
/// start of `_start`, and how many calls it has. A module without a defined
/// `_start` or without an exported `memory` comes back unchanged (0 calls);
/// one without function imports gets only the stores.
///
/// # Errors
///
/// If `wasm` cannot be parsed (wasm-smith output always can), or `u` runs
/// out of bytes.
pub fn add_calls(wasm: &[u8], u: &mut Unstructured) -> arbitrary::Result<(Vec<u8>, usize)> {
    let shape = shape(wasm).map_err(|_| arbitrary::Error::IncorrectFormat)?;
    let (Some(start), Some(memory)) = (
        shape.start.filter(|&s| s >= shape.imported_funcs),
        shape.memory,
    ) else {
        return Ok((wasm.to_vec(), 0));
    };
    let code = prelude(&shape, memory, u)?;
    let calls = code
        .iter()
        .filter(|i| matches!(i, Instruction::Call(_)))
        .count();
    let mut prepend = Prepend {
        target: start - shape.imported_funcs,
        next: 0,
        code,
    };
    let mut module = wasm_encoder::Module::new();
    prepend
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    Ok((module.finish(), calls))
}
