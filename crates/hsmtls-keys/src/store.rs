//! The [`KeyStore`] trait: every operation the protocol engine asks of the
//! place where its secrets live.

use core::fmt;

use crate::algorithms::{
    AeadAlgorithm, HashAlgorithm, KeyExchangeGroup, PublicKeyAlgorithm, RandomLevel, RecordCipher,
    SignatureAlgorithm,
};
use crate::error::KeyError;
use crate::handle::{KeyShare, PrivateKey, Secret, SecretUsage, TicketKey};
use crate::hash::{Digest, Hasher};
use crate::record::RecordProtector;
use crate::record::Tls12TrafficKeys;

/// The seed of the TLS 1.2 master secret derivation.
#[derive(Clone, Copy, Debug)]
pub enum MasterSecretSeed<'a> {
    /// RFC 5246 §8.1: `PRF(pre_master_secret, "master secret",
    /// ClientHello.random + ServerHello.random)[0..47]`.
    Randoms {
        /// `ClientHello.random`.
        client_random: &'a [u8; 32],
        /// `ServerHello.random`.
        server_random: &'a [u8; 32],
    },
    /// RFC 7627 §4: `PRF(pre_master_secret, "extended master secret",
    /// session_hash)[0..47]`.
    SessionHash(&'a [u8]),
}

/// Which Finished message `verify_data` is computed for (RFC 5246 §7.4.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishedLabel {
    /// `"client finished"`.
    Client,
    /// `"server finished"`.
    Server,
}

impl FinishedLabel {
    /// The PRF label.
    pub const fn label(self) -> &'static [u8] {
        match self {
            Self::Client => b"client finished",
            Self::Server => b"server finished",
        }
    }
}

/// A public key as a certificate carries it.
#[derive(Clone, Copy, Debug)]
pub struct PublicKey<'a> {
    /// What kind of key.
    pub algorithm: PublicKeyAlgorithm,
    /// The subjectPublicKey bits: an uncompressed point (SEC 1 §2.3.3) for
    /// EC, a DER `RSAPublicKey` (RFC 8017 §A.1.1) for RSA, 32 bytes for
    /// Ed25519.
    pub key: &'a [u8],
}

/// What a store can do; the protocol configuration shrinks to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Key-exchange groups, in no particular order.
    pub groups: Vec<KeyExchangeGroup>,
    /// Signature algorithms the store can verify.
    pub verify: Vec<SignatureAlgorithm>,
    /// Record ciphers the store can run (the `encrypt_then_mac` flag of CBC
    /// entries is ignored).
    pub record_ciphers: Vec<RecordCipher>,
    /// TLS 1.2 PRF hashes.
    pub prf_hashes: Vec<HashAlgorithm>,
    /// Whether the extended master secret (RFC 7627) can be derived.
    pub extended_master_secret: bool,
    /// TLS 1.3 AEADs whose key schedule and record protection the store
    /// runs (empty: no TLS 1.3).
    pub tls13_aeads: Vec<AeadAlgorithm>,
}

/// The kinds of operation a store performs, for traces and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum OperationKind {
    Random,
    Hash,
    StartKeyExchange,
    CompleteKeyExchange,
    Tls12MasterSecret,
    Tls12VerifyData,
    Tls12TrafficKeys,
    Tls12Export,
    Sign,
    Verify,
    NewTicketKey,
    TicketSeal,
    TicketOpen,
    HkdfExtract,
    HkdfExpandLabel,
    HkdfExpandLabelData,
    Tls13VerifyData,
    Tls13RecordProtector,
    Tls13NextSecret,
    Tls13TrafficSecret,
}

/// Where a connection's secrets live.
///
/// Each method maps onto one PKCS#11 call (see `docs/ARCHITECTURE.md`).
/// Handles passed in must come from the same store; a foreign handle is
/// [`KeyError::WrongHandle`].
pub trait KeyStore: Send + Sync + fmt::Debug {
    /// A short name for traces: `"soft"`, `"pkcs11:hsmtls-token"`.
    fn name(&self) -> &str;

    /// What this store offers.
    fn capabilities(&self) -> Capabilities;

    /// The named ways this store lets secrets leave its protection, as the
    /// application allowed them (e.g. a PKCS#11 store's relaxations of its
    /// strict policy: "software record layer (traffic keys in memory)").
    /// Empty when every secret stays where the store keeps it. Every
    /// connection on the store shows them in its `Negotiated`.
    fn policy_relaxations(&self) -> Vec<String> {
        Vec::new()
    }

    /// Fills `out` with random bytes (`C_GenerateRandom`).
    fn random(&self, level: RandomLevel, out: &mut [u8]) -> Result<(), KeyError>;

    /// A hasher over public data (`C_DigestInit`, or software).
    fn hasher(&self, algorithm: HashAlgorithm) -> Result<Box<dyn Hasher>, KeyError>;

    /// Generates an ephemeral key pair on `group` (`C_GenerateKeyPair`) and
    /// returns its private half and the public share as sent on the wire
    /// (uncompressed point, or 32 bytes for X25519).
    fn start_key_exchange(&self, group: KeyExchangeGroup) -> Result<(KeyShare, Vec<u8>), KeyError>;

    /// Completes (EC)DH with the peer's share (`CKM_ECDH1_DERIVE`,
    /// `CKD_NULL`), consuming the private half. The result is the TLS 1.2
    /// pre-master secret (RFC 8422 §5.10: the x-coordinate, no hashing).
    /// A malformed or off-curve share is [`KeyError::InvalidPeerKey`].
    fn complete_key_exchange(&self, share: KeyShare, peer_share: &[u8])
        -> Result<Secret, KeyError>;

    /// Derives the TLS 1.2 master secret and consumes the pre-master secret
    /// (`CKM_TLS12_MASTER_KEY_DERIVE_DH`, or the extended variant).
    fn tls12_master_secret(
        &self,
        pre_master: Secret,
        prf: HashAlgorithm,
        seed: MasterSecretSeed<'_>,
    ) -> Result<Secret, KeyError>;

    /// `verify_data = PRF(master_secret, finished_label,
    /// Hash(handshake_messages))[0..11]` (RFC 5246 §7.4.9; `CKM_TLS12_MAC`).
    fn tls12_verify_data(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: FinishedLabel,
        handshake_hash: &[u8],
    ) -> Result<[u8; 12], KeyError>;

    /// Expands the key block (RFC 5246 §6.3; `CKM_TLS12_KEY_AND_MAC_DERIVE`)
    /// into the record protection of both directions.
    fn tls12_traffic_keys(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        cipher: RecordCipher,
    ) -> Result<Tls12TrafficKeys, KeyError>;

    /// Keying material exporter (RFC 5705 §4; `CKM_TLS12_KDF`):
    /// `PRF(master_secret, label, seed)` into `out`.
    fn tls12_export(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: &[u8],
        seed: &[u8],
        out: &mut [u8],
    ) -> Result<(), KeyError>;

    /// Signs `message` (hashing it as `algorithm` says) with a long-term
    /// key (`C_Sign`).
    fn sign(
        &self,
        key: &PrivateKey,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError>;

    /// Verifies `signature` over `message` under a peer's public key
    /// (`C_Verify` on a session public-key object).
    fn verify(
        &self,
        key: &PublicKey<'_>,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError>;

    /// A fresh key for sealing session tickets, inside the store.
    fn new_ticket_key(&self) -> Result<TicketKey, KeyError>;

    /// Seals `secret` and the public `state` into an opaque ticket
    /// (RFC 5077 §4, `C_WrapKey` + `C_Encrypt`).
    fn ticket_seal(
        &self,
        key: &TicketKey,
        secret: &Secret,
        state: &[u8],
    ) -> Result<Vec<u8>, KeyError>;

    /// Opens a ticket made by [`KeyStore::ticket_seal`] with the same key,
    /// returning the secret (in this store) and the state.
    fn ticket_open(&self, key: &TicketKey, ticket: &[u8]) -> Result<(Secret, Vec<u8>), KeyError>;

    /// `HKDF-Extract(salt, IKM)` (RFC 5869 §2.2; `CKM_HKDF_DERIVE` in
    /// extract mode). `None` stands for `Hash.length` zero bytes, as the
    /// TLS 1.3 key schedule uses for the early secret's salt and for the
    /// master secret's IKM (RFC 8446 §7.1).
    fn hkdf_extract(
        &self,
        hash: HashAlgorithm,
        salt: Option<&Secret>,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        let _ = (hash, salt, ikm);
        Err(KeyError::Unsupported("TLS 1.3 key schedule"))
    }

    /// `HKDF-Expand-Label(secret, label, context, Hash.length)` (RFC 8446
    /// §7.1; `CKM_HKDF_DERIVE` in expand mode): a new secret in this store.
    /// `Derive-Secret` is this with `context = Transcript-Hash(messages)`.
    fn hkdf_expand_label(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        usage: SecretUsage,
    ) -> Result<Secret, KeyError> {
        let _ = (hash, secret, label, context, usage);
        Err(KeyError::Unsupported("TLS 1.3 key schedule"))
    }

    /// The next secret of the TLS 1.3 key schedule (RFC 8446 §7.1):
    /// `HKDF-Extract(Derive-Secret(secret, "derived", ""), IKM)`, the
    /// handshake secret from the early secret and the (EC)DHE secret, or the
    /// master secret from the handshake secret and `None` (`Hash.length`
    /// zero bytes). By default the two steps ([`tls13_next_secret_in_steps`]);
    /// a store that can do it in one operation (hsmtls-token's
    /// `CKM_HSMTLS_TLS13_NEXT_SECRET`) saves an intermediate secret.
    fn tls13_next_secret(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        tls13_next_secret_in_steps(self, hash, secret, ikm)
    }

    /// A TLS 1.3 traffic secret, `HKDF-Expand-Label(base, label, context,
    /// Hash.length)` (RFC 8446 §7.1; "traffic upd" with an empty context
    /// for the next generation, §7.2), with the record protection made
    /// from it (§7.3) for `aead`. By default the two calls
    /// ([`tls13_traffic_secret_in_steps`]); a store that can do both at
    /// once (hsmtls-token's `CKM_HSMTLS_TLS13_TRAFFIC_SECRET`) saves a call.
    fn tls13_traffic_secret(
        &self,
        hash: HashAlgorithm,
        base: &Secret,
        label: &[u8],
        context: &[u8],
        aead: AeadAlgorithm,
    ) -> Result<(Secret, Box<dyn RecordProtector>), KeyError> {
        tls13_traffic_secret_in_steps(self, hash, base, label, context, aead)
    }

    /// `HKDF-Expand-Label` into public bytes: exporter output (RFC 8446
    /// §7.5; `CKM_HKDF_DATA`).
    fn hkdf_expand_label_data(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), KeyError> {
        let _ = (hash, secret, label, context, out);
        Err(KeyError::Unsupported("TLS 1.3 key schedule"))
    }

    /// `HMAC(finished_key, transcript_hash)` with `finished_key =
    /// HKDF-Expand-Label(base_key, "finished", "", Hash.length)`: a TLS 1.3
    /// Finished (RFC 8446 §4.4.4) or PSK binder (§4.2.11.2). In a token:
    /// `CKM_HKDF_DERIVE` then `C_Sign` with `CKM_SHA256_HMAC`.
    fn tls13_verify_data(
        &self,
        hash: HashAlgorithm,
        base_key: &Secret,
        transcript_hash: &[u8],
    ) -> Result<Digest, KeyError> {
        let _ = (hash, base_key, transcript_hash);
        Err(KeyError::Unsupported("TLS 1.3 key schedule"))
    }

    /// Record protection from a traffic secret (RFC 8446 §7.3: `key` and
    /// `iv` by HKDF-Expand-Label, §5.2 AEAD over TLSInnerPlaintext with the
    /// record header as additional data, §5.3 per-record nonce).
    fn tls13_record_protector(
        &self,
        hash: HashAlgorithm,
        traffic_secret: &Secret,
        aead: AeadAlgorithm,
    ) -> Result<Box<dyn RecordProtector>, KeyError> {
        let _ = (hash, traffic_secret, aead);
        Err(KeyError::Unsupported("TLS 1.3 record protection"))
    }
}

/// [`KeyStore::tls13_traffic_secret`] as its two steps:
/// [`KeyStore::hkdf_expand_label`], then
/// [`KeyStore::tls13_record_protector`] on the new secret.
pub fn tls13_traffic_secret_in_steps<S: KeyStore + ?Sized>(
    store: &S,
    hash: HashAlgorithm,
    base: &Secret,
    label: &[u8],
    context: &[u8],
    aead: AeadAlgorithm,
) -> Result<(Secret, Box<dyn RecordProtector>), KeyError> {
    let secret = store.hkdf_expand_label(hash, base, label, context, SecretUsage::Tls13)?;
    let protector = store.tls13_record_protector(hash, &secret, aead)?;
    Ok((secret, protector))
}

/// [`KeyStore::tls13_next_secret`] as its two steps: `Derive-Secret(secret,
/// "derived", "")` by [`KeyStore::hkdf_expand_label`] with the empty
/// transcript's hash, then [`KeyStore::hkdf_extract`] with it as the salt.
pub fn tls13_next_secret_in_steps<S: KeyStore + ?Sized>(
    store: &S,
    hash: HashAlgorithm,
    secret: &Secret,
    ikm: Option<&Secret>,
) -> Result<Secret, KeyError> {
    let empty = store.hasher(hash)?.current();
    let derived =
        store.hkdf_expand_label(hash, secret, b"derived", empty.as_ref(), SecretUsage::Tls13)?;
    store.hkdf_extract(hash, Some(&derived), ikm)
}
