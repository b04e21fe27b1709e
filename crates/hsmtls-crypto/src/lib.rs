//! Cryptographic primitives for hsmtls, on aws-lc-rs.
//!
//! This is the crate that does arithmetic on secret bytes (with the token's
//! mechanism code on top); key stores wrap it behind opaque handles.
//!
//! - [`ecdh`]: X25519, P-256/384/521 (aws-lc-rs) and brainpoolP256r1/384r1/
//!   512r1 (RFC 5639) ECDH, returning the raw shared secret.
//! - [`signing`]: private-key import (PKCS#8, SEC 1, PKCS#1; PEM or DER),
//!   ECDSA on all six Weierstrass curves with any SHA-2 hash, RSA
//!   PKCS#1 v1.5 / PSS, Ed25519; verification.
//! - [`rsa`]: RSA for the token: generation, components, PKCS#1 v1.5 /
//!   PSS over messages or digests, OAEP, and PKCS#1 v1.5 decryption with
//!   implicit rejection (AWS-LC's RSA API via `ffi::rsa`).
//! - [`prf`]: the TLS 1.2 PRF (RFC 5246 §5); [`hkdf`]: HKDF (RFC 5869) and
//!   TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1).
//! - [`hash`]: SHA-2 (a clonable running hash) and HMAC.
//! - [`aead`], [`cbc`]: AES-GCM, ChaCha20-Poly1305, raw AES-CBC.
//! - [`record13`]: TLS 1.3 record protection (RFC 8446 §5.2).
//! - [`record`]: TLS 1.2 record protection, including a MAC-then-encrypt
//!   CBC decryption that is constant time with respect to the padding.
//!
//! # Brainpool and `unsafe`
//!
//! aws-lc-rs has no brainpool curves. Rather than a second EC library (the
//! RustCrypto brainpool crates lack P-512r1), the brainpool groups are
//! built with AWS-LC's own C API (`EC_GROUP_new_curve_GFp`) from the
//! RFC 5639 parameters and run on AWS-LC's constant-time generic Montgomery
//! EC code. That, and raw RSA (`ffi::rsa`), is the only `unsafe` code,
//! confined to the private `ffi` modules.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod aead;
pub mod cbc;
mod ct;
mod curve;
mod der;
pub mod ecdh;
mod error;
#[allow(unsafe_code)]
mod ffi;
pub mod hash;
pub mod hkdf;
pub mod keywrap;
mod pem;
pub mod pkcs8;
pub mod prf;
pub mod record;
pub mod record13;
pub mod rng;
pub mod rsa;
pub mod signing;
pub mod wipe;

pub use ct::bytes_eq as constant_time_eq;
pub use curve::{ec_public_key_spki, Curve, KeyKind};
pub use error::CryptoError;
pub use hash::HashAlg;

/// Fills `out` from the library's generator at [`rng::Level::Random`].
pub fn fill_random(out: &mut [u8]) -> Result<(), CryptoError> {
    rng::fill(rng::Level::Random, out)
}

/// Fills `out` with key material from the library's generator
/// ([`rng::Level::Key`]).
pub fn fill_key(out: &mut [u8]) -> Result<(), CryptoError> {
    rng::fill(rng::Level::Key, out)
}

/// Fills `out` with a public, unpredictable value (nonce, explicit IV)
/// from the library's generator ([`rng::Level::Nonce`]).
pub fn fill_nonce(out: &mut [u8]) -> Result<(), CryptoError> {
    rng::fill(rng::Level::Nonce, out)
}

/// Decodes lowercase or uppercase hex; `None` on odd length or bad digits.
pub(crate) fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}
