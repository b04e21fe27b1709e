//! TLS 1.3 negative tests (RFC 8446): a peer or an attacker on the path
//! that breaks the protocol, and what the engine answers.
//!
//! Encrypted messages are forged with copies of the peers' record
//! protectors ([`TestStore::tls13_protectors`]): each side runs in its own
//! [`TestStore`], whose protectors are, in order of derivation — client:
//! 0 server handshake (read), 1 client handshake (write), 2 client
//! application (write), 3 server application (read); server: 0 server
//! handshake (write), 1 client handshake (read), 2 server application
//! (write), 3 client application (read).

mod common;

use std::sync::Arc;

use common::*;
use hsmtls::hooks::HandshakeHook;
use hsmtls::msgs::enums::{AlertDescription, ContentType, NamedGroup, ProtocolVersion};
use hsmtls::{ClientConfig, Connection, Error, ServerConfig, Side};

const BOTH: &[ProtocolVersion] = &[ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2];
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;
const CHANGE_CIPHER_SPEC: u8 = 20;

struct Peers {
    client_store: Arc<TestStore>,
    server_store: Arc<TestStore>,
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

fn peers_with(
    client: impl FnOnce(hsmtls::ClientConfigBuilder) -> hsmtls::ClientConfigBuilder,
    server: impl FnOnce(hsmtls::ServerConfigBuilder) -> hsmtls::ServerConfigBuilder,
) -> Peers {
    let client_store = store();
    let server_store = store();
    let c = client(
        client_builder_with(client_store.clone(), "ecdsa-p256")
            .versions(BOTH)
            .expect("versions"),
    )
    .build()
    .expect("client");
    let s = server(
        server_builder_with(server_store.clone(), "ecdsa-p256")
            .versions(BOTH)
            .expect("versions"),
    )
    .build()
    .expect("server");
    Peers {
        client_store,
        server_store,
        client: Arc::new(c),
        server: Arc::new(s),
    }
}

fn peers() -> Peers {
    peers_with(|c| c, |s| s)
}

/// The error of `side`, checked to carry `alert`.
fn expect_error(outcome: &Outcome, side: Side, alert: AlertDescription) {
    let err = outcome
        .error(side)
        .unwrap_or_else(|| panic!("{side:?} did not fail: {outcome:?}"));
    assert_eq!(err.alert(), Some(alert), "{side:?}: {err:?}");
}

/// Rewrites the encrypted records of `bytes` (sealed with `protector`
/// from sequence number `first_seq`): `edit` gets each inner type and
/// content and may change them.
fn reseal(
    bytes: &mut Vec<u8>,
    protector: &mut dyn hsmtls::keys::RecordProtector,
    first_seq: u64,
    mut edit: impl FnMut(u64, &mut u8, &mut Vec<u8>),
) {
    let mut seq = first_seq;
    let mut out = Vec::new();
    for record in split_records(bytes) {
        if record.typ != APPLICATION_DATA {
            out.extend(record.encode());
            continue;
        }
        let (mut typ, mut content) = open_record13(protector, seq, &record);
        edit(seq, &mut typ, &mut content);
        out.extend(seal_record13(protector, seq, typ, &content, 0));
        seq += 1;
    }
    *bytes = out;
}

// ---------------------------------------------------------------- Finished

#[test]
fn tampered_server_finished() {
    let p = peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let server_store = p.server_store.clone();
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToClient && index == 0 {
            let mut hs = server_store.take_tls13_protector(0);
            // EncryptedExtensions … Finished: the last byte is Finished's.
            reseal(bytes, &mut *hs, 0, |_, typ, content| {
                assert_eq!(*typ, HANDSHAKE);
                *content.last_mut().unwrap() ^= 1;
            });
        }
    });
    outcome.expect_alert(Side::Client, AlertDescription::DecryptError);
    assert!(matches!(outcome.client, Some(Error::DecryptError(_))));
}

#[test]
fn tampered_client_finished() {
    let p = peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let client_store = p.client_store.clone();
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToServer && index == 1 {
            let mut hs = client_store.take_tls13_protector(1);
            reseal(bytes, &mut *hs, 0, |_, typ, content| {
                assert_eq!(*typ, HANDSHAKE);
                assert_eq!(content[0], 20, "the client's Finished");
                *content.last_mut().unwrap() ^= 0x80;
            });
        }
    });
    outcome.expect_alert(Side::Server, AlertDescription::DecryptError);
}

#[test]
fn finished_of_the_wrong_length() {
    let p = peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let client_store = p.client_store.clone();
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToServer && index == 1 {
            let mut hs = client_store.take_tls13_protector(1);
            reseal(bytes, &mut *hs, 0, |_, _, content| {
                content.pop();
                content[3] -= 1;
            });
        }
    });
    let err = outcome.server.as_ref().expect("server refuses");
    assert!(
        matches!(
            err.alert(),
            Some(AlertDescription::DecryptError | AlertDescription::DecodeError)
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- PSK binder

#[test]
fn bad_psk_binder() {
    let p = peers();
    let (mut client, mut server) = pair(&p.client, &p.server);
    transfer(&mut server, &mut client, b"ticket first");
    assert!(client.negotiated().ticket_issued);
    let (mut client, mut server) = connections(&p.client, &p.server);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToServer && index == 0 {
            // pre_shared_key is the last extension, its binder the last
            // bytes of the ClientHello (one record).
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
        }
    });
    outcome.expect_alert(Side::Server, AlertDescription::DecryptError);
    // Untampered, the same ticket resumes.
    let (client, _server) = pair(&p.client, &p.server);
    assert!(client.negotiated().resumed);
}

// ---------------------------------------------------------------- key shares

/// The position of the key_share extension's first group in a hello.
fn key_share_group_at(hello: &[u8], group: NamedGroup) -> usize {
    let g = group.to_u16().to_be_bytes();
    hello
        .windows(6)
        .position(|w| w[0] == 0x00 && w[1] == 0x33 && w[4] == g[0] && w[5] == g[1])
        .map(|p| p + 4)
        .or_else(|| {
            // HelloRetryRequest: key_share holds only the group.
            hello
                .windows(6)
                .position(|w| w[..4] == [0x00, 0x33, 0x00, 0x02] && w[4..] == g)
                .map(|p| p + 4)
        })
        .expect("key_share")
}

#[test]
fn server_hello_key_share_for_another_group() {
    let p = peers_with(
        |c| {
            c.groups(&[NamedGroup::x25519, NamedGroup::secp256r1])
                .unwrap()
        },
        |s| s,
    );
    let (mut client, mut server) = connections(&p.client, &p.server);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToClient && index == 0 {
            let at = key_share_group_at(bytes, NamedGroup::x25519);
            bytes[at..at + 2].copy_from_slice(&NamedGroup::secp256r1.to_u16().to_be_bytes());
        }
    });
    expect_error(&outcome, Side::Client, AlertDescription::IllegalParameter);
}

/// Client offers x25519 (with a share) and P-384; the server takes only
/// P-384, so it sends a HelloRetryRequest for P-384.
fn retry_peers() -> Peers {
    peers_with(
        |c| {
            c.groups(&[NamedGroup::x25519, NamedGroup::secp384r1])
                .unwrap()
        },
        |s| s.groups(&[NamedGroup::secp384r1]).unwrap(),
    )
}

#[test]
fn hello_retry_request_for_the_group_already_shared() {
    let p = retry_peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToClient && index == 0 {
            let at = key_share_group_at(bytes, NamedGroup::secp384r1);
            bytes[at..at + 2].copy_from_slice(&NamedGroup::x25519.to_u16().to_be_bytes());
        }
    });
    expect_error(&outcome, Side::Client, AlertDescription::IllegalParameter);
}

#[test]
fn hello_retry_request_for_a_group_not_offered() {
    let p = retry_peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToClient && index == 0 {
            let at = key_share_group_at(bytes, NamedGroup::secp384r1);
            bytes[at..at + 2].copy_from_slice(&NamedGroup::secp521r1.to_u16().to_be_bytes());
        }
    });
    expect_error(&outcome, Side::Client, AlertDescription::IllegalParameter);
}

#[test]
fn second_hello_retry_request() {
    let p = retry_peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let mut first = Vec::new();
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToClient && index == 0 {
            first = bytes.clone();
        }
        if dir == Direction::ToClient && index == 1 {
            // The answer to the second ClientHello is the retry again.
            *bytes = first.clone();
        }
    });
    expect_error(&outcome, Side::Client, AlertDescription::UnexpectedMessage);
}

#[test]
fn second_client_hello_without_the_requested_share() {
    let p = retry_peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let mut first = Vec::new();
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToServer && index == 0 {
            first = bytes.clone();
        }
        if dir == Direction::ToServer && index == 1 {
            // The first ClientHello again (x25519 share only).
            *bytes = first.clone();
        }
    });
    expect_error(&outcome, Side::Server, AlertDescription::IllegalParameter);
}

// ---------------------------------------------------------------- records

/// A completed TLS 1.3 pair with copies of the client's application write
/// protector (towards the server, sequence 0 next) and the server's
/// (towards the client: sequence 1 next, the ticket took 0).
fn traffic() -> (
    Connection,
    Connection,
    Box<dyn hsmtls::keys::RecordProtector>,
    Box<dyn hsmtls::keys::RecordProtector>,
) {
    let p = peers();
    let (client, server) = pair(&p.client, &p.server);
    assert_eq!(client.negotiated().version, Some(ProtocolVersion::TLSv1_3));
    // Made in the order server handshake, client handshake, server
    // application, client application on both sides.
    let to_server = p.client_store.take_tls13_protector(3);
    let to_client = p.server_store.take_tls13_protector(2);
    (client, server, to_server, to_client)
}

fn failed_with(result: Result<(), Error>, alert: AlertDescription) {
    let err = result.expect_err("refused");
    assert_eq!(err.alert(), Some(alert), "{err:?}");
}

#[test]
fn forged_records_are_accepted_when_right() {
    // The control: what the negative record tests forge is otherwise right.
    let (_client, mut server, mut to_server, _) = traffic();
    let record = seal_record13(&mut *to_server, 0, APPLICATION_DATA, b"forged", 0);
    deliver(&mut server, &record).expect("accepted");
    assert_eq!(read_all(&mut server), b"forged");
    // Padding is accepted (§5.4), up to an inner plaintext of 2^14 + 1.
    let record = seal_record13(&mut *to_server, 1, APPLICATION_DATA, b"padded", 1000);
    deliver(&mut server, &record).expect("padded");
    let full = vec![7u8; 1 << 14];
    let record = seal_record13(&mut *to_server, 2, APPLICATION_DATA, &full, 0);
    deliver(&mut server, &record).expect("2^14 bytes");
    let record = seal_record13(&mut *to_server, 3, APPLICATION_DATA, b"x", (1 << 14) - 1);
    deliver(&mut server, &record).expect("2^14 + 1 inner plaintext with padding");
    let mut got = read_all(&mut server);
    assert_eq!(got.len(), 6 + (1 << 14) + 1);
    got.truncate(6);
    assert_eq!(got, b"padded");
}

#[test]
fn inner_plaintext_over_2_14_plus_1() {
    // §5.4: content and type longer than 2^14 + 1.
    let (_client, mut server, mut to_server, _) = traffic();
    let record = seal_record13(&mut *to_server, 0, APPLICATION_DATA, &[1; (1 << 14) + 1], 0);
    failed_with(
        deliver(&mut server, &record),
        AlertDescription::RecordOverflow,
    );
}

#[test]
fn inner_plaintext_over_2_14_plus_1_by_padding() {
    // §5.4: "The length (in bytes) of TLSInnerPlaintext MUST NOT exceed
    // 2^14 + 1" — padding counts.
    let (_client, mut server, mut to_server, _) = traffic();
    let record = seal_record13(&mut *to_server, 0, APPLICATION_DATA, b"x", 1 << 14);
    failed_with(
        deliver(&mut server, &record),
        AlertDescription::RecordOverflow,
    );
}

#[test]
fn ciphertext_over_2_14_plus_256() {
    // §5.2: a TLSCiphertext fragment longer than 2^14 + 256.
    let (_client, mut server, _, _) = traffic();
    let record = Record::new(ContentType::ApplicationData, vec![0; (1 << 14) + 257]);
    failed_with(
        deliver(&mut server, &record.encode()),
        AlertDescription::RecordOverflow,
    );
    // At exactly 2^14 + 256 the length passes and the MAC fails.
    let (_client, mut server, _, _) = traffic();
    let record = Record::new(ContentType::ApplicationData, vec![0; (1 << 14) + 256]);
    failed_with(
        deliver(&mut server, &record.encode()),
        AlertDescription::BadRecordMac,
    );
}

#[test]
fn all_zero_inner_plaintext() {
    // §5.4: no non-zero byte, so no content type: unexpected_message.
    let (_client, mut server, mut to_server, _) = traffic();
    let record = seal_record13(&mut *to_server, 0, 0, b"", 20);
    failed_with(
        deliver(&mut server, &record),
        AlertDescription::UnexpectedMessage,
    );
}

#[test]
fn records_after_close_notify_are_ignored() {
    // §6.1: "Any data received after a closure alert has been received
    // MUST be ignored."
    let (_client, mut server, mut to_server, _) = traffic();
    let mut bytes = seal_record13(&mut *to_server, 0, 21, &[1, 0], 0);
    bytes.extend(seal_record13(
        &mut *to_server,
        1,
        APPLICATION_DATA,
        b"late",
        0,
    ));
    bytes.extend(seal_record13(
        &mut *to_server,
        2,
        HANDSHAKE,
        &[24, 0, 0, 1, 0],
        0,
    ));
    deliver(&mut server, &bytes).expect("ignored");
    assert!(server.peer_has_closed());
    assert!(read_all(&mut server).is_empty());
}

#[test]
fn unprotected_records_after_keys_are_set() {
    for typ in [ContentType::Handshake, ContentType::Alert] {
        let (_client, mut server, _, _) = traffic();
        let body = match typ {
            ContentType::Handshake => vec![24, 0, 0, 1, 0],
            _ => vec![1, 0],
        };
        let record = Record::new(typ, body);
        failed_with(
            deliver(&mut server, &record.encode()),
            AlertDescription::UnexpectedMessage,
        );
    }
    // Plaintext application data is not protected: bad_record_mac.
    let (_client, mut server, _, _) = traffic();
    let record = Record::new(ContentType::ApplicationData, b"plaintext data".to_vec());
    failed_with(
        deliver(&mut server, &record.encode()),
        AlertDescription::BadRecordMac,
    );
    // The client after the server's handshake keys are set: a plaintext
    // handshake record in place of the encrypted flight.
    let p = peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToClient && index == 0 {
            let mut records = split_records(bytes);
            records.retain(|r| r.typ != APPLICATION_DATA);
            records.push(Record::new(ContentType::Handshake, vec![8, 0, 0, 2, 0, 0]));
            *bytes = join_records(&records);
        }
    });
    expect_error(&outcome, Side::Client, AlertDescription::UnexpectedMessage);
}

#[test]
fn change_cipher_spec_after_the_handshake() {
    // §5: a change_cipher_spec after the peer's Finished is
    // unexpected_message.
    let (mut client, mut server, _, _) = traffic();
    let ccs = Record::new(ContentType::ChangeCipherSpec, vec![1]).encode();
    failed_with(
        deliver(&mut server, &ccs),
        AlertDescription::UnexpectedMessage,
    );
    failed_with(
        deliver(&mut client, &ccs),
        AlertDescription::UnexpectedMessage,
    );
}

#[test]
fn malformed_plaintext_change_cipher_spec() {
    // §5: a change_cipher_spec other than the single byte 1.
    let p = peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToServer && index == 1 {
            let mut records = split_records(bytes);
            assert_eq!(records[0].typ, CHANGE_CIPHER_SPEC);
            records[0].body = vec![2];
            *bytes = join_records(&records);
        }
    });
    let err = outcome.server.as_ref().expect("server refuses");
    assert!(
        matches!(
            err.alert(),
            Some(AlertDescription::UnexpectedMessage | AlertDescription::DecodeError)
        ),
        "{err:?}"
    );
}

#[test]
fn encrypted_change_cipher_spec() {
    // §5: "An implementation which receives ... a protected
    // change_cipher_spec record MUST abort the handshake with an
    // unexpected_message alert."
    let p = peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let client_store = p.client_store.clone();
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToServer && index == 1 {
            let mut hs = client_store.take_tls13_protector(1);
            let mut out = seal_record13(&mut *hs, 0, CHANGE_CIPHER_SPEC, &[1], 0);
            let mut seq = 1;
            for record in split_records(bytes) {
                if record.typ == APPLICATION_DATA {
                    let (typ, content) = open_record13(&mut *hs, seq - 1, &record);
                    out.extend(seal_record13(&mut *hs, seq, typ, &content, 0));
                    seq += 1;
                }
            }
            *bytes = out;
        }
    });
    expect_error(&outcome, Side::Server, AlertDescription::UnexpectedMessage);
    // And after the handshake.
    let (_client, mut server, mut to_server, _) = traffic();
    let record = seal_record13(&mut *to_server, 0, CHANGE_CIPHER_SPEC, &[1], 0);
    failed_with(
        deliver(&mut server, &record),
        AlertDescription::UnexpectedMessage,
    );
}

#[test]
fn handshake_message_across_a_key_change() {
    // §5.1: messages before a key change (ServerHello, Finished,
    // KeyUpdate) must end on a record boundary. A KeyUpdate with more
    // bytes after it in its record.
    let (_client, mut server, mut to_server, _) = traffic();
    let two = [24, 0, 0, 1, 0, 24, 0, 0, 1, 0];
    let record = seal_record13(&mut *to_server, 0, HANDSHAKE, &two, 0);
    failed_with(
        deliver(&mut server, &record),
        AlertDescription::UnexpectedMessage,
    );
    // EncryptedExtensions in the ServerHello's plaintext record.
    let p = peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToClient && index == 0 {
            let mut records = split_records(bytes);
            records[0].body.extend_from_slice(&[8, 0, 0, 2, 0, 0]);
            *bytes = join_records(&records);
        }
    });
    expect_error(&outcome, Side::Client, AlertDescription::UnexpectedMessage);
}

#[test]
fn unexpected_handshake_messages_after_the_handshake() {
    // The server accepts only KeyUpdate after the handshake; the client
    // also NewSessionTicket. Anything else is unexpected_message.
    for typ in [1u8, 2, 4, 8, 11, 13, 15, 20] {
        let (_client, mut server, mut to_server, _) = traffic();
        let record = seal_record13(&mut *to_server, 0, HANDSHAKE, &[typ, 0, 0, 0], 0);
        let err = deliver(&mut server, &record).expect_err("refused");
        assert!(
            matches!(
                err.alert(),
                Some(AlertDescription::UnexpectedMessage | AlertDescription::DecodeError)
            ),
            "type {typ}: {err:?}"
        );
    }
    for typ in [1u8, 2, 8, 11, 13, 15, 20] {
        let (mut client, _server, _, mut to_client) = traffic();
        let record = seal_record13(&mut *to_client, 1, HANDSHAKE, &[typ, 0, 0, 0], 0);
        let err = deliver(&mut client, &record).expect_err("refused");
        assert!(
            matches!(
                err.alert(),
                Some(AlertDescription::UnexpectedMessage | AlertDescription::DecodeError)
            ),
            "type {typ}: {err:?}"
        );
    }
}

// ---------------------------------------------------------------- KeyUpdate

#[test]
fn key_update_storm_is_bounded() {
    // A client that sends 1,000 KeyUpdates (update_requested) and no data:
    // each would make the server derive keys and answer with its own
    // KeyUpdate. The server stops after a bounded number.
    let (mut client, mut server, _, _) = traffic();
    let mut storm = Vec::new();
    for _ in 0..1_000 {
        client.refresh_traffic_keys().expect("key update");
        storm.extend(take_output(&mut client));
    }
    let err = deliver(&mut server, &storm).expect_err("bounded");
    assert_eq!(
        err.alert(),
        Some(AlertDescription::UnexpectedMessage),
        "{err:?}"
    );
    let answered = split_records(&take_output(&mut server)).len();
    assert!(answered <= 40, "the server answered {answered} records");
}

#[test]
fn key_updates_between_data_are_not_a_storm() {
    let (mut client, mut server, _, _) = traffic();
    for i in 0..100u32 {
        client.refresh_traffic_keys().expect("key update");
        transfer(&mut client, &mut server, &i.to_be_bytes());
        transfer(&mut server, &mut client, &i.to_be_bytes());
    }
}

#[test]
fn key_update_with_an_unknown_request_value() {
    // §4.6.3: request_update other than 0 or 1 is illegal_parameter.
    let (_client, mut server, mut to_server, _) = traffic();
    let record = seal_record13(&mut *to_server, 0, HANDSHAKE, &[24, 0, 0, 1, 2], 0);
    let err = deliver(&mut server, &record).expect_err("refused");
    assert!(
        matches!(
            err.alert(),
            Some(AlertDescription::IllegalParameter | AlertDescription::DecodeError)
        ),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- downgrade

#[derive(Debug)]
struct ServerRandom([u8; 32]);

impl HandshakeHook for ServerRandom {
    fn hello_random(&self, side: Side) -> Option<[u8; 32]> {
        (side == Side::Server).then_some(self.0)
    }
}

fn sentinel_random(last: u8) -> [u8; 32] {
    let mut random = [0x55u8; 32];
    random[24..].copy_from_slice(&[0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, last]);
    random
}

#[test]
fn downgrade_sentinels_in_a_tls12_server_hello() {
    // §4.1.3: a TLS 1.3 client that gets a TLS 1.2 ServerHello whose random
    // ends in DOWNGRD\x01 (or \x00, TLS 1.1 and below) aborts with
    // illegal_parameter.
    for last in [0x01, 0x00] {
        let c = Arc::new(
            client_builder("ecdsa-p256")
                .versions(BOTH)
                .expect("v")
                .build()
                .expect("client"),
        );
        let s = Arc::new(
            server_builder("ecdsa-p256")
                .handshake_hook(Arc::new(ServerRandom(sentinel_random(last))))
                .build()
                .expect("server"),
        );
        let (mut client, mut server) = connections(&c, &s);
        let outcome = run(&mut client, &mut server);
        expect_error(&outcome, Side::Client, AlertDescription::IllegalParameter);
    }
    // A TLS 1.2-only client does not look at the sentinel.
    let c = Arc::new(client_builder("ecdsa-p256").build().expect("client"));
    let s = Arc::new(
        server_builder("ecdsa-p256")
            .handshake_hook(Arc::new(ServerRandom(sentinel_random(1))))
            .build()
            .expect("server"),
    );
    let (client, _) = pair(&c, &s);
    assert_eq!(client.negotiated().version, Some(ProtocolVersion::TLSv1_2));
}

#[test]
fn server_hello_selecting_tls12_through_supported_versions() {
    // §4.2.1: supported_versions in a ServerHello must name TLS 1.3; a
    // server may not negotiate TLS 1.2 that way.
    let p = peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToClient && index == 0 {
            let pos = bytes
                .windows(6)
                .position(|w| w == [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04])
                .expect("supported_versions");
            bytes[pos + 5] = 0x03;
        }
    });
    assert!(outcome.client.is_some(), "{outcome:?}");
    assert!(!outcome.complete);
}

#[test]
fn one_change_cipher_spec_per_client_after_a_retry() {
    // §D.4: the client sends one change_cipher_spec in middlebox mode —
    // before the second ClientHello after a retry, not again before its
    // encrypted flight.
    let p = retry_peers();
    let (mut client, mut server) = connections(&p.client, &p.server);
    let mut ccs = 0;
    let outcome = run_with_tamper(&mut client, &mut server, |dir, _, bytes| {
        if dir == Direction::ToServer {
            ccs += split_records(bytes)
                .iter()
                .filter(|r| r.typ == CHANGE_CIPHER_SPEC)
                .count();
        }
    });
    outcome.expect_complete();
    assert_eq!(ccs, 1);
}
