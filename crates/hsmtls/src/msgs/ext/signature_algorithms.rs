//! `signature_algorithms` and `signature_algorithms_cert` (RFC 5246
//! §7.4.1.4.1, RFC 8446 §4.2.3).
//!
//! > ```text
//! > struct {
//! >     SignatureScheme supported_signature_algorithms<2..2^16-2>;
//! > } SignatureSchemeList;
//! > ```
//!
//! The same body serves both extensions and the TLS 1.2 CertificateRequest
//! field `supported_signature_algorithms`.

use crate::msgs::codec::{encode_vec_u16, read_nonempty_vec_u16, Codec, DecodeError, Reader};
use crate::msgs::enums::SignatureScheme;

/// `SignatureSchemeList`: most preferred first; never empty on the wire.
/// Unknown schemes are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureSchemeList(pub Vec<SignatureScheme>);

impl Codec for SignatureSchemeList {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_vec_u16(&self.0, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_nonempty_vec_u16(r, "supported_signature_algorithms").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let list = SignatureSchemeList(vec![
            SignatureScheme::ecdsa_secp256r1_sha256,
            SignatureScheme::ecdsa_brainpoolP256r1tls13_sha256,
            SignatureScheme::Unknown(0x0904),
        ]);
        let enc = list.get_encoding();
        assert_eq!(enc, [0, 6, 4, 3, 8, 0x1a, 9, 4]);
        assert_eq!(SignatureSchemeList::read_bytes(&enc), Ok(list));
    }

    #[test]
    fn rejects() {
        assert_eq!(
            SignatureSchemeList::read_bytes(&[0, 0]),
            Err(DecodeError::EmptyList("supported_signature_algorithms"))
        );
        assert!(SignatureSchemeList::read_bytes(&[0, 1, 4]).is_err());
        assert!(SignatureSchemeList::read_bytes(&[0, 3, 4, 3, 5]).is_err());
    }
}
