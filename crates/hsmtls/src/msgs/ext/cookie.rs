//! `cookie` (RFC 8446 §4.2.2).
//!
//! > ```text
//! > struct {
//! >     opaque cookie<1..2^16-1>;
//! > } Cookie;
//! > ```

use crate::msgs::codec::{put_opaque_u16, read_nonempty_opaque_u16, Codec, DecodeError, Reader};

/// `Cookie`: sent by the server in a HelloRetryRequest, echoed by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie(pub Vec<u8>);

impl Codec for Cookie {
    fn encode(&self, out: &mut Vec<u8>) {
        put_opaque_u16(&self.0, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_nonempty_opaque_u16(r, "cookie").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = Cookie(vec![1, 2, 3]);
        assert_eq!(c.get_encoding(), [0, 3, 1, 2, 3]);
        assert_eq!(Cookie::read_bytes(&[0, 3, 1, 2, 3]), Ok(c));
    }

    #[test]
    fn rejects() {
        assert_eq!(
            Cookie::read_bytes(&[0, 0]),
            Err(DecodeError::InvalidLength("cookie"))
        );
        assert!(Cookie::read_bytes(&[0, 3, 1]).is_err());
    }
}
