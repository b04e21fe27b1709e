//! Hashing of public data (handshake transcripts), reached through the store
//! so the protocol crate links no hash implementation.

use core::fmt;

use crate::algorithms::HashAlgorithm;

/// A finished digest of up to 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    bytes: [u8; 64],
    len: u8,
}

impl Digest {
    /// Copies a digest value. Panics only if `value` is longer than 64
    /// bytes, which no supported hash produces.
    pub fn new(value: &[u8]) -> Self {
        assert!(value.len() <= 64, "digest longer than SHA-512");
        let mut bytes = [0u8; 64];
        bytes[..value.len()].copy_from_slice(value);
        Self {
            bytes,
            len: value.len() as u8,
        }
    }
}

impl AsRef<[u8]> for Digest {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_ref() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A running hash over public data.
pub trait Hasher: Send {
    /// The algorithm.
    fn algorithm(&self) -> HashAlgorithm;
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]);
    /// The digest of everything absorbed so far; the hasher goes on.
    fn current(&self) -> Digest;
    /// An independent copy of the running state.
    fn fork(&self) -> Box<dyn Hasher>;
}
