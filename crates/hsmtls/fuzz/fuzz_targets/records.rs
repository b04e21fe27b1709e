//! Any bytes as a record stream: the deframer and the handshake joiner
//! never panic, and every joined message is fed to the decoder.
#![no_main]

use hsmtls::msgs::codec::Codec;
use hsmtls::msgs::deframer::{HandshakeJoiner, MessageDeframer};
use hsmtls::msgs::enums::ContentType;
use hsmtls::msgs::handshake::HandshakeMessage;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut deframer = MessageDeframer::new();
    let mut joiner = HandshakeJoiner::new();
    let mut rest = data;
    while !rest.is_empty() {
        let taken = deframer.push(rest);
        rest = &rest[taken..];
        loop {
            match deframer.next_record_mut() {
                Ok(Some(rec)) if rec.header.content_type == ContentType::Handshake => {
                    joiner.push(rec.fragment);
                    while let Ok(Some(raw)) = joiner.next_message() {
                        let _ = HandshakeMessage::read_bytes(&raw);
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
        if taken == 0 {
            return;
        }
    }
});
