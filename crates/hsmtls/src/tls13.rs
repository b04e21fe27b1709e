//! What the TLS 1.3 client and server share: the key schedule as typed
//! stages named as in RFC 8446 §7.1, every secret a key-store handle; the
//! CertificateVerify content (§4.4.3); traffic-key installation and update
//! (§7.2, §4.6.3); exporters (§7.5).
//!
//! ```text
//!              0
//!              |
//!    PSK ->  HKDF-Extract = Early Secret ── Derive-Secret(., "res binder", "")
//!              |                         └─ "c e traffic" (0-RTT, server)
//!              |
//!        Derive-Secret(., "derived", "")
//!              |
//! (EC)DHE -> HKDF-Extract = Handshake Secret ── "c hs traffic", "s hs traffic"
//!              |
//!        Derive-Secret(., "derived", "")
//!              |
//!     0 -> HKDF-Extract = Master Secret ── "c ap traffic", "s ap traffic",
//!                                          "exp master", "res master"
//! ```

use std::sync::Arc;

use hsmtls_keys::{
    AeadAlgorithm, Digest, HashAlgorithm, KeyStore, RecordProtector, Secret, SecretUsage,
};

use crate::conn::{CommonState, Message, Side};
use crate::error::Error;
use crate::msgs::codec::Codec;
use crate::msgs::enums::HandshakeType;
use crate::msgs::handshake::{HandshakeMessage, HandshakePayload};

/// The hash of the empty string, the context of `Derive-Secret(., "derived", "")`.
fn empty_hash(store: &Arc<dyn KeyStore>, hash: HashAlgorithm) -> Result<Digest, Error> {
    Ok(store.hasher(hash)?.current())
}

/// The key schedule's algorithms.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    pub hash: HashAlgorithm,
    pub aead: AeadAlgorithm,
}

/// RFC 8446 §7.1 Early Secret.
pub(crate) struct EarlySecret(Secret);
/// RFC 8446 §7.1 Handshake Secret.
pub(crate) struct HandshakeSecret(Secret);
/// RFC 8446 §7.1 Master Secret.
pub(crate) struct MasterSecret(Secret);

/// A traffic secret and, until [`install`] takes it, the record
/// protection the key store made with it ([`KeyStore::tls13_traffic_secret`]).
pub(crate) struct TrafficSecret {
    pub secret: Secret,
    protector: Option<Box<dyn RecordProtector>>,
}

/// The handshake traffic secrets of both sides.
pub(crate) struct HandshakeTrafficSecrets {
    pub client: TrafficSecret,
    pub server: TrafficSecret,
}

/// The application traffic secrets and the exporter master secret.
pub(crate) struct ApplicationSecrets {
    pub client: TrafficSecret,
    pub server: TrafficSecret,
    pub exporter: Secret,
}

impl Schedule {
    fn derive(
        &self,
        store: &Arc<dyn KeyStore>,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
    ) -> Result<Secret, Error> {
        Ok(store.hkdf_expand_label(self.hash, secret, label, context, SecretUsage::Tls13)?)
    }

    /// A traffic secret with its record protection (one key-store call).
    fn traffic(
        &self,
        store: &Arc<dyn KeyStore>,
        base: &Secret,
        label: &[u8],
        context: &[u8],
    ) -> Result<TrafficSecret, Error> {
        let (secret, protector) =
            store.tls13_traffic_secret(self.hash, base, label, context, self.aead)?;
        Ok(TrafficSecret {
            secret,
            protector: Some(protector),
        })
    }

    /// `Early Secret = HKDF-Extract(0, PSK)`; without a PSK the IKM is zeros.
    pub(crate) fn early(
        &self,
        store: &Arc<dyn KeyStore>,
        psk: Option<&Secret>,
    ) -> Result<EarlySecret, Error> {
        Ok(EarlySecret(store.hkdf_extract(self.hash, None, psk)?))
    }

    /// `binder_key = Derive-Secret(Early Secret, "res binder", "")`
    /// (§7.1; resumption PSKs only).
    pub(crate) fn binder_key(
        &self,
        store: &Arc<dyn KeyStore>,
        early: &EarlySecret,
    ) -> Result<Secret, Error> {
        let empty = empty_hash(store, self.hash)?;
        self.derive(store, &early.0, b"res binder", empty.as_ref())
    }

    /// `client_early_traffic_secret = Derive-Secret(Early Secret,
    /// "c e traffic", ClientHello)` (§7.1): the key of 0-RTT data.
    pub(crate) fn client_early_traffic(
        &self,
        store: &Arc<dyn KeyStore>,
        early: &EarlySecret,
        client_hello_hash: &[u8],
    ) -> Result<Secret, Error> {
        self.derive(store, &early.0, b"c e traffic", client_hello_hash)
    }

    /// `Handshake Secret = HKDF-Extract(Derive-Secret(Early, "derived", ""), (EC)DHE)`.
    pub(crate) fn handshake(
        &self,
        store: &Arc<dyn KeyStore>,
        early: EarlySecret,
        shared: Option<&Secret>,
    ) -> Result<HandshakeSecret, Error> {
        Ok(HandshakeSecret(
            store.tls13_next_secret(self.hash, &early.0, shared)?,
        ))
    }

    /// `{client,server}_handshake_traffic_secret` over ClientHello..ServerHello.
    pub(crate) fn handshake_traffic(
        &self,
        store: &Arc<dyn KeyStore>,
        hs: &HandshakeSecret,
        hello_hash: &[u8],
    ) -> Result<HandshakeTrafficSecrets, Error> {
        // The server's first, on both sides (the order the test store
        // records protectors in).
        let server = self.traffic(store, &hs.0, b"s hs traffic", hello_hash)?;
        let client = self.traffic(store, &hs.0, b"c hs traffic", hello_hash)?;
        Ok(HandshakeTrafficSecrets { client, server })
    }

    /// `Master Secret = HKDF-Extract(Derive-Secret(Handshake, "derived", ""), 0)`.
    pub(crate) fn master(
        &self,
        store: &Arc<dyn KeyStore>,
        hs: HandshakeSecret,
    ) -> Result<MasterSecret, Error> {
        Ok(MasterSecret(
            store.tls13_next_secret(self.hash, &hs.0, None)?,
        ))
    }

    /// Application traffic and exporter secrets over ClientHello..server
    /// Finished.
    pub(crate) fn application(
        &self,
        store: &Arc<dyn KeyStore>,
        master: &MasterSecret,
        server_finished_hash: &[u8],
    ) -> Result<ApplicationSecrets, Error> {
        let server = self.traffic(store, &master.0, b"s ap traffic", server_finished_hash)?;
        let client = self.traffic(store, &master.0, b"c ap traffic", server_finished_hash)?;
        Ok(ApplicationSecrets {
            client,
            server,
            exporter: self.derive(store, &master.0, b"exp master", server_finished_hash)?,
        })
    }

    /// `resumption_master_secret` over ClientHello..client Finished.
    pub(crate) fn resumption_master(
        &self,
        store: &Arc<dyn KeyStore>,
        master: &MasterSecret,
        client_finished_hash: &[u8],
    ) -> Result<Secret, Error> {
        self.derive(store, &master.0, b"res master", client_finished_hash)
    }

    /// The PSK of a ticket: `HKDF-Expand-Label(resumption_master_secret,
    /// "resumption", ticket_nonce, Hash.length)` (§4.6.1).
    pub(crate) fn ticket_psk(
        &self,
        store: &Arc<dyn KeyStore>,
        resumption_master: &Secret,
        nonce: &[u8],
    ) -> Result<Secret, Error> {
        self.derive(store, resumption_master, b"resumption", nonce)
    }

    /// `application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N,
    /// "traffic upd", "", Hash.length)` (§7.2), with its record protection.
    pub(crate) fn next_traffic_secret(
        &self,
        store: &Arc<dyn KeyStore>,
        secret: &Secret,
    ) -> Result<(Secret, Box<dyn RecordProtector>), Error> {
        Ok(store.tls13_traffic_secret(self.hash, secret, b"traffic upd", b"", self.aead)?)
    }

    /// Finished / binder MAC (§4.4.4) under `base_key`.
    pub(crate) fn verify_data(
        &self,
        store: &Arc<dyn KeyStore>,
        base_key: &Secret,
        transcript_hash: &[u8],
    ) -> Result<Digest, Error> {
        Ok(store.tls13_verify_data(self.hash, base_key, transcript_hash)?)
    }
}

/// The content a TLS 1.3 CertificateVerify signs (RFC 8446 §4.4.3): 64
/// spaces, the context string, a zero byte, the transcript hash.
pub(crate) fn certificate_verify_message(signer: Side, transcript_hash: &[u8]) -> Vec<u8> {
    let context: &[u8] = match signer {
        Side::Server => b"TLS 1.3, server CertificateVerify",
        Side::Client => b"TLS 1.3, client CertificateVerify",
    };
    let mut m = Vec::with_capacity(64 + context.len() + 1 + transcript_hash.len());
    m.extend_from_slice(&[0x20; 64]);
    m.extend_from_slice(context);
    m.push(0);
    m.extend_from_slice(transcript_hash);
    m
}

/// What a TLS 1.3 connection keeps after the handshake: its current
/// application traffic secrets (for KeyUpdate) and the exporter master.
pub(crate) struct Traffic13 {
    pub schedule: Schedule,
    pub client: Secret,
    pub server: Secret,
}

impl Traffic13 {
    fn ours_mut(&mut self, side: Side) -> &mut Secret {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    fn theirs_mut(&mut self, side: Side) -> &mut Secret {
        match side {
            Side::Client => &mut self.server,
            Side::Server => &mut self.client,
        }
    }

    /// Moves our write side to the next generation (after sending KeyUpdate).
    pub(crate) fn update_write(&mut self, cx: &mut CommonState) -> Result<(), Error> {
        let schedule = self.schedule;
        let side = cx.side;
        let (next, protector) = schedule.next_traffic_secret(&cx.store, self.ours_mut(side))?;
        cx.record.set_encrypter(protector);
        *self.ours_mut(side) = next;
        Ok(())
    }

    /// Moves the read side to the next generation (after receiving KeyUpdate).
    pub(crate) fn update_read(&mut self, cx: &mut CommonState) -> Result<(), Error> {
        let schedule = self.schedule;
        let side = cx.side;
        let (next, protector) = schedule.next_traffic_secret(&cx.store, self.theirs_mut(side))?;
        cx.record.set_decrypter(protector);
        *self.theirs_mut(side) = next;
        Ok(())
    }
}

/// Installs the record protection of a traffic secret (made with it, or
/// now if already taken).
pub(crate) fn install(
    cx: &mut CommonState,
    schedule: Schedule,
    traffic: &mut TrafficSecret,
    write: bool,
) -> Result<(), Error> {
    let protector = match traffic.protector.take() {
        Some(p) => p,
        None => cx
            .store
            .tls13_record_protector(schedule.hash, &traffic.secret, schedule.aead)?,
    };
    install_protector(cx, protector, write);
    Ok(())
}

/// Installs record protection from a secret (the client early traffic
/// secret, which has no [`TrafficSecret`]).
pub(crate) fn install_secret(
    cx: &mut CommonState,
    schedule: Schedule,
    secret: &Secret,
    write: bool,
) -> Result<(), Error> {
    let protector = cx
        .store
        .tls13_record_protector(schedule.hash, secret, schedule.aead)?;
    install_protector(cx, protector, write);
    Ok(())
}

fn install_protector(cx: &mut CommonState, protector: Box<dyn RecordProtector>, write: bool) {
    cx.record.tls13 = true;
    if write {
        cx.record.set_encrypter(protector);
    } else {
        cx.record.set_decrypter(protector);
    }
}

/// Compares MACs (Finished, PSK binders) in time independent of where they
/// differ.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decodes the body of a TLS 1.3 message of type `typ` (bodies that
/// differ from TLS 1.2 arrive undecoded, see `HandshakeMessage::read_tls13`).
pub(crate) fn decode_body<T: Codec>(
    m: &Message<'_>,
    typ: HandshakeType,
    what: &'static str,
) -> Result<(T, Vec<u8>), Error> {
    match m {
        Message::Handshake { parsed, raw } if parsed.typ == typ => {
            let body = raw
                .get(4..)
                .ok_or(Error::InvalidState("short handshake message"))?;
            Ok((T::read_bytes(body)?, raw.to_vec()))
        }
        other => Err(Error::UnexpectedMessage {
            expected: what,
            got: other.kind(),
        }),
    }
}

/// Sends a post-handshake message (NewSessionTicket, KeyUpdate): outside
/// the transcript, RFC 8446 §4.6.
pub(crate) fn send_post_handshake<T: Codec>(
    cx: &mut CommonState,
    typ: HandshakeType,
    body: &T,
) -> Result<(), Error> {
    cx.send_untracked_handshake(&HandshakeMessage {
        typ,
        payload: HandshakePayload::Unknown(body.get_encoding()),
    })
}
