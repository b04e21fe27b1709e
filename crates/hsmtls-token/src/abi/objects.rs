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
            AttrValue::Value(v)
                if crate::attributes::kind(a.type_) == Some(crate::attributes::Kind::Template) =>
            {
                // SAFETY: `a.pValue` is NULL or an array of CK_ATTRIBUTE
                // valid for `a.ulValueLen` bytes (contract).
                let rv = unsafe { get_template(a, &v) };
                if rv != CKR_OK {
                    result = rv;
                }
            }
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

/// Delivers an attribute-array value (§5.7.5: "if the attribute is an
/// array attribute, the procedure applies to each of its elements"): with
/// `pValue` NULL the array's byte length; else each element's value, or
/// its length where the element's `pValue` is NULL.
///
/// # Safety
/// `a.pValue` NULL or valid for `a.ulValueLen` bytes of `CK_ATTRIBUTE`s,
/// each element's `pValue` NULL or valid for its `ulValueLen` bytes.
unsafe fn get_template(a: &mut CK_ATTRIBUTE, stored: &[u8]) -> CK_RV {
    let Ok(inner) = crate::object::Object::deserialize(stored) else {
        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_GENERAL_ERROR;
    };
    let entries: Vec<(CK_ATTRIBUTE_TYPE, &[u8])> = inner.iter().collect();
    let need = entries.len() * core::mem::size_of::<CK_ATTRIBUTE>();
    if a.pValue.is_null() {
        a.ulValueLen = need as CK_ULONG;
        return CKR_OK;
    }
    if (a.ulValueLen as usize) < need {
        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_BUFFER_TOO_SMALL;
    }
    let mut rv = CKR_OK;
    if !entries.is_empty() {
        // SAFETY: `pValue` is valid for `ulValueLen >= need` bytes of
        // CK_ATTRIBUTEs (contract), i.e. `entries.len()` elements.
        let slots = unsafe {
            core::slice::from_raw_parts_mut(a.pValue as *mut CK_ATTRIBUTE, entries.len())
        };
        for (slot, (t, v)) in slots.iter_mut().zip(entries) {
            slot.type_ = t;
            if slot.pValue.is_null() {
                slot.ulValueLen = v.len() as CK_ULONG;
            } else if (slot.ulValueLen as usize) < v.len() {
                slot.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                rv = CKR_BUFFER_TOO_SMALL;
            } else {
                // SAFETY: the element's `pValue` is valid for its
                // `ulValueLen >= v.len()` bytes (contract).
                unsafe {
                    core::ptr::copy_nonoverlapping(v.as_ptr(), slot.pValue as *mut u8, v.len())
                };
                slot.ulValueLen = v.len() as CK_ULONG;
            }
        }
    }
    a.ulValueLen = need as CK_ULONG;
    rv
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
