//! The one seam of hsmtls: the [`KeyStore`] trait and its opaque handles.
//!
//! The protocol engine (`hsmtls`) never holds a secret byte. It asks a key
//! store for operations named after the RFCs — generate a key share, derive
//! the TLS 1.2 master secret (RFC 5246 §8.1, RFC 7627 §4), compute Finished
//! `verify_data` (RFC 5246 §7.4.9), build the record protection for a
//! direction (RFC 5246 §6.2.3) — and gets back either handles or public
//! bytes. Every operation maps onto one PKCS#11 call, so a token can carry it
//! without anything secret leaving the token (see `docs/ARCHITECTURE.md`).
//!
//! Handles ([`Secret`], [`KeyShare`], [`PrivateKey`], [`TicketKey`]) are not
//! `Clone`; their `Debug` shows an id and a usage, never a value; dropping one
//! destroys the object in its store.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod algorithms;
mod error;
mod forward;
mod handle;
mod hash;
mod record;
mod store;
pub mod trace;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use algorithms::{
    AeadAlgorithm, HashAlgorithm, KeyExchangeGroup, PublicKeyAlgorithm, RandomLevel, RecordCipher,
    SignatureAlgorithm,
};
pub use error::KeyError;
pub use handle::{KeyObject, KeyShare, PrivateKey, Secret, SecretUsage, TicketKey};
pub use hash::{Digest, Hasher};
pub use record::{RecordProtector, Tls12TrafficKeys};
pub use store::{
    tls13_next_secret_in_steps, tls13_traffic_secret_in_steps, Capabilities, FinishedLabel,
    KeyStore, MasterSecretSeed, OperationKind, PublicKey,
};
