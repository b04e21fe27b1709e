//! Helpers for the in-process tests: a library initialised once per test
//! binary over a temporary configuration with many token directories, and
//! one fresh token (its own slot) per test.
#![allow(dead_code, unsafe_code)]

use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use cryptoki_sys::*;
use hsmtls_token::abi::*;

pub const SO_PIN: &[u8] = b"so-pin-1234";
pub const USER_PIN: &[u8] = b"user-pin-1234";
pub const SLOTS: u64 = 48;

static INIT: Once = Once::new();
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "hsmtls-token-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a configuration with `SLOTS` token directories and points
/// `HSMTLS_TOKEN_CONF` at it.
pub fn configure(dir: &std::path::Path) {
    let mut conf = String::from("pin_iterations = 1000\n");
    for i in 0..SLOTS {
        conf.push_str(&format!(
            "token = {}\n",
            dir.join(format!("t{i}")).display()
        ));
    }
    conf.push_str(&format!("new_tokens = {}\n", dir.join("new").display()));
    std::fs::create_dir_all(dir.join("new")).unwrap();
    let path = dir.join("token.conf");
    std::fs::write(&path, conf).unwrap();
    std::env::set_var("HSMTLS_TOKEN_CONF", &path);
}

/// Initialises the library once for this test binary.
pub fn library() {
    INIT.call_once(|| {
        configure(&temp_dir("lib"));
        assert_eq!(unsafe { C_Initialize(ptr::null_mut()) }, CKR_OK);
    });
}

pub fn label(s: &str) -> [u8; 32] {
    let mut l = [b' '; 32];
    l[..s.len()].copy_from_slice(s.as_bytes());
    l
}

/// A slot of its own for this test, its token initialised with SO and
/// user PINs; returns (slot, R/W session logged in as user).
pub fn fresh_token() -> (CK_SLOT_ID, CK_SESSION_HANDLE) {
    library();
    let slot = NEXT.fetch_add(1, Ordering::Relaxed);
    assert!(slot < SLOTS, "raise SLOTS");
    let mut l = label("test");
    unsafe {
        assert_eq!(
            C_InitToken(
                slot,
                SO_PIN.as_ptr() as *mut _,
                SO_PIN.len() as _,
                l.as_mut_ptr()
            ),
            CKR_OK
        );
        let h = open(slot, true);
        assert_eq!(login(h, CKU_SO, SO_PIN), CKR_OK);
        assert_eq!(
            C_InitPIN(h, USER_PIN.as_ptr() as *mut _, USER_PIN.len() as _),
            CKR_OK
        );
        assert_eq!(C_Logout(h), CKR_OK);
        assert_eq!(login(h, CKU_USER, USER_PIN), CKR_OK);
        (slot, h)
    }
}

pub fn open(slot: CK_SLOT_ID, rw: bool) -> CK_SESSION_HANDLE {
    let mut h = 0;
    let flags = CKF_SERIAL_SESSION | if rw { CKF_RW_SESSION } else { 0 };
    assert_eq!(
        unsafe { C_OpenSession(slot, flags, ptr::null_mut(), None, &mut h) },
        CKR_OK
    );
    h
}

pub fn login(h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: &[u8]) -> CK_RV {
    unsafe { C_Login(h, user, pin.as_ptr() as *mut _, pin.len() as _) }
}

/// An owned template.
pub struct Tpl {
    values: Vec<Vec<u8>>,
    pub attrs: Vec<CK_ATTRIBUTE>,
}

impl Tpl {
    pub fn new() -> Self {
        Self {
            values: Vec::new(),
            attrs: Vec::new(),
        }
    }
    pub fn bytes(mut self, t: CK_ATTRIBUTE_TYPE, v: &[u8]) -> Self {
        self.values.push(v.to_vec());
        let last = self.values.last_mut().unwrap();
        self.attrs.push(CK_ATTRIBUTE {
            type_: t,
            pValue: last.as_mut_ptr() as *mut _,
            ulValueLen: v.len() as _,
        });
        self
    }
    pub fn ulong(self, t: CK_ATTRIBUTE_TYPE, v: CK_ULONG) -> Self {
        self.bytes(t, &v.to_ne_bytes())
    }
    pub fn bool(self, t: CK_ATTRIBUTE_TYPE, v: bool) -> Self {
        self.bytes(t, &[u8::from(v)])
    }
    pub fn ptr(&mut self) -> *mut CK_ATTRIBUTE {
        self.attrs.as_mut_ptr()
    }
    pub fn len(&self) -> CK_ULONG {
        self.attrs.len() as _
    }
}

pub fn create(h: CK_SESSION_HANDLE, mut t: Tpl) -> Result<CK_OBJECT_HANDLE, CK_RV> {
    let mut o = 0;
    match unsafe { C_CreateObject(h, t.ptr(), t.len(), &mut o) } {
        CKR_OK => Ok(o),
        rv => Err(rv),
    }
}

/// `C_GenerateKeyPair` with `mechanism` and the two templates: (public,
/// private) or the `CK_RV`.
pub fn generate_pair(
    h: CK_SESSION_HANDLE,
    mechanism: CK_MECHANISM_TYPE,
    mut public: Tpl,
    mut private: Tpl,
) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE), CK_RV> {
    let mut m = mech(mechanism);
    let (mut p, mut s) = (0, 0);
    let rv = unsafe {
        C_GenerateKeyPair(
            h,
            &mut m,
            public.ptr(),
            public.len(),
            private.ptr(),
            private.len(),
            &mut p,
            &mut s,
        )
    };
    match rv {
        CKR_OK => Ok((p, s)),
        rv => Err(rv),
    }
}

/// A secret key of `kt` with `value`.
pub fn secret(
    h: CK_SESSION_HANDLE,
    kt: CK_KEY_TYPE,
    value: &[u8],
    extractable: bool,
) -> CK_OBJECT_HANDLE {
    create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, kt)
            .bytes(CKA_VALUE, value)
            .bool(CKA_SENSITIVE, !extractable)
            .bool(CKA_EXTRACTABLE, extractable)
            .bool(CKA_DERIVE, true),
    )
    .unwrap()
}

/// `C_GetAttributeValue` of one attribute: Ok(value) or the CK_RV.
pub fn attr(
    h: CK_SESSION_HANDLE,
    o: CK_OBJECT_HANDLE,
    t: CK_ATTRIBUTE_TYPE,
) -> Result<Vec<u8>, CK_RV> {
    let mut a = CK_ATTRIBUTE {
        type_: t,
        pValue: ptr::null_mut(),
        ulValueLen: 0,
    };
    let rv = unsafe { C_GetAttributeValue(h, o, &mut a, 1) };
    if rv != CKR_OK {
        if matches!(rv, CKR_ATTRIBUTE_SENSITIVE | CKR_ATTRIBUTE_TYPE_INVALID) {
            assert_eq!(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
        }
        return Err(rv);
    }
    let mut buf = vec![0u8; a.ulValueLen as usize];
    a.pValue = buf.as_mut_ptr() as *mut _;
    assert_eq!(unsafe { C_GetAttributeValue(h, o, &mut a, 1) }, CKR_OK);
    buf.truncate(a.ulValueLen as usize);
    Ok(buf)
}

pub fn mech(m: CK_MECHANISM_TYPE) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: m,
        pParameter: ptr::null_mut(),
        ulParameterLen: 0,
    }
}

pub fn mech_with<T>(m: CK_MECHANISM_TYPE, p: &mut T) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: m,
        pParameter: p as *mut T as *mut _,
        ulParameterLen: std::mem::size_of::<T>() as _,
    }
}

/// Runs a single-part output function with the length query first.
pub fn two_call(f: impl Fn(*mut u8, *mut CK_ULONG) -> CK_RV) -> Result<Vec<u8>, CK_RV> {
    let mut n: CK_ULONG = 0;
    let rv = f(ptr::null_mut(), &mut n);
    if rv != CKR_OK {
        return Err(rv);
    }
    let mut out = vec![0u8; n as usize];
    let rv = f(out.as_mut_ptr(), &mut n);
    if rv != CKR_OK {
        return Err(rv);
    }
    out.truncate(n as usize);
    Ok(out)
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

pub fn sign(
    h: CK_SESSION_HANDLE,
    m: &mut CK_MECHANISM,
    key: CK_OBJECT_HANDLE,
    data: &[u8],
) -> Result<Vec<u8>, CK_RV> {
    let rv = unsafe { C_SignInit(h, m, key) };
    if rv != CKR_OK {
        return Err(rv);
    }
    two_call(|o, n| unsafe { C_Sign(h, data.as_ptr() as *mut _, data.len() as _, o, n) })
}

pub fn verify(
    h: CK_SESSION_HANDLE,
    m: &mut CK_MECHANISM,
    key: CK_OBJECT_HANDLE,
    data: &[u8],
    sig: &[u8],
) -> CK_RV {
    let rv = unsafe { C_VerifyInit(h, m, key) };
    if rv != CKR_OK {
        return rv;
    }
    unsafe {
        C_Verify(
            h,
            data.as_ptr() as *mut _,
            data.len() as _,
            sig.as_ptr() as *mut _,
            sig.len() as _,
        )
    }
}
