//! AEAD ciphers (RFC 5116): AES-128/256-GCM and ChaCha20-Poly1305 on
//! aws-lc-rs, keys scheduled once, in-place operation.

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::error::CryptoError;

/// Length of the nonce of every supported AEAD.
pub const NONCE_LEN: usize = 12;
/// Length of the tag of every supported AEAD.
pub const TAG_LEN: usize = 16;

/// An AEAD algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AeadAlg {
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8439).
    Chacha20Poly1305,
}

impl AeadAlg {
    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::Chacha20Poly1305 => 32,
        }
    }

    fn aws(self) -> &'static aead::Algorithm {
        match self {
            Self::Aes128Gcm => &aead::AES_128_GCM,
            Self::Aes256Gcm => &aead::AES_256_GCM,
            Self::Chacha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }
}

/// An AEAD key. The caller guarantees nonce uniqueness.
pub struct AeadKey {
    alg: AeadAlg,
    key: LessSafeKey,
}

impl core::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AeadKey").field("alg", &self.alg).finish()
    }
}

impl AeadKey {
    /// A key of `alg` from `key` (exactly `alg.key_len()` bytes).
    pub fn new(alg: AeadAlg, key: &[u8]) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(alg.aws(), key)
            .map_err(|_| CryptoError::InvalidKey("AEAD key length"))?;
        Ok(Self {
            alg,
            key: LessSafeKey::new(unbound),
        })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> AeadAlg {
        self.alg
    }

    /// Encrypts `in_out` in place and returns the tag.
    pub fn seal_in_place_separate_tag(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], CryptoError> {
        let tag = self
            .key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
            .map_err(|_| CryptoError::Internal("AEAD seal"))?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Authenticates and decrypts `ciphertext || tag` in place and returns
    /// the plaintext length. Failure is [`CryptoError::BadRecordMac`].
    pub fn open_in_place(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &mut [u8],
    ) -> Result<usize, CryptoError> {
        if ciphertext_and_tag.len() < TAG_LEN {
            return Err(CryptoError::BadRecordMac);
        }
        self.key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                ciphertext_and_tag,
            )
            .map(|p| p.len())
            .map_err(|_| CryptoError::BadRecordMac)
    }
}
