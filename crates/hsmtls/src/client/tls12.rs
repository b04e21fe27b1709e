//! The TLS 1.2 client handshake (RFC 5246 §7.3), as one `Expect*` state
//! per message the server may send next:
//!
//! ```text
//! full:    ClientHello → ServerHello Certificate ServerKeyExchange
//!          [CertificateRequest] ServerHelloDone → [Certificate]
//!          ClientKeyExchange [CertificateVerify] CCS Finished →
//!          [NewSessionTicket] CCS Finished
//! resumed: ClientHello → ServerHello [NewSessionTicket] CCS Finished →
//!          CCS Finished
//! ```

use std::net::IpAddr;
use std::sync::Arc;

use hsmtls_keys::{PublicKeyAlgorithm, RandomLevel};

use crate::config::{CertifiedKey, ClientConfig};
use crate::conn::{CommonState, Message};
use crate::error::Error;
use crate::extensions::{client_answers, client_offers, was_offered, Registered};
use crate::msgs::base::SessionId;
use crate::msgs::codec::Codec;
use crate::msgs::enums::{
    AlertDescription, AlertLevel, ClientCertificateType, CompressionMethod, ECPointFormat,
    ExtensionType, HandshakeType, NamedGroup, ProtocolVersion, SignatureScheme,
};
use crate::msgs::ext::alpn::ProtocolNameList;
use crate::msgs::ext::ec_point_formats::EcPointFormatList;
use crate::msgs::ext::renegotiation_info::RenegotiationInfo;
use crate::msgs::ext::server_name::ServerNameList;
use crate::msgs::ext::signature_algorithms::SignatureSchemeList;
use crate::msgs::ext::supported_groups::NamedGroupList;
use crate::msgs::ext::supported_versions::ServerSupportedVersion;
use crate::msgs::ext::Extensions;
use crate::msgs::handshake::{
    CertificatePayload, CertificateRequestPayload, ClientHello, ClientKeyExchangePayload,
    DigitallySigned, HandshakeMessage, HandshakePayload, ServerHello,
};
use crate::session::{unix_now, ClientSession, Tls12Session};
use crate::suites::{key_exchange_group, tls12_signature_algorithm, Tls12Suite};
use crate::tls12::{self, derive_master, Pending, Randoms};
use crate::transcript::Transcript;
use crate::verify::{CertificateVerified, SignatureVerified};

/// Everything the client carries from state to state.
struct Handshake {
    config: Arc<ClientConfig>,
    server_name: String,
    transcript: Transcript,
    randoms: Randoms,
    /// The session offered for resumption, and the ID sent with it.
    offered: Option<ClientSession>,
    sent_session_id: SessionId,
    suite: &'static Tls12Suite,
    extended_master_secret: bool,
    encrypt_then_mac: bool,
    expect_ticket: bool,
    /// A ticket from NewSessionTicket (RFC 5077 §3.3).
    new_ticket: Option<Vec<u8>>,
    /// The ClientHello and what it offered for TLS 1.3, if it did.
    tls13: Option<(ClientHello, super::tls13::Offer13)>,
    /// The registered extensions that offered a body.
    offered_extensions: Registered,
}

pub(crate) enum State {
    ExpectServerHello(ExpectServerHello),
    ExpectCertificate(ExpectCertificate),
    ExpectServerKeyExchange(ExpectServerKeyExchange),
    ExpectServerHelloDone(ExpectServerHelloDone),
    ExpectNewTicket(ExpectNewTicket),
    ExpectChangeCipherSpec(ExpectChangeCipherSpec),
    ExpectFinished(ExpectFinished),
    Traffic,
    /// The server chose TLS 1.3.
    Tls13(super::tls13::State),
}

impl State {
    pub(crate) fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<Self, Error> {
        // RFC 5246 §7.4.1.1: HelloRequest "will be ignored by the client if
        // the client is currently negotiating a session", and it is never
        // part of the transcript. Not between ChangeCipherSpec and
        // Finished, which must follow it at once (§7.4.9).
        let hello_request = matches!(
            m,
            Message::Handshake {
                parsed: HandshakeMessage {
                    payload: HandshakePayload::HelloRequest,
                    ..
                },
                ..
            }
        );
        if hello_request && !matches!(self, Self::Traffic | Self::ExpectFinished(_)) {
            return Ok(self);
        }
        match self {
            Self::ExpectServerHello(s) => s.handle(cx, m),
            Self::ExpectCertificate(s) => s.handle(cx, m),
            Self::ExpectServerKeyExchange(s) => s.handle(cx, m),
            Self::ExpectServerHelloDone(s) => s.handle(cx, m),
            Self::ExpectNewTicket(s) => s.handle(cx, m),
            Self::ExpectChangeCipherSpec(s) => s.handle(cx, m),
            Self::ExpectFinished(s) => s.handle(cx, m),
            Self::Traffic => handle_traffic(cx, m),
            Self::Tls13(s) => s.handle(cx, m).map(Self::Tls13),
        }
    }
}

fn unexpected(expected: &'static str, m: &Message<'_>) -> Error {
    Error::UnexpectedMessage {
        expected,
        got: m.kind(),
    }
}

/// Builds and queues the ClientHello (RFC 5246 §7.4.1.2).
pub(crate) fn start(
    config: Arc<ClientConfig>,
    server_name: &str,
    cx: &mut CommonState,
) -> Result<State, Error> {
    let common = &config.common;
    let client_random = cx.hello_random()?;

    let cached = config.sessions.as_ref().and_then(|s| s.get(server_name));
    // A TLS 1.3 ticket is offered as a PSK, a TLS 1.2 session as itself.
    let (cached13, cached12) = match cached {
        Some(s) if s.tls13.is_some() => (Some(s), None),
        other => (None, other),
    };
    let offered = cached12.filter(|s| {
        common.tls12_enabled()
            && common.suites.iter().any(|x| x.suite == s.session.suite)
            && (s.session.extended_master_secret || !common.require_extended_master_secret)
    });
    // RFC 5077 §3.4: with a ticket the client may send a fresh session ID
    // to recognise the server's acceptance by its echo.
    let sent_session_id = match &offered {
        Some(s) if s.ticket.is_some() || s.session_id.is_empty() => {
            let mut id = [0u8; 32];
            cx.store.random(RandomLevel::Nonce, &mut id)?;
            SessionId::new(&id).unwrap_or_else(SessionId::empty)
        }
        Some(s) => s.session_id,
        // RFC 8446 §D.4: a TLS 1.3 client in middlebox compatibility mode
        // sends a fresh 32-byte session ID.
        None if common.tls13_enabled() => {
            let mut id = [0u8; 32];
            cx.store.random(RandomLevel::Nonce, &mut id)?;
            SessionId::new(&id).unwrap_or_else(SessionId::empty)
        }
        None => SessionId::empty(),
    };

    let mut extensions = Extensions::new();
    let is_ip = server_name.parse::<IpAddr>().is_ok();
    // RFC 6066 §3: literal IP addresses are not permitted in SNI.
    if !is_ip {
        extensions.push_body(
            ExtensionType::ServerName,
            &ServerNameList::new_host_name(server_name),
        );
    }
    extensions.push_body(
        ExtensionType::EcPointFormats,
        &EcPointFormatList(vec![ECPointFormat::Uncompressed]),
    );
    let mut groups = Vec::new();
    if common.tls13_enabled() {
        groups.extend(common.tls13_groups());
    }
    if common.tls12_enabled() {
        for g in common.tls12_groups() {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    }
    extensions.push_body(ExtensionType::SupportedGroups, &NamedGroupList(groups));
    if config.session_tickets && common.tls12_enabled() {
        let ticket = offered
            .as_ref()
            .and_then(|s| s.ticket.clone())
            .unwrap_or_default();
        extensions.push(ExtensionType::SessionTicket, ticket);
    }
    if !common.alpn.is_empty() {
        extensions.push_body(
            ExtensionType::ApplicationLayerProtocolNegotiation,
            &ProtocolNameList(common.alpn.clone()),
        );
    }
    if common.encrypt_then_mac
        && common.tls12_enabled()
        && common.suites.iter().any(|s| s.bulk.is_cbc())
    {
        extensions.push(ExtensionType::EncryptThenMac, Vec::new());
    }
    if common.extended_master_secret && common.tls12_enabled() {
        extensions.push(ExtensionType::ExtendedMasterSecret, Vec::new());
    }
    let mut schemes = Vec::new();
    if common.tls13_enabled() {
        schemes.extend(common.tls13_signature_schemes.iter().copied());
    }
    if common.tls12_enabled() {
        for s in common.signature_schemes.iter().copied() {
            if !schemes.contains(&s) {
                schemes.push(s);
            }
        }
    }
    extensions.push_body(
        ExtensionType::SignatureAlgorithms,
        &SignatureSchemeList(schemes),
    );
    if common.tls12_enabled() {
        // RFC 5746 §3.4: an initial handshake sends an empty
        // renegotiation_info (or the SCSV).
        extensions.push_body(
            ExtensionType::RenegotiationInfo,
            &RenegotiationInfo(Vec::new()),
        );
    }
    // Application-registered extensions, before the TLS 1.3 ones.
    let offered_extensions = client_offers(&common.hello_extensions, &mut extensions);
    // The TLS 1.3 extensions go last: pre_shared_key must be the very last
    // (RFC 8446 §4.2.11).
    let offer13 = if common.tls13_enabled() {
        // The group this server chose last time, if still configured.
        let known_group = cached13
            .as_ref()
            .and_then(|s| s.tls13.as_ref()?.group)
            .filter(|g| common.tls13_groups().contains(g));
        Some(super::tls13::add_extensions(
            &config,
            cx,
            &mut extensions,
            cached13.as_ref(),
            known_group,
            None,
            true,
        )?)
    } else {
        None
    };

    let mut cipher_suites: Vec<_> = Vec::new();
    if common.tls13_enabled() {
        cipher_suites.extend(common.tls13_suites.iter().map(|s| s.suite));
    }
    if common.tls12_enabled() {
        cipher_suites.extend(common.suites.iter().map(|s| s.suite));
    }
    let hello = ClientHello {
        legacy_version: ProtocolVersion::TLSv1_2,
        random: client_random,
        session_id: sent_session_id,
        cipher_suites,
        compression_methods: vec![CompressionMethod::Null],
        extensions,
    };
    let mut transcript = Transcript::new();
    cx.info.server_name = (!is_ip).then(|| server_name.to_owned());
    // RFC 5246 Appendix E.1: {03,01} in the record of the first
    // ClientHello reaches old servers.
    cx.record.write_version = ProtocolVersion::TLSv1_0;
    let tls13 = match offer13 {
        Some(offer) => {
            super::tls13::send_client_hello(cx, &mut transcript, hello.clone(), &offer)?;
            Some((hello, offer))
        }
        None => {
            cx.send_handshake(
                &HandshakeMessage {
                    typ: HandshakeType::ClientHello,
                    payload: HandshakePayload::ClientHello(hello),
                },
                &mut transcript,
            )?;
            None
        }
    };
    Ok(State::ExpectServerHello(ExpectServerHello {
        hs: Handshake {
            server_name: server_name.to_owned(),
            transcript,
            randoms: Randoms {
                client: client_random,
                server: [0; 32],
            },
            offered,
            sent_session_id,
            suite: config
                .common
                .suites
                .first()
                .copied()
                .unwrap_or(&crate::suites::TLS12_SUITES[0]),
            extended_master_secret: false,
            encrypt_then_mac: false,
            expect_ticket: false,
            new_ticket: None,
            tls13,
            offered_extensions,
            config,
        },
    }))
}

pub(crate) struct ExpectServerHello {
    hs: Handshake,
}

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
        let mut hs = self.hs;
        cx.record.write_version = ProtocolVersion::TLSv1_2;
        // RFC 8446 §4.2.1: supported_versions in the ServerHello selects
        // TLS 1.3; it may only answer a client that offered it.
        let selected = hello
            .extensions
            .get::<ServerSupportedVersion>(ExtensionType::SupportedVersions)?
            .map(|v| v.0);
        if let Some(version) = selected {
            let Some((client_hello, offer)) = hs.tls13.take() else {
                return Err(Error::peer(
                    AlertDescription::UnsupportedExtension,
                    "supported_versions in answer to a TLS 1.2 ClientHello",
                ));
            };
            if version != ProtocolVersion::TLSv1_3 {
                return Err(Error::illegal("server selected a version not offered"));
            }
            let start = super::tls13::Start13 {
                config: hs.config,
                server_name: hs.server_name,
                transcript: hs.transcript,
                client_hello,
                offer,
                retried: false,
                offered_extensions: hs.offered_extensions,
            };
            return super::tls13::handle_server_hello(cx, start, hello, raw).map(State::Tls13);
        }
        if hs.tls13.is_some() {
            // RFC 8446 §D.3: a client that sent 0-RTT data cannot go on
            // in TLS 1.2 (the server cannot read those records).
            if cx.early_writer.is_some() {
                return Err(Error::NoCommonParameters {
                    alert: AlertDescription::ProtocolVersion,
                    why: "TLS 1.2 ServerHello after 0-RTT data",
                });
            }
            // RFC 8446 §4.1.3: a TLS 1.3 client checks the downgrade
            // sentinel of a TLS 1.2 ServerHello.
            if hello.downgrade_sentinel().is_some() {
                return Err(Error::illegal(
                    "TLS 1.2 ServerHello with the TLS 1.3 downgrade sentinel",
                ));
            }
            if !hs.config.common.tls12_enabled() {
                return Err(Error::NoCommonParameters {
                    alert: AlertDescription::ProtocolVersion,
                    why: "server does not support TLS 1.3",
                });
            }
        }
        let common = &hs.config.common;

        // RFC 5246 §7.4.1.3 and Appendix E.1: we offer only TLS 1.2.
        if hello.legacy_version != ProtocolVersion::TLSv1_2 {
            return Err(Error::NoCommonParameters {
                alert: AlertDescription::ProtocolVersion,
                why: "server chose a version other than TLS 1.2",
            });
        }
        let suite = common
            .suites
            .iter()
            .copied()
            .find(|s| s.suite == hello.cipher_suite)
            .ok_or(Error::illegal("server chose a cipher suite not offered"))?;
        if hello.compression_method != CompressionMethod::Null {
            return Err(Error::illegal("server chose compression"));
        }
        check_server_extensions(&hs, &hello)?;

        // RFC 5746 §3.4: an initial handshake's renegotiation_info must be
        // empty.
        if let Some(ri) = hello
            .extensions
            .get::<RenegotiationInfo>(ExtensionType::RenegotiationInfo)?
        {
            if !ri.0.is_empty() {
                return Err(Error::peer(
                    AlertDescription::HandshakeFailure,
                    "non-empty renegotiation_info in an initial handshake",
                ));
            }
            cx.info.secure_renegotiation = true;
        }
        if let Some(formats) = hello
            .extensions
            .get::<EcPointFormatList>(ExtensionType::EcPointFormats)?
        {
            // RFC 8422 §5.2: uncompressed must be supported.
            if !formats.0.contains(&ECPointFormat::Uncompressed) {
                return Err(Error::illegal("server does not accept uncompressed points"));
            }
        }
        hs.extended_master_secret = hello
            .extensions
            .contains(ExtensionType::ExtendedMasterSecret);
        if common.require_extended_master_secret && !hs.extended_master_secret {
            return Err(Error::handshake_failure(
                "server does not support the extended master secret",
            ));
        }
        hs.encrypt_then_mac = hello.extensions.contains(ExtensionType::EncryptThenMac);
        // RFC 7366 §3: never with an AEAD suite.
        if hs.encrypt_then_mac && !suite.bulk.is_cbc() {
            return Err(Error::illegal("encrypt_then_mac with a non-CBC suite"));
        }
        if common.require_encrypt_then_mac && suite.bulk.is_cbc() && !hs.encrypt_then_mac {
            return Err(Error::handshake_failure(
                "server chose a CBC suite without encrypt-then-MAC",
            ));
        }
        if let Some(alpn) = hello
            .extensions
            .get::<ProtocolNameList>(ExtensionType::ApplicationLayerProtocolNegotiation)?
        {
            // RFC 7301 §3.1: exactly one protocol, one we offered.
            match alpn.0.as_slice() {
                [one] if common.alpn.contains(one) => cx.info.alpn_protocol = Some(one.clone()),
                _ => return Err(Error::illegal("server chose an ALPN protocol not offered")),
            }
        }
        client_answers(&hs.offered_extensions, &hello.extensions, &mut cx.info)?;
        hs.expect_ticket = hello.extensions.contains(ExtensionType::SessionTicket);
        hs.suite = suite;
        hs.randoms.server = hello.random;
        hs.transcript.start_hash(&cx.store, suite.prf)?;
        hs.transcript.add(raw);

        cx.info.version = Some(ProtocolVersion::TLSv1_2);
        cx.info.cipher_suite = Some(suite.suite);
        cx.info.extended_master_secret = hs.extended_master_secret;
        cx.info.encrypt_then_mac = hs.encrypt_then_mac && suite.bulk.is_cbc();

        // Resumption: the server echoes the session ID we sent
        // (RFC 5246 §7.4.1.3, RFC 5077 §3.4).
        let resumed = match &hs.offered {
            Some(offered)
                if !hello.session_id.is_empty() && hello.session_id == hs.sent_session_id =>
            {
                if offered.session.suite != suite.suite {
                    return Err(Error::illegal("resumed session with another cipher suite"));
                }
                // RFC 7627 §5.3: the EMS state of a resumed session must
                // match the original's.
                if offered.session.extended_master_secret != hs.extended_master_secret {
                    return Err(Error::handshake_failure(
                        "extended master secret differs from the resumed session",
                    ));
                }
                Some(offered.session.clone())
            }
            _ => None,
        };
        let Some(session) = resumed else {
            // A fresh session: remember the server's ID for the next time.
            hs.sent_session_id = hello.session_id;
            hs.offered = None;
            return Ok(State::ExpectCertificate(ExpectCertificate { hs }));
        };
        cx.info.resumed = true;
        cx.info.alpn_protocol = session.alpn.clone();
        cx.info.peer_certificates = session.peer_certificates.clone();
        let pending = Pending::new(
            cx,
            session.master.clone(),
            suite.prf,
            &hs.randoms,
            suite.bulk.record_cipher(cx.info.encrypt_then_mac),
            true,
        )?;
        Ok(if hs.expect_ticket {
            State::ExpectNewTicket(ExpectNewTicket { hs, pending })
        } else {
            State::ExpectChangeCipherSpec(ExpectChangeCipherSpec { hs, pending })
        })
    }
}

/// RFC 5246 §7.4.1.4: a server may only answer extensions the client sent.
fn check_server_extensions(hs: &Handshake, hello: &ServerHello) -> Result<(), Error> {
    let common = &hs.config.common;
    for typ in hello.extensions.types() {
        let offered = match typ {
            ExtensionType::ServerName => true,
            ExtensionType::EcPointFormats | ExtensionType::RenegotiationInfo => true,
            ExtensionType::SessionTicket => hs.config.session_tickets,
            ExtensionType::ApplicationLayerProtocolNegotiation => !common.alpn.is_empty(),
            ExtensionType::EncryptThenMac => {
                common.encrypt_then_mac && common.suites.iter().any(|s| s.bulk.is_cbc())
            }
            ExtensionType::ExtendedMasterSecret => common.extended_master_secret,
            _ => was_offered(&hs.offered_extensions, typ),
        };
        if !offered {
            return Err(Error::peer(
                AlertDescription::UnsupportedExtension,
                "server sent an extension the client did not offer",
            ));
        }
    }
    for empty in [
        ExtensionType::ServerName,
        ExtensionType::SessionTicket,
        ExtensionType::EncryptThenMac,
        ExtensionType::ExtendedMasterSecret,
    ] {
        if hello.extensions.find(empty).is_some_and(|d| !d.is_empty()) {
            return Err(Error::peer(
                AlertDescription::DecodeError,
                "server extension must be empty",
            ));
        }
    }
    Ok(())
}

pub(crate) struct ExpectCertificate {
    hs: Handshake,
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
        // RFC 5246 §7.4.2: the sender's certificate comes first; path
        // validation per RFC 5280, the name per RFC 6125.
        let verified =
            hs.config
                .verifier
                .verify_chain(&certificates, Some(&hs.server_name), false)?;
        cx.info.peer_certificates = certificates;
        Ok(State::ExpectServerKeyExchange(ExpectServerKeyExchange {
            hs,
            verified,
        }))
    }
}

pub(crate) struct ExpectServerKeyExchange {
    hs: Handshake,
    verified: CertificateVerified,
}

impl ExpectServerKeyExchange {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::ServerKeyExchange(ske),
                    ..
                },
            raw,
        } = m
        else {
            return Err(unexpected("ServerKeyExchange", &m));
        };
        let mut hs = self.hs;
        let (params, signed) = ske.ecdhe()?;
        let common = &hs.config.common;
        // RFC 8422 §5.4: the curve must be one the client offered.
        if !common.groups.contains(&params.named_group) {
            return Err(Error::illegal("server chose a group not offered"));
        }
        let scheme = signed.scheme;
        if !common.signature_schemes.contains(&scheme) {
            return Err(Error::illegal("server used a signature scheme not offered"));
        }
        let algorithm = tls12_signature_algorithm(scheme)
            .ok_or(Error::illegal("server used an unknown signature scheme"))?;
        let leaf = cx
            .info
            .peer_certificates
            .first()
            .ok_or(Error::InvalidState("no server certificate"))?;
        let key_kind = crate::verify::spki_algorithm(leaf).ok_or(Error::BadCertificate {
            alert: AlertDescription::UnsupportedCertificate,
            why: "server certificate key of an unsupported kind".into(),
        })?;
        if !hs.suite.auth.fits_key(key_kind) || !algorithm.fits_key(key_kind) {
            return Err(Error::illegal(
                "signature scheme does not fit the suite or the certificate",
            ));
        }
        // RFC 8422 §5.4: signed_params = client_random + server_random +
        // ServerECDHParams.
        let mut message = Vec::with_capacity(64 + 4 + params.public.len());
        message.extend_from_slice(&hs.randoms.client);
        message.extend_from_slice(&hs.randoms.server);
        params.encode(&mut message);
        let signature_verified = hs.config.verifier.verify_signature(
            &self.verified,
            leaf,
            algorithm,
            &message,
            &signed.signature,
        )?;
        hs.transcript.add(raw);
        cx.info.group = Some(params.named_group);
        Ok(State::ExpectServerHelloDone(ExpectServerHelloDone {
            hs,
            group: params.named_group,
            server_share: params.public,
            certificate_request: None,
            _signature_verified: signature_verified,
        }))
    }
}

pub(crate) struct ExpectServerHelloDone {
    hs: Handshake,
    group: NamedGroup,
    server_share: Vec<u8>,
    certificate_request: Option<CertificateRequestPayload>,
    _signature_verified: SignatureVerified,
}

impl ExpectServerHelloDone {
    fn handle(mut self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        match m {
            Message::Handshake {
                parsed:
                    HandshakeMessage {
                        payload: HandshakePayload::CertificateRequest(request),
                        ..
                    },
                raw,
            } if self.certificate_request.is_none() => {
                self.hs.transcript.add(raw);
                self.certificate_request = Some(request);
                Ok(State::ExpectServerHelloDone(self))
            }
            Message::Handshake {
                parsed:
                    HandshakeMessage {
                        payload: HandshakePayload::ServerHelloDone,
                        ..
                    },
                raw,
            } => {
                self.hs.transcript.add(raw);
                self.send_client_flight(cx)
            }
            other => Err(unexpected("CertificateRequest or ServerHelloDone", &other)),
        }
    }

    /// RFC 5246 §7.3: [Certificate] ClientKeyExchange [CertificateVerify]
    /// ChangeCipherSpec Finished.
    fn send_client_flight(self, cx: &mut CommonState) -> Result<State, Error> {
        let mut hs = self.hs;
        let config = hs.config.clone();

        let client_auth = match &self.certificate_request {
            None => None,
            Some(request) => {
                let chosen = config
                    .client_certificate
                    .as_ref()
                    .and_then(|ck| choose_client_scheme(ck, request).map(|s| (ck, s)));
                let chain = chosen.map(|(ck, _)| ck.chain.clone()).unwrap_or_default();
                cx.send_handshake(
                    &HandshakeMessage {
                        typ: HandshakeType::Certificate,
                        payload: HandshakePayload::Certificate(CertificatePayload {
                            certificates: chain,
                        }),
                    },
                    &mut hs.transcript,
                )?;
                chosen
            }
        };

        // RFC 8422 §5.7 and §5.10: our share, then the shared secret as
        // the pre-master secret, all inside the key store.
        let group = key_exchange_group(self.group)
            .ok_or(Error::illegal("server chose an unsupported group"))?;
        let (share, public) = cx.store.start_key_exchange(group)?;
        let pre_master = cx
            .store
            .complete_key_exchange(share, &self.server_share)
            .map_err(|e| match e {
                hsmtls_keys::KeyError::InvalidPeerKey => Error::illegal("invalid server key share"),
                other => Error::from(other),
            })?;
        cx.send_handshake(
            &HandshakeMessage {
                typ: HandshakeType::ClientKeyExchange,
                payload: HandshakePayload::ClientKeyExchange(
                    ClientKeyExchangePayload::from_ecdhe_public(&public),
                ),
            },
            &mut hs.transcript,
        )?;
        let master = derive_master(
            cx,
            &hs.transcript,
            hs.extended_master_secret,
            hs.suite.prf,
            &hs.randoms,
            pre_master,
        )?;

        if let Some((ck, scheme)) = client_auth {
            // RFC 5246 §7.4.8: the signature covers all handshake messages
            // up to here.
            let algorithm = tls12_signature_algorithm(scheme)
                .ok_or(Error::InvalidState("unsupported client signature scheme"))?;
            let signature = cx
                .store
                .sign(&ck.key, algorithm, hs.transcript.messages())?;
            cx.send_handshake(
                &HandshakeMessage {
                    typ: HandshakeType::CertificateVerify,
                    payload: HandshakePayload::CertificateVerify(DigitallySigned {
                        scheme,
                        signature,
                    }),
                },
                &mut hs.transcript,
            )?;
        }
        hs.transcript.drop_buffer();

        let master = Arc::new(master);
        let mut pending = Pending::new(
            cx,
            master,
            hs.suite.prf,
            &hs.randoms,
            hs.suite.bulk.record_cipher(cx.info.encrypt_then_mac),
            false,
        )?;
        pending.send_change_cipher_spec_and_finished(cx, &mut hs.transcript, hs.suite.prf)?;
        Ok(if hs.expect_ticket {
            State::ExpectNewTicket(ExpectNewTicket { hs, pending })
        } else {
            State::ExpectChangeCipherSpec(ExpectChangeCipherSpec { hs, pending })
        })
    }
}

/// Picks the scheme for CertificateVerify: the server's preference order
/// among those our key can make (RFC 5246 §7.4.4, §7.4.8).
fn choose_client_scheme(
    ck: &CertifiedKey,
    request: &CertificateRequestPayload,
) -> Option<SignatureScheme> {
    let key = ck.key.algorithm();
    let wanted_type = match key {
        PublicKeyAlgorithm::Ec(_) => ClientCertificateType::EcdsaSign,
        PublicKeyAlgorithm::Rsa => ClientCertificateType::RsaSign,
        PublicKeyAlgorithm::Ed25519 => return None,
    };
    if !request.certificate_types.contains(&wanted_type) {
        return None;
    }
    request
        .signature_schemes
        .iter()
        .copied()
        .find(|s| tls12_signature_algorithm(*s).is_some_and(|a| a.fits_key(key)))
}

pub(crate) struct ExpectNewTicket {
    hs: Handshake,
    pending: Pending,
}

impl ExpectNewTicket {
    fn handle(self, cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
        let Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::NewSessionTicket(ticket),
                    ..
                },
            raw,
        } = m
        else {
            return Err(unexpected("NewSessionTicket", &m));
        };
        let mut hs = self.hs;
        hs.transcript.add(raw);
        cx.info.ticket_issued = !ticket.ticket.is_empty();
        hs.new_ticket = (!ticket.ticket.is_empty()).then_some(ticket.ticket);
        Ok(State::ExpectChangeCipherSpec(ExpectChangeCipherSpec {
            hs,
            pending: self.pending,
        }))
    }
}

pub(crate) struct ExpectChangeCipherSpec {
    hs: Handshake,
    pending: Pending,
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
        }))
    }
}

pub(crate) struct ExpectFinished {
    hs: Handshake,
    pending: Pending,
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
        if pending.resumed {
            pending.send_change_cipher_spec_and_finished(cx, &mut hs.transcript, hs.suite.prf)?;
        }
        remember_session(cx, &hs, &pending);
        tls12::finish(cx, &pending, hs.suite.prf, &hs.randoms);
        Ok(State::Traffic)
    }
}

fn remember_session(cx: &CommonState, hs: &Handshake, pending: &Pending) {
    let Some(cache) = &hs.config.sessions else {
        return;
    };
    if pending.resumed && hs.new_ticket.is_none() {
        return; // the cached session stays as it is
    }
    let session_id = hs.sent_session_id;
    if session_id.is_empty() && hs.new_ticket.is_none() {
        return;
    }
    cache.put(
        &hs.server_name,
        ClientSession {
            session_id,
            ticket: hs.new_ticket.clone(),
            session: Arc::new(Tls12Session {
                suite: hs.suite.suite,
                master: pending.master.clone(),
                extended_master_secret: hs.extended_master_secret,
                alpn: cx.info.alpn_protocol.clone(),
                peer_certificates: cx.info.peer_certificates.clone(),
                created: unix_now(),
            }),
            tls13: None,
        },
    );
}

/// After the handshake: RFC 5746 §4.2 lets a client refuse a server's
/// HelloRequest with a `no_renegotiation` warning.
fn handle_traffic(cx: &mut CommonState, m: Message<'_>) -> Result<State, Error> {
    match m {
        Message::Handshake {
            parsed:
                HandshakeMessage {
                    payload: HandshakePayload::HelloRequest,
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
