//! Opaque handles to objects that live inside a key store.
//!
//! A handle wraps a store-owned [`KeyObject`]. The protocol engine can move
//! it, lend it back to the store that made it, and drop it — nothing else.
//! Dropping the handle drops the object, which destroys it in the store
//! (zeroizes it in software, `C_DestroyObject` in a token).

use core::any::Any;
use core::fmt;

use crate::algorithms::{KeyExchangeGroup, PublicKeyAlgorithm};

/// What a secret handle is for; shown in `Debug` and checked by stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecretUsage {
    /// A TLS 1.2 pre-master secret (RFC 5246 §8.1), e.g. an ECDH Z value.
    PreMaster,
    /// A TLS 1.2 master secret (RFC 5246 §8.1, RFC 7627 §4).
    Master,
    /// A TLS 1.3 secret of the key schedule (RFC 8446 §7.1).
    Tls13,
    /// A TLS 1.3 finished key (RFC 8446 §4.4.4).
    FinishedKey,
    /// A generic secret (HKDF input, exporter master …).
    Generic,
}

/// An object held by a key store. Implemented by each store for its own
/// object type; the store recognises its objects by downcasting.
///
/// `Debug` must print an identifier and a usage, never a value.
pub trait KeyObject: Any + Send + Sync + fmt::Debug {
    /// A store-unique identifier, for logs and traces.
    fn id(&self) -> u64;

    /// The object, for the store that made it to downcast.
    fn as_any(&self) -> &dyn Any;

    /// The object by value, for operations that consume it.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

macro_rules! handle {
    ($(#[$meta:meta])* $name:ident, $what:literal, $meta_name:ident: $meta_ty:ty) => {
        $(#[$meta])*
        pub struct $name {
            object: Box<dyn KeyObject>,
            $meta_name: $meta_ty,
        }

        impl $name {
            /// Wraps a store's object. Called by key stores only.
            pub fn new(object: Box<dyn KeyObject>, $meta_name: $meta_ty) -> Self {
                Self { object, $meta_name }
            }

            /// The public fact this handle carries.
            pub fn $meta_name(&self) -> $meta_ty {
                self.$meta_name
            }

            /// The store's object. Called by key stores only.
            pub fn object(&self) -> &dyn KeyObject {
                &*self.object
            }

            /// The store's object by value. Called by key stores only.
            pub fn into_object(self) -> Box<dyn KeyObject> {
                self.object
            }

            /// Downcasts to the store's own type, or fails with
            /// [`KeyError::WrongHandle`](crate::KeyError::WrongHandle).
            pub fn downcast<T: 'static>(&self) -> Result<&T, crate::KeyError> {
                self.object
                    .as_any()
                    .downcast_ref::<T>()
                    .ok_or(crate::KeyError::WrongHandle($what))
            }

            /// Consumes the handle and downcasts to the store's own type.
            pub fn downcast_into<T: 'static>(self) -> Result<Box<T>, crate::KeyError> {
                self.object
                    .into_any()
                    .downcast::<T>()
                    .map_err(|_| crate::KeyError::WrongHandle($what))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($what, "({:?}, {:?})"), self.$meta_name, self.object)
            }
        }
    };
}

handle!(
    /// A secret derived during a handshake: pre-master, master, TLS 1.3
    /// stage secrets. A derived secret lives in the store of its parent.
    Secret,
    "Secret",
    usage: SecretUsage
);

handle!(
    /// The private half of an ephemeral (EC)DH key share, consumed by
    /// [`KeyStore::complete_key_exchange`](crate::KeyStore::complete_key_exchange).
    KeyShare,
    "KeyShare",
    group: KeyExchangeGroup
);

handle!(
    /// A long-term private key (a certificate's key), shared by connections.
    PrivateKey,
    "PrivateKey",
    algorithm: PublicKeyAlgorithm
);

handle!(
    /// A key that seals and opens session tickets (RFC 5077).
    TicketKey,
    "TicketKey",
    id: u64
);
