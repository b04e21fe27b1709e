//! A key store that records every operation it forwards: the demo's trace
//! and the tests' proof of which store did what (e.g. the TR-03109 split:
//! random, ECDH key pair, pre-master, signature and signature check in the
//! security module).

use std::sync::{Arc, Mutex};

use crate::algorithms::{
    AeadAlgorithm, HashAlgorithm, KeyExchangeGroup, RandomLevel, RecordCipher, SignatureAlgorithm,
};
use crate::error::KeyError;
use crate::handle::{KeyShare, PrivateKey, Secret, SecretUsage, TicketKey};
use crate::hash::{Digest, Hasher};
use crate::record::{RecordProtector, Tls12TrafficKeys};
use crate::store::{
    Capabilities, FinishedLabel, KeyStore, MasterSecretSeed, OperationKind, PublicKey,
};

/// One forwarded operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// Which operation.
    pub kind: OperationKind,
    /// A short public description: algorithm, group, lengths.
    pub detail: String,
    /// Whether the store reported success.
    pub ok: bool,
    /// What the annotator (see [`TracingStore::annotate`]) added, e.g. the
    /// PKCS#11 call and the attributes of the objects it created.
    pub notes: Vec<String>,
}

/// Called after each forwarded operation; returns notes for its event.
pub type Annotator = dyn Fn(OperationKind, bool) -> Vec<String> + Send + Sync;

/// Wraps a store and records each operation (never a secret: only the
/// operation, its public parameters and the handle ids).
pub struct TracingStore {
    inner: Arc<dyn KeyStore>,
    name: String,
    events: Mutex<Vec<TraceEvent>>,
    annotator: Option<Box<Annotator>>,
}

impl core::fmt::Debug for TracingStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TracingStore")
            .field("name", &self.name)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl TracingStore {
    /// Wraps `inner`; `label` names this view in traces (e.g. "client").
    pub fn new(inner: Arc<dyn KeyStore>, label: &str) -> Self {
        Self {
            name: format!("{label}:{}", inner.name()),
            inner,
            events: Mutex::new(Vec::new()),
            annotator: None,
        }
    }

    /// Adds an annotator: after each operation (and its success flag) it
    /// may add notes to the event.
    pub fn annotate(
        mut self,
        annotator: impl Fn(OperationKind, bool) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.annotator = Some(Box::new(annotator));
        self
    }

    /// The events so far, oldest first, and clears them.
    pub fn take_events(&self) -> Vec<TraceEvent> {
        self.events
            .lock()
            .map(|mut e| core::mem::take(&mut *e))
            .unwrap_or_default()
    }

    /// How many operations of `kind` ran.
    pub fn count(&self, kind: OperationKind) -> usize {
        self.events
            .lock()
            .map(|e| e.iter().filter(|ev| ev.kind == kind).count())
            .unwrap_or(0)
    }

    fn record<T>(
        &self,
        kind: OperationKind,
        detail: String,
        result: Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        let notes = self
            .annotator
            .as_ref()
            .map(|a| a(kind, result.is_ok()))
            .unwrap_or_default();
        if let Ok(mut events) = self.events.lock() {
            events.push(TraceEvent {
                kind,
                detail,
                ok: result.is_ok(),
                notes,
            });
        }
        result
    }
}

impl KeyStore for TracingStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn policy_relaxations(&self) -> Vec<String> {
        self.inner.policy_relaxations()
    }

    fn random(&self, level: RandomLevel, out: &mut [u8]) -> Result<(), KeyError> {
        let r = self.inner.random(level, out);
        self.record(
            OperationKind::Random,
            format!("{} bytes, {level:?}", out.len()),
            r,
        )
    }

    fn hasher(&self, algorithm: HashAlgorithm) -> Result<Box<dyn Hasher>, KeyError> {
        let r = self.inner.hasher(algorithm);
        self.record(OperationKind::Hash, format!("{algorithm:?}"), r)
    }

    fn start_key_exchange(&self, group: KeyExchangeGroup) -> Result<(KeyShare, Vec<u8>), KeyError> {
        let r = self.inner.start_key_exchange(group);
        let detail = match &r {
            Ok((share, public)) => format!("{group:?} → {share:?}, public {} bytes", public.len()),
            Err(_) => format!("{group:?}"),
        };
        self.record(OperationKind::StartKeyExchange, detail, r)
    }

    fn complete_key_exchange(
        &self,
        share: KeyShare,
        peer_share: &[u8],
    ) -> Result<Secret, KeyError> {
        let from = format!("{share:?}");
        let r = self.inner.complete_key_exchange(share, peer_share);
        let detail = match &r {
            Ok(s) => format!("{from} + peer share → {s:?}"),
            Err(_) => from,
        };
        self.record(OperationKind::CompleteKeyExchange, detail, r)
    }

    fn tls12_master_secret(
        &self,
        pre_master: Secret,
        prf: HashAlgorithm,
        seed: MasterSecretSeed<'_>,
    ) -> Result<Secret, KeyError> {
        let ems = matches!(seed, MasterSecretSeed::SessionHash(_));
        let from = format!("{pre_master:?}");
        let r = self.inner.tls12_master_secret(pre_master, prf, seed);
        let detail = match &r {
            Ok(s) => format!("{from} → {s:?}, PRF {prf:?}, extended: {ems}"),
            Err(_) => from,
        };
        self.record(OperationKind::Tls12MasterSecret, detail, r)
    }

    fn tls12_verify_data(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: FinishedLabel,
        handshake_hash: &[u8],
    ) -> Result<[u8; 12], KeyError> {
        let r = self
            .inner
            .tls12_verify_data(master, prf, label, handshake_hash);
        self.record(
            OperationKind::Tls12VerifyData,
            format!("{master:?}, {label:?} Finished"),
            r,
        )
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
        self.record(
            OperationKind::Tls12TrafficKeys,
            format!("{master:?} → {cipher:?} both directions"),
            r,
        )
    }

    fn tls12_export(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: &[u8],
        seed: &[u8],
        out: &mut [u8],
    ) -> Result<(), KeyError> {
        let r = self.inner.tls12_export(master, prf, label, seed, out);
        self.record(
            OperationKind::Tls12Export,
            format!("{} bytes", out.len()),
            r,
        )
    }

    fn sign(
        &self,
        key: &PrivateKey,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let r = self.inner.sign(key, algorithm, message);
        self.record(
            OperationKind::Sign,
            format!("{key:?}, {algorithm:?}, {} bytes", message.len()),
            r,
        )
    }

    fn verify(
        &self,
        key: &PublicKey<'_>,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError> {
        let r = self.inner.verify(key, algorithm, message, signature);
        self.record(
            OperationKind::Verify,
            format!("{:?} key, {algorithm:?}", key.algorithm),
            r,
        )
    }

    fn new_ticket_key(&self) -> Result<TicketKey, KeyError> {
        let r = self.inner.new_ticket_key();
        self.record(OperationKind::NewTicketKey, String::new(), r)
    }

    fn ticket_seal(
        &self,
        key: &TicketKey,
        secret: &Secret,
        state: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let r = self.inner.ticket_seal(key, secret, state);
        self.record(
            OperationKind::TicketSeal,
            format!("{secret:?} under {key:?}"),
            r,
        )
    }

    fn ticket_open(&self, key: &TicketKey, ticket: &[u8]) -> Result<(Secret, Vec<u8>), KeyError> {
        let r = self.inner.ticket_open(key, ticket);
        self.record(
            OperationKind::TicketOpen,
            format!("{} bytes under {key:?}", ticket.len()),
            r,
        )
    }

    fn hkdf_extract(
        &self,
        hash: HashAlgorithm,
        salt: Option<&Secret>,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        let from = format!("salt {salt:?}, IKM {ikm:?}");
        let r = self.inner.hkdf_extract(hash, salt, ikm);
        let detail = match &r {
            Ok(s) => format!("{from} → {s:?}"),
            Err(_) => from,
        };
        self.record(OperationKind::HkdfExtract, detail, r)
    }

    fn hkdf_expand_label(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        usage: SecretUsage,
    ) -> Result<Secret, KeyError> {
        let from = format!("{secret:?} \"{}\"", String::from_utf8_lossy(label));
        let r = self
            .inner
            .hkdf_expand_label(hash, secret, label, context, usage);
        let detail = match &r {
            Ok(s) => format!("{from} → {s:?}"),
            Err(_) => from,
        };
        self.record(OperationKind::HkdfExpandLabel, detail, r)
    }

    fn hkdf_expand_label_data(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), KeyError> {
        let r = self
            .inner
            .hkdf_expand_label_data(hash, secret, label, context, out);
        self.record(
            OperationKind::HkdfExpandLabelData,
            format!(
                "{secret:?} \"{}\" → {} bytes",
                String::from_utf8_lossy(label),
                out.len()
            ),
            r,
        )
    }

    fn tls13_verify_data(
        &self,
        hash: HashAlgorithm,
        base_key: &Secret,
        transcript_hash: &[u8],
    ) -> Result<Digest, KeyError> {
        let r = self
            .inner
            .tls13_verify_data(hash, base_key, transcript_hash);
        self.record(OperationKind::Tls13VerifyData, format!("{base_key:?}"), r)
    }

    fn tls13_next_secret(
        &self,
        hash: HashAlgorithm,
        secret: &Secret,
        ikm: Option<&Secret>,
    ) -> Result<Secret, KeyError> {
        let from = format!("{secret:?}, IKM {ikm:?}");
        let r = self.inner.tls13_next_secret(hash, secret, ikm);
        let detail = match &r {
            Ok(s) => format!("{from} → {s:?}"),
            Err(_) => from,
        };
        self.record(OperationKind::Tls13NextSecret, detail, r)
    }

    fn tls13_traffic_secret(
        &self,
        hash: HashAlgorithm,
        base: &Secret,
        label: &[u8],
        context: &[u8],
        aead: AeadAlgorithm,
    ) -> Result<(Secret, Box<dyn RecordProtector>), KeyError> {
        let from = format!("{base:?} \"{}\"", String::from_utf8_lossy(label));
        let r = self
            .inner
            .tls13_traffic_secret(hash, base, label, context, aead);
        let detail = match &r {
            Ok((s, _)) => format!("{from} → {s:?} + {aead:?} record keys"),
            Err(_) => from,
        };
        self.record(OperationKind::Tls13TrafficSecret, detail, r)
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
        self.record(
            OperationKind::Tls13RecordProtector,
            format!("{traffic_secret:?} → {aead:?}"),
            r,
        )
    }
}
