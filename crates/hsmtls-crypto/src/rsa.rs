//! RSA for a PKCS#11 token: generation (2048–4096 bits, e = 65537), import
//! and export (components, PKCS#1 / PKCS#8 DER), PKCS#1 v1.5 and PSS
//! signatures over messages or prehashed inputs, OAEP, and PKCS#1 v1.5
//! decryption with implicit rejection.
//!
//! # Implicit rejection
//!
//! [`RsaPrivateKey::decrypt_pkcs1_implicit`] never reports a padding
//! error. On bad padding it returns a synthetic message that is a
//! deterministic function of the key and the ciphertext, computed as in
//! draft-irtf-cfrg-rsa-guidance ("implicit rejection") and OpenSSL 3.2's
//! `ossl_rsa_padding_check_PKCS1_type_2`:
//!
//! - `KDK = HMAC-SHA256(key = SHA-256(I2OSP(d, k)), C)` where `C` is the
//!   ciphertext left-padded to `k` (the modulus length) bytes;
//! - `PRF(label, L) = T(0) || T(1) || …` truncated to `L` bytes, with
//!   `T(i) = HMAC-SHA256(KDK, I2OSP(i, 2) || label || I2OSP(8·L, 2))`;
//! - `message = PRF("message", k)`; `lengths = PRF("length", 256)` read as
//!   128 big-endian 16-bit candidates, each masked to the bit length of
//!   `k − 10`; the last candidate below `k − 10` is the synthetic length
//!   `l` (0 if none); the synthetic message is the last `l` bytes of
//!   `message`.
//!
//! The padding check and the choice between real and synthetic message
//! use masks only ([`crate::ct`]): no branch or index depends on the
//! decrypted bytes. Only the length of the returned message, which is
//! equally plausible for both, decides the copy loop's bounds.

use zeroize::Zeroizing;

use crate::ct;
use crate::error::CryptoError;
use crate::ffi::rsa::{Components, Md, Rsa};
use crate::hash::{digest, HashAlg, HmacKey};

/// Smallest modulus this module generates or accepts, in bits.
pub const MIN_BITS: usize = 2048;
/// Largest modulus this module generates or accepts, in bits.
pub const MAX_BITS: usize = 4096;

/// A hash named by an RSA padding parameter (PSS, OAEP, MGF1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RsaHash {
    /// SHA-1 (OAEP and PSS parameters only; never for message hashing).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl RsaHash {
    /// Digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    fn md(self) -> Md {
        match self {
            Self::Sha1 => Md::Sha1,
            Self::Sha256 => Md::Sha256,
            Self::Sha384 => Md::Sha384,
            Self::Sha512 => Md::Sha512,
        }
    }
}

impl From<HashAlg> for RsaHash {
    fn from(h: HashAlg) -> Self {
        match h {
            HashAlg::Sha256 => Self::Sha256,
            HashAlg::Sha384 => Self::Sha384,
            HashAlg::Sha512 => Self::Sha512,
        }
    }
}

/// PSS parameters (RFC 8017 §9.1, PKCS#11 `CK_RSA_PKCS_PSS_PARAMS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PssParams {
    /// The message hash.
    pub hash: RsaHash,
    /// The MGF1 hash.
    pub mgf1: RsaHash,
    /// Salt length in bytes.
    pub salt_len: usize,
}

/// OAEP parameters (RFC 8017 §7.1, PKCS#11 `CK_RSA_PKCS_OAEP_PARAMS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OaepParams {
    /// The label hash.
    pub hash: RsaHash,
    /// The MGF1 hash.
    pub mgf1: RsaHash,
    /// The label (`CKZ_DATA_SPECIFIED` source data).
    pub label: Vec<u8>,
}

/// The DER `DigestInfo` prefix of `hash` (RFC 8017 §9.2 note 1).
pub fn digest_info_prefix(hash: HashAlg) -> &'static [u8] {
    match hash {
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlg::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlg::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

/// `DigestInfo` of `hash(message)`.
pub fn digest_info(hash: HashAlg, message: &[u8]) -> Vec<u8> {
    let mut out = digest_info_prefix(hash).to_vec();
    out.extend_from_slice(&digest(hash, message));
    out
}

/// The components of an RSA private key (RFC 8017 §3.2), big-endian,
/// without leading zeros.
#[derive(Clone)]
pub struct RsaComponents {
    /// Modulus `n`.
    pub n: Vec<u8>,
    /// Public exponent `e`.
    pub e: Vec<u8>,
    /// Private exponent `d`.
    pub d: Zeroizing<Vec<u8>>,
    /// First prime `p`.
    pub p: Zeroizing<Vec<u8>>,
    /// Second prime `q`.
    pub q: Zeroizing<Vec<u8>>,
    /// `d mod (p − 1)`.
    pub dp: Zeroizing<Vec<u8>>,
    /// `d mod (q − 1)`.
    pub dq: Zeroizing<Vec<u8>>,
    /// `q⁻¹ mod p`.
    pub qinv: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for RsaComponents {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaComponents")
            .field("bits", &(self.n.len() * 8))
            .finish_non_exhaustive()
    }
}

fn check_bits(bits: usize) -> Result<(), CryptoError> {
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        return Err(CryptoError::InvalidParameter("RSA modulus size"));
    }
    Ok(())
}

/// An RSA private key.
pub struct RsaPrivateKey {
    rsa: Rsa,
}

impl core::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

impl RsaPrivateKey {
    /// A fresh key of `bits` bits (2048–4096, a multiple of 128 as AWS-LC
    /// requires), public exponent 65537.
    pub fn generate(bits: usize) -> Result<Self, CryptoError> {
        check_bits(bits)?;
        if bits % 128 != 0 {
            return Err(CryptoError::InvalidParameter("RSA modulus size"));
        }
        Ok(Self {
            rsa: Rsa::generate(bits)?,
        })
    }

    /// A key from its eight components; checked for consistency.
    pub fn from_components(c: &RsaComponents) -> Result<Self, CryptoError> {
        let rsa = Rsa::from_components(&Components {
            n: c.n.clone(),
            e: c.e.clone(),
            d: c.d.clone(),
            p: c.p.clone(),
            q: c.q.clone(),
            dp: c.dp.clone(),
            dq: c.dq.clone(),
            qinv: c.qinv.clone(),
        })?;
        check_bits(rsa.bits()).map_err(|_| CryptoError::InvalidKey("RSA modulus size"))?;
        Ok(Self { rsa })
    }

    /// A key from a DER PKCS#1 `RSAPrivateKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        let rsa = Rsa::from_pkcs1_der(der)?;
        check_bits(rsa.bits()).map_err(|_| CryptoError::InvalidKey("RSA modulus size"))?;
        Ok(Self { rsa })
    }

    /// The components.
    pub fn components(&self) -> Result<RsaComponents, CryptoError> {
        let c = self.rsa.components()?;
        Ok(RsaComponents {
            n: c.n,
            e: c.e,
            d: c.d,
            p: c.p,
            q: c.q,
            dp: c.dp,
            dq: c.dq,
            qinv: c.qinv,
        })
    }

    /// `(n, e)`, big-endian without leading zeros.
    pub fn public_components(&self) -> (Vec<u8>, Vec<u8>) {
        self.rsa.public_components()
    }

    /// The public half.
    pub fn public_key(&self) -> Result<RsaPublicKey, CryptoError> {
        let (n, e) = self.public_components();
        RsaPublicKey::new(&n, &e)
    }

    /// DER PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2).
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.rsa.to_pkcs1_der()
    }

    /// DER PKCS#8 `PrivateKeyInfo` (RFC 5208) wrapping the PKCS#1 key.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let pkcs1 = self.to_pkcs1_der()?;
        // version 0, AlgorithmIdentifier { rsaEncryption, NULL }.
        let mut body = Zeroizing::new(vec![
            0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
            0x01, 0x01, 0x05, 0x00, 0x04,
        ]);
        der_len(&mut body, pkcs1.len());
        body.extend_from_slice(&pkcs1);
        let mut out = Zeroizing::new(vec![0x30]);
        der_len(&mut out, body.len());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Modulus length in bytes (`k`).
    pub fn size(&self) -> usize {
        self.rsa.size()
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        self.rsa.bits()
    }

    /// RSASSA-PKCS1-v1_5 over `data` taken as a complete `DigestInfo`
    /// (PKCS#11 `CKM_RSA_PKCS`): at most `k − 11` bytes.
    pub fn sign_pkcs1_raw(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if data.len() + 11 > self.size() {
            return Err(CryptoError::InvalidParameter(
                "RSA PKCS#1 v1.5 input too long",
            ));
        }
        self.rsa.sign_pkcs1_raw(data)
    }

    /// RSASSA-PKCS1-v1_5 over `hash(message)`.
    pub fn sign_pkcs1(&self, hash: HashAlg, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.sign_pkcs1_raw(&digest_info(hash, message))
    }

    /// RSASSA-PSS over a digest the caller computed (its length must be
    /// that of `params.hash`).
    pub fn sign_pss_digest(
        &self,
        params: &PssParams,
        digest: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        check_pss(self.bits(), params, digest)?;
        self.rsa
            .sign_pss(digest, params.hash.md(), params.mgf1.md(), params.salt_len)
    }

    /// RSASSA-PSS over `hash(message)` (`params.hash` must be `hash`).
    pub fn sign_pss(
        &self,
        hash: HashAlg,
        params: &PssParams,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if params.hash != hash.into() {
            return Err(CryptoError::InvalidParameter("PSS hash mismatch"));
        }
        self.sign_pss_digest(params, &digest(hash, message))
    }

    /// RSAES-OAEP decryption. Errors do not distinguish the cause.
    pub fn decrypt_oaep(
        &self,
        params: &OaepParams,
        ct: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if ct.len() != self.size() {
            return Err(CryptoError::InvalidParameter("RSA ciphertext length"));
        }
        self.rsa
            .oaep(false, ct, params.hash.md(), params.mgf1.md(), &params.label)
    }

    /// The raw private-key operation: `I2OSP(c^d mod n, k)`. Only
    /// publicly invalid input (length ≠ `k`, `c ≥ n`) is an error.
    pub fn decrypt_raw(&self, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.rsa.decrypt_raw(ct)
    }

    /// RSAES-PKCS1-v1_5 decryption with implicit rejection (module
    /// documentation): the real message if the padding is valid, else the
    /// synthetic message for this key and ciphertext, indistinguishably.
    /// Only a ciphertext of the wrong length or not below `n` is an error.
    pub fn decrypt_pkcs1_implicit(&self, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let em = self.rsa.decrypt_raw(ct)?;
        let d = self.rsa.private_exponent_padded()?;
        Ok(implicit_rejection(&d, ct, &em))
    }

    /// The TLS RSA key exchange (RFC 5246 §7.4.7.1): decrypts an
    /// `EncryptedPreMasterSecret` and returns the 48-byte pre-master
    /// secret if the padding is valid, it is 48 bytes long and starts with
    /// `client_version`; otherwise 48 fresh random bytes. All three checks
    /// and the selection are constant time; the caller learns nothing
    /// about which case happened. Only a ciphertext of the wrong length or
    /// not below `n` is an error (public information).
    pub fn decrypt_tls_premaster(
        &self,
        ct: &[u8],
        client_version: [u8; 2],
    ) -> Result<Zeroizing<[u8; 48]>, CryptoError> {
        let mut random = Zeroizing::new([0u8; 48]);
        crate::fill_random(&mut random[..])?;
        let em = self.rsa.decrypt_raw(ct)?;
        Ok(tls_premaster_select(&em, client_version, &random))
    }
}

/// Checks PSS parameters against the key size and the digest length.
fn check_pss(bits: usize, params: &PssParams, digest: &[u8]) -> Result<(), CryptoError> {
    let h = params.hash.output_len();
    if digest.len() != h {
        return Err(CryptoError::InvalidParameter("PSS digest length"));
    }
    // emLen = ceil((modBits − 1) / 8) ≥ hLen + sLen + 2 (RFC 8017 §9.1.1).
    let em_len = (bits - 1).div_ceil(8);
    if h + params.salt_len + 2 > em_len {
        return Err(CryptoError::InvalidParameter("PSS salt length"));
    }
    Ok(())
}

/// Chooses the TLS pre-master: `em[k−48..]` if `em` is `00 02 PS 00 M`
/// with a non-zero `PS` of `k − 51` bytes, `M` of 48 bytes starting with
/// `version`; else `random`. Constant time (OpenSSL's
/// `ossl_rsa_padding_check_PKCS1_type_2_TLS` logic, on masks).
fn tls_premaster_select(em: &[u8], version: [u8; 2], random: &[u8; 48]) -> Zeroizing<[u8; 48]> {
    let k = em.len();
    debug_assert!(k >= 11 + 48);
    let mut good = ct::is_zero(usize::from(em[0])) & ct::eq(usize::from(em[1]), 2);
    for &b in &em[2..k - 49] {
        good &= !ct::is_zero(usize::from(b));
    }
    good &= ct::is_zero(usize::from(em[k - 49]));
    good &= ct::eq(usize::from(em[k - 48]), usize::from(version[0]));
    good &= ct::eq(usize::from(em[k - 47]), usize::from(version[1]));
    let mut out = Zeroizing::new([0u8; 48]);
    let m = &em[k - 48..];
    for i in 0..48 {
        out[i] = ct::select(good, usize::from(m[i]), usize::from(random[i])) as u8;
    }
    out
}

/// The implicit-rejection PRF: `L` bytes of HMAC-SHA256 in counter mode.
fn ir_prf(kdk: &HmacKey, label: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let bits = u16::try_from(len * 8).unwrap_or(u16::MAX).to_be_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(len + 32));
    let mut i = 0u16;
    while out.len() < len {
        out.extend_from_slice(&kdk.sign(&[&i.to_be_bytes(), label, &bits]));
        i = i.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// PKCS#1 v1.5 type 2 depadding of `em` with implicit rejection; `d` is
/// the private exponent and `ct` the ciphertext, both of `em.len()` bytes.
fn implicit_rejection(d: &[u8], ct: &[u8], em: &[u8]) -> Zeroizing<Vec<u8>> {
    let k = em.len();
    // KDK = HMAC-SHA256(SHA-256(d), C); C is already k bytes (checked by
    // `decrypt_raw`).
    let d_hash = Zeroizing::new(digest(HashAlg::Sha256, d));
    let kdk = HmacKey::new(HashAlg::Sha256, &d_hash).sign(&[ct]);
    let kdk = HmacKey::new(HashAlg::Sha256, &kdk);
    let synthetic = ir_prf(&kdk, b"message", k);
    let lengths = ir_prf(&kdk, b"length", 256);

    // The longest message: k − 2 header bytes − 8 padding bytes − 1.
    let max_sep_offset = k - 10;
    let mut len_mask = max_sep_offset;
    len_mask |= len_mask >> 1;
    len_mask |= len_mask >> 2;
    len_mask |= len_mask >> 4;
    len_mask |= len_mask >> 8;
    let mut synthetic_len = 0usize;
    for pair in lengths.chunks_exact(2) {
        let candidate = ((usize::from(pair[0]) << 8) | usize::from(pair[1])) & len_mask;
        synthetic_len = ct::select(ct::lt(candidate, max_sep_offset), candidate, synthetic_len);
    }
    let synthetic_index = k - synthetic_len;

    let mut good = ct::is_zero(usize::from(em[0])) & ct::eq(usize::from(em[1]), 2);
    let mut found_zero = 0usize;
    let mut zero_index = 0usize;
    for (i, &b) in em.iter().enumerate().skip(2) {
        let is0 = ct::is_zero(usize::from(b));
        zero_index = ct::select(!found_zero & is0, i, zero_index);
        found_zero |= is0;
    }
    // At least eight padding bytes; zero_index = 0 (no separator) fails.
    good &= ct::ge(zero_index, 2 + 8);
    let msg_index = ct::select(good, zero_index + 1, synthetic_index);

    // `msg_index` now says nothing about `good`; read both buffers at
    // every position so that memory access does not either.
    let mut out = Zeroizing::new(Vec::with_capacity(k - msg_index));
    for i in msg_index..k {
        out.push(ct::select(good, usize::from(em[i]), usize::from(synthetic[i])) as u8);
    }
    out
}

fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

/// An RSA public key.
pub struct RsaPublicKey {
    rsa: Rsa,
}

impl core::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.bits())
            .finish()
    }
}

impl RsaPublicKey {
    /// From modulus and public exponent (big-endian); 2048–4096 bits.
    pub fn new(n: &[u8], e: &[u8]) -> Result<Self, CryptoError> {
        let rsa = Rsa::public(n, e)?;
        check_bits(rsa.bits()).map_err(|_| CryptoError::InvalidKey("RSA modulus size"))?;
        Ok(Self { rsa })
    }

    /// Modulus length in bytes.
    pub fn size(&self) -> usize {
        self.rsa.size()
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        self.rsa.bits()
    }

    /// Checks an RSASSA-PKCS1-v1_5 signature over `data` taken as the
    /// complete signed `DigestInfo` (`CKM_RSA_PKCS`).
    pub fn verify_pkcs1_raw(&self, data: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        if sig.len() != self.size() {
            return Err(CryptoError::BadSignature);
        }
        match self.rsa.verify_pkcs1_raw(sig) {
            Some(recovered) if ct::bytes_eq(&recovered, data) => Ok(()),
            _ => Err(CryptoError::BadSignature),
        }
    }

    /// Checks an RSASSA-PKCS1-v1_5 signature over `hash(message)`.
    pub fn verify_pkcs1(
        &self,
        hash: HashAlg,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        self.verify_pkcs1_raw(&digest_info(hash, message), sig)
    }

    /// Checks an RSASSA-PSS signature over a digest.
    pub fn verify_pss_digest(
        &self,
        params: &PssParams,
        digest: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        check_pss(self.bits(), params, digest)?;
        if sig.len() != self.size() {
            return Err(CryptoError::BadSignature);
        }
        if self.rsa.verify_pss(
            digest,
            params.hash.md(),
            params.mgf1.md(),
            params.salt_len,
            sig,
        ) {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }

    /// Checks an RSASSA-PSS signature over `hash(message)`.
    pub fn verify_pss(
        &self,
        hash: HashAlg,
        params: &PssParams,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        if params.hash != hash.into() {
            return Err(CryptoError::InvalidParameter("PSS hash mismatch"));
        }
        self.verify_pss_digest(params, &digest(hash, message), sig)
    }

    /// RSAES-PKCS1-v1_5 encryption of at most `k − 11` bytes.
    pub fn encrypt_pkcs1(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if msg.len() + 11 > self.size() {
            return Err(CryptoError::InvalidParameter("RSA message too long"));
        }
        self.rsa.encrypt_pkcs1(msg)
    }

    /// RSAES-OAEP encryption of at most `k − 2·hLen − 2` bytes.
    pub fn encrypt_oaep(&self, params: &OaepParams, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if msg.len() + 2 * params.hash.output_len() + 2 > self.size() {
            return Err(CryptoError::InvalidParameter("RSA message too long"));
        }
        self.rsa
            .oaep(true, msg, params.hash.md(), params.mgf1.md(), &params.label)
            .map(|v| v.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::generate(2048).unwrap())
    }

    #[test]
    fn generate_export_import() {
        let k = key();
        assert_eq!(k.bits(), 2048);
        assert_eq!(k.size(), 256);
        let c = k.components().unwrap();
        assert_eq!(c.e, vec![1, 0, 1]);
        assert_eq!(c.n.len(), 256);
        let back = RsaPrivateKey::from_components(&c).unwrap();
        assert_eq!(back.public_components(), k.public_components());
        let der = k.to_pkcs1_der().unwrap();
        let again = RsaPrivateKey::from_pkcs1_der(&der).unwrap();
        assert_eq!(again.public_components(), k.public_components());
        // The PKCS#8 form loads in the rest of the crate.
        let p8 = k.to_pkcs8_der().unwrap();
        let sk = crate::signing::SigningKey::from_der(&p8).unwrap();
        assert_eq!(sk.kind(), crate::KeyKind::Rsa);
        // A wrong CRT value is refused.
        let mut bad = c.clone();
        let last = bad.qinv.len() - 1;
        bad.qinv[last] ^= 1;
        assert!(RsaPrivateKey::from_components(&bad).is_err());
        assert!(RsaPrivateKey::generate(1024).is_err());
        assert!(RsaPrivateKey::generate(8192).is_err());
    }

    #[test]
    fn pkcs1_and_pss_signatures() {
        let k = key();
        let public = k.public_key().unwrap();
        for hash in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let sig = k.sign_pkcs1(hash, b"message").unwrap();
            public.verify_pkcs1(hash, b"message", &sig).unwrap();
            assert!(public.verify_pkcs1(hash, b"messagf", &sig).is_err());
            // Interoperates with aws-lc-rs's own verification.
            let (n, e) = k.public_components();
            let spki_less = crate::signing::verify(
                crate::KeyKind::Rsa,
                &rsa_public_der(&n, &e),
                crate::signing::SignatureScheme::RsaPkcs1(hash),
                b"message",
                &sig,
            );
            spki_less.unwrap();
            let params = PssParams {
                hash: hash.into(),
                mgf1: hash.into(),
                salt_len: hash.output_len(),
            };
            let sig = k.sign_pss(hash, &params, b"message").unwrap();
            public.verify_pss(hash, &params, b"message", &sig).unwrap();
            crate::signing::verify(
                crate::KeyKind::Rsa,
                &rsa_public_der(&n, &e),
                crate::signing::SignatureScheme::RsaPss(hash),
                b"message",
                &sig,
            )
            .unwrap();
            let other = PssParams {
                salt_len: 0,
                ..params
            };
            assert!(public.verify_pss(hash, &other, b"message", &sig).is_err());
        }
        // Prehashed PSS with SHA-1 MGF and a zero salt.
        let params = PssParams {
            hash: RsaHash::Sha256,
            mgf1: RsaHash::Sha1,
            salt_len: 0,
        };
        let h = digest(HashAlg::Sha256, b"x");
        let sig = k.sign_pss_digest(&params, &h).unwrap();
        public.verify_pss_digest(&params, &h, &sig).unwrap();
        assert!(k.sign_pss_digest(&params, &h[1..]).is_err());
        let huge = PssParams {
            salt_len: 256,
            ..params
        };
        assert!(k.sign_pss_digest(&huge, &h).is_err());
        // Raw DigestInfo input and its length limit.
        let sig = k.sign_pkcs1_raw(b"anything").unwrap();
        public.verify_pkcs1_raw(b"anything", &sig).unwrap();
        assert!(k.sign_pkcs1_raw(&[1; 246]).is_err());
        k.sign_pkcs1_raw(&[1; 245]).unwrap();
    }

    fn rsa_public_der(n: &[u8], e: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        for v in [n, e] {
            body.push(0x02);
            let pad = v[0] & 0x80 != 0;
            der_len(&mut body, v.len() + usize::from(pad));
            if pad {
                body.push(0);
            }
            body.extend_from_slice(v);
        }
        let mut out = vec![0x30];
        der_len(&mut out, body.len());
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn oaep_round_trip() {
        let k = key();
        let public = k.public_key().unwrap();
        for (hash, mgf1, label) in [
            (RsaHash::Sha1, RsaHash::Sha1, &b""[..]),
            (RsaHash::Sha256, RsaHash::Sha256, b"label"),
            (RsaHash::Sha384, RsaHash::Sha1, b""),
            (RsaHash::Sha512, RsaHash::Sha512, b"l"),
        ] {
            let params = OaepParams {
                hash,
                mgf1,
                label: label.to_vec(),
            };
            let max = 256 - 2 * hash.output_len() - 2;
            let ct = public.encrypt_oaep(&params, &vec![7; max]).unwrap();
            assert_eq!(
                &k.decrypt_oaep(&params, &ct).unwrap()[..],
                &vec![7; max][..]
            );
            assert!(public.encrypt_oaep(&params, &vec![7; max + 1]).is_err());
            let wrong = OaepParams {
                label: b"other".to_vec(),
                ..params.clone()
            };
            assert!(k.decrypt_oaep(&wrong, &ct).is_err());
        }
    }

    #[test]
    fn pkcs1_decryption_with_implicit_rejection() {
        let k = key();
        let public = k.public_key().unwrap();
        for len in [0usize, 1, 48, 245] {
            let msg = vec![0xa5; len];
            let ct = public.encrypt_pkcs1(&msg).unwrap();
            assert_eq!(&k.decrypt_pkcs1_implicit(&ct).unwrap()[..], &msg[..]);
        }
        assert!(public.encrypt_pkcs1(&[0; 246]).is_err());
        // Bad padding: deterministic, bounded, different per ciphertext,
        // and the same for a key rebuilt from its components.
        let rebuilt = RsaPrivateKey::from_components(&k.components().unwrap()).unwrap();
        let mut seen = Vec::new();
        for i in 1u8..=8 {
            let mut ct = vec![0u8; 256];
            ct[255] = i;
            ct[100] = 0x33;
            let a = k.decrypt_pkcs1_implicit(&ct).unwrap();
            let b = k.decrypt_pkcs1_implicit(&ct).unwrap();
            assert_eq!(a, b);
            assert_eq!(a, rebuilt.decrypt_pkcs1_implicit(&ct).unwrap());
            assert!(a.len() <= 256 - 11);
            assert!(!seen.contains(&a));
            seen.push(a);
        }
        // Publicly invalid ciphertexts are errors.
        assert!(k.decrypt_pkcs1_implicit(&[0; 255]).is_err());
        assert!(k.decrypt_pkcs1_implicit(&[0xff; 256]).is_err());
    }

    #[test]
    fn openssl_ciphertexts_decrypt() {
        // Valid PKCS#1 v1.5 and OAEP ciphertexts made by `openssl pkeyutl`
        // decrypt to the message (skipped without an openssl binary).
        let k = key();
        let dir = std::env::temp_dir().join(format!("hsmtls-rsa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key_path = dir.join("key.der");
        std::fs::write(&key_path, &*k.to_pkcs8_der().unwrap()).unwrap();
        let msg_path = dir.join("msg");
        std::fs::write(&msg_path, b"pre-master secret from openssl").unwrap();
        for (opts, oaep) in [
            (&["-pkeyopt", "rsa_padding_mode:pkcs1"][..], false),
            (
                &[
                    "-pkeyopt",
                    "rsa_padding_mode:oaep",
                    "-pkeyopt",
                    "rsa_oaep_md:sha256",
                    "-pkeyopt",
                    "rsa_mgf1_md:sha256",
                ][..],
                true,
            ),
        ] {
            let ct_path = dir.join("ct");
            let status = std::process::Command::new("openssl")
                .args(["pkeyutl", "-encrypt", "-keyform", "DER", "-inkey"])
                .arg(&key_path)
                .arg("-in")
                .arg(&msg_path)
                .arg("-out")
                .arg(&ct_path)
                .args(opts)
                .status();
            let Ok(status) = status else {
                eprintln!("openssl not found; skipped");
                return;
            };
            assert!(status.success());
            let ct = std::fs::read(&ct_path).unwrap();
            let pt = if oaep {
                let params = OaepParams {
                    hash: RsaHash::Sha256,
                    mgf1: RsaHash::Sha256,
                    label: Vec::new(),
                };
                k.decrypt_oaep(&params, &ct).unwrap()
            } else {
                k.decrypt_pkcs1_implicit(&ct).unwrap()
            };
            assert_eq!(&pt[..], b"pre-master secret from openssl");
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn implicit_rejection_padding_rules() {
        // Depadding on a fixed `em`, independent of RSA.
        let k = 64;
        let d = vec![3u8; k];
        let c = vec![9u8; k];
        let mut em = vec![0x11u8; k];
        em[0] = 0;
        em[1] = 2;
        em[50] = 0;
        assert_eq!(&implicit_rejection(&d, &c, &em)[..], &em[51..]);
        // Separator right after eight padding bytes: valid, longest message.
        let mut short = em.clone();
        short[50] = 0x11;
        short[10] = 0;
        assert_eq!(&implicit_rejection(&d, &c, &short)[..], &short[11..]);
        // Only seven padding bytes, wrong type, no separator: synthetic.
        let synthetic = |em: &[u8]| implicit_rejection(&d, &c, em);
        let mut seven = short.clone();
        seven[10] = 1;
        seven[9] = 0;
        let mut wrong_type = em.clone();
        wrong_type[1] = 1;
        let mut no_sep = em.clone();
        no_sep[50] = 1;
        let s = synthetic(&seven);
        assert_eq!(s, synthetic(&wrong_type));
        assert_eq!(s, synthetic(&no_sep));
        assert!(s.len() < k - 10);
        assert_ne!(&s[..], &em[51..]);
        // The synthetic message depends on the key and the ciphertext.
        assert_ne!(s, implicit_rejection(&[4u8; 64], &c, &seven));
        assert_ne!(s, implicit_rejection(&d, &[8u8; 64], &seven));
    }

    #[test]
    fn tls_premaster_checks() {
        let k = key();
        let public = k.public_key().unwrap();
        let mut pms = [0x42u8; 48];
        pms[0] = 3;
        pms[1] = 3;
        let ct = public.encrypt_pkcs1(&pms).unwrap();
        assert_eq!(*k.decrypt_tls_premaster(&ct, [3, 3]).unwrap(), pms);
        // Wrong version: random and fresh every time.
        let a = k.decrypt_tls_premaster(&ct, [3, 1]).unwrap();
        let b = k.decrypt_tls_premaster(&ct, [3, 1]).unwrap();
        assert_ne!(*a, pms);
        assert_ne!(a, b);
        // Wrong length.
        let ct = public.encrypt_pkcs1(&pms[..47]).unwrap();
        assert_ne!(
            &k.decrypt_tls_premaster(&ct, [3, 3]).unwrap()[..47],
            &pms[..47]
        );
        // Bad padding (a raw value).
        let mut ct = vec![0u8; 256];
        ct[255] = 2;
        assert!(k.decrypt_tls_premaster(&ct, [3, 3]).is_ok());
    }
}
