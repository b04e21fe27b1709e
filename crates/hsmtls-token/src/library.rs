//! The library state and the safe inner functions behind the `C_*`
//! exports: each takes parsed arguments and returns a [`Result`] that the
//! ABI layer maps to a `CK_RV`.
//!
//! Locking: one global `RwLock` holds the library (written only by
//! `C_Initialize` / `C_Finalize`); each slot's token has its own `RwLock`;
//! each session its own `Mutex`. Order: session → token, never the other
//! way, so threads working in different sessions run in parallel.

use crate::handles::HandleMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::attributes::{self, Origin};
use crate::config::Config;
use crate::error::{err, Error, Result};
use crate::mechanisms::{self, hkdf, Derived, DerivedKey, Mechanism, Param};
use crate::object::Object;
use crate::session::{Active, Session};
use crate::slot::{self, Slot};
use crate::token::{Login, Token, TokenStatus};

/// The initialised library.
pub struct Library {
    slots: Vec<Slot>,
    sessions: RwLock<HandleMap<CK_SESSION_HANDLE, Arc<Mutex<Session>>>>,
    next_session: AtomicU64,
}

static LIBRARY: RwLock<Option<Arc<Library>>> = RwLock::new(None);

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}
fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `C_Initialize` (after the ABI checked `CK_C_INITIALIZE_ARGS`).
pub fn initialize() -> Result<()> {
    let mut g = write(&LIBRARY);
    if g.is_some() {
        return err(CKR_CRYPTOKI_ALREADY_INITIALIZED);
    }
    let cfg = Config::load()?;
    *g = Some(Arc::new(Library {
        slots: slot::slots(&cfg)?,
        sessions: RwLock::new(HandleMap::default()),
        next_session: AtomicU64::new(1),
    }));
    Ok(())
}

/// `C_Finalize`.
pub fn finalize() -> Result<()> {
    match write(&LIBRARY).take() {
        Some(_) => Ok(()),
        None => err(CKR_CRYPTOKI_NOT_INITIALIZED),
    }
}

/// The initialised library (`CKR_CRYPTOKI_NOT_INITIALIZED` else).
pub fn get() -> Result<Arc<Library>> {
    read(&LIBRARY)
        .clone()
        .ok_or(Error::new(CKR_CRYPTOKI_NOT_INITIALIZED))
}

/// What `C_GetTokenInfo` needs.
#[derive(Debug)]
pub struct TokenInfo {
    /// Label, serial, flags.
    pub status: TokenStatus,
    /// Open sessions.
    pub sessions: usize,
    /// Open R/W sessions.
    pub rw_sessions: usize,
}

/// Output of a function with the length-query convention (§5.2).
#[derive(Debug)]
pub enum Produced {
    /// Buffer was NULL: the (maximum) length.
    Query(usize),
    /// Buffer too small: the needed length.
    TooSmall(usize),
    /// The output.
    Data(Zeroizing<Vec<u8>>),
}

/// One result of `C_GetAttributeValue`.
#[derive(Debug)]
pub enum AttrValue {
    /// The value.
    Value(Zeroizing<Vec<u8>>),
    /// Sensitive or unextractable (`CKR_ATTRIBUTE_SENSITIVE`).
    Sensitive,
    /// Not an attribute of this object (`CKR_ATTRIBUTE_TYPE_INVALID`).
    Invalid,
}

/// Output of a derivation.
#[derive(Debug, Default)]
pub struct DeriveOut {
    /// The new key (single-key mechanisms).
    pub key: Option<CK_OBJECT_HANDLE>,
    /// Version of an RSA pre-master secret.
    pub version: Option<(u8, u8)>,
    /// Key material handles: client MAC, server MAC, client key, server key.
    pub handles: [CK_OBJECT_HANDLE; 4],
    /// IVs (client, server).
    pub ivs: (Vec<u8>, Vec<u8>),
}

impl Library {
    /// The slot `id`.
    pub fn slot(&self, id: CK_SLOT_ID) -> Result<&Slot> {
        self.slots
            .iter()
            .find(|s| s.id == id)
            .ok_or(Error::new(CKR_SLOT_ID_INVALID))
    }

    /// `C_GetSlotList` (every slot has a token).
    pub fn slot_list(&self) -> Vec<CK_SLOT_ID> {
        self.slots.iter().map(|s| s.id).collect()
    }

    /// The token directory of slot `id` (the slot description).
    pub fn slot_dir(&self, id: CK_SLOT_ID) -> Result<String> {
        Ok(read(&self.slot(id)?.token).dir().display().to_string())
    }

    /// `C_GetTokenInfo`.
    pub fn token_info(&self, id: CK_SLOT_ID) -> Result<TokenInfo> {
        let t = read(&self.slot(id)?.token);
        Ok(TokenInfo {
            status: t.status(),
            sessions: t.sessions,
            rw_sessions: t.rw_sessions,
        })
    }

    /// `C_InitToken`.
    pub fn init_token(&self, id: CK_SLOT_ID, so_pin: &[u8], label: &[u8; 32]) -> Result<()> {
        write(&self.slot(id)?.token).init_token(so_pin, label)
    }

    fn session(&self, h: CK_SESSION_HANDLE) -> Result<Arc<Mutex<Session>>> {
        read(&self.sessions)
            .get(&h)
            .cloned()
            .ok_or(Error::new(CKR_SESSION_HANDLE_INVALID))
    }

    /// `C_OpenSession`.
    pub fn open_session(&self, id: CK_SLOT_ID, flags: CK_FLAGS) -> Result<CK_SESSION_HANDLE> {
        if flags & CKF_SERIAL_SESSION == 0 {
            return err(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
        }
        let rw = flags & CKF_RW_SESSION != 0;
        let slot = self.slot(id)?;
        let mut t = write(&slot.token);
        if !t.initialized() {
            return err(CKR_TOKEN_NOT_RECOGNIZED);
        }
        if !rw && t.login_state() == Login::So {
            return err(CKR_SESSION_READ_WRITE_SO_EXISTS);
        }
        let h = self.next_session.fetch_add(1, Ordering::Relaxed) as CK_SESSION_HANDLE;
        t.sessions += 1;
        if rw {
            t.rw_sessions += 1;
        }
        write(&self.sessions).insert(h, Arc::new(Mutex::new(Session::new(h, id, rw))));
        Ok(h)
    }

    /// `C_CloseSession`.
    pub fn close_session(&self, h: CK_SESSION_HANDLE) -> Result<()> {
        let s = write(&self.sessions)
            .remove(&h)
            .ok_or(Error::new(CKR_SESSION_HANDLE_INVALID))?;
        let (slot, rw) = {
            let s = lock(&s);
            (s.slot, s.rw)
        };
        let mut t = write(&self.slot(slot)?.token);
        t.drop_session_objects(h);
        t.sessions = t.sessions.saturating_sub(1);
        if rw {
            t.rw_sessions = t.rw_sessions.saturating_sub(1);
        }
        if t.sessions == 0 && t.login_state() != Login::Public {
            t.logout()?;
        }
        Ok(())
    }

    /// `C_CloseAllSessions`.
    pub fn close_all_sessions(&self, id: CK_SLOT_ID) -> Result<()> {
        self.slot(id)?;
        let mine: Vec<CK_SESSION_HANDLE> = read(&self.sessions)
            .iter()
            .filter(|(_, s)| lock(s).slot == id)
            .map(|(h, _)| *h)
            .collect();
        for h in mine {
            // A session closed concurrently is not an error here.
            let _ = self.close_session(h);
        }
        Ok(())
    }

    /// `C_GetSessionInfo`: (slot, state, flags).
    pub fn session_info(&self, h: CK_SESSION_HANDLE) -> Result<(CK_SLOT_ID, CK_STATE, CK_FLAGS)> {
        let s = self.session(h)?;
        let s = lock(&s);
        let t = read(&self.slot(s.slot)?.token);
        let flags = CKF_SERIAL_SESSION | if s.rw { CKF_RW_SESSION } else { 0 };
        Ok((s.slot, s.state(t.login_state()), flags))
    }

    fn slot_of(&self, h: CK_SESSION_HANDLE) -> Result<(&Slot, bool)> {
        let s = self.session(h)?;
        let s = lock(&s);
        Ok((self.slot(s.slot)?, s.rw))
    }

    /// `C_Login`.
    pub fn login(&self, h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: &[u8]) -> Result<()> {
        let (slot, _) = self.slot_of(h)?;
        write(&slot.token).login(user, pin)
    }

    /// `C_Logout`.
    pub fn logout(&self, h: CK_SESSION_HANDLE) -> Result<()> {
        let (slot, _) = self.slot_of(h)?;
        write(&slot.token).logout()
    }

    /// `C_InitPIN`.
    pub fn init_pin(&self, h: CK_SESSION_HANDLE, pin: &[u8]) -> Result<()> {
        let (slot, rw) = self.slot_of(h)?;
        if !rw {
            return err(CKR_SESSION_READ_ONLY);
        }
        write(&slot.token).init_pin(pin)
    }

    /// `C_SetPIN`.
    pub fn set_pin(&self, h: CK_SESSION_HANDLE, old: &[u8], new: &[u8]) -> Result<()> {
        let (slot, rw) = self.slot_of(h)?;
        if !rw {
            return err(CKR_SESSION_READ_ONLY);
        }
        write(&slot.token).set_pin(old, new)
    }

    /// Checks that a session of `rw` may create `obj` in token `t`.
    fn may_create(t: &Token, rw: bool, obj: &Object) -> Result<()> {
        if obj.bool(CKA_TOKEN) && !rw {
            return err(CKR_SESSION_READ_ONLY);
        }
        if obj.bool(CKA_PRIVATE) && t.login_state() != Login::User {
            return err(CKR_USER_NOT_LOGGED_IN);
        }
        Ok(())
    }

    /// `C_CreateObject`.
    pub fn create_object(&self, h: CK_SESSION_HANDLE, tpl: Object) -> Result<CK_OBJECT_HANDLE> {
        let (slot, rw) = self.slot_of(h)?;
        let obj = attributes::build_object(&tpl, Origin::Create, None, None, Object::new())?;
        let mut t = write(&slot.token);
        Self::may_create(&t, rw, &obj)?;
        t.add_object(obj, h)
    }

    /// `C_CopyObject`.
    pub fn copy_object(
        &self,
        h: CK_SESSION_HANDLE,
        src: CK_OBJECT_HANDLE,
        tpl: Object,
    ) -> Result<CK_OBJECT_HANDLE> {
        let (slot, rw) = self.slot_of(h)?;
        let mut t = write(&slot.token);
        let mut obj = (*t.object(src)?.obj).clone();
        if !obj.bool(CKA_COPYABLE) {
            return err(CKR_ACTION_PROHIBITED);
        }
        for (a, v) in tpl.iter() {
            attributes::check_change(&obj, a, v, true)?;
        }
        apply_changes(&mut obj, &tpl);
        attributes::check_usage(&obj)?;
        Self::may_create(&t, rw, &obj)?;
        t.add_object(obj, h)
    }

    /// `C_DestroyObject`.
    pub fn destroy_object(&self, h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE) -> Result<()> {
        let (slot, rw) = self.slot_of(h)?;
        let mut t = write(&slot.token);
        let e = t.object(o)?;
        if matches!(e.owner, crate::token::Owner::Token(_)) && !rw {
            return err(CKR_SESSION_READ_ONLY);
        }
        if !e.obj.bool(CKA_DESTROYABLE) {
            return err(CKR_ACTION_PROHIBITED);
        }
        t.destroy_object(o)
    }

    /// `C_GetAttributeValue`.
    pub fn get_attributes(
        &self,
        h: CK_SESSION_HANDLE,
        o: CK_OBJECT_HANDLE,
        types: &[CK_ATTRIBUTE_TYPE],
    ) -> Result<Vec<AttrValue>> {
        let (slot, _) = self.slot_of(h)?;
        let t = read(&slot.token);
        let obj = &t.object(o)?.obj;
        let hidden = obj.bool(CKA_SENSITIVE) || !obj.bool(CKA_EXTRACTABLE);
        Ok(types
            .iter()
            .map(|&a| {
                if attributes::is_secret(obj.class(), a) && (hidden || !obj.has(a)) {
                    if attributes::valid_for(obj.class(), obj.key_type(), a) {
                        return AttrValue::Sensitive;
                    }
                    return AttrValue::Invalid;
                }
                match obj.get(a) {
                    Some(v) => AttrValue::Value(Zeroizing::new(v.to_vec())),
                    None => AttrValue::Invalid,
                }
            })
            .collect())
    }

    /// `C_SetAttributeValue`.
    pub fn set_attributes(
        &self,
        h: CK_SESSION_HANDLE,
        o: CK_OBJECT_HANDLE,
        tpl: Object,
    ) -> Result<()> {
        let (slot, rw) = self.slot_of(h)?;
        let mut t = write(&slot.token);
        let e = t.object(o)?;
        if matches!(e.owner, crate::token::Owner::Token(_)) && !rw {
            return err(CKR_SESSION_READ_ONLY);
        }
        if !e.obj.bool(CKA_MODIFIABLE) {
            return err(CKR_ACTION_PROHIBITED);
        }
        let mut obj = (*e.obj).clone();
        for (a, v) in tpl.iter() {
            attributes::check_change(&obj, a, v, false)?;
        }
        apply_changes(&mut obj, &tpl);
        attributes::check_usage(&obj)?;
        t.replace_object(o, obj)
    }

    /// `C_FindObjectsInit`.
    pub fn find_init(&self, h: CK_SESSION_HANDLE, tpl: Object) -> Result<()> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        if s.find.is_some() {
            return err(CKR_OPERATION_ACTIVE);
        }
        let t = read(&self.slot(s.slot)?.token);
        let mut found = t.find(&tpl);
        found.reverse();
        s.find = Some(found);
        Ok(())
    }

    /// `C_FindObjects`.
    pub fn find(&self, h: CK_SESSION_HANDLE, max: usize) -> Result<Vec<CK_OBJECT_HANDLE>> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        let f = s
            .find
            .as_mut()
            .ok_or(Error::new(CKR_OPERATION_NOT_INITIALIZED))?;
        let n = max.min(f.len());
        let mut out: Vec<_> = f.split_off(f.len() - n);
        out.reverse();
        Ok(out)
    }

    /// `C_FindObjectsFinal`.
    pub fn find_final(&self, h: CK_SESSION_HANDLE) -> Result<()> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        s.find
            .take()
            .map(|_| ())
            .ok_or(Error::new(CKR_OPERATION_NOT_INITIALIZED))
    }

    /// Looks up a key for an operation: visible, a key, allowed for
    /// `mechanism`, with usage flag `usage` set.
    fn key_for(
        t: &Token,
        key: CK_OBJECT_HANDLE,
        mechanism: CK_MECHANISM_TYPE,
        usage: CK_ATTRIBUTE_TYPE,
    ) -> Result<Arc<Object>> {
        let obj = t
            .object(key)
            .map_err(|_| Error::new(CKR_KEY_HANDLE_INVALID))?
            .obj
            .clone();
        if !matches!(
            obj.class(),
            CKO_SECRET_KEY | CKO_PRIVATE_KEY | CKO_PUBLIC_KEY
        ) {
            return err(CKR_KEY_HANDLE_INVALID);
        }
        if !obj.bool(usage) {
            return err(CKR_KEY_FUNCTION_NOT_PERMITTED);
        }
        // A wrapping key never decrypts and a decryption key never wraps
        // (also for objects stored before `check_usage` existed).
        let wraps = obj.bool(CKA_WRAP) || obj.bool(CKA_UNWRAP);
        if obj.class() == CKO_SECRET_KEY
            && ((usage == CKA_DECRYPT && wraps)
                || (matches!(usage, CKA_WRAP | CKA_UNWRAP) && obj.bool(CKA_DECRYPT)))
        {
            return err(CKR_KEY_FUNCTION_NOT_PERMITTED);
        }
        if let Some(allowed) = obj.allowed_mechanisms() {
            if !allowed.contains(&mechanism) {
                return err(CKR_MECHANISM_INVALID);
            }
        }
        Ok(obj)
    }

    /// `C_SignInit`, `C_VerifyInit`, `C_EncryptInit`, `C_DecryptInit`.
    pub fn op_init(
        &self,
        h: CK_SESSION_HANDLE,
        kind: OpKind,
        m: &Mechanism,
        key: CK_OBJECT_HANDLE,
    ) -> Result<()> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        let active = match kind {
            OpKind::Sign => s.sign.is_some(),
            OpKind::Verify => s.verify.is_some(),
            OpKind::Encrypt => s.encrypt.is_some(),
            OpKind::Decrypt => s.decrypt.is_some(),
        };
        if active {
            return err(CKR_OPERATION_ACTIVE);
        }
        let entry = mechanisms::lookup(m.mechanism)?;
        let usage = match kind {
            OpKind::Sign => entry.sign_usage,
            OpKind::Verify => CKA_VERIFY,
            OpKind::Encrypt => CKA_ENCRYPT,
            OpKind::Decrypt => CKA_DECRYPT,
        };
        let obj = {
            let t = read(&self.slot(s.slot)?.token);
            Self::key_for(&t, key, m.mechanism, usage)?
        };
        let none = Error::new(CKR_MECHANISM_INVALID);
        match kind {
            OpKind::Sign => {
                s.sign = Some(Active::new(entry.sign.ok_or(none)?(m, &obj)?, m.mechanism))
            }
            OpKind::Verify => {
                s.verify = Some(Active::new(
                    entry.verify.ok_or(none)?(m, &obj)?,
                    m.mechanism,
                ))
            }
            OpKind::Encrypt => {
                s.encrypt = Some(Active::new(
                    entry.encrypt.ok_or(none)?(m, &obj)?,
                    m.mechanism,
                ))
            }
            OpKind::Decrypt => {
                s.decrypt = Some(Active::new(
                    entry.decrypt.ok_or(none)?(m, &obj)?,
                    m.mechanism,
                ))
            }
        }
        Ok(())
    }

    /// `C_DigestInit`.
    pub fn digest_init(&self, h: CK_SESSION_HANDLE, m: &Mechanism) -> Result<()> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        if s.digest.is_some() {
            return err(CKR_OPERATION_ACTIVE);
        }
        let f = mechanisms::lookup(m.mechanism)?
            .digest
            .ok_or(Error::new(CKR_MECHANISM_INVALID))?;
        s.digest = Some(Active::new(f(m)?, m.mechanism));
        Ok(())
    }

    /// `C_Sign` (`update` = None) / `C_SignUpdate` / `C_SignFinal` (data = None).
    pub fn sign(
        &self,
        h: CK_SESSION_HANDLE,
        step: Step<'_>,
        cap: Option<usize>,
    ) -> Result<Produced> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        let active = s
            .sign
            .as_mut()
            .ok_or(Error::new(CKR_OPERATION_NOT_INITIALIZED))?;
        let r = match step {
            Step::Update(_) if active.op.single_part_only() => err(CKR_FUNCTION_NOT_SUPPORTED),
            Step::Update(d) => active.op.update(d).map(|_| Produced::Query(0)),
            Step::Single(d) => {
                if let (None, Some(c)) = (&active.pending, cap) {
                    active.op.fit_output(c);
                }
                let hint = active.op.signature_len();
                deliver(
                    &mut active.pending,
                    cap,
                    hint,
                    |op: &mut Box<dyn mechanisms::Sign>| {
                        op.update(d)?;
                        op.finish()
                    },
                    &mut active.op,
                )
            }
            Step::Final => {
                if let (None, Some(c)) = (&active.pending, cap) {
                    active.op.fit_output(c);
                }
                let hint = active.op.signature_len();
                deliver(
                    &mut active.pending,
                    cap,
                    hint,
                    |op: &mut Box<dyn mechanisms::Sign>| op.finish(),
                    &mut active.op,
                )
            }
        };
        finish_step(&mut s.sign, r, step)
    }

    /// `C_Verify` / `C_VerifyUpdate` / `C_VerifyFinal`.
    pub fn verify(
        &self,
        h: CK_SESSION_HANDLE,
        data: Option<&[u8]>,
        signature: Option<&[u8]>,
    ) -> Result<()> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        let active = s
            .verify
            .as_mut()
            .ok_or(Error::new(CKR_OPERATION_NOT_INITIALIZED))?;
        let r = (|| {
            if signature.is_none() && active.op.single_part_only() {
                return err(CKR_FUNCTION_NOT_SUPPORTED);
            }
            if let Some(d) = data {
                active.op.update(d)?;
            }
            match signature {
                Some(sig) => active.op.finish(sig),
                None => Ok(()),
            }
        })();
        if r.is_err() || signature.is_some() {
            s.verify = None;
        }
        r
    }

    /// `C_Encrypt`/`C_Decrypt` and their `Update`/`Final`.
    pub fn cipher(
        &self,
        h: CK_SESSION_HANDLE,
        encrypt: bool,
        step: Step<'_>,
        cap: Option<usize>,
    ) -> Result<Produced> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        let slot = cipher_slot(&mut s, encrypt);
        let active = slot
            .as_mut()
            .ok_or(Error::new(CKR_OPERATION_NOT_INITIALIZED))?;
        let r = match step {
            Step::Single(d) => {
                let hint = active.op.update_len(d.len()) + active.op.final_len() + d.len();
                deliver(
                    &mut active.pending,
                    cap,
                    hint,
                    |op: &mut Box<dyn mechanisms::Cipher>| {
                        let mut out = op.update(d)?;
                        let last = op.finish()?;
                        if out.is_empty() {
                            // AEADs release everything in `finish`: no copy.
                            return Ok(last);
                        }
                        out.extend_from_slice(&last);
                        Ok(out)
                    },
                    &mut active.op,
                )
            }
            Step::Update(d) => {
                let hint = active.op.update_len(d.len());
                deliver(
                    &mut active.pending,
                    cap,
                    hint,
                    |op: &mut Box<dyn mechanisms::Cipher>| op.update(d),
                    &mut active.op,
                )
            }
            Step::Final => {
                let hint = active.op.final_len();
                deliver(
                    &mut active.pending,
                    cap,
                    hint,
                    |op: &mut Box<dyn mechanisms::Cipher>| op.finish(),
                    &mut active.op,
                )
            }
        };
        finish_step(slot, r, step)
    }

    /// `C_Encrypt` / `C_Decrypt` written straight into the caller's
    /// buffer, for ciphers that can (AEADs): `Ok(None)` when this call must
    /// take the general path ([`Library::cipher`]) instead — no such
    /// direct path, a pending output, or a buffer too small. A direct call
    /// ends the operation, successful or not.
    pub fn cipher_into(
        &self,
        h: CK_SESSION_HANDLE,
        encrypt: bool,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<Option<usize>> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        let slot = cipher_slot(&mut s, encrypt);
        let active = slot
            .as_mut()
            .ok_or(Error::new(CKR_OPERATION_NOT_INITIALIZED))?;
        if active.pending.is_some() {
            return Ok(None);
        }
        let Some(r) = active.op.single_into(data, out) else {
            return Ok(None);
        };
        *slot = None;
        r.map(Some)
    }

    /// `C_Digest` / `C_DigestUpdate` / `C_DigestFinal`.
    pub fn digest(
        &self,
        h: CK_SESSION_HANDLE,
        step: Step<'_>,
        cap: Option<usize>,
    ) -> Result<Produced> {
        let s = self.session(h)?;
        let mut s = lock(&s);
        let active = s
            .digest
            .as_mut()
            .ok_or(Error::new(CKR_OPERATION_NOT_INITIALIZED))?;
        let hint = active.op.output_len();
        let r = match step {
            Step::Update(d) => {
                active.op.update(d);
                Ok(Produced::Query(0))
            }
            Step::Single(d) => deliver(
                &mut active.pending,
                cap,
                hint,
                |op: &mut Box<dyn mechanisms::Digest>| {
                    op.update(d);
                    Ok(Zeroizing::new(op.finish()))
                },
                &mut active.op,
            ),
            Step::Final => deliver(
                &mut active.pending,
                cap,
                hint,
                |op: &mut Box<dyn mechanisms::Digest>| Ok(Zeroizing::new(op.finish())),
                &mut active.op,
            ),
        };
        finish_step(&mut s.digest, r, step)
    }

    fn new_key_object(
        t: &mut Token,
        h: CK_SESSION_HANDLE,
        rw: bool,
        obj: Object,
    ) -> Result<CK_OBJECT_HANDLE> {
        Self::may_create(t, rw, &obj)?;
        t.add_object(obj, h)
    }

    /// `C_GenerateKey`.
    pub fn generate_key(
        &self,
        h: CK_SESSION_HANDLE,
        m: &Mechanism,
        tpl: Object,
    ) -> Result<CK_OBJECT_HANDLE> {
        let (slot, rw) = self.slot_of(h)?;
        let f = mechanisms::lookup(m.mechanism)?
            .generate_key
            .ok_or(Error::new(CKR_MECHANISM_INVALID))?;
        let (kt, computed) = f(m, &tpl)?;
        let obj = attributes::build_object(
            &tpl,
            Origin::Generate(m.mechanism),
            Some(CKO_SECRET_KEY),
            Some(kt),
            computed,
        )?;
        Self::new_key_object(&mut write(&slot.token), h, rw, obj)
    }

    /// `C_GenerateKey` with a key-share mechanism: the private key's
    /// handle and the public key, which is not stored.
    pub fn generate_key_share(
        &self,
        h: CK_SESSION_HANDLE,
        m: &Mechanism,
        tpl: Object,
    ) -> Result<(CK_OBJECT_HANDLE, Vec<u8>)> {
        let (slot, rw) = self.slot_of(h)?;
        let f = mechanisms::lookup(m.mechanism)?
            .key_share
            .ok_or(Error::new(CKR_MECHANISM_INVALID))?;
        let (kt, computed, public) = f(m, &tpl)?;
        let obj = attributes::build_object(
            &tpl,
            Origin::Generate(m.mechanism),
            Some(CKO_PRIVATE_KEY),
            Some(kt),
            computed,
        )?;
        let handle = Self::new_key_object(&mut write(&slot.token), h, rw, obj)?;
        Ok((handle, public))
    }

    /// `C_GenerateKeyPair`: (public, private).
    pub fn generate_key_pair(
        &self,
        h: CK_SESSION_HANDLE,
        m: &Mechanism,
        public: Object,
        private: Object,
    ) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)> {
        let (slot, rw) = self.slot_of(h)?;
        let f = mechanisms::lookup(m.mechanism)?
            .generate_key_pair
            .ok_or(Error::new(CKR_MECHANISM_INVALID))?;
        let (kt, pc, sc) = f(m, &public, &private)?;
        let origin = Origin::Generate(m.mechanism);
        let pubo = attributes::build_object(&public, origin, Some(CKO_PUBLIC_KEY), Some(kt), pc)?;
        let privo =
            attributes::build_object(&private, origin, Some(CKO_PRIVATE_KEY), Some(kt), sc)?;
        let mut t = write(&slot.token);
        Self::may_create(&t, rw, &pubo)?;
        Self::may_create(&t, rw, &privo)?;
        let ph = t.add_object(pubo, h)?;
        match t.add_object(privo, h) {
            Ok(sh) => Ok((ph, sh)),
            Err(e) => {
                let _ = t.destroy_object(ph);
                Err(e)
            }
        }
    }

    /// `C_DeriveKey`.
    pub fn derive(
        &self,
        h: CK_SESSION_HANDLE,
        m: &Mechanism,
        base: CK_OBJECT_HANDLE,
        tpl: Object,
    ) -> Result<DeriveOut> {
        let (slot, rw) = self.slot_of(h)?;
        let f = mechanisms::lookup(m.mechanism)?
            .derive
            .ok_or(Error::new(CKR_MECHANISM_INVALID))?;
        // The keys are resolved under a read lock and the mechanism runs
        // with no lock held (an ECDH derivation is tens of microseconds,
        // which a write lock would make every other session wait for);
        // only the new objects are added under the write lock.
        let t = read(&slot.token);
        let base = Self::key_for(&t, base, m.mechanism, CKA_DERIVE)?;
        let mut origin = Origin::derived_from(&base);
        // CKM_TLS12_KDF computes exporter output, which RFC 5705 hands to
        // the application: public, so it may be derived readable from a
        // sensitive master secret (the PRF does not reveal its key). Every
        // other derivation inherits the base key's protection.
        if m.mechanism == CKM_TLS12_KDF {
            origin = Origin::Derive {
                base_sensitive: false,
                base_extractable: true,
                base_always_sensitive: false,
                base_never_extractable: false,
            };
        }
        // A second key (an HKDF salt key, the IKM key of the TLS 1.3 next
        // secret): checked like the base key, its value passed to the
        // mechanism, its protection inherited.
        let resolve = |handle: CK_OBJECT_HANDLE, origin: &mut Origin| -> Result<hkdf::Salt> {
            let key = Self::key_for(&t, handle, m.mechanism, CKA_DERIVE)?;
            mechanisms::require_key_type(&key, &[CKK_GENERIC_SECRET, CKK_HKDF])?;
            if key.class() != CKO_SECRET_KEY {
                return err(CKR_KEY_TYPE_INCONSISTENT);
            }
            *origin = origin.also_from(&key);
            Ok(hkdf::Salt::Resolved {
                value: hkdf::SecretBytes(Zeroizing::new(key.secret_value()?.to_vec())),
                protected: key.bool(CKA_SENSITIVE) || !key.bool(CKA_EXTRACTABLE),
            })
        };
        let resolved;
        let m = match &m.param {
            Param::Hkdf(p) if p.extract => match p.salt {
                hkdf::Salt::Key(handle) => {
                    let mut p = p.clone();
                    p.salt = resolve(handle, &mut origin)?;
                    resolved = Mechanism {
                        mechanism: m.mechanism,
                        param: Param::Hkdf(p),
                    };
                    &resolved
                }
                _ => m,
            },
            Param::Tls13NextSecret {
                prf,
                ikm: hkdf::Salt::Key(handle),
            } => {
                resolved = Mechanism {
                    mechanism: m.mechanism,
                    param: Param::Tls13NextSecret {
                        prf: *prf,
                        ikm: resolve(*handle, &mut origin)?,
                    },
                };
                &resolved
            }
            _ => m,
        };
        drop(t);
        let build = |k: DerivedKey| -> Result<Object> {
            let tpl = k.template.as_ref().unwrap_or(&tpl);
            let implied = match k.key_type {
                Some(kt) => Some(kt),
                None if tpl.has(CKA_KEY_TYPE) => None,
                None => Some(CKK_GENERIC_SECRET),
            };
            attributes::build_object(tpl, origin, Some(CKO_SECRET_KEY), implied, k.computed)
        };
        match f(m, &base, &tpl)? {
            Derived::Key(k, version) => {
                let obj = build(k)?;
                let key = Self::new_key_object(&mut write(&slot.token), h, rw, obj)?;
                Ok(DeriveOut {
                    key: Some(key),
                    version,
                    ..DeriveOut::default()
                })
            }
            Derived::Data(computed) => {
                // `CKA_VALUE_LEN` gave the length; a data object has none.
                let mut tpl = tpl.clone();
                tpl.remove(CKA_VALUE_LEN);
                let obj = attributes::build_object(&tpl, origin, Some(CKO_DATA), None, computed)?;
                let key = Self::new_key_object(&mut write(&slot.token), h, rw, obj)?;
                Ok(DeriveOut {
                    key: Some(key),
                    ..DeriveOut::default()
                })
            }
            Derived::KeyMat(keys, civ, siv) => {
                let objs = keys
                    .into_iter()
                    .map(|k| k.map(build).transpose())
                    .collect::<Result<Vec<_>>>()?;
                let mut out = DeriveOut {
                    ivs: (civ, siv),
                    ..DeriveOut::default()
                };
                let mut t = write(&slot.token);
                for (i, o) in objs.into_iter().enumerate() {
                    if let Some(o) = o {
                        match Self::new_key_object(&mut t, h, rw, o) {
                            Ok(handle) => out.handles[i] = handle,
                            Err(e) => {
                                for made in out.handles.iter().filter(|&&x| x != 0) {
                                    let _ = t.destroy_object(*made);
                                }
                                return Err(e);
                            }
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// `C_WrapKey`: the wrapped value of `key` under `wrapping`, with the
    /// length-query convention.
    pub fn wrap_key(
        &self,
        h: CK_SESSION_HANDLE,
        m: &Mechanism,
        wrapping: CK_OBJECT_HANDLE,
        key: CK_OBJECT_HANDLE,
        cap: Option<usize>,
    ) -> Result<Produced> {
        let (slot, _) = self.slot_of(h)?;
        let f = mechanisms::lookup(m.mechanism)?
            .wrap
            .ok_or(Error::new(CKR_MECHANISM_INVALID))?;
        let t = read(&slot.token);
        let wk = Self::key_for(&t, wrapping, m.mechanism, CKA_WRAP).map_err(|e| {
            if e.rv() == CKR_KEY_HANDLE_INVALID {
                Error::new(CKR_WRAPPING_KEY_HANDLE_INVALID)
            } else {
                e
            }
        })?;
        let target = t
            .object(key)
            .map_err(|_| Error::new(CKR_KEY_HANDLE_INVALID))?
            .obj
            .clone();
        if !matches!(target.class(), CKO_SECRET_KEY | CKO_PRIVATE_KEY) {
            return err(CKR_KEY_HANDLE_INVALID);
        }
        if !target.bool(CKA_EXTRACTABLE) {
            return err(CKR_KEY_UNEXTRACTABLE);
        }
        if target.bool(CKA_WRAP_WITH_TRUSTED) && !wk.bool(CKA_TRUSTED) {
            return err(CKR_KEY_NOT_WRAPPABLE);
        }
        // CKA_WRAP_TEMPLATE: the wrapping key wraps only keys that match.
        if let Some(t) = wk.get(CKA_WRAP_TEMPLATE).filter(|t| !t.is_empty()) {
            let template = attributes::inner_template(t)?;
            if !attributes::matches_template(&target, &template) {
                return err(CKR_KEY_NOT_WRAPPABLE);
            }
        }
        // A secret key's value; a private key as PKCS#8 (PKCS#11 3.0 §2.1).
        let material = if target.class() == CKO_PRIVATE_KEY {
            mechanisms::private_key::to_pkcs8(&target)?
        } else {
            Zeroizing::new(target.secret_value()?.to_vec())
        };
        let out = f(m, &wk, &material)?;
        Ok(match cap {
            None => Produced::Query(out.len()),
            Some(c) if c < out.len() => Produced::TooSmall(out.len()),
            Some(_) => Produced::Data(out),
        })
    }

    /// `C_UnwrapKey`: a new secret key from `wrapped` and the template
    /// (`CKA_LOCAL`, `CKA_ALWAYS_SENSITIVE`, `CKA_NEVER_EXTRACTABLE` false).
    pub fn unwrap_key(
        &self,
        h: CK_SESSION_HANDLE,
        m: &Mechanism,
        unwrapping: CK_OBJECT_HANDLE,
        wrapped: &[u8],
        mut tpl: Object,
    ) -> Result<CK_OBJECT_HANDLE> {
        let (slot, rw) = self.slot_of(h)?;
        let f = mechanisms::lookup(m.mechanism)?
            .unwrap
            .ok_or(Error::new(CKR_MECHANISM_INVALID))?;
        // As in `derive`: the mechanism (an RSA decryption) runs with no
        // lock held.
        let uk = Self::key_for(&read(&slot.token), unwrapping, m.mechanism, CKA_UNWRAP).map_err(
            |e| {
                if e.rv() == CKR_KEY_HANDLE_INVALID {
                    Error::new(CKR_UNWRAPPING_KEY_HANDLE_INVALID)
                } else {
                    e
                }
            },
        )?;
        // CKA_UNWRAP_TEMPLATE: its attributes are imposed on every key
        // the unwrapping key produces; the caller may repeat, not
        // contradict them.
        if let Some(t) = uk.get(CKA_UNWRAP_TEMPLATE).filter(|t| !t.is_empty()) {
            for (ty, v) in attributes::inner_template(t)?.iter() {
                match tpl.get(ty) {
                    Some(given) if given != v => return err(CKR_TEMPLATE_INCONSISTENT),
                    Some(_) => {}
                    None => tpl.set_bytes(ty, v),
                }
            }
        }
        let class = tpl.ulong(CKA_CLASS).unwrap_or(CKO_SECRET_KEY);
        if tpl.has(CKA_VALUE) || !matches!(class, CKO_SECRET_KEY | CKO_PRIVATE_KEY) {
            return err(CKR_TEMPLATE_INCONSISTENT);
        }
        let value = f(m, &uk, wrapped)?;
        if class == CKO_PRIVATE_KEY {
            // PKCS#8: the key material comes from the wrapped key, the
            // rest from the template, which may not contradict it.
            let (kt, computed) = mechanisms::private_key::from_pkcs8(&value)?;
            if tpl.has(CKA_VALUE_LEN) || tpl.ulong(CKA_KEY_TYPE).is_some_and(|k| k != kt) {
                return err(CKR_TEMPLATE_INCONSISTENT);
            }
            for (t, v) in computed.iter() {
                if tpl.get(t).is_some_and(|given| given != v) {
                    return err(CKR_TEMPLATE_INCONSISTENT);
                }
            }
            let obj = attributes::build_object(
                &tpl,
                Origin::Create,
                Some(CKO_PRIVATE_KEY),
                Some(kt),
                computed,
            )?;
            return Self::new_key_object(&mut write(&slot.token), h, rw, obj);
        }
        if let Some(n) = tpl.ulong(CKA_VALUE_LEN) {
            if n as usize != value.len() {
                return err(CKR_TEMPLATE_INCONSISTENT);
            }
            tpl.remove(CKA_VALUE_LEN);
        }
        let mut computed = Object::new();
        computed.set_bytes(CKA_VALUE, &value);
        let obj =
            attributes::build_object(&tpl, Origin::Create, Some(CKO_SECRET_KEY), None, computed)?;
        Self::new_key_object(&mut write(&slot.token), h, rw, obj)
    }

    /// Checks that session `h` exists (functions without other state).
    pub fn check_session(&self, h: CK_SESSION_HANDLE) -> Result<()> {
        self.session(h).map(|_| ())
    }
}

/// The four key-based operation kinds with an `Init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// `C_SignInit`.
    Sign,
    /// `C_VerifyInit`.
    Verify,
    /// `C_EncryptInit`.
    Encrypt,
    /// `C_DecryptInit`.
    Decrypt,
}

/// Which call of a multi-part operation.
#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    /// The single-part call with all data.
    Single(&'a [u8]),
    /// An `Update` with more data.
    Update(&'a [u8]),
    /// The `Final`.
    Final,
}

/// The length-query convention (§5.2): NULL buffer → length, operation
/// stays; short buffer → `TooSmall`, output kept for the repeated call.
fn deliver<T: ?Sized>(
    pending: &mut Option<Zeroizing<Vec<u8>>>,
    cap: Option<usize>,
    hint: usize,
    compute: impl FnOnce(&mut Box<T>) -> Result<Zeroizing<Vec<u8>>>,
    op: &mut Box<T>,
) -> Result<Produced> {
    if pending.is_none() && cap.is_none() {
        return Ok(Produced::Query(hint));
    }
    let out = match pending.take() {
        Some(p) => p,
        None => compute(op)?,
    };
    match cap {
        None => {
            let n = out.len();
            *pending = Some(out);
            Ok(Produced::Query(n))
        }
        Some(c) if c < out.len() => {
            let n = out.len();
            *pending = Some(out);
            Ok(Produced::TooSmall(n))
        }
        Some(_) => Ok(Produced::Data(out)),
    }
}

/// The encryption or decryption operation slot of a session.
fn cipher_slot(
    s: &mut crate::session::Session,
    encrypt: bool,
) -> &mut Option<crate::session::Active<dyn mechanisms::Cipher>> {
    if encrypt {
        &mut s.encrypt
    } else {
        &mut s.decrypt
    }
}

/// Ends the operation in `slot` on error or when a single-part or final
/// call delivered its output.
fn finish_step<T: ?Sized>(
    slot: &mut Option<Active<T>>,
    r: Result<Produced>,
    step: Step<'_>,
) -> Result<Produced> {
    match (&r, step) {
        (Err(_), _) | (Ok(Produced::Data(_)), Step::Single(_) | Step::Final) => *slot = None,
        _ => {}
    }
    r
}

/// Applies an already checked template to an object.
fn apply_changes(obj: &mut Object, tpl: &Object) {
    for (a, v) in tpl.iter() {
        obj.set_bytes(a, v);
    }
}
