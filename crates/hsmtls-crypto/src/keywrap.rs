//! AES key wrap: RFC 3394 (`CKM_AES_KEY_WRAP`, SP 800-38F KW) and RFC 5649
//! with padding (`CKM_AES_KEY_WRAP_PAD` / `_KWP`, SP 800-38F KWP), for
//! AES-128, AES-192 and AES-256 key-encryption keys, default initial
//! values only.

use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::ffi::keywrap::Kek;

/// An AES key-encryption key; its schedules are wiped when dropped.
pub struct AesKek(Kek);

impl core::fmt::Debug for AesKek {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AesKek")
    }
}

impl AesKek {
    /// A KEK from a 16-, 24- or 32-byte AES key.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        Kek::new(key).map(Self)
    }

    /// RFC 3394 §2.2.1: `key_data` must be whole 64-bit blocks, at least
    /// two.
    pub fn wrap(&self, key_data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::new();
        self.0.wrap(key_data, &mut out)?;
        Ok(out)
    }

    /// RFC 3394 §2.2.2; a failed integrity check is
    /// [`CryptoError::BadRecordMac`].
    pub fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut out = Zeroizing::new(Vec::new());
        self.0.unwrap(wrapped, &mut out)?;
        Ok(out)
    }

    /// RFC 5649 §4.1: any non-empty `key_data`.
    pub fn wrap_padded(&self, key_data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::new();
        self.0.wrap_padded(key_data, &mut out)?;
        Ok(out)
    }

    /// RFC 5649 §4.2; a failed integrity or padding check is
    /// [`CryptoError::BadRecordMac`].
    pub fn unwrap_padded(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut out = Zeroizing::new(Vec::new());
        self.0.unwrap_padded(wrapped, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex_decode;

    fn h(s: &str) -> Vec<u8> {
        hex_decode(s).unwrap()
    }

    /// RFC 3394 §4.1, §4.3, §4.6: 128-, 192- and 256-bit KEKs.
    #[test]
    fn rfc3394_vectors() {
        let data128 = h("00112233445566778899AABBCCDDEEFF");
        for (kek, data, want) in [
            (
                "000102030405060708090A0B0C0D0E0F",
                data128.clone(),
                "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
            ),
            (
                "000102030405060708090A0B0C0D0E0F1011121314151617",
                data128.clone(),
                "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D",
            ),
            (
                "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
                h("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F"),
                "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
            ),
        ] {
            let k = AesKek::new(&h(kek)).unwrap();
            let wrapped = k.wrap(&data).unwrap();
            assert_eq!(wrapped, h(want), "{kek}");
            assert_eq!(&k.unwrap(&wrapped).unwrap()[..], &data[..]);
            let mut bad = wrapped.clone();
            bad[3] ^= 1;
            assert!(matches!(k.unwrap(&bad), Err(CryptoError::BadRecordMac)));
        }
    }

    /// RFC 5649 §6: 192-bit KEK, 20- and 7-octet key data.
    #[test]
    fn rfc5649_vectors() {
        let k = AesKek::new(&h("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")).unwrap();
        for (data, want) in [
            (
                "c37b7e6492584340bed12207808941155068f738",
                "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
            ),
            ("466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"),
        ] {
            let wrapped = k.wrap_padded(&h(data)).unwrap();
            assert_eq!(wrapped, h(want), "{data}");
            assert_eq!(&k.unwrap_padded(&wrapped).unwrap()[..], &h(data)[..]);
        }
        let mut bad = k.wrap_padded(&h("466f7250617369")).unwrap();
        bad[0] ^= 1;
        assert!(matches!(
            k.unwrap_padded(&bad),
            Err(CryptoError::BadRecordMac)
        ));
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(AesKek::new(&[0; 20]).is_err());
        let k = AesKek::new(&[7; 24]).unwrap();
        assert!(k.wrap(&[0; 12]).is_err());
        assert!(k.wrap(&[0; 8]).is_err());
        assert!(k.unwrap(&[0; 16]).is_err());
        assert!(k.wrap_padded(&[]).is_err());
        assert!(k.unwrap_padded(&[0; 12]).is_err());
    }
}
