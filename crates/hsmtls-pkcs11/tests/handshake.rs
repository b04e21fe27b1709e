//! Full TLS 1.2 handshakes in memory between an hsmtls peer on the PKCS#11
//! store (NSS softoken, strict: every secret in NSS's module) and one on
//! the software store, both ways, for GCM and CBC (encrypt-then-MAC and
//! MAC-then-encrypt) suites on secp256r1 and secp384r1, the server's key
//! in the token when the server is on it. After each handshake the token
//! holds no session object the connection made, and while the handshake
//! ran every secret object it created was sensitive, not extractable,
//! and refused `CKA_VALUE` with `CKR_ATTRIBUTE_SENSITIVE`.

mod common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
use hsmtls::{CertifiedKey, ClientConfig, Connection, ServerConfig};
use hsmtls_keys::{
    Capabilities, FinishedLabel, HashAlgorithm, Hasher, KeyError, KeyExchangeGroup, KeyShare,
    KeyStore, MasterSecretSeed, PrivateKey, PublicKey, RandomLevel, RecordCipher, Secret,
    SignatureAlgorithm, TicketKey, Tls12TrafficKeys,
};
use hsmtls_pkcs11::{ObjectAudit, ObjectKind, Pkcs11Store};
use hsmtls_soft::SoftStore;

/// `CKR_ATTRIBUTE_SENSITIVE` (PKCS#11 v2.40 §5.1).
const CKR_ATTRIBUTE_SENSITIVE: u64 = 0x11;

/// One test at a time on the token: the session-object count is
/// per application, shared by every store on the module.
static TOKEN: Mutex<()> = Mutex::new(());

fn pem_certs(pem: &str) -> Vec<Vec<u8>> {
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

struct Pki {
    chain: Vec<Vec<u8>>,
    key: &'static [u8],
    ca: &'static [u8],
}

fn pki(p384: bool) -> Pki {
    if p384 {
        Pki {
            chain: pem_certs(include_str!(
                "../../../testdata/pki/ecdsa-p384/server.chain.pem"
            )),
            key: include_bytes!("../../../testdata/pki/ecdsa-p384/server.key"),
            ca: include_bytes!("../../../testdata/pki/ecdsa-p384/ca.der"),
        }
    } else {
        Pki {
            chain: pem_certs(include_str!(
                "../../../testdata/pki/ecdsa-p256/server.chain.pem"
            )),
            key: include_bytes!("../../../testdata/pki/ecdsa-p256/server.key"),
            ca: include_bytes!("../../../testdata/pki/ecdsa-p256/ca.der"),
        }
    }
}

/// Forwards to the PKCS#11 store and, at the points where the handshake's
/// secrets are alive, reads their protection from the token.
#[derive(Debug)]
struct Auditing {
    inner: Arc<Pkcs11Store>,
    audits: Mutex<Vec<ObjectAudit>>,
}

impl Auditing {
    fn audit(&self) {
        let found = self.inner.audit_live_objects().expect("audit the token");
        self.audits.lock().unwrap().extend(found);
    }
}

impl KeyStore for Auditing {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn random(&self, level: RandomLevel, out: &mut [u8]) -> Result<(), KeyError> {
        self.inner.random(level, out)
    }
    fn hasher(&self, algorithm: HashAlgorithm) -> Result<Box<dyn Hasher>, KeyError> {
        self.inner.hasher(algorithm)
    }
    fn start_key_exchange(&self, group: KeyExchangeGroup) -> Result<(KeyShare, Vec<u8>), KeyError> {
        let r = self.inner.start_key_exchange(group);
        self.audit();
        r
    }
    fn complete_key_exchange(&self, share: KeyShare, peer: &[u8]) -> Result<Secret, KeyError> {
        self.audit();
        self.inner.complete_key_exchange(share, peer)
    }
    fn tls12_master_secret(
        &self,
        pre_master: Secret,
        prf: HashAlgorithm,
        seed: MasterSecretSeed<'_>,
    ) -> Result<Secret, KeyError> {
        self.audit(); // the pre-master is alive
        self.inner.tls12_master_secret(pre_master, prf, seed)
    }
    fn tls12_verify_data(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: FinishedLabel,
        hash: &[u8],
    ) -> Result<[u8; 12], KeyError> {
        self.audit(); // master and traffic keys are alive
        self.inner.tls12_verify_data(master, prf, label, hash)
    }
    fn tls12_traffic_keys(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        cipher: RecordCipher,
    ) -> Result<Tls12TrafficKeys, KeyError> {
        let r = self
            .inner
            .tls12_traffic_keys(master, prf, client_random, server_random, cipher);
        self.audit();
        r
    }
    fn tls12_export(
        &self,
        master: &Secret,
        prf: HashAlgorithm,
        label: &[u8],
        seed: &[u8],
        out: &mut [u8],
    ) -> Result<(), KeyError> {
        self.inner.tls12_export(master, prf, label, seed, out)
    }
    fn sign(
        &self,
        key: &PrivateKey,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        self.inner.sign(key, algorithm, message)
    }
    fn verify(
        &self,
        key: &PublicKey<'_>,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError> {
        self.inner.verify(key, algorithm, message, signature)
    }
    fn new_ticket_key(&self) -> Result<TicketKey, KeyError> {
        self.inner.new_ticket_key()
    }
    fn ticket_seal(
        &self,
        key: &TicketKey,
        secret: &Secret,
        state: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        self.inner.ticket_seal(key, secret, state)
    }
    fn ticket_open(&self, key: &TicketKey, ticket: &[u8]) -> Result<(Secret, Vec<u8>), KeyError> {
        self.inner.ticket_open(key, ticket)
    }
}

fn transfer(from: &mut Connection, to: &mut Connection) {
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
fn handshake(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>, etm: bool) {
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
}

const SUITES: [&str; 4] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
];

fn configs(
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

fn check_isolation(audits: &[ObjectAudit], what: &str) {
    assert!(!audits.is_empty(), "{what}: no secret object audited");
    for a in audits {
        assert_eq!(a.sensitive, Some(true), "{what}: {a:?} not CKA_SENSITIVE");
        assert_eq!(a.extractable, Some(false), "{what}: {a:?} CKA_EXTRACTABLE");
        assert_eq!(
            a.value_rv, CKR_ATTRIBUTE_SENSITIVE,
            "{what}: CKA_VALUE of {a:?} not refused with CKR_ATTRIBUTE_SENSITIVE"
        );
    }
    let kinds: HashSet<ObjectKind> = audits.iter().map(|a| a.kind).collect();
    for kind in [
        ObjectKind::KeyShare,
        ObjectKind::PreMaster,
        ObjectKind::Master,
        ObjectKind::TrafficKey,
    ] {
        assert!(kinds.contains(&kind), "{what}: no {kind:?} was seen alive");
    }
    if what.contains("CBC") {
        assert!(
            kinds.contains(&ObjectKind::MacKey),
            "{what}: no MAC key seen"
        );
    }
}

/// `token_is_client`: the hsmtls client runs on NSS and the server on the
/// software store; otherwise the server runs on NSS with its key in NSS.
fn run_matrix(token_is_client: bool) {
    // Before opening: opening probes the curves with transient key pairs.
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let Some(nss) = common::nss() else { return };
    let nss = Arc::new(nss);
    let soft = Arc::new(SoftStore::new());
    for p384 in [false, true] {
        let pki = pki(p384);
        // The server's long-term key: in NSS when the server is on NSS.
        let server_key_in_nss = (!token_is_client).then(|| {
            nss.import_private_key(pki.key, "server", if p384 { b"\x84" } else { b"\x56" })
                .expect("import the server key into NSS")
        });
        let uri = if p384 {
            "pkcs11:object=server;type=private;id=%84"
        } else {
            "pkcs11:object=server;type=private;id=%56"
        };
        let baseline = nss.session_object_count().unwrap();
        for suite_name in SUITES {
            for group in [NamedGroup::secp256r1, NamedGroup::secp384r1] {
                let etms: &[bool] = if suite_name.contains("CBC") {
                    &[true, false]
                } else {
                    &[true]
                };
                for &etm in etms {
                    let what = format!(
                        "{} {suite_name} {group:?} etm={etm} cert {}",
                        if token_is_client {
                            "NSS client"
                        } else {
                            "NSS server"
                        },
                        if p384 { "P-384" } else { "P-256" }
                    );
                    let auditing = Arc::new(Auditing {
                        inner: nss.clone(),
                        audits: Mutex::new(Vec::new()),
                    });
                    let suite = CipherSuite::from_name(suite_name).unwrap();
                    let (client, server) = if token_is_client {
                        let key = soft.import_private_key(pki.key).unwrap();
                        configs(auditing.clone(), soft.clone(), key, &pki, suite, group, etm)
                    } else {
                        // Found by its PKCS#11 URI, as an application would.
                        let key = nss.private_key(uri).expect("the server key by URI");
                        configs(soft.clone(), auditing.clone(), key, &pki, suite, group, etm)
                    };
                    handshake(&client, &server, etm);
                    drop((client, server));
                    check_isolation(&auditing.audits.lock().unwrap(), &what);
                    assert_eq!(
                        nss.session_object_count().unwrap(),
                        baseline,
                        "{what}: session objects left behind in the token"
                    );
                    eprintln!("ok: {what}");
                }
            }
        }
        drop(server_key_in_nss);
    }
}

#[test]
fn nss_client_against_soft_server() {
    run_matrix(true);
}

#[test]
fn soft_client_against_nss_server() {
    run_matrix(false);
}
