//! The PKCS#11 [`KeyStore`]: every secret of a TLS 1.2 handshake as an
//! object in a PKCS#11 token (PKCS#11 v2.40 / v3.0), reached through the
//! module's `C_*` functions.
//!
//! | operation | PKCS#11 |
//! |---|---|
//! | `random` | `C_GenerateRandom` |
//! | `start_key_exchange` | `C_GenerateKeyPair` (`CKM_EC_KEY_PAIR_GEN`, `CKM_EC_MONTGOMERY_KEY_PAIR_GEN`), session objects, sensitive, not extractable |
//! | `complete_key_exchange` | `C_DeriveKey` `CKM_ECDH1_DERIVE` (`CKD_NULL`) → `CKK_GENERIC_SECRET` |
//! | `tls12_master_secret` | `CKM_TLS12_MASTER_KEY_DERIVE_DH`; EMS: `CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH` (3.2, `0x57`) or `CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH` (`CKM_NSS + 26`) |
//! | `tls12_traffic_keys` | `CKM_TLS12_KEY_AND_MAC_DERIVE`, then `C_Encrypt`/`C_Decrypt` per record (AES-GCM, ChaCha20-Poly1305, AES-CBC + `C_Sign`/`C_Verify` HMAC) |
//! | `tls12_verify_data` | `C_Sign` `CKM_TLS12_MAC` or `CKM_TLS_MAC` |
//! | `tls12_export` | `CKM_TLS12_KDF`, or NSS's `C_Sign` `CKM_NSS_TLS_PRF_GENERAL_SHA256` |
//! | `sign` / `verify` | `C_Sign` / `C_Verify` (peer key imported as a session object) |
//! | `hasher` | software (public transcript data) |
//!
//! # Policy
//!
//! [`Pkcs11Store::open`] reads the token's mechanism list and plans every
//! operation. Under [`Policy::Strict`] (the default) a missing mechanism is
//! an [`OpenError::MissingMechanism`] naming it and the token — before any
//! handshake. Named [`Relaxation`]s let a secret leave the token in one
//! stated way; [`Pkcs11Store::relaxations`] says which are in effect.
//!
//! Session tickets need the master secret sealed outside the token.
//! `C_WrapKey` refuses a non-extractable key (v2.40 §5.13), so in strict
//! mode tickets are [`KeyError::Unsupported`]; with a software master
//! secret ([`Relaxation::SoftwarePrf`]) they are sealed by `C_Encrypt`
//! (AES-GCM) under a ticket key that lives in the token.
//!
//! # Why `cryptoki-sys` and not `cryptoki`
//!
//! The whole client sits on `cryptoki-sys` (the raw `CK_FUNCTION_LIST` and
//! `#[repr(C)]` parameter structs) with one small FFI module (`ffi.rs`, the
//! crate's only `unsafe`). The typed `cryptoki` crate cannot express what
//! this store is for: its `MechanismType` cannot be built for the
//! `CKM_TLS12_*` mechanisms or the NSS vendor ones, it does not hand out
//! its function list, and its `C_Initialize` arguments carry no
//! `pReserved`, which NSS softoken needs. Mixing the two would mean two
//! owners of one module's initialization and sessions handles passed
//! between them; a single thin layer is smaller and easier to audit.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod admin;
pub mod bench;
mod config;
mod der;
mod ffi;
mod objects;
mod provision;
mod record;
mod tls13;
mod uri;

use core::fmt;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cryptoki_sys as sys;
use hsmtls_crypto::hash::RunningHash;
use hsmtls_crypto::prf::tls12_prf;
use hsmtls_crypto::record::{Tls12Aead, Tls12Cbc};
use hsmtls_crypto::HashAlg;
use hsmtls_keys::{
    AeadAlgorithm, Capabilities, Digest, FinishedLabel, HashAlgorithm, Hasher, KeyError,
    KeyExchangeGroup, KeyShare, KeyStore, MasterSecretSeed, PrivateKey, PublicKey,
    PublicKeyAlgorithm, RandomLevel, RecordCipher, RecordProtector, Secret, SecretUsage,
    SignatureAlgorithm, TicketKey, Tls12TrafficKeys,
};
use zeroize::Zeroizing;

pub use admin::{
    list_slots, mechanism_type_name, object_class, token_flag_names, KeySpec, MechanismDescription,
    ObjectDescription, SlotDescription, TokenAdmin, TokenDescription,
};
pub use config::{
    LinkedModule, OpenError, PinSource, Pkcs11Config, Policy, Relaxation, TokenSelector,
    NSS_NO_DB_PARAMS, NSS_SOFTOKEN_PATH, SOFTHSM2_PATH,
};
pub use ffi::Ck;
pub use objects::ObjectKind;
pub use provision::init_token;
pub use uri::{ObjectType, Pkcs11Uri, UriError};

use ffi::{Attr, Mech, Module, Randoms, CK_MECHANISM_TYPE, CK_OBJECT_HANDLE, CK_SESSION_HANDLE};
use objects::{
    PrivateKeyObject, SecretObject, SecretValue, ShareObject, TicketKeyObject, TokenObject,
};
use record::{Scratch, TokenAead, TokenCbc};

/// NSS's vendor mechanism base: `CKM_VENDOR_DEFINED | NSSCK_VENDOR_NSS`
/// (NSS `lib/util/pkcs11n.h`).
const CKM_NSS: CK_MECHANISM_TYPE = 0x8000_0000 | 0x4E53_4350;
/// `CKM_NSS + 19` (NSS `pkcs11n.h`): HMAC of a MAC-then-encrypt record in
/// constant time, parameters `CK_NSS_MAC_CONSTANT_TIME_PARAMS`.
const CKM_NSS_HMAC_CONSTANT_TIME: CK_MECHANISM_TYPE = CKM_NSS + 19;
/// `CKM_NSS + 21` (NSS `pkcs11n.h`): TLS 1.2 PRF with SHA-256 by `C_Sign`,
/// data = label || seed, output as long as the signature buffer.
const CKM_NSS_TLS_PRF_GENERAL_SHA256: CK_MECHANISM_TYPE = CKM_NSS + 21;
/// hsmtls-token's vendor mechanisms: `CKM_VENDOR_DEFINED | 0x48530000`
/// ("HS") plus a number.
const CKM_HSMTLS_BASE: CK_MECHANISM_TYPE = 0x8000_0000 | 0x4853_0000;
/// The bits of a mechanism type that name hsmtls-token's vendor range.
const CKM_HSMTLS_MASK: CK_MECHANISM_TYPE = 0xFFFF_0000;
/// hsmtls-token's vendor mechanism (docs/token-vendor-mechanisms.md): a
/// TLS 1.3 traffic key object and its write IV from the traffic secret in
/// one `C_DeriveKey`, parameters `CK_HSMTLS_TLS13_KEY_IV_PARAMS`.
pub(crate) const CKM_HSMTLS_TLS13_KEY_AND_IV: CK_MECHANISM_TYPE =
    0x8000_0000 | 0x4853_0000 | 0x0002;
/// hsmtls-token's vendor mechanism (docs/token-vendor-mechanisms.md): a
/// TLS 1.3 Finished `verify_data` by one `C_Sign` keyed by the handshake
/// traffic secret, parameter the HKDF hash's `CK_MECHANISM_TYPE`.
pub(crate) const CKM_HSMTLS_TLS13_FINISHED: CK_MECHANISM_TYPE = 0x8000_0000 | 0x4853_0000 | 0x0003;
/// hsmtls-token's vendor mechanism (docs/token-vendor-mechanisms.md): the
/// next TLS 1.3 schedule secret, `HKDF-Extract(Derive-Secret(base,
/// "derived", ""), IKM)`, in one `C_DeriveKey`, parameters
/// `CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS`.
pub(crate) const CKM_HSMTLS_TLS13_NEXT_SECRET: CK_MECHANISM_TYPE =
    0x8000_0000 | 0x4853_0000 | 0x0004;
/// hsmtls-token's vendor mechanism (docs/token-vendor-mechanisms.md): a
/// TLS 1.3 traffic secret with its traffic key and write IV in one
/// `C_DeriveKey`, parameters `CK_HSMTLS_TLS13_TRAFFIC_PARAMS`.
pub(crate) const CKM_HSMTLS_TLS13_TRAFFIC_SECRET: CK_MECHANISM_TYPE =
    0x8000_0000 | 0x4853_0000 | 0x0005;
/// hsmtls-token's vendor mechanism (docs/token-vendor-mechanisms.md): an
/// ephemeral key-exchange private key by `C_GenerateKey`, its public key
/// returned in the parameter (`CK_HSMTLS_KEY_SHARE_PARAMS`), not stored.
pub(crate) const CKM_HSMTLS_KEY_SHARE_GEN: CK_MECHANISM_TYPE = 0x8000_0000 | 0x4853_0000 | 0x0006;
/// `CKM_NSS + 26` (NSS `pkcs11n.h`): RFC 7627 master secret from a DH
/// pre-master, parameters `CK_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_PARAMS`
/// (same layout as PKCS#11 3.2's `CK_TLS12_EXTENDED_MASTER_KEY_DERIVE_PARAMS`).
const CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH: CK_MECHANISM_TYPE = CKM_NSS + 26;
/// PKCS#11 3.2 `CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH` (`0x57`, as in
/// the 3.2 `pkcs11t.h` and p11-kit's `pkcs11.h`).
const CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH: CK_MECHANISM_TYPE =
    sys::CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH;

/// Length of the TLS 1.2 master secret (RFC 5246 §8.1).
const MASTER_SECRET_LEN: usize = 48;
/// Length of Finished `verify_data` (RFC 5246 §7.4.9).
const VERIFY_DATA_LEN: usize = 12;
/// Most idle sessions kept in the pool.
const MAX_IDLE_SESSIONS: usize = 16;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// One opened token: the module, the slot, a session pool, and the list
/// of live objects this process created in it.
pub(crate) struct Token {
    pub(crate) module: Arc<Module>,
    slot: sys::CK_SLOT_ID,
    label: String,
    idle: Mutex<Vec<CK_SESSION_HANDLE>>,
    /// Kept open so the login (per application, v2.40 §5.6) lasts.
    anchor: CK_SESSION_HANDLE,
    live: Mutex<BTreeMap<CK_OBJECT_HANDLE, ObjectKind>>,
}

/// A session borrowed from the pool; back into it on drop.
pub(crate) struct Session<'a> {
    token: &'a Token,
    pub(crate) handle: CK_SESSION_HANDLE,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let mut idle = match self.token.idle.lock() {
            Ok(idle) => idle,
            Err(_) => return,
        };
        if idle.len() < MAX_IDLE_SESSIONS {
            idle.push(self.handle);
        } else {
            drop(idle);
            let _ = self.token.module.close_session(self.handle);
        }
    }
}

impl Token {
    /// A session for one operation: an idle one, or a new one.
    pub(crate) fn session(&self) -> Result<Session<'_>, Ck> {
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let handle = match reused {
            Some(h) => h,
            None => self.module.open_session(self.slot)?,
        };
        Ok(Session {
            token: self,
            handle,
        })
    }

    pub(crate) fn track(&self, handle: CK_OBJECT_HANDLE, kind: ObjectKind) {
        if let Ok(mut live) = self.live.lock() {
            live.insert(handle, kind);
        }
    }

    pub(crate) fn destroy(&self, handle: CK_OBJECT_HANDLE) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&handle);
        }
        if let Ok(s) = self.session() {
            let _ = self.module.destroy_object(s.handle, handle);
        }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        if let Ok(idle) = self.idle.get_mut() {
            for s in idle.drain(..) {
                let _ = self.module.close_session(s);
            }
        }
        let _ = self.module.close_session(self.anchor);
    }
}

/// How the TLS 1.2 PRF runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prf {
    /// In the token.
    Token {
        master: CK_MECHANISM_TYPE,
        ems: Option<CK_MECHANISM_TYPE>,
        mac: CK_MECHANISM_TYPE,
        export: Option<CK_MECHANISM_TYPE>,
    },
    /// In software ([`Relaxation::SoftwarePrf`]).
    Software,
}

/// What runs where, decided once from the mechanism list.
#[derive(Clone, Debug)]
struct Plan {
    groups: Vec<KeyExchangeGroup>,
    prf: Prf,
    software_records: bool,
    record_ciphers: Vec<RecordCipher>,
    verify: Vec<SignatureAlgorithm>,
    /// The token's usable mechanisms, sorted.
    mechanisms: Vec<CK_MECHANISM_TYPE>,
    /// `CKM_NSS_HMAC_CONSTANT_TIME` works (NSS does not list it).
    constant_time_hmac: bool,
    /// Pass the peer's point to `CKM_ECDH1_DERIVE` DER-encoded (PKCS#11
    /// 3.0 §2.3.15 allows it; raw is the MUST). SoftHSM2 tries DER first on
    /// a raw point too, so one raw point in 256 whose first coordinate
    /// byte reads as a DER length (`04 7f …` for P-512, `04 3f …` for
    /// P-256) is misread and the exchange fails; wrapped, it cannot be.
    ecdh_der_public: bool,
}

impl Plan {
    fn has(&self, m: CK_MECHANISM_TYPE) -> bool {
        self.mechanisms.binary_search(&m).is_ok()
    }
}

/// A private key's `C_CreateObject` template, its algorithm and public key.
type KeyTemplate = (Vec<Attr>, PublicKeyAlgorithm, Option<Vec<u8>>);

/// One live object's protection, as [`Pkcs11Store::audit_live_objects`]
/// reads it from the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectAudit {
    /// The object handle.
    pub handle: u64,
    /// What it is.
    pub kind: ObjectKind,
    /// `CKA_SENSITIVE`, if readable.
    pub sensitive: Option<bool>,
    /// `CKA_SIGN`, if readable: false for what only feeds derivations.
    pub sign: Option<bool>,
    /// `CKA_EXTRACTABLE`, if readable.
    pub extractable: Option<bool>,
    /// `CKA_TOKEN` (false: a session object), if readable.
    pub token_object: Option<bool>,
    /// `CKA_CLASS` (`CKO_*`), if readable.
    pub class: Option<u64>,
    /// The `CK_RV` of `C_GetAttributeValue(CKA_VALUE)`: `CKR_OK` (0) would
    /// mean the value left the token.
    pub value_rv: u64,
}

/// The PKCS#11 key store. Use it as `Arc<dyn KeyStore>`; it is `Send +
/// Sync`, and each operation takes a session from a pool, so concurrent
/// connections share it.
pub struct Pkcs11Store {
    id: u64,
    name: String,
    token: Arc<Token>,
    plan: Plan,
    relaxations: Vec<Relaxation>,
    /// The TLS 1.3 schedule's constants per hash, made at open when the
    /// token runs TLS 1.3 (see [`tls13::Tls13Constants`]).
    tls13_constants: Vec<tls13::Tls13Constants>,
}

impl fmt::Debug for Pkcs11Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Store({})", self.name)
    }
}

fn store_err(e: Ck) -> KeyError {
    KeyError::Store(e.to_string())
}

fn prf_mechanism(h: HashAlgorithm) -> CK_MECHANISM_TYPE {
    match h {
        HashAlgorithm::Sha256 => sys::CKM_SHA256,
        HashAlgorithm::Sha384 => sys::CKM_SHA384,
        HashAlgorithm::Sha512 => sys::CKM_SHA512,
    }
}

fn hash_alg(h: HashAlgorithm) -> HashAlg {
    match h {
        HashAlgorithm::Sha256 => HashAlg::Sha256,
        HashAlgorithm::Sha384 => HashAlg::Sha384,
        HashAlgorithm::Sha512 => HashAlg::Sha512,
    }
}

fn mechanism_name(m: CK_MECHANISM_TYPE) -> &'static str {
    match m {
        sys::CKM_EC_KEY_PAIR_GEN => "CKM_EC_KEY_PAIR_GEN",
        sys::CKM_ECDH1_DERIVE => "CKM_ECDH1_DERIVE",
        sys::CKM_TLS12_MASTER_KEY_DERIVE_DH => "CKM_TLS12_MASTER_KEY_DERIVE_DH",
        sys::CKM_TLS12_KEY_AND_MAC_DERIVE => "CKM_TLS12_KEY_AND_MAC_DERIVE",
        sys::CKM_TLS12_MAC => "CKM_TLS12_MAC",
        sys::CKM_TLS_MAC => "CKM_TLS_MAC",
        sys::CKM_TLS12_KDF => "CKM_TLS12_KDF",
        CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH => "CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH",
        CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH => "CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH",
        CKM_NSS_TLS_PRF_GENERAL_SHA256 => "CKM_NSS_TLS_PRF_GENERAL_SHA256",
        sys::CKM_AES_GCM => "CKM_AES_GCM",
        sys::CKM_AES_CBC => "CKM_AES_CBC",
        sys::CKM_GENERIC_SECRET_KEY_GEN => "CKM_GENERIC_SECRET_KEY_GEN",
        _ => "a mechanism",
    }
}

/// A secret-key template: session object, and either locked in the token
/// (sensitive, never extractable) or readable (for a stated relaxation).
/// `CKA_DERIVE` true and every other use false, for a secret that only
/// feeds derivations (a pre-master secret, a TLS 1.3 secret): left to the
/// token's defaults, `CKA_SIGN` is often true, and an HMAC `C_Sign` keyed
/// by such a secret computes any HKDF expansion or PRF block of it — the
/// traffic keys included — in the clear.
fn derive_only() -> [Attr; 5] {
    [
        Attr::bool(sys::CKA_DERIVE, true),
        Attr::bool(sys::CKA_SIGN, false),
        Attr::bool(sys::CKA_VERIFY, false),
        Attr::bool(sys::CKA_ENCRYPT, false),
        Attr::bool(sys::CKA_DECRYPT, false),
    ]
}

/// A session secret key's template, with room for the length, usage and
/// value attributes its callers add (one allocation per derivation).
fn secret_template(key_type: sys::CK_KEY_TYPE, locked: bool) -> Vec<Attr> {
    let mut t = Vec::with_capacity(12);
    t.extend([
        Attr::ulong(sys::CKA_CLASS, sys::CKO_SECRET_KEY),
        Attr::ulong(sys::CKA_KEY_TYPE, key_type),
        Attr::bool(sys::CKA_TOKEN, false),
        Attr::bool(sys::CKA_SENSITIVE, locked),
        Attr::bool(sys::CKA_EXTRACTABLE, !locked),
    ]);
    t
}

/// Loads (or finds loaded) `config`'s module, its load errors as
/// [`OpenError::Module`] naming the module.
pub(crate) fn load_module(config: &Pkcs11Config) -> Result<Arc<Module>, OpenError> {
    Module::get(
        &config.module,
        config.init_reserved.as_deref(),
        config.linked.map(|l| l.0),
    )
    .map_err(|e| {
        OpenError::Module(match e {
            ffi::LoadError::Library(why) => format!("{}: {why}", config.module.display()),
            ffi::LoadError::Ck(ck) => format!("{}: {ck}", config.module.display()),
            ffi::LoadError::Mismatch => format!(
                "{} already initialized with other parameters",
                config.module.display()
            ),
        })
    })
}

impl Pkcs11Store {
    /// Loads the module, opens the token, logs in, reads the mechanism list
    /// and plans every operation under the configured policy.
    ///
    /// Fails with [`OpenError::MissingMechanism`] when the strict policy
    /// needs a mechanism the token lacks.
    pub fn open(config: &Pkcs11Config) -> Result<Self, OpenError> {
        let module = load_module(config)?;
        let slots = module.slots()?;
        let mut chosen = None;
        for slot in slots {
            let info = module.token_info(slot)?;
            let matches = match &config.token {
                TokenSelector::First => true,
                TokenSelector::Label(l) => &info.label == l,
                TokenSelector::SlotId(id) => slot == *id,
            };
            if matches {
                chosen = Some((slot, info));
                break;
            }
        }
        let (slot, info) = chosen.ok_or_else(|| {
            OpenError::NoToken(format!("{:?} in {}", config.token, module.path().display()))
        })?;
        let anchor = module.open_session(slot)?;
        if let Some(pin) = &config.pin {
            let pin = pin.read()?;
            if let Err(e) = module.login(anchor, pin.as_bytes()) {
                let _ = module.close_session(anchor);
                return Err(OpenError::Token(e));
            }
        } else if info.flags & sys::CKF_LOGIN_REQUIRED != 0 {
            let _ = module.close_session(anchor);
            return Err(OpenError::Pin(format!(
                "token \"{}\" requires a login and no PIN was given",
                info.label
            )));
        }
        let token = Arc::new(Token {
            module: module.clone(),
            slot,
            label: info.label.clone(),
            idle: Mutex::new(Vec::new()),
            anchor,
            live: Mutex::new(BTreeMap::new()),
        });
        // C_GetMechanismList, then C_GetMechanismInfo: a mechanism counts
        // only for the operations its flags allow. A vendor-defined number
        // means something else to every vendor: hsmtls-token's count only
        // on a token that says it is one.
        let hsmtls = info.manufacturer.trim_end() == "hsmtls";
        let mechanisms = module
            .mechanisms(slot)?
            .into_iter()
            .filter(|&m| hsmtls || m & CKM_HSMTLS_MASK != CKM_HSMTLS_BASE)
            .filter(|&m| {
                module
                    .mechanism_info(slot, m)
                    .is_ok_and(|i| i.flags & usable_flags(m) == usable_flags(m))
            })
            .collect();
        let (plan, relaxations) = Self::plan(&token, &info, mechanisms, &config.policy)?;
        let mut store = Self {
            id: next_id(),
            name: format!("pkcs11:{}", info.label),
            token,
            plan,
            relaxations,
            tls13_constants: Vec::new(),
        };
        store.probe_relaxations(&info.label)?;
        if !store.tls13_aeads().is_empty() {
            for hash in [HashAlgorithm::Sha256, HashAlgorithm::Sha384] {
                // A token that cannot make them simply goes without.
                if let Ok(c) = store.make_tls13_constants(hash) {
                    store.tls13_constants.push(c);
                }
            }
        }
        Ok(store)
    }

    /// Tries what an allowed relaxation needs from the token, so one the
    /// token refuses is an error at open rather than in the first
    /// handshake: for [`Relaxation::SoftwareRecordLayer`], a throwaway
    /// TLS 1.2 key block whose keys are read out (NSS softoken refuses to
    /// let keys derived from a sensitive master secret be read).
    fn probe_relaxations(&self, label: &str) -> Result<(), OpenError> {
        if !self.relaxations.contains(&Relaxation::SoftwareRecordLayer) {
            return Ok(());
        }
        let unhonourable = |why: String| OpenError::Unhonourable {
            relaxation: Relaxation::SoftwareRecordLayer,
            token: label.to_owned(),
            why,
        };
        let Some(&group) = self.plan.groups.first() else {
            return Ok(());
        };
        let probe = || -> Result<(), KeyError> {
            let (mine, _) = self.start_key_exchange(group)?;
            let (_, theirs) = self.start_key_exchange(group)?;
            let pre_master = self.complete_key_exchange(mine, &theirs)?;
            let master = self.tls12_master_secret(
                pre_master,
                HashAlgorithm::Sha256,
                MasterSecretSeed::Randoms {
                    client_random: &[1; 32],
                    server_random: &[2; 32],
                },
            )?;
            self.tls12_traffic_keys(
                &master,
                HashAlgorithm::Sha256,
                &[1; 32],
                &[2; 32],
                RecordCipher::Aes128Gcm,
            )
            .map(drop)
        };
        probe().map_err(|e| unhonourable(e.to_string()))
    }

    fn plan(
        token: &Arc<Token>,
        info: &ffi::TokenInfo,
        mut mechanisms: Vec<CK_MECHANISM_TYPE>,
        policy: &Policy,
    ) -> Result<(Plan, Vec<Relaxation>), OpenError> {
        // Sorted: `Plan::has` runs on every operation.
        mechanisms.sort_unstable();
        mechanisms.dedup();
        let has = |m| mechanisms.binary_search(&m).is_ok();
        let missing =
            |m: CK_MECHANISM_TYPE, needed_for: &'static str| OpenError::MissingMechanism {
                mechanism: mechanism_name(m),
                token: info.label.clone(),
                needed_for,
            };
        // Key exchange: every secret of a handshake starts here.
        for (m, why) in [
            (sys::CKM_EC_KEY_PAIR_GEN, "ephemeral ECDH key pairs"),
            (sys::CKM_ECDH1_DERIVE, "the ECDH pre-master secret"),
        ] {
            if !has(m) {
                return Err(missing(m, why));
            }
        }
        // The PRF: all four TLS mechanisms, or the software relaxation.
        let mac = if has(sys::CKM_TLS12_MAC) {
            Some(sys::CKM_TLS12_MAC)
        } else if has(sys::CKM_TLS_MAC) {
            Some(sys::CKM_TLS_MAC)
        } else {
            None
        };
        let token_prf = [
            (
                sys::CKM_TLS12_MASTER_KEY_DERIVE_DH,
                "the TLS 1.2 master secret",
            ),
            (sys::CKM_TLS12_KEY_AND_MAC_DERIVE, "the TLS 1.2 key block"),
        ]
        .into_iter()
        .find(|&(m, _)| !has(m))
        .map(|(m, why)| missing(m, why))
        .or_else(|| {
            mac.is_none()
                .then(|| missing(sys::CKM_TLS12_MAC, "Finished verify_data"))
        });
        let mut relaxations = Vec::new();
        let prf = match (token_prf, mac) {
            (None, Some(mac)) => Prf::Token {
                master: sys::CKM_TLS12_MASTER_KEY_DERIVE_DH,
                ems: [
                    CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH,
                    CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH,
                ]
                .into_iter()
                .find(|&m| has(m)),
                mac,
                export: [sys::CKM_TLS12_KDF, CKM_NSS_TLS_PRF_GENERAL_SHA256]
                    .into_iter()
                    .find(|&m| has(m)),
            },
            (err, _) if !policy.allows(Relaxation::SoftwarePrf) => {
                return Err(
                    err.unwrap_or_else(|| missing(sys::CKM_TLS12_MAC, "Finished verify_data"))
                )
            }
            _ => {
                relaxations.push(Relaxation::SoftwarePrf);
                Prf::Software
            }
        };
        let software_records = policy.allows(Relaxation::SoftwareRecordLayer);
        if software_records {
            relaxations.push(Relaxation::SoftwareRecordLayer);
        }
        let record_ciphers = if software_records {
            vec![
                RecordCipher::Aes128Gcm,
                RecordCipher::Aes256Gcm,
                RecordCipher::Chacha20Poly1305,
                RecordCipher::Aes128CbcSha256 {
                    encrypt_then_mac: false,
                },
                RecordCipher::Aes256CbcSha384 {
                    encrypt_then_mac: false,
                },
            ]
        } else {
            let mut rc = Vec::new();
            if has(sys::CKM_AES_GCM) {
                rc.extend([RecordCipher::Aes128Gcm, RecordCipher::Aes256Gcm]);
            }
            if has(sys::CKM_CHACHA20_POLY1305) {
                rc.push(RecordCipher::Chacha20Poly1305);
            }
            if has(sys::CKM_AES_CBC) && has(sys::CKM_SHA256_HMAC) {
                rc.push(RecordCipher::Aes128CbcSha256 {
                    encrypt_then_mac: false,
                });
            }
            if has(sys::CKM_AES_CBC) && has(sys::CKM_SHA384_HMAC) {
                rc.push(RecordCipher::Aes256CbcSha384 {
                    encrypt_then_mac: false,
                });
            }
            if rc.is_empty() {
                return Err(missing(sys::CKM_AES_GCM, "record protection"));
            }
            rc
        };
        use SignatureAlgorithm as S;
        let mut verify = Vec::new();
        for (alg, hashed) in [
            (S::EcdsaSha256, sys::CKM_ECDSA_SHA256),
            (S::EcdsaSha384, sys::CKM_ECDSA_SHA384),
            (S::EcdsaSha512, sys::CKM_ECDSA_SHA512),
        ] {
            if has(sys::CKM_ECDSA) || has(hashed) {
                verify.push(alg);
            }
        }
        for (alg, m) in [
            (S::RsaPkcs1Sha256, sys::CKM_SHA256_RSA_PKCS),
            (S::RsaPkcs1Sha384, sys::CKM_SHA384_RSA_PKCS),
            (S::RsaPkcs1Sha512, sys::CKM_SHA512_RSA_PKCS),
            (S::RsaPssSha256, sys::CKM_SHA256_RSA_PKCS_PSS),
            (S::RsaPssSha384, sys::CKM_SHA384_RSA_PKCS_PSS),
            (S::RsaPssSha512, sys::CKM_SHA512_RSA_PKCS_PSS),
        ] {
            if has(m) {
                verify.push(alg);
            }
        }
        let mut plan = Plan {
            groups: Vec::new(),
            prf,
            software_records,
            record_ciphers,
            verify,
            mechanisms: mechanisms.clone(),
            constant_time_hmac: false,
            ecdh_der_public: info.manufacturer.starts_with("SoftHSM"),
        };
        // Which groups really work: the mechanism list says nothing about
        // curves, so generate one key pair on each.
        let session = token.session()?;
        for group in KeyExchangeGroup::ALL {
            if Self::generate_share(token, session.handle, &plan, group).is_ok() {
                plan.groups.push(group);
            }
        }
        plan.constant_time_hmac = Self::probe_constant_time_hmac(token, session.handle);
        drop(session);
        if plan.groups.is_empty() {
            return Err(missing(
                sys::CKM_EC_KEY_PAIR_GEN,
                "ephemeral ECDH key pairs on any curve",
            ));
        }
        Ok((plan, relaxations))
    }
}

impl Pkcs11Store {
    /// Whether `CKM_NSS_HMAC_CONSTANT_TIME` gives the HMAC that
    /// `CKM_SHA256_HMAC` gives, on a throwaway key and a made-up record.
    /// NSS softoken supports it without listing it.
    fn probe_constant_time_hmac(token: &Arc<Token>, session: CK_SESSION_HANDLE) -> bool {
        let module = &token.module;
        let mut template = secret_template(sys::CKK_GENERIC_SECRET, true);
        template.push(Attr::ulong(sys::CKA_VALUE_LEN, 32));
        template.push(Attr::bool(sys::CKA_SIGN, true));
        let Ok(key) = module.generate_key(
            session,
            &Mech::Plain(sys::CKM_GENERIC_SECRET_KEY_GEN),
            &template,
        ) else {
            return false;
        };
        let key = TokenObject::new(token, key, ObjectKind::MacKey);
        let header = [0, 0, 0, 0, 0, 0, 0, 7, 23, 3, 3, 0, 5];
        let content = b"probe";
        let mut input = header.to_vec();
        input.extend_from_slice(content);
        let Ok(mac) = module.sign(
            session,
            &Mech::Plain(sys::CKM_SHA256_HMAC),
            key.handle,
            &input,
            32,
        ) else {
            return false;
        };
        // content(5) || MAC(32) || padding: 11 bytes of value 10.
        let mut record = content.to_vec();
        record.extend_from_slice(&mac);
        record.extend_from_slice(&[10; 11]);
        module
            .nss_constant_time_hmac(
                session,
                CKM_NSS_HMAC_CONSTANT_TIME,
                sys::CKM_SHA256_HMAC,
                key.handle,
                &header,
                &record,
                content.len() + mac.len(),
                32,
            )
            .is_ok_and(|ct| ct == mac)
    }

    /// The relaxations of [`Policy::Strict`] in effect: allowed by the
    /// policy and used by this token. Empty means every secret stays in
    /// the token.
    pub fn relaxations(&self) -> &[Relaxation] {
        &self.relaxations
    }

    /// Whether MAC-then-encrypt records are opened with NSS's
    /// `CKM_NSS_HMAC_CONSTANT_TIME` (see the `record` module's notes on
    /// Lucky Thirteen).
    pub fn uses_constant_time_hmac(&self) -> bool {
        self.plan.constant_time_hmac
    }

    /// The PKCS#11 calls this store makes for `kind`, as the plan chose
    /// them at `open()` (for traces: "C_DeriveKey CKM_ECDH1_DERIVE").
    pub fn describe_operation(&self, kind: hsmtls_keys::OperationKind) -> Option<String> {
        use hsmtls_keys::OperationKind as K;
        let (ems, mac, export) = match self.plan.prf {
            Prf::Token {
                ems, mac, export, ..
            } => (ems, Some(mac), export),
            Prf::Software => (None, None, None),
        };
        let software = self.plan.prf == Prf::Software;
        Some(match kind {
            K::Random => "C_GenerateRandom".into(),
            K::Hash => "software (public transcript data)".into(),
            K::StartKeyExchange => "C_GenerateKeyPair CKM_EC_KEY_PAIR_GEN".into(),
            K::CompleteKeyExchange if software => {
                "C_DeriveKey CKM_ECDH1_DERIVE, value read out (relaxation: software PRF)".into()
            }
            K::CompleteKeyExchange => "C_DeriveKey CKM_ECDH1_DERIVE".into(),
            K::Tls12MasterSecret if software => "software PRF (relaxation)".into(),
            K::Tls12MasterSecret => format!(
                "C_DeriveKey {}",
                ems.map_or("CKM_TLS12_MASTER_KEY_DERIVE_DH", mechanism_name)
            ),
            K::Tls12VerifyData => match mac {
                Some(m) => format!("C_Sign {}", mechanism_name(m)),
                None => "software PRF (relaxation)".into(),
            },
            K::Tls12TrafficKeys if software => {
                "software PRF, keys imported with C_CreateObject".into()
            }
            K::Tls12TrafficKeys => {
                let records = if self.plan.software_records {
                    "keys read out (relaxation: software record layer)"
                } else {
                    "records: C_Encrypt/C_Decrypt (CBC: with C_Sign/C_Verify HMAC)"
                };
                format!("C_DeriveKey CKM_TLS12_KEY_AND_MAC_DERIVE; {records}")
            }
            K::Tls12Export => match export {
                Some(m) => format!("C_DeriveKey {}", mechanism_name(m)),
                None => "unsupported".into(),
            },
            K::Sign => "C_Sign CKM_ECDSA_SHA256/384/512 (long-term key)".into(),
            K::Verify => {
                "C_CreateObject (peer public key, session object), C_Verify CKM_ECDSA_SHA*".into()
            }
            K::NewTicketKey => "C_GenerateKey CKM_AES_KEY_GEN".into(),
            K::TicketSeal | K::TicketOpen => "C_Encrypt/C_Decrypt CKM_AES_GCM".into(),
            K::HkdfExtract => "C_DeriveKey CKM_HKDF_DERIVE (extract, salt as key)".into(),
            K::HkdfExpandLabel => "C_DeriveKey CKM_HKDF_DERIVE (expand, HkdfLabel)".into(),
            K::HkdfExpandLabelData => "C_DeriveKey CKM_HKDF_DATA (public outputs only)".into(),
            K::Tls13VerifyData if self.plan.has(CKM_HSMTLS_TLS13_FINISHED) => {
                "C_Sign CKM_HSMTLS_TLS13_FINISHED (keyed by the traffic secret)".into()
            }
            K::Tls13VerifyData => {
                "C_DeriveKey CKM_HKDF_DERIVE \"finished\", C_Sign CKM_SHA256_HMAC/CKM_SHA384_HMAC"
                    .into()
            }
            K::Tls13RecordProtector if self.plan.has(CKM_HSMTLS_TLS13_KEY_AND_IV) => {
                "C_DeriveKey CKM_HSMTLS_TLS13_KEY_AND_IV; records: C_Encrypt/C_Decrypt".into()
            }
            K::Tls13RecordProtector => {
                "C_DeriveKey CKM_HKDF_DERIVE \"key\" + CKM_HKDF_DATA \"iv\"; records: C_Encrypt/C_Decrypt"
                    .into()
            }
            K::Tls13NextSecret if self.plan.has(CKM_HSMTLS_TLS13_NEXT_SECRET) => {
                "C_DeriveKey CKM_HSMTLS_TLS13_NEXT_SECRET".into()
            }
            K::Tls13NextSecret => {
                "C_DeriveKey CKM_HKDF_DERIVE \"derived\", then extract (salt as key)".into()
            }
            K::Tls13TrafficSecret if self.plan.has(CKM_HSMTLS_TLS13_TRAFFIC_SECRET) => {
                "C_DeriveKey CKM_HSMTLS_TLS13_TRAFFIC_SECRET (secret, key and IV); records: C_Encrypt/C_Decrypt"
                    .into()
            }
            K::Tls13TrafficSecret => {
                "C_DeriveKey CKM_HKDF_DERIVE (secret), then the record key and IV".into()
            }
        })
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token.label
    }

    /// Whether the token's mechanism list has `mechanism` (a `CKM_*` value).
    pub fn has_mechanism(&self, mechanism: u64) -> bool {
        self.plan.has(mechanism as CK_MECHANISM_TYPE)
    }

    /// Generates an ephemeral ECDH key pair; returns the private half and
    /// the public share. The public object is destroyed at once.
    fn generate_share(
        token: &Arc<Token>,
        session: CK_SESSION_HANDLE,
        plan: &Plan,
        group: KeyExchangeGroup,
    ) -> Result<(TokenObject, Vec<u8>), KeyError> {
        let private_t = || {
            [
                Attr::bool(sys::CKA_TOKEN, false),
                Attr::bool(sys::CKA_SENSITIVE, true),
                Attr::bool(sys::CKA_EXTRACTABLE, false),
                Attr::bool(sys::CKA_DERIVE, true),
            ]
        };
        if plan.has(CKM_HSMTLS_KEY_SHARE_GEN) {
            // hsmtls-token: one call, one object; the public key comes back.
            let mut t = Vec::from(private_t());
            t.push(Attr::bytes(sys::CKA_EC_PARAMS, der::ec_params(group)));
            let mut public = [0u8; 160];
            let (h, len) = token
                .module
                .generate_key_share(session, &t, &mut public)
                .map_err(store_err)?;
            let private = TokenObject::new(token, h, ObjectKind::KeyShare);
            if len != group.share_len() {
                return Err(KeyError::Store(
                    "token returned a key share of the wrong length".into(),
                ));
            }
            return Ok((private, public[..len].to_vec()));
        }
        let mechanism = if group == KeyExchangeGroup::X25519 {
            if !plan.has(sys::CKM_EC_MONTGOMERY_KEY_PAIR_GEN) {
                return Err(KeyError::Unsupported(
                    "X25519 (CKM_EC_MONTGOMERY_KEY_PAIR_GEN)",
                ));
            }
            sys::CKM_EC_MONTGOMERY_KEY_PAIR_GEN
        } else {
            sys::CKM_EC_KEY_PAIR_GEN
        };
        let public_t = [
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::bytes(sys::CKA_EC_PARAMS, der::ec_params(group)),
        ];
        let (hpub, hpriv) = token
            .module
            .generate_key_pair(session, &Mech::Plain(mechanism), &public_t, &private_t())
            .map_err(store_err)?;
        let private = TokenObject::new(token, hpriv, ObjectKind::KeyShare);
        let point = token.module.attribute(session, hpub, sys::CKA_EC_POINT);
        let _ = token.module.destroy_object(session, hpub);
        let point = point.map_err(store_err)?;
        let public = der::raw_ec_point(&point, group.share_len())
            .ok_or_else(|| KeyError::Store("token returned a malformed CKA_EC_POINT".into()))?;
        Ok((private, public))
    }

    fn own<'a, T: HasStore>(&self, object: &'a T, what: &'static str) -> Result<&'a T, KeyError> {
        if object.store() == self.id {
            Ok(object)
        } else {
            Err(KeyError::WrongHandle(what))
        }
    }

    fn secret<'a>(
        &self,
        secret: &'a Secret,
        usage: SecretUsage,
    ) -> Result<&'a SecretValue, KeyError> {
        let object = self.own(secret.downcast::<SecretObject>()?, "Secret")?;
        if object.usage != usage || secret.usage() != usage {
            return Err(KeyError::WrongHandle("Secret of another usage"));
        }
        Ok(&object.value)
    }

    fn token_secret(
        &self,
        usage: SecretUsage,
        handle: CK_OBJECT_HANDLE,
        kind: ObjectKind,
    ) -> Secret {
        let object = SecretObject {
            id: next_id(),
            store: self.id,
            usage,
            value: SecretValue::Token(TokenObject::new(&self.token, handle, kind)),
        };
        Secret::new(Box::new(object), usage)
    }

    fn software_secret(&self, usage: SecretUsage, value: Zeroizing<Vec<u8>>) -> Secret {
        let object = SecretObject {
            id: next_id(),
            store: self.id,
            usage,
            value: SecretValue::Software(value),
        };
        Secret::new(Box::new(object), usage)
    }

    /// The long-term private key a PKCS#11 URI names (`object=` label
    /// and/or `id=`; `type=private` implied).
    pub fn private_key(&self, uri: &str) -> Result<PrivateKey, KeyError> {
        let uri = Pkcs11Uri::parse(uri).map_err(|e| KeyError::InvalidKey(e.to_string()))?;
        if uri.object_type.is_some_and(|t| t != ObjectType::Private) {
            return Err(KeyError::InvalidKey("the URI names no private key".into()));
        }
        if uri.token.as_ref().is_some_and(|t| t != &self.token.label) {
            return Err(KeyError::InvalidKey(format!(
                "the URI names token {:?}, this store is on {:?}",
                uri.token, self.token.label
            )));
        }
        let mut template = vec![Attr::ulong(sys::CKA_CLASS, sys::CKO_PRIVATE_KEY)];
        if let Some(label) = &uri.object {
            template.push(Attr::bytes(sys::CKA_LABEL, label.as_bytes()));
        }
        if let Some(id) = &uri.id {
            template.push(Attr::bytes(sys::CKA_ID, id));
        }
        let session = self.token.session().map_err(store_err)?;
        let found = self
            .token
            .module
            .find_objects(session.handle, &template)
            .map_err(store_err)?;
        let handle = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(KeyError::InvalidKey(
                    "no private key matches the URI".into(),
                ))
            }
            _ => {
                return Err(KeyError::InvalidKey(
                    "several private keys match the URI".into(),
                ))
            }
        };
        let module = &self.token.module;
        let key_type = module
            .attribute(session.handle, handle, sys::CKA_KEY_TYPE)
            .map_err(store_err)?;
        let key_type = sys::CK_ULONG::from_ne_bytes(
            key_type[..]
                .try_into()
                .map_err(|_| KeyError::Store("bad CKA_KEY_TYPE".into()))?,
        );
        let (algorithm, public) = match key_type {
            sys::CKK_EC => {
                let params = module
                    .attribute(session.handle, handle, sys::CKA_EC_PARAMS)
                    .map_err(store_err)?;
                let group = der::group_of_ec_params(&params)
                    .ok_or_else(|| KeyError::InvalidKey("EC key on an unknown curve".into()))?;
                // The public point lives on the matching public-key object.
                template[0] = Attr::ulong(sys::CKA_CLASS, sys::CKO_PUBLIC_KEY);
                let public = module
                    .find_objects(session.handle, &template)
                    .ok()
                    .and_then(|f| f.first().copied())
                    .and_then(|h| module.attribute(session.handle, h, sys::CKA_EC_POINT).ok())
                    .and_then(|p| der::raw_ec_point(&p, group.share_len()));
                (PublicKeyAlgorithm::Ec(group), public)
            }
            sys::CKK_RSA => {
                let n = module
                    .attribute(session.handle, handle, sys::CKA_MODULUS)
                    .ok();
                let e = module
                    .attribute(session.handle, handle, sys::CKA_PUBLIC_EXPONENT)
                    .ok();
                let public = n.zip(e).map(|(n, e)| der::rsa_public_key_der(&n, &e));
                (PublicKeyAlgorithm::Rsa, public)
            }
            _ => return Err(KeyError::InvalidKey("unsupported key type".into())),
        };
        let object = PrivateKeyObject {
            id: next_id(),
            store: self.id,
            algorithm,
            key: TokenObject::borrowed(&self.token, handle, ObjectKind::PrivateKey),
            public,
        };
        Ok(PrivateKey::new(Box::new(object), algorithm))
    }

    /// Imports a private key file (PEM or DER: PKCS#8, SEC 1, PKCS#1) into
    /// the token with `C_CreateObject` as a session object, sensitive and
    /// not extractable, labelled `label` with `CKA_ID` `id`. EC and RSA.
    ///
    /// This is provisioning: the key came from outside. Keys made in the
    /// token ([`Pkcs11Store::generate_private_key`]) never were outside.
    pub fn import_private_key(
        &self,
        der_or_pem: &[u8],
        label: &str,
        id: &[u8],
    ) -> Result<PrivateKey, KeyError> {
        let (template, algorithm, public) =
            self.private_key_template(der_or_pem, label, id, false)?;
        let session = self.token.session().map_err(store_err)?;
        let handle = self
            .token
            .module
            .create_object(session.handle, &template)
            .map_err(|e| KeyError::InvalidKey(e.to_string()))?;
        let object = PrivateKeyObject {
            id: next_id(),
            store: self.id,
            algorithm,
            key: TokenObject::new(&self.token, handle, ObjectKind::PrivateKey),
            public,
        };
        Ok(PrivateKey::new(Box::new(object), algorithm))
    }

    /// The `C_CreateObject` template of a private key file; `persistent`
    /// makes it a token object (`CKA_TOKEN`, `CKA_PRIVATE`).
    pub(crate) fn private_key_template(
        &self,
        der_or_pem: &[u8],
        label: &str,
        id: &[u8],
        persistent: bool,
    ) -> Result<KeyTemplate, KeyError> {
        let parsed = der::parse_private_key(der_or_pem)
            .ok_or_else(|| KeyError::InvalidKey("not a PKCS#8, SEC 1 or PKCS#1 key".into()))?;
        let mut template = vec![
            Attr::ulong(sys::CKA_CLASS, sys::CKO_PRIVATE_KEY),
            Attr::bool(sys::CKA_TOKEN, persistent),
            Attr::bool(sys::CKA_SENSITIVE, true),
            Attr::bool(sys::CKA_EXTRACTABLE, false),
            Attr::bool(sys::CKA_SIGN, true),
            Attr::bytes(sys::CKA_LABEL, label.as_bytes()),
            Attr::bytes(sys::CKA_ID, id),
        ];
        if persistent {
            template.push(Attr::bool(sys::CKA_PRIVATE, true));
        }
        let (algorithm, public) = match &parsed {
            der::ParsedKey::Ec {
                group,
                scalar,
                public,
            } => {
                template.push(Attr::ulong(sys::CKA_KEY_TYPE, sys::CKK_EC));
                template.push(Attr::bytes(sys::CKA_EC_PARAMS, der::ec_params(*group)));
                template.push(Attr::bytes(sys::CKA_VALUE, scalar));
                (PublicKeyAlgorithm::Ec(*group), public.clone())
            }
            der::ParsedKey::Rsa(parts) => {
                template.push(Attr::ulong(sys::CKA_KEY_TYPE, sys::CKK_RSA));
                for (ty, v) in [
                    sys::CKA_MODULUS,
                    sys::CKA_PUBLIC_EXPONENT,
                    sys::CKA_PRIVATE_EXPONENT,
                    sys::CKA_PRIME_1,
                    sys::CKA_PRIME_2,
                    sys::CKA_EXPONENT_1,
                    sys::CKA_EXPONENT_2,
                    sys::CKA_COEFFICIENT,
                ]
                .into_iter()
                .zip(parts)
                {
                    template.push(Attr::bytes(ty, v));
                }
                (
                    PublicKeyAlgorithm::Rsa,
                    Some(der::rsa_public_key_der(&parts[0], &parts[1])),
                )
            }
        };
        Ok((template, algorithm, public))
    }

    /// A key share from a known private key (the X25519 private key, or
    /// the big-endian EC scalar), created in the token as a session
    /// object, sensitive and not extractable, and its public share.
    ///
    /// **For known-answer tests only** (RFC 8448 traces replayed on a
    /// token): a real handshake draws every share fresh with
    /// [`KeyStore::start_key_exchange`]; a share imported from outside is
    /// not ephemeral. The public share is computed in software from the
    /// private key the caller already holds.
    pub fn import_key_share(
        &self,
        group: KeyExchangeGroup,
        private: &[u8],
    ) -> Result<(KeyShare, Vec<u8>), KeyError> {
        use hsmtls_crypto::ecdh::EcdhPrivateKey;
        use hsmtls_crypto::Curve;
        let (key, key_type) = match group {
            KeyExchangeGroup::X25519 => (
                EcdhPrivateKey::from_x25519_private(private),
                sys::CKK_EC_MONTGOMERY,
            ),
            g => {
                let curve = match g {
                    KeyExchangeGroup::Secp256r1 => Curve::P256,
                    KeyExchangeGroup::Secp384r1 => Curve::P384,
                    KeyExchangeGroup::Secp521r1 => Curve::P521,
                    KeyExchangeGroup::BrainpoolP256r1 => Curve::BrainpoolP256r1,
                    KeyExchangeGroup::BrainpoolP384r1 => Curve::BrainpoolP384r1,
                    KeyExchangeGroup::BrainpoolP512r1 => Curve::BrainpoolP512r1,
                    _ => return Err(KeyError::Unsupported("key-exchange group")),
                };
                (EcdhPrivateKey::from_scalar(curve, private), sys::CKK_EC)
            }
        };
        let public = key
            .and_then(|k| k.public_key())
            .map_err(|_| KeyError::InvalidParameter("private key of the key share"))?;
        let template = [
            Attr::ulong(sys::CKA_CLASS, sys::CKO_PRIVATE_KEY),
            Attr::ulong(sys::CKA_KEY_TYPE, key_type),
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::bool(sys::CKA_SENSITIVE, true),
            Attr::bool(sys::CKA_EXTRACTABLE, false),
            Attr::bool(sys::CKA_DERIVE, true),
            Attr::bytes(sys::CKA_EC_PARAMS, der::ec_params(group)),
            Attr::bytes(sys::CKA_VALUE, private),
        ];
        let handle = self.create_object(&template)?;
        let object = ShareObject {
            id: next_id(),
            store: self.id,
            group,
            key: TokenObject::new(&self.token, handle, ObjectKind::KeyShare),
        };
        Ok((KeyShare::new(Box::new(object), group), public))
    }

    /// Creates a session object from `template` in the token.
    pub(crate) fn create_object(&self, template: &[Attr]) -> Result<CK_OBJECT_HANDLE, KeyError> {
        let session = self.token.session().map_err(store_err)?;
        self.token
            .module
            .create_object(session.handle, template)
            .map_err(store_err)
    }

    /// A TLS 1.3 secret (a PSK, a stage of the key schedule) from its
    /// value, created in the token as a session object, sensitive and not
    /// extractable, usable for `CKM_HKDF_DERIVE`.
    ///
    /// **For known-answer tests only** (RFC 8448 §4 replayed on a token:
    /// the trace's resumption PSK): a real handshake never brings a secret
    /// into the store from outside. Other usages are `Unsupported`.
    pub fn import_secret(&self, usage: SecretUsage, value: &[u8]) -> Result<Secret, KeyError> {
        if usage != SecretUsage::Tls13 {
            return Err(KeyError::Unsupported("importing a secret of this usage"));
        }
        let mut template = secret_template(sys::CKK_GENERIC_SECRET, true);
        template.extend(derive_only());
        template.push(Attr::bytes(sys::CKA_VALUE, value));
        let handle = self.create_object(&template)?;
        Ok(self.token_secret(usage, handle, ObjectKind::Tls13Secret))
    }

    /// Generates an EC signing key pair in the token (session objects,
    /// the private half sensitive and not extractable), labelled `label`
    /// with `CKA_ID` `id`.
    pub fn generate_private_key(
        &self,
        group: KeyExchangeGroup,
        label: &str,
        id: &[u8],
    ) -> Result<PrivateKey, KeyError> {
        if group == KeyExchangeGroup::X25519 {
            return Err(KeyError::Unsupported("X25519 is no signature key"));
        }
        let public_t = [
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::bytes(sys::CKA_EC_PARAMS, der::ec_params(group)),
            Attr::bool(sys::CKA_VERIFY, true),
            Attr::bytes(sys::CKA_LABEL, label.as_bytes()),
            Attr::bytes(sys::CKA_ID, id),
        ];
        let private_t = [
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::bool(sys::CKA_SENSITIVE, true),
            Attr::bool(sys::CKA_EXTRACTABLE, false),
            Attr::bool(sys::CKA_SIGN, true),
            Attr::bytes(sys::CKA_LABEL, label.as_bytes()),
            Attr::bytes(sys::CKA_ID, id),
        ];
        let session = self.token.session().map_err(store_err)?;
        let module = &self.token.module;
        let (hpub, hpriv) = module
            .generate_key_pair(
                session.handle,
                &Mech::Plain(sys::CKM_EC_KEY_PAIR_GEN),
                &public_t,
                &private_t,
            )
            .map_err(store_err)?;
        let key = TokenObject::new(&self.token, hpriv, ObjectKind::PrivateKey);
        let point = module.attribute(session.handle, hpub, sys::CKA_EC_POINT);
        let _ = module.destroy_object(session.handle, hpub);
        let public = der::raw_ec_point(&point.map_err(store_err)?, group.share_len());
        let algorithm = PublicKeyAlgorithm::Ec(group);
        let object = PrivateKeyObject {
            id: next_id(),
            store: self.id,
            algorithm,
            key,
            public,
        };
        Ok(PrivateKey::new(Box::new(object), algorithm))
    }

    /// The public key of a private key of this store, in the
    /// [`PublicKey`] form (uncompressed point, DER `RSAPublicKey`).
    pub fn public_key(&self, key: &PrivateKey) -> Result<Vec<u8>, KeyError> {
        self.own(key.downcast::<PrivateKeyObject>()?, "PrivateKey")?
            .public
            .clone()
            .ok_or(KeyError::Unsupported(
                "public key not known for this private key",
            ))
    }

    /// Reads `CKA_SENSITIVE`, `CKA_EXTRACTABLE` and tries `CKA_VALUE` of
    /// every secret object this store created that is still alive: what a
    /// key-isolation check asks of the token.
    pub fn audit_live_objects(&self) -> Result<Vec<ObjectAudit>, KeyError> {
        let live: Vec<_> = self
            .token
            .live
            .lock()
            .map_err(|_| KeyError::Store("object list poisoned".into()))?
            .iter()
            .map(|(&h, &k)| (h, k))
            .collect();
        let session = self.token.session().map_err(store_err)?;
        let module = &self.token.module;
        let flag = |h, ty| {
            module
                .attribute(session.handle, h, ty)
                .ok()
                .and_then(|v| v.first().map(|&b| b != 0))
        };
        Ok(live
            .into_iter()
            .filter(|(_, kind)| kind.is_secret())
            .map(|(handle, kind)| ObjectAudit {
                handle,
                kind,
                sensitive: flag(handle, sys::CKA_SENSITIVE),
                sign: flag(handle, sys::CKA_SIGN),
                extractable: flag(handle, sys::CKA_EXTRACTABLE),
                token_object: flag(handle, sys::CKA_TOKEN),
                class: module
                    .attribute(session.handle, handle, sys::CKA_CLASS)
                    .ok()
                    .and_then(|v| v[..].try_into().ok())
                    .map(sys::CK_ULONG::from_ne_bytes),
                value_rv: match module.attribute(session.handle, handle, sys::CKA_VALUE) {
                    Ok(_) => sys::CKR_OK,
                    Err(e) => e.rv,
                },
            })
            .collect())
    }

    /// How many session objects (`CKA_TOKEN` false) of this application
    /// the token holds: what a connection must not leave behind.
    pub fn session_object_count(&self) -> Result<usize, KeyError> {
        let session = self.token.session().map_err(store_err)?;
        self.token
            .module
            .find_objects(session.handle, &[Attr::bool(sys::CKA_TOKEN, false)])
            .map(|f| f.len())
            .map_err(store_err)
    }

    fn derive(
        &self,
        mech: &Mech<'_>,
        base: CK_OBJECT_HANDLE,
        template: &[Attr],
    ) -> Result<CK_OBJECT_HANDLE, KeyError> {
        let session = self.token.session().map_err(store_err)?;
        self.token
            .module
            .derive_key(session.handle, mech, base, template)
            .map_err(store_err)
    }

    fn read_value(&self, handle: CK_OBJECT_HANDLE) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let session = self.token.session().map_err(store_err)?;
        self.token
            .module
            .attribute(session.handle, handle, sys::CKA_VALUE)
            .map_err(store_err)
    }

    /// Key block in software (under [`Relaxation::SoftwarePrf`]).
    fn software_key_block(
        &self,
        master: &[u8],
        prf: HashAlgorithm,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        cipher: RecordCipher,
    ) -> Result<Tls12TrafficKeys, KeyError> {
        // RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion",
        // server_random + client_random).
        let (mac_len, key_len, iv_len) = cipher.key_block_shape();
        let mut block = Zeroizing::new(vec![0u8; 2 * (mac_len + key_len + iv_len)]);
        tls12_prf(
            hash_alg(prf),
            master,
            b"key expansion",
            &[server_random, client_random],
            &mut block,
        );
        let (client_mac, rest) = block.split_at(mac_len);
        let (server_mac, rest) = rest.split_at(mac_len);
        let (client_key, rest) = rest.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        if self.plan.software_records {
            return Ok(Tls12TrafficKeys {
                client_write: software_protector(cipher, client_mac, client_key, client_iv)?,
                server_write: software_protector(cipher, server_mac, server_key, server_iv)?,
            });
        }
        // Back into the token: the record layer stays there.
        let import = |value: &[u8], key_type, kind| -> Result<TokenObject, KeyError> {
            let mut t = secret_template(key_type, true);
            t.push(Attr::bytes(sys::CKA_VALUE, value));
            if kind == ObjectKind::MacKey {
                t.push(Attr::bool(sys::CKA_SIGN, true));
                t.push(Attr::bool(sys::CKA_VERIFY, true));
            } else {
                t.push(Attr::bool(sys::CKA_ENCRYPT, true));
                t.push(Attr::bool(sys::CKA_DECRYPT, true));
            }
            let h = self.create_object(&t)?;
            Ok(TokenObject::new(&self.token, h, kind))
        };
        let key_type = write_key_type(cipher);
        let make =
            |mac: &[u8], key: &[u8], iv: &[u8]| -> Result<Box<dyn RecordProtector>, KeyError> {
                let enc = import(key, key_type, ObjectKind::TrafficKey)?;
                let mac = if mac.is_empty() {
                    None
                } else {
                    Some(import(mac, sys::CKK_GENERIC_SECRET, ObjectKind::MacKey)?)
                };
                self.token_protector(cipher, enc, mac, iv.to_vec())
            };
        Ok(Tls12TrafficKeys {
            client_write: make(client_mac, client_key, client_iv)?,
            server_write: make(server_mac, server_key, server_iv)?,
        })
    }

    fn token_protector(
        &self,
        cipher: RecordCipher,
        enc: TokenObject,
        mac: Option<TokenObject>,
        iv: Vec<u8>,
    ) -> Result<Box<dyn RecordProtector>, KeyError> {
        Ok(match cipher {
            RecordCipher::Aes128Gcm | RecordCipher::Aes256Gcm | RecordCipher::Chacha20Poly1305 => {
                Box::new(TokenAead {
                    token: self.token.clone(),
                    key: enc,
                    iv,
                    chacha: cipher == RecordCipher::Chacha20Poly1305,
                    scratch: Scratch::default(),
                })
            }
            RecordCipher::Aes128CbcSha256 { encrypt_then_mac }
            | RecordCipher::Aes256CbcSha384 { encrypt_then_mac } => Box::new(TokenCbc {
                token: self.token.clone(),
                enc,
                mac: mac.ok_or(KeyError::Store("no MAC key for a CBC suite".into()))?,
                hash: if matches!(cipher, RecordCipher::Aes128CbcSha256 { .. }) {
                    HashAlgorithm::Sha256
                } else {
                    HashAlgorithm::Sha384
                },
                encrypt_then_mac,
                constant_time_mac: self
                    .plan
                    .constant_time_hmac
                    .then_some(CKM_NSS_HMAC_CONSTANT_TIME),
            }),
        })
    }

    fn check_record_cipher(&self, cipher: RecordCipher) -> Result<(), KeyError> {
        let base = match cipher {
            RecordCipher::Aes128CbcSha256 { .. } => RecordCipher::Aes128CbcSha256 {
                encrypt_then_mac: false,
            },
            RecordCipher::Aes256CbcSha384 { .. } => RecordCipher::Aes256CbcSha384 {
                encrypt_then_mac: false,
            },
            other => other,
        };
        if self.plan.record_ciphers.contains(&base) {
            Ok(())
        } else {
            Err(KeyError::Unsupported(
                "record cipher not offered by this token",
            ))
        }
    }
}

/// The `CKF_*` flags a mechanism needs for how this store uses it.
fn usable_flags(m: CK_MECHANISM_TYPE) -> sys::CK_FLAGS {
    match m {
        sys::CKM_ECDH1_DERIVE
        | sys::CKM_TLS12_MASTER_KEY_DERIVE_DH
        | sys::CKM_TLS12_KEY_AND_MAC_DERIVE
        | sys::CKM_TLS12_KDF
        | CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH
        | CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH
        | sys::CKM_HKDF_DERIVE
        | sys::CKM_HKDF_DATA
        | CKM_HSMTLS_TLS13_KEY_AND_IV
        | CKM_HSMTLS_TLS13_NEXT_SECRET
        | CKM_HSMTLS_TLS13_TRAFFIC_SECRET => sys::CKF_DERIVE,
        sys::CKM_EC_KEY_PAIR_GEN | sys::CKM_EC_MONTGOMERY_KEY_PAIR_GEN => {
            sys::CKF_GENERATE_KEY_PAIR
        }
        CKM_HSMTLS_KEY_SHARE_GEN => sys::CKF_GENERATE,
        sys::CKM_AES_GCM | sys::CKM_AES_CBC | sys::CKM_CHACHA20_POLY1305 => {
            sys::CKF_ENCRYPT | sys::CKF_DECRYPT
        }
        sys::CKM_TLS12_MAC
        | sys::CKM_TLS_MAC
        | CKM_NSS_TLS_PRF_GENERAL_SHA256
        | CKM_NSS_HMAC_CONSTANT_TIME
        | CKM_HSMTLS_TLS13_FINISHED => sys::CKF_SIGN,
        _ => 0,
    }
}

fn write_key_type(cipher: RecordCipher) -> sys::CK_KEY_TYPE {
    if cipher == RecordCipher::Chacha20Poly1305 {
        sys::CKK_CHACHA20
    } else {
        sys::CKK_AES
    }
}

fn software_protector(
    cipher: RecordCipher,
    mac: &[u8],
    key: &[u8],
    iv: &[u8],
) -> Result<Box<dyn RecordProtector>, KeyError> {
    let map = |e: hsmtls_crypto::CryptoError| KeyError::Store(format!("{e:?}"));
    Ok(match cipher {
        RecordCipher::Aes128Gcm | RecordCipher::Aes256Gcm => {
            Box::new(SoftAead(Tls12Aead::aes_gcm(key, iv).map_err(map)?))
        }
        RecordCipher::Chacha20Poly1305 => Box::new(SoftAead(
            Tls12Aead::chacha20_poly1305(key, iv).map_err(map)?,
        )),
        RecordCipher::Aes128CbcSha256 { encrypt_then_mac } => Box::new(SoftCbc(
            Tls12Cbc::new(HashAlg::Sha256, mac, key, encrypt_then_mac).map_err(map)?,
        )),
        RecordCipher::Aes256CbcSha384 { encrypt_then_mac } => Box::new(SoftCbc(
            Tls12Cbc::new(HashAlg::Sha384, mac, key, encrypt_then_mac).map_err(map)?,
        )),
    })
}

/// Software AEAD records ([`Relaxation::SoftwareRecordLayer`]).
struct SoftAead(Tls12Aead);

impl fmt::Debug for SoftAead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pkcs11:software-aead-record")
    }
}

impl RecordProtector for SoftAead {
    fn seal(
        &mut self,
        seq: u64,
        ty: u8,
        v: u16,
        p: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), KeyError> {
        self.0
            .seal(seq, ty, v, p, out)
            .map_err(|e| KeyError::Store(format!("{e:?}")))
    }
    fn open(
        &mut self,
        seq: u64,
        ty: u8,
        v: u16,
        f: &mut [u8],
    ) -> Result<core::ops::Range<usize>, KeyError> {
        self.0
            .open(seq, ty, v, f)
            .map_err(|_| KeyError::BadRecordMac)
    }
    fn max_overhead(&self) -> usize {
        self.0.max_overhead()
    }
}

/// Software CBC records ([`Relaxation::SoftwareRecordLayer`]).
struct SoftCbc(Tls12Cbc);

impl fmt::Debug for SoftCbc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pkcs11:software-cbc-record")
    }
}

impl RecordProtector for SoftCbc {
    fn seal(
        &mut self,
        seq: u64,
        ty: u8,
        v: u16,
        p: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), KeyError> {
        let mut iv = [0u8; 16];
        hsmtls_crypto::fill_random(&mut iv).map_err(|e| KeyError::Store(format!("{e:?}")))?;
        self.0
            .seal(seq, ty, v, &iv, p, out)
            .map_err(|e| KeyError::Store(format!("{e:?}")))
    }
    fn open(
        &mut self,
        seq: u64,
        ty: u8,
        v: u16,
        f: &mut [u8],
    ) -> Result<core::ops::Range<usize>, KeyError> {
        self.0
            .open(seq, ty, v, f)
            .map_err(|_| KeyError::BadRecordMac)
    }
    fn max_overhead(&self) -> usize {
        self.0.max_overhead()
    }
}

/// The objects that belong to one store.
trait HasStore {
    fn store(&self) -> u64;
}

macro_rules! has_store {
    ($($t:ty),*) => {$(
        impl HasStore for $t {
            fn store(&self) -> u64 {
                self.store
            }
        }
    )*};
}
has_store!(SecretObject, ShareObject, PrivateKeyObject, TicketKeyObject);

/// A transcript hash over public data, in software.
#[derive(Clone)]
struct SoftHasher {
    algorithm: HashAlgorithm,
    inner: RunningHash,
}

impl Hasher for SoftHasher {
    fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }
    fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }
    fn current(&self) -> Digest {
        let mut buf = [0u8; 64];
        let n = self.inner.current_into(&mut buf);
        Digest::new(&buf[..n])
    }
    fn fork(&self) -> Box<dyn Hasher> {
        Box::new(self.clone())
    }
}

/// Errors of `C_DeriveKey` that are the token's own trouble rather than a
/// bad peer share.
fn is_local_failure(rv: sys::CK_RV) -> bool {
    matches!(
        rv,
        sys::CKR_HOST_MEMORY
            | sys::CKR_DEVICE_ERROR
            | sys::CKR_DEVICE_MEMORY
            | sys::CKR_DEVICE_REMOVED
            | sys::CKR_SESSION_HANDLE_INVALID
            | sys::CKR_SESSION_CLOSED
            | sys::CKR_KEY_HANDLE_INVALID
            | sys::CKR_CRYPTOKI_NOT_INITIALIZED
            | sys::CKR_MECHANISM_INVALID
            | sys::CKR_USER_NOT_LOGGED_IN
            | sys::CKR_TEMPLATE_INCONSISTENT
            | sys::CKR_TEMPLATE_INCOMPLETE
            | sys::CKR_ATTRIBUTE_TYPE_INVALID
            | sys::CKR_ATTRIBUTE_VALUE_INVALID
    )
}

/// The ECDSA mechanism for `hash`: the hashing one if the token has it,
/// else `CKM_ECDSA` over a software digest (the message is public).
fn ecdsa_mechanism(plan: &Plan, hash: HashAlgorithm) -> (CK_MECHANISM_TYPE, bool) {
    let hashed = match hash {
        HashAlgorithm::Sha256 => sys::CKM_ECDSA_SHA256,
        HashAlgorithm::Sha384 => sys::CKM_ECDSA_SHA384,
        HashAlgorithm::Sha512 => sys::CKM_ECDSA_SHA512,
    };
    if plan.has(hashed) {
        (hashed, false)
    } else {
        (sys::CKM_ECDSA, true)
    }
}

fn signature_hash(alg: SignatureAlgorithm) -> Option<HashAlgorithm> {
    use SignatureAlgorithm as S;
    Some(match alg {
        S::EcdsaSha256 | S::RsaPkcs1Sha256 | S::RsaPssSha256 => HashAlgorithm::Sha256,
        S::EcdsaSha384 | S::RsaPkcs1Sha384 | S::RsaPssSha384 => HashAlgorithm::Sha384,
        S::EcdsaSha512 | S::RsaPkcs1Sha512 | S::RsaPssSha512 => HashAlgorithm::Sha512,
        S::Ed25519 => return None,
    })
}

/// The RSA mechanism (with PSS parameters) for `alg`.
fn rsa_mechanism(alg: SignatureAlgorithm) -> Option<Mech<'static>> {
    use SignatureAlgorithm as S;
    let pss = |mechanism, hash, mgf, salt_len| Mech::RsaPss {
        mechanism,
        hash,
        mgf,
        salt_len,
    };
    Some(match alg {
        S::RsaPkcs1Sha256 => Mech::Plain(sys::CKM_SHA256_RSA_PKCS),
        S::RsaPkcs1Sha384 => Mech::Plain(sys::CKM_SHA384_RSA_PKCS),
        S::RsaPkcs1Sha512 => Mech::Plain(sys::CKM_SHA512_RSA_PKCS),
        // RFC 8446 §4.2.3: salt as long as the digest, MGF1 with the same hash.
        S::RsaPssSha256 => pss(
            sys::CKM_SHA256_RSA_PKCS_PSS,
            sys::CKM_SHA256,
            sys::CKG_MGF1_SHA256,
            32,
        ),
        S::RsaPssSha384 => pss(
            sys::CKM_SHA384_RSA_PKCS_PSS,
            sys::CKM_SHA384,
            sys::CKG_MGF1_SHA384,
            48,
        ),
        S::RsaPssSha512 => pss(
            sys::CKM_SHA512_RSA_PKCS_PSS,
            sys::CKM_SHA512,
            sys::CKG_MGF1_SHA512,
            64,
        ),
        _ => return None,
    })
}

impl KeyStore for Pkcs11Store {
    fn name(&self) -> &str {
        &self.name
    }

    fn policy_relaxations(&self) -> Vec<String> {
        self.relaxations.iter().map(|r| r.to_string()).collect()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            groups: self.plan.groups.clone(),
            verify: self.plan.verify.clone(),
            record_ciphers: self.plan.record_ciphers.clone(),
            prf_hashes: vec![HashAlgorithm::Sha256, HashAlgorithm::Sha384],
            extended_master_secret: match self.plan.prf {
                Prf::Token { ems, .. } => ems.is_some(),
                Prf::Software => true,
            },
            tls13_aeads: self.tls13_aeads(),
        }
    }

    fn random(&self, _level: RandomLevel, out: &mut [u8]) -> Result<(), KeyError> {
        let session = self.token.session().map_err(store_err)?;
        self.token
            .module
            .generate_random(session.handle, out)
            .map_err(store_err)
    }

    fn hasher(&self, algorithm: HashAlgorithm) -> Result<Box<dyn Hasher>, KeyError> {
        Ok(Box::new(SoftHasher {
            algorithm,
            inner: RunningHash::new(hash_alg(algorithm)),
        }))
    }

    fn start_key_exchange(&self, group: KeyExchangeGroup) -> Result<(KeyShare, Vec<u8>), KeyError> {
        if !self.plan.groups.contains(&group) {
            return Err(KeyError::Unsupported(
                "key-exchange group not offered by this token",
            ));
        }
        let session = self.token.session().map_err(store_err)?;
        let (key, public) = Self::generate_share(&self.token, session.handle, &self.plan, group)?;
        let object = ShareObject {
            id: next_id(),
            store: self.id,
            group,
            key,
        };
        Ok((KeyShare::new(Box::new(object), group), public))
    }

    fn complete_key_exchange(
        &self,
        share: KeyShare,
        peer_share: &[u8],
    ) -> Result<Secret, KeyError> {
        let group = share.group();
        let object = share.downcast_into::<ShareObject>()?;
        self.own(&*object, "KeyShare")?;
        if object.group != group {
            return Err(KeyError::WrongHandle("KeyShare of another group"));
        }
        // Public checks first (RFC 8422 §5.11: uncompressed points only).
        if peer_share.len() != group.share_len()
            || (group != KeyExchangeGroup::X25519 && peer_share[0] != 0x04)
            || peer_share.iter().all(|&b| b == 0)
        {
            return Err(KeyError::InvalidPeerKey);
        }
        let locked = self.plan.prf != Prf::Software;
        let mut template = secret_template(sys::CKK_GENERIC_SECRET, locked);
        template.extend(derive_only());
        // X25519 shares are raw 32 bytes everywhere.
        let wrapped;
        let public = if self.plan.ecdh_der_public && group != KeyExchangeGroup::X25519 {
            wrapped = der::ec_point(peer_share);
            &wrapped[..]
        } else {
            peer_share
        };
        let handle = {
            let session = self.token.session().map_err(store_err)?;
            self.token
                .module
                .derive_key(
                    session.handle,
                    &Mech::Ecdh1 { public },
                    object.key.handle,
                    &template,
                )
                .map_err(|e| {
                    if is_local_failure(e.rv) {
                        store_err(e)
                    } else {
                        KeyError::InvalidPeerKey
                    }
                })?
        };
        drop(object);
        if locked {
            return Ok(self.token_secret(SecretUsage::PreMaster, handle, ObjectKind::PreMaster));
        }
        // Relaxation::SoftwarePrf: the pre-master leaves the token.
        let pms = TokenObject::new(&self.token, handle, ObjectKind::PreMaster);
        let value = self.read_value(pms.handle)?;
        drop(pms);
        if value.iter().all(|&b| b == 0) {
            // RFC 7748 §6.1: an all-zero X25519 output means a bad share.
            return Err(KeyError::InvalidPeerKey);
        }
        Ok(self.software_secret(SecretUsage::PreMaster, value))
    }

    fn tls12_master_secret(
        &self,
        pre_master: Secret,
        prf: HashAlgorithm,
        seed: MasterSecretSeed<'_>,
    ) -> Result<Secret, KeyError> {
        let pms = self.secret(&pre_master, SecretUsage::PreMaster)?;
        match (pms, self.plan.prf) {
            (SecretValue::Token(pms), Prf::Token { master, ems, .. }) => {
                let mech = match seed {
                    // RFC 5246 §8.1
                    MasterSecretSeed::Randoms {
                        client_random,
                        server_random,
                    } => Mech::Tls12Master {
                        mechanism: master,
                        randoms: Randoms {
                            client: client_random,
                            server: server_random,
                        },
                        prf: prf_mechanism(prf),
                    },
                    // RFC 7627 §4
                    MasterSecretSeed::SessionHash(hash) => Mech::ExtendedMaster {
                        mechanism: ems.ok_or(KeyError::Unsupported(
                            "extended master secret (no CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH)",
                        ))?,
                        session_hash: hash,
                        prf: prf_mechanism(prf),
                    },
                };
                let mut template = secret_template(sys::CKK_GENERIC_SECRET, true);
                template.push(Attr::bool(sys::CKA_DERIVE, true));
                template.push(Attr::bool(sys::CKA_SIGN, true));
                let handle = self.derive(&mech, pms.handle, &template)?;
                drop(pre_master);
                Ok(self.token_secret(SecretUsage::Master, handle, ObjectKind::Master))
            }
            (SecretValue::Software(pms), Prf::Software) => {
                let mut master = Zeroizing::new(vec![0u8; MASTER_SECRET_LEN]);
                match seed {
                    MasterSecretSeed::Randoms {
                        client_random,
                        server_random,
                    } => tls12_prf(
                        hash_alg(prf),
                        pms,
                        b"master secret",
                        &[client_random, server_random],
                        &mut master,
                    ),
                    MasterSecretSeed::SessionHash(hash) => tls12_prf(
                        hash_alg(prf),
                        pms,
                        b"extended master secret",
                        &[hash],
                        &mut master,
                    ),
                }
                drop(pre_master);
                Ok(self.software_secret(SecretUsage::Master, master))
            }
            _ => Err(KeyError::WrongHandle("Secret from another PRF mode")),
        }
    }

    fn tls12_verify_data(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: FinishedLabel,
        handshake_hash: &[u8],
    ) -> Result<[u8; 12], KeyError> {
        let mut out = [0u8; VERIFY_DATA_LEN];
        match (self.secret(master, SecretUsage::Master)?, self.plan.prf) {
            (SecretValue::Token(ms), Prf::Token { mac, .. }) => {
                let mech = Mech::TlsMac {
                    mechanism: mac,
                    prf: prf_mechanism(prf),
                    mac_len: VERIFY_DATA_LEN,
                    server: label == FinishedLabel::Server,
                };
                let session = self.token.session().map_err(store_err)?;
                let v = self
                    .token
                    .module
                    .sign(
                        session.handle,
                        &mech,
                        ms.handle,
                        handshake_hash,
                        VERIFY_DATA_LEN,
                    )
                    .map_err(store_err)?;
                if v.len() != VERIFY_DATA_LEN {
                    return Err(KeyError::Store(
                        "token returned verify_data of a wrong length".into(),
                    ));
                }
                out.copy_from_slice(&v);
            }
            (SecretValue::Software(ms), _) => {
                tls12_prf(
                    hash_alg(prf),
                    ms,
                    label.label(),
                    &[handshake_hash],
                    &mut out,
                );
            }
            _ => return Err(KeyError::WrongHandle("Secret from another PRF mode")),
        }
        Ok(out)
    }

    fn tls12_traffic_keys(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        cipher: RecordCipher,
    ) -> Result<Tls12TrafficKeys, KeyError> {
        let value = self.secret(master, SecretUsage::Master)?;
        self.check_record_cipher(cipher)?;
        let ms = match value {
            SecretValue::Software(ms) => {
                return self.software_key_block(ms, prf, client_random, server_random, cipher)
            }
            SecretValue::Token(ms) => ms,
        };
        let (mac_len, key_len, iv_len) = cipher.key_block_shape();
        // Ask for the suite's real key-block shape (RFC 5246 Appendix C:
        // 16-byte IVs for AES-CBC): hsmtls-token accepts only real shapes,
        // so short keys cannot turn key stream into IVs. TLS 1.2 CBC
        // records carry explicit IVs, so these bytes (after every key in
        // the block) are not used.
        let iv_len = if cipher.is_cbc() { 16 } else { iv_len };
        let locked = !self.plan.software_records;
        let mut template = secret_template(write_key_type(cipher), locked);
        template.push(Attr::bool(sys::CKA_ENCRYPT, true));
        template.push(Attr::bool(sys::CKA_DECRYPT, true));
        // NSS takes the write keys' length from the template, not from
        // ulKeySizeInBits alone (no CKA_VALUE_LEN: no write keys).
        template.push(Attr::ulong(sys::CKA_VALUE_LEN, key_len as sys::CK_ULONG));
        let km = {
            let session = self.token.session().map_err(store_err)?;
            self.token
                .module
                .derive_tls12_key_material(
                    session.handle,
                    ms.handle,
                    Randoms {
                        client: client_random,
                        server: server_random,
                    },
                    prf_mechanism(prf),
                    mac_len,
                    key_len,
                    iv_len,
                    &template,
                )
                .map_err(|e| {
                    if !locked && e.rv == sys::CKR_KEY_FUNCTION_NOT_PERMITTED {
                        // NSS derives no extractable key from a
                        // non-extractable master secret.
                        KeyError::Unsupported(
                            "software record layer: the token derives no extractable traffic \
                             keys from a master secret that is not extractable",
                        )
                    } else {
                        store_err(e)
                    }
                })?
        };
        let own =
            |h: CK_OBJECT_HANDLE, kind| (h != 0).then(|| TokenObject::new(&self.token, h, kind));
        let client_key = own(km.client_key, ObjectKind::TrafficKey);
        let server_key = own(km.server_key, ObjectKind::TrafficKey);
        // NSS makes (empty) MAC keys for AEAD suites too: own them all, so
        // they are destroyed, but use them only for CBC.
        let client_mac = own(km.client_mac, ObjectKind::MacKey).filter(|_| mac_len > 0);
        let server_mac = own(km.server_mac, ObjectKind::MacKey).filter(|_| mac_len > 0);
        let (client_key, server_key) = client_key
            .zip(server_key)
            .ok_or_else(|| KeyError::Store("token returned no write keys".into()))?;
        if !locked {
            // Relaxation::SoftwareRecordLayer: the keys leave the token.
            let read = |o: &Option<TokenObject>| -> Result<Zeroizing<Vec<u8>>, KeyError> {
                match o {
                    Some(o) => self.read_value(o.handle),
                    None => Ok(Zeroizing::new(Vec::new())),
                }
            };
            let (cm, sm) = (read(&client_mac)?, read(&server_mac)?);
            let (ck, sk) = (
                self.read_value(client_key.handle)?,
                self.read_value(server_key.handle)?,
            );
            return Ok(Tls12TrafficKeys {
                client_write: software_protector(cipher, &cm, &ck, &km.client_iv)?,
                server_write: software_protector(cipher, &sm, &sk, &km.server_iv)?,
            });
        }
        Ok(Tls12TrafficKeys {
            client_write: self.token_protector(
                cipher,
                client_key,
                client_mac,
                km.client_iv.clone(),
            )?,
            server_write: self.token_protector(
                cipher,
                server_key,
                server_mac,
                km.server_iv.clone(),
            )?,
        })
    }

    fn tls12_export(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: &[u8],
        seed: &[u8],
        out: &mut [u8],
    ) -> Result<(), KeyError> {
        let value = self.secret(master, SecretUsage::Master)?;
        let ms = match (value, self.plan.prf) {
            (SecretValue::Software(ms), _) => {
                tls12_prf(hash_alg(prf), ms, label, &[seed], out);
                return Ok(());
            }
            (SecretValue::Token(ms), Prf::Token { export, .. }) => match export {
                Some(m) => (ms, m),
                None => {
                    return Err(KeyError::Unsupported(
                        "exporter (no CKM_TLS12_KDF in the token)",
                    ))
                }
            },
            _ => return Err(KeyError::WrongHandle("Secret from another PRF mode")),
        };
        let (ms, mechanism) = ms;
        if mechanism == CKM_NSS_TLS_PRF_GENERAL_SHA256 {
            if prf != HashAlgorithm::Sha256 {
                return Err(KeyError::Unsupported(
                    "exporter with a SHA-384 PRF (NSS has only CKM_NSS_TLS_PRF_GENERAL_SHA256)",
                ));
            }
            let mut data = label.to_vec();
            data.extend_from_slice(seed);
            let session = self.token.session().map_err(store_err)?;
            let v = self
                .token
                .module
                .sign(
                    session.handle,
                    &Mech::Plain(mechanism),
                    ms.handle,
                    &data,
                    out.len(),
                )
                .map_err(store_err)?;
            if v.len() != out.len() {
                return Err(KeyError::Store(
                    "token returned exporter output of a wrong length".into(),
                ));
            }
            out.copy_from_slice(&v);
            return Ok(());
        }
        // CKM_TLS12_KDF: the seed must be client_random + server_random
        // [+ uint16 length + context] (RFC 5705 §4).
        if seed.len() < 64 {
            return Err(KeyError::Unsupported("exporter seed without the randoms"));
        }
        let (client, rest) = seed.split_at(32);
        let (server, context) = rest.split_at(32);
        let context = match context.len() {
            0 => None,
            n if n >= 2 && usize::from(u16::from_be_bytes([context[0], context[1]])) == n - 2 => {
                Some(&context[2..])
            }
            _ => return Err(KeyError::InvalidParameter("exporter context length")),
        };
        let client: &[u8; 32] = client
            .try_into()
            .map_err(|_| KeyError::InvalidParameter("seed"))?;
        let server: &[u8; 32] = server
            .try_into()
            .map_err(|_| KeyError::InvalidParameter("seed"))?;
        let mech = Mech::Tls12Kdf {
            prf: prf_mechanism(prf),
            label,
            randoms: Randoms { client, server },
            context,
        };
        // Exporter output is no secret of this store: derive it readable.
        let mut template = secret_template(sys::CKK_GENERIC_SECRET, false);
        template.push(Attr::ulong(sys::CKA_VALUE_LEN, out.len() as sys::CK_ULONG));
        let h = self.derive(&mech, ms.handle, &template)?;
        let object = TokenObject::new(&self.token, h, ObjectKind::PublicKey);
        let v = self.read_value(object.handle)?;
        if v.len() != out.len() {
            return Err(KeyError::Store(
                "token returned exporter output of a wrong length".into(),
            ));
        }
        out.copy_from_slice(&v);
        Ok(())
    }

    fn sign(
        &self,
        key: &PrivateKey,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let object = self.own(key.downcast::<PrivateKeyObject>()?, "PrivateKey")?;
        if !algorithm.fits_key(key.algorithm()) || !algorithm.fits_key(object.algorithm) {
            return Err(KeyError::InvalidParameter(
                "signature algorithm does not fit the key",
            ));
        }
        let hash = signature_hash(algorithm).ok_or(KeyError::Unsupported("Ed25519 in a token"))?;
        let session = self.token.session().map_err(store_err)?;
        let module = &self.token.module;
        match object.algorithm {
            PublicKeyAlgorithm::Ec(group) => {
                let (mechanism, prehash) = ecdsa_mechanism(&self.plan, hash);
                if !self.plan.has(mechanism) {
                    return Err(KeyError::Unsupported("ECDSA (no CKM_ECDSA in the token)"));
                }
                let digest;
                let data = if prehash {
                    digest = hsmtls_crypto::hash::digest(hash_alg(hash), message);
                    &digest[..]
                } else {
                    message
                };
                let raw = module
                    .sign(
                        session.handle,
                        &Mech::Plain(mechanism),
                        object.key.handle,
                        data,
                        2 * group.field_len(),
                    )
                    .map_err(store_err)?;
                der::ecdsa_to_der(&raw).ok_or(KeyError::Store(
                    "token returned a malformed ECDSA signature".into(),
                ))
            }
            PublicKeyAlgorithm::Rsa => {
                let mech = rsa_mechanism(algorithm).ok_or(KeyError::Unsupported("RSA scheme"))?;
                if !self.plan.has(mech.mechanism_type()) {
                    return Err(KeyError::Unsupported(
                        "RSA signature mechanism not in the token",
                    ));
                }
                module
                    .sign(session.handle, &mech, object.key.handle, message, 1024)
                    .map_err(store_err)
            }
            PublicKeyAlgorithm::Ed25519 => Err(KeyError::Unsupported("Ed25519 in a token")),
        }
    }

    fn verify(
        &self,
        key: &PublicKey<'_>,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError> {
        if !algorithm.fits_key(key.algorithm) {
            return Err(KeyError::InvalidParameter(
                "signature algorithm does not fit the key",
            ));
        }
        let hash = signature_hash(algorithm).ok_or(KeyError::Unsupported("Ed25519 in a token"))?;
        let mut template = vec![
            Attr::ulong(sys::CKA_CLASS, sys::CKO_PUBLIC_KEY),
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::bool(sys::CKA_VERIFY, true),
        ];
        let (mech, digest, sig): (Mech<'static>, Option<Vec<u8>>, Vec<u8>) = match key.algorithm {
            PublicKeyAlgorithm::Ec(group) => {
                if key.key.len() != group.share_len() || key.key[0] != 0x04 {
                    return Err(KeyError::InvalidPeerKey);
                }
                template.push(Attr::ulong(sys::CKA_KEY_TYPE, sys::CKK_EC));
                template.push(Attr::bytes(sys::CKA_EC_PARAMS, der::ec_params(group)));
                template.push(Attr::bytes(sys::CKA_EC_POINT, &der::ec_point(key.key)));
                let (mechanism, prehash) = ecdsa_mechanism(&self.plan, hash);
                if !self.plan.has(mechanism) {
                    return Err(KeyError::Unsupported("ECDSA (no CKM_ECDSA in the token)"));
                }
                let raw = der::ecdsa_from_der(signature, group.field_len())
                    .ok_or(KeyError::BadSignature)?;
                let digest = prehash.then(|| hsmtls_crypto::hash::digest(hash_alg(hash), message));
                (Mech::Plain(mechanism), digest, raw)
            }
            PublicKeyAlgorithm::Rsa => {
                let (n, e) = der::rsa_public_key(key.key).ok_or(KeyError::InvalidPeerKey)?;
                template.push(Attr::ulong(sys::CKA_KEY_TYPE, sys::CKK_RSA));
                template.push(Attr::bytes(sys::CKA_MODULUS, &n));
                template.push(Attr::bytes(sys::CKA_PUBLIC_EXPONENT, &e));
                let mech = rsa_mechanism(algorithm).ok_or(KeyError::Unsupported("RSA scheme"))?;
                if !self.plan.has(mech.mechanism_type()) {
                    return Err(KeyError::Unsupported(
                        "RSA signature mechanism not in the token",
                    ));
                }
                (mech, None, signature.to_vec())
            }
            PublicKeyAlgorithm::Ed25519 => return Err(KeyError::Unsupported("Ed25519 in a token")),
        };
        let session = self.token.session().map_err(store_err)?;
        let module = &self.token.module;
        let handle = module
            .create_object(session.handle, &template)
            .map_err(|_| KeyError::InvalidPeerKey)?;
        let public = TokenObject::new(&self.token, handle, ObjectKind::PublicKey);
        let data = digest.as_deref().unwrap_or(message);
        let result = module.verify(session.handle, &mech, public.handle, data, &sig);
        drop(session);
        drop(public);
        result.map_err(|e| match e.rv {
            sys::CKR_SIGNATURE_INVALID | sys::CKR_SIGNATURE_LEN_RANGE | sys::CKR_DATA_LEN_RANGE => {
                KeyError::BadSignature
            }
            _ => store_err(e),
        })
    }

    fn new_ticket_key(&self) -> Result<TicketKey, KeyError> {
        if self.plan.prf != Prf::Software {
            return Err(KeyError::Unsupported(
                "session tickets: a master secret in the token cannot be wrapped (not extractable)",
            ));
        }
        let mut name = [0u8; 16];
        self.random(RandomLevel::Nonce, &mut name)?;
        let mut template = secret_template(sys::CKK_AES, true);
        template.push(Attr::ulong(sys::CKA_VALUE_LEN, 32));
        template.push(Attr::bool(sys::CKA_ENCRYPT, true));
        template.push(Attr::bool(sys::CKA_DECRYPT, true));
        let session = self.token.session().map_err(store_err)?;
        let h = self
            .token
            .module
            .generate_key(
                session.handle,
                &Mech::Plain(sys::CKM_AES_KEY_GEN),
                &template,
            )
            .map_err(store_err)?;
        let id = next_id();
        let object = TicketKeyObject {
            id,
            store: self.id,
            name,
            key: TokenObject::new(&self.token, h, ObjectKind::TicketKey),
        };
        Ok(TicketKey::new(Box::new(object), id))
    }

    /// `ticket = key_name(16) || nonce(12) || AES-256-GCM(usage(1) ||
    /// secret_len(2) || secret || state) || tag(16)`, the key name as
    /// additional data — the software store's format, sealed by `C_Encrypt`.
    fn ticket_seal(
        &self,
        key: &TicketKey,
        secret: &Secret,
        state: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let tk = self.own(key.downcast::<TicketKeyObject>()?, "TicketKey")?;
        let object = self.own(secret.downcast::<SecretObject>()?, "Secret")?;
        let value = match &object.value {
            SecretValue::Software(v) => v,
            SecretValue::Token(_) => {
                return Err(KeyError::Unsupported(
                    "session tickets for a secret in the token",
                ))
            }
        };
        let secret_len = u16::try_from(value.len())
            .map_err(|_| KeyError::InvalidParameter("secret too long for a ticket"))?;
        let mut nonce = [0u8; 12];
        self.random(RandomLevel::Nonce, &mut nonce)?;
        let mut plain = Zeroizing::new(Vec::with_capacity(3 + value.len() + state.len()));
        plain.push(usage_code(object.usage));
        plain.extend_from_slice(&secret_len.to_be_bytes());
        plain.extend_from_slice(value);
        plain.extend_from_slice(state);
        let session = self.token.session().map_err(store_err)?;
        let sealed = self
            .token
            .module
            .encrypt(
                session.handle,
                &Mech::Gcm {
                    iv: &nonce,
                    aad: &tk.name,
                },
                tk.key.handle,
                &plain,
                plain.len() + 16,
            )
            .map_err(store_err)?;
        let mut ticket = Vec::with_capacity(28 + sealed.len());
        ticket.extend_from_slice(&tk.name);
        ticket.extend_from_slice(&nonce);
        ticket.extend_from_slice(&sealed);
        Ok(ticket)
    }

    fn ticket_open(&self, key: &TicketKey, ticket: &[u8]) -> Result<(Secret, Vec<u8>), KeyError> {
        let tk = self.own(key.downcast::<TicketKeyObject>()?, "TicketKey")?;
        if ticket.len() < 16 + 12 + 3 + 16 || ticket[..16] != tk.name {
            return Err(KeyError::BadTicket);
        }
        let nonce = &ticket[16..28];
        let session = self.token.session().map_err(store_err)?;
        let plain = self
            .token
            .module
            .decrypt(
                session.handle,
                &Mech::Gcm {
                    iv: nonce,
                    aad: &tk.name,
                },
                tk.key.handle,
                &ticket[28..],
                ticket.len() - 28 - 16,
            )
            .map_err(|_| KeyError::BadTicket)?;
        let (&[code, hi, lo], body) = plain.split_first_chunk::<3>().ok_or(KeyError::BadTicket)?;
        let usage = usage_from_code(code).ok_or(KeyError::BadTicket)?;
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if body.len() < len {
            return Err(KeyError::BadTicket);
        }
        let (value, state) = body.split_at(len);
        Ok((
            self.software_secret(usage, Zeroizing::new(value.to_vec())),
            state.to_vec(),
        ))
    }

    fn hkdf_extract(
        &self,
        hash: HashAlgorithm,
        salt: Option<&Secret>,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        self.tls13_extract(hash, salt, ikm)
    }

    fn hkdf_expand_label(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        usage: SecretUsage,
    ) -> Result<Secret, KeyError> {
        self.tls13_expand_label(hash, secret, label, context, usage)
    }

    fn tls13_next_secret(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        Pkcs11Store::tls13_next_secret(self, hash, secret, ikm)
    }

    fn tls13_traffic_secret(
        &self,
        hash: HashAlgorithm,
        base: &Secret,
        label: &[u8],
        context: &[u8],
        aead: AeadAlgorithm,
    ) -> Result<(Secret, Box<dyn RecordProtector>), KeyError> {
        Pkcs11Store::tls13_traffic_secret(self, hash, base, label, context, aead)
    }

    fn hkdf_expand_label_data(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), KeyError> {
        self.tls13_expand_label_data(hash, secret, label, context, out)
    }

    fn tls13_verify_data(
        &self,
        hash: HashAlgorithm,
        base_key: &Secret,
        transcript_hash: &[u8],
    ) -> Result<hsmtls_keys::Digest, KeyError> {
        self.tls13_finished(hash, base_key, transcript_hash)
    }

    fn tls13_record_protector(
        &self,
        hash: HashAlgorithm,
        traffic_secret: &Secret,
        aead: hsmtls_keys::AeadAlgorithm,
    ) -> Result<Box<dyn RecordProtector>, KeyError> {
        self.tls13_protector(hash, traffic_secret, aead)
    }
}

fn usage_code(usage: SecretUsage) -> u8 {
    match usage {
        SecretUsage::PreMaster => 1,
        SecretUsage::Master => 2,
        SecretUsage::Tls13 => 3,
        SecretUsage::FinishedKey => 4,
        _ => 5,
    }
}

fn usage_from_code(code: u8) -> Option<SecretUsage> {
    Some(match code {
        1 => SecretUsage::PreMaster,
        2 => SecretUsage::Master,
        3 => SecretUsage::Tls13,
        4 => SecretUsage::FinishedKey,
        5 => SecretUsage::Generic,
        _ => return None,
    })
}
