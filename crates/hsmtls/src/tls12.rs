//! What the TLS 1.2 client and server share: the pending keys of the
//! session being established, the master-secret derivation (RFC 5246 §8.1,
//! RFC 7627 §4) and the ChangeCipherSpec + Finished exchange
//! (RFC 5246 §7.1, §7.4.9).

use std::sync::Arc;

use hsmtls_keys::{FinishedLabel, HashAlgorithm, MasterSecretSeed, RecordProtector, Secret};

use crate::conn::CommonState;
use crate::error::Error;
use crate::msgs::enums::HandshakeType;
use crate::msgs::handshake::{FinishedPayload, HandshakeMessage, HandshakePayload};
use crate::transcript::Transcript;

/// The master secret and both directions' record protection of the
/// session being established, until each moves into the record layer.
pub(crate) struct Pending {
    pub master: Arc<Secret>,
    client_write: Option<Box<dyn RecordProtector>>,
    server_write: Option<Box<dyn RecordProtector>>,
    pub resumed: bool,
}

impl Pending {
    /// Expands the key block of `master` (RFC 5246 §6.3) in the store.
    pub(crate) fn new(
        cx: &CommonState,
        master: Arc<Secret>,
        prf: HashAlgorithm,
        randoms: &Randoms,
        cipher: hsmtls_keys::RecordCipher,
        resumed: bool,
    ) -> Result<Self, Error> {
        let keys =
            cx.store
                .tls12_traffic_keys(&master, prf, &randoms.client, &randoms.server, cipher)?;
        Ok(Self {
            master,
            client_write: Some(keys.client_write),
            server_write: Some(keys.server_write),
            resumed,
        })
    }

    /// Installs the peer's write protection as our read side (on
    /// receiving ChangeCipherSpec).
    pub(crate) fn start_reading(&mut self, cx: &mut CommonState) -> Result<(), Error> {
        let protector = match cx.side {
            crate::conn::Side::Client => self.server_write.take(),
            crate::conn::Side::Server => self.client_write.take(),
        };
        cx.record
            .set_decrypter(protector.ok_or(Error::InvalidState("read keys already in use"))?);
        Ok(())
    }

    /// Sends ChangeCipherSpec, installs our write protection and sends
    /// Finished (RFC 5246 §7.4.9).
    pub(crate) fn send_change_cipher_spec_and_finished(
        &mut self,
        cx: &mut CommonState,
        transcript: &mut Transcript,
        prf: HashAlgorithm,
    ) -> Result<(), Error> {
        cx.send_change_cipher_spec()?;
        let (protector, label) = match cx.side {
            crate::conn::Side::Client => (self.client_write.take(), FinishedLabel::Client),
            crate::conn::Side::Server => (self.server_write.take(), FinishedLabel::Server),
        };
        cx.record
            .set_encrypter(protector.ok_or(Error::InvalidState("write keys already in use"))?);
        let hash = transcript.current_hash()?;
        let verify_data = cx
            .store
            .tls12_verify_data(&self.master, prf, label, hash.as_ref())?;
        cx.send_handshake(
            &HandshakeMessage {
                typ: HandshakeType::Finished,
                payload: HandshakePayload::Finished(FinishedPayload {
                    verify_data: verify_data.to_vec(),
                }),
            },
            transcript,
        )?;
        Ok(())
    }

    /// Checks the peer's Finished against the transcript so far
    /// (RFC 5246 §7.4.9) and returns the proof.
    pub(crate) fn check_peer_finished(
        &self,
        cx: &CommonState,
        transcript: &Transcript,
        prf: HashAlgorithm,
        finished: &FinishedPayload,
    ) -> Result<FinishedVerified, Error> {
        let label = match cx.side {
            crate::conn::Side::Client => FinishedLabel::Server,
            crate::conn::Side::Server => FinishedLabel::Client,
        };
        let hash = transcript.current_hash()?;
        let expected = cx
            .store
            .tls12_verify_data(&self.master, prf, label, hash.as_ref())?;
        // verify_data is public once sent; a plain comparison leaks
        // nothing secret.
        if finished.verify_data != expected {
            return Err(Error::DecryptError(match label {
                FinishedLabel::Server => "server Finished",
                FinishedLabel::Client => "client Finished",
            }));
        }
        Ok(FinishedVerified(()))
    }
}

/// Proof that the peer's Finished verified.
pub(crate) struct FinishedVerified(());

/// `ClientHello.random` and `ServerHello.random`.
pub(crate) struct Randoms {
    pub client: [u8; 32],
    pub server: [u8; 32],
}

impl Randoms {
    /// `client_random + server_random`, the exporter's seed prefix
    /// (RFC 5705 §4).
    pub(crate) fn joined(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.client);
        out[32..].copy_from_slice(&self.server);
        out
    }
}

/// Derives the master secret in the store, consuming the pre-master
/// secret: the extended one (RFC 7627 §4, session hash up to and including
/// ClientKeyExchange) or the classic one (RFC 5246 §8.1).
pub(crate) fn derive_master(
    cx: &CommonState,
    transcript: &Transcript,
    extended: bool,
    prf: HashAlgorithm,
    randoms: &Randoms,
    pre_master: Secret,
) -> Result<Secret, Error> {
    let session_hash;
    let seed = if extended {
        session_hash = transcript.current_hash()?;
        MasterSecretSeed::SessionHash(session_hash.as_ref())
    } else {
        MasterSecretSeed::Randoms {
            client_random: &randoms.client,
            server_random: &randoms.server,
        }
    };
    Ok(cx.store.tls12_master_secret(pre_master, prf, seed)?)
}

/// After the handshake: the master secret for exporters.
pub(crate) fn finish(
    cx: &mut CommonState,
    pending: &Pending,
    prf: HashAlgorithm,
    randoms: &Randoms,
) {
    cx.exporter = Some(crate::conn::Exporter::Tls12 {
        master: pending.master.clone(),
        prf,
        randoms: randoms.joined(),
    });
    cx.handshake_complete = true;
}
