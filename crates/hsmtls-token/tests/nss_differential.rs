//! Differential tests of the TLS 1.2 and HKDF mechanisms against NSS's
//! softoken (DESIGN.md, "Tests"; issue 3): the built `libhsmtls_token.so`
//! and Debian's `libsoftokn3.so` are both loaded as plain PKCS#11 modules
//! and driven through their raw `CK_FUNCTION_LIST`s by the same code; the
//! same inputs must give byte-identical outputs:
//!
//! - `CKM_TLS12_MASTER_KEY_DERIVE` (RSA-style 48-byte pre-master, version
//!   reported) and `_DH` (ECDHE-sized pre-masters): the master secrets,
//!   compared as values (extractable copies) and through both Finished MACs
//!   (`CKM_TLS_MAC`, "client finished" / "server finished");
//! - NSS's `CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE(_DH)` on both sides, and
//!   our PKCS#11 3.2 `CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE` against NSS's;
//! - `CKM_TLS12_KEY_AND_MAC_DERIVE` key blocks — MAC keys, cipher keys and
//!   IVs — for AES-GCM and AES-CBC-HMAC suite shapes with the SHA-256 and
//!   SHA-384 PRFs;
//! - an RFC 5705 exporter value: `CKM_NSS_TLS_PRF_GENERAL_SHA256` on both,
//!   and our `CKM_TLS12_KDF` (which NSS lacks) against NSS's PRF;
//! - `CKM_HKDF_DERIVE` (extract+expand, extract, expand; salt as data, as a
//!   key, none) and `CKM_HKDF_DATA`, on the RFC 5869 inputs (whose outputs
//!   are checked too) and with SHA-384/512.
//!
//! The NSS module is skipped with a message when absent, except under
//! `CI=true` (`.ci/run` installs libnss3), where its absence fails.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::path::Path;
use std::ptr;
use std::sync::{Mutex, MutexGuard, OnceLock};

use cryptoki_sys::*;

const NSS_SOFTOKEN: &str = "/usr/lib/x86_64-linux-gnu/libsoftokn3.so";
/// NSS softoken without databases (`/work/shared/PEERS.md`).
const NSS_INIT: &str = "configdir='' certPrefix='' keyPrefix='' secmod='' \
                        flags=noCertDB,noModDB,forceOpen,optimizeSpace";

/// NSS's vendor prefix (`pkcs11n.h`: `CKM_VENDOR_DEFINED | "NSCP"`).
const CKM_NSS: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED | 0x4E53_4350;
const CKM_NSS_TLS_PRF_GENERAL_SHA256: CK_MECHANISM_TYPE = CKM_NSS + 21;
const CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE: CK_MECHANISM_TYPE = CKM_NSS + 25;
const CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH: CK_MECHANISM_TYPE = CKM_NSS + 26;

const SO_PIN: &[u8] = b"so-pin-differential";
const USER_PIN: &[u8] = b"user-pin-differential";

/// A loaded, initialised module with one open session.
struct Module {
    name: &'static str,
    f: *const CK_FUNCTION_LIST,
    session: CK_SESSION_HANDLE,
    _lib: libloading::Library,
}

// SAFETY: both modules are initialised with CKF_OS_LOCKING_OK; every use
// goes through the mutex of `modules()` anyway.
unsafe impl Send for Module {}
// SAFETY: as for Send.
unsafe impl Sync for Module {}

macro_rules! ck {
    ($m:expr, $name:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: `f` is the module's static function list, valid while
        // the library stays loaded (it is owned by the Module); the
        // arguments are valid for the call by construction at each site.
        unsafe {
            ((*$m.f)
                .$name
                .unwrap_or_else(|| panic!("{}: no {}", $m.name, stringify!($name))))(
                $($arg),*
            )
        }
    }};
}

fn check(m: &Module, what: &str, rv: CK_RV) {
    assert_eq!(rv, CKR_OK, "{}: {what} returned {rv:#x}", m.name);
}

/// An owned attribute template.
#[derive(Default)]
struct Tpl {
    values: Vec<Vec<u8>>,
    attrs: Vec<CK_ATTRIBUTE>,
}

impl Tpl {
    fn bytes(mut self, t: CK_ATTRIBUTE_TYPE, v: &[u8]) -> Self {
        self.values.push(v.to_vec());
        let last = self.values.last_mut().unwrap();
        self.attrs.push(CK_ATTRIBUTE {
            type_: t,
            pValue: last.as_mut_ptr() as *mut c_void,
            ulValueLen: v.len() as CK_ULONG,
        });
        self
    }
    fn ulong(self, t: CK_ATTRIBUTE_TYPE, v: CK_ULONG) -> Self {
        self.bytes(t, &v.to_ne_bytes())
    }
    fn bool(self, t: CK_ATTRIBUTE_TYPE, v: bool) -> Self {
        self.bytes(t, &[u8::from(v)])
    }
}

/// A readable generic secret usable for everything a test derives or MACs.
fn open_secret() -> Tpl {
    Tpl::default()
        .ulong(CKA_CLASS, CKO_SECRET_KEY)
        .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
        .bool(CKA_TOKEN, false)
        .bool(CKA_SENSITIVE, false)
        .bool(CKA_EXTRACTABLE, true)
        .bool(CKA_DERIVE, true)
        .bool(CKA_SIGN, true)
        .bool(CKA_VERIFY, true)
}

fn mech<T>(m: CK_MECHANISM_TYPE, p: &mut T) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: m,
        pParameter: p as *mut T as *mut c_void,
        ulParameterLen: std::mem::size_of::<T>() as CK_ULONG,
    }
}

impl Module {
    /// Loads `path`, calls `C_Initialize` (with `reserved` as NSS's
    /// configuration string) and opens a R/W session on the first slot
    /// with a token.
    fn load(name: &'static str, path: &Path, reserved: Option<&str>) -> Module {
        // SAFETY: loading a PKCS#11 module runs its initialisers; these
        // are the modules under test.
        let lib = unsafe { libloading::Library::new(path) }
            .unwrap_or_else(|e| panic!("{name}: load {}: {e}", path.display()));
        let mut f: CK_FUNCTION_LIST_PTR = ptr::null_mut();
        {
            // SAFETY: C_GetFunctionList has this signature (PKCS#11 §5.2).
            let get: libloading::Symbol<
                '_,
                unsafe extern "C" fn(CK_FUNCTION_LIST_PTR_PTR) -> CK_RV,
            > = unsafe { lib.get(b"C_GetFunctionList\0") }.unwrap();
            // SAFETY: a valid out pointer.
            assert_eq!(unsafe { get(&mut f) }, CKR_OK, "{name}: C_GetFunctionList");
        }
        assert!(!f.is_null());
        let mut m = Module {
            name,
            f,
            session: 0,
            _lib: lib,
        };
        let reserved = reserved.map(|r| format!("{r}\0"));
        let mut args = CK_C_INITIALIZE_ARGS {
            CreateMutex: None,
            DestroyMutex: None,
            LockMutex: None,
            UnlockMutex: None,
            flags: CKF_OS_LOCKING_OK,
            pReserved: reserved
                .as_ref()
                .map_or(ptr::null_mut(), |r| r.as_ptr() as *mut c_void),
        };
        check(
            &m,
            "C_Initialize",
            ck!(m, C_Initialize(&mut args as *mut _ as *mut c_void)),
        );
        let mut n: CK_ULONG = 0;
        check(
            &m,
            "C_GetSlotList",
            ck!(m, C_GetSlotList(CK_TRUE, ptr::null_mut(), &mut n)),
        );
        let mut slots = vec![0; n as usize];
        check(
            &m,
            "C_GetSlotList",
            ck!(m, C_GetSlotList(CK_TRUE, slots.as_mut_ptr(), &mut n)),
        );
        assert!(n > 0, "{name}: no slot with a token");
        let slot = slots[0];
        if reserved.is_none() {
            m.init_token(slot);
        }
        let mut session = 0;
        let rv = ck!(
            m,
            C_OpenSession(
                slot,
                CKF_SERIAL_SESSION | CKF_RW_SESSION,
                ptr::null_mut(),
                None,
                &mut session
            )
        );
        check(&m, "C_OpenSession", rv);
        m.session = session;
        if reserved.is_none() {
            check(
                &m,
                "C_Login(user)",
                ck!(
                    m,
                    C_Login(
                        m.session,
                        CKU_USER,
                        USER_PIN.as_ptr() as *mut _,
                        USER_PIN.len() as CK_ULONG
                    )
                ),
            );
        }
        m
    }

    /// Our token: initialise the free token with SO and user PINs.
    fn init_token(&self, slot: CK_SLOT_ID) {
        let mut label = [b' '; 32];
        label[..12].copy_from_slice(b"differential");
        check(
            self,
            "C_InitToken",
            ck!(
                self,
                C_InitToken(
                    slot,
                    SO_PIN.as_ptr() as *mut _,
                    SO_PIN.len() as CK_ULONG,
                    label.as_mut_ptr()
                )
            ),
        );
        let mut h = 0;
        check(
            self,
            "C_OpenSession",
            ck!(
                self,
                C_OpenSession(
                    slot,
                    CKF_SERIAL_SESSION | CKF_RW_SESSION,
                    ptr::null_mut(),
                    None,
                    &mut h
                )
            ),
        );
        check(
            self,
            "C_Login(SO)",
            ck!(
                self,
                C_Login(
                    h,
                    CKU_SO,
                    SO_PIN.as_ptr() as *mut _,
                    SO_PIN.len() as CK_ULONG
                )
            ),
        );
        check(
            self,
            "C_InitPIN",
            ck!(
                self,
                C_InitPIN(h, USER_PIN.as_ptr() as *mut _, USER_PIN.len() as CK_ULONG)
            ),
        );
        check(self, "C_CloseSession", ck!(self, C_CloseSession(h)));
    }

    fn create(&self, mut t: Tpl) -> CK_OBJECT_HANDLE {
        let mut o = 0;
        check(
            self,
            "C_CreateObject",
            ck!(
                self,
                C_CreateObject(
                    self.session,
                    t.attrs.as_mut_ptr(),
                    t.attrs.len() as CK_ULONG,
                    &mut o
                )
            ),
        );
        o
    }

    /// A readable generic secret with `value`.
    fn secret(&self, value: &[u8]) -> CK_OBJECT_HANDLE {
        self.create(open_secret().bytes(CKA_VALUE, value))
    }

    fn derive(
        &self,
        m: &mut CK_MECHANISM,
        base: CK_OBJECT_HANDLE,
        mut t: Tpl,
    ) -> Result<CK_OBJECT_HANDLE, CK_RV> {
        let mut o = 0;
        match ck!(
            self,
            C_DeriveKey(
                self.session,
                m,
                base,
                t.attrs.as_mut_ptr(),
                t.attrs.len() as CK_ULONG,
                &mut o
            )
        ) {
            CKR_OK => Ok(o),
            rv => Err(rv),
        }
    }

    /// `derive`, which must succeed.
    fn derive_ok(
        &self,
        what: &str,
        m: &mut CK_MECHANISM,
        base: CK_OBJECT_HANDLE,
        t: Tpl,
    ) -> CK_OBJECT_HANDLE {
        self.derive(m, base, t)
            .unwrap_or_else(|rv| panic!("{}: C_DeriveKey({what}) returned {rv:#x}", self.name))
    }

    fn value(&self, o: CK_OBJECT_HANDLE) -> Vec<u8> {
        let mut a = CK_ATTRIBUTE {
            type_: CKA_VALUE,
            pValue: ptr::null_mut(),
            ulValueLen: 0,
        };
        check(
            self,
            "C_GetAttributeValue(CKA_VALUE)",
            ck!(self, C_GetAttributeValue(self.session, o, &mut a, 1)),
        );
        let mut v = vec![0u8; a.ulValueLen as usize];
        a.pValue = v.as_mut_ptr() as *mut c_void;
        check(
            self,
            "C_GetAttributeValue(CKA_VALUE)",
            ck!(self, C_GetAttributeValue(self.session, o, &mut a, 1)),
        );
        v.truncate(a.ulValueLen as usize);
        v
    }

    /// A single-part `C_Sign` into a buffer of exactly `len` bytes.
    fn sign(
        &self,
        m: &mut CK_MECHANISM,
        key: CK_OBJECT_HANDLE,
        data: &[u8],
        len: usize,
    ) -> Vec<u8> {
        check(
            self,
            "C_SignInit",
            ck!(self, C_SignInit(self.session, m, key)),
        );
        let mut out = vec![0u8; len];
        let mut n = len as CK_ULONG;
        check(
            self,
            "C_Sign",
            ck!(
                self,
                C_Sign(
                    self.session,
                    data.as_ptr() as *mut u8,
                    data.len() as CK_ULONG,
                    out.as_mut_ptr(),
                    &mut n
                )
            ),
        );
        out.truncate(n as usize);
        out
    }

    fn destroy(&self, o: CK_OBJECT_HANDLE) {
        check(
            self,
            "C_DestroyObject",
            ck!(self, C_DestroyObject(self.session, o)),
        );
    }
}

struct Modules {
    ours: Module,
    nss: Module,
}

/// Both modules, loaded once per test binary; `None` (after a message)
/// when NSS softoken is not installed outside CI.
fn modules() -> Option<MutexGuard<'static, Modules>> {
    static M: OnceLock<Option<Mutex<Modules>>> = OnceLock::new();
    let m = M.get_or_init(|| {
        if !Path::new(NSS_SOFTOKEN).exists() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{NSS_SOFTOKEN} missing under CI (.ci/run installs libnss3)");
            }
            eprintln!("SKIP: {NSS_SOFTOKEN} not installed (apt-get install libnss3)");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("hsmtls-token-nssdiff-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("token.conf");
        std::fs::write(
            &conf,
            format!("new_tokens = {}\npin_iterations = 1000\n", dir.display()),
        )
        .unwrap();
        std::env::set_var("HSMTLS_TOKEN_CONF", &conf);
        let ours = Module::load("hsmtls-token", &hsmtls_interop::hsmtls_token_module(), None);
        let nss = Module::load("NSS softoken", Path::new(NSS_SOFTOKEN), Some(NSS_INIT));
        Some(Mutex::new(Modules { ours, nss }))
    });
    m.as_ref()
        .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Deterministic test bytes.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

struct Hello {
    client: [u8; 32],
    server: [u8; 32],
}

impl Hello {
    fn new() -> Self {
        let mut client = [0u8; 32];
        let mut server = [0u8; 32];
        client.copy_from_slice(&pattern(32, 0xc1));
        server.copy_from_slice(&pattern(32, 0x5e));
        Self { client, server }
    }
    fn randoms(&mut self) -> CK_SSL3_RANDOM_DATA {
        CK_SSL3_RANDOM_DATA {
            pClientRandom: self.client.as_mut_ptr(),
            ulClientRandomLen: 32,
            pServerRandom: self.server.as_mut_ptr(),
            ulServerRandomLen: 32,
        }
    }
}

fn hash_len(prf: CK_MECHANISM_TYPE) -> usize {
    match prf {
        CKM_SHA256 => 32,
        CKM_SHA384 => 48,
        _ => 64,
    }
}

/// Both Finished MACs (`CKM_TLS_MAC`, 12 bytes) of a master secret over a
/// handshake hash: [client, server].
fn finished(m: &Module, master: CK_OBJECT_HANDLE, prf: CK_MECHANISM_TYPE) -> [Vec<u8>; 2] {
    let transcript = pattern(hash_len(prf), 0x7a);
    [2, 1].map(|side| {
        let mut p = CK_TLS_MAC_PARAMS {
            prfHashMechanism: prf,
            ulMacLength: 12,
            ulServerOrClient: side,
        };
        m.sign(&mut mech(CKM_TLS_MAC, &mut p), master, &transcript, 12)
    })
}

/// `CKM_TLS12_MASTER_KEY_DERIVE(_DH)`: (master handle, version if asked).
fn tls12_master(
    m: &Module,
    pms: CK_OBJECT_HANDLE,
    prf: CK_MECHANISM_TYPE,
    dh: bool,
) -> (CK_OBJECT_HANDLE, Option<(u8, u8)>) {
    let mut hello = Hello::new();
    let mut version = CK_VERSION { major: 0, minor: 0 };
    let mut p = CK_TLS12_MASTER_KEY_DERIVE_PARAMS {
        RandomInfo: hello.randoms(),
        pVersion: if dh { ptr::null_mut() } else { &mut version },
        prfHashMechanism: prf,
    };
    let mechanism = if dh {
        CKM_TLS12_MASTER_KEY_DERIVE_DH
    } else {
        CKM_TLS12_MASTER_KEY_DERIVE
    };
    let ms = m.derive_ok(
        "TLS12_MASTER_KEY_DERIVE",
        &mut mech(mechanism, &mut p),
        pms,
        open_secret(),
    );
    (ms, (!dh).then_some((version.major, version.minor)))
}

/// The extended master secret (RFC 7627) through `mechanism`.
fn ems_master(
    m: &Module,
    pms: CK_OBJECT_HANDLE,
    prf: CK_MECHANISM_TYPE,
    mechanism: CK_MECHANISM_TYPE,
    session_hash: &[u8],
    dh: bool,
) -> (CK_OBJECT_HANDLE, Option<(u8, u8)>) {
    let mut sh = session_hash.to_vec();
    let mut version = CK_VERSION { major: 0, minor: 0 };
    // NSS's CK_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_PARAMS has this layout.
    let mut p = CK_TLS12_EXTENDED_MASTER_KEY_DERIVE_PARAMS {
        prfHashMechanism: prf,
        pSessionHash: sh.as_mut_ptr(),
        ulSessionHashLen: sh.len() as CK_ULONG,
        pVersion: if dh { ptr::null_mut() } else { &mut version },
    };
    let ms = m.derive_ok(
        "extended master secret",
        &mut mech(mechanism, &mut p),
        pms,
        open_secret(),
    );
    (ms, (!dh).then_some((version.major, version.minor)))
}

/// Everything that leaves a module about one master secret: its value and
/// both Finished MACs.
fn observe_master(
    m: &Module,
    ms: CK_OBJECT_HANDLE,
    prf: CK_MECHANISM_TYPE,
) -> (Vec<u8>, [Vec<u8>; 2]) {
    let v = m.value(ms);
    assert_eq!(v.len(), 48, "{}", m.name);
    let f = finished(m, ms, prf);
    assert!(f.iter().all(|mac| mac.len() == 12), "{}", m.name);
    assert_ne!(f[0], f[1]);
    (v, f)
}

#[test]
fn tls12_master_secret_and_finished_macs() {
    let Some(mods) = modules() else { return };
    let mut pms = pattern(48, 0x33);
    pms[..2].copy_from_slice(&[3, 3]);
    for prf in [CKM_SHA256, CKM_SHA384] {
        // RSA key exchange: 48-byte pre-master, version reported.
        let seen = [&mods.ours, &mods.nss].map(|m| {
            let base = m.secret(&pms);
            let (ms, version) = tls12_master(m, base, prf, false);
            assert_eq!(version, Some((3, 3)), "{}", m.name);
            let out = observe_master(m, ms, prf);
            m.destroy(ms);
            m.destroy(base);
            out
        });
        assert_eq!(seen[0], seen[1], "TLS12_MASTER_KEY_DERIVE prf {prf:#x}");
        // (EC)DHE: pre-masters of the sizes of X25519/P-256, P-384, P-521.
        for len in [32, 48, 66] {
            let z = pattern(len, 0x44);
            let seen = [&mods.ours, &mods.nss].map(|m| {
                let base = m.secret(&z);
                let (ms, _) = tls12_master(m, base, prf, true);
                let out = observe_master(m, ms, prf);
                m.destroy(ms);
                m.destroy(base);
                out
            });
            assert_eq!(
                seen[0], seen[1],
                "TLS12_MASTER_KEY_DERIVE_DH prf {prf:#x} len {len}"
            );
        }
    }
}

#[test]
fn extended_master_secret() {
    let Some(mods) = modules() else { return };
    let mut pms = pattern(48, 0x21);
    pms[..2].copy_from_slice(&[3, 3]);
    let z = pattern(32, 0x99);
    for prf in [CKM_SHA256, CKM_SHA384] {
        let session_hash = pattern(hash_len(prf), 0x5a);
        for (dh, secret) in [(false, &pms), (true, &z)] {
            let nss_mech = if dh {
                CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH
            } else {
                CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE
            };
            let seen = [&mods.ours, &mods.nss].map(|m| {
                let base = m.secret(secret);
                let (ms, version) = ems_master(m, base, prf, nss_mech, &session_hash, dh);
                if !dh {
                    assert_eq!(version, Some((3, 3)), "{}", m.name);
                }
                let out = observe_master(m, ms, prf);
                m.destroy(ms);
                m.destroy(base);
                out
            });
            assert_eq!(seen[0], seen[1], "NSS EMS prf {prf:#x} dh {dh}");
            // Our PKCS#11 3.2 numbering gives NSS's value.
            let ours_std = {
                let m = &mods.ours;
                let base = m.secret(secret);
                let std_mech = if dh {
                    CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH
                } else {
                    CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE
                };
                let (ms, _) = ems_master(m, base, prf, std_mech, &session_hash, dh);
                let out = observe_master(m, ms, prf);
                m.destroy(ms);
                m.destroy(base);
                out
            };
            assert_eq!(ours_std, seen[1], "TLS12 EMS prf {prf:#x} dh {dh}");
            // And EMS is not the plain master secret.
            let plain = {
                let m = &mods.nss;
                let base = m.secret(secret);
                let (ms, _) = tls12_master(m, base, prf, dh);
                let v = m.value(ms);
                m.destroy(ms);
                m.destroy(base);
                v
            };
            assert_ne!(plain, seen[1].0);
        }
    }
}

/// One `CKM_TLS12_KEY_AND_MAC_DERIVE` key block as it leaves a module:
/// MAC keys, cipher keys, IVs (client, server each).
type KeyBlock = (Vec<Vec<u8>>, Vec<Vec<u8>>, [Vec<u8>; 2]);

fn key_block(
    m: &Module,
    master: CK_OBJECT_HANDLE,
    prf: CK_MECHANISM_TYPE,
    (mac_bits, key_bits, iv_bits): (CK_ULONG, CK_ULONG, CK_ULONG),
) -> KeyBlock {
    let mut hello = Hello::new();
    let mut civ = [0u8; 16];
    let mut siv = [0u8; 16];
    let mut out = CK_SSL3_KEY_MAT_OUT {
        hClientMacSecret: 0,
        hServerMacSecret: 0,
        hClientKey: 0,
        hServerKey: 0,
        pIVClient: civ.as_mut_ptr(),
        pIVServer: siv.as_mut_ptr(),
    };
    let mut p = CK_TLS12_KEY_MAT_PARAMS {
        ulMacSizeInBits: mac_bits,
        ulKeySizeInBits: key_bits,
        ulIVSizeInBits: iv_bits,
        bIsExport: CK_FALSE,
        RandomInfo: hello.randoms(),
        pReturnedKeyMaterial: &mut out,
        prfHashMechanism: prf,
    };
    // NSS takes the cipher key length from CKA_VALUE_LEN (without it, it
    // derives no cipher keys); ours checks it against ulKeySizeInBits.
    let tpl = Tpl::default()
        .ulong(CKA_CLASS, CKO_SECRET_KEY)
        .ulong(CKA_KEY_TYPE, CKK_AES)
        .ulong(CKA_VALUE_LEN, key_bits / 8)
        .bool(CKA_TOKEN, false)
        .bool(CKA_SENSITIVE, false)
        .bool(CKA_EXTRACTABLE, true)
        .bool(CKA_ENCRYPT, true)
        .bool(CKA_DECRYPT, true);
    m.derive_ok(
        "TLS12_KEY_AND_MAC_DERIVE",
        &mut mech(CKM_TLS12_KEY_AND_MAC_DERIVE, &mut p),
        master,
        tpl,
    );
    let macs = if mac_bits > 0 {
        [out.hClientMacSecret, out.hServerMacSecret]
            .iter()
            .map(|&h| {
                let v = m.value(h);
                m.destroy(h);
                v
            })
            .collect()
    } else {
        // NSS makes empty MAC keys for AEAD shapes; ours makes none.
        for h in [out.hClientMacSecret, out.hServerMacSecret] {
            if h != CK_INVALID_HANDLE {
                m.destroy(h);
            }
        }
        Vec::new()
    };
    let keys = [out.hClientKey, out.hServerKey]
        .iter()
        .map(|&h| {
            let v = m.value(h);
            m.destroy(h);
            v
        })
        .collect();
    let n = iv_bits as usize / 8;
    (macs, keys, [civ[..n].to_vec(), siv[..n].to_vec()])
}

#[test]
fn tls12_key_blocks_for_gcm_and_cbc_suites() {
    let Some(mods) = modules() else { return };
    let mut pms = pattern(48, 0x17);
    pms[..2].copy_from_slice(&[3, 3]);
    // (PRF, (MAC, key, IV) bits): AES-128-GCM-SHA256, AES-128-CBC-SHA256,
    // AES-256-GCM-SHA384, AES-256-CBC-SHA384, AES-128-CBC-SHA with the
    // TLS 1.2 PRF.
    let suites: [(CK_MECHANISM_TYPE, (CK_ULONG, CK_ULONG, CK_ULONG)); 5] = [
        (CKM_SHA256, (0, 128, 32)),
        (CKM_SHA256, (256, 128, 128)),
        (CKM_SHA384, (0, 256, 32)),
        (CKM_SHA384, (384, 256, 128)),
        (CKM_SHA256, (160, 128, 128)),
    ];
    for (prf, shape) in suites {
        let seen = [&mods.ours, &mods.nss].map(|m| {
            let base = m.secret(&pms);
            let (ms, _) = tls12_master(m, base, prf, false);
            let block = key_block(m, ms, prf, shape);
            m.destroy(ms);
            m.destroy(base);
            block
        });
        let (macs, keys, ivs) = &seen[0];
        assert_eq!(macs.len(), if shape.0 > 0 { 2 } else { 0 });
        assert!(macs.iter().all(|k| k.len() * 8 == shape.0 as usize));
        assert!(keys.iter().all(|k| k.len() * 8 == shape.1 as usize));
        assert!(ivs.iter().all(|iv| iv.len() * 8 == shape.2 as usize));
        assert_ne!(keys[0], keys[1]);
        assert_eq!(seen[0], seen[1], "key block prf {prf:#x} shape {shape:?}");
    }
}

/// RFC 5705 exporter input: label || client_random || server_random
/// [|| uint16 length || context].
fn exporter_seed(label: &[u8], context: Option<&[u8]>) -> Vec<u8> {
    let hello = Hello::new();
    let mut s = label.to_vec();
    s.extend_from_slice(&hello.client);
    s.extend_from_slice(&hello.server);
    if let Some(c) = context {
        s.extend_from_slice(&(c.len() as u16).to_be_bytes());
        s.extend_from_slice(c);
    }
    s
}

#[test]
fn exporter_values() {
    let Some(mods) = modules() else { return };
    let mut pms = pattern(48, 0x61);
    pms[..2].copy_from_slice(&[3, 3]);
    let label = b"EXPORTER-hsmtls-differential";
    let context = b"some context";
    for ctx in [None, Some(&context[..])] {
        let seed = exporter_seed(label, ctx);
        // CKM_NSS_TLS_PRF_GENERAL_SHA256 on both: the output is as long as
        // the caller's buffer.
        let seen = [&mods.ours, &mods.nss].map(|m| {
            let base = m.secret(&pms);
            let (ms, _) = tls12_master(m, base, CKM_SHA256, false);
            let mut none = CK_MECHANISM {
                mechanism: CKM_NSS_TLS_PRF_GENERAL_SHA256,
                pParameter: ptr::null_mut(),
                ulParameterLen: 0,
            };
            let v = m.sign(&mut none, ms, &seed, 48);
            m.destroy(ms);
            m.destroy(base);
            v
        });
        assert_eq!(seen[0].len(), 48);
        assert_eq!(seen[0], seen[1], "PRF_GENERAL exporter, context {ctx:?}");

        // Our CKM_TLS12_KDF (NSS has none) gives NSS's PRF value.
        let m = &mods.ours;
        let base = m.secret(&pms);
        let (ms, _) = tls12_master(m, base, CKM_SHA256, false);
        let mut hello = Hello::new();
        let mut l = label.to_vec();
        let mut c = ctx.map(<[u8]>::to_vec);
        let mut p = CK_TLS_KDF_PARAMS {
            prfMechanism: CKM_SHA256,
            pLabel: l.as_mut_ptr(),
            ulLabelLength: l.len() as CK_ULONG,
            RandomInfo: hello.randoms(),
            pContextData: c.as_mut().map_or(ptr::null_mut(), |c| c.as_mut_ptr()),
            ulContextDataLength: c.as_ref().map_or(0, |c| c.len() as CK_ULONG),
        };
        let k = m.derive_ok(
            "TLS12_KDF",
            &mut mech(CKM_TLS12_KDF, &mut p),
            ms,
            open_secret().ulong(CKA_VALUE_LEN, 48),
        );
        assert_eq!(m.value(k), seen[1], "TLS12_KDF vs NSS PRF, context {ctx:?}");
        m.destroy(k);
        m.destroy(ms);
        m.destroy(base);
    }
}

/// `CK_HKDF_PARAMS` with owned salt and info.
struct Hkdf {
    extract: bool,
    expand: bool,
    prf: CK_MECHANISM_TYPE,
    salt: Salt,
    info: Vec<u8>,
}

#[derive(Clone)]
enum Salt {
    Null,
    Data(Vec<u8>),
    /// A generic secret with this value, created in each module.
    Key(Vec<u8>),
}

impl Hkdf {
    /// Runs `mechanism` (`CKM_HKDF_DERIVE` or `CKM_HKDF_DATA`) in `m` from
    /// a base key with `ikm`; the output value.
    fn run(&self, m: &Module, mechanism: CK_MECHANISM_TYPE, ikm: &[u8], len: usize) -> Vec<u8> {
        let base = m.secret(ikm);
        let mut salt = match &self.salt {
            Salt::Data(s) => s.clone(),
            _ => Vec::new(),
        };
        let salt_key = match &self.salt {
            Salt::Key(v) => m.secret(v),
            _ => CK_INVALID_HANDLE,
        };
        let mut info = self.info.clone();
        let mut p = CK_HKDF_PARAMS {
            bExtract: self.extract.into(),
            bExpand: self.expand.into(),
            prfHashMechanism: self.prf,
            ulSaltType: match self.salt {
                Salt::Null => CKF_HKDF_SALT_NULL,
                Salt::Data(_) => CKF_HKDF_SALT_DATA,
                Salt::Key(_) => CKF_HKDF_SALT_KEY,
            },
            pSalt: if salt.is_empty() {
                ptr::null_mut()
            } else {
                salt.as_mut_ptr()
            },
            ulSaltLen: salt.len() as CK_ULONG,
            hSaltKey: salt_key,
            pInfo: if info.is_empty() {
                ptr::null_mut()
            } else {
                info.as_mut_ptr()
            },
            ulInfoLen: info.len() as CK_ULONG,
        };
        let tpl = if mechanism == CKM_HKDF_DATA {
            Tpl::default()
                .ulong(CKA_CLASS, CKO_DATA)
                .bool(CKA_TOKEN, false)
                .ulong(CKA_VALUE_LEN, len as CK_ULONG)
        } else {
            open_secret().ulong(CKA_VALUE_LEN, len as CK_ULONG)
        };
        let o = m.derive_ok("HKDF", &mut mech(mechanism, &mut p), base, tpl);
        let v = m.value(o);
        m.destroy(o);
        m.destroy(base);
        if salt_key != CK_INVALID_HANDLE {
            m.destroy(salt_key);
        }
        v
    }
}

/// (parameters, IKM, output length, the RFC 5869 answer if any).
type HkdfCase = (Hkdf, Vec<u8>, usize, Option<Vec<u8>>);

#[test]
fn hkdf_rfc5869_and_beyond() {
    let Some(mods) = modules() else { return };
    // RFC 5869 A.1 (test case 1) and A.3 (test case 3, no salt, no info).
    let ikm1 = [0x0b; 22];
    let salt1 = hex("000102030405060708090a0b0c");
    let info1 = hex("f0f1f2f3f4f5f6f7f8f9");
    let prk1 = hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    let okm1 =
        hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    let prk3 = hex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
    let okm3 =
        hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
    let h = |extract, expand, prf, salt: Salt, info: &[u8]| Hkdf {
        extract,
        expand,
        prf,
        salt,
        info: info.to_vec(),
    };
    let cases: Vec<HkdfCase> = vec![
        (
            h(true, true, CKM_SHA256, Salt::Data(salt1.clone()), &info1),
            ikm1.to_vec(),
            42,
            Some(okm1.clone()),
        ),
        (
            h(true, false, CKM_SHA256, Salt::Data(salt1.clone()), &[]),
            ikm1.to_vec(),
            32,
            Some(prk1.clone()),
        ),
        (
            h(false, true, CKM_SHA256, Salt::Null, &info1),
            prk1.clone(),
            42,
            Some(okm1.clone()),
        ),
        (
            h(true, true, CKM_SHA256, Salt::Null, &[]),
            ikm1.to_vec(),
            42,
            Some(okm3),
        ),
        (
            h(true, false, CKM_SHA256, Salt::Null, &[]),
            ikm1.to_vec(),
            32,
            Some(prk3),
        ),
        (
            h(true, true, CKM_SHA256, Salt::Key(salt1.clone()), &info1),
            ikm1.to_vec(),
            42,
            Some(okm1),
        ),
        (
            h(true, true, CKM_SHA384, Salt::Data(salt1.clone()), &info1),
            ikm1.to_vec(),
            100,
            None,
        ),
        (
            h(true, false, CKM_SHA384, Salt::Data(salt1.clone()), &[]),
            ikm1.to_vec(),
            48,
            None,
        ),
        (
            h(true, true, CKM_SHA512, Salt::Null, &info1),
            pattern(64, 3),
            64,
            None,
        ),
        (
            h(false, true, CKM_SHA384, Salt::Null, &pattern(80, 9)),
            pattern(48, 4),
            255,
            None,
        ),
    ];
    for (i, (p, ikm, len, want)) in cases.iter().enumerate() {
        for mechanism in [CKM_HKDF_DERIVE, CKM_HKDF_DATA] {
            let seen = [&mods.ours, &mods.nss].map(|m| p.run(m, mechanism, ikm, *len));
            assert_eq!(seen[0].len(), *len, "case {i}");
            assert_eq!(seen[0], seen[1], "HKDF case {i} mechanism {mechanism:#x}");
            if let Some(w) = want {
                assert_eq!(&seen[0], w, "HKDF case {i}: RFC 5869");
            }
        }
    }
}
