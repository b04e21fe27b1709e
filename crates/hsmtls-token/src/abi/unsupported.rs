//! The functions this token does not implement (yet). Each returns
//! `CKR_FUNCTION_NOT_SUPPORTED`, the answer PKCS#11 3.0 §5.1 specifies for
//! a function a library does not support, after the usual
//! `CKR_CRYPTOKI_NOT_INITIALIZED` check. Generated from the cryptoki-sys
//! prototypes.
#![allow(clippy::too_many_arguments)]

use cryptoki_sys::*;

use crate::library;

fn not_supported() -> CK_RV {
    match library::get() {
        Ok(_) => CKR_FUNCTION_NOT_SUPPORTED,
        Err(e) => e.rv(),
    }
}

/// `C_GetOperationState`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_GetOperationState(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_BYTE,
    _arg3: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_SetOperationState`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_SetOperationState(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_BYTE,
    _arg3: CK_ULONG,
    _arg4: CK_OBJECT_HANDLE,
    _arg5: CK_OBJECT_HANDLE,
) -> CK_RV {
    not_supported()
}

/// `C_GetObjectSize`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_GetObjectSize(
    _arg1: CK_SESSION_HANDLE,
    _arg2: CK_OBJECT_HANDLE,
    _arg3: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_DigestKey`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_DigestKey(_arg1: CK_SESSION_HANDLE, _arg2: CK_OBJECT_HANDLE) -> CK_RV {
    not_supported()
}

/// `C_SignRecoverInit`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_SignRecoverInit(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_MECHANISM,
    _arg3: CK_OBJECT_HANDLE,
) -> CK_RV {
    not_supported()
}

/// `C_SignRecover`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_SignRecover(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_BYTE,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_VerifyRecoverInit`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_VerifyRecoverInit(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_MECHANISM,
    _arg3: CK_OBJECT_HANDLE,
) -> CK_RV {
    not_supported()
}

/// `C_VerifyRecover`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_VerifyRecover(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_BYTE,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_DigestEncryptUpdate`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_DigestEncryptUpdate(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_BYTE,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_DecryptDigestUpdate`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_DecryptDigestUpdate(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_BYTE,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_SignEncryptUpdate`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_SignEncryptUpdate(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_BYTE,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_DecryptVerifyUpdate`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_DecryptVerifyUpdate(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_BYTE,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_WaitForSlotEvent`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_WaitForSlotEvent(
    _arg1: CK_FLAGS,
    _arg2: *mut CK_SLOT_ID,
    _arg3: *mut ::std::os::raw::c_void,
) -> CK_RV {
    not_supported()
}

/// `C_LoginUser`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_LoginUser(
    _arg1: CK_SESSION_HANDLE,
    _arg2: CK_USER_TYPE,
    _arg3: *mut CK_UTF8CHAR,
    _arg4: CK_ULONG,
    _arg5: *mut CK_UTF8CHAR,
    _arg6: CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_SessionCancel`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_SessionCancel(_arg1: CK_SESSION_HANDLE, _arg2: CK_FLAGS) -> CK_RV {
    not_supported()
}

/// `C_MessageEncryptInit`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_MessageEncryptInit(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_MECHANISM,
    _arg3: CK_OBJECT_HANDLE,
) -> CK_RV {
    not_supported()
}

/// `C_EncryptMessage`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_EncryptMessage(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
    _arg6: *mut CK_BYTE,
    _arg7: CK_ULONG,
    _arg8: *mut CK_BYTE,
    _arg9: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_EncryptMessageBegin`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_EncryptMessageBegin(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_EncryptMessageNext`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_EncryptMessageNext(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
    _arg6: *mut CK_BYTE,
    _arg7: *mut CK_ULONG,
    _arg8: CK_FLAGS,
) -> CK_RV {
    not_supported()
}

/// `C_MessageEncryptFinal`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_MessageEncryptFinal(_arg1: CK_SESSION_HANDLE) -> CK_RV {
    not_supported()
}

/// `C_MessageDecryptInit`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_MessageDecryptInit(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_MECHANISM,
    _arg3: CK_OBJECT_HANDLE,
) -> CK_RV {
    not_supported()
}

/// `C_DecryptMessage`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_DecryptMessage(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
    _arg6: *mut CK_BYTE,
    _arg7: CK_ULONG,
    _arg8: *mut CK_BYTE,
    _arg9: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_DecryptMessageBegin`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_DecryptMessageBegin(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_DecryptMessageNext`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_DecryptMessageNext(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
    _arg6: *mut CK_BYTE,
    _arg7: *mut CK_ULONG,
    _arg8: CK_FLAGS,
) -> CK_RV {
    not_supported()
}

/// `C_MessageDecryptFinal`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_MessageDecryptFinal(_arg1: CK_SESSION_HANDLE) -> CK_RV {
    not_supported()
}

/// `C_MessageSignInit`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_MessageSignInit(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_MECHANISM,
    _arg3: CK_OBJECT_HANDLE,
) -> CK_RV {
    not_supported()
}

/// `C_SignMessage`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_SignMessage(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
    _arg6: *mut CK_BYTE,
    _arg7: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_SignMessageBegin`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_SignMessageBegin(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_SignMessageNext`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_SignMessageNext(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
    _arg6: *mut CK_BYTE,
    _arg7: *mut CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_MessageSignFinal`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_MessageSignFinal(_arg1: CK_SESSION_HANDLE) -> CK_RV {
    not_supported()
}

/// `C_MessageVerifyInit`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_MessageVerifyInit(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut CK_MECHANISM,
    _arg3: CK_OBJECT_HANDLE,
) -> CK_RV {
    not_supported()
}

/// `C_VerifyMessage`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_VerifyMessage(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
    _arg6: *mut CK_BYTE,
    _arg7: CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_VerifyMessageBegin`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_VerifyMessageBegin(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_VerifyMessageNext`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_VerifyMessageNext(
    _arg1: CK_SESSION_HANDLE,
    _arg2: *mut ::std::os::raw::c_void,
    _arg3: CK_ULONG,
    _arg4: *mut CK_BYTE,
    _arg5: CK_ULONG,
    _arg6: *mut CK_BYTE,
    _arg7: CK_ULONG,
) -> CK_RV {
    not_supported()
}

/// `C_MessageVerifyFinal`: not supported.
///
/// # Safety
///
/// No argument is read.
#[no_mangle]
pub unsafe extern "C" fn C_MessageVerifyFinal(_arg1: CK_SESSION_HANDLE) -> CK_RV {
    not_supported()
}
