//! Errors of the protocol engine. Each error a peer can cause maps onto the
//! alert that RFC 5246 §7.2 / RFC 8446 §6 prescribes for it.

use core::fmt;

use hsmtls_keys::KeyError;

use crate::msgs::codec::DecodeError;
use crate::msgs::enums::{AlertDescription, ContentType, HandshakeType};

/// Why a connection failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A message could not be decoded.
    Decode(DecodeError),
    /// A message arrived that the current state does not accept
    /// (`unexpected_message`).
    UnexpectedMessage {
        /// What the state was waiting for.
        expected: &'static str,
        /// What arrived.
        got: MessageKind,
    },
    /// The peer broke a rule of the protocol; the alert says which.
    PeerMisbehaved {
        /// The alert sent for it.
        alert: AlertDescription,
        /// What happened, for humans.
        why: &'static str,
    },
    /// No parameters acceptable to both sides (`handshake_failure`,
    /// `protocol_version`, `no_application_protocol` …).
    NoCommonParameters {
        /// The alert sent for it.
        alert: AlertDescription,
        /// What could not be agreed.
        why: &'static str,
    },
    /// The peer's certificate was rejected.
    BadCertificate {
        /// The alert sent for it.
        alert: AlertDescription,
        /// The path validator's reason.
        why: String,
    },
    /// A record failed authentication (`bad_record_mac`).
    BadRecordMac,
    /// A signature or Finished did not verify (`decrypt_error`).
    DecryptError(&'static str),
    /// A record longer than allowed (`record_overflow`).
    RecordOverflow,
    /// The peer sent a fatal alert.
    AlertReceived(AlertDescription),
    /// The key store failed for a reason that is not the peer's.
    KeyStore(KeyError),
    /// The configuration cannot work (no suites, no certificate …).
    Config(String),
    /// An operation that needs a finished handshake, or a closed connection.
    InvalidState(&'static str),
    /// The application's handshake hook refused a message.
    Vetoed(crate::hooks::HookVeto),
}

/// The kind of a message, for error reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// A handshake message of this type.
    Handshake(HandshakeType),
    /// A record of another content type.
    Record(ContentType),
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Handshake(t) => write!(f, "{}", t.as_str()),
            Self::Record(t) => write!(f, "{} record", t.as_str()),
        }
    }
}

impl Error {
    /// The alert this error is reported to the peer with, if any.
    pub fn alert(&self) -> Option<AlertDescription> {
        Some(match self {
            Self::Decode(e) => e.alert(),
            Self::UnexpectedMessage { .. } => AlertDescription::UnexpectedMessage,
            Self::PeerMisbehaved { alert, .. }
            | Self::NoCommonParameters { alert, .. }
            | Self::BadCertificate { alert, .. } => *alert,
            Self::BadRecordMac => AlertDescription::BadRecordMac,
            Self::DecryptError(_) => AlertDescription::DecryptError,
            Self::RecordOverflow => AlertDescription::RecordOverflow,
            Self::KeyStore(KeyError::BadRecordMac) => AlertDescription::BadRecordMac,
            Self::KeyStore(KeyError::BadSignature) => AlertDescription::DecryptError,
            Self::KeyStore(KeyError::InvalidPeerKey) => AlertDescription::IllegalParameter,
            Self::KeyStore(_) | Self::Config(_) | Self::InvalidState(_) => {
                AlertDescription::InternalError
            }
            Self::Vetoed(veto) => veto.alert,
            Self::AlertReceived(_) => return None,
        })
    }

    pub(crate) fn peer(alert: AlertDescription, why: &'static str) -> Self {
        Self::PeerMisbehaved { alert, why }
    }

    pub(crate) fn illegal(why: &'static str) -> Self {
        Self::PeerMisbehaved {
            alert: AlertDescription::IllegalParameter,
            why,
        }
    }

    pub(crate) fn handshake_failure(why: &'static str) -> Self {
        Self::NoCommonParameters {
            alert: AlertDescription::HandshakeFailure,
            why,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => write!(f, "malformed message: {e}"),
            Self::UnexpectedMessage { expected, got } => {
                write!(f, "unexpected message: got {got}, expected {expected}")
            }
            Self::PeerMisbehaved { why, alert } => {
                write!(f, "peer misbehaved: {why} ({})", alert.as_str())
            }
            Self::NoCommonParameters { why, .. } => write!(f, "no common parameters: {why}"),
            Self::BadCertificate { why, .. } => write!(f, "certificate rejected: {why}"),
            Self::BadRecordMac => f.write_str("record authentication failed"),
            Self::DecryptError(why) => write!(f, "verification failed: {why}"),
            Self::RecordOverflow => f.write_str("record too long"),
            Self::AlertReceived(a) => write!(f, "peer sent fatal alert {}", a.as_str()),
            Self::KeyStore(e) => write!(f, "key store: {e}"),
            Self::Config(why) => write!(f, "configuration: {why}"),
            Self::InvalidState(why) => write!(f, "invalid state: {why}"),
            Self::Vetoed(veto) => write!(f, "handshake hook refused a message: {}", veto.reason),
        }
    }
}

impl std::error::Error for Error {}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::BadRecordMac => Self::BadRecordMac,
            other => Self::KeyStore(other),
        }
    }
}
