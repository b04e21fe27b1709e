//! Negative tests: tampered, truncated, oversized, out-of-order and
//! malformed input, each of which must end in the alert RFC 5246 names for
//! it (and never in a panic), plus the few that must not end the
//! connection (warnings, refused renegotiation, close_notify).

mod common;

use std::io::Write;
use std::sync::Arc;

use common::*;
use hsmtls::keys::{FinishedLabel, Tls12TrafficKeys};
use hsmtls::msgs::base::SessionId;
use hsmtls::msgs::codec::Codec;
use hsmtls::msgs::enums::{
    AlertDescription, AlertLevel, CipherSuite, CompressionMethod, ContentType, ExtensionType,
    HandshakeType, NamedGroup, ProtocolVersion,
};
use hsmtls::msgs::ext::{Extension, Extensions};
use hsmtls::msgs::handshake::{
    ClientHello, EcdheServerParams, HandshakeMessage, HandshakePayload, ServerHello,
    ServerKeyExchangePayload,
};
use hsmtls::{ClientAuth, ClientConfig, Connection, Error, ServerConfig, Side};

const GCM: CipherSuite = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
const CHACHA: CipherSuite = CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;
const CBC: CipherSuite = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384;

/// A client/server pair whose stores keep copies of the traffic keys.
struct Live {
    client: Connection,
    server: Connection,
    client_store: Arc<TestStore>,
}

fn live_configs(
    suite: CipherSuite,
    etm: bool,
) -> (
    Arc<ClientConfig>,
    Arc<ServerConfig>,
    Arc<TestStore>,
    Arc<TestStore>,
) {
    let client_store = store();
    let server_store = store();
    let client = client_builder_with(client_store.clone(), "ecdsa-p256")
        .cipher_suites(&[suite])
        .unwrap()
        .encrypt_then_mac(etm)
        .session_cache_size(0)
        .build()
        .unwrap();
    let server = server_builder_with(server_store.clone(), "ecdsa-p256")
        .session_tickets(false)
        .build()
        .unwrap();
    (
        Arc::new(client),
        Arc::new(server),
        client_store,
        server_store,
    )
}

impl Live {
    fn new(suite: CipherSuite, etm: bool) -> Self {
        let (cc, sc, client_store, _) = live_configs(suite, etm);
        let (client, server) = pair(&cc, &sc);
        Self {
            client,
            server,
            client_store,
        }
    }

    /// Copies of the traffic keys (the client's; the server derived the
    /// same).
    fn keys(&self) -> Tls12TrafficKeys {
        self.client_store.take_traffic_keys()
    }
}

fn kinds_of_protection() -> [(CipherSuite, bool); 4] {
    [(GCM, false), (CHACHA, false), (CBC, true), (CBC, false)]
}

fn alert_of(result: Result<(), Error>) -> Option<AlertDescription> {
    result.expect_err("expected an error").alert()
}

fn plaintext(typ: ContentType, body: &[u8]) -> Vec<u8> {
    Record::new(typ, body.to_vec()).encode()
}

// ---------------------------------------------------------------- Finished

fn tamper_last_record(bytes: &mut [u8]) {
    let last = record_ranges(bytes).pop().unwrap();
    bytes[last.end - 1] ^= 0x01;
}

#[test]
fn tampered_encrypted_finished() {
    for (suite, etm) in kinds_of_protection() {
        // The client's Finished is the last record of its second flight.
        let (cc, sc, _, _) = live_configs(suite, etm);
        let (mut c, mut s) = connections(&cc, &sc);
        let outcome = run_with_tamper(&mut c, &mut s, |dir, i, bytes| {
            if dir == Direction::ToServer && i == 1 {
                tamper_last_record(bytes);
            }
        });
        outcome.expect_alert(Side::Server, AlertDescription::BadRecordMac);
        // The server's Finished.
        let (mut c, mut s) = connections(&cc, &sc);
        let outcome = run_with_tamper(&mut c, &mut s, |dir, i, bytes| {
            if dir == Direction::ToClient && i == 1 {
                tamper_last_record(bytes);
            }
        });
        outcome.expect_alert(Side::Client, AlertDescription::BadRecordMac);
    }
}

#[test]
fn wrong_verify_data() {
    for tickets in [false, true] {
        for (label, victim) in [
            (FinishedLabel::Client, Side::Server),
            (FinishedLabel::Server, Side::Client),
        ] {
            let client_store = store();
            let server_store = store();
            let cc = Arc::new(
                client_builder_with(client_store.clone(), "ecdsa-p256")
                    .build()
                    .unwrap(),
            );
            let sc = Arc::new(
                server_builder_with(server_store.clone(), "ecdsa-p256")
                    .session_tickets(tickets)
                    .build()
                    .unwrap(),
            );
            // Full handshake, then a resumed one (where the server's
            // Finished comes first).
            for resumed in [false, true] {
                let liar = match label {
                    FinishedLabel::Client => &client_store,
                    FinishedLabel::Server => &server_store,
                };
                if resumed {
                    liar.corrupt_finished(None);
                    pair(&cc, &sc);
                }
                liar.corrupt_finished(Some(label));
                let (mut c, mut s) = connections(&cc, &sc);
                let outcome = run(&mut c, &mut s);
                outcome.expect_alert(victim, AlertDescription::DecryptError);
                assert!(
                    matches!(outcome.error(victim), Some(Error::DecryptError(_))),
                    "{outcome:?}"
                );
                assert_eq!(
                    c.negotiated().resumed,
                    resumed,
                    "{label:?} tickets {tickets}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------- records

#[test]
fn tampered_application_data() {
    for (suite, etm) in kinds_of_protection() {
        let probe = Live::new(suite, etm);
        let mut probe = probe;
        probe.client.writer().write_all(&[0x55; 100]).unwrap();
        let wire = take_output(&mut probe.client);
        let positions: Vec<usize> = vec![
            0,
            1,
            2,
            3,
            4,
            5,
            6,
            12,
            20,
            40,
            wire.len() / 2,
            wire.len() - 17,
            wire.len() - 1,
        ];
        for pos in positions {
            for flip in [0x01u8, 0x80] {
                let mut live = Live::new(suite, etm);
                live.client.writer().write_all(&[0x55; 100]).unwrap();
                let mut wire = take_output(&mut live.client);
                wire[pos] ^= flip;
                let result = deliver(&mut live.server, &wire);
                let got = read_all(&mut live.server);
                assert!(
                    got.is_empty(),
                    "tampered data delivered ({suite:?} pos {pos})"
                );
                let what = format!("{suite:?} etm {etm} pos {pos} flip {flip:#x}: {result:?}");
                match pos {
                    // The type is authenticated: any other type fails the MAC.
                    0 => assert_eq!(
                        alert_of(result),
                        Some(AlertDescription::BadRecordMac),
                        "{what}"
                    ),
                    // Major version 3 is required to frame a record.
                    1 => assert_eq!(
                        alert_of(result),
                        Some(AlertDescription::DecodeError),
                        "{what}"
                    ),
                    // The minor version is authenticated.
                    2 => assert_eq!(
                        alert_of(result),
                        Some(AlertDescription::BadRecordMac),
                        "{what}"
                    ),
                    // A longer length waits for more bytes; a shorter one
                    // fails the MAC.
                    3 | 4 => match result {
                        Ok(()) => assert!(
                            u16::from_be_bytes([wire[3], wire[4]]) as usize > wire.len() - 5,
                            "{what}"
                        ),
                        Err(e) => assert!(
                            matches!(
                                e.alert(),
                                Some(
                                    AlertDescription::BadRecordMac
                                        | AlertDescription::RecordOverflow
                                )
                            ),
                            "{what}"
                        ),
                    },
                    _ => assert_eq!(
                        alert_of(result),
                        Some(AlertDescription::BadRecordMac),
                        "{what}"
                    ),
                }
            }
        }
    }
}

#[test]
fn truncated_encrypted_records() {
    for (suite, etm) in kinds_of_protection() {
        for cut in (0..64).chain([100, 115, 116, 117, 127, 128, 129]) {
            let mut live = Live::new(suite, etm);
            live.client.writer().write_all(&[0x33; 100]).unwrap();
            let wire = take_output(&mut live.client);
            let mut record = split_records(&wire).remove(0);
            if cut >= record.body.len() {
                continue;
            }
            // A prefix of the record: nothing happens yet.
            deliver(&mut live.server, &wire[..5 + cut]).unwrap();
            assert!(read_all(&mut live.server).is_empty());
            // A record whose length says it is short: bad_record_mac.
            let mut live = Live::new(suite, etm);
            live.client.writer().write_all(&[0x33; 100]).unwrap();
            take_output(&mut live.client);
            record.body.truncate(cut);
            let result = deliver(&mut live.server, &record.encode());
            assert_eq!(
                alert_of(result),
                Some(AlertDescription::BadRecordMac),
                "{suite:?} etm {etm} cut {cut}"
            );
        }
    }
}

#[test]
fn record_overflow() {
    // A header announcing more than 2^14 + 2048 bytes, to a fresh server.
    let (cc, sc) = configs("ecdsa-p256");
    for len in [16384 + 2049, 65535] {
        let (_, mut s) = connections(&cc, &sc);
        let mut bytes = vec![22, 3, 3];
        bytes.extend_from_slice(&(len as u16).to_be_bytes());
        assert_eq!(
            alert_of(deliver(&mut s, &bytes)),
            Some(AlertDescription::RecordOverflow)
        );
    }
    // A plaintext record of 2^14 + 1 bytes.
    let (_, mut s) = connections(&cc, &sc);
    let bytes = plaintext(ContentType::Handshake, &[0; 16385]);
    assert_eq!(
        alert_of(deliver(&mut s, &bytes)),
        Some(AlertDescription::RecordOverflow)
    );
    // An encrypted record whose plaintext is 2^14 + 1 bytes, and one of
    // exactly 2^14 bytes that is fine.
    for (suite, etm) in kinds_of_protection() {
        for (len, ok) in [(16384, true), (16385, false)] {
            let mut live = Live::new(suite, etm);
            let mut keys = live.keys();
            let bytes = seal_record(
                &mut *keys.client_write,
                1,
                ContentType::ApplicationData,
                &vec![7; len],
            );
            let result = deliver(&mut live.server, &bytes);
            if ok {
                result.unwrap();
                assert_eq!(read_all(&mut live.server).len(), len);
            } else {
                assert_eq!(
                    alert_of(result),
                    Some(AlertDescription::RecordOverflow),
                    "{suite:?}"
                );
            }
        }
    }
}

#[test]
fn unknown_content_type() {
    let (cc, sc) = configs("ecdsa-p256");
    for typ in [0u8, 19, 24, 99, 255] {
        let (mut c, mut s) = connections(&cc, &sc);
        let bytes = Record {
            typ,
            version: 0x0303,
            body: vec![1, 2, 3],
        }
        .encode();
        assert_eq!(
            alert_of(deliver(&mut s, &bytes)),
            Some(AlertDescription::UnexpectedMessage)
        );
        take_output(&mut c);
        assert_eq!(
            alert_of(deliver(&mut c, &bytes)),
            Some(AlertDescription::UnexpectedMessage)
        );
    }
    // Encrypted, after the handshake.
    let mut live = Live::new(GCM, false);
    let mut keys = live.keys();
    let bytes = seal_record(&mut *keys.client_write, 1, ContentType::Unknown(99), b"hi");
    assert_eq!(
        alert_of(deliver(&mut live.server, &bytes)),
        Some(AlertDescription::UnexpectedMessage)
    );
}

#[test]
fn empty_handshake_record() {
    let (cc, sc) = configs("ecdsa-p256");
    let (mut c, mut s) = connections(&cc, &sc);
    let empty = plaintext(ContentType::Handshake, &[]);
    assert_eq!(
        alert_of(deliver(&mut s, &empty)),
        Some(AlertDescription::UnexpectedMessage)
    );
    take_output(&mut c);
    assert_eq!(
        alert_of(deliver(&mut c, &empty)),
        Some(AlertDescription::UnexpectedMessage)
    );
}

/// A change to a list of raw handshake messages.
type Edit = Box<dyn Fn(&mut Vec<Vec<u8>>)>;

/// The server's flight as the client gets it, and the two connections
/// after the ClientHello: (client, server, server's first flight).
fn after_client_hello(
    cc: &Arc<ClientConfig>,
    sc: &Arc<ServerConfig>,
) -> (Connection, Connection, Vec<u8>) {
    let (mut c, mut s) = connections(cc, sc);
    let hello = take_output(&mut c);
    deliver(&mut s, &hello).unwrap();
    let flight = take_output(&mut s);
    (c, s, flight)
}

/// One plaintext handshake record per message.
fn records_of(messages: &[Vec<u8>]) -> Vec<u8> {
    messages
        .iter()
        .flat_map(|m| plaintext(ContentType::Handshake, m))
        .collect()
}

#[test]
fn malformed_change_cipher_spec() {
    let (cc, sc) = configs("ecdsa-p256");
    for body in [&[2u8][..], &[1, 1], &[], &[0]] {
        // To the server, where it is due (after the client's key exchange).
        let (mut c, mut s, flight) = after_client_hello(&cc, &sc);
        deliver(&mut c, &flight).unwrap();
        let client_flight = split_records(&take_output(&mut c));
        let mut bytes = client_flight[0].encode(); // ClientKeyExchange
        bytes.extend(plaintext(ContentType::ChangeCipherSpec, body));
        let alert = alert_of(deliver(&mut s, &bytes));
        assert!(
            matches!(
                alert,
                Some(
                    AlertDescription::DecodeError
                        | AlertDescription::UnexpectedMessage
                        | AlertDescription::IllegalParameter
                )
            ),
            "{body:?}: {alert:?}"
        );
    }
}

#[test]
fn change_cipher_spec_too_early() {
    let (cc, sc) = configs("ecdsa-p256");
    let ccs = plaintext(ContentType::ChangeCipherSpec, &[1]);
    let (mut c, _s, flight) = after_client_hello(&cc, &sc);
    let messages = split_handshake_messages(&split_records(&flight));
    // After each prefix of the server's flight, before ServerHelloDone.
    for k in 0..messages.len() {
        let (mut c2, _s2, flight2) = after_client_hello(&cc, &sc);
        let messages2 = split_handshake_messages(&split_records(&flight2));
        let mut bytes = records_of(&messages2[..k]);
        bytes.extend_from_slice(&ccs);
        assert_eq!(
            alert_of(deliver(&mut c2, &bytes)),
            Some(AlertDescription::UnexpectedMessage),
            "k {k}"
        );
    }
    // CCS to the server before its ClientKeyExchange.
    deliver(&mut c, &flight).unwrap();
    let (_, mut s3, _) = after_client_hello(&cc, &sc);
    assert_eq!(
        alert_of(deliver(&mut s3, &ccs)),
        Some(AlertDescription::UnexpectedMessage)
    );
    // A CCS in the middle of a handshake message.
    let (mut c4, _s4, flight4) = after_client_hello(&cc, &sc);
    let mut bytes = split_records(&flight4)[0].clone();
    let half = bytes.body.len() / 2;
    bytes.body.truncate(half);
    let mut wire = bytes.encode();
    wire.extend_from_slice(&ccs);
    assert_eq!(
        alert_of(deliver(&mut c4, &wire)),
        Some(AlertDescription::UnexpectedMessage)
    );
}

#[test]
fn server_flight_out_of_order() {
    let (cc, sc) = configs("ecdsa-p256");
    let fresh = || {
        let (c, s, flight) = after_client_hello(&cc, &sc);
        let messages = split_handshake_messages(&split_records(&flight));
        let types: Vec<u8> = messages.iter().map(|m| m[0]).collect();
        assert_eq!(types, [2, 11, 12, 14]);
        (c, s, messages)
    };
    let cases: Vec<(&str, Edit)> = vec![
        ("drop ServerKeyExchange", Box::new(|m| drop(m.remove(2)))),
        ("drop Certificate", Box::new(|m| drop(m.remove(1)))),
        ("drop ServerHello", Box::new(|m| drop(m.remove(0)))),
        (
            "swap ServerHello and Certificate",
            Box::new(|m| m.swap(0, 1)),
        ),
        (
            "swap Certificate and ServerKeyExchange",
            Box::new(|m| m.swap(1, 2)),
        ),
        (
            "duplicate ServerHello",
            Box::new(|m| m.insert(1, m[0].clone())),
        ),
        (
            "duplicate Certificate",
            Box::new(|m| m.insert(2, m[1].clone())),
        ),
        (
            "duplicate ServerKeyExchange",
            Box::new(|m| m.insert(3, m[2].clone())),
        ),
        (
            "duplicate ServerHelloDone",
            Box::new(|m| m.push(m[3].clone())),
        ),
    ];
    for (what, edit) in cases {
        for one_record in [false, true] {
            let (mut c, _s, mut messages) = fresh();
            edit(&mut messages);
            let bytes = if one_record {
                plaintext(ContentType::Handshake, &messages.concat())
            } else {
                records_of(&messages)
            };
            assert_eq!(
                alert_of(deliver(&mut c, &bytes)),
                Some(AlertDescription::UnexpectedMessage),
                "{what}"
            );
        }
    }
}

#[test]
fn client_flight_out_of_order() {
    let store = store();
    let cc = Arc::new(
        client_builder_with(store.clone(), "ecdsa-p256")
            .client_certificate(certified_key(&store, "ecdsa-p256", "client"))
            .build()
            .unwrap(),
    );
    let sc = Arc::new(
        server_builder("ecdsa-p256")
            .client_auth(ClientAuth::Require, vec![ca("ecdsa-p256")])
            .build()
            .unwrap(),
    );
    // The client's flight: Certificate, ClientKeyExchange,
    // CertificateVerify (one record), then CCS and Finished.
    let fresh = || {
        let (mut c, s, flight) = after_client_hello(&cc, &sc);
        deliver(&mut c, &flight).unwrap();
        let records = split_records(&take_output(&mut c));
        let messages = split_handshake_messages(&records[..1]);
        let types: Vec<u8> = messages.iter().map(|m| m[0]).collect();
        assert_eq!(types, [11, 16, 15]);
        (s, messages)
    };
    let cases: Vec<(&str, Edit)> = vec![
        ("drop Certificate", Box::new(|m| drop(m.remove(0)))),
        ("drop ClientKeyExchange", Box::new(|m| drop(m.remove(1)))),
        (
            "swap Certificate and ClientKeyExchange",
            Box::new(|m| m.swap(0, 1)),
        ),
        (
            "swap ClientKeyExchange and CertificateVerify",
            Box::new(|m| m.swap(1, 2)),
        ),
        (
            "duplicate Certificate",
            Box::new(|m| m.insert(1, m[0].clone())),
        ),
        (
            "duplicate ClientKeyExchange",
            Box::new(|m| m.insert(2, m[1].clone())),
        ),
        (
            "duplicate CertificateVerify",
            Box::new(|m| m.push(m[2].clone())),
        ),
    ];
    for (what, edit) in cases {
        let (mut s, mut messages) = fresh();
        edit(&mut messages);
        assert_eq!(
            alert_of(deliver(&mut s, &records_of(&messages))),
            Some(AlertDescription::UnexpectedMessage),
            "{what}"
        );
    }
    // Without the CertificateVerify, the CCS comes too early.
    let (mut s, mut messages) = fresh();
    messages.pop();
    let mut bytes = records_of(&messages);
    bytes.extend(plaintext(ContentType::ChangeCipherSpec, &[1]));
    assert_eq!(
        alert_of(deliver(&mut s, &bytes)),
        Some(AlertDescription::UnexpectedMessage)
    );
}

// ---------------------------------------------------------------- after the handshake

fn client_hello_message() -> Vec<u8> {
    let mut extensions = Extensions::new();
    extensions.push(ExtensionType::ExtendedMasterSecret, Vec::new());
    HandshakeMessage::new(HandshakePayload::ClientHello(ClientHello {
        legacy_version: ProtocolVersion::TLSv1_2,
        random: [9; 32],
        session_id: SessionId::empty(),
        cipher_suites: vec![GCM],
        compression_methods: vec![CompressionMethod::Null],
        extensions,
    }))
    .get_encoding()
}

/// RFC 5746 §4.4 / RFC 5246 §7.2.2: a renegotiating ClientHello gets a
/// no_renegotiation warning and the connection goes on.
#[test]
fn renegotiation_is_refused_with_a_warning() {
    for (suite, etm) in kinds_of_protection() {
        let mut live = Live::new(suite, etm);
        let mut keys = live.keys();
        // The client's Finished was its record 0.
        let hello = seal_record(
            &mut *keys.client_write,
            1,
            ContentType::Handshake,
            &client_hello_message(),
        );
        deliver(&mut live.server, &hello).unwrap();
        let reply = take_output(&mut live.server);
        assert_eq!(split_records(&reply).len(), 1);
        // The warning reaches the client, which goes on.
        deliver(&mut live.client, &reply).unwrap();
        let mut copy = reply.clone();
        let mut plain = copy.split_off(5);
        let range = keys.server_write.open(1, 21, 0x0303, &mut plain).unwrap();
        assert_eq!(
            &plain[range],
            &[
                AlertLevel::Warning.to_u8(),
                AlertDescription::NoRenegotiation.to_u8()
            ]
        );
        transfer(&mut live.server, &mut live.client, b"still here");
        // The client's direction goes on with the forged sequence.
        let data = seal_record(
            &mut *keys.client_write,
            2,
            ContentType::ApplicationData,
            b"me too",
        );
        deliver(&mut live.server, &data).unwrap();
        assert_eq!(read_all(&mut live.server), b"me too");
    }
}

/// RFC 5246 §7.4.1.1: a client that does not renegotiate may answer
/// HelloRequest with a no_renegotiation warning.
#[test]
fn hello_request_after_handshake() {
    let mut live = Live::new(GCM, false);
    let mut keys = live.keys();
    let request = seal_record(
        &mut *keys.server_write,
        1,
        ContentType::Handshake,
        &[0, 0, 0, 0],
    );
    deliver(&mut live.client, &request).unwrap();
    let reply = take_output(&mut live.client);
    deliver(&mut live.server, &reply).unwrap();
    transfer(&mut live.client, &mut live.server, b"fine");
}

/// Any other handshake message after the handshake is unexpected.
#[test]
fn handshake_message_after_handshake() {
    for (to_server, message) in [
        (
            true,
            vec![20u8, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ),
        (false, client_hello_message()),
        (false, vec![14, 0, 0, 0]),
        (true, vec![14, 0, 0, 0]),
    ] {
        let mut live = Live::new(GCM, false);
        let mut keys = live.keys();
        let (protector, to) = if to_server {
            (&mut keys.client_write, &mut live.server)
        } else {
            (&mut keys.server_write, &mut live.client)
        };
        let bytes = seal_record(&mut **protector, 1, ContentType::Handshake, &message);
        assert_eq!(
            alert_of(deliver(to, &bytes)),
            Some(AlertDescription::UnexpectedMessage)
        );
    }
}

#[test]
fn fatal_alert_from_peer() {
    let (cc, sc) = configs("ecdsa-p256");
    // During the handshake, in plaintext.
    let (mut c, mut s) = connections(&cc, &sc);
    let alert = plaintext(ContentType::Alert, &[2, 40]);
    assert_eq!(
        deliver(&mut s, &alert),
        Err(Error::AlertReceived(AlertDescription::HandshakeFailure))
    );
    // The connection stays failed and says so again.
    assert!(s.process_new_packets().is_err());
    assert!(s.writer().write(b"x").is_err());
    take_output(&mut c);
    assert_eq!(
        deliver(&mut c, &alert),
        Err(Error::AlertReceived(AlertDescription::HandshakeFailure))
    );
    // No alert is sent back for a received one.
    assert!(take_output(&mut c).is_empty());
    // After the handshake, encrypted.
    let mut live = Live::new(CBC, true);
    let mut keys = live.keys();
    let alert = seal_record(&mut *keys.server_write, 1, ContentType::Alert, &[2, 80]);
    assert_eq!(
        deliver(&mut live.client, &alert),
        Err(Error::AlertReceived(AlertDescription::InternalError))
    );
    // A malformed alert.
    for body in [&[2u8][..], &[2, 40, 0]] {
        let (_, mut s) = connections(&cc, &sc);
        let result = deliver(&mut s, &plaintext(ContentType::Alert, body));
        assert!(
            result.as_ref().is_err_and(|e| e.alert().is_some()),
            "{body:?}: {result:?}"
        );
    }
    // An unknown level is taken as fatal (as RFC 8446 §6 says of unknown
    // alerts).
    let (_, mut s) = connections(&cc, &sc);
    let result = deliver(&mut s, &plaintext(ContentType::Alert, &[3, 40]));
    assert_eq!(
        result,
        Err(Error::AlertReceived(AlertDescription::HandshakeFailure))
    );
}

#[test]
fn warning_alerts_are_tolerated() {
    let (cc, sc) = configs("ecdsa-p256");
    let (mut c, mut s) = connections(&cc, &sc);
    let mut out = take_output(&mut c);
    out.extend(plaintext(
        ContentType::Alert,
        &[1, AlertDescription::UserCanceled.to_u8()],
    ));
    deliver(&mut s, &out).unwrap();
    let flight = take_output(&mut s);
    deliver(&mut c, &flight).unwrap();
    run(&mut c, &mut s).expect_complete();
}

#[test]
fn too_many_empty_records() {
    for (suite, etm) in kinds_of_protection() {
        let mut live = Live::new(suite, etm);
        // 32 empty records, then data, then 32 again: fine.
        for _ in 0..2 {
            for _ in 0..32 {
                assert_eq!(live.client.writer().write(&[]).unwrap(), 0);
            }
            let wire = take_output(&mut live.client);
            deliver(&mut live.server, &wire).unwrap();
            transfer(&mut live.client, &mut live.server, b"x");
        }
        // 33 in a row: the peer is wasting our time.
        for _ in 0..33 {
            assert_eq!(live.client.writer().write(&[]).unwrap(), 0);
        }
        let wire = take_output(&mut live.client);
        assert_eq!(
            alert_of(deliver(&mut live.server, &wire)),
            Some(AlertDescription::UnexpectedMessage)
        );
    }
    // Warnings count too.
    let (cc, sc) = configs("ecdsa-p256");
    let (_, mut s) = connections(&cc, &sc);
    let warnings: Vec<u8> = (0..33)
        .flat_map(|_| plaintext(ContentType::Alert, &[1, 90]))
        .collect();
    assert!(deliver(&mut s, &warnings).is_err());
}

#[test]
fn application_data_before_handshake_completes() {
    let (cc, sc) = configs("ecdsa-p256");
    let data = plaintext(ContentType::ApplicationData, b"GET /");
    let (mut c, mut s) = connections(&cc, &sc);
    assert_eq!(
        alert_of(deliver(&mut s, &data)),
        Some(AlertDescription::UnexpectedMessage)
    );
    let hello = take_output(&mut c);
    let (_, mut s) = connections(&cc, &sc);
    deliver(&mut s, &hello).unwrap();
    assert_eq!(
        alert_of(deliver(&mut s, &data)),
        Some(AlertDescription::UnexpectedMessage)
    );
    assert_eq!(
        alert_of(deliver(&mut c, &data)),
        Some(AlertDescription::UnexpectedMessage)
    );
}

#[test]
fn close_notify() {
    let mut live = Live::new(GCM, false);
    transfer(&mut live.client, &mut live.server, b"before");
    // Without close_notify the reader has nothing yet: WouldBlock, not EOF.
    let mut buf = [0u8; 16];
    let err = std::io::Read::read(&mut live.server.reader(), &mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    live.client.writer().write_all(b"last").unwrap();
    live.client.send_close_notify();
    live.client.send_close_notify(); // once only
    let wire = take_output(&mut live.client);
    assert_eq!(split_records(&wire).len(), 2);
    deliver(&mut live.server, &wire).unwrap();
    assert!(live.server.peer_has_closed());
    assert!(!live.server.wants_read() || live.server.peer_has_closed());
    // Data sent before close_notify is still readable, then EOF.
    assert_eq!(
        std::io::Read::read(&mut live.server.reader(), &mut buf).unwrap(),
        4
    );
    assert_eq!(&buf[..4], b"last");
    assert_eq!(
        std::io::Read::read(&mut live.server.reader(), &mut buf).unwrap(),
        0
    );
    // Records after close_notify are ignored.
    let mut keys = live.keys();
    let late = seal_record(
        &mut *keys.client_write,
        3,
        ContentType::ApplicationData,
        b"late",
    );
    deliver(&mut live.server, &late).unwrap();
    assert_eq!(
        std::io::Read::read(&mut live.server.reader(), &mut buf).unwrap(),
        0
    );
}

// ---------------------------------------------------------------- garbage

/// Random bytes, sometimes framed as a record of a real content type, to
/// fresh connections: an error with an alert or a wait for more, never a
/// panic.
#[test]
fn garbage_never_panics() {
    let (cc, sc) = configs("ecdsa-p256");
    let mut rng = XorShift(0x1234_5678_9abc_def1);
    for case in 0..10_000 {
        let len = rng.below(300);
        let mut bytes = rng.bytes(len);
        if case % 2 == 0 && len >= 5 {
            bytes[0] = [20, 21, 22, 23][rng.below(4)];
            bytes[1] = 3;
            bytes[2] = rng.below(5) as u8;
            let body = (len - 5) as u16;
            bytes[3..5].copy_from_slice(&body.to_be_bytes());
            if case % 4 == 0 && len >= 9 {
                // A handshake header of a plausible type and length.
                bytes[0] = 22;
                bytes[5] = rng.below(25) as u8;
                let hlen = (len - 9) as u32;
                bytes[6..9].copy_from_slice(&hlen.to_be_bytes()[1..]);
            }
        }
        let server_side = case % 3 != 0;
        let mut conn = if server_side {
            Connection::server(sc.clone()).unwrap()
        } else {
            let mut c = Connection::client(cc.clone(), "localhost").unwrap();
            take_output(&mut c);
            c
        };
        if let Err(e) = deliver(&mut conn, &bytes) {
            assert!(
                e.alert().is_some() || matches!(e, Error::AlertReceived(_)),
                "case {case}: {e:?}"
            );
            assert!(
                !matches!(e.alert(), Some(AlertDescription::InternalError)),
                "case {case}: {e:?}"
            );
        }
    }
}

/// Real handshake flights with random bytes changed: never a panic, and
/// every failure carries an alert.
#[test]
fn mutated_flights_never_panic() {
    let (cc, sc) = configs("ecdsa-p256");
    let (mut c0, mut s0) = connections(&cc, &sc);
    let hello = take_output(&mut c0);
    deliver(&mut s0, &hello).unwrap();
    let mut rng = XorShift(0xdead_beef_cafe_f00d);
    for case in 0..2_000 {
        let to_server = case % 2 == 0;
        let (mut c, mut s, flight) = after_client_hello(&cc, &sc);
        let mut bytes = if to_server { hello.clone() } else { flight };
        for _ in 0..1 + rng.below(4) {
            let at = 5 + rng.below(bytes.len() - 5);
            bytes[at] = rng.next() as u8;
        }
        if case % 7 == 0 {
            let cut = 5 + rng.below(bytes.len() - 5);
            bytes.truncate(cut);
            let body = (cut - 5) as u16;
            bytes[3..5].copy_from_slice(&body.to_be_bytes());
        }
        let target = if to_server { &mut s } else { &mut c };
        if to_server {
            *target = Connection::server(sc.clone()).unwrap();
        }
        if let Err(e) = deliver(target, &bytes) {
            assert!(e.alert().is_some(), "case {case}: {e:?}");
        }
    }
}

// ---------------------------------------------------------------- crafted ServerHello

fn server_hello(version: ProtocolVersion, suite: CipherSuite, extensions: Extensions) -> Vec<u8> {
    plaintext(
        ContentType::Handshake,
        &HandshakeMessage::new(HandshakePayload::ServerHello(ServerHello {
            legacy_version: version,
            random: [7; 32],
            session_id: SessionId::empty(),
            cipher_suite: suite,
            compression_method: CompressionMethod::Null,
            extensions,
        }))
        .get_encoding(),
    )
}

fn client_gets(
    bytes: &[u8],
    configure: impl Fn(hsmtls::ClientConfigBuilder) -> hsmtls::ClientConfigBuilder,
) -> Result<(), Error> {
    let cc = Arc::new(configure(client_builder("ecdsa-p256")).build().unwrap());
    let mut c = Connection::client(cc, "localhost").unwrap();
    take_output(&mut c);
    deliver(&mut c, bytes)
}

fn only_gcm(b: hsmtls::ClientConfigBuilder) -> hsmtls::ClientConfigBuilder {
    b.cipher_suites(&[GCM]).unwrap()
}

#[test]
fn server_hello_with_a_suite_not_offered() {
    for suite in [
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
        CipherSuite::Unknown(0x1301),
        CipherSuite::Unknown(0xbeef),
    ] {
        let bytes = server_hello(ProtocolVersion::TLSv1_2, suite, Extensions::new());
        assert_eq!(
            alert_of(client_gets(&bytes, only_gcm)),
            Some(AlertDescription::IllegalParameter),
            "{suite:?}"
        );
    }
    // The offered suite is fine.
    let bytes = server_hello(ProtocolVersion::TLSv1_2, GCM, Extensions::new());
    client_gets(&bytes, only_gcm).unwrap();
}

#[test]
fn server_hello_with_unsolicited_extensions() {
    let cases: Vec<(ExtensionType, Vec<u8>)> = vec![
        (
            ExtensionType::ApplicationLayerProtocolNegotiation,
            vec![0, 3, 2, b'h', b'2'],
        ),
        (ExtensionType::Unknown(0x1234), vec![]),
        (ExtensionType::SupportedGroups, vec![0, 2, 0, 23]),
        (ExtensionType::SignatureAlgorithms, vec![0, 2, 4, 3]),
    ];
    for (typ, body) in cases {
        let mut ext = Extensions::new();
        ext.push(typ, body);
        let bytes = server_hello(ProtocolVersion::TLSv1_2, GCM, ext);
        assert_eq!(
            alert_of(client_gets(&bytes, |b| b)),
            Some(AlertDescription::UnsupportedExtension),
            "{typ:?}"
        );
    }
    // Extensions the client turned off.
    for (typ, configure) in [
        (
            ExtensionType::ExtendedMasterSecret,
            (|b: hsmtls::ClientConfigBuilder| b.extended_master_secret(false)) as fn(_) -> _,
        ),
        (
            ExtensionType::SessionTicket,
            |b: hsmtls::ClientConfigBuilder| b.session_tickets(false),
        ),
        (
            ExtensionType::EncryptThenMac,
            |b: hsmtls::ClientConfigBuilder| b.encrypt_then_mac(false),
        ),
    ] {
        let mut ext = Extensions::new();
        ext.push(typ, vec![]);
        let bytes = server_hello(ProtocolVersion::TLSv1_2, CBC, ext);
        assert_eq!(
            alert_of(client_gets(&bytes, configure)),
            Some(AlertDescription::UnsupportedExtension),
            "{typ:?}"
        );
    }
    // encrypt_then_mac with an AEAD suite (RFC 7366 §3).
    let mut ext = Extensions::new();
    ext.push(ExtensionType::EncryptThenMac, vec![]);
    let bytes = server_hello(ProtocolVersion::TLSv1_2, GCM, ext);
    assert_eq!(
        alert_of(client_gets(&bytes, |b| b)),
        Some(AlertDescription::IllegalParameter)
    );
    // The same extension twice.
    let twice = Extension {
        typ: ExtensionType::ExtendedMasterSecret,
        data: vec![],
    };
    let ext = Extensions(vec![twice.clone(), twice]);
    let bytes = server_hello(ProtocolVersion::TLSv1_2, GCM, ext);
    assert!(client_gets(&bytes, |b| b).unwrap_err().alert().is_some());
}

#[test]
fn server_hello_with_another_version() {
    for version in [
        ProtocolVersion::TLSv1_1,
        ProtocolVersion::TLSv1_0,
        ProtocolVersion::SSLv3,
        ProtocolVersion::TLSv1_3,
    ] {
        let bytes = server_hello(version, GCM, Extensions::new());
        assert_eq!(
            alert_of(client_gets(&bytes, |b| b)),
            Some(AlertDescription::ProtocolVersion),
            "{version:?}"
        );
    }
}

#[test]
fn server_hello_with_compression() {
    let mut sh = split_records(&server_hello(
        ProtocolVersion::TLSv1_2,
        GCM,
        Extensions::new(),
    ));
    let last = sh[0].body.len() - 1;
    sh[0].body[last] = 1; // compression_method, no extensions follow
    assert_eq!(
        alert_of(client_gets(&join_records(&sh), |b| b)),
        Some(AlertDescription::IllegalParameter)
    );
}

// ---------------------------------------------------------------- key exchange

/// A ServerKeyExchange whose signature is broken: decrypt_error.
#[test]
fn server_key_exchange_bad_signature() {
    let (cc, sc) = configs("ecdsa-p256");
    let (mut c, _s, flight) = after_client_hello(&cc, &sc);
    let mut messages = split_handshake_messages(&split_records(&flight));
    let last = messages[2].len() - 5;
    messages[2][last] ^= 0x01;
    let result = deliver(&mut c, &records_of(&messages));
    assert_eq!(alert_of(result), Some(AlertDescription::DecryptError));
}

/// A ServerKeyExchange naming a group the client did not offer:
/// illegal_parameter, before the signature is looked at.
#[test]
fn server_key_exchange_group_not_offered() {
    let cc = Arc::new(
        client_builder("ecdsa-p256")
            .groups(&[NamedGroup::secp256r1])
            .unwrap()
            .build()
            .unwrap(),
    );
    let sc = Arc::new(server_builder("ecdsa-p256").build().unwrap());
    let (mut c, _s, flight) = after_client_hello(&cc, &sc);
    let mut messages = split_handshake_messages(&split_records(&flight));
    // named_curve(3), then the group.
    assert_eq!(&messages[2][4..7], &[3, 0, 23]);
    messages[2][6] = 24; // secp384r1
    assert_eq!(
        alert_of(deliver(&mut c, &records_of(&messages))),
        Some(AlertDescription::IllegalParameter)
    );
}

/// A validly signed ServerKeyExchange with a point not on the curve:
/// illegal_parameter, and the client sends nothing but the alert (no part
/// of its flight, such as its Certificate).
#[test]
fn server_key_exchange_invalid_point() {
    let client_store = store();
    let server_store = store();
    let cc = Arc::new(
        client_builder_with(client_store.clone(), "ecdsa-p256")
            .groups(&[NamedGroup::secp256r1])
            .unwrap()
            .client_certificate(certified_key(&client_store, "ecdsa-p256", "client"))
            .build()
            .unwrap(),
    );
    let server_key = certified_key(&server_store, "ecdsa-p256", "server");
    let sc = Arc::new(
        server_builder_with(server_store.clone(), "ecdsa-p256")
            .client_auth(ClientAuth::Request, vec![ca("ecdsa-p256")])
            .build()
            .unwrap(),
    );
    let (mut c, mut s) = connections(&cc, &sc);
    let hello_bytes = take_output(&mut c);
    deliver(&mut s, &hello_bytes).unwrap();
    let flight = take_output(&mut s);
    let hello_msg = &split_handshake_messages(&split_records(&hello_bytes))[0];
    let mut messages = split_handshake_messages(&split_records(&flight));
    let client_random = &hello_msg[6..38];
    let server_random = &messages[0][6..38];
    let mut point = vec![4u8];
    point.extend_from_slice(&[0x42; 64]); // (0x42.., 0x42..) is not on P-256
    let params = EcdheServerParams::new(NamedGroup::secp256r1, point);
    let mut signed = client_random.to_vec();
    signed.extend_from_slice(server_random);
    params.encode(&mut signed);
    let signature = hsmtls::keys::KeyStore::sign(
        &*server_store,
        &server_key.key,
        hsmtls::keys::SignatureAlgorithm::EcdsaSha256,
        &signed,
    )
    .unwrap();
    let ske = ServerKeyExchangePayload::from_ecdhe(
        &params,
        &hsmtls::msgs::handshake::DigitallySigned {
            scheme: hsmtls::msgs::enums::SignatureScheme::ecdsa_secp256r1_sha256,
            signature,
        },
    );
    messages[2] = HandshakeMessage::new(HandshakePayload::ServerKeyExchange(ske)).get_encoding();
    assert_eq!(messages[3][0], HandshakeType::CertificateRequest.to_u8());
    let result = deliver(&mut c, &records_of(&messages));
    assert_eq!(alert_of(result), Some(AlertDescription::IllegalParameter));
    let out = split_records(&take_output(&mut c));
    assert_eq!(out.len(), 1, "only the alert: {out:?}");
    assert_eq!(out[0].typ, ContentType::Alert.to_u8());
}

/// A ClientKeyExchange with a point not on the curve, or malformed.
#[test]
fn client_key_exchange_invalid() {
    let cc = Arc::new(
        client_builder("ecdsa-p256")
            .groups(&[NamedGroup::secp256r1])
            .unwrap()
            .build()
            .unwrap(),
    );
    let sc = Arc::new(server_builder("ecdsa-p256").build().unwrap());
    let mut bad_point = vec![16u8, 0, 0, 66, 65, 4];
    bad_point.extend_from_slice(&[0x42; 64]);
    for (message, alert) in [
        (bad_point, AlertDescription::IllegalParameter),
        (vec![16, 0, 0, 0], AlertDescription::DecodeError),
        (vec![16, 0, 0, 1, 0], AlertDescription::DecodeError),
        (vec![16, 0, 0, 2, 5, 4], AlertDescription::DecodeError),
    ] {
        let (_c, mut s, _) = after_client_hello(&cc, &sc);
        let result = deliver(&mut s, &plaintext(ContentType::Handshake, &message));
        assert_eq!(alert_of(result), Some(alert), "{message:?}");
    }
}

/// An empty Certificate from the server.
#[test]
fn server_certificate_empty() {
    let (cc, sc) = configs("ecdsa-p256");
    let (mut c, _s, flight) = after_client_hello(&cc, &sc);
    let mut messages = split_handshake_messages(&split_records(&flight));
    messages[1] = vec![11, 0, 0, 3, 0, 0, 0];
    let alert = alert_of(deliver(&mut c, &records_of(&messages)));
    assert!(
        matches!(
            alert,
            Some(
                AlertDescription::DecodeError
                    | AlertDescription::BadCertificate
                    | AlertDescription::HandshakeFailure
            )
        ),
        "{alert:?}"
    );
}

// ---------------------------------------------------------------- crafted ClientHello

fn hello_with(edit: impl Fn(&mut ClientHello)) -> Vec<u8> {
    let mut extensions = Extensions::new();
    extensions.push(ExtensionType::ExtendedMasterSecret, Vec::new());
    extensions.push(ExtensionType::SupportedGroups, vec![0, 2, 0, 23]);
    extensions.push(ExtensionType::SignatureAlgorithms, vec![0, 2, 4, 3]);
    extensions.push(ExtensionType::EcPointFormats, vec![1, 0]);
    let mut hello = ClientHello {
        legacy_version: ProtocolVersion::TLSv1_2,
        random: [9; 32],
        session_id: SessionId::empty(),
        cipher_suites: vec![GCM],
        compression_methods: vec![CompressionMethod::Null],
        extensions,
    };
    edit(&mut hello);
    plaintext(
        ContentType::Handshake,
        &HandshakeMessage::new(HandshakePayload::ClientHello(hello)).get_encoding(),
    )
}

#[test]
fn crafted_client_hellos() {
    let (_, sc) = configs("ecdsa-p256");
    let server_gets = |bytes: &[u8]| deliver(&mut Connection::server(sc.clone()).unwrap(), bytes);
    // The baseline is accepted.
    server_gets(&hello_with(|_| {})).unwrap();
    type HelloEdit = fn(&mut ClientHello);
    let cases: &[(&str, HelloEdit, AlertDescription)] = &[
        (
            "TLS 1.1",
            |h| h.legacy_version = ProtocolVersion::TLSv1_1,
            AlertDescription::ProtocolVersion,
        ),
        (
            "no null compression",
            |h| h.compression_methods = vec![CompressionMethod::Unknown(1)],
            AlertDescription::IllegalParameter,
        ),
        (
            "no common suite",
            |h| h.cipher_suites = vec![CipherSuite::Unknown(0x0a0a)],
            AlertDescription::HandshakeFailure,
        ),
        (
            "no common group",
            |h| {
                h.extensions
                    .push(ExtensionType::SupportedGroups, vec![0, 2, 0x0a, 0x0a])
            },
            AlertDescription::HandshakeFailure,
        ),
        (
            "no signature_algorithms",
            |h| drop(h.extensions.remove(ExtensionType::SignatureAlgorithms)),
            AlertDescription::HandshakeFailure,
        ),
        (
            "RSA schemes only",
            |h| {
                h.extensions
                    .push(ExtensionType::SignatureAlgorithms, vec![0, 2, 8, 4])
            },
            AlertDescription::HandshakeFailure,
        ),
        (
            "renegotiation_info not empty",
            |h| {
                h.extensions
                    .push(ExtensionType::RenegotiationInfo, vec![1, 0])
            },
            AlertDescription::HandshakeFailure,
        ),
        (
            "compressed points only",
            |h| h.extensions.push(ExtensionType::EcPointFormats, vec![1, 1]),
            AlertDescription::IllegalParameter,
        ),
        (
            "extended_master_secret not empty",
            |h| {
                h.extensions
                    .push(ExtensionType::ExtendedMasterSecret, vec![0])
            },
            AlertDescription::DecodeError,
        ),
        (
            "supported_groups malformed",
            |h| {
                h.extensions
                    .push(ExtensionType::SupportedGroups, vec![0, 3, 0, 23, 0])
            },
            AlertDescription::DecodeError,
        ),
    ];
    for (what, edit, alert) in cases {
        assert_eq!(
            alert_of(server_gets(&hello_with(*edit))),
            Some(*alert),
            "{what}"
        );
    }
    // TLS 1.3's legacy_version and higher versions are fine: TLS 1.2 is chosen.
    server_gets(&hello_with(|h| h.legacy_version = ProtocolVersion::TLSv1_3)).unwrap();
    // The SCSV alone signals secure renegotiation (RFC 5746 §3.6).
    let mut s = Connection::server(sc.clone()).unwrap();
    deliver(
        &mut s,
        &hello_with(|h| {
            h.cipher_suites
                .push(CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
        }),
    )
    .unwrap();
    assert!(s.negotiated().secure_renegotiation);
}

/// A CertificateVerify whose signature does not verify: decrypt_error.
#[test]
fn certificate_verify_bad_signature() {
    let store = store();
    let cc = Arc::new(
        client_builder_with(store.clone(), "ecdsa-p256")
            .client_certificate(certified_key(&store, "ecdsa-p256", "client"))
            .build()
            .unwrap(),
    );
    let sc = Arc::new(
        server_builder("ecdsa-p256")
            .client_auth(ClientAuth::Require, vec![ca("ecdsa-p256")])
            .build()
            .unwrap(),
    );
    let (mut c, mut s, flight) = after_client_hello(&cc, &sc);
    deliver(&mut c, &flight).unwrap();
    let records = split_records(&take_output(&mut c));
    let mut messages = split_handshake_messages(&records[..1]);
    let last = messages[2].len() - 3;
    messages[2][last] ^= 0x01;
    let result = deliver(&mut s, &records_of(&messages));
    assert_eq!(alert_of(result), Some(AlertDescription::DecryptError));
}

/// Decodes the one handshake message of a plaintext flight, edits it and
/// encodes it again.
fn edit_message(bytes: &[u8], index: usize, edit: impl Fn(&mut HandshakePayload)) -> Vec<u8> {
    let mut messages = split_handshake_messages(&split_records(bytes));
    let mut message = HandshakeMessage::read_bytes(&messages[index]).unwrap();
    edit(&mut message.payload);
    messages[index] = message.get_encoding();
    records_of(&messages)
}

/// RFC 7627 §5.3: resuming an extended-master-secret session without the
/// extension is fatal, on either side.
#[test]
fn resumption_drops_extended_master_secret() {
    for tickets in [false, true] {
        let cc = Arc::new(client_builder("ecdsa-p256").build().unwrap());
        let sc = Arc::new(
            server_builder("ecdsa-p256")
                .session_tickets(tickets)
                .build()
                .unwrap(),
        );
        pair(&cc, &sc);
        // The server sees a ClientHello for the session without EMS.
        let (mut c, mut s) = connections(&cc, &sc);
        let hello = edit_message(&take_output(&mut c), 0, |p| {
            if let HandshakePayload::ClientHello(h) = p {
                h.extensions
                    .remove(ExtensionType::ExtendedMasterSecret)
                    .unwrap();
            }
        });
        assert_eq!(
            alert_of(deliver(&mut s, &hello)),
            Some(AlertDescription::HandshakeFailure),
            "tickets {tickets}"
        );
        // The client sees a resuming ServerHello without EMS.
        let (mut c, mut s) = connections(&cc, &sc);
        deliver(&mut s, &take_output(&mut c)).unwrap();
        let flight = take_output(&mut s);
        let first = split_records(&flight);
        assert_eq!(
            first[1].typ,
            ContentType::ChangeCipherSpec.to_u8(),
            "resumed"
        );
        let sh = edit_message(&first[0].encode(), 0, |p| {
            if let HandshakePayload::ServerHello(h) = p {
                h.extensions
                    .remove(ExtensionType::ExtendedMasterSecret)
                    .unwrap();
            }
        });
        assert_eq!(
            alert_of(deliver(&mut c, &sh)),
            Some(AlertDescription::HandshakeFailure),
            "tickets {tickets}"
        );
    }
}
