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
    /// Each defined function's frame, in body order.
    pub frames: Vec<Frame>,
}

/// What the rule needs of one function body.
#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    /// `FRAME_BASE + params + locals + max height`, before any reservation.
    pub own: u64,
    /// Whether the body has an instruction that can run another function
    /// (a call of any kind, or a continuation's resume or switch).
    pub calls: bool,
}

impl Frame {
    /// Whether the function is an exempt leaf: not instrumented at all.
    pub fn is_leaf(&self) -> bool {
        !self.calls && self.own <= u64::from(super::LEAF_MAX_COST)
    }
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
            frames: Vec::new(),
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
                Payload::CodeSectionEntry(body) => {
                    let frame = info.frame(&body)?;
                    info.frames.push(frame);
                }
                _ => {}
            }
        }
        Ok(info)
    }

    /// The frame of the next defined function's `body`.
    fn frame(&self, body: &wasmparser::FunctionBody<'_>) -> Result<Frame, String> {
        let index = self.imported_funcs as usize + self.frames.len();
        let ty = *self
            .func_types
            .get(index)
            .ok_or_else(|| format!("function {index} has no type"))?;
        let (params, _) = self
            .func_arity(ty)
            .ok_or_else(|| format!("function {index}: not a function type"))?;
        let mut locals: u64 = 0;
        for pair in body.get_locals_reader().map_err(|e| e.to_string())? {
            locals += u64::from(pair.map_err(|e| e.to_string())?.0);
        }
        let height = super::height::max_height(self, ty, body)
            .map_err(|e| format!("function {index}: {e}"))?;
        let mut calls = false;
        let mut reader = body.get_operators_reader().map_err(|e| e.to_string())?;
        while !reader.eof() && !calls {
            use wasmparser::Operator as O;
            calls = matches!(
                reader.read().map_err(|e| e.to_string())?,
                O::Call { .. }
                    | O::CallIndirect { .. }
                    | O::CallRef { .. }
                    | O::ReturnCall { .. }
                    | O::ReturnCallIndirect { .. }
                    | O::ReturnCallRef { .. }
                    | O::Resume { .. }
                    | O::ResumeThrow { .. }
                    | O::ResumeThrowRef { .. }
                    | O::Switch { .. }
            );
        }
        let own = u64::from(super::FRAME_BASE) + u64::from(params) + locals + u64::from(height);
        Ok(Frame { own, calls })
    }

    /// The largest cost of an exempt leaf: a function that calls nothing and
    /// costs at most [`LEAF_MAX_COST`](super::LEAF_MAX_COST). 0 if none.
    pub fn largest_leaf(&self) -> u64 {
        self.frames
            .iter()
            .filter(|f| f.is_leaf())
            .map(|f| f.own)
            .max()
            .unwrap_or(0)
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
