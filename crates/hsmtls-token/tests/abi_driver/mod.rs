//! A driver of malformed calls through the exported C functions, shared by
//! the in-CI test `tests/bad_input.rs` and the libFuzzer target under
//! `fuzz/`: templates with NULL values of non-zero length, huge lengths,
//! duplicate attributes and wrong-size `CK_BBOOL` / `CK_ULONG` values;
//! bogus object and session handles; NULL pointers where they are and are
//! not allowed; mechanisms with wrong `ulParameterLen`, NULL `pParameter`
//! and parameter structures with random field values. Every return value
//! must be one the specification allows for the function (PKCS#11 3.0
//! §5.4–§5.18), plus `CKR_KEY_FUNCTION_NOT_PERMITTED` for every function
//! that uses a key (§5.1.6 defines it for any such use).
//!
//! Pointers the driver passes are always NULL or valid for the length it
//! states (the PKCS#11 contract): "huge" lengths go with NULL pointers or
//! with output buffers the token never fills beyond a value's real size.
#![allow(unsafe_code, dead_code)]

use std::ptr;

use cryptoki_sys::*;
use hsmtls_token::abi::*;

/// A source of pseudo-random numbers.
pub trait Source {
    /// The next value.
    fn next(&mut self) -> u64;
    /// A value below `n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// One of `items`.
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    /// True with probability 1/n.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// xorshift64 (deterministic for the test).
pub struct XorShift(pub u64);

impl Source for XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Fuzzer input as a source; zeros once exhausted.
pub struct Bytes<'a>(pub &'a [u8]);

impl Source for Bytes<'_> {
    fn next(&mut self) -> u64 {
        let n = self.0.len().min(8);
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        u64::from_le_bytes(b)
    }
}

const UNIVERSAL: &[CK_RV] = &[
    CKR_OK,
    CKR_ARGUMENTS_BAD,
    CKR_CRYPTOKI_NOT_INITIALIZED,
    CKR_DEVICE_ERROR,
    CKR_DEVICE_MEMORY,
    CKR_DEVICE_REMOVED,
    CKR_FUNCTION_CANCELED,
    CKR_FUNCTION_FAILED,
    CKR_GENERAL_ERROR,
    CKR_HOST_MEMORY,
    CKR_SESSION_CLOSED,
    CKR_SESSION_HANDLE_INVALID,
];
const TEMPLATE: &[CK_RV] = &[
    CKR_ATTRIBUTE_READ_ONLY,
    CKR_ATTRIBUTE_TYPE_INVALID,
    CKR_ATTRIBUTE_VALUE_INVALID,
    CKR_TEMPLATE_INCOMPLETE,
    CKR_TEMPLATE_INCONSISTENT,
    CKR_CURVE_NOT_SUPPORTED,
    CKR_DOMAIN_PARAMS_INVALID,
    CKR_PIN_EXPIRED,
    CKR_SESSION_READ_ONLY,
    CKR_TOKEN_WRITE_PROTECTED,
    CKR_USER_NOT_LOGGED_IN,
];
const KEY_INIT: &[CK_RV] = &[
    CKR_KEY_FUNCTION_NOT_PERMITTED,
    CKR_KEY_HANDLE_INVALID,
    CKR_KEY_SIZE_RANGE,
    CKR_KEY_TYPE_INCONSISTENT,
    CKR_MECHANISM_INVALID,
    CKR_MECHANISM_PARAM_INVALID,
    CKR_OPERATION_ACTIVE,
    CKR_PIN_EXPIRED,
    CKR_USER_NOT_LOGGED_IN,
];

thread_local! {
    /// How many checked calls returned `CKR_OK` (for the test's coverage check).
    pub static OK_CALLS: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

/// Checks `rv` against the allowed codes of `f`.
fn allowed(f: &str, rv: CK_RV, extra: &[&[CK_RV]]) {
    if rv == CKR_OK {
        OK_CALLS.with(|c| c.set(c.get() + 1));
    }
    if UNIVERSAL.contains(&rv) || extra.iter().any(|l| l.contains(&rv)) {
        return;
    }
    panic!("{f} returned {rv:#x}, which the specification does not allow");
}

const ATTRS: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_CLASS,
    CKA_KEY_TYPE,
    CKA_VALUE,
    CKA_VALUE_LEN,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_SENSITIVE,
    CKA_EXTRACTABLE,
    CKA_ENCRYPT,
    CKA_DECRYPT,
    CKA_SIGN,
    CKA_VERIFY,
    CKA_WRAP,
    CKA_UNWRAP,
    CKA_DERIVE,
    CKA_LABEL,
    CKA_ID,
    CKA_LOCAL,
    CKA_ALLOWED_MECHANISMS,
    CKA_EC_PARAMS,
    CKA_EC_POINT,
    CKA_MODIFIABLE,
    CKA_WRAP_WITH_TRUSTED,
    CKA_TRUSTED,
    0xdead_beef,
];

const MECHS: &[CK_MECHANISM_TYPE] = &[
    CKM_AES_KEY_GEN,
    CKM_AES_ECB,
    CKM_AES_CBC,
    CKM_AES_CBC_PAD,
    CKM_AES_GCM,
    CKM_AES_CTR,
    CKM_AES_KEY_WRAP,
    CKM_AES_KEY_WRAP_PAD,
    CKM_CHACHA20_POLY1305,
    CKM_CHACHA20_KEY_GEN,
    CKM_GENERIC_SECRET_KEY_GEN,
    CKM_SHA256_HMAC,
    CKM_SHA256,
    CKM_ECDSA,
    CKM_ECDH1_DERIVE,
    CKM_HKDF_DERIVE,
    CKM_HKDF_DATA,
    CKM_TLS12_MASTER_KEY_DERIVE,
    CKM_TLS12_MASTER_KEY_DERIVE_DH,
    CKM_TLS12_KEY_AND_MAC_DERIVE,
    CKM_TLS12_MAC,
    CKM_TLS12_KDF,
    CKM_TLS_PRE_MASTER_KEY_GEN,
    consts::CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256,
    consts::CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256,
    consts::CKM_NSS_TLS_PRF_GENERAL_SHA256,
    CKM_MD5,
    0xdead_beef,
];

/// Backing storage for one call's arguments; every pointer handed to the
/// token points in here.
struct Arena {
    values: Vec<Vec<u8>>,
    attrs: Vec<CK_ATTRIBUTE>,
    /// The inner template of an attribute-array attribute.
    inner: Vec<CK_ATTRIBUTE>,
    param: Vec<u64>,
    bufs: Vec<Vec<u8>>,
    keymat: Box<CK_SSL3_KEY_MAT_OUT>,
    version: Box<CK_VERSION>,
}

impl Arena {
    fn new() -> Self {
        Self {
            values: Vec::new(),
            attrs: Vec::new(),
            inner: Vec::new(),
            param: vec![0; 32],
            bufs: Vec::new(),
            keymat: Box::new(CK_SSL3_KEY_MAT_OUT {
                hClientMacSecret: 0,
                hServerMacSecret: 0,
                hClientKey: 0,
                hServerKey: 0,
                pIVClient: ptr::null_mut(),
                pIVServer: ptr::null_mut(),
            }),
            version: Box::new(CK_VERSION { major: 0, minor: 0 }),
        }
    }

    /// A 64-byte buffer of random content, or NULL: (pointer, length ≤ 64
    /// when non-NULL, any length when NULL).
    fn blob(&mut self, s: &mut impl Source) -> (*mut u8, CK_ULONG) {
        if s.one_in(6) {
            let len = s.pick(&[0, 1, 16, 1 << 20, CK_ULONG::MAX]);
            return (ptr::null_mut(), len);
        }
        let len = s.pick(&[0u64, 1, 8, 12, 16, 24, 32, 48, 64]);
        let mut b: Vec<u8> = (0..64).map(|_| s.next() as u8).collect();
        let p = b.as_mut_ptr();
        self.bufs.push(b);
        (p, len as CK_ULONG)
    }

    /// A malformed (or sometimes well-formed) template.
    fn template(&mut self, s: &mut impl Source) -> (*mut CK_ATTRIBUTE, CK_ULONG) {
        if s.one_in(10) {
            let n = s.pick(&[0, 1, 1 << 30, CK_ULONG::MAX]);
            return (ptr::null_mut(), n);
        }
        let n = s.below(8) as usize;
        self.values.clear();
        self.attrs.clear();
        for _ in 0..n {
            let v: Vec<u8> = match s.below(8) {
                0 => vec![],
                1 => vec![s.next() as u8],
                2 => (s.next() as CK_ULONG).to_ne_bytes().to_vec(),
                3 => s
                    .pick(&[CKO_SECRET_KEY, CKK_AES, CKK_GENERIC_SECRET, 16, 32])
                    .to_ne_bytes()
                    .to_vec(),
                4 => vec![1, 0, 0],
                5 => (0..s.below(70)).map(|_| s.next() as u8).collect(),
                _ => vec![u8::from(s.one_in(2))],
            };
            self.values.push(v);
        }
        for v in self.values.iter_mut() {
            self.attrs.push(CK_ATTRIBUTE {
                type_: 0,
                pValue: if v.is_empty() {
                    ptr::null_mut()
                } else {
                    v.as_mut_ptr() as *mut _
                },
                ulValueLen: v.len() as _,
            });
        }
        for a in self.attrs.iter_mut() {
            a.type_ = s.pick(ATTRS);
            match s.below(12) {
                // NULL value with a non-zero (maybe huge) length.
                0 => {
                    a.pValue = ptr::null_mut();
                    a.ulValueLen = s.pick(&[1, 8, 1 << 40]);
                }
                // A shorter length than the value.
                1 => a.ulValueLen /= 2,
                _ => {}
            }
        }
        // Duplicates.
        if n > 0 && s.one_in(3) {
            let a = self.attrs[0];
            self.attrs.push(a);
        }
        // An attribute array (CKA_WRAP_TEMPLATE / CKA_UNWRAP_TEMPLATE):
        // a well-formed inner template over the values above, with its
        // true byte length, one byte off, or none.
        self.inner.clear();
        if s.one_in(4) {
            for i in 0..self.attrs.len().min(3) {
                let mut a = self.attrs[i];
                // No array inside (the token must refuse one anyway, but
                // its pointer would have to be a real inner array).
                a.type_ = s.pick(ATTRS);
                self.inner.push(a);
            }
            let size = std::mem::size_of::<CK_ATTRIBUTE>() * self.inner.len();
            let len = match s.below(4) {
                0 => size.saturating_sub(1),
                1 => 0,
                _ => size,
            };
            self.attrs.push(CK_ATTRIBUTE {
                type_: s.pick(&[CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE]),
                pValue: if self.inner.is_empty() {
                    ptr::null_mut()
                } else {
                    self.inner.as_mut_ptr() as *mut _
                },
                ulValueLen: len as _,
            });
        }
        (self.attrs.as_mut_ptr(), self.attrs.len() as _)
    }

    /// A mechanism with a parameter of random shape.
    fn mechanism(&mut self, s: &mut impl Source) -> CK_MECHANISM {
        let m = s.pick(MECHS);
        self.param.iter_mut().for_each(|w| *w = 0);
        let mut blobs = [(ptr::null_mut(), 0); 4];
        for b in blobs.iter_mut() {
            *b = self.blob(s);
        }
        let iv = self.blob(s).0;
        self.keymat.pIVClient = iv;
        self.keymat.pIVServer = iv;
        let km: *mut CK_SSL3_KEY_MAT_OUT = &mut *self.keymat;
        let version: *mut CK_VERSION = if s.one_in(2) {
            &mut *self.version
        } else {
            ptr::null_mut()
        };
        let random = |b: (*mut u8, CK_ULONG)| CK_SSL3_RANDOM_DATA {
            pClientRandom: b.0,
            ulClientRandomLen: b.1,
            pServerRandom: b.0,
            ulServerRandomLen: b.1,
        };
        let words: &mut [u64] = &mut self.param;
        let size: usize;
        // Fill the structure the mechanism expects, with random fields.
        macro_rules! put {
            ($t:ty, $v:expr) => {{
                let v: $t = $v;
                // SAFETY: `param` has 256 bytes, more than any parameter
                // structure used here.
                unsafe { ptr::write_unaligned(words.as_mut_ptr() as *mut $t, v) };
                size = core::mem::size_of::<$t>();
            }};
        }
        let ul = |s: &mut dyn FnMut() -> u64| s() % 512;
        let mut nx = || s.next();
        match m {
            CKM_AES_GCM => put!(
                CK_GCM_PARAMS,
                CK_GCM_PARAMS {
                    pIv: blobs[0].0,
                    ulIvLen: blobs[0].1,
                    ulIvBits: 96,
                    pAAD: blobs[1].0,
                    ulAADLen: blobs[1].1,
                    ulTagBits: [128, 96, 0][(nx() % 3) as usize],
                }
            ),
            CKM_CHACHA20_POLY1305 => put!(
                CK_SALSA20_CHACHA20_POLY1305_PARAMS,
                CK_SALSA20_CHACHA20_POLY1305_PARAMS {
                    pNonce: blobs[0].0,
                    ulNonceLen: blobs[0].1,
                    pAAD: blobs[1].0,
                    ulAADLen: blobs[1].1,
                }
            ),
            CKM_AES_CTR => put!(
                CK_AES_CTR_PARAMS,
                CK_AES_CTR_PARAMS {
                    ulCounterBits: ul(&mut nx) % 140,
                    cb: [7; 16],
                }
            ),
            CKM_ECDH1_DERIVE => put!(
                CK_ECDH1_DERIVE_PARAMS,
                CK_ECDH1_DERIVE_PARAMS {
                    kdf: nx() % 3,
                    ulSharedDataLen: blobs[0].1,
                    pSharedData: blobs[0].0,
                    ulPublicDataLen: blobs[1].1,
                    pPublicData: blobs[1].0,
                }
            ),
            CKM_TLS12_MASTER_KEY_DERIVE | CKM_TLS12_MASTER_KEY_DERIVE_DH => put!(
                CK_TLS12_MASTER_KEY_DERIVE_PARAMS,
                CK_TLS12_MASTER_KEY_DERIVE_PARAMS {
                    RandomInfo: random(blobs[0]),
                    pVersion: version,
                    prfHashMechanism: [CKM_SHA256, CKM_SHA384, CKM_MD5][(nx() % 3) as usize],
                }
            ),
            consts::CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256 => put!(
                CK_SSL3_MASTER_KEY_DERIVE_PARAMS,
                CK_SSL3_MASTER_KEY_DERIVE_PARAMS {
                    RandomInfo: random(blobs[0]),
                    pVersion: version,
                }
            ),
            CKM_TLS12_KEY_AND_MAC_DERIVE => put!(
                CK_TLS12_KEY_MAT_PARAMS,
                CK_TLS12_KEY_MAT_PARAMS {
                    ulMacSizeInBits: [0, 160, 256][(nx() % 3) as usize],
                    ulKeySizeInBits: [0, 128, 256][(nx() % 3) as usize],
                    ulIVSizeInBits: [0, 32, 128, 512][(nx() % 4) as usize],
                    bIsExport: (nx() % 2) as u8,
                    RandomInfo: random(blobs[0]),
                    pReturnedKeyMaterial: if nx() % 4 == 0 { ptr::null_mut() } else { km },
                    prfHashMechanism: CKM_SHA256,
                }
            ),
            consts::CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256 => put!(
                CK_SSL3_KEY_MAT_PARAMS,
                CK_SSL3_KEY_MAT_PARAMS {
                    ulMacSizeInBits: [0, 160, 256][(nx() % 3) as usize],
                    ulKeySizeInBits: [0, 128, 256][(nx() % 3) as usize],
                    ulIVSizeInBits: [0, 32, 128, 512][(nx() % 4) as usize],
                    bIsExport: (nx() % 2) as u8,
                    RandomInfo: random(blobs[0]),
                    pReturnedKeyMaterial: if nx() % 4 == 0 { ptr::null_mut() } else { km },
                }
            ),
            CKM_TLS12_MAC => put!(
                CK_TLS_MAC_PARAMS,
                CK_TLS_MAC_PARAMS {
                    prfHashMechanism: CKM_SHA256,
                    ulMacLength: ul(&mut nx) % 80,
                    ulServerOrClient: nx() % 4,
                }
            ),
            CKM_TLS12_KDF => put!(
                CK_TLS_KDF_PARAMS,
                CK_TLS_KDF_PARAMS {
                    prfMechanism: CKM_SHA256,
                    pLabel: blobs[0].0,
                    ulLabelLength: blobs[0].1,
                    RandomInfo: random(blobs[1]),
                    pContextData: blobs[2].0,
                    ulContextDataLength: blobs[2].1,
                }
            ),
            CKM_HKDF_DERIVE | CKM_HKDF_DATA => put!(
                CK_HKDF_PARAMS,
                CK_HKDF_PARAMS {
                    bExtract: (nx() % 2) as u8,
                    bExpand: (nx() % 2) as u8,
                    prfHashMechanism: CKM_SHA256,
                    ulSaltType: nx() % 5,
                    pSalt: blobs[0].0,
                    ulSaltLen: blobs[0].1,
                    hSaltKey: nx() % 8,
                    pInfo: blobs[1].0,
                    ulInfoLen: blobs[1].1,
                }
            ),
            CKM_TLS_PRE_MASTER_KEY_GEN => put!(
                CK_VERSION,
                CK_VERSION {
                    major: 3,
                    minor: nx() as u8,
                }
            ),
            // Byte-string parameters (IVs) and none.
            _ => {
                size = blobs[3].1.min(64) as usize;
                if !blobs[3].0.is_null() {
                    // SAFETY: both buffers hold at least 64 bytes.
                    unsafe {
                        ptr::copy_nonoverlapping(blobs[3].0, words.as_mut_ptr() as *mut u8, size)
                    };
                }
            }
        }
        // Wrong sizes and NULL parameters.
        let (p, len) = match s.below(6) {
            0 => (ptr::null_mut(), 0),
            1 => (ptr::null_mut(), size as CK_ULONG + 1),
            2 => (
                self.param.as_mut_ptr() as *mut _,
                size.saturating_sub(1) as CK_ULONG,
            ),
            3 => (
                self.param.as_mut_ptr() as *mut _,
                (size + 8).min(256) as CK_ULONG,
            ),
            _ => (self.param.as_mut_ptr() as *mut _, size as CK_ULONG),
        };
        CK_MECHANISM {
            mechanism: m,
            pParameter: p,
            ulParameterLen: len,
        }
    }
}

/// The driver's state: the session and the objects it knows.
pub struct Driver {
    pub slot: CK_SLOT_ID,
    pub session: CK_SESSION_HANDLE,
    pub objects: Vec<CK_OBJECT_HANDLE>,
}

impl Driver {
    fn handle(&self, s: &mut impl Source) -> CK_OBJECT_HANDLE {
        if !self.objects.is_empty() && s.below(4) != 0 {
            return self.objects[s.below(self.objects.len() as u64) as usize];
        }
        s.pick(&[0, 1, CK_INVALID_HANDLE, CK_ULONG::MAX, 0x7fff_ffff])
    }

    fn session(&self, s: &mut impl Source) -> CK_SESSION_HANDLE {
        if s.one_in(12) {
            s.pick(&[0, CK_ULONG::MAX, 1 << 40])
        } else {
            self.session
        }
    }

    /// One random call, checked.
    pub fn step(&mut self, s: &mut impl Source) {
        let mut a = Arena::new();
        let h = self.session(s);
        let mut out_handle: CK_OBJECT_HANDLE = 0;
        let out_ptr: *mut CK_OBJECT_HANDLE = if s.one_in(10) {
            ptr::null_mut()
        } else {
            &mut out_handle
        };
        let mut out = vec![0u8; 1024];
        let mut out_len: CK_ULONG = s.pick(&[0, 1, 12, 16, 64, 1024]);
        let (out_p, out_len_p): (*mut u8, *mut CK_ULONG) = match s.below(8) {
            0 => (ptr::null_mut(), ptr::null_mut()),
            1 => (out.as_mut_ptr(), ptr::null_mut()),
            2 => {
                out_len = s.pick(&[1 << 40, CK_ULONG::MAX]);
                (ptr::null_mut(), &mut out_len)
            }
            3 => (ptr::null_mut(), &mut out_len),
            _ => (out.as_mut_ptr(), &mut out_len),
        };
        let (data_p, data_len) = a.blob(s);
        // SAFETY (all calls below): every pointer is NULL or valid for the
        // length passed with it (see `Arena`).
        unsafe {
            match s.below(16) {
                0 => {
                    let (t, n) = a.template(s);
                    let rv = C_CreateObject(h, t, n, out_ptr);
                    allowed("C_CreateObject", rv, &[TEMPLATE]);
                    if rv == CKR_OK {
                        self.objects.push(out_handle);
                    }
                }
                1 => {
                    let (t, n) = a.template(s);
                    let rv = C_CopyObject(h, self.handle(s), t, n, out_ptr);
                    allowed(
                        "C_CopyObject",
                        rv,
                        &[
                            TEMPLATE,
                            &[CKR_ACTION_PROHIBITED, CKR_OBJECT_HANDLE_INVALID],
                        ],
                    );
                    if rv == CKR_OK {
                        self.objects.push(out_handle);
                    }
                }
                2 => {
                    if s.one_in(4) {
                        let o = self.handle(s);
                        let rv = C_DestroyObject(h, o);
                        allowed(
                            "C_DestroyObject",
                            rv,
                            &[&[
                                CKR_ACTION_PROHIBITED,
                                CKR_OBJECT_HANDLE_INVALID,
                                CKR_PIN_EXPIRED,
                                CKR_SESSION_READ_ONLY,
                                CKR_TOKEN_WRITE_PROTECTED,
                            ]],
                        );
                        if rv == CKR_OK {
                            self.objects.retain(|&x| x != o);
                        }
                    }
                }
                3 => {
                    // Output template: NULL values (length query), real
                    // 1 KiB buffers with any claimed length up to 1 KiB.
                    let n = s.below(5) as usize;
                    let mut bufs: Vec<Vec<u8>> = (0..n).map(|_| vec![0u8; 1024]).collect();
                    // Zeroed buffers: read as an attribute array, their
                    // elements are NULL values (length queries).
                    let mut t: Vec<CK_ATTRIBUTE> = bufs
                        .iter_mut()
                        .map(|b| CK_ATTRIBUTE {
                            type_: if s.one_in(6) {
                                s.pick(&[CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE])
                            } else {
                                s.pick(ATTRS)
                            },
                            pValue: if s.one_in(2) {
                                ptr::null_mut()
                            } else {
                                b.as_mut_ptr() as *mut _
                            },
                            ulValueLen: s.pick(&[0, 1, 8, 1024]),
                        })
                        .collect();
                    let tp = if n == 0 && s.one_in(2) {
                        ptr::null_mut()
                    } else {
                        t.as_mut_ptr()
                    };
                    let rv = C_GetAttributeValue(h, self.handle(s), tp, n as _);
                    allowed(
                        "C_GetAttributeValue",
                        rv,
                        &[&[
                            CKR_ATTRIBUTE_SENSITIVE,
                            CKR_ATTRIBUTE_TYPE_INVALID,
                            CKR_BUFFER_TOO_SMALL,
                            CKR_OBJECT_HANDLE_INVALID,
                        ]],
                    );
                }
                4 => {
                    let (t, n) = a.template(s);
                    let rv = C_SetAttributeValue(h, self.handle(s), t, n);
                    allowed(
                        "C_SetAttributeValue",
                        rv,
                        &[
                            TEMPLATE,
                            &[CKR_ACTION_PROHIBITED, CKR_OBJECT_HANDLE_INVALID],
                        ],
                    );
                }
                5 => {
                    let (t, n) = a.template(s);
                    let rv = C_FindObjectsInit(h, t, n);
                    allowed(
                        "C_FindObjectsInit",
                        rv,
                        &[&[
                            CKR_ATTRIBUTE_TYPE_INVALID,
                            CKR_ATTRIBUTE_VALUE_INVALID,
                            CKR_OPERATION_ACTIVE,
                            CKR_PIN_EXPIRED,
                        ]],
                    );
                    let mut found = [0 as CK_OBJECT_HANDLE; 8];
                    let mut count: CK_ULONG = 0;
                    let fp = if s.one_in(6) {
                        ptr::null_mut()
                    } else {
                        found.as_mut_ptr()
                    };
                    let rv = C_FindObjects(h, fp, s.below(9), &mut count);
                    allowed("C_FindObjects", rv, &[&[CKR_OPERATION_NOT_INITIALIZED]]);
                    let rv = C_FindObjectsFinal(h);
                    allowed(
                        "C_FindObjectsFinal",
                        rv,
                        &[&[CKR_OPERATION_NOT_INITIALIZED]],
                    );
                }
                6..=9 => {
                    let mut m = a.mechanism(s);
                    let mp: *mut CK_MECHANISM = if s.one_in(15) {
                        ptr::null_mut()
                    } else {
                        &mut m
                    };
                    let key = self.handle(s);
                    let which = s.below(5);
                    let rv = match which {
                        0 => C_EncryptInit(h, mp, key),
                        1 => C_DecryptInit(h, mp, key),
                        2 => C_SignInit(h, mp, key),
                        3 => C_VerifyInit(h, mp, key),
                        _ => C_DigestInit(h, mp),
                    };
                    allowed("C_*Init", rv, &[KEY_INIT]);
                    if rv == CKR_OK {
                        let data = if data_p.is_null() {
                            ptr::null_mut()
                        } else {
                            data_p
                        };
                        let rv = match which {
                            0 => C_Encrypt(h, data, data_len, out_p, out_len_p),
                            1 => C_Decrypt(h, data, data_len, out_p, out_len_p),
                            2 => C_Sign(h, data, data_len, out_p, out_len_p),
                            3 => C_Verify(h, data, data_len, out.as_mut_ptr(), s.below(80)),
                            _ => C_Digest(h, data, data_len, out_p, out_len_p),
                        };
                        allowed(
                            "C_Encrypt/Decrypt/Sign/Verify/Digest",
                            rv,
                            &[&[
                                CKR_BUFFER_TOO_SMALL,
                                CKR_DATA_INVALID,
                                CKR_DATA_LEN_RANGE,
                                CKR_ENCRYPTED_DATA_INVALID,
                                CKR_ENCRYPTED_DATA_LEN_RANGE,
                                CKR_AEAD_DECRYPT_FAILED,
                                CKR_FUNCTION_REJECTED,
                                CKR_OPERATION_NOT_INITIALIZED,
                                CKR_SIGNATURE_INVALID,
                                CKR_SIGNATURE_LEN_RANGE,
                                CKR_USER_NOT_LOGGED_IN,
                            ]],
                        );
                    }
                }
                10 | 11 => {
                    let mut m = a.mechanism(s);
                    let (t, n) = a.template(s);
                    let rv = C_GenerateKey(h, &mut m, t, n, out_ptr);
                    allowed(
                        "C_GenerateKey",
                        rv,
                        &[
                            TEMPLATE,
                            &[
                                CKR_MECHANISM_INVALID,
                                CKR_MECHANISM_PARAM_INVALID,
                                CKR_OPERATION_ACTIVE,
                            ],
                        ],
                    );
                    if rv == CKR_OK {
                        self.objects.push(out_handle);
                    }
                }
                12 | 13 => {
                    let mut m = a.mechanism(s);
                    let (t, n) = a.template(s);
                    let rv = C_DeriveKey(h, &mut m, self.handle(s), t, n, out_ptr);
                    allowed("C_DeriveKey", rv, &[TEMPLATE, KEY_INIT]);
                    if rv == CKR_OK && !out_ptr.is_null() && out_handle != 0 {
                        self.objects.push(out_handle);
                    }
                }
                14 => {
                    let mut m = a.mechanism(s);
                    let rv = C_WrapKey(h, &mut m, self.handle(s), self.handle(s), out_p, out_len_p);
                    allowed(
                        "C_WrapKey",
                        rv,
                        &[
                            KEY_INIT,
                            &[
                                CKR_BUFFER_TOO_SMALL,
                                CKR_KEY_NOT_WRAPPABLE,
                                CKR_KEY_UNEXTRACTABLE,
                                CKR_WRAPPING_KEY_HANDLE_INVALID,
                                CKR_WRAPPING_KEY_SIZE_RANGE,
                                CKR_WRAPPING_KEY_TYPE_INCONSISTENT,
                            ],
                        ],
                    );
                }
                _ => {
                    let mut m = a.mechanism(s);
                    let (t, n) = a.template(s);
                    let rv =
                        C_UnwrapKey(h, &mut m, self.handle(s), data_p, data_len, t, n, out_ptr);
                    allowed(
                        "C_UnwrapKey",
                        rv,
                        &[
                            TEMPLATE,
                            KEY_INIT,
                            &[
                                CKR_BUFFER_TOO_SMALL,
                                CKR_UNWRAPPING_KEY_HANDLE_INVALID,
                                CKR_UNWRAPPING_KEY_SIZE_RANGE,
                                CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT,
                                CKR_WRAPPED_KEY_INVALID,
                                CKR_WRAPPED_KEY_LEN_RANGE,
                            ],
                        ],
                    );
                    if rv == CKR_OK {
                        self.objects.push(out_handle);
                    }
                }
            }
        }
    }
}
