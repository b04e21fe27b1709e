//! The hsmtls vendor mechanism [`CKM_HSMTLS_KEY_SHARE_GEN`] with its
//! parameter structure [`CK_HSMTLS_KEY_SHARE_PARAMS`]
//! (docs/token-vendor-mechanisms.md).

use cryptoki_sys::*;

use super::param;
use super::rsa::CKM_HSMTLS;
use crate::error::{Error, Result};
use crate::mechanisms::Param;

/// An ephemeral key-exchange key pair for TLS in one `C_GenerateKey`: the
/// private key becomes an object made from the template (`CKA_EC_PARAMS`
/// names the curve: a Weierstrass curve, or Curve25519 for X25519), the
/// public key is written to `pPublicKey` as TLS sends it (an uncompressed
/// point, or 32 bytes for X25519) and never becomes an object. One call
/// and one object instead of `C_GenerateKeyPair`, a `C_GetAttributeValue`
/// of the public key object and its `C_DestroyObject`.
pub const CKM_HSMTLS_KEY_SHARE_GEN: CK_MECHANISM_TYPE = CKM_HSMTLS | 0x0006;

/// The parameter of [`CKM_HSMTLS_KEY_SHARE_GEN`] (C layout with the
/// platform's `CK_ULONG`):
///
/// ```c
/// typedef struct CK_HSMTLS_KEY_SHARE_PARAMS {
///     CK_BYTE_PTR pPublicKey;     /* out: the public key */
///     CK_ULONG    ulPublicKeyLen; /* in: room; out: bytes written */
/// } CK_HSMTLS_KEY_SHARE_PARAMS;
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CK_HSMTLS_KEY_SHARE_PARAMS {
    /// Where the public key goes.
    pub pPublicKey: CK_BYTE_PTR,
    /// On input the room at `pPublicKey`, on output the length written.
    pub ulPublicKeyLen: CK_ULONG,
}

/// Parses the parameter.
///
/// # Safety
/// `m.pParameter` must be valid for `m.ulParameterLen` bytes.
pub(super) unsafe fn parse(m: &CK_MECHANISM) -> Result<Param> {
    // SAFETY: as for `param`.
    let p: CK_HSMTLS_KEY_SHARE_PARAMS = unsafe { param(m) }?;
    if p.pPublicKey.is_null() {
        return Err(Error::new(CKR_MECHANISM_PARAM_INVALID));
    }
    Ok(Param::KeyShare {
        capacity: p.ulPublicKeyLen as usize,
    })
}

/// Writes the public key to the caller's parameter.
///
/// # Safety
/// `m` is a parsed [`CKM_HSMTLS_KEY_SHARE_GEN`] mechanism whose
/// `pPublicKey` is valid for the `ulPublicKeyLen` bytes it stated, at
/// least `public.len()` (checked before the key was made), and whose
/// parameter is writable (contract).
pub(super) unsafe fn write_public(m: &CK_MECHANISM, public: &[u8]) {
    let p = m.pParameter as *mut CK_HSMTLS_KEY_SHARE_PARAMS;
    // SAFETY: the parameter is a CK_HSMTLS_KEY_SHARE_PARAMS (parsed).
    let mut params = unsafe { core::ptr::read_unaligned(p) };
    if params.ulPublicKeyLen as usize >= public.len() {
        // SAFETY: `pPublicKey` is valid for ulPublicKeyLen bytes
        // (contract), which hold the public key.
        unsafe { core::ptr::copy_nonoverlapping(public.as_ptr(), params.pPublicKey, public.len()) };
        params.ulPublicKeyLen = public.len() as CK_ULONG;
        // SAFETY: the caller's parameter, writable (contract).
        unsafe { core::ptr::write_unaligned(p, params) };
    }
}
