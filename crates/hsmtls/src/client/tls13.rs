//! The TLS 1.3 client handshake (RFC 8446 §2, §4), one `Expect*` state per
//! message the server may send next:
//!
//! ```text
//! ClientHello → ServerHello | HelloRetryRequest (→ ClientHello → ServerHello)
//!   → EncryptedExtensions → [CertificateRequest] → Certificate
//!   → CertificateVerify → Finished  (PSK: EncryptedExtensions → Finished)
//!   → [Certificate CertificateVerify] Finished → NewSessionTicket* KeyUpdate*
//! ```
//!
//! The ClientHello is built by the TLS 1.2 client (one hello offers both
//! versions); this module adds its TLS 1.3 extensions and takes over when
//! the ServerHello selects TLS 1.3.

use std::sync::Arc;
use std::time::Instant;

use hsmtls_keys::{Digest, KeyError, KeyShare, PublicKeyAlgorithm, Secret};

use crate::config::{CertifiedKey, ClientConfig};
use crate::conn::{CommonState, EarlyWriter, Exporter, Message, Side};
use crate::error::Error;
use crate::extensions::{client_answers, was_offered, Registered};
use crate::msgs::base::SessionId;
use crate::msgs::codec::Codec;
use crate::msgs::enums::{
    AlertDescription, CipherSuite, CompressionMethod, ExtensionType, HandshakeType, NamedGroup,
    ProtocolVersion, PskKeyExchangeMode,
};
use crate::msgs::ext::alpn::ProtocolNameList;
use crate::msgs::ext::cookie::Cookie;
use crate::msgs::ext::early_data::{EarlyDataIndication, MaxEarlyDataSize};
use crate::msgs::ext::key_share::{
    ClientKeyShare, HelloRetryKeyShare, KeyShareEntry, ServerKeyShare,
};
use crate::msgs::ext::pre_shared_key::{OfferedPsks, PskIdentity, SelectedPsk};
use crate::msgs::ext::psk_key_exchange_modes::PskKeyExchangeModes;
use crate::msgs::ext::signature_algorithms::SignatureSchemeList;
use crate::msgs::ext::supported_versions::ServerSupportedVersion;
use crate::msgs::ext::Extensions;
use crate::msgs::handshake::{
    ClientHello, DigitallySigned, FinishedPayload, HandshakeMessage, HandshakePayload, ServerHello,
};
use crate::msgs::tls13::{
    Certificate13, CertificateEntry, CertificateRequest13, EncryptedExtensions, EndOfEarlyData,
    NewSessionTicket13,
};
use crate::server::tls13::handle_key_update;
use crate::session::{unix_now, ClientSession, Tls12Session, Tls13Ticket};
use crate::suites::{tls13_key_exchange_group, tls13_signature_algorithm, tls13_suite, Tls13Suite};
use crate::tls13::{
    self, certificate_verify_message, ct_eq, decode_body, HandshakeTrafficSecrets, MasterSecret,
    Schedule, Traffic13,
};
use crate::transcript::Transcript;
use crate::verify::{spki_algorithm, CertificateVerified};

/// What the ClientHello offered for TLS 1.3.
pub(crate) struct Offer13 {
    share: KeyShare,
    group: NamedGroup,
    psk: Option<OfferedPsk>,
    /// 0-RTT offered (early_data sent): the ticket's max_early_data_size.
    early_data: Option<u32>,
}

/// A resumption PSK offered in the ClientHello.
struct OfferedPsk {
    session: ClientSession,
    suite: &'static Tls13Suite,
}

/// Adds supported_versions, key_share, psk_key_exchange_modes, early_data
/// (a first ClientHello, with 0-RTT on and a ticket for it) and (last) a
/// pre_shared_key with a placeholder binder; returns what was offered.
pub(crate) fn add_extensions(
    config: &ClientConfig,
    cx: &mut CommonState,
    extensions: &mut Extensions,
    session: Option<&ClientSession>,
    group: Option<NamedGroup>,
    cookie: Option<&Cookie>,
    first_hello: bool,
) -> Result<Offer13, Error> {
    let common = &config.common;
    let mut versions = vec![ProtocolVersion::TLSv1_3];
    if common.tls12_enabled() {
        versions.push(ProtocolVersion::TLSv1_2);
    }
    extensions.push_body(
        ExtensionType::SupportedVersions,
        &crate::msgs::ext::supported_versions::ClientSupportedVersions(versions),
    );
    let group = group
        .or_else(|| common.tls13_groups().first().copied())
        .ok_or(Error::Config("no TLS 1.3 group".into()))?;
    let kx = tls13_key_exchange_group(group).ok_or(Error::InvalidState("group unsupported"))?;
    let (share, public) = cx.store.start_key_exchange(kx)?;
    extensions.push_body(
        ExtensionType::KeyShare,
        &ClientKeyShare(vec![KeyShareEntry {
            group,
            key_exchange: public,
        }]),
    );
    if let Some(cookie) = cookie {
        extensions.push_body(ExtensionType::Cookie, cookie);
    }
    let psk = session.and_then(|s| {
        let suite = tls13_suite(s.session.suite)?;
        let ticket = s.ticket.clone()?;
        let t13 = s.tls13.as_ref()?;
        let age_ms = u32::try_from(t13.received.elapsed().as_millis()).unwrap_or(u32::MAX);
        // §4.2.11.1: obfuscated_ticket_age = age + ticket_age_add mod 2^32.
        let age = age_ms.wrapping_add(t13.age_add);
        Some((
            OfferedPsk {
                session: s.clone(),
                suite,
            },
            ticket,
            age,
        ))
    });
    extensions.push_body(
        ExtensionType::PskKeyExchangeModes,
        &PskKeyExchangeModes(vec![PskKeyExchangeMode::PskDheKe]),
    );
    // §4.2.10: 0-RTT only in a first ClientHello, with the ticket's
    // allowance.
    let early_data = psk
        .as_ref()
        .and_then(|(offered, _, _)| offered.session.tls13.as_ref())
        .map(|t| t.max_early_data)
        .filter(|&max| config.early_data && first_hello && max > 0);
    if early_data.is_some() {
        extensions.push_body(ExtensionType::EarlyData, &EarlyDataIndication);
    }
    let psk = psk.map(|(offered, ticket, age)| {
        // Placeholder binder of the right length; patched after encoding.
        let placeholder = vec![0u8; offered.suite.hash.output_len()];
        extensions.push_body(
            ExtensionType::PreSharedKey,
            &OfferedPsks {
                identities: vec![PskIdentity {
                    identity: ticket,
                    obfuscated_ticket_age: age,
                }],
                binders: vec![placeholder],
            },
        );
        offered
    });
    Ok(Offer13 {
        share,
        group,
        psk,
        early_data,
    })
}

/// Encodes the ClientHello, computing the PSK binder over its truncated
/// form (§4.2.11.2), and queues it.
pub(crate) fn send_client_hello(
    cx: &mut CommonState,
    transcript: &mut Transcript,
    hello: ClientHello,
    offer: &Offer13,
) -> Result<(), Error> {
    let middlebox = !hello.session_id.is_empty();
    let message = HandshakeMessage::new(HandshakePayload::ClientHello(hello));
    let Some(psk) = &offer.psk else {
        return cx.send_handshake(&message, transcript);
    };
    let mut encoded = message.get_encoding();
    let hash_len = psk.suite.hash.output_len();
    // binders<33..2^16-1> = u16 length, then one u8-prefixed binder.
    let binders_len = 2 + 1 + hash_len;
    let truncated = encoded.len() - binders_len;
    let schedule = Schedule {
        hash: psk.suite.hash,
        aead: psk.suite.aead,
    };
    // The transcript so far with `extra` appended (before the ServerHello
    // the transcript keeps messages and has no hash yet).
    let hash_with =
        |store: &Arc<dyn hsmtls_keys::KeyStore>, extra: &[u8]| match transcript.algorithm() {
            Some(_) => transcript.hash_with(extra),
            None => {
                let mut h = store.hasher(psk.suite.hash)?;
                h.update(transcript.messages());
                h.update(extra);
                Ok(h.current())
            }
        };
    let hash = hash_with(&cx.store, &encoded[..truncated])?;
    let early = schedule.early(&cx.store, Some(&psk.session.session.master))?;
    let binder_key = schedule.binder_key(&cx.store, &early)?;
    let binder = schedule.verify_data(&cx.store, &binder_key, hash.as_ref())?;
    encoded[truncated + 3..].copy_from_slice(binder.as_ref());
    // 0-RTT (§2.3): the early traffic key over the whole ClientHello.
    let hello_hash = match offer.early_data {
        Some(_) => Some(hash_with(&cx.store, &encoded)?),
        None => None,
    };
    cx.send_encoded_handshake(HandshakeType::ClientHello, &encoded, transcript)?;
    let (Some(max_early_data), Some(hello_hash)) = (offer.early_data, hello_hash) else {
        return Ok(());
    };
    let secret = schedule.client_early_traffic(&cx.store, &early, hello_hash.as_ref())?;
    let protector = cx
        .store
        .tls13_record_protector(schedule.hash, &secret, schedule.aead)?;
    cx.flush_flight()?;
    // §5.1: 0x0303 in every record after the first ClientHello's.
    cx.record.write_version = ProtocolVersion::TLSv1_2;
    // §D.4: in middlebox mode the change_cipher_spec goes right after the
    // ClientHello when early data follows.
    if middlebox && !cx.middlebox_ccs_sent {
        cx.send_change_cipher_spec()?;
        cx.middlebox_ccs_sent = true;
    }
    cx.early_writer = Some(EarlyWriter {
        keys: (Some(protector), 0),
        remaining: max_early_data as usize,
        open: true,
        sent: Vec::new(),
    });
    Ok(())
}

/// What the client carries into the TLS 1.3 states.
pub(crate) struct Start13 {
    pub config: Arc<ClientConfig>,
    pub server_name: String,
    pub transcript: Transcript,
    pub client_hello: ClientHello,
    pub offer: Offer13,
    pub retried: bool,
    /// The registered extensions that offered a body (the same bodies go
    /// into a second ClientHello).
    pub offered_extensions: Registered,
}

/// The ServerHello (or HelloRetryRequest) selected TLS 1.3.
pub(crate) fn handle_server_hello(
    cx: &mut CommonState,
    mut st: Start13,
    hello: ServerHello,
    raw: &[u8],
) -> Result<State, Error> {
    let common = &st.config.common;
    // §4.1.3: legacy fields.
    if hello.session_id != st.client_hello.session_id {
        return Err(Error::illegal("ServerHello does not echo the session ID"));
    }
    if hello.compression_method != CompressionMethod::Null {
        return Err(Error::illegal("TLS 1.3 ServerHello with compression"));
    }
    let suite = common
        .tls13_suites
        .iter()
        .copied()
        .find(|s| s.suite == hello.cipher_suite)
        .ok_or(Error::illegal("server chose a cipher suite not offered"))?;
    for typ in hello.extensions.types() {
        let allowed = match typ {
            ExtensionType::SupportedVersions | ExtensionType::KeyShare => true,
            ExtensionType::Cookie => hello.is_hello_retry_request(),
            ExtensionType::PreSharedKey => {
                st.offer.psk.is_some() && !hello.is_hello_retry_request()
            }
            _ => false,
        };
        if !allowed {
            return Err(Error::peer(
                AlertDescription::UnsupportedExtension,
                "ServerHello extension not allowed in TLS 1.3",
            ));
        }
    }
    if hello.is_hello_retry_request() {
        return handle_hello_retry_request(cx, st, hello, raw, suite);
    }
    if st.retried && st.transcript.algorithm() != Some(suite.hash) {
        return Err(Error::illegal(
            "ServerHello suite differs from the HelloRetryRequest's",
        ));
    }
    let schedule = Schedule {
        hash: suite.hash,
        aead: suite.aead,
    };
    let server_share = hello
        .extensions
        .get::<ServerKeyShare>(ExtensionType::KeyShare)?
        .ok_or(Error::NoCommonParameters {
            alert: AlertDescription::MissingExtension,
            why: "ServerHello without key_share",
        })?;
    if server_share.0.group != st.offer.group {
        return Err(Error::illegal("server key share for a group not offered"));
    }
    let psk = match hello
        .extensions
        .get::<SelectedPsk>(ExtensionType::PreSharedKey)?
    {
        Some(SelectedPsk(0)) => {
            let offered = st
                .offer
                .psk
                .take()
                .ok_or(Error::illegal("PSK selected but none offered"))?;
            if offered.suite.hash != suite.hash {
                return Err(Error::illegal("PSK with a suite of another hash"));
            }
            Some(offered)
        }
        Some(_) => return Err(Error::illegal("server selected a PSK not offered")),
        None => None,
    };
    // §4.2.10: no more 0-RTT data after the ServerHello; without the PSK
    // (or with another suite than the ticket's) the server refused it.
    let early_data_offered = st.offer.early_data.is_some() && cx.early_writer.is_some();
    match &mut cx.early_writer {
        Some(w) if psk.as_ref().is_some_and(|p| p.suite.suite == suite.suite) => w.open = false,
        Some(_) => cx.early_data_refused(),
        None => {}
    }
    if st.transcript.algorithm().is_none() {
        st.transcript.start_hash(&cx.store, suite.hash)?;
    }
    st.transcript.add(raw);
    let shared = cx
        .store
        .complete_key_exchange(st.offer.share, &server_share.0.key_exchange)
        .map_err(|e| match e {
            KeyError::InvalidPeerKey => Error::illegal("invalid server key share"),
            other => Error::from(other),
        })?;
    let early = schedule.early(&cx.store, psk.as_ref().map(|p| &*p.session.session.master))?;
    let handshake_secret = schedule.handshake(&cx.store, early, Some(&shared))?;
    drop(shared);
    let hello_hash = st.transcript.current_hash()?;
    let mut secrets =
        schedule.handshake_traffic(&cx.store, &handshake_secret, hello_hash.as_ref())?;
    tls13::install(cx, schedule, &mut secrets.server, false)?;
    // §D.4: in middlebox mode one change_cipher_spec goes before our second
    // flight (already sent before the second ClientHello after a retry).
    let middlebox = !st.client_hello.session_id.is_empty();
    if middlebox && !cx.middlebox_ccs_sent {
        cx.send_change_cipher_spec()?;
        cx.middlebox_ccs_sent = true;
    }
    // §7.3: from here on we write under the client handshake traffic
    // secret, so an alert about the server's flight is protected as the
    // server expects (it reads with that secret since its ServerHello).
    tls13::install(cx, schedule, &mut secrets.client, true)?;

    cx.info.version = Some(ProtocolVersion::TLSv1_3);
    cx.info.cipher_suite = Some(suite.suite);
    cx.info.group = Some(server_share.0.group);
    cx.info.resumed = psk.is_some();
    cx.info.extended_master_secret = false;
    cx.info.encrypt_then_mac = false;
    if let Some(p) = &psk {
        cx.info.peer_certificates = p.session.session.peer_certificates.clone();
    }
    Ok(State::ExpectEncryptedExtensions(
        ExpectEncryptedExtensions {
            hs: Handshake {
                config: st.config,
                server_name: st.server_name,
                transcript: st.transcript,
                schedule,
                secrets,
                handshake_secret: Some(handshake_secret),
                resumed: psk.is_some(),
                certificate_request: None,
                offered_extensions: st.offered_extensions,
                early_data_offered,
                alpn_of_ticket: psk.as_ref().and_then(|p| p.session.session.alpn.clone()),
            },
        },
    ))
}

/// §4.1.4: send the second ClientHello with a share for the asked group.
fn handle_hello_retry_request(
    cx: &mut CommonState,
    mut st: Start13,
    hello: ServerHello,
    raw: &[u8],
    suite: &'static Tls13Suite,
) -> Result<State, Error> {
    if st.retried {
        return Err(Error::UnexpectedMessage {
            expected: "ServerHello",
            got: crate::error::MessageKind::Handshake(HandshakeType::ServerHello),
        });
    }
    let asked = hello
        .extensions
        .get::<HelloRetryKeyShare>(ExtensionType::KeyShare)?
        .map(|k| k.0);
    let cookie = hello.extensions.get::<Cookie>(ExtensionType::Cookie)?;
    // §4.1.4: the retry must change something, and only to a group offered.
    let group = match asked {
        Some(g) if g == st.offer.group => {
            return Err(Error::illegal(
                "HelloRetryRequest for the group already shared",
            ))
        }
        Some(g) if st.config.common.tls13_groups().contains(&g) => Some(g),
        Some(_) => return Err(Error::illegal("HelloRetryRequest for a group not offered")),
        None if cookie.is_none() => {
            return Err(Error::illegal("HelloRetryRequest that changes nothing"))
        }
        None => None,
    };
    // §4.2.10: a retry refuses 0-RTT; the second ClientHello offers none.
    cx.early_data_refused();
    st.transcript
        .restart_for_hello_retry(&cx.store, suite.hash)?;
    st.transcript.add(raw);
    // The second hello: same offer, new share (and the cookie), PSK binder
    // recomputed over the new transcript.
    let mut hello2 = st.client_hello.clone();
    let mut extensions = Extensions::new();
    for e in hello2.extensions.0.iter() {
        match e.typ {
            ExtensionType::SupportedVersions
            | ExtensionType::KeyShare
            | ExtensionType::PskKeyExchangeModes
            | ExtensionType::PreSharedKey
            | ExtensionType::Cookie
            | ExtensionType::EarlyData => {}
            _ => extensions.push(e.typ, e.data.clone()),
        }
    }
    let session = st.offer.psk.as_ref().map(|p| p.session.clone());
    let session =
        session.filter(|s| tls13_suite(s.session.suite).map(|x| x.hash) == Some(suite.hash));
    let offer = add_extensions(
        &st.config,
        cx,
        &mut extensions,
        session.as_ref(),
        Some(group.unwrap_or(st.offer.group)),
        cookie.as_ref(),
        false,
    )?;
    hello2.extensions = extensions;
    // §D.4: in middlebox mode the client's CCS goes before its second flight
    // (unless it went after the first ClientHello, with 0-RTT data).
    if !hello2.session_id.is_empty() && !cx.middlebox_ccs_sent {
        cx.send_change_cipher_spec()?;
        cx.middlebox_ccs_sent = true;
    }
    send_client_hello(cx, &mut st.transcript, hello2.clone(), &offer)?;
    cx.info.version = Some(ProtocolVersion::TLSv1_3);
    Ok(State::ExpectServerHello(ExpectServerHello(Start13 {
        config: st.config,
        server_name: st.server_name,
        transcript: st.transcript,
        client_hello: hello2,
        offer,
        retried: true,
        offered_extensions: st.offered_extensions,
    })))
}

/// Everything the client carries between the encrypted handshake states.
struct Handshake {
    config: Arc<ClientConfig>,
    server_name: String,
    transcript: Transcript,
    schedule: Schedule,
    secrets: HandshakeTrafficSecrets,
    handshake_secret: Option<tls13::HandshakeSecret>,
    resumed: bool,
    certificate_request: Option<CertificateRequest13>,
    offered_extensions: Registered,
    /// The first ClientHello offered 0-RTT.
    early_data_offered: bool,
    /// The ALPN protocol of the resumed session (0-RTT must keep it).
    alpn_of_ticket: Option<Vec<u8>>,
}

pub(crate) enum State {
    ExpectServerHello(ExpectServerHello),
    ExpectEncryptedExtensions(ExpectEncryptedExtensions),
    ExpectCertificate(ExpectCertificate),
    ExpectCertificateVerify(ExpectCertificateVerify),
    ExpectFinished(ExpectFinished),
    Traffic(Traffic),
}

impl State {
    pub(crate) fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<Self, Error> {
        // §5: a plaintext change_cipher_spec during the handshake is dropped.
        if matches!(m, Message::ChangeCipherSpec) && !matches!(self, Self::Traffic(_)) {
            return Ok(self);
        }
        match self {
            Self::ExpectServerHello(s) => s.handle(cx, m),
            Self::ExpectEncryptedExtensions(s) => s.handle(cx, m),
            Self::ExpectCertificate(s) => s.handle(cx, m),
            Self::ExpectCertificateVerify(s) => s.handle(cx, m),
            Self::ExpectFinished(s) => s.handle(cx, m),
            Self::Traffic(s) => s.handle(cx, m),
        }
    }
}

fn unexpected(expected: &'static str, m: &Message<'_>) -> Error {
    Error::UnexpectedMessage {
        expected,
        got: m.kind(),
    }
}

/// The second ServerHello, after a HelloRetryRequest.
pub(crate) struct ExpectServerHello(Start13);

impl ExpectServerHello {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::ServerHello(hello),
                    ..
                },
            raw,
        } = m
        else {
            return Err(unexpected("ServerHello", &m));
        };
        let version = hello
            .extensions
            .get::<ServerSupportedVersion>(ExtensionType::SupportedVersions)?
            .map(|v| v.0);
        if version != Some(ProtocolVersion::TLSv1_3) {
            return Err(Error::illegal("second ServerHello is not TLS 1.3"));
        }
        handle_server_hello(cx, self.0, hello, raw)
    }
}

pub(crate) struct ExpectEncryptedExtensions {
    hs: Handshake,
}

impl ExpectEncryptedExtensions {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let (ee, raw): (EncryptedExtensions, _) = decode_body(
            &m,
            HandshakeType::EncryptedExtensions,
            "EncryptedExtensions",
        )?;
        let mut hs = self.hs;
        let common = &hs.config.common;
        for typ in ee.extensions.types() {
            let allowed = match typ {
                ExtensionType::ServerName => true,
                ExtensionType::ApplicationLayerProtocolNegotiation => !common.alpn.is_empty(),
                ExtensionType::SupportedGroups | ExtensionType::RecordSizeLimit => true,
                ExtensionType::EarlyData => hs.early_data_offered,
                _ => was_offered(&hs.offered_extensions, typ),
            };
            if !allowed {
                return Err(Error::peer(
                    AlertDescription::UnsupportedExtension,
                    "EncryptedExtensions carries an extension not offered",
                ));
            }
        }
        if let Some(alpn) = ee
            .extensions
            .get::<ProtocolNameList>(ExtensionType::ApplicationLayerProtocolNegotiation)?
        {
            match alpn.0.as_slice() {
                [one] if common.alpn.contains(one) => cx.info.alpn_protocol = Some(one.clone()),
                _ => return Err(Error::illegal("server chose an ALPN protocol not offered")),
            }
        }
        client_answers(&hs.offered_extensions, &ee.extensions, &mut cx.info)?;
        // §4.2.10: the server took the 0-RTT data, or it goes again after
        // the handshake.
        if ee
            .extensions
            .get::<EarlyDataIndication>(ExtensionType::EarlyData)?
            .is_some()
        {
            if cx.early_writer.is_none() {
                return Err(Error::illegal("early data accepted but not sent"));
            }
            if cx.info.alpn_protocol != hs.alpn_of_ticket {
                return Err(Error::illegal(
                    "early data accepted with another ALPN protocol than the ticket's",
                ));
            }
            cx.info.early_data_accepted = true;
        } else {
            cx.early_data_refused();
        }
        hs.transcript.add(&raw);
        Ok(if hs.resumed {
            State::ExpectFinished(ExpectFinished { hs })
        } else {
            State::ExpectCertificate(ExpectCertificate { hs })
        })
    }
}

pub(crate) struct ExpectCertificate {
    hs: Handshake,
}

impl ExpectCertificate {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let mut hs = self.hs;
        if let Message::Handshake { parsed, raw } = &m {
            if parsed.typ == HandshakeType::CertificateRequest && hs.certificate_request.is_none() {
                let body = raw.get(4..).ok_or(Error::InvalidState("short message"))?;
                let request = CertificateRequest13::read_bytes(body)?;
                // §4.3.2: signature_algorithms is mandatory.
                if !request
                    .extensions
                    .contains(ExtensionType::SignatureAlgorithms)
                {
                    return Err(Error::NoCommonParameters {
                        alert: AlertDescription::MissingExtension,
                        why: "CertificateRequest without signature_algorithms",
                    });
                }
                hs.transcript.add(raw);
                hs.certificate_request = Some(request);
                return Ok(State::ExpectCertificate(ExpectCertificate { hs }));
            }
        }
        let (certificate, raw): (Certificate13, _) =
            decode_body(&m, HandshakeType::Certificate, "Certificate")?;
        if !certificate.context.is_empty() {
            return Err(Error::illegal("server Certificate with a request context"));
        }
        let chain: Vec<Vec<u8>> = certificate.certificates().map(<[u8]>::to_vec).collect();
        if chain.is_empty() {
            return Err(Error::peer(
                AlertDescription::DecodeError,
                "empty server Certificate",
            ));
        }
        hs.transcript.add(&raw);
        let verified = hs
            .config
            .verifier
            .verify_chain(&chain, Some(&hs.server_name), false)?;
        cx.info.peer_certificates = chain;
        Ok(State::ExpectCertificateVerify(ExpectCertificateVerify {
            hs,
            verified,
        }))
    }
}

pub(crate) struct ExpectCertificateVerify {
    hs: Handshake,
    verified: CertificateVerified,
}

impl ExpectCertificateVerify {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::CertificateVerify(signed),
                    ..
                },
            raw,
        } = m
        else {
            return Err(unexpected("CertificateVerify", &m));
        };
        let mut hs = self.hs;
        if !hs
            .config
            .common
            .tls13_signature_schemes
            .contains(&signed.scheme)
        {
            return Err(Error::illegal("server used a signature scheme not offered"));
        }
        let leaf = cx
            .info
            .peer_certificates
            .first()
            .ok_or(Error::InvalidState("no server certificate"))?;
        let kind = spki_algorithm(leaf).ok_or(Error::BadCertificate {
            alert: AlertDescription::UnsupportedCertificate,
            why: "server certificate key of an unsupported kind".into(),
        })?;
        let algorithm = tls13_signature_algorithm(signed.scheme, kind).ok_or(Error::illegal(
            "signature scheme does not fit the server's key",
        ))?;
        let hash = hs.transcript.current_hash()?;
        let _proof = hs.config.verifier.verify_signature(
            &self.verified,
            leaf,
            algorithm,
            &certificate_verify_message(Side::Server, hash.as_ref()),
            &signed.signature,
        )?;
        hs.transcript.add(raw);
        Ok(State::ExpectFinished(ExpectFinished { hs }))
    }
}

pub(crate) struct ExpectFinished {
    hs: Handshake,
}

impl ExpectFinished {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::Finished(finished),
                    ..
                },
            raw,
        } = m
        else {
            return Err(unexpected("Finished", &m));
        };
        let mut hs = self.hs;
        let schedule = hs.schedule;
        let hash = hs.transcript.current_hash()?;
        let expected = schedule.verify_data(&cx.store, &hs.secrets.server.secret, hash.as_ref())?;
        if !ct_eq(expected.as_ref(), &finished.verify_data) {
            return Err(Error::DecryptError("server Finished"));
        }
        hs.transcript.add(raw);
        let handshake_secret = hs
            .handshake_secret
            .take()
            .ok_or(Error::InvalidState("handshake secret used"))?;
        let master = schedule.master(&cx.store, handshake_secret)?;
        let server_finished_hash = hs.transcript.current_hash()?;
        let mut app = schedule.application(&cx.store, &master, server_finished_hash.as_ref())?;

        // §4.5: accepted 0-RTT data ends with EndOfEarlyData, under the
        // early traffic key.
        if cx.info.early_data_accepted && cx.early_writer.is_some() {
            cx.with_early_keys(|cx| {
                cx.send_handshake(
                    &HandshakeMessage {
                        typ: HandshakeType::EndOfEarlyData,
                        payload: HandshakePayload::Unknown(EndOfEarlyData.get_encoding()),
                    },
                    &mut hs.transcript,
                )?;
                cx.flush_flight()
            })?;
            cx.early_writer = None;
        }
        // Our flight, under the client handshake traffic secret.
        if let Some(request) = hs.certificate_request.take() {
            send_client_certificate(cx, &mut hs, &request)?;
        }
        let hash = hs.transcript.current_hash()?;
        let verify_data =
            schedule.verify_data(&cx.store, &hs.secrets.client.secret, hash.as_ref())?;
        cx.send_handshake(
            &HandshakeMessage::new(HandshakePayload::Finished(FinishedPayload {
                verify_data: verify_data.as_ref().to_vec(),
            })),
            &mut hs.transcript,
        )?;
        cx.flush_flight()?;
        tls13::install(cx, schedule, &mut app.client, true)?;
        tls13::install(cx, schedule, &mut app.server, false)?;
        // The resumption master secret only serves tickets, which the
        // server may never send: derived from the master secret on the
        // first one, and not at all without a session cache.
        let resumption = if hs.config.sessions.is_some() {
            Resumption::Pending {
                master,
                client_finished_hash: hs.transcript.current_hash()?,
            }
        } else {
            Resumption::Off
        };
        cx.exporter = Some(Exporter::Tls13 {
            exporter_master: app.exporter,
            hash: schedule.hash,
        });
        cx.handshake_complete = true;
        Ok(State::Traffic(Traffic {
            keys: Traffic13 {
                schedule,
                client: app.client.secret,
                server: app.server.secret,
            },
            config: hs.config,
            server_name: hs.server_name,
            resumption,
        }))
    }
}

/// §4.4.2, §4.4.3: our certificate (or an empty one) and its signature.
fn send_client_certificate(
    cx: &mut CommonState,
    hs: &mut Handshake,
    request: &CertificateRequest13,
) -> Result<(), Error> {
    let schemes = request
        .extensions
        .get::<SignatureSchemeList>(ExtensionType::SignatureAlgorithms)?
        .map(|l| l.0)
        .unwrap_or_default();
    let chosen: Option<(&CertifiedKey, _)> = hs.config.client_certificate.as_ref().and_then(|ck| {
        let key: PublicKeyAlgorithm = ck.key.algorithm();
        hs.config
            .common
            .tls13_signature_schemes
            .iter()
            .copied()
            .find(|s| schemes.contains(s) && tls13_signature_algorithm(*s, key).is_some())
            .map(|s| (ck, s))
    });
    let certificate = Certificate13 {
        context: request.context.clone(),
        entries: chosen
            .map(|(ck, _)| {
                ck.chain
                    .iter()
                    .map(|c| CertificateEntry {
                        cert_data: c.clone(),
                        extensions: Extensions::new(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    cx.send_handshake(
        &HandshakeMessage {
            typ: HandshakeType::Certificate,
            payload: HandshakePayload::Unknown(certificate.get_encoding()),
        },
        &mut hs.transcript,
    )?;
    if let Some((ck, scheme)) = chosen {
        let algorithm = tls13_signature_algorithm(scheme, ck.key.algorithm())
            .ok_or(Error::InvalidState("scheme does not fit the key"))?;
        let hash = hs.transcript.current_hash()?;
        let signature = cx.store.sign(
            &ck.key,
            algorithm,
            &certificate_verify_message(Side::Client, hash.as_ref()),
        )?;
        cx.send_handshake(
            &HandshakeMessage::new(HandshakePayload::CertificateVerify(DigitallySigned {
                scheme,
                signature,
            })),
            &mut hs.transcript,
        )?;
    }
    Ok(())
}

/// After the handshake: NewSessionTicket (§4.6.1) and KeyUpdate (§4.6.3).
pub(crate) struct Traffic {
    keys: Traffic13,
    config: Arc<ClientConfig>,
    server_name: String,
    resumption: Resumption,
}

/// Where the tickets' PSKs come from (§4.6.1).
enum Resumption {
    /// No session cache: tickets are not kept.
    Off,
    /// No ticket yet: the master secret and the transcript hash through
    /// the client Finished that the resumption master secret is over.
    Pending {
        master: MasterSecret,
        client_finished_hash: Digest,
    },
    /// `resumption_master_secret`, derived at the first ticket.
    Ready(Secret),
}

impl Traffic {
    fn handle(mut self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        if let Message::Handshake { parsed, raw } = &m {
            if parsed.typ == HandshakeType::NewSessionTicket {
                let body = raw.get(4..).ok_or(Error::InvalidState("short message"))?;
                let ticket = NewSessionTicket13::read_bytes(body)?;
                self.remember(cx, ticket)?;
                return Ok(State::Traffic(self));
            }
        }
        handle_key_update(cx, &mut self.keys, m)?;
        Ok(State::Traffic(self))
    }

    fn remember(&mut self, cx: &mut CommonState, ticket: NewSessionTicket13) -> Result<(), Error> {
        let Some(cache) = &self.config.sessions else {
            return Ok(());
        };
        // §4.6.1: a lifetime of zero means "do not use".
        if ticket.lifetime == 0 {
            return Ok(());
        }
        let suite: CipherSuite = cx
            .info
            .cipher_suite
            .ok_or(Error::InvalidState("no suite"))?;
        // §4.6.1: a ticket good for 0-RTT says how much.
        let max_early_data = ticket
            .extensions
            .get::<MaxEarlyDataSize>(ExtensionType::EarlyData)?
            .map_or(0, |m| m.0);
        let schedule = self.keys.schedule;
        if let Resumption::Pending {
            master,
            client_finished_hash,
        } = &self.resumption
        {
            let secret =
                schedule.resumption_master(&cx.store, master, client_finished_hash.as_ref())?;
            self.resumption = Resumption::Ready(secret);
        }
        let Resumption::Ready(resumption_master) = &self.resumption else {
            return Ok(());
        };
        let psk = schedule.ticket_psk(&cx.store, resumption_master, &ticket.nonce)?;
        cache.put(
            &self.server_name,
            ClientSession {
                session_id: SessionId::empty(),
                ticket: Some(ticket.ticket),
                session: Arc::new(Tls12Session {
                    suite,
                    master: Arc::new(psk),
                    extended_master_secret: true,
                    alpn: cx.info.alpn_protocol.clone(),
                    peer_certificates: cx.info.peer_certificates.clone(),
                    created: unix_now(),
                }),
                tls13: Some(Tls13Ticket {
                    age_add: ticket.age_add,
                    received: Instant::now(),
                    group: cx.info.group,
                    max_early_data,
                }),
            },
        );
        cx.info.ticket_issued = true;
        Ok(())
    }

    pub(crate) fn keys(&mut self) -> &mut Traffic13 {
        &mut self.keys
    }
}
