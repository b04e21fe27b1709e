//! Handshakes that should succeed, and the negotiation failures a
//! configuration can cause: every TLS 1.2 suite with every fitting key kind
//! and every group, application data across record boundaries, EMS, ETM,
//! ALPN, client authentication, server certificate checks, resumption by
//! session ID and by ticket, and the keying material exporter.

mod common;

use std::io::Write;
use std::sync::Arc;

use common::*;
use hsmtls::msgs::enums::{AlertDescription, CipherSuite, NamedGroup, ProtocolVersion};
use hsmtls::suites::{AuthMethod, TLS12_SUITES};
use hsmtls::{ClientAuth, ClientConfig, Connection, Error, ServerConfig, Side};

const GROUPS: &[NamedGroup] = &[
    NamedGroup::x25519,
    NamedGroup::secp256r1,
    NamedGroup::secp384r1,
    NamedGroup::brainpoolP256r1,
    NamedGroup::brainpoolP384r1,
    NamedGroup::brainpoolP512r1,
];

const SIZES: &[usize] = &[0, 1, 16384, 16385, 100_000];

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Sends `len` bytes each way and checks the record count: the writer
/// fragments at `max_fragment` and sends an empty record for an empty write.
fn exchange(client: &mut Connection, server: &mut Connection, len: usize, max_fragment: usize) {
    exchange_one(client, server, len, max_fragment, 1);
    exchange_one(server, client, len, max_fragment, 2);
}

fn exchange_one(from: &mut Connection, to: &mut Connection, len: usize, max: usize, seed: u8) {
    let wire = if len == 0 {
        // write_all never calls write for an empty buffer.
        assert_eq!(from.writer().write(&[]).unwrap(), 0);
        let wire = take_output(from);
        deliver(to, &wire).unwrap();
        assert!(read_all(to).is_empty());
        wire
    } else {
        transfer(from, to, &pattern(len, seed))
    };
    let records = split_records(&wire);
    assert_eq!(records.len(), len.div_ceil(max).max(1), "len {len}");
    assert!(records.iter().all(|r| r.typ == 23));
}

fn check_suite(suite: &hsmtls::suites::Tls12Suite, kind: &str, group: NamedGroup) {
    let client = client_builder(kind)
        .cipher_suites(&[suite.suite])
        .unwrap()
        .groups(&[group])
        .unwrap()
        .build()
        .unwrap();
    let server = server_builder(kind).build().unwrap();
    let (mut c, mut s) = pair(&Arc::new(client), &Arc::new(server));
    for conn in [&c, &s] {
        let n = conn.negotiated();
        let what = format!("{:?} {kind} {group:?} {:?}", suite.suite, conn.side());
        assert_eq!(n.version, Some(ProtocolVersion::TLSv1_2), "{what}");
        assert_eq!(n.cipher_suite, Some(suite.suite), "{what}");
        assert_eq!(n.group, Some(group), "{what}");
        assert!(n.extended_master_secret, "{what}");
        assert_eq!(n.encrypt_then_mac, suite.bulk.is_cbc(), "{what}");
        assert!(n.secure_renegotiation, "{what}");
        assert!(!n.resumed, "{what}");
    }
    assert_eq!(
        c.negotiated().peer_certificates,
        pem_certificates(&pki(kind, "server.chain.pem"))
    );
    assert_eq!(s.negotiated().server_name.as_deref(), Some("localhost"));
    for len in SIZES {
        exchange(&mut c, &mut s, *len, 16384);
    }
}

/// Every suite with every key kind that fits it and every group.
#[test]
fn every_suite_kind_and_group() {
    for suite in TLS12_SUITES {
        let kinds: &[&str] = match suite.auth {
            AuthMethod::EcdheEcdsa => EC_KINDS,
            AuthMethod::EcdheRsa => &["rsa2048"],
        };
        for kind in kinds {
            for group in GROUPS {
                check_suite(suite, kind, *group);
            }
        }
    }
}

#[test]
fn small_fragments() {
    for suite in [
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
    ] {
        let client = client_builder("ecdsa-p256")
            .cipher_suites(&[suite])
            .unwrap()
            .max_fragment_size(512)
            .build()
            .unwrap();
        let server = server_builder("ecdsa-p256")
            .max_fragment_size(512)
            .build()
            .unwrap();
        let (mut c, mut s) = pair(&Arc::new(client), &Arc::new(server));
        for len in SIZES {
            exchange(&mut c, &mut s, *len, 512);
        }
    }
    // Out of range.
    for bad in [0, 511, 16385] {
        assert!(matches!(
            client_builder("ecdsa-p256").max_fragment_size(bad).build(),
            Err(Error::Config(_))
        ));
    }
}

/// Data written before the handshake completes goes out right after it.
#[test]
fn early_write_is_sent_after_handshake() {
    let (cc, sc) = configs("ecdsa-p256");
    let (mut c, mut s) = connections(&cc, &sc);
    c.writer().write_all(b"early bird").unwrap();
    run(&mut c, &mut s).expect_complete();
    assert_eq!(read_all(&mut s), b"early bird");
}

fn negotiated_pair(
    client: hsmtls::ClientConfigBuilder,
    server: hsmtls::ServerConfigBuilder,
) -> (Connection, Connection) {
    pair(
        &Arc::new(client.build().unwrap()),
        &Arc::new(server.build().unwrap()),
    )
}

fn cbc() -> [CipherSuite; 1] {
    [CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256]
}

#[test]
fn extended_master_secret_off_on_either_side() {
    for (client_ems, server_ems) in [(false, true), (true, false), (false, false)] {
        let (mut c, mut s) = negotiated_pair(
            client_builder("ecdsa-p256").extended_master_secret(client_ems),
            server_builder("ecdsa-p256").extended_master_secret(server_ems),
        );
        assert!(!c.negotiated().extended_master_secret);
        assert!(!s.negotiated().extended_master_secret);
        transfer(&mut c, &mut s, b"ping");
        transfer(&mut s, &mut c, b"pong");
    }
}

#[test]
fn server_requires_extended_master_secret() {
    let client = client_builder("ecdsa-p256")
        .extended_master_secret(false)
        .build()
        .unwrap();
    let server = server_builder("ecdsa-p256")
        .require_extended_master_secret(true)
        .build()
        .unwrap();
    let (mut c, mut s) = connections(&Arc::new(client), &Arc::new(server));
    let outcome = run(&mut c, &mut s);
    assert_eq!(
        outcome.client,
        Some(Error::AlertReceived(AlertDescription::HandshakeFailure))
    );
    assert_eq!(
        outcome.server.as_ref().and_then(Error::alert),
        Some(AlertDescription::HandshakeFailure)
    );
}

#[test]
fn client_requires_extended_master_secret() {
    let client = client_builder("ecdsa-p256")
        .require_extended_master_secret(true)
        .build()
        .unwrap();
    let server = server_builder("ecdsa-p256")
        .extended_master_secret(false)
        .build()
        .unwrap();
    let (mut c, mut s) = connections(&Arc::new(client), &Arc::new(server));
    run(&mut c, &mut s).expect_alert(Side::Client, AlertDescription::HandshakeFailure);
}

#[test]
fn encrypt_then_mac() {
    for (client_etm, server_etm) in [(true, true), (false, true), (true, false), (false, false)] {
        let (mut c, mut s) = negotiated_pair(
            client_builder("ecdsa-p256")
                .cipher_suites(&cbc())
                .unwrap()
                .encrypt_then_mac(client_etm),
            server_builder("ecdsa-p256").encrypt_then_mac(server_etm),
        );
        let expected = client_etm && server_etm;
        assert_eq!(c.negotiated().encrypt_then_mac, expected);
        assert_eq!(s.negotiated().encrypt_then_mac, expected);
        exchange(&mut c, &mut s, 16385, 16384);
    }
    // Never with an AEAD suite, even if both sides enable it.
    let (c, s) = negotiated_pair(client_builder("ecdsa-p256"), server_builder("ecdsa-p256"));
    assert!(!c.negotiated().encrypt_then_mac && !s.negotiated().encrypt_then_mac);
}

fn alpn(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|p| p.as_bytes().to_vec()).collect()
}

#[test]
fn alpn_agreement() {
    let (c, s) = negotiated_pair(
        client_builder("ecdsa-p256").alpn_protocols(alpn(&["h2", "http/1.1"])),
        server_builder("ecdsa-p256").alpn_protocols(alpn(&["http/1.1", "h2"])),
    );
    // The server's preference wins.
    assert_eq!(
        c.negotiated().alpn_protocol.as_deref(),
        Some(&b"http/1.1"[..])
    );
    assert_eq!(
        s.negotiated().alpn_protocol.as_deref(),
        Some(&b"http/1.1"[..])
    );

    // Only one side configured: no ALPN.
    for (client, server) in [(alpn(&["h2"]), vec![]), (vec![], alpn(&["h2"]))] {
        let (c, s) = negotiated_pair(
            client_builder("ecdsa-p256").alpn_protocols(client),
            server_builder("ecdsa-p256").alpn_protocols(server),
        );
        assert_eq!(c.negotiated().alpn_protocol, None);
        assert_eq!(s.negotiated().alpn_protocol, None);
    }
}

#[test]
fn alpn_no_overlap() {
    let client = client_builder("ecdsa-p256")
        .alpn_protocols(alpn(&["h2"]))
        .build()
        .unwrap();
    let server = server_builder("ecdsa-p256")
        .alpn_protocols(alpn(&["http/1.1"]))
        .build()
        .unwrap();
    let (mut c, mut s) = connections(&Arc::new(client), &Arc::new(server));
    run(&mut c, &mut s).expect_alert(Side::Server, AlertDescription::NoApplicationProtocol);
}

fn mutual(kind: &str, mode: ClientAuth, client_kind: Option<&str>) -> (Connection, Connection) {
    let store = store();
    let mut client = client_builder_with(store.clone(), kind);
    if let Some(ck) = client_kind {
        client = client.client_certificate(certified_key(&store, ck, "client"));
    }
    let server = server_builder(kind).client_auth(mode, vec![ca(kind)]);
    connections(
        &Arc::new(client.build().unwrap()),
        &Arc::new(server.build().unwrap()),
    )
}

#[test]
fn client_auth_required_with_certificate() {
    for kind in ALL_KINDS {
        let (mut c, mut s) = mutual(kind, ClientAuth::Require, Some(kind));
        run(&mut c, &mut s).expect_complete();
        assert_eq!(
            s.negotiated().peer_certificates,
            pem_certificates(&pki(kind, "client.chain.pem")),
            "{kind}"
        );
        transfer(&mut c, &mut s, b"authenticated");
        transfer(&mut s, &mut c, b"welcome");
    }
}

#[test]
fn client_auth_requested_with_certificate() {
    let (mut c, mut s) = mutual("ecdsa-p384", ClientAuth::Request, Some("ecdsa-p384"));
    run(&mut c, &mut s).expect_complete();
    assert!(!s.negotiated().peer_certificates.is_empty());
}

#[test]
fn client_auth_required_without_certificate() {
    let (mut c, mut s) = mutual("ecdsa-p256", ClientAuth::Require, None);
    run(&mut c, &mut s).expect_alert(Side::Server, AlertDescription::HandshakeFailure);
}

#[test]
fn client_auth_requested_without_certificate() {
    let (mut c, mut s) = mutual("ecdsa-p256", ClientAuth::Request, None);
    run(&mut c, &mut s).expect_complete();
    assert!(s.negotiated().peer_certificates.is_empty());
    transfer(&mut c, &mut s, b"anonymous");
}

#[test]
fn client_certificate_from_wrong_ca() {
    let (mut c, mut s) = mutual("ecdsa-p256", ClientAuth::Require, Some("wrongca"));
    run(&mut c, &mut s).expect_alert(Side::Server, AlertDescription::UnknownCa);
    // Only asked for: a certificate that does not verify is still fatal.
    let (mut c, mut s) = mutual("ecdsa-p256", ClientAuth::Request, Some("wrongca"));
    run(&mut c, &mut s).expect_alert(Side::Server, AlertDescription::UnknownCa);
}

#[test]
fn server_certificate_wrong_name() {
    let (cc, sc) = configs("ecdsa-p256");
    let mut c = Connection::client(cc, "example.com").unwrap();
    let mut s = Connection::server(sc).unwrap();
    let outcome = run(&mut c, &mut s);
    assert!(
        matches!(outcome.client, Some(Error::BadCertificate { .. })),
        "{outcome:?}"
    );
    outcome.expect_alert(Side::Client, AlertDescription::BadCertificate);
}

#[test]
fn server_certificate_untrusted() {
    let client = Arc::new(client_builder("wrongca").build().unwrap());
    let server = Arc::new(server_builder("ecdsa-p256").build().unwrap());
    let (mut c, mut s) = connections(&client, &server);
    run(&mut c, &mut s).expect_alert(Side::Client, AlertDescription::UnknownCa);
}

#[test]
fn server_certificate_expired() {
    let client = Arc::new(client_builder("ecdsa-p256").build().unwrap());
    let server = Arc::new(server_builder("expired").build().unwrap());
    let (mut c, mut s) = connections(&client, &server);
    run(&mut c, &mut s).expect_alert(Side::Client, AlertDescription::CertificateExpired);
}

/// Two servers keys: the client's suite decides which one is used.
#[test]
fn server_with_ecdsa_and_rsa_certificates() {
    let store = store();
    let ec = certified_key(&store, "ecdsa-p256", "server");
    let rsa = certified_key(&store, "rsa2048", "server");
    let server = Arc::new(
        ServerConfig::builder(store)
            .certificate(ec)
            .certificate(rsa)
            .build()
            .unwrap(),
    );
    for (suite, kind) in [
        (
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            "rsa2048",
        ),
        (
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "ecdsa-p256",
        ),
    ] {
        let client = Arc::new(
            client_builder(kind)
                .cipher_suites(&[suite])
                .unwrap()
                .build()
                .unwrap(),
        );
        let (c, _s) = pair(&client, &server);
        assert_eq!(c.negotiated().cipher_suite, Some(suite));
    }
}

// ---------------------------------------------------------------- resumption

struct Resumption {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

impl Resumption {
    fn new(
        tickets: bool,
        tweak: impl Fn(hsmtls::ClientConfigBuilder) -> hsmtls::ClientConfigBuilder,
    ) -> Self {
        let server = server_builder("ecdsa-p256")
            .alpn_protocols(alpn(&["h2"]))
            .session_tickets(tickets)
            .session_cache_size(if tickets { 0 } else { 16 })
            .build()
            .unwrap();
        let client = tweak(client_builder("ecdsa-p256").alpn_protocols(alpn(&["h2"])))
            .build()
            .unwrap();
        Self {
            client: Arc::new(client),
            server: Arc::new(server),
        }
    }

    fn connect(&self) -> (Connection, Connection) {
        pair(&self.client, &self.server)
    }
}

fn check_resumed(first: &Connection, c: &Connection, s: &Connection) {
    for conn in [c, s] {
        let n = conn.negotiated();
        assert!(n.resumed, "{:?}", conn.side());
        assert_eq!(n.cipher_suite, first.negotiated().cipher_suite);
        assert_eq!(
            n.extended_master_secret,
            first.negotiated().extended_master_secret
        );
        assert_eq!(n.alpn_protocol.as_deref(), Some(&b"h2"[..]));
        assert_eq!(n.group, None);
    }
    // The client still knows whom it talks to.
    assert_eq!(
        c.negotiated().peer_certificates,
        first.negotiated().peer_certificates
    );
}

fn exporter(conn: &Connection, label: &[u8], context: Option<&[u8]>) -> [u8; 32] {
    let mut out = [0u8; 32];
    conn.export_keying_material(&mut out, label, context)
        .unwrap();
    out
}

#[test]
fn resumption_by_session_id() {
    let r = Resumption::new(false, |b| b);
    let (c1, s1) = r.connect();
    assert!(!c1.negotiated().resumed && !c1.negotiated().ticket_issued);
    assert_eq!(r.server.session_cache().map(|c| c.len()), Some(1));
    for _ in 0..2 {
        let (mut c, mut s) = r.connect();
        check_resumed(&c1, &c, &s);
        assert!(!c.negotiated().ticket_issued);
        transfer(&mut c, &mut s, b"resumed");
        transfer(&mut s, &mut c, b"indeed");
        // Fresh randoms: fresh keys.
        assert_ne!(
            exporter(&c, b"EXPORTER-x", None),
            exporter(&c1, b"EXPORTER-x", None)
        );
        assert_eq!(
            exporter(&c, b"EXPORTER-x", None),
            exporter(&s, b"EXPORTER-x", None)
        );
    }
    drop(s1);
}

#[test]
fn resumption_by_ticket() {
    let r = Resumption::new(true, |b| b);
    let (c1, _s1) = r.connect();
    assert!(c1.negotiated().ticket_issued);
    assert!(r.server.session_cache().is_none());
    for _ in 0..2 {
        let (mut c, mut s) = r.connect();
        check_resumed(&c1, &c, &s);
        transfer(&mut c, &mut s, b"resumed");
        transfer(&mut s, &mut c, b"indeed");
    }
}

#[test]
fn resumption_without_extended_master_secret() {
    for tickets in [false, true] {
        let r = Resumption::new(tickets, |b| b.extended_master_secret(false));
        let (c1, _) = r.connect();
        assert!(!c1.negotiated().extended_master_secret);
        let (c, s) = r.connect();
        check_resumed(&c1, &c, &s);
    }
}

#[test]
fn resumption_with_cbc_keeps_encrypt_then_mac() {
    for tickets in [false, true] {
        let r = Resumption::new(tickets, |b| b.cipher_suites(&cbc()).unwrap());
        let (c1, _) = r.connect();
        assert!(c1.negotiated().encrypt_then_mac);
        let (mut c, mut s) = r.connect();
        check_resumed(&c1, &c, &s);
        assert!(c.negotiated().encrypt_then_mac && s.negotiated().encrypt_then_mac);
        exchange(&mut c, &mut s, 16385, 16384);
    }
}

/// A ticket the server cannot open means a full handshake, not an error
/// (RFC 5077 §3.4).
#[test]
fn tampered_ticket_gives_full_handshake() {
    let server_store = store();
    server_store.corrupt_tickets(true);
    let server = Arc::new(
        server_builder_with(server_store, "ecdsa-p256")
            .session_cache_size(0)
            .build()
            .unwrap(),
    );
    let client = Arc::new(client_builder("ecdsa-p256").build().unwrap());
    let (c1, _) = pair(&client, &server);
    assert!(c1.negotiated().ticket_issued);
    for _ in 0..2 {
        let (mut c, mut s) = pair(&client, &server);
        assert!(!c.negotiated().resumed && !s.negotiated().resumed);
        assert!(c.negotiated().ticket_issued);
        transfer(&mut c, &mut s, b"full");
    }
}

/// A ticket from another server (another ticket key): full handshake.
#[test]
fn foreign_ticket_gives_full_handshake() {
    let client = Arc::new(client_builder("ecdsa-p256").build().unwrap());
    let server_a = Arc::new(server_builder("ecdsa-p256").build().unwrap());
    let server_b = Arc::new(server_builder("ecdsa-p256").build().unwrap());
    pair(&client, &server_a);
    let (c, s) = pair(&client, &server_b);
    assert!(!c.negotiated().resumed && !s.negotiated().resumed);
    // And server_b's new ticket resumes with server_b.
    let (c, _) = pair(&client, &server_b);
    assert!(c.negotiated().resumed);
}

// ---------------------------------------------------------------- exporter

#[test]
fn exporter_agrees_and_separates() {
    let (cc, sc) = configs("ecdsa-p256");
    let (c, s) = connections(&cc, &sc);
    let mut out = [0u8; 16];
    assert!(matches!(
        c.export_keying_material(&mut out, b"EXPORTER-test", None),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        s.export_keying_material(&mut out, b"EXPORTER-test", None),
        Err(Error::InvalidState(_))
    ));

    let (c, s) = pair(&cc, &sc);
    let cases: [(&[u8], Option<&[u8]>); 5] = [
        (b"EXPORTER-a", None),
        (b"EXPORTER-b", None),
        (b"EXPORTER-a", Some(b"")),
        (b"EXPORTER-a", Some(b"context")),
        (b"EXPORTER-a", Some(b"context2")),
    ];
    let outputs: Vec<[u8; 32]> = cases
        .iter()
        .map(|(label, ctx)| {
            let a = exporter(&c, label, *ctx);
            assert_eq!(a, exporter(&s, label, *ctx));
            a
        })
        .collect();
    for (i, a) in outputs.iter().enumerate() {
        for b in &outputs[i + 1..] {
            assert_ne!(a, b, "exporter outputs must differ per label and context");
        }
    }
    // Longer output: the first bytes agree (PRF output is a stream).
    let mut long = [0u8; 100];
    c.export_keying_material(&mut long, b"EXPORTER-a", None)
        .unwrap();
    assert_eq!(&long[..32], &outputs[0]);
    // A context longer than 2^16-1 cannot be encoded.
    let big = vec![0u8; 65536];
    assert!(c
        .export_keying_material(&mut out, b"EXPORTER-a", Some(&big))
        .is_err());
}

// ---------------------------------------------------------------- close

#[test]
fn close_notify_both_ways() {
    let (cc, sc) = configs("rsa2048");
    let (mut c, mut s) = pair(&cc, &sc);
    transfer(&mut c, &mut s, b"bye soon");
    c.send_close_notify();
    let wire = take_output(&mut c);
    deliver(&mut s, &wire).unwrap();
    assert!(s.peer_has_closed());
    let mut buf = [0u8; 8];
    assert_eq!(std::io::Read::read(&mut s.reader(), &mut buf).unwrap(), 0);
    // Writing after our own close_notify fails.
    assert!(c.writer().write(b"more").is_err());
    // The server can still answer, then close.
    transfer(&mut s, &mut c, b"last words");
    s.send_close_notify();
    let wire = take_output(&mut s);
    deliver(&mut c, &wire).unwrap();
    assert!(c.peer_has_closed());
}

/// The client's identity survives resumption, by session ID and by ticket
/// (RFC 5077 §4 lists client_identity in the ticket's state).
#[test]
fn resumption_keeps_client_identity() {
    for tickets in [false, true] {
        let store = store();
        let client = Arc::new(
            client_builder_with(store.clone(), "ecdsa-p256")
                .client_certificate(certified_key(&store, "ecdsa-p256", "client"))
                .build()
                .unwrap(),
        );
        let server = Arc::new(
            server_builder("ecdsa-p256")
                .client_auth(ClientAuth::Require, vec![ca("ecdsa-p256")])
                .session_tickets(tickets)
                .session_cache_size(if tickets { 0 } else { 16 })
                .build()
                .unwrap(),
        );
        let (_, s1) = pair(&client, &server);
        let identity = s1.negotiated().peer_certificates.clone();
        assert!(!identity.is_empty());
        let (_, s2) = pair(&client, &server);
        assert!(s2.negotiated().resumed, "tickets {tickets}");
        assert_eq!(
            s2.negotiated().peer_certificates,
            identity,
            "tickets {tickets}"
        );
    }
}
