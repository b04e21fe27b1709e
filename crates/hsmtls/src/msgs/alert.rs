//! The alert protocol message (RFC 5246 §7.2, RFC 8446 §6).
//!
//! > ```text
//! > struct {
//! >     AlertLevel level;
//! >     AlertDescription description;
//! > } Alert;
//! > ```
//!
//! RFC 8446 §6: "Unknown Alert types MUST be treated as error alerts." Both
//! fields keep unknown values; the engine decides.

use super::codec::{Codec, DecodeError, Reader};
use super::enums::{AlertDescription, AlertLevel};

/// One `Alert`: exactly two bytes on the wire.
///
/// ```
/// use hsmtls::msgs::alert::AlertMessage;
/// use hsmtls::msgs::codec::Codec;
/// use hsmtls::msgs::enums::{AlertDescription, AlertLevel};
/// let a = AlertMessage::read_bytes(&[2, 50]).unwrap();
/// assert_eq!(a, AlertMessage::fatal(AlertDescription::DecodeError));
/// assert!(AlertMessage::read_bytes(&[2, 50, 0]).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertMessage {
    /// `warning` or `fatal` (TLS 1.3 ignores it except for close_notify /
    /// user_canceled).
    pub level: AlertLevel,
    /// What happened.
    pub description: AlertDescription,
}

impl AlertMessage {
    /// A fatal alert.
    pub const fn fatal(description: AlertDescription) -> Self {
        Self {
            level: AlertLevel::Fatal,
            description,
        }
    }

    /// A warning alert (e.g. `close_notify`, RFC 8446 §6.1).
    pub const fn warning(description: AlertDescription) -> Self {
        Self {
            level: AlertLevel::Warning,
            description,
        }
    }
}

impl Codec for AlertMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.level.encode(out);
        self.description.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let level = AlertLevel::read(r)?;
        let description = AlertDescription::read(r)?;
        Ok(Self { level, description })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for &d in AlertDescription::ALL {
            for a in [AlertMessage::fatal(d), AlertMessage::warning(d)] {
                let enc = a.get_encoding();
                assert_eq!(enc.len(), 2);
                assert_eq!(AlertMessage::read_bytes(&enc), Ok(a));
            }
        }
        let odd = AlertMessage::read_bytes(&[7, 255]).unwrap();
        assert_eq!(odd.level, AlertLevel::Unknown(7));
        assert_eq!(odd.description, AlertDescription::Unknown(255));
    }

    #[test]
    fn exactly_two_bytes() {
        assert!(AlertMessage::read_bytes(&[]).is_err());
        assert!(AlertMessage::read_bytes(&[1]).is_err());
        assert_eq!(
            AlertMessage::read_bytes(&[1, 0, 0]).unwrap_err(),
            DecodeError::TrailingData(std::any::type_name::<AlertMessage>())
        );
    }
}
