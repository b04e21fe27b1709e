//! The C ABI: the exported `C_*` functions, the function lists and the
//! interfaces. All `unsafe` code of the crate lives here; every block says
//! why it is sound. Each export converts its raw arguments, calls a safe
//! inner function of [`crate::library`] and maps the error to a `CK_RV`.
//!
//! Pointers are trusted to be valid for the lengths the caller states (the
//! PKCS#11 contract, §5); NULL pointers are checked and answered with
//! `CKR_ARGUMENTS_BAD` where the specification makes them an error.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_snake_case)]

pub mod consts;
mod crypto;
mod general;
pub mod keyshare;
mod objects;
pub mod rsa;
pub mod tls13;
mod tokens;
mod unsupported;

/// The 2.40 function list, for programs that link the token and drive it
/// through its C ABI without loading the shared library.
pub use general::FUNCTION_LIST;

pub use crypto::*;
pub use general::*;
pub use objects::*;
pub use tokens::*;
pub use unsupported::*;

use cryptoki_sys::*;

use crate::error::{Error, Result};
use crate::library::Produced;
use crate::mechanisms::{Mechanism, Param, Randoms};

/// Maps an inner result to the `CK_RV` of the export.
fn rv(r: Result<()>) -> CK_RV {
    match r {
        Ok(()) => CKR_OK,
        Err(e) => e.rv(),
    }
}

const BAD: Error = Error::new(CKR_ARGUMENTS_BAD);

/// Borrows `len` bytes at `p`; NULL is the empty slice only when `len` is 0.
///
/// # Safety
/// `p` must be NULL or valid for reads of `len` bytes for `'a`.
unsafe fn bytes<'a>(p: *const u8, len: CK_ULONG) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(BAD);
    }
    // SAFETY: non-NULL and valid for `len` bytes by the caller's contract.
    Ok(unsafe { core::slice::from_raw_parts(p, len as usize) })
}

/// Copies a template (`CK_ATTRIBUTE` array) into an object. An
/// attribute-array attribute (`CKA_WRAP_TEMPLATE`, `CKA_UNWRAP_TEMPLATE`)
/// points to an inner `CK_ATTRIBUTE` array, copied the same way.
///
/// # Safety
/// `p` must be NULL or point to `n` attributes whose `pValue` are valid for
/// `ulValueLen` bytes (for an array attribute: an array of
/// `ulValueLen / size_of::<CK_ATTRIBUTE>()` attributes, each valid so).
unsafe fn template(p: *const CK_ATTRIBUTE, n: CK_ULONG) -> Result<crate::object::Object> {
    if n == 0 {
        return crate::attributes::parse_template(&[]);
    }
    if p.is_null() {
        return Err(BAD);
    }
    // SAFETY: non-NULL and valid for `n` attributes by the caller's contract.
    let attrs = unsafe { core::slice::from_raw_parts(p, n as usize) };
    let array = |a: &CK_ATTRIBUTE| {
        crate::attributes::kind(a.type_) == Some(crate::attributes::Kind::Template)
    };
    if !attrs.iter().any(array) {
        // The common case: every value is the caller's bytes, borrowed.
        let refs = attrs
            .iter()
            .map(|a| {
                // SAFETY: each `pValue` is valid for `ulValueLen` bytes
                // (contract).
                unsafe { bytes(a.pValue as *const u8, a.ulValueLen) }.map(|v| (a.type_, v))
            })
            .collect::<Result<Vec<_>>>()?;
        return crate::attributes::parse_template_cached(&refs);
    }
    let mut values: Vec<(CK_ATTRIBUTE_TYPE, std::borrow::Cow<'_, [u8]>)> =
        Vec::with_capacity(attrs.len());
    for a in attrs {
        if crate::attributes::kind(a.type_) == Some(crate::attributes::Kind::Template) {
            // SAFETY: an array attribute's `pValue` is an inner template of
            // `ulValueLen / size_of::<CK_ATTRIBUTE>()` attributes (contract).
            let inner = unsafe { inner_template(a.pValue as *const CK_ATTRIBUTE, a.ulValueLen) }?;
            values.push((a.type_, std::borrow::Cow::Owned(inner)));
        } else {
            // SAFETY: each `pValue` is valid for `ulValueLen` bytes (contract).
            let v = unsafe { bytes(a.pValue as *const u8, a.ulValueLen) }?;
            values.push((a.type_, std::borrow::Cow::Borrowed(v)));
        }
    }
    let refs: Vec<(CK_ATTRIBUTE_TYPE, &[u8])> = values.iter().map(|(t, v)| (*t, &v[..])).collect();
    crate::attributes::parse_template(&refs)
}

/// The stored form of an inner template of `len` bytes at `p`: the
/// serialised attributes. A length that is no whole number of
/// `CK_ATTRIBUTE`s, a nested array or an invalid inner attribute is
/// `CKR_ATTRIBUTE_VALUE_INVALID`.
///
/// # Safety
/// `p` NULL or valid for `len / size_of::<CK_ATTRIBUTE>()` attributes whose
/// `pValue` are valid for their `ulValueLen` bytes.
unsafe fn inner_template(p: *const CK_ATTRIBUTE, len: CK_ULONG) -> Result<Vec<u8>> {
    let invalid = Error::new(CKR_ATTRIBUTE_VALUE_INVALID);
    let size = core::mem::size_of::<CK_ATTRIBUTE>();
    let len = len as usize;
    if len % size != 0 {
        return Err(invalid);
    }
    let n = len / size;
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(invalid);
    }
    // SAFETY: non-NULL and valid for `n` attributes (contract).
    let attrs = unsafe { core::slice::from_raw_parts(p, n) };
    let mut inner = Vec::with_capacity(n);
    for a in attrs {
        if crate::attributes::kind(a.type_) == Some(crate::attributes::Kind::Template) {
            return Err(invalid);
        }
        // SAFETY: valid for `ulValueLen` bytes (contract).
        let v = unsafe { bytes(a.pValue as *const u8, a.ulValueLen) }?;
        inner.push((a.type_, v));
    }
    let parsed = crate::attributes::parse_template(&inner).map_err(|_| invalid)?;
    Ok(parsed.serialize().to_vec())
}

/// Reads a `T` parameter of exactly `size_of::<T>()` bytes.
///
/// # Safety
/// `m.pParameter` must be valid for `m.ulParameterLen` bytes.
unsafe fn param<T: Copy>(m: &CK_MECHANISM) -> Result<T> {
    if m.pParameter.is_null() || m.ulParameterLen as usize != core::mem::size_of::<T>() {
        return Err(Error::new(CKR_MECHANISM_PARAM_INVALID));
    }
    // SAFETY: non-NULL, of `T`'s size; read_unaligned needs no alignment.
    Ok(unsafe { core::ptr::read_unaligned(m.pParameter as *const T) })
}

/// Reads TLS randoms.
///
/// # Safety
/// The pointers in `r` must be valid for their lengths.
unsafe fn randoms(r: &CK_SSL3_RANDOM_DATA) -> Result<Randoms> {
    let bad = |_| Error::new(CKR_MECHANISM_PARAM_INVALID);
    Ok(Randoms {
        // SAFETY: valid for the stated lengths (contract).
        client: unsafe { bytes(r.pClientRandom, r.ulClientRandomLen) }
            .map_err(bad)?
            .to_vec(),
        // SAFETY: as above.
        server: unsafe { bytes(r.pServerRandom, r.ulServerRandomLen) }
            .map_err(bad)?
            .to_vec(),
    })
}

/// Parses a `CK_MECHANISM` and its parameter by mechanism type.
///
/// # Safety
/// `p` must be NULL or a valid `CK_MECHANISM` whose parameter pointers are
/// valid for their lengths.
unsafe fn mechanism(p: *const CK_MECHANISM) -> Result<Mechanism> {
    if p.is_null() {
        return Err(BAD);
    }
    // SAFETY: non-NULL, valid by contract.
    let m = unsafe { &*p };
    let pbad = |_| Error::new(CKR_MECHANISM_PARAM_INVALID);
    let none = m.pParameter.is_null() && m.ulParameterLen == 0;
    let param = match m.mechanism {
        CKM_AES_CBC | CKM_AES_CBC_PAD => {
            // SAFETY: valid for ulParameterLen bytes (contract).
            Param::Iv(
                unsafe { bytes(m.pParameter as *const u8, m.ulParameterLen) }
                    .map_err(pbad)?
                    .to_vec(),
            )
        }
        CKM_SHA256_HMAC_GENERAL | CKM_SHA384_HMAC_GENERAL | CKM_SHA512_HMAC_GENERAL => {
            // SAFETY: as for `param`.
            Param::MacLen(unsafe { param::<CK_MAC_GENERAL_PARAMS>(m) }?)
        }
        CKM_AES_GCM => {
            // SAFETY: as for `param`.
            let g: CK_GCM_PARAMS = unsafe { param(m) }?;
            Param::Gcm {
                // SAFETY: valid for the stated lengths (contract).
                iv: unsafe { bytes(g.pIv, g.ulIvLen) }.map_err(pbad)?.to_vec(),
                // SAFETY: as above.
                aad: unsafe { bytes(g.pAAD, g.ulAADLen) }.map_err(pbad)?.to_vec(),
                tag_bits: g.ulTagBits,
            }
        }
        CKM_CHACHA20_POLY1305 => {
            // SAFETY: as for `param`.
            let c: CK_SALSA20_CHACHA20_POLY1305_PARAMS = unsafe { param(m) }?;
            Param::Gcm {
                // SAFETY: valid for the stated lengths (contract).
                iv: unsafe { bytes(c.pNonce, c.ulNonceLen) }
                    .map_err(pbad)?
                    .to_vec(),
                // SAFETY: as above.
                aad: unsafe { bytes(c.pAAD, c.ulAADLen) }.map_err(pbad)?.to_vec(),
                tag_bits: 128,
            }
        }
        CKM_ECDH1_DERIVE => {
            // SAFETY: as for `param`.
            let e: CK_ECDH1_DERIVE_PARAMS = unsafe { param(m) }?;
            Param::Ecdh1 {
                kdf: e.kdf,
                // SAFETY: valid for the stated lengths (contract).
                shared: unsafe { bytes(e.pSharedData, e.ulSharedDataLen) }
                    .map_err(pbad)?
                    .to_vec(),
                // SAFETY: as above.
                public: unsafe { bytes(e.pPublicData, e.ulPublicDataLen) }
                    .map_err(pbad)?
                    .to_vec(),
            }
        }
        CKM_TLS12_MASTER_KEY_DERIVE | CKM_TLS12_MASTER_KEY_DERIVE_DH => {
            // SAFETY: as for `param`.
            let t: CK_TLS12_MASTER_KEY_DERIVE_PARAMS = unsafe { param(m) }?;
            Param::Tls12Master {
                // SAFETY: valid random pointers (contract).
                randoms: unsafe { randoms(&t.RandomInfo) }?,
                prf: t.prfHashMechanism,
                version_out: !t.pVersion.is_null(),
            }
        }
        CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE
        | CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH
        | consts::CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE
        | consts::CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH => {
            // SAFETY: as for `param`; NSS's structure has the same layout.
            let t: CK_TLS12_EXTENDED_MASTER_KEY_DERIVE_PARAMS = unsafe { param(m) }?;
            Param::Tls12Ems {
                prf: t.prfHashMechanism,
                // SAFETY: valid for the stated length (contract).
                session_hash: unsafe { bytes(t.pSessionHash, t.ulSessionHashLen) }
                    .map_err(pbad)?
                    .to_vec(),
                version_out: !t.pVersion.is_null(),
            }
        }
        CKM_TLS12_KEY_AND_MAC_DERIVE | CKM_TLS12_KEY_SAFE_DERIVE => {
            // SAFETY: as for `param`.
            let t: CK_TLS12_KEY_MAT_PARAMS = unsafe { param(m) }?;
            if t.pReturnedKeyMaterial.is_null() {
                return Err(Error::new(CKR_MECHANISM_PARAM_INVALID));
            }
            Param::Tls12KeyMat {
                mac_bits: t.ulMacSizeInBits,
                key_bits: t.ulKeySizeInBits,
                iv_bits: t.ulIVSizeInBits,
                export: t.bIsExport != 0,
                // SAFETY: valid random pointers (contract).
                randoms: unsafe { randoms(&t.RandomInfo) }?,
                prf: t.prfHashMechanism,
            }
        }
        consts::CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256
        | consts::CKM_NSS_TLS_MASTER_KEY_DERIVE_DH_SHA256 => {
            // SAFETY: as for `param`.
            let t: CK_SSL3_MASTER_KEY_DERIVE_PARAMS = unsafe { param(m) }?;
            Param::Tls12Master {
                // SAFETY: valid random pointers (contract).
                randoms: unsafe { randoms(&t.RandomInfo) }?,
                prf: CKM_SHA256,
                // NSS ignores pVersion with the DH variant.
                version_out: !t.pVersion.is_null()
                    && m.mechanism == consts::CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256,
            }
        }
        consts::CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256 => {
            // SAFETY: as for `param`.
            let t: CK_SSL3_KEY_MAT_PARAMS = unsafe { param(m) }?;
            if t.pReturnedKeyMaterial.is_null() {
                return Err(Error::new(CKR_MECHANISM_PARAM_INVALID));
            }
            Param::Tls12KeyMat {
                mac_bits: t.ulMacSizeInBits,
                key_bits: t.ulKeySizeInBits,
                iv_bits: t.ulIVSizeInBits,
                export: t.bIsExport != 0,
                // SAFETY: valid random pointers (contract).
                randoms: unsafe { randoms(&t.RandomInfo) }?,
                prf: CKM_SHA256,
            }
        }
        CKM_TLS_PRE_MASTER_KEY_GEN => {
            // SAFETY: as for `param`.
            let v: CK_VERSION = unsafe { param(m) }?;
            Param::Version(v.major, v.minor)
        }
        CKM_TLS12_MAC | CKM_TLS_MAC => {
            // SAFETY: as for `param`.
            let t: CK_TLS_MAC_PARAMS = unsafe { param(m) }?;
            Param::TlsMac {
                prf: t.prfHashMechanism,
                mac_len: t.ulMacLength,
                server_or_client: t.ulServerOrClient,
            }
        }
        CKM_AES_CTR => {
            // SAFETY: as for `param`.
            let c: CK_AES_CTR_PARAMS = unsafe { param(m) }?;
            Param::Ctr {
                counter_bits: c.ulCounterBits,
                cb: c.cb,
            }
        }
        CKM_EDDSA if !none => {
            // SAFETY: as for `param`.
            let e: CK_EDDSA_PARAMS = unsafe { param(m) }?;
            Param::Eddsa {
                prehash: e.phFlag != 0,
                // SAFETY: valid for the stated length (contract).
                context: unsafe { bytes(e.pContextData, e.ulContextDataLen) }
                    .map_err(pbad)?
                    .to_vec(),
            }
        }
        CKM_HKDF_DERIVE | CKM_HKDF_DATA => {
            use crate::mechanisms::hkdf::{HkdfParams, Salt};
            // SAFETY: as for `param`.
            let k: CK_HKDF_PARAMS = unsafe { param(m) }?;
            let salt = match k.ulSaltType {
                CKF_HKDF_SALT_NULL => Salt::Null,
                CKF_HKDF_SALT_DATA if k.ulSaltLen > 0 => Salt::Data(
                    // SAFETY: valid for the stated length (contract).
                    unsafe { bytes(k.pSalt, k.ulSaltLen) }
                        .map_err(pbad)?
                        .to_vec(),
                ),
                CKF_HKDF_SALT_KEY => Salt::Key(k.hSaltKey),
                _ => return Err(Error::new(CKR_MECHANISM_PARAM_INVALID)),
            };
            Param::Hkdf(HkdfParams {
                extract: k.bExtract != 0,
                expand: k.bExpand != 0,
                prf: k.prfHashMechanism,
                salt,
                // SAFETY: valid for the stated length (contract).
                info: unsafe { bytes(k.pInfo, k.ulInfoLen) }
                    .map_err(pbad)?
                    .to_vec(),
            })
        }
        CKM_TLS12_KDF => {
            // SAFETY: as for `param`.
            let t: CK_TLS_KDF_PARAMS = unsafe { param(m) }?;
            let context = if t.pContextData.is_null() {
                None
            } else {
                // SAFETY: valid for the stated length (contract).
                Some(
                    unsafe { bytes(t.pContextData, t.ulContextDataLength) }
                        .map_err(pbad)?
                        .to_vec(),
                )
            };
            Param::TlsKdf {
                prf: t.prfMechanism,
                // SAFETY: valid for the stated length (contract).
                label: unsafe { bytes(t.pLabel, t.ulLabelLength) }
                    .map_err(pbad)?
                    .to_vec(),
                // SAFETY: valid random pointers (contract).
                randoms: unsafe { randoms(&t.RandomInfo) }?,
                context,
            }
        }
        CKM_AES_KEY_WRAP | CKM_AES_KEY_WRAP_PAD | CKM_AES_KEY_WRAP_KWP if !none => {
            // SAFETY: valid for ulParameterLen bytes (contract).
            Param::Iv(
                unsafe { bytes(m.pParameter as *const u8, m.ulParameterLen) }
                    .map_err(pbad)?
                    .to_vec(),
            )
        }
        CKM_RSA_PKCS_PSS
        | CKM_SHA256_RSA_PKCS_PSS
        | CKM_SHA384_RSA_PKCS_PSS
        | CKM_SHA512_RSA_PKCS_PSS
        | CKM_RSA_PKCS_OAEP
        | rsa::CKM_HSMTLS_RSA_PREMASTER_TO_MASTER => {
            // SAFETY: valid parameter and inner pointers (contract).
            unsafe { rsa::parse(m) }?
        }
        tls13::CKM_HSMTLS_TLS13_KEY_AND_IV => {
            // SAFETY: valid parameter (contract).
            unsafe { tls13::parse(m) }?
        }
        keyshare::CKM_HSMTLS_KEY_SHARE_GEN => {
            // SAFETY: valid parameter (contract).
            unsafe { keyshare::parse(m) }?
        }
        tls13::CKM_HSMTLS_TLS13_TRAFFIC_SECRET => {
            // SAFETY: valid parameter and inner pointers (contract).
            unsafe { tls13::parse_traffic(m) }?
        }
        tls13::CKM_HSMTLS_TLS13_NEXT_SECRET => {
            // SAFETY: valid parameter (contract).
            unsafe { tls13::parse_next_secret(m) }?
        }
        tls13::CKM_HSMTLS_TLS13_FINISHED => Param::Tls13Finished {
            // SAFETY: as for `param`.
            prf: unsafe { param::<CK_MECHANISM_TYPE>(m) }?,
        },
        _ if none => Param::None,
        _ => return Err(Error::new(CKR_MECHANISM_PARAM_INVALID)),
    };
    Ok(Mechanism {
        mechanism: m.mechanism,
        param,
    })
}

/// Delivers a [`Produced`] output with the length-query convention.
///
/// # Safety
/// `out` must be NULL or valid for `*out_len` bytes; `out_len` must be
/// NULL or valid.
unsafe fn deliver(r: Result<Produced>, out: *mut u8, out_len: *mut CK_ULONG) -> CK_RV {
    let p = match r {
        Ok(p) => p,
        Err(e) => return e.rv(),
    };
    // SAFETY: checked non-NULL; valid by contract.
    let Some(len) = (unsafe { out_len.as_mut() }) else {
        return CKR_ARGUMENTS_BAD;
    };
    match p {
        Produced::Query(n) => {
            *len = n as CK_ULONG;
            CKR_OK
        }
        Produced::TooSmall(n) => {
            *len = n as CK_ULONG;
            CKR_BUFFER_TOO_SMALL
        }
        Produced::Data(d) => {
            if !d.is_empty() {
                // SAFETY: `out` is valid for `*len >= d.len()` bytes (the
                // inner function checked the capacity) and does not overlap
                // our buffer.
                unsafe { core::ptr::copy_nonoverlapping(d.as_ptr(), out, d.len()) };
            }
            *len = d.len() as CK_ULONG;
            // Record-sized outputs: wipe at memset speed, not byte-wise.
            hsmtls_crypto::wipe::release(d);
            CKR_OK
        }
    }
}

/// The capacity the caller offers: `None` for a NULL buffer.
///
/// # Safety
/// `out_len` must be NULL or valid.
unsafe fn capacity(out: *const u8, out_len: *const CK_ULONG) -> Result<Option<usize>> {
    // SAFETY: checked non-NULL; valid by contract.
    let len = unsafe { out_len.as_ref() }.ok_or(BAD)?;
    Ok((!out.is_null()).then_some(*len as usize))
}

/// Copies `s` into a blank-padded fixed field.
fn pad<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [b' '; N];
    let n = s.len().min(N);
    out[..n].copy_from_slice(&s[..n]);
    out
}
