//! RFC 8448 §4 ("Resumed 0-RTT Handshake") as a server replay that runs on
//! any key store, on the §3 machinery of `rfc8448_simple.rs`. Shared by
//! `crates/hsmtls/tests/rfc8448.rs` (software store) and
//! `crates/hsmtls-pkcs11/tests/rfc8448_token.rs` (hsmtls-token, strict).
//!
//! The trace's client resumes the ticket §3's server issued and sends six
//! bytes of early data; its server accepts them. The ticket is sealed
//! under the trace server's own key, so the [`TraceStore`] opens it: it
//! hands the engine the trace's PSK (imported into the store under test,
//! test-only) and a [`TicketState`] built from §3's NewSessionTicket (its
//! `ticket_age_add` and `max_early_data_size`, issued as long ago as the
//! client's `obfuscated_ticket_age` says). Everything else is the store's:
//! the binder check, the early, handshake and application key schedule,
//! the record protection. Compared byte for byte:
//! - the ServerHello record (pre_shared_key, key_share, supported_versions);
//! - the protected EncryptedExtensions (early_data accepted) and Finished;
//! - the trace's early data ("ABCDEF", taken apart with
//!   `take_early_data`), EndOfEarlyData, client Finished and application
//!   data accepted;
//! - the server's application_data record (seq 0: the trace's server
//!   sends no ticket after a resumption, `tls13_tickets(1, 0)`) and its
//!   close_notify.
//!
//! The 0-RTT anti-replay record admits the ClientHello: the ticket ages
//! agree and the binder is new.
#![allow(dead_code)]

use std::sync::Arc;

use hsmtls::keys::{KeyExchangeGroup, KeyShare, KeyStore, PrivateKey, Secret};
use hsmtls::msgs::enums::{CipherSuite, ExtensionType, NamedGroup};
use hsmtls::{Connection, TicketState};

use super::simple::{
    assert_hello_and_flight, data_and_close_notify, deliver, take_output, trace_server_with, unhex,
    Tickets, TraceHook, TraceServer, TraceTicket,
};

// The values below are copied from RFC 8448 §4 ("Resumed 0-RTT
// Handshake") and, for the ticket, §3, as printed there (IETF test
// vectors).

/// {client} send handshake record: complete record (517 octets), the
/// ClientHello resuming §3's ticket, with early_data and its PSK binder.
pub const CLIENT_HELLO_RECORD: &str = "16 03 01 02 00 01 00 01 fc 03 03 1b c3
    ce b6 bb e3 9c ff 93 83 55 b5 a5 0a db 6d b2 1b 7a 6a f6 49 d7 b4 bc 41
    9d 78 76 48 7d 95 00 00 06 13 01 13 03 13 02 01 00 01 cd 00 00 00 0b 00
    09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00
    17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 33 00 26 00 24 00 1d 00
    20 e4 ff b6 8a c0 5f 8d 96 c9 9d a2 66 98 34 6c 6b e1 64 82 ba dd da fe
    05 1a 66 b4 f1 8d 66 8f 0b 00 2a 00 00 00 2b 00 03 02 03 04 00 0d 00 20
    00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01
    04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01 00 15 00 57
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 29 00 dd 00 b8 00 b2 2c
    03 5d 82 93 59 ee 5f f7 af 4e c9 00 00 00 00 26 2a 64 94 dc 48 6d 2c 8a
    34 cb 33 fa 90 bf 1b 00 70 ad 3c 49 88 83 c9 36 7c 09 a2 be 78 5a bc 55
    cd 22 60 97 a3 a9 82 11 72 83 f8 2a 03 a1 43 ef d3 ff 5d d3 6d 64 e8 61
    be 7f d6 1d 28 27 db 27 9c ce 14 50 77 d4 54 a3 66 4d 4e 6d a4 d2 9e e0
    37 25 a6 a4 da fc d0 fc 67 d2 ae a7 05 29 51 3e 3d a2 67 7f a5 90 6c 5b
    3f 7d 8f 92 f2 28 bd a4 0d da 72 14 70 f9 fb f2 97 b5 ae a6 17 64 6f ac
    5c 03 27 2e 97 07 27 c6 21 a7 91 41 ef 5f 7d e6 50 5e 5b fb c3 88 e9 33
    43 69 40 93 93 4a e4 d3 57 fa d6 aa cb 00 21 20 3a dd 4f b2 d8 fd f8 22
    a0 ca 3c f7 67 8e f5 e8 8d ae 99 01 41 c5 92 4d 57 bb 6f a3 1b 9e 5f 9d";

/// {client} send application_data record: complete record (28 octets), the
/// 0-RTT data "ABCDEF" under the client early traffic key.
pub const EARLY_DATA_RECORD: &str = "17 03 03 00 17 ab 1d f4 20 e7 5c 45 7a
    7c c5 d2 84 4f 76 d5 ae e4 b4 ed bf 04 9b e0";

/// {server} send handshake record: complete record (101 octets), the
/// ServerHello: pre_shared_key (identity 0), key_share, supported_versions.
pub const SERVER_HELLO_RECORD: &str = "16 03 03 00 60 02 00 00 5c 03 03 3c cf
    d2 de c8 90 22 27 63 47 2a e8 13 67 77 c9 d7 35 87 77 bb 66 e9 1e a5 12
    24 95 f5 59 ea 2d 00 13 01 00 00 34 00 29 00 02 00 00 00 33 00 24 00 1d
    00 20 12 17 61 ee 42 c3 33 e1 b9 e7 7b 60 dd 57 c2 05 3c d9 45 12 ab 47
    f1 15 e8 6e ff 50 94 2c ea 31 00 2b 00 02 03 04";

/// {server} send handshake record: complete record (102 octets), the
/// protected EncryptedExtensions (early_data accepted) and Finished.
pub const SERVER_FLIGHT_RECORD: &str = "17 03 03 00 61 dc 48 23 7b 4b 87 9f
    50 d0 d4 d2 62 ea 8b 47 16 eb 40 dd c1 eb 95 7e 11 12 6e 8a 71 49 c2 d0
    12 d3 7a 71 15 95 7e 64 ce 30 00 8b 9e 03 23 f2 c0 5a 9c 1c 77 b4 f3 78
    49 a6 95 ab 25 50 60 a3 3f ee 77 0c a9 5c b8 48 6b fd 08 43 b8 70 24 86
    5c a3 5c c4 1c 4e 51 5c 64 dc b1 36 9f 98 63 5b c7 a5";

/// {client} send handshake record: complete record (26 octets), the
/// protected EndOfEarlyData.
pub const END_OF_EARLY_DATA_RECORD: &str = "17 03 03 00 15 ac a6 fc 94 48 41
    29 8d f9 95 93 72 5f 9b f9 75 44 29 b1 2f 09";

/// {client} send handshake record: complete record (58 octets), the
/// protected client Finished.
pub const CLIENT_FINISHED_RECORD: &str = "17 03 03 00 35 00 f8 b4 67 d1 4c f2
    2a 4b 3f 0b 6a e0 d8 e6 cc 8d 08 e0 db 35 15 ef 5c 2b df 19 22 ea fb b7
    00 09 96 47 16 d8 34 fb 70 c3 d2 a5 6c 5b 1f 5f 6b db a6 c3 33 cf";

/// {client} send application_data record: complete record (72 octets).
pub const CLIENT_APPLICATION_RECORD: &str = "17 03 03 00 43 b1 ce bc e2 42 aa
    20 1b e9 ae 5e 1c b2 a9 aa 4b 33 d4 e8 66 af 1e db 06 89 19 23 77 41 aa
    03 1d 7a 74 d4 91 c9 9b 9d 4e 23 2b 74 20 6b c6 fb aa 04 fe 78 be 44 a9
    b4 f5 43 20 a1 7e b7 69 92 af ac 31 03";

/// {server} send application_data record: complete record (72 octets).
pub const SERVER_APPLICATION_RECORD: &str = "17 03 03 00 43 27 5e 9f 20 ac ff
    57 bc 00 06 57 d3 86 7d f0 39 cc cf 79 04 78 84 cf 75 77 17 46 f7 40 b5
    a8 3f 46 2a 09 54 c3 58 13 93 a2 03 a2 5a 7d d1 41 41 ef 1a 37 90 0c db
    62 ff 62 de e1 ba 39 ab 25 90 cb f1 94";

/// {client} send alert record: complete record (24 octets), close_notify.
pub const CLIENT_ALERT_RECORD: &str = "17 03 03 00 13 0f ac ce 32 46 bd fc 63
    69 83 8d 6a 82 ae 6d e5 d4 22 dc";

/// {server} send alert record: complete record (24 octets), close_notify.
pub const SERVER_ALERT_RECORD: &str = "17 03 03 00 13 5b 18 af 44 4e 8e 1e ec
    71 58 fb 62 d8 f2 57 7d 37 ba 5d";

/// {server} create an ephemeral x25519 key pair: private key (32 octets).
pub const SERVER_X25519_PRIVATE: &str = "de 5b 44 76 e7 b4 90 b2 65 2d 33 8a
    cb f2 94 80 66 f2 55 f9 44 0e 23 b9 8f c6 98 35 29 8d c1 07";

/// {server} the PSK of §3's ticket (ticket nonce 00 00): HKDF-Expand-Label(
/// resumption_master_secret, "resumption", 00 00, 32) (32 octets).
pub const PSK: &str = "4e cd 0e b6 ec 3b 4d 87 f5 d6 02 8f 92 2c a4 c5 85 1a
    27 7f d4 13 11 c9 e6 2d 2c 94 92 e1 c4 f3";

/// {server} construct an EncryptedExtensions handshake message (44
/// octets): supported_groups, record_size_limit, server_name, early_data.
pub const ENCRYPTED_EXTENSIONS: &str = "08 00 00 28 00 26 00 0a 00 14 00 12
    00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c 00 02 40 01
    00 00 00 00 00 2a 00 00";

/// §3, {server} construct a NewSessionTicket handshake message (205
/// octets): lifetime 30 s, ticket_age_add, nonce 00 00, the ticket,
/// early_data with max_early_data_size 1024.
pub const NEW_SESSION_TICKET: &str = "04 00 00 c9 00 00 00 1e fa d6 aa c5 02
    00 00 00 b2 2c 03 5d 82 93 59 ee 5f f7 af 4e c9 00 00 00 00 26 2a 64 94
    dc 48 6d 2c 8a 34 cb 33 fa 90 bf 1b 00 70 ad 3c 49 88 83 c9 36 7c 09 a2
    be 78 5a bc 55 cd 22 60 97 a3 a9 82 11 72 83 f8 2a 03 a1 43 ef d3 ff 5d
    d3 6d 64 e8 61 be 7f d6 1d 28 27 db 27 9c ce 14 50 77 d4 54 a3 66 4d 4e
    6d a4 d2 9e e0 37 25 a6 a4 da fc d0 fc 67 d2 ae a7 05 29 51 3e 3d a2 67
    7f a5 90 6c 5b 3f 7d 8f 92 f2 28 bd a4 0d da 72 14 70 f9 fb f2 97 b5 ae
    a6 17 64 6f ac 5c 03 27 2e 97 07 27 c6 21 a7 91 41 ef 5f 7d e6 50 5e 5b
    fb c3 88 e9 33 43 69 40 93 93 4a e4 d3 57 00 08 00 2a 00 04 00 00 04 00";

/// The ticket inside §3's NewSessionTicket (178 octets).
pub fn ticket() -> Vec<u8> {
    // 04 0000c9 | lifetime 4 | age_add 4 | 02 0000 | 00b2 <178> | 0008 ...
    unhex(NEW_SESSION_TICKET)[17..17 + 178].to_vec()
}

/// §3's NewSessionTicket's `ticket_age_add`.
pub fn ticket_age_add() -> u32 {
    u32::from_be_bytes(unhex(NEW_SESSION_TICKET)[8..12].try_into().unwrap())
}

/// The client's view of the ticket's age in the §4 ClientHello, in
/// milliseconds: its `obfuscated_ticket_age` (the four octets after the
/// ticket) minus `ticket_age_add`.
pub fn client_ticket_age_ms() -> u32 {
    let hello = unhex(CLIENT_HELLO_RECORD);
    let ticket = ticket();
    let at = hello
        .windows(ticket.len())
        .position(|w| w == ticket)
        .expect("the ticket in the ClientHello")
        + ticket.len();
    u32::from_be_bytes(hello[at..at + 4].try_into().unwrap()).wrapping_sub(ticket_age_add())
}

/// The state the engine would have sealed in §3's ticket: its suite,
/// `ticket_age_add`, `max_early_data_size` (1024, from its early_data
/// extension), issued `client_ticket_age_ms` ago.
pub fn ticket_state() -> Vec<u8> {
    let nst = unhex(NEW_SESSION_TICKET);
    let max_early_data = u32::from_be_bytes(nst[nst.len() - 4..].try_into().unwrap());
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut state = TicketState::new(CipherSuite::TLS_AES_128_GCM_SHA256);
    state.extended_master_secret = true;
    state.created_ms = now_ms - u64::from(client_ticket_age_ms());
    state.age_add = ticket_age_add();
    state.max_early_data = max_early_data;
    state.encode()
}

/// The ServerHello.random of the trace.
pub fn server_random() -> [u8; 32] {
    unhex(SERVER_HELLO_RECORD)[11..43].try_into().unwrap()
}

/// §4's server on `inner`: `share` is the trace's x25519 key and `psk` the
/// trace's PSK, both imported into `inner`; `key` as for
/// [`trace_server_with`] (it never signs: a resumption has no
/// CertificateVerify). 0-RTT on (1024 bytes, the ticket's allowance); no
/// ticket after the resumption, as the trace's server.
pub fn resumed_trace_server(
    inner: Arc<dyn KeyStore>,
    share: (KeyShare, Vec<u8>),
    psk: Secret,
    key: PrivateKey,
    tickets: Tickets,
) -> Connection {
    let ee = unhex(ENCRYPTED_EXTENSIONS);
    // 08 000028 | 0026 | 000a 0014 <20> | 001c 0002 <2> | 0000 0000 | 002a 0000
    let hook = TraceHook {
        random: server_random(),
        encrypted_extensions: vec![
            (ExtensionType::SupportedGroups, ee[10..30].to_vec()),
            (ExtensionType::RecordSizeLimit, ee[34..36].to_vec()),
        ],
        retry_cookie: None,
    };
    let trace = TraceServer {
        group: KeyExchangeGroup::X25519,
        named_group: NamedGroup::x25519,
        share,
        certificate_verify: None,
        hook,
        ticket: Some(TraceTicket {
            ticket: ticket(),
            psk,
            state: ticket_state(),
        }),
        configure: |b| b.max_early_data_size(1024).tls13_tickets(1, 0),
    };
    trace_server_with(inner, trace, key, tickets)
}

/// Replays §4 against `server` (from [`resumed_trace_server`]) and
/// compares every record it sends with the trace's, byte for byte.
pub fn replay_resumed_0rtt_server(mut server: Connection) {
    let mut first = unhex(CLIENT_HELLO_RECORD);
    first.extend_from_slice(&unhex(EARLY_DATA_RECORD));
    deliver(&mut server, &first).expect("the trace's ClientHello and early data");
    assert!(server.negotiated().resumed, "resumed the trace's ticket");
    assert!(server.negotiated().early_data_accepted, "0-RTT accepted");
    assert_hello_and_flight(
        &take_output(&mut server),
        SERVER_HELLO_RECORD,
        SERVER_FLIGHT_RECORD,
    );
    assert_eq!(
        server.take_early_data(),
        b"ABCDEF",
        "the trace's early data"
    );

    deliver(&mut server, &unhex(END_OF_EARLY_DATA_RECORD)).expect("EndOfEarlyData");
    deliver(&mut server, &unhex(CLIENT_FINISHED_RECORD)).expect("the trace's client Finished");
    assert!(!server.is_handshaking());
    assert!(
        take_output(&mut server).is_empty(),
        "no ticket after a resumption"
    );

    data_and_close_notify(
        &mut server,
        [CLIENT_APPLICATION_RECORD, SERVER_APPLICATION_RECORD],
        [CLIENT_ALERT_RECORD, SERVER_ALERT_RECORD],
    );
}
