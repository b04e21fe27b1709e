//! `encrypt_then_mac` (RFC 7366 §2).
//!
//! > "The "extension_data" field of this extension SHALL be empty."
//!
//! A non-empty body is `decode_error`.

use crate::msgs::codec::{Codec, DecodeError, Reader};

/// The (empty) `encrypt_then_mac` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncryptThenMac;

impl Codec for EncryptThenMac {
    fn encode(&self, _out: &mut Vec<u8>) {}

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        super::read_empty(r, "encrypt_then_mac").map(|()| Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_only() {
        assert!(EncryptThenMac.get_encoding().is_empty());
        assert_eq!(EncryptThenMac::read_bytes(&[]), Ok(EncryptThenMac));
        assert_eq!(
            EncryptThenMac::read_bytes(&[1]),
            Err(DecodeError::InvalidLength("encrypt_then_mac"))
        );
    }
}
