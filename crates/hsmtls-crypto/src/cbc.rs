//! AES-CBC without padding (NIST SP 800-38A §6.2) with an explicit IV, for
//! TLS CBC records; the key schedules are computed once.

use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey, AES_128,
    AES_192, AES_256,
};
use aws_lc_rs::iv::FixedLength;

use crate::error::CryptoError;

/// The AES block length.
pub const BLOCK_LEN: usize = 16;

/// An AES-128 or AES-256 key for CBC in both directions.
pub struct AesCbcKey {
    enc: EncryptingKey,
    dec: DecryptingKey,
}

impl core::fmt::Debug for AesCbcKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AesCbcKey")
    }
}

impl AesCbcKey {
    /// A key from 16 (AES-128) or 32 (AES-256) bytes.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        let alg = match key.len() {
            16 => &AES_128,
            24 => &AES_192,
            32 => &AES_256,
            _ => return Err(CryptoError::InvalidKey("AES key length")),
        };
        let bad = |_| CryptoError::InvalidKey("AES key");
        let enc = EncryptingKey::cbc(UnboundCipherKey::new(alg, key).map_err(bad)?).map_err(bad)?;
        let dec = DecryptingKey::cbc(UnboundCipherKey::new(alg, key).map_err(bad)?).map_err(bad)?;
        Ok(Self { enc, dec })
    }

    /// Encrypts `data` (a multiple of 16 bytes) in place.
    pub fn encrypt_in_place(
        &self,
        iv: &[u8; BLOCK_LEN],
        data: &mut [u8],
    ) -> Result<(), CryptoError> {
        if data.len() % BLOCK_LEN != 0 {
            return Err(CryptoError::InvalidParameter("CBC input not block aligned"));
        }
        self.enc
            .less_safe_encrypt(data, EncryptionContext::Iv128(FixedLength::from(iv)))
            .map(|_| ())
            .map_err(|_| CryptoError::Internal("AES-CBC encrypt"))
    }

    /// Decrypts `data` (a multiple of 16 bytes) in place.
    pub fn decrypt_in_place(
        &self,
        iv: &[u8; BLOCK_LEN],
        data: &mut [u8],
    ) -> Result<(), CryptoError> {
        if data.len() % BLOCK_LEN != 0 {
            return Err(CryptoError::InvalidParameter("CBC input not block aligned"));
        }
        self.dec
            .decrypt(data, DecryptionContext::Iv128(FixedLength::from(iv)))
            .map(|_| ())
            .map_err(|_| CryptoError::Internal("AES-CBC decrypt"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex_decode;

    /// NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt), first two blocks.
    #[test]
    fn sp800_38a_cbc_aes128() {
        let key = AesCbcKey::new(&hex_decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap()).unwrap();
        let iv: [u8; 16] = hex_decode("000102030405060708090a0b0c0d0e0f")
            .unwrap()
            .try_into()
            .unwrap();
        let mut data =
            hex_decode("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51").unwrap();
        let plain = data.clone();
        key.encrypt_in_place(&iv, &mut data).unwrap();
        assert_eq!(
            data,
            hex_decode("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2").unwrap()
        );
        key.decrypt_in_place(&iv, &mut data).unwrap();
        assert_eq!(data, plain);
        assert!(key.encrypt_in_place(&iv, &mut data[..5]).is_err());
    }
}
