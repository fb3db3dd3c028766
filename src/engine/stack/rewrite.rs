//! The rewriting itself: a [`Reencode`] that appends the counter global (and
//! the block types the body wrappers need) and instruments every function
//! body as the [rule](super) says.

use super::info::ModuleInfo;
use wasm_encoder::reencode::{Error, Reencode, RoundtripReencoder, utils};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, Function, GlobalSection, GlobalType, Instruction, Module,
    SectionId, TypeSection, ValType,
};

/// Rewrites one core module.
pub(super) struct Rewriter {
    info: ModuleInfo,
    limit: u32,
    /// Result lists of more than one value that wrap a body, each with the
    /// type index appended for it (`[] -> results`).
    multi_results: Vec<(Vec<wasmparser::ValType>, u32)>,
    /// How many function bodies were rewritten so far.
    bodies: u32,
    /// Whether the counter's global section was already written.
    global_written: bool,
    /// [`ModuleInfo::largest_leaf`].
    largest_leaf: u64,
}

impl Rewriter {
    pub fn new(info: ModuleInfo, limit: u32) -> Rewriter {
        let mut multi_results: Vec<(Vec<wasmparser::ValType>, u32)> = Vec::new();
        let defined = &info.func_types[info.imported_funcs as usize..];
        for &ty in defined {
            let results = results_of(&info, ty);
            if results.len() > 1 && !multi_results.iter().any(|(r, _)| *r == results) {
                let index = (info.types.len() + multi_results.len()) as u32;
                multi_results.push((results, index));
            }
        }
        Rewriter {
            largest_leaf: info.largest_leaf(),
            info,
            limit,
            multi_results,
            bodies: 0,
            global_written: false,
        }
    }

    /// The counter's index: after every existing global.
    fn counter(&self) -> u32 {
        self.info.globals
    }

    fn counter_section(&mut self) -> GlobalSection {
        let mut globals = GlobalSection::new();
        self.add_counter(&mut globals);
        globals
    }

    fn add_counter(&mut self, globals: &mut GlobalSection) {
        globals.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(0),
        );
        self.global_written = true;
    }

    /// Adds `cost` to the counter, trapping first if that passes the limit.
    fn acquire(&self, f: &mut Function, cost: u64) {
        match u32::try_from(cost)
            .ok()
            .and_then(|c| self.limit.checked_sub(c))
        {
            Some(room) => {
                f.instruction(&Instruction::GlobalGet(self.counter()))
                    .instruction(&Instruction::I32Const(room as i32))
                    .instruction(&Instruction::I32GtU)
                    .instruction(&Instruction::If(BlockType::Empty))
                    .instruction(&Instruction::Unreachable)
                    .instruction(&Instruction::End);
                self.add(f, cost as u32 as i32, Instruction::I32Add);
            }
            // A frame larger than the whole limit can never be entered.
            None => {
                f.instruction(&Instruction::Unreachable);
            }
        }
    }

    /// Takes `cost` off the counter (before an exit).
    fn release(&self, f: &mut Function, cost: u64) {
        if let Ok(cost) = u32::try_from(cost)
            && cost <= self.limit
        {
            self.add(f, cost as i32, Instruction::I32Sub);
        }
    }

    fn add(&self, f: &mut Function, cost: i32, op: Instruction<'_>) {
        f.instruction(&Instruction::GlobalGet(self.counter()))
            .instruction(&Instruction::I32Const(cost))
            .instruction(&op)
            .instruction(&Instruction::GlobalSet(self.counter()));
    }

    /// The block type of a wrapper around a body of type `ty`.
    fn wrapper_type(&mut self, ty: u32) -> Result<BlockType, Error<String>> {
        let results = results_of(&self.info, ty);
        Ok(match results.as_slice() {
            [] => BlockType::Empty,
            [one] => BlockType::Result(self.val_type(*one)?),
            many => match self.multi_results.iter().find(|(r, _)| r == many) {
                Some((_, index)) => BlockType::FunctionType(*index),
                None => return Err(Error::UserError("no wrapper type for a result list".into())),
            },
        })
    }
}

fn results_of(info: &ModuleInfo, ty: u32) -> Vec<wasmparser::ValType> {
    match info.types.get(ty as usize).map(|t| &t.composite_type.inner) {
        Some(wasmparser::CompositeInnerType::Func(f)) => f.results().to_vec(),
        _ => Vec::new(),
    }
}

/// Where a section goes in a module, in the binary format's order.
fn order(id: SectionId) -> u8 {
    match id {
        SectionId::Custom => 0,
        SectionId::Type => 1,
        SectionId::Import => 2,
        SectionId::Function => 3,
        SectionId::Table => 4,
        SectionId::Memory => 5,
        SectionId::Tag => 6,
        SectionId::Global => 7,
        SectionId::Export => 8,
        SectionId::Start => 9,
        SectionId::Element => 10,
        SectionId::DataCount => 11,
        SectionId::Code => 12,
        SectionId::Data => 13,
    }
}

impl Reencode for Rewriter {
    type Error = String;

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        utils::parse_type_section(self, types, section)?;
        for (results, _) in self.multi_results.clone() {
            let results: Vec<ValType> = results
                .into_iter()
                .map(|t| RoundtripReencoder.val_type(t))
                .collect::<Result<_, _>>()
                .map_err(|e| Error::UserError(e.to_string()))?;
            types.ty().function([], results);
        }
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), Error<String>> {
        utils::parse_global_section(self, globals, section)?;
        self.add_counter(globals);
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), Error<String>> {
        let past_globals = before.is_none_or(|id| order(id) > order(SectionId::Global));
        if !self.info.has_global_section && !self.global_written && past_globals {
            let section = self.counter_section();
            module.section(&section);
        }
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), Error<String>> {
        let index = self.info.imported_funcs + self.bodies;
        self.bodies += 1;
        let Some(&ty) = self.info.func_types.get(index as usize) else {
            return Err(Error::UserError(format!("function {index} has no type")));
        };
        let Some(frame) = self
            .info
            .frames
            .get((index - self.info.imported_funcs) as usize)
            .copied()
        else {
            return Err(Error::UserError(format!("function {index} has no frame")));
        };
        if frame.is_leaf() {
            return utils::parse_function_body(self, code, func);
        }
        let reserve = if frame.calls { self.largest_leaf } else { 0 };
        let cost = frame.own + reserve;

        let mut f = self.new_function_with_parsed_locals(&func)?;
        self.acquire(&mut f, cost);
        f.instruction(&Instruction::Block(self.wrapper_type(ty)?));
        // Open frames, the body's own included: its `end` closes the wrapper.
        let mut depth: u32 = 1;
        let mut reader = func.get_operators_reader()?;
        while !reader.eof() {
            let op = reader.read()?;
            match op {
                wasmparser::Operator::Block { .. }
                | wasmparser::Operator::Loop { .. }
                | wasmparser::Operator::If { .. }
                | wasmparser::Operator::Try { .. }
                | wasmparser::Operator::TryTable { .. } => depth += 1,
                wasmparser::Operator::End | wasmparser::Operator::Delegate { .. } => {
                    depth = depth.saturating_sub(1)
                }
                wasmparser::Operator::Return
                | wasmparser::Operator::ReturnCall { .. }
                | wasmparser::Operator::ReturnCallIndirect { .. }
                | wasmparser::Operator::ReturnCallRef { .. } => self.release(&mut f, cost),
                _ => {}
            }
            let last = depth == 0 && matches!(op, wasmparser::Operator::End);
            f.instruction(&self.instruction(op)?);
            if last {
                // Falling off the body or branching to its label lands here.
                self.release(&mut f, cost);
                f.instruction(&Instruction::End);
            }
        }
        code.function(&f);
        Ok(())
    }
}
