//! Montgomery and Edwards curves (PKCS#11 3.0 §2.3.6–§2.3.8, §2.3.14):
//! X25519 (`CKM_EC_MONTGOMERY_KEY_PAIR_GEN`, `CKK_EC_MONTGOMERY`, used with
//! `CKM_ECDH1_DERIVE`) and Ed25519 (`CKM_EC_EDWARDS_KEY_PAIR_GEN`,
//! `CKK_EC_EDWARDS`, `CKM_EDDSA`). Curve448 and Ed448 are not offered.
//!
//! `CKA_EC_PARAMS` names the curve by OID (RFC 8410: id-X25519
//! 1.3.101.110, id-Ed25519 1.3.101.112) or by the PrintableString
//! `"curve25519"` / `"edwards25519"` of PKCS#11 3.0; either is accepted and
//! kept as given. `CKA_EC_POINT` is the 32-byte public key (RFC 7748 /
//! RFC 8032 encoding) in a DER OCTET STRING (raw 32 bytes are accepted on
//! import); `CKA_VALUE` of a private key is the 32-byte private key
//! (X25519 scalar before clamping, Ed25519 seed). `CKM_EDDSA` is pure
//! Ed25519 (no `CK_EDDSA_PARAMS`, or one with `phFlag` false and no
//! context), single-part, 64-byte signatures.

use cryptoki_sys::*;
use hsmtls_crypto::ecdh::EcdhPrivateKey;
use hsmtls_crypto::signing::{self, SignatureScheme, SigningKey};
use hsmtls_crypto::KeyKind;
use zeroize::Zeroizing;

use super::{require_key_type, Mechanism, Param, Sign, Verify};
use crate::error::{err, Error, Result};
use crate::object::Object;

/// Accepted `CKA_EC_PARAMS` and the key type they name.
const PARAMS: [(&[u8], CK_KEY_TYPE); 4] = [
    (&[0x06, 0x03, 0x2b, 0x65, 0x6e], CKK_EC_MONTGOMERY),
    (b"\x13\x0acurve25519", CKK_EC_MONTGOMERY),
    (&[0x06, 0x03, 0x2b, 0x65, 0x70], CKK_EC_EDWARDS),
    (b"\x13\x0cedwards25519", CKK_EC_EDWARDS),
];

/// Length of keys, public keys and scalars.
pub const KEY_LEN: usize = 32;

/// The key type `CKA_EC_PARAMS` names (`CKR_CURVE_NOT_SUPPORTED` else).
pub fn key_type_of(params: &[u8]) -> Result<CK_KEY_TYPE> {
    match PARAMS.iter().find(|(p, _)| *p == params) {
        Some((_, kt)) => Ok(*kt),
        None => err(CKR_CURVE_NOT_SUPPORTED),
    }
}

/// The raw 32-byte public key in `point` (DER OCTET STRING or raw).
pub fn raw_public(point: &[u8]) -> Option<&[u8]> {
    match point {
        [0x04, 0x20, rest @ ..] if rest.len() == KEY_LEN => Some(rest),
        _ if point.len() == KEY_LEN => Some(point),
        _ => None,
    }
}

/// `CKA_EC_POINT` in its stored form (`CKR_ATTRIBUTE_VALUE_INVALID` if
/// `point` is neither form).
pub fn normalize_public(point: &[u8]) -> Result<Vec<u8>> {
    let raw = raw_public(point).ok_or(Error::new(CKR_ATTRIBUTE_VALUE_INVALID))?;
    let mut der = vec![0x04, 0x20];
    der.extend_from_slice(raw);
    Ok(der)
}

/// The public key of private key `value` of type `kt`.
fn public_of(kt: CK_KEY_TYPE, value: &[u8]) -> Result<Vec<u8>> {
    let bad = |_| Error::new(CKR_ATTRIBUTE_VALUE_INVALID);
    match kt {
        CKK_EC_MONTGOMERY => EcdhPrivateKey::x25519_public_of(value)
            .map(|p| p.to_vec())
            .map_err(bad),
        CKK_EC_EDWARDS => SigningKey::from_ed25519_seed(value)
            .map(|k| k.public_key())
            .map_err(bad),
        _ => err(CKR_KEY_TYPE_INCONSISTENT),
    }
}

/// Checks the key material of a private key of type `kt`: every 32-byte
/// string is an X25519 private key (clamped when used, RFC 7748 §5) and
/// an Ed25519 seed (RFC 8032 §5.1.5), so only the length can be wrong.
pub fn check_private(kt: CK_KEY_TYPE, params: &[u8], value: &[u8]) -> Result<()> {
    if key_type_of(params)? != kt {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    if value.len() != KEY_LEN {
        return err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    Ok(())
}

/// Checks the parameters of a public key of type `kt`.
pub fn check_public(kt: CK_KEY_TYPE, params: &[u8]) -> Result<()> {
    if key_type_of(params)? != kt {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    Ok(())
}

fn generate(
    m: &Mechanism,
    public: &Object,
    private: &Object,
    kt: CK_KEY_TYPE,
) -> Result<(CK_KEY_TYPE, Object, Object)> {
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let params = match (public.get(CKA_EC_PARAMS), private.get(CKA_EC_PARAMS)) {
        (Some(a), Some(b)) if a != b => return err(CKR_TEMPLATE_INCONSISTENT),
        (Some(a), _) => a,
        (None, _) => return err(CKR_TEMPLATE_INCOMPLETE),
    };
    if key_type_of(params)? != kt {
        return err(CKR_CURVE_NOT_SUPPORTED);
    }
    let (value, point) = new_key(kt)?;
    let mut pubo = Object::new();
    pubo.set_bytes(CKA_EC_PARAMS, params);
    pubo.set(CKA_EC_POINT, normalize_public(&point)?);
    let mut privo = Object::new();
    privo.set_bytes(CKA_EC_PARAMS, params);
    privo.set_bytes(CKA_VALUE, &value);
    Ok((kt, pubo, privo))
}

/// A new private key of type `kt` (32 random bytes) and its public key.
fn new_key(kt: CK_KEY_TYPE) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    let mut value = Zeroizing::new(vec![0u8; KEY_LEN]);
    hsmtls_crypto::fill_key(&mut value)?;
    let public = public_of(kt, &value).map_err(|_| Error::new(CKR_DEVICE_ERROR))?;
    Ok((value, public))
}

/// A new X25519 private key and its public key.
pub fn new_x25519_key() -> Result<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    new_key(CKK_EC_MONTGOMERY)
}

/// `CKM_EC_MONTGOMERY_KEY_PAIR_GEN` (X25519).
pub fn generate_montgomery(
    m: &Mechanism,
    public: &Object,
    private: &Object,
) -> Result<(CK_KEY_TYPE, Object, Object)> {
    generate(m, public, private, CKK_EC_MONTGOMERY)
}

/// `CKM_EC_EDWARDS_KEY_PAIR_GEN` (Ed25519).
pub fn generate_edwards(
    m: &Mechanism,
    public: &Object,
    private: &Object,
) -> Result<(CK_KEY_TYPE, Object, Object)> {
    generate(m, public, private, CKK_EC_EDWARDS)
}

/// X25519 of private key `base` with the peer's public key `peer` (raw or
/// DER): the 32-byte shared secret (an all-zero result is refused).
pub fn x25519(base: &Object, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if base.class() != CKO_PRIVATE_KEY {
        return err(CKR_KEY_TYPE_INCONSISTENT);
    }
    let peer = raw_public(peer).ok_or(Error::new(CKR_MECHANISM_PARAM_INVALID))?;
    Ok(EcdhPrivateKey::x25519_agree(base.secret_value()?, peer)?)
}

fn check_eddsa_param(m: &Mechanism) -> Result<()> {
    match &m.param {
        Param::None => Ok(()),
        Param::Eddsa {
            prehash: false,
            context,
        } if context.is_empty() => Ok(()),
        _ => err(CKR_MECHANISM_PARAM_INVALID),
    }
}

struct EddsaSign {
    key: std::sync::Arc<SigningKey>,
    data: Vec<u8>,
}

impl Sign for EddsaSign {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        Ok(Zeroizing::new(
            self.key.sign(SignatureScheme::Ed25519, &self.data)?,
        ))
    }
    fn signature_len(&self) -> usize {
        64
    }
    fn single_part_only(&self) -> bool {
        true
    }
}

/// Starts `CKM_EDDSA` signing with an Ed25519 private key.
pub fn sign(m: &Mechanism, key: &Object) -> Result<Box<dyn Sign>> {
    check_eddsa_param(m)?;
    require_key_type(key, &[CKK_EC_EDWARDS])?;
    if key.class() != CKO_PRIVATE_KEY {
        return err(CKR_KEY_TYPE_INCONSISTENT);
    }
    Ok(Box::new(EddsaSign {
        key: key.ed25519_signing_key()?,
        data: Vec::new(),
    }))
}

struct EddsaVerify {
    public: Vec<u8>,
    data: Vec<u8>,
}

impl Verify for EddsaVerify {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn finish(&mut self, signature: &[u8]) -> Result<()> {
        if signature.len() != 64 {
            return err(CKR_SIGNATURE_LEN_RANGE);
        }
        signing::verify(
            KeyKind::Ed25519,
            &self.public,
            SignatureScheme::Ed25519,
            &self.data,
            signature,
        )
        .map_err(|_| Error::new(CKR_SIGNATURE_INVALID))
    }
    fn single_part_only(&self) -> bool {
        true
    }
}

/// Starts `CKM_EDDSA` verification with an Ed25519 public key.
pub fn verify(m: &Mechanism, key: &Object) -> Result<Box<dyn Verify>> {
    check_eddsa_param(m)?;
    require_key_type(key, &[CKK_EC_EDWARDS])?;
    if key.class() != CKO_PUBLIC_KEY {
        return err(CKR_KEY_TYPE_INCONSISTENT);
    }
    let public = key
        .get(CKA_EC_POINT)
        .and_then(raw_public)
        .ok_or(Error::new(CKR_KEY_TYPE_INCONSISTENT))?
        .to_vec();
    Ok(Box::new(EddsaVerify {
        public,
        data: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_points() {
        assert_eq!(
            key_type_of(b"\x13\x0acurve25519").unwrap(),
            CKK_EC_MONTGOMERY
        );
        assert_eq!(
            key_type_of(&[0x06, 0x03, 0x2b, 0x65, 0x70]).unwrap(),
            CKK_EC_EDWARDS
        );
        assert_eq!(
            key_type_of(&[0x06, 0x03, 0x2b, 0x65, 0x71])
                .unwrap_err()
                .rv(),
            CKR_CURVE_NOT_SUPPORTED
        );
        let raw = [7u8; 32];
        let der = normalize_public(&raw).unwrap();
        assert_eq!(&der[..2], &[0x04, 0x20]);
        assert_eq!(raw_public(&der).unwrap(), raw);
        assert_eq!(normalize_public(&der).unwrap(), der);
        assert!(normalize_public(&raw[1..]).is_err());
    }
}
