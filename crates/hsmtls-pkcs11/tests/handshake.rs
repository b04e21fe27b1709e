//! Full TLS 1.2 handshakes in memory between an hsmtls peer on the PKCS#11
//! store (NSS softoken, strict: every secret in NSS's module) and one on
//! the software store, both ways, for GCM and CBC (encrypt-then-MAC and
//! MAC-then-encrypt) suites on secp256r1 and secp384r1, the server's key
//! in the token when the server is on it. After each handshake the token
//! holds no session object the connection made, and while the handshake
//! ran every secret object it created was sensitive, not extractable,
//! and refused `CKA_VALUE` with `CKR_ATTRIBUTE_SENSITIVE`.

mod common;

use std::sync::{Arc, Mutex};

use common::audit::{check_isolation, Auditing};
use common::tls::{configs, handshake, pki, SUITES};
use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
use hsmtls_soft::SoftStore;

/// One test at a time on the token: the session-object count is
/// per application, shared by every store on the module.
static TOKEN: Mutex<()> = Mutex::new(());

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
                    let auditing = Arc::new(Auditing::new(nss.clone()));
                    let suite = CipherSuite::from_name(suite_name).unwrap();
                    let (client, server) = if token_is_client {
                        let key = soft.import_private_key(pki.key).unwrap();
                        configs(auditing.clone(), soft.clone(), key, &pki, suite, group, etm)
                    } else {
                        // Found by its PKCS#11 URI, as an application would.
                        let key = nss.private_key(uri).expect("the server key by URI");
                        configs(soft.clone(), auditing.clone(), key, &pki, suite, group, etm)
                    };
                    let (c, s) = handshake(&client, &server, etm);
                    // Strict: nothing relaxed, on either side.
                    assert!(c.negotiated().relaxations.is_empty());
                    assert!(s.negotiated().relaxations.is_empty());
                    drop((c, s, client, server));
                    check_isolation(&auditing.audits(), &what);
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
