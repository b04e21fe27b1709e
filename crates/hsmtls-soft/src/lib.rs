//! The in-process [`KeyStore`]: secrets live in this process's memory,
//! zeroized when their handle is dropped, and every operation runs on
//! hsmtls-crypto (aws-lc-rs, plus AWS-LC's C API for brainpool).
//!
//! ```
//! use std::sync::Arc;
//! use hsmtls_keys::{KeyExchangeGroup, KeyStore};
//! use hsmtls_soft::SoftStore;
//!
//! let store: Arc<dyn KeyStore> = Arc::new(SoftStore::new());
//! let (share, public) = store.start_key_exchange(KeyExchangeGroup::X25519).unwrap();
//! assert_eq!(public.len(), 32);
//! # drop(share);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod objects;
mod record;

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use hsmtls_crypto::aead::{AeadAlg, AeadKey, NONCE_LEN, TAG_LEN};
use hsmtls_crypto::ecdh::EcdhPrivateKey;
use hsmtls_crypto::hash::{KeyedHmac, RunningHash};
use hsmtls_crypto::hkdf;
use hsmtls_crypto::prf::tls12_prf;
use hsmtls_crypto::record::{Tls12Aead, Tls12Cbc};
use hsmtls_crypto::record13::Tls13Aead;
use hsmtls_crypto::signing::{self, SignatureScheme, SigningKey};
use hsmtls_crypto::{CryptoError, Curve, HashAlg, KeyKind};
use hsmtls_keys::{
    AeadAlgorithm, Capabilities, Digest, FinishedLabel, HashAlgorithm, Hasher, KeyError,
    KeyExchangeGroup, KeyShare, KeyStore, MasterSecretSeed, PrivateKey, PublicKey,
    PublicKeyAlgorithm, RandomLevel, RecordCipher, RecordProtector, Secret, SecretUsage,
    SignatureAlgorithm, TicketKey, Tls12TrafficKeys,
};
use zeroize::Zeroizing;

use objects::{next_id, Owned, PrivateKeyObject, SecretObject, ShareObject, TicketKeyObject};
use record::{AeadProtector, CbcProtector, Tls13Protector};

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// The in-process key store. Use it as `Arc<dyn KeyStore>`.
///
/// Handles made by one `SoftStore` are refused by another with
/// [`KeyError::WrongHandle`].
pub struct SoftStore {
    id: u64,
}

impl fmt::Debug for SoftStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SoftStore#{}", self.id)
    }
}

impl Default for SoftStore {
    fn default() -> Self {
        Self::new()
    }
}

/// Length of the TLS 1.2 master secret (RFC 5246 §8.1).
const MASTER_SECRET_LEN: usize = 48;
/// Length of Finished `verify_data` (RFC 5246 §7.4.9).
const VERIFY_DATA_LEN: usize = 12;
/// Length of a ticket key's public name.
const TICKET_NAME_LEN: usize = 16;

impl SoftStore {
    /// A new, empty store.
    pub fn new() -> Self {
        Self {
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Imports a long-term private key: PEM (`PRIVATE KEY`, `EC PRIVATE
    /// KEY`, `RSA PRIVATE KEY`) or DER (PKCS#8, SEC 1, PKCS#1). EC keys on
    /// P-256/384/521 and brainpoolP256r1/384r1/512r1, RSA, Ed25519.
    pub fn import_private_key(&self, der_or_pem: &[u8]) -> Result<PrivateKey, KeyError> {
        let key = SigningKey::from_pem_or_der(der_or_pem).map_err(map_err)?;
        let algorithm = match key.kind() {
            KeyKind::Ec(curve) => PublicKeyAlgorithm::Ec(group_of(curve)),
            KeyKind::Rsa => PublicKeyAlgorithm::Rsa,
            KeyKind::Ed25519 => PublicKeyAlgorithm::Ed25519,
        };
        let object = PrivateKeyObject {
            id: next_id(),
            store: self.id,
            key,
        };
        Ok(PrivateKey::new(Box::new(object), algorithm))
    }

    /// The public key of a private key made by this store, in the
    /// [`PublicKey`] form (uncompressed point, DER `RSAPublicKey`, or raw
    /// Ed25519).
    pub fn public_key(&self, key: &PrivateKey) -> Result<Vec<u8>, KeyError> {
        Ok(self
            .own(key.downcast::<PrivateKeyObject>()?, "PrivateKey")?
            .key
            .public_key())
    }

    /// Imports raw secret bytes as a secret of `usage`.
    ///
    /// **For known-answer tests only** (RFC test vectors, fixed-randomness
    /// traces): a real handshake never brings a secret into a store from
    /// outside.
    pub fn import_secret(&self, usage: SecretUsage, bytes: &[u8]) -> Result<Secret, KeyError> {
        Ok(self.secret(usage, Zeroizing::new(bytes.to_vec())))
    }

    /// Imports an ephemeral key-exchange private key: the [`KeyShare`]
    /// handle and its public share as sent in TLS (32 bytes for X25519, the
    /// uncompressed point for the Weierstrass groups), as
    /// [`KeyStore::start_key_exchange`] returns them.
    ///
    /// `private` is the 32-byte X25519 private key (RFC 7748 §5, before
    /// clamping) or, for the other groups, the big-endian scalar in
    /// `[1, n-1]`.
    ///
    /// **For known-answer tests only** (RFC 8448 traces, fixed-randomness
    /// replays): a real handshake draws every share fresh with
    /// [`KeyStore::start_key_exchange`]; a share imported from outside is
    /// not ephemeral.
    pub fn import_key_share(
        &self,
        group: KeyExchangeGroup,
        private: &[u8],
    ) -> Result<(KeyShare, Vec<u8>), KeyError> {
        let key = match group {
            KeyExchangeGroup::X25519 => EcdhPrivateKey::from_x25519_private(private),
            _ => EcdhPrivateKey::from_scalar(curve_of(group), private),
        }
        .map_err(map_err)?;
        let public = key.public_key().map_err(map_err)?;
        let object = ShareObject {
            id: next_id(),
            store: self.id,
            key,
        };
        Ok((KeyShare::new(Box::new(object), group), public))
    }

    fn secret(&self, usage: SecretUsage, value: Zeroizing<Vec<u8>>) -> Secret {
        let object = SecretObject {
            id: next_id(),
            store: self.id,
            usage,
            value,
            keyed: std::sync::OnceLock::new(),
        };
        Secret::new(Box::new(object), usage)
    }

    /// Checks that `object` was made by this store.
    fn own<'a, T: Owned>(&self, object: &'a T, what: &'static str) -> Result<&'a T, KeyError> {
        if object.store() == self.id {
            Ok(object)
        } else {
            Err(KeyError::WrongHandle(what))
        }
    }

    /// The value of a secret of this store that has usage `usage`.
    fn secret_value<'a>(
        &self,
        secret: &'a Secret,
        usage: SecretUsage,
    ) -> Result<&'a [u8], KeyError> {
        let object = self.own(secret.downcast::<SecretObject>()?, "Secret")?;
        if object.usage != usage || secret.usage() != usage {
            return Err(KeyError::WrongHandle("Secret of another usage"));
        }
        Ok(&object.value)
    }

    /// The value of a secret usable in the TLS 1.3 key schedule: its stage
    /// secrets, an (EC)DHE shared secret, a PSK. A TLS 1.2 master secret
    /// is refused, as a token refuses it outside TLS 1.2 mechanisms.
    fn tls13_object<'a>(&self, secret: &'a Secret) -> Result<&'a SecretObject, KeyError> {
        let object = self.own(secret.downcast::<SecretObject>()?, "Secret")?;
        match object.usage {
            SecretUsage::Master => Err(KeyError::WrongHandle("TLS 1.2 master secret in TLS 1.3")),
            _ => Ok(object),
        }
    }

    fn tls13_value<'a>(&self, secret: &'a Secret) -> Result<&'a [u8], KeyError> {
        Ok(&self.tls13_object(secret)?.value)
    }

    /// `f` with the TLS 1.3 secret keyed for HMAC over `hash`: keyed once
    /// per secret (a connection uses one hash; another is keyed afresh).
    fn with_keyed<R>(
        &self,
        secret: &Secret,
        hash: HashAlgorithm,
        f: impl FnOnce(&KeyedHmac) -> R,
    ) -> Result<R, KeyError> {
        let object = self.tls13_object(secret)?;
        let alg = hash_of(hash);
        let keyed = object
            .keyed
            .get_or_init(|| KeyedHmac::new(alg, &object.value));
        Ok(if keyed.algorithm() == alg {
            f(keyed)
        } else {
            f(&KeyedHmac::new(alg, &object.value))
        })
    }
}

/// Maps a crypto error onto the key-store error (no secret in either).
pub(crate) fn map_err(e: CryptoError) -> KeyError {
    match e {
        CryptoError::BadRecordMac => KeyError::BadRecordMac,
        CryptoError::BadSignature => KeyError::BadSignature,
        CryptoError::InvalidPeerKey => KeyError::InvalidPeerKey,
        CryptoError::InvalidKey(why) => KeyError::InvalidKey(why.to_string()),
        CryptoError::Unsupported(what) => KeyError::Unsupported(what),
        CryptoError::InvalidParameter(what) => KeyError::InvalidParameter(what),
        CryptoError::Internal(what) => KeyError::Store(what.to_string()),
        _ => KeyError::Store("crypto failure".to_string()),
    }
}

fn hash_of(h: HashAlgorithm) -> HashAlg {
    match h {
        HashAlgorithm::Sha256 => HashAlg::Sha256,
        HashAlgorithm::Sha384 => HashAlg::Sha384,
        HashAlgorithm::Sha512 => HashAlg::Sha512,
    }
}

fn curve_of(group: KeyExchangeGroup) -> Curve {
    match group {
        KeyExchangeGroup::X25519 => Curve::X25519,
        KeyExchangeGroup::Secp256r1 => Curve::P256,
        KeyExchangeGroup::Secp384r1 => Curve::P384,
        KeyExchangeGroup::Secp521r1 => Curve::P521,
        KeyExchangeGroup::BrainpoolP256r1 => Curve::BrainpoolP256r1,
        KeyExchangeGroup::BrainpoolP384r1 => Curve::BrainpoolP384r1,
        KeyExchangeGroup::BrainpoolP512r1 => Curve::BrainpoolP512r1,
    }
}

fn group_of(curve: Curve) -> KeyExchangeGroup {
    match curve {
        Curve::X25519 => KeyExchangeGroup::X25519,
        Curve::P256 => KeyExchangeGroup::Secp256r1,
        Curve::P384 => KeyExchangeGroup::Secp384r1,
        Curve::P521 => KeyExchangeGroup::Secp521r1,
        Curve::BrainpoolP256r1 => KeyExchangeGroup::BrainpoolP256r1,
        Curve::BrainpoolP384r1 => KeyExchangeGroup::BrainpoolP384r1,
        Curve::BrainpoolP512r1 => KeyExchangeGroup::BrainpoolP512r1,
    }
}

fn scheme_of(alg: SignatureAlgorithm) -> SignatureScheme {
    use SignatureAlgorithm as S;
    match alg {
        S::EcdsaSha256 => SignatureScheme::Ecdsa(HashAlg::Sha256),
        S::EcdsaSha384 => SignatureScheme::Ecdsa(HashAlg::Sha384),
        S::EcdsaSha512 => SignatureScheme::Ecdsa(HashAlg::Sha512),
        S::RsaPkcs1Sha256 => SignatureScheme::RsaPkcs1(HashAlg::Sha256),
        S::RsaPkcs1Sha384 => SignatureScheme::RsaPkcs1(HashAlg::Sha384),
        S::RsaPkcs1Sha512 => SignatureScheme::RsaPkcs1(HashAlg::Sha512),
        S::RsaPssSha256 => SignatureScheme::RsaPss(HashAlg::Sha256),
        S::RsaPssSha384 => SignatureScheme::RsaPss(HashAlg::Sha384),
        S::RsaPssSha512 => SignatureScheme::RsaPss(HashAlg::Sha512),
        S::Ed25519 => SignatureScheme::Ed25519,
    }
}

/// A transcript hash over public data.
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

impl KeyStore for SoftStore {
    fn name(&self) -> &str {
        "soft"
    }

    fn capabilities(&self) -> Capabilities {
        use SignatureAlgorithm as S;
        Capabilities {
            groups: KeyExchangeGroup::ALL.to_vec(),
            verify: vec![
                S::EcdsaSha256,
                S::EcdsaSha384,
                S::EcdsaSha512,
                S::RsaPkcs1Sha256,
                S::RsaPkcs1Sha384,
                S::RsaPkcs1Sha512,
                S::RsaPssSha256,
                S::RsaPssSha384,
                S::RsaPssSha512,
                S::Ed25519,
            ],
            record_ciphers: vec![
                RecordCipher::Aes128Gcm,
                RecordCipher::Aes256Gcm,
                RecordCipher::Chacha20Poly1305,
                RecordCipher::Aes128CbcSha256 {
                    encrypt_then_mac: false,
                },
                RecordCipher::Aes256CbcSha384 {
                    encrypt_then_mac: false,
                },
            ],
            prf_hashes: vec![HashAlgorithm::Sha256, HashAlgorithm::Sha384],
            extended_master_secret: true,
            tls13_aeads: vec![
                AeadAlgorithm::Aes128Gcm,
                AeadAlgorithm::Aes256Gcm,
                AeadAlgorithm::Chacha20Poly1305,
            ],
        }
    }

    fn random(&self, level: RandomLevel, out: &mut [u8]) -> Result<(), KeyError> {
        let level = match level {
            RandomLevel::Nonce => hsmtls_crypto::rng::Level::Nonce,
            RandomLevel::Random => hsmtls_crypto::rng::Level::Random,
            RandomLevel::Key => hsmtls_crypto::rng::Level::Key,
        };
        hsmtls_crypto::rng::fill(level, out).map_err(map_err)
    }

    fn hasher(&self, algorithm: HashAlgorithm) -> Result<Box<dyn Hasher>, KeyError> {
        Ok(Box::new(SoftHasher {
            algorithm,
            inner: RunningHash::new(hash_of(algorithm)),
        }))
    }

    fn start_key_exchange(&self, group: KeyExchangeGroup) -> Result<(KeyShare, Vec<u8>), KeyError> {
        let key = EcdhPrivateKey::generate(curve_of(group)).map_err(map_err)?;
        let public = key.public_key().map_err(map_err)?;
        let object = ShareObject {
            id: next_id(),
            store: self.id,
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
        if object.key.curve() != curve_of(group) {
            return Err(KeyError::WrongHandle("KeyShare of another group"));
        }
        let z = object.key.agree(peer_share).map_err(map_err)?;
        Ok(self.secret(SecretUsage::PreMaster, z))
    }

    fn tls12_master_secret(
        &self,
        pre_master: Secret,
        prf: HashAlgorithm,
        seed: MasterSecretSeed<'_>,
    ) -> Result<Secret, KeyError> {
        let pms = self.secret_value(&pre_master, SecretUsage::PreMaster)?;
        let mut master = Zeroizing::new(vec![0u8; MASTER_SECRET_LEN]);
        match seed {
            // RFC 5246 §8.1
            MasterSecretSeed::Randoms {
                client_random,
                server_random,
            } => tls12_prf(
                hash_of(prf),
                pms,
                b"master secret",
                &[client_random, server_random],
                &mut master,
            ),
            // RFC 7627 §4
            MasterSecretSeed::SessionHash(hash) => tls12_prf(
                hash_of(prf),
                pms,
                b"extended master secret",
                &[hash],
                &mut master,
            ),
        }
        drop(pre_master);
        Ok(self.secret(SecretUsage::Master, master))
    }

    fn tls12_verify_data(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: FinishedLabel,
        handshake_hash: &[u8],
    ) -> Result<[u8; 12], KeyError> {
        let ms = self.secret_value(master, SecretUsage::Master)?;
        let mut out = [0u8; VERIFY_DATA_LEN];
        tls12_prf(hash_of(prf), ms, label.label(), &[handshake_hash], &mut out);
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
        let ms = self.secret_value(master, SecretUsage::Master)?;
        // RFC 5246 §6.3: key_block = PRF(SecurityParameters.master_secret,
        // "key expansion", server_random + client_random), split into
        // client_write_MAC_key, server_write_MAC_key, client_write_key,
        // server_write_key, client_write_IV, server_write_IV.
        let (mac_len, key_len, iv_len) = cipher.key_block_shape();
        let mut block = Zeroizing::new(vec![0u8; 2 * (mac_len + key_len + iv_len)]);
        tls12_prf(
            hash_of(prf),
            ms,
            b"key expansion",
            &[server_random, client_random],
            &mut block,
        );
        let (client_mac, rest) = block.split_at(mac_len);
        let (server_mac, rest) = rest.split_at(mac_len);
        let (client_key, rest) = rest.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        let make =
            |mac: &[u8], key: &[u8], iv: &[u8]| -> Result<Box<dyn RecordProtector>, KeyError> {
                let id = next_id();
                Ok(match cipher {
                    RecordCipher::Aes128Gcm | RecordCipher::Aes256Gcm => Box::new(AeadProtector {
                        id,
                        inner: Tls12Aead::aes_gcm(key, iv).map_err(map_err)?,
                    }),
                    RecordCipher::Chacha20Poly1305 => Box::new(AeadProtector {
                        id,
                        inner: Tls12Aead::chacha20_poly1305(key, iv).map_err(map_err)?,
                    }),
                    RecordCipher::Aes128CbcSha256 { encrypt_then_mac } => Box::new(CbcProtector {
                        id,
                        inner: Tls12Cbc::new(HashAlg::Sha256, mac, key, encrypt_then_mac)
                            .map_err(map_err)?,
                    }),
                    RecordCipher::Aes256CbcSha384 { encrypt_then_mac } => Box::new(CbcProtector {
                        id,
                        inner: Tls12Cbc::new(HashAlg::Sha384, mac, key, encrypt_then_mac)
                            .map_err(map_err)?,
                    }),
                })
            };
        Ok(Tls12TrafficKeys {
            client_write: make(client_mac, client_key, client_iv)?,
            server_write: make(server_mac, server_key, server_iv)?,
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
        let ms = self.secret_value(master, SecretUsage::Master)?;
        tls12_prf(hash_of(prf), ms, label, &[seed], out);
        Ok(())
    }

    fn sign(
        &self,
        key: &PrivateKey,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let object = self.own(key.downcast::<PrivateKeyObject>()?, "PrivateKey")?;
        if !algorithm.fits_key(key.algorithm()) {
            return Err(KeyError::InvalidParameter(
                "signature algorithm does not fit the key",
            ));
        }
        object
            .key
            .sign(scheme_of(algorithm), message)
            .map_err(map_err)
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
        let kind = match key.algorithm {
            PublicKeyAlgorithm::Ec(group) => KeyKind::Ec(curve_of(group)),
            PublicKeyAlgorithm::Rsa => KeyKind::Rsa,
            PublicKeyAlgorithm::Ed25519 => KeyKind::Ed25519,
        };
        signing::verify(kind, key.key, scheme_of(algorithm), message, signature).map_err(map_err)
    }

    fn new_ticket_key(&self) -> Result<TicketKey, KeyError> {
        let mut name = [0u8; TICKET_NAME_LEN];
        hsmtls_crypto::fill_random(&mut name).map_err(map_err)?;
        let mut key = Zeroizing::new([0u8; 32]);
        hsmtls_crypto::fill_key(&mut key[..]).map_err(map_err)?;
        let id = next_id();
        let object = TicketKeyObject {
            id,
            store: self.id,
            name,
            key: AeadKey::new(AeadAlg::Aes256Gcm, &key[..]).map_err(map_err)?,
        };
        Ok(TicketKey::new(Box::new(object), id))
    }

    /// `ticket = key_name(16) || nonce(12) || AES-256-GCM(plaintext) ||
    /// tag(16)` with the key name as additional data and
    /// `plaintext = usage(1) || secret_len(2) || secret || state`.
    fn ticket_seal(
        &self,
        key: &TicketKey,
        secret: &Secret,
        state: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let tk = self.own(key.downcast::<TicketKeyObject>()?, "TicketKey")?;
        let object = self.own(secret.downcast::<SecretObject>()?, "Secret")?;
        let secret_len = u16::try_from(object.value.len())
            .map_err(|_| KeyError::InvalidParameter("secret too long for a ticket"))?;
        let mut nonce = [0u8; NONCE_LEN];
        hsmtls_crypto::fill_nonce(&mut nonce).map_err(map_err)?;
        let mut ticket = Zeroizing::new(Vec::with_capacity(
            TICKET_NAME_LEN + NONCE_LEN + 3 + object.value.len() + state.len() + TAG_LEN,
        ));
        ticket.extend_from_slice(&tk.name);
        ticket.extend_from_slice(&nonce);
        let start = ticket.len();
        ticket.push(usage_code(object.usage));
        ticket.extend_from_slice(&secret_len.to_be_bytes());
        ticket.extend_from_slice(&object.value);
        ticket.extend_from_slice(state);
        let tag = tk
            .key
            .seal_in_place_separate_tag(nonce, &tk.name, &mut ticket[start..])
            .map_err(map_err)?;
        ticket.extend_from_slice(&tag);
        // Now only ciphertext: safe to hand out.
        Ok(core::mem::take(&mut *ticket))
    }

    fn ticket_open(&self, key: &TicketKey, ticket: &[u8]) -> Result<(Secret, Vec<u8>), KeyError> {
        let tk = self.own(key.downcast::<TicketKeyObject>()?, "TicketKey")?;
        if ticket.len() < TICKET_NAME_LEN + NONCE_LEN + 3 + TAG_LEN {
            return Err(KeyError::BadTicket);
        }
        let (name, rest) = ticket.split_at(TICKET_NAME_LEN);
        if !hsmtls_crypto::constant_time_eq(name, &tk.name) {
            return Err(KeyError::BadTicket);
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| KeyError::BadTicket)?;
        let mut buf = Zeroizing::new(sealed.to_vec());
        let n = tk
            .key
            .open_in_place(nonce, &tk.name, &mut buf)
            .map_err(|_| KeyError::BadTicket)?;
        let (&[code, len_hi, len_lo], body) = buf[..n]
            .split_first_chunk::<3>()
            .ok_or(KeyError::BadTicket)?;
        let usage = usage_from_code(code).ok_or(KeyError::BadTicket)?;
        let secret_len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
        if body.len() < secret_len {
            return Err(KeyError::BadTicket);
        }
        let (value, state) = body.split_at(secret_len);
        let secret = self.secret(usage, Zeroizing::new(value.to_vec()));
        Ok((secret, state.to_vec()))
    }

    fn hkdf_extract(
        &self,
        hash: HashAlgorithm,
        salt: Option<&Secret>,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        let zeros = [0u8; 64];
        let zeros = &zeros[..hash.output_len()];
        let salt = salt
            .map(|s| self.tls13_value(s))
            .transpose()?
            .unwrap_or(zeros);
        let ikm = ikm
            .map(|s| self.tls13_value(s))
            .transpose()?
            .unwrap_or(zeros);
        Ok(self.secret(SecretUsage::Tls13, hkdf::extract(hash_of(hash), salt, ikm)))
    }

    fn hkdf_expand_label(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        usage: SecretUsage,
    ) -> Result<Secret, KeyError> {
        let mut out = Zeroizing::new(vec![0u8; hash.output_len()]);
        self.with_keyed(secret, hash, |k| {
            hkdf::expand_label_keyed(k, label, context, &mut out)
        })?
        .map_err(map_err)?;
        Ok(self.secret(usage, out))
    }

    fn hkdf_expand_label_data(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), KeyError> {
        self.with_keyed(secret, hash, |k| {
            hkdf::expand_label_keyed(k, label, context, out)
        })?
        .map_err(map_err)
    }

    fn tls13_verify_data(
        &self,
        hash: HashAlgorithm,
        base_key: &Secret,
        transcript_hash: &[u8],
    ) -> Result<Digest, KeyError> {
        let mut finished_key = Zeroizing::new([0u8; 64]);
        let finished_key = &mut finished_key[..hash.output_len()];
        self.with_keyed(base_key, hash, |k| {
            hkdf::expand_label_keyed(k, b"finished", b"", finished_key)
        })?
        .map_err(map_err)?;
        let mac =
            hsmtls_crypto::hash::HmacKey::new(hash_of(hash), finished_key).sign(&[transcript_hash]);
        Ok(Digest::new(&mac))
    }

    fn tls13_record_protector(
        &self,
        hash: HashAlgorithm,
        traffic_secret: &Secret,
        aead: AeadAlgorithm,
    ) -> Result<Box<dyn RecordProtector>, KeyError> {
        let alg = match aead {
            AeadAlgorithm::Aes128Gcm => AeadAlg::Aes128Gcm,
            AeadAlgorithm::Aes256Gcm => AeadAlg::Aes256Gcm,
            AeadAlgorithm::Chacha20Poly1305 => AeadAlg::Chacha20Poly1305,
        };
        let inner = self
            .with_keyed(traffic_secret, hash, |k| {
                Tls13Aead::from_keyed_secret(alg, k)
            })?
            .map_err(map_err)?;
        Ok(Box::new(Tls13Protector {
            id: next_id(),
            inner,
        }))
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
