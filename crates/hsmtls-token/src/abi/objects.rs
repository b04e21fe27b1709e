//! Object functions (PKCS#11 3.0 §5.7).

use cryptoki_sys::*;

use super::{rv, template, BAD};
use crate::library::{self, AttrValue};

/// Writes a handle.
///
/// # Safety
/// `out` NULL or valid for writes.
unsafe fn put(out: *mut CK_OBJECT_HANDLE, r: crate::error::Result<CK_OBJECT_HANDLE>) -> CK_RV {
    match r {
        Ok(h) => {
            // SAFETY: checked non-NULL by the caller before doing the work;
            // valid by contract.
            unsafe { *out = h };
            CKR_OK
        }
        Err(e) => e.rv(),
    }
}

/// `C_CreateObject`.
///
/// # Safety
/// Template valid for `n` attributes; `out` valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_CreateObject(
    h: CK_SESSION_HANDLE,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
    out: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    let r = (|| {
        let lib = library::get()?;
        if out.is_null() {
            return Err(BAD);
        }
        // SAFETY: per contract.
        lib.create_object(h, unsafe { template(t, n) }?)
    })();
    // SAFETY: `out` checked non-NULL when `r` is Ok.
    unsafe { put(out, r) }
}

/// `C_CopyObject`.
///
/// # Safety
/// Template valid for `n` attributes; `out` valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_CopyObject(
    h: CK_SESSION_HANDLE,
    o: CK_OBJECT_HANDLE,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
    out: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    let r = (|| {
        let lib = library::get()?;
        if out.is_null() {
            return Err(BAD);
        }
        // SAFETY: per contract.
        lib.copy_object(h, o, unsafe { template(t, n) }?)
    })();
    // SAFETY: `out` checked non-NULL when `r` is Ok.
    unsafe { put(out, r) }
}

/// `C_DestroyObject`.
///
/// # Safety
/// No pointer.
#[no_mangle]
pub unsafe extern "C" fn C_DestroyObject(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE) -> CK_RV {
    rv(library::get().and_then(|l| l.destroy_object(h, o)))
}

/// `C_GetAttributeValue` (§5.7.5): per attribute the value, its length
/// (NULL `pValue`), or `CK_UNAVAILABLE_INFORMATION` with
/// `CKR_ATTRIBUTE_SENSITIVE`, `CKR_ATTRIBUTE_TYPE_INVALID` or
/// `CKR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// Template valid for `n` attributes, each `pValue` NULL or valid for
/// `ulValueLen` bytes.
#[no_mangle]
pub unsafe extern "C" fn C_GetAttributeValue(
    h: CK_SESSION_HANDLE,
    o: CK_OBJECT_HANDLE,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
) -> CK_RV {
    let lib = match library::get() {
        Ok(l) => l,
        Err(e) => return e.rv(),
    };
    if t.is_null() && n > 0 {
        return CKR_ARGUMENTS_BAD;
    }
    let attrs: &mut [CK_ATTRIBUTE] = if n == 0 {
        &mut []
    } else {
        // SAFETY: non-NULL, valid for `n` attributes (contract).
        unsafe { core::slice::from_raw_parts_mut(t, n as usize) }
    };
    let types: Vec<_> = attrs.iter().map(|a| a.type_).collect();
    let values = match lib.get_attributes(h, o, &types) {
        Ok(v) => v,
        Err(e) => return e.rv(),
    };
    let mut result = CKR_OK;
    for (a, v) in attrs.iter_mut().zip(values) {
        match v {
            AttrValue::Value(v) => {
                if a.pValue.is_null() {
                    a.ulValueLen = v.len() as CK_ULONG;
                } else if (a.ulValueLen as usize) < v.len() {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    result = CKR_BUFFER_TOO_SMALL;
                } else {
                    // SAFETY: `pValue` valid for `ulValueLen >= v.len()` bytes.
                    unsafe {
                        core::ptr::copy_nonoverlapping(v.as_ptr(), a.pValue as *mut u8, v.len())
                    };
                    a.ulValueLen = v.len() as CK_ULONG;
                }
            }
            AttrValue::Sensitive => {
                a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                result = CKR_ATTRIBUTE_SENSITIVE;
            }
            AttrValue::Invalid => {
                a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                result = CKR_ATTRIBUTE_TYPE_INVALID;
            }
        }
    }
    result
}

/// `C_SetAttributeValue`.
///
/// # Safety
/// Template valid for `n` attributes.
#[no_mangle]
pub unsafe extern "C" fn C_SetAttributeValue(
    h: CK_SESSION_HANDLE,
    o: CK_OBJECT_HANDLE,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: per contract.
        lib.set_attributes(h, o, unsafe { template(t, n) }?)
    })())
}

/// `C_FindObjectsInit`.
///
/// # Safety
/// Template valid for `n` attributes.
#[no_mangle]
pub unsafe extern "C" fn C_FindObjectsInit(
    h: CK_SESSION_HANDLE,
    t: *mut CK_ATTRIBUTE,
    n: CK_ULONG,
) -> CK_RV {
    rv((|| {
        let lib = library::get()?;
        // SAFETY: per contract.
        let tpl = match unsafe { template(t, n) } {
            // The same attribute twice with different values matches no
            // object (CKR_TEMPLATE_INCONSISTENT is not a C_FindObjectsInit
            // code): search for a class no object has.
            Err(e) if e.rv() == CKR_TEMPLATE_INCONSISTENT => {
                let mut none = crate::object::Object::new();
                none.set(
                    CKA_CLASS,
                    crate::object::ulong_bytes(CK_UNAVAILABLE_INFORMATION),
                );
                none
            }
            r => r?,
        };
        lib.find_init(h, tpl)
    })())
}

/// `C_FindObjects`.
///
/// # Safety
/// `out` valid for `max` handles; `count` valid for writes.
#[no_mangle]
pub unsafe extern "C" fn C_FindObjects(
    h: CK_SESSION_HANDLE,
    out: *mut CK_OBJECT_HANDLE,
    max: CK_ULONG,
    count: *mut CK_ULONG,
) -> CK_RV {
    let lib = match library::get() {
        Ok(l) => l,
        Err(e) => return e.rv(),
    };
    if count.is_null() || (out.is_null() && max > 0) {
        return CKR_ARGUMENTS_BAD;
    }
    match lib.find(h, max as usize) {
        Ok(found) => {
            if !found.is_empty() {
                // SAFETY: `out` valid for `max >= found.len()` handles.
                unsafe { core::ptr::copy_nonoverlapping(found.as_ptr(), out, found.len()) };
            }
            // SAFETY: non-NULL, valid for writes (contract).
            unsafe { *count = found.len() as CK_ULONG };
            CKR_OK
        }
        Err(e) => e.rv(),
    }
}

/// `C_FindObjectsFinal`.
///
/// # Safety
/// No pointer.
#[no_mangle]
pub unsafe extern "C" fn C_FindObjectsFinal(h: CK_SESSION_HANDLE) -> CK_RV {
    rv(library::get().and_then(|l| l.find_final(h)))
}
