//! AES key wrapping (PKCS#11 3.0 §2.14.3): `CKM_AES_KEY_WRAP` (RFC 3394,
//! SP 800-38F KW) and `CKM_AES_KEY_WRAP_PAD` / `CKM_AES_KEY_WRAP_KWP`
//! (RFC 5649, SP 800-38F KWP), for AES-128/192/256 KEKs, on
//! `hsmtls_crypto::keywrap` (AWS-LC's `AES_wrap_key` family). Only the
//! default initial values are supported: the optional parameter, when
//! given, must be the RFC 3394 IV `A6A6A6A6A6A6A6A6` (KW) or the RFC 5649
//! prefix `A65959A6` (KWP).
//!
//! Only `C_WrapKey` / `C_UnwrapKey` use these mechanisms: a key-wrapping
//! key is never a general decryption key (see [`crate::attributes`]).

use cryptoki_sys::*;
use hsmtls_crypto::keywrap::AesKek;
use zeroize::Zeroizing;

use super::{Mechanism, Param};
use crate::error::{err, Error, Result};
use crate::object::Object;

const KW_IV: [u8; 8] = [0xa6; 8];
const KWP_IV: [u8; 4] = [0xa6, 0x59, 0x59, 0xa6];

fn padded(m: &Mechanism) -> Result<bool> {
    let pad = m.mechanism != CKM_AES_KEY_WRAP;
    match &m.param {
        Param::None => {}
        Param::Iv(iv) if !pad && iv[..] == KW_IV => {}
        Param::Iv(iv) if pad && iv[..] == KWP_IV => {}
        _ => return err(CKR_MECHANISM_PARAM_INVALID),
    }
    Ok(pad)
}

/// The key-encryption key of `key`, with the error codes of the wrapping
/// (`unwrap` false) or unwrapping side.
fn kek(key: &Object, unwrap: bool) -> Result<AesKek> {
    let (type_rv, size_rv) = if unwrap {
        (
            CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT,
            CKR_UNWRAPPING_KEY_SIZE_RANGE,
        )
    } else {
        (
            CKR_WRAPPING_KEY_TYPE_INCONSISTENT,
            CKR_WRAPPING_KEY_SIZE_RANGE,
        )
    };
    if key.class() != CKO_SECRET_KEY || key.key_type() != Some(CKK_AES) {
        return err(type_rv);
    }
    let value = key.secret_value()?;
    AesKek::new(value).map_err(|_| Error::new(size_rv))
}

/// Wraps `value` (the `CKA_VALUE` of the key to wrap) under `key`.
pub fn wrap(m: &Mechanism, key: &Object, value: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let pad = padded(m)?;
    let kek = kek(key, false)?;
    let out = if pad {
        kek.wrap_padded(value)
    } else {
        // KW needs whole 64-bit blocks, at least two.
        kek.wrap(value)
    };
    out.map(Zeroizing::new)
        .map_err(|_| Error::new(CKR_KEY_SIZE_RANGE))
}

/// Unwraps `wrapped` under `key`: the value of the new key.
pub fn unwrap(m: &Mechanism, key: &Object, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let pad = padded(m)?;
    let kek = kek(key, true)?;
    if wrapped.len() % 8 != 0 || wrapped.len() < 16 || (!pad && wrapped.len() < 24) {
        return err(CKR_WRAPPED_KEY_LEN_RANGE);
    }
    let r = if pad {
        kek.unwrap_padded(wrapped)
    } else {
        kek.unwrap(wrapped)
    };
    r.map_err(|_| Error::new(CKR_WRAPPED_KEY_INVALID))
}
