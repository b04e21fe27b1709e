//! Private keys as PKCS#8 `PrivateKeyInfo`, the form `C_WrapKey` wraps
//! and `C_UnwrapKey` unwraps them in (PKCS#11 3.0 §2.1): EC keys on every
//! curve the token has (NIST and brainpool), RSA, Ed25519 and X25519.

use cryptoki_sys::*;
use hsmtls_crypto::pkcs8::{self, PrivateKeyParts};
use hsmtls_crypto::Curve;
use zeroize::Zeroizing;

use super::{ec, ecx, rsa};
use crate::error::{err, Error, Result};
use crate::object::Object;

/// `CKA_EC_PARAMS` the token writes for Ed25519 and X25519 keys (the RFC
/// 8410 OIDs; the printable-string forms are accepted too).
const ED25519_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
const X25519_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x6e];

/// The PKCS#8 encoding of a private-key object.
pub fn to_pkcs8(obj: &Object) -> Result<Zeroizing<Vec<u8>>> {
    let parts = match obj.key_type() {
        Some(CKK_EC) => {
            let params = obj
                .get(CKA_EC_PARAMS)
                .ok_or(Error::new(CKR_KEY_NOT_WRAPPABLE))?;
            let curve = ec::curve_from_params(params)?;
            let value = obj.secret_value()?;
            let n = curve.field_len();
            if value.len() > n {
                return err(CKR_KEY_NOT_WRAPPABLE);
            }
            let mut scalar = Zeroizing::new(vec![0u8; n]);
            scalar[n - value.len()..].copy_from_slice(value);
            PrivateKeyParts::Ec { curve, scalar }
        }
        Some(CKK_RSA) => PrivateKeyParts::Rsa(rsa::components(obj)?),
        Some(kt @ (CKK_EC_EDWARDS | CKK_EC_MONTGOMERY)) => {
            let params = obj
                .get(CKA_EC_PARAMS)
                .ok_or(Error::new(CKR_KEY_NOT_WRAPPABLE))?;
            if ecx::key_type_of(params)? != kt {
                return err(CKR_KEY_NOT_WRAPPABLE);
            }
            let value = Zeroizing::new(obj.secret_value()?.to_vec());
            if kt == CKK_EC_EDWARDS {
                PrivateKeyParts::Ed25519(value)
            } else {
                PrivateKeyParts::X25519(value)
            }
        }
        _ => return err(CKR_KEY_NOT_WRAPPABLE),
    };
    pkcs8::encode(&parts).map_err(|_| Error::new(CKR_KEY_NOT_WRAPPABLE))
}

/// The key type and key-material attributes of an unwrapped PKCS#8 key;
/// anything malformed or unsupported is `CKR_WRAPPED_KEY_INVALID`.
pub fn from_pkcs8(der: &[u8]) -> Result<(CK_KEY_TYPE, Object)> {
    let parts = pkcs8::decode(der).map_err(|_| Error::new(CKR_WRAPPED_KEY_INVALID))?;
    let mut o = Object::new();
    let kt = match &parts {
        PrivateKeyParts::Ec { curve, scalar } => {
            if *curve == Curve::X25519 {
                return err(CKR_WRAPPED_KEY_INVALID);
            }
            o.set_bytes(CKA_EC_PARAMS, ec::params_of(*curve));
            o.set_bytes(CKA_VALUE, scalar);
            CKK_EC
        }
        PrivateKeyParts::Rsa(c) => {
            o.set_bytes(CKA_MODULUS, &c.n);
            o.set_bytes(CKA_PUBLIC_EXPONENT, &c.e);
            for (t, v) in [
                (CKA_PRIVATE_EXPONENT, &c.d),
                (CKA_PRIME_1, &c.p),
                (CKA_PRIME_2, &c.q),
                (CKA_EXPONENT_1, &c.dp),
                (CKA_EXPONENT_2, &c.dq),
                (CKA_COEFFICIENT, &c.qinv),
            ] {
                o.set_bytes(t, v);
            }
            CKK_RSA
        }
        PrivateKeyParts::Ed25519(seed) => {
            o.set_bytes(CKA_EC_PARAMS, ED25519_PARAMS);
            o.set_bytes(CKA_VALUE, seed);
            CKK_EC_EDWARDS
        }
        PrivateKeyParts::X25519(key) => {
            o.set_bytes(CKA_EC_PARAMS, X25519_PARAMS);
            o.set_bytes(CKA_VALUE, key);
            CKK_EC_MONTGOMERY
        }
    };
    Ok((kt, o))
}
