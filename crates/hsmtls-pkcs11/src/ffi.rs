//! The only `unsafe` code of the crate: loading a PKCS#11 module and calling
//! its `CK_FUNCTION_LIST` (PKCS#11 v2.40 §5, v3.0 §5) with `#[repr(C)]`
//! parameter structures from `cryptoki-sys`.
//!
//! Everything here is a thin, typed wrapper: a safe Rust signature in, one
//! `C_*` call, a [`Ck`] error naming the function and the `CK_RV` out. The
//! rest of the crate never sees a raw pointer.
#![allow(unsafe_code)]

use core::ffi::c_void;
use core::fmt;
use core::ptr;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki_sys as sys;
pub(crate) use sys::{
    CK_ATTRIBUTE_TYPE, CK_MECHANISM_TYPE, CK_OBJECT_HANDLE, CK_RV, CK_SESSION_HANDLE, CK_SLOT_ID,
    CK_ULONG,
};
use zeroize::Zeroizing;

/// A failed PKCS#11 call: which function, which `CK_RV`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ck {
    /// The `C_*` function that failed.
    pub function: &'static str,
    /// Its return value.
    pub rv: CK_RV,
}

impl fmt::Display for Ck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (0x{:x})",
            self.function,
            rv_name(self.rv),
            self.rv
        )
    }
}

impl std::error::Error for Ck {}

/// The name of a `CK_RV`, for messages.
pub(crate) fn rv_name(rv: CK_RV) -> &'static str {
    match rv {
        sys::CKR_OK => "CKR_OK",
        sys::CKR_HOST_MEMORY => "CKR_HOST_MEMORY",
        sys::CKR_SLOT_ID_INVALID => "CKR_SLOT_ID_INVALID",
        sys::CKR_GENERAL_ERROR => "CKR_GENERAL_ERROR",
        sys::CKR_FUNCTION_FAILED => "CKR_FUNCTION_FAILED",
        sys::CKR_ARGUMENTS_BAD => "CKR_ARGUMENTS_BAD",
        sys::CKR_ATTRIBUTE_SENSITIVE => "CKR_ATTRIBUTE_SENSITIVE",
        sys::CKR_ATTRIBUTE_TYPE_INVALID => "CKR_ATTRIBUTE_TYPE_INVALID",
        sys::CKR_ATTRIBUTE_VALUE_INVALID => "CKR_ATTRIBUTE_VALUE_INVALID",
        sys::CKR_DATA_INVALID => "CKR_DATA_INVALID",
        sys::CKR_DATA_LEN_RANGE => "CKR_DATA_LEN_RANGE",
        sys::CKR_DEVICE_ERROR => "CKR_DEVICE_ERROR",
        sys::CKR_DOMAIN_PARAMS_INVALID => "CKR_DOMAIN_PARAMS_INVALID",
        sys::CKR_ENCRYPTED_DATA_INVALID => "CKR_ENCRYPTED_DATA_INVALID",
        sys::CKR_ENCRYPTED_DATA_LEN_RANGE => "CKR_ENCRYPTED_DATA_LEN_RANGE",
        sys::CKR_KEY_HANDLE_INVALID => "CKR_KEY_HANDLE_INVALID",
        sys::CKR_KEY_TYPE_INCONSISTENT => "CKR_KEY_TYPE_INCONSISTENT",
        sys::CKR_KEY_FUNCTION_NOT_PERMITTED => "CKR_KEY_FUNCTION_NOT_PERMITTED",
        sys::CKR_KEY_UNEXTRACTABLE => "CKR_KEY_UNEXTRACTABLE",
        sys::CKR_MECHANISM_INVALID => "CKR_MECHANISM_INVALID",
        sys::CKR_MECHANISM_PARAM_INVALID => "CKR_MECHANISM_PARAM_INVALID",
        sys::CKR_OBJECT_HANDLE_INVALID => "CKR_OBJECT_HANDLE_INVALID",
        sys::CKR_OPERATION_ACTIVE => "CKR_OPERATION_ACTIVE",
        sys::CKR_PIN_INCORRECT => "CKR_PIN_INCORRECT",
        sys::CKR_PIN_LOCKED => "CKR_PIN_LOCKED",
        sys::CKR_PIN_INVALID => "CKR_PIN_INVALID",
        sys::CKR_PIN_LEN_RANGE => "CKR_PIN_LEN_RANGE",
        sys::CKR_PIN_EXPIRED => "CKR_PIN_EXPIRED",
        sys::CKR_USER_PIN_NOT_INITIALIZED => "CKR_USER_PIN_NOT_INITIALIZED",
        sys::CKR_USER_TYPE_INVALID => "CKR_USER_TYPE_INVALID",
        sys::CKR_USER_ANOTHER_ALREADY_LOGGED_IN => "CKR_USER_ANOTHER_ALREADY_LOGGED_IN",
        sys::CKR_SESSION_READ_ONLY => "CKR_SESSION_READ_ONLY",
        sys::CKR_SESSION_READ_ONLY_EXISTS => "CKR_SESSION_READ_ONLY_EXISTS",
        sys::CKR_FUNCTION_NOT_SUPPORTED => "CKR_FUNCTION_NOT_SUPPORTED",
        sys::CKR_TOKEN_WRITE_PROTECTED => "CKR_TOKEN_WRITE_PROTECTED",
        sys::CKR_TOKEN_NOT_RECOGNIZED => "CKR_TOKEN_NOT_RECOGNIZED",
        sys::CKR_ACTION_PROHIBITED => "CKR_ACTION_PROHIBITED",
        sys::CKR_KEY_SIZE_RANGE => "CKR_KEY_SIZE_RANGE",
        sys::CKR_CURVE_NOT_SUPPORTED => "CKR_CURVE_NOT_SUPPORTED",
        sys::CKR_SESSION_HANDLE_INVALID => "CKR_SESSION_HANDLE_INVALID",
        sys::CKR_SIGNATURE_INVALID => "CKR_SIGNATURE_INVALID",
        sys::CKR_SIGNATURE_LEN_RANGE => "CKR_SIGNATURE_LEN_RANGE",
        sys::CKR_TEMPLATE_INCOMPLETE => "CKR_TEMPLATE_INCOMPLETE",
        sys::CKR_TEMPLATE_INCONSISTENT => "CKR_TEMPLATE_INCONSISTENT",
        sys::CKR_TOKEN_NOT_PRESENT => "CKR_TOKEN_NOT_PRESENT",
        sys::CKR_USER_ALREADY_LOGGED_IN => "CKR_USER_ALREADY_LOGGED_IN",
        sys::CKR_USER_NOT_LOGGED_IN => "CKR_USER_NOT_LOGGED_IN",
        sys::CKR_BUFFER_TOO_SMALL => "CKR_BUFFER_TOO_SMALL",
        sys::CKR_CRYPTOKI_NOT_INITIALIZED => "CKR_CRYPTOKI_NOT_INITIALIZED",
        sys::CKR_CRYPTOKI_ALREADY_INITIALIZED => "CKR_CRYPTOKI_ALREADY_INITIALIZED",
        _ => "CKR_?",
    }
}

pub(crate) type CkResult<T> = Result<T, Ck>;

fn check(function: &'static str, rv: CK_RV) -> CkResult<()> {
    if rv == sys::CKR_OK {
        Ok(())
    } else {
        Err(Ck { function, rv })
    }
}

/// One attribute of a template, its value owned (byte strings zeroized on
/// drop, as a template may carry a private key being imported).
pub(crate) struct Attr {
    ty: CK_ATTRIBUTE_TYPE,
    value: AttrValue,
}

/// A template value: booleans and `CK_ULONG`s inline (a template is built
/// for every derived key; they are never secret), byte strings — which
/// may be key material — on the heap, wiped when dropped.
enum AttrValue {
    Inline {
        len: u8,
        bytes: [u8; core::mem::size_of::<CK_ULONG>()],
    },
    Heap(Zeroizing<Vec<u8>>),
}

impl Attr {
    pub(crate) fn bool(ty: CK_ATTRIBUTE_TYPE, v: bool) -> Self {
        let mut bytes = [0; core::mem::size_of::<CK_ULONG>()];
        bytes[0] = if v { sys::CK_TRUE } else { sys::CK_FALSE };
        Self {
            ty,
            value: AttrValue::Inline { len: 1, bytes },
        }
    }

    pub(crate) fn ulong(ty: CK_ATTRIBUTE_TYPE, v: CK_ULONG) -> Self {
        Self {
            ty,
            value: AttrValue::Inline {
                len: core::mem::size_of::<CK_ULONG>() as u8,
                bytes: v.to_ne_bytes(),
            },
        }
    }

    pub(crate) fn bytes(ty: CK_ATTRIBUTE_TYPE, v: &[u8]) -> Self {
        Self {
            ty,
            value: AttrValue::Heap(Zeroizing::new(v.to_vec())),
        }
    }

    fn value(&self) -> &[u8] {
        match &self.value {
            AttrValue::Inline { len, bytes } => &bytes[..usize::from(*len)],
            AttrValue::Heap(v) => v,
        }
    }
}

fn raw_template(attrs: &[Attr]) -> Vec<sys::CK_ATTRIBUTE> {
    attrs
        .iter()
        .map(|a| sys::CK_ATTRIBUTE {
            type_: a.ty,
            pValue: a.value().as_ptr() as *mut c_void,
            ulValueLen: a.value().len() as CK_ULONG,
        })
        .collect()
}

/// The `CK_SSL3_RANDOM_DATA` of the TLS mechanisms.
#[derive(Clone, Copy)]
pub(crate) struct Randoms<'a> {
    pub(crate) client: &'a [u8; 32],
    pub(crate) server: &'a [u8; 32],
}

impl Randoms<'_> {
    fn raw(&self) -> sys::CK_SSL3_RANDOM_DATA {
        sys::CK_SSL3_RANDOM_DATA {
            // The token only reads through these pointers (PKCS#11 v2.40
            // §2.41.3); the const cast is what the C struct asks for.
            pClientRandom: self.client.as_ptr() as *mut u8,
            ulClientRandomLen: 32,
            pServerRandom: self.server.as_ptr() as *mut u8,
            ulServerRandomLen: 32,
        }
    }
}

/// A mechanism with its parameters, as the crate uses them.
pub(crate) enum Mech<'a> {
    /// A mechanism without parameters.
    Plain(CK_MECHANISM_TYPE),
    /// `CKM_ECDH1_DERIVE` with `CKD_NULL` (v2.40 §2.3.16).
    Ecdh1 { public: &'a [u8] },
    /// `CKM_TLS12_MASTER_KEY_DERIVE_DH` (v2.40 §2.41.4).
    Tls12Master {
        mechanism: CK_MECHANISM_TYPE,
        randoms: Randoms<'a>,
        prf: CK_MECHANISM_TYPE,
    },
    /// `CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH` (v3.2) or
    /// `CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH`: both take
    /// `{prfHashMechanism, pSessionHash, ulSessionHashLen, pVersion}`.
    ExtendedMaster {
        mechanism: CK_MECHANISM_TYPE,
        session_hash: &'a [u8],
        prf: CK_MECHANISM_TYPE,
    },
    /// `CKM_TLS12_MAC` / `CKM_TLS_MAC` (v2.40 §2.41.6).
    TlsMac {
        mechanism: CK_MECHANISM_TYPE,
        prf: CK_MECHANISM_TYPE,
        mac_len: usize,
        server: bool,
    },
    /// `CKM_TLS12_KDF` (v2.40 §2.41.7).
    Tls12Kdf {
        prf: CK_MECHANISM_TYPE,
        label: &'a [u8],
        randoms: Randoms<'a>,
        context: Option<&'a [u8]>,
    },
    /// `CKM_AES_GCM` with `CK_GCM_PARAMS` (v3.0 §2.14.6).
    Gcm { iv: &'a [u8], aad: &'a [u8] },
    /// `CKM_CHACHA20_POLY1305` (v3.0 §2.11).
    ChaCha20Poly1305 { nonce: &'a [u8], aad: &'a [u8] },
    /// `CKM_AES_CBC` with a 16-byte IV.
    AesCbc { iv: &'a [u8; 16] },
    /// `CKM_HKDF_DERIVE` / `CKM_HKDF_DATA` with `CK_HKDF_PARAMS` (v3.0
    /// §2.43): `salt_key` selects `CKF_HKDF_SALT_KEY`, otherwise
    /// `CKF_HKDF_SALT_NULL` (`HashLen` zero bytes, RFC 5869 §2.2).
    Hkdf {
        mechanism: CK_MECHANISM_TYPE,
        extract: bool,
        expand: bool,
        prf: CK_MECHANISM_TYPE,
        salt_key: Option<CK_OBJECT_HANDLE>,
        info: &'a [u8],
    },
    /// A mechanism whose parameter is one `CK_ULONG` (a
    /// `CK_MECHANISM_TYPE`): hsmtls-token's `CKM_HSMTLS_TLS13_FINISHED`
    /// with its HKDF hash.
    Ulong {
        mechanism: CK_MECHANISM_TYPE,
        value: CK_ULONG,
    },
    /// hsmtls-token's `CKM_HSMTLS_TLS13_NEXT_SECRET` with its
    /// `{prfHashMechanism, hIkmKey}` (`None`: `CK_INVALID_HANDLE`, zeros).
    Tls13NextSecret {
        prf: CK_MECHANISM_TYPE,
        ikm: Option<CK_OBJECT_HANDLE>,
    },
    /// `CKM_*_RSA_PKCS_PSS` with its `CK_RSA_PKCS_PSS_PARAMS`.
    RsaPss {
        mechanism: CK_MECHANISM_TYPE,
        hash: CK_MECHANISM_TYPE,
        mgf: CK_ULONG,
        salt_len: usize,
    },
}

impl Mech<'_> {
    /// The mechanism type.
    pub(crate) fn mechanism_type(&self) -> CK_MECHANISM_TYPE {
        match self {
            Mech::Plain(m) => *m,
            Mech::Ecdh1 { .. } => sys::CKM_ECDH1_DERIVE,
            Mech::Tls12Master { mechanism, .. }
            | Mech::ExtendedMaster { mechanism, .. }
            | Mech::TlsMac { mechanism, .. }
            | Mech::RsaPss { mechanism, .. }
            | Mech::Ulong { mechanism, .. }
            | Mech::Hkdf { mechanism, .. } => *mechanism,
            Mech::Tls12Kdf { .. } => sys::CKM_TLS12_KDF,
            Mech::Tls13NextSecret { .. } => crate::CKM_HSMTLS_TLS13_NEXT_SECRET,
            Mech::Gcm { .. } => sys::CKM_AES_GCM,
            Mech::ChaCha20Poly1305 { .. } => sys::CKM_CHACHA20_POLY1305,
            Mech::AesCbc { .. } => sys::CKM_AES_CBC,
        }
    }
}

/// A `CK_MECHANISM` of `mechanism` pointing to its parameter structure
/// `params` (which must outlive every use of the result).
fn mechanism_with<P>(mechanism: CK_MECHANISM_TYPE, params: &mut P) -> sys::CK_MECHANISM {
    sys::CK_MECHANISM {
        mechanism,
        pParameter: params as *mut P as *mut c_void,
        ulParameterLen: core::mem::size_of::<P>() as CK_ULONG,
    }
}

/// Builds the `CK_MECHANISM` of `mech` on the stack and hands a pointer to
/// it to `f`. The parameter structure lives until `f` returns.
fn with_mechanism<R>(mech: &Mech<'_>, f: impl FnOnce(*mut sys::CK_MECHANISM) -> R) -> R {
    fn call<P, R>(
        ty: CK_MECHANISM_TYPE,
        params: &mut P,
        f: impl FnOnce(*mut sys::CK_MECHANISM) -> R,
    ) -> R {
        f(&mut mechanism_with(ty, params))
    }
    let ty = mech.mechanism_type();
    match *mech {
        Mech::Plain(_) => {
            let mut m = sys::CK_MECHANISM {
                mechanism: ty,
                pParameter: ptr::null_mut(),
                ulParameterLen: 0,
            };
            f(&mut m)
        }
        Mech::Ecdh1 { public } => {
            let mut p = sys::CK_ECDH1_DERIVE_PARAMS {
                kdf: sys::CKD_NULL,
                ulSharedDataLen: 0,
                pSharedData: ptr::null_mut(),
                ulPublicDataLen: public.len() as CK_ULONG,
                pPublicData: public.as_ptr() as *mut u8,
            };
            call(ty, &mut p, f)
        }
        Mech::Tls12Master { randoms, prf, .. } => {
            let mut p = sys::CK_TLS12_MASTER_KEY_DERIVE_PARAMS {
                RandomInfo: randoms.raw(),
                // The _DH variants take no version (v2.40 §2.41.4).
                pVersion: ptr::null_mut(),
                prfHashMechanism: prf,
            };
            call(ty, &mut p, f)
        }
        Mech::ExtendedMaster {
            session_hash, prf, ..
        } => {
            let mut p = sys::CK_TLS12_EXTENDED_MASTER_KEY_DERIVE_PARAMS {
                prfHashMechanism: prf,
                pSessionHash: session_hash.as_ptr() as *mut u8,
                ulSessionHashLen: session_hash.len() as CK_ULONG,
                pVersion: ptr::null_mut(),
            };
            call(ty, &mut p, f)
        }
        Mech::TlsMac {
            prf,
            mac_len,
            server,
            ..
        } => {
            let mut p = sys::CK_TLS_MAC_PARAMS {
                prfHashMechanism: prf,
                ulMacLength: mac_len as CK_ULONG,
                // v2.40 §2.41.6: 1 = server, 2 = client.
                ulServerOrClient: if server { 1 } else { 2 },
            };
            call(ty, &mut p, f)
        }
        Mech::Tls12Kdf {
            prf,
            label,
            randoms,
            context,
        } => {
            let (ctx_ptr, ctx_len) = match context {
                Some(c) => (c.as_ptr() as *mut u8, c.len() as CK_ULONG),
                None => (ptr::null_mut(), 0),
            };
            let mut p = sys::CK_TLS_KDF_PARAMS {
                prfMechanism: prf,
                pLabel: label.as_ptr() as *mut u8,
                ulLabelLength: label.len() as CK_ULONG,
                RandomInfo: randoms.raw(),
                pContextData: ctx_ptr,
                ulContextDataLength: ctx_len,
            };
            call(ty, &mut p, f)
        }
        Mech::Gcm { iv, aad } => {
            let mut p = sys::CK_GCM_PARAMS {
                pIv: iv.as_ptr() as *mut u8,
                ulIvLen: iv.len() as CK_ULONG,
                ulIvBits: (iv.len() * 8) as CK_ULONG,
                pAAD: aad.as_ptr() as *mut u8,
                ulAADLen: aad.len() as CK_ULONG,
                ulTagBits: 128,
            };
            call(ty, &mut p, f)
        }
        Mech::ChaCha20Poly1305 { nonce, aad } => {
            let mut p = sys::CK_SALSA20_CHACHA20_POLY1305_PARAMS {
                pNonce: nonce.as_ptr() as *mut u8,
                ulNonceLen: nonce.len() as CK_ULONG,
                pAAD: aad.as_ptr() as *mut u8,
                ulAADLen: aad.len() as CK_ULONG,
            };
            call(ty, &mut p, f)
        }
        Mech::AesCbc { iv } => {
            let mut p = *iv;
            call(ty, &mut p, f)
        }
        Mech::Hkdf {
            extract,
            expand,
            prf,
            salt_key,
            info,
            ..
        } => {
            let mut p = sys::CK_HKDF_PARAMS {
                bExtract: extract.into(),
                bExpand: expand.into(),
                prfHashMechanism: prf,
                ulSaltType: if salt_key.is_some() {
                    sys::CKF_HKDF_SALT_KEY
                } else {
                    sys::CKF_HKDF_SALT_NULL
                },
                pSalt: ptr::null_mut(),
                ulSaltLen: 0,
                hSaltKey: salt_key.unwrap_or(sys::CK_INVALID_HANDLE),
                pInfo: if info.is_empty() {
                    ptr::null_mut()
                } else {
                    info.as_ptr() as *mut u8
                },
                ulInfoLen: info.len() as CK_ULONG,
            };
            call(ty, &mut p, f)
        }
        Mech::Ulong { value, .. } => {
            let mut p: CK_ULONG = value;
            call(ty, &mut p, f)
        }
        Mech::Tls13NextSecret { prf, ikm } => {
            let mut p = NextSecretParams {
                prf,
                ikm: ikm.unwrap_or(sys::CK_INVALID_HANDLE),
            };
            call(ty, &mut p, f)
        }
        Mech::RsaPss {
            hash,
            mgf,
            salt_len,
            ..
        } => {
            let mut p = sys::CK_RSA_PKCS_PSS_PARAMS {
                hashAlg: hash,
                mgf,
                sLen: salt_len as CK_ULONG,
            };
            call(ty, &mut p, f)
        }
    }
}

/// The buffer of a first `C_GetAttributeValue` read: an uncompressed
/// P-521 point in its DER wrapping is 136 bytes.
const FIRST_READ: usize = 256;

/// hsmtls-token's `CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS`
/// (docs/token-vendor-mechanisms.md).
#[repr(C)]
struct NextSecretParams {
    prf: CK_MECHANISM_TYPE,
    ikm: CK_OBJECT_HANDLE,
}

/// `CK_NSS_MAC_CONSTANT_TIME_PARAMS` (NSS `lib/util/pkcs11n.h`).
#[repr(C)]
struct NssMacConstantTimeParams {
    mac_alg: CK_MECHANISM_TYPE,
    body_total_len: CK_ULONG,
    header: *mut u8,
    header_len: CK_ULONG,
}

/// Mechanism limits and flags (`CK_MECHANISM_INFO`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MechanismInfo {
    pub(crate) flags: CK_ULONG,
    pub(crate) min_key_size: CK_ULONG,
    pub(crate) max_key_size: CK_ULONG,
}

/// What `C_GetTokenInfo` says, as Rust strings.
#[derive(Clone, Debug)]
pub(crate) struct TokenInfo {
    pub(crate) label: String,
    pub(crate) flags: CK_ULONG,
    pub(crate) manufacturer: String,
    pub(crate) model: String,
    pub(crate) serial: String,
}

/// What `C_GetSlotInfo` says.
#[derive(Clone, Debug)]
pub(crate) struct SlotInfo {
    pub(crate) description: String,
    pub(crate) manufacturer: String,
    pub(crate) flags: CK_ULONG,
}

fn padded(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_end().to_string()
}

/// The three buffers `CKM_TLS12_KEY_AND_MAC_DERIVE` returns through.
pub(crate) struct KeyMaterial {
    pub(crate) client_mac: CK_OBJECT_HANDLE,
    pub(crate) server_mac: CK_OBJECT_HANDLE,
    pub(crate) client_key: CK_OBJECT_HANDLE,
    pub(crate) server_key: CK_OBJECT_HANDLE,
    pub(crate) client_iv: Vec<u8>,
    pub(crate) server_iv: Vec<u8>,
}

/// A loaded and initialized PKCS#11 module.
///
/// A module is initialized once per process (`C_Initialize` a second time
/// is `CKR_CRYPTOKI_ALREADY_INITIALIZED`), so modules are kept in a process
/// registry by path and stay loaded until the process ends.
pub(crate) struct Module {
    path: PathBuf,
    reserved: Option<String>,
    functions: *const sys::CK_FUNCTION_LIST,
    // Keeps the code behind `functions` mapped (none for a linked module).
    _library: Option<libloading::Library>,
}

// SAFETY: the module is initialized with CKF_OS_LOCKING_OK (or its own
// threading model, for modules that need none), so by PKCS#11 v2.40 §5.4
// its functions may be called from any thread concurrently; the function
// list pointer itself is immutable after C_GetFunctionList.
unsafe impl Send for Module {}
// SAFETY: as for Send: the module does its own locking.
unsafe impl Sync for Module {}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Module({})", self.path.display())
    }
}

/// Why a module could not be loaded.
#[derive(Debug)]
pub(crate) enum LoadError {
    Library(String),
    Ck(Ck),
    Mismatch,
}

static MODULES: OnceLock<Mutex<HashMap<PathBuf, Arc<Module>>>> = OnceLock::new();

/// An `…Init` and its single-part call (`C_EncryptInit` + `C_Encrypt`,
/// `C_DecryptInit` + `C_Decrypt`), with their names for errors.
struct SinglePart {
    init: (
        &'static str,
        unsafe extern "C" fn(CK_SESSION_HANDLE, *mut sys::CK_MECHANISM, CK_OBJECT_HANDLE) -> CK_RV,
    ),
    run: (
        &'static str,
        unsafe extern "C" fn(CK_SESSION_HANDLE, *mut u8, CK_ULONG, *mut u8, *mut CK_ULONG) -> CK_RV,
    ),
}

impl SinglePart {
    /// Initialises with `mech` and `key`, then runs over `data` into
    /// `out`: the number of bytes written.
    fn run(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        out: &mut [u8],
    ) -> CkResult<usize> {
        let (init_name, init) = self.init;
        let (run_name, run) = self.run;
        with_mechanism(mech, |m| {
            // SAFETY: the mechanism and its parameters live across the call.
            check(init_name, unsafe { init(session, m, key) })
        })?;
        let mut n = out.len() as CK_ULONG;
        // SAFETY: `data` is read, `out` has room for `n` bytes; distinct
        // borrows, so they do not overlap.
        check(run_name, unsafe {
            run(
                session,
                data.as_ptr() as *mut u8,
                data.len() as CK_ULONG,
                out.as_mut_ptr(),
                &mut n,
            )
        })?;
        Ok((n as usize).min(out.len()))
    }
}

macro_rules! func {
    ($self:expr, $name:ident) => {
        // SAFETY: `functions` points to the module's static function list
        // (PKCS#11 v2.40 §5.2, C_GetFunctionList), valid while the library
        // is loaded, which `self` guarantees.
        match unsafe { (*$self.functions).$name } {
            Some(f) => f,
            None => {
                return Err(Ck {
                    function: stringify!($name),
                    rv: sys::CKR_FUNCTION_NOT_SUPPORTED,
                })
            }
        }
    };
}

impl Module {
    /// Loads and initializes the module at `path`, or returns the one
    /// already loaded. `reserved` is the `pReserved` string of
    /// `CK_C_INITIALIZE_ARGS` (NSS softoken's configuration).
    pub(crate) fn get(
        path: &Path,
        reserved: Option<&str>,
        linked: Option<&'static sys::CK_FUNCTION_LIST>,
    ) -> Result<Arc<Module>, LoadError> {
        let registry = MODULES.get_or_init(|| Mutex::new(HashMap::new()));
        let mut modules = registry
            .lock()
            .map_err(|_| LoadError::Library("module registry poisoned".into()))?;
        if let Some(m) = modules.get(path) {
            if m.reserved.as_deref() != reserved {
                return Err(LoadError::Mismatch);
            }
            return Ok(m.clone());
        }
        let module = Arc::new(match linked {
            Some(functions) => {
                let module = Module {
                    path: path.to_path_buf(),
                    reserved: reserved.map(str::to_string),
                    functions,
                    _library: None,
                };
                module.initialize(reserved).map_err(LoadError::Ck)?;
                module
            }
            None => Self::load(path, reserved)?,
        });
        modules.insert(path.to_path_buf(), module.clone());
        Ok(module)
    }

    fn load(path: &Path, reserved: Option<&str>) -> Result<Module, LoadError> {
        // SAFETY: loading a shared library runs its initializers. A PKCS#11
        // module is a library meant to be loaded by applications; the path
        // is chosen by the application, which vouches for it.
        let library = unsafe { libloading::Library::new(path) }
            .map_err(|e| LoadError::Library(e.to_string()))?;
        // SAFETY: C_GetFunctionList has this signature in every PKCS#11
        // version (v2.40 §5.2).
        let get: libloading::Symbol<
            '_,
            unsafe extern "C" fn(*mut sys::CK_FUNCTION_LIST_PTR) -> CK_RV,
        > = unsafe { library.get(b"C_GetFunctionList\0") }
            .map_err(|e| LoadError::Library(e.to_string()))?;
        let mut functions: sys::CK_FUNCTION_LIST_PTR = ptr::null_mut();
        // SAFETY: `functions` is a valid out pointer.
        let rv = unsafe { get(&mut functions) };
        check("C_GetFunctionList", rv).map_err(LoadError::Ck)?;
        if functions.is_null() {
            return Err(LoadError::Library(
                "C_GetFunctionList returned no list".into(),
            ));
        }
        let module = Module {
            path: path.to_path_buf(),
            reserved: reserved.map(str::to_string),
            functions,
            _library: Some(library),
        };
        module.initialize(reserved).map_err(LoadError::Ck)?;
        Ok(module)
    }

    fn initialize(&self, reserved: Option<&str>) -> CkResult<()> {
        let init = func!(self, C_Initialize);
        let reserved = reserved.map(|r| {
            let mut v = r.as_bytes().to_vec();
            v.push(0);
            v
        });
        let mut args = sys::CK_C_INITIALIZE_ARGS {
            CreateMutex: None,
            DestroyMutex: None,
            LockMutex: None,
            UnlockMutex: None,
            flags: sys::CKF_OS_LOCKING_OK,
            pReserved: reserved
                .as_ref()
                .map_or(ptr::null_mut(), |r| r.as_ptr() as *mut c_void),
        };
        // SAFETY: `args` is a valid CK_C_INITIALIZE_ARGS; `reserved` (a
        // NUL-terminated string) outlives the call. NSS reads pReserved
        // during C_Initialize only.
        let rv = unsafe { init(&mut args as *mut _ as *mut c_void) };
        if rv == sys::CKR_CRYPTOKI_ALREADY_INITIALIZED {
            // Someone else in the process (another library) initialized it.
            return Ok(());
        }
        check("C_Initialize", rv)
    }

    /// The path the module was loaded from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The slots with a token (`C_GetSlotList(CK_TRUE)`).
    pub(crate) fn slots(&self) -> CkResult<Vec<CK_SLOT_ID>> {
        self.slot_list(true)
    }

    fn slot_list(&self, token_present: bool) -> CkResult<Vec<CK_SLOT_ID>> {
        let f = func!(self, C_GetSlotList);
        let present = if token_present {
            sys::CK_TRUE
        } else {
            sys::CK_FALSE
        };
        let mut n: CK_ULONG = 0;
        // SAFETY: a size query: null list, valid count pointer.
        check("C_GetSlotList", unsafe {
            f(present, ptr::null_mut(), &mut n)
        })?;
        let mut slots = vec![0 as CK_SLOT_ID; n as usize];
        // SAFETY: `slots` has room for `n` entries.
        check("C_GetSlotList", unsafe {
            f(present, slots.as_mut_ptr(), &mut n)
        })?;
        slots.truncate(n as usize);
        Ok(slots)
    }

    pub(crate) fn token_info(&self, slot: CK_SLOT_ID) -> CkResult<TokenInfo> {
        let f = func!(self, C_GetTokenInfo);
        let mut info = sys::CK_TOKEN_INFO::default();
        // SAFETY: `info` is a valid out structure.
        check("C_GetTokenInfo", unsafe { f(slot, &mut info) })?;
        Ok(TokenInfo {
            label: padded(&info.label),
            flags: info.flags,
            manufacturer: padded(&info.manufacturerID),
            model: padded(&info.model),
            serial: padded(&info.serialNumber),
        })
    }

    /// Every slot, with or without a token (`C_GetSlotList(CK_FALSE)`).
    pub(crate) fn all_slots(&self) -> CkResult<Vec<CK_SLOT_ID>> {
        self.slot_list(false)
    }

    pub(crate) fn slot_info(&self, slot: CK_SLOT_ID) -> CkResult<SlotInfo> {
        let f = func!(self, C_GetSlotInfo);
        let mut info = sys::CK_SLOT_INFO::default();
        // SAFETY: `info` is a valid out structure.
        check("C_GetSlotInfo", unsafe { f(slot, &mut info) })?;
        Ok(SlotInfo {
            description: padded(&info.slotDescription),
            manufacturer: padded(&info.manufacturerID),
            flags: info.flags,
        })
    }

    pub(crate) fn mechanisms(&self, slot: CK_SLOT_ID) -> CkResult<Vec<CK_MECHANISM_TYPE>> {
        let f = func!(self, C_GetMechanismList);
        let mut n: CK_ULONG = 0;
        // SAFETY: a size query.
        check("C_GetMechanismList", unsafe {
            f(slot, ptr::null_mut(), &mut n)
        })?;
        let mut list = vec![0 as CK_MECHANISM_TYPE; n as usize];
        // SAFETY: `list` has room for `n` entries.
        check("C_GetMechanismList", unsafe {
            f(slot, list.as_mut_ptr(), &mut n)
        })?;
        list.truncate(n as usize);
        Ok(list)
    }

    pub(crate) fn mechanism_info(
        &self,
        slot: CK_SLOT_ID,
        mechanism: CK_MECHANISM_TYPE,
    ) -> CkResult<MechanismInfo> {
        let f = func!(self, C_GetMechanismInfo);
        let mut info = sys::CK_MECHANISM_INFO::default();
        // SAFETY: `info` is a valid out structure.
        check("C_GetMechanismInfo", unsafe {
            f(slot, mechanism, &mut info)
        })?;
        Ok(MechanismInfo {
            flags: info.flags,
            min_key_size: info.ulMinKeySize,
            max_key_size: info.ulMaxKeySize,
        })
    }

    pub(crate) fn open_session(&self, slot: CK_SLOT_ID) -> CkResult<CK_SESSION_HANDLE> {
        let f = func!(self, C_OpenSession);
        let mut session: CK_SESSION_HANDLE = 0;
        // SAFETY: no notification callback; `session` is a valid out pointer.
        check("C_OpenSession", unsafe {
            f(
                slot,
                sys::CKF_SERIAL_SESSION | sys::CKF_RW_SESSION,
                ptr::null_mut(),
                None,
                &mut session,
            )
        })?;
        Ok(session)
    }

    pub(crate) fn close_session(&self, session: CK_SESSION_HANDLE) -> CkResult<()> {
        let f = func!(self, C_CloseSession);
        // SAFETY: plain handle argument.
        check("C_CloseSession", unsafe { f(session) })
    }

    pub(crate) fn login(&self, session: CK_SESSION_HANDLE, pin: &[u8]) -> CkResult<()> {
        let f = func!(self, C_Login);
        // SAFETY: the token reads `pin.len()` bytes during the call.
        let rv = unsafe {
            f(
                session,
                sys::CKU_USER,
                pin.as_ptr() as *mut u8,
                pin.len() as CK_ULONG,
            )
        };
        if rv == sys::CKR_USER_ALREADY_LOGGED_IN {
            return Ok(());
        }
        check("C_Login", rv)
    }

    /// `C_Login` as `user` (`CKU_SO` or `CKU_USER`), already-logged-in
    /// counting as success.
    pub(crate) fn login_as(
        &self,
        session: CK_SESSION_HANDLE,
        user: sys::CK_USER_TYPE,
        pin: &[u8],
    ) -> CkResult<()> {
        let f = func!(self, C_Login);
        // SAFETY: the token reads `pin.len()` bytes during the call.
        let rv = unsafe {
            f(
                session,
                user,
                pin.as_ptr() as *mut u8,
                pin.len() as CK_ULONG,
            )
        };
        if rv == sys::CKR_USER_ALREADY_LOGGED_IN {
            return Ok(());
        }
        check("C_Login", rv)
    }

    pub(crate) fn logout(&self, session: CK_SESSION_HANDLE) -> CkResult<()> {
        let f = func!(self, C_Logout);
        // SAFETY: plain handle argument.
        check("C_Logout", unsafe { f(session) })
    }

    /// `C_InitToken`: `label` padded with blanks to 32 bytes.
    pub(crate) fn init_token(&self, slot: CK_SLOT_ID, so_pin: &[u8], label: &str) -> CkResult<()> {
        let f = func!(self, C_InitToken);
        let mut padded = [b' '; 32];
        let n = label.len().min(32);
        padded[..n].copy_from_slice(&label.as_bytes()[..n]);
        // SAFETY: the token reads `so_pin.len()` bytes and 32 label bytes.
        check("C_InitToken", unsafe {
            f(
                slot,
                so_pin.as_ptr() as *mut u8,
                so_pin.len() as CK_ULONG,
                padded.as_mut_ptr(),
            )
        })
    }

    /// `C_InitPIN` (the SO is logged in on `session`).
    pub(crate) fn init_pin(&self, session: CK_SESSION_HANDLE, pin: &[u8]) -> CkResult<()> {
        let f = func!(self, C_InitPIN);
        // SAFETY: the token reads `pin.len()` bytes during the call.
        check("C_InitPIN", unsafe {
            f(session, pin.as_ptr() as *mut u8, pin.len() as CK_ULONG)
        })
    }

    /// `C_SetPIN`: the PIN of the user logged in on `session` (the
    /// normal user if nobody is).
    pub(crate) fn set_pin(
        &self,
        session: CK_SESSION_HANDLE,
        old: &[u8],
        new: &[u8],
    ) -> CkResult<()> {
        let f = func!(self, C_SetPIN);
        // SAFETY: the token reads `old.len()` and `new.len()` bytes during
        // the call.
        check("C_SetPIN", unsafe {
            f(
                session,
                old.as_ptr() as *mut u8,
                old.len() as CK_ULONG,
                new.as_ptr() as *mut u8,
                new.len() as CK_ULONG,
            )
        })
    }

    pub(crate) fn generate_random(
        &self,
        session: CK_SESSION_HANDLE,
        out: &mut [u8],
    ) -> CkResult<()> {
        if out.is_empty() {
            return Ok(());
        }
        let f = func!(self, C_GenerateRandom);
        // SAFETY: the token writes `out.len()` bytes into `out`.
        check("C_GenerateRandom", unsafe {
            f(session, out.as_mut_ptr(), out.len() as CK_ULONG)
        })
    }

    pub(crate) fn generate_key_pair(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        public: &[Attr],
        private: &[Attr],
    ) -> CkResult<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)> {
        let f = func!(self, C_GenerateKeyPair);
        let mut public_t = raw_template(public);
        let mut private_t = raw_template(private);
        let (mut hpub, mut hpriv) = (0, 0);
        with_mechanism(mech, |m| {
            // SAFETY: the mechanism, both templates (pointing into `public`
            // and `private`) and the out handles live across the call.
            check("C_GenerateKeyPair", unsafe {
                f(
                    session,
                    m,
                    public_t.as_mut_ptr(),
                    public_t.len() as CK_ULONG,
                    private_t.as_mut_ptr(),
                    private_t.len() as CK_ULONG,
                    &mut hpub,
                    &mut hpriv,
                )
            })
        })?;
        Ok((hpub, hpriv))
    }

    pub(crate) fn generate_key(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        template: &[Attr],
    ) -> CkResult<CK_OBJECT_HANDLE> {
        // SAFETY: `with_mechanism` keeps the mechanism and its parameters
        // alive across the call.
        with_mechanism(mech, |m| unsafe { self.generate_raw(session, m, template) })
    }

    /// `C_GenerateKey` with a built mechanism.
    ///
    /// # Safety
    /// As for [`Module::derive_raw`].
    unsafe fn generate_raw(
        &self,
        session: CK_SESSION_HANDLE,
        m: *mut sys::CK_MECHANISM,
        template: &[Attr],
    ) -> CkResult<CK_OBJECT_HANDLE> {
        let f = func!(self, C_GenerateKey);
        let mut t = raw_template(template);
        let mut key = 0;
        // SAFETY: mechanism (valid by this function's contract), template
        // and out handle live across the call.
        check("C_GenerateKey", unsafe {
            f(session, m, t.as_mut_ptr(), t.len() as CK_ULONG, &mut key)
        })?;
        Ok(key)
    }

    /// hsmtls-token's `CKM_HSMTLS_KEY_SHARE_GEN`: an ephemeral private key
    /// from `template` and its public key written to `public`: (handle,
    /// length written).
    pub(crate) fn generate_key_share(
        &self,
        session: CK_SESSION_HANDLE,
        template: &[Attr],
        public: &mut [u8],
    ) -> CkResult<(CK_OBJECT_HANDLE, usize)> {
        /// `CK_HSMTLS_KEY_SHARE_PARAMS` (hsmtls-token's C layout).
        #[repr(C)]
        struct KeyShareParams {
            p_public_key: *mut u8,
            ul_public_key_len: CK_ULONG,
        }
        let mut params = KeyShareParams {
            p_public_key: public.as_mut_ptr(),
            ul_public_key_len: public.len() as CK_ULONG,
        };
        let mut m = mechanism_with(crate::CKM_HSMTLS_KEY_SHARE_GEN, &mut params);
        // SAFETY: the parameters and the buffer they point to
        // (`public.len()` bytes, as stated) live across the call.
        let key = unsafe { self.generate_raw(session, &mut m, template) }?;
        let written = (params.ul_public_key_len as usize).min(public.len());
        Ok((key, written))
    }

    pub(crate) fn derive_key(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        base: CK_OBJECT_HANDLE,
        template: &[Attr],
    ) -> CkResult<CK_OBJECT_HANDLE> {
        // SAFETY: `with_mechanism` keeps the mechanism and its parameters
        // alive across the call.
        with_mechanism(mech, |m| unsafe {
            self.derive_raw(session, m, base, template)
        })
    }

    /// `C_DeriveKey` with a built mechanism.
    ///
    /// # Safety
    /// `m` points to a mechanism whose parameters (and every pointer in
    /// them) are valid for what the token reads or writes through them.
    unsafe fn derive_raw(
        &self,
        session: CK_SESSION_HANDLE,
        m: *mut sys::CK_MECHANISM,
        base: CK_OBJECT_HANDLE,
        template: &[Attr],
    ) -> CkResult<CK_OBJECT_HANDLE> {
        let f = func!(self, C_DeriveKey);
        let mut t = raw_template(template);
        let mut key = 0;
        // SAFETY: the mechanism (valid by this function's contract), the
        // template and the out handle live across the call.
        check("C_DeriveKey", unsafe {
            f(
                session,
                m,
                base,
                t.as_mut_ptr(),
                t.len() as CK_ULONG,
                &mut key,
            )
        })?;
        Ok(key)
    }

    /// `CKM_TLS12_KEY_AND_MAC_DERIVE` (v2.40 §2.41.5): the key handles and
    /// IVs come back through `CK_SSL3_KEY_MAT_OUT`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn derive_tls12_key_material(
        &self,
        session: CK_SESSION_HANDLE,
        base: CK_OBJECT_HANDLE,
        randoms: Randoms<'_>,
        prf: CK_MECHANISM_TYPE,
        mac_len: usize,
        key_len: usize,
        iv_len: usize,
        template: &[Attr],
    ) -> CkResult<KeyMaterial> {
        let mut client_iv = vec![0u8; iv_len];
        let mut server_iv = vec![0u8; iv_len];
        let mut out = sys::CK_SSL3_KEY_MAT_OUT {
            hClientMacSecret: 0,
            hServerMacSecret: 0,
            hClientKey: 0,
            hServerKey: 0,
            pIVClient: if iv_len > 0 {
                client_iv.as_mut_ptr()
            } else {
                ptr::null_mut()
            },
            pIVServer: if iv_len > 0 {
                server_iv.as_mut_ptr()
            } else {
                ptr::null_mut()
            },
        };
        let mut params = sys::CK_TLS12_KEY_MAT_PARAMS {
            ulMacSizeInBits: (mac_len * 8) as CK_ULONG,
            ulKeySizeInBits: (key_len * 8) as CK_ULONG,
            ulIVSizeInBits: (iv_len * 8) as CK_ULONG,
            bIsExport: sys::CK_FALSE,
            RandomInfo: randoms.raw(),
            pReturnedKeyMaterial: &mut out,
            prfHashMechanism: prf,
        };
        // SAFETY: the parameters are the mechanism's; the key-material out
        // structure and the IV buffers it points to (of `iv_len` bytes
        // each, as ulIVSizeInBits says) live across the call.
        unsafe {
            self.derive_with_params(
                session,
                sys::CKM_TLS12_KEY_AND_MAC_DERIVE,
                &mut params,
                base,
                template,
            )
        }?;
        Ok(KeyMaterial {
            client_mac: out.hClientMacSecret,
            server_mac: out.hServerMacSecret,
            client_key: out.hClientKey,
            server_key: out.hServerKey,
            client_iv,
            server_iv,
        })
    }

    /// hsmtls-token's `CKM_HSMTLS_TLS13_KEY_AND_IV`: the traffic key made
    /// from `template` and the write IV (`iv.len()` bytes) from the TLS 1.3
    /// traffic secret `base` in one call.
    pub(crate) fn derive_tls13_key_and_iv(
        &self,
        session: CK_SESSION_HANDLE,
        base: CK_OBJECT_HANDLE,
        prf: CK_MECHANISM_TYPE,
        template: &[Attr],
        iv: &mut [u8],
    ) -> CkResult<CK_OBJECT_HANDLE> {
        /// `CK_HSMTLS_TLS13_KEY_IV_PARAMS` (hsmtls-token's C layout).
        #[repr(C)]
        struct KeyIvParams {
            prf_hash_mechanism: CK_MECHANISM_TYPE,
            p_iv: *mut u8,
            ul_iv_len: CK_ULONG,
        }
        let mut params = KeyIvParams {
            prf_hash_mechanism: prf,
            p_iv: iv.as_mut_ptr(),
            ul_iv_len: iv.len() as CK_ULONG,
        };
        // SAFETY: the parameter structure is the mechanism's, and the IV
        // buffer it points to (`iv.len()` bytes, as ul_iv_len says) lives
        // across the call.
        unsafe {
            self.derive_with_params(
                session,
                crate::CKM_HSMTLS_TLS13_KEY_AND_IV,
                &mut params,
                base,
                template,
            )
        }
    }

    /// `C_DeriveKey` with `mechanism` and its parameter structure `params`.
    ///
    /// # Safety
    /// `P` is the parameter structure of `mechanism`, and every pointer in
    /// `params` is valid for what the token reads or writes through it.
    unsafe fn derive_with_params<P>(
        &self,
        session: CK_SESSION_HANDLE,
        mechanism: CK_MECHANISM_TYPE,
        params: &mut P,
        base: CK_OBJECT_HANDLE,
        template: &[Attr],
    ) -> CkResult<CK_OBJECT_HANDLE> {
        let mut m = mechanism_with(mechanism, params);
        // SAFETY: the parameters are valid by this function's contract and
        // outlive the call.
        unsafe { self.derive_raw(session, &mut m, base, template) }
    }

    /// hsmtls-token's `CKM_HSMTLS_TLS13_TRAFFIC_SECRET`: from `base`, the
    /// traffic secret expanded with `info` (made from `template`), its
    /// traffic key (made from `key_template`) and its write IV
    /// (`iv.len()` bytes) in one call: (secret, key).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn derive_tls13_traffic(
        &self,
        session: CK_SESSION_HANDLE,
        base: CK_OBJECT_HANDLE,
        prf: CK_MECHANISM_TYPE,
        info: &[u8],
        template: &[Attr],
        key_template: &[Attr],
        iv: &mut [u8],
    ) -> CkResult<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)> {
        /// `CK_HSMTLS_TLS13_TRAFFIC_PARAMS` (hsmtls-token's C layout).
        #[repr(C)]
        struct TrafficParams {
            prf_hash_mechanism: CK_MECHANISM_TYPE,
            p_info: *mut u8,
            ul_info_len: CK_ULONG,
            p_key_template: *mut sys::CK_ATTRIBUTE,
            ul_key_attribute_count: CK_ULONG,
            p_iv: *mut u8,
            ul_iv_len: CK_ULONG,
            ph_traffic_key: *mut CK_OBJECT_HANDLE,
        }
        let mut kt = raw_template(key_template);
        let mut key: CK_OBJECT_HANDLE = 0;
        let mut params = TrafficParams {
            prf_hash_mechanism: prf,
            p_info: info.as_ptr() as *mut u8,
            ul_info_len: info.len() as CK_ULONG,
            p_key_template: kt.as_mut_ptr(),
            ul_key_attribute_count: kt.len() as CK_ULONG,
            p_iv: iv.as_mut_ptr(),
            ul_iv_len: iv.len() as CK_ULONG,
            ph_traffic_key: &mut key,
        };
        // SAFETY: the parameter structure is the mechanism's; what it
        // points to (the info, which the token only reads, the key
        // template, the IV buffer of `iv.len()` bytes, the key's out
        // handle) lives across the call.
        let secret = unsafe {
            self.derive_with_params(
                session,
                crate::CKM_HSMTLS_TLS13_TRAFFIC_SECRET,
                &mut params,
                base,
                template,
            )
        }?;
        Ok((secret, key))
    }

    pub(crate) fn create_object(
        &self,
        session: CK_SESSION_HANDLE,
        template: &[Attr],
    ) -> CkResult<CK_OBJECT_HANDLE> {
        let f = func!(self, C_CreateObject);
        let mut t = raw_template(template);
        let mut object = 0;
        // SAFETY: the template and the out handle live across the call.
        check("C_CreateObject", unsafe {
            f(session, t.as_mut_ptr(), t.len() as CK_ULONG, &mut object)
        })?;
        Ok(object)
    }

    pub(crate) fn destroy_object(
        &self,
        session: CK_SESSION_HANDLE,
        object: CK_OBJECT_HANDLE,
    ) -> CkResult<()> {
        let f = func!(self, C_DestroyObject);
        // SAFETY: plain handle arguments.
        check("C_DestroyObject", unsafe { f(session, object) })
    }

    /// The value of one attribute (two calls: length, then value).
    pub(crate) fn attribute(
        &self,
        session: CK_SESSION_HANDLE,
        object: CK_OBJECT_HANDLE,
        ty: CK_ATTRIBUTE_TYPE,
    ) -> CkResult<Zeroizing<Vec<u8>>> {
        let f = func!(self, C_GetAttributeValue);
        // Most values (points, IVs, exporter output) fit in a first buffer:
        // one call instead of a length query and a read (PKCS#11 3.0
        // §5.7.5: a short buffer is CKR_BUFFER_TOO_SMALL, then we ask).
        let mut value = Zeroizing::new(vec![0u8; FIRST_READ]);
        let mut a = sys::CK_ATTRIBUTE {
            type_: ty,
            pValue: value.as_mut_ptr() as *mut c_void,
            ulValueLen: FIRST_READ as CK_ULONG,
        };
        // SAFETY: `value` has room for ulValueLen bytes.
        match unsafe { f(session, object, &mut a, 1) } {
            sys::CKR_OK if a.ulValueLen as usize <= FIRST_READ => {
                value.truncate(a.ulValueLen as usize);
                return Ok(value);
            }
            sys::CKR_OK | sys::CKR_BUFFER_TOO_SMALL => {}
            rv => {
                return Err(Ck {
                    function: "C_GetAttributeValue",
                    rv,
                })
            }
        }
        a.pValue = ptr::null_mut();
        a.ulValueLen = 0;
        // SAFETY: a length query with a null value pointer.
        check("C_GetAttributeValue", unsafe {
            f(session, object, &mut a, 1)
        })?;
        if a.ulValueLen == sys::CK_UNAVAILABLE_INFORMATION {
            return Err(Ck {
                function: "C_GetAttributeValue",
                rv: sys::CKR_ATTRIBUTE_SENSITIVE,
            });
        }
        let mut value = Zeroizing::new(vec![0u8; a.ulValueLen as usize]);
        a.pValue = value.as_mut_ptr() as *mut c_void;
        // SAFETY: `value` has room for ulValueLen bytes.
        check("C_GetAttributeValue", unsafe {
            f(session, object, &mut a, 1)
        })?;
        value.truncate(a.ulValueLen as usize);
        Ok(value)
    }

    pub(crate) fn find_objects(
        &self,
        session: CK_SESSION_HANDLE,
        template: &[Attr],
    ) -> CkResult<Vec<CK_OBJECT_HANDLE>> {
        let init = func!(self, C_FindObjectsInit);
        let find = func!(self, C_FindObjects);
        let fin = func!(self, C_FindObjectsFinal);
        let mut t = raw_template(template);
        // SAFETY: the template lives across the call (the token copies it).
        check("C_FindObjectsInit", unsafe {
            init(session, t.as_mut_ptr(), t.len() as CK_ULONG)
        })?;
        let mut found = Vec::new();
        let result = loop {
            let mut batch = [0 as CK_OBJECT_HANDLE; 64];
            let mut n: CK_ULONG = 0;
            // SAFETY: `batch` has room for 64 handles.
            let rv = unsafe { find(session, batch.as_mut_ptr(), 64, &mut n) };
            if let Err(e) = check("C_FindObjects", rv) {
                break Err(e);
            }
            found.extend_from_slice(&batch[..n as usize]);
            if n == 0 {
                break Ok(());
            }
        };
        // SAFETY: ends the search begun above.
        let rv = unsafe { fin(session) };
        result?;
        check("C_FindObjectsFinal", rv)?;
        Ok(found)
    }

    /// `C_EncryptInit` + `C_Encrypt` into a buffer of `max_out` bytes.
    pub(crate) fn encrypt(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        max_out: usize,
    ) -> CkResult<Vec<u8>> {
        let mut out = vec![0u8; max_out];
        let n = self.encrypt_into(session, mech, key, data, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// `C_EncryptInit` + `C_Encrypt` into `out` (which must hold the whole
    /// output): the number of bytes written.
    pub(crate) fn encrypt_into(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        out: &mut [u8],
    ) -> CkResult<usize> {
        let calls = SinglePart {
            init: ("C_EncryptInit", func!(self, C_EncryptInit)),
            run: ("C_Encrypt", func!(self, C_Encrypt)),
        };
        calls.run(session, mech, key, data, out)
    }

    /// `C_DecryptInit` + `C_Decrypt` into a zeroized buffer of `max_out`
    /// bytes (the plaintext may be a secret: a ticket).
    pub(crate) fn decrypt(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        max_out: usize,
    ) -> CkResult<Zeroizing<Vec<u8>>> {
        // Some tokens write the whole plaintext before checking the tag:
        // leave room for it.
        let mut out = Zeroizing::new(vec![0u8; max_out.max(data.len())]);
        let n = self.decrypt_into(session, mech, key, data, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// `C_DecryptInit` + `C_Decrypt` into `out` (room for the whole
    /// output; some tokens write the ciphertext's length before checking
    /// a tag): the number of bytes written.
    pub(crate) fn decrypt_into(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        out: &mut [u8],
    ) -> CkResult<usize> {
        let calls = SinglePart {
            init: ("C_DecryptInit", func!(self, C_DecryptInit)),
            run: ("C_Decrypt", func!(self, C_Decrypt)),
        };
        calls.run(session, mech, key, data, out)
    }

    /// `C_SignInit` + `C_Sign` into a buffer of `max_out` bytes.
    pub(crate) fn sign(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        max_out: usize,
    ) -> CkResult<Vec<u8>> {
        let init = func!(self, C_SignInit);
        let sign = func!(self, C_Sign);
        with_mechanism(mech, |m| {
            // SAFETY: the mechanism and its parameters live across the call.
            check("C_SignInit", unsafe { init(session, m, key) })
        })?;
        let mut out = vec![0u8; max_out];
        let mut n = max_out as CK_ULONG;
        // SAFETY: `data` is read, `out` has room for `n` bytes.
        check("C_Sign", unsafe {
            sign(
                session,
                data.as_ptr() as *mut u8,
                data.len() as CK_ULONG,
                out.as_mut_ptr(),
                &mut n,
            )
        })?;
        out.truncate(n as usize);
        Ok(out)
    }

    /// NSS's `CKM_NSS_HMAC_CONSTANT_TIME` (`CKM_NSS + 19`): the HMAC of
    /// `header || content` computed in time that depends only on
    /// `body.len()` (the whole decrypted record: content, MAC, padding),
    /// for MAC-then-encrypt records (Lucky Thirteen). `data_len` is
    /// content plus MAC, as NSS's own TLS stack passes it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn nss_constant_time_hmac(
        &self,
        session: CK_SESSION_HANDLE,
        mechanism: CK_MECHANISM_TYPE,
        hmac: CK_MECHANISM_TYPE,
        key: CK_OBJECT_HANDLE,
        header: &[u8],
        body: &[u8],
        data_len: usize,
        mac_len: usize,
    ) -> CkResult<Vec<u8>> {
        let init = func!(self, C_SignInit);
        let sign = func!(self, C_Sign);
        if data_len > body.len() {
            return Err(Ck {
                function: "C_Sign",
                rv: sys::CKR_ARGUMENTS_BAD,
            });
        }
        let mut params = NssMacConstantTimeParams {
            mac_alg: hmac,
            body_total_len: body.len() as CK_ULONG,
            header: header.as_ptr() as *mut u8,
            header_len: header.len() as CK_ULONG,
        };
        let mut m = mechanism_with(mechanism, &mut params);
        // SAFETY: the mechanism and its parameters (pointing into `header`)
        // live across the call; NSS copies the header in C_SignInit.
        check("C_SignInit", unsafe { init(session, &mut m, key) })?;
        let mut out = vec![0u8; mac_len];
        let mut n = mac_len as CK_ULONG;
        // SAFETY: NSS reads up to ulBodyTotalLen = `body.len()` bytes from
        // pData whatever ulDataLen says (that is the constant-time part);
        // `body` is that long. `out` has room for `n` bytes.
        check("C_Sign", unsafe {
            sign(
                session,
                body.as_ptr() as *mut u8,
                data_len as CK_ULONG,
                out.as_mut_ptr(),
                &mut n,
            )
        })?;
        out.truncate(n as usize);
        Ok(out)
    }

    /// `C_VerifyInit` + `C_Verify`.
    pub(crate) fn verify(
        &self,
        session: CK_SESSION_HANDLE,
        mech: &Mech<'_>,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        signature: &[u8],
    ) -> CkResult<()> {
        let init = func!(self, C_VerifyInit);
        let verify = func!(self, C_Verify);
        with_mechanism(mech, |m| {
            // SAFETY: the mechanism and its parameters live across the call.
            check("C_VerifyInit", unsafe { init(session, m, key) })
        })?;
        // SAFETY: both buffers are only read.
        check("C_Verify", unsafe {
            verify(
                session,
                data.as_ptr() as *mut u8,
                data.len() as CK_ULONG,
                signature.as_ptr() as *mut u8,
                signature.len() as CK_ULONG,
            )
        })
    }
}
