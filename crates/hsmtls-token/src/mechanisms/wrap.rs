//! AES key wrapping (PKCS#11 3.0 §2.14.3): `CKM_AES_KEY_WRAP` (RFC 3394,
//! SP 800-38F KW) and `CKM_AES_KEY_WRAP_PAD` / `CKM_AES_KEY_WRAP_KWP`
//! (RFC 5649, SP 800-38F KWP), on aws-lc-rs's `key_wrap`. Only the
//! default initial values are supported: the optional parameter, when
//! given, must be the RFC 3394 IV `A6A6A6A6A6A6A6A6` (KW) or the RFC 5649
//! prefix `A65959A6` (KWP).
//!
//! Only `C_WrapKey` / `C_UnwrapKey` use these mechanisms: a key-wrapping
//! key is never a general decryption key (see [`crate::attributes`]).

use aws_lc_rs::key_wrap::{AesKek, KeyWrap, KeyWrapPadded, AES_128, AES_256};
use cryptoki_sys::*;
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
    let cipher = match value.len() {
        16 => &AES_128,
        32 => &AES_256,
        _ => return err(size_rv),
    };
    AesKek::new(cipher, value).map_err(|_| Error::new(size_rv))
}

/// Wraps `value` (the `CKA_VALUE` of the key to wrap) under `key`.
pub fn wrap(m: &Mechanism, key: &Object, value: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let pad = padded(m)?;
    let kek = kek(key, false)?;
    let mut out = Zeroizing::new(vec![0u8; value.len() + 16]);
    let n = if pad {
        kek.wrap_with_padding(value, &mut out)
            .map_err(|_| Error::new(CKR_KEY_SIZE_RANGE))?
            .len()
    } else {
        // KW needs whole 64-bit blocks, at least two.
        if value.len() % 8 != 0 || value.len() < 16 {
            return err(CKR_KEY_SIZE_RANGE);
        }
        kek.wrap(value, &mut out)
            .map_err(|_| Error::new(CKR_KEY_SIZE_RANGE))?
            .len()
    };
    out.truncate(n);
    Ok(out)
}

/// Unwraps `wrapped` under `key`: the value of the new key.
pub fn unwrap(m: &Mechanism, key: &Object, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let pad = padded(m)?;
    let kek = kek(key, true)?;
    if wrapped.len() % 8 != 0 || wrapped.len() < 16 || (!pad && wrapped.len() < 24) {
        return err(CKR_WRAPPED_KEY_LEN_RANGE);
    }
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let r = if pad {
        kek.unwrap_with_padding(wrapped, &mut out).map(|s| s.len())
    } else {
        kek.unwrap(wrapped, &mut out).map(|s| s.len())
    };
    let n = r.map_err(|_| Error::new(CKR_WRAPPED_KEY_INVALID))?;
    out.truncate(n);
    Ok(out)
}
