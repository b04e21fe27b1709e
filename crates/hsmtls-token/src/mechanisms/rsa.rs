//! RSA (PKCS#11 3.0 §2.1): `CKM_RSA_PKCS_KEY_PAIR_GEN` (2048–4096 bits,
//! e = 65537), `CKM_RSA_PKCS` (sign/verify over a caller-built
//! `DigestInfo`; encrypt; decrypt with implicit rejection),
//! `CKM_RSA_PKCS_PSS` (over a digest), `CKM_SHA256/384/512_RSA_PKCS(_PSS)`
//! (multi-part), `CKM_RSA_PKCS_OAEP`, and the hsmtls vendor mechanism
//! [`CKM_HSMTLS_RSA_PREMASTER_TO_MASTER`](crate::abi::rsa) (see
//! docs/token-vendor-mechanisms.md).
//!
//! # No padding oracle
//!
//! `CKM_RSA_PKCS` decryption never reports bad padding: a malformed
//! plaintext yields a synthetic message derived from the key and the
//! ciphertext (implicit rejection, `hsmtls_crypto::rsa`), so
//! `C_Decrypt` answers `CKR_OK` either way, in the same time. Only a
//! ciphertext of the wrong length (`CKR_ENCRYPTED_DATA_LEN_RANGE`) or not
//! below the modulus (`CKR_ENCRYPTED_DATA_INVALID`), both public facts, is
//! an error.

use std::sync::Arc;

use cryptoki_sys::*;
use hsmtls_crypto::hash::RunningHash;
use hsmtls_crypto::prf::tls12_prf;
use hsmtls_crypto::rsa::{
    OaepParams, PssParams, RsaComponents, RsaHash, RsaPrivateKey, RsaPublicKey, MAX_BITS, MIN_BITS,
};
use hsmtls_crypto::HashAlg;
use zeroize::Zeroizing;

use super::{hash_of, require_key_type, Cipher, Derived, Mechanism, Param, Sign, Verify};
use crate::error::{err, Error, Result};
use crate::object::Object;

/// The only public exponent generated: 65537.
const F4: [u8; 3] = [1, 0, 1];

/// The private-key attributes, in `RsaComponents` order after `n`, `e`.
const PRIVATE_ATTRS: [CK_ATTRIBUTE_TYPE; 6] = [
    CKA_PRIVATE_EXPONENT,
    CKA_PRIME_1,
    CKA_PRIME_2,
    CKA_EXPONENT_1,
    CKA_EXPONENT_2,
    CKA_COEFFICIENT,
];

fn strip_zeros(mut v: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = v {
        v = rest;
    }
    v
}

/// `CKM_RSA_PKCS_KEY_PAIR_GEN`: `CKA_MODULUS_BITS` (2048–4096, a multiple
/// of 128) from the public template; `CKA_PUBLIC_EXPONENT`, if given, must
/// be 65537.
pub fn generate_key_pair(
    m: &Mechanism,
    public: &Object,
    private: &Object,
) -> Result<(CK_KEY_TYPE, Object, Object)> {
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let bits = public
        .ulong(CKA_MODULUS_BITS)
        .ok_or(Error::new(CKR_TEMPLATE_INCOMPLETE))? as usize;
    if !(MIN_BITS..=MAX_BITS).contains(&bits) || bits % 128 != 0 {
        return err(CKR_KEY_SIZE_RANGE);
    }
    let e = public.get(CKA_PUBLIC_EXPONENT).unwrap_or(&F4).to_vec();
    if strip_zeros(&e) != F4 {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    if private
        .get(CKA_PUBLIC_EXPONENT)
        .is_some_and(|pe| strip_zeros(pe) != F4)
    {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    let key = RsaPrivateKey::generate(bits).map_err(|_| Error::new(CKR_KEY_SIZE_RANGE))?;
    let c = key.components()?;
    let mut pubo = Object::new();
    pubo.set(CKA_MODULUS, c.n.clone());
    pubo.set(CKA_PUBLIC_EXPONENT, e.clone());
    pubo.set_ulong(CKA_MODULUS_BITS, bits as CK_ULONG);
    let mut privo = Object::new();
    privo.set(CKA_MODULUS, c.n.clone());
    privo.set(
        CKA_PUBLIC_EXPONENT,
        private.get(CKA_PUBLIC_EXPONENT).map_or(e, <[u8]>::to_vec),
    );
    for (t, v) in PRIVATE_ATTRS
        .into_iter()
        .zip([&c.d, &c.p, &c.q, &c.dp, &c.dq, &c.qinv])
    {
        privo.set_bytes(t, v);
    }
    Ok((CKK_RSA, pubo, privo))
}

/// Checks a new RSA private key object (`C_CreateObject`, `C_UnwrapKey`):
/// all eight CRT components present and consistent, 2048–4096 bits.
pub fn check_private(obj: &Object) -> Result<()> {
    private_key(obj).map(|_| ()).map_err(|e| {
        if e.rv() == CKR_TEMPLATE_INCOMPLETE {
            e
        } else {
            Error::new(CKR_ATTRIBUTE_VALUE_INVALID)
        }
    })
}

/// Checks a new RSA public key object and returns its `CKA_MODULUS_BITS`.
pub fn check_public(obj: &Object) -> Result<CK_ULONG> {
    let (Some(n), Some(e)) = (obj.get(CKA_MODULUS), obj.get(CKA_PUBLIC_EXPONENT)) else {
        return err(CKR_TEMPLATE_INCOMPLETE);
    };
    let key = RsaPublicKey::new(n, e).map_err(|_| Error::new(CKR_ATTRIBUTE_VALUE_INVALID))?;
    Ok(key.bits() as CK_ULONG)
}

/// The private key of an RSA private-key object, built and checked once
/// per object.
fn private_key(obj: &Object) -> Result<Arc<RsaPrivateKey>> {
    require_key_type(obj, &[CKK_RSA])?;
    if obj.class() != CKO_PRIVATE_KEY {
        return err(CKR_KEY_TYPE_INCONSISTENT);
    }
    obj.rsa_private_key(|| build_private_key(obj))
}

fn build_private_key(obj: &Object) -> Result<RsaPrivateKey> {
    let get = |t| {
        obj.get(t)
            .map(|v| Zeroizing::new(v.to_vec()))
            .ok_or(Error::new(CKR_TEMPLATE_INCOMPLETE))
    };
    let c = RsaComponents {
        n: get(CKA_MODULUS)?.to_vec(),
        e: get(CKA_PUBLIC_EXPONENT)?.to_vec(),
        d: get(CKA_PRIVATE_EXPONENT)?,
        p: get(CKA_PRIME_1)?,
        q: get(CKA_PRIME_2)?,
        dp: get(CKA_EXPONENT_1)?,
        dq: get(CKA_EXPONENT_2)?,
        qinv: get(CKA_COEFFICIENT)?,
    };
    RsaPrivateKey::from_components(&c).map_err(|_| Error::new(CKR_KEY_TYPE_INCONSISTENT))
}

/// The eight components of an RSA private-key object (for wrapping as
/// PKCS#8). A token object whose sealed part is not loaded (no login)
/// is `CKR_USER_NOT_LOGGED_IN`.
pub fn components(obj: &Object) -> Result<RsaComponents> {
    if !obj.has(CKA_PRIVATE_EXPONENT) {
        return err(CKR_USER_NOT_LOGGED_IN);
    }
    Ok(private_key(obj)?.components()?)
}

/// The public key of an RSA public-key object.
fn public_key(obj: &Object) -> Result<RsaPublicKey> {
    require_key_type(obj, &[CKK_RSA])?;
    if obj.class() != CKO_PUBLIC_KEY {
        return err(CKR_KEY_TYPE_INCONSISTENT);
    }
    match (obj.get(CKA_MODULUS), obj.get(CKA_PUBLIC_EXPONENT)) {
        (Some(n), Some(e)) => {
            RsaPublicKey::new(n, e).map_err(|_| Error::new(CKR_KEY_TYPE_INCONSISTENT))
        }
        _ => err(CKR_KEY_TYPE_INCONSISTENT),
    }
}

/// `CKM_SHA*` → the hash of a PSS / OAEP parameter (SHA-1 included).
fn rsa_hash(m: CK_MECHANISM_TYPE) -> Result<RsaHash> {
    Ok(match m {
        CKM_SHA_1 => RsaHash::Sha1,
        CKM_SHA256 => RsaHash::Sha256,
        CKM_SHA384 => RsaHash::Sha384,
        CKM_SHA512 => RsaHash::Sha512,
        _ => return err(CKR_MECHANISM_PARAM_INVALID),
    })
}

/// `CKG_MGF1_*` → its hash.
fn mgf_hash(mgf: CK_RSA_PKCS_MGF_TYPE) -> Result<RsaHash> {
    Ok(match mgf {
        CKG_MGF1_SHA1 => RsaHash::Sha1,
        CKG_MGF1_SHA256 => RsaHash::Sha256,
        CKG_MGF1_SHA384 => RsaHash::Sha384,
        CKG_MGF1_SHA512 => RsaHash::Sha512,
        _ => return err(CKR_MECHANISM_PARAM_INVALID),
    })
}

/// The message hash of `CKM_SHA*_RSA_PKCS(_PSS)`; `None` for the raw
/// mechanisms.
fn message_hash(m: CK_MECHANISM_TYPE) -> Option<HashAlg> {
    match m {
        CKM_SHA256_RSA_PKCS | CKM_SHA256_RSA_PKCS_PSS => Some(HashAlg::Sha256),
        CKM_SHA384_RSA_PKCS | CKM_SHA384_RSA_PKCS_PSS => Some(HashAlg::Sha384),
        CKM_SHA512_RSA_PKCS | CKM_SHA512_RSA_PKCS_PSS => Some(HashAlg::Sha512),
        _ => None,
    }
}

/// The PSS parameters of `m` for a key of `bits` bits: the MGF1 hash must
/// be the message hash, the hashed variants must name their own hash, and
/// the salt must fit (`emLen ≥ hLen + sLen + 2`).
fn pss_params(m: &Mechanism, bits: usize) -> Result<PssParams> {
    let Param::RsaPss {
        hash,
        mgf,
        salt_len,
    } = m.param
    else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let hash = rsa_hash(hash)?;
    if mgf_hash(mgf)? != hash {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    if let Some(h) = message_hash(m.mechanism) {
        if RsaHash::from(h) != hash {
            return err(CKR_MECHANISM_PARAM_INVALID);
        }
    }
    let salt_len = salt_len as usize;
    if hash.output_len() + salt_len + 2 > (bits - 1).div_ceil(8) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(PssParams {
        hash,
        mgf1: hash,
        salt_len,
    })
}

fn is_pss(m: CK_MECHANISM_TYPE) -> bool {
    matches!(
        m,
        CKM_RSA_PKCS_PSS
            | CKM_SHA256_RSA_PKCS_PSS
            | CKM_SHA384_RSA_PKCS_PSS
            | CKM_SHA512_RSA_PKCS_PSS
    )
}

/// What is signed, and how the input is taken.
enum Input {
    /// Raw (`CKM_RSA_PKCS`, `CKM_RSA_PKCS_PSS`): single-part, collected.
    Raw(Vec<u8>),
    /// Hashed here, multi-part.
    Hashed(RunningHash),
}

impl Input {
    fn new(m: &Mechanism) -> Self {
        match message_hash(m.mechanism) {
            Some(h) => Self::Hashed(RunningHash::new(h)),
            None => Self::Raw(Vec::new()),
        }
    }
    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Raw(v) => v.extend_from_slice(data),
            Self::Hashed(h) => h.update(data),
        }
    }
    fn single_part(&self) -> bool {
        matches!(self, Self::Raw(_))
    }
    /// The signed value: a `DigestInfo` (PKCS#1) or a digest (PSS).
    fn value(&self, pkcs1: bool) -> Vec<u8> {
        match self {
            Self::Raw(v) => v.clone(),
            Self::Hashed(h) if pkcs1 => {
                let mut out = hsmtls_crypto::rsa::digest_info_prefix(h.algorithm()).to_vec();
                out.extend_from_slice(&h.current());
                out
            }
            Self::Hashed(h) => h.current(),
        }
    }
}

struct RsaSign {
    key: Arc<RsaPrivateKey>,
    pss: Option<PssParams>,
    input: Input,
}

impl Sign for RsaSign {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.input.update(data);
        Ok(())
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        let value = self.input.value(self.pss.is_none());
        let sig = match &self.pss {
            None => {
                if value.len() + 11 > self.key.size() {
                    return err(CKR_DATA_LEN_RANGE);
                }
                self.key.sign_pkcs1_raw(&value)?
            }
            Some(p) => {
                if value.len() != p.hash.output_len() {
                    return err(CKR_DATA_LEN_RANGE);
                }
                self.key.sign_pss_digest(p, &value)?
            }
        };
        Ok(Zeroizing::new(sig))
    }
    fn signature_len(&self) -> usize {
        self.key.size()
    }
    fn single_part_only(&self) -> bool {
        self.input.single_part()
    }
}

/// Starts an RSA signature (PKCS#1 v1.5 or PSS, raw or hashed).
pub fn sign(m: &Mechanism, key: &Object) -> Result<Box<dyn Sign>> {
    let pss = is_pss(m.mechanism);
    if !pss && !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let key = private_key(key)?;
    let pss = if pss {
        Some(pss_params(m, key.bits())?)
    } else {
        None
    };
    Ok(Box::new(RsaSign {
        key,
        pss,
        input: Input::new(m),
    }))
}

struct RsaVerify {
    key: RsaPublicKey,
    pss: Option<PssParams>,
    input: Input,
}

impl Verify for RsaVerify {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.input.update(data);
        Ok(())
    }
    fn finish(&mut self, signature: &[u8]) -> Result<()> {
        let value = self.input.value(self.pss.is_none());
        match &self.pss {
            None if value.len() + 11 > self.key.size() => return err(CKR_DATA_LEN_RANGE),
            Some(p) if value.len() != p.hash.output_len() => return err(CKR_DATA_LEN_RANGE),
            _ => {}
        }
        if signature.len() != self.key.size() {
            return err(CKR_SIGNATURE_LEN_RANGE);
        }
        let ok = match &self.pss {
            None => self.key.verify_pkcs1_raw(&value, signature),
            Some(p) => self.key.verify_pss_digest(p, &value, signature),
        };
        ok.map_err(|_| Error::new(CKR_SIGNATURE_INVALID))
    }
    fn single_part_only(&self) -> bool {
        self.input.single_part()
    }
}

/// Starts an RSA verification.
pub fn verify(m: &Mechanism, key: &Object) -> Result<Box<dyn Verify>> {
    let pss = is_pss(m.mechanism);
    if !pss && !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let key = public_key(key)?;
    let pss = if pss {
        Some(pss_params(m, key.bits())?)
    } else {
        None
    };
    Ok(Box::new(RsaVerify {
        key,
        pss,
        input: Input::new(m),
    }))
}

/// The OAEP parameters of `m` (`None` for `CKM_RSA_PKCS`).
fn oaep_params(m: &Mechanism) -> Result<Option<OaepParams>> {
    match (&m.param, m.mechanism) {
        (Param::None, CKM_RSA_PKCS) => Ok(None),
        (
            Param::RsaOaep {
                hash,
                mgf,
                source,
                label,
            },
            CKM_RSA_PKCS_OAEP,
        ) => {
            if *source != CKZ_DATA_SPECIFIED && !(*source == 0 && label.is_empty()) {
                return err(CKR_MECHANISM_PARAM_INVALID);
            }
            Ok(Some(OaepParams {
                hash: rsa_hash(*hash)?,
                mgf1: mgf_hash(*mgf)?,
                label: label.clone(),
            }))
        }
        _ => err(CKR_MECHANISM_PARAM_INVALID),
    }
}

/// The longest plaintext for a modulus of `k` bytes.
fn max_plaintext(k: usize, oaep: &Option<OaepParams>) -> usize {
    match oaep {
        None => k - 11,
        Some(p) => k.saturating_sub(2 * p.hash.output_len() + 2),
    }
}

struct RsaEncrypt {
    key: RsaPublicKey,
    oaep: Option<OaepParams>,
    data: Zeroizing<Vec<u8>>,
}

impl Cipher for RsaEncrypt {
    fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.data.extend_from_slice(data);
        if self.data.len() > max_plaintext(self.key.size(), &self.oaep) {
            return err(CKR_DATA_LEN_RANGE);
        }
        Ok(Zeroizing::new(Vec::new()))
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        let ct = match &self.oaep {
            None => self.key.encrypt_pkcs1(&self.data),
            Some(p) => self.key.encrypt_oaep(p, &self.data),
        }
        .map_err(|_| Error::new(CKR_DATA_LEN_RANGE))?;
        Ok(Zeroizing::new(ct))
    }
    fn update_len(&self, _n: usize) -> usize {
        0
    }
    fn final_len(&self) -> usize {
        self.key.size()
    }
}

/// Starts `CKM_RSA_PKCS` / `CKM_RSA_PKCS_OAEP` encryption.
pub fn encrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    let oaep = oaep_params(m)?;
    let key = public_key(key)?;
    Ok(Box::new(RsaEncrypt {
        key,
        oaep,
        data: Zeroizing::new(Vec::new()),
    }))
}

struct RsaDecrypt {
    key: Arc<RsaPrivateKey>,
    oaep: Option<OaepParams>,
    data: Vec<u8>,
}

impl Cipher for RsaDecrypt {
    fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.data.extend_from_slice(data);
        if self.data.len() > self.key.size() {
            return err(CKR_ENCRYPTED_DATA_LEN_RANGE);
        }
        Ok(Zeroizing::new(Vec::new()))
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        if self.data.len() != self.key.size() {
            return err(CKR_ENCRYPTED_DATA_LEN_RANGE);
        }
        match &self.oaep {
            None => self.key.decrypt_pkcs1_implicit(&self.data),
            Some(p) => self.key.decrypt_oaep(p, &self.data),
        }
        .map_err(|_| Error::new(CKR_ENCRYPTED_DATA_INVALID))
    }
    fn update_len(&self, _n: usize) -> usize {
        0
    }
    fn final_len(&self) -> usize {
        self.key.size()
    }
}

/// Starts `CKM_RSA_PKCS` (implicit rejection) / `CKM_RSA_PKCS_OAEP`
/// decryption.
pub fn decrypt(m: &Mechanism, key: &Object) -> Result<Box<dyn Cipher>> {
    let oaep = oaep_params(m)?;
    let key = private_key(key)?;
    Ok(Box::new(RsaDecrypt {
        key,
        oaep,
        data: Vec::new(),
    }))
}

/// The parsed `CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS`
/// ([`crate::abi::rsa`]).
#[derive(Clone, Debug)]
pub struct PremasterParams {
    /// `EncryptedPreMasterSecret` from the ClientKeyExchange.
    pub encrypted: Vec<u8>,
    /// `ClientHello.client_version` (major, minor).
    pub client_version: [u8; 2],
    /// PRF hash (`CKM_SHA256` / `CKM_SHA384` / `CKM_SHA512`).
    pub prf: CK_MECHANISM_TYPE,
    /// Extended master secret (RFC 7627) over `session_hash`, else the
    /// RFC 5246 master secret over the randoms.
    pub ems: bool,
    /// `ClientHello.random`, `ServerHello.random` (non-EMS).
    pub randoms: super::Randoms,
    /// `Hash(handshake_messages)` (EMS).
    pub session_hash: Vec<u8>,
}

/// `CKM_HSMTLS_RSA_PREMASTER_TO_MASTER` (`C_DeriveKey` on an RSA private
/// key with `CKA_DERIVE`): decrypts the pre-master secret, checks padding,
/// length 48 and `client_version` in constant time, substitutes 48 random
/// bytes on any failure (RFC 5246 §7.4.7.1) and returns the (extended)
/// master secret object. The pre-master secret never becomes an object.
pub fn premaster_to_master(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    let Param::RsaPremaster(p) = &m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let alg = hash_of(p.prf)?;
    if p.ems {
        if p.session_hash.is_empty() || p.session_hash.len() > 64 {
            return err(CKR_MECHANISM_PARAM_INVALID);
        }
    } else if p.randoms.client.len() != 32 || p.randoms.server.len() != 32 {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let key = private_key(base)?;
    if p.encrypted.len() != key.size() {
        return err(CKR_ENCRYPTED_DATA_LEN_RANGE);
    }
    let pms = key
        .decrypt_tls_premaster(&p.encrypted, p.client_version)
        .map_err(|_| Error::new(CKR_ENCRYPTED_DATA_INVALID))?;
    let mut ms = Zeroizing::new([0u8; super::tls::MASTER_SECRET_LEN]);
    if p.ems {
        tls12_prf(
            alg,
            &pms[..],
            b"extended master secret",
            &[&p.session_hash],
            &mut ms[..],
        );
    } else {
        tls12_prf(
            alg,
            &pms[..],
            b"master secret",
            &[&p.randoms.client, &p.randoms.server],
            &mut ms[..],
        );
    }
    Ok(Derived::Key(super::tls::master_key(&ms[..], tpl)?, None))
}
