//! A key store that records every operation it forwards: the demo's trace
//! and the tests' proof of which store did what (e.g. the TR-03109 split:
//! random, ECDH key pair, pre-master, signature and signature check in the
//! security module).

use std::sync::{Arc, Mutex};

use crate::algorithms::{
    HashAlgorithm, KeyExchangeGroup, RandomLevel, RecordCipher, SignatureAlgorithm,
};
use crate::error::KeyError;
use crate::handle::{KeyShare, PrivateKey, Secret, TicketKey};
use crate::hash::Hasher;
use crate::record::Tls12TrafficKeys;
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
}

/// Wraps a store and records each operation (never a secret: only the
/// operation, its public parameters and the handle ids).
#[derive(Debug)]
pub struct TracingStore {
    inner: Arc<dyn KeyStore>,
    name: String,
    events: Mutex<Vec<TraceEvent>>,
}

impl TracingStore {
    /// Wraps `inner`; `label` names this view in traces (e.g. "client").
    pub fn new(inner: Arc<dyn KeyStore>, label: &str) -> Self {
        Self {
            name: format!("{label}:{}", inner.name()),
            inner,
            events: Mutex::new(Vec::new()),
        }
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
        if let Ok(mut events) = self.events.lock() {
            events.push(TraceEvent {
                kind,
                detail,
                ok: result.is_ok(),
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
}
