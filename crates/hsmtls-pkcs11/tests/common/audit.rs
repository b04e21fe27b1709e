//! A key store that forwards to a PKCS#11 store and, at the points where
//! the handshake's secrets are alive, reads their protection from the
//! token; and the isolation check on what it read.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use hsmtls_keys::{
    AeadAlgorithm, Digest, FinishedLabel, HashAlgorithm, KeyError, KeyExchangeGroup, KeyShare,
    KeyStore, MasterSecretSeed, RecordCipher, RecordProtector, Secret, Tls12TrafficKeys,
};
use hsmtls_pkcs11::{ObjectAudit, ObjectKind, Pkcs11Store};

/// `CKR_ATTRIBUTE_SENSITIVE` (PKCS#11 v2.40 §5.1).
const CKR_ATTRIBUTE_SENSITIVE: u64 = 0x11;

/// Forwards to the PKCS#11 store and, at the points where the handshake's
/// secrets are alive, reads their protection from the token.
#[derive(Debug)]
pub struct Auditing {
    inner: Arc<Pkcs11Store>,
    audits: Mutex<Vec<ObjectAudit>>,
}

impl Auditing {
    pub fn new(inner: Arc<Pkcs11Store>) -> Self {
        Self {
            inner,
            audits: Mutex::new(Vec::new()),
        }
    }

    /// What the audits found so far.
    pub fn audits(&self) -> Vec<ObjectAudit> {
        self.audits.lock().unwrap().clone()
    }

    fn audit(&self) {
        let found = self.inner.audit_live_objects().expect("audit the token");
        self.audits.lock().unwrap().extend(found);
    }
}

impl KeyStore for Auditing {
    hsmtls_keys::forward_key_store!(inner => name, capabilities, policy_relaxations, random, hasher, tls12_export, sign, verify, new_ticket_key, ticket_seal, ticket_open, hkdf_expand_label, hkdf_expand_label_data);
    fn start_key_exchange(&self, group: KeyExchangeGroup) -> Result<(KeyShare, Vec<u8>), KeyError> {
        let r = self.inner.start_key_exchange(group);
        self.audit();
        r
    }
    fn complete_key_exchange(&self, share: KeyShare, peer: &[u8]) -> Result<Secret, KeyError> {
        self.audit();
        self.inner.complete_key_exchange(share, peer)
    }
    fn tls12_master_secret(
        &self,
        pre_master: Secret,
        prf: HashAlgorithm,
        seed: MasterSecretSeed<'_>,
    ) -> Result<Secret, KeyError> {
        self.audit(); // the pre-master is alive
        self.inner.tls12_master_secret(pre_master, prf, seed)
    }
    fn tls12_verify_data(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: FinishedLabel,
        hash: &[u8],
    ) -> Result<[u8; 12], KeyError> {
        self.audit(); // master and traffic keys are alive
        self.inner.tls12_verify_data(master, prf, label, hash)
    }
    fn tls12_traffic_keys(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        cipher: RecordCipher,
    ) -> Result<Tls12TrafficKeys, KeyError> {
        let r = self
            .inner
            .tls12_traffic_keys(master, prf, client_random, server_random, cipher);
        self.audit();
        r
    }
    fn hkdf_extract(
        &self,
        hash: HashAlgorithm,
        salt: Option<&Secret>,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        self.audit(); // the (EC)DHE secret or the previous stage is alive
        self.inner.hkdf_extract(hash, salt, ikm)
    }
    fn tls13_verify_data(
        &self,
        hash: HashAlgorithm,
        base_key: &Secret,
        transcript_hash: &[u8],
    ) -> Result<Digest, KeyError> {
        self.audit(); // traffic secrets and keys are alive
        self.inner
            .tls13_verify_data(hash, base_key, transcript_hash)
    }
    fn tls13_next_secret(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        self.audit(); // the (EC)DHE secret or the previous stage is alive
        self.inner.tls13_next_secret(hash, secret, ikm)
    }
    fn tls13_traffic_secret(
        &self,
        hash: HashAlgorithm,
        base: &Secret,
        label: &[u8],
        context: &[u8],
        aead: AeadAlgorithm,
    ) -> Result<(Secret, Box<dyn RecordProtector>), KeyError> {
        let r = self
            .inner
            .tls13_traffic_secret(hash, base, label, context, aead);
        self.audit(); // the new traffic secret and key are alive
        r
    }
    fn tls13_record_protector(
        &self,
        hash: HashAlgorithm,
        traffic_secret: &Secret,
        aead: AeadAlgorithm,
    ) -> Result<Box<dyn RecordProtector>, KeyError> {
        let r = self
            .inner
            .tls13_record_protector(hash, traffic_secret, aead);
        self.audit();
        r
    }
}

/// The TLS 1.3 isolation check: every secret object seen alive was
/// sensitive, not extractable, its value refused; the key share, the
/// (EC)DHE secret, key-schedule secrets and traffic keys were all seen.
pub fn check_isolation13(audits: &[ObjectAudit], what: &str) {
    assert!(!audits.is_empty(), "{what}: no secret object audited");
    for a in audits {
        // What only feeds derivations is no HMAC key: a C_Sign keyed by
        // it would compute its expansions in the clear.
        if matches!(a.kind, ObjectKind::PreMaster | ObjectKind::Tls13Secret) {
            assert_eq!(a.sign, Some(false), "{what}: {a:?} CKA_SIGN");
        }
        assert_eq!(a.sensitive, Some(true), "{what}: {a:?} not CKA_SENSITIVE");
        assert_eq!(a.extractable, Some(false), "{what}: {a:?} CKA_EXTRACTABLE");
        assert_eq!(
            a.value_rv, CKR_ATTRIBUTE_SENSITIVE,
            "{what}: CKA_VALUE of {a:?} not refused with CKR_ATTRIBUTE_SENSITIVE"
        );
    }
    let kinds: HashSet<ObjectKind> = audits.iter().map(|a| a.kind).collect();
    for kind in [
        ObjectKind::KeyShare,
        ObjectKind::PreMaster,
        ObjectKind::Tls13Secret,
        ObjectKind::TrafficKey,
    ] {
        assert!(kinds.contains(&kind), "{what}: no {kind:?} was seen alive");
    }
}

pub fn check_isolation(audits: &[ObjectAudit], what: &str) {
    assert!(!audits.is_empty(), "{what}: no secret object audited");
    for a in audits {
        if a.kind == ObjectKind::PreMaster {
            assert_eq!(a.sign, Some(false), "{what}: {a:?} CKA_SIGN");
        }
        assert_eq!(a.sensitive, Some(true), "{what}: {a:?} not CKA_SENSITIVE");
        assert_eq!(a.extractable, Some(false), "{what}: {a:?} CKA_EXTRACTABLE");
        assert_eq!(
            a.value_rv, CKR_ATTRIBUTE_SENSITIVE,
            "{what}: CKA_VALUE of {a:?} not refused with CKR_ATTRIBUTE_SENSITIVE"
        );
    }
    let kinds: HashSet<ObjectKind> = audits.iter().map(|a| a.kind).collect();
    for kind in [
        ObjectKind::KeyShare,
        ObjectKind::PreMaster,
        ObjectKind::Master,
        ObjectKind::TrafficKey,
    ] {
        assert!(kinds.contains(&kind), "{what}: no {kind:?} was seen alive");
    }
    if what.contains("CBC") {
        assert!(
            kinds.contains(&ObjectKind::MacKey),
            "{what}: no MAC key seen"
        );
    }
}
