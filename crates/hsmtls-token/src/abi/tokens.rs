//! Slot, token, session and login functions (PKCS#11 3.0 §5.5–§5.6).

use core::ffi::c_void;

use cryptoki_sys::*;

use super::{bytes, pad, rv, BAD};
use crate::error::Result;
use crate::library;
use crate::mechanisms::REGISTRY;

/// Writes a list with the length-query convention.
///
/// # Safety
/// `out` NULL or valid for `*count` items; `count` NULL or valid.
unsafe fn list_out(items: &[CK_ULONG], out: *mut CK_ULONG, count: *mut CK_ULONG) -> CK_RV {
    // SAFETY: NULL or valid (contract).
    let Some(count) = (unsafe { count.as_mut() }) else {
        return CKR_ARGUMENTS_BAD;
    };
    if out.is_null() {
        *count = items.len() as CK_ULONG;
        return CKR_OK;
    }
    if (*count as usize) < items.len() {
        *count = items.len() as CK_ULONG;
        return CKR_BUFFER_TOO_SMALL;
    }
    // SAFETY: `out` is valid for `*count >= items.len()` items.
    unsafe { core::ptr::copy_nonoverlapping(items.as_ptr(), out, items.len()) };
    *count = items.len() as CK_ULONG;
    CKR_OK
}

/// `C_GetSlotList` (every slot holds a token).
///
/// # Safety
/// See [`list_out`].
#[no_mangle]
pub unsafe extern "C" fn C_GetSlotList(
    _present: CK_BBOOL,
    list: *mut CK_SLOT_ID,
    count: *mut CK_ULONG,
) -> CK_RV {
    match library::get() {
        // SAFETY: pointers per contract.
        Ok(lib) => unsafe { list_out(&lib.slot_list(), list, count) },
        Err(e) => e.rv(),
    }
}

/// `C_GetSlotInfo`.
///
/// # Safety
/// `info` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_GetSlotInfo(slot: CK_SLOT_ID, info: *mut CK_SLOT_INFO) -> CK_RV {
    let r = (|| -> Result<CK_SLOT_INFO> {
        let lib = library::get()?;
        let dir = lib.slot_dir(slot)?;
        Ok(CK_SLOT_INFO {
            slotDescription: pad(format!("hsmtls-token {dir}").as_bytes()),
            manufacturerID: pad(b"hsmtls"),
            flags: CKF_TOKEN_PRESENT,
            hardwareVersion: CK_VERSION { major: 0, minor: 1 },
            firmwareVersion: CK_VERSION { major: 0, minor: 1 },
        })
    })();
    match r {
        Ok(v) => {
            // SAFETY: NULL or valid for writes (contract).
            match unsafe { info.as_mut() } {
                Some(out) => {
                    *out = v;
                    CKR_OK
                }
                None => CKR_ARGUMENTS_BAD,
            }
        }
        Err(e) => e.rv(),
    }
}

/// `C_GetTokenInfo`: flags, PIN counters and session counts as they are.
///
/// # Safety
/// `info` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_GetTokenInfo(slot: CK_SLOT_ID, info: *mut CK_TOKEN_INFO) -> CK_RV {
    let r = (|| -> Result<CK_TOKEN_INFO> {
        let ti = library::get()?.token_info(slot)?;
        let unavailable = CK_UNAVAILABLE_INFORMATION;
        Ok(CK_TOKEN_INFO {
            label: ti.status.label,
            manufacturerID: pad(b"hsmtls"),
            model: pad(b"hsmtls-token"),
            serialNumber: ti.status.serial,
            flags: ti.status.flags,
            ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
            ulSessionCount: ti.sessions as CK_ULONG,
            ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
            ulRwSessionCount: ti.rw_sessions as CK_ULONG,
            ulMaxPinLen: crate::token::MAX_PIN_LEN as CK_ULONG,
            ulMinPinLen: crate::token::MIN_PIN_LEN as CK_ULONG,
            ulTotalPublicMemory: unavailable,
            ulFreePublicMemory: unavailable,
            ulTotalPrivateMemory: unavailable,
            ulFreePrivateMemory: unavailable,
            hardwareVersion: CK_VERSION { major: 0, minor: 1 },
            firmwareVersion: CK_VERSION { major: 0, minor: 1 },
            utcTime: pad(b""),
        })
    })();
    match r {
        // SAFETY: NULL or valid for writes (contract).
        Ok(v) => match unsafe { info.as_mut() } {
            Some(out) => {
                *out = v;
                CKR_OK
            }
            None => CKR_ARGUMENTS_BAD,
        },
        Err(e) => e.rv(),
    }
}

/// `C_GetMechanismList`: the registry.
///
/// # Safety
/// See [`list_out`].
#[no_mangle]
pub unsafe extern "C" fn C_GetMechanismList(
    slot: CK_SLOT_ID,
    list: *mut CK_MECHANISM_TYPE,
    count: *mut CK_ULONG,
) -> CK_RV {
    match library::get().and_then(|l| l.slot(slot).map(|_| ())) {
        Ok(()) => {
            let all: Vec<CK_ULONG> = REGISTRY.iter().map(|e| e.mechanism).collect();
            // SAFETY: pointers per contract.
            unsafe { list_out(&all, list, count) }
        }
        Err(e) => e.rv(),
    }
}

/// `C_GetMechanismInfo`.
///
/// # Safety
/// `info` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_GetMechanismInfo(
    slot: CK_SLOT_ID,
    m: CK_MECHANISM_TYPE,
    info: *mut CK_MECHANISM_INFO,
) -> CK_RV {
    let r = library::get()
        .and_then(|l| l.slot(slot).map(|_| ()))
        .and_then(|_| crate::mechanisms::lookup(m));
    match r {
        Ok(e) => {
            // SAFETY: NULL or valid for writes (contract).
            let Some(out) = (unsafe { info.as_mut() }) else {
                return CKR_ARGUMENTS_BAD;
            };
            *out = CK_MECHANISM_INFO {
                ulMinKeySize: e.min_key,
                ulMaxKeySize: e.max_key,
                flags: e.flags(),
            };
            CKR_OK
        }
        Err(e) => e.rv(),
    }
}

/// `C_InitToken`.
///
/// # Safety
/// `pin` valid for `len` bytes; `label` NULL or 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn C_InitToken(
    slot: CK_SLOT_ID,
    pin: *mut CK_UTF8CHAR,
    len: CK_ULONG,
    label: *mut CK_UTF8CHAR,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        if label.is_null() {
            return Err(BAD);
        }
        // SAFETY: `label` is 32 bytes (§5.6, contract).
        let label: [u8; 32] = unsafe { core::ptr::read_unaligned(label as *const [u8; 32]) };
        // SAFETY: valid for `len` bytes (contract).
        let pin = unsafe { bytes(pin, len) }?;
        lib.init_token(slot, pin, &label)
    })())
}

/// `C_InitPIN`.
///
/// # Safety
/// `pin` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn C_InitPIN(
    h: CK_SESSION_HANDLE,
    pin: *mut CK_UTF8CHAR,
    len: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: valid for `len` bytes (contract).
        lib.init_pin(h, unsafe { bytes(pin, len) }?)
    })())
}

/// `C_SetPIN`.
///
/// # Safety
/// PINs valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn C_SetPIN(
    h: CK_SESSION_HANDLE,
    old: *mut CK_UTF8CHAR,
    old_len: CK_ULONG,
    new: *mut CK_UTF8CHAR,
    new_len: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: valid for their lengths (contract).
        let (o, n) = unsafe { (bytes(old, old_len)?, bytes(new, new_len)?) };
        lib.set_pin(h, o, n)
    })())
}

/// `C_OpenSession` (no notification callbacks are made).
///
/// # Safety
/// `out` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_OpenSession(
    slot: CK_SLOT_ID,
    flags: CK_FLAGS,
    _app: *mut c_void,
    _notify: CK_NOTIFY,
    out: *mut CK_SESSION_HANDLE,
) -> CK_RV {
    let lib = match library::get() {
        Ok(l) => l,
        Err(e) => return e.rv(),
    };
    if out.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    match lib.open_session(slot, flags) {
        Ok(h) => {
            // SAFETY: non-NULL and valid for writes (contract).
            unsafe { *out = h };
            CKR_OK
        }
        Err(e) => e.rv(),
    }
}

/// `C_CloseSession`.
///
/// # Safety
/// No pointer.
#[no_mangle]
pub unsafe extern "C" fn C_CloseSession(h: CK_SESSION_HANDLE) -> CK_RV {
    rv(library::get().and_then(|l| l.close_session(h)))
}

/// `C_CloseAllSessions`.
///
/// # Safety
/// No pointer.
#[no_mangle]
pub unsafe extern "C" fn C_CloseAllSessions(slot: CK_SLOT_ID) -> CK_RV {
    rv(library::get().and_then(|l| l.close_all_sessions(slot)))
}

/// `C_GetSessionInfo`.
///
/// # Safety
/// `info` NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_GetSessionInfo(
    h: CK_SESSION_HANDLE,
    info: *mut CK_SESSION_INFO,
) -> CK_RV {
    match library::get().and_then(|l| l.session_info(h)) {
        // SAFETY: NULL or valid for writes (contract).
        Ok((slot, state, flags)) => match unsafe { info.as_mut() } {
            Some(out) => {
                *out = CK_SESSION_INFO {
                    slotID: slot,
                    state,
                    flags,
                    ulDeviceError: 0,
                };
                CKR_OK
            }
            None => CKR_ARGUMENTS_BAD,
        },
        Err(e) => e.rv(),
    }
}

/// `C_Login`.
///
/// # Safety
/// `pin` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn C_Login(
    h: CK_SESSION_HANDLE,
    user: CK_USER_TYPE,
    pin: *mut CK_UTF8CHAR,
    len: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: valid for `len` bytes (contract).
        lib.login(h, user, unsafe { bytes(pin, len) }?)
    })())
}

/// `C_Logout`.
///
/// # Safety
/// No pointer.
#[no_mangle]
pub unsafe extern "C" fn C_Logout(h: CK_SESSION_HANDLE) -> CK_RV {
    rv(library::get().and_then(|l| l.logout(h)))
}
