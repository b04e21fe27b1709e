//! The TLS 1.2 server handshake (RFC 5246 §7.3), one `Expect*` state per
//! message the client may send next:
//!
//! ```text
//! full:    ClientHello → ServerHello Certificate ServerKeyExchange
//!          [CertificateRequest] ServerHelloDone → [Certificate]
//!          ClientKeyExchange [CertificateVerify] CCS Finished →
//!          [NewSessionTicket] CCS Finished
//! resumed: ClientHello → ServerHello CCS Finished → CCS Finished
//! ```
//!
//! A ClientHello after the handshake (renegotiation) is refused with a
//! `no_renegotiation` warning (RFC 5746 §4.4, RFC 5246 §7.2.2).

use std::sync::Arc;

use hsmtls_keys::{KeyError, KeyShare, PublicKeyAlgorithm, RandomLevel};

use crate::config::{CertifiedKey, ClientAuth, ServerConfig};
use crate::conn::{CommonState, Message};
use crate::error::Error;
use crate::extensions::server_answers;
use crate::msgs::base::SessionId;
use crate::msgs::codec::Codec;
use crate::msgs::enums::{
    AlertDescription, AlertLevel, CipherSuite, ClientCertificateType, CompressionMethod,
    ECCurveType, ECPointFormat, ExtensionType, HandshakeType, NamedGroup, ProtocolVersion,
    SignatureScheme,
};
use crate::msgs::ext::alpn::ProtocolNameList;
use crate::msgs::ext::ec_point_formats::EcPointFormatList;
use crate::msgs::ext::renegotiation_info::RenegotiationInfo;
use crate::msgs::ext::server_name::ServerNameList;
use crate::msgs::ext::signature_algorithms::SignatureSchemeList;
use crate::msgs::ext::supported_groups::NamedGroupList;
use crate::msgs::ext::supported_versions::ClientSupportedVersions;
use crate::msgs::ext::Extensions;
use crate::msgs::handshake::{
    CertificatePayload, CertificateRequestPayload, ClientHello, DigitallySigned, EcdheServerParams,
    HandshakeMessage, HandshakePayload, NewSessionTicketPayload, ServerHello,
    ServerKeyExchangePayload,
};
use crate::session::{unix_now, TicketState, Tls12Session};
use crate::suites::{key_exchange_group, tls12_signature_algorithm, Tls12Suite};
use crate::tls12::{self, derive_master, Pending, Randoms};
use crate::transcript::Transcript;
use crate::verify::{spki_algorithm, CertificateVerified, SignatureVerified};

/// Everything the server carries from state to state.
struct Handshake {
    config: Arc<ServerConfig>,
    transcript: Transcript,
    randoms: Randoms,
    session_id: SessionId,
    suite: &'static Tls12Suite,
    extended_master_secret: bool,
    send_ticket: bool,
}

pub(crate) enum State {
    ExpectClientHello(ExpectClientHello),
    ExpectCertificate(ExpectCertificate),
    ExpectClientKeyExchange(ExpectClientKeyExchange),
    ExpectCertificateVerify(ExpectCertificateVerify),
    ExpectChangeCipherSpec(ExpectChangeCipherSpec),
    ExpectFinished(ExpectFinished),
    Traffic,
    /// The client offered TLS 1.3 and it was chosen.
    Tls13(super::tls13::State),
}

impl State {
    pub(crate) fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<Self, Error> {
        match self {
            Self::ExpectClientHello(s) => s.handle(cx, m),
            Self::ExpectCertificate(s) => s.handle(cx, m),
            Self::ExpectClientKeyExchange(s) => s.handle(cx, m),
            Self::ExpectCertificateVerify(s) => s.handle(cx, m),
            Self::ExpectChangeCipherSpec(s) => s.handle(cx, m),
            Self::ExpectFinished(s) => s.handle(cx, m),
            Self::Traffic => handle_traffic(cx, m),
            Self::Tls13(s) => s.handle(cx, m).map(Self::Tls13),
        }
    }
}

pub(crate) fn start(config: Arc<ServerConfig>) -> State {
    State::ExpectClientHello(ExpectClientHello { config })
}

fn unexpected(expected: &'static str, m: &Message<'_>) -> Error {
    Error::UnexpectedMessage {
        expected,
        got: m.kind(),
    }
}

/// What the client offered, decoded once.
struct Offer {
    groups: Vec<NamedGroup>,
    signature_schemes: Vec<SignatureScheme>,
    extended_master_secret: bool,
    encrypt_then_mac: bool,
    alpn: Option<ProtocolNameList>,
    ticket: Option<Vec<u8>>,
    point_formats: bool,
    server_name: bool,
}

impl Offer {
    fn decode(hello: &ClientHello, cx: &mut CommonState) -> Result<Self, Error> {
        let ext = &hello.extensions;
        // RFC 5746 §3.6: the SCSV or an empty renegotiation_info.
        let scsv = hello
            .cipher_suites
            .contains(&CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
        if let Some(ri) = ext.get::<RenegotiationInfo>(ExtensionType::RenegotiationInfo)? {
            if !ri.0.is_empty() {
                return Err(Error::peer(
                    AlertDescription::HandshakeFailure,
                    "non-empty renegotiation_info in an initial handshake",
                ));
            }
        }
        cx.info.secure_renegotiation = scsv || ext.contains(ExtensionType::RenegotiationInfo);
        let server_name = match ext.get::<ServerNameList>(ExtensionType::ServerName)? {
            Some(list) => {
                cx.info.server_name = list.host_name().map(str::to_owned);
                true
            }
            None => false,
        };
        let point_formats = match ext.get::<EcPointFormatList>(ExtensionType::EcPointFormats)? {
            // RFC 8422 §5.1.2: uncompressed must be among them.
            Some(list) if !list.0.contains(&ECPointFormat::Uncompressed) => {
                return Err(Error::illegal("client does not accept uncompressed points"))
            }
            Some(_) => true,
            None => false,
        };
        let groups = ext
            .get::<NamedGroupList>(ExtensionType::SupportedGroups)?
            .map(|l| l.0)
            // RFC 8422 §4: without the extension, any curve will do.
            .unwrap_or_else(|| vec![NamedGroup::secp256r1, NamedGroup::secp384r1]);
        // RFC 5246 §7.4.1.4.1: without signature_algorithms the client
        // accepts only SHA-1, which hsmtls does not sign with.
        let signature_schemes = ext
            .get::<SignatureSchemeList>(ExtensionType::SignatureAlgorithms)?
            .map(|l| l.0)
            .unwrap_or_default();
        for empty in [
            ExtensionType::ExtendedMasterSecret,
            ExtensionType::EncryptThenMac,
        ] {
            if ext.find(empty).is_some_and(|d| !d.is_empty()) {
                return Err(Error::peer(
                    AlertDescription::DecodeError,
                    "extension must be empty",
                ));
            }
        }
        Ok(Self {
            groups,
            signature_schemes,
            extended_master_secret: ext.contains(ExtensionType::ExtendedMasterSecret),
            encrypt_then_mac: ext.contains(ExtensionType::EncryptThenMac),
            alpn: ext
                .get::<ProtocolNameList>(ExtensionType::ApplicationLayerProtocolNegotiation)?,
            ticket: ext.find(ExtensionType::SessionTicket).map(<[u8]>::to_vec),
            point_formats,
            server_name,
        })
    }
}

/// The parameters of a full handshake.
struct Choice {
    suite: &'static Tls12Suite,
    certificate: CertifiedKey,
    scheme: SignatureScheme,
    group: NamedGroup,
}

pub(crate) struct ExpectClientHello {
    config: Arc<ServerConfig>,
}

impl ExpectClientHello {
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
        let config = self.config;
        let common = &config.common;
        // RFC 8446 §4.2.1: supported_versions decides; legacy_version is
        // ignored when it is present.
        if common.tls13_enabled() && super::tls13::offers_tls13(&hello)? {
            return super::tls13::handle_client_hello(config.clone(), cx, hello, raw, None)
                .map(State::Tls13);
        }
        if !common.tls12_enabled() {
            return Err(Error::NoCommonParameters {
                alert: AlertDescription::ProtocolVersion,
                why: "client does not support TLS 1.3",
            });
        }

        // RFC 8446 §4.2.1: with supported_versions present, servers "MUST
        // NOT use the ClientHello.legacy_version value for version
        // negotiation" and "MUST only select a version of TLS present in
        // that extension": a TLS 1.3-only offer to a TLS 1.2 server is
        // refused with protocol_version, not served as TLS 1.2.
        if let Some(versions) = hello
            .extensions
            .get::<ClientSupportedVersions>(ExtensionType::SupportedVersions)?
        {
            if !versions.0.contains(&ProtocolVersion::TLSv1_2) {
                return Err(Error::NoCommonParameters {
                    alert: AlertDescription::ProtocolVersion,
                    why: "client does not support TLS 1.2",
                });
            }
        }
        // RFC 5246 Appendix E.1: the client's highest version must reach
        // TLS 1.2, the only version served.
        if hello.legacy_version.to_u16() < ProtocolVersion::TLSv1_2.to_u16() {
            return Err(Error::NoCommonParameters {
                alert: AlertDescription::ProtocolVersion,
                why: "client does not support TLS 1.2",
            });
        }
        // RFC 5246 §7.4.1.2: the null method must be offered.
        if !hello.compression_methods.contains(&CompressionMethod::Null) {
            return Err(Error::illegal("client does not offer null compression"));
        }
        let offer = Offer::decode(&hello, cx)?;
        if common.require_extended_master_secret && !offer.extended_master_secret {
            return Err(Error::handshake_failure(
                "client does not support the extended master secret",
            ));
        }
        let extended_master_secret = common.extended_master_secret && offer.extended_master_secret;
        // Application-registered extensions: answered in the ServerHello.
        let answers = server_answers(&common.hello_extensions, &hello.extensions, &mut cx.info)?;

        let alpn = choose_alpn(&common.alpn, offer.alpn.as_ref())?;
        cx.info.alpn_protocol = alpn.clone();
        cx.info.version = Some(ProtocolVersion::TLSv1_2);

        let mut transcript = Transcript::new();
        transcript.add(raw);
        let mut server_random = cx.hello_random()?;
        // RFC 8446 §4.1.3: a server that could do TLS 1.3 marks a TLS 1.2
        // ServerHello so that a TLS 1.3 client detects a downgrade.
        if common.tls13_enabled() {
            server_random[24..].copy_from_slice(&crate::msgs::handshake::DOWNGRADE_TLS12);
        }

        let mut hs = Handshake {
            transcript,
            randoms: Randoms {
                client: hello.random,
                server: server_random,
            },
            session_id: SessionId::empty(),
            suite: common.suites[0],
            extended_master_secret,
            send_ticket: false,
            config: config.clone(),
        };

        if let Some((session, session_id)) = find_session(&config, &hello, &offer)? {
            return resume(cx, hs, &offer, answers, session, session_id);
        }

        let choice = choose(&config, &hello, &offer)?;
        hs.suite = choice.suite;
        hs.send_ticket = offer.ticket.is_some() && config.ticketer.is_some();
        if config.sessions.is_some() {
            let mut id = [0u8; 32];
            cx.store.random(RandomLevel::Nonce, &mut id)?;
            hs.session_id = SessionId::new(&id).unwrap_or_else(SessionId::empty);
        }
        let encrypt_then_mac =
            common.encrypt_then_mac && offer.encrypt_then_mac && choice.suite.bulk.is_cbc();
        cx.info.cipher_suite = Some(choice.suite.suite);
        cx.info.extended_master_secret = extended_master_secret;
        cx.info.encrypt_then_mac = encrypt_then_mac;
        cx.info.group = Some(choice.group);

        emit_server_hello(cx, &mut hs, &offer, answers, &alpn, encrypt_then_mac)?;
        // RFC 5246 §7.4.2: our chain, leaf first.
        cx.send_handshake(
            &HandshakeMessage {
                typ: HandshakeType::Certificate,
                payload: HandshakePayload::Certificate(CertificatePayload {
                    certificates: choice.certificate.chain.clone(),
                }),
            },
            &mut hs.transcript,
        )?;
        let share = emit_server_key_exchange(cx, &mut hs, &choice)?;
        let requested = config.client_auth != ClientAuth::Off;
        if requested {
            emit_certificate_request(cx, &mut hs)?;
        }
        cx.send_handshake(
            &HandshakeMessage {
                typ: HandshakeType::ServerHelloDone,
                payload: HandshakePayload::ServerHelloDone,
            },
            &mut hs.transcript,
        )?;
        Ok(if requested {
            State::ExpectCertificate(ExpectCertificate { hs, share })
        } else {
            hs.transcript.drop_buffer();
            State::ExpectClientKeyExchange(ExpectClientKeyExchange {
                hs,
                share,
                client_certificate: None,
            })
        })
    }
}

/// RFC 7301 §3.2: the first of our protocols that the client offers; no
/// overlap is fatal.
pub(crate) fn choose_alpn(
    ours: &[Vec<u8>],
    offer: Option<&ProtocolNameList>,
) -> Result<Option<Vec<u8>>, Error> {
    let Some(theirs) = offer else {
        return Ok(None);
    };
    if ours.is_empty() {
        return Ok(None);
    }
    ours.iter()
        .find(|p| theirs.0.contains(p))
        .cloned()
        .map(Some)
        .ok_or(Error::NoCommonParameters {
            alert: AlertDescription::NoApplicationProtocol,
            why: "no ALPN protocol in common",
        })
}

/// Picks the suite, certificate, signature scheme and group.
fn choose(config: &ServerConfig, hello: &ClientHello, offer: &Offer) -> Result<Choice, Error> {
    let common = &config.common;
    let group = common
        .groups
        .iter()
        .copied()
        .find(|g| offer.groups.contains(g));
    // RFC 7366: no CBC suite without encrypt-then-MAC when it is required.
    let ours: Vec<&'static Tls12Suite> = common
        .suites
        .iter()
        .copied()
        .filter(|s| {
            !(common.require_encrypt_then_mac && s.bulk.is_cbc() && !offer.encrypt_then_mac)
        })
        .collect();
    let candidates: Vec<&'static Tls12Suite> = if config.prefer_server_order {
        ours.into_iter()
            .filter(|s| hello.cipher_suites.contains(&s.suite))
            .collect()
    } else {
        hello
            .cipher_suites
            .iter()
            .filter_map(|c| ours.iter().copied().find(|s| s.suite == *c))
            .collect()
    };
    let group = group.ok_or(Error::handshake_failure("no group in common"))?;
    for suite in candidates {
        for certificate in &config.certificates {
            let key = certificate.key.algorithm();
            if !suite.auth.fits_key(key) {
                continue;
            }
            let scheme = common.signature_schemes.iter().copied().find(|s| {
                offer.signature_schemes.contains(s)
                    && tls12_signature_algorithm(*s).is_some_and(|a| a.fits_key(key))
            });
            if let Some(scheme) = scheme {
                return Ok(Choice {
                    suite,
                    certificate: certificate.clone(),
                    scheme,
                    group,
                });
            }
        }
    }
    Err(Error::handshake_failure("no cipher suite in common"))
}

/// Finds a session to resume: a ticket first (RFC 5077 §3.1), then the
/// session ID (RFC 5246 §7.4.1.2).
fn find_session(
    config: &ServerConfig,
    hello: &ClientHello,
    offer: &Offer,
) -> Result<Option<(Arc<Tls12Session>, SessionId)>, Error> {
    let mut found = None;
    if let (Some(ticketer), Some(ticket)) = (&config.ticketer, &offer.ticket) {
        if !ticket.is_empty() {
            // RFC 5077 §3.4: a ticket that does not open means a full
            // handshake, not an error.
            if let Ok((master, state)) = config.common.store.ticket_open(&ticketer.key, ticket) {
                if let Some(state) = TicketState::decode(&state) {
                    if unix_now().saturating_sub(state.created()) <= u64::from(ticketer.lifetime) {
                        found = Some((
                            Arc::new(Tls12Session {
                                suite: state.suite,
                                master: Arc::new(master),
                                extended_master_secret: state.extended_master_secret,
                                created: state.created(),
                                alpn: state.alpn,
                                peer_certificates: state.peer_certificates,
                            }),
                            hello.session_id,
                        ));
                    }
                }
            }
        }
    }
    if found.is_none() && !hello.session_id.is_empty() {
        if let Some(cache) = &config.sessions {
            found = cache.get(&hello.session_id).map(|s| (s, hello.session_id));
        }
    }
    let Some((session, id)) = found else {
        return Ok(None);
    };
    // RFC 7627 §5.3: an EMS session offered without EMS is fatal; a
    // non-EMS session offered with EMS gets a full handshake.
    if session.extended_master_secret && !offer.extended_master_secret {
        return Err(Error::handshake_failure(
            "resumption of an extended-master-secret session without the extension",
        ));
    }
    if !session.extended_master_secret
        && (offer.extended_master_secret || config.common.require_extended_master_secret)
    {
        return Ok(None);
    }
    // The client must still offer the session's suite, and we must allow it.
    if !hello.cipher_suites.contains(&session.suite)
        || !config
            .common
            .suites
            .iter()
            .any(|s| s.suite == session.suite)
    {
        return Ok(None);
    }
    Ok(Some((session, id)))
}

/// The abbreviated handshake: ServerHello, ChangeCipherSpec, Finished.
fn resume(
    cx: &mut CommonState,
    mut hs: Handshake,
    offer: &Offer,
    answers: Extensions,
    session: Arc<Tls12Session>,
    session_id: SessionId,
) -> Result<State, Error> {
    let suite = hs
        .config
        .common
        .suites
        .iter()
        .copied()
        .find(|s| s.suite == session.suite)
        .ok_or(Error::InvalidState("resumed suite vanished"))?;
    hs.suite = suite;
    hs.session_id = session_id;
    // RFC 5077 §3.4: an empty session ID with a ticket gets no echo; the
    // client then recognises resumption by our ChangeCipherSpec.
    let encrypt_then_mac =
        hs.config.common.encrypt_then_mac && offer.encrypt_then_mac && suite.bulk.is_cbc();
    if hs.config.common.require_encrypt_then_mac && suite.bulk.is_cbc() && !encrypt_then_mac {
        return Err(Error::handshake_failure(
            "client resumes a CBC suite without encrypt-then-MAC",
        ));
    }
    cx.info.cipher_suite = Some(suite.suite);
    cx.info.extended_master_secret = session.extended_master_secret;
    cx.info.encrypt_then_mac = encrypt_then_mac;
    cx.info.resumed = true;
    cx.info.alpn_protocol = session.alpn.clone();
    cx.info.peer_certificates = session.peer_certificates.clone();
    let alpn = session.alpn.clone();
    emit_server_hello(cx, &mut hs, offer, answers, &alpn, encrypt_then_mac)?;
    hs.transcript.drop_buffer();
    let mut pending = Pending::new(
        cx,
        session.master.clone(),
        suite.prf,
        &hs.randoms,
        suite.bulk.record_cipher(encrypt_then_mac),
        true,
    )?;
    pending.send_change_cipher_spec_and_finished(cx, &mut hs.transcript, hs.suite.prf)?;
    Ok(State::ExpectChangeCipherSpec(ExpectChangeCipherSpec {
        hs,
        pending,
        client_certificate: None,
    }))
}

fn emit_server_hello(
    cx: &mut CommonState,
    hs: &mut Handshake,
    offer: &Offer,
    answers: Extensions,
    alpn: &Option<Vec<u8>>,
    encrypt_then_mac: bool,
) -> Result<(), Error> {
    let mut extensions = Extensions::new();
    if cx.info.secure_renegotiation {
        extensions.push_body(
            ExtensionType::RenegotiationInfo,
            &RenegotiationInfo(Vec::new()),
        );
    }
    if offer.server_name && cx.info.server_name.is_some() && !cx.info.resumed {
        extensions.push(ExtensionType::ServerName, Vec::new());
    }
    if offer.point_formats && !cx.info.resumed {
        extensions.push_body(
            ExtensionType::EcPointFormats,
            &EcPointFormatList(vec![ECPointFormat::Uncompressed]),
        );
    }
    if cx.info.extended_master_secret {
        extensions.push(ExtensionType::ExtendedMasterSecret, Vec::new());
    }
    if encrypt_then_mac {
        extensions.push(ExtensionType::EncryptThenMac, Vec::new());
    }
    if let Some(p) = alpn {
        extensions.push_body(
            ExtensionType::ApplicationLayerProtocolNegotiation,
            &ProtocolNameList(vec![p.clone()]),
        );
    }
    if hs.send_ticket {
        extensions.push(ExtensionType::SessionTicket, Vec::new());
    }
    // Answers to registered extensions (only to types the client offered).
    for answer in answers.0 {
        extensions.push(answer.typ, answer.data);
    }
    let hello = ServerHello {
        legacy_version: ProtocolVersion::TLSv1_2,
        random: hs.randoms.server,
        session_id: hs.session_id,
        cipher_suite: hs.suite.suite,
        compression_method: CompressionMethod::Null,
        extensions,
    };
    hs.transcript.start_hash(&cx.store, hs.suite.prf)?;
    cx.send_handshake(
        &HandshakeMessage {
            typ: HandshakeType::ServerHello,
            payload: HandshakePayload::ServerHello(hello),
        },
        &mut hs.transcript,
    )?;
    Ok(())
}

/// RFC 8422 §5.4: an ephemeral share, signed with the certificate's key.
fn emit_server_key_exchange(
    cx: &mut CommonState,
    hs: &mut Handshake,
    choice: &Choice,
) -> Result<KeyShare, Error> {
    let group = key_exchange_group(choice.group)
        .ok_or(Error::InvalidState("configured group unsupported"))?;
    let (share, public) = cx.store.start_key_exchange(group)?;
    let params = EcdheServerParams {
        curve_type: ECCurveType::NamedCurve,
        named_group: choice.group,
        public,
    };
    let mut signed = Vec::with_capacity(64 + 4 + params.public.len());
    signed.extend_from_slice(&hs.randoms.client);
    signed.extend_from_slice(&hs.randoms.server);
    params.encode(&mut signed);
    let algorithm = tls12_signature_algorithm(choice.scheme)
        .ok_or(Error::InvalidState("configured scheme unsupported"))?;
    let signature = cx.store.sign(&choice.certificate.key, algorithm, &signed)?;
    let mut body = signed.split_off(64);
    DigitallySigned {
        scheme: choice.scheme,
        signature,
    }
    .encode(&mut body);
    cx.send_handshake(
        &HandshakeMessage {
            typ: HandshakeType::ServerKeyExchange,
            payload: HandshakePayload::ServerKeyExchange(ServerKeyExchangePayload(body)),
        },
        &mut hs.transcript,
    )?;
    Ok(share)
}

/// RFC 5246 §7.4.4.
fn emit_certificate_request(cx: &mut CommonState, hs: &mut Handshake) -> Result<(), Error> {
    let request = CertificateRequestPayload {
        certificate_types: vec![
            ClientCertificateType::EcdsaSign,
            ClientCertificateType::RsaSign,
        ],
        signature_schemes: hs.config.common.signature_schemes.clone(),
        certificate_authorities: Vec::new(),
    };
    cx.send_handshake(
        &HandshakeMessage {
            typ: HandshakeType::CertificateRequest,
            payload: HandshakePayload::CertificateRequest(request),
        },
        &mut hs.transcript,
    )
}

pub(crate) struct ExpectCertificate {
    hs: Handshake,
    share: KeyShare,
}

impl ExpectCertificate {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::Certificate(CertificatePayload { certificates }),
                    ..
                },
            raw,
        } = m
        else {
            return Err(unexpected("Certificate", &m));
        };
        let mut hs = self.hs;
        hs.transcript.add(raw);
        // RFC 5246 §7.4.6: an empty list when the client has none.
        if certificates.is_empty() {
            if hs.config.client_auth == ClientAuth::Require {
                return Err(Error::NoCommonParameters {
                    alert: AlertDescription::HandshakeFailure,
                    why: "client certificate required",
                });
            }
            hs.transcript.drop_buffer();
            return Ok(State::ExpectClientKeyExchange(ExpectClientKeyExchange {
                hs,
                share: self.share,
                client_certificate: None,
            }));
        }
        let verifier = hs
            .config
            .client_verifier
            .as_ref()
            .ok_or(Error::InvalidState("no client verifier"))?;
        let verified = verifier.verify_chain(&certificates, None, true)?;
        cx.info.peer_certificates = certificates;
        Ok(State::ExpectClientKeyExchange(ExpectClientKeyExchange {
            hs,
            share: self.share,
            client_certificate: Some(verified),
        }))
    }
}

pub(crate) struct ExpectClientKeyExchange {
    hs: Handshake,
    share: KeyShare,
    client_certificate: Option<CertificateVerified>,
}

impl ExpectClientKeyExchange {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::ClientKeyExchange(cke),
                    ..
                },
            raw,
        } = m
        else {
            return Err(unexpected("ClientKeyExchange", &m));
        };
        let mut hs = self.hs;
        let public = cke.ecdhe_public()?;
        // RFC 8422 §5.10: the shared secret is the pre-master secret.
        let pre_master = cx
            .store
            .complete_key_exchange(self.share, &public)
            .map_err(|e| match e {
                KeyError::InvalidPeerKey => Error::illegal("invalid client key share"),
                other => Error::from(other),
            })?;
        // A CertificateVerify that follows signs this message too.
        hs.transcript.add(raw);
        let master = derive_master(
            cx,
            &hs.transcript,
            hs.extended_master_secret,
            hs.suite.prf,
            &hs.randoms,
            pre_master,
        )?;
        let master = Arc::new(master);
        let pending = Pending::new(
            cx,
            master,
            hs.suite.prf,
            &hs.randoms,
            hs.suite.bulk.record_cipher(cx.info.encrypt_then_mac),
            false,
        )?;
        Ok(match self.client_certificate {
            Some(verified) => State::ExpectCertificateVerify(ExpectCertificateVerify {
                hs,
                pending,
                verified,
            }),
            None => State::ExpectChangeCipherSpec(ExpectChangeCipherSpec {
                hs,
                pending,
                client_certificate: None,
            }),
        })
    }
}

pub(crate) struct ExpectCertificateVerify {
    hs: Handshake,
    pending: Pending,
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
        // RFC 5246 §7.4.8: the scheme must be one we asked for.
        if !hs.config.common.signature_schemes.contains(&signed.scheme) {
            return Err(Error::illegal(
                "client used a signature scheme not requested",
            ));
        }
        let algorithm = tls12_signature_algorithm(signed.scheme)
            .ok_or(Error::illegal("unknown signature scheme"))?;
        let leaf = cx
            .info
            .peer_certificates
            .first()
            .ok_or(Error::InvalidState("no client certificate"))?;
        let kind = spki_algorithm(leaf).unwrap_or(PublicKeyAlgorithm::Ed25519);
        if !algorithm.fits_key(kind) {
            return Err(Error::illegal(
                "signature scheme does not fit the client's key",
            ));
        }
        let verifier = hs
            .config
            .client_verifier
            .as_ref()
            .ok_or(Error::InvalidState("no client verifier"))?;
        let proof = verifier.verify_signature(
            &self.verified,
            leaf,
            algorithm,
            hs.transcript.messages(),
            &signed.signature,
        )?;
        hs.transcript.add(raw);
        hs.transcript.drop_buffer();
        Ok(State::ExpectChangeCipherSpec(ExpectChangeCipherSpec {
            hs,
            pending: self.pending,
            client_certificate: Some(proof),
        }))
    }
}

pub(crate) struct ExpectChangeCipherSpec {
    hs: Handshake,
    pending: Pending,
    client_certificate: Option<SignatureVerified>,
}

impl ExpectChangeCipherSpec {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let Message::ChangeCipherSpec = m else {
            return Err(unexpected("ChangeCipherSpec", &m));
        };
        let mut pending = self.pending;
        pending.start_reading(cx)?;
        Ok(State::ExpectFinished(ExpectFinished {
            hs: self.hs,
            pending,
            _client_certificate: self.client_certificate,
        }))
    }
}

pub(crate) struct ExpectFinished {
    hs: Handshake,
    pending: Pending,
    _client_certificate: Option<SignatureVerified>,
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
        let mut pending = self.pending;
        let _verified = pending.check_peer_finished(cx, &hs.transcript, hs.suite.prf, &finished)?;
        hs.transcript.add(raw);
        if !pending.resumed {
            if hs.send_ticket {
                emit_new_session_ticket(cx, &mut hs, &pending)?;
            }
            pending.send_change_cipher_spec_and_finished(cx, &mut hs.transcript, hs.suite.prf)?;
            if let Some(cache) = &hs.config.sessions {
                if !hs.session_id.is_empty() {
                    cache.put(
                        &hs.session_id,
                        Arc::new(Tls12Session {
                            suite: hs.suite.suite,
                            master: pending.master.clone(),
                            extended_master_secret: hs.extended_master_secret,
                            alpn: cx.info.alpn_protocol.clone(),
                            peer_certificates: cx.info.peer_certificates.clone(),
                            created: unix_now(),
                        }),
                    );
                }
            }
        }
        tls12::finish(cx, &pending, hs.suite.prf, &hs.randoms);
        Ok(State::Traffic)
    }
}

/// RFC 5077 §3.3: the ticket seals the master secret inside the store.
fn emit_new_session_ticket(
    cx: &mut CommonState,
    hs: &mut Handshake,
    pending: &Pending,
) -> Result<(), Error> {
    let Some(ticketer) = &hs.config.ticketer else {
        return Ok(());
    };
    let mut state = TicketState::new(hs.suite.suite);
    state.extended_master_secret = hs.extended_master_secret;
    state.alpn = cx.info.alpn_protocol.clone();
    state.peer_certificates = cx.info.peer_certificates.clone();
    let ticket = cx
        .store
        .ticket_seal(&ticketer.key, &pending.master, &state.encode())?;
    let lifetime_hint = ticketer.lifetime;
    cx.send_handshake(
        &HandshakeMessage {
            typ: HandshakeType::NewSessionTicket,
            payload: HandshakePayload::NewSessionTicket(NewSessionTicketPayload {
                lifetime_hint,
                ticket,
            }),
        },
        &mut hs.transcript,
    )?;
    cx.info.ticket_issued = true;
    Ok(())
}

/// After the handshake: a ClientHello asks for renegotiation, which
/// hsmtls refuses (RFC 5746 §4.4 allows refusing; the alert is the
/// `no_renegotiation` warning of RFC 5246 §7.2.2).
fn handle_traffic(cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
    match m {
        Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::ClientHello(_),
                    ..
                },
            ..
        } => {
            cx.send_alert(AlertLevel::Warning, AlertDescription::NoRenegotiation);
            Ok(State::Traffic)
        }
        other => Err(unexpected("application data", &other)),
    }
}
