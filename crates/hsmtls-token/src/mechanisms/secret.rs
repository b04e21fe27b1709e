//! Secret-key generation: `CKM_GENERIC_SECRET_KEY_GEN` (PKCS#11 3.0
//! §6.43.1) and `CKM_AES_KEY_GEN` (§6.14.2). The length comes from
//! `CKA_VALUE_LEN` in the template.

use cryptoki_sys::*;
use zeroize::Zeroizing;

use super::{Mechanism, Param};
use crate::error::{err, Result};
use crate::object::Object;

/// Longest generic secret in bytes.
pub const MAX_GENERIC_LEN: usize = 512;

fn value_len(tpl: &Object) -> Result<usize> {
    match tpl.ulong(CKA_VALUE_LEN) {
        Some(n) => Ok(n as usize),
        None => err(CKR_TEMPLATE_INCOMPLETE),
    }
}

fn random_value(len: usize) -> Result<Object> {
    let mut v = Zeroizing::new(vec![0u8; len]);
    hsmtls_crypto::fill_key(&mut v)?;
    let mut o = Object::new();
    o.set_bytes(CKA_VALUE, &v);
    Ok(o)
}

/// `CKM_GENERIC_SECRET_KEY_GEN`.
pub fn generate_generic(m: &Mechanism, tpl: &Object) -> Result<(CK_KEY_TYPE, Object)> {
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let len = value_len(tpl)?;
    if !(1..=MAX_GENERIC_LEN).contains(&len) {
        return err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    Ok((CKK_GENERIC_SECRET, random_value(len)?))
}

/// `CKM_AES_KEY_GEN` (16 or 32 bytes).
pub fn generate_aes(m: &Mechanism, tpl: &Object) -> Result<(CK_KEY_TYPE, Object)> {
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    let len = value_len(tpl)?;
    if !matches!(len, 16 | 24 | 32) {
        return err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    Ok((CKK_AES, random_value(len)?))
}

/// `CKM_CHACHA20_KEY_GEN` (PKCS#11 3.0 §2.28): 32 bytes; `CKA_VALUE_LEN`
/// may be given and must then be 32.
pub fn generate_chacha20(m: &Mechanism, tpl: &Object) -> Result<(CK_KEY_TYPE, Object)> {
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    if tpl.ulong(CKA_VALUE_LEN).is_some_and(|n| n != 32) {
        return err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    Ok((CKK_CHACHA20, random_value(32)?))
}
