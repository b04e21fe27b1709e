//! Handshake hooks: the application observes every handshake message as it
//! is sent or received, may veto it, may supply the hello randoms — as
//! GnuTLS's `gnutls_handshake_set_hook_function` and its random override —
//! may add extensions to a TLS 1.3 server's EncryptedExtensions and may
//! choose the cookie of its HelloRetryRequest.

use core::fmt;

use crate::conn::Side;
use crate::msgs::enums::{AlertDescription, ExtensionType, HandshakeType};

/// Which way a handshake message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// About to be sent (already in the transcript).
    Sent,
    /// Received and decoded, before the state machine acts on it.
    Received,
}

/// An application's refusal of a handshake message: the handshake ends
/// with `alert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookVeto {
    /// The alert sent to the peer.
    pub alert: AlertDescription,
    /// Why, for the local error.
    pub reason: String,
}

/// Observes the handshake. Every method has a default that does nothing.
///
/// ```
/// use hsmtls::hooks::{Direction, HandshakeHook, HookVeto};
/// use hsmtls::msgs::enums::HandshakeType;
/// use hsmtls::Side;
///
/// #[derive(Debug)]
/// struct Log;
/// impl HandshakeHook for Log {
///     fn on_message(&self, side: Side, dir: Direction, typ: HandshakeType, msg: &[u8]) -> Result<(), HookVeto> {
///         println!("{side:?} {dir:?} {} ({} bytes)", typ.as_str(), msg.len());
///         Ok(())
///     }
/// }
/// ```
pub trait HandshakeHook: Send + Sync + fmt::Debug {
    /// Sees one whole handshake message (4-byte header included). An error
    /// ends the handshake with the veto's alert.
    fn on_message(
        &self,
        side: Side,
        direction: Direction,
        typ: HandshakeType,
        message: &[u8],
    ) -> Result<(), HookVeto> {
        let _ = (side, direction, typ, message);
        Ok(())
    }

    /// The `random` of this side's hello, instead of one from the key store
    /// (known-answer tests; an application that draws randoms elsewhere).
    fn hello_random(&self, side: Side) -> Option<[u8; 32]> {
        let _ = side;
        None
    }

    /// Extensions (type, body) a TLS 1.3 server puts in its
    /// EncryptedExtensions, before the ones the engine sends itself
    /// (`application_layer_protocol_negotiation`, `server_name`). The engine
    /// does not interpret them: what they promise (e.g. RFC 8449's
    /// `record_size_limit`) is the application's to keep, and an extension
    /// the client did not offer must not be added (RFC 8446 §4.2). A type
    /// given twice, or one the engine or a registered
    /// [`HelloExtension`](crate::extensions::HelloExtension) also sends,
    /// ends the handshake (`Error::InvalidState`); an application's own
    /// extension is better registered, which checks the offer for it. Used
    /// by known-answer tests (RFC 8448's EncryptedExtensions carry
    /// `supported_groups` and `record_size_limit`).
    fn encrypted_extensions(&self) -> Vec<(ExtensionType, Vec<u8>)> {
        Vec::new()
    }

    /// The cookie a TLS 1.3 server puts in a HelloRetryRequest (RFC 8446
    /// §4.2.2), instead of the 32 random octets of
    /// `ServerConfigBuilder::hello_retry_cookie`; `Some` sends a cookie
    /// even when that option is off. The server still keeps the cookie and
    /// requires the second ClientHello to echo it exactly (this is a
    /// stateful retry: the cookie's content is the application's, e.g. an
    /// address-validation token, not the server's state). 1 to
    /// [`MAX_RETRY_COOKIE_LEN`] octets; any other length ends the handshake
    /// (`Error::InvalidState`). Used by known-answer tests (RFC 8448 §5's
    /// retry carries its server's own 114-octet cookie).
    fn hello_retry_cookie(&self) -> Option<Vec<u8>> {
        None
    }
}

/// The longest cookie [`HandshakeHook::hello_retry_cookie`] may give: what
/// fits the HelloRetryRequest's extension block (2^16 - 1 octets) beside
/// its key_share and supported_versions.
pub const MAX_RETRY_COOKIE_LEN: usize = 65_535 - 64;
