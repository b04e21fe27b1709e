//! The hsmtls vendor mechanisms [`CKM_HSMTLS_TLS13_KEY_AND_IV`] with its
//! parameter structure [`CK_HSMTLS_TLS13_KEY_IV_PARAMS`], and
//! [`CKM_HSMTLS_TLS13_FINISHED`] (docs/token-vendor-mechanisms.md).

use cryptoki_sys::*;

use super::param;
use super::rsa::CKM_HSMTLS;
use crate::error::{Error, Result};
use crate::mechanisms::Param;

/// A TLS 1.3 traffic key and its write IV from a traffic secret in one
/// `C_DeriveKey` (RFC 8446 §7.3): the key (`HKDF-Expand-Label(secret,
/// "key", "", CKA_VALUE_LEN)`) becomes an object made from the template,
/// the IV (`HKDF-Expand-Label(secret, "iv", "", ulIvLen)`, public by §7.3
/// and by the token's `CKM_HKDF_DATA` policy) is written to `pIv`. What
/// `CKM_TLS12_KEY_AND_MAC_DERIVE` is to TLS 1.2: one call instead of a
/// key derivation, a data-object derivation, a read and a destroy.
pub const CKM_HSMTLS_TLS13_KEY_AND_IV: CK_MECHANISM_TYPE = CKM_HSMTLS | 0x0002;

/// A TLS 1.3 Finished `verify_data` (RFC 8446 §4.4.4) signed with the
/// handshake traffic secret as the key: `C_SignInit` with this mechanism
/// (parameter: the `CK_MECHANISM_TYPE` of the HKDF hash, `CKM_SHA256` or
/// `CKM_SHA384`) on the secret (`CKA_DERIVE`), `C_Sign` over the
/// transcript hash. One call instead of deriving the finished key,
/// signing with it and destroying it.
pub const CKM_HSMTLS_TLS13_FINISHED: CK_MECHANISM_TYPE = CKM_HSMTLS | 0x0003;

/// The parameter of [`CKM_HSMTLS_TLS13_KEY_AND_IV`] (C layout with the
/// platform's `CK_ULONG`):
///
/// ```c
/// typedef struct CK_HSMTLS_TLS13_KEY_IV_PARAMS {
///     CK_MECHANISM_TYPE prfHashMechanism; /* CKM_SHA256 or CKM_SHA384 */
///     CK_BYTE_PTR       pIv;              /* out: ulIvLen bytes */
///     CK_ULONG          ulIvLen;          /* 12 for every TLS 1.3 AEAD */
/// } CK_HSMTLS_TLS13_KEY_IV_PARAMS;
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CK_HSMTLS_TLS13_KEY_IV_PARAMS {
    /// The HKDF hash: `CKM_SHA256` or `CKM_SHA384`.
    pub prfHashMechanism: CK_MECHANISM_TYPE,
    /// Where the IV goes (`ulIvLen` bytes, owned by the caller).
    pub pIv: CK_BYTE_PTR,
    /// The IV's length: 1 to 64 bytes.
    pub ulIvLen: CK_ULONG,
}

/// Parses the parameter.
///
/// # Safety
/// `m.pParameter` must be valid for `m.ulParameterLen` bytes.
pub(super) unsafe fn parse(m: &CK_MECHANISM) -> Result<Param> {
    // SAFETY: as for `param`.
    let p: CK_HSMTLS_TLS13_KEY_IV_PARAMS = unsafe { param(m) }?;
    if p.pIv.is_null() || !(1..=64).contains(&p.ulIvLen) {
        return Err(Error::new(CKR_MECHANISM_PARAM_INVALID));
    }
    Ok(Param::Tls13KeyIv {
        prf: p.prfHashMechanism,
        iv_len: p.ulIvLen as usize,
    })
}

/// Writes the derived IV to the caller's `pIv`.
///
/// # Safety
/// `m` is a parsed [`CKM_HSMTLS_TLS13_KEY_AND_IV`] mechanism whose `pIv`
/// is valid for `ulIvLen` bytes (contract), and `iv` is that long.
pub(super) unsafe fn write_iv(m: &CK_MECHANISM, iv: &[u8]) {
    // SAFETY: the parameter is a CK_HSMTLS_TLS13_KEY_IV_PARAMS (parsed).
    let p: CK_HSMTLS_TLS13_KEY_IV_PARAMS =
        unsafe { core::ptr::read_unaligned(m.pParameter as *const CK_HSMTLS_TLS13_KEY_IV_PARAMS) };
    if p.ulIvLen as usize == iv.len() {
        // SAFETY: `pIv` is valid for `ulIvLen` bytes (contract, checked
        // non-NULL by `parse`).
        unsafe { core::ptr::copy_nonoverlapping(iv.as_ptr(), p.pIv, iv.len()) };
    }
}
