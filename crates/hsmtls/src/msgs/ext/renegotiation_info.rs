//! `renegotiation_info` (RFC 5746 §3.2).
//!
//! > ```text
//! > struct {
//! >     opaque renegotiated_connection<0..255>;
//! > } RenegotiationInfo;
//! > ```
//!
//! On an initial handshake `renegotiated_connection` is empty (RFC 5746
//! §3.4, §3.6); the engine checks that, and that the client's
//! `TLS_EMPTY_RENEGOTIATION_INFO_SCSV` is treated the same way.

use crate::msgs::codec::{put_opaque_u8, read_opaque_u8, Codec, Context, DecodeError, Reader};

/// `RenegotiationInfo`: the `renegotiated_connection` bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenegotiationInfo(pub Vec<u8>);

impl RenegotiationInfo {
    /// The body for an initial handshake: `renegotiated_connection` empty.
    pub fn initial() -> Self {
        Self(Vec::new())
    }
}

impl Codec for RenegotiationInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        put_opaque_u8(&self.0, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_opaque_u8(r)
            .context("renegotiated_connection")
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(RenegotiationInfo::initial().get_encoding(), [0]);
        let ri = RenegotiationInfo(vec![9; 24]);
        assert_eq!(RenegotiationInfo::read_bytes(&ri.get_encoding()), Ok(ri));
    }

    #[test]
    fn rejects() {
        assert!(RenegotiationInfo::read_bytes(&[]).is_err());
        assert!(RenegotiationInfo::read_bytes(&[2, 1]).is_err());
        assert!(RenegotiationInfo::read_bytes(&[0, 0]).is_err());
    }
}
