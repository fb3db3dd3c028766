//! The preview1 calls a generated module makes first: its `_start` body
//! read with a stack of constants, from the start until an `if` opened
//! before any call closes (`p1_smith`'s prelude, inside its run-once
//! guard), the function ends (`stock_diff`, `fs_diff` and `p1_script`
//! modules: straight-line calls, `p1_script`'s `args_get` inside an `if`
//! on `args_sizes_get`'s errno, both arms read), or an instruction the
//! generators' call code never uses. Active data
//! segments and stores of constants are kept in an [`Image`] of the
//! memory, so that pointers are read as the call would read them.

use super::{Call, Census, Context, Image};
use wasmparser::{DataKind, ExternalKind, Operator, Parser, Payload, TypeRef};

/// A value on the stack: a constant, or what a call returned.
#[derive(Clone, Copy)]
enum Value {
    Known(i64),
    Unknown,
}

/// An imported function: its name (a preview1 one) and its arity.
struct Import {
    name: Option<&'static str>,
    params: usize,
    results: usize,
}

/// The module's imports, initial memory and `_start` operators.
struct Parts<'a> {
    imports: Vec<Import>,
    image: Image,
    start: Option<wasmparser::FunctionBody<'a>>,
}

fn parts(wasm: &[u8]) -> wasmparser::Result<Parts<'_>> {
    let mut types = Vec::new();
    let mut parts = Parts {
        imports: Vec::new(),
        image: Image { bytes: Vec::new() },
        start: None,
    };
    let mut start_index = None;
    let mut defined = 0;
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
                        parts.imports.push(Import {
                            name: crate::P1_FUNCTIONS
                                .iter()
                                .find(|(n, _)| *n == import.name)
                                .map(|(n, _)| *n),
                            params: ty.params().len(),
                            results: ty.results().len(),
                        });
                    }
                }
            }
            Payload::MemorySection(section) => {
                if let Some(memory) = section.into_iter().next() {
                    parts.image.bytes = vec![0; (memory?.initial as usize) << 16];
                }
            }
            Payload::ExportSection(section) => {
                for export in section {
                    let export = export?;
                    if export.name == "_start" && export.kind == ExternalKind::Func {
                        start_index = Some(export.index);
                    }
                }
            }
            Payload::DataSection(section) => {
                for data in section {
                    let data = data?;
                    if let DataKind::Active { offset_expr, .. } = data.kind
                        && let Ok(Operator::I32Const { value }) =
                            offset_expr.get_operators_reader().read()
                    {
                        let at = value as u32 as usize;
                        if let Some(slot) = parts.image.bytes.get_mut(at..at + data.data.len()) {
                            slot.copy_from_slice(data.data);
                        }
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                if start_index == Some(parts.imports.len() as u32 + defined) {
                    parts.start = Some(body);
                }
                defined += 1;
            }
            _ => {}
        }
    }
    Ok(parts)
}

impl Census {
    /// Records the preview1 calls `wasm`'s `_start` makes first (see the
    /// module docs), with `preopens` (descriptor, name). Returns how many,
    /// or `None` if the module cannot be read.
    pub fn record_module(
        &mut self,
        wasm: &[u8],
        preopens: &[(u32, &'static str)],
    ) -> Option<usize> {
        let Parts {
            imports,
            image,
            start,
        } = parts(wasm).ok()?;
        let mut cx = Context::new(image, preopens);
        let mut reader = start?.get_operators_reader().ok()?;
        let mut stack: Vec<Value> = Vec::new();
        let mut depth = 0;
        // The depth of an `if` opened before any call: the prelude's guard.
        let mut guard = None;
        let mut called = false;
        let mut calls = 0;
        let pop = |stack: &mut Vec<Value>| stack.pop().unwrap_or(Value::Unknown);
        while let Ok(op) = reader.read() {
            match op {
                Operator::I32Const { value } => stack.push(Value::Known(value.into())),
                Operator::I64Const { value } => stack.push(Value::Known(value)),
                Operator::I32Load { memarg } | Operator::I32Load8U { memarg } => {
                    let wide = matches!(op, Operator::I32Load { .. });
                    let value = match pop(&mut stack) {
                        Value::Known(at) => {
                            let at = at as u32 as u64 + memarg.offset;
                            let len = if wide { 4 } else { 1 };
                            cx.image.read(at as i64, len).map(|b| {
                                let mut word = [0; 4];
                                word[..b.len()].copy_from_slice(b);
                                Value::Known(u32::from_le_bytes(word).into())
                            })
                        }
                        Value::Unknown => None,
                    };
                    stack.push(value.unwrap_or(Value::Unknown));
                }
                Operator::I32Store { memarg }
                | Operator::I64Store { memarg }
                | Operator::I32Store8 { memarg } => {
                    let width = match op {
                        Operator::I32Store { .. } => 4,
                        Operator::I64Store { .. } => 8,
                        _ => 1,
                    };
                    let (value, at) = (pop(&mut stack), pop(&mut stack));
                    if let (Value::Known(value), Value::Known(at)) = (value, at) {
                        let at = (at as u32 as u64 + memarg.offset) as usize;
                        if let Some(slot) = cx.image.bytes.get_mut(at..at + width) {
                            slot.copy_from_slice(&value.to_le_bytes()[..width]);
                        }
                    }
                }
                Operator::MemoryFill { .. } => {
                    let (len, value, at) = (pop(&mut stack), pop(&mut stack), pop(&mut stack));
                    if let (Value::Known(len), Value::Known(value), Value::Known(at)) =
                        (len, value, at)
                    {
                        let (at, len) = (at as u32 as usize, len as u32 as usize);
                        if let Some(slot) = cx.image.bytes.get_mut(at..at.saturating_add(len)) {
                            slot.fill(value as u8);
                        }
                    }
                }
                Operator::I32Mul { .. } | Operator::I32LeU { .. } | Operator::I32And { .. } => {
                    pop(&mut stack);
                    pop(&mut stack);
                    stack.push(Value::Unknown);
                }
                Operator::I32Eqz => {
                    pop(&mut stack);
                    stack.push(Value::Unknown);
                }
                Operator::Drop => {
                    pop(&mut stack);
                }
                Operator::If { .. } => {
                    pop(&mut stack);
                    depth += 1;
                    if !called && guard.is_none() {
                        guard = Some(depth);
                    }
                }
                Operator::Else => {}
                Operator::End if guard != Some(depth) && depth > 0 => depth -= 1,
                Operator::Call { function_index } => {
                    called = true;
                    let Some(import) = imports.get(function_index as usize) else {
                        break;
                    };
                    let at = stack.len().saturating_sub(import.params);
                    let args: Vec<Value> = stack.split_off(at);
                    let known: Option<Vec<i64>> = args
                        .iter()
                        .map(|v| match v {
                            Value::Known(v) => Some(*v),
                            Value::Unknown => None,
                        })
                        .collect();
                    if let (Some(function), Some(args)) = (import.name, known) {
                        self.record(&Call { function, args }, &mut cx);
                        calls += 1;
                    }
                    stack.extend((0..import.results).map(|_| Value::Unknown));
                }
                _ => break,
            }
        }
        Some(calls)
    }
}
