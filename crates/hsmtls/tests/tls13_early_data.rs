//! 0-RTT (RFC 8446 §2.3, §4.2.10, §8). A server without
//! `max_early_data_size` refuses it: the client gets a normal handshake
//! while the server skips the early records it cannot deprotect, up to a
//! bound. With it, the hsmtls client's early data is accepted once per
//! ClientHello (a replayed ClientHello is refused: anti-replay), kept apart
//! from the rest (`take_early_data`), bounded by the ticket's
//! `max_early_data_size`; refused early data is sent again after the
//! handshake.

mod common;

use std::io::Write;
use std::sync::Arc;

use common::*;
use hsmtls::msgs::codec::Reader;
use hsmtls::msgs::enums::{ContentType, ExtensionType, HandshakeType, ProtocolVersion};
use hsmtls::msgs::handshake::{HandshakeMessage, HandshakePayload};
use hsmtls::Connection;

const BOTH: &[ProtocolVersion] = &[ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2];

/// The client's ClientHello with an early_data extension inserted before
/// pre_shared_key (none here), followed by `early` bytes of "0-RTT data".
fn hello_with_early_data(early: &[usize]) -> Vec<u8> {
    let c = Arc::new(
        client_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("v")
            .build()
            .expect("client"),
    );
    let mut client = Connection::client(c, "localhost").expect("client");
    let bytes = take_output(&mut client);
    let records = split_records(&bytes);
    let mut message =
        HandshakeMessage::read_tls12(&mut Reader::new(&records[0].body)).expect("ClientHello");
    let HandshakePayload::ClientHello(hello) = &mut message.payload else {
        panic!("not a ClientHello");
    };
    hello.extensions.push(ExtensionType::EarlyData, Vec::new());
    assert_eq!(message.typ, HandshakeType::ClientHello);
    let mut out = handshake_record(&message).encode();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for len in early {
        out.extend_from_slice(&Record::new(ContentType::ApplicationData, rng.bytes(*len)).encode());
    }
    out
}

#[test]
fn refused_early_data_is_skipped() {
    let s = Arc::new(
        server_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("v")
            .build()
            .expect("server"),
    );
    let mut server = Connection::server(s).expect("server");
    deliver(&mut server, &hello_with_early_data(&[100, 2000, 16])).expect("early records skipped");
    let flight = take_output(&mut server);
    assert!(!flight.is_empty(), "server answered the ClientHello");
    assert_eq!(server.negotiated().version, Some(ProtocolVersion::TLSv1_3));
}

#[test]
fn early_data_beyond_the_bound_is_refused() {
    let s = Arc::new(
        server_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("v")
            .build()
            .expect("server"),
    );
    let mut server = Connection::server(s).expect("server");
    let err = deliver(&mut server, &hello_with_early_data(&[16000, 16000, 16000]))
        .expect_err("too much undecryptable data");
    assert_eq!(
        err.alert(),
        Some(hsmtls::msgs::enums::AlertDescription::BadRecordMac)
    );
}

#[test]
fn without_early_data_an_undecryptable_record_is_fatal() {
    let s = Arc::new(
        server_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("v")
            .build()
            .expect("server"),
    );
    let mut server = Connection::server(s).expect("server");
    // A plain hello, without early_data, and then an undecryptable record.
    let c = Arc::new(
        client_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("v")
            .build()
            .expect("client"),
    );
    let mut client = Connection::client(c, "localhost").expect("client");
    let mut bytes = take_output(&mut client);
    bytes.extend_from_slice(&Record::new(ContentType::ApplicationData, vec![1; 100]).encode());
    let err = deliver(&mut server, &bytes).expect_err("no 0-RTT offered");
    assert_eq!(
        err.alert(),
        Some(hsmtls::msgs::enums::AlertDescription::BadRecordMac)
    );
}

// ---------------------------------------------------------------- accepted 0-RTT

/// A client and a server with 0-RTT on (`max` bytes), and a ticket already
/// in the client's cache from a first, full handshake.
fn zero_rtt_configs(
    max: u32,
    server: impl FnOnce(hsmtls::ServerConfigBuilder) -> hsmtls::ServerConfigBuilder,
) -> (Arc<hsmtls::ClientConfig>, Arc<hsmtls::ServerConfig>) {
    zero_rtt_configs_with(store(), max, server)
}

/// [`zero_rtt_configs`] with the client on `client_store`.
fn zero_rtt_configs_with(
    client_store: Arc<TestStore>,
    max: u32,
    server: impl FnOnce(hsmtls::ServerConfigBuilder) -> hsmtls::ServerConfigBuilder,
) -> (Arc<hsmtls::ClientConfig>, Arc<hsmtls::ServerConfig>) {
    let c = Arc::new(
        client_builder_with(client_store, "ecdsa-p256")
            .versions(BOTH)
            .expect("versions")
            .early_data(true)
            .build()
            .expect("client"),
    );
    let s = Arc::new(
        server(
            server_builder("ecdsa-p256")
                .versions(BOTH)
                .expect("versions")
                .max_early_data_size(max),
        )
        .build()
        .expect("server"),
    );
    let (mut client, mut server) = pair(&c, &s);
    // The ticket comes after the handshake, with the first data.
    transfer(&mut server, &mut client, b"ticket");
    assert!(client.negotiated().ticket_issued);
    (c, s)
}

#[test]
fn early_data_is_accepted_once_and_kept_apart() {
    let (c, s) = zero_rtt_configs(4096, |b| b);
    let (mut client, mut server) = connections(&c, &s);
    assert_eq!(client.negotiated().version, None);
    client
        .writer()
        .write_all(b"GET /index.html")
        .expect("early write");
    // The ClientHello, its change_cipher_spec and the early data go at
    // once; kept to replay them below.
    let first_flight = take_output(&mut client);
    deliver(&mut server, &first_flight).expect("ClientHello and early data");
    let outcome = run(&mut client, &mut server);
    outcome.expect_complete();
    assert!(client.negotiated().resumed && server.negotiated().resumed);
    assert_eq!(server.negotiated().version, Some(ProtocolVersion::TLSv1_3));
    assert!(client.negotiated().early_data_accepted);
    assert!(server.negotiated().early_data_accepted);
    assert_eq!(server.take_early_data(), b"GET /index.html");
    assert_eq!(server.take_early_data(), b"", "taken once");
    assert!(
        read_all(&mut server).is_empty(),
        "early data is not 1-RTT data"
    );
    transfer(&mut client, &mut server, b"after the handshake");
    transfer(&mut server, &mut client, b"response");

    // The same first flight again (an attacker's replay): the ClientHello
    // is accepted as a resumption, its early data not (RFC 8446 §8).
    let mut replayed = Connection::server(s.clone()).expect("server");
    deliver(&mut replayed, &first_flight).expect("replayed ClientHello");
    assert!(replayed.negotiated().resumed);
    assert!(!replayed.negotiated().early_data_accepted);
    assert!(replayed.take_early_data().is_empty());
}

#[test]
fn refused_early_data_is_sent_again_after_the_handshake() {
    // A zero anti-replay window: every ClientHello is stale.
    let (c, s) = zero_rtt_configs(4096, |b| {
        b.early_data_anti_replay(std::time::Duration::ZERO, 16)
    });
    let (mut client, mut server) = connections(&c, &s);
    client.writer().write_all(b"GET /").expect("early write");
    let outcome = run(&mut client, &mut server);
    outcome.expect_complete();
    assert!(client.negotiated().resumed);
    assert!(!client.negotiated().early_data_accepted);
    assert!(!server.negotiated().early_data_accepted);
    assert!(server.take_early_data().is_empty());
    // Sent again under the application keys once the handshake is done.
    assert_eq!(read_all(&mut server), b"GET /");
}

#[test]
fn early_data_beyond_the_ticket_allowance_waits_for_the_handshake() {
    let (c, s) = zero_rtt_configs(16, |b| b);
    let (mut client, mut server) = connections(&c, &s);
    let data: Vec<u8> = (0..100u8).collect();
    client.writer().write_all(&data).expect("write");
    run(&mut client, &mut server).expect_complete();
    assert!(server.negotiated().early_data_accepted);
    assert_eq!(server.take_early_data(), &data[..16]);
    assert_eq!(read_all(&mut server), &data[16..]);
}

#[test]
fn without_early_data_on_the_client_nothing_is_sent_early() {
    let (_, s) = zero_rtt_configs(4096, |b| b);
    let c = Arc::new(
        client_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("versions")
            .build()
            .expect("client"),
    );
    let (mut client, mut server) = pair(&c, &s);
    transfer(&mut server, &mut client, b"ticket");
    let (mut client, mut server) = connections(&c, &s);
    client.writer().write_all(b"GET /").expect("write");
    run(&mut client, &mut server).expect_complete();
    assert!(client.negotiated().resumed);
    assert!(!server.negotiated().early_data_accepted);
    assert_eq!(read_all(&mut server), b"GET /");
}

#[test]
fn early_data_beyond_max_early_data_size_is_unexpected_message() {
    let client_store = store();
    let (c, s) = zero_rtt_configs_with(client_store.clone(), 1024, |b| b);
    let early_index = client_store.tls13_protector_count();
    let (mut client, mut server) = connections(&c, &s);
    client.writer().write_all(&[7; 1000]).expect("early write");
    deliver(&mut server, &take_output(&mut client)).expect("1000 of 1024 bytes");
    // A client that ignores the ticket's allowance: 100 more bytes under
    // its early traffic key.
    let mut early = client_store.take_tls13_protector(early_index);
    let record = seal_record13(&mut *early, 1, 23, &[8; 100], 0);
    let err = deliver(&mut server, &record).expect_err("over max_early_data_size");
    assert_eq!(
        err.alert(),
        Some(hsmtls::msgs::enums::AlertDescription::UnexpectedMessage),
        "{err}"
    );
}

#[test]
fn refused_early_data_up_to_a_large_allowance_is_skipped() {
    // 64 KiB allowed in the tickets, then every ClientHello refused: the
    // server skips all the client may send, and it is sent again.
    let (c, s) = zero_rtt_configs(65_536, |b| {
        b.early_data_anti_replay(std::time::Duration::ZERO, 16)
    });
    let (mut client, mut server) = connections(&c, &s);
    let data: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
    client.writer().write_all(&data).expect("early write");
    run(&mut client, &mut server).expect_complete();
    assert!(!server.negotiated().early_data_accepted);
    assert_eq!(read_all(&mut server), data);
}

#[test]
fn a_tls12_server_hello_after_early_data_ends_the_handshake() {
    // RFC 8446 §D.3: the ticket is from a TLS 1.3 server with 0-RTT; the
    // same name now answers in TLS 1.2.
    let (c, _) = zero_rtt_configs(4096, |b| b);
    let tls12_only = Arc::new(
        server_builder("ecdsa-p256")
            .versions(&[ProtocolVersion::TLSv1_2])
            .expect("versions")
            .build()
            .expect("server"),
    );
    let (mut client, mut server) = connections(&c, &tls12_only);
    client.writer().write_all(b"GET /").expect("early write");
    let outcome = run(&mut client, &mut server);
    assert_eq!(
        outcome.client.as_ref().and_then(|e| e.alert()),
        Some(hsmtls::msgs::enums::AlertDescription::ProtocolVersion),
        "{outcome:?}"
    );
}

#[test]
fn early_data_before_a_hello_retry_request_is_skipped() {
    // The client's ClientHello and 0-RTT data reach a server whose only
    // group is not the client's share: it asks again, and skips the early
    // records it will never have keys for (RFC 8446 §4.2.10).
    let (c, _) = zero_rtt_configs(4096, |b| b);
    let (mut client, _) = connections(&c, &zero_rtt_configs(4096, |b| b).1);
    client.writer().write_all(b"GET /").expect("early write");
    let first_flight = take_output(&mut client);
    let retrying = Arc::new(
        server_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("versions")
            .groups(&[hsmtls::msgs::enums::NamedGroup::secp384r1])
            .expect("group")
            .build()
            .expect("server"),
    );
    let mut server = Connection::server(retrying).expect("server");
    deliver(&mut server, &first_flight).expect("ClientHello, CCS and skipped early data");
    let retry = take_output(&mut server);
    assert_eq!(split_records(&retry)[0].typ, 22, "a HelloRetryRequest");
    assert!(!server.negotiated().early_data_accepted);
}
