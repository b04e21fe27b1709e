//! TLS helpers shared by the handshake tests: the test PKI, in-memory
//! handshakes with hsmtls::Connection, configurations.

use std::io::{Read, Write};
use std::sync::Arc;

use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
use hsmtls::{CertifiedKey, ClientConfig, Connection, ServerConfig};
use hsmtls_keys::{KeyStore, PrivateKey};

pub fn pem_certs(pem: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut b64 = String::new();
    let mut inside = false;
    for line in pem.lines() {
        if line.starts_with("-----BEGIN CERTIFICATE") {
            inside = true;
            b64.clear();
        } else if line.starts_with("-----END CERTIFICATE") {
            inside = false;
            out.push(base64(&b64));
        } else if inside {
            b64.push_str(line.trim());
        }
    }
    out
}

fn base64(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => break,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

pub struct Pki {
    pub chain: Vec<Vec<u8>>,
    pub key: &'static [u8],
    pub ca: &'static [u8],
}

pub fn pki(p384: bool) -> Pki {
    if p384 {
        Pki {
            chain: pem_certs(include_str!(
                "../../../../testdata/pki/ecdsa-p384/server.chain.pem"
            )),
            key: include_bytes!("../../../../testdata/pki/ecdsa-p384/server.key"),
            ca: include_bytes!("../../../../testdata/pki/ecdsa-p384/ca.der"),
        }
    } else {
        Pki {
            chain: pem_certs(include_str!(
                "../../../../testdata/pki/ecdsa-p256/server.chain.pem"
            )),
            key: include_bytes!("../../../../testdata/pki/ecdsa-p256/server.key"),
            ca: include_bytes!("../../../../testdata/pki/ecdsa-p256/ca.der"),
        }
    }
}

pub fn transfer(from: &mut Connection, to: &mut Connection) {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf).unwrap();
    }
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
        to.process_new_packets().unwrap();
    }
}

/// Runs one handshake and an application-data round trip.
pub fn handshake(
    client: &Arc<ClientConfig>,
    server: &Arc<ServerConfig>,
    etm: bool,
) -> (Connection, Connection) {
    let mut c = Connection::client(client.clone(), "localhost").unwrap();
    let mut s = Connection::server(server.clone()).unwrap();
    for _ in 0..10 {
        if !c.is_handshaking() && !s.is_handshaking() {
            break;
        }
        transfer(&mut c, &mut s);
        transfer(&mut s, &mut c);
    }
    assert!(
        !c.is_handshaking() && !s.is_handshaking(),
        "handshake did not finish"
    );
    assert!(c.negotiated().extended_master_secret, "EMS negotiated");
    let suite = c.negotiated().cipher_suite.unwrap();
    if suite.as_str().contains("CBC") {
        assert_eq!(c.negotiated().encrypt_then_mac, etm, "{suite:?}");
    }
    c.writer().write_all(b"ping from the client").unwrap();
    transfer(&mut c, &mut s);
    let mut got = [0u8; 64];
    let n = s.reader().read(&mut got).unwrap();
    assert_eq!(&got[..n], b"ping from the client");
    s.writer().write_all(b"pong from the server").unwrap();
    transfer(&mut s, &mut c);
    let n = c.reader().read(&mut got).unwrap();
    assert_eq!(&got[..n], b"pong from the server");
    (c, s)
}

pub const SUITES: [&str; 4] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
];

#[allow(clippy::too_many_arguments)]
pub fn configs(
    client_store: Arc<dyn KeyStore>,
    server_store: Arc<dyn KeyStore>,
    server_key: PrivateKey,
    pki: &Pki,
    suite: CipherSuite,
    group: NamedGroup,
    etm: bool,
) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let certified = CertifiedKey::new(pki.chain.clone(), Arc::new(server_key)).unwrap();
    let server = ServerConfig::builder(server_store)
        .certificate(certified)
        .cipher_suites(&[suite])
        .unwrap()
        .groups(&[group])
        .unwrap()
        .encrypt_then_mac(etm)
        .session_tickets(false)
        .session_cache_size(0)
        .build()
        .unwrap();
    let client = ClientConfig::builder(client_store)
        .root_certificates(vec![pki.ca.to_vec()])
        .cipher_suites(&[suite])
        .unwrap()
        .groups(&[group])
        .unwrap()
        .encrypt_then_mac(etm)
        .require_extended_master_secret(true)
        .session_tickets(false)
        .session_cache_size(0)
        .build()
        .unwrap();
    (Arc::new(client), Arc::new(server))
}
