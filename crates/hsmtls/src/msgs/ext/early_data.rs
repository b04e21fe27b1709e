//! `early_data` (RFC 8446 §4.2.10).
//!
//! > ```text
//! > struct {} Empty;
//! >
//! > struct {
//! >     select (Handshake.msg_type) {
//! >         case new_session_ticket:   uint32 max_early_data_size;
//! >         case client_hello:         Empty;
//! >         case encrypted_extensions: Empty;
//! >     };
//! > } EarlyDataIndication;
//! > ```

use crate::msgs::codec::{Codec, Context, DecodeError, Reader};

/// The empty `early_data` body of a ClientHello or EncryptedExtensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EarlyDataIndication;

impl Codec for EarlyDataIndication {
    fn encode(&self, _out: &mut Vec<u8>) {}

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        super::read_empty(r, "early_data").map(|()| Self)
    }
}

/// The `early_data` body of a NewSessionTicket: `max_early_data_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxEarlyDataSize(pub u32);

impl Codec for MaxEarlyDataSize {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32().context("max_early_data_size").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(
            EarlyDataIndication::read_bytes(&[]),
            Ok(EarlyDataIndication)
        );
        assert!(EarlyDataIndication::read_bytes(&[0]).is_err());
        let max = MaxEarlyDataSize(16384);
        assert_eq!(max.get_encoding(), [0, 0, 0x40, 0]);
        assert_eq!(MaxEarlyDataSize::read_bytes(&[0, 0, 0x40, 0]), Ok(max));
        assert!(MaxEarlyDataSize::read_bytes(&[0, 0, 0x40]).is_err());
    }
}
