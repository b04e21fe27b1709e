//! Any bytes as one handshake message: decoding never panics, and whatever
//! decodes re-encodes to something that decodes the same.
#![no_main]

use hsmtls::msgs::codec::Codec;
use hsmtls::msgs::handshake::{HandshakeMessage, HandshakePayload};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(msg) = HandshakeMessage::read_bytes(data) else {
        return;
    };
    assert_eq!(
        HandshakeMessage::read_bytes(&msg.get_encoding()).as_ref(),
        Ok(&msg)
    );
    match &msg.payload {
        HandshakePayload::ServerKeyExchange(ske) => drop(ske.ecdhe()),
        HandshakePayload::ClientKeyExchange(cke) => drop(cke.ecdhe_public()),
        _ => {}
    }
});
