//! 0-RTT is not accepted; a client that tries it anyway gets a normal
//! handshake while the server skips the early records it cannot deprotect,
//! up to a bound (RFC 8446 §4.2.10).

mod common;

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
