//! Record protection for one direction of a connection (RFC 5246 §6.2.3).
//!
//! The traffic keys never leave the store: the engine gets an object that
//! seals and opens fragments. The engine owns sequence numbers and record
//! framing; the protector owns nonces, MACs, padding and IVs.

use core::fmt;
use core::ops::Range;

use crate::error::KeyError;

/// Seals and opens TLS records for one direction of a connection.
///
/// The same object serves the writer of that direction (`seal`) and the
/// reader of it (`open`): a client seals with `client_write` and a server
/// opens with its own `client_write`.
pub trait RecordProtector: Send + fmt::Debug {
    /// Encrypts and authenticates `plaintext` as the fragment of a record
    /// with sequence number `seq`, content type `content_type` and
    /// `version`, appending the protected fragment to `out`.
    fn seal(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), KeyError>;

    /// Authenticates and decrypts the fragment `fragment` in place and
    /// returns the range of the plaintext within it. Every failure is
    /// [`KeyError::BadRecordMac`], found in time independent of where the
    /// record was wrong (RFC 5246 §6.2.3.2, "Lucky Thirteen").
    fn open(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, KeyError>;

    /// The most bytes `seal` adds to a plaintext of `len` bytes.
    fn max_overhead(&self) -> usize;
}

/// The two directions of TLS 1.2 record protection, from one key block
/// (RFC 5246 §6.3).
#[derive(Debug)]
pub struct Tls12TrafficKeys {
    /// Protects records the client writes.
    pub client_write: Box<dyn RecordProtector>,
    /// Protects records the server writes.
    pub server_write: Box<dyn RecordProtector>,
}
