//! Replaying a preview2 component's run from a log.
//!
//! A component's recording is its traced stock run
//! ([`audit::record_component`](crate::audit::record_component)): every
//! call to an imported interface goes through the tracer of
//! [`trace`](crate::trace), which writes it to the log flattened (see the
//! log format in [`replay`](super)). [`add_to_linker`] defines the same
//! imports answering from the log instead: each call's arguments are
//! flattened the same way and checked against the recording's, and its
//! result is read back into the function's types. The guest's handles are
//! numbered as they were when recorded; no host resource exists behind
//! them.
//!
//! # Example
//!
//! ```no_run
//! use deterministic_wasi_ctx::replay::{self, Replayer};
//! use wasmtime::component::{Component, Linker};
//! use wasmtime::{Engine, Store};
//!
//! # fn run(engine: &Engine, wasm: &[u8], log: Vec<u8>) -> wasmtime::Result<()> {
//! let component = Component::new(engine, wasm)?;
//! let mut linker = Linker::new(engine);
//! replay::component::add_to_linker(&mut linker, wasm, |r: &mut Replayer| r)?;
//! let mut store = Store::new(engine, Replayer::new(std::io::Cursor::new(log))?);
//! let command = wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)?;
//! let ran = command.wasi_cli_run().call_run(&mut store);
//! # Ok(()) }
//! ```

use super::{Answer, Failure, LogError, Replayer};
use crate::trace::component::flat::{self, Cursor, Flat};
use crate::trace::component::forward;
use std::sync::Arc;
use wasmtime::StoreContextMut;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{Linker, ResourceAny, ResourceDynamic, ResourceType, Type, Val};

/// Defines every function of every interface the component `wasm` imports
/// in `linker`, answering from the [`Replayer`] `get` finds in the Store's
/// data; a handle the guest drops is checked against the log as a call.
/// A [`Failure`] stops the run ([`Replayer::failure`] keeps it), as on a
/// module's replay ([`add_to_linker`](super::add_to_linker)).
///
/// # Errors
///
/// If `wasm` is not a preview2 component (a WASI 0.3 component's async
/// functions are not replayed), or `linker` already defines an import.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    wasm: &[u8],
    get: fn(&mut T) -> &mut Replayer,
) -> wasmtime::Result<()> {
    let imports = forward::imports(wasm)?;
    let types: Arc<[ResourceType]> = (0..imports.resources.len() as u32)
        .map(ResourceType::host_dynamic)
        .collect();
    for name in imports.instances() {
        let mut defined = linker.instance(name)?;
        for (index, (_, resource)) in imports
            .resources
            .iter()
            .enumerate()
            .filter(|(_, (i, _))| i == name)
        {
            let traced = format!("{}.[resource-drop]{resource}", forward::unversioned(name));
            defined.resource(
                resource,
                types[index],
                move |mut store: StoreContextMut<'_, T>, rep| {
                    let replayer = get(store.data_mut());
                    match replayer.answer_component(&traced, &[i64::from(rep)], None, &[])? {
                        Answer::Returned(values) if values.is_empty() => Ok(()),
                        _ => Err(corrupt(replayer, &traced, "a drop answered otherwise").into()),
                    }
                },
            )?;
        }
        for function in imports.functions.iter().filter(|f| f.instance == name) {
            let traced = format!("{}.{}", forward::unversioned(name), function.name);
            let types = types.clone();
            defined.func_new(&function.name, move |store, ty, params, results| {
                replay_call(store, get, &traced, &types, (&ty, params, results))
            })?;
        }
    }
    Ok(())
}

/// One replayed call: see [`add_to_linker`].
fn replay_call<T>(
    mut store: StoreContextMut<'_, T>,
    get: fn(&mut T) -> &mut Replayer,
    name: &str,
    types: &[ResourceType],
    (ty, params, results): (&ComponentFunc, &[Val], &mut [Val]),
) -> wasmtime::Result<()> {
    let mut args = Flat::default();
    let mut numbered = |store: &mut StoreContextMut<'_, T>, handle: ResourceAny, _: &Type| {
        let guest = ResourceDynamic::try_from_resource_any(handle, &mut *store)?;
        Ok((guest.rep(), handle))
    };
    for ((_, ty), value) in ty.params().zip(params) {
        flat::convert(&mut store, name, value, &ty, &mut args, &mut numbered)?;
    }
    let replayer = get(store.data_mut());
    let values = match replayer.answer_component(name, &args.ints, args.inputs(), &args.bytes)? {
        Answer::Returned(values) => values,
        Answer::Exit(status) => return Err(wasmtime_wasi::I32Exit(status).into()),
        Answer::Trapped => {
            return Err(wasmtime::format_err!(
                "`{name}` trapped when recorded, so it traps in the replay"
            ));
        }
    };
    let written = replayer.written().to_vec();
    let mut cursor = Cursor::new(&values, &written);
    let mut make = |store: &mut StoreContextMut<'_, T>, rep: u32, ty: &ResourceType| {
        let index = types
            .iter()
            .position(|t| t == ty)
            .ok_or_else(|| wasmtime::format_err!("`{name}`: a handle of a type not imported"))?;
        ResourceDynamic::new_own(rep, index as u32).try_into_resource_any(&mut *store)
    };
    for (ty, slot) in ty.results().zip(results) {
        match flat::unflatten(&mut store, &ty, &mut cursor, &mut make)? {
            Ok(value) => *slot = value,
            Err(why) => return Err(corrupt(get(store.data_mut()), name, &why).into()),
        }
    }
    if !cursor.done() {
        let why = "more values than the result type has";
        return Err(corrupt(get(store.data_mut()), name, why).into());
    }
    Ok(())
}

/// Keeps and returns the failure of a log whose answer to the call just
/// read does not fit it.
fn corrupt(replayer: &mut Replayer, name: &str, why: &str) -> Failure {
    let index = replayer.calls().saturating_sub(1);
    let failure = Failure::Log(LogError::Corrupt(format!(
        "call {index} (`{name}`): the log's answer does not fit the call: {why}"
    )));
    replayer.failure = Some(failure.clone());
    failure
}
