//! TLS 1.3 (RFC 8446) between hsmtls clients and servers in memory: every
//! suite and group, HelloRetryRequest, client certificates, PSK
//! resumption, KeyUpdate, exporters, and version negotiation with TLS 1.2.

mod common;

use std::sync::Arc;

use common::*;
use hsmtls::msgs::enums::{CipherSuite, NamedGroup, ProtocolVersion};
use hsmtls::{ClientAuth, ClientConfig, ServerConfig};

const BOTH: &[ProtocolVersion] = &[ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2];
const ONLY13: &[ProtocolVersion] = &[ProtocolVersion::TLSv1_3];

fn configs13(kind: &str) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    (
        Arc::new(
            client_builder(kind)
                .versions(BOTH)
                .expect("versions")
                .build()
                .expect("client"),
        ),
        Arc::new(
            server_builder(kind)
                .versions(BOTH)
                .expect("versions")
                .build()
                .expect("server"),
        ),
    )
}

#[test]
fn full_handshake_and_data() {
    let (c, s) = configs13("ecdsa-p256");
    let (mut client, mut server) = pair(&c, &s);
    for conn in [&client, &server] {
        let n = conn.negotiated();
        assert_eq!(n.version, Some(ProtocolVersion::TLSv1_3));
        assert_eq!(n.cipher_suite, Some(CipherSuite::TLS_AES_128_GCM_SHA256));
        assert!(!n.resumed);
    }
    transfer(&mut client, &mut server, b"hello server");
    transfer(&mut server, &mut client, b"hello client");
    transfer(&mut client, &mut server, &vec![7u8; 100_000]);
    transfer(&mut server, &mut client, &vec![9u8; 100_000]);
}

fn builders(kind: &str) -> (hsmtls::ClientConfigBuilder, hsmtls::ServerConfigBuilder) {
    (
        client_builder(kind).versions(BOTH).expect("versions"),
        server_builder(kind).versions(BOTH).expect("versions"),
    )
}

/// A client whose first share (x25519) a P-384-only server cannot take:
/// every first handshake has a HelloRetryRequest. `server` adds to the
/// server's configuration.
fn retry_configs(
    server: impl FnOnce(hsmtls::ServerConfigBuilder) -> hsmtls::ServerConfigBuilder,
) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let (c, s) = builders("ecdsa-p256");
    let c = Arc::new(
        c.groups(&[NamedGroup::x25519, NamedGroup::secp384r1])
            .expect("groups")
            .build()
            .expect("client"),
    );
    let s = Arc::new(
        server(s.groups(&[NamedGroup::secp384r1]).expect("group"))
            .build()
            .expect("server"),
    );
    (c, s)
}

#[test]
fn every_suite_group_and_key() {
    let suites = [
        CipherSuite::TLS_AES_128_GCM_SHA256,
        CipherSuite::TLS_AES_256_GCM_SHA384,
        CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
    ];
    let groups = [
        NamedGroup::x25519,
        NamedGroup::secp256r1,
        NamedGroup::secp384r1,
        NamedGroup::secp521r1,
        NamedGroup::brainpoolP256r1tls13,
        NamedGroup::brainpoolP384r1tls13,
        NamedGroup::brainpoolP512r1tls13,
    ];
    for kind in ALL_KINDS {
        for suite in suites {
            for group in groups {
                let (c, s) = builders(kind);
                let c = Arc::new(
                    c.cipher_suites(&[suite])
                        .expect("suite")
                        .groups(&[group])
                        .expect("group")
                        .build()
                        .expect("client"),
                );
                let s = Arc::new(
                    s.cipher_suites(&[suite])
                        .expect("suite")
                        .groups(&[group])
                        .expect("group")
                        .build()
                        .expect("server"),
                );
                let (mut client, mut server) = pair(&c, &s);
                let n = client.negotiated();
                assert_eq!(
                    n.version,
                    Some(ProtocolVersion::TLSv1_3),
                    "{kind} {suite:?} {group:?}"
                );
                assert_eq!(n.cipher_suite, Some(suite));
                assert_eq!(n.group, Some(group));
                transfer(&mut client, &mut server, b"ping");
                transfer(&mut server, &mut client, b"pong");
            }
        }
    }
}

#[test]
fn brainpool_code_points_map_between_versions() {
    // Configured with the TLS 1.2 name, TLS 1.3 uses the RFC 8734 one.
    let (c, s) = builders("brainpoolP256r1");
    let c = Arc::new(
        c.groups(&[NamedGroup::brainpoolP256r1])
            .expect("group")
            .build()
            .expect("client"),
    );
    let s = Arc::new(
        s.groups(&[NamedGroup::brainpoolP256r1])
            .expect("group")
            .build()
            .expect("server"),
    );
    let (client, _server) = pair(&c, &s);
    assert_eq!(
        client.negotiated().group,
        Some(NamedGroup::brainpoolP256r1tls13)
    );
}

#[test]
fn hello_retry_request_when_the_share_does_not_fit() {
    // The client's first share is for x25519; the server only takes P-384.
    let (c, s) = retry_configs(|b| b);
    let (mut client, mut server) = pair(&c, &s);
    assert_eq!(client.negotiated().group, Some(NamedGroup::secp384r1));
    assert_eq!(server.negotiated().group, Some(NamedGroup::secp384r1));
    transfer(&mut client, &mut server, b"after retry");
}

/// Counts the ClientHellos a server receives (two: a HelloRetryRequest
/// happened).
#[derive(Debug, Default)]
struct ClientHellos(std::sync::atomic::AtomicUsize);

impl hsmtls::hooks::HandshakeHook for ClientHellos {
    fn on_message(
        &self,
        side: hsmtls::Side,
        direction: hsmtls::hooks::Direction,
        typ: hsmtls::msgs::enums::HandshakeType,
        _: &[u8],
    ) -> Result<(), hsmtls::hooks::HookVeto> {
        if side == hsmtls::Side::Server
            && direction == hsmtls::hooks::Direction::Received
            && typ == hsmtls::msgs::enums::HandshakeType::ClientHello
        {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }
}

#[test]
fn a_resuming_client_leads_with_the_group_the_server_chose() {
    let hellos = Arc::new(ClientHellos::default());
    let (c, s) = retry_configs(|b| b.handshake_hook(hellos.clone()));
    let count = || hellos.0.load(std::sync::atomic::Ordering::Relaxed);
    // First contact: the x25519 share does not fit, one retry.
    let (mut client, mut server) = pair(&c, &s);
    transfer(&mut server, &mut client, b"ticket comes first");
    assert!(client.negotiated().ticket_issued);
    assert_eq!(count(), 2, "ClientHello, retry, ClientHello");
    // Resuming (psk_dhe_ke): the ClientHello leads with a P-384 share.
    let (client, _server) = pair(&c, &s);
    assert!(client.negotiated().resumed);
    assert_eq!(client.negotiated().group, Some(NamedGroup::secp384r1));
    assert_eq!(count(), 3, "no second retry");
}

/// RFC 8446 §4.2.2: a server configured for cookies puts 32 bytes in its
/// HelloRetryRequest; the client echoes them and the handshake completes;
/// a changed or missing echo ends it.
#[test]
fn hello_retry_request_cookie() {
    let configs = || retry_configs(|b| b.hello_retry_cookie(true));
    // cookie (44), 34 bytes: a 32-byte cookie.
    const COOKIE_EXT: [u8; 6] = [0x00, 0x2c, 0x00, 0x22, 0x00, 0x20];
    let (c, s) = configs();
    let (mut client, mut server) = connections(&c, &s);
    let mut seen = Vec::new();
    let outcome = run_with_tamper(&mut client, &mut server, |dir, i, bytes| {
        if (dir, i) == (Direction::ToClient, 0) {
            seen = bytes.clone();
        }
    });
    outcome.expect_complete();
    assert!(
        seen.windows(6).any(|w| w == COOKIE_EXT),
        "the HelloRetryRequest carries a cookie"
    );
    assert_eq!(client.negotiated().group, Some(NamedGroup::secp384r1));
    transfer(&mut client, &mut server, b"after a cookie");

    // The second ClientHello's cookie changed: illegal_parameter.
    let (c, s) = configs();
    let (mut client, mut server) = connections(&c, &s);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, i, bytes| {
        if (dir, i) == (Direction::ToServer, 1) {
            let at = bytes
                .windows(6)
                .position(|w| w == COOKIE_EXT)
                .expect("the echoed cookie");
            bytes[at + 6] ^= 1;
        }
    });
    assert_eq!(
        outcome.server.as_ref().and_then(|e| e.alert()),
        Some(hsmtls::msgs::enums::AlertDescription::IllegalParameter),
        "{outcome:?}"
    );

    // A server without cookies sends none.
    let (c, s) = retry_configs(|b| b);
    let (mut client, mut server) = connections(&c, &s);
    let mut seen = Vec::new();
    run_with_tamper(&mut client, &mut server, |dir, i, bytes| {
        if (dir, i) == (Direction::ToClient, 0) {
            seen = bytes.clone();
        }
    })
    .expect_complete();
    assert!(!seen.windows(6).any(|w| w == COOKIE_EXT));
}

/// A cookie chosen by the application (`HandshakeHook::hello_retry_cookie`)
/// goes out in the HelloRetryRequest even with `hello_retry_cookie` off,
/// the client echoes it and the handshake completes; an empty one is the
/// application's mistake and ends the handshake with a local error.
#[test]
fn hello_retry_request_cookie_from_the_hook() {
    #[derive(Debug)]
    struct CookieHook(Vec<u8>);
    impl hsmtls::hooks::HandshakeHook for CookieHook {
        fn hello_retry_cookie(&self) -> Option<Vec<u8>> {
            Some(self.0.clone())
        }
    }
    let configs =
        |cookie: Vec<u8>| retry_configs(|b| b.handshake_hook(Arc::new(CookieHook(cookie))));
    let cookie: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let (c, s) = configs(cookie.clone());
    let (mut client, mut server) = connections(&c, &s);
    let mut retry = Vec::new();
    let mut second = Vec::new();
    run_with_tamper(&mut client, &mut server, |dir, i, bytes| match (dir, i) {
        (Direction::ToClient, 0) => retry = bytes.clone(),
        (Direction::ToServer, 1) => second = bytes.clone(),
        _ => {}
    })
    .expect_complete();
    assert!(
        retry.windows(cookie.len()).any(|w| w == cookie),
        "cookie sent"
    );
    assert!(
        second.windows(cookie.len()).any(|w| w == cookie),
        "cookie echoed"
    );
    transfer(&mut client, &mut server, b"after the hook's cookie");

    let (c, s) = configs(Vec::new());
    let (mut client, mut server) = connections(&c, &s);
    let outcome = run_with_tamper(&mut client, &mut server, |_, _, _| {});
    assert!(
        matches!(outcome.server, Some(hsmtls::Error::InvalidState(_))),
        "{outcome:?}"
    );
}

#[test]
fn client_certificates() {
    for kind in ALL_KINDS {
        let store = store();
        let c = Arc::new(
            client_builder_with(store.clone(), kind)
                .versions(BOTH)
                .expect("versions")
                .client_certificate(certified_key(&store, kind, "client"))
                .build()
                .expect("client"),
        );
        let (_, s) = builders(kind);
        let s = Arc::new(
            s.client_auth(ClientAuth::Require, vec![ca(kind)])
                .build()
                .expect("server"),
        );
        let (mut client, mut server) = pair(&c, &s);
        assert_eq!(server.negotiated().peer_certificates.len(), 2, "{kind}");
        transfer(&mut client, &mut server, b"authenticated");
    }
    // Required but absent: certificate_required (RFC 8446 §4.4.2.4).
    let (c, s) = builders("ecdsa-p256");
    let c = Arc::new(c.build().expect("client"));
    let s = Arc::new(
        s.client_auth(ClientAuth::Require, vec![ca("ecdsa-p256")])
            .build()
            .expect("server"),
    );
    let (mut client, mut server) = connections(&c, &s);
    let outcome = run(&mut client, &mut server);
    assert_eq!(
        outcome.server.as_ref().and_then(|e| e.alert()),
        Some(hsmtls::msgs::enums::AlertDescription::CertificateRequired),
        "{outcome:?}"
    );
    // Requested and absent: fine.
    let (c, s) = builders("ecdsa-p256");
    let c = Arc::new(c.build().expect("client"));
    let s = Arc::new(
        s.client_auth(ClientAuth::Request, vec![ca("ecdsa-p256")])
            .build()
            .expect("server"),
    );
    let (_client, server) = pair(&c, &s);
    assert!(server.negotiated().peer_certificates.is_empty());
}

#[test]
fn psk_resumption_with_tickets() {
    let (c, s) = configs13("ecdsa-p256");
    let (mut client, mut server) = pair(&c, &s);
    // The ticket travels after the handshake, ahead of the server's data.
    transfer(&mut server, &mut client, b"ticket comes first");
    assert!(client.negotiated().ticket_issued);
    let (mut client, mut server) = pair(&c, &s);
    assert!(client.negotiated().resumed, "{:?}", client.negotiated());
    assert!(server.negotiated().resumed);
    assert_eq!(client.negotiated().version, Some(ProtocolVersion::TLSv1_3));
    transfer(&mut client, &mut server, b"resumed");
}

#[test]
fn key_update_both_directions() {
    let (c, s) = configs13("ecdsa-p256");
    let (mut client, mut server) = pair(&c, &s);
    for _ in 0..3 {
        client.refresh_traffic_keys().expect("client key update");
        transfer(&mut client, &mut server, b"after client update");
        // The server answered update_requested with its own KeyUpdate.
        transfer(&mut server, &mut client, b"after server update");
        server.refresh_traffic_keys().expect("server key update");
        transfer(&mut server, &mut client, b"server again");
        transfer(&mut client, &mut server, b"client again");
    }
}

#[test]
fn exporters_agree() {
    let (c, s) = configs13("ecdsa-p256");
    let (client, server) = pair(&c, &s);
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    client
        .export_keying_material(&mut a, b"EXPORTER-test", Some(b"ctx"))
        .expect("export");
    server
        .export_keying_material(&mut b, b"EXPORTER-test", Some(b"ctx"))
        .expect("export");
    assert_eq!(a, b);
    let mut c2 = [0u8; 32];
    client
        .export_keying_material(&mut c2, b"EXPORTER-other", Some(b"ctx"))
        .expect("export");
    assert_ne!(a, c2);
}

#[test]
fn version_negotiation() {
    // TLS 1.3 client, TLS 1.2-only server: TLS 1.2.
    let c = Arc::new(
        client_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("v")
            .build()
            .expect("client"),
    );
    let s = Arc::new(server_builder("ecdsa-p256").build().expect("server"));
    let (client, _) = pair(&c, &s);
    assert_eq!(client.negotiated().version, Some(ProtocolVersion::TLSv1_2));
    // TLS 1.3-only client, TLS 1.2-only server: no handshake.
    let c = Arc::new(
        client_builder("ecdsa-p256")
            .versions(ONLY13)
            .expect("v")
            .build()
            .expect("client"),
    );
    let (mut client, mut server) = connections(&c, &s);
    let outcome = run(&mut client, &mut server);
    assert!(!outcome.complete, "{outcome:?}");
    // TLS 1.2-only client, TLS 1.3-only server: protocol_version.
    let c = Arc::new(client_builder("ecdsa-p256").build().expect("client"));
    let s = Arc::new(
        server_builder("ecdsa-p256")
            .versions(ONLY13)
            .expect("v")
            .build()
            .expect("server"),
    );
    let (mut client, mut server) = connections(&c, &s);
    let outcome = run(&mut client, &mut server);
    outcome.expect_alert(
        hsmtls::Side::Server,
        hsmtls::msgs::enums::AlertDescription::ProtocolVersion,
    );
}

#[test]
fn downgrade_sentinel_is_refused() {
    // An attacker hides supported_versions so that a TLS 1.3-capable
    // server answers with TLS 1.2: the server marks its random, and the
    // TLS 1.3 client refuses (RFC 8446 §4.1.3).
    let c = Arc::new(
        client_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("v")
            .build()
            .expect("client"),
    );
    let s = Arc::new(
        server_builder("ecdsa-p256")
            .versions(BOTH)
            .expect("v")
            .build()
            .expect("server"),
    );
    let (mut client, mut server) = connections(&c, &s);
    let outcome = run_with_tamper(&mut client, &mut server, |dir, index, bytes| {
        if dir == Direction::ToServer && index == 0 {
            // supported_versions (0x002b) with a 3-byte body of one version.
            if let Some(pos) = bytes.windows(4).position(|w| w == [0x00, 0x2b, 0x00, 0x05]) {
                bytes[pos + 1] = 0xfe;
            }
        }
    });
    let err = outcome.client.as_ref().expect("client refuses");
    assert_eq!(
        err.alert(),
        Some(hsmtls::msgs::enums::AlertDescription::IllegalParameter),
        "{outcome:?}"
    );
}
