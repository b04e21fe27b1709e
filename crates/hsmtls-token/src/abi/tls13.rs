//! The hsmtls vendor mechanisms [`CKM_HSMTLS_TLS13_KEY_AND_IV`] with its
//! parameter structure [`CK_HSMTLS_TLS13_KEY_IV_PARAMS`],
//! [`CKM_HSMTLS_TLS13_FINISHED`], and [`CKM_HSMTLS_TLS13_NEXT_SECRET`] with
//! [`CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS`] (docs/token-vendor-mechanisms.md).

use cryptoki_sys::*;

use super::param;
use super::rsa::CKM_HSMTLS;
use crate::error::{Error, Result};
use crate::mechanisms::hkdf::Salt;
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

/// The next secret of the TLS 1.3 key schedule (RFC 8446 §7.1) from the
/// base key in one `C_DeriveKey`: `HKDF-Extract(salt = Derive-Secret(base,
/// "derived", ""), IKM)`, where IKM is the value of `hIkmKey` (the
/// (EC)DHE shared secret, for the handshake secret) or, with
/// `CK_INVALID_HANDLE`, `Hash.length` zero bytes (the master secret). One
/// call instead of an expansion to an intermediate object, an extraction
/// with it as the salt key, and its destruction.
pub const CKM_HSMTLS_TLS13_NEXT_SECRET: CK_MECHANISM_TYPE = CKM_HSMTLS | 0x0004;

/// The parameter of [`CKM_HSMTLS_TLS13_NEXT_SECRET`] (C layout with the
/// platform's `CK_ULONG`):
///
/// ```c
/// typedef struct CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS {
///     CK_MECHANISM_TYPE prfHashMechanism; /* CKM_SHA256 or CKM_SHA384 */
///     CK_OBJECT_HANDLE  hIkmKey;          /* or CK_INVALID_HANDLE: zeros */
/// } CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS;
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS {
    /// The HKDF hash: `CKM_SHA256` or `CKM_SHA384`.
    pub prfHashMechanism: CK_MECHANISM_TYPE,
    /// The input keying material's key, or `CK_INVALID_HANDLE` for
    /// `Hash.length` zero bytes.
    pub hIkmKey: CK_OBJECT_HANDLE,
}

/// Parses the parameter of [`CKM_HSMTLS_TLS13_NEXT_SECRET`].
///
/// # Safety
/// `m.pParameter` must be valid for `m.ulParameterLen` bytes.
pub(super) unsafe fn parse_next_secret(m: &CK_MECHANISM) -> Result<Param> {
    // SAFETY: as for `param`.
    let p: CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS = unsafe { param(m) }?;
    Ok(Param::Tls13NextSecret {
        prf: p.prfHashMechanism,
        ikm: if p.hIkmKey == CK_INVALID_HANDLE {
            Salt::Null
        } else {
            Salt::Key(p.hIkmKey)
        },
    })
}

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
