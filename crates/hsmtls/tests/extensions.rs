//! Application-registered hello extensions (`hsmtls::extensions`) in TLS 1.2
//! and TLS 1.3: offered and answered, offered and not answered, vetoes on
//! either side, configuration errors, answers to absent offers dropped,
//! peers that do not know the extension, resumption and HelloRetryRequest.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use hsmtls::extensions::{HelloExtension, BUILT_IN};
use hsmtls::hooks::HookVeto;
use hsmtls::msgs::enums::{AlertDescription, ExtensionType, NamedGroup, ProtocolVersion};
use hsmtls::{ClientConfigBuilder, Error, ServerConfigBuilder, Side};

const TOY: ExtensionType = ExtensionType::Unknown(0xfd00);
const ONLY12: &[ProtocolVersion] = &[ProtocolVersion::TLSv1_2];
const BOTH: &[ProtocolVersion] = &[ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2];

/// A toy extension: offers `offer`, answers every offer (and every absence
/// of one) with `answer`, vetoes when told to, and records what it saw.
#[derive(Debug, Default)]
struct Toy {
    offer: Option<Vec<u8>>,
    answer: Option<Vec<u8>>,
    server_veto: bool,
    client_veto: bool,
    offers_seen: Mutex<Vec<Option<Vec<u8>>>>,
    answers_seen: Mutex<Vec<Option<Vec<u8>>>>,
}

fn veto(reason: &str) -> HookVeto {
    HookVeto {
        alert: AlertDescription::AccessDenied,
        reason: reason.into(),
    }
}

impl HelloExtension for Toy {
    fn extension_type(&self) -> ExtensionType {
        TOY
    }

    fn client_offer(&self) -> Option<Vec<u8>> {
        self.offer.clone()
    }

    fn client_answer(&self, answer: Option<&[u8]>) -> Result<(), HookVeto> {
        self.answers_seen
            .lock()
            .expect("not poisoned")
            .push(answer.map(<[u8]>::to_vec));
        if self.client_veto {
            return Err(veto("answer refused"));
        }
        Ok(())
    }

    fn server_answer(&self, offer: Option<&[u8]>) -> Result<Option<Vec<u8>>, HookVeto> {
        self.offers_seen
            .lock()
            .expect("not poisoned")
            .push(offer.map(<[u8]>::to_vec));
        if self.server_veto {
            return Err(veto("offer refused"));
        }
        Ok(self.answer.clone())
    }
}

impl Toy {
    fn offering(body: &[u8]) -> Self {
        Self {
            offer: Some(body.to_vec()),
            ..Self::default()
        }
    }

    fn answering(body: &[u8]) -> Self {
        Self {
            answer: Some(body.to_vec()),
            ..Self::default()
        }
    }

    fn offers_seen(&self) -> Vec<Option<Vec<u8>>> {
        self.offers_seen.lock().expect("not poisoned").clone()
    }

    fn answers_seen(&self) -> Vec<Option<Vec<u8>>> {
        self.answers_seen.lock().expect("not poisoned").clone()
    }
}

/// The versions each test runs with, and the version they negotiate.
fn versions() -> [(&'static [ProtocolVersion], ProtocolVersion); 2] {
    [
        (ONLY12, ProtocolVersion::TLSv1_2),
        (BOTH, ProtocolVersion::TLSv1_3),
    ]
}

fn builders(versions: &[ProtocolVersion]) -> (ClientConfigBuilder, ServerConfigBuilder) {
    (
        client_builder("ecdsa-p256")
            .versions(versions)
            .expect("versions"),
        server_builder("ecdsa-p256")
            .versions(versions)
            .expect("versions"),
    )
}

/// Connections between a client and a server each with an optional toy
/// extension.
fn configured(
    versions: &[ProtocolVersion],
    client_ext: Option<Arc<Toy>>,
    server_ext: Option<Arc<Toy>>,
) -> (Arc<hsmtls::ClientConfig>, Arc<hsmtls::ServerConfig>) {
    let (mut c, mut s) = builders(versions);
    if let Some(e) = client_ext {
        c = c.hello_extension(e);
    }
    if let Some(e) = server_ext {
        s = s.hello_extension(e);
    }
    (
        Arc::new(c.build().expect("client")),
        Arc::new(s.build().expect("server")),
    )
}

/// Whether `wire` holds the extension `TOY` with `body`.
fn carries(wire: &[u8], body: &[u8]) -> bool {
    let mut ext = vec![0xfd, 0x00];
    ext.extend_from_slice(&(body.len() as u16).to_be_bytes());
    ext.extend_from_slice(body);
    wire.windows(ext.len()).any(|w| w == ext.as_slice())
}

#[test]
fn offered_and_answered() {
    for (versions, version) in versions() {
        let client_ext = Arc::new(Toy::offering(b"ping"));
        let server_ext = Arc::new(Toy::answering(b"pong"));
        let (c, s) = configured(versions, Some(client_ext.clone()), Some(server_ext.clone()));
        let (mut client, mut server) = connections(&c, &s);
        let mut client_hello = Vec::new();
        run_with_tamper(&mut client, &mut server, |dir, i, bytes| {
            if dir == Direction::ToServer && i == 0 {
                client_hello = bytes.clone();
            }
        })
        .expect_complete();
        assert!(carries(&client_hello, b"ping"), "{version:?}");
        assert_eq!(client.negotiated().version, Some(version));
        assert_eq!(
            client.negotiated().peer_extensions,
            [(TOY, b"pong".to_vec())],
            "{version:?}"
        );
        assert_eq!(
            server.negotiated().peer_extensions,
            [(TOY, b"ping".to_vec())],
            "{version:?}"
        );
        assert_eq!(server_ext.offers_seen(), [Some(b"ping".to_vec())]);
        assert_eq!(client_ext.answers_seen(), [Some(b"pong".to_vec())]);
        transfer(&mut client, &mut server, b"with the extension");
    }
}

#[test]
fn offered_and_not_answered() {
    for (versions, version) in versions() {
        let client_ext = Arc::new(Toy::offering(b"ping"));
        let server_ext = Arc::new(Toy::default());
        let (c, s) = configured(versions, Some(client_ext.clone()), Some(server_ext.clone()));
        let (client, server) = pair(&c, &s);
        assert!(
            client.negotiated().peer_extensions.is_empty(),
            "{version:?}"
        );
        assert_eq!(
            server.negotiated().peer_extensions,
            [(TOY, b"ping".to_vec())],
            "{version:?}"
        );
        assert_eq!(client_ext.answers_seen(), [None], "{version:?}");
    }
}

#[test]
fn server_veto_ends_the_handshake_with_its_alert() {
    for (versions, version) in versions() {
        let server_ext = Arc::new(Toy {
            server_veto: true,
            ..Toy::answering(b"pong")
        });
        let (c, s) = configured(
            versions,
            Some(Arc::new(Toy::offering(b"ping"))),
            Some(server_ext),
        );
        let (mut client, mut server) = connections(&c, &s);
        let outcome = run(&mut client, &mut server);
        outcome.expect_alert(Side::Server, AlertDescription::AccessDenied);
        assert!(
            matches!(&outcome.server, Some(Error::Vetoed(v)) if v.reason == "offer refused"),
            "{version:?}: {outcome:?}"
        );
    }
}

#[test]
fn client_veto_on_the_answer_ends_the_handshake_with_its_alert() {
    for (versions, version) in versions() {
        let client_ext = Arc::new(Toy {
            client_veto: true,
            ..Toy::offering(b"ping")
        });
        let (c, s) = configured(
            versions,
            Some(client_ext),
            Some(Arc::new(Toy::answering(b"pong"))),
        );
        let (mut client, mut server) = connections(&c, &s);
        let outcome = run(&mut client, &mut server);
        outcome.expect_alert(Side::Client, AlertDescription::AccessDenied);
        assert!(
            matches!(&outcome.client, Some(Error::Vetoed(v)) if v.reason == "answer refused"),
            "{version:?}: {outcome:?}"
        );
    }
}

#[derive(Debug)]
struct Typed(ExtensionType);

impl HelloExtension for Typed {
    fn extension_type(&self) -> ExtensionType {
        self.0
    }
}

#[test]
fn built_in_types_are_refused() {
    for typ in BUILT_IN {
        let (c, s) = builders(BOTH);
        let c = c.hello_extension(Arc::new(Typed(*typ))).build();
        assert!(matches!(c, Err(Error::Config(_))), "{typ}: {c:?}");
        let s = s.hello_extension(Arc::new(Typed(*typ))).build();
        assert!(matches!(s, Err(Error::Config(_))), "{typ}: {s:?}");
    }
    // A type hsmtls only knows the name of is the application's to take.
    let (c, _) = builders(BOTH);
    c.hello_extension(Arc::new(Typed(ExtensionType::Padding)))
        .build()
        .expect("padding is not built in");
}

#[test]
fn a_type_registered_twice_is_refused() {
    let (c, s) = builders(BOTH);
    let c = c
        .hello_extension(Arc::new(Typed(TOY)))
        .hello_extension(Arc::new(Toy::offering(b"x")))
        .build();
    assert!(matches!(c, Err(Error::Config(_))), "{c:?}");
    let s = s
        .hello_extension(Arc::new(Typed(TOY)))
        .hello_extension(Arc::new(Typed(TOY)))
        .build();
    assert!(matches!(s, Err(Error::Config(_))), "{s:?}");
    let (c, _) = builders(BOTH);
    c.hello_extension(Arc::new(Typed(TOY)))
        .hello_extension(Arc::new(Typed(ExtensionType::Unknown(0xfd01))))
        .build()
        .expect("two types");
}

#[test]
fn an_answer_to_an_absent_offer_is_not_sent() {
    for (versions, version) in versions() {
        // A client that does not know the type (it would refuse an
        // unsolicited answer with unsupported_extension) …
        let server_ext = Arc::new(Toy::answering(b"pong"));
        let (c, s) = configured(versions, None, Some(server_ext.clone()));
        let (mut client, mut server) = connections(&c, &s);
        let mut server_flight = Vec::new();
        run_with_tamper(&mut client, &mut server, |dir, i, bytes| {
            if dir == Direction::ToClient && i == 0 {
                server_flight = bytes.clone();
            }
        })
        .expect_complete();
        assert_eq!(server_ext.offers_seen(), [None], "{version:?}");
        assert!(!carries(&server_flight, b"pong"), "{version:?}");
        assert!(client.negotiated().peer_extensions.is_empty());
        assert!(server.negotiated().peer_extensions.is_empty());
        // … and one that knows it but does not offer it.
        let (c, s) = configured(
            versions,
            Some(Arc::new(Toy::default())),
            Some(Arc::new(Toy::answering(b"pong"))),
        );
        let (client, _) = pair(&c, &s);
        assert!(
            client.negotiated().peer_extensions.is_empty(),
            "{version:?}"
        );
    }
}

#[test]
fn a_server_that_does_not_know_the_extension_ignores_it() {
    for (versions, version) in versions() {
        let client_ext = Arc::new(Toy::offering(b"ping"));
        let (c, s) = configured(versions, Some(client_ext.clone()), None);
        let (mut client, mut server) = pair(&c, &s);
        assert_eq!(client.negotiated().version, Some(version));
        assert_eq!(client_ext.answers_seen(), [None], "{version:?}");
        assert!(client.negotiated().peer_extensions.is_empty());
        assert!(server.negotiated().peer_extensions.is_empty());
        transfer(&mut client, &mut server, b"without the extension");
    }
}

#[test]
fn an_answer_to_an_offer_not_made_is_refused() {
    // A server that answers whatever it likes: its hook adds the type to
    // EncryptedExtensions behind the registry's back.
    #[derive(Debug)]
    struct Rogue;
    impl hsmtls::hooks::HandshakeHook for Rogue {
        fn encrypted_extensions(&self) -> Vec<(ExtensionType, Vec<u8>)> {
            vec![(TOY, b"pong".to_vec())]
        }
    }
    let (c, s) = builders(BOTH);
    // The client knows the type but did not offer it this time.
    let c = Arc::new(
        c.hello_extension(Arc::new(Toy::default()))
            .build()
            .expect("client"),
    );
    let s = Arc::new(s.handshake_hook(Arc::new(Rogue)).build().expect("server"));
    let (mut client, mut server) = connections(&c, &s);
    run(&mut client, &mut server)
        .expect_alert(Side::Client, AlertDescription::UnsupportedExtension);
}

#[test]
fn resumption_answers_again() {
    for (versions, version) in versions() {
        let client_ext = Arc::new(Toy::offering(b"ping"));
        let server_ext = Arc::new(Toy::answering(b"pong"));
        let (c, s) = configured(versions, Some(client_ext.clone()), Some(server_ext.clone()));
        let (mut client, mut server) = pair(&c, &s);
        // A TLS 1.3 ticket travels after the handshake.
        transfer(&mut server, &mut client, b"ticket");
        // pre_shared_key must stay last (RFC 8446 §4.2.11), or the server
        // refuses the resumption's ClientHello.
        let (client, server) = pair(&c, &s);
        assert!(client.negotiated().resumed, "{version:?}");
        assert!(server.negotiated().resumed, "{version:?}");
        assert_eq!(client.negotiated().version, Some(version));
        assert_eq!(
            client.negotiated().peer_extensions,
            [(TOY, b"pong".to_vec())]
        );
        assert_eq!(
            server.negotiated().peer_extensions,
            [(TOY, b"ping".to_vec())]
        );
        assert_eq!(client_ext.answers_seen().len(), 2);
        assert_eq!(server_ext.offers_seen().len(), 2);
    }
}

#[test]
fn hello_retry_request_keeps_the_offer() {
    let client_ext = Arc::new(Toy::offering(b"ping"));
    let server_ext = Arc::new(Toy::answering(b"pong"));
    let (c, s) = builders(BOTH);
    let c = Arc::new(
        c.groups(&[NamedGroup::x25519, NamedGroup::secp384r1])
            .expect("groups")
            .hello_extension(client_ext.clone())
            .build()
            .expect("client"),
    );
    let s = Arc::new(
        s.groups(&[NamedGroup::secp384r1])
            .expect("group")
            .hello_extension(server_ext.clone())
            .build()
            .expect("server"),
    );
    let (client, server) = pair(&c, &s);
    assert_eq!(client.negotiated().group, Some(NamedGroup::secp384r1));
    assert_eq!(
        client.negotiated().peer_extensions,
        [(TOY, b"pong".to_vec())]
    );
    assert_eq!(
        server.negotiated().peer_extensions,
        [(TOY, b"ping".to_vec())]
    );
    // Asked once, for the second ClientHello.
    assert_eq!(server_ext.offers_seen(), [Some(b"ping".to_vec())]);
    assert_eq!(client_ext.answers_seen(), [Some(b"pong".to_vec())]);
}
