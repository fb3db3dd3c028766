//! Linking only the served functions one module imports.
//!
//! An audit or a fuzzer makes a fresh Engine for each program and runs it
//! there once. A linker is tied to its Engine, so that run cannot reuse a
//! cached one, and defining all ninety-odd served functions (a function
//! type registered and a name interned for each) costs more than most of
//! the runs. [`serving_only_imports_of`] has [`serve`](super::serve) skip
//! every function the module does not import while a linker is built: the
//! functions it does import are defined exactly as in a full linker, so
//! the run cannot tell the difference.

use std::cell::RefCell;
use wasmtime::{ExternType, Module};

thread_local! {
    /// The `(module, name)` function imports of the module whose linker is
    /// being built on this thread, or `None` for a full linker.
    static ONLY: RefCell<Option<Vec<(String, String)>>> = const { RefCell::new(None) };
}

/// Runs `build` (which defines served functions in a linker) with
/// [`serve`](super::serve) defining only the functions `module` imports.
/// Whatever was in force before is put back afterwards, also when `build`
/// unwinds.
pub(crate) fn serving_only_imports_of<R>(module: &Module, build: impl FnOnce() -> R) -> R {
    /// Puts back the subset in force before, also on unwinding.
    struct Restore(Option<Vec<(String, String)>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            ONLY.set(self.0.take());
        }
    }
    let imports = module
        .imports()
        .filter(|import| matches!(import.ty(), ExternType::Func(_)))
        .map(|import| (import.module().to_owned(), import.name().to_owned()))
        .collect();
    let _restore = Restore(ONLY.replace(Some(imports)));
    build()
}

/// Whether `serve` leaves `module::name` out of the linker being built.
pub(super) fn left_out(module: &str, name: &str) -> bool {
    ONLY.with_borrow(|only| {
        only.as_ref()
            .is_some_and(|imports| !imports.iter().any(|(m, n)| m == module && n == name))
    })
}

#[cfg(test)]
mod tests {
    use super::serving_only_imports_of;
    use crate::p1::DeterministicP1Ctx;
    use crate::served::SERVED_FUNCTIONS;
    use crate::{DeterminismConfig, served};
    use wasmtime::{Engine, Linker, Module, Store};

    /// Which `(module, name)` of the served functions `linker` defines.
    fn defined(engine: &Engine, linker: &Linker<DeterministicP1Ctx>) -> Vec<(String, String)> {
        let mut store = Store::new(engine, DeterminismConfig::new().build_p1());
        ["wasi_snapshot_preview1", "wasi_unstable"]
            .into_iter()
            .flat_map(|module| SERVED_FUNCTIONS.map(|name| (module, name)))
            .filter(|(module, name)| linker.get(&mut store, module, name).is_ok())
            .map(|(module, name)| (module.to_owned(), name.to_owned()))
            .collect()
    }

    /// A linker built for a module holds exactly the served functions it
    /// imports, under the snapshot it imports each from (one name imported
    /// from one snapshot only, another from both), functions from every
    /// definer included (`random`, `clocks`, `sched`, `fd`, `environ`,
    /// `proc_exit`); a full linker built afterwards on the same thread holds
    /// them all again.
    #[test]
    fn a_linker_built_for_a_module_defines_only_its_imports() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module
                (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
                (import "wasi_unstable" "random_get" (func (param i32 i32) (result i32)))
                (import "wasi_unstable" "clock_time_get" (func (param i32 i64 i32) (result i32)))
                (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
                (import "wasi_snapshot_preview1" "path_open"
                  (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
                (import "wasi_unstable" "args_get" (func (param i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                (memory (export "memory") 1))"#,
        )
        .unwrap();
        let mut subset: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        serving_only_imports_of(&module, || {
            served::add_served_to_linker(&mut subset, |t| t).unwrap();
        });
        let wanted: Vec<(String, String)> = module
            .imports()
            .map(|i| (i.module().to_owned(), i.name().to_owned()))
            .collect();
        let mut got = defined(&engine, &subset);
        let mut expected = wanted.clone();
        got.sort();
        expected.sort();
        assert_eq!(got, expected);
        subset.instantiate_pre(&module).expect("links");

        let mut full: Linker<DeterministicP1Ctx> = Linker::new(&engine);
        served::add_served_to_linker(&mut full, |t| t).unwrap();
        assert_eq!(
            defined(&engine, &full).len(),
            2 * SERVED_FUNCTIONS.len() - 1
        );
    }
}
