//! AES (PKCS#11 3.0 §6.14): `CKM_AES_GCM` (NIST SP 800-38D; 96-bit IVs
//! and 128-bit tags only) and `CKM_AES_CBC` / `CKM_AES_CBC_PAD` (SP 800-38A,
//! PKCS#7 padding), `CKM_AES_ECB` and `CKM_AES_CTR` (SP 800-38A), single-
//! and multi-part. AES-128 and AES-256. `CKM_CHACHA20_POLY1305` (PKCS#11
//! 3.0 §2.29, RFC 8439; 96-bit nonces) shares the AEAD code with GCM.

use std::sync::Arc;

use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey, AES_128,
    AES_192, AES_256,
};
use cryptoki_sys::*;
use hsmtls_crypto::aead::{AeadAlg, AeadKey, NONCE_LEN, TAG_LEN};
use hsmtls_crypto::cbc::{AesCbcKey, BLOCK_LEN};
use zeroize::Zeroizing;

use super::{require_key_type, Cipher, Mechanism, Param};
use crate::error::{err, Error, Result};
use crate::object::Object;

struct Gcm {
    key: Arc<AeadKey>,
    nonce: [u8; NONCE_LEN],
    aad: Vec<u8>,
    buf: Zeroizing<Vec<u8>>,
    encrypt: bool,
}

fn gcm(m: &Mechanism, key: &Object, encrypt: bool) -> Result<Box<dyn Cipher>> {
    let chacha = m.mechanism == CKM_CHACHA20_POLY1305;
    require_key_type(key, &[if chacha { CKK_CHACHA20 } else { CKK_AES }])?;
    let Param::Gcm { iv, aad, tag_bits } = &m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    if iv.len() != NONCE_LEN || *tag_bits != 8 * TAG_LEN as CK_ULONG {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let value = key.secret_value()?;
    let alg = match (chacha, value.len()) {
        (false, 16) => AeadAlg::Aes128Gcm,
        (false, 24) => AeadAlg::Aes192Gcm,
        (false, 32) => AeadAlg::Aes256Gcm,
        (true, 32) => AeadAlg::Chacha20Poly1305,
        _ => return err(CKR_KEY_SIZE_RANGE),
    };
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(iv);
    Ok(Box::new(Gcm {
        key: key.aead_key(alg)?,
        nonce,
        aad: aad.clone(),
        buf: Zeroizing::new(Vec::new()),
        encrypt,
    }))
}

impl Cipher for Gcm {
    fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        // GCM output is released at the end: decryption must not release
        // unauthenticated plaintext, and encryption mirrors it. Room for
        // the tag up front: no reallocation (and unzeroized copy) in
        // `finish`.
        self.buf
            .reserve(data.len() + if self.encrypt { TAG_LEN } else { 0 });
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
    fn single_into(&mut self, input: &[u8], out: &mut [u8]) -> Option<Result<usize>> {
        // Only a fresh operation, and only a buffer that fits: everything
        // else (length queries, short buffers) takes the general path.
        if !self.buf.is_empty() {
            return None;
        }
        if self.encrypt {
            (out.len() >= input.len() + TAG_LEN)
                .then(|| Ok(self.key.seal_to(self.nonce, &self.aad, input, out)?))
        } else {
            let n = input.len().checked_sub(TAG_LEN)?;
            (out.len() >= n).then(|| {
                self.key
                    .open_to(self.nonce, &self.aad, input, out)
                    .map_err(|_| Error::new(CKR_AEAD_DECRYPT_FAILED))
            })
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

/// The raw AES block function for ECB and for CTR's key stream.
fn block_keys(key: &Object) -> Result<(EncryptingKey, DecryptingKey)> {
    require_key_type(key, &[CKK_AES])?;
    let value = key.secret_value()?;
    let alg = match value.len() {
        16 => &AES_128,
        24 => &AES_192,
        32 => &AES_256,
        _ => return err(CKR_KEY_SIZE_RANGE),
    };
    let dev = |_| Error::new(CKR_DEVICE_ERROR);
    let unbound = || UnboundCipherKey::new(alg, value).map_err(dev);
    Ok((
        EncryptingKey::ecb(unbound()?).map_err(dev)?,
        DecryptingKey::ecb(unbound()?).map_err(dev)?,
    ))
}

struct Ecb {
    enc: EncryptingKey,
    dec: DecryptingKey,
    buf: Zeroizing<Vec<u8>>,
    encrypt: bool,
}

impl Cipher for Ecb {
    fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.buf.extend_from_slice(data);
        let n = self.buf.len() / BLOCK_LEN * BLOCK_LEN;
        let rest = Zeroizing::new(self.buf[n..].to_vec());
        let mut out = core::mem::replace(&mut self.buf, rest);
        out.truncate(n);
        if n > 0 {
            let dev = |_| Error::new(CKR_DEVICE_ERROR);
            if self.encrypt {
                self.enc
                    .less_safe_encrypt(&mut out, EncryptionContext::None)
                    .map_err(dev)?;
            } else {
                self.dec
                    .decrypt(&mut out, DecryptionContext::None)
                    .map_err(dev)?;
            }
        }
        Ok(out)
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        if !self.buf.is_empty() {
            return err(if self.encrypt {
                CKR_DATA_LEN_RANGE
            } else {
                CKR_ENCRYPTED_DATA_LEN_RANGE
            });
        }
        Ok(Zeroizing::new(Vec::new()))
    }
    fn update_len(&self, n: usize) -> usize {
        (self.buf.len() + n) / BLOCK_LEN * BLOCK_LEN
    }
    fn final_len(&self) -> usize {
        0
    }
}

fn ecb(m: &Mechanism, key: &Object, encrypt: bool) -> Result<Box<dyn Cipher>> {
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let (enc, dec) = block_keys(key)?;
    Ok(Box::new(Ecb {
        enc,
        dec,
        buf: Zeroizing::new(Vec::new()),
        encrypt,
    }))
}

/// Starts `CKM_AES_ECB` encryption (input a multiple of 16 bytes).
pub fn ecb_encrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    ecb(m, key, true)
}

/// Starts `CKM_AES_ECB` decryption.
pub fn ecb_decrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    ecb(m, key, false)
}

/// `CKM_AES_CTR` (SP 800-38A §6.5, PKCS#11 3.0 §2.10.5): the low
/// `ulCounterBits` bits of the 16-byte block `cb` count (big-endian) and
/// wrap; more than `2^ulCounterBits` blocks would repeat key stream and
/// are `CKR_DATA_LEN_RANGE`. Any data length; encryption and decryption
/// are the same.
struct Ctr {
    enc: EncryptingKey,
    counter: u128,
    mask: u128,
    /// Blocks of key stream still allowed.
    blocks_left: u128,
    stream: Zeroizing<[u8; BLOCK_LEN]>,
    used: usize,
}

impl Cipher for Ctr {
    fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let fresh = data.len().saturating_sub(BLOCK_LEN - self.used);
        if fresh.div_ceil(BLOCK_LEN) as u128 > self.blocks_left {
            return err(CKR_DATA_LEN_RANGE);
        }
        let mut out = Zeroizing::new(data.to_vec());
        for b in out.iter_mut() {
            if self.used == BLOCK_LEN {
                let mut block = Zeroizing::new(self.counter.to_be_bytes());
                self.enc
                    .less_safe_encrypt(&mut block[..], EncryptionContext::None)
                    .map_err(|_| Error::new(CKR_DEVICE_ERROR))?;
                *self.stream = *block;
                self.used = 0;
                self.blocks_left -= 1;
                self.counter =
                    (self.counter & !self.mask) | (self.counter.wrapping_add(1) & self.mask);
            }
            *b ^= self.stream[self.used];
            self.used += 1;
        }
        Ok(out)
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        Ok(Zeroizing::new(Vec::new()))
    }
    fn update_len(&self, n: usize) -> usize {
        n
    }
    fn final_len(&self) -> usize {
        0
    }
}

fn ctr(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    let Param::Ctr { counter_bits, cb } = &m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let bits = *counter_bits;
    if !(1..=128).contains(&bits) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let (enc, _) = block_keys(key)?;
    let mask = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    Ok(Box::new(Ctr {
        enc,
        counter: u128::from_be_bytes(*cb),
        mask,
        blocks_left: if bits == 128 {
            u128::MAX
        } else {
            1u128 << bits
        },
        stream: Zeroizing::new([0; BLOCK_LEN]),
        used: BLOCK_LEN,
    }))
}

/// Starts `CKM_AES_CTR` encryption.
pub fn ctr_encrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    ctr(m, key)
}

/// Starts `CKM_AES_CTR` decryption.
pub fn ctr_decrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    ctr(m, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aes_key() -> Object {
        let mut key = Object::new();
        key.set(CKA_CLASS, CKO_SECRET_KEY.to_ne_bytes().to_vec());
        key.set(CKA_KEY_TYPE, CKK_AES.to_ne_bytes().to_vec());
        key.set(CKA_VALUE, vec![7u8; 16]);
        key
    }

    #[test]
    fn gcm_single_part_seals_in_one_buffer_and_round_trips() {
        let key = aes_key();
        let m = Mechanism {
            mechanism: CKM_AES_GCM,
            param: Param::Gcm {
                iv: vec![1u8; NONCE_LEN],
                aad: b"aad".to_vec(),
                tag_bits: 128,
            },
        };
        let data = vec![0x5au8; 16 * 1024];
        let mut enc = gcm_encrypt(&m, &key).unwrap();
        assert!(enc.update(&data).unwrap().is_empty());
        let sealed = enc.finish().unwrap();
        assert_eq!(sealed.len(), data.len() + TAG_LEN);
        // The tag fit in the buffer reserved by `update`.
        assert_eq!(sealed.capacity(), data.len() + TAG_LEN);
        let mut dec = gcm_decrypt(&m, &key).unwrap();
        assert!(dec.update(&sealed).unwrap().is_empty());
        assert_eq!(&dec.finish().unwrap()[..], &data[..]);
    }
}
