//! `psk_key_exchange_modes` (RFC 8446 §4.2.9).
//!
//! > ```text
//! > enum { psk_ke(0), psk_dhe_ke(1), (255) } PskKeyExchangeMode;
//! >
//! > struct {
//! >     PskKeyExchangeMode ke_modes<1..255>;
//! > } PskKeyExchangeModes;
//! > ```

use crate::msgs::codec::{encode_vec_u8, read_nonempty_vec_u8, Codec, DecodeError, Reader};
use crate::msgs::enums::PskKeyExchangeMode;

/// `PskKeyExchangeModes`; never empty on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PskKeyExchangeModes(pub Vec<PskKeyExchangeMode>);

impl Codec for PskKeyExchangeModes {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_vec_u8(&self.0, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_nonempty_vec_u8(r, "ke_modes").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let modes = PskKeyExchangeModes(vec![PskKeyExchangeMode::PskDheKe]);
        assert_eq!(modes.get_encoding(), [1, 1]);
        assert_eq!(PskKeyExchangeModes::read_bytes(&[1, 1]), Ok(modes));
    }

    #[test]
    fn rejects() {
        assert_eq!(
            PskKeyExchangeModes::read_bytes(&[0]),
            Err(DecodeError::EmptyList("ke_modes"))
        );
        assert!(PskKeyExchangeModes::read_bytes(&[2, 1]).is_err());
    }
}
