//! Prints a `HashMap`'s iteration order; std seeds its hasher from the
//! host's random source, so the order is only stable if randomness is.
use std::collections::HashMap;

fn main() {
    let map: HashMap<u32, u32> = (0..32).map(|i| (i, i * i)).collect();
    let keys: Vec<u32> = map.keys().copied().collect();
    println!("order {keys:?}");
}
