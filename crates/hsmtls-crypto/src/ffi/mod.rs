//! The only place where hsmtls-crypto calls C directly.
//!
//! aws-lc-rs covers everything except the brainpool curves (RFC 5639) and
//! ECDSA hash/curve combinations it has no constant for (P-256 with
//! SHA-512, …). Both go through AWS-LC's EC API here. The TLS 1.2 PRF's
//! HMAC runs on AWS-LC's plain SHA-2 states (`sha`), which aws-lc-rs does
//! not expose. RSA operations aws-lc-rs cannot express (prehashed
//! PKCS#1 / PSS with any salt, OAEP labels, the raw private-key operation
//! for implicit rejection, import and export by components) use `rsa`.

pub(crate) mod aead;
pub(crate) mod chacha;
pub(crate) mod ec;
pub(crate) mod keywrap;
pub(crate) mod rsa;
pub(crate) mod sha;
pub(crate) mod wipe;
