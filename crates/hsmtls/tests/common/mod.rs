//! Helpers shared by the engine's integration tests: the test PKI, configs
//! per key kind, an in-memory client/server pair that moves bytes between
//! two [`Connection`]s, a hook to tamper with the bytes in flight, record
//! splitting, and [`TestStore`], a [`KeyStore`] that forwards to
//! [`SoftStore`] but can corrupt Finished and keeps copies of the record
//! protection so tests can forge encrypted records.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hsmtls::keys::{
    FinishedLabel, HashAlgorithm, KeyError, KeyStore, RecordCipher, Secret, TicketKey,
    Tls12TrafficKeys,
};
use hsmtls::msgs::codec::Codec;
use hsmtls::msgs::enums::{AlertDescription, ContentType, ProtocolVersion};
use hsmtls::msgs::handshake::HandshakeMessage;
use hsmtls::{
    CertifiedKey, ClientConfig, ClientConfigBuilder, Connection, Error, ServerConfig,
    ServerConfigBuilder, Side,
};
use hsmtls_soft::SoftStore;

// ---------------------------------------------------------------- PKI

/// The ECDSA kinds of the test PKI.
pub const EC_KINDS: &[&str] = &[
    "ecdsa-p256",
    "ecdsa-p384",
    "brainpoolP256r1",
    "brainpoolP384r1",
    "brainpoolP512r1",
];

/// Every kind with a CA, a server and a client.
pub const ALL_KINDS: &[&str] = &[
    "ecdsa-p256",
    "ecdsa-p384",
    "brainpoolP256r1",
    "brainpoolP384r1",
    "brainpoolP512r1",
    "rsa2048",
];

fn pki_path(kind: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/pki")
        .join(kind)
        .join(file)
}

/// The bytes of `testdata/pki/<kind>/<file>`.
pub fn pki(kind: &str, file: &str) -> Vec<u8> {
    let path = pki_path(kind, file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue, // '=', whitespace
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The DER certificates of a PEM file, in order.
pub fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    let text = std::str::from_utf8(pem).expect("PEM is text");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + 27..];
        let end = body.find("-----END CERTIFICATE-----").expect("PEM end");
        out.push(base64_decode(&body[..end]));
        rest = &body[end..];
    }
    assert!(!out.is_empty(), "no certificate in PEM");
    out
}

/// The trust anchor of `kind` (DER).
pub fn ca(kind: &str) -> Vec<u8> {
    pem_certificates(&pki(kind, "ca.pem")).remove(0)
}

/// `<role>.chain.pem` and `<role>.key` of `kind`, the key imported into
/// `store`.
pub fn certified_key(store: &TestStore, kind: &str, role: &str) -> CertifiedKey {
    let chain = pem_certificates(&pki(kind, &format!("{role}.chain.pem")));
    let key = store
        .soft
        .import_private_key(&pki(kind, &format!("{role}.key")))
        .expect("import key");
    CertifiedKey::new(chain, Arc::new(key)).expect("certified key")
}

// ---------------------------------------------------------------- configs

/// A fresh [`TestStore`] as `Arc`.
pub fn store() -> Arc<TestStore> {
    Arc::new(TestStore::new())
}

/// A client trusting `kind`'s CA, with its own store.
pub fn client_builder(kind: &str) -> ClientConfigBuilder {
    client_builder_with(store(), kind)
}

/// A client trusting `kind`'s CA, running in `store`.
/// The TLS 1.2 tests pin the version; tests/tls13.rs widens it.
pub fn client_builder_with(store: Arc<TestStore>, kind: &str) -> ClientConfigBuilder {
    ClientConfig::builder(store)
        .root_certificates(vec![ca(kind)])
        .versions(&[ProtocolVersion::TLSv1_2])
        .expect("TLS 1.2 is supported")
}

/// A server with `kind`'s certificate, with its own store.
pub fn server_builder(kind: &str) -> ServerConfigBuilder {
    server_builder_with(store(), kind)
}

/// A server with `kind`'s certificate, running in `store`.
pub fn server_builder_with(store: Arc<TestStore>, kind: &str) -> ServerConfigBuilder {
    let key = certified_key(&store, kind, "server");
    ServerConfig::builder(store)
        .certificate(key)
        .versions(&[ProtocolVersion::TLSv1_2])
        .expect("TLS 1.2 is supported")
}

/// Default client and server configs for `kind`.
pub fn configs(kind: &str) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    (
        Arc::new(client_builder(kind).build().expect("client config")),
        Arc::new(server_builder(kind).build().expect("server config")),
    )
}

/// A fresh connection pair for the configs, before any byte moved.
pub fn connections(
    client: &Arc<ClientConfig>,
    server: &Arc<ServerConfig>,
) -> (Connection, Connection) {
    (
        Connection::client(client.clone(), "localhost").expect("client"),
        Connection::server(server.clone()).expect("server"),
    )
}

// ---------------------------------------------------------------- moving bytes

/// Which way bytes travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Client to server.
    ToServer,
    /// Server to client.
    ToClient,
}

/// Everything `conn` wants to send.
pub fn take_output(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).expect("write_tls to a Vec");
    }
    out
}

/// Feeds `bytes` to `conn` and processes them; the first error ends it.
pub fn deliver(conn: &mut Connection, bytes: &[u8]) -> Result<(), Error> {
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = conn.read_tls(&mut rest).expect("read_tls from a slice");
        assert!(n > 0, "read_tls made no progress");
        conn.process_new_packets()?;
    }
    Ok(())
}

/// How a run of the handshake ended.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The client's first error.
    pub client: Option<Error>,
    /// The server's first error.
    pub server: Option<Error>,
    /// Both sides finished the handshake without error.
    pub complete: bool,
}

impl Outcome {
    /// The error of `side`.
    pub fn error(&self, side: Side) -> Option<&Error> {
        match side {
            Side::Client => self.client.as_ref(),
            Side::Server => self.server.as_ref(),
        }
    }

    /// Panics unless the handshake completed.
    pub fn expect_complete(&self) {
        assert!(
            self.complete && self.client.is_none() && self.server.is_none(),
            "handshake did not complete: {self:?}"
        );
    }

    /// Checks that `side` failed with an error carrying `alert` and the
    /// other side received it as a fatal alert.
    pub fn expect_alert(&self, side: Side, alert: AlertDescription) {
        let (failed, peer) = match side {
            Side::Client => (&self.client, &self.server),
            Side::Server => (&self.server, &self.client),
        };
        let failed = failed
            .as_ref()
            .unwrap_or_else(|| panic!("{side:?} did not fail: {self:?}"));
        assert_eq!(failed.alert(), Some(alert), "{side:?}'s error: {failed:?}");
        assert_eq!(
            peer.as_ref(),
            Some(&Error::AlertReceived(alert)),
            "the peer of {side:?}: {self:?}"
        );
    }
}

/// Runs the handshake, calling `tamper` with each flight before it is
/// delivered. Flights are numbered per direction from 0: the client's
/// flight 0 is the ClientHello, the server's flight 0 is ServerHello …
/// ServerHelloDone. Alerts are flights too. Stops when nothing moves;
/// panics if it does not stop.
pub fn run_with_tamper(
    client: &mut Connection,
    server: &mut Connection,
    mut tamper: impl FnMut(Direction, usize, &mut Vec<u8>),
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut flights = [0usize; 2];
    for _round in 0..32 {
        let mut moved = false;
        for direction in [Direction::ToServer, Direction::ToClient] {
            let (from, to, slot) = match direction {
                Direction::ToServer => (&mut *client, &mut *server, &mut outcome.server),
                Direction::ToClient => (&mut *server, &mut *client, &mut outcome.client),
            };
            let mut bytes = take_output(from);
            if bytes.is_empty() {
                continue;
            }
            moved = true;
            let index = &mut flights[direction as usize];
            tamper(direction, *index, &mut bytes);
            *index += 1;
            if slot.is_none() {
                if let Err(e) = deliver(to, &bytes) {
                    *slot = Some(e);
                }
            }
        }
        if !moved {
            outcome.complete = outcome.client.is_none()
                && outcome.server.is_none()
                && !client.is_handshaking()
                && !server.is_handshaking();
            return outcome;
        }
    }
    panic!("the handshake did not settle in 32 rounds: {outcome:?}");
}

/// Runs the handshake without tampering.
pub fn run(client: &mut Connection, server: &mut Connection) -> Outcome {
    run_with_tamper(client, server, |_, _, _| {})
}

/// A completed handshake between the two configs; panics if it fails.
pub fn pair(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>) -> (Connection, Connection) {
    let (mut c, mut s) = connections(client, server);
    run(&mut c, &mut s).expect_complete();
    (c, s)
}

/// Everything readable from `conn` now.
pub fn read_all(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.reader().read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("reader: {e}"),
        }
    }
    out
}

/// Sends `data` from `from` to `to` and checks it arrives whole; returns
/// the TLS bytes that carried it.
pub fn transfer(from: &mut Connection, to: &mut Connection, data: &[u8]) -> Vec<u8> {
    from.writer().write_all(data).expect("write");
    let wire = take_output(from);
    deliver(to, &wire).expect("deliver application data");
    let got = read_all(to);
    assert!(
        got == data,
        "received {} of {} bytes",
        got.len(),
        data.len()
    );
    wire
}

// ---------------------------------------------------------------- records

/// One TLS record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// `ContentType`.
    pub typ: u8,
    /// `ProtocolVersion`.
    pub version: u16,
    /// The fragment.
    pub body: Vec<u8>,
}

impl Record {
    /// A record of `typ` with TLS 1.2 in the header.
    pub fn new(typ: ContentType, body: Vec<u8>) -> Self {
        Self {
            typ: typ.to_u8(),
            version: ProtocolVersion::TLSv1_2.to_u16(),
            body,
        }
    }

    /// Header and fragment.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.body.len());
        out.push(self.typ);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&(self.body.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

/// Splits whole records (5-byte headers); panics on a partial one.
pub fn split_records(mut bytes: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 5, "partial record header");
        let len = usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
        assert!(bytes.len() >= 5 + len, "partial record");
        out.push(Record {
            typ: bytes[0],
            version: u16::from_be_bytes([bytes[1], bytes[2]]),
            body: bytes[5..5 + len].to_vec(),
        });
        bytes = &bytes[5 + len..];
    }
    out
}

/// The byte ranges of each record in `bytes` (header included).
pub fn record_ranges(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    for r in split_records(bytes) {
        out.push(at..at + 5 + r.body.len());
        at += 5 + r.body.len();
    }
    out
}

/// Concatenates encoded records.
pub fn join_records(records: &[Record]) -> Vec<u8> {
    records.iter().flat_map(Record::encode).collect()
}

/// The raw handshake messages (4-byte headers) of a run of plaintext
/// handshake records.
pub fn split_handshake_messages(records: &[Record]) -> Vec<Vec<u8>> {
    let joined: Vec<u8> = records
        .iter()
        .filter(|r| r.typ == ContentType::Handshake.to_u8())
        .flat_map(|r| r.body.iter().copied())
        .collect();
    let mut out = Vec::new();
    let mut rest = &joined[..];
    while !rest.is_empty() {
        let len = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
        out.push(rest[..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    out
}

/// A plaintext handshake record holding `message`.
pub fn handshake_record(message: &HandshakeMessage) -> Record {
    Record::new(ContentType::Handshake, message.get_encoding())
}

/// The handshake type byte of each plaintext handshake message in `bytes`.
pub fn handshake_types(bytes: &[u8]) -> Vec<u8> {
    split_handshake_messages(&split_records(bytes))
        .iter()
        .map(|m| m[0])
        .collect()
}

// ---------------------------------------------------------------- randomness

/// A deterministic xorshift64* generator.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next 64 bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

// ---------------------------------------------------------------- key store

/// A [`KeyStore`] that forwards to a [`SoftStore`], and:
/// - corrupts the `verify_data` it computes for one Finished label when
///   asked to (so its side sends a wrong Finished, or rejects a right one);
/// - keeps a second, identical copy of every pair of record protectors it
///   hands out, so a test can seal records as either peer would.
#[derive(Debug)]
pub struct TestStore {
    /// The store doing the work.
    pub soft: SoftStore,
    corrupt_finished: Mutex<Option<FinishedLabel>>,
    corrupt_tickets: std::sync::atomic::AtomicBool,
    /// Copies of the traffic keys, in order of derivation.
    pub traffic_keys: Mutex<Vec<Tls12TrafficKeys>>,
    /// Copies of every TLS 1.3 record protector handed out, in order of
    /// derivation (a client: server handshake, client handshake, client
    /// application, server application, then one per KeyUpdate; a server:
    /// server handshake, client handshake, server application, client
    /// application, …).
    pub tls13_protectors: Mutex<Vec<Box<dyn hsmtls::keys::RecordProtector>>>,
}

impl Default for TestStore {
    fn default() -> Self {
        Self::new()
    }
}

impl TestStore {
    /// A store over a fresh [`SoftStore`].
    pub fn new() -> Self {
        Self {
            soft: SoftStore::new(),
            corrupt_finished: Mutex::new(None),
            corrupt_tickets: std::sync::atomic::AtomicBool::new(false),
            traffic_keys: Mutex::new(Vec::new()),
            tls13_protectors: Mutex::new(Vec::new()),
        }
    }

    /// Takes the copy of the `index`th TLS 1.3 record protector derived
    /// (see [`TestStore::tls13_protectors`]).
    pub fn take_tls13_protector(&self, index: usize) -> Box<dyn hsmtls::keys::RecordProtector> {
        let mut list = self.tls13_protectors.lock().unwrap();
        assert!(
            index < list.len(),
            "only {} TLS 1.3 protectors derived",
            list.len()
        );
        list.remove(index)
    }

    /// How many TLS 1.3 record protectors were derived so far.
    pub fn tls13_protector_count(&self) -> usize {
        self.tls13_protectors.lock().unwrap().len()
    }

    /// From now on, flips a bit of every `verify_data` computed for `label`.
    pub fn corrupt_finished(&self, label: Option<FinishedLabel>) {
        *self.corrupt_finished.lock().unwrap() = label;
    }

    /// From now on, flips a bit in the middle of every ticket sealed.
    pub fn corrupt_tickets(&self, on: bool) {
        self.corrupt_tickets
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Takes the copy of the most recently derived traffic keys.
    pub fn take_traffic_keys(&self) -> Tls12TrafficKeys {
        self.traffic_keys
            .lock()
            .unwrap()
            .pop()
            .expect("no traffic keys derived yet")
    }
}

impl KeyStore for TestStore {
    hsmtls::keys::forward_key_store!(soft => capabilities, policy_relaxations, random, hasher, start_key_exchange, complete_key_exchange, tls12_master_secret, tls12_export, sign, verify, new_ticket_key, ticket_open, hkdf_extract, hkdf_expand_label, hkdf_expand_label_data, tls13_verify_data);
    fn name(&self) -> &str {
        "test"
    }
    fn tls12_verify_data(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: FinishedLabel,
        hash: &[u8],
    ) -> Result<[u8; 12], KeyError> {
        let mut out = self.soft.tls12_verify_data(master, prf, label, hash)?;
        if *self.corrupt_finished.lock().unwrap() == Some(label) {
            out[0] ^= 1;
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
        let copy =
            self.soft
                .tls12_traffic_keys(master, prf, client_random, server_random, cipher)?;
        self.traffic_keys.lock().unwrap().push(copy);
        self.soft
            .tls12_traffic_keys(master, prf, client_random, server_random, cipher)
    }
    fn ticket_seal(
        &self,
        key: &TicketKey,
        secret: &Secret,
        state: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let mut ticket = self.soft.ticket_seal(key, secret, state)?;
        if self
            .corrupt_tickets
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            let middle = ticket.len() / 2;
            ticket[middle] ^= 0x10;
        }
        Ok(ticket)
    }
    fn tls13_record_protector(
        &self,
        hash: HashAlgorithm,
        traffic_secret: &Secret,
        aead: hsmtls::keys::AeadAlgorithm,
    ) -> Result<Box<dyn hsmtls::keys::RecordProtector>, KeyError> {
        let copy = self
            .soft
            .tls13_record_protector(hash, traffic_secret, aead)?;
        self.tls13_protectors.lock().unwrap().push(copy);
        self.soft.tls13_record_protector(hash, traffic_secret, aead)
    }
}

/// Seals `payload` as one record of `typ` with `protector` at `seq`.
pub fn seal_record(
    protector: &mut dyn hsmtls::keys::RecordProtector,
    seq: u64,
    typ: ContentType,
    payload: &[u8],
) -> Vec<u8> {
    let version = ProtocolVersion::TLSv1_2.to_u16();
    let mut body = Vec::new();
    protector
        .seal(seq, typ.to_u8(), version, payload, &mut body)
        .expect("seal");
    Record {
        typ: typ.to_u8(),
        version,
        body,
    }
    .encode()
}

/// Seals `content` as one TLS 1.3 record (RFC 8446 §5.2): the inner
/// plaintext is `content || inner_type || zeros(padding)`, the outer type
/// application_data.
pub fn seal_record13(
    protector: &mut dyn hsmtls::keys::RecordProtector,
    seq: u64,
    inner_type: u8,
    content: &[u8],
    padding: usize,
) -> Vec<u8> {
    let version = ProtocolVersion::TLSv1_2.to_u16();
    let mut inner = content.to_vec();
    inner.push(inner_type);
    inner.resize(inner.len() + padding, 0);
    let mut body = Vec::new();
    protector
        .seal(
            seq,
            ContentType::ApplicationData.to_u8(),
            version,
            &inner,
            &mut body,
        )
        .expect("seal");
    Record {
        typ: ContentType::ApplicationData.to_u8(),
        version,
        body,
    }
    .encode()
}

/// Opens a TLS 1.3 record's body sealed at `seq`: the inner content type
/// and the content (padding removed).
pub fn open_record13(
    protector: &mut dyn hsmtls::keys::RecordProtector,
    seq: u64,
    record: &Record,
) -> (u8, Vec<u8>) {
    let mut body = record.body.clone();
    let range = protector
        .open(seq, record.typ, record.version, &mut body)
        .expect("open");
    let inner = &body[range];
    let at = inner.iter().rposition(|b| *b != 0).expect("inner type");
    (inner[at], inner[..at].to_vec())
}
