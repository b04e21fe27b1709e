//! Handshake hooks: every message is seen in order on both sides, a veto
//! ends the handshake with the veto's alert, and hook-supplied randoms are
//! the ones on the wire.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use hsmtls::hooks::{Direction, HandshakeHook, HookVeto};
use hsmtls::msgs::enums::{AlertDescription, HandshakeType};
use hsmtls::{Error, Side};

#[derive(Debug, Default)]
struct Recorder {
    seen: Mutex<Vec<(Side, Direction, HandshakeType, usize)>>,
    veto: Option<(Direction, HandshakeType)>,
    random: Option<[u8; 32]>,
}

impl HandshakeHook for Recorder {
    fn on_message(
        &self,
        side: Side,
        direction: Direction,
        typ: HandshakeType,
        message: &[u8],
    ) -> Result<(), HookVeto> {
        self.seen
            .lock()
            .expect("not poisoned")
            .push((side, direction, typ, message.len()));
        if self.veto == Some((direction, typ)) {
            return Err(HookVeto {
                alert: AlertDescription::AccessDenied,
                reason: format!("{} refused by policy", typ.as_str()),
            });
        }
        Ok(())
    }

    fn hello_random(&self, _side: Side) -> Option<[u8; 32]> {
        self.random
    }
}

fn types(rec: &Recorder, direction: Direction) -> Vec<HandshakeType> {
    rec.seen
        .lock()
        .expect("not poisoned")
        .iter()
        .filter(|e| e.1 == direction)
        .map(|e| e.2)
        .collect()
}

#[test]
fn hooks_see_every_message_in_order() {
    let client_hook = Arc::new(Recorder::default());
    let server_hook = Arc::new(Recorder::default());
    let client = Arc::new(
        client_builder("ecdsa-p256")
            .handshake_hook(client_hook.clone())
            .build()
            .expect("client config"),
    );
    let server = Arc::new(
        server_builder("ecdsa-p256")
            .handshake_hook(server_hook.clone())
            .build()
            .expect("server config"),
    );
    let _ = pair(&client, &server);
    use HandshakeType as T;
    let server_flight = vec![
        T::ServerHello,
        T::Certificate,
        T::ServerKeyExchange,
        T::ServerHelloDone,
        T::NewSessionTicket,
        T::Finished,
    ];
    let client_flight = vec![T::ClientHello, T::ClientKeyExchange, T::Finished];
    assert_eq!(types(&client_hook, Direction::Sent), client_flight);
    assert_eq!(types(&server_hook, Direction::Received), client_flight);
    assert_eq!(types(&server_hook, Direction::Sent), server_flight);
    assert_eq!(types(&client_hook, Direction::Received), server_flight);
    // Sizes agree between sender and receiver.
    let sent: Vec<usize> = client_hook
        .seen
        .lock()
        .expect("ok")
        .iter()
        .filter(|e| e.1 == Direction::Sent)
        .map(|e| e.3)
        .collect();
    let received: Vec<usize> = server_hook
        .seen
        .lock()
        .expect("ok")
        .iter()
        .filter(|e| e.1 == Direction::Received)
        .map(|e| e.3)
        .collect();
    assert_eq!(sent, received);
}

#[test]
fn a_veto_on_a_received_message_ends_the_handshake_with_its_alert() {
    let hook = Arc::new(Recorder {
        veto: Some((Direction::Received, HandshakeType::ServerKeyExchange)),
        ..Recorder::default()
    });
    let client = Arc::new(
        client_builder("ecdsa-p256")
            .handshake_hook(hook)
            .build()
            .expect("client config"),
    );
    let (_, server) = configs("ecdsa-p256");
    let (mut c, mut s) = connections(&client, &server);
    let outcome = run(&mut c, &mut s);
    assert!(
        matches!(outcome.client, Some(Error::Vetoed(ref v)) if v.reason.contains("server_key_exchange")),
        "{outcome:?}"
    );
    outcome.expect_alert(Side::Client, AlertDescription::AccessDenied);
}

#[test]
fn a_veto_on_a_sent_message_ends_the_handshake() {
    let hook = Arc::new(Recorder {
        veto: Some((Direction::Sent, HandshakeType::ServerKeyExchange)),
        ..Recorder::default()
    });
    let (client, _) = configs("ecdsa-p256");
    let server = Arc::new(
        server_builder("ecdsa-p256")
            .handshake_hook(hook)
            .build()
            .expect("server config"),
    );
    let (mut c, mut s) = connections(&client, &server);
    let outcome = run(&mut c, &mut s);
    outcome.expect_alert(Side::Server, AlertDescription::AccessDenied);
}

#[test]
fn hook_randoms_are_used() {
    let random = [0x42u8; 32];
    let hook = Arc::new(Recorder {
        random: Some(random),
        ..Recorder::default()
    });
    let client = Arc::new(
        client_builder("ecdsa-p256")
            .handshake_hook(hook)
            .build()
            .expect("client config"),
    );
    let (_, server) = configs("ecdsa-p256");
    let (mut c, _s) = connections(&client, &server);
    let hello = take_output(&mut c);
    // record header (5) + handshake header (4) + client_version (2)
    assert_eq!(&hello[11..43], &random);
}
