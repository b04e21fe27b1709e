//! Small fixed-shape fields shared by several messages: `SessionID` and
//! `Random` (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2).
//!
//! RFC 5246 §7.4.1.2:
//!
//! > `opaque SessionID<0..32>;`
//!
//! > `opaque Random[32];` (RFC 8446 §4.1.2; RFC 5246 splits it into
//! > `gmt_unix_time` and `random_bytes[28]`, which the wire does not see)

use std::fmt;

use super::codec::{Codec, DecodeError, Reader};

/// `Random`: 32 bytes chosen by the key store.
pub type Random = [u8; 32];

/// `SessionID<0..32>`: at most 32 bytes, held inline.
///
/// ```
/// use hsmtls::msgs::base::SessionId;
/// use hsmtls::msgs::codec::Codec;
/// let id = SessionId::new(&[7; 4]).unwrap();
/// assert_eq!(id.get_encoding(), [4, 7, 7, 7, 7]);
/// assert!(SessionId::new(&[0; 33]).is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId {
    len: u8,
    bytes: [u8; 32],
}

impl SessionId {
    /// The longest session ID: 32 bytes.
    pub const MAX_LEN: usize = 32;

    /// The empty session ID.
    pub const fn empty() -> Self {
        Self {
            len: 0,
            bytes: [0; 32],
        }
    }

    /// A session ID holding `bytes`, or `None` if longer than 32 bytes.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        let len = u8::try_from(bytes.len())
            .ok()
            .filter(|&l| usize::from(l) <= Self::MAX_LEN)?;
        let mut id = Self::empty();
        id.bytes[..bytes.len()].copy_from_slice(bytes);
        id.len = len;
        Some(id)
    }

    /// Whether the ID is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The length in bytes (0 to 32).
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }
}

impl Default for SessionId {
    fn default() -> Self {
        Self::empty()
    }
}

impl AsRef<[u8]> for SessionId {
    fn as_ref(&self) -> &[u8] {
        // `len <= 32` is an invariant of every constructor.
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(")?;
        for b in self.as_ref() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

impl Codec for SessionId {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.len);
        out.extend_from_slice(self.as_ref());
    }

    /// A length above 32 is [`DecodeError::InvalidLength`] (`decode_error`:
    /// the vector is out of its `<0..32>` range).
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let len = usize::from(r.u8().map_err(|e| e.within("session_id"))?);
        if len > Self::MAX_LEN {
            return Err(DecodeError::InvalidLength("session_id"));
        }
        let bytes = r.take(len).map_err(|e| e.within("session_id"))?;
        Self::new(bytes).ok_or(DecodeError::InvalidLength("session_id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_lengths() {
        for len in 0..=32u8 {
            let bytes: Vec<u8> = (0..len).collect();
            let id = SessionId::new(&bytes).unwrap();
            assert_eq!(id.as_ref(), &bytes[..]);
            assert_eq!(id.len(), usize::from(len));
            assert_eq!(id.is_empty(), len == 0);
            let enc = id.get_encoding();
            assert_eq!(enc.len(), 1 + usize::from(len));
            assert_eq!(SessionId::read_bytes(&enc), Ok(id));
        }
    }

    #[test]
    fn rejects_33_bytes() {
        let mut enc = vec![33];
        enc.extend_from_slice(&[0; 33]);
        assert_eq!(
            SessionId::read_bytes(&enc),
            Err(DecodeError::InvalidLength("session_id"))
        );
        assert!(SessionId::new(&[0; 33]).is_none());
        assert!(SessionId::read_bytes(&[5, 1, 2]).is_err());
        assert!(SessionId::read_bytes(&[]).is_err());
    }

    #[test]
    fn debug_is_hex() {
        let id = SessionId::new(&[0xab, 0x01]).unwrap();
        assert_eq!(format!("{id:?}"), "SessionId(ab01)");
        assert_eq!(SessionId::default(), SessionId::empty());
    }
}
