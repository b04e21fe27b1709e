//! Hello extensions an application adds (as GnuTLS's
//! `gnutls_session_ext_register`): a [`HelloExtension`] registered on a
//! client offers a body in the ClientHello and sees the server's answer; one
//! registered on a server sees the client's offer and may answer it.
//!
//! RFC 8446 §4.2: "Implementations MUST ignore unrecognized extensions", so
//! a peer that does not know the type completes the handshake without it.
//! RFC 5246 §7.4.1.4 and RFC 8446 §4.2 forbid answering an extension the
//! client did not offer: a server's answer to an absent offer is dropped,
//! and a client accepts an answer only to a type it offered.
//!
//! Where the bytes travel:
//!
//! | | TLS 1.2 | TLS 1.3 |
//! |---|---|---|
//! | offer | ClientHello, before the TLS 1.3 extensions (RFC 8446 §4.2.11: `pre_shared_key` stays last) | the same ClientHello (and the second one after a HelloRetryRequest) |
//! | answer | ServerHello (RFC 5246 §7.4.1.4), on resumption too | EncryptedExtensions (RFC 8446 §4.3.1) |
//!
//! What the peer sent of each registered type is in
//! [`Negotiated::peer_extensions`](crate::Negotiated::peer_extensions): on
//! the server the client's offers, on the client the server's answers.
//!
//! A type the engine implements itself ([`BUILT_IN`]) or one registered
//! twice makes `build()` fail with [`Error::Config`].
//!
//! ```
//! use std::sync::Arc;
//! use hsmtls::extensions::HelloExtension;
//! use hsmtls::hooks::HookVeto;
//! use hsmtls::msgs::enums::{AlertDescription, ExtensionType};
//!
//! /// A private-use extension (RFC 8446 §4.2: 0xfd00 and up are not
//! /// assigned) that carries a tenant name to the server and back.
//! #[derive(Debug)]
//! struct Tenant(&'static [u8]);
//!
//! impl HelloExtension for Tenant {
//!     fn extension_type(&self) -> ExtensionType {
//!         ExtensionType::Unknown(0xfd00)
//!     }
//!     fn client_offer(&self) -> Option<Vec<u8>> {
//!         Some(self.0.to_vec())
//!     }
//!     fn server_answer(&self, offer: Option<&[u8]>) -> Result<Option<Vec<u8>>, HookVeto> {
//!         match offer {
//!             Some(name) if name == self.0 => Ok(Some(name.to_vec())),
//!             Some(_) => Err(HookVeto {
//!                 alert: AlertDescription::AccessDenied,
//!                 reason: "unknown tenant".into(),
//!             }),
//!             None => Ok(None),
//!         }
//!     }
//! }
//!
//! # fn demo(store: Arc<dyn hsmtls_keys::KeyStore>, ca: Vec<u8>) -> Result<(), hsmtls::Error> {
//! let config = hsmtls::ClientConfig::builder(store)
//!     .root_certificates(vec![ca])
//!     .hello_extension(Arc::new(Tenant(b"acme")))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! Not yet as DESIGN.md draws the registry: the built-in extensions do not
//! go through this trait, an extension cannot say which other messages
//! (Certificate, CertificateRequest, NewSessionTicket) it may appear in,
//! and nothing is packed into a session for resumption.

use core::fmt;
use std::sync::Arc;

use crate::conn::Negotiated;
use crate::error::Error;
use crate::hooks::HookVeto;
use crate::msgs::enums::ExtensionType;
use crate::msgs::ext::Extensions;

/// A hello extension an application handles (RFC 8446 §4.2: unknown types
/// are ignored by peers that don't implement them).
///
/// Every method but [`extension_type`](Self::extension_type) has a default
/// that neither offers nor answers.
pub trait HelloExtension: Send + Sync + fmt::Debug {
    /// The extension's type; not one of [`BUILT_IN`].
    fn extension_type(&self) -> ExtensionType;

    /// Client: the body to offer in the ClientHello; `None`: not offered.
    fn client_offer(&self) -> Option<Vec<u8>> {
        None
    }

    /// Client: the server's answer (ServerHello in TLS 1.2,
    /// EncryptedExtensions in TLS 1.3); `None` if it did not answer. Called
    /// only when [`client_offer`](Self::client_offer) offered something.
    /// An error ends the handshake with its alert.
    fn client_answer(&self, answer: Option<&[u8]>) -> Result<(), HookVeto> {
        let _ = answer;
        Ok(())
    }

    /// Server: the client's offer (`None` if absent) → the body of the
    /// answer, `None` for no answer. An answer to an absent offer is
    /// dropped (RFC 5246 §7.4.1.4, RFC 8446 §4.2: a server sends only
    /// extensions the client offered). An error ends the handshake with
    /// its alert.
    fn server_answer(&self, offer: Option<&[u8]>) -> Result<Option<Vec<u8>>, HookVeto> {
        let _ = offer;
        Ok(None)
    }
}

/// The extension types hsmtls implements itself, which an application
/// cannot register.
pub const BUILT_IN: &[ExtensionType] = &[
    ExtensionType::ServerName,
    ExtensionType::SupportedGroups,
    ExtensionType::EcPointFormats,
    ExtensionType::SignatureAlgorithms,
    ExtensionType::ApplicationLayerProtocolNegotiation,
    ExtensionType::EncryptThenMac,
    ExtensionType::ExtendedMasterSecret,
    ExtensionType::RecordSizeLimit,
    ExtensionType::SessionTicket,
    ExtensionType::PreSharedKey,
    ExtensionType::EarlyData,
    ExtensionType::SupportedVersions,
    ExtensionType::Cookie,
    ExtensionType::PskKeyExchangeModes,
    ExtensionType::KeyShare,
    ExtensionType::RenegotiationInfo,
];

/// The registered extensions of a configuration.
pub(crate) type Registered = Vec<Arc<dyn HelloExtension>>;

/// Refuses a built-in type and a type registered twice.
pub(crate) fn check_registered(registered: &[Arc<dyn HelloExtension>]) -> Result<(), Error> {
    for (i, ext) in registered.iter().enumerate() {
        let typ = ext.extension_type();
        if BUILT_IN.contains(&typ) {
            return Err(Error::Config(format!(
                "extension {typ} is implemented by hsmtls and cannot be registered"
            )));
        }
        if registered[..i].iter().any(|e| e.extension_type() == typ) {
            return Err(Error::Config(format!("extension {typ} registered twice")));
        }
    }
    Ok(())
}

/// Client: pushes the offered bodies into the ClientHello's extensions and
/// returns the extensions that offered.
pub(crate) fn client_offers(
    registered: &[Arc<dyn HelloExtension>],
    extensions: &mut Extensions,
) -> Registered {
    let mut offered = Vec::new();
    for ext in registered {
        if let Some(body) = ext.client_offer() {
            extensions.push(ext.extension_type(), body);
            offered.push(ext.clone());
        }
    }
    offered
}

/// Client: whether the server may answer `typ` because a registered
/// extension offered it.
pub(crate) fn was_offered(offered: &[Arc<dyn HelloExtension>], typ: ExtensionType) -> bool {
    offered.iter().any(|e| e.extension_type() == typ)
}

/// Client: hands each offering extension the server's answer (or its
/// absence) from `received`, and records the answers.
pub(crate) fn client_answers(
    offered: &[Arc<dyn HelloExtension>],
    received: &Extensions,
    info: &mut Negotiated,
) -> Result<(), Error> {
    for ext in offered {
        let typ = ext.extension_type();
        let answer = received.find(typ);
        ext.client_answer(answer).map_err(Error::Vetoed)?;
        if let Some(body) = answer {
            info.peer_extensions.push((typ, body.to_vec()));
        }
    }
    Ok(())
}

/// Server: asks each registered extension for its answer to the client's
/// offer, records the offers, and returns the answers to send. An answer
/// to an absent offer is dropped.
pub(crate) fn server_answers(
    registered: &[Arc<dyn HelloExtension>],
    client_hello: &Extensions,
    info: &mut Negotiated,
) -> Result<Extensions, Error> {
    let mut answers = Extensions::new();
    for ext in registered {
        let typ = ext.extension_type();
        let offer = client_hello.find(typ);
        let answer = ext.server_answer(offer).map_err(Error::Vetoed)?;
        if let Some(body) = offer {
            info.peer_extensions.push((typ, body.to_vec()));
            if let Some(answer) = answer {
                answers.push(typ, answer);
            }
        }
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Toy(ExtensionType, Option<Vec<u8>>);

    impl HelloExtension for Toy {
        fn extension_type(&self) -> ExtensionType {
            self.0
        }
        fn client_offer(&self) -> Option<Vec<u8>> {
            self.1.clone()
        }
        fn server_answer(&self, _offer: Option<&[u8]>) -> Result<Option<Vec<u8>>, HookVeto> {
            Ok(Some(vec![9]))
        }
    }

    fn toy(typ: u16, offer: Option<&[u8]>) -> Arc<dyn HelloExtension> {
        Arc::new(Toy(ExtensionType::from(typ), offer.map(<[u8]>::to_vec)))
    }

    #[test]
    fn built_in_and_duplicate_types_are_refused() {
        assert!(check_registered(&[toy(0xfd00, None), toy(0xfd01, None)]).is_ok());
        for typ in BUILT_IN {
            assert!(matches!(
                check_registered(&[toy(typ.to_u16(), None)]),
                Err(Error::Config(_))
            ));
        }
        assert!(matches!(
            check_registered(&[toy(0xfd00, None), toy(0xfd00, Some(b"x"))]),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn only_offers_are_pushed_and_only_offers_answered() {
        let registered = vec![toy(0xfd00, Some(b"a")), toy(0xfd01, None)];
        let mut hello = Extensions::new();
        let offered = client_offers(&registered, &mut hello);
        assert_eq!(offered.len(), 1);
        assert!(was_offered(&offered, ExtensionType::from(0xfd00)));
        assert!(!was_offered(&offered, ExtensionType::from(0xfd01)));
        assert_eq!(hello.find(ExtensionType::from(0xfd00)), Some(&b"a"[..]));
        assert!(!hello.contains(ExtensionType::from(0xfd01)));

        // Both answer Some, but only the offered type is sent.
        let mut info = Negotiated::default();
        let answers = server_answers(&registered, &hello, &mut info).unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(answers.find(ExtensionType::from(0xfd00)), Some(&[9u8][..]));
        assert_eq!(
            info.peer_extensions,
            [(ExtensionType::from(0xfd00), b"a".to_vec())]
        );

        let mut info = Negotiated::default();
        client_answers(&offered, &answers, &mut info).unwrap();
        assert_eq!(
            info.peer_extensions,
            [(ExtensionType::from(0xfd00), vec![9])]
        );
    }
}
