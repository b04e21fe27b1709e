//! TLS 1.3 (RFC 8446) with the whole key schedule in the token.
//!
//! | operation                 | PKCS#11                                                     |
//! |---------------------------|-------------------------------------------------------------|
//! | `HKDF-Extract(salt, IKM)` | `C_DeriveKey CKM_HKDF_DERIVE`, `bExtract`, IKM = base key, salt `CKF_HKDF_SALT_KEY` (or `_NULL`) |
//! | `HKDF-Expand-Label`       | `C_DeriveKey CKM_HKDF_DERIVE`, `bExpand`, `pInfo` = `HkdfLabel` |
//! | next stage secret         | hsmtls-token: `C_DeriveKey CKM_HSMTLS_TLS13_NEXT_SECRET`; else `"derived"` expand, then extract |
//! | traffic secret + key, IV  | hsmtls-token: `C_DeriveKey CKM_HSMTLS_TLS13_TRAFFIC_SECRET`; else expand, then the record key |
//! | exporter, record IV       | `C_DeriveKey CKM_HKDF_DATA` (a `CKO_DATA` object, read, destroyed) |
//! | Finished, PSK binder      | expand-label `"finished"` to a key, `C_Sign CKM_SHA256_HMAC` / `CKM_SHA384_HMAC` |
//! | record protection         | expand-label `"key"` to a `CKK_AES` / `CKK_CHACHA20` key, `C_Encrypt` / `C_Decrypt` per record |
//!
//! Every derived secret is a session object, `CKA_SENSITIVE` and not
//! `CKA_EXTRACTABLE`; only the IV (RFC 8446 §7.3, public by the seam's
//! rules) and exporter output come out, through `CKM_HKDF_DATA`.
//!
//! Where RFC 8446 §7.1 feeds `Hash.length` zero bytes as the IKM (the
//! master secret; the early secret without a PSK), the zeros are a public
//! generic-secret object made for the one call. An all-zero salt is
//! `CKF_HKDF_SALT_NULL` (RFC 5869 §2.2: the same thing).

use core::fmt;
use core::ops::Range;
use std::sync::Arc;

use cryptoki_sys as sys;
use hsmtls_crypto::hkdf::hkdf_label;
use hsmtls_keys::{
    AeadAlgorithm, Digest, HashAlgorithm, KeyError, RecordProtector, Secret, SecretUsage,
};

use crate::ffi::{Attr, Mech, CK_OBJECT_HANDLE};
use crate::objects::{ObjectKind, SecretObject, SecretValue, TokenObject};
use crate::{derive_only, hash_alg, prf_mechanism, secret_template, store_err, Pkcs11Store, Token};

const TAG_LEN: usize = 16;
const NONCE_LEN: usize = 12;

/// The TLS 1.3 key schedule's public constants for one hash (RFC 8446
/// §7.1 without a PSK: `Early Secret = HKDF-Extract(0, 0)` and
/// `Derive-Secret(Early Secret, "derived", "")` are the same in every
/// handshake), made in the token once per store, kept as locked objects
/// like every other stage: the early secret is lent to each connection,
/// the "derived" secret salts its handshake secret
/// (`tls13_next_secret`), the zero key is the IKM of master secrets where
/// the token has no `CKM_HSMTLS_TLS13_NEXT_SECRET`.
pub(crate) struct Tls13Constants {
    hash: HashAlgorithm,
    zero: TokenObject,
    early: TokenObject,
    derived: TokenObject,
}

/// A secret as an HKDF key object: the token's own, or (for a secret this
/// store keeps in software under a relaxation, or a ticket's PSK) a
/// sensitive copy made for the one call.
struct KeyRef {
    handle: CK_OBJECT_HANDLE,
    _temporary: Option<TokenObject>,
}

fn hmac_mechanism(hash: HashAlgorithm) -> sys::CK_MECHANISM_TYPE {
    match hash {
        HashAlgorithm::Sha256 => sys::CKM_SHA256_HMAC,
        HashAlgorithm::Sha384 => sys::CKM_SHA384_HMAC,
        HashAlgorithm::Sha512 => sys::CKM_SHA512_HMAC,
    }
}

fn label_info(len: usize, label: &[u8], context: &[u8]) -> Result<Vec<u8>, KeyError> {
    hkdf_label(len, label, context)
        .map_err(|_| KeyError::InvalidParameter("HKDF label or context too long"))
}

impl Pkcs11Store {
    /// The TLS 1.3 AEADs this token runs entirely: HKDF derive and data,
    /// HMAC for Finished, and the AEAD itself.
    pub(crate) fn tls13_aeads(&self) -> Vec<AeadAlgorithm> {
        [
            AeadAlgorithm::Aes128Gcm,
            AeadAlgorithm::Aes256Gcm,
            AeadAlgorithm::Chacha20Poly1305,
        ]
        .into_iter()
        .filter(|&a| self.tls13_runs(a))
        .collect()
    }

    /// Whether the token runs TLS 1.3 with `aead` entirely (see
    /// [`Self::tls13_aeads`]).
    fn tls13_runs(&self, aead: AeadAlgorithm) -> bool {
        let p = &self.plan;
        p.has(sys::CKM_HKDF_DERIVE)
            && p.has(sys::CKM_HKDF_DATA)
            && p.has(sys::CKM_SHA256_HMAC)
            && match aead {
                AeadAlgorithm::Aes128Gcm => p.has(sys::CKM_AES_GCM),
                AeadAlgorithm::Aes256Gcm => p.has(sys::CKM_AES_GCM) && p.has(sys::CKM_SHA384_HMAC),
                AeadAlgorithm::Chacha20Poly1305 => p.has(sys::CKM_CHACHA20_POLY1305),
            }
    }

    fn tls13_check(&self, hash: HashAlgorithm) -> Result<(), KeyError> {
        if !self.plan.has(sys::CKM_HKDF_DERIVE) {
            return Err(KeyError::Unsupported(
                "TLS 1.3 key schedule (no CKM_HKDF_DERIVE in the token)",
            ));
        }
        if hash == HashAlgorithm::Sha512 {
            return Err(KeyError::Unsupported("TLS 1.3 with SHA-512"));
        }
        Ok(())
    }

    fn hkdf_key(&self, secret: &Secret) -> Result<KeyRef, KeyError> {
        let object = self.own(secret.downcast::<SecretObject>()?, "Secret")?;
        if object.usage == SecretUsage::Master {
            return Err(KeyError::WrongHandle("TLS 1.2 master secret in TLS 1.3"));
        }
        match &object.value {
            SecretValue::Token(o) => Ok(KeyRef {
                handle: o.handle,
                _temporary: None,
            }),
            SecretValue::Software(v) => {
                let mut t = secret_template(sys::CKK_GENERIC_SECRET, true);
                t.extend(derive_only());
                t.push(Attr::bytes(sys::CKA_VALUE, v));
                let o = self.create(&t, ObjectKind::Tls13Secret)?;
                Ok(KeyRef {
                    handle: o.handle,
                    _temporary: Some(o),
                })
            }
        }
    }

    fn create(&self, template: &[Attr], kind: ObjectKind) -> Result<TokenObject, KeyError> {
        let h = self.create_object(template)?;
        Ok(TokenObject::new(&self.token, h, kind))
    }

    /// `Hash.length` zero bytes as an HKDF key (public).
    fn zero_key(&self, hash: HashAlgorithm) -> Result<TokenObject, KeyError> {
        let zeros = [0u8; 64];
        let mut t = secret_template(sys::CKK_GENERIC_SECRET, false);
        t.push(Attr::bool(sys::CKA_DERIVE, true));
        t.push(Attr::bytes(sys::CKA_VALUE, &zeros[..hash.output_len()]));
        self.create(&t, ObjectKind::ZeroKey)
    }

    /// `C_DeriveKey CKM_HKDF_DERIVE` expand-only into a locked key of
    /// `key_type` and `len` bytes, with `extra` attributes.
    fn expand_label_key(
        &self,
        hash: HashAlgorithm,
        base: &Secret,
        label: &[u8],
        context: &[u8],
        spec: (sys::CK_KEY_TYPE, usize, Vec<Attr>),
    ) -> Result<CK_OBJECT_HANDLE, KeyError> {
        self.tls13_check(hash)?;
        let base = self.hkdf_key(base)?;
        self.expand_label_handle(hash, base.handle, label, context, spec)
    }

    /// [`Self::expand_label_key`] from a base key handle.
    fn expand_label_handle(
        &self,
        hash: HashAlgorithm,
        base: CK_OBJECT_HANDLE,
        label: &[u8],
        context: &[u8],
        (key_type, len, extra): (sys::CK_KEY_TYPE, usize, Vec<Attr>),
    ) -> Result<CK_OBJECT_HANDLE, KeyError> {
        let info = label_info(len, label, context)?;
        let mut t = secret_template(key_type, true);
        t.push(Attr::ulong(sys::CKA_VALUE_LEN, len as sys::CK_ULONG));
        t.extend(extra);
        self.derive(
            &Mech::Hkdf {
                mechanism: sys::CKM_HKDF_DERIVE,
                extract: false,
                expand: true,
                prf: prf_mechanism(hash),
                salt_key: None,
                info: &info,
            },
            base,
            &t,
        )
    }

    /// `C_DeriveKey CKM_HKDF_DERIVE` extract-only: a locked
    /// `Hash.length`-byte secret from `ikm` and `salt` (none: zeros).
    fn extract_handle(
        &self,
        hash: HashAlgorithm,
        salt: Option<CK_OBJECT_HANDLE>,
        ikm: CK_OBJECT_HANDLE,
    ) -> Result<CK_OBJECT_HANDLE, KeyError> {
        let mut t = secret_template(sys::CKK_GENERIC_SECRET, true);
        t.push(Attr::ulong(
            sys::CKA_VALUE_LEN,
            hash.output_len() as sys::CK_ULONG,
        ));
        t.extend(derive_only());
        self.derive(
            &Mech::Hkdf {
                mechanism: sys::CKM_HKDF_DERIVE,
                extract: true,
                expand: false,
                prf: prf_mechanism(hash),
                salt_key: salt,
                info: &[],
            },
            ikm,
            &t,
        )
    }

    /// The schedule's public constants for `hash`, made in the token once
    /// (at open): see [`Tls13Constants`].
    pub(crate) fn make_tls13_constants(
        &self,
        hash: HashAlgorithm,
    ) -> Result<Tls13Constants, KeyError> {
        self.tls13_check(hash)?;
        let zero = self.zero_key(hash)?;
        let early = self.extract_handle(hash, None, zero.handle)?;
        let early = TokenObject::new(&self.token, early, ObjectKind::Tls13Secret);
        let empty = hsmtls_crypto::hash::digest(hash_alg(hash), b"");
        let derived = self.expand_label_handle(
            hash,
            early.handle,
            b"derived",
            &empty,
            (
                sys::CKK_GENERIC_SECRET,
                hash.output_len(),
                derive_only().into(),
            ),
        )?;
        Ok(Tls13Constants {
            hash,
            zero,
            early,
            derived: TokenObject::new(&self.token, derived, ObjectKind::Tls13Secret),
        })
    }

    fn constants(&self, hash: HashAlgorithm) -> Option<&Tls13Constants> {
        self.tls13_constants.iter().find(|c| c.hash == hash)
    }

    /// A secret handle on a store-owned object (not destroyed with it).
    fn borrowed_secret(&self, object: &TokenObject) -> Secret {
        let borrowed = TokenObject::borrowed(&self.token, object.handle, object.kind);
        let value = SecretObject {
            id: crate::next_id(),
            store: self.id,
            usage: SecretUsage::Tls13,
            value: SecretValue::Token(borrowed),
        };
        Secret::new(Box::new(value), SecretUsage::Tls13)
    }

    pub(crate) fn tls13_extract(
        &self,
        hash: HashAlgorithm,
        salt: Option<&Secret>,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        self.tls13_check(hash)?;
        let constants = self.constants(hash);
        // Without a PSK the early secret is a constant (RFC 8446 §7.1).
        if let (None, None, Some(c)) = (salt, ikm, constants) {
            return Ok(self.borrowed_secret(&c.early));
        }
        let salt = salt.map(|s| self.hkdf_key(s)).transpose()?;
        let (ikm_handle, _ikm_ref, _zero) = match (ikm, constants) {
            (Some(s), _) => {
                let k = self.hkdf_key(s)?;
                (k.handle, Some(k), None)
            }
            // The master secret's zero IKM: the store's zero key.
            (None, Some(c)) => (c.zero.handle, None, None),
            (None, None) => {
                let z = self.zero_key(hash)?;
                (z.handle, None, Some(z))
            }
        };
        let h = self.extract_handle(hash, salt.as_ref().map(|s| s.handle), ikm_handle)?;
        Ok(self.token_secret(SecretUsage::Tls13, h, ObjectKind::Tls13Secret))
    }

    /// `HKDF-Extract(Derive-Secret(secret, "derived", ""), IKM)` in one
    /// `C_DeriveKey` with hsmtls-token's `CKM_HSMTLS_TLS13_NEXT_SECRET`;
    /// in the two standard steps on other tokens, and from the store's
    /// constant early secret (whose "derived" secret is a constant too).
    pub(crate) fn tls13_next_secret(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        self.tls13_check(hash)?;
        let base = self.hkdf_key(secret)?;
        if let Some(c) = self
            .constants(hash)
            .filter(|c| base.handle == c.early.handle)
        {
            // Without a PSK the salt is the store's constant "derived"
            // secret: one extraction.
            let ikm_key = ikm.map(|s| self.hkdf_key(s)).transpose()?;
            let ikm_handle = ikm_key.as_ref().map_or(c.zero.handle, |k| k.handle);
            let h = self.extract_handle(hash, Some(c.derived.handle), ikm_handle)?;
            return Ok(self.token_secret(SecretUsage::Tls13, h, ObjectKind::Tls13Secret));
        }
        if !self.plan.has(crate::CKM_HSMTLS_TLS13_NEXT_SECRET) {
            drop(base);
            return hsmtls_keys::tls13_next_secret_in_steps(self, hash, secret, ikm);
        }
        let ikm = ikm.map(|s| self.hkdf_key(s)).transpose()?;
        let mut t = secret_template(sys::CKK_GENERIC_SECRET, true);
        t.push(Attr::ulong(
            sys::CKA_VALUE_LEN,
            hash.output_len() as sys::CK_ULONG,
        ));
        t.extend(derive_only());
        let h = self.derive(
            &Mech::Tls13NextSecret {
                prf: prf_mechanism(hash),
                ikm: ikm.as_ref().map(|k| k.handle),
            },
            base.handle,
            &t,
        )?;
        Ok(self.token_secret(SecretUsage::Tls13, h, ObjectKind::Tls13Secret))
    }

    pub(crate) fn tls13_expand_label(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        usage: SecretUsage,
    ) -> Result<Secret, KeyError> {
        let finished = usage == SecretUsage::FinishedKey;
        let extra = if finished {
            vec![
                Attr::bool(sys::CKA_SIGN, true),
                Attr::bool(sys::CKA_VERIFY, true),
            ]
        } else {
            derive_only().into()
        };
        let h = self.expand_label_key(
            hash,
            secret,
            label,
            context,
            (sys::CKK_GENERIC_SECRET, hash.output_len(), extra),
        )?;
        let kind = if finished {
            ObjectKind::FinishedKey
        } else {
            ObjectKind::Tls13Secret
        };
        Ok(self.token_secret(usage, h, kind))
    }

    /// `CKM_HKDF_DATA`: for the public outputs of TLS 1.3 only (IV,
    /// exporter); a token may refuse others from a sensitive key.
    pub(crate) fn tls13_expand_label_data(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), KeyError> {
        self.tls13_check(hash)?;
        if !self.plan.has(sys::CKM_HKDF_DATA) {
            return Err(KeyError::Unsupported("CKM_HKDF_DATA not in the token"));
        }
        let base = self.hkdf_key(secret)?;
        let info = label_info(out.len(), label, context)?;
        let t = [
            Attr::ulong(sys::CKA_CLASS, sys::CKO_DATA),
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::ulong(sys::CKA_VALUE_LEN, out.len() as sys::CK_ULONG),
        ];
        let h = self.derive(
            &Mech::Hkdf {
                mechanism: sys::CKM_HKDF_DATA,
                extract: false,
                expand: true,
                prf: prf_mechanism(hash),
                salt_key: None,
                info: &info,
            },
            base.handle,
            &t,
        )?;
        let object = TokenObject::new(&self.token, h, ObjectKind::PublicKey);
        let v = self.read_value(object.handle)?;
        if v.len() != out.len() {
            return Err(KeyError::Store(
                "token returned HKDF data of a wrong length".into(),
            ));
        }
        out.copy_from_slice(&v);
        Ok(())
    }

    pub(crate) fn tls13_finished(
        &self,
        hash: HashAlgorithm,
        base_key: &Secret,
        transcript_hash: &[u8],
    ) -> Result<Digest, KeyError> {
        if self.plan.has(crate::CKM_HSMTLS_TLS13_FINISHED) {
            // One C_Sign keyed by the traffic secret (vendor mechanism).
            self.tls13_check(hash)?;
            let secret = self.hkdf_key(base_key)?;
            let mech = Mech::Ulong {
                mechanism: crate::CKM_HSMTLS_TLS13_FINISHED,
                value: prf_mechanism(hash),
            };
            return self.finished_mac(hash, &mech, secret.handle, transcript_hash);
        }
        let mech = hmac_mechanism(hash);
        if !self.plan.has(mech) {
            return Err(KeyError::Unsupported("HMAC for TLS 1.3 Finished"));
        }
        let finished =
            self.tls13_expand_label(hash, base_key, b"finished", b"", SecretUsage::FinishedKey)?;
        let object = self.own(finished.downcast::<SecretObject>()?, "Secret")?;
        let SecretValue::Token(key) = &object.value else {
            return Err(KeyError::Store("finished key outside the token".into()));
        };
        self.finished_mac(hash, &Mech::Plain(mech), key.handle, transcript_hash)
    }

    /// The `Hash.length`-byte MAC of a Finished (or binder) by `C_Sign`.
    fn finished_mac(
        &self,
        hash: HashAlgorithm,
        mech: &Mech<'_>,
        key: CK_OBJECT_HANDLE,
        transcript_hash: &[u8],
    ) -> Result<Digest, KeyError> {
        let session = self.token.session().map_err(store_err)?;
        let mac = self
            .token
            .module
            .sign(
                session.handle,
                mech,
                key,
                transcript_hash,
                hash.output_len(),
            )
            .map_err(store_err)?;
        if mac.len() != hash.output_len() {
            return Err(KeyError::Store(
                "token returned a short Finished MAC".into(),
            ));
        }
        Ok(Digest::new(&mac))
    }

    /// The traffic key's type, length and template for `aead` (refused
    /// when the token cannot run it).
    fn traffic_key_template(
        &self,
        aead: AeadAlgorithm,
    ) -> Result<(sys::CK_KEY_TYPE, usize, Vec<Attr>), KeyError> {
        if !self.tls13_runs(aead) {
            return Err(KeyError::Unsupported("TLS 1.3 AEAD not in the token"));
        }
        let (key_type, key_len) = match aead {
            AeadAlgorithm::Aes128Gcm => (sys::CKK_AES, 16),
            AeadAlgorithm::Aes256Gcm => (sys::CKK_AES, 32),
            AeadAlgorithm::Chacha20Poly1305 => (sys::CKK_CHACHA20, 32),
        };
        let extra = vec![
            Attr::bool(sys::CKA_ENCRYPT, true),
            Attr::bool(sys::CKA_DECRYPT, true),
        ];
        Ok((key_type, key_len, extra))
    }

    /// The record protector over a traffic key object and its IV.
    fn token_aead(
        &self,
        key: TokenObject,
        iv: [u8; NONCE_LEN],
        aead: AeadAlgorithm,
    ) -> Box<dyn RecordProtector> {
        Box::new(Tls13TokenAead {
            token: self.token.clone(),
            key,
            iv,
            chacha: aead == AeadAlgorithm::Chacha20Poly1305,
            scratch: crate::record::Scratch::default(),
        })
    }

    pub(crate) fn tls13_protector(
        &self,
        hash: HashAlgorithm,
        traffic_secret: &Secret,
        aead: AeadAlgorithm,
    ) -> Result<Box<dyn RecordProtector>, KeyError> {
        let (key_type, key_len, extra) = self.traffic_key_template(aead)?;
        let mut iv = [0u8; NONCE_LEN];
        let key = if self.plan.has(crate::CKM_HSMTLS_TLS13_KEY_AND_IV) {
            // hsmtls-token: key and IV in one call.
            self.tls13_check(hash)?;
            let base = self.hkdf_key(traffic_secret)?;
            let mut t = secret_template(key_type, true);
            t.push(Attr::ulong(sys::CKA_VALUE_LEN, key_len as sys::CK_ULONG));
            t.extend(extra);
            let session = self.token.session().map_err(store_err)?;
            let h = self
                .token
                .module
                .derive_tls13_key_and_iv(
                    session.handle,
                    base.handle,
                    prf_mechanism(hash),
                    &t,
                    &mut iv,
                )
                .map_err(store_err)?;
            TokenObject::new(&self.token, h, ObjectKind::TrafficKey)
        } else {
            let h = self.expand_label_key(
                hash,
                traffic_secret,
                b"key",
                b"",
                (key_type, key_len, extra),
            )?;
            // Owned before the IV is derived: destroyed if that fails.
            let key = TokenObject::new(&self.token, h, ObjectKind::TrafficKey);
            self.tls13_expand_label_data(hash, traffic_secret, b"iv", b"", &mut iv)?;
            key
        };
        Ok(self.token_aead(key, iv, aead))
    }

    /// A traffic secret with its record protection: in one `C_DeriveKey`
    /// with hsmtls-token's `CKM_HSMTLS_TLS13_TRAFFIC_SECRET`, in two steps
    /// elsewhere.
    pub(crate) fn tls13_traffic_secret(
        &self,
        hash: HashAlgorithm,
        base: &Secret,
        label: &[u8],
        context: &[u8],
        aead: AeadAlgorithm,
    ) -> Result<(Secret, Box<dyn RecordProtector>), KeyError> {
        if !self.plan.has(crate::CKM_HSMTLS_TLS13_TRAFFIC_SECRET) {
            return hsmtls_keys::tls13_traffic_secret_in_steps(
                self, hash, base, label, context, aead,
            );
        }
        self.tls13_check(hash)?;
        let (key_type, key_len, extra) = self.traffic_key_template(aead)?;
        let base = self.hkdf_key(base)?;
        let info = label_info(hash.output_len(), label, context)?;
        let mut t = secret_template(sys::CKK_GENERIC_SECRET, true);
        t.push(Attr::ulong(
            sys::CKA_VALUE_LEN,
            hash.output_len() as sys::CK_ULONG,
        ));
        t.extend(derive_only());
        let mut kt = secret_template(key_type, true);
        kt.push(Attr::ulong(sys::CKA_VALUE_LEN, key_len as sys::CK_ULONG));
        kt.extend(extra);
        let mut iv = [0u8; NONCE_LEN];
        let session = self.token.session().map_err(store_err)?;
        let (secret, key) = self
            .token
            .module
            .derive_tls13_traffic(
                session.handle,
                base.handle,
                prf_mechanism(hash),
                &info,
                &t,
                &kt,
                &mut iv,
            )
            .map_err(store_err)?;
        drop(session);
        let secret = self.token_secret(SecretUsage::Tls13, secret, ObjectKind::Tls13Secret);
        let key = TokenObject::new(&self.token, key, ObjectKind::TrafficKey);
        Ok((secret, self.token_aead(key, iv, aead)))
    }
}

/// TLS 1.3 record protection in the token (RFC 8446 §5.2, §5.3): one
/// `C_Encrypt` / `C_Decrypt` per record, the nonce the IV XOR the
/// sequence number, the record header as additional data.
struct Tls13TokenAead {
    token: Arc<Token>,
    key: TokenObject,
    /// `HKDF-Expand-Label(secret, "iv", "", 12)`: public (RFC 8446 §7.3).
    iv: [u8; NONCE_LEN],
    chacha: bool,
    /// Decrypted records land here before they replace the ciphertext.
    scratch: crate::record::Scratch,
}

impl fmt::Debug for Tls13TokenAead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pkcs11:tls13-{}-record(key #{})",
            if self.chacha { "chacha" } else { "gcm" },
            self.key.handle
        )
    }
}

impl Tls13TokenAead {
    fn nonce(&self, seq: u64) -> [u8; NONCE_LEN] {
        let mut nonce = self.iv;
        for (n, s) in nonce[NONCE_LEN - 8..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    fn mech<'a>(&self, nonce: &'a [u8], aad: &'a [u8]) -> Mech<'a> {
        if self.chacha {
            Mech::ChaCha20Poly1305 { nonce, aad }
        } else {
            Mech::Gcm { iv: nonce, aad }
        }
    }
}

fn header(content_type: u8, version: u16, len: usize) -> Option<[u8; 5]> {
    let len = u16::try_from(len).ok()?;
    let mut h = [0u8; 5];
    h[0] = content_type;
    h[1..3].copy_from_slice(&version.to_be_bytes());
    h[3..].copy_from_slice(&len.to_be_bytes());
    Some(h)
}

impl RecordProtector for Tls13TokenAead {
    fn seal(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), KeyError> {
        let aad = header(content_type, version, plaintext.len() + TAG_LEN)
            .ok_or(KeyError::InvalidParameter("record too long"))?;
        let nonce = self.nonce(seq);
        crate::record::seal_aead_into(
            &self.token,
            &self.mech(&nonce, &aad),
            self.key.handle,
            plaintext,
            out,
        )
    }

    fn open(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, KeyError> {
        if fragment.len() < TAG_LEN {
            return Err(KeyError::BadRecordMac);
        }
        let aad = header(content_type, version, fragment.len()).ok_or(KeyError::BadRecordMac)?;
        let nonce = self.nonce(seq);
        let n = crate::record::open_aead_in_place(
            &self.token,
            &self.mech(&nonce, &aad),
            self.key.handle,
            fragment,
            &mut self.scratch,
        )?;
        Ok(0..n)
    }

    fn max_overhead(&self) -> usize {
        TAG_LEN
    }
}
