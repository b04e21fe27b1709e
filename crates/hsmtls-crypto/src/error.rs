//! The error type of hsmtls-crypto. No variant carries secret data.

use core::fmt;

/// Why a primitive failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// Record authentication or padding failed (deliberately no detail).
    BadRecordMac,
    /// A signature did not verify.
    BadSignature,
    /// A peer's public key or key share is malformed or not on the curve.
    InvalidPeerKey,
    /// A key could not be imported or used.
    InvalidKey(&'static str),
    /// The algorithm or combination is not offered.
    Unsupported(&'static str),
    /// A parameter outside what the operation accepts.
    InvalidParameter(&'static str),
    /// The underlying library failed.
    Internal(&'static str),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRecordMac => f.write_str("record authentication failed"),
            Self::BadSignature => f.write_str("signature did not verify"),
            Self::InvalidPeerKey => f.write_str("invalid peer public key"),
            Self::InvalidKey(why) => write!(f, "invalid key: {why}"),
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
            Self::InvalidParameter(what) => write!(f, "invalid parameter: {what}"),
            Self::Internal(what) => write!(f, "internal failure: {what}"),
        }
    }
}

impl std::error::Error for CryptoError {}
