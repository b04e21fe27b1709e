//! Errors a key store reports. None of them carries a secret.

use core::fmt;

/// Why a key-store operation failed.
///
/// Variants a peer can cause ([`KeyError::BadRecordMac`],
/// [`KeyError::BadSignature`], [`KeyError::InvalidPeerKey`],
/// [`KeyError::BadTicket`]) are distinguished so the protocol engine can
/// send the right alert; the rest are local failures.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// A record failed authentication or had bad padding (RFC 5246 §7.2.2
    /// `bad_record_mac`). Deliberately says no more, to be no oracle.
    BadRecordMac,
    /// A signature did not verify.
    BadSignature,
    /// The peer's public key or key share is malformed or not on the curve.
    InvalidPeerKey,
    /// A session ticket could not be opened (tampered, foreign or expired key).
    BadTicket,
    /// The store does not offer this algorithm or operation.
    Unsupported(&'static str),
    /// A handle from another store, or used for the wrong purpose.
    WrongHandle(&'static str),
    /// A parameter outside what the operation accepts (lengths, sizes).
    InvalidParameter(&'static str),
    /// A key could not be imported (malformed encoding, unsupported kind).
    InvalidKey(String),
    /// The store itself failed (a token error, an exhausted RNG …).
    Store(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRecordMac => f.write_str("record authentication failed"),
            Self::BadSignature => f.write_str("signature did not verify"),
            Self::InvalidPeerKey => f.write_str("invalid peer public key"),
            Self::BadTicket => f.write_str("session ticket could not be opened"),
            Self::Unsupported(what) => write!(f, "not supported by this key store: {what}"),
            Self::WrongHandle(what) => write!(f, "handle not usable here: {what}"),
            Self::InvalidParameter(what) => write!(f, "invalid parameter: {what}"),
            Self::InvalidKey(why) => write!(f, "invalid key: {why}"),
            Self::Store(why) => write!(f, "key store failure: {why}"),
        }
    }
}

impl std::error::Error for KeyError {}
