//! The sans-IO connection: bytes in with [`Connection::read_tls`], bytes
//! out with [`Connection::write_tls`], progress with
//! [`Connection::process_new_packets`], plaintext through
//! [`Connection::reader`] and [`Connection::writer`].

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::ops::Range;
use std::sync::Arc;

use hsmtls_keys::KeyStore;

use crate::client;
use crate::config::{ClientConfig, ServerConfig};
use crate::error::{Error, MessageKind};
use crate::hooks::{Direction, HandshakeHook};
use crate::msgs::alert::AlertMessage;
use crate::msgs::codec::{Codec, Reader};
use crate::msgs::deframer::{HandshakeJoiner, MessageDeframer};
use crate::msgs::enums::{
    AlertDescription, AlertLevel, CipherSuite, ContentType, ExtensionType, NamedGroup,
    ProtocolVersion,
};
use crate::msgs::handshake::HandshakeMessage;
use crate::record::RecordLayer;
use crate::server;
use crate::transcript::Transcript;

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client.
    Client,
    /// The server.
    Server,
}

/// What was negotiated, as far as the handshake has got.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Negotiated {
    /// The protocol version.
    pub version: Option<ProtocolVersion>,
    /// The cipher suite.
    pub cipher_suite: Option<CipherSuite>,
    /// The (EC)DHE group (none on resumption).
    pub group: Option<NamedGroup>,
    /// Whether the extended master secret (RFC 7627) is in use.
    pub extended_master_secret: bool,
    /// Whether encrypt-then-MAC (RFC 7366) is in use.
    pub encrypt_then_mac: bool,
    /// Whether both sides indicated secure renegotiation (RFC 5746).
    pub secure_renegotiation: bool,
    /// The ALPN protocol (RFC 7301).
    pub alpn_protocol: Option<Vec<u8>>,
    /// Whether the session was resumed.
    pub resumed: bool,
    /// Whether the server issued a session ticket.
    pub ticket_issued: bool,
    /// TLS 1.3: whether the server accepted the client's 0-RTT data.
    pub early_data_accepted: bool,
    /// The peer's certificate chain, leaf first (DER).
    pub peer_certificates: Vec<Vec<u8>>,
    /// The server name the client asked for (SNI).
    pub server_name: Option<String>,
    /// What the peer sent of each registered
    /// [`HelloExtension`](crate::extensions::HelloExtension), in
    /// registration order: on a server the client's offers, on a client
    /// the server's answers.
    pub peer_extensions: Vec<(ExtensionType, Vec<u8>)>,
    /// The key store holding this connection's secrets
    /// ([`KeyStore::name`]).
    pub key_store: String,
    /// The relaxations of the key store's policy in effect, each a named
    /// way a secret may leave the store's protection
    /// ([`KeyStore::policy_relaxations`]); empty when every secret stays in
    /// the store. Nothing is moved silently: what the application allowed
    /// is visible here for every connection.
    pub relaxations: Vec<String>,
}

/// A handshake message or ChangeCipherSpec, handed to a state.
pub(crate) enum Message<'a> {
    Handshake {
        parsed: HandshakeMessage,
        raw: &'a [u8],
    },
    ChangeCipherSpec,
}

impl Message<'_> {
    pub(crate) fn kind(&self) -> MessageKind {
        match self {
            Self::Handshake { parsed, .. } => MessageKind::Handshake(parsed.typ),
            Self::ChangeCipherSpec => MessageKind::Record(ContentType::ChangeCipherSpec),
        }
    }
}

/// The secret behind keying-material exporters.
pub(crate) enum Exporter {
    /// RFC 5705: `PRF(master_secret, label, client_random + server_random
    /// [+ context])`.
    Tls12 {
        master: Arc<hsmtls_keys::Secret>,
        prf: hsmtls_keys::HashAlgorithm,
        randoms: [u8; 64],
    },
    /// RFC 8446 §7.5: from the exporter master secret.
    Tls13 {
        exporter_master: hsmtls_keys::Secret,
        hash: hsmtls_keys::HashAlgorithm,
    },
}

/// What every state may touch: the record layer, the outgoing bytes and the
/// negotiated facts.
pub(crate) struct CommonState {
    pub side: Side,
    pub store: Arc<dyn KeyStore>,
    pub record: RecordLayer,
    pub info: Negotiated,
    /// Handshake messages of the current flight, sent as few records.
    flight: Vec<u8>,
    sendable_tls: VecDeque<Vec<u8>>,
    pub handshake_complete: bool,
    /// The application's handshake hook.
    pub hook: Option<Arc<dyn HandshakeHook>>,
    /// Bytes of refused 0-RTT data still to skip (RFC 8446 §4.2.10).
    pub early_data_to_skip: usize,
    /// Bytes of accepted 0-RTT data the client may still send (a server
    /// between its flight and the client's EndOfEarlyData).
    pub early_data_allowed: Option<usize>,
    /// Accepted 0-RTT data not yet taken by the application.
    pub early_data: Vec<u8>,
    /// A client's 0-RTT write side, from its ClientHello to its
    /// EndOfEarlyData (or the server's refusal).
    pub early_writer: Option<EarlyWriter>,
    /// 0-RTT data the server refused, sent again once the handshake is
    /// done.
    pub early_resend: Vec<u8>,
    /// A TLS 1.3 client sent its one middlebox-compatibility
    /// change_cipher_spec (RFC 8446 §D.4).
    pub middlebox_ccs_sent: bool,
    /// Exporter access, once established.
    pub exporter: Option<Exporter>,
}

impl CommonState {
    /// Queues a handshake message of the current flight and adds it to the
    /// transcript.
    pub(crate) fn send_handshake(
        &mut self,
        message: &HandshakeMessage,
        transcript: &mut Transcript,
    ) -> Result<(), Error> {
        let start = self.flight.len();
        message.encode(&mut self.flight);
        let encoded = &self.flight[start..];
        if let Some(hook) = &self.hook {
            hook.on_message(self.side, Direction::Sent, message.typ, encoded)
                .map_err(Error::Vetoed)?;
        }
        transcript.add(encoded);
        Ok(())
    }

    /// The random of this side's hello: the hook's, or the store's.
    pub(crate) fn hello_random(&self) -> Result<[u8; 32], Error> {
        if let Some(random) = self.hook.as_ref().and_then(|h| h.hello_random(self.side)) {
            return Ok(random);
        }
        let mut random = [0u8; 32];
        self.store
            .random(hsmtls_keys::RandomLevel::Random, &mut random)?;
        Ok(random)
    }

    /// Queues a handshake message that is not part of the transcript
    /// (TLS 1.3 post-handshake messages).
    pub(crate) fn send_untracked_handshake(
        &mut self,
        message: &HandshakeMessage,
    ) -> Result<(), Error> {
        let start = self.flight.len();
        message.encode(&mut self.flight);
        if let Some(hook) = &self.hook {
            hook.on_message(
                self.side,
                Direction::Sent,
                message.typ,
                &self.flight[start..],
            )
            .map_err(Error::Vetoed)?;
        }
        Ok(())
    }

    /// Queues an already encoded handshake message (a ClientHello whose
    /// PSK binder was filled in after encoding).
    pub(crate) fn send_encoded_handshake(
        &mut self,
        typ: crate::msgs::enums::HandshakeType,
        encoded: &[u8],
        transcript: &mut Transcript,
    ) -> Result<(), Error> {
        if let Some(hook) = &self.hook {
            hook.on_message(self.side, Direction::Sent, typ, encoded)
                .map_err(Error::Vetoed)?;
        }
        self.flight.extend_from_slice(encoded);
        transcript.add(encoded);
        Ok(())
    }

    /// Seals the queued flight into records.
    pub(crate) fn flush_flight(&mut self) -> Result<(), Error> {
        if self.flight.is_empty() {
            return Ok(());
        }
        let flight = core::mem::take(&mut self.flight);
        let mut out = Vec::with_capacity(flight.len() + 64);
        self.record
            .write(ContentType::Handshake, &flight, &mut out)?;
        self.sendable_tls.push_back(out);
        Ok(())
    }

    /// Sends ChangeCipherSpec (RFC 5246 §7.1) after the queued flight.
    pub(crate) fn send_change_cipher_spec(&mut self) -> Result<(), Error> {
        self.flush_flight()?;
        let mut out = Vec::with_capacity(8);
        self.record
            .write(ContentType::ChangeCipherSpec, &[1], &mut out)?;
        self.sendable_tls.push_back(out);
        Ok(())
    }

    pub(crate) fn send_alert(&mut self, level: AlertLevel, description: AlertDescription) {
        if level == AlertLevel::Fatal {
            // A fatal error can strike halfway through a flight (the
            // client's Certificate is queued when the server's key share
            // turns out invalid). RFC 5246 §7.2.2: the connection ends at
            // once, so the half-built flight is dropped, not sent.
            self.flight.clear();
        } else {
            let _ = self.flush_flight();
        }
        let alert = AlertMessage { level, description };
        let mut payload = Vec::with_capacity(2);
        alert.encode(&mut payload);
        let mut out = Vec::with_capacity(64);
        if self
            .record
            .write(ContentType::Alert, &payload, &mut out)
            .is_ok()
        {
            self.sendable_tls.push_back(out);
        }
    }

    fn send_application_data(&mut self, data: &[u8]) -> Result<(), Error> {
        let mut out = Vec::with_capacity(data.len() + 64);
        self.record
            .write(ContentType::ApplicationData, data, &mut out)?;
        self.sendable_tls.push_back(out);
        Ok(())
    }

    /// Sends what fits of `data` as 0-RTT data (RFC 8446 §2.3) while the
    /// client may still; returns how much went.
    fn send_early_data(&mut self, data: &[u8]) -> Result<usize, Error> {
        let n = match &self.early_writer {
            Some(w) if w.open => data.len().min(w.remaining),
            _ => 0,
        };
        if n == 0 {
            return Ok(0);
        }
        self.with_early_keys(|cx| cx.send_application_data(&data[..n]))?;
        if let Some(w) = &mut self.early_writer {
            w.remaining -= n;
            w.sent.extend_from_slice(&data[..n]);
        }
        Ok(n)
    }

    /// Runs `f` with the client's early traffic key as the write key.
    pub(crate) fn with_early_keys<R>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut keys = match &mut self.early_writer {
            Some(w) => core::mem::take(&mut w.keys),
            None => return Err(Error::InvalidState("no early traffic key")),
        };
        // Early data is TLS 1.3 protected even while the connection's
        // version is still open.
        let tls13 = core::mem::replace(&mut self.record.tls13, true);
        self.record.swap_encrypter(&mut keys);
        let result = f(self);
        self.record.swap_encrypter(&mut keys);
        self.record.tls13 = tls13;
        if let Some(w) = &mut self.early_writer {
            w.keys = keys;
        }
        result
    }

    /// The server did not take the 0-RTT data: what was sent goes again
    /// after the handshake (RFC 8446 §4.2.10), under the application keys.
    pub(crate) fn early_data_refused(&mut self) {
        if let Some(w) = self.early_writer.take() {
            self.early_resend = w.sent;
        }
    }
}

/// A client's 0-RTT write side.
pub(crate) struct EarlyWriter {
    /// The early traffic protector and its sequence number (swapped into
    /// the record layer to write).
    pub keys: (Option<Box<dyn hsmtls_keys::RecordProtector>>, u64),
    /// Bytes the ticket still allows.
    pub remaining: usize,
    /// Whether application writes may still go as early data (until the
    /// ServerHello).
    pub open: bool,
    /// The early data sent, to send again if the server refuses it.
    pub sent: Vec<u8>,
}

pub(crate) enum State {
    Client(Box<client::tls12::State>),
    Server(Box<server::tls12::State>),
}

impl State {
    fn handle(self, cx: &mut CommonState, message: Message<'_>) -> Result<Self, Error> {
        match self {
            Self::Client(s) => s.handle(cx, message).map(|s| Self::Client(Box::new(s))),
            Self::Server(s) => s.handle(cx, message).map(|s| Self::Server(Box::new(s))),
        }
    }
}

/// Consecutive empty or warning records tolerated before the peer is
/// taken to be attacking the CPU (as rustls and OpenSSL do).
const MAX_EMPTY_OR_WARNING_RECORDS: u32 = 32;

/// KeyUpdates in a row without application data tolerated (TLS 1.3).
/// Each one costs a key derivation, and with update_requested a KeyUpdate
/// of ours; RFC 8446 §4.6.3 expects a silent receiver of several to
/// answer once, so a peer that keeps sending them is attacking the CPU.
const MAX_KEY_UPDATES_IN_A_ROW: u32 = 32;

/// A TLS connection, client or server, that does no I/O itself.
///
/// ```no_run
/// # use std::sync::Arc;
/// # fn run(config: Arc<hsmtls::ClientConfig>, mut sock: std::net::TcpStream) -> Result<(), Box<dyn std::error::Error>> {
/// let mut conn = hsmtls::Connection::client(config, "example.com")?;
/// while conn.is_handshaking() {
///     while conn.wants_write() {
///         conn.write_tls(&mut sock)?;
///     }
///     if conn.is_handshaking() {
///         conn.read_tls(&mut sock)?;
///         conn.process_new_packets()?;
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Connection {
    state: Option<State>,
    common: CommonState,
    deframer: MessageDeframer,
    joiner: HandshakeJoiner,
    /// Decrypted application data: each record's buffer as it was
    /// opened, with the range of its plaintext (moved, not copied).
    received_plaintext: VecDeque<(Vec<u8>, Range<usize>)>,
    received_offset: usize,
    pending_plaintext: Vec<u8>,
    error: Option<Error>,
    peer_closed: bool,
    sent_close: bool,
    empty_or_warning_records: u32,
    key_updates_in_a_row: u32,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("side", &self.common.side)
            .field("handshaking", &!self.common.handshake_complete)
            .field("negotiated", &self.common.info)
            .finish()
    }
}

impl Connection {
    fn new(side: Side, store: Arc<dyn KeyStore>, max_fragment: usize) -> Self {
        let info = Negotiated {
            key_store: store.name().to_owned(),
            relaxations: store.policy_relaxations(),
            ..Negotiated::default()
        };
        Self {
            state: None,
            common: CommonState {
                side,
                store,
                record: RecordLayer::new(max_fragment),
                info,
                flight: Vec::new(),
                sendable_tls: VecDeque::new(),
                handshake_complete: false,
                hook: None,
                early_data_to_skip: 0,
                early_data_allowed: None,
                early_data: Vec::new(),
                early_writer: None,
                early_resend: Vec::new(),
                middlebox_ccs_sent: false,
                exporter: None,
            },
            deframer: MessageDeframer::new(),
            joiner: HandshakeJoiner::new(),
            received_plaintext: VecDeque::new(),
            received_offset: 0,
            pending_plaintext: Vec::new(),
            error: None,
            peer_closed: false,
            sent_close: false,
            empty_or_warning_records: 0,
            key_updates_in_a_row: 0,
        }
    }

    /// A client connection to `server_name` (a DNS name or an IP address;
    /// a DNS name is also sent as SNI). The ClientHello is queued at once.
    pub fn client(config: Arc<ClientConfig>, server_name: &str) -> Result<Self, Error> {
        let mut conn = Self::new(
            Side::Client,
            config.common.store.clone(),
            config.common.max_fragment_len,
        );
        conn.common.hook = config.common.hook.clone();
        let state = client::tls12::start(config, server_name, &mut conn.common)?;
        conn.common.flush_flight()?;
        conn.state = Some(State::Client(Box::new(state)));
        Ok(conn)
    }

    /// A server connection waiting for a ClientHello.
    pub fn server(config: Arc<ServerConfig>) -> Result<Self, Error> {
        let mut conn = Self::new(
            Side::Server,
            config.common.store.clone(),
            config.common.max_fragment_len,
        );
        conn.common.hook = config.common.hook.clone();
        conn.state = Some(State::Server(Box::new(server::tls12::start(config))));
        Ok(conn)
    }

    /// Which side this is.
    pub fn side(&self) -> Side {
        self.common.side
    }

    /// Reads TLS bytes from `rd` (at most one buffer's worth). `Ok(0)`
    /// means the peer closed the transport.
    pub fn read_tls(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        self.deframer.read(rd)
    }

    /// Writes queued TLS bytes to `wr`.
    pub fn write_tls(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        let Some(front) = self.common.sendable_tls.front_mut() else {
            return Ok(0);
        };
        let n = wr.write(front)?;
        if n == front.len() {
            self.common.sendable_tls.pop_front();
        } else {
            front.drain(..n);
        }
        Ok(n)
    }

    /// Whether TLS bytes are waiting for [`Connection::write_tls`].
    pub fn wants_write(&self) -> bool {
        !self.common.sendable_tls.is_empty()
    }

    /// Whether the connection needs bytes from the peer to make progress.
    pub fn wants_read(&self) -> bool {
        self.error.is_none() && !self.peer_closed && self.received_plaintext.is_empty()
    }

    /// Whether the handshake is still going.
    pub fn is_handshaking(&self) -> bool {
        !self.common.handshake_complete
    }

    /// What was negotiated so far.
    pub fn negotiated(&self) -> &Negotiated {
        &self.common.info
    }

    /// The key store this connection uses.
    pub fn store(&self) -> &Arc<dyn KeyStore> {
        &self.common.store
    }

    /// Whether the peer sent close_notify.
    pub fn peer_has_closed(&self) -> bool {
        self.peer_closed
    }

    /// Processes the records read so far: runs the handshake, decrypts
    /// application data. On error the fatal alert is queued for
    /// `write_tls` and the same error is returned from then on.
    pub fn process_new_packets(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.process() {
            Ok(()) => Ok(()),
            Err(e) => {
                if let Some(alert) = e.alert() {
                    self.common.send_alert(AlertLevel::Fatal, alert);
                }
                self.error = Some(e.clone());
                self.state = None;
                Err(e)
            }
        }
    }

    fn process(&mut self) -> Result<(), Error> {
        while !self.peer_closed {
            let Some(mut record) = self.deframer.next_record().map_err(|e| match e {
                crate::msgs::deframer::DeframerError::RecordOverflow => Error::RecordOverflow,
                _ => Error::peer(AlertDescription::DecodeError, "malformed record header"),
            })?
            else {
                break;
            };
            let outer = record.0.content_type;
            let read = self
                .common
                .record
                .read(outer, record.0.version, &mut record.1);
            let (content_type, range) = match read {
                // RFC 8446 §4.2.10: a server that does not accept 0-RTT
                // skips the records it cannot deprotect, up to a limit.
                Err(Error::BadRecordMac)
                    if outer == ContentType::ApplicationData
                        && self.common.early_data_to_skip > 0
                        && self.common.early_data_to_skip >= record.1.len() =>
                {
                    self.common.early_data_to_skip -= record.1.len();
                    continue;
                }
                other => other?,
            };
            if self.common.record.tls13 && outer == ContentType::ApplicationData {
                // The first protected record that opens ends the early
                // data (a plaintext change_cipher_spec may come between
                // the ClientHello and it, RFC 8446 §D.4).
                self.common.early_data_to_skip = 0;
            }
            if content_type == ContentType::ApplicationData
                && self.common.handshake_complete
                && !range.is_empty()
            {
                // The common case of bulk data: the opened record moves
                // into the plaintext queue whole, no copy.
                self.empty_or_warning_records = 0;
                self.key_updates_in_a_row = 0;
                self.received_plaintext.push_back((record.1, range));
                continue;
            }
            let payload = &record.1[range];
            self.process_record(content_type, payload)?;
        }
        Ok(())
    }

    fn process_record(&mut self, content_type: ContentType, payload: &[u8]) -> Result<(), Error> {
        if payload.is_empty() || content_type == ContentType::Alert {
            self.empty_or_warning_records += 1;
            if self.empty_or_warning_records > MAX_EMPTY_OR_WARNING_RECORDS {
                return Err(Error::peer(
                    AlertDescription::UnexpectedMessage,
                    "too many empty or warning records",
                ));
            }
        } else {
            self.empty_or_warning_records = 0;
        }
        match content_type {
            ContentType::Handshake => {
                // RFC 5246 §6.2.1: no zero-length Handshake fragments.
                if payload.is_empty() {
                    return Err(Error::peer(
                        AlertDescription::UnexpectedMessage,
                        "empty handshake record",
                    ));
                }
                self.joiner.push(payload);
                while let Some(raw) = self.joiner.next_message()? {
                    // The version decides the shape of the bodies.
                    let parsed = if self.common.info.version == Some(ProtocolVersion::TLSv1_3) {
                        HandshakeMessage::read_tls13(&mut Reader::new(&raw))?
                    } else {
                        HandshakeMessage::read_tls12(&mut Reader::new(&raw))?
                    };
                    if parsed.typ == crate::msgs::enums::HandshakeType::KeyUpdate {
                        self.key_updates_in_a_row += 1;
                        if self.key_updates_in_a_row > MAX_KEY_UPDATES_IN_A_ROW {
                            return Err(Error::peer(
                                AlertDescription::UnexpectedMessage,
                                "too many KeyUpdates without application data",
                            ));
                        }
                    }
                    let epoch = self.common.record.read_epoch();
                    self.dispatch(Message::Handshake { parsed, raw: &raw })?;
                    // RFC 8446 §5.1: "Handshake messages MUST NOT span key
                    // changes": a message after which the read keys change
                    // (ServerHello, ClientHello, Finished, KeyUpdate) must
                    // end its record.
                    if self.common.record.tls13
                        && self.common.record.read_epoch() != epoch
                        && !self.joiner.is_empty()
                    {
                        return Err(Error::peer(
                            AlertDescription::UnexpectedMessage,
                            "handshake message across a key change",
                        ));
                    }
                }
            }
            ContentType::ChangeCipherSpec => {
                // RFC 5246 §7.1: a single byte of value 1; and it may not
                // interleave a handshake message.
                if payload != [1] {
                    return Err(Error::peer(
                        AlertDescription::DecodeError,
                        "malformed ChangeCipherSpec",
                    ));
                }
                if !self.joiner.is_empty() {
                    return Err(Error::peer(
                        AlertDescription::UnexpectedMessage,
                        "ChangeCipherSpec inside a handshake message",
                    ));
                }
                self.dispatch(Message::ChangeCipherSpec)?;
            }
            ContentType::Alert => self.process_alert(payload)?,
            ContentType::ApplicationData
                if !self.common.handshake_complete
                    && self.common.early_data_to_skip > 0
                    && self.common.early_data_to_skip >= payload.len() =>
            {
                // RFC 8446 §4.2.10: after a HelloRetryRequest the server
                // skips the early data it never gets keys for.
                self.common.early_data_to_skip -= payload.len();
            }
            ContentType::ApplicationData if self.common.early_data_allowed.is_some() => {
                // RFC 8446 §4.2.10: accepted 0-RTT data, up to the ticket's
                // max_early_data_size (counting the plaintext).
                let allowed = self.common.early_data_allowed.unwrap_or_default();
                if payload.len() > allowed {
                    return Err(Error::peer(
                        AlertDescription::UnexpectedMessage,
                        "more early data than max_early_data_size",
                    ));
                }
                self.common.early_data_allowed = Some(allowed - payload.len());
                self.common.early_data.extend_from_slice(payload);
            }
            ContentType::ApplicationData => {
                if !self.common.handshake_complete {
                    return Err(Error::UnexpectedMessage {
                        expected: "handshake",
                        got: MessageKind::Record(ContentType::ApplicationData),
                    });
                }
                if !payload.is_empty() {
                    self.key_updates_in_a_row = 0;
                    self.received_plaintext
                        .push_back((payload.to_vec(), 0..payload.len()));
                }
            }
            other => {
                return Err(Error::UnexpectedMessage {
                    expected: "a known record type",
                    got: MessageKind::Record(other),
                })
            }
        }
        Ok(())
    }

    fn process_alert(&mut self, payload: &[u8]) -> Result<(), Error> {
        let alert = AlertMessage::read_bytes(payload)?;
        if alert.description == AlertDescription::CloseNotify {
            self.peer_closed = true;
            return Ok(());
        }
        // RFC 5246 §7.2: a fatal alert ends the connection at once; a
        // warning (no_renegotiation, user_canceled, unrecognized_name sent
        // by some servers with SNI) lets it go on. Floods of warnings are
        // bounded by the counter above.
        // RFC 8446 §6: in TLS 1.3 every alert but close_notify and
        // user_canceled is fatal, whatever its level says.
        let tls13 = self.common.info.version == Some(ProtocolVersion::TLSv1_3);
        match alert.level {
            AlertLevel::Warning
                if !tls13 || alert.description == AlertDescription::UserCanceled =>
            {
                Ok(())
            }
            _ => Err(Error::AlertReceived(alert.description)),
        }
    }

    fn dispatch(&mut self, message: Message<'_>) -> Result<(), Error> {
        if let (Some(hook), Message::Handshake { parsed, raw }) = (&self.common.hook, &message) {
            hook.on_message(self.common.side, Direction::Received, parsed.typ, raw)
                .map_err(Error::Vetoed)?;
        }
        let state = self
            .state
            .take()
            .ok_or(Error::InvalidState("connection failed"))?;
        let was_complete = self.common.handshake_complete;
        let next = state.handle(&mut self.common, message)?;
        self.state = Some(next);
        self.common.flush_flight()?;
        if !was_complete && self.common.handshake_complete {
            // Refused 0-RTT data first, in the order it was written.
            let mut pending = core::mem::take(&mut self.common.early_resend);
            pending.append(&mut self.pending_plaintext);
            if !pending.is_empty() {
                self.common.send_application_data(&pending)?;
            }
        }
        Ok(())
    }

    /// Takes the 0-RTT data received so far (RFC 8446 §2.3, §4.2.10): on
    /// a server that accepted early data (`max_early_data_size`), what the
    /// client sent before the handshake completed, kept apart from the
    /// [`Connection::reader`] data because an attacker can replay it (the
    /// server accepts each ClientHello's early data once within its
    /// anti-replay window, but cannot prove it was sent only once); empty
    /// otherwise. [`Negotiated::early_data_accepted`] tells whether the
    /// server accepted it.
    pub fn take_early_data(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.common.early_data)
    }

    /// Reads decrypted application data.
    pub fn reader(&mut self) -> PlaintextReader<'_> {
        PlaintextReader { conn: self }
    }

    /// Writes application data; before the handshake completes it is
    /// buffered and sent as soon as it does.
    pub fn writer(&mut self) -> PlaintextWriter<'_> {
        PlaintextWriter { conn: self }
    }

    /// TLS 1.3 KeyUpdate (RFC 8446 §4.6.3): sends KeyUpdate asking the peer
    /// to update too, and moves to the next write keys.
    pub fn refresh_traffic_keys(&mut self) -> Result<(), Error> {
        if !self.common.handshake_complete || self.error.is_some() {
            return Err(Error::InvalidState("handshake not complete"));
        }
        let keys = match &mut self.state {
            Some(State::Client(state)) => match &mut **state {
                client::tls12::State::Tls13(client::tls13::State::Traffic(t)) => t.keys(),
                _ => return Err(Error::InvalidState("KeyUpdate needs TLS 1.3")),
            },
            Some(State::Server(state)) => match &mut **state {
                server::tls12::State::Tls13(server::tls13::State::Traffic(t)) => t.keys(),
                _ => return Err(Error::InvalidState("KeyUpdate needs TLS 1.3")),
            },
            _ => return Err(Error::InvalidState("KeyUpdate needs TLS 1.3")),
        };
        server::tls13::send_key_update(
            &mut self.common,
            keys,
            crate::msgs::enums::KeyUpdateRequest::UpdateRequested,
        )
    }

    /// Queues close_notify (RFC 5246 §7.2.1).
    pub fn send_close_notify(&mut self) {
        if !self.sent_close {
            self.sent_close = true;
            self.common
                .send_alert(AlertLevel::Warning, AlertDescription::CloseNotify);
        }
    }

    /// Keying material exporter (RFC 5705): `out.len()` bytes for `label`
    /// and an optional `context`.
    pub fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<(), Error> {
        let exporter = self
            .common
            .exporter
            .as_ref()
            .ok_or(Error::InvalidState("handshake not complete"))?;
        let store = &self.common.store;
        match exporter {
            Exporter::Tls12 {
                master,
                prf,
                randoms,
            } => {
                let mut seed = randoms.to_vec();
                if let Some(ctx) = context {
                    let len = u16::try_from(ctx.len())
                        .map_err(|_| Error::InvalidState("exporter context too long"))?;
                    seed.extend_from_slice(&len.to_be_bytes());
                    seed.extend_from_slice(ctx);
                }
                store
                    .tls12_export(master, *prf, label, &seed, out)
                    .map_err(Error::from)
            }
            Exporter::Tls13 {
                exporter_master,
                hash,
            } => {
                // TLS-Exporter(label, context, length) =
                //   HKDF-Expand-Label(Derive-Secret(exporter_master, label, ""),
                //                     "exporter", Hash(context), length)
                let empty = store.hasher(*hash)?.current();
                let secret = store.hkdf_expand_label(
                    *hash,
                    exporter_master,
                    label,
                    empty.as_ref(),
                    hsmtls_keys::SecretUsage::Generic,
                )?;
                let mut h = store.hasher(*hash)?;
                h.update(context.unwrap_or_default());
                let context_hash = h.current();
                store
                    .hkdf_expand_label_data(*hash, &secret, b"exporter", context_hash.as_ref(), out)
                    .map_err(Error::from)
            }
        }
    }
}

/// Reads application data out of a [`Connection`].
#[derive(Debug)]
pub struct PlaintextReader<'a> {
    conn: &'a mut Connection,
}

impl Read for PlaintextReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let conn = &mut *self.conn;
        let mut copied = 0;
        while copied < buf.len() {
            let Some((front, range)) = conn.received_plaintext.front() else {
                break;
            };
            let available = &front[range.start + conn.received_offset..range.end];
            let n = available.len().min(buf.len() - copied);
            buf[copied..copied + n].copy_from_slice(&available[..n]);
            copied += n;
            conn.received_offset += n;
            if conn.received_offset == range.len() {
                conn.received_plaintext.pop_front();
                conn.received_offset = 0;
            }
        }
        if copied == 0 && !buf.is_empty() && !conn.peer_closed {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(copied)
    }
}

/// Writes application data into a [`Connection`].
#[derive(Debug)]
pub struct PlaintextWriter<'a> {
    conn: &'a mut Connection,
}

impl Write for PlaintextWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let conn = &mut *self.conn;
        if conn.sent_close || conn.error.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "connection closed",
            ));
        }
        if !conn.common.handshake_complete {
            // A client offering 0-RTT sends what the ticket allows at once;
            // the rest waits for the handshake.
            let early = conn
                .common
                .send_early_data(buf)
                .map_err(|e| io::Error::other(e.to_string()))?;
            conn.pending_plaintext.extend_from_slice(&buf[early..]);
            return Ok(buf.len());
        }
        conn.common
            .send_application_data(buf)
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
