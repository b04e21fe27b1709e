//! The objects behind the PKCS#11 store's handles. A [`TokenObject`] owns
//! one token object and destroys it (`C_DestroyObject`) when dropped;
//! `Debug` shows the object handle and what it is for, never a value.

use core::any::Any;
use core::fmt;
use std::sync::Arc;

use hsmtls_keys::{KeyExchangeGroup, KeyObject, PublicKeyAlgorithm, SecretUsage};
use zeroize::Zeroizing;

use crate::ffi::CK_OBJECT_HANDLE;
use crate::Token;

/// What a token object is, for `Debug`, the live-object list and audits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// The private half of an ephemeral key share.
    KeyShare,
    /// A TLS 1.2 pre-master secret.
    PreMaster,
    /// A TLS 1.2 master secret.
    Master,
    /// A write key (AES / ChaCha20) from the key block.
    TrafficKey,
    /// A MAC key from the key block.
    MacKey,
    /// A session-ticket key.
    TicketKey,
    /// A long-term private key the store imported or generated.
    PrivateKey,
    /// A peer's public key, imported for one verification.
    PublicKey,
    /// A TLS 1.3 secret of the key schedule (RFC 8446 §7.1): early,
    /// handshake, master, traffic, resumption secrets, PSKs.
    Tls13Secret,
    /// A TLS 1.3 finished key (RFC 8446 §4.4.4), for one `C_Sign`.
    FinishedKey,
    /// Public key-schedule input: the `Hash.length` zero bytes of RFC
    /// 8446 §7.1 as an HKDF key object.
    ZeroKey,
}

impl ObjectKind {
    /// Whether objects of this kind hold a secret.
    pub fn is_secret(self) -> bool {
        !matches!(self, Self::PublicKey | Self::ZeroKey)
    }
}

/// One object in the token. Destroyed on drop if the store created it.
pub(crate) struct TokenObject {
    pub(crate) token: Arc<Token>,
    pub(crate) handle: CK_OBJECT_HANDLE,
    pub(crate) kind: ObjectKind,
    pub(crate) owned: bool,
}

impl TokenObject {
    /// Takes ownership of a freshly created object.
    pub(crate) fn new(token: &Arc<Token>, handle: CK_OBJECT_HANDLE, kind: ObjectKind) -> Self {
        token.track(handle, kind);
        Self {
            token: token.clone(),
            handle,
            kind,
            owned: true,
        }
    }

    /// Refers to an object the store did not create (a long-term key).
    pub(crate) fn borrowed(token: &Arc<Token>, handle: CK_OBJECT_HANDLE, kind: ObjectKind) -> Self {
        Self {
            token: token.clone(),
            handle,
            kind,
            owned: false,
        }
    }
}

impl Drop for TokenObject {
    fn drop(&mut self) {
        if self.owned {
            // A failure here (token gone, session closed) has nowhere
            // useful to go: the object dies with the session at the latest.
            self.token.destroy(self.handle);
        }
    }
}

impl fmt::Debug for TokenObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {:?}", self.handle, self.kind)
    }
}

macro_rules! object {
    ($name:ident) => {
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
    };
}

/// Where a secret's value is.
pub(crate) enum SecretValue {
    /// In the token, as a secret-key object.
    Token(TokenObject),
    /// In this process, under [`Relaxation::SoftwarePrf`](crate::Relaxation::SoftwarePrf).
    Software(Zeroizing<Vec<u8>>),
}

/// A derived secret (pre-master, master).
pub(crate) struct SecretObject {
    pub(crate) id: u64,
    pub(crate) store: u64,
    pub(crate) usage: SecretUsage,
    pub(crate) value: SecretValue,
}
object!(SecretObject);

impl fmt::Debug for SecretObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            SecretValue::Token(o) => write!(f, "pkcs11:secret{o:?}"),
            SecretValue::Software(_) => write!(f, "pkcs11:software-secret({:?})", self.usage),
        }
    }
}

/// The private half of an ephemeral key share.
pub(crate) struct ShareObject {
    pub(crate) id: u64,
    pub(crate) store: u64,
    pub(crate) group: KeyExchangeGroup,
    pub(crate) key: TokenObject,
}
object!(ShareObject);

impl fmt::Debug for ShareObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkcs11:share{:?}", self.key)
    }
}

/// A long-term private key.
pub(crate) struct PrivateKeyObject {
    pub(crate) id: u64,
    pub(crate) store: u64,
    pub(crate) algorithm: PublicKeyAlgorithm,
    pub(crate) key: TokenObject,
    /// The public key in the [`hsmtls_keys::PublicKey`] form, when known.
    pub(crate) public: Option<Vec<u8>>,
}
object!(PrivateKeyObject);

impl fmt::Debug for PrivateKeyObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkcs11:private-key{:?}", self.key)
    }
}

/// A session-ticket key: a public name and an AES-256 key in the token.
pub(crate) struct TicketKeyObject {
    pub(crate) id: u64,
    pub(crate) store: u64,
    pub(crate) name: [u8; 16],
    pub(crate) key: TokenObject,
}
object!(TicketKeyObject);

impl fmt::Debug for TicketKeyObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkcs11:ticket-key{:?}", self.key)
    }
}
