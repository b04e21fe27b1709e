//! The raw ChaCha20 keystream (RFC 8439 §2.4) from AWS-LC, for the
//! library's random generator; aws-lc-rs exposes ChaCha20 only inside the
//! AEAD.
//!
//! # Safety
//!
//! `CRYPTO_chacha_20` reads `len` bytes from `in` and writes `len` bytes
//! to `out` (which may be the same buffer), reads a 32-byte key and a
//! 12-byte nonce, and keeps no pointer. Every call passes slices of
//! exactly those lengths.
#![allow(unsafe_code)]

use aws_lc_sys as sys;

/// XORs `buf` in place with the ChaCha20 keystream of `key` and `nonce`
/// starting at block `counter`.
pub(crate) fn xor_keystream(key: &[u8; 32], nonce: &[u8; 12], counter: u32, buf: &mut [u8]) {
    if buf.is_empty() {
        return;
    }
    let ptr = buf.as_mut_ptr();
    // SAFETY: `buf` is a live, exclusively borrowed slice used as both
    // input and output (allowed: in-place), `key` and `nonce` are arrays
    // of the lengths AWS-LC reads (module doc).
    unsafe { sys::CRYPTO_chacha_20(ptr, ptr, buf.len(), key.as_ptr(), nonce.as_ptr(), counter) };
}
