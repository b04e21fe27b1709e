//! The objects behind the software store's handles. Each kind is a private
//! struct implementing [`KeyObject`]; `Debug` prints the id and the kind,
//! never a value.

use core::any::Any;
use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use hsmtls_crypto::aead::AeadKey;
use hsmtls_crypto::ecdh::EcdhPrivateKey;
use hsmtls_crypto::signing::SigningKey;
use hsmtls_keys::{KeyObject, SecretUsage};
use zeroize::Zeroizing;

static NEXT_OBJECT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh object id, unique within the process.
pub(crate) fn next_id() -> u64 {
    NEXT_OBJECT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The id of the store an object belongs to.
pub(crate) trait Owned {
    fn store(&self) -> u64;
}

macro_rules! object {
    ($name:ident, $kind:literal) => {
        impl KeyObject for $name {
            fn id(&self) -> u64 {
                self.id
            }
            fn as_any(&self) -> &dyn Any {
                self
            }
            fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
                self
            }
        }

        impl Owned for $name {
            fn store(&self) -> u64 {
                self.store
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!("soft:", $kind, "#{}"), self.id)
            }
        }
    };
}

/// A derived secret (pre-master, master, …).
pub(crate) struct SecretObject {
    pub(crate) id: u64,
    pub(crate) store: u64,
    pub(crate) usage: SecretUsage,
    pub(crate) value: Zeroizing<Vec<u8>>,
    /// The value keyed for HMAC, made on the first TLS 1.3 expansion (a
    /// schedule secret is expanded two to four times; wiped on drop).
    pub(crate) keyed: std::sync::OnceLock<hsmtls_crypto::hash::KeyedHmac>,
}
object!(SecretObject, "secret");

/// The private half of an ephemeral key share.
pub(crate) struct ShareObject {
    pub(crate) id: u64,
    pub(crate) store: u64,
    pub(crate) key: EcdhPrivateKey,
}
object!(ShareObject, "share");

/// A long-term private key.
pub(crate) struct PrivateKeyObject {
    pub(crate) id: u64,
    pub(crate) store: u64,
    pub(crate) key: SigningKey,
}
object!(PrivateKeyObject, "private-key");

/// A session-ticket key: a public name and an AES-256-GCM key.
pub(crate) struct TicketKeyObject {
    pub(crate) id: u64,
    pub(crate) store: u64,
    pub(crate) name: [u8; 16],
    pub(crate) key: AeadKey,
}
object!(TicketKeyObject, "ticket-key");
