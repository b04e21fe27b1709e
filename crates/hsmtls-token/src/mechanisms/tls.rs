//! The TLS 1.2 mechanisms (PKCS#11 3.0 §6.39; EMS numbering of PKCS#11
//! 3.2; NSS's vendor EMS mechanisms): master secret, extended master
//! secret (RFC 7627), key block (RFC 5246 §6.3), Finished MAC (§7.4.9)
//! and the exporter-style KDF (RFC 5705), all on the PRF of RFC 5246 §5;
//! NSS's `CKM_NSS_TLS_*_SHA256` mechanisms (the same operations with the
//! SHA-256 PRF and SSL3 parameter structures) and
//! `CKM_NSS_TLS_PRF_GENERAL_SHA256`; `CKM_TLS_PRE_MASTER_KEY_GEN`.
//!
//! # Derivation policy
//!
//! `CKM_TLS12_KEY_AND_MAC_DERIVE` returns IVs in the clear. A caller that
//! could ask for zero- or short-length keys and long IVs would get key
//! stream bytes — the MAC and cipher keys of a real connection with the
//! same master secret and randoms — as "IVs". So (MAC, key, IV) sizes must
//! be one of the shapes of a real cipher suite ([`SHAPES`]), export is
//! refused, and `CKM_TLS12_KEY_SAFE_DERIVE` never returns IVs at all.
//! The master secret is restricted to the TLS mechanisms through
//! `CKA_ALLOWED_MECHANISMS`.

use cryptoki_sys::*;
use hsmtls_crypto::prf::tls12_prf;
use zeroize::Zeroizing;

use super::{
    hash_of, require_key_type, Derived, DerivedKey, Mechanism, Param, Randoms, Sign, Verify,
};
use crate::abi::consts::{
    CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE, CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH,
    CKM_NSS_TLS_MASTER_KEY_DERIVE_DH_SHA256,
};
use crate::attributes::TLS_MASTER_SECRET_MECHANISMS;
use crate::error::{err, Error, Result};
use crate::object::{ulong_bytes, Object};

/// Length of a master secret and of an RSA pre-master secret.
pub const MASTER_SECRET_LEN: usize = 48;

/// The (MAC, key, IV) sizes in bits that `KEY_AND_MAC_DERIVE` accepts:
/// AES-CBC with HMAC-SHA1/SHA256/SHA384 (RFC 5246, RFC 5289), 3DES-CBC with
/// HMAC-SHA1, AES-GCM / AES-CCM with a 4-byte implicit nonce (RFC 5288,
/// RFC 6655), ChaCha20-Poly1305 with a 12-byte IV (RFC 7905).
pub const SHAPES: &[(CK_ULONG, CK_ULONG, CK_ULONG)] = &[
    (160, 128, 128),
    (160, 256, 128),
    (256, 128, 128),
    (256, 256, 128),
    (384, 256, 128),
    (160, 192, 64),
    (0, 128, 32),
    (0, 256, 32),
    (0, 256, 96),
];

fn check_randoms(r: &Randoms) -> Result<()> {
    if r.client.len() != 32 || r.server.len() != 32 {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(())
}

/// The master-secret object: 48 bytes, generic, usable only with TLS
/// mechanisms (a template asking for others is inconsistent).
pub(crate) fn master_key(value: &[u8], tpl: &Object) -> Result<DerivedKey> {
    if let Some(asked) = tpl.allowed_mechanisms() {
        if asked
            .iter()
            .any(|m| !TLS_MASTER_SECRET_MECHANISMS.contains(m))
        {
            return err(CKR_TEMPLATE_INCONSISTENT);
        }
    }
    if tpl
        .ulong(CKA_VALUE_LEN)
        .is_some_and(|n| n as usize != MASTER_SECRET_LEN)
    {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    let mut computed = Object::new();
    computed.set_bytes(CKA_VALUE, value);
    if tpl.allowed_mechanisms().is_none() {
        // Encoded once: every master secret carries the same list.
        static LIST: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let list = LIST.get_or_init(|| {
            TLS_MASTER_SECRET_MECHANISMS
                .iter()
                .flat_map(|m| ulong_bytes(*m))
                .collect()
        });
        computed.set_bytes(CKA_ALLOWED_MECHANISMS, list);
    }
    Ok(DerivedKey {
        computed,
        key_type: Some(CKK_GENERIC_SECRET),
        template: None,
    })
}

/// `CKM_TLS12_MASTER_KEY_DERIVE(_DH)`, `CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE(_DH)`
/// and `CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE(_DH)`:
///
/// ```text
/// master_secret = PRF(pre_master_secret, "master secret",
///                     ClientHello.random + ServerHello.random)[0..47]   RFC 5246 §8.1
/// master_secret = PRF(pre_master_secret, "extended master secret",
///                     session_hash)[0..47]                              RFC 7627 §4
/// ```
///
/// The non-DH variants take a 48-byte RSA pre-master secret and report its
/// first two bytes as the version; the DH variants take any length and
/// must get a NULL `pVersion`.
pub fn master_derive(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    require_key_type(base, &[CKK_GENERIC_SECRET])?;
    let pms = base.secret_value()?;
    let dh = matches!(
        m.mechanism,
        CKM_TLS12_MASTER_KEY_DERIVE_DH
            | CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH
            | CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH
            | CKM_NSS_TLS_MASTER_KEY_DERIVE_DH_SHA256
    );
    let (prf, version_out) = match &m.param {
        Param::Tls12Master {
            prf, version_out, ..
        }
        | Param::Tls12Ems {
            prf, version_out, ..
        } => (*prf, *version_out),
        _ => return err(CKR_MECHANISM_PARAM_INVALID),
    };
    let ems = matches!(m.param, Param::Tls12Ems { .. });
    let wants_ems = matches!(
        m.mechanism,
        CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE
            | CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH
            | CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE
            | CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH
    );
    if ems != wants_ems || (dh && version_out) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    if !dh && pms.len() != MASTER_SECRET_LEN {
        return err(CKR_KEY_SIZE_RANGE);
    }
    let alg = hash_of(prf)?;
    let mut ms = Zeroizing::new([0u8; MASTER_SECRET_LEN]);
    match &m.param {
        Param::Tls12Master { randoms, .. } => {
            check_randoms(randoms)?;
            tls12_prf(
                alg,
                pms,
                b"master secret",
                &[&randoms.client, &randoms.server],
                &mut ms[..],
            );
        }
        Param::Tls12Ems { session_hash, .. } => {
            if session_hash.is_empty() {
                return err(CKR_MECHANISM_PARAM_INVALID);
            }
            tls12_prf(
                alg,
                pms,
                b"extended master secret",
                &[session_hash],
                &mut ms[..],
            );
        }
        _ => return err(CKR_MECHANISM_PARAM_INVALID),
    }
    let version = (!dh).then(|| (pms[0], pms[1]));
    Ok(Derived::Key(master_key(&ms[..], tpl)?, version))
}

/// `CKM_TLS12_KEY_AND_MAC_DERIVE` and `CKM_TLS12_KEY_SAFE_DERIVE`
/// (RFC 5246 §6.3):
///
/// ```text
/// key_block = PRF(master_secret, "key expansion",
///                 server_random + client_random)
/// = client_write_MAC_key, server_write_MAC_key,
///   client_write_key, server_write_key, client_write_IV, server_write_IV
/// ```
///
/// MAC keys are generic secrets with `CKA_SIGN`/`CKA_VERIFY`; the caller's
/// template applies to the cipher keys. Sizes must match [`SHAPES`].
pub fn key_and_mac_derive(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    require_key_type(base, &[CKK_GENERIC_SECRET])?;
    let ms = base.secret_value()?;
    let Param::Tls12KeyMat {
        mac_bits,
        key_bits,
        iv_bits,
        export,
        randoms,
        prf,
    } = &m.param
    else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    if *export || !SHAPES.contains(&(*mac_bits, *key_bits, *iv_bits)) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    check_randoms(randoms)?;
    if ms.len() != MASTER_SECRET_LEN {
        return err(CKR_KEY_SIZE_RANGE);
    }
    let alg = hash_of(*prf)?;
    let (mac, key, iv) = (
        *mac_bits as usize / 8,
        *key_bits as usize / 8,
        *iv_bits as usize / 8,
    );
    if let Some(n) = tpl.ulong(CKA_VALUE_LEN) {
        if n as usize != key {
            return err(CKR_TEMPLATE_INCONSISTENT);
        }
    }
    let mut block = Zeroizing::new(vec![0u8; 2 * (mac + key + iv)]);
    tls12_prf(
        alg,
        ms,
        b"key expansion",
        &[&randoms.server, &randoms.client],
        &mut block,
    );
    let mut at = 0;
    let mut take = |n: usize| {
        let s = block[at..at + n].to_vec();
        at += n;
        s
    };
    let (cm, sm, ck, sk, civ, siv) = (
        take(mac),
        take(mac),
        take(key),
        take(key),
        take(iv),
        take(iv),
    );
    let mac_key = |v: Vec<u8>| -> Option<DerivedKey> {
        if v.is_empty() {
            return None;
        }
        let mut t = Object::new();
        t.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
        t.set_ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
        t.set_bool(CKA_SIGN, true);
        t.set_bool(CKA_VERIFY, true);
        t.set_bool(CKA_SENSITIVE, base.bool(CKA_SENSITIVE));
        t.set_bool(CKA_EXTRACTABLE, base.bool(CKA_EXTRACTABLE));
        let mut computed = Object::new();
        computed.set(CKA_VALUE, v);
        Some(DerivedKey {
            computed,
            key_type: Some(CKK_GENERIC_SECRET),
            template: Some(t),
        })
    };
    let cipher_key = |v: Vec<u8>| {
        let mut computed = Object::new();
        computed.set(CKA_VALUE, v);
        Some(DerivedKey {
            computed,
            key_type: None,
            template: None,
        })
    };
    let (civ, siv) = if m.mechanism == CKM_TLS12_KEY_SAFE_DERIVE {
        (Vec::new(), Vec::new())
    } else {
        (civ, siv)
    };
    Ok(Derived::KeyMat(
        Box::new([mac_key(cm), mac_key(sm), cipher_key(ck), cipher_key(sk)]),
        civ,
        siv,
    ))
}

/// `CKM_TLS12_KDF` (RFC 5705 §4): a generic secret of `CKA_VALUE_LEN`
/// bytes = `PRF(master_secret, label, client_random + server_random
/// [+ uint16 context length + context])`.
pub fn kdf(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    require_key_type(base, &[CKK_GENERIC_SECRET])?;
    let ms = base.secret_value()?;
    let Param::TlsKdf {
        prf,
        label,
        randoms,
        context,
    } = &m.param
    else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    check_randoms(randoms)?;
    // The key block's and master secret's labels would give key stream
    // bytes (with the randoms swapped) as a readable exporter value.
    if PROTECTED_LABELS.iter().any(|l| label.starts_with(l)) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let alg = hash_of(*prf)?;
    let len = tpl
        .ulong(CKA_VALUE_LEN)
        .ok_or(Error::new(CKR_TEMPLATE_INCOMPLETE))? as usize;
    if !(1..=super::secret::MAX_GENERIC_LEN).contains(&len) {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    let mut ctx_len = Vec::new();
    let mut seed: Vec<&[u8]> = vec![&randoms.client, &randoms.server];
    if let Some(c) = context {
        let n = u16::try_from(c.len()).map_err(|_| Error::new(CKR_MECHANISM_PARAM_INVALID))?;
        ctx_len.extend_from_slice(&n.to_be_bytes());
        seed.push(&ctx_len);
        seed.push(c);
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    tls12_prf(alg, ms, label, &seed, &mut out);
    Ok(Derived::value(&out))
}

/// `CKM_TLS12_MAC` / `CKM_TLS_MAC` (RFC 5246 §7.4.9): the input is the
/// handshake hash; the output `PRF(master_secret, finished_label,
/// input)[0..mac_len-1]`.
struct FinishedMac {
    ms: Zeroizing<Vec<u8>>,
    alg: hsmtls_crypto::HashAlg,
    label: &'static [u8],
    len: usize,
    data: Vec<u8>,
}

fn finished_mac(m: &Mechanism, key: &Object) -> Result<FinishedMac> {
    require_key_type(key, &[CKK_GENERIC_SECRET])?;
    let Param::TlsMac {
        prf,
        mac_len,
        server_or_client,
    } = &m.param
    else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let label: &'static [u8] = match server_or_client {
        1 => b"server finished",
        2 => b"client finished",
        _ => return err(CKR_MECHANISM_PARAM_INVALID),
    };
    if !(1..=64).contains(mac_len) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(FinishedMac {
        ms: Zeroizing::new(key.secret_value()?.to_vec()),
        alg: hash_of(*prf)?,
        label,
        len: *mac_len as usize,
        data: Vec::new(),
    })
}

impl FinishedMac {
    fn compute(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![0u8; self.len]);
        tls12_prf(self.alg, &self.ms, self.label, &[&self.data], &mut out);
        out
    }
}

impl Sign for FinishedMac {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        Ok(self.compute())
    }
    fn signature_len(&self) -> usize {
        self.len
    }
}

impl Verify for FinishedMac {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn finish(&mut self, signature: &[u8]) -> Result<()> {
        if signature.len() != self.len {
            return err(CKR_SIGNATURE_LEN_RANGE);
        }
        if hsmtls_crypto::constant_time_eq(&self.compute(), signature) {
            Ok(())
        } else {
            err(CKR_SIGNATURE_INVALID)
        }
    }
}

/// Starts a Finished MAC.
pub fn mac_sign(m: &Mechanism, key: &Object) -> Result<Box<dyn Sign>> {
    Ok(Box::new(finished_mac(m, key)?))
}

/// Starts a Finished MAC check.
pub fn mac_verify(m: &Mechanism, key: &Object) -> Result<Box<dyn Verify>> {
    Ok(Box::new(finished_mac(m, key)?))
}

/// `CKM_TLS_PRE_MASTER_KEY_GEN` (PKCS#11 3.0 §6.39.2): a 48-byte generic
/// secret whose first two bytes are the `CK_VERSION` parameter.
pub fn pre_master_key_gen(m: &Mechanism, tpl: &Object) -> Result<(CK_KEY_TYPE, Object)> {
    let Param::Version(major, minor) = m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    if tpl
        .ulong(CKA_VALUE_LEN)
        .is_some_and(|n| n as usize != MASTER_SECRET_LEN)
    {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    let mut v = Zeroizing::new(vec![0u8; MASTER_SECRET_LEN]);
    hsmtls_crypto::fill_key(&mut v[2..])?;
    v[0] = major;
    v[1] = minor;
    let mut o = Object::new();
    o.set_bytes(CKA_VALUE, &v);
    Ok((CKK_GENERIC_SECRET, o))
}

/// Inputs `CKM_NSS_TLS_PRF_GENERAL_SHA256` refuses: the labels of the
/// master secret and the key block, which would put a master secret or
/// key stream bytes in the clear and bypass the derivation policy.
const PROTECTED_LABELS: &[&[u8]] = &[
    b"master secret",
    b"extended master secret",
    b"key expansion",
];

/// `CKM_NSS_TLS_PRF_GENERAL_SHA256` (NSS softoken's `sftk_TLSPRFInit`): a
/// "signature" = `P_SHA256(key, data)` with data = label || seed as the
/// caller feeds it, as long as the caller's buffer (12 bytes for a length
/// query: a Finished MAC). Verification compares in constant time.
struct PrfGeneral {
    key: Zeroizing<Vec<u8>>,
    data: Zeroizing<Vec<u8>>,
    len: usize,
}

fn prf_general(m: &Mechanism, key: &Object) -> Result<PrfGeneral> {
    require_key_type(key, &[CKK_GENERIC_SECRET])?;
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(PrfGeneral {
        key: Zeroizing::new(key.secret_value()?.to_vec()),
        data: Zeroizing::new(Vec::new()),
        len: 12,
    })
}

impl PrfGeneral {
    fn compute(&self, len: usize) -> Result<Zeroizing<Vec<u8>>> {
        if PROTECTED_LABELS.iter().any(|l| self.data.starts_with(l)) {
            return err(CKR_DATA_INVALID);
        }
        let mut out = Zeroizing::new(vec![0u8; len]);
        tls12_prf(
            hsmtls_crypto::HashAlg::Sha256,
            &self.key,
            b"",
            &[&self.data],
            &mut out,
        );
        Ok(out)
    }
}

impl Sign for PrfGeneral {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        self.compute(self.len)
    }
    fn signature_len(&self) -> usize {
        self.len
    }
    fn fit_output(&mut self, cap: usize) {
        if cap > 0 {
            self.len = cap.min(super::secret::MAX_GENERIC_LEN);
        }
    }
}

impl Verify for PrfGeneral {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn finish(&mut self, signature: &[u8]) -> Result<()> {
        if signature.is_empty() || signature.len() > super::secret::MAX_GENERIC_LEN {
            return err(CKR_SIGNATURE_LEN_RANGE);
        }
        if hsmtls_crypto::constant_time_eq(&self.compute(signature.len())?, signature) {
            Ok(())
        } else {
            err(CKR_SIGNATURE_INVALID)
        }
    }
}

/// Starts `CKM_NSS_TLS_PRF_GENERAL_SHA256` signing.
pub fn prf_general_sign(m: &Mechanism, key: &Object) -> Result<Box<dyn Sign>> {
    Ok(Box::new(prf_general(m, key)?))
}

/// Starts `CKM_NSS_TLS_PRF_GENERAL_SHA256` verification.
pub fn prf_general_verify(m: &Mechanism, key: &Object) -> Result<Box<dyn Verify>> {
    Ok(Box::new(prf_general(m, key)?))
}
