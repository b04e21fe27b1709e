//! `ec_point_formats` (RFC 8422 §5.1.2).
//!
//! > ```text
//! > struct {
//! >     ECPointFormat ec_point_format_list<1..2^8-1>
//! > } ECPointFormatList;
//! > ```
//!
//! RFC 8422 §5.1.2: "If the client sends the extension and the extension
//! does not contain the uncompressed point format, … the server MUST abort
//! the handshake and return an illegal_parameter alert." That check belongs
//! to the engine, which knows whether it is a server.

use crate::msgs::codec::{encode_vec_u8, read_nonempty_vec_u8, Codec, DecodeError, Reader};
use crate::msgs::enums::ECPointFormat;

/// `ECPointFormatList`; never empty on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcPointFormatList(pub Vec<ECPointFormat>);

impl EcPointFormatList {
    /// The list every modern peer sends: `uncompressed` only.
    pub fn uncompressed() -> Self {
        Self(vec![ECPointFormat::Uncompressed])
    }

    /// Whether `uncompressed` is in the list.
    pub fn has_uncompressed(&self) -> bool {
        self.0.contains(&ECPointFormat::Uncompressed)
    }
}

impl Codec for EcPointFormatList {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_vec_u8(&self.0, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_nonempty_vec_u8(r, "ec_point_format_list").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let list = EcPointFormatList(vec![
            ECPointFormat::Uncompressed,
            ECPointFormat::AnsiX962CompressedPrime,
            ECPointFormat::Unknown(9),
        ]);
        let enc = list.get_encoding();
        assert_eq!(enc, [3, 0, 1, 9]);
        assert_eq!(EcPointFormatList::read_bytes(&enc), Ok(list));
        assert!(EcPointFormatList::uncompressed().has_uncompressed());
    }

    #[test]
    fn rejects() {
        assert_eq!(
            EcPointFormatList::read_bytes(&[0]),
            Err(DecodeError::EmptyList("ec_point_format_list"))
        );
        assert!(EcPointFormatList::read_bytes(&[2, 0]).is_err());
        assert!(EcPointFormatList::read_bytes(&[1, 0, 0]).is_err());
    }
}
