//! `supported_groups`, formerly `elliptic_curves` (RFC 8422 §5.1.1,
//! RFC 8446 §4.2.7).
//!
//! > ```text
//! > struct {
//! >     NamedGroup named_group_list<2..2^16-1>;
//! > } NamedGroupList;
//! > ```

use crate::msgs::codec::{encode_vec_u16, read_nonempty_vec_u16, Codec, DecodeError, Reader};
use crate::msgs::enums::NamedGroup;

/// `NamedGroupList`: the groups a peer supports, most preferred first;
/// never empty on the wire. Unknown groups are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedGroupList(pub Vec<NamedGroup>);

impl Codec for NamedGroupList {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_vec_u16(&self.0, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_nonempty_vec_u16(r, "named_group_list").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let list = NamedGroupList(vec![
            NamedGroup::brainpoolP256r1,
            NamedGroup::secp256r1,
            NamedGroup::Unknown(0x11ec),
        ]);
        let enc = list.get_encoding();
        assert_eq!(enc, [0, 6, 0, 0x1a, 0, 0x17, 0x11, 0xec]);
        assert_eq!(NamedGroupList::read_bytes(&enc), Ok(list));
    }

    #[test]
    fn rejects() {
        assert_eq!(
            NamedGroupList::read_bytes(&[0, 0]),
            Err(DecodeError::EmptyList("named_group_list"))
        );
        // Odd length.
        assert!(NamedGroupList::read_bytes(&[0, 3, 0, 0x17, 0]).is_err());
        assert!(NamedGroupList::read_bytes(&[0, 2, 0, 0x17, 0]).is_err());
    }
}
