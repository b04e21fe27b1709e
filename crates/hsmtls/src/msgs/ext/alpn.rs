//! `application_layer_protocol_negotiation` (RFC 7301 §3.1).
//!
//! > ```text
//! > opaque ProtocolName<1..2^8-1>;
//! >
//! > struct {
//! >     ProtocolName protocol_name_list<2..2^16-1>
//! > } ProtocolNameList;
//! > ```
//!
//! > "Empty strings MUST NOT be included and byte strings MUST NOT be
//! > truncated." … "The "extension_data" field of the [server's]
//! > ("application_layer_protocol_negotiation(16)") extension is structured
//! > the same as described above for the client "extension_data", except
//! > that the "ProtocolNameList" MUST contain exactly one "ProtocolName"."

use crate::msgs::codec::{
    put_opaque_u8, read_nonempty_opaque_u8, Codec, Context, DecodeError, LengthPrefix,
    LengthPrefixed, Reader,
};

/// `ProtocolNameList`: non-empty, of non-empty names.
///
/// ```
/// use hsmtls::msgs::codec::Codec;
/// use hsmtls::msgs::ext::alpn::ProtocolNameList;
/// let list = ProtocolNameList(vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
/// assert_eq!(&list.get_encoding()[..5], [0, 12, 2, b'h', b'2']);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolNameList(pub Vec<Vec<u8>>);

impl ProtocolNameList {
    /// The single protocol of a server's answer, or `None` if the list does
    /// not hold exactly one (which a server's list MUST, RFC 7301 §3.1).
    pub fn single(&self) -> Option<&[u8]> {
        match self.0.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

impl Codec for ProtocolNameList {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut body = LengthPrefixed::new(out, LengthPrefix::U16);
        for name in &self.0 {
            put_opaque_u8(name, &mut body);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut sub = r.sub(LengthPrefix::U16).context("protocol_name_list")?;
        let mut names = Vec::new();
        while sub.any_left() {
            names.push(read_nonempty_opaque_u8(&mut sub, "ProtocolName")?);
        }
        match names.is_empty() {
            true => Err(DecodeError::EmptyList("protocol_name_list")),
            false => Ok(Self(names)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let list = ProtocolNameList(vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        let enc = list.get_encoding();
        assert_eq!(enc.len(), 2 + 3 + 9);
        assert_eq!(ProtocolNameList::read_bytes(&enc), Ok(list.clone()));
        assert_eq!(list.single(), None);
        let one = ProtocolNameList(vec![b"h2".to_vec()]);
        assert_eq!(one.single(), Some(&b"h2"[..]));
    }

    #[test]
    fn rejects() {
        assert_eq!(
            ProtocolNameList::read_bytes(&[0, 0]),
            Err(DecodeError::EmptyList("protocol_name_list"))
        );
        assert_eq!(
            ProtocolNameList::read_bytes(&[0, 1, 0]),
            Err(DecodeError::InvalidLength("ProtocolName"))
        );
        // Name longer than the list.
        assert!(ProtocolNameList::read_bytes(&[0, 2, 5, b'a']).is_err());
    }
}
