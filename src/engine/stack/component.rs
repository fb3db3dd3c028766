//! Components: every core module inside is rewritten as a core module is,
//! each with an equal share of the limit, and every other section is copied
//! byte for byte.
//!
//! Each core instance has its own counter, and frames of several instances
//! can be live at once (a module calling an import another module
//! satisfies). So that all of them together never pass the limit, each
//! module gets `limit / n` slots, where `n` is the number of core
//! instantiations the component's sections name, nested components'
//! included ([`instantiations`]).

use wasm_encoder::{Component, ComponentSectionId, RawSection};
use wasmparser::{Chunk, Parser, Payload};

/// How many core module instantiations `wasm`, a component, names: every
/// `instantiate` of a core instance section, at every nesting depth, each
/// nested component counted once however often it is instantiated (the
/// documented limit of the bound: see the [module docs](super)).
///
/// # Errors
///
/// If the component does not parse.
pub(super) fn instantiations(wasm: &[u8]) -> Result<u32, String> {
    let mut count: u32 = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::InstanceSection(section) = payload.map_err(|e| e.to_string())? {
            for instance in section {
                if let wasmparser::Instance::Instantiate { .. } =
                    instance.map_err(|e| e.to_string())?
                {
                    count = count.saturating_add(1);
                }
            }
        }
    }
    Ok(count)
}

/// How deep components may nest inside one another to be rewritten: the
/// rewriting recurses once per level, so a hostile component nested a
/// million deep (a few megabytes) gets an error instead of exhausting the
/// host's stack. Real components nest a few levels.
pub(super) const MAX_NESTING: u32 = 100;

/// Rewrites every core module of `wasm` (a component, from its first byte)
/// with `per_module` slots each, copying every other section as it is.
pub(super) fn rewrite(wasm: &[u8], per_module: u32) -> Result<Vec<u8>, String> {
    rewrite_nested(wasm, per_module, 0)
}

/// [`rewrite`] of a component `depth` levels inside the outermost one.
fn rewrite_nested(wasm: &[u8], per_module: u32, depth: u32) -> Result<Vec<u8>, String> {
    if depth > MAX_NESTING {
        return Err(format!(
            "components nested more than {MAX_NESTING} deep are not rewritten"
        ));
    }
    let mut out = Component::new();
    let mut parser = Parser::new(0);
    let mut rest = wasm;
    loop {
        let (consumed, payload) = match parser.parse(rest, true).map_err(|e| e.to_string())? {
            Chunk::Parsed { consumed, payload } => (consumed, payload),
            Chunk::NeedMoreData(_) => return Err("the component ends early".into()),
        };
        rest = &rest[consumed..];
        match payload {
            Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            } => {}
            Payload::Version { .. } => {
                return Err("a core module inside a component's place".into());
            }
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                let module = slice(wasm, &unchecked_range)?;
                rest = rest.get(module.len()..).ok_or("a module past the end")?;
                let rewritten = super::instrument_module(module, per_module)?;
                out.section(&RawSection {
                    id: ComponentSectionId::CoreModule as u8,
                    data: &rewritten,
                });
            }
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let nested = slice(wasm, &unchecked_range)?;
                rest = rest.get(nested.len()..).ok_or("a component past the end")?;
                let rewritten = rewrite_nested(nested, per_module, depth + 1)?;
                out.section(&RawSection {
                    id: ComponentSectionId::Component as u8,
                    data: &rewritten,
                });
            }
            Payload::End(_) => return Ok(out.finish()),
            other => match other.as_section() {
                Some((id, range)) => {
                    out.section(&RawSection {
                        id,
                        data: slice(wasm, &range)?,
                    });
                }
                None => return Err("a component payload that is not a section".into()),
            },
        }
    }
}

/// `wasm[range]`, where the range comes from a parser started at offset 0
/// over `wasm` (its offsets are `usize` or `u64`, as the wasmparser of each
/// wasmtime major has them).
fn slice<'a, T>(wasm: &'a [u8], range: &std::ops::Range<T>) -> Result<&'a [u8], String>
where
    T: TryInto<usize> + Copy,
{
    let outside = || "a section outside the component".to_string();
    let start = range.start.try_into().map_err(|_| outside())?;
    let end = range.end.try_into().map_err(|_| outside())?;
    wasm.get(start..end).ok_or_else(outside)
}
