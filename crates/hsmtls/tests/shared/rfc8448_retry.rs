//! RFC 8448 §5 ("HelloRetryRequest") as a server replay that runs on any
//! key store, built on the §3 machinery of `rfc8448_simple.rs`
//! ([`TraceStore`], [`TraceHook`], [`trace_server_with`]). Shared by
//! `crates/hsmtls/tests/rfc8448.rs` (software store) and
//! `crates/hsmtls-pkcs11/tests/rfc8448_token.rs` (hsmtls-token, strict).
//!
//! The trace's client offers x25519, secp256r1 and secp384r1 with an
//! x25519 share; its server wants secp256r1 (the hsmtls server here
//! offers only that group), answers with a HelloRetryRequest carrying a
//! key_share for secp256r1 and a 114-octet cookie, and completes the
//! handshake on the second ClientHello. Compared byte for byte:
//! - the HelloRetryRequest record (the special random, the echoed empty
//!   session ID, key_share, cookie, supported_versions in the trace's
//!   order; no change_cipher_spec, as the session ID is empty). The
//!   cookie's content is the trace server's own: it reaches the hsmtls
//!   server through [`HandshakeHook::hello_retry_cookie`], and the server
//!   checks the second ClientHello's echo of it;
//! - the ServerHello record (the trace's random and secp256r1 share);
//! - the protected EncryptedExtensions..Finished record: the handshake
//!   keys over the retry transcript (message_hash of the first
//!   ClientHello, RFC 8446 §4.4.1), the server Finished;
//! - and the trace's client Finished is accepted.
//!
//! As in §3 the RSASSA-PSS CertificateVerify signature is the trace's,
//! handed out by [`TraceStore`] only for exactly the trace's signing
//! input (here over the retry transcript). §5 has no application data.
#![allow(dead_code)]

use std::sync::Arc;

use hsmtls::keys::{KeyExchangeGroup, KeyShare, KeyStore, PrivateKey};
use hsmtls::msgs::enums::{ExtensionType, NamedGroup};
use hsmtls::Connection;

use super::simple::{
    assert_bytes, assert_hello_and_flight, deliver, record_ranges, take_output, trace_server_with,
    unhex, Tickets, TraceHook, TraceServer, CERTIFICATE, SHA256,
};

// The values below are copied from RFC 8448 §5 ("HelloRetryRequest"), as
// printed there (IETF test vectors).

/// {client} send handshake record: complete record (185 octets), the first
/// ClientHello, with an x25519 share.
pub const CLIENT_HELLO_1_RECORD: &str = "16 03 01 00 b4 01 00 00 b0 03 03 b0
    b1 c5 a5 aa 37 c5 91 9f 2e d1 d5 c6 ff f7 fc b7 84 97 16 94 5a 2b 8c ee
    92 58 a3 46 67 7b 6f 00 00 06 13 01 13 03 13 02 01 00 00 81 00 00 00 0b
    00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 08 00 06 00 1d
    00 17 00 18 00 33 00 26 00 24 00 1d 00 20 e8 e8 e3 f3 b9 3a 25 ed 97 a1
    4a 7d ca cb 8a 27 2c 62 88 e5 85 c6 48 4d 05 26 2f ca d0 62 ad 1f 00 2b
    00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08
    06 04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00
    1c 00 02 40 01";

/// {server} send handshake record: complete record (181 octets), the
/// HelloRetryRequest: key_share asking for secp256r1, the server's cookie,
/// supported_versions.
pub const HELLO_RETRY_REQUEST_RECORD: &str = "16 03 03 00 b0 02 00 00 ac 03
    03 cf 21 ad 74 e5 9a 61 11 be 1d 8c 02 1e 65 b8 91 c2 a2 11 16 7a bb 8c
    5e 07 9e 09 e2 c8 a8 33 9c 00 13 01 00 00 84 00 33 00 02 00 17 00 2c 00
    74 00 72 71 dc d0 4b b8 8b c3 18 91 19 39 8a 00 00 00 00 ee fa fc 76 c1
    46 b8 23 b0 96 f8 aa ca d3 65 dd 00 30 95 3f 4e df 62 56 36 e5 f2 1b b2
    e2 3f cc 65 4b 1b 5b 40 31 8d 10 d1 37 ab cb b8 75 74 e3 6e 8a 1f 02 5f
    7d fa 5d 6e 50 78 1b 5e da 4a a1 5b 0c 8b e7 78 25 7d 16 aa 30 30 e9 e7
    84 1d d9 e4 c0 34 22 67 e8 ca 0c af 57 1f b2 b7 cf f0 f9 34 b0 00 2b 00
    02 03 04";

/// {client} send handshake record: complete record (517 octets), the
/// second ClientHello: a secp256r1 share, the cookie echoed, padding.
pub const CLIENT_HELLO_2_RECORD: &str = "16 03 03 02 00 01 00 01 fc 03 03 b0
    b1 c5 a5 aa 37 c5 91 9f 2e d1 d5 c6 ff f7 fc b7 84 97 16 94 5a 2b 8c ee
    92 58 a3 46 67 7b 6f 00 00 06 13 01 13 03 13 02 01 00 01 cd 00 00 00 0b
    00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 08 00 06 00 1d
    00 17 00 18 00 33 00 47 00 45 00 17 00 41 04 a6 da 73 92 ec 59 1e 17 ab
    fd 53 59 64 b9 98 94 d1 3b ef b2 21 b3 de f2 eb e3 83 0e ac 8f 01 51 81
    26 77 c4 d6 d2 23 7e 85 cf 01 d6 91 0c fb 83 95 4e 76 ba 73 52 83 05 34
    15 98 97 e8 06 57 80 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03
    06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06 02
    02 02 00 2c 00 74 00 72 71 dc d0 4b b8 8b c3 18 91 19 39 8a 00 00 00 00
    ee fa fc 76 c1 46 b8 23 b0 96 f8 aa ca d3 65 dd 00 30 95 3f 4e df 62 56
    36 e5 f2 1b b2 e2 3f cc 65 4b 1b 5b 40 31 8d 10 d1 37 ab cb b8 75 74 e3
    6e 8a 1f 02 5f 7d fa 5d 6e 50 78 1b 5e da 4a a1 5b 0c 8b e7 78 25 7d 16
    aa 30 30 e9 e7 84 1d d9 e4 c0 34 22 67 e8 ca 0c af 57 1f b2 b7 cf f0 f9
    34 b0 00 2d 00 02 01 01 00 1c 00 02 40 01 00 15 00 af 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00";

/// {server} send handshake record: complete record (128 octets), the
/// ServerHello with the server's secp256r1 share.
pub const SERVER_HELLO_RECORD: &str = "16 03 03 00 7b 02 00 00 77 03 03 bb 34
    1d 84 7f d7 89 c4 7c 38 71 72 dc 0c 9b f1 47 fc ca cb 50 43 d8 6c a4 c5
    98 d3 ff 57 1b 98 00 13 01 00 00 4f 00 33 00 45 00 17 00 41 04 58 3e 05
    4b 7a 66 67 2a e0 20 ad 9d 26 86 fc c8 5b 5a d4 1a 13 4a 0f 03 ee 72 b8
    93 05 2b d8 5b 4c 8d e6 77 6f 5b 04 ac 07 d8 35 40 ea b3 e3 d9 c5 47 bc
    65 28 c4 31 7d 29 46 86 09 3a 6c ad 7d 00 2b 00 02 03 04";

/// {server} send handshake record: complete record (667 octets), the
/// protected EncryptedExtensions, Certificate, CertificateVerify and
/// Finished.
pub const SERVER_FLIGHT_RECORD: &str = "17 03 03 02 96 99 be e2 0b af 5b 7f
    c7 27 bf ab 62 23 92 8a 38 1e 6d 0c f9 c4 da 65 3f 9d 2a 7b 23 f7 de 11
    cc e8 42 d5 cf 75 63 17 63 45 0f fb 8b 0c c1 d2 38 e6 58 af 7a 12 ad c8
    62 43 11 4a b1 4a 1d a2 fa e4 26 21 ce 48 3f b6 24 2e ab fa ad 52 56 6b
    02 b3 1d 2e dd ed ef eb 80 e6 6a 99 00 d5 f9 73 b4 0c 4f df 74 71 9e cf
    1b 68 d7 f9 c3 b6 ce b9 03 ca 13 dd 1b b8 f8 18 7a e3 34 17 e1 d1 52 52
    2c 58 22 a1 a0 3a d5 2c 83 8c 55 95 3d 61 02 22 87 4c ce 8e 17 90 b2 29
    a2 aa 0b 53 c8 d3 77 ee 72 01 82 95 1d c6 18 1d c5 d9 0b d1 f0 10 5e d1
    e8 4a a5 f7 59 57 c6 66 18 97 07 9e 5e a5 00 74 49 e3 19 7b dc 7c 9b ee
    ed dd ea fd d8 44 af a5 c3 15 ec fe 65 e5 76 af e9 09 81 28 80 62 0e c7
    04 8b 42 d7 f5 c7 8d 76 f2 99 d6 d8 25 34 bd d8 f5 12 fe bc 0e d3 81 4a
    ca 47 0c d8 00 0d 3e 1c b9 96 2b 05 2f bb 95 0d f6 83 a5 2c 2b a7 7e d3
    71 3b 12 29 37 a6 e5 17 09 64 e2 ab 79 69 dc d9 80 b3 db 9b 45 8d a7 60
    31 24 d6 dc 00 5e 4d 6e 04 b4 d0 c4 ba f3 27 5d b8 27 db ba 0a 6d b0 96
    72 17 1f c0 57 b3 85 1d 7e 02 68 41 e2 97 8f bd 23 46 bb ef dd 03 76 bb
    11 08 fe 9a cc 92 18 9f 56 50 aa 5e 85 d8 e8 c7 b6 7a c5 10 db a0 03 d3
    d7 e1 63 50 bb 66 d4 50 13 ef d4 4c 9b 60 7c 0d 31 8c 4c 7d 1a 1f 5c bc
    57 e2 06 11 80 4e 37 87 d7 b4 a4 b5 f0 8e d8 fd 70 bd ae ad e0 22 60 b1
    2a b8 42 ef 69 0b 4a 3e e7 91 1e 84 1b 37 4e cd 5e bb bc 2a 54 d0 47 b6
    00 33 6d d7 d0 c8 8b 4b c1 0e 58 ee 6c b6 56 de 72 47 fa 20 d8 e9 1d eb
    84 62 86 08 cf 80 61 5b 62 e9 6c 14 91 c7 ac 37 55 eb 69 01 40 5d 34 74
    fe 1a c7 9d 10 6a 0c ee 56 c2 57 7f c8 84 80 f9 6c b6 b8 c6 81 b7 b6 8b
    53 c1 46 09 39 08 f3 50 88 81 75 bd fb 0b 1e 31 ad 61 e3 0b a0 ad fe 6d
    22 3a a0 3c 07 83 b5 00 1a 57 58 7c 32 8a 9a fc fc fb 97 8d 1c d4 32 8f
    7d 9d 60 53 0e 63 0b ef d9 6c 0c 81 6e e2 0b 01 00 76 8a e2 a6 df 51 fc
    68 f1 72 74 0a 79 af 11 39 8e e3 be 12 52 49 1f a9 c6 93 47 9e 87 7f 94
    ab 7c 5f 8c ad 48 02 03 e6 ab 7b 87 dd 71 e8 a0 72 91 13 df 17 f5 ee e8
    6c e1 08 d1 d7 20 07 ec 1c d1 3c 85 a6 c1 49 62 1e 77 b7 d7 8d 80 5a 30
    f0 be 03 0c 31 5e 54";

/// {client} send handshake record: complete record (58 octets), the
/// protected client Finished.
pub const CLIENT_FINISHED_RECORD: &str = "17 03 03 00 35 d7 4f 19 23 c6 62 fd
    34 13 7c 6f 50 2f 3d d2 b9 3d 95 1d 1b 3b c9 7e 42 af e2 3c 31 ab ea 92
    fe 91 b4 74 99 9e 85 e3 b7 91 ce 25 2f e8 c3 e9 f9 39 a4 12 0c b2";

/// {server} create an ephemeral P-256 key pair: private key (32 octets).
pub const SERVER_P256_PRIVATE: &str = "8c 51 06 01 f9 76 5b fb 8e d6 93 44 9a
    48 98 98 59 b5 cf a8 79 cb 9f 54 43 c4 1c 5f f1 06 34 ed";

/// {server} construct an EncryptedExtensions handshake message (28 octets):
/// supported_groups (secp256r1, secp384r1, x25519), record_size_limit,
/// server_name.
pub const ENCRYPTED_EXTENSIONS: &str = "08 00 00 18 00 16 00 0a 00 08 00 06
    00 17 00 18 00 1d 00 1c 00 02 40 01 00 00 00 00";

/// {server} construct a CertificateVerify handshake message (136 octets).
pub const CERTIFICATE_VERIFY: &str = "0f 00 00 84 08 04 00 80 33 ab 13 d4 46
    27 07 23 1b 5d ca e6 c8 19 0b 63 d1 da bc 74 f2 8c 39 53 70 da 0b 07 e5
    b8 30 66 d0 24 6a 31 ac d9 5d f4 75 bf d7 99 a4 a7 0d 33 ad 93 d3 a3 17
    a9 b2 c0 d2 37 a5 68 5b 21 9e 77 41 12 e3 91 a2 47 60 7d 1a ef f1 bb d0
    a3 9f 38 2e e1 a5 fe 88 ae 99 ec 59 22 8e 64 97 e4 5d 48 ce 27 5a 6d 5e
    f4 0d 16 9f b6 f9 d3 3b 05 2e d3 dc dd 6b 5a 48 ba af ff bc b2 90 12 84
    15 bd 38";

/// {server} construct a Finished handshake message (36 octets).
pub const SERVER_FINISHED: &str = "14 00 00 20 88 63 e6 bf b0 42 0a 92 7f a2
    7f 34 33 6a 70 ae 42 6e 96 8e 3e b8 84 94 5b 96 85 6d ba 39 76 d1";
/// {server} create an ephemeral P-256 key pair: public key (65 octets),
/// inside the ServerHello's key_share.
pub fn server_p256_public() -> Vec<u8> {
    // 16 030300 7b | 02 000077 0303 <32> 00 1301 00 004f | 0033 0045 0017 0041 <65>
    unhex(SERVER_HELLO_RECORD)[57..122].to_vec()
}

/// The ServerHello.random of the trace.
pub fn server_random() -> [u8; 32] {
    unhex(SERVER_HELLO_RECORD)[11..43].try_into().unwrap()
}

/// The HelloRetryRequest's cookie (114 octets).
pub fn retry_cookie() -> Vec<u8> {
    // 16 030300 b0 | 02 0000ac 0303 <32> 00 1301 00 0084 | 0033 0002 0017 | 002c 0074 0072 <114>
    unhex(HELLO_RETRY_REQUEST_RECORD)[61..175].to_vec()
}

/// What the trace's server signs in CertificateVerify: 64 spaces, the
/// server context string, 0, and the SHA-256 of message_hash(ClientHello1),
/// HelloRetryRequest, ClientHello2, ServerHello, EncryptedExtensions and
/// Certificate (RFC 8446 §4.4.1).
pub fn retry_certificate_verify_input(store: &dyn KeyStore) -> Vec<u8> {
    let mut first = store.hasher(SHA256).expect("hasher");
    first.update(&unhex(CLIENT_HELLO_1_RECORD)[5..]);
    let mut hasher = store.hasher(SHA256).expect("hasher");
    hasher.update(&[0xfe, 0, 0, 32]);
    hasher.update(first.current().as_ref());
    hasher.update(&unhex(HELLO_RETRY_REQUEST_RECORD)[5..]);
    hasher.update(&unhex(CLIENT_HELLO_2_RECORD)[5..]);
    hasher.update(&unhex(SERVER_HELLO_RECORD)[5..]);
    hasher.update(&unhex(ENCRYPTED_EXTENSIONS));
    hasher.update(&unhex(CERTIFICATE));
    let mut m = vec![0x20; 64];
    m.extend_from_slice(b"TLS 1.3, server CertificateVerify\0");
    m.extend_from_slice(hasher.current().as_ref());
    m
}

/// §5's server on `inner`: `share` is the trace's P-256 key imported into
/// `inner`; `key` as for [`trace_server_with`]. Its hook gives the trace's
/// server random, the EncryptedExtensions hsmtls does not send by itself
/// (supported_groups, record_size_limit) and the retry's cookie.
pub fn retry_trace_server(
    inner: Arc<dyn KeyStore>,
    share: (KeyShare, Vec<u8>),
    key: PrivateKey,
    tickets: Tickets,
) -> Connection {
    assert_bytes(&share.1, &server_p256_public(), "the imported P-256 share");
    let ee = unhex(ENCRYPTED_EXTENSIONS);
    // 08 000018 | 0016 | 000a 0008 <8> | 001c 0002 <2> | 0000 0000
    let hook = TraceHook {
        random: server_random(),
        encrypted_extensions: vec![
            (ExtensionType::SupportedGroups, ee[10..18].to_vec()),
            (ExtensionType::RecordSizeLimit, ee[22..24].to_vec()),
        ],
        retry_cookie: Some(retry_cookie()),
    };
    let input = retry_certificate_verify_input(&*inner);
    let trace = TraceServer {
        group: KeyExchangeGroup::Secp256r1,
        named_group: NamedGroup::secp256r1,
        share,
        certificate_verify: Some((input, unhex(CERTIFICATE_VERIFY)[8..].to_vec())),
        hook,
        ticket: None,
        configure: |b| b,
    };
    trace_server_with(inner, trace, key, tickets)
}

/// Replays §5 against `server` (from [`retry_trace_server`]) and compares
/// every record it sends with the trace's, byte for byte.
pub fn replay_hello_retry_server(mut server: Connection) {
    deliver(&mut server, &unhex(CLIENT_HELLO_1_RECORD)).expect("the trace's first ClientHello");
    assert_bytes(
        &take_output(&mut server),
        &unhex(HELLO_RETRY_REQUEST_RECORD),
        "HelloRetryRequest record",
    );

    deliver(&mut server, &unhex(CLIENT_HELLO_2_RECORD)).expect("the trace's second ClientHello");
    assert_hello_and_flight(
        &take_output(&mut server),
        SERVER_HELLO_RECORD,
        SERVER_FLIGHT_RECORD,
    );

    deliver(&mut server, &unhex(CLIENT_FINISHED_RECORD)).expect("the trace's client Finished");
    assert!(!server.is_handshaking());
    // The server's NewSessionTicket (not in the trace) follows.
    let ticket = take_output(&mut server);
    assert_eq!(
        record_ranges(&ticket).len(),
        1,
        "one NewSessionTicket record"
    );
}
