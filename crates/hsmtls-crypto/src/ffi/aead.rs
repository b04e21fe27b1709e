//! AEAD sealing from one buffer into another on AWS-LC's
//! `EVP_AEAD_CTX_seal`: aws-lc-rs seals in place only, which costs a copy
//! of the plaintext into the output first — a fifth of a 16 KiB
//! `C_Encrypt` in the token.
//!
//! # Safety
//!
//! The `EVP_AEAD_CTX` lives in a `Box` that never moves it (AWS-LC keeps
//! the key schedule at an offset inside the struct computed from its
//! address), is initialised by `EVP_AEAD_CTX_init` before any use and
//! cleaned up once on drop. `EVP_AEAD_CTX_seal` takes the context as
//! `const`: AWS-LC documents concurrent seals on one context as safe.
//! Every call passes live, non-overlapping slices with their true lengths.
#![allow(unsafe_code)]

use aws_lc_sys as sys;

use crate::aead::{AeadAlg, NONCE_LEN, TAG_LEN};
use crate::error::CryptoError;

/// An initialised `EVP_AEAD_CTX` for sealing.
pub(crate) struct SealCtx(Box<sys::EVP_AEAD_CTX>);

// SAFETY: the context is only read after initialisation (module doc).
unsafe impl Send for SealCtx {}
// SAFETY: as above.
unsafe impl Sync for SealCtx {}

impl Drop for SealCtx {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, cleaned up exactly once; cleanup
        // wipes the key schedule.
        unsafe { sys::EVP_AEAD_CTX_cleanup(&mut *self.0) };
    }
}

impl SealCtx {
    pub(crate) fn new(alg: AeadAlg, key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::InvalidKey("AEAD key length"));
        }
        // SAFETY: the EVP_AEAD constructors return static descriptions.
        let aead = unsafe {
            match alg {
                AeadAlg::Aes128Gcm => sys::EVP_aead_aes_128_gcm(),
                AeadAlg::Aes192Gcm => sys::EVP_aead_aes_192_gcm(),
                AeadAlg::Aes256Gcm => sys::EVP_aead_aes_256_gcm(),
                AeadAlg::Chacha20Poly1305 => sys::EVP_aead_chacha20_poly1305(),
            }
        };
        // SAFETY: an all-zero EVP_AEAD_CTX is the state EVP_AEAD_CTX_init
        // expects to fill (AWS-LC's EVP_AEAD_CTX_zero does the same).
        let mut ctx: Box<sys::EVP_AEAD_CTX> = Box::new(unsafe { core::mem::zeroed() });
        // SAFETY: `ctx` is boxed (stable address), `key` is live for its
        // length; no ENGINE.
        let ok = unsafe {
            sys::EVP_AEAD_CTX_init(
                &mut *ctx,
                aead,
                key.as_ptr(),
                key.len(),
                TAG_LEN,
                core::ptr::null_mut(),
            )
        };
        if ok != 1 {
            return Err(CryptoError::InvalidKey("AEAD key"));
        }
        Ok(Self(ctx))
    }

    /// Seals `input` into `out` (at least `input.len() + TAG_LEN` bytes):
    /// ciphertext then tag; returns the bytes written.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        input: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let mut n = 0usize;
        // SAFETY: module doc; `out` is an exclusive borrow distinct from
        // `input`, and AWS-LC writes at most `out.len()` bytes.
        let ok = unsafe {
            sys::EVP_AEAD_CTX_seal(
                &*self.0,
                out.as_mut_ptr(),
                &mut n,
                out.len(),
                nonce.as_ptr(),
                nonce.len(),
                input.as_ptr(),
                input.len(),
                aad.as_ptr(),
                aad.len(),
            )
        };
        if ok != 1 || n != input.len() + TAG_LEN {
            return Err(CryptoError::Internal("AEAD seal"));
        }
        Ok(n)
    }
}
