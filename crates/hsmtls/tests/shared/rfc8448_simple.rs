//! RFC 8448 §3 ("Simple 1-RTT Handshake") as a server replay that runs on
//! any key store: the trace's vectors, a [`TraceStore`] that hands out the
//! trace's key share and CertificateVerify signature and forwards every
//! other operation to the store under test, and the replay itself
//! ([`replay_simple_1rtt_server`]). Shared by `crates/hsmtls/tests/rfc8448.rs`
//! (software store) and `crates/hsmtls-pkcs11/tests/rfc8448_token.rs`
//! (hsmtls-token, strict): the same records byte for byte, whichever
//! store derives the keys and seals them. See `rfc8448.rs` for what is and
//! is not reproduced, and why.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use hsmtls::hooks::HandshakeHook;
use hsmtls::keys::{
    HashAlgorithm, KeyError, KeyExchangeGroup, KeyShare, KeyStore, PrivateKey, Secret,
    SignatureAlgorithm, TicketKey,
};
use hsmtls::msgs::enums::{
    CipherSuite, ExtensionType, NamedGroup, ProtocolVersion, SignatureScheme,
};
use hsmtls::{CertifiedKey, Connection, Error, ServerConfig, ServerConfigBuilder, Side};

/// Hex digits to bytes; spaces and line breaks (the RFC's layout) are
/// skipped.
pub fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|d| u8::from_str_radix(std::str::from_utf8(d).unwrap(), 16).expect("hex"))
        .collect()
}

/// Hex of `bytes`, for readable assertion failures.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[track_caller]
pub fn assert_bytes(got: &[u8], want: &[u8], what: &str) {
    assert!(
        got == want,
        "{what} differs from RFC 8448\n got: {}\nwant: {}",
        hex(got),
        hex(want)
    );
}

pub const SHA256: HashAlgorithm = HashAlgorithm::Sha256;

// The values below are copied from RFC 8448 §3 ("Simple 1-RTT Handshake"),
// as printed there (IETF test vectors).

/// {client} create an ephemeral x25519 key pair: public key.
pub const CLIENT_X25519_PUBLIC: &str = "99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d
    ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c";

/// {server} create an ephemeral x25519 key pair: private key.
pub const SERVER_X25519_PRIVATE: &str = "b1 58 0e ea df 6d d5 89 b8 ef 4f 2d 56
    52 57 8c c8 10 e9 98 01 91 ec 8d 05 83 08 ce a2 16 a2 1e";

/// {server} create an ephemeral x25519 key pair: public key.
pub const SERVER_X25519_PUBLIC: &str = "c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6
    72 e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f";

/// {client} send handshake record: complete record (201 octets).
pub const CLIENT_HELLO_RECORD: &str = "16 03 01 00 c4 01 00 00 c0 03 03 cb
    34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12
    ec 18 a2 ef 62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01 00
    00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01
    00 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02
    01 03 01 04 00 23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d
    e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d
    54 13 69 1e 52 9a af 2c 00 2b 00 03 02 03 04 00 0d 00 20 00 1e
    04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02
    01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01";

/// {server} send handshake record: complete record (95 octets).
pub const SERVER_HELLO_RECORD: &str = "16 03 03 00 5a 02 00 00 56 03 03 a6
    af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb 14
    34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24 00
    1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72 e1 56 d6
    cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04";

/// {server} construct an EncryptedExtensions handshake message (40 octets).
pub const ENCRYPTED_EXTENSIONS: &str = "08 00 00 24 00 22 00 0a 00 14 00
    12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c
    00 02 40 01 00 00 00 00";

/// {server} construct a Certificate handshake message (445 octets).
pub const CERTIFICATE: &str = "0b 00 01 b9 00 00 01 b5 00 01 b0 30 82
    01 ac 30 82 01 15 a0 03 02 01 02 02 01 02 30 0d 06 09 2a 86 48
    86 f7 0d 01 01 0b 05 00 30 0e 31 0c 30 0a 06 03 55 04 03 13 03
    72 73 61 30 1e 17 0d 31 36 30 37 33 30 30 31 32 33 35 39 5a 17
    0d 32 36 30 37 33 30 30 31 32 33 35 39 5a 30 0e 31 0c 30 0a 06
    03 55 04 03 13 03 72 73 61 30 81 9f 30 0d 06 09 2a 86 48 86 f7
    0d 01 01 01 05 00 03 81 8d 00 30 81 89 02 81 81 00 b4 bb 49 8f
    82 79 30 3d 98 08 36 39 9b 36 c6 98 8c 0c 68 de 55 e1 bd b8 26
    d3 90 1a 24 61 ea fd 2d e4 9a 91 d0 15 ab bc 9a 95 13 7a ce 6c
    1a f1 9e aa 6a f9 8c 7c ed 43 12 09 98 e1 87 a8 0e e0 cc b0 52
    4b 1b 01 8c 3e 0b 63 26 4d 44 9a 6d 38 e2 2a 5f da 43 08 46 74
    80 30 53 0e f0 46 1c 8c a9 d9 ef bf ae 8e a6 d1 d0 3e 2b d1 93
    ef f0 ab 9a 80 02 c4 74 28 a6 d3 5a 8d 88 d7 9f 7f 1e 3f 02 03
    01 00 01 a3 1a 30 18 30 09 06 03 55 1d 13 04 02 30 00 30 0b 06
    03 55 1d 0f 04 04 03 02 05 a0 30 0d 06 09 2a 86 48 86 f7 0d 01
    01 0b 05 00 03 81 81 00 85 aa d2 a0 e5 b9 27 6b 90 8c 65 f7 3a
    72 67 17 06 18 a5 4c 5f 8a 7b 33 7d 2d f7 a5 94 36 54 17 f2 ea
    e8 f8 a5 8c 8f 81 72 f9 31 9c f3 6b 7f d6 c5 5b 80 f2 1a 03 01
    51 56 72 60 96 fd 33 5e 5e 67 f2 db f1 02 70 2e 60 8c ca e6 be
    c1 fc 63 a4 2a 99 be 5c 3e b7 10 7c 3c 54 e9 b9 eb 2b d5 20 3b
    1c 3b 84 e0 a8 b2 f7 59 40 9b a3 ea c9 d9 1d 40 2d cc 0c c8 f8
    96 12 29 ac 91 87 b4 2b 4d e1 00 00";

/// {server} construct a CertificateVerify handshake message (136 octets):
/// rsa_pss_rsae_sha256 (08 04), a 128-octet signature.
pub const CERTIFICATE_VERIFY: &str = "0f 00 00 84 08 04 00 80 5a 74 7c
    5d 88 fa 9b d2 e5 5a b0 85 a6 10 15 b7 21 1f 82 4c d4 84 14 5a
    b3 ff 52 f1 fd a8 47 7b 0b 7a bc 90 db 78 e2 d3 3a 5c 14 1a 07
    86 53 fa 6b ef 78 0c 5e a2 48 ee aa a7 85 c4 f3 94 ca b6 d3 0b
    be 8d 48 59 ee 51 1f 60 29 57 b1 54 11 ac 02 76 71 45 9e 46 44
    5c 9e a5 8c 18 1e 81 8e 95 b8 c3 fb 0b f3 27 84 09 d3 be 15 2a
    3d a5 04 3e 06 3d da 65 cd f5 ae a2 0d 53 df ac d4 2f 74 f3";

/// {server} construct a Finished handshake message (36 octets).
pub const SERVER_FINISHED: &str = "14 00 00 20 9b 9b 14 1d 90 63 37 fb d2 cb
    dc e7 1d f4 de da 4a b4 2c 30 95 72 cb 7f ff ee 54 54 b7 8f 07
    18";

/// {server} send handshake record: complete record (674 octets), the
/// protected EncryptedExtensions .. Finished.
pub const SERVER_FLIGHT_RECORD: &str = "17 03 03 02 a2 d1 ff 33 4a 56 f5 bf
    f6 59 4a 07 cc 87 b5 80 23 3f 50 0f 45 e4 89 e7 f3 3a f3 5e df
    78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca 07 61 2e f9 f9 45
    cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd 05 d2 a3
    89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b
    d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9
    b1 18 3e f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf
    51 42 73 25 25 0c 7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d
    2e d6 5b 0e 3c dd 0c ba e8 bf 2d 0b 22 78 12 cb b3 60 98 72 55
    cc 74 41 10 c4 53 ba a4 fc d6 10 92 8d 80 98 10 e4 b7 ed 1a 8f
    d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70 a2 55 9c 09 ea d6
    86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8 94 41 ac
    66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea
    52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e
    a5 e2 2f 44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6
    54 0c 84 83 8d 89 f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb
    31 7b 66 d9 02 f4 f2 92 a3 6a c1 b6 39 c6 37 ce 34 31 17 b6 59
    62 22 45 31 7b 49 ee da 0c 62 58 f1 00 d7 d9 61 ff b1 38 64 7e
    92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e 1b 7a 6c 71 78 af
    36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84 c8 b0 37
    8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c
    f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88
    2b d8 9f c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80
    f8 5d f8 81 ed be 5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69
    18 a3 96 fa 48 a1 81 d6 b6 fa 4f 9d 62 d5 13 af bb 99 2f 2b 99
    2f 67 f8 af e6 7f 76 91 3f a3 88 cb 56 30 c8 ca 01 e0 c6 5d 11
    c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10 dc 35 ae 69 f5 51
    56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38 eb ba 42
    f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f
    60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd
    d5 02 78 40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af
    93 98 28 fd 4a e3 79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da
    bf 02 53 fe 51 75 be 89 8e 75 0e dc 53 37 0d 2b";

/// {client} send handshake record: complete record (58 octets), the
/// protected client Finished.
pub const CLIENT_FINISHED_RECORD: &str = "17 03 03 00 35 75 ec 4d c2 38 cc e6
    0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 51 7f e9 b9 3c 7a 4b fc 44
    d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7
    26 c4 05 46";

/// {server} send handshake record: complete record (227 octets), the
/// protected NewSessionTicket (its length only is compared).
pub const NEW_SESSION_TICKET_RECORD_LEN: usize = 227;

/// {client} send application_data record: complete record (72 octets);
/// the payload is the 50 octets 00 01 .. 31.
pub const CLIENT_APPLICATION_RECORD: &str = "17 03 03 00 43 a2 3f 70 54 b6 2c 94
    d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc ab 3f 2b
    98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62
    92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";

/// {server} send application_data record: complete record (72 octets),
/// the same 50 octets.
pub const SERVER_APPLICATION_RECORD: &str = "17 03 03 00 43 2e 93 7e 11 ef 4a c7
    40 e5 38 ad 36 00 5f c4 a4 69 32 fc 32 25 d0 5f 82 aa 1b 36 e3
    0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8 fc c4 9c 4b f2 e5
    f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d";

/// {client} send alert record: complete record (24 octets), close_notify.
pub const CLIENT_ALERT_RECORD: &str = "17 03 03 00 13 c9 87 27 60 65 56 66
    b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3";

/// {server} send alert record: complete record (24 octets), close_notify.
pub const SERVER_ALERT_RECORD: &str = "17 03 03 00 13 b5 8f d6 71 66 eb f5
    99 d2 47 20 cf be 7e fa 7a 88 64 a9";

/// The 50-octet application payload both sides send in §3.
pub fn application_payload() -> Vec<u8> {
    (0u8..50).collect()
}

/// The ServerHello.random of the trace (octets 11..43 of its record).
pub fn server_random() -> [u8; 32] {
    unhex(SERVER_HELLO_RECORD)[11..43].try_into().unwrap()
}

/// The DER certificate inside the trace's Certificate message (after the
/// 4-octet header, the empty context, the 3-octet list and entry lengths).
pub fn trace_certificate_der() -> Vec<u8> {
    let message = unhex(CERTIFICATE);
    let len =
        usize::from(message[8]) << 16 | usize::from(message[9]) << 8 | usize::from(message[10]);
    message[11..11 + len].to_vec()
}

/// What the trace's server signs in CertificateVerify (RFC 8446 §4.4.3):
/// 64 spaces, the server context string, 0, and the SHA-256 of
/// ClientHello .. Certificate.
pub fn trace_certificate_verify_input(store: &dyn KeyStore) -> Vec<u8> {
    let mut hasher = store.hasher(SHA256).expect("hasher");
    hasher.update(&unhex(CLIENT_HELLO_RECORD)[5..]);
    hasher.update(&unhex(SERVER_HELLO_RECORD)[5..]);
    hasher.update(&unhex(ENCRYPTED_EXTENSIONS));
    hasher.update(&unhex(CERTIFICATE));
    let mut m = vec![0x20; 64];
    m.extend_from_slice(b"TLS 1.3, server CertificateVerify\0");
    m.extend_from_slice(hasher.current().as_ref());
    m
}

/// A [`KeyStore`] that plays the trace's server over the store under
/// test: its key share is the trace's private key (x25519 in §3, P-256 in
/// §5; imported into that store by the caller), and its one signature is
/// the trace's
/// (RSASSA-PSS is randomized, so it cannot be recomputed), given only for
/// exactly the trace's CertificateVerify input. Everything else — the
/// whole TLS 1.3 key schedule and the record protection — is the inner
/// store's.
#[derive(Debug)]
pub struct TraceStore {
    inner: Arc<dyn KeyStore>,
    /// The trace's key share, handed out once, and its group.
    share: Mutex<Option<(KeyShare, Vec<u8>)>>,
    group: KeyExchangeGroup,
    /// (message to sign, signature), once.
    signature: Mutex<Option<(Vec<u8>, Vec<u8>)>>,
    /// The trace's ticket, which the store under test cannot open (§4).
    ticket: Mutex<Option<TraceTicket>>,
    /// Issue a placeholder ticket instead of the inner store's (see
    /// [`Tickets::Placeholder`]).
    placeholder_tickets: bool,
}

/// Where the replay's one NewSessionTicket comes from. Its content is
/// compared with the trace in neither variant (nonce, age_add and sealed
/// ticket are the issuer's own); the record only has to exist, so the
/// server's later records take the trace's sequence numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tickets {
    /// The store under test seals a real ticket.
    Store,
    /// A store that cannot seal one (a token in strict mode: the PSK
    /// cannot leave the token) issues 32 opaque bytes no server accepts.
    Placeholder,
}

/// The ticket key of [`Tickets::Placeholder`]: opens nothing.
#[derive(Debug)]
struct PlaceholderTicketKey;

impl hsmtls::keys::KeyObject for PlaceholderTicketKey {
    fn id(&self) -> u64 {
        0
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}

impl KeyStore for TraceStore {
    hsmtls::keys::forward_key_store!(inner => capabilities, policy_relaxations, random,
        hasher, complete_key_exchange, tls12_master_secret, tls12_verify_data,
        tls12_traffic_keys, tls12_export, verify, hkdf_extract, hkdf_expand_label,
        hkdf_expand_label_data, tls13_verify_data, tls13_record_protector);
    fn name(&self) -> &str {
        "rfc8448-trace"
    }
    fn start_key_exchange(&self, group: KeyExchangeGroup) -> Result<(KeyShare, Vec<u8>), KeyError> {
        assert_eq!(group, self.group, "the trace's key exchange group");
        Ok(self
            .share
            .lock()
            .unwrap()
            .take()
            .expect("one key exchange per trace"))
    }
    fn sign(
        &self,
        _key: &PrivateKey,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let (expected, signature) = self
            .signature
            .lock()
            .unwrap()
            .take()
            .expect("one signature per trace");
        assert_eq!(
            algorithm,
            SignatureAlgorithm::RsaPssSha256,
            "the trace signs with rsa_pss_rsae_sha256"
        );
        assert!(
            message == expected,
            "the CertificateVerify input differs from the trace's"
        );
        Ok(signature)
    }
    fn new_ticket_key(&self) -> Result<TicketKey, KeyError> {
        if self.placeholder_tickets {
            return Ok(TicketKey::new(Box::new(PlaceholderTicketKey), 0));
        }
        self.inner.new_ticket_key()
    }
    fn ticket_seal(
        &self,
        key: &TicketKey,
        secret: &Secret,
        state: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        if self.placeholder_tickets {
            return Ok(vec![0xa5; 32]);
        }
        self.inner.ticket_seal(key, secret, state)
    }
    fn ticket_open(&self, key: &TicketKey, ticket: &[u8]) -> Result<(Secret, Vec<u8>), KeyError> {
        if let Some(trace) = self.ticket.lock().unwrap().take() {
            assert!(ticket == trace.ticket, "the trace's ticket");
            return Ok((trace.psk, trace.state));
        }
        if self.placeholder_tickets {
            return Err(KeyError::BadTicket);
        }
        self.inner.ticket_open(key, ticket)
    }
}

/// What a trace's server does that hsmtls does not by itself, through
/// [`HandshakeHook`]: its ServerHello.random, the EncryptedExtensions it
/// adds, and (§5) its HelloRetryRequest cookie.
#[derive(Debug)]
pub struct TraceHook {
    pub random: [u8; 32],
    pub encrypted_extensions: Vec<(ExtensionType, Vec<u8>)>,
    pub retry_cookie: Option<Vec<u8>>,
}

impl HandshakeHook for TraceHook {
    fn hello_random(&self, side: Side) -> Option<[u8; 32]> {
        (side == Side::Server).then_some(self.random)
    }
    fn encrypted_extensions(&self) -> Vec<(ExtensionType, Vec<u8>)> {
        self.encrypted_extensions.clone()
    }
    fn hello_retry_cookie(&self) -> Option<Vec<u8>> {
        self.retry_cookie.clone()
    }
}

/// §3's hook: the trace's server random, and the EncryptedExtensions
/// hsmtls does not send by itself: supported_groups (x25519, secp256r1,
/// secp384r1, secp521r1, ffdhe2048..8192) and record_size_limit 0x4001
/// (RFC 8449; 2^14 + 1 is TLS 1.3's own limit, so it promises nothing the
/// engine does not already keep).
pub fn simple_trace_hook() -> TraceHook {
    let ee = unhex(ENCRYPTED_EXTENSIONS);
    // 08 000024 | 0022 | 000a 0014 <20> | 001c 0002 <2> | 0000 0000
    TraceHook {
        random: server_random(),
        encrypted_extensions: vec![
            (ExtensionType::SupportedGroups, ee[10..30].to_vec()),
            (ExtensionType::RecordSizeLimit, ee[34..36].to_vec()),
        ],
        retry_cookie: None,
    }
}

/// A ticket of the trace's server, sealed under its own key: what opening
/// it gives (the resumption PSK, imported into the store under test, and
/// the engine's state for it).
#[derive(Debug)]
pub struct TraceTicket {
    pub ticket: Vec<u8>,
    pub psk: Secret,
    pub state: Vec<u8>,
}

/// One trace's server: the group of its key share, the share (imported
/// into the store under test), the CertificateVerify input and signature
/// it expects (none on resumption), its hook, the ticket it resumes and
/// the configuration beyond the defaults.
pub struct TraceServer {
    pub group: KeyExchangeGroup,
    pub named_group: NamedGroup,
    pub share: (KeyShare, Vec<u8>),
    pub certificate_verify: Option<(Vec<u8>, Vec<u8>)>,
    pub hook: TraceHook,
    pub ticket: Option<TraceTicket>,
    pub configure: fn(ServerConfigBuilder) -> ServerConfigBuilder,
}

/// An hsmtls server on `inner` playing the trace's server: `key` is a
/// 2048-bit RSA key of `inner` that is paired with the trace's certificate
/// and never signs (the trace's RSA key is 1024 bits, below
/// hsmtls-crypto's floor; [`TraceStore`] returns the trace's signature).
/// The server offers only the trace's suite, group and signature scheme.
pub fn trace_server_with(
    inner: Arc<dyn KeyStore>,
    trace: TraceServer,
    key: PrivateKey,
    tickets: Tickets,
) -> Connection {
    let store = Arc::new(TraceStore {
        inner,
        share: Mutex::new(Some(trace.share)),
        group: trace.group,
        signature: Mutex::new(trace.certificate_verify),
        ticket: Mutex::new(trace.ticket),
        placeholder_tickets: tickets == Tickets::Placeholder,
    });
    let certified =
        CertifiedKey::new(vec![trace_certificate_der()], Arc::new(key)).expect("certified key");
    let builder = ServerConfig::builder(store);
    let config = (trace.configure)(builder)
        .certificate(certified)
        .versions(&[ProtocolVersion::TLSv1_3])
        .expect("TLS 1.3")
        .cipher_suites(&[CipherSuite::TLS_AES_128_GCM_SHA256])
        .expect("suite")
        .groups(&[trace.named_group])
        .expect("group")
        .signature_schemes(&[SignatureScheme::rsa_pss_rsae_sha256])
        .handshake_hook(Arc::new(trace.hook))
        .build()
        .expect("server config");
    Connection::server(Arc::new(config)).expect("server")
}

/// §3's server on `inner`: `share` is the trace's x25519 key imported
/// into `inner`; see [`trace_server_with`] for `key`.
pub fn trace_server(
    inner: Arc<dyn KeyStore>,
    share: (KeyShare, Vec<u8>),
    key: PrivateKey,
    tickets: Tickets,
) -> Connection {
    assert_bytes(
        &share.1,
        &unhex(SERVER_X25519_PUBLIC),
        "the imported x25519 share",
    );
    let input = trace_certificate_verify_input(&*inner);
    let trace = TraceServer {
        group: KeyExchangeGroup::X25519,
        named_group: NamedGroup::x25519,
        share,
        certificate_verify: Some((input, unhex(CERTIFICATE_VERIFY)[8..].to_vec())),
        hook: simple_trace_hook(),
        ticket: None,
        configure: |b| b,
    };
    trace_server_with(inner, trace, key, tickets)
}

/// Replays §3 against `server` (from [`trace_server`]) and compares every
/// record it sends with the trace's, byte for byte.
pub fn replay_simple_1rtt_server(mut server: Connection) {
    deliver(&mut server, &unhex(CLIENT_HELLO_RECORD)).expect("the trace's ClientHello");
    assert_hello_and_flight(
        &take_output(&mut server),
        SERVER_HELLO_RECORD,
        SERVER_FLIGHT_RECORD,
    );

    // The trace's client Finished completes the handshake; the server then
    // sends its one NewSessionTicket (seq 0, not comparable: random nonce,
    // age_add and sealed ticket).
    deliver(&mut server, &unhex(CLIENT_FINISHED_RECORD)).expect("the trace's client Finished");
    assert!(!server.is_handshaking());
    let ticket = take_output(&mut server);
    let ticket_records = record_ranges(&ticket);
    assert_eq!(ticket_records.len(), 1, "one NewSessionTicket record");
    assert_eq!(ticket[0], 23);
    assert_eq!(&ticket[1..3], &[0x03, 0x03]);
    // The trace's ticket record is 227 octets (a 178-octet ticket, a
    // 2-octet nonce, early_data); hsmtls's differs in length as in content.
    let _ = NEW_SESSION_TICKET_RECORD_LEN;

    data_and_close_notify(
        &mut server,
        [CLIENT_APPLICATION_RECORD, SERVER_APPLICATION_RECORD],
        [CLIENT_ALERT_RECORD, SERVER_ALERT_RECORD],
    );
}

/// `out` is exactly the trace's ServerHello record and its one protected
/// record of the server's encrypted flight.
#[track_caller]
pub fn assert_hello_and_flight(out: &[u8], server_hello: &str, flight: &str) {
    let records = record_ranges(out);
    assert_eq!(records.len(), 2, "ServerHello and one protected record");
    assert_bytes(
        &out[records[0].clone()],
        &unhex(server_hello),
        "ServerHello record",
    );
    assert_bytes(
        &out[records[1].clone()],
        &unhex(flight),
        "protected record of the server's flight",
    );
}

/// The trace's 50 bytes of application data both ways under the
/// application traffic keys, then close_notify both ways: the client's
/// records (`[data, alert][0]`) accepted, the server's equal to the
/// trace's.
#[track_caller]
pub fn data_and_close_notify(server: &mut Connection, data: [&str; 2], alerts: [&str; 2]) {
    deliver(server, &unhex(data[0])).expect("client application data");
    assert_eq!(read_all(server), application_payload());
    server
        .writer()
        .write_all(&application_payload())
        .expect("write");
    assert_bytes(
        &take_output(server),
        &unhex(data[1]),
        "server application_data record",
    );
    deliver(server, &unhex(alerts[0])).expect("client close_notify");
    assert!(server.peer_has_closed());
    server.send_close_notify();
    assert_bytes(
        &take_output(server),
        &unhex(alerts[1]),
        "server close_notify record",
    );
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

/// All readable plaintext.
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

/// The byte ranges of each record in `bytes` (header included).
pub fn record_ranges(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        assert!(bytes.len() >= at + 5, "partial record header");
        let len = usize::from(u16::from_be_bytes([bytes[at + 3], bytes[at + 4]]));
        assert!(bytes.len() >= at + 5 + len, "partial record");
        out.push(at..at + 5 + len);
        at += 5 + len;
    }
    out
}
