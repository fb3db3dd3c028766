//! How a served function is defined: its body is a Rust closure of typed
//! arguments, linked as a host function, and handed to the tracer on request
//! so that the tracer calls it directly instead of through a second wasmtime
//! host-call entry (`Func::call_unchecked`).
//!
//! The hand-over is a request on the thread: the tracer's first call of an
//! import in a Store goes through wasmtime as any call does, with the request
//! raised ([`call_asking_for_body`]); the served function, seeing it, offers
//! its body under its name before running. The tracer keeps the body only if
//! the name and the store type match, so a function the embedder defined
//! itself, which offers nothing, is still called through wasmtime.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::mem::MaybeUninit;
use std::sync::Arc;
use wasmtime::{Caller, FuncType, Linker, ValRaw, ValType};

/// A served function's body on raw values: reads its parameters from the
/// slots and leaves its results there, as a wasmtime host function does.
pub(crate) type Body<T> = Arc<
    dyn Fn(&mut Caller<'_, T>, &mut [MaybeUninit<ValRaw>]) -> wasmtime::Result<()> + Send + Sync,
>;

thread_local! {
    /// Calls of served functions through wasmtime on this thread (tests
    /// count them to see which calls the tracer made directly).
    #[cfg(test)]
    static ENTRIES: Cell<u64> = const { Cell::new(0) };
    /// The name of the function whose body the tracer asks for.
    static WANTED: Cell<Option<&'static str>> = const { Cell::new(None) };
    /// The body offered, as a `Body<T>`.
    static OFFERED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// A parameter type of a served function.
pub(crate) trait Param: Sized + 'static {
    /// Its wasm type.
    const TYPE: ValType;
    /// Read from an initialised parameter slot.
    fn from_raw(raw: ValRaw) -> Self;
}

impl Param for i32 {
    const TYPE: ValType = ValType::I32;
    fn from_raw(raw: ValRaw) -> Self {
        raw.get_i32()
    }
}

impl Param for i64 {
    const TYPE: ValType = ValType::I64;
    fn from_raw(raw: ValRaw) -> Self {
        raw.get_i64()
    }
}

/// What a served function returns: an errno (`i32`), or nothing (a
/// function that only ever traps or exits), possibly failing.
pub(crate) trait Returns: 'static {
    /// Its wasm result types.
    fn types() -> &'static [ValType];
    /// Stores the result in the first slot, or passes the error on.
    fn store(self, space: &mut [MaybeUninit<ValRaw>]) -> wasmtime::Result<()>;
}

impl Returns for i32 {
    fn types() -> &'static [ValType] {
        &[ValType::I32]
    }
    fn store(self, space: &mut [MaybeUninit<ValRaw>]) -> wasmtime::Result<()> {
        space[0] = MaybeUninit::new(ValRaw::i32(self));
        Ok(())
    }
}

impl<R: Returns> Returns for wasmtime::Result<R> {
    fn types() -> &'static [ValType] {
        R::types()
    }
    fn store(self, space: &mut [MaybeUninit<ValRaw>]) -> wasmtime::Result<()> {
        self?.store(space)
    }
}

impl Returns for () {
    fn types() -> &'static [ValType] {
        &[]
    }
    fn store(self, _: &mut [MaybeUninit<ValRaw>]) -> wasmtime::Result<()> {
        Ok(())
    }
}

/// A closure a served function is made of: `Fn(&mut Caller<T>, params...)
/// -> result`, for up to nine `i32`/`i64` parameters (`path_open` has nine).
pub(crate) trait ServedFn<T, Params>: Send + Sync + 'static {
    /// The parameter types, in order.
    fn params() -> Vec<ValType>;
    /// The result types.
    fn results() -> &'static [ValType];
    /// The closure on raw slots.
    fn into_body(self) -> Body<T>;
}

macro_rules! served_fn {
    ($($p:ident),*) => {
        impl<T, F, R, $($p: Param),*> ServedFn<T, ($($p,)*)> for F
        where
            T: 'static,
            F: Fn(&mut Caller<'_, T>, $($p),*) -> R + Send + Sync + 'static,
            R: Returns,
        {
            fn params() -> Vec<ValType> {
                vec![$($p::TYPE),*]
            }
            fn results() -> &'static [ValType] {
                R::types()
            }
            #[allow(non_snake_case, unused_mut, unused_variables, unused_assignments)]
            fn into_body(self) -> Body<T> {
                Arc::new(move |caller, space| {
                    let mut at = 0;
                    $(
                        // SAFETY: the function's type says slot `at` holds a
                        // `$p` (checked by wasmtime against the caller's type),
                        // and wasmtime initialises every parameter slot.
                        let $p = $p::from_raw(unsafe { space[at].assume_init() });
                        at += 1;
                    )*
                    self(caller, $($p),*).store(space)
                })
            }
        }
    };
}

served_fn!();
served_fn!(A);
served_fn!(A, B);
served_fn!(A, B, C);
served_fn!(A, B, C, D);
served_fn!(A, B, C, D, E);
served_fn!(A, B, C, D, E, G);
served_fn!(A, B, C, D, E, G, H);
served_fn!(A, B, C, D, E, G, H, I);
served_fn!(A, B, C, D, E, G, H, I, J);

/// Defines `module::name` in `linker` as the served function `f`, replacing
/// an earlier definition of that name (and only that name: see
/// [`define_shadowing_only_this`]); nothing if the linker is being
/// built for a module that does not import it
/// ([`serving_only_imports_of`](super::serving_only_imports_of)).
///
/// # Errors
///
/// If the linker rejects the definition.
pub(crate) fn serve<T: 'static, P, F: ServedFn<T, P>>(
    linker: &mut Linker<T>,
    module: &str,
    name: &'static str,
    f: F,
) -> wasmtime::Result<()> {
    if super::subset::left_out(module, name) {
        return Ok(());
    }
    let ty = FuncType::new(linker.engine(), F::params(), F::results().iter().cloned());
    let body = f.into_body();
    let host = move |mut caller: Caller<'_, T>, space: &mut [MaybeUninit<ValRaw>]| {
        #[cfg(test)]
        ENTRIES.set(ENTRIES.get() + 1);
        if WANTED.get() == Some(name) {
            WANTED.set(None);
            OFFERED.set(Some(Box::new(body.clone())));
        }
        body(&mut caller, space)
    };
    // SAFETY: `body` reads exactly the parameters of `ty` and writes its
    // results (`ServedFn` builds both from the same closure type).
    let define = |linker: &mut Linker<T>, host| unsafe {
        linker
            .func_new_unchecked(module, name, ty.clone(), host)
            .map(drop)
    };
    define_shadowing_only_this(linker, |linker| define(linker, host.clone()))
}

/// Runs `define` (one definition) in `linker` so that it replaces an
/// earlier definition of the same name, and leaves the linker's shadowing
/// setting as it found it: wasmtime has no getter for it, but a linker that
/// refuses a duplicate has it off. So the definition is tried as the
/// embedder left the linker; only if that fails is shadowing switched on
/// for this one definition, and off again after it. An error that is not a
/// duplicate fails the second try too, and is returned.
pub(crate) fn define_shadowing_only_this<T>(
    linker: &mut Linker<T>,
    mut define: impl FnMut(&mut Linker<T>) -> wasmtime::Result<()>,
) -> wasmtime::Result<()> {
    if define(linker).is_ok() {
        return Ok(());
    }
    linker.allow_shadowing(true);
    let defined = define(linker);
    linker.allow_shadowing(false);
    defined
}

/// Runs `call` (the tracer calling the import `name` through wasmtime) with
/// a request for the served body of `name` raised; the body, if the callee
/// was that served function on a store of type `T`.
pub(crate) fn call_asking_for_body<T: 'static, R>(
    name: &'static str,
    call: impl FnOnce() -> R,
) -> (R, Option<Body<T>>) {
    /// Puts back the request and offer around this one, also when `call`
    /// unwinds.
    struct Restore {
        wanted: Option<&'static str>,
        offered: Option<Box<dyn Any>>,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            WANTED.set(self.wanted);
            OFFERED.set(self.offered.take());
        }
    }
    let restore = Restore {
        wanted: WANTED.replace(Some(name)),
        offered: OFFERED.take(),
    };
    let outcome = call();
    let offered = OFFERED.take();
    drop(restore);
    let body = offered
        .and_then(|b| b.downcast::<Body<T>>().ok())
        .map(|b| *b);
    (outcome, body)
}

/// How many times served functions were entered through wasmtime on this
/// thread so far.
#[cfg(test)]
pub(crate) fn entries() -> u64 {
    ENTRIES.get()
}
