//! A token (PKCS#11 3.0 §2, §5.6–§5.7): its persistent state (label,
//! PINs, objects), who is logged in, and the objects visible to sessions.
//!
//! Token objects live in the [`Storage`]; while no one is logged in only
//! their clear parts are loaded (see [`crate::storage`] for the format).
//! Session objects live here only, owned by the session that made them.

use std::collections::HashMap;

use crate::handles::HandleMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cryptoki_sys::*;

use crate::error::{err, Error, Result};
use crate::object::Object;
use crate::storage::{self, Change, Key256, SqliteStorage, Storage, StoredObject};

/// Wrong PINs in a row before a PIN is locked.
pub const MAX_PIN_FAILURES: u32 = 10;
/// Shortest PIN accepted.
pub const MIN_PIN_LEN: usize = 4;
/// Longest PIN accepted.
pub const MAX_PIN_LEN: usize = 255;

/// Object handles are unique in the process.
static NEXT_OBJECT: AtomicU64 = AtomicU64::new(1);

fn new_handle() -> CK_OBJECT_HANDLE {
    NEXT_OBJECT.fetch_add(1, Ordering::Relaxed) as CK_OBJECT_HANDLE
}

/// Who is logged in to the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Login {
    /// Nobody (public sessions).
    Public,
    /// The normal user.
    User,
    /// The security officer.
    So,
}

/// Who owns an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A token object with its row id.
    Token(i64),
    /// A session object of this session.
    Session(CK_SESSION_HANDLE),
}

/// An object as the token holds it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The attributes (secret ones absent while sealed).
    pub obj: Arc<Object>,
    /// Who owns it.
    pub owner: Owner,
}

/// The persistent token-wide values.
#[derive(Clone)]
struct Meta {
    label: [u8; 32],
    serial: [u8; 16],
    iterations: u32,
    so_salt: Vec<u8>,
    so_wrap: Vec<u8>,
    user: Option<(Vec<u8>, Vec<u8>)>,
    so_failures: u32,
    user_failures: u32,
}

impl Meta {
    fn load(m: &HashMap<String, Vec<u8>>) -> Result<Option<Self>> {
        if m.get("format").map(Vec::as_slice) != Some(b"1") {
            return Ok(None);
        }
        let get = |k: &str| m.get(k).cloned().ok_or(Error::new(CKR_DEVICE_ERROR));
        let u32_of = |k: &str| -> Result<u32> {
            let v = get(k)?;
            Ok(u32::from_le_bytes(
                v.as_slice()
                    .try_into()
                    .map_err(|_| Error::new(CKR_DEVICE_ERROR))?,
            ))
        };
        let mut label = [b' '; 32];
        let l = get("label")?;
        label[..l.len().min(32)].copy_from_slice(&l[..l.len().min(32)]);
        let mut serial = [b' '; 16];
        let s = get("serial")?;
        serial[..s.len().min(16)].copy_from_slice(&s[..s.len().min(16)]);
        let user = match (m.get("user_salt"), m.get("user_wrap")) {
            (Some(s), Some(w)) => Some((s.clone(), w.clone())),
            _ => None,
        };
        Ok(Some(Self {
            label,
            serial,
            iterations: u32_of("kdf_iterations")?,
            so_salt: get("so_salt")?,
            so_wrap: get("so_wrap")?,
            user,
            so_failures: u32_of("so_failures")?,
            user_failures: u32_of("user_failures")?,
        }))
    }
}

/// A token in a slot.
pub struct Token {
    dir: PathBuf,
    storage: Option<Box<dyn Storage>>,
    meta: Option<Meta>,
    new_token_iterations: u32,
    login: Login,
    token_key: Option<Key256>,
    objects: HandleMap<CK_OBJECT_HANDLE, Entry>,
    uid_handles: HandleMap<i64, CK_OBJECT_HANDLE>,
    /// Open sessions on this token.
    pub sessions: usize,
    /// Open read/write sessions on this token.
    pub rw_sessions: usize,
}

impl core::fmt::Debug for Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Token")
            .field("dir", &self.dir)
            .field("login", &self.login)
            .finish()
    }
}

/// What `C_GetTokenInfo` reports that depends on the token's state.
#[derive(Clone, Debug)]
pub struct TokenStatus {
    /// Label, blank padded.
    pub label: [u8; 32],
    /// Serial number, blank padded.
    pub serial: [u8; 16],
    /// `CKF_*` flags.
    pub flags: CK_FLAGS,
}

impl Token {
    /// The token in directory `dir`; `iterations` is the PBKDF2 count for
    /// PINs set from now on. The database is opened (and the directory
    /// created) only if it exists or when the token is initialised.
    pub fn open(dir: PathBuf, iterations: u32) -> Result<Self> {
        let mut t = Self {
            storage: None,
            meta: None,
            new_token_iterations: iterations,
            login: Login::Public,
            token_key: None,
            objects: HandleMap::default(),
            uid_handles: HandleMap::default(),
            sessions: 0,
            rw_sessions: 0,
            dir,
        };
        if t.dir.join(storage::DB_FILE).exists() {
            let s = SqliteStorage::open(&t.dir)?;
            t.meta = Meta::load(&s.meta()?)?;
            t.storage = Some(Box::new(s));
            t.reload()?;
        }
        Ok(t)
    }

    /// The token directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Whether `C_InitToken` has been run.
    pub fn initialized(&self) -> bool {
        self.meta.is_some()
    }

    /// Who is logged in.
    pub fn login_state(&self) -> Login {
        self.login
    }

    /// Label, serial and flags for `C_GetTokenInfo`.
    pub fn status(&self) -> TokenStatus {
        let mut flags = CKF_RNG | CKF_LOGIN_REQUIRED;
        let Some(m) = &self.meta else {
            return TokenStatus {
                label: [b' '; 32],
                serial: *b"0000000000000000",
                flags,
            };
        };
        flags |= CKF_TOKEN_INITIALIZED;
        if m.user.is_some() {
            flags |= CKF_USER_PIN_INITIALIZED;
        }
        flags |= pin_flags(
            m.user_failures,
            CKF_USER_PIN_COUNT_LOW,
            CKF_USER_PIN_FINAL_TRY,
            CKF_USER_PIN_LOCKED,
        );
        flags |= pin_flags(
            m.so_failures,
            CKF_SO_PIN_COUNT_LOW,
            CKF_SO_PIN_FINAL_TRY,
            CKF_SO_PIN_LOCKED,
        );
        TokenStatus {
            label: m.label,
            serial: m.serial,
            flags,
        }
    }

    fn storage(&self) -> Result<&dyn Storage> {
        self.storage
            .as_deref()
            .ok_or(Error::new(CKR_TOKEN_NOT_RECOGNIZED))
    }

    fn meta(&self) -> Result<&Meta> {
        self.meta
            .as_ref()
            .ok_or(Error::new(CKR_TOKEN_NOT_RECOGNIZED))
    }

    /// `C_InitToken`: (re)initialises the token, destroying every token
    /// object. An initialised token needs its current SO PIN.
    pub fn init_token(&mut self, so_pin: &[u8], label: &[u8; 32]) -> Result<()> {
        check_pin_len(so_pin)?;
        if self.sessions > 0 {
            return err(CKR_SESSION_EXISTS);
        }
        if self.meta.is_some() {
            self.verify_so(so_pin)?;
        }
        if self.storage.is_none() {
            self.storage = Some(Box::new(SqliteStorage::open(&self.dir)?));
        }
        let iterations = self.new_token_iterations;
        let token_key = storage::new_key()?;
        let so_salt = storage::random::<16>()?.to_vec();
        let so_wrap = storage::seal(
            &storage::pin_key(so_pin, &so_salt, iterations),
            storage::AAD_SO_WRAP,
            &token_key[..],
        )?;
        let serial_bytes = storage::random::<8>()?;
        let mut serial = [0u8; 16];
        for (i, b) in serial_bytes.iter().enumerate() {
            serial[2 * i] = b"0123456789abcdef"[usize::from(b >> 4)];
            serial[2 * i + 1] = b"0123456789abcdef"[usize::from(b & 15)];
        }
        let zero = 0u32.to_le_bytes().to_vec();
        self.storage()?.apply(vec![
            Change::Wipe,
            Change::SetMeta("format", b"1".to_vec()),
            Change::SetMeta("label", label.to_vec()),
            Change::SetMeta("serial", serial.to_vec()),
            Change::SetMeta("kdf_iterations", iterations.to_le_bytes().to_vec()),
            Change::SetMeta("so_salt", so_salt.clone()),
            Change::SetMeta("so_wrap", so_wrap.clone()),
            Change::SetMeta("so_failures", zero.clone()),
            Change::SetMeta("user_failures", zero),
        ])?;
        self.meta = Some(Meta {
            label: *label,
            serial,
            iterations,
            so_salt,
            so_wrap,
            user: None,
            so_failures: 0,
            user_failures: 0,
        });
        self.login = Login::Public;
        self.token_key = None;
        self.objects.clear();
        self.uid_handles.clear();
        Ok(())
    }

    /// Checks the SO PIN, counting failures; returns the token key.
    fn verify_so(&mut self, pin: &[u8]) -> Result<Key256> {
        let m = self.meta()?.clone();
        if m.so_failures >= MAX_PIN_FAILURES {
            return err(CKR_PIN_LOCKED);
        }
        let key = storage::pin_key(pin, &m.so_salt, m.iterations);
        self.count_attempt(true, storage::open(&key, storage::AAD_SO_WRAP, &m.so_wrap))
    }

    /// Checks the user PIN, counting failures; returns the token key.
    fn verify_user(&mut self, pin: &[u8]) -> Result<Key256> {
        let m = self.meta()?.clone();
        let Some((salt, wrap)) = &m.user else {
            return err(CKR_USER_PIN_NOT_INITIALIZED);
        };
        if m.user_failures >= MAX_PIN_FAILURES {
            return err(CKR_PIN_LOCKED);
        }
        let key = storage::pin_key(pin, salt, m.iterations);
        self.count_attempt(false, storage::open(&key, storage::AAD_USER_WRAP, wrap))
    }

    fn count_attempt(
        &mut self,
        so: bool,
        unwrapped: Result<zeroize::Zeroizing<Vec<u8>>>,
    ) -> Result<Key256> {
        let (name, failures) = {
            let m = self
                .meta
                .as_mut()
                .ok_or(Error::new(CKR_TOKEN_NOT_RECOGNIZED))?;
            let counter = if so {
                &mut m.so_failures
            } else {
                &mut m.user_failures
            };
            let before = *counter;
            *counter = if unwrapped.is_ok() { 0 } else { before + 1 };
            if before == *counter {
                (None, *counter)
            } else {
                (
                    Some(if so { "so_failures" } else { "user_failures" }),
                    *counter,
                )
            }
        };
        if let Some(name) = name {
            self.storage()?
                .apply(vec![Change::SetMeta(name, failures.to_le_bytes().to_vec())])?;
        }
        match unwrapped {
            Ok(k) if k.len() == 32 => {
                let mut key = zeroize::Zeroizing::new([0u8; 32]);
                key.copy_from_slice(&k);
                Ok(key)
            }
            Ok(_) => err(CKR_DEVICE_ERROR),
            Err(_) if failures >= MAX_PIN_FAILURES => err(CKR_PIN_LOCKED),
            Err(_) => err(CKR_PIN_INCORRECT),
        }
    }

    /// `C_Login`.
    pub fn login(&mut self, user: CK_USER_TYPE, pin: &[u8]) -> Result<()> {
        self.meta()?;
        let want = match user {
            CKU_USER => Login::User,
            CKU_SO => Login::So,
            CKU_CONTEXT_SPECIFIC => return err(CKR_OPERATION_NOT_INITIALIZED),
            _ => return err(CKR_USER_TYPE_INVALID),
        };
        match (self.login, want) {
            (Login::Public, _) => {}
            (a, b) if a == b => return err(CKR_USER_ALREADY_LOGGED_IN),
            _ => return err(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
        }
        if want == Login::So && self.sessions > self.rw_sessions {
            return err(CKR_SESSION_READ_ONLY_EXISTS);
        }
        if want == Login::User && self.meta()?.user.is_none() {
            return err(CKR_USER_PIN_NOT_INITIALIZED);
        }
        let key = match want {
            Login::So => self.verify_so(pin)?,
            _ => self.verify_user(pin)?,
        };
        self.token_key = Some(key);
        self.login = want;
        self.reload()
    }

    /// `C_Logout` (also when the last session closes).
    pub fn logout(&mut self) -> Result<()> {
        if self.login == Login::Public {
            return err(CKR_USER_NOT_LOGGED_IN);
        }
        self.login = Login::Public;
        self.token_key = None;
        // Private session objects stay, invisible until the next login.
        self.reload()
    }

    /// `C_InitPIN` (SO logged in): sets the user PIN by wrapping the token
    /// key under it; no object is read.
    pub fn init_pin(&mut self, pin: &[u8]) -> Result<()> {
        check_pin_len(pin)?;
        if self.login != Login::So {
            return err(CKR_USER_NOT_LOGGED_IN);
        }
        let key = self
            .token_key
            .clone()
            .ok_or(Error::new(CKR_USER_NOT_LOGGED_IN))?;
        self.set_user_wrap(&key, pin)
    }

    fn set_user_wrap(&mut self, token_key: &Key256, pin: &[u8]) -> Result<()> {
        let iterations = self.meta()?.iterations;
        let salt = storage::random::<16>()?.to_vec();
        let wrap = storage::seal(
            &storage::pin_key(pin, &salt, iterations),
            storage::AAD_USER_WRAP,
            &token_key[..],
        )?;
        self.storage()?.apply(vec![
            Change::SetMeta("user_salt", salt.clone()),
            Change::SetMeta("user_wrap", wrap.clone()),
            Change::SetMeta("user_failures", 0u32.to_le_bytes().to_vec()),
        ])?;
        let m = self
            .meta
            .as_mut()
            .ok_or(Error::new(CKR_TOKEN_NOT_RECOGNIZED))?;
        m.user = Some((salt, wrap));
        m.user_failures = 0;
        Ok(())
    }

    /// `C_SetPIN`: the SO's PIN if the SO is logged in, else the user's.
    pub fn set_pin(&mut self, old: &[u8], new: &[u8]) -> Result<()> {
        check_pin_len(new)?;
        if self.login == Login::So {
            let key = self.verify_so(old)?;
            let m = self.meta()?.clone();
            let salt = storage::random::<16>()?.to_vec();
            let wrap = storage::seal(
                &storage::pin_key(new, &salt, m.iterations),
                storage::AAD_SO_WRAP,
                &key[..],
            )?;
            self.storage()?.apply(vec![
                Change::SetMeta("so_salt", salt.clone()),
                Change::SetMeta("so_wrap", wrap.clone()),
            ])?;
            let m = self
                .meta
                .as_mut()
                .ok_or(Error::new(CKR_TOKEN_NOT_RECOGNIZED))?;
            m.so_salt = salt;
            m.so_wrap = wrap;
            Ok(())
        } else {
            let key = self.verify_user(old)?;
            self.set_user_wrap(&key, new)
        }
    }

    /// Reloads the token objects from storage for the current login.
    fn reload(&mut self) -> Result<()> {
        self.objects
            .retain(|_, e| matches!(e.owner, Owner::Session(_)));
        let Some(storage) = &self.storage else {
            return Ok(());
        };
        if self.meta.is_none() {
            return Ok(());
        }
        for row in storage.objects()? {
            if row.private && self.login != Login::User {
                continue;
            }
            let mut obj = Object::deserialize(&row.plain)?;
            if !row.sealed.is_empty() {
                if let Some(key) = &self.token_key {
                    let aad = storage::object_aad(row.uid, &row.plain);
                    let secret = storage::open(key, &aad, &row.sealed)?;
                    obj.merge(Object::deserialize(&secret)?);
                }
            }
            let handle = *self.uid_handles.entry(row.uid).or_insert_with(new_handle);
            self.objects.insert(
                handle,
                Entry {
                    obj: Arc::new(obj),
                    owner: Owner::Token(row.uid),
                },
            );
        }
        Ok(())
    }

    fn stored(&self, uid: i64, obj: &Object) -> Result<StoredObject> {
        let private = obj.bool(CKA_PRIVATE);
        let (plain, secret) = if private {
            (Object::new(), obj.clone())
        } else {
            obj.split_secret()
        };
        let plain = plain.serialize().to_vec();
        let sealed = if secret.iter().next().is_none() {
            Vec::new()
        } else {
            let key = self
                .token_key
                .as_ref()
                .ok_or(Error::new(CKR_USER_NOT_LOGGED_IN))?;
            storage::seal(key, &storage::object_aad(uid, &plain), &secret.serialize())?
        };
        Ok(StoredObject {
            uid,
            private,
            plain,
            sealed,
        })
    }

    /// Whether `obj` may be seen in the current login state.
    pub fn visible(&self, obj: &Object) -> bool {
        !obj.bool(CKA_PRIVATE) || self.login == Login::User
    }

    /// Adds a new object owned by `session` (a session object) or by the
    /// token (`CKA_TOKEN` true, persisted in one transaction).
    pub fn add_object(
        &mut self,
        obj: Object,
        session: CK_SESSION_HANDLE,
    ) -> Result<CK_OBJECT_HANDLE> {
        self.meta()?;
        let owner = if obj.bool(CKA_TOKEN) {
            let uid = (u64::from_le_bytes(storage::random::<8>()?) >> 1) as i64;
            let row = self.stored(uid, &obj)?;
            self.storage()?.apply(vec![Change::PutObject(row)])?;
            Owner::Token(uid)
        } else {
            Owner::Session(session)
        };
        let handle = new_handle();
        if let Owner::Token(uid) = owner {
            self.uid_handles.insert(uid, handle);
        }
        self.objects.insert(
            handle,
            Entry {
                obj: Arc::new(obj),
                owner,
            },
        );
        Ok(handle)
    }

    /// The visible object `handle`.
    pub fn object(&self, handle: CK_OBJECT_HANDLE) -> Result<&Entry> {
        match self.objects.get(&handle) {
            Some(e) if self.visible(&e.obj) => Ok(e),
            _ => err(CKR_OBJECT_HANDLE_INVALID),
        }
    }

    /// Replaces object `handle` (persisting a token object).
    pub fn replace_object(&mut self, handle: CK_OBJECT_HANDLE, obj: Object) -> Result<()> {
        let owner = self.object(handle)?.owner;
        if let Owner::Token(uid) = owner {
            let row = self.stored(uid, &obj)?;
            self.storage()?.apply(vec![Change::PutObject(row)])?;
        }
        if let Some(e) = self.objects.get_mut(&handle) {
            e.obj = Arc::new(obj);
        }
        Ok(())
    }

    /// Destroys object `handle`.
    pub fn destroy_object(&mut self, handle: CK_OBJECT_HANDLE) -> Result<()> {
        let owner = self.object(handle)?.owner;
        if let Owner::Token(uid) = owner {
            self.storage()?.apply(vec![Change::DeleteObject(uid)])?;
            self.uid_handles.remove(&uid);
        }
        self.objects.remove(&handle);
        Ok(())
    }

    /// Drops the session objects of `session`.
    pub fn drop_session_objects(&mut self, session: CK_SESSION_HANDLE) {
        self.objects
            .retain(|_, e| e.owner != Owner::Session(session));
    }

    /// Visible objects matching every attribute of `template` (secret
    /// attributes never match).
    pub fn find(&self, template: &Object) -> Vec<CK_OBJECT_HANDLE> {
        let mut out: Vec<_> = self
            .objects
            .iter()
            .filter(|(_, e)| self.visible(&e.obj))
            .filter(|(_, e)| {
                template.iter().all(|(t, v)| {
                    !crate::attributes::is_secret(e.obj.class(), t) && e.obj.get(t) == Some(v)
                })
            })
            .map(|(h, _)| *h)
            .collect();
        out.sort_unstable();
        out
    }
}

fn check_pin_len(pin: &[u8]) -> Result<()> {
    if (MIN_PIN_LEN..=MAX_PIN_LEN).contains(&pin.len()) {
        Ok(())
    } else {
        err(CKR_PIN_LEN_RANGE)
    }
}

fn pin_flags(failures: u32, low: CK_FLAGS, last: CK_FLAGS, locked: CK_FLAGS) -> CK_FLAGS {
    if failures >= MAX_PIN_FAILURES {
        locked
    } else if failures + 1 == MAX_PIN_FAILURES {
        last | low
    } else if failures > 0 {
        low
    } else {
        0
    }
}
