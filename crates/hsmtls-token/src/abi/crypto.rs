//! Cryptographic functions (PKCS#11 3.0 §5.8–§5.15): encryption,
//! decryption, digests, signatures, verification, key generation,
//! derivation and random numbers.

use cryptoki_sys::*;

use super::{bytes, capacity, deliver, mechanism, rv, template, BAD};
use crate::error::Result;
use crate::library::{self, OpKind, Step};

unsafe fn init(
    h: CK_SESSION_HANDLE,
    m: *mut CK_MECHANISM,
    key: CK_OBJECT_HANDLE,
    kind: OpKind,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: per contract.
        let m = unsafe { mechanism(m) }?;
        lib.op_init(h, kind, &m, key)
    })())
}

macro_rules! init_fn {
    ($name:ident, $kind:expr, $doc:literal) => {
        #[doc = $doc]
        ///
        /// # Safety
        /// `m` NULL or a valid mechanism.
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            h: CK_SESSION_HANDLE,
            m: *mut CK_MECHANISM,
            key: CK_OBJECT_HANDLE,
        ) -> CK_RV {
            // SAFETY: forwarded contract.
            unsafe { init(h, m, key, $kind) }
        }
    };
}

init_fn!(C_EncryptInit, OpKind::Encrypt, "`C_EncryptInit`.");
init_fn!(C_DecryptInit, OpKind::Decrypt, "`C_DecryptInit`.");
init_fn!(C_SignInit, OpKind::Sign, "`C_SignInit`.");
init_fn!(C_VerifyInit, OpKind::Verify, "`C_VerifyInit`.");

/// Runs one step of a cipher, sign or digest operation with output.
///
/// # Safety
/// Input valid for its length; output per [`deliver`].
unsafe fn step(
    h: CK_SESSION_HANDLE,
    which: u8,
    input: Option<(*const u8, CK_ULONG)>,
    single: bool,
    out: *mut u8,
    out_len: *mut CK_ULONG,
) -> CK_RV {
    if single && which <= 1 {
        if let Some((p, n)) = input {
            // SAFETY: forwarded contract.
            if let Some(rv) = unsafe { cipher_direct(h, which == 0, p, n, out, out_len) } {
                return rv;
            }
        }
    }
    let r = (|| {
        let lib = library::get()?;
        // SAFETY: per contract.
        let cap = unsafe { capacity(out, out_len) }?;
        let data = match input {
            // SAFETY: valid for its length (contract).
            Some((p, n)) => Some(unsafe { bytes(p, n) }?),
            None => None,
        };
        let st = match (data, single) {
            (Some(d), true) => Step::Single(d),
            (Some(d), false) => Step::Update(d),
            (None, _) => Step::Final,
        };
        match which {
            0 => lib.cipher(h, true, st, cap),
            1 => lib.cipher(h, false, st, cap),
            2 => lib.sign(h, st, cap),
            _ => lib.digest(h, st, cap),
        }
    })();
    // SAFETY: per contract.
    unsafe { deliver(r, out, out_len) }
}

/// Single-part `C_Encrypt` / `C_Decrypt` straight into the caller's
/// buffer (AEADs: one copy, no intermediate buffer to wipe). `None` when
/// the general path must answer: NULL or overlapping buffers, or a cipher
/// or buffer size the direct path does not take.
///
/// # Safety
/// `input` valid for `n` bytes; `out` NULL or valid for `*out_len` bytes;
/// `out_len` NULL or valid.
unsafe fn cipher_direct(
    h: CK_SESSION_HANDLE,
    encrypt: bool,
    input: *const u8,
    n: CK_ULONG,
    out: *mut u8,
    out_len: *mut CK_ULONG,
) -> Option<CK_RV> {
    if input.is_null() || out.is_null() || out_len.is_null() {
        return None;
    }
    // SAFETY: checked non-NULL; valid by contract.
    let cap = unsafe { *out_len } as usize;
    let (n, a, b) = (n as usize, input as usize, out as usize);
    // Overlapping buffers (in-place use) cannot be borrowed as a shared
    // and an exclusive slice at once: the general path copies first.
    if a < b.checked_add(cap)? && b < a.checked_add(n)? {
        return None;
    }
    // SAFETY: `input` is valid for `n` bytes and `out` for `cap` bytes by
    // contract, both non-NULL, and the two ranges do not overlap (checked
    // above), so a shared and an exclusive slice may coexist.
    let (data, dst) = unsafe {
        (
            core::slice::from_raw_parts(input, n),
            core::slice::from_raw_parts_mut(out, cap),
        )
    };
    let r = library::get().and_then(|lib| lib.cipher_into(h, encrypt, data, dst));
    match r {
        Ok(None) => None,
        Ok(Some(len)) => {
            // SAFETY: checked non-NULL; valid by contract.
            unsafe { *out_len = len as CK_ULONG };
            Some(CKR_OK)
        }
        Err(e) => Some(e.rv()),
    }
}

/// `C_Encrypt`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_Encrypt(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 0, Some((d, n)), true, o, on) }
}

/// `C_EncryptUpdate`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_EncryptUpdate(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 0, Some((d, n)), false, o, on) }
}

/// `C_EncryptFinal`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_EncryptFinal(
    h: CK_SESSION_HANDLE,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 0, None, false, o, on) }
}

/// `C_Decrypt`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_Decrypt(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 1, Some((d, n)), true, o, on) }
}

/// `C_DecryptUpdate`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_DecryptUpdate(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 1, Some((d, n)), false, o, on) }
}

/// `C_DecryptFinal`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_DecryptFinal(
    h: CK_SESSION_HANDLE,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 1, None, false, o, on) }
}

/// `C_Sign`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_Sign(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 2, Some((d, n)), true, o, on) }
}

/// `C_SignUpdate`.
///
/// # Safety
/// Buffer valid for its length.
#[no_mangle]
pub unsafe extern "C" fn C_SignUpdate(h: CK_SESSION_HANDLE, d: *mut CK_BYTE, n: CK_ULONG) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: valid for its length (contract).
        lib.sign(h, Step::Update(unsafe { bytes(d, n) }?), None)
            .map(|_| ())
    })())
}

/// `C_SignFinal`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_SignFinal(
    h: CK_SESSION_HANDLE,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 2, None, false, o, on) }
}

/// `C_Digest`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_Digest(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 3, Some((d, n)), true, o, on) }
}

/// `C_DigestUpdate`.
///
/// # Safety
/// Buffer valid for its length.
#[no_mangle]
pub unsafe extern "C" fn C_DigestUpdate(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: valid for its length (contract).
        lib.digest(h, Step::Update(unsafe { bytes(d, n) }?), None)
            .map(|_| ())
    })())
}

/// `C_DigestFinal`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_DigestFinal(
    h: CK_SESSION_HANDLE,
    o: *mut CK_BYTE,
    on: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: forwarded contract.
    unsafe { step(h, 3, None, false, o, on) }
}

/// `C_DigestInit`.
///
/// # Safety
/// `m` NULL or a valid mechanism.
#[no_mangle]
pub unsafe extern "C" fn C_DigestInit(h: CK_SESSION_HANDLE, m: *mut CK_MECHANISM) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: per contract.
        lib.digest_init(h, &unsafe { mechanism(m) }?)
    })())
}

/// `C_Verify`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_Verify(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
    s: *mut CK_BYTE,
    sn: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: valid for their lengths (contract).
        let (d, s) = unsafe { (bytes(d, n)?, bytes(s, sn)?) };
        lib.verify(h, Some(d), Some(s))
    })())
}

/// `C_VerifyUpdate`.
///
/// # Safety
/// Buffer valid for its length.
#[no_mangle]
pub unsafe extern "C" fn C_VerifyUpdate(
    h: CK_SESSION_HANDLE,
    d: *mut CK_BYTE,
    n: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: valid for its length (contract).
        lib.verify(h, Some(unsafe { bytes(d, n) }?), None)
    })())
}

/// `C_VerifyFinal`.
///
/// # Safety
/// Buffer valid for its length.
#[no_mangle]
pub unsafe extern "C" fn C_VerifyFinal(
    h: CK_SESSION_HANDLE,
    s: *mut CK_BYTE,
    sn: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: valid for its length (contract).
        lib.verify(h, None, Some(unsafe { bytes(s, sn) }?))
    })())
}

/// `C_GenerateKey`.
///
/// # Safety
/// Mechanism, template and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn C_GenerateKey(
    h: CK_SESSION_HANDLE,
    m: *mut CK_MECHANISM,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
    out: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        if out.is_null() {
            return Err(BAD);
        }
        // SAFETY: per contract.
        let (mech, t) = unsafe { (mechanism(m)?, template(t, n)?) };
        let k = if mech.mechanism == super::keyshare::CKM_HSMTLS_KEY_SHARE_GEN {
            let (k, public) = lib.generate_key_share(h, &mech, t)?;
            // SAFETY: `m` was validated by `mechanism` above; its pPublicKey
            // has room for the public key (checked before it was made).
            unsafe { super::keyshare::write_public(&*m, &public) };
            k
        } else {
            lib.generate_key(h, &mech, t)?
        };
        // SAFETY: non-NULL, valid for writes.
        unsafe { *out = k };
        Ok(())
    })())
}

/// `C_GenerateKeyPair`.
///
/// # Safety
/// Mechanism, templates and outputs valid.
#[no_mangle]
pub unsafe extern "C" fn C_GenerateKeyPair(
    h: CK_SESSION_HANDLE,
    m: *mut CK_MECHANISM,
    pt: *mut CK_ATTRIBUTE,
    pn: CK_ULONG,
    st: *mut CK_ATTRIBUTE,
    sn: CK_ULONG,
    pub_out: *mut CK_OBJECT_HANDLE,
    priv_out: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        if pub_out.is_null() || priv_out.is_null() {
            return Err(BAD);
        }
        // SAFETY: per contract.
        let (m, pt, st) = unsafe { (mechanism(m)?, template(pt, pn)?, template(st, sn)?) };
        let (p, s) = lib.generate_key_pair(h, &m, pt, st)?;
        // SAFETY: non-NULL, valid for writes.
        unsafe {
            *pub_out = p;
            *priv_out = s;
        }
        Ok(())
    })())
}

/// `C_DeriveKey`: writes the new handle, or for TLS key material the
/// handles and IVs into `pReturnedKeyMaterial`, and the pre-master
/// version into `pVersion` when asked.
///
/// # Safety
/// Mechanism (with its output pointers), template and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn C_DeriveKey(
    h: CK_SESSION_HANDLE,
    m: *mut CK_MECHANISM,
    base: CK_OBJECT_HANDLE,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
    out: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    rv((|| -> Result<()> {
        let lib = library::get()?;
        // SAFETY: per contract.
        let (mech, tpl) = unsafe { (mechanism(m)?, template(t, n)?) };
        let nss = matches!(
            mech.mechanism,
            super::consts::CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256
                | super::consts::CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256
        );
        let keymat = matches!(
            mech.mechanism,
            CKM_TLS12_KEY_AND_MAC_DERIVE
                | CKM_TLS12_KEY_SAFE_DERIVE
                | super::consts::CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256
        );
        if out.is_null() && !keymat {
            return Err(BAD);
        }
        let d = lib.derive(h, &mech, base, tpl)?;
        // SAFETY: `m` was validated by `mechanism` above.
        let raw = unsafe { &*m };
        if let Some(k) = d.key {
            // SAFETY: non-NULL (checked), valid for writes.
            unsafe { *out = k };
        }
        if mech.mechanism == super::tls13::CKM_HSMTLS_TLS13_TRAFFIC_SECRET {
            // The secret is handle 0 of the key material, the traffic key
            // handle 2 (to phTrafficKey), the IV to pIv.
            // SAFETY: non-NULL (checked), valid for writes.
            unsafe { *out = d.handles[0] };
            // SAFETY: the parsed vendor parameter; its pIv is valid for
            // ulIvLen bytes and phTrafficKey for a write (contract).
            unsafe { super::tls13::write_traffic(raw, d.handles[2], &d.ivs.0) };
        }
        if mech.mechanism == super::tls13::CKM_HSMTLS_TLS13_KEY_AND_IV {
            // The key is handle 2 of the key material; the IV goes to pIv.
            // SAFETY: non-NULL (checked), valid for writes.
            unsafe { *out = d.handles[2] };
            // SAFETY: the parsed vendor parameter; its pIv is valid for
            // ulIvLen bytes (contract), and the IV is that long.
            unsafe { super::tls13::write_iv(raw, &d.ivs.0) };
        }
        if let Some((major, minor)) = d.version {
            // The version pointer sits at the same place in both TLS 1.2
            // master-key parameter structures.
            let p = if nss {
                // SAFETY: the parameter is a CK_SSL3_MASTER_KEY_DERIVE_PARAMS.
                unsafe { (*(raw.pParameter as *const CK_SSL3_MASTER_KEY_DERIVE_PARAMS)).pVersion }
            } else if matches!(mech.param, crate::mechanisms::Param::Tls12Master { .. }) {
                // SAFETY: the parameter is a CK_TLS12_MASTER_KEY_DERIVE_PARAMS.
                unsafe { (*(raw.pParameter as *const CK_TLS12_MASTER_KEY_DERIVE_PARAMS)).pVersion }
            } else {
                // SAFETY: the parameter is a CK_TLS12_EXTENDED_MASTER_KEY_DERIVE_PARAMS.
                unsafe {
                    (*(raw.pParameter as *const CK_TLS12_EXTENDED_MASTER_KEY_DERIVE_PARAMS))
                        .pVersion
                }
            };
            // SAFETY: NULL or valid for writes (contract).
            if let Some(v) = unsafe { p.as_mut() } {
                *v = CK_VERSION { major, minor };
            }
        }
        if keymat {
            // SAFETY: the parameter is a CK_TLS12_KEY_MAT_PARAMS whose
            // pReturnedKeyMaterial is non-NULL (checked by `mechanism`).
            let km = if nss {
                // SAFETY: a CK_SSL3_KEY_MAT_PARAMS with a non-NULL
                // pReturnedKeyMaterial (checked by `mechanism`).
                unsafe {
                    &mut *(*(raw.pParameter as *const CK_SSL3_KEY_MAT_PARAMS)).pReturnedKeyMaterial
                }
            } else {
                // SAFETY: as above, a CK_TLS12_KEY_MAT_PARAMS.
                unsafe {
                    &mut *(*(raw.pParameter as *const CK_TLS12_KEY_MAT_PARAMS)).pReturnedKeyMaterial
                }
            };
            km.hClientMacSecret = d.handles[0];
            km.hServerMacSecret = d.handles[1];
            km.hClientKey = d.handles[2];
            km.hServerKey = d.handles[3];
            for (dst, iv) in [(km.pIVClient, &d.ivs.0), (km.pIVServer, &d.ivs.1)] {
                if !iv.is_empty() && !dst.is_null() {
                    // SAFETY: the caller allocates ulIVSizeInBits/8 bytes
                    // (§6.39.6), which is `iv.len()`.
                    unsafe { core::ptr::copy_nonoverlapping(iv.as_ptr(), dst, iv.len()) };
                }
            }
        }
        Ok(())
    })())
}

/// `C_SeedRandom`: mixes the caller's bytes into the library's
/// generator (`hsmtls_crypto::rng::seed`); the generator stays seeded from
/// the operating system, so seed material only adds to its state.
///
/// # Safety
/// `p` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn C_SeedRandom(h: CK_SESSION_HANDLE, p: *mut CK_BYTE, n: CK_ULONG) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        lib.check_session(h)?;
        // SAFETY: valid for `n` bytes (contract).
        let seed = unsafe { bytes(p, n) }?;
        hsmtls_crypto::rng::seed(seed)?;
        Ok(())
    })())
}

/// `C_GenerateRandom`.
///
/// # Safety
/// `p` valid for writes of `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn C_GenerateRandom(
    h: CK_SESSION_HANDLE,
    p: *mut CK_BYTE,
    n: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        lib.check_session(h)?;
        if n == 0 {
            return Ok(());
        }
        if p.is_null() {
            return Err(BAD);
        }
        // SAFETY: non-NULL and valid for `n` bytes (contract).
        let out = unsafe { core::slice::from_raw_parts_mut(p, n as usize) };
        hsmtls_crypto::rng::fill(hsmtls_crypto::rng::Level::Random, out)?;
        Ok(())
    })())
}

/// `C_WrapKey` (§5.18): the length-query convention on `pWrappedKey`.
///
/// # Safety
/// Mechanism valid; `out` NULL or valid for `*out_len` bytes; `out_len`
/// valid.
#[no_mangle]
pub unsafe extern "C" fn C_WrapKey(
    h: CK_SESSION_HANDLE,
    m: *mut CK_MECHANISM,
    wrapping: CK_OBJECT_HANDLE,
    key: CK_OBJECT_HANDLE,
    out: *mut CK_BYTE,
    out_len: *mut CK_ULONG,
) -> CK_RV {
    let r = (|| {
        let lib = library::get()?;
        // SAFETY: per contract.
        let cap = unsafe { capacity(out, out_len) }?;
        // SAFETY: per contract.
        let m = unsafe { mechanism(m) }?;
        lib.wrap_key(h, &m, wrapping, key, cap)
    })();
    // SAFETY: per contract.
    unsafe { deliver(r, out, out_len) }
}

/// `C_UnwrapKey` (§5.18).
///
/// # Safety
/// Mechanism, wrapped key, template and `out` valid.
#[no_mangle]
pub unsafe extern "C" fn C_UnwrapKey(
    h: CK_SESSION_HANDLE,
    m: *mut CK_MECHANISM,
    unwrapping: CK_OBJECT_HANDLE,
    wrapped: *mut CK_BYTE,
    wrapped_len: CK_ULONG,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
    out: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        if out.is_null() {
            return Err(BAD);
        }
        // SAFETY: per contract.
        let (m, w, t) = unsafe { (mechanism(m)?, bytes(wrapped, wrapped_len)?, template(t, n)?) };
        let k = lib.unwrap_key(h, &m, unwrapping, w, t)?;
        // SAFETY: non-NULL, valid for writes.
        unsafe { *out = k };
        Ok(())
    })())
}
