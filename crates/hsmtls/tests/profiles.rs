//! The TR-03109 profile (`hsmtls::profiles`): what it negotiates with
//! itself, and what it refuses — TLS 1.3, a CBC suite without
//! encrypt-then-MAC, no extended master secret, no client certificate,
//! suites and groups outside the profile.

mod common;

use std::sync::Arc;

use common::{ca, certified_key, connections, run, store};
use hsmtls::msgs::enums::{AlertDescription, CipherSuite, NamedGroup, ProtocolVersion};
use hsmtls::profiles::{tr03109_client, tr03109_server, TR03109_GROUPS, TR03109_SUITES};
use hsmtls::{ClientConfig, ServerConfig, Side};

const KIND: &str = "brainpoolP256r1";

fn tr_client() -> hsmtls::ClientConfigBuilder {
    let s = store();
    let key = certified_key(&s, KIND, "client");
    tr03109_client(s, vec![ca(KIND)], key).unwrap()
}

fn tr_server() -> hsmtls::ServerConfigBuilder {
    let s = store();
    let key = certified_key(&s, KIND, "server");
    tr03109_server(s, key, vec![ca(KIND)]).unwrap()
}

#[test]
fn every_suite_and_group_with_itself() {
    for suite in TR03109_SUITES {
        for group in TR03109_GROUPS {
            let client = Arc::new(
                tr_client()
                    .cipher_suites(&[suite])
                    .unwrap()
                    .groups(&[group])
                    .unwrap()
                    .build()
                    .unwrap(),
            );
            let server = Arc::new(tr_server().build().unwrap());
            let (mut c, mut s) = connections(&client, &server);
            run(&mut c, &mut s).expect_complete();
            let n = c.negotiated();
            assert_eq!(n.version, Some(ProtocolVersion::TLSv1_2));
            assert_eq!(n.cipher_suite, Some(suite));
            assert_eq!(n.group, Some(group));
            assert!(n.extended_master_secret);
            let cbc = suite.as_str().contains("CBC");
            assert_eq!(n.encrypt_then_mac, cbc, "{suite:?}");
            assert!(
                !s.negotiated().peer_certificates.is_empty(),
                "the server saw the gateway's certificate"
            );
        }
    }
}

/// A default client (TLS 1.3 and 1.2, everything offered) gets TLS 1.2
/// and a profile suite; without a client certificate it is refused.
#[test]
fn server_refuses_what_the_profile_excludes() {
    let server = Arc::new(tr_server().build().unwrap());
    // No client certificate: handshake_failure from the server.
    let client = Arc::new(
        ClientConfig::builder(store())
            .root_certificates(vec![ca(KIND)])
            .build()
            .unwrap(),
    );
    let (mut c, mut s) = connections(&client, &server);
    let outcome = run(&mut c, &mut s);
    assert!(outcome.server.is_some(), "{outcome:?}");
    assert!(!outcome.complete);

    // A CBC-only client without encrypt-then-MAC: no suite in common.
    let cs = store();
    let key = certified_key(&cs, KIND, "client");
    let client = Arc::new(
        ClientConfig::builder(cs)
            .root_certificates(vec![ca(KIND)])
            .client_certificate(key)
            .cipher_suites(&[CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256])
            .unwrap()
            .encrypt_then_mac(false)
            .build()
            .unwrap(),
    );
    let (mut c, mut s) = connections(&client, &server);
    run(&mut c, &mut s).expect_alert(Side::Server, AlertDescription::HandshakeFailure);

    // With GCM also offered, the server picks GCM instead.
    let cs = store();
    let key = certified_key(&cs, KIND, "client");
    let client = Arc::new(
        ClientConfig::builder(cs)
            .root_certificates(vec![ca(KIND)])
            .client_certificate(key)
            .cipher_suites(&[
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            ])
            .unwrap()
            .encrypt_then_mac(false)
            .build()
            .unwrap(),
    );
    let (mut c, mut s) = connections(&client, &server);
    run(&mut c, &mut s).expect_complete();
    assert_eq!(
        c.negotiated().cipher_suite,
        Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
    );

    // No extended master secret.
    let cs = store();
    let key = certified_key(&cs, KIND, "client");
    let client = Arc::new(
        ClientConfig::builder(cs)
            .root_certificates(vec![ca(KIND)])
            .client_certificate(key)
            .extended_master_secret(false)
            .build()
            .unwrap(),
    );
    let (mut c, mut s) = connections(&client, &server);
    run(&mut c, &mut s).expect_alert(Side::Server, AlertDescription::HandshakeFailure);

    // A group outside the profile (X25519 only).
    let cs = store();
    let key = certified_key(&cs, KIND, "client");
    let client = Arc::new(
        ClientConfig::builder(cs)
            .root_certificates(vec![ca(KIND)])
            .client_certificate(key)
            .versions(&[ProtocolVersion::TLSv1_2])
            .unwrap()
            .groups(&[NamedGroup::x25519])
            .unwrap()
            .build()
            .unwrap(),
    );
    let (mut c, mut s) = connections(&client, &server);
    run(&mut c, &mut s).expect_alert(Side::Server, AlertDescription::HandshakeFailure);
}

/// The profile's client against a server that chooses a CBC suite without
/// encrypt-then-MAC: handshake_failure from the client.
#[test]
fn client_refuses_cbc_without_etm() {
    let ss = store();
    let key = certified_key(&ss, KIND, "server");
    let server = Arc::new(
        ServerConfig::builder(ss)
            .certificate(key)
            .cipher_suites(&[CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256])
            .unwrap()
            .encrypt_then_mac(false)
            .build()
            .unwrap(),
    );
    let client = Arc::new(tr_client().build().unwrap());
    let (mut c, mut s) = connections(&client, &server);
    run(&mut c, &mut s).expect_alert(Side::Client, AlertDescription::HandshakeFailure);
}

/// The profile's client offers TLS 1.2 only.
#[test]
fn client_offers_tls12_only() {
    let ss = store();
    let key = certified_key(&ss, KIND, "server");
    let server = Arc::new(
        ServerConfig::builder(ss)
            .certificate(key)
            .versions(&[ProtocolVersion::TLSv1_3])
            .unwrap()
            .build()
            .unwrap(),
    );
    let client = Arc::new(tr_client().build().unwrap());
    let (mut c, mut s) = connections(&client, &server);
    let outcome = run(&mut c, &mut s);
    assert!(!outcome.complete, "{outcome:?}");
    assert_eq!(
        outcome.error(Side::Server).and_then(|e| e.alert()),
        Some(AlertDescription::ProtocolVersion)
    );
}
