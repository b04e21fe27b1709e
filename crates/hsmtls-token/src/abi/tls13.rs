//! The hsmtls vendor mechanisms [`CKM_HSMTLS_TLS13_KEY_AND_IV`] with its
//! parameter structure [`CK_HSMTLS_TLS13_KEY_IV_PARAMS`],
//! [`CKM_HSMTLS_TLS13_FINISHED`], [`CKM_HSMTLS_TLS13_NEXT_SECRET`] with
//! [`CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS`], and
//! [`CKM_HSMTLS_TLS13_TRAFFIC_SECRET`] with
//! [`CK_HSMTLS_TLS13_TRAFFIC_PARAMS`] (docs/token-vendor-mechanisms.md).

use cryptoki_sys::*;

use super::rsa::CKM_HSMTLS;
use super::{bytes, param, template};
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

/// A TLS 1.3 traffic secret with its traffic key and write IV in one
/// `C_DeriveKey` (RFC 8446 §7.1, §7.3): the secret, `HKDF-Expand(base,
/// pInfo, Hash.length)` with `pInfo` the `HkdfLabel` (e.g. of "s hs
/// traffic" and the transcript hash), becomes the object made from the
/// call's template (`phKey`); from it, the key (`HKDF-Expand-Label(secret,
/// "key", "", CKA_VALUE_LEN)`) becomes an object made from `pKeyTemplate`
/// (`*phTrafficKey`) and the IV (`HKDF-Expand-Label(secret, "iv", "",
/// ulIvLen)`) is written to `pIv` — what [`CKM_HSMTLS_TLS13_KEY_AND_IV`]
/// does after a `CKM_HKDF_DERIVE`, in one call.
pub const CKM_HSMTLS_TLS13_TRAFFIC_SECRET: CK_MECHANISM_TYPE = CKM_HSMTLS | 0x0005;

/// The parameter of [`CKM_HSMTLS_TLS13_TRAFFIC_SECRET`] (C layout with the
/// platform's `CK_ULONG`):
///
/// ```c
/// typedef struct CK_HSMTLS_TLS13_TRAFFIC_PARAMS {
///     CK_MECHANISM_TYPE    prfHashMechanism;    /* CKM_SHA256 or CKM_SHA384 */
///     CK_BYTE_PTR          pInfo;               /* HkdfLabel of the secret */
///     CK_ULONG             ulInfoLen;
///     CK_ATTRIBUTE_PTR     pKeyTemplate;        /* the traffic key's */
///     CK_ULONG             ulKeyAttributeCount;
///     CK_BYTE_PTR          pIv;                 /* out: ulIvLen bytes */
///     CK_ULONG             ulIvLen;             /* 1..64; 12 in TLS 1.3 */
///     CK_OBJECT_HANDLE_PTR phTrafficKey;        /* out: the traffic key */
/// } CK_HSMTLS_TLS13_TRAFFIC_PARAMS;
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CK_HSMTLS_TLS13_TRAFFIC_PARAMS {
    /// The HKDF hash: `CKM_SHA256` or `CKM_SHA384`.
    pub prfHashMechanism: CK_MECHANISM_TYPE,
    /// The `HkdfLabel` of the traffic secret.
    pub pInfo: CK_BYTE_PTR,
    /// Its length.
    pub ulInfoLen: CK_ULONG,
    /// The traffic key's template (`CKA_VALUE_LEN` required).
    pub pKeyTemplate: CK_ATTRIBUTE_PTR,
    /// Its attribute count.
    pub ulKeyAttributeCount: CK_ULONG,
    /// Where the IV goes (`ulIvLen` bytes, owned by the caller).
    pub pIv: CK_BYTE_PTR,
    /// The IV's length: 1 to 64 bytes.
    pub ulIvLen: CK_ULONG,
    /// Where the traffic key's handle goes.
    pub phTrafficKey: CK_OBJECT_HANDLE_PTR,
}

/// Parses the parameter of [`CKM_HSMTLS_TLS13_TRAFFIC_SECRET`].
///
/// # Safety
/// `m.pParameter` must be valid for `m.ulParameterLen` bytes, and its
/// pointers for their stated lengths.
pub(super) unsafe fn parse_traffic(m: &CK_MECHANISM) -> Result<Param> {
    let bad = || Error::new(CKR_MECHANISM_PARAM_INVALID);
    // SAFETY: as for `param`.
    let p: CK_HSMTLS_TLS13_TRAFFIC_PARAMS = unsafe { param(m) }?;
    if p.pIv.is_null() || !(1..=64).contains(&p.ulIvLen) || p.phTrafficKey.is_null() {
        return Err(bad());
    }
    // SAFETY: valid for ulInfoLen bytes (contract).
    let info = unsafe { bytes(p.pInfo, p.ulInfoLen) }.map_err(|_| bad())?;
    if info.is_empty() {
        return Err(bad());
    }
    // SAFETY: valid for ulKeyAttributeCount attributes (contract).
    let key_template = unsafe { template(p.pKeyTemplate, p.ulKeyAttributeCount) }?;
    Ok(Param::Tls13Traffic {
        prf: p.prfHashMechanism,
        info: info.to_vec(),
        key_template,
        iv_len: p.ulIvLen as usize,
    })
}

/// Writes the traffic key's handle and the IV to the caller's parameter.
///
/// # Safety
/// `m` is a parsed [`CKM_HSMTLS_TLS13_TRAFFIC_SECRET`] mechanism whose
/// `pIv` is valid for `ulIvLen` bytes and `phTrafficKey` for a write
/// (contract, checked non-NULL by [`parse_traffic`]).
pub(super) unsafe fn write_traffic(m: &CK_MECHANISM, key: CK_OBJECT_HANDLE, iv: &[u8]) {
    // SAFETY: the parameter is a CK_HSMTLS_TLS13_TRAFFIC_PARAMS (parsed).
    let p: CK_HSMTLS_TLS13_TRAFFIC_PARAMS =
        unsafe { core::ptr::read_unaligned(m.pParameter as *const CK_HSMTLS_TLS13_TRAFFIC_PARAMS) };
    if p.ulIvLen as usize == iv.len() {
        // SAFETY: `pIv` is valid for `ulIvLen` bytes (contract).
        unsafe { core::ptr::copy_nonoverlapping(iv.as_ptr(), p.pIv, iv.len()) };
    }
    // SAFETY: non-NULL (checked by `parse_traffic`), valid for a write.
    unsafe { p.phTrafficKey.write_unaligned(key) };
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
