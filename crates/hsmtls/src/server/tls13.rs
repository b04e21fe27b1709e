//! The TLS 1.3 server handshake (RFC 8446 §2, §4), one `Expect*` state per
//! message the client may send next:
//!
//! ```text
//! ClientHello → [HelloRetryRequest → ClientHello]
//!   → ServerHello {EncryptedExtensions [CertificateRequest]
//!      Certificate CertificateVerify | (PSK)} Finished
//!   → [Certificate [CertificateVerify]] Finished → [NewSessionTicket]
//! ```
//!
//! Reached from the TLS 1.2 `ExpectClientHello` when the client offers
//! TLS 1.3 in supported_versions and the server enables it.

use std::sync::Arc;

use hsmtls_keys::{KeyError, RandomLevel, Secret};

use crate::config::{ClientAuth, ServerConfig};
use crate::conn::{CommonState, Exporter, Message, Side};
use crate::error::Error;
use crate::extensions::server_answers;
use crate::hooks::MAX_RETRY_COOKIE_LEN;
use crate::msgs::base::SessionId;
use crate::msgs::codec::Codec;
use crate::msgs::enums::{
    AlertDescription, CompressionMethod, ExtensionType, HandshakeType, KeyUpdateRequest,
    NamedGroup, ProtocolVersion, PskKeyExchangeMode, SignatureScheme,
};
use crate::msgs::ext::alpn::ProtocolNameList;
use crate::msgs::ext::cookie::Cookie;
use crate::msgs::ext::early_data::{EarlyDataIndication, MaxEarlyDataSize};
use crate::msgs::ext::key_share::{
    ClientKeyShare, HelloRetryKeyShare, KeyShareEntry, ServerKeyShare,
};
use crate::msgs::ext::pre_shared_key::{OfferedPsks, SelectedPsk};
use crate::msgs::ext::psk_key_exchange_modes::PskKeyExchangeModes;
use crate::msgs::ext::server_name::ServerNameList;
use crate::msgs::ext::signature_algorithms::SignatureSchemeList;
use crate::msgs::ext::supported_groups::NamedGroupList;
use crate::msgs::ext::supported_versions::{ClientSupportedVersions, ServerSupportedVersion};
use crate::msgs::ext::Extensions;
use crate::msgs::handshake::{
    ClientHello, DigitallySigned, FinishedPayload, HandshakeMessage, HandshakePayload, ServerHello,
    HELLO_RETRY_REQUEST_RANDOM,
};
use crate::msgs::tls13::{
    Certificate13, CertificateEntry, CertificateRequest13, EncryptedExtensions, EndOfEarlyData,
    KeyUpdate, NewSessionTicket13,
};
use crate::session::{unix_now, unix_now_ms, TicketState};
use crate::suites::{tls13_key_exchange_group, tls13_signature_algorithm, Tls13Suite};
use crate::tls13::{
    self, certificate_verify_message, ct_eq, decode_body, HandshakeTrafficSecrets, MasterSecret,
    Schedule, Traffic13,
};
use crate::transcript::Transcript;
use crate::verify::{spki_algorithm, CertificateVerified};

/// How much refused 0-RTT data is skipped before it counts as an attack:
/// the 2^14-byte limit NSS and OpenSSL use by default, plus record
/// overhead for a handful of records.
const MAX_SKIPPED_EARLY_DATA: usize = 16384 + 16 * 256;

pub(crate) enum State {
    ExpectClientHello2(ExpectClientHello2),
    ExpectEndOfEarlyData(ExpectEndOfEarlyData),
    ExpectCertificate(ExpectCertificate),
    ExpectCertificateVerify(ExpectCertificateVerify),
    ExpectFinished(ExpectFinished),
    Traffic(Traffic),
}

impl State {
    pub(crate) fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<Self, Error> {
        // RFC 8446 §5: a plaintext change_cipher_spec before the client's
        // Finished is dropped (middlebox compatibility, §D.4).
        if matches!(m, Message::ChangeCipherSpec) && !matches!(self, Self::Traffic(_)) {
            return Ok(self);
        }
        match self {
            Self::ExpectClientHello2(s) => s.handle(cx, m),
            Self::ExpectEndOfEarlyData(s) => s.handle(cx, m),
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

/// Whether a ClientHello offers TLS 1.3 (RFC 8446 §4.2.1).
pub(crate) fn offers_tls13(hello: &ClientHello) -> Result<bool, Error> {
    Ok(hello
        .extensions
        .get::<ClientSupportedVersions>(ExtensionType::SupportedVersions)?
        .is_some_and(|v| v.0.contains(&ProtocolVersion::TLSv1_3)))
}

/// Carried from the first ClientHello to the second after a retry.
pub(crate) struct ExpectClientHello2 {
    config: Arc<ServerConfig>,
    transcript: Transcript,
    suite: &'static Tls13Suite,
    group: NamedGroup,
    session_id: SessionId,
    /// The cookie the retry carried, which the second ClientHello echoes.
    cookie: Option<Vec<u8>>,
}

impl ExpectClientHello2 {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::ClientHello(hello),
                    ..
                },
            raw,
        } = m
        else {
            return Err(unexpected("ClientHello", &m));
        };
        // RFC 8446 §4.1.2: the second ClientHello keeps the session ID and
        // now carries a share for the group we asked for.
        if hello.session_id != self.session_id || !hello.cipher_suites.contains(&self.suite.suite) {
            return Err(Error::illegal("second ClientHello changed its offer"));
        }
        // §4.2.2: the client copies the retry's cookie into the new
        // ClientHello.
        if let Some(sent) = &self.cookie {
            match hello.extensions.get::<Cookie>(ExtensionType::Cookie)? {
                Some(Cookie(echoed)) if ct_eq(&echoed, sent) => {}
                Some(_) => return Err(Error::illegal("second ClientHello with another cookie")),
                None => {
                    return Err(Error::NoCommonParameters {
                        alert: AlertDescription::MissingExtension,
                        why: "second ClientHello without the retry's cookie",
                    })
                }
            }
        }
        let retry = Retry {
            transcript: self.transcript,
            suite: self.suite,
            group: self.group,
        };
        handle_client_hello(self.config, cx, hello, raw, Some(retry))
    }
}

/// The state of a handshake after a HelloRetryRequest.
pub(crate) struct Retry {
    transcript: Transcript,
    suite: &'static Tls13Suite,
    group: NamedGroup,
}

/// A resumption accepted by PSK.
struct Resumed {
    state: TicketState,
    /// The Early Secret from the PSK (made for the binder check).
    early: tls13::EarlySecret,
    /// The client's view of the ticket's age, milliseconds (§4.2.11.1).
    client_age_ms: u32,
    /// The first binder, which names this ClientHello for anti-replay.
    binder: Vec<u8>,
}

/// Handles a ClientHello that offers TLS 1.3.
pub(crate) fn handle_client_hello(
    config: Arc<ServerConfig>,
    cx: &mut CommonState,
    hello: ClientHello,
    raw: &[u8],
    retry: Option<Retry>,
) -> Result<State, Error> {
    let common = &config.common;
    let ext = &hello.extensions;
    // RFC 8446 §4.1.2: exactly the null compression method.
    if hello.compression_methods != [CompressionMethod::Null] {
        return Err(Error::illegal("TLS 1.3 ClientHello with compression"));
    }
    // §4.2.11: pre_shared_key must be the last extension.
    if let Some(pos) = ext
        .0
        .iter()
        .position(|e| e.typ == ExtensionType::PreSharedKey)
    {
        if pos + 1 != ext.0.len() {
            return Err(Error::illegal("pre_shared_key is not the last extension"));
        }
    }
    cx.info.version = Some(ProtocolVersion::TLSv1_3);
    cx.info.secure_renegotiation = false;
    // 0-RTT offered: the client's early records are skipped (RFC 8446
    // §4.2.10) unless it is accepted below — also when a HelloRetryRequest
    // answers (after a retry the client sends none). An honest client
    // sends up to the max_early_data_size of our tickets (plus each
    // record's overhead), which may exceed the default bound.
    let early_data_offered = retry.is_none() && ext.contains(ExtensionType::EarlyData);
    if early_data_offered {
        let ours = config.max_early_data as usize;
        cx.early_data_to_skip = MAX_SKIPPED_EARLY_DATA.max(ours + ours / 16 + 256);
    }
    if let Some(list) = ext.get::<ServerNameList>(ExtensionType::ServerName)? {
        cx.info.server_name = list.host_name().map(str::to_owned);
    }
    let suite = match &retry {
        Some(r) => r.suite,
        None => choose_suite(&config, &hello)?,
    };
    let shares =
        ext.get::<ClientKeyShare>(ExtensionType::KeyShare)?
            .ok_or(Error::NoCommonParameters {
                alert: AlertDescription::MissingExtension,
                why: "TLS 1.3 ClientHello without key_share",
            })?;
    let groups = ext
        .get::<NamedGroupList>(ExtensionType::SupportedGroups)?
        .ok_or(Error::NoCommonParameters {
            alert: AlertDescription::MissingExtension,
            why: "TLS 1.3 ClientHello without supported_groups",
        })?;
    let ours: Vec<NamedGroup> = common.tls13_groups();
    let with_share = ours
        .iter()
        .copied()
        .find(|g| shares.find(*g).is_some() && groups.0.contains(g));

    let mut transcript = match retry {
        Some(r) => {
            if with_share != Some(r.group) {
                return Err(Error::illegal(
                    "second ClientHello without the requested key share",
                ));
            }
            r.transcript
        }
        None => {
            let mut t = Transcript::new();
            t.start_hash(&cx.store, suite.hash)?;
            t
        }
    };
    let Some(group) = with_share else {
        // §4.1.4: no usable share, but a group in common: ask again.
        let group = ours
            .iter()
            .copied()
            .find(|g| groups.0.contains(g))
            .ok_or(Error::handshake_failure("no group in common"))?;
        return send_hello_retry_request(config.clone(), cx, transcript, raw, &hello, suite, group);
    };

    let alpn = crate::server::tls12::choose_alpn(
        &common.alpn,
        ext.get::<ProtocolNameList>(ExtensionType::ApplicationLayerProtocolNegotiation)?
            .as_ref(),
    )?;
    // Application-registered extensions, answered in EncryptedExtensions;
    // asked only now that no HelloRetryRequest comes in between.
    let answers = server_answers(&common.hello_extensions, ext, &mut cx.info)?;
    let schedule = Schedule {
        hash: suite.hash,
        aead: suite.aead,
    };

    // PSK resumption (§4.2.11): the binder is checked over the ClientHello
    // truncated before the binders.
    let resumed = find_psk(&config, cx, &hello, raw, &transcript, schedule, suite)?;

    // Certificate and signature scheme, unless resuming.
    let client_schemes = ext
        .get::<SignatureSchemeList>(ExtensionType::SignatureAlgorithms)?
        .map(|l| l.0)
        .unwrap_or_default();
    let credentials = if resumed.is_none() {
        Some(choose_certificate(&config, &client_schemes)?)
    } else {
        None
    };

    // The (EC)DHE exchange, inside the key store.
    let client_share = shares
        .find(group)
        .ok_or(Error::InvalidState("share vanished"))?;
    let kx = tls13_key_exchange_group(group).ok_or(Error::InvalidState("group unsupported"))?;
    let (share, public) = cx.store.start_key_exchange(kx)?;
    let shared = cx
        .store
        .complete_key_exchange(share, &client_share.key_exchange)
        .map_err(|e| match e {
            KeyError::InvalidPeerKey => Error::illegal("invalid client key share"),
            other => Error::from(other),
        })?;

    transcript.add(raw);
    // §4.2.10: early data is accepted only on the first identity's ticket,
    // issued for 0-RTT, with the suite and ALPN protocol it was issued
    // under, from a fresh ClientHello not seen before (§8).
    let early_data_accepted = early_data_offered
        && resumed
            .as_ref()
            .is_some_and(|r| accept_early_data(&config, r, suite, alpn.as_ref()).is_ok());
    let client_early_traffic = match (&resumed, early_data_accepted) {
        (Some(r), true) => {
            let hello_hash = transcript.current_hash()?;
            Some(schedule.client_early_traffic(&cx.store, &r.early, hello_hash.as_ref())?)
        }
        _ => None,
    };
    if early_data_accepted {
        cx.early_data_to_skip = 0;
    }
    cx.info.early_data_accepted = early_data_accepted;
    // pre_shared_key, key_share, supported_versions: the order of RFC
    // 8448's traces (any order is legal; this one lets tests/rfc8448.rs
    // compare bytes).
    let mut extensions = Extensions::new();
    if resumed.is_some() {
        extensions.push_body(ExtensionType::PreSharedKey, &SelectedPsk(0));
    }
    extensions.push_body(
        ExtensionType::KeyShare,
        &ServerKeyShare(KeyShareEntry {
            group,
            key_exchange: public,
        }),
    );
    extensions.push_body(
        ExtensionType::SupportedVersions,
        &ServerSupportedVersion(ProtocolVersion::TLSv1_3),
    );
    let server_hello = ServerHello {
        legacy_version: ProtocolVersion::TLSv1_2,
        random: cx.hello_random()?,
        session_id: hello.session_id,
        cipher_suite: suite.suite,
        compression_method: CompressionMethod::Null,
        extensions,
    };
    cx.send_handshake(
        &HandshakeMessage::new(HandshakePayload::ServerHello(server_hello)),
        &mut transcript,
    )?;
    // §D.4: a change_cipher_spec right after our first flight message
    // when the client asked for middlebox compatibility (unless already
    // sent after a HelloRetryRequest).
    let sent_ccs_already = transcript_has_retry(&transcript);
    if !hello.session_id.is_empty() && !sent_ccs_already {
        cx.send_change_cipher_spec()?;
    }

    cx.info.cipher_suite = Some(suite.suite);
    cx.info.group = Some(group);
    cx.info.extended_master_secret = false;
    cx.info.encrypt_then_mac = false;
    cx.info.resumed = resumed.is_some();
    cx.info.alpn_protocol = match &resumed {
        Some(r) => r
            .state
            .alpn
            .clone()
            .filter(|p| alpn.as_ref() == Some(p))
            .or(alpn.clone()),
        None => alpn.clone(),
    };
    if let Some(r) = &resumed {
        cx.info.peer_certificates = r.state.peer_certificates.clone();
    }

    let is_resumption = resumed.is_some();
    let (early, ticket_state) = match resumed {
        Some(r) => (r.early, Some(r.state)),
        None => (schedule.early(&cx.store, None)?, None),
    };
    let handshake_secret = schedule.handshake(&cx.store, early, Some(&shared))?;
    drop(shared);
    let hello_hash = transcript.current_hash()?;
    let mut secrets =
        schedule.handshake_traffic(&cx.store, &handshake_secret, hello_hash.as_ref())?;
    cx.flush_flight()?;
    tls13::install(cx, schedule, &mut secrets.server, true)?;
    // With 0-RTT the client's early data comes first, under its early
    // traffic key, up to its EndOfEarlyData.
    match &client_early_traffic {
        Some(early) => tls13::install_secret(cx, schedule, early, false)?,
        None => tls13::install(cx, schedule, &mut secrets.client, false)?,
    }

    // EncryptedExtensions (§4.3.1): the hook's first, then the registered
    // extensions' answers, then ours.
    let mut ee = Extensions::new();
    if let Some(hook) = &cx.hook {
        for (typ, body) in hook.encrypted_extensions() {
            ee.push(typ, body);
        }
    }
    for answer in answers.0 {
        if ee.contains(answer.typ) {
            return Err(Error::InvalidState(
                "hook and registered extension both sent one type in EncryptedExtensions",
            ));
        }
        ee.push(answer.typ, answer.data);
    }
    if let Some(p) = &cx.info.alpn_protocol {
        ee.push_body(
            ExtensionType::ApplicationLayerProtocolNegotiation,
            &ProtocolNameList(vec![p.clone()]),
        );
    }
    // The server name acknowledged also on resumption (TLS 1.3 moved it
    // to EncryptedExtensions; NSS and OpenSSL send it there too).
    if cx.info.server_name.is_some() {
        ee.push(ExtensionType::ServerName, Vec::new());
    }
    if early_data_accepted {
        ee.push_body(ExtensionType::EarlyData, &EarlyDataIndication);
    }
    if let Some(typ) = ee.first_duplicate() {
        return Err(Error::InvalidState(match typ {
            ExtensionType::ServerName => "hook sent server_name in EncryptedExtensions",
            ExtensionType::ApplicationLayerProtocolNegotiation => {
                "hook sent ALPN in EncryptedExtensions"
            }
            _ => "hook sent an extension twice in EncryptedExtensions",
        }));
    }
    send_body(
        cx,
        &mut transcript,
        HandshakeType::EncryptedExtensions,
        &EncryptedExtensions { extensions: ee },
    )?;

    let request_client_cert = !is_resumption && config.client_auth != ClientAuth::Off;
    if request_client_cert {
        // §4.3.2: context empty during the handshake; the schemes we accept.
        let mut extensions = Extensions::new();
        extensions.push_body(
            ExtensionType::SignatureAlgorithms,
            &SignatureSchemeList(common.tls13_signature_schemes.clone()),
        );
        send_body(
            cx,
            &mut transcript,
            HandshakeType::CertificateRequest,
            &CertificateRequest13 {
                context: Vec::new(),
                extensions,
            },
        )?;
    }
    if let Some((certified, scheme)) = &credentials {
        let certificate = Certificate13 {
            context: Vec::new(),
            entries: certified
                .chain
                .iter()
                .map(|c| CertificateEntry {
                    cert_data: c.clone(),
                    extensions: Extensions::new(),
                })
                .collect(),
        };
        send_body(
            cx,
            &mut transcript,
            HandshakeType::Certificate,
            &certificate,
        )?;
        let key = certified.key.algorithm();
        let algorithm = tls13_signature_algorithm(*scheme, key)
            .ok_or(Error::InvalidState("scheme does not fit the key"))?;
        let hash = transcript.current_hash()?;
        let signature = cx.store.sign(
            &certified.key,
            algorithm,
            &certificate_verify_message(Side::Server, hash.as_ref()),
        )?;
        cx.send_handshake(
            &HandshakeMessage::new(HandshakePayload::CertificateVerify(DigitallySigned {
                scheme: *scheme,
                signature,
            })),
            &mut transcript,
        )?;
    }
    let hash = transcript.current_hash()?;
    let verify_data = schedule.verify_data(&cx.store, &secrets.server.secret, hash.as_ref())?;
    cx.send_handshake(
        &HandshakeMessage::new(HandshakePayload::Finished(FinishedPayload {
            verify_data: verify_data.as_ref().to_vec(),
        })),
        &mut transcript,
    )?;
    // §7.1: application secrets over ClientHello..server Finished; the
    // server may write with them at once.
    let master = schedule.master(&cx.store, handshake_secret)?;
    let server_finished_hash = transcript.current_hash()?;
    let mut app = schedule.application(&cx.store, &master, server_finished_hash.as_ref())?;
    cx.flush_flight()?;
    tls13::install(cx, schedule, &mut app.server, true)?;
    transcript.drop_buffer();

    let early_data_allowed = ticket_state
        .as_ref()
        .filter(|_| early_data_accepted)
        .map(|t| t.max_early_data as usize);
    let hs = Handshake {
        config,
        transcript,
        schedule,
        secrets,
        master,
        app,
        ticket_state,
    };
    if let Some(allowed) = early_data_allowed {
        cx.early_data_allowed = Some(allowed);
        return Ok(State::ExpectEndOfEarlyData(ExpectEndOfEarlyData { hs }));
    }
    Ok(if request_client_cert {
        State::ExpectCertificate(ExpectCertificate { hs })
    } else {
        State::ExpectFinished(ExpectFinished {
            hs,
            _client_verified: None,
        })
    })
}

fn transcript_has_retry(transcript: &Transcript) -> bool {
    transcript.messages().first() == Some(&HandshakeType::MessageHash.to_u8())
}

fn send_body<T: Codec>(
    cx: &mut CommonState,
    transcript: &mut Transcript,
    typ: HandshakeType,
    body: &T,
) -> Result<(), Error> {
    cx.send_handshake(
        &HandshakeMessage {
            typ,
            payload: HandshakePayload::Unknown(body.get_encoding()),
        },
        transcript,
    )
}

/// §4.1.4: HelloRetryRequest naming the group to use.
fn send_hello_retry_request(
    config: Arc<ServerConfig>,
    cx: &mut CommonState,
    mut transcript: Transcript,
    raw: &[u8],
    hello: &ClientHello,
    suite: &'static Tls13Suite,
    group: NamedGroup,
) -> Result<State, Error> {
    transcript.add(raw);
    transcript.restart_for_hello_retry(&cx.store, suite.hash)?;
    // key_share, cookie, supported_versions: the order of the ServerHello
    // (key_share first) and of RFC 8448 §5's retry.
    let mut extensions = Extensions::new();
    extensions.push_body(ExtensionType::KeyShare, &HelloRetryKeyShare(group));
    let cookie = match cx.hook.as_ref().and_then(|h| h.hello_retry_cookie()) {
        Some(c) if c.is_empty() || c.len() > MAX_RETRY_COOKIE_LEN => {
            return Err(Error::InvalidState(
                "the hook's HelloRetryRequest cookie is empty or too long",
            ))
        }
        Some(c) => Some(c),
        None if config.hello_retry_cookie => {
            let mut c = vec![0u8; 32];
            cx.store.random(RandomLevel::Nonce, &mut c)?;
            Some(c)
        }
        None => None,
    };
    if let Some(c) = &cookie {
        extensions.push_body(ExtensionType::Cookie, &Cookie(c.clone()));
    }
    extensions.push_body(
        ExtensionType::SupportedVersions,
        &ServerSupportedVersion(ProtocolVersion::TLSv1_3),
    );
    let retry = ServerHello {
        legacy_version: ProtocolVersion::TLSv1_2,
        random: HELLO_RETRY_REQUEST_RANDOM,
        session_id: hello.session_id,
        cipher_suite: suite.suite,
        compression_method: CompressionMethod::Null,
        extensions,
    };
    cx.send_handshake(
        &HandshakeMessage::new(HandshakePayload::ServerHello(retry)),
        &mut transcript,
    )?;
    if !hello.session_id.is_empty() {
        cx.send_change_cipher_spec()?;
    }
    cx.info.version = Some(ProtocolVersion::TLSv1_3);
    Ok(State::ExpectClientHello2(ExpectClientHello2 {
        config,
        transcript,
        suite,
        group,
        session_id: hello.session_id,
        cookie,
    }))
}

fn choose_suite(config: &ServerConfig, hello: &ClientHello) -> Result<&'static Tls13Suite, Error> {
    let ours = &config.common.tls13_suites;
    let found = if config.prefer_server_order {
        ours.iter()
            .copied()
            .find(|s| hello.cipher_suites.contains(&s.suite))
    } else {
        hello
            .cipher_suites
            .iter()
            .find_map(|c| ours.iter().copied().find(|s| s.suite == *c))
    };
    found.ok_or(Error::handshake_failure(
        "no TLS 1.3 cipher suite in common",
    ))
}

/// §4.4.2.2: a certificate whose key can make a signature the client accepts.
fn choose_certificate(
    config: &ServerConfig,
    client_schemes: &[SignatureScheme],
) -> Result<(crate::config::CertifiedKey, SignatureScheme), Error> {
    if client_schemes.is_empty() {
        return Err(Error::NoCommonParameters {
            alert: AlertDescription::MissingExtension,
            why: "TLS 1.3 ClientHello without signature_algorithms",
        });
    }
    for certified in &config.certificates {
        let key = certified.key.algorithm();
        let scheme = config
            .common
            .tls13_signature_schemes
            .iter()
            .copied()
            .find(|s| client_schemes.contains(s) && tls13_signature_algorithm(*s, key).is_some());
        if let Some(scheme) = scheme {
            return Ok((certified.clone(), scheme));
        }
    }
    Err(Error::handshake_failure(
        "no certificate fits the client's signature schemes",
    ))
}

/// Looks for an acceptable PSK (only resumption tickets of this server;
/// psk_dhe_ke only) and checks its binder.
fn find_psk(
    config: &ServerConfig,
    cx: &mut CommonState,
    hello: &ClientHello,
    raw: &[u8],
    transcript: &Transcript,
    schedule: Schedule,
    suite: &'static Tls13Suite,
) -> Result<Option<Resumed>, Error> {
    let Some(offered) = hello
        .extensions
        .get::<OfferedPsks>(ExtensionType::PreSharedKey)?
    else {
        return Ok(None);
    };
    let modes = hello
        .extensions
        .get::<PskKeyExchangeModes>(ExtensionType::PskKeyExchangeModes)?
        .ok_or(Error::NoCommonParameters {
            alert: AlertDescription::MissingExtension,
            why: "pre_shared_key without psk_key_exchange_modes",
        })?;
    if !modes.0.contains(&PskKeyExchangeMode::PskDheKe) {
        return Ok(None);
    }
    let Some(ticketer) = &config.ticketer else {
        return Ok(None);
    };
    // Only the first identity is tried (§4.2.11: the server picks one).
    let Some(identity) = offered.identities.first() else {
        return Ok(None);
    };
    let Ok((psk, state)) = cx.store.ticket_open(&ticketer.key, &identity.identity) else {
        return Ok(None);
    };
    let Some(state) = TicketState::decode(&state) else {
        return Ok(None);
    };
    if crate::suites::tls13_suite(state.suite).map(|s| s.hash) != Some(suite.hash)
        || unix_now().saturating_sub(state.created()) > u64::from(ticketer.lifetime)
    {
        return Ok(None);
    }
    // The binder covers the ClientHello up to the binders list.
    let truncated_len = raw
        .len()
        .checked_sub(offered.binders_len())
        .ok_or(Error::illegal("binders longer than the ClientHello"))?;
    let hash = transcript.hash_with(&raw[..truncated_len])?;
    let early = schedule.early(&cx.store, Some(&psk))?;
    drop(psk);
    let binder_key = schedule.binder_key(&cx.store, &early)?;
    let expected = schedule.verify_data(&cx.store, &binder_key, hash.as_ref())?;
    let received = offered
        .binders
        .first()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !ct_eq(expected.as_ref(), received) {
        return Err(Error::DecryptError("PSK binder"));
    }
    Ok(Some(Resumed {
        client_age_ms: identity.obfuscated_ticket_age.wrapping_sub(state.age_add),
        state,
        early,
        binder: received.to_vec(),
    }))
}

/// Whether the early data of a resumption may be accepted (RFC 8446
/// §4.2.10, §8): 0-RTT on in this configuration and in the ticket, the
/// ticket's suite and ALPN protocol, and the anti-replay record's consent
/// (which records this ClientHello).
fn accept_early_data(
    config: &ServerConfig,
    resumed: &Resumed,
    suite: &'static Tls13Suite,
    alpn: Option<&Vec<u8>>,
) -> Result<(), &'static str> {
    let Some(anti_replay) = &config.anti_replay else {
        return Err("0-RTT off");
    };
    let ticket = &resumed.state;
    if config.max_early_data == 0 || ticket.max_early_data == 0 {
        return Err("ticket without early data");
    }
    if ticket.suite != suite.suite || ticket.alpn.as_ref() != alpn {
        return Err("suite or ALPN differs from the ticket's");
    }
    anti_replay
        .admit(
            &resumed.binder,
            resumed.client_age_ms,
            ticket.created_ms,
            unix_now_ms(),
        )
        .map_err(|_| "anti-replay")
}

/// Everything the server carries after its flight.
struct Handshake {
    config: Arc<ServerConfig>,
    transcript: Transcript,
    schedule: Schedule,
    secrets: HandshakeTrafficSecrets,
    master: MasterSecret,
    app: tls13::ApplicationSecrets,
    ticket_state: Option<TicketState>,
}

/// RFC 8446 §4.5: accepted 0-RTT data (application records, taken by
/// the connection up to the ticket's max_early_data_size) until the
/// client's EndOfEarlyData, under its early traffic key.
pub(crate) struct ExpectEndOfEarlyData {
    hs: Handshake,
}

impl ExpectEndOfEarlyData {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let (EndOfEarlyData, raw): (EndOfEarlyData, _) =
            decode_body(&m, HandshakeType::EndOfEarlyData, "EndOfEarlyData")?;
        let mut hs = self.hs;
        hs.transcript.add(&raw);
        cx.early_data_allowed = None;
        tls13::install(cx, hs.schedule, &mut hs.secrets.client, false)?;
        Ok(State::ExpectFinished(ExpectFinished {
            hs,
            _client_verified: None,
        }))
    }
}

pub(crate) struct ExpectCertificate {
    hs: Handshake,
}

impl ExpectCertificate {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let (certificate, raw): (Certificate13, _) =
            decode_body(&m, HandshakeType::Certificate, "Certificate")?;
        let mut hs = self.hs;
        // §4.4.2: the context echoes the CertificateRequest's (empty).
        if !certificate.context.is_empty() {
            return Err(Error::illegal("certificate_request_context mismatch"));
        }
        hs.transcript.add(&raw);
        let chain: Vec<Vec<u8>> = certificate.certificates().map(<[u8]>::to_vec).collect();
        if chain.is_empty() {
            if hs.config.client_auth == ClientAuth::Require {
                return Err(Error::NoCommonParameters {
                    alert: AlertDescription::CertificateRequired,
                    why: "client certificate required",
                });
            }
            return Ok(State::ExpectFinished(ExpectFinished {
                hs,
                _client_verified: None,
            }));
        }
        let verifier = hs
            .config
            .client_verifier
            .as_ref()
            .ok_or(Error::InvalidState("no client verifier"))?;
        let verified = verifier.verify_chain(&chain, None, true)?;
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
            return Err(Error::illegal(
                "client used a signature scheme not requested",
            ));
        }
        let leaf = cx
            .info
            .peer_certificates
            .first()
            .ok_or(Error::InvalidState("no client certificate"))?;
        let kind = spki_algorithm(leaf).ok_or(Error::BadCertificate {
            alert: AlertDescription::UnsupportedCertificate,
            why: "client certificate key of an unsupported kind".into(),
        })?;
        let algorithm = tls13_signature_algorithm(signed.scheme, kind).ok_or(Error::illegal(
            "signature scheme does not fit the client's key",
        ))?;
        let verifier = hs
            .config
            .client_verifier
            .as_ref()
            .ok_or(Error::InvalidState("no client verifier"))?;
        let hash = hs.transcript.current_hash()?;
        let proof = verifier.verify_signature(
            &self.verified,
            leaf,
            algorithm,
            &certificate_verify_message(Side::Client, hash.as_ref()),
            &signed.signature,
        )?;
        hs.transcript.add(raw);
        Ok(State::ExpectFinished(ExpectFinished {
            hs,
            _client_verified: Some(proof),
        }))
    }
}

pub(crate) struct ExpectFinished {
    hs: Handshake,
    _client_verified: Option<crate::verify::SignatureVerified>,
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
        let expected = schedule.verify_data(&cx.store, &hs.secrets.client.secret, hash.as_ref())?;
        if !ct_eq(expected.as_ref(), &finished.verify_data) {
            return Err(Error::DecryptError("client Finished"));
        }
        hs.transcript.add(raw);
        tls13::install(cx, schedule, &mut hs.app.client, false)?;
        // The resumption master secret only serves tickets: a server that
        // issues none (no ticketer, or a store that cannot seal one) does
        // not derive it.
        let (after_full, after_resumption) = hs.config.tls13_tickets;
        let tickets = if cx.info.resumed {
            after_resumption
        } else {
            after_full
        };
        if hs.config.ticketer.is_some() && tickets > 0 {
            let client_finished_hash = hs.transcript.current_hash()?;
            let resumption_master =
                schedule.resumption_master(&cx.store, &hs.master, client_finished_hash.as_ref())?;
            for _ in 0..tickets {
                send_new_session_ticket(cx, &hs, &resumption_master)?;
            }
        }
        cx.exporter = Some(Exporter::Tls13 {
            exporter_master: hs.app.exporter,
            hash: schedule.hash,
        });
        cx.handshake_complete = true;
        Ok(State::Traffic(Traffic {
            keys: Traffic13 {
                schedule,
                client: hs.app.client.secret,
                server: hs.app.server.secret,
            },
        }))
    }
}

/// §4.6.1: one ticket whose PSK is sealed by the store.
fn send_new_session_ticket(
    cx: &mut CommonState,
    hs: &Handshake,
    resumption_master: &Secret,
) -> Result<(), Error> {
    let Some(ticketer) = &hs.config.ticketer else {
        return Ok(());
    };
    let mut nonce = [0u8; 8];
    cx.store.random(RandomLevel::Nonce, &mut nonce)?;
    let psk = hs
        .schedule
        .ticket_psk(&cx.store, resumption_master, &nonce)?;
    let mut age_add = [0u8; 4];
    cx.store.random(RandomLevel::Nonce, &mut age_add)?;
    let mut state = TicketState::new(
        cx.info
            .cipher_suite
            .ok_or(Error::InvalidState("no suite"))?,
    );
    state.extended_master_secret = true;
    state.alpn = cx.info.alpn_protocol.clone();
    state.peer_certificates = match &hs.ticket_state {
        Some(s) => s.peer_certificates.clone(),
        None => cx.info.peer_certificates.clone(),
    };
    state.age_add = u32::from_be_bytes(age_add);
    state.max_early_data = hs.config.max_early_data;
    let ticket = cx.store.ticket_seal(&ticketer.key, &psk, &state.encode())?;
    // §4.6.1: a ticket good for 0-RTT says how much.
    let mut extensions = Extensions::new();
    if state.max_early_data > 0 {
        extensions.push_body(
            ExtensionType::EarlyData,
            &MaxEarlyDataSize(state.max_early_data),
        );
    }
    let message = NewSessionTicket13 {
        lifetime: ticketer.lifetime.min(604_800),
        age_add: state.age_add,
        nonce: nonce.to_vec(),
        ticket,
        extensions,
    };
    tls13::send_post_handshake(cx, HandshakeType::NewSessionTicket, &message)?;
    cx.info.ticket_issued = true;
    Ok(())
}

/// After the handshake: KeyUpdate (§4.6.3); nothing else is accepted
/// (no post-handshake authentication is offered).
pub(crate) struct Traffic {
    keys: Traffic13,
}

impl Traffic {
    fn handle(mut self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        handle_key_update(cx, &mut self.keys, m)?;
        Ok(State::Traffic(self))
    }

    pub(crate) fn keys(&mut self) -> &mut Traffic13 {
        &mut self.keys
    }
}

/// §4.6.3: the peer's KeyUpdate moves our read keys; `update_requested`
/// makes us answer with our own and move our write keys.
pub(crate) fn handle_key_update(
    cx: &mut CommonState,
    keys: &mut Traffic13,
    m: Message<'_>,
) -> Result<(), Error> {
    let (update, _raw): (KeyUpdate, _) = decode_body(&m, HandshakeType::KeyUpdate, "KeyUpdate")?;
    keys.update_read(cx)?;
    if update.0 == KeyUpdateRequest::UpdateRequested {
        send_key_update(cx, keys, KeyUpdateRequest::UpdateNotRequested)?;
    }
    Ok(())
}

/// Sends KeyUpdate under the current keys, then moves to the next ones.
pub(crate) fn send_key_update(
    cx: &mut CommonState,
    keys: &mut Traffic13,
    request: KeyUpdateRequest,
) -> Result<(), Error> {
    tls13::send_post_handshake(cx, HandshakeType::KeyUpdate, &KeyUpdate(request))?;
    cx.flush_flight()?;
    keys.update_write(cx)
}
