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
use std::sync::{Arc, Mutex};

use common::tls::{configs, handshake, pki, SUITES};
use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
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

/// The session pool under concurrent connections: four threads share one
/// store (the server's, key in NSS) and run handshakes at once.
#[test]
fn concurrent_handshakes_share_the_store() {
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let Some(nss) = common::nss() else { return };
    let nss = Arc::new(nss);
    let pki = pki(false);
    let key = nss
        .import_private_key(pki.key, "concurrent", b"\xcc")
        .unwrap();
    let baseline = nss.session_object_count().unwrap();
    let suite = CipherSuite::from_name(SUITES[2]).unwrap();
    let (client, server) = configs(
        Arc::new(SoftStore::new()),
        nss.clone(),
        key,
        &pki,
        suite,
        NamedGroup::secp256r1,
        true,
    );
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (client, server) = (client.clone(), server.clone());
            std::thread::spawn(move || {
                for _ in 0..5 {
                    handshake(&client, &server, true);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a handshake thread panicked");
    }
    drop((client, server));
    assert_eq!(nss.session_object_count().unwrap(), baseline - 1);
}
