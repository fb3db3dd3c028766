//! Tracing a preview2 component's calls into a linker the crate does not
//! serve: stock wasmtime-wasi's, for `audit --no-determinism`.
//!
//! The crate's own preview2 context records its answers where it makes
//! them ([`build_p2_traced`](crate::DeterminismConfig::build_p2_traced)).
//! Stock's functions cannot be wrapped that way, and a component linker
//! gives no handle to a function it defines. So each call goes through a
//! [forwarder](forward): a component made from the guest's own imports,
//! instantiated with stock's linker in the guest's Store. The guest's
//! imports are defined in a linker of their own, one dynamic function
//! each ([`Linker::func_new`]), which calls the forwarder's export for the
//! same function with the same values and records the call:
//!
//! - its name, `instance.function` without the version
//!   (`wasi:clocks/wall-clock.now`, `wasi:io/streams.[method]output-stream.write`);
//! - its arguments and results flattened to integers: a number or a `bool`
//!   as itself, a string or list as its length (and, in a result, a byte
//!   list's or string's bytes as a write at the value's position), a case,
//!   enum or `option` by its index, flags as a bit set, a resource handle as
//!   the number this tracer gave it;
//! - an exit ([`I32Exit`](wasmtime_wasi::I32Exit)) or any other error as
//!   how the call ended.
//!
//! The guest's resource handles are this tracer's own
//! ([`ResourceType::host_dynamic`]), numbered in the order stock made
//! them, each standing for stock's handle; dropping one drops stock's and
//! is recorded as a call (`wasi:io/streams.[resource-drop]input-stream`).

pub(crate) mod flat;
pub(crate) mod forward;
#[cfg(test)]
mod tests;

use crate::trace::{Recorder, Returned, WriteRef};
use flat::Flat;
use forward::Forwarder;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{
    Component, Func, Instance, Linker, ResourceAny, ResourceDynamic, ResourceType, Type, Val,
};
use wasmtime::{Store, StoreContextMut};

/// The stock handles behind the guest's, by the number the guest's handle
/// carries.
#[derive(Default)]
struct Handles {
    stock: HashMap<u32, ResourceAny>,
    next: u32,
}

/// Instantiates `component` in `store` with every call it makes to an
/// imported interface recorded in `recorder`, answered by `stock` through
/// `forwarder` (made from `component`'s bytes, [`forward::forwarder`]).
///
/// # Errors
///
/// If the forwarder does not compile or instantiate with `stock` (an
/// import `stock` lacks), or the guest does not instantiate.
pub(crate) fn instantiate_traced_component<T: 'static>(
    stock: &Linker<T>,
    store: &mut Store<T>,
    component: &Component,
    forwarder: &Forwarder,
    recorder: &Recorder,
) -> wasmtime::Result<Instance> {
    let compiled = Component::new(store.engine(), &forwarder.wasm)?;
    // Instantiating the forwarder runs a little code of its own (its
    // tables' fix-ups): host work, on fuel of its own as its calls are.
    let fuel = store.get_fuel().ok();
    if fuel.is_some() {
        store.set_fuel(u64::MAX)?;
    }
    let instance = stock.instantiate(&mut *store, &compiled);
    if let Some(fuel) = fuel {
        store.set_fuel(fuel)?;
    }
    let instance = instance?;
    let calls = instance
        .get_export_index(&mut *store, None, forward::CALLS)
        .ok_or_else(|| wasmtime::format_err!("the forwarder exports no `{}`", forward::CALLS))?;
    let mut funcs = Vec::with_capacity(forwarder.imports.functions.len());
    for index in 0..forwarder.imports.functions.len() {
        let export = instance
            .get_export_index(&mut *store, Some(&calls), &format!("f{index}"))
            .and_then(|export| instance.get_func(&mut *store, export))
            .ok_or_else(|| wasmtime::format_err!("the forwarder exports no `f{index}`"))?;
        funcs.push(export);
    }

    let handles = Arc::new(Mutex::new(Handles::default()));
    let types: Arc<[ResourceType]> = (0..forwarder.imports.resources.len() as u32)
        .map(ResourceType::host_dynamic)
        .collect();
    let mut linker = Linker::new(store.engine());
    for name in forwarder.imports.instances() {
        let mut defined = linker.instance(name)?;
        for (index, (_, resource)) in forwarder
            .imports
            .resources
            .iter()
            .enumerate()
            .filter(|(_, (i, _))| i == name)
        {
            let (handles, recorder) = (handles.clone(), recorder.clone());
            let traced = format!("{}.[resource-drop]{resource}", forward::unversioned(name));
            defined.resource(
                resource,
                types[index],
                move |mut store: StoreContextMut<'_, T>, rep| {
                    let stock = handles.lock().unwrap().stock.remove(&rep);
                    let args = [i64::from(rep)];
                    recorder.record(&traced, &args, Returned::Values(&[]), &[]);
                    if let Some(mut sink) = recorder.sink() {
                        sink.component_call(&traced, &args, Returned::Values(&[]), &[], None);
                    }
                    match stock {
                        Some(stock) => stock.resource_drop(&mut store),
                        None => Ok(()),
                    }
                },
            )?;
        }
        for (function, func) in forwarder.imports.functions.iter().zip(&funcs) {
            if function.instance != name {
                continue;
            }
            let call = Call {
                name: format!("{}.{}", forward::unversioned(name), function.name),
                func: *func,
                handles: handles.clone(),
                types: types.clone(),
                recorder: recorder.clone(),
            };
            defined.func_new(&function.name, move |store, ty, params, results| {
                call.call(store, &ty, params, results)
            })?;
        }
    }
    linker.instantiate(store, component)
}

/// How many instances the forwarder adds to a Store (its core instances
/// and itself), for the Store's limits.
pub(crate) fn forwarder_instances(forwarder: &Forwarder) -> usize {
    let mut count = 1;
    for payload in wasmparser::Parser::new(0).parse_all(&forwarder.wasm) {
        match payload {
            Ok(wasmparser::Payload::InstanceSection(reader)) => count += reader.count() as usize,
            Ok(wasmparser::Payload::ComponentInstanceSection(reader)) => {
                count += reader.count() as usize
            }
            _ => {}
        }
    }
    count
}

/// One forwarded function, as the guest's linker defines it.
struct Call {
    name: String,
    func: Func,
    handles: Arc<Mutex<Handles>>,
    types: Arc<[ResourceType]>,
    recorder: Recorder,
}

impl Call {
    fn call<T>(
        &self,
        mut store: StoreContextMut<'_, T>,
        ty: &ComponentFunc,
        params: &[Val],
        results: &mut [Val],
    ) -> wasmtime::Result<()> {
        let mut args = Flat::default();
        let mut stock_params = Vec::with_capacity(params.len());
        let mut to_stock = |store: &mut StoreContextMut<'_, T>, handle, _: &Type| {
            let guest = ResourceDynamic::try_from_resource_any(handle, &mut *store)?;
            let mut handles = self.handles.lock().unwrap();
            let stock = if guest.owned() {
                handles.stock.remove(&guest.rep())
            } else {
                handles.stock.get(&guest.rep()).copied()
            };
            let stock = stock.ok_or_else(|| {
                wasmtime::format_err!("`{}`: a handle stock never gave", self.name)
            })?;
            Ok((guest.rep(), stock))
        };
        for ((_, ty), value) in ty.params().zip(params) {
            let param =
                flat::convert(&mut store, &self.name, value, &ty, &mut args, &mut to_stock)?;
            stock_params.push(param);
        }
        let inputs = args.inputs();
        let mut answers = vec![Val::Bool(false); results.len()];
        // The forwarder's own code is the host's work, not the guest's: it
        // runs on fuel of its own, and the guest's is as it left it, as
        // around any host call (so a replay, with no forwarder, consumes
        // what the recording did).
        let fuel = store.get_fuel().ok();
        if fuel.is_some() {
            store.set_fuel(u64::MAX)?;
        }
        let called = self.func.call(&mut store, &stock_params, &mut answers);
        if let Some(fuel) = fuel {
            store.set_fuel(fuel)?;
        }
        if let Err(error) = called {
            let ended = match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => Returned::Exit(exit.0),
                None => Returned::Trapped,
            };
            self.record(&args.ints, ended, &Flat::default(), inputs);
            return Err(error);
        }
        let mut out = Flat::default();
        let mut to_guest = |store: &mut StoreContextMut<'_, T>, handle, ty: &Type| {
            let index = match ty {
                Type::Own(ty) => self.types.iter().position(|t| t == ty),
                _ => None,
            };
            let index = index.ok_or_else(|| {
                wasmtime::format_err!("`{}`: a handle of a type not imported", self.name)
            })?;
            let rep = {
                let mut handles = self.handles.lock().unwrap();
                let rep = handles.next;
                handles.next = rep
                    .checked_add(1)
                    .ok_or_else(|| wasmtime::format_err!("too many handles"))?;
                handles.stock.insert(rep, handle);
                rep
            };
            let guest = ResourceDynamic::new_own(rep, index as u32);
            Ok((rep, guest.try_into_resource_any(&mut *store)?))
        };
        for ((ty, answer), slot) in ty.results().zip(&answers).zip(results) {
            *slot = flat::convert(&mut store, &self.name, answer, &ty, &mut out, &mut to_guest)?;
        }
        self.record(&args.ints, Returned::Values(&out.ints), &out, inputs);
        Ok(())
    }

    /// Records the call in the trace, and in the log if the recorder has
    /// one.
    fn record(&self, args: &[i64], result: Returned<'_>, out: &Flat, inputs: Option<[u8; 16]>) {
        let writes: Vec<WriteRef<'_>> = out
            .bytes
            .iter()
            .map(|(offset, bytes)| WriteRef::Bytes {
                offset: *offset,
                bytes,
            })
            .collect();
        self.recorder.record(&self.name, args, result, &writes);
        if let Some(mut sink) = self.recorder.sink() {
            sink.component_call(&self.name, args, result, &writes, inputs);
        }
    }
}
