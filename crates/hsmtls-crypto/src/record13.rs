//! TLS 1.3 record protection (RFC 8446 §5.2): AEAD over `TLSInnerPlaintext`
//! with the per-record nonce of §5.3 and the record header as additional
//! data. Framing, the inner content type and padding belong to the caller.

use core::ops::Range;

use zeroize::Zeroizing;

use crate::aead::{AeadAlg, AeadKey, NONCE_LEN, TAG_LEN};
use crate::error::CryptoError;
use crate::hash::{HashAlg, KeyedHmac};
use crate::hkdf;

/// One direction's TLS 1.3 AEAD: `key` and `iv` expanded from a traffic
/// secret (RFC 8446 §7.3).
pub struct Tls13Aead {
    key: AeadKey,
    iv: Zeroizing<[u8; NONCE_LEN]>,
}

impl core::fmt::Debug for Tls13Aead {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tls13Aead")
            .field("alg", &self.key.algorithm())
            .finish()
    }
}

impl Tls13Aead {
    /// `key = HKDF-Expand-Label(secret, "key", "", key_length)`,
    /// `iv = HKDF-Expand-Label(secret, "iv", "", 12)` (RFC 8446 §7.3).
    pub fn from_traffic_secret(
        hash: HashAlg,
        alg: AeadAlg,
        traffic_secret: &[u8],
    ) -> Result<Self, CryptoError> {
        Self::from_keyed_secret(alg, &KeyedHmac::new(hash, traffic_secret))
    }

    /// [`Tls13Aead::from_traffic_secret`] with the secret already keyed.
    pub fn from_keyed_secret(
        alg: AeadAlg,
        traffic_secret: &KeyedHmac,
    ) -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; 32]);
        let key = &mut key[..alg.key_len()];
        hkdf::expand_label_keyed(traffic_secret, b"key", b"", key)?;
        let mut iv = Zeroizing::new([0u8; NONCE_LEN]);
        hkdf::expand_label_keyed(traffic_secret, b"iv", b"", &mut iv[..])?;
        Ok(Self {
            key: AeadKey::new(alg, key)?,
            iv,
        })
    }

    /// RFC 8446 §5.3: the 64-bit sequence number, left-padded to the IV
    /// length, XORed with the IV.
    fn nonce(&self, seq: u64) -> [u8; NONCE_LEN] {
        let mut nonce = *self.iv;
        for (n, s) in nonce[NONCE_LEN - 8..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    fn aad(content_type: u8, version: u16, len: usize) -> Result<[u8; 5], CryptoError> {
        let len =
            u16::try_from(len).map_err(|_| CryptoError::InvalidParameter("record too long"))?;
        let mut aad = [0u8; 5];
        aad[0] = content_type;
        aad[1..3].copy_from_slice(&version.to_be_bytes());
        aad[3..].copy_from_slice(&len.to_be_bytes());
        Ok(aad)
    }

    /// The bytes `seal` adds: the tag.
    pub fn max_overhead(&self) -> usize {
        TAG_LEN
    }

    /// Appends `AEAD(inner_plaintext) || tag` to `out`; the additional data
    /// is the record header `content_type || version || length`.
    pub fn seal(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        inner_plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let aad = Self::aad(content_type, version, inner_plaintext.len() + TAG_LEN)?;
        let start = out.len();
        out.reserve(inner_plaintext.len() + TAG_LEN);
        out.extend_from_slice(inner_plaintext);
        match self
            .key
            .seal_in_place_separate_tag(self.nonce(seq), &aad, &mut out[start..])
        {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// Opens `fragment` in place and returns the inner plaintext's range.
    pub fn open(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, CryptoError> {
        if fragment.len() < TAG_LEN {
            return Err(CryptoError::BadRecordMac);
        }
        let aad = Self::aad(content_type, version, fragment.len())
            .map_err(|_| CryptoError::BadRecordMac)?;
        let n = self.key.open_in_place(self.nonce(seq), &aad, fragment)?;
        Ok(0..n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex_decode;

    fn hex(s: &str) -> Vec<u8> {
        hex_decode(&s.split_whitespace().collect::<String>()).expect("test hex")
    }

    /// RFC 8448 §3: the server's handshake record protection (key, iv
    /// from the server handshake traffic secret) and the first byte of the
    /// protected EncryptedExtensions record.
    #[test]
    fn rfc8448_server_handshake_keys() {
        let secret = hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
        let mut key = [0u8; 16];
        hkdf::expand_label(HashAlg::Sha256, &secret, b"key", b"", &mut key).expect("key");
        assert_eq!(&key[..], &hex("3fce516009c21727d0f2e4e86ee403bc")[..]);
        let mut iv = [0u8; 12];
        hkdf::expand_label(HashAlg::Sha256, &secret, b"iv", b"", &mut iv).expect("iv");
        assert_eq!(&iv[..], &hex("5d313eb2671276ee13000b30")[..]);
    }

    #[test]
    fn round_trip_and_tamper() {
        for alg in [
            AeadAlg::Aes128Gcm,
            AeadAlg::Aes256Gcm,
            AeadAlg::Chacha20Poly1305,
        ] {
            let a = Tls13Aead::from_traffic_secret(HashAlg::Sha256, alg, &[7u8; 32]).expect("key");
            let mut out = Vec::new();
            a.seal(5, 23, 0x0303, b"hello\x17", &mut out).expect("seal");
            let mut copy = out.clone();
            let range = a.open(5, 23, 0x0303, &mut copy).expect("open");
            assert_eq!(&copy[range], b"hello\x17");
            for i in 0..out.len() {
                let mut bad = out.clone();
                bad[i] ^= 1;
                assert!(a.open(5, 23, 0x0303, &mut bad).is_err());
            }
            let mut wrong_seq = out.clone();
            assert!(a.open(6, 23, 0x0303, &mut wrong_seq).is_err());
            let mut short = out[..15].to_vec();
            assert!(a.open(5, 23, 0x0303, &mut short).is_err());
        }
    }
}
