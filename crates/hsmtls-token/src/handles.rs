//! Maps keyed by object and session handles. The token hands out handles
//! from a counter, so a caller cannot choose keys that collide; the
//! default SipHash (built against keys an attacker picks) costs more than
//! the rest of a lookup, which every PKCS#11 call makes. One
//! multiplication (Fibonacci hashing) spreads counter values over the
//! table.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hash map keyed by a handle.
pub type HandleMap<K, V> = HashMap<K, V, BuildHasherDefault<HandleHasher>>;

/// The hasher of [`HandleMap`]: integer keys only.
#[derive(Default)]
pub struct HandleHasher(u64);

impl Hasher for HandleHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached for integer keys; correct (if slow) for any other.
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_handles_spread_and_look_up() {
        let mut m: HandleMap<u64, u64> = HandleMap::default();
        for h in 1..=10_000u64 {
            m.insert(h, h * 2);
        }
        assert!((1..=10_000u64).all(|h| m.get(&h) == Some(&(h * 2))));
        assert_eq!(m.remove(&5), Some(10));
        assert!(!m.contains_key(&5) && m.len() == 9_999);
        let hash = |v: u64| {
            let mut h = HandleHasher::default();
            h.write_u64(v);
            h.finish()
        };
        // Consecutive handles land in different top bits (hashbrown uses
        // the top seven for its control bytes).
        let tops: std::collections::HashSet<u64> = (1..=64).map(|v| hash(v) >> 57).collect();
        assert!(tops.len() > 32, "{}", tops.len());
    }
}
