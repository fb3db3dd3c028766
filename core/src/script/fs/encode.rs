//! A compiled filesystem script as a module: encoded straight to binary
//! WebAssembly, and rendered as text only for messages.
//!
//! The module is always the same shape: the used `wasi_snapshot_preview1`
//! imports, one memory exported as `memory`, active data segments at fixed
//! offsets, and `_start`, a straight line of `i32.store (i32.const slot)
//! (call $f (i32.const ..) (i64.const ..) ..)`. That is small enough to
//! encode by hand, which costs a few microseconds where writing the text
//! and parsing it back cost a third of an `fs_diff` execution.

use std::fmt::Write as _;

/// One argument of a call: an `i32.const` or an `i64.const` (written as
/// its two's complement `i64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Arg {
    /// `i32.const`.
    I32(u32),
    /// `i64.const`.
    I64(u64),
}

/// A call to an imported function, with constant arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Call {
    /// The function's name in `wasi_snapshot_preview1`.
    pub(super) name: &'static str,
    /// Its arguments, in order.
    pub(super) args: Vec<Arg>,
}

/// Everything the module is made of.
#[derive(Clone, Debug)]
pub(super) struct ScriptModule {
    /// The imported functions (name, parameter types as text, such as
    /// `"i32 i64"`), each returning an `i32`: function `i` is import `i`.
    pub(super) imports: Vec<(&'static str, &'static str)>,
    /// The memory's initial (and only declared) size, in pages.
    pub(super) pages: u32,
    /// Active data segments: offset and bytes.
    pub(super) data: Vec<(u32, Vec<u8>)>,
    /// `_start`'s calls, each with the address its result is stored at.
    pub(super) calls: Vec<(u32, Call)>,
}

impl ScriptModule {
    /// The module as WebAssembly text.
    pub(super) fn wat(&self) -> String {
        let mut wat = String::from("(module\n");
        for (name, params) in &self.imports {
            writeln!(
                wat,
                "  (import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {params}) (result i32)))"
            )
            .expect("write to String");
        }
        writeln!(wat, "  (memory (export \"memory\") {})", self.pages).expect("write to String");
        for (at, bytes) in &self.data {
            let text: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
            writeln!(wat, "  (data (i32.const {at}) \"{text}\")").expect("write to String");
        }
        wat.push_str("  (func (export \"_start\")\n");
        for (at, call) in &self.calls {
            let args: String = call
                .args
                .iter()
                .map(|arg| match arg {
                    Arg::I32(v) => format!(" (i32.const {v})"),
                    Arg::I64(v) => format!(" (i64.const {})", *v as i64),
                })
                .collect();
            writeln!(
                wat,
                "    (i32.store (i32.const {at}) (call ${}{args}))",
                call.name
            )
            .expect("write to String");
        }
        wat.push_str("  ))");
        wat
    }

    /// The module as binary WebAssembly (the same module as
    /// [`wat`](Self::wat) describes, without its names).
    pub(super) fn wasm(&self) -> Vec<u8> {
        // Types: one per distinct import signature, then `_start`'s.
        let mut types: Vec<&str> = Vec::new();
        let mut import_types = Vec::new();
        for (_, params) in &self.imports {
            let index = match types.iter().position(|t| t == params) {
                Some(index) => index,
                None => {
                    types.push(params);
                    types.len() - 1
                }
            };
            import_types.push(index as u32);
        }
        let start_type = types.len() as u32;
        let start_index = self.imports.len() as u32;

        let mut type_section = Vec::new();
        uleb(&mut type_section, u64::from(start_type) + 1);
        for params in &types {
            let params: Vec<u8> = params
                .split_whitespace()
                .map(|t| if t == "i64" { I64_TYPE } else { I32_TYPE })
                .collect();
            type_section.push(0x60);
            uleb(&mut type_section, params.len() as u64);
            type_section.extend_from_slice(&params);
            type_section.extend_from_slice(&[1, I32_TYPE]);
        }
        type_section.extend_from_slice(&[0x60, 0, 0]);

        let mut import_section = Vec::new();
        uleb(&mut import_section, self.imports.len() as u64);
        for ((name, _), ty) in self.imports.iter().zip(&import_types) {
            name_bytes(&mut import_section, "wasi_snapshot_preview1");
            name_bytes(&mut import_section, name);
            import_section.push(0x00);
            uleb(&mut import_section, u64::from(*ty));
        }

        let mut function_section = vec![1];
        uleb(&mut function_section, u64::from(start_type));

        let mut memory_section = vec![1, 0x00];
        uleb(&mut memory_section, u64::from(self.pages));

        let mut export_section = vec![2];
        name_bytes(&mut export_section, "memory");
        export_section.extend_from_slice(&[0x02, 0]);
        name_bytes(&mut export_section, "_start");
        export_section.push(0x00);
        uleb(&mut export_section, u64::from(start_index));

        let mut body = vec![0]; // no locals
        for (at, call) in &self.calls {
            body.push(I32_CONST);
            sleb(&mut body, i64::from(*at as i32));
            for arg in &call.args {
                match *arg {
                    Arg::I32(v) => {
                        body.push(I32_CONST);
                        sleb(&mut body, i64::from(v as i32));
                    }
                    Arg::I64(v) => {
                        body.push(I64_CONST);
                        sleb(&mut body, v as i64);
                    }
                }
            }
            let callee = self
                .imports
                .iter()
                .position(|(name, _)| *name == call.name)
                .expect("every called function is imported");
            body.push(CALL);
            uleb(&mut body, callee as u64);
            // i32.store, alignment 2^2, offset 0.
            body.extend_from_slice(&[I32_STORE, 2, 0]);
        }
        body.push(END);
        let mut code_section = vec![1];
        uleb(&mut code_section, body.len() as u64);
        code_section.extend_from_slice(&body);

        let mut data_section = Vec::new();
        uleb(&mut data_section, self.data.len() as u64);
        for (at, bytes) in &self.data {
            data_section.extend_from_slice(&[0x00, I32_CONST]);
            sleb(&mut data_section, i64::from(*at as i32));
            data_section.push(END);
            uleb(&mut data_section, bytes.len() as u64);
            data_section.extend_from_slice(bytes);
        }

        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        for (id, section) in [
            (1, type_section),
            (2, import_section),
            (3, function_section),
            (5, memory_section),
            (7, export_section),
            (10, code_section),
            (11, data_section),
        ] {
            wasm.push(id);
            uleb(&mut wasm, section.len() as u64);
            wasm.extend_from_slice(&section);
        }
        wasm
    }
}

const I32_TYPE: u8 = 0x7f;
const I64_TYPE: u8 = 0x7e;
const I32_CONST: u8 = 0x41;
const I64_CONST: u8 = 0x42;
const CALL: u8 = 0x10;
const I32_STORE: u8 = 0x36;
const END: u8 = 0x0b;

/// Appends `value` as unsigned LEB128.
fn uleb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends `value` as signed LEB128.
fn sleb(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends a name: its length, then its bytes.
fn name_bytes(out: &mut Vec<u8>, name: &str) {
    uleb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The LEB128 encodings at their boundaries, as the spec writes them.
    #[test]
    fn leb128_boundaries() {
        let u = |v: u64| {
            let mut out = Vec::new();
            uleb(&mut out, v);
            out
        };
        let s = |v: i64| {
            let mut out = Vec::new();
            sleb(&mut out, v);
            out
        };
        assert_eq!(u(0), [0]);
        assert_eq!(u(127), [0x7f]);
        assert_eq!(u(128), [0x80, 0x01]);
        assert_eq!(s(63), [0x3f]);
        assert_eq!(s(64), [0xc0, 0x00]);
        assert_eq!(s(-64), [0x40]);
        assert_eq!(s(-65), [0xbf, 0x7f]);
        assert_eq!(s(-1), [0x7f]);
        assert_eq!(s(i64::MIN).len(), 10);
        assert_eq!(s(i64::MAX).len(), 10);
    }
}
