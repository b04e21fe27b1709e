//! Elliptic curves (PKCS#11 3.0 §6.3): `CKM_EC_KEY_PAIR_GEN`, raw
//! `CKM_ECDSA` (input: a digest of 1 to 128 bytes, single-part only),
//! `CKM_ECDSA_SHA256/384/512` and `CKM_ECDH1_DERIVE` (with `CKD_NULL`) on
//! secp256r1, secp384r1, secp521r1 and brainpoolP256r1/384r1/512r1.
//!
//! `CKA_EC_PARAMS` is the DER OID of a named curve; `CKA_EC_POINT` is a
//! DER OCTET STRING holding the uncompressed point (§6.3.3); `CKA_VALUE` of
//! a private key is the scalar `d`, big-endian, field length. Signatures
//! are `r || s`, each left-padded to the length of the group order
//! (§6.3.1), converted from and to the DER of hsmtls-crypto.

use std::sync::Arc;

use cryptoki_sys::*;
use hsmtls_crypto::ecdh::EcdhPrivateKey;
use hsmtls_crypto::signing::{self, SignatureScheme, SigningKey};
use hsmtls_crypto::{Curve, HashAlg, KeyKind};
use zeroize::Zeroizing;

use super::{require_key_type, Derived, Mechanism, Param, Sign, Verify};
use crate::error::{err, Error, Result};
use crate::object::Object;

/// DER encodings of the named-curve OIDs (RFC 5480 §2.1.1.1, RFC 5639 §4.1).
const CURVES: [(Curve, &[u8]); 6] = [
    (
        Curve::P256,
        &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
    ),
    (Curve::P384, &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]),
    (Curve::P521, &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]),
    (
        Curve::BrainpoolP256r1,
        &[
            0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07,
        ],
    ),
    (
        Curve::BrainpoolP384r1,
        &[
            0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b,
        ],
    ),
    (
        Curve::BrainpoolP512r1,
        &[
            0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d,
        ],
    ),
];

/// The curve named by `CKA_EC_PARAMS` (`CKR_CURVE_NOT_SUPPORTED` else).
pub fn curve_from_params(params: &[u8]) -> Result<Curve> {
    match CURVES.iter().find(|(_, der)| *der == params) {
        Some((c, _)) => Ok(*c),
        None => err(CKR_CURVE_NOT_SUPPORTED),
    }
}

/// `CKA_EC_PARAMS` of `curve`.
pub fn params_of(curve: Curve) -> &'static [u8] {
    CURVES
        .iter()
        .find(|(c, _)| *c == curve)
        .map(|(_, d)| *d)
        .unwrap_or_default()
}

/// Bits of the group order: the key size of `CK_MECHANISM_INFO`.
pub fn order_bits(curve: Curve) -> usize {
    match curve {
        Curve::P521 => 521,
        Curve::P384 | Curve::BrainpoolP384r1 => 384,
        Curve::BrainpoolP512r1 => 512,
        _ => 256,
    }
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

/// Reads one DER TLV of tag `tag` from the front of `data`.
fn der_read(data: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = data.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (usize::from(n), rest),
        0x81 => (usize::from(*rest.first()?), &rest[1..]),
        0x82 if rest.len() >= 2 => (
            (usize::from(rest[0]) << 8) | usize::from(rest[1]),
            &rest[2..],
        ),
        _ => return None,
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

/// Accepts an uncompressed point raw or as a DER OCTET STRING and returns
/// the DER form (`CKR_ATTRIBUTE_VALUE_INVALID` if it is neither).
pub fn normalize_point(curve: Curve, point: &[u8]) -> Result<Vec<u8>> {
    let raw = raw_point(curve, point).ok_or(Error::new(CKR_ATTRIBUTE_VALUE_INVALID))?;
    let mut der = vec![0x04];
    der_len(&mut der, raw.len());
    der.extend_from_slice(raw);
    Ok(der)
}

/// The raw uncompressed point in `point` (DER OCTET STRING or raw).
pub fn raw_point(curve: Curve, point: &[u8]) -> Option<&[u8]> {
    let want = curve.public_key_len();
    if let Some((inner, rest)) = der_read(point, 0x04) {
        if rest.is_empty() && inner.len() == want && inner[0] == 0x04 {
            return Some(inner);
        }
    }
    (point.len() == want && point[0] == 0x04).then_some(point)
}

/// Checks that `d` is a valid private scalar on `curve`.
pub fn check_private_scalar(curve: Curve, d: &[u8]) -> Result<()> {
    if d.len() > curve.field_len() {
        return err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    SigningKey::from_ec_scalar(curve, d, None)
        .map(|_| ())
        .map_err(|_| Error::new(CKR_ATTRIBUTE_VALUE_INVALID))
}

/// `CKM_EC_KEY_PAIR_GEN`: the curve from the public template's
/// `CKA_EC_PARAMS`; the scalar drawn uniformly below the group order by
/// rejection sampling.
pub fn generate_key_pair(
    m: &Mechanism,
    public: &Object,
    private: &Object,
) -> Result<(CK_KEY_TYPE, Object, Object)> {
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let params = match (public.get(CKA_EC_PARAMS), private.get(CKA_EC_PARAMS)) {
        (Some(a), Some(b)) if a != b => return err(CKR_TEMPLATE_INCONSISTENT),
        (Some(a), _) => a,
        (None, _) => return err(CKR_TEMPLATE_INCOMPLETE),
    };
    let curve = curve_from_params(params)?;
    let (d, public) = new_key(curve)?;
    let mut pubo = Object::new();
    pubo.set_bytes(CKA_EC_PARAMS, params);
    pubo.set(CKA_EC_POINT, normalize_point(curve, &public)?);
    let mut privo = Object::new();
    privo.set_bytes(CKA_EC_PARAMS, params);
    privo.set_bytes(CKA_VALUE, &d);
    Ok((CKK_EC, pubo, privo))
}

/// A new private scalar on `curve`, drawn uniformly below the group order
/// by rejection sampling, and its uncompressed public point.
fn new_key(curve: Curve) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    let n = curve.field_len();
    let top_bits = order_bits(curve) - 8 * (n - 1);
    let mask = if top_bits >= 8 {
        0xff
    } else {
        (1u8 << top_bits) - 1
    };
    let mut d = Zeroizing::new(vec![0u8; n]);
    // Rejection sampling of d in [1, n-1]: the public-point computation
    // refuses out-of-range scalars (one scalar multiplication per key).
    for _ in 0..128 {
        hsmtls_crypto::fill_key(&mut d)?;
        d[0] &= mask;
        if let Ok(p) = EcdhPrivateKey::public_key_of_scalar(curve, &d) {
            return Ok((d, p));
        }
    }
    err(CKR_DEVICE_ERROR)
}

/// `CKM_HSMTLS_KEY_SHARE_GEN` (vendor; docs/token-vendor-mechanisms.md):
/// an ephemeral private key on the curve of the template's
/// `CKA_EC_PARAMS` (a Weierstrass curve, or Curve25519 for X25519) and its
/// public key as TLS sends it, which the caller gets and the token does
/// not keep. A public key longer than the caller's room is
/// `CKR_BUFFER_TOO_SMALL`, before any key is made.
pub fn generate_share(m: &Mechanism, tpl: &Object) -> Result<(CK_KEY_TYPE, Object, Vec<u8>)> {
    let Param::KeyShare { capacity } = m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let params = tpl
        .get(CKA_EC_PARAMS)
        .ok_or(Error::new(CKR_TEMPLATE_INCOMPLETE))?;
    let (kt, value, public) = match super::ecx::key_type_of(params) {
        Ok(CKK_EC_MONTGOMERY) => {
            if capacity < super::ecx::KEY_LEN {
                return err(CKR_BUFFER_TOO_SMALL);
            }
            let (value, public) = super::ecx::new_x25519_key()?;
            (CKK_EC_MONTGOMERY, value, public)
        }
        // Ed25519 keys sign; they are no key share.
        Ok(_) => return err(CKR_CURVE_NOT_SUPPORTED),
        Err(_) => {
            let curve = curve_from_params(params)?;
            if capacity < 1 + 2 * curve.field_len() {
                return err(CKR_BUFFER_TOO_SMALL);
            }
            let (d, public) = new_key(curve)?;
            (CKK_EC, d, public)
        }
    };
    let mut computed = Object::new();
    computed.set_bytes(CKA_EC_PARAMS, params);
    computed.set_bytes(CKA_VALUE, &value);
    Ok((kt, computed, public))
}

fn curve_of(key: &Object) -> Result<Curve> {
    require_key_type(key, &[CKK_EC])?;
    curve_from_params(
        key.get(CKA_EC_PARAMS)
            .ok_or(Error::new(CKR_KEY_TYPE_INCONSISTENT))?,
    )
}

/// The hash of `CKM_ECDSA_SHA*`; `None` for raw `CKM_ECDSA`.
fn hash_of(m: &Mechanism) -> Result<Option<HashAlg>> {
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(Some(match m.mechanism {
        CKM_ECDSA => return Ok(None),
        CKM_ECDSA_SHA256 => HashAlg::Sha256,
        CKM_ECDSA_SHA384 => HashAlg::Sha384,
        CKM_ECDSA_SHA512 => HashAlg::Sha512,
        _ => return err(CKR_MECHANISM_INVALID),
    }))
}

/// Longest input of raw `CKM_ECDSA` (a SHA-512 digest is 64 bytes; longer
/// inputs are truncated to the order's length anyway).
pub const MAX_PREHASH_LEN: usize = 128;

fn check_prehash(data: &[u8]) -> Result<()> {
    if data.is_empty() || data.len() > MAX_PREHASH_LEN {
        return err(CKR_DATA_LEN_RANGE);
    }
    Ok(())
}

/// Length of `r` and `s` in a raw signature: the order's byte length.
fn scalar_len(curve: Curve) -> usize {
    order_bits(curve).div_ceil(8)
}

/// DER `ECDSA-Sig-Value` → `r || s`.
pub fn der_to_raw(curve: Curve, der: &[u8]) -> Result<Vec<u8>> {
    let bad = Error::new(CKR_DEVICE_ERROR);
    let (seq, _) = der_read(der, 0x30).ok_or(bad)?;
    let (r, rest) = der_read(seq, 0x02).ok_or(bad)?;
    let (s, _) = der_read(rest, 0x02).ok_or(bad)?;
    let n = scalar_len(curve);
    let mut out = vec![0u8; 2 * n];
    for (i, v) in [r, s].into_iter().enumerate() {
        let v = strip_zeros(v);
        if v.len() > n {
            return Err(bad);
        }
        out[(i + 1) * n - v.len()..(i + 1) * n].copy_from_slice(v);
    }
    Ok(out)
}

fn strip_zeros(mut v: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = v {
        v = rest;
    }
    v
}

/// `r || s` → DER `ECDSA-Sig-Value`.
pub fn raw_to_der(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = Vec::with_capacity(raw.len() + 8);
    for v in [r, s] {
        let v = strip_zeros(v);
        let pad = v.first().is_none_or(|&b| b & 0x80 != 0);
        body.push(0x02);
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

struct EcdsaSign {
    key: Arc<SigningKey>,
    curve: Curve,
    hash: Option<HashAlg>,
    data: Vec<u8>,
}

impl Sign for EcdsaSign {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        let der = match self.hash {
            Some(hash) => self.key.sign(SignatureScheme::Ecdsa(hash), &self.data)?,
            None => {
                check_prehash(&self.data)?;
                self.key.sign_prehashed(&self.data)?
            }
        };
        Ok(Zeroizing::new(der_to_raw(self.curve, &der)?))
    }
    fn signature_len(&self) -> usize {
        2 * scalar_len(self.curve)
    }
    fn single_part_only(&self) -> bool {
        self.hash.is_none()
    }
}

/// Starts `CKM_ECDSA` (over a digest the caller computed, single-part)
/// or `CKM_ECDSA_SHA*` signing.
pub fn sign(m: &Mechanism, key: &Object) -> Result<Box<dyn Sign>> {
    let hash = hash_of(m)?;
    let curve = curve_of(key)?;
    let key = key.ec_signing_key(curve)?;
    Ok(Box::new(EcdsaSign {
        key,
        curve,
        hash,
        data: Vec::new(),
    }))
}

struct EcdsaVerify {
    point: Vec<u8>,
    curve: Curve,
    hash: Option<HashAlg>,
    data: Vec<u8>,
}

impl Verify for EcdsaVerify {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn finish(&mut self, signature: &[u8]) -> Result<()> {
        if signature.len() != 2 * scalar_len(self.curve) {
            return err(CKR_SIGNATURE_LEN_RANGE);
        }
        let der = raw_to_der(signature);
        match self.hash {
            Some(hash) => signing::verify(
                KeyKind::Ec(self.curve),
                &self.point,
                SignatureScheme::Ecdsa(hash),
                &self.data,
                &der,
            ),
            None => {
                check_prehash(&self.data)?;
                signing::verify_prehashed(self.curve, &self.point, &self.data, &der)
            }
        }
        .map_err(|_| Error::new(CKR_SIGNATURE_INVALID))
    }
    fn single_part_only(&self) -> bool {
        self.hash.is_none()
    }
}

/// Starts `CKM_ECDSA` or `CKM_ECDSA_SHA*` verification with a public key.
pub fn verify(m: &Mechanism, key: &Object) -> Result<Box<dyn Verify>> {
    let hash = hash_of(m)?;
    let curve = curve_of(key)?;
    if key.class() != CKO_PUBLIC_KEY {
        return err(CKR_KEY_TYPE_INCONSISTENT);
    }
    let point = key
        .get(CKA_EC_POINT)
        .and_then(|p| raw_point(curve, p))
        .ok_or(Error::new(CKR_KEY_TYPE_INCONSISTENT))?
        .to_vec();
    Ok(Box::new(EcdsaVerify {
        point,
        curve,
        hash,
        data: Vec::new(),
    }))
}

/// `CKM_ECDH1_DERIVE` with `CKD_NULL` (SEC 1 §3.3.1): the x-coordinate of
/// `d·Q` (with an X25519 key: the RFC 7748 output), truncated to `CKA_VALUE_LEN` (leftmost bytes) if given.
pub fn derive(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    let Param::Ecdh1 {
        kdf,
        shared,
        public,
    } = &m.param
    else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    if *kdf != CKD_NULL || !shared.is_empty() {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let z = if base.key_type() == Some(CKK_EC_MONTGOMERY) {
        super::ecx::x25519(base, public)?
    } else {
        let curve = curve_of(base)?;
        if base.class() != CKO_PRIVATE_KEY {
            return err(CKR_KEY_TYPE_INCONSISTENT);
        }
        let peer = raw_point(curve, public).ok_or(Error::new(CKR_MECHANISM_PARAM_INVALID))?;
        let key = EcdhPrivateKey::from_scalar_for_agreement(curve, base.secret_value()?)?;
        key.agree(peer)?
    };
    let len = match tpl.ulong(CKA_VALUE_LEN) {
        Some(n) if n as usize > z.len() || n == 0 => return err(CKR_TEMPLATE_INCONSISTENT),
        Some(n) => n as usize,
        None => z.len(),
    };
    Ok(Derived::value(&z[..len]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_raw_round_trip() {
        let raw: Vec<u8> = (0..64)
            .map(|i| if i == 0 || i == 32 { 0x80 } else { i as u8 })
            .collect();
        let der = raw_to_der(&raw);
        assert_eq!(der_to_raw(Curve::P256, &der).unwrap(), raw);
        let mut small = vec![0u8; 64];
        small[31] = 1;
        small[63] = 2;
        assert_eq!(der_to_raw(Curve::P256, &raw_to_der(&small)).unwrap(), small);
    }

    #[test]
    fn points_and_params() {
        for (c, der) in CURVES {
            assert_eq!(curve_from_params(der).unwrap(), c);
            assert_eq!(params_of(c), der);
        }
        assert_eq!(
            curve_from_params(&[6, 1, 0]).unwrap_err().rv(),
            CKR_CURVE_NOT_SUPPORTED
        );
        let mut raw = vec![4u8; 65];
        raw[1] = 9;
        let der = normalize_point(Curve::P256, &raw).unwrap();
        assert_eq!(&der[..2], &[0x04, 65]);
        assert_eq!(raw_point(Curve::P256, &der).unwrap(), &raw[..]);
        assert!(normalize_point(Curve::P256, &raw[..64]).is_err());
        let raw521 = vec![4u8; 133];
        assert_eq!(
            &normalize_point(Curve::P521, &raw521).unwrap()[..3],
            &[0x04, 0x81, 133]
        );
    }
}
