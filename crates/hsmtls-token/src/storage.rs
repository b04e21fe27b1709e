//! Persistent token storage: the [`Storage`] trait and its SQLite
//! implementation, and the at-rest encryption format.
//!
//! # Database (one file per token, `<token dir>/token.sqlite3`)
//!
//! ```text
//! meta(name TEXT PRIMARY KEY, value BLOB)     token-wide values, below
//! objects(uid INTEGER PRIMARY KEY,            random 63-bit id
//!         private INTEGER,                    CKA_PRIVATE
//!         plain BLOB,                         attributes readable without PIN
//!         sealed BLOB)                        AES-256-GCM under the token key
//! ```
//!
//! Every change (create, modify, destroy, init token, PIN change) is one
//! SQLite transaction in WAL mode with `synchronous=FULL`: a crash leaves
//! either the old or the new state.
//!
//! # Keys at rest
//!
//! A random 256-bit *token key* encrypts object secrets. It is stored
//! twice, wrapped under a key derived from the SO PIN (`so_wrap`) and under
//! a key derived from the user PIN (`user_wrap`):
//!
//! ```text
//! pin_key  = PBKDF2-HMAC-SHA256(PIN, salt (16 random bytes), kdf_iterations) → 32 bytes
//! wrap     = nonce (12) || AES-256-GCM(pin_key, nonce, aad, token_key) || tag (16)
//! aad      = "hsmtls-token v1 so-wrap" | "hsmtls-token v1 user-wrap"
//! ```
//!
//! A wrong PIN fails the GCM tag check; there is no separate PIN hash. The
//! SO can set a new user PIN (`C_InitPIN`) by unwrapping the token key with
//! the SO PIN and wrapping it under the new user PIN key, without reading
//! any object. An object row is split: for a public object (`private = 0`)
//! `plain` holds its non-secret attributes and `sealed` its secret ones
//! (`CKA_VALUE` of keys); for a private object `plain` is empty and
//! `sealed` holds all attributes. Both are in the attribute serialisation
//! of [`crate::object::Object::serialize`].
//!
//! ```text
//! sealed = nonce (12) || AES-256-GCM(token_key, nonce, aad, attributes) || tag (16)
//! aad    = "hsmtls-token v1 object" || uid (8 bytes LE) || plain
//! ```
//!
//! Binding `plain` into the tag means the public attributes of an object
//! with secrets (e.g. `CKA_SENSITIVE`) cannot be edited in the file.
//!
//! Meta names: `format` ("1"), `label` (32 bytes), `serial` (16 bytes),
//! `kdf_iterations` (u32 LE), `so_salt`, `so_wrap`, `user_salt`,
//! `user_wrap`, `so_failures`, `user_failures` (u32 LE).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use aws_lc_rs::pbkdf2;
use cryptoki_sys::*;
use hsmtls_crypto::aead::{AeadAlg, AeadKey, NONCE_LEN, TAG_LEN};
use rusqlite::{params, Connection};
use zeroize::Zeroizing;

use crate::error::{err, Result};

/// One object row.
#[derive(Clone)]
pub struct StoredObject {
    /// Row id.
    pub uid: i64,
    /// `CKA_PRIVATE`.
    pub private: bool,
    /// Attributes stored in clear.
    pub plain: Vec<u8>,
    /// Encrypted attributes (may be empty).
    pub sealed: Vec<u8>,
}

impl core::fmt::Debug for StoredObject {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoredObject")
            .field("uid", &self.uid)
            .finish()
    }
}

/// One change in a transaction.
#[derive(Debug)]
pub enum Change {
    /// Sets a meta value.
    SetMeta(&'static str, Vec<u8>),
    /// Removes a meta value.
    DeleteMeta(&'static str),
    /// Inserts or replaces an object row.
    PutObject(StoredObject),
    /// Deletes an object row.
    DeleteObject(i64),
    /// Deletes all object rows and all meta values (C_InitToken).
    Wipe,
}

/// Where a token keeps its state.
pub trait Storage: Send + Sync {
    /// All meta values.
    fn meta(&self) -> Result<HashMap<String, Vec<u8>>>;
    /// All object rows.
    fn objects(&self) -> Result<Vec<StoredObject>>;
    /// Applies `changes` atomically.
    fn apply(&self, changes: Vec<Change>) -> Result<()>;
}

/// [`Storage`] in an SQLite database.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
}

impl core::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SqliteStorage")
    }
}

/// The database file name inside a token directory.
pub const DB_FILE: &str = "token.sqlite3";

impl SqliteStorage {
    /// Opens (creating if needed) the database of the token directory `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|_| crate::error::Error::new(CKR_DEVICE_ERROR))?;
        let conn = Connection::open(dir.join(DB_FILE))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS objects (uid INTEGER PRIMARY KEY,
                 private INTEGER NOT NULL, plain BLOB NOT NULL, sealed BLOB NOT NULL);",
        )?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Storage for SqliteStorage {
    fn meta(&self) -> Result<HashMap<String, Vec<u8>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT name, value FROM meta")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (k, v) = row?;
            out.insert(k, v);
        }
        Ok(out)
    }

    fn objects(&self) -> Result<Vec<StoredObject>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT uid, private, plain, sealed FROM objects")?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredObject {
                uid: r.get(0)?,
                private: r.get::<_, i64>(1)? != 0,
                plain: r.get(2)?,
                sealed: r.get(3)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Into::into)
    }

    fn apply(&self, changes: Vec<Change>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for c in changes {
            match c {
                Change::SetMeta(k, v) => {
                    tx.execute(
                        "INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)",
                        params![k, v],
                    )?;
                }
                Change::DeleteMeta(k) => {
                    tx.execute("DELETE FROM meta WHERE name = ?1", params![k])?;
                }
                Change::PutObject(o) => {
                    tx.execute(
                        "INSERT OR REPLACE INTO objects (uid, private, plain, sealed)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![o.uid, i64::from(o.private), o.plain, o.sealed],
                    )?;
                }
                Change::DeleteObject(uid) => {
                    tx.execute("DELETE FROM objects WHERE uid = ?1", params![uid])?;
                }
                Change::Wipe => {
                    tx.execute("DELETE FROM objects", [])?;
                    tx.execute("DELETE FROM meta", [])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// A 256-bit key (token key or PIN-derived key).
pub type Key256 = Zeroizing<[u8; 32]>;

/// AAD of the SO wrapping of the token key.
pub const AAD_SO_WRAP: &[u8] = b"hsmtls-token v1 so-wrap";
/// AAD of the user wrapping of the token key.
pub const AAD_USER_WRAP: &[u8] = b"hsmtls-token v1 user-wrap";

/// `PBKDF2-HMAC-SHA256(pin, salt, iterations)`.
pub fn pin_key(pin: &[u8], salt: &[u8], iterations: u32) -> Key256 {
    let mut out = Zeroizing::new([0u8; 32]);
    let iterations =
        core::num::NonZeroU32::new(iterations.max(1)).unwrap_or(core::num::NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        pin,
        &mut out[..],
    );
    out
}

/// Random bytes from the library's generator.
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    hsmtls_crypto::fill_random(&mut out)?;
    Ok(out)
}

/// A fresh token key.
pub fn new_key() -> Result<Key256> {
    let mut k = Zeroizing::new([0u8; 32]);
    hsmtls_crypto::fill_key(&mut k[..])?;
    Ok(k)
}

/// `nonce || AES-256-GCM(key, nonce, aad, plaintext) || tag`.
pub fn seal(key: &Key256, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let nonce: [u8; NONCE_LEN] = random()?;
    let aead = AeadKey::new(AeadAlg::Aes256Gcm, &key[..])?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = aead.seal_in_place_separate_tag(nonce, aad, &mut out[NONCE_LEN..])?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// The inverse of [`seal`]; any failure (wrong key, tampering) is
/// `CKR_PIN_INCORRECT`-neutral `Err` with `CKR_DEVICE_ERROR`.
pub fn open(key: &Key256, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return err(CKR_DEVICE_ERROR);
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&sealed[..NONCE_LEN]);
    let aead = AeadKey::new(AeadAlg::Aes256Gcm, &key[..])?;
    let mut buf = Zeroizing::new(sealed[NONCE_LEN..].to_vec());
    let n = aead
        .open_in_place(nonce, aad, &mut buf)
        .map_err(|_| crate::error::Error::new(CKR_DEVICE_ERROR))?;
    buf.truncate(n);
    Ok(buf)
}

/// The AAD of object `uid` whose clear part is `plain`.
pub fn object_aad(uid: i64, plain: &[u8]) -> Vec<u8> {
    let mut aad = b"hsmtls-token v1 object".to_vec();
    aad.extend_from_slice(&uid.to_le_bytes());
    aad.extend_from_slice(plain);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let k = new_key().unwrap();
        let s = seal(&k, b"aad", b"secret").unwrap();
        assert_eq!(&open(&k, b"aad", &s).unwrap()[..], b"secret");
        assert!(open(&k, b"aaD", &s).is_err());
        let mut t = s.clone();
        t[15] ^= 1;
        assert!(open(&k, b"aad", &t).is_err());
        assert!(open(&k, b"aad", &s[..20]).is_err());
        let other = new_key().unwrap();
        assert!(open(&other, b"aad", &s).is_err());
    }

    #[test]
    fn pbkdf2_rfc7914_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1), first 32 bytes.
        let k = pin_key(b"passwd", b"salt", 1);
        assert_eq!(k[..8], [0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f]);
    }

    #[test]
    fn sqlite_transactions() {
        let dir = std::env::temp_dir().join(format!("hsmtls-token-st-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = SqliteStorage::open(&dir).unwrap();
        s.apply(vec![
            Change::SetMeta("label", b"x".to_vec()),
            Change::PutObject(StoredObject {
                uid: 7,
                private: true,
                plain: vec![],
                sealed: vec![1],
            }),
        ])
        .unwrap();
        assert_eq!(s.objects().unwrap().len(), 1);
        assert_eq!(s.meta().unwrap().get("label").unwrap(), b"x");
        s.apply(vec![Change::DeleteObject(7)]).unwrap();
        assert!(s.objects().unwrap().is_empty());
        s.apply(vec![Change::Wipe]).unwrap();
        assert!(s.meta().unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
