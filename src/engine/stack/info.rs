//! What the rewriter needs to know about a module before it rewrites it:
//! its types, each function's type, its tags and how many globals it has.

use wasmparser::{Parser, Payload, SubType, TypeRef};

/// The parts of a core module the stack rewriter reads.
pub(super) struct ModuleInfo {
    /// Every type, in index order (rec groups flattened).
    pub types: Vec<SubType>,
    /// The type index of every function, imported ones first.
    pub func_types: Vec<u32>,
    /// How many functions are imported.
    pub imported_funcs: u32,
    /// The function type index of every tag, imported ones first.
    pub tag_types: Vec<u32>,
    /// How many globals there are, imported and defined: the index the
    /// added counter gets.
    pub globals: u32,
    /// Whether the module has a global section (else one is added).
    pub has_global_section: bool,
}

impl ModuleInfo {
    /// Reads `wasm`, a core module in the binary format.
    pub fn read(wasm: &[u8]) -> Result<ModuleInfo, String> {
        let mut info = ModuleInfo {
            types: Vec::new(),
            func_types: Vec::new(),
            imported_funcs: 0,
            tag_types: Vec::new(),
            globals: 0,
            has_global_section: false,
        };
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.map_err(|e| e.to_string())? {
                Payload::Version {
                    encoding: wasmparser::Encoding::Component,
                    ..
                } => return Err("a component, not a core module".into()),
                Payload::TypeSection(section) => {
                    for group in section {
                        info.types
                            .extend(group.map_err(|e| e.to_string())?.into_types());
                    }
                }
                Payload::ImportSection(section) => {
                    for import in section.into_imports() {
                        match import.map_err(|e| e.to_string())?.ty {
                            TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                                info.func_types.push(ty);
                                info.imported_funcs += 1;
                            }
                            TypeRef::Tag(tag) => info.tag_types.push(tag.func_type_idx),
                            TypeRef::Global(_) => info.globals += 1,
                            TypeRef::Table(_) | TypeRef::Memory(_) => {}
                        }
                    }
                }
                Payload::FunctionSection(section) => {
                    for ty in section {
                        info.func_types.push(ty.map_err(|e| e.to_string())?);
                    }
                }
                Payload::TagSection(section) => {
                    for tag in section {
                        info.tag_types
                            .push(tag.map_err(|e| e.to_string())?.func_type_idx);
                    }
                }
                Payload::GlobalSection(section) => {
                    info.has_global_section = true;
                    info.globals += section.count();
                }
                _ => {}
            }
        }
        Ok(info)
    }

    /// The parameter and result counts of type `ty`, if it is a function type.
    pub fn func_arity(&self, ty: u32) -> Option<(u32, u32)> {
        let sub = self.types.get(ty as usize)?;
        match &sub.composite_type.inner {
            wasmparser::CompositeInnerType::Func(f) => {
                Some((f.params().len() as u32, f.results().len() as u32))
            }
            _ => None,
        }
    }
}
