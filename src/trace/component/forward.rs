//! The forwarder: a component, made for one guest component, through which
//! the host calls the functions a linker defines for the guest's imports.
//!
//! A wasmtime host cannot call a function a component [`Linker`] defines
//! (there is no handle to it), and a component cannot re-export a function
//! it imports (wasmtime refuses such exports). So the forwarder imports the
//! guest's interfaces and exports, for each of their functions, a function
//! of the same type (`f0`, `f1`, ... of the interface `dwc:forward/calls`)
//! whose core body calls the lowered import: the host calls that export
//! with [`Val`](wasmtime::component::Val)s, and what the import answers comes
//! back the same way. The resource types in the exports are the imported
//! ones, so the handles the host receives are the linker's own.
//!
//! Its core module has a memory and a bump allocator (`cabi_realloc`) for
//! the lists and strings a call passes; every export's post-return resets
//! it, so the memory holds one call's data at a time.
//!
//! [`Linker`]: wasmtime::component::Linker

use std::fmt::Write as _;
use wit_component::{ComponentEncoder, DecodedWasm, StringEncoding};
use wit_parser::abi::{AbiVariant, WasmSignature, WasmType};
use wit_parser::{
    Function, FunctionKind, Handle, Interface, Package, PackageName, Resolve, SizeAlign, Type,
    TypeDefKind, TypeOwner, World, WorldItem, WorldKey,
};

/// The instance the forwarder exports its functions from.
pub(crate) const CALLS: &str = "dwc:forward/calls";

/// One forwarded function: where the guest imports it from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Forwarded {
    /// The imported instance's name (`wasi:io/streams@0.2.6`).
    pub instance: String,
    /// The function's name in it (`[method]output-stream.write`).
    pub name: String,
}

/// What a guest component imports, as the forwarder and a replay define
/// it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Imports {
    /// Every function of every imported interface, in the interfaces'
    /// order: export `f{i}` of [`CALLS`] forwards `functions[i]`.
    pub functions: Vec<Forwarded>,
    /// Every resource type the imported interfaces define: instance name
    /// and resource name.
    pub resources: Vec<(String, String)>,
}

impl Imports {
    /// The instances the functions and resources are in, each once.
    pub fn instances(&self) -> Vec<&str> {
        let mut instances: Vec<&str> = self
            .functions
            .iter()
            .map(|f| f.instance.as_str())
            .chain(self.resources.iter().map(|(i, _)| i.as_str()))
            .collect();
        instances.sort_unstable();
        instances.dedup();
        instances
    }
}

/// `wasi:io/streams` for `wasi:io/streams@0.2.6`: how the trace names an
/// instance.
pub(crate) fn unversioned(instance: &str) -> &str {
    instance.split('@').next().unwrap_or(instance)
}

/// A forwarder component and what it forwards.
#[derive(Clone, Debug)]
pub(crate) struct Forwarder {
    /// The component's bytes.
    pub wasm: Vec<u8>,
    /// What it forwards.
    pub imports: Imports,
}

/// The imports of the guest component `guest`.
///
/// # Errors
///
/// As [`forwarder`].
pub(crate) fn imports(guest: &[u8]) -> wasmtime::Result<Imports> {
    Ok(decode(guest)?.imports)
}

/// A guest's WIT, decoded, and its imports.
struct Decoded {
    resolve: Resolve,
    world: wit_parser::WorldId,
    imports: Imports,
    /// The functions of `imports.functions`, as WIT has them.
    originals: Vec<Function>,
}

fn decode(guest: &[u8]) -> wasmtime::Result<Decoded> {
    if !wasmparser::Parser::is_component(guest) {
        wasmtime::bail!("not a component");
    }
    let DecodedWasm::Component(resolve, guest_world) = wit(wit_component::decode(guest))? else {
        wasmtime::bail!("not a component");
    };
    if let Some((key, _)) = resolve.worlds[guest_world]
        .imports
        .iter()
        .find(|(_, item)| matches!(item, WorldItem::Function(_)))
    {
        wasmtime::bail!(
            "imports the function `{}` outside an interface: not forwarded",
            resolve.name_world_key(key)
        );
    }
    let mut imports = Imports::default();
    let mut originals = Vec::new();
    for (key, item) in &resolve.worlds[guest_world].imports {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let instance = resolve.name_world_key(key);
        let interface = &resolve.interfaces[*id];
        for (name, ty) in &interface.types {
            if matches!(resolve.types[*ty].kind, TypeDefKind::Resource) {
                imports.resources.push((instance.clone(), name.clone()));
            }
        }
        for function in interface.functions.values() {
            if function.kind.is_async() {
                wasmtime::bail!(
                    "imports the async function `{}` from `{instance}`: not forwarded",
                    function.name
                );
            }
            #[cfg(wasmtime_50)]
            if lends_twice(&resolve, function) {
                wasmtime::bail!(
                    "imports `{}` from `{instance}`, which takes two or more borrowed handles: \
                     wasmtime 50's dynamic host functions cannot take them (its lifting keeps \
                     a deferred host scope after the first borrow made it a task: \
                     `BUG: deferred host scope has no call context`), so not on wasmtime 50",
                    function.name
                );
            }
            originals.push(function.clone());
            imports.functions.push(Forwarded {
                instance: instance.clone(),
                name: function.name.clone(),
            });
        }
    }
    Ok(Decoded {
        resolve,
        world: guest_world,
        imports,
        originals,
    })
}

/// Builds the forwarder for the guest component `guest`: it forwards
/// every function of every interface `guest` imports.
///
/// # Errors
///
/// If `guest` is not a component, or imports an async function (WASI 0.3:
/// not forwarded), or a function outside an interface.
pub(crate) fn forwarder(guest: &[u8]) -> wasmtime::Result<Forwarder> {
    let Decoded {
        mut resolve,
        world: guest_world,
        imports,
        originals,
    } = decode(guest)?;
    let package = resolve.packages.alloc(Package {
        name: PackageName {
            namespace: "dwc".into(),
            name: "forward".into(),
            version: None,
        },
        docs: Default::default(),
        interfaces: Default::default(),
        worlds: Default::default(),
    });
    let mut calls = Interface {
        name: Some("calls".into()),
        types: Default::default(),
        functions: Default::default(),
        docs: Default::default(),
        stability: Default::default(),
        package: Some(package),
        span: Default::default(),
        clone_of: None,
    };
    for (index, function) in originals.iter().enumerate() {
        let export = Function {
            name: format!("f{index}"),
            kind: FunctionKind::Freestanding,
            params: function.params.clone(),
            result: function.result,
            docs: Default::default(),
            stability: Default::default(),
            span: Default::default(),
        };
        calls.functions.insert(export.name.clone(), export);
    }
    let calls_id = resolve.interfaces.alloc(calls);
    resolve.packages[package]
        .interfaces
        .insert("calls".into(), calls_id);
    let mut world_imports = resolve.worlds[guest_world].imports.clone();
    world_imports.retain(|_, item| matches!(item, WorldItem::Interface { .. }));
    let mut world_exports: wit_parser::IndexMap<WorldKey, WorldItem> = Default::default();
    world_exports.insert(
        WorldKey::Interface(calls_id),
        WorldItem::Interface {
            id: calls_id,
            stability: Default::default(),
            span: Default::default(),
        },
    );
    let world = resolve.worlds.alloc(World {
        name: "forwarder".into(),
        imports: world_imports,
        exports: world_exports,
        package: Some(package),
        docs: Default::default(),
        stability: Default::default(),
        includes: Vec::new(),
        span: Default::default(),
    });
    resolve.packages[package]
        .worlds
        .insert("forwarder".into(), world);

    let wat = core_module(&resolve, &imports.functions, &originals)?;
    let mut module = wat::parse_str(&wat)?;
    wit(wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        StringEncoding::UTF8,
    ))?;
    let wasm = wit(ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode()))?;
    Ok(Forwarder { wasm, imports })
}

/// wit-component's error as wasmtime's.
fn wit<T>(result: anyhow::Result<T>) -> wasmtime::Result<T> {
    result.map_err(|e| wasmtime::format_err!("{e:#}"))
}

/// The core module's text: one import and one export per function, the
/// memory, the allocator and the post-returns.
///
/// A function that receives a borrowed handle must drop it before it
/// returns (the canonical ABI traps otherwise), so each export drops the
/// handles it borrowed once the import has answered: a parameter that is
/// a `borrow`, or each element of a `list<borrow>` (`wasi:io/poll.poll`).
/// A borrow anywhere else is not forwarded.
fn core_module(
    resolve: &Resolve,
    functions: &[Forwarded],
    originals: &[Function],
) -> wasmtime::Result<String> {
    let mut sizes = SizeAlign::default();
    sizes.fill(resolve);
    let mut wat = String::from("(module\n");
    let mut droppers: Vec<(String, String)> = Vec::new();
    let mut borrows = Vec::with_capacity(originals.len());
    for (index, (forwarded, function)) in functions.iter().zip(originals).enumerate() {
        let import = resolve.wasm_signature(AbiVariant::GuestImport, function);
        let _ = writeln!(
            wat,
            "  (import {:?} {:?} (func $i{index} {}))",
            forwarded.instance,
            forwarded.name,
            signature(&import)
        );
        let mut borrowed = Vec::new();
        let mut flat = 0;
        for param in &function.params {
            let shape = borrow_shape(resolve, &param.ty).map_err(|what| {
                wasmtime::format_err!(
                    "`{}` of `{}`: {what}: not forwarded",
                    forwarded.name,
                    forwarded.instance
                )
            })?;
            if let Some((list, resource)) = shape {
                if import.indirect_params {
                    wasmtime::bail!(
                        "`{}` of `{}` borrows a handle among parameters passed in memory: not forwarded",
                        forwarded.name,
                        forwarded.instance
                    );
                }
                let dropper = match droppers.iter().position(|d| *d == resource) {
                    Some(known) => known,
                    None => {
                        droppers.push(resource);
                        droppers.len() - 1
                    }
                };
                borrowed.push((flat, list, dropper));
            }
            flat += flat_count(resolve, param);
        }
        borrows.push(borrowed);
    }
    for (index, (instance, resource)) in droppers.iter().enumerate() {
        let _ = writeln!(
            wat,
            "  (import {instance:?} \"[resource-drop]{resource}\" (func $drop{index} (param i32)))"
        );
    }
    wat.push_str(ALLOCATOR);
    for (index, (function, borrowed)) in originals.iter().zip(&borrows).enumerate() {
        let import = resolve.wasm_signature(AbiVariant::GuestImport, function);
        let export = resolve.wasm_signature(AbiVariant::GuestExport, function);
        let params: String = (0..export.params.len())
            .map(|i| format!("(local.get {i}) "))
            .collect();
        let mut drops = String::new();
        for &(at, list, dropper) in borrowed {
            if list {
                // (ptr, len) of 4-byte handles.
                let _ = write!(
                    drops,
                    "(local.set $n (i32.const 0)) (block $done (loop $next (br_if $done (i32.ge_u (local.get $n) (local.get {len}))) (call $drop{dropper} (i32.load (i32.add (local.get {at}) (i32.shl (local.get $n) (i32.const 2))))) (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $next))) ",
                    len = at + 1
                );
            } else {
                let _ = write!(drops, "(call $drop{dropper} (local.get {at})) ");
            }
        }
        let body = if import.retptr {
            // The import writes its results through a pointer; the export
            // returns that pointer. One slot of the results' size.
            let ty = function.result.expect("a result pointer means a result");
            let (size, align) = (
                sizes.size(&ty).size_wasm32(),
                sizes.align(&ty).align_wasm32(),
            );
            format!(
                "(local.set $ret (call $cabi_realloc (i32.const 0) (i32.const 0) (i32.const {align}) (i32.const {size}))) (call $i{index} {params}(local.get $ret)) {drops}(local.get $ret)"
            )
        } else if export.results.is_empty() {
            format!("(call $i{index} {params}) {drops}")
        } else {
            // One flat result: kept while the borrows are dropped.
            let ty = core_type(&export.results[0]);
            format!("(local.set $r{ty} (call $i{index} {params})) {drops}(local.get $r{ty})")
        };
        let _ = writeln!(
            wat,
            "  (func (export \"{CALLS}#f{index}\") {} (local $ret i32) (local $n i32) (local $ri32 i32) (local $ri64 i64) (local $rf32 f32) (local $rf64 f64) {body})",
            signature(&export)
        );
        let post: String = export
            .results
            .iter()
            .map(|t| format!("(param {})", core_type(t)))
            .collect();
        let _ = writeln!(
            wat,
            "  (func (export \"cabi_post_{CALLS}#f{index}\") {post} (global.set $next (i32.const {HEAP})))"
        );
    }
    wat.push_str(")\n");
    Ok(wat)
}

/// How many core values `param` flattens to.
fn flat_count(resolve: &Resolve, param: &wit_parser::Param) -> usize {
    let alone = Function {
        name: String::new(),
        kind: FunctionKind::Freestanding,
        params: vec![param.clone()],
        result: None,
        docs: Default::default(),
        stability: Default::default(),
        span: Default::default(),
    };
    resolve
        .wasm_signature(AbiVariant::GuestImport, &alone)
        .params
        .len()
}

/// A parameter that borrows: whether it is a list of borrows, and the
/// resource's instance and name.
type Borrowed = (bool, (String, String));

/// Where a parameter of type `ty` borrows a handle: `None` if nowhere,
/// `(false, resource)` if it is a `borrow`, `(true, resource)` if it is a
/// `list<borrow>`; the resource as its interface's instance name and its
/// own name. A borrow deeper inside is an error.
fn borrow_shape(resolve: &Resolve, ty: &Type) -> Result<Option<Borrowed>, String> {
    let borrowed = |ty: &Type| -> Option<wit_parser::TypeId> {
        match dealias(resolve, ty) {
            Type::Id(id) => match resolve.types[id].kind {
                TypeDefKind::Handle(Handle::Borrow(resource)) => Some(resource),
                _ => None,
            },
            _ => None,
        }
    };
    if let Some(resource) = borrowed(ty) {
        return resource_name(resolve, resource).map(|r| Some((false, r)));
    }
    if let Type::Id(id) = dealias(resolve, ty)
        && let TypeDefKind::List(element) = &resolve.types[id].kind
        && let Some(resource) = borrowed(element)
    {
        return resource_name(resolve, resource).map(|r| Some((true, r)));
    }
    if contains_borrow(resolve, ty, 0) {
        return Err("a borrowed handle inside a parameter".into());
    }
    Ok(None)
}

/// Whether `function` takes two or more borrowed handles (a list of them
/// counts as two): what wasmtime 50 cannot lift into a dynamic host
/// function.
#[cfg(wasmtime_50)]
fn lends_twice(resolve: &Resolve, function: &Function) -> bool {
    let lent: usize = function
        .params
        .iter()
        .map(|param| match borrow_shape(resolve, &param.ty) {
            Ok(Some((true, _))) => 2,
            Ok(Some((false, _))) => 1,
            _ => 0,
        })
        .sum();
    lent >= 2
}

/// `ty` with `type a = b` aliases followed.
fn dealias(resolve: &Resolve, ty: &Type) -> Type {
    let mut ty = *ty;
    while let Type::Id(id) = ty
        && let TypeDefKind::Type(inner) = resolve.types[id].kind
    {
        ty = inner;
    }
    ty
}

/// The instance and name of the interface that defines `resource`.
fn resource_name(
    resolve: &Resolve,
    resource: wit_parser::TypeId,
) -> Result<(String, String), String> {
    let Type::Id(id) = dealias(resolve, &Type::Id(resource)) else {
        return Err("a borrow of a non-resource".into());
    };
    let def = &resolve.types[id];
    match (&def.owner, &def.name) {
        (TypeOwner::Interface(interface), Some(name)) => Ok((
            resolve.name_world_key(&WorldKey::Interface(*interface)),
            name.clone(),
        )),
        _ => Err("a borrow of a resource outside an interface".into()),
    }
}

/// Whether a borrow appears anywhere in `ty`.
fn contains_borrow(resolve: &Resolve, ty: &Type, depth: usize) -> bool {
    let Type::Id(id) = dealias(resolve, ty) else {
        return false;
    };
    if depth > 64 {
        return true;
    }
    let inner = |t: &Type| contains_borrow(resolve, t, depth + 1);
    match &resolve.types[id].kind {
        TypeDefKind::Handle(Handle::Borrow(_)) => true,
        TypeDefKind::Handle(Handle::Own(_)) | TypeDefKind::Resource => false,
        TypeDefKind::Record(r) => r.fields.iter().any(|f| inner(&f.ty)),
        TypeDefKind::Tuple(t) => t.types.iter().any(inner),
        TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty.as_ref()).any(inner),
        TypeDefKind::Option(t) | TypeDefKind::List(t) => inner(t),
        TypeDefKind::Result(r) => r.ok.iter().chain(r.err.iter()).any(inner),
        TypeDefKind::Flags(_) | TypeDefKind::Enum(_) => false,
        // Futures, streams, fixed lists, maps: not in preview2; treated
        // as borrowing so that they are refused.
        _ => true,
    }
}

/// Where the allocator starts (above a null page of sorts: no allocation is
/// at 0).
const HEAP: u32 = 16;

/// The memory and a bump allocator that grows it as needed; a failed grow
/// or an overflowing request traps.
const ALLOCATOR: &str = r#"  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 16))
  (func $cabi_realloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32) (local $end i64)
    (local.set $ptr (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $size))))
    (if (i64.gt_u (local.get $end) (i64.const 0xffffffff)) (then unreachable))
    (if (i64.gt_u (local.get $end) (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
      (then
        (if (i32.eq (memory.grow (i32.wrap_i64 (i64.sub
                (i64.shr_u (i64.add (local.get $end) (i64.const 0xffff)) (i64.const 16))
                (i64.extend_i32_u (memory.size)))))
              (i32.const -1))
          (then unreachable))))
    (if (i32.ne (local.get $old_size) (i32.const 0))
      (then (memory.copy (local.get $ptr) (local.get $old)
        (select (local.get $old_size) (local.get $size) (i32.lt_u (local.get $old_size) (local.get $size))))))
    (global.set $next (i32.wrap_i64 (local.get $end)))
    (local.get $ptr))
"#;

/// A core function type's text: `(param i32 i64) (result i32)`.
fn signature(sig: &WasmSignature) -> String {
    let mut text = String::new();
    for param in &sig.params {
        let _ = write!(text, "(param {}) ", core_type(param));
    }
    for result in &sig.results {
        let _ = write!(text, "(result {}) ", core_type(result));
    }
    text
}

/// The core type a flattened value has on wasm32.
fn core_type(ty: &WasmType) -> &'static str {
    match ty {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => "i32",
        WasmType::I64 | WasmType::PointerOrI64 => "i64",
        WasmType::F32 => "f32",
        WasmType::F64 => "f64",
    }
}
