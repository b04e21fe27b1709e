//! General-purpose functions (PKCS#11 3.0 §5.4), the function lists and
//! the interfaces (§5.4.3–5.4.6).

use core::ffi::c_void;

use cryptoki_sys::*;

use super::{pad, rv};
use crate::library;

const fn v(major: u8, minor: u8) -> CK_VERSION {
    CK_VERSION { major, minor }
}

/// `C_Initialize`: honours `CK_C_INITIALIZE_ARGS` (§5.4.1). Mutex
/// callbacks are accepted only together with `CKF_OS_LOCKING_OK` (the
/// library always uses OS locks); otherwise `CKR_CANT_LOCK`.
///
/// # Safety
/// `p` must be NULL or point to a valid `CK_C_INITIALIZE_ARGS`.
#[no_mangle]
pub unsafe extern "C" fn C_Initialize(p: *mut c_void) -> CK_RV {
    // SAFETY: NULL or a valid CK_C_INITIALIZE_ARGS (contract).
    if let Some(args) = unsafe { (p as *const CK_C_INITIALIZE_ARGS).as_ref() } {
        if !args.pReserved.is_null() {
            return CKR_ARGUMENTS_BAD;
        }
        let set = [
            args.CreateMutex.is_some(),
            args.DestroyMutex.is_some(),
            args.LockMutex.is_some(),
            args.UnlockMutex.is_some(),
        ];
        if set.iter().any(|&b| b) && !set.iter().all(|&b| b) {
            return CKR_ARGUMENTS_BAD;
        }
        if set[0] && args.flags & CKF_OS_LOCKING_OK == 0 {
            return CKR_CANT_LOCK;
        }
    }
    rv(library::initialize())
}

/// `C_Finalize`.
///
/// # Safety
/// Any pointer; it must be NULL.
#[no_mangle]
pub unsafe extern "C" fn C_Finalize(p: *mut c_void) -> CK_RV {
    if !p.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    rv(library::finalize())
}

/// `C_GetInfo`.
///
/// # Safety
/// `info` must be NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_GetInfo(info: *mut CK_INFO) -> CK_RV {
    if let Err(e) = library::get() {
        return e.rv();
    }
    // SAFETY: NULL or valid for writes (contract).
    let Some(info) = (unsafe { info.as_mut() }) else {
        return CKR_ARGUMENTS_BAD;
    };
    *info = CK_INFO {
        cryptokiVersion: v(3, 0),
        manufacturerID: pad(b"hsmtls"),
        flags: 0,
        libraryDescription: pad(b"hsmtls-token software token"),
        libraryVersion: v(0, 1),
    };
    CKR_OK
}

/// `C_GetFunctionStatus`: legacy, always `CKR_FUNCTION_NOT_PARALLEL`.
///
/// # Safety
/// No pointer is read.
#[no_mangle]
pub unsafe extern "C" fn C_GetFunctionStatus(_h: CK_SESSION_HANDLE) -> CK_RV {
    match library::get() {
        Ok(_) => CKR_FUNCTION_NOT_PARALLEL,
        Err(e) => e.rv(),
    }
}

/// `C_CancelFunction`: legacy, always `CKR_FUNCTION_NOT_PARALLEL`.
///
/// # Safety
/// No pointer is read.
#[no_mangle]
pub unsafe extern "C" fn C_CancelFunction(_h: CK_SESSION_HANDLE) -> CK_RV {
    match library::get() {
        Ok(_) => CKR_FUNCTION_NOT_PARALLEL,
        Err(e) => e.rv(),
    }
}

macro_rules! function_list {
    ($ty:ident, $ver:expr, [$($f:ident),* $(,)?] $(, [$($g:ident),* $(,)?])?) => {
        $ty {
            version: $ver,
            $($f: Some($f),)*
            $($($g: Some($g),)*)?
        }
    };
}

use super::*;

/// The PKCS#11 2.40 function list.
pub static FUNCTION_LIST: CK_FUNCTION_LIST = function_list!(
    CK_FUNCTION_LIST,
    v(2, 40),
    [
        C_Initialize,
        C_Finalize,
        C_GetInfo,
        C_GetFunctionList,
        C_GetSlotList,
        C_GetSlotInfo,
        C_GetTokenInfo,
        C_GetMechanismList,
        C_GetMechanismInfo,
        C_InitToken,
        C_InitPIN,
        C_SetPIN,
        C_OpenSession,
        C_CloseSession,
        C_CloseAllSessions,
        C_GetSessionInfo,
        C_GetOperationState,
        C_SetOperationState,
        C_Login,
        C_Logout,
        C_CreateObject,
        C_CopyObject,
        C_DestroyObject,
        C_GetObjectSize,
        C_GetAttributeValue,
        C_SetAttributeValue,
        C_FindObjectsInit,
        C_FindObjects,
        C_FindObjectsFinal,
        C_EncryptInit,
        C_Encrypt,
        C_EncryptUpdate,
        C_EncryptFinal,
        C_DecryptInit,
        C_Decrypt,
        C_DecryptUpdate,
        C_DecryptFinal,
        C_DigestInit,
        C_Digest,
        C_DigestUpdate,
        C_DigestKey,
        C_DigestFinal,
        C_SignInit,
        C_Sign,
        C_SignUpdate,
        C_SignFinal,
        C_SignRecoverInit,
        C_SignRecover,
        C_VerifyInit,
        C_Verify,
        C_VerifyUpdate,
        C_VerifyFinal,
        C_VerifyRecoverInit,
        C_VerifyRecover,
        C_DigestEncryptUpdate,
        C_DecryptDigestUpdate,
        C_SignEncryptUpdate,
        C_DecryptVerifyUpdate,
        C_GenerateKey,
        C_GenerateKeyPair,
        C_WrapKey,
        C_UnwrapKey,
        C_DeriveKey,
        C_SeedRandom,
        C_GenerateRandom,
        C_GetFunctionStatus,
        C_CancelFunction,
        C_WaitForSlotEvent,
    ]
);

/// The PKCS#11 3.0 function list.
pub static FUNCTION_LIST_3_0: CK_FUNCTION_LIST_3_0 = function_list!(
    CK_FUNCTION_LIST_3_0,
    v(3, 0),
    [
        C_Initialize,
        C_Finalize,
        C_GetInfo,
        C_GetFunctionList,
        C_GetSlotList,
        C_GetSlotInfo,
        C_GetTokenInfo,
        C_GetMechanismList,
        C_GetMechanismInfo,
        C_InitToken,
        C_InitPIN,
        C_SetPIN,
        C_OpenSession,
        C_CloseSession,
        C_CloseAllSessions,
        C_GetSessionInfo,
        C_GetOperationState,
        C_SetOperationState,
        C_Login,
        C_Logout,
        C_CreateObject,
        C_CopyObject,
        C_DestroyObject,
        C_GetObjectSize,
        C_GetAttributeValue,
        C_SetAttributeValue,
        C_FindObjectsInit,
        C_FindObjects,
        C_FindObjectsFinal,
        C_EncryptInit,
        C_Encrypt,
        C_EncryptUpdate,
        C_EncryptFinal,
        C_DecryptInit,
        C_Decrypt,
        C_DecryptUpdate,
        C_DecryptFinal,
        C_DigestInit,
        C_Digest,
        C_DigestUpdate,
        C_DigestKey,
        C_DigestFinal,
        C_SignInit,
        C_Sign,
        C_SignUpdate,
        C_SignFinal,
        C_SignRecoverInit,
        C_SignRecover,
        C_VerifyInit,
        C_Verify,
        C_VerifyUpdate,
        C_VerifyFinal,
        C_VerifyRecoverInit,
        C_VerifyRecover,
        C_DigestEncryptUpdate,
        C_DecryptDigestUpdate,
        C_SignEncryptUpdate,
        C_DecryptVerifyUpdate,
        C_GenerateKey,
        C_GenerateKeyPair,
        C_WrapKey,
        C_UnwrapKey,
        C_DeriveKey,
        C_SeedRandom,
        C_GenerateRandom,
        C_GetFunctionStatus,
        C_CancelFunction,
        C_WaitForSlotEvent,
    ],
    [
        C_GetInterfaceList,
        C_GetInterface,
        C_LoginUser,
        C_SessionCancel,
        C_MessageEncryptInit,
        C_EncryptMessage,
        C_EncryptMessageBegin,
        C_EncryptMessageNext,
        C_MessageEncryptFinal,
        C_MessageDecryptInit,
        C_DecryptMessage,
        C_DecryptMessageBegin,
        C_DecryptMessageNext,
        C_MessageDecryptFinal,
        C_MessageSignInit,
        C_SignMessage,
        C_SignMessageBegin,
        C_SignMessageNext,
        C_MessageSignFinal,
        C_MessageVerifyInit,
        C_VerifyMessage,
        C_VerifyMessageBegin,
        C_VerifyMessageNext,
        C_MessageVerifyFinal,
    ]
);

/// `C_GetFunctionList`: the 2.40 list (works before `C_Initialize`).
///
/// # Safety
/// `pp` must be NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_GetFunctionList(pp: *mut *mut CK_FUNCTION_LIST) -> CK_RV {
    // SAFETY: NULL or valid for writes (contract).
    let Some(out) = (unsafe { pp.as_mut() }) else {
        return CKR_ARGUMENTS_BAD;
    };
    // The caller must not write through it (PKCS#11 §5.4.3).
    *out = &FUNCTION_LIST as *const CK_FUNCTION_LIST as *mut CK_FUNCTION_LIST;
    CKR_OK
}

const INTERFACE_NAME: &[u8] = b"PKCS 11\0";

struct Interfaces([CK_INTERFACE; 2]);
// SAFETY: the pointers inside point to immutable statics (the name and the
// function lists), so sharing them between threads is sound.
unsafe impl Sync for Interfaces {}

static INTERFACES: Interfaces = Interfaces([
    CK_INTERFACE {
        pInterfaceName: INTERFACE_NAME.as_ptr() as *mut CK_UTF8CHAR,
        pFunctionList: &FUNCTION_LIST_3_0 as *const CK_FUNCTION_LIST_3_0 as *mut c_void,
        flags: 0,
    },
    CK_INTERFACE {
        pInterfaceName: INTERFACE_NAME.as_ptr() as *mut CK_UTF8CHAR,
        pFunctionList: &FUNCTION_LIST as *const CK_FUNCTION_LIST as *mut c_void,
        flags: 0,
    },
]);

/// `C_GetInterfaceList`: "PKCS 11" 3.0 and 2.40, with the length-query
/// convention.
///
/// # Safety
/// `list` must be NULL or valid for `*count` interfaces; `count` valid.
#[no_mangle]
pub unsafe extern "C" fn C_GetInterfaceList(
    list: *mut CK_INTERFACE,
    count: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: NULL or valid (contract).
    let Some(count) = (unsafe { count.as_mut() }) else {
        return CKR_ARGUMENTS_BAD;
    };
    let n = INTERFACES.0.len();
    if list.is_null() {
        *count = n as CK_ULONG;
        return CKR_OK;
    }
    if (*count as usize) < n {
        *count = n as CK_ULONG;
        return CKR_BUFFER_TOO_SMALL;
    }
    // SAFETY: `list` is valid for at least `n` entries (checked count).
    unsafe { core::ptr::copy_nonoverlapping(INTERFACES.0.as_ptr(), list, n) };
    *count = n as CK_ULONG;
    CKR_OK
}

/// `C_GetInterface`: by name ("PKCS 11" or NULL for the default 3.0),
/// version (NULL for any) and flags (none offered).
///
/// # Safety
/// `name` must be NULL or NUL-terminated; `version` NULL or valid;
/// `pp` valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_GetInterface(
    name: *mut CK_UTF8CHAR,
    version: *mut CK_VERSION,
    pp: *mut *mut CK_INTERFACE,
    flags: CK_FLAGS,
) -> CK_RV {
    // SAFETY: NULL or valid for writes (contract).
    let Some(out) = (unsafe { pp.as_mut() }) else {
        return CKR_ARGUMENTS_BAD;
    };
    if !name.is_null() {
        // SAFETY: a NUL-terminated string (contract).
        let n = unsafe { core::ffi::CStr::from_ptr(name as *const core::ffi::c_char) };
        if n.to_bytes() != &INTERFACE_NAME[..7] {
            return CKR_ARGUMENTS_BAD;
        }
    }
    if flags != 0 {
        return CKR_ARGUMENTS_BAD;
    }
    // SAFETY: NULL or valid (contract).
    let idx = match unsafe { version.as_ref() } {
        None => 0,
        Some(CK_VERSION { major: 3, minor: 0 }) => 0,
        Some(CK_VERSION {
            major: 2,
            minor: 40,
        }) => 1,
        Some(_) => return CKR_ARGUMENTS_BAD,
    };
    *out = &INTERFACES.0[idx] as *const CK_INTERFACE as *mut CK_INTERFACE;
    CKR_OK
}
