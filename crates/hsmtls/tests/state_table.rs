//! The legal TLS 1.2 message sequences as data (the table of
//! `docs/tls12-states.md`), a check of the table itself, and a test that
//! drives every state a real handshake reaches with every kind of message.
//!
//! A state is reached by running a real handshake in memory and stopping
//! the bytes towards one side after k messages; the next message is then
//! replaced by an injected one. Before the peer's ChangeCipherSpec the
//! injection is a plaintext record; after it, the record is sealed with a
//! copy of the peer's record protection ([`TestStore`] derives every key
//! block twice and keeps the second copy), at the sequence number the peer
//! would use. So every state, encrypted ones included, is driven by true
//! injection.
//!
//! Verdicts: a message the table accepts in a state must not be refused as
//! `unexpected_message` (it is either taken, or judged on its content: a
//! made-up Finished fails with `decrypt_error`); a message the table does
//! not list must fail with `unexpected_message`. A fatal alert always ends
//! the connection with `AlertReceived`; a warning alert is always let by.

mod common;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use common::*;
use hsmtls::msgs::base::SessionId;
use hsmtls::msgs::codec::Codec;
use hsmtls::msgs::enums::{
    AlertDescription, CipherSuite, ClientCertificateType, CompressionMethod, ContentType,
    ExtensionType, ProtocolVersion, SignatureScheme,
};
use hsmtls::msgs::ext::Extensions;
use hsmtls::msgs::handshake::{
    CertificatePayload, CertificateRequestPayload, ClientHello, HandshakeMessage, HandshakePayload,
    ServerHello,
};
use hsmtls::{ClientAuth, ClientConfig, Connection, Error, ServerConfig, Side};

/// What can arrive next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Msg {
    HelloRequest,
    ClientHello,
    ServerHello,
    Certificate,
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    ClientKeyExchange,
    CertificateVerify,
    Finished,
    NewSessionTicket,
    /// A handshake type TLS 1.2 does not define (TLS 1.3's
    /// EncryptedExtensions).
    UnknownHandshake,
    ChangeCipherSpec,
    ApplicationData,
}

const ALL_MSGS: &[Msg] = &[
    Msg::HelloRequest,
    Msg::ClientHello,
    Msg::ServerHello,
    Msg::Certificate,
    Msg::ServerKeyExchange,
    Msg::CertificateRequest,
    Msg::ServerHelloDone,
    Msg::ClientKeyExchange,
    Msg::CertificateVerify,
    Msg::Finished,
    Msg::NewSessionTicket,
    Msg::UnknownHandshake,
    Msg::ChangeCipherSpec,
    Msg::ApplicationData,
];

/// One row: in `state`, `msg` is accepted and leads to `next`.
type Row = (&'static str, Msg, &'static str);

/// The client (src/client/tls12.rs). `ExpectServerHelloDone+CR` is
/// `ExpectServerHelloDone` holding a CertificateRequest.
const CLIENT: &[Row] = &[
    ("ExpectServerHello", Msg::ServerHello, "ExpectCertificate"),
    ("ExpectServerHello", Msg::ServerHello, "ExpectNewTicket"),
    (
        "ExpectServerHello",
        Msg::ServerHello,
        "ExpectChangeCipherSpec",
    ),
    (
        "ExpectCertificate",
        Msg::Certificate,
        "ExpectServerKeyExchange",
    ),
    (
        "ExpectServerKeyExchange",
        Msg::ServerKeyExchange,
        "ExpectServerHelloDone",
    ),
    (
        "ExpectServerHelloDone",
        Msg::CertificateRequest,
        "ExpectServerHelloDone+CR",
    ),
    (
        "ExpectServerHelloDone",
        Msg::ServerHelloDone,
        "ExpectNewTicket",
    ),
    (
        "ExpectServerHelloDone",
        Msg::ServerHelloDone,
        "ExpectChangeCipherSpec",
    ),
    (
        "ExpectServerHelloDone+CR",
        Msg::ServerHelloDone,
        "ExpectNewTicket",
    ),
    (
        "ExpectServerHelloDone+CR",
        Msg::ServerHelloDone,
        "ExpectChangeCipherSpec",
    ),
    (
        "ExpectNewTicket",
        Msg::NewSessionTicket,
        "ExpectChangeCipherSpec",
    ),
    (
        "ExpectChangeCipherSpec",
        Msg::ChangeCipherSpec,
        "ExpectFinished",
    ),
    ("ExpectFinished", Msg::Finished, "Traffic"),
    ("Traffic", Msg::ApplicationData, "Traffic"),
    // RFC 5746 §4.2: refused with a no_renegotiation warning.
    ("Traffic", Msg::HelloRequest, "Traffic"),
    // RFC 5246 §7.4.1.1: ignored while negotiating.
    ("ExpectServerHello", Msg::HelloRequest, "ExpectServerHello"),
    ("ExpectCertificate", Msg::HelloRequest, "ExpectCertificate"),
    (
        "ExpectServerKeyExchange",
        Msg::HelloRequest,
        "ExpectServerKeyExchange",
    ),
    (
        "ExpectServerHelloDone",
        Msg::HelloRequest,
        "ExpectServerHelloDone",
    ),
    (
        "ExpectServerHelloDone+CR",
        Msg::HelloRequest,
        "ExpectServerHelloDone+CR",
    ),
    ("ExpectNewTicket", Msg::HelloRequest, "ExpectNewTicket"),
    (
        "ExpectChangeCipherSpec",
        Msg::HelloRequest,
        "ExpectChangeCipherSpec",
    ),
];
const CLIENT_START: &str = "ExpectServerHello";

/// The server (src/server/tls12.rs).
const SERVER: &[Row] = &[
    ("ExpectClientHello", Msg::ClientHello, "ExpectCertificate"),
    (
        "ExpectClientHello",
        Msg::ClientHello,
        "ExpectClientKeyExchange",
    ),
    (
        "ExpectClientHello",
        Msg::ClientHello,
        "ExpectChangeCipherSpec",
    ),
    (
        "ExpectCertificate",
        Msg::Certificate,
        "ExpectClientKeyExchange",
    ),
    (
        "ExpectClientKeyExchange",
        Msg::ClientKeyExchange,
        "ExpectCertificateVerify",
    ),
    (
        "ExpectClientKeyExchange",
        Msg::ClientKeyExchange,
        "ExpectChangeCipherSpec",
    ),
    (
        "ExpectCertificateVerify",
        Msg::CertificateVerify,
        "ExpectChangeCipherSpec",
    ),
    (
        "ExpectChangeCipherSpec",
        Msg::ChangeCipherSpec,
        "ExpectFinished",
    ),
    ("ExpectFinished", Msg::Finished, "Traffic"),
    ("Traffic", Msg::ApplicationData, "Traffic"),
    // RFC 5746 §4.4: refused with a no_renegotiation warning.
    ("Traffic", Msg::ClientHello, "Traffic"),
];
const SERVER_START: &str = "ExpectClientHello";
const TERMINAL: &str = "Traffic";

fn table(side: Side) -> (&'static [Row], &'static str, &'static str) {
    match side {
        Side::Client => (CLIENT, CLIENT_START, include_str!("../src/client/tls12.rs")),
        Side::Server => (SERVER, SERVER_START, include_str!("../src/server/tls12.rs")),
    }
}

fn states(rows: &[Row]) -> BTreeSet<&'static str> {
    rows.iter().flat_map(|(s, _, n)| [*s, *n]).collect()
}

fn accepts(rows: &[Row], state: &str, msg: Msg) -> bool {
    rows.iter().any(|(s, m, _)| *s == state && *m == msg)
}

fn successors(rows: &[Row], state: &str, msg: Msg) -> Vec<&'static str> {
    rows.iter()
        .filter(|(s, m, _)| *s == state && *m == msg)
        .map(|(_, _, n)| *n)
        .collect()
}

// ---------------------------------------------------------------- the table itself

#[test]
fn table_is_consistent() {
    for side in [Side::Client, Side::Server] {
        let (rows, start, source) = table(side);
        let all = states(rows);
        // Every state is reachable from the start.
        let mut seen = BTreeSet::from([start]);
        let mut queue = VecDeque::from([start]);
        while let Some(s) = queue.pop_front() {
            for (_, _, next) in rows.iter().filter(|(from, _, _)| *from == s) {
                if seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        assert_eq!(seen, all, "{side:?}: unreachable states");
        // Every state but the terminal one leads somewhere else, and the
        // terminal one is reachable from every state.
        for s in &all {
            let onward = rows.iter().any(|(from, _, next)| from == s && next != s);
            assert!(onward || *s == TERMINAL, "{side:?}: {s} is a dead end");
            let mut reach = BTreeSet::from([*s]);
            let mut queue = VecDeque::from([*s]);
            while let Some(x) = queue.pop_front() {
                for (_, _, next) in rows.iter().filter(|(from, _, _)| *from == x) {
                    if reach.insert(next) {
                        queue.push_back(next);
                    }
                }
            }
            assert!(
                reach.contains(TERMINAL),
                "{side:?}: {s} never reaches {TERMINAL}"
            );
        }
        // The terminal state only loops.
        assert!(rows
            .iter()
            .filter(|(from, _, _)| *from == TERMINAL)
            .all(|(_, _, next)| *next == TERMINAL));
        // The table's states are exactly the source's `State` variants.
        let in_source: BTreeSet<&str> = source
            .split("pub(crate) enum State {")
            .nth(1)
            .expect("enum State in the source")
            .split('}')
            .next()
            .unwrap()
            .lines()
            .filter_map(|l| l.trim().split(['(', ',']).next())
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            // `Tls13` hands the connection to the TLS 1.3 state machine
            // (client/tls13.rs, server/tls13.rs), which has its own table.
            .filter(|l| *l != "Tls13")
            .collect();
        let in_table: BTreeSet<&str> = all.iter().map(|s| s.split('+').next().unwrap()).collect();
        assert_eq!(in_table, in_source, "{side:?}: table and source disagree");
        // No row is there twice.
        let rows_set: BTreeSet<Row> = rows.iter().copied().collect();
        assert_eq!(rows_set.len(), rows.len(), "{side:?}: duplicate rows");
    }
}

// ---------------------------------------------------------------- scenarios

#[derive(Clone, Copy, Debug)]
enum Scenario {
    /// Full handshake, a ticket issued.
    Full,
    /// Full handshake, no ticket.
    FullNoTicket,
    /// Full handshake, client certificate required and sent.
    ClientAuth,
    /// Full handshake, client certificate requested and not sent.
    ClientAuthEmpty,
    /// Resumed by session ID.
    ResumedById,
    /// Resumed by ticket.
    ResumedByTicket,
}

const SCENARIOS: &[Scenario] = &[
    Scenario::Full,
    Scenario::FullNoTicket,
    Scenario::ClientAuth,
    Scenario::ClientAuthEmpty,
    Scenario::ResumedById,
    Scenario::ResumedByTicket,
];

struct Setup {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    client_store: Arc<TestStore>,
    server_store: Arc<TestStore>,
}

impl Setup {
    fn new(scenario: Scenario) -> Self {
        let client_store = store();
        let server_store = store();
        let mut client = client_builder_with(client_store.clone(), "ecdsa-p256")
            .cipher_suites(&[CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256])
            .unwrap();
        let mut server = server_builder_with(server_store.clone(), "ecdsa-p256");
        match scenario {
            Scenario::Full => client = client.session_cache_size(0),
            Scenario::FullNoTicket => {
                client = client.session_cache_size(0);
                server = server.session_tickets(false);
            }
            Scenario::ClientAuth => {
                let key = certified_key(&client_store, "ecdsa-p256", "client");
                client = client.session_cache_size(0).client_certificate(key);
                server = server.client_auth(ClientAuth::Require, vec![ca("ecdsa-p256")]);
            }
            Scenario::ClientAuthEmpty => {
                client = client.session_cache_size(0);
                server = server.client_auth(ClientAuth::Request, vec![ca("ecdsa-p256")]);
            }
            Scenario::ResumedById => server = server.session_tickets(false),
            Scenario::ResumedByTicket => server = server.session_cache_size(0),
        }
        let setup = Self {
            client: Arc::new(client.build().unwrap()),
            server: Arc::new(server.build().unwrap()),
            client_store,
            server_store,
        };
        if matches!(scenario, Scenario::ResumedById | Scenario::ResumedByTicket) {
            pair(&setup.client, &setup.server);
        }
        setup
    }
}

/// One unit delivered to the side under test: a plaintext handshake
/// message, a ChangeCipherSpec, or an encrypted record.
#[derive(Clone, Debug)]
struct Item {
    msg: Msg,
    bytes: Vec<u8>,
    encrypted: bool,
}

fn msg_of_type(typ: u8) -> Msg {
    match typ {
        0 => Msg::HelloRequest,
        1 => Msg::ClientHello,
        2 => Msg::ServerHello,
        4 => Msg::NewSessionTicket,
        11 => Msg::Certificate,
        12 => Msg::ServerKeyExchange,
        13 => Msg::CertificateRequest,
        14 => Msg::ServerHelloDone,
        15 => Msg::CertificateVerify,
        16 => Msg::ClientKeyExchange,
        20 => Msg::Finished,
        _ => Msg::UnknownHandshake,
    }
}

/// Splits a flight into items; `read_encrypted` says whether the receiver
/// already decrypts, and is updated on ChangeCipherSpec.
fn items(bytes: &[u8], read_encrypted: &mut bool) -> Vec<Item> {
    let mut out = Vec::new();
    for record in split_records(bytes) {
        let typ = ContentType::from(record.typ);
        if *read_encrypted {
            let msg = match typ {
                // The only encrypted handshake message of a real handshake.
                ContentType::Handshake => Msg::Finished,
                ContentType::ApplicationData => Msg::ApplicationData,
                other => panic!("unexpected encrypted {other:?}"),
            };
            out.push(Item {
                msg,
                bytes: record.encode(),
                encrypted: true,
            });
            continue;
        }
        match typ {
            ContentType::ChangeCipherSpec => {
                out.push(Item {
                    msg: Msg::ChangeCipherSpec,
                    bytes: record.encode(),
                    encrypted: false,
                });
                *read_encrypted = true;
            }
            ContentType::Handshake => {
                for m in split_handshake_messages(&[record]) {
                    out.push(Item {
                        msg: msg_of_type(m[0]),
                        bytes: Record::new(ContentType::Handshake, m).encode(),
                        encrypted: false,
                    });
                }
            }
            other => panic!("unexpected plaintext {other:?}"),
        }
    }
    out
}

/// What to do at item `k`.
#[derive(Clone, Copy, Debug)]
enum Injection {
    Msg(Msg),
    FatalAlert,
    WarningAlert,
}

struct Drive {
    /// The genuine items the side under test got (all of them, when not
    /// stopped).
    items: Vec<Item>,
    /// The result of the injection.
    result: Option<Result<(), Error>>,
}

/// Runs a handshake of `setup`, delivering to `side` at most `stop.0`
/// items and then `stop.1` in place of the next one.
fn drive(setup: &Setup, side: Side, stop: Option<(usize, Injection)>) -> Drive {
    let (mut client, mut server) = connections(&setup.client, &setup.server);
    let (me, peer, my_store) = match side {
        Side::Client => (&mut client, &mut server, &setup.client_store),
        Side::Server => (&mut server, &mut client, &setup.server_store),
    };
    let mut got = Vec::new();
    let mut read_encrypted = false;
    // The client speaks first.
    if side == Side::Server {
        let hello = take_output(peer);
        // Put it back through the same path as the rest.
        let its = items(&hello, &mut read_encrypted);
        if let Some(result) = feed(me, its, &mut got, stop, my_store, side) {
            return Drive {
                items: got,
                result: Some(result),
            };
        }
    }
    for _ in 0..16 {
        let out = take_output(me);
        if !out.is_empty() {
            deliver(peer, &out).expect("the peer takes our genuine flight");
        }
        let flight = take_output(peer);
        if flight.is_empty() {
            break;
        }
        let its = items(&flight, &mut read_encrypted);
        if let Some(result) = feed(me, its, &mut got, stop, my_store, side) {
            return Drive {
                items: got,
                result: Some(result),
            };
        }
    }
    assert!(!me.is_handshaking(), "{side:?} did not finish");
    // Traffic: the injection point after the last item.
    if let Some((k, injection)) = stop {
        if k == got.len() {
            let bytes = injected(injection, &got, my_store, side);
            return Drive {
                items: got,
                result: Some(deliver(me, &bytes)),
            };
        }
    }
    Drive {
        items: got,
        result: None,
    }
}

fn feed(
    me: &mut Connection,
    its: Vec<Item>,
    got: &mut Vec<Item>,
    stop: Option<(usize, Injection)>,
    store: &TestStore,
    side: Side,
) -> Option<Result<(), Error>> {
    for item in its {
        if let Some((k, injection)) = stop {
            if got.len() == k {
                let bytes = injected(injection, got, store, side);
                return Some(deliver(me, &bytes));
            }
        }
        deliver(me, &item.bytes).expect("genuine item");
        got.push(item);
    }
    None
}

/// The record for `injection` after the genuine items `before`.
fn injected(injection: Injection, before: &[Item], store: &TestStore, side: Side) -> Vec<u8> {
    let (typ, body) = match injection {
        Injection::Msg(Msg::ChangeCipherSpec) => (ContentType::ChangeCipherSpec, vec![1]),
        Injection::Msg(Msg::ApplicationData) => (ContentType::ApplicationData, b"data".to_vec()),
        Injection::Msg(m) => (ContentType::Handshake, handshake_body(m)),
        Injection::FatalAlert => (ContentType::Alert, vec![2, 40]),
        Injection::WarningAlert => (ContentType::Alert, vec![1, 90]),
    };
    let encrypted = before.iter().any(|i| i.msg == Msg::ChangeCipherSpec);
    if !encrypted {
        return Record::new(typ, body).encode();
    }
    let seq = before.iter().filter(|i| i.encrypted).count() as u64;
    // This side derived the same key block as its peer; seal as the peer.
    let mut keys = store.traffic_keys.lock().unwrap();
    let keys = keys.last_mut().expect("keys derived before the CCS");
    let protector = match side {
        Side::Client => &mut keys.server_write,
        Side::Server => &mut keys.client_write,
    };
    seal_record(&mut **protector, seq, typ, &body)
}

fn encode(payload: HandshakePayload) -> Vec<u8> {
    HandshakeMessage::new(payload).get_encoding()
}

/// A well-formed message of each type, with made-up content.
fn handshake_body(msg: Msg) -> Vec<u8> {
    match msg {
        Msg::HelloRequest => vec![0, 0, 0, 0],
        Msg::ClientHello => {
            let mut extensions = Extensions::new();
            extensions.push(ExtensionType::ExtendedMasterSecret, Vec::new());
            encode(HandshakePayload::ClientHello(ClientHello {
                legacy_version: ProtocolVersion::TLSv1_2,
                random: [9; 32],
                session_id: SessionId::empty(),
                cipher_suites: vec![CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256],
                compression_methods: vec![CompressionMethod::Null],
                extensions,
            }))
        }
        Msg::ServerHello => encode(HandshakePayload::ServerHello(ServerHello {
            legacy_version: ProtocolVersion::TLSv1_2,
            random: [7; 32],
            session_id: SessionId::empty(),
            cipher_suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            compression_method: CompressionMethod::Null,
            extensions: Extensions::new(),
        })),
        Msg::Certificate => encode(HandshakePayload::Certificate(CertificatePayload {
            certificates: pem_certificates(&pki("ecdsa-p256", "server.chain.pem")),
        })),
        Msg::ServerKeyExchange => {
            // named_curve secp256r1, a point, ecdsa_secp256r1_sha256, a
            // signature that does not verify.
            let mut body = vec![3, 0, 23, 65, 4];
            body.extend_from_slice(&[0x42; 64]);
            body.extend_from_slice(&[4, 3, 0, 2, 0x30, 0]);
            let mut out = vec![12];
            out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
            out.extend(body);
            out
        }
        Msg::CertificateRequest => encode(HandshakePayload::CertificateRequest(
            CertificateRequestPayload {
                certificate_types: vec![ClientCertificateType::EcdsaSign],
                signature_schemes: vec![SignatureScheme::ecdsa_secp256r1_sha256],
                certificate_authorities: Vec::new(),
            },
        )),
        Msg::ServerHelloDone => vec![14, 0, 0, 0],
        Msg::ClientKeyExchange => {
            let mut out = vec![16, 0, 0, 66, 65, 4];
            out.extend_from_slice(&[0x42; 64]);
            out
        }
        Msg::CertificateVerify => vec![15, 0, 0, 6, 4, 3, 0, 2, 0x30, 0],
        Msg::Finished => {
            let mut out = vec![20, 0, 0, 12];
            out.extend_from_slice(&[0; 12]);
            out
        }
        Msg::NewSessionTicket => vec![4, 0, 0, 6, 0, 0, 0, 0, 0, 0],
        // EncryptedExtensions (TLS 1.3), empty extensions.
        Msg::UnknownHandshake => vec![8, 0, 0, 2, 0, 0],
        Msg::ChangeCipherSpec | Msg::ApplicationData => unreachable!(),
    }
}

/// The state before each genuine item and after the last, by walking the
/// table; where it branches, the next genuine item decides.
fn walk(rows: &[Row], start: &'static str, items: &[Item]) -> Vec<&'static str> {
    let mut out = vec![start];
    for (i, item) in items.iter().enumerate() {
        let here = *out.last().unwrap();
        assert!(
            accepts(rows, here, item.msg),
            "the table refuses the genuine {:?} in {here}",
            item.msg
        );
        let mut next = successors(rows, here, item.msg);
        match items.get(i + 1) {
            Some(following) => next.retain(|n| accepts(rows, n, following.msg)),
            None => next.retain(|n| *n == TERMINAL),
        }
        assert_eq!(
            next.len(),
            1,
            "ambiguous after {:?} in {here}: {next:?}",
            item.msg
        );
        out.push(next[0]);
    }
    out
}

#[test]
fn every_state_with_every_message() {
    let mut covered: BTreeSet<(bool, &str)> = BTreeSet::new();
    let mut checked = 0;
    for scenario in SCENARIOS {
        let setup = Setup::new(*scenario);
        for side in [Side::Client, Side::Server] {
            let (rows, start, _) = table(side);
            let genuine = drive(&setup, side, None);
            let walked = walk(rows, start, &genuine.items);
            for (k, state) in walked.iter().enumerate() {
                covered.insert((side == Side::Client, state));
                let injections = ALL_MSGS
                    .iter()
                    .map(|m| Injection::Msg(*m))
                    .chain([Injection::FatalAlert, Injection::WarningAlert]);
                for injection in injections {
                    let what = format!("{scenario:?} {side:?} k={k} in {state}: {injection:?}");
                    let result = drive(&setup, side, Some((k, injection)))
                        .result
                        .unwrap_or_else(|| panic!("{what}: not injected"));
                    checked += 1;
                    match injection {
                        Injection::FatalAlert => assert_eq!(
                            result,
                            Err(Error::AlertReceived(AlertDescription::HandshakeFailure)),
                            "{what}"
                        ),
                        Injection::WarningAlert => assert_eq!(result, Ok(()), "{what}"),
                        Injection::Msg(m) if accepts(rows, state, m) => {
                            if let Err(e) = &result {
                                assert_ne!(
                                    e.alert(),
                                    Some(AlertDescription::UnexpectedMessage),
                                    "{what}: refused a message the table accepts: {e:?}"
                                );
                            }
                        }
                        Injection::Msg(m) => assert_eq!(
                            result.as_ref().map_err(Error::alert),
                            Err(Some(AlertDescription::UnexpectedMessage)),
                            "{what}: {m:?} is not in the table for {state}"
                        ),
                    }
                }
            }
        }
    }
    // Every state of the table was driven.
    for side in [Side::Client, Side::Server] {
        let (rows, _, _) = table(side);
        for state in states(rows) {
            assert!(
                covered.contains(&(side == Side::Client, state)),
                "{side:?} {state} never reached"
            );
        }
    }
    assert!(checked > 1000, "{checked}");
}

/// Reordering real encrypted records: the client's Finished delivered
/// twice, or the server's Finished before its ChangeCipherSpec.
#[test]
fn reordered_real_records() {
    let setup = Setup::new(Scenario::FullNoTicket);
    // The server's CCS and Finished swapped.
    let (mut c, mut s) = connections(&setup.client, &setup.server);
    let outcome = run_with_tamper(&mut c, &mut s, |dir, i, bytes| {
        if dir == Direction::ToClient && i == 1 {
            let mut records = split_records(bytes);
            assert_eq!(records.len(), 2);
            records.swap(0, 1);
            *bytes = join_records(&records);
        }
    });
    // The encrypted Finished arrives while the client reads plaintext: it
    // parses as garbage or as an unknown handshake message.
    assert!(outcome.client.is_some(), "{outcome:?}");
    // The client's Finished twice.
    let (mut c, mut s) = connections(&setup.client, &setup.server);
    let outcome = run_with_tamper(&mut c, &mut s, |dir, i, bytes| {
        if dir == Direction::ToServer && i == 1 {
            let last = split_records(bytes).pop().unwrap();
            bytes.extend(last.encode());
        }
    });
    // The copy fails to decrypt: its sequence number is wrong.
    outcome.expect_alert(Side::Server, AlertDescription::BadRecordMac);
}
