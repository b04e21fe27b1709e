//! HMAC-SHA-256 / HMAC-SHA-384 (RFC 2104) on AWS-LC's plain SHA-2 state
//! structs, for the TLS 1.2 PRF.
//!
//! # Why the C API
//!
//! The PRF runs a handful of HMACs over short inputs, several times per
//! handshake and side. Through aws-lc-rs each HMAC copies a whole
//! `HMAC_CTX` (three digest contexts) and finishes through `EVP_MD`
//! indirection; here the keyed inner and outer states are two small
//! `SHA256_CTX`/`SHA512_CTX` values that are copied by value, so an HMAC
//! costs its compression-function calls and little else.
//!
//! # Safety
//!
//! The contexts are plain C structs owned by Rust values (no pointers
//! inside, `Copy` in the bindings); every call passes pointers to them and
//! to live Rust slices of the stated lengths, and AWS-LC keeps none of
//! them. Keyed states are zeroized when dropped.
#![allow(unsafe_code)]

use aws_lc_sys as sys;
use zeroize::Zeroize;

use crate::hash::HashAlg;

/// A SHA-256, SHA-384 or SHA-512 state.
#[derive(Clone, Copy)]
enum State {
    Sha256(sys::SHA256_CTX),
    Sha384(sys::SHA512_CTX),
    Sha512(sys::SHA512_CTX),
}

impl State {
    fn new(alg: HashAlg) -> Self {
        match alg {
            HashAlg::Sha256 => {
                // SAFETY: an all-zero SHA256_CTX is a valid value of the
                // plain C struct; SHA256_Init then initialises it.
                let mut ctx: sys::SHA256_CTX = unsafe { core::mem::zeroed() };
                // SAFETY: `ctx` is a live, exclusively borrowed SHA256_CTX.
                unsafe { sys::SHA256_Init(&mut ctx) };
                Self::Sha256(ctx)
            }
            HashAlg::Sha384 => {
                // SAFETY: as above, for SHA512_CTX.
                let mut ctx: sys::SHA512_CTX = unsafe { core::mem::zeroed() };
                // SAFETY: `ctx` is a live, exclusively borrowed SHA512_CTX.
                unsafe { sys::SHA384_Init(&mut ctx) };
                Self::Sha384(ctx)
            }
            HashAlg::Sha512 => {
                // SAFETY: as above, for SHA512_CTX.
                let mut ctx: sys::SHA512_CTX = unsafe { core::mem::zeroed() };
                // SAFETY: `ctx` is a live, exclusively borrowed SHA512_CTX.
                unsafe { sys::SHA512_Init(&mut ctx) };
                Self::Sha512(ctx)
            }
        }
    }

    fn update(&mut self, data: &[u8]) {
        // SAFETY: the context is live and exclusively borrowed; `data` is
        // valid for `data.len()` bytes.
        match self {
            Self::Sha256(ctx) => unsafe {
                sys::SHA256_Update(ctx, data.as_ptr().cast(), data.len());
            },
            Self::Sha384(ctx) => unsafe {
                sys::SHA384_Update(ctx, data.as_ptr().cast(), data.len());
            },
            Self::Sha512(ctx) => unsafe {
                sys::SHA512_Update(ctx, data.as_ptr().cast(), data.len());
            },
        }
    }

    /// Finishes into `out[..output_len]`, returns the length.
    fn finish(mut self, out: &mut [u8; 64]) -> usize {
        // SAFETY: the context is live; `out` has room for 64 bytes, the
        // longest digest.
        let n = match &mut self {
            Self::Sha256(ctx) => {
                unsafe { sys::SHA256_Final(out.as_mut_ptr(), ctx) };
                32
            }
            Self::Sha384(ctx) => {
                unsafe { sys::SHA384_Final(out.as_mut_ptr(), ctx) };
                48
            }
            Self::Sha512(ctx) => {
                unsafe { sys::SHA512_Final(out.as_mut_ptr(), ctx) };
                64
            }
        };
        self.wipe();
        n
    }

    /// Overwrites the context with zeros (a valid, if unusable, value of
    /// the plain C struct), at memset speed: the PRF wipes several states
    /// per call, and byte-wise volatile stores cost more than the hashing.
    fn wipe(&mut self) {
        let (ptr, len) = match self {
            Self::Sha256(ctx) => (
                core::ptr::from_mut(ctx).cast::<core::ffi::c_void>(),
                core::mem::size_of::<sys::SHA256_CTX>(),
            ),
            Self::Sha384(ctx) | Self::Sha512(ctx) => (
                core::ptr::from_mut(ctx).cast::<core::ffi::c_void>(),
                core::mem::size_of::<sys::SHA512_CTX>(),
            ),
        };
        // SAFETY: `ptr` points to the exclusively borrowed context, `len`
        // is its size; all-zero bytes are a valid value of these plain C
        // structs (integers and byte arrays only).
        unsafe { sys::OPENSSL_cleanse(ptr, len) };
    }
}

/// An HMAC key as its two keyed states (after `K ^ ipad` and `K ^ opad`).
pub(crate) struct HmacPads {
    inner: State,
    outer: State,
}

impl Drop for HmacPads {
    fn drop(&mut self) {
        self.inner.wipe();
        self.outer.wipe();
    }
}

impl HmacPads {
    /// Keys HMAC over `alg`.
    pub(crate) fn new(alg: HashAlg, key: &[u8]) -> Self {
        let block = alg.block_len();
        let mut pad = [0u8; 128];
        if key.len() > block {
            // RFC 2104 §2: longer keys are hashed first.
            let mut h = State::new(alg);
            h.update(key);
            let mut digest = [0u8; 64];
            let n = h.finish(&mut digest);
            pad[..n].copy_from_slice(&digest[..n]);
            digest.zeroize();
        } else {
            pad[..key.len()].copy_from_slice(key);
        }
        let mut inner = State::new(alg);
        let mut outer = State::new(alg);
        for b in &mut pad[..block] {
            *b ^= 0x36;
        }
        inner.update(&pad[..block]);
        for b in &mut pad[..block] {
            *b ^= 0x36 ^ 0x5c;
        }
        outer.update(&pad[..block]);
        pad.zeroize();
        Self { inner, outer }
    }

    /// `HMAC(key, parts[0] || parts[1] || ...)` into `out`; returns the
    /// length of the tag.
    pub(crate) fn mac(&self, parts: &[&[u8]], out: &mut [u8; 64]) -> usize {
        let mut stream = self.start();
        for part in parts {
            stream.update(part);
        }
        stream.finish(out)
    }

    /// A streaming MAC: copies of the two keyed states.
    pub(crate) fn start(&self) -> HmacStream {
        HmacStream {
            inner: self.inner,
            outer: self.outer,
        }
    }
}

/// A MAC in progress (the keyed states, wiped when dropped).
pub(crate) struct HmacStream {
    inner: State,
    outer: State,
}

impl Drop for HmacStream {
    fn drop(&mut self) {
        self.inner.wipe();
        self.outer.wipe();
    }
}

impl HmacStream {
    /// Absorbs `data`.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The tag into `out`; returns its length.
    pub(crate) fn finish(&mut self, out: &mut [u8; 64]) -> usize {
        let n = self.inner.finish(out);
        let mut outer = self.outer;
        outer.update(&out[..n]);
        outer.finish(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::HmacKey;

    #[test]
    fn matches_aws_lc_rs_hmac() {
        for alg in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            for key_len in [0usize, 1, 20, 48, 64, 65, 127, 128, 129, 200] {
                let key: Vec<u8> = (0..key_len).map(|i| i as u8 ^ 0xa5).collect();
                let pads = HmacPads::new(alg, &key);
                let reference = HmacKey::new(alg, &key);
                for msg_len in [0usize, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 300] {
                    let msg: Vec<u8> = (0..msg_len).map(|i| (i * 7) as u8).collect();
                    let (a, b) = msg.split_at(msg_len / 3);
                    let mut out = [0u8; 64];
                    let n = pads.mac(&[a, b], &mut out);
                    assert_eq!(
                        &out[..n],
                        &reference.sign(&[&msg])[..],
                        "{alg:?} {key_len} {msg_len}"
                    );
                }
            }
        }
    }
}
