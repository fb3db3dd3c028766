//! `wasi:random/{random, insecure, insecure-seed}` for components, preview2
//! and WASI 0.3 alike: the context's seeded streams, each call recorded
//! under a name without the interface's version.

use super::Pcg64Mcg;
use crate::p2::DeterministicP2Ctx;
use wasmtime::component::Linker;

/// The most bytes one random request may ask for (stock wasmtime-wasi's limit).
pub(crate) const MAX_RANDOM_REQUEST: u64 = wasmtime_wasi::random::DEFAULT_MAX_SIZE;

/// Where the two releases differ.
#[derive(Clone, Copy)]
pub(crate) struct Release {
    /// The interfaces' version, e.g. `0.2.12`.
    pub version: &'static str,
    /// `insecure-seed` (0.2) or `get-insecure-seed` (0.3).
    pub seed_function: &'static str,
    /// A request above [`MAX_RANDOM_REQUEST`] traps (0.2) or gets that many
    /// bytes (0.3), as stock's does in each.
    pub clamp: bool,
}

/// `len` bytes of `stream` under `release`'s limit rule.
fn bytes(stream: &mut Pcg64Mcg, len: u64, release: Release) -> wasmtime::Result<Vec<u8>> {
    if len > MAX_RANDOM_REQUEST && !release.clamp {
        wasmtime::bail!(
            "requested {len} random bytes, more than the limit of {MAX_RANDOM_REQUEST}"
        );
    }
    let mut out = vec![0; len.min(MAX_RANDOM_REQUEST) as usize];
    stream.fill(&mut out);
    Ok(out)
}

/// Defines the three interfaces of `release` in `linker` over the context
/// `get` finds (shadowing, if stock's are there, is the caller's).
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut DeterministicP2Ctx,
    release: Release,
) -> wasmtime::Result<()> {
    let version = release.version;
    let mut secure = linker.instance(&format!("wasi:random/random@{version}"))?;
    secure.func_wrap("get-random-bytes", move |mut store, (len,): (u64,)| {
        let ctx = get(store.data_mut());
        let out = bytes(&mut ctx.random, len, release)?;
        let name = "wasi:random/random.get-random-bytes";
        ctx.record(name, &[len], vec![], Some(&out));
        Ok((out,))
    })?;
    secure.func_wrap("get-random-u64", move |mut store, (): ()| {
        let ctx = get(store.data_mut());
        let value = ctx.random.next_u64();
        let name = "wasi:random/random.get-random-u64";
        ctx.record(name, &[], vec![value as i64], None);
        Ok((value,))
    })?;
    let mut insecure = linker.instance(&format!("wasi:random/insecure@{version}"))?;
    insecure.func_wrap(
        "get-insecure-random-bytes",
        move |mut store, (len,): (u64,)| {
            let ctx = get(store.data_mut());
            let out = bytes(&mut ctx.insecure, len, release)?;
            let name = "wasi:random/insecure.get-insecure-random-bytes";
            ctx.record(name, &[len], vec![], Some(&out));
            Ok((out,))
        },
    )?;
    insecure.func_wrap("get-insecure-random-u64", move |mut store, (): ()| {
        let ctx = get(store.data_mut());
        let value = ctx.insecure.next_u64();
        let name = "wasi:random/insecure.get-insecure-random-u64";
        ctx.record(name, &[], vec![value as i64], None);
        Ok((value,))
    })?;
    let mut seed = linker.instance(&format!("wasi:random/insecure-seed@{version}"))?;
    let name = format!("wasi:random/insecure-seed.{}", release.seed_function);
    seed.func_wrap(release.seed_function, move |mut store, (): ()| {
        let ctx = get(store.data_mut());
        let (low, high) = (ctx.insecure_seed as u64, (ctx.insecure_seed >> 64) as u64);
        ctx.record(&name, &[], vec![low as i64, high as i64], None);
        Ok(((low, high),))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P2: Release = Release {
        version: "0.2.12",
        seed_function: "insecure-seed",
        clamp: false,
    };
    const P3: Release = Release {
        version: "0.3.0",
        seed_function: "get-insecure-seed",
        clamp: true,
    };

    /// Past the limit, preview2 traps and 0.3 gets the limit, as stock's
    /// releases do; within it both get exactly the bytes asked for, the
    /// same stream's.
    #[test]
    fn the_limit_traps_on_preview2_and_clamps_on_0_3() {
        let mut stream = crate::random::secure_stream(1);
        let err = bytes(&mut stream, MAX_RANDOM_REQUEST + 1, P2).unwrap_err();
        assert!(err.to_string().contains("more than the limit"), "{err}");
        let clamped = bytes(&mut stream, u64::MAX, P3).unwrap();
        assert_eq!(clamped.len() as u64, MAX_RANDOM_REQUEST);
        let (mut a, mut b) = (
            crate::random::secure_stream(9),
            crate::random::secure_stream(9),
        );
        assert_eq!(bytes(&mut a, 7, P2).unwrap(), bytes(&mut b, 7, P3).unwrap());
    }
}
