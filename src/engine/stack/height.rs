//! The maximum operand-stack height of a function body, by abstract
//! interpretation: only the number of values on the stack is tracked, not
//! their types.
//!
//! Each operator pops and pushes the counts wasmparser's
//! [`Operator::operator_arity`] gives. A block, loop, `if` or `try_table`
//! opens a frame whose base is the height under its parameters; `else`
//! restarts at the base plus the parameters and `end` leaves the base plus
//! the results. After an operator that never falls through (`unreachable`,
//! `br`, `br_table`, `return`, the tail calls, `throw`, `throw_ref`,
//! `rethrow`) the stack is polymorphic: the height goes back to the frame's
//! base, and pops in that state never take it below the base.

use super::info::ModuleInfo;
use wasmparser::{
    BlockType, ContType, FrameKind, FunctionBody, ModuleArity, Operator, RefType, SubType,
};

/// One open control frame.
struct Frame {
    ty: BlockType,
    kind: FrameKind,
    /// The height under the frame's parameters.
    base: u32,
}

/// The state of the interpretation; also what `operator_arity` asks about.
struct Heights<'a> {
    info: &'a ModuleInfo,
    frames: Vec<Frame>,
}

impl ModuleArity for Heights<'_> {
    fn sub_type_at(&self, type_idx: u32) -> Option<&SubType> {
        self.info.types.get(type_idx as usize)
    }

    fn tag_type_arity(&self, at: u32) -> Option<(u32, u32)> {
        self.info.func_arity(*self.info.tag_types.get(at as usize)?)
    }

    fn type_index_of_function(&self, function_idx: u32) -> Option<u32> {
        self.info.func_types.get(function_idx as usize).copied()
    }

    fn func_type_of_cont_type(&self, c: &ContType) -> Option<&wasmparser::FuncType> {
        let index = c.0.as_module_index()?;
        match &self.sub_type_at(index)?.composite_type.inner {
            wasmparser::CompositeInnerType::Func(f) => Some(f),
            _ => None,
        }
    }

    fn sub_type_of_ref_type(&self, rt: &RefType) -> Option<&SubType> {
        self.sub_type_at(rt.type_index()?.as_module_index()?)
    }

    fn control_stack_height(&self) -> u32 {
        self.frames.len() as u32
    }

    fn label_block(&self, depth: u32) -> Option<(BlockType, FrameKind)> {
        let index = self.frames.len().checked_sub(1 + depth as usize)?;
        let frame = &self.frames[index];
        Some((frame.ty, frame.kind))
    }
}

/// The maximum operand-stack height of `body`, a function of type
/// `type_index`.
///
/// # Errors
///
/// If the body does not parse, or an operator's arity cannot be known (an
/// index out of range, an operator after the function's end): a module that
/// would not validate anyway.
pub(super) fn max_height(
    info: &ModuleInfo,
    type_index: u32,
    body: &FunctionBody<'_>,
) -> Result<u32, String> {
    let mut heights = Heights {
        info,
        frames: vec![Frame {
            ty: BlockType::FuncType(type_index),
            kind: FrameKind::Block,
            base: 0,
        }],
    };
    let mut height: u32 = 0;
    let mut max: u32 = 0;
    let mut reader = body.get_operators_reader().map_err(|e| e.to_string())?;
    while !reader.eof() {
        let op = reader.read().map_err(|e| e.to_string())?;
        let (pop, push) = op
            .operator_arity(&heights)
            .ok_or_else(|| format!("cannot tell the stack effect of {op:?}"))?;
        let Some(base) = heights.frames.last().map(|f| f.base) else {
            return Err(format!("{op:?} after the function's end"));
        };
        let popped = height.saturating_sub(pop).max(base);
        match op {
            Operator::Block { blockty }
            | Operator::Loop { blockty }
            | Operator::If { blockty }
            | Operator::Try { blockty } => {
                let kind = match op {
                    Operator::Loop { .. } => FrameKind::Loop,
                    Operator::If { .. } => FrameKind::If,
                    Operator::Try { .. } => FrameKind::LegacyTry,
                    _ => FrameKind::Block,
                };
                heights.frames.push(Frame {
                    ty: blockty,
                    kind,
                    base: popped,
                });
                height = popped + push;
            }
            Operator::TryTable { try_table } => {
                heights.frames.push(Frame {
                    ty: try_table.ty,
                    kind: FrameKind::TryTable,
                    base: popped,
                });
                height = popped + push;
            }
            Operator::Else | Operator::Catch { .. } | Operator::CatchAll => {
                if let Some(top) = heights.frames.last_mut() {
                    top.kind = match op {
                        Operator::Else => FrameKind::Else,
                        Operator::Catch { .. } => FrameKind::LegacyCatch,
                        _ => FrameKind::LegacyCatchAll,
                    };
                }
                height = base + push;
            }
            Operator::End | Operator::Delegate { .. } => {
                heights.frames.pop();
                height = base + push;
            }
            Operator::Unreachable
            | Operator::Br { .. }
            | Operator::BrTable { .. }
            | Operator::Return
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. }
            | Operator::Throw { .. }
            | Operator::ThrowRef
            | Operator::Rethrow { .. } => height = base,
            _ => height = popped + push,
        }
        max = max.max(height);
    }
    Ok(max)
}
