//! The TLS 1.3 state table of docs/tls13-states.md as data: checked against
//! the source's `State` enums and the doc, and every reachable state
//! driven with every message kind.
//!
//! A state is reached by cutting a recorded handshake: the peer's flight is
//! delivered up to message k, then one message is injected. Encrypted
//! messages are opened and resealed one per record with copies of the
//! peer's record protectors ([`TestStore::tls13_protectors`]), so the
//! encrypted states are driven by true injection at the right sequence
//! number. The injected bodies are real ones (taken from the same run) so
//! that a refused message is refused for its place, not its body.

mod common;

use std::io::Write;
use std::sync::Arc;

use common::*;
use hsmtls::msgs::enums::{AlertDescription, NamedGroup, ProtocolVersion};
use hsmtls::{ClientAuth, ClientConfig, Connection, Error, ServerConfig};

const BOTH: &[ProtocolVersion] = &[ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2];

/// A message kind to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A handshake message of this type.
    Hs(u8),
    /// Application data.
    AppData,
    /// A plaintext change_cipher_spec.
    Ccs,
}

const KINDS: &[Kind] = &[
    Kind::Hs(1),  // ClientHello
    Kind::Hs(2),  // ServerHello
    Kind::Hs(4),  // NewSessionTicket
    Kind::Hs(5),  // EndOfEarlyData
    Kind::Hs(8),  // EncryptedExtensions
    Kind::Hs(11), // Certificate
    Kind::Hs(13), // CertificateRequest
    Kind::Hs(15), // CertificateVerify
    Kind::Hs(20), // Finished
    Kind::Hs(24), // KeyUpdate
    Kind::Hs(12), // ServerKeyExchange (TLS 1.2 only)
    Kind::AppData,
    Kind::Ccs,
];

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Hs(1) => "ClientHello",
        Kind::Hs(2) => "ServerHello",
        Kind::Hs(4) => "NewSessionTicket",
        Kind::Hs(5) => "EndOfEarlyData",
        Kind::Hs(8) => "EncryptedExtensions",
        Kind::Hs(11) => "Certificate",
        Kind::Hs(13) => "CertificateRequest",
        Kind::Hs(15) => "CertificateVerify",
        Kind::Hs(20) => "Finished",
        Kind::Hs(24) => "KeyUpdate",
        Kind::Hs(12) => "ServerKeyExchange",
        Kind::AppData => "application data",
        Kind::Ccs => "ChangeCipherSpec",
        Kind::Hs(_) => "unknown",
    }
}

/// (state, accepted message, next state) — the rows of the doc's tables.
const CLIENT: &[(&str, &str, &str)] = &[
    (
        "ExpectServerHello",
        "ServerHello",
        "ExpectEncryptedExtensions",
    ),
    (
        "ExpectEncryptedExtensions",
        "EncryptedExtensions",
        "ExpectCertificate",
    ),
    (
        "ExpectEncryptedExtensions",
        "EncryptedExtensions",
        "ExpectFinished",
    ),
    (
        "ExpectCertificate",
        "CertificateRequest",
        "ExpectCertificate+CR",
    ),
    (
        "ExpectCertificate",
        "Certificate",
        "ExpectCertificateVerify",
    ),
    (
        "ExpectCertificate+CR",
        "Certificate",
        "ExpectCertificateVerify",
    ),
    (
        "ExpectCertificateVerify",
        "CertificateVerify",
        "ExpectFinished",
    ),
    ("ExpectFinished", "Finished", "Traffic"),
    ("Traffic", "NewSessionTicket", "Traffic"),
    ("Traffic", "KeyUpdate", "Traffic"),
    ("Traffic", "application data", "Traffic"),
];

const SERVER: &[(&str, &str, &str)] = &[
    ("ExpectClientHello2", "ClientHello", "ExpectCertificate"),
    ("ExpectClientHello2", "ClientHello", "ExpectFinished"),
    (
        "ExpectEndOfEarlyData",
        "application data",
        "ExpectEndOfEarlyData",
    ),
    ("ExpectEndOfEarlyData", "EndOfEarlyData", "ExpectFinished"),
    (
        "ExpectCertificate",
        "Certificate",
        "ExpectCertificateVerify",
    ),
    ("ExpectCertificate", "Certificate", "ExpectFinished"),
    (
        "ExpectCertificateVerify",
        "CertificateVerify",
        "ExpectFinished",
    ),
    ("ExpectFinished", "Finished", "Traffic"),
    ("Traffic", "KeyUpdate", "Traffic"),
    ("Traffic", "application data", "Traffic"),
];

/// Every state but Traffic drops a plaintext change_cipher_spec (§5).
fn accepts(table: &[(&str, &str, &str)], state: &str, kind: Kind) -> bool {
    if kind == Kind::Ccs {
        return state != "Traffic";
    }
    table
        .iter()
        .any(|(s, m, _)| *s == state && *m == kind_name(kind))
}

fn source_variants(file: &str) -> Vec<String> {
    let path = format!("{}/src/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("source");
    let start = text.find("pub(crate) enum State {").expect("State enum");
    let body = &text[start..];
    let body = &body[..body.find('}').unwrap()];
    body.lines()
        .skip(1)
        .filter_map(|l| l.trim().split('(').next())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

fn check_table(table: &[(&str, &str, &str)], file: &str, starts: &[&str]) {
    let mut states: Vec<String> = table
        .iter()
        .flat_map(|(s, _, n)| [s.to_string(), n.to_string()])
        .map(|s| s.trim_end_matches("+CR").to_owned())
        .collect();
    states.sort();
    states.dedup();
    let mut source = source_variants(file);
    source.sort();
    assert_eq!(states, source, "{file}: table states vs State variants");
    // Every state reachable from the start, and every state reaches Traffic.
    let mut reached: Vec<String> = starts.iter().map(|s| s.to_string()).collect();
    let mut i = 0;
    while i < reached.len() {
        for (s, _, n) in table {
            if *s == reached[i] && !reached.iter().any(|r| r == n) {
                reached.push(n.to_string());
            }
        }
        i += 1;
    }
    for (s, _, n) in table {
        assert!(reached.iter().any(|r| r == s), "{s} unreachable");
        assert!(reached.iter().any(|r| r == n), "{n} unreachable");
        let mut at = s.to_string();
        for _ in 0..table.len() {
            if at == "Traffic" {
                break;
            }
            // The first row that leaves the state (not a loop on it).
            at = table
                .iter()
                .find(|(x, _, n)| *x == at && *n != at)
                .unwrap()
                .2
                .to_owned();
        }
        assert_eq!(at, "Traffic", "{s} does not lead to Traffic");
    }
    // The doc has every row.
    let doc = std::fs::read_to_string(format!(
        "{}/../../docs/tls13-states.md",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("docs/tls13-states.md");
    for (s, m, n) in table {
        let found = doc.lines().any(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            cells.len() > 4 && cells[1] == *s && cells[2] == *m && cells[3] == *n
        });
        assert!(found, "docs/tls13-states.md lacks the row {s} | {m} | {n}");
    }
}

#[test]
fn the_table_matches_the_source_and_the_doc() {
    check_table(CLIENT, "client/tls13.rs", &["ExpectServerHello"]);
    // The TLS 1.2 server's ExpectClientHello hands over to these.
    check_table(
        SERVER,
        "server/tls13.rs",
        &[
            "ExpectClientHello2",
            "ExpectEndOfEarlyData",
            "ExpectCertificate",
            "ExpectFinished",
        ],
    );
}

// ---------------------------------------------------------------- driving

struct Run {
    client_store: Arc<TestStore>,
    server_store: Arc<TestStore>,
    client: Connection,
    server: Connection,
}

fn start(client_auth: bool, retry: bool) -> Run {
    let client_store = store();
    let server_store = store();
    let mut c = client_builder_with(client_store.clone(), "ecdsa-p256")
        .versions(BOTH)
        .unwrap();
    let mut s = server_builder_with(server_store.clone(), "ecdsa-p256")
        .versions(BOTH)
        .unwrap();
    if client_auth {
        c = c.client_certificate(certified_key(&client_store, "ecdsa-p256", "client"));
        s = s.client_auth(ClientAuth::Require, vec![ca("ecdsa-p256")]);
    }
    if retry {
        c = c
            .groups(&[NamedGroup::x25519, NamedGroup::secp256r1])
            .unwrap();
        s = s.groups(&[NamedGroup::secp256r1]).unwrap();
    }
    let c: Arc<ClientConfig> = Arc::new(c.build().unwrap());
    let s: Arc<ServerConfig> = Arc::new(s.build().unwrap());
    let (client, server) = connections(&c, &s);
    Run {
        client_store,
        server_store,
        client,
        server,
    }
}

/// The handshake messages of an encrypted flight, opened with `protector`.
fn open_flight(bytes: &[u8], protector: &mut dyn hsmtls::keys::RecordProtector) -> Vec<Vec<u8>> {
    let mut content = Vec::new();
    let mut seq = 0;
    for r in split_records(bytes) {
        if r.typ == 23 {
            let (typ, c) = open_record13(protector, seq, &r);
            assert_eq!(typ, 22);
            content.extend(c);
            seq += 1;
        }
    }
    split_handshake_messages(&[Record {
        typ: 22,
        version: 0x0303,
        body: content,
    }])
}

fn plaintext_records(bytes: &[u8]) -> Vec<u8> {
    join_records(
        &split_records(bytes)
            .into_iter()
            .filter(|r| r.typ != 23)
            .collect::<Vec<_>>(),
    )
}

/// A real message of each kind, from full handshakes.
fn catalog() -> Vec<(Kind, Vec<u8>)> {
    let mut run = start(true, false);
    let ch = take_output(&mut run.client);
    deliver(&mut run.server, &ch).unwrap();
    let flight = take_output(&mut run.server);
    let mut hs = run.server_store.take_tls13_protector(0);
    let server_msgs = open_flight(&flight, &mut *hs);
    let plain = split_handshake_messages(&split_records(&plaintext_records(&flight)));
    let mut out = vec![
        (
            Kind::Hs(1),
            split_handshake_messages(&split_records(&ch))[0].clone(),
        ),
        (Kind::Hs(2), plain[0].clone()),
        (
            Kind::Hs(4),
            vec![
                4, 0, 0, 17, 0, 0, 0, 60, 0, 0, 0, 1, 1, 0, 0, 3, 1, 2, 3, 0, 0,
            ],
        ),
        (Kind::Hs(5), vec![5, 0, 0, 0]),
        (Kind::Hs(24), vec![24, 0, 0, 1, 0]),
        (Kind::Hs(12), vec![12, 0, 0, 2, 1, 2]),
    ];
    for m in server_msgs {
        out.push((Kind::Hs(m[0]), m));
    }
    out
}

fn body_of(catalog: &[(Kind, Vec<u8>)], kind: Kind) -> Vec<u8> {
    match kind {
        Kind::AppData => b"data".to_vec(),
        Kind::Ccs => vec![1],
        _ => catalog
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("no {kind:?} in the catalog")),
    }
}

/// The injected record: plaintext, or sealed at `seq`.
fn injected(
    catalog: &[(Kind, Vec<u8>)],
    kind: Kind,
    protector: Option<(&mut dyn hsmtls::keys::RecordProtector, u64)>,
) -> Vec<u8> {
    let body = body_of(catalog, kind);
    let typ = match kind {
        Kind::Hs(_) => 22,
        Kind::AppData => 23,
        Kind::Ccs => 20,
    };
    match (kind, protector) {
        (Kind::Ccs, _) | (_, None) => Record {
            typ,
            version: 0x0303,
            body,
        }
        .encode(),
        (_, Some((p, seq))) => seal_record13(p, seq, typ, &body, 0),
    }
}

fn judge(
    table: &[(&str, &str, &str)],
    role: &str,
    state: &str,
    kind: Kind,
    result: Result<(), Error>,
) {
    let unexpected =
        matches!(&result, Err(e) if e.alert() == Some(AlertDescription::UnexpectedMessage));
    if accepts(table, state, kind) {
        assert!(
            !unexpected,
            "{role} {state}: {} refused as unexpected: {result:?}",
            kind_name(kind)
        );
    } else {
        assert!(
            unexpected,
            "{role} {state}: {} not refused as unexpected_message: {result:?}",
            kind_name(kind)
        );
    }
}

/// The client in the state before the k-th encrypted server message (k =
/// messages count: Traffic), then `kind` injected.
fn drive_client(catalog: &[(Kind, Vec<u8>)], client_auth: bool, k: usize, state: &str) {
    for &kind in KINDS {
        let mut run = start(client_auth, false);
        let ch = take_output(&mut run.client);
        deliver(&mut run.server, &ch).unwrap();
        let flight = take_output(&mut run.server);
        let mut hs = run.server_store.take_tls13_protector(0);
        let msgs = open_flight(&flight, &mut *hs);
        deliver(&mut run.client, &plaintext_records(&flight)).unwrap();
        let mut seq = 0;
        let k = k.min(msgs.len());
        for m in &msgs[..k] {
            let r = seal_record13(&mut *hs, seq, 22, m, 0);
            deliver(&mut run.client, &r).unwrap();
            seq += 1;
        }
        let result = if k == msgs.len() {
            // Traffic: the server's application write keys, sequence 0.
            let mut app = run.server_store.take_tls13_protector(1);
            deliver(
                &mut run.client,
                &injected(catalog, kind, Some((&mut *app, 0))),
            )
        } else {
            deliver(
                &mut run.client,
                &injected(catalog, kind, Some((&mut *hs, seq))),
            )
        };
        judge(CLIENT, "client", state, kind, result);
    }
}

#[test]
fn client_states() {
    let catalog = catalog();
    // With a CertificateRequest: EE CR Certificate CV Finished.
    let states = [
        "ExpectEncryptedExtensions",
        "ExpectCertificate",
        "ExpectCertificate+CR",
        "ExpectCertificateVerify",
        "ExpectFinished",
        "Traffic",
    ];
    for (k, state) in states.iter().enumerate() {
        drive_client(&catalog, true, k, state);
    }
    // Without: EE Certificate CV Finished.
    drive_client(&catalog, false, 1, "ExpectCertificate");
    // After a HelloRetryRequest: the second ServerHello, in plaintext.
    for &kind in KINDS {
        let mut run = start(false, true);
        let ch = take_output(&mut run.client);
        deliver(&mut run.server, &ch).unwrap();
        let hrr = take_output(&mut run.server);
        deliver(&mut run.client, &hrr).unwrap();
        let result = deliver(&mut run.client, &injected(&catalog, kind, None));
        // A ServerHello from another handshake fails on its merits.
        judge(CLIENT, "client", "ExpectServerHello", kind, result);
    }
}

fn drive_server(catalog: &[(Kind, Vec<u8>)], k: usize, state: &str) {
    for &kind in KINDS {
        let mut run = start(true, false);
        let ch = take_output(&mut run.client);
        deliver(&mut run.server, &ch).unwrap();
        let flight = take_output(&mut run.server);
        deliver(&mut run.client, &flight).unwrap();
        let second = take_output(&mut run.client);
        let mut hs = run.client_store.take_tls13_protector(1);
        let msgs = open_flight(&second, &mut *hs);
        let mut seq = 0;
        for m in &msgs[..k] {
            let r = seal_record13(&mut *hs, seq, 22, m, 0);
            deliver(&mut run.server, &r).unwrap();
            seq += 1;
        }
        let result = if k == msgs.len() {
            // After the client handshake protector: server application,
            // client application.
            let mut app = run.client_store.take_tls13_protector(2);
            deliver(
                &mut run.server,
                &injected(catalog, kind, Some((&mut *app, 0))),
            )
        } else {
            deliver(
                &mut run.server,
                &injected(catalog, kind, Some((&mut *hs, seq))),
            )
        };
        judge(SERVER, "server", state, kind, result);
    }
}

#[test]
fn server_states() {
    let catalog = catalog();
    // The client's flight: Certificate CV Finished.
    for (k, state) in [
        "ExpectCertificate",
        "ExpectCertificateVerify",
        "ExpectFinished",
        "Traffic",
    ]
    .iter()
    .enumerate()
    {
        drive_server(&catalog, k, state);
    }
    // After our HelloRetryRequest.
    for &kind in KINDS {
        let mut run = start(false, true);
        let ch = take_output(&mut run.client);
        deliver(&mut run.server, &ch).unwrap();
        let result = deliver(&mut run.server, &injected(&catalog, kind, None));
        judge(SERVER, "server", "ExpectClientHello2", kind, result);
    }
    // Accepting 0-RTT data: the client's ClientHello and one early record
    // delivered, then each kind sealed under its early traffic key.
    for &kind in KINDS {
        let client_store = store();
        let c: Arc<ClientConfig> = Arc::new(
            client_builder_with(client_store.clone(), "ecdsa-p256")
                .versions(BOTH)
                .unwrap()
                .early_data(true)
                .build()
                .unwrap(),
        );
        let s: Arc<ServerConfig> = Arc::new(
            server_builder("ecdsa-p256")
                .versions(BOTH)
                .unwrap()
                .max_early_data_size(1024)
                .build()
                .unwrap(),
        );
        let (mut client, mut server) = connections(&c, &s);
        run(&mut client, &mut server).expect_complete();
        client.writer().write_all(b"-").unwrap();
        deliver(&mut client, &take_output(&mut server)).unwrap();
        let early_index = client_store.tls13_protector_count();
        let (mut client, mut server) = connections(&c, &s);
        client.writer().write_all(b"early").unwrap();
        deliver(&mut server, &take_output(&mut client)).unwrap();
        assert!(server.negotiated().early_data_accepted);
        let mut early = client_store.take_tls13_protector(early_index);
        let result = deliver(
            &mut server,
            &injected(&catalog, kind, Some((&mut *early, 1))),
        );
        judge(SERVER, "server", "ExpectEndOfEarlyData", kind, result);
    }
}
