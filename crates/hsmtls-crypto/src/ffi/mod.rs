//! The only place where hsmtls-crypto calls C directly.
//!
//! aws-lc-rs covers everything except the brainpool curves (RFC 5639) and
//! ECDSA hash/curve combinations it has no constant for (P-256 with
//! SHA-512, …). Both go through AWS-LC's EC API here.

pub(crate) mod ec;
