//! `extended_master_secret` (RFC 7627 §5.1).
//!
//! > "The "extension_data" field of this extension is empty."
//!
//! A non-empty body is `decode_error`.

use crate::msgs::codec::{Codec, DecodeError, Reader};

/// The (empty) `extended_master_secret` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExtendedMasterSecret;

impl Codec for ExtendedMasterSecret {
    fn encode(&self, _out: &mut Vec<u8>) {}

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        super::read_empty(r, "extended_master_secret").map(|()| Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_only() {
        assert!(ExtendedMasterSecret.get_encoding().is_empty());
        assert_eq!(
            ExtendedMasterSecret::read_bytes(&[]),
            Ok(ExtendedMasterSecret)
        );
        assert_eq!(
            ExtendedMasterSecret::read_bytes(&[0]),
            Err(DecodeError::InvalidLength("extended_master_secret"))
        );
        assert_eq!(
            ExtendedMasterSecret::read_bytes(&[0, 0])
                .unwrap_err()
                .alert(),
            crate::msgs::enums::AlertDescription::DecodeError
        );
    }
}
