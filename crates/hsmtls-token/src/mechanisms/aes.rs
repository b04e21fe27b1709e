//! AES (PKCS#11 3.0 §6.14): `CKM_AES_GCM` (NIST SP 800-38D; 96-bit IVs
//! and 128-bit tags only) and `CKM_AES_CBC` / `CKM_AES_CBC_PAD` (SP 800-38A,
//! PKCS#7 padding), single- and multi-part. AES-128 and AES-256.

use cryptoki_sys::*;
use hsmtls_crypto::aead::{AeadAlg, AeadKey, NONCE_LEN, TAG_LEN};
use hsmtls_crypto::cbc::{AesCbcKey, BLOCK_LEN};
use zeroize::Zeroizing;

use super::{require_key_type, Cipher, Mechanism, Param};
use crate::error::{err, Result};
use crate::object::Object;

struct Gcm {
    key: AeadKey,
    nonce: [u8; NONCE_LEN],
    aad: Vec<u8>,
    buf: Zeroizing<Vec<u8>>,
    encrypt: bool,
}

fn gcm(m: &Mechanism, key: &Object, encrypt: bool) -> Result<Box<dyn Cipher>> {
    require_key_type(key, &[CKK_AES])?;
    let Param::Gcm { iv, aad, tag_bits } = &m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    if iv.len() != NONCE_LEN || *tag_bits != 8 * TAG_LEN as CK_ULONG {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let value = key.secret_value()?;
    let alg = match value.len() {
        16 => AeadAlg::Aes128Gcm,
        32 => AeadAlg::Aes256Gcm,
        _ => return err(CKR_KEY_SIZE_RANGE),
    };
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(iv);
    Ok(Box::new(Gcm {
        key: AeadKey::new(alg, value)?,
        nonce,
        aad: aad.clone(),
        buf: Zeroizing::new(Vec::new()),
        encrypt,
    }))
}

impl Cipher for Gcm {
    fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        // GCM output is released at the end: decryption must not release
        // unauthenticated plaintext, and encryption mirrors it.
        self.buf.extend_from_slice(data);
        Ok(Zeroizing::new(Vec::new()))
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        let mut buf = core::mem::take(&mut *self.buf);
        if self.encrypt {
            let tag = self
                .key
                .seal_in_place_separate_tag(self.nonce, &self.aad, &mut buf)?;
            buf.extend_from_slice(&tag);
            Ok(Zeroizing::new(buf))
        } else {
            let mut buf = Zeroizing::new(buf);
            if buf.len() < TAG_LEN {
                return err(CKR_ENCRYPTED_DATA_LEN_RANGE);
            }
            let n = self
                .key
                .open_in_place(self.nonce, &self.aad, &mut buf)
                .map_err(|_| crate::error::Error::new(CKR_AEAD_DECRYPT_FAILED))?;
            buf.truncate(n);
            Ok(buf)
        }
    }
    fn update_len(&self, _n: usize) -> usize {
        0
    }
    fn final_len(&self) -> usize {
        if self.encrypt {
            self.buf.len() + TAG_LEN
        } else {
            self.buf.len().saturating_sub(TAG_LEN)
        }
    }
}

/// Starts AES-GCM encryption.
pub fn gcm_encrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    gcm(m, key, true)
}

/// Starts AES-GCM decryption.
pub fn gcm_decrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    gcm(m, key, false)
}

struct Cbc {
    key: AesCbcKey,
    iv: [u8; BLOCK_LEN],
    buf: Zeroizing<Vec<u8>>,
    pad: bool,
    encrypt: bool,
}

fn cbc(m: &Mechanism, key: &Object, encrypt: bool) -> Result<Box<dyn Cipher>> {
    require_key_type(key, &[CKK_AES])?;
    let Param::Iv(iv) = &m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let iv: [u8; BLOCK_LEN] = iv
        .as_slice()
        .try_into()
        .map_err(|_| crate::error::Error::new(CKR_MECHANISM_PARAM_INVALID))?;
    let key = AesCbcKey::new(key.secret_value()?)
        .map_err(|_| crate::error::Error::new(CKR_KEY_SIZE_RANGE))?;
    Ok(Box::new(Cbc {
        key,
        iv,
        buf: Zeroizing::new(Vec::new()),
        pad: m.mechanism == CKM_AES_CBC_PAD,
        encrypt,
    }))
}

impl Cbc {
    /// Processes the first `n` buffered bytes (a multiple of the block).
    fn run(&mut self, n: usize) -> Result<Zeroizing<Vec<u8>>> {
        let mut out = Zeroizing::new(self.buf.drain(..n).collect::<Vec<u8>>());
        if out.is_empty() {
            return Ok(out);
        }
        if self.encrypt {
            self.key.encrypt_in_place(&self.iv, &mut out)?;
            self.iv.copy_from_slice(&out[n - BLOCK_LEN..]);
        } else {
            let mut next = [0u8; BLOCK_LEN];
            next.copy_from_slice(&out[n - BLOCK_LEN..]);
            self.key.decrypt_in_place(&self.iv, &mut out)?;
            self.iv = next;
        }
        Ok(out)
    }

    /// How many buffered bytes `update` may process now.
    fn ready(&self, total: usize) -> usize {
        let whole = total / BLOCK_LEN * BLOCK_LEN;
        // Decryption with padding keeps the last block for `finish`.
        if self.pad && !self.encrypt && whole == total && whole > 0 {
            whole - BLOCK_LEN
        } else {
            whole
        }
    }
}

impl Cipher for Cbc {
    fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.buf.extend_from_slice(data);
        let n = self.ready(self.buf.len());
        self.run(n)
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        let len = self.buf.len();
        match (self.pad, self.encrypt) {
            (false, _) => {
                if len % BLOCK_LEN != 0 {
                    return err(if self.encrypt {
                        CKR_DATA_LEN_RANGE
                    } else {
                        CKR_ENCRYPTED_DATA_LEN_RANGE
                    });
                }
                self.run(len)
            }
            (true, true) => {
                // PKCS#7 (RFC 5652 §6.3).
                let p = BLOCK_LEN - len % BLOCK_LEN;
                self.buf.extend(core::iter::repeat_n(p as u8, p));
                let n = self.buf.len();
                self.run(n)
            }
            (true, false) => {
                if len != BLOCK_LEN {
                    return err(CKR_ENCRYPTED_DATA_LEN_RANGE);
                }
                let mut out = self.run(len)?;
                let p = usize::from(out[BLOCK_LEN - 1]);
                if p == 0
                    || p > BLOCK_LEN
                    || out[BLOCK_LEN - p..].iter().any(|&b| usize::from(b) != p)
                {
                    return err(CKR_ENCRYPTED_DATA_INVALID);
                }
                out.truncate(BLOCK_LEN - p);
                Ok(out)
            }
        }
    }
    fn update_len(&self, n: usize) -> usize {
        self.ready(self.buf.len() + n)
    }
    fn final_len(&self) -> usize {
        match (self.pad, self.encrypt) {
            (true, true) => (self.buf.len() / BLOCK_LEN + 1) * BLOCK_LEN,
            _ => self.buf.len(),
        }
    }
}

/// Starts AES-CBC(-PAD) encryption.
pub fn cbc_encrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    cbc(m, key, true)
}

/// Starts AES-CBC(-PAD) decryption.
pub fn cbc_decrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    cbc(m, key, false)
}
