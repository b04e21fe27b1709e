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
    /// AES-192-GCM (PKCS#11 callers; no TLS suite uses it).
    Aes192Gcm,
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
            Self::Aes192Gcm => 24,
            Self::Aes256Gcm | Self::Chacha20Poly1305 => 32,
        }
    }

    fn aws(self) -> &'static aead::Algorithm {
        match self {
            Self::Aes128Gcm => &aead::AES_128_GCM,
            Self::Aes192Gcm => &aead::AES_192_GCM,
            Self::Aes256Gcm => &aead::AES_256_GCM,
            Self::Chacha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }
}

/// An AEAD key. The caller guarantees nonce uniqueness.
pub struct AeadKey {
    alg: AeadAlg,
    key: LessSafeKey,
    /// For [`AeadKey::seal_to`]: AWS-LC's context sealing from one buffer
    /// into another, made on first use (a second key schedule that the
    /// in-place users never need).
    seal_ctx: std::sync::OnceLock<crate::ffi::aead::SealCtx>,
    /// The key bytes (wiped on drop) that `seal_ctx` is made from.
    raw: zeroize::Zeroizing<Vec<u8>>,
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
            seal_ctx: std::sync::OnceLock::new(),
            raw: zeroize::Zeroizing::new(key.to_vec()),
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

    /// Encrypts `plaintext` into `out` (`plaintext.len() + TAG_LEN` bytes
    /// at least): ciphertext then tag. Returns the bytes written.
    pub fn seal_to(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let n = plaintext.len();
        if out.len() < n + TAG_LEN {
            return Err(CryptoError::Internal("AEAD output buffer too small"));
        }
        let ctx = match self.seal_ctx.get() {
            Some(c) => c,
            None => {
                let made = crate::ffi::aead::SealCtx::new(self.alg, &self.raw)?;
                self.seal_ctx.get_or_init(|| made)
            }
        };
        ctx.seal(&nonce, aad, plaintext, &mut out[..n + TAG_LEN])
    }

    /// Authenticates and decrypts `ciphertext || tag` into `out` (at least
    /// the ciphertext's length) and returns the plaintext length. On
    /// failure ([`CryptoError::BadRecordMac`]) the bytes of `out` that may
    /// have received unauthenticated plaintext are wiped.
    pub fn open_to(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let Some(n) = ciphertext_and_tag.len().checked_sub(TAG_LEN) else {
            return Err(CryptoError::BadRecordMac);
        };
        if out.len() < n {
            return Err(CryptoError::Internal("AEAD output buffer too small"));
        }
        let (ciphertext, tag) = ciphertext_and_tag.split_at(n);
        let plain = &mut out[..n];
        match self.key.open_separate_gather(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            ciphertext,
            tag,
            plain,
        ) {
            Ok(()) => Ok(n),
            Err(_) => {
                crate::wipe::wipe(plain);
                Err(CryptoError::BadRecordMac)
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: AeadAlg) -> AeadKey {
        AeadKey::new(alg, &vec![0x42; alg.key_len()]).unwrap()
    }

    #[test]
    fn seal_to_and_open_to_agree_with_the_in_place_forms() {
        for (alg, len) in [
            AeadAlg::Aes128Gcm,
            AeadAlg::Aes192Gcm,
            AeadAlg::Aes256Gcm,
            AeadAlg::Chacha20Poly1305,
        ]
        .into_iter()
        .flat_map(|alg| [(alg, 0usize), (alg, 1000), (alg, 16384)])
        {
            let k = key(alg);
            let nonce = [7u8; NONCE_LEN];
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut in_place = plain.clone();
            let tag = k
                .seal_in_place_separate_tag(nonce, b"aad", &mut in_place)
                .unwrap();
            in_place.extend_from_slice(&tag);

            let mut out = vec![0u8; plain.len() + TAG_LEN + 5];
            let n = k.seal_to(nonce, b"aad", &plain, &mut out).unwrap();
            assert_eq!(&out[..n], &in_place[..]);

            let mut back = vec![0u8; plain.len()];
            assert_eq!(
                k.open_to(nonce, b"aad", &out[..n], &mut back).unwrap(),
                plain.len()
            );
            assert_eq!(back, plain);
        }
    }

    #[test]
    fn open_to_wipes_the_output_on_a_bad_tag() {
        let k = key(AeadAlg::Aes128Gcm);
        let nonce = [1u8; NONCE_LEN];
        let mut sealed = vec![0u8; 64 + TAG_LEN];
        k.seal_to(nonce, b"", &[0x5a; 64], &mut sealed).unwrap();
        *sealed.last_mut().unwrap() ^= 1;
        let mut out = vec![0xffu8; 64];
        assert!(matches!(
            k.open_to(nonce, b"", &sealed, &mut out),
            Err(CryptoError::BadRecordMac)
        ));
        assert!(out.iter().all(|&b| b == 0));
        assert!(matches!(
            k.open_to(nonce, b"", &sealed[..TAG_LEN - 1], &mut out),
            Err(CryptoError::BadRecordMac)
        ));
    }

    #[test]
    fn short_output_buffers_are_refused() {
        let k = key(AeadAlg::Aes256Gcm);
        let nonce = [0u8; NONCE_LEN];
        let mut out = [0u8; 10 + TAG_LEN - 1];
        assert!(k.seal_to(nonce, b"", &[1; 10], &mut out).is_err());
        let mut sealed = [0u8; 10 + TAG_LEN];
        k.seal_to(nonce, b"", &[1; 10], &mut sealed).unwrap();
        assert!(k.open_to(nonce, b"", &sealed, &mut [0u8; 9]).is_err());
    }
}
