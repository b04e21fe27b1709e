//! `record_size_limit` (RFC 8449 §4).
//!
//! > "The ExtensionData of the "record_size_limit" extension is
//! > RecordSizeLimit:"
//! >
//! > ```text
//! > uint16 RecordSizeLimit;
//! > ```
//!
//! > "Endpoints MUST NOT send a "record_size_limit" extension with a value
//! > smaller than 64. An endpoint MUST treat receipt of a smaller value as a
//! > fatal error and generate an "illegal_parameter" alert."
//!
//! The upper bound (2^14, or 2^14+1 in TLS 1.3) is a negotiation rule: "A
//! TLS endpoint that receives a value larger than this maximum value MUST
//! NOT treat the received value as an error", so it is not checked here.

use crate::msgs::codec::{Codec, Context, DecodeError, Reader};

/// `RecordSizeLimit`, at least 64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSizeLimit(pub u16);

impl RecordSizeLimit {
    /// The smallest value allowed on the wire.
    pub const MIN: u16 = 64;
}

impl Codec for RecordSizeLimit {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u16().context("RecordSizeLimit")? {
            v if v < Self::MIN => Err(DecodeError::IllegalValue("RecordSizeLimit")),
            v => Ok(Self(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for v in [64, 16385, 0xffff] {
            let body = RecordSizeLimit(v);
            assert_eq!(RecordSizeLimit::read_bytes(&body.get_encoding()), Ok(body));
        }
    }

    #[test]
    fn rejects() {
        assert_eq!(
            RecordSizeLimit::read_bytes(&[0, 63]),
            Err(DecodeError::IllegalValue("RecordSizeLimit"))
        );
        assert!(RecordSizeLimit::read_bytes(&[0]).is_err());
        assert!(RecordSizeLimit::read_bytes(&[1, 0, 0]).is_err());
    }
}
