//! Client and server configuration, built with safe defaults: TLS 1.2
//! AEAD and CBC-SHA2 ECDHE suites, extended master secret offered (RFC 7627),
//! encrypt-then-MAC offered (RFC 7366), secure renegotiation indicated and
//! renegotiation refused (RFC 5746), certificates always verified.

use std::sync::Arc;

use hsmtls_keys::{KeyExchangeGroup, KeyStore, PrivateKey, PublicKeyAlgorithm, TicketKey};

use crate::error::Error;
use crate::extensions::{check_registered, HelloExtension, Registered};
use crate::hooks::HandshakeHook;
use crate::msgs::enums::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
use crate::session::{ClientSessionCache, ServerSessionCache};
use crate::suites::{
    key_exchange_group, tls12_signature_algorithm, tls12_suite, tls13_group_for,
    tls13_key_exchange_group, tls13_signature_algorithm, tls13_suite, Tls12Suite, Tls13Suite,
    DEFAULT_GROUPS, DEFAULT_SIGNATURE_SCHEMES, DEFAULT_TLS13_SIGNATURE_SCHEMES, TLS12_SUITES,
    TLS13_SUITES,
};
use crate::verify::{spki_algorithm, Verifier, DEFAULT_VERIFIED_CHAIN_CACHE};

/// A certificate chain (leaf first, DER) and the handle of its private key.
#[derive(Debug, Clone)]
pub struct CertifiedKey {
    /// DER certificates, the end-entity first.
    pub chain: Vec<Vec<u8>>,
    /// The leaf's private key, in a key store.
    pub key: Arc<PrivateKey>,
}

impl CertifiedKey {
    /// Pairs a chain with its key, checking that the leaf's public key is
    /// of the key's kind.
    pub fn new(chain: Vec<Vec<u8>>, key: Arc<PrivateKey>) -> Result<Self, Error> {
        let leaf = chain
            .first()
            .ok_or_else(|| Error::Config("empty certificate chain".into()))?;
        let kind = spki_algorithm(leaf)
            .ok_or_else(|| Error::Config("certificate key of an unsupported kind".into()))?;
        if kind != key.algorithm() {
            return Err(Error::Config(format!(
                "certificate key is {kind:?} but the private key is {:?}",
                key.algorithm()
            )));
        }
        Ok(Self { chain, key })
    }
}

/// Whether a server asks for client certificates (RFC 5246 §7.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No CertificateRequest.
    Off,
    /// Ask; an empty Certificate is accepted.
    Request,
    /// Ask; an empty Certificate ends the handshake (`handshake_failure`).
    Require,
}

/// Options shared by both sides.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub store: Arc<dyn KeyStore>,
    pub suites: Vec<&'static Tls12Suite>,
    pub groups: Vec<NamedGroup>,
    pub signature_schemes: Vec<SignatureScheme>,
    pub alpn: Vec<Vec<u8>>,
    pub extended_master_secret: bool,
    pub require_extended_master_secret: bool,
    pub encrypt_then_mac: bool,
    pub require_encrypt_then_mac: bool,
    pub max_fragment_len: usize,
    pub hook: Option<Arc<dyn HandshakeHook>>,
    pub verified_chain_cache: usize,
    /// Enabled protocol versions, highest first.
    pub versions: Vec<ProtocolVersion>,
    pub tls13_suites: Vec<&'static Tls13Suite>,
    pub tls13_signature_schemes: Vec<SignatureScheme>,
    /// Application-registered hello extensions, in registration order.
    pub hello_extensions: Registered,
}

impl Common {
    fn new(store: Arc<dyn KeyStore>) -> Self {
        Self {
            store,
            suites: TLS12_SUITES.iter().collect(),
            versions: vec![ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2],
            tls13_suites: TLS13_SUITES.iter().collect(),
            tls13_signature_schemes: DEFAULT_TLS13_SIGNATURE_SCHEMES.to_vec(),
            groups: DEFAULT_GROUPS.to_vec(),
            signature_schemes: DEFAULT_SIGNATURE_SCHEMES.to_vec(),
            alpn: Vec::new(),
            extended_master_secret: true,
            require_extended_master_secret: false,
            encrypt_then_mac: true,
            require_encrypt_then_mac: false,
            max_fragment_len: crate::msgs::deframer::MAX_PLAINTEXT,
            verified_chain_cache: DEFAULT_VERIFIED_CHAIN_CACHE,
            hook: None,
            hello_extensions: Vec::new(),
        }
    }

    /// Shrinks the lists to what the key store can do and checks that
    /// something is left.
    /// Whether TLS 1.2 is enabled.
    pub(crate) fn tls12_enabled(&self) -> bool {
        self.versions.contains(&ProtocolVersion::TLSv1_2)
    }

    /// Whether TLS 1.3 is enabled.
    pub(crate) fn tls13_enabled(&self) -> bool {
        self.versions.contains(&ProtocolVersion::TLSv1_3)
    }

    /// The configured groups under their TLS 1.3 code points (RFC 8734 for
    /// brainpool), in order, without duplicates.
    pub(crate) fn tls13_groups(&self) -> Vec<NamedGroup> {
        let mut out: Vec<NamedGroup> = Vec::with_capacity(self.groups.len());
        for g in self.groups.iter().map(|g| tls13_group_for(*g)) {
            if tls13_key_exchange_group(g).is_some() && !out.contains(&g) {
                out.push(g);
            }
        }
        out
    }

    /// The configured groups usable in TLS 1.2 (RFC 8422 / RFC 7027 code points).
    pub(crate) fn tls12_groups(&self) -> Vec<NamedGroup> {
        self.groups
            .iter()
            .copied()
            .filter(|g| key_exchange_group(*g).is_some())
            .collect()
    }

    fn finish(&mut self) -> Result<(), Error> {
        let caps = self.store.capabilities();
        self.groups.retain(|g| {
            key_exchange_group(*g)
                .or_else(|| tls13_key_exchange_group(*g))
                .is_some_and(|kx| caps.groups.contains(&kx))
        });
        self.tls13_suites
            .retain(|s| caps.tls13_aeads.contains(&s.aead));
        self.tls13_signature_schemes.retain(|s| {
            [
                PublicKeyAlgorithm::Ec(KeyExchangeGroup::Secp256r1),
                PublicKeyAlgorithm::Ec(KeyExchangeGroup::Secp384r1),
                PublicKeyAlgorithm::Ec(KeyExchangeGroup::Secp521r1),
                PublicKeyAlgorithm::Ec(KeyExchangeGroup::BrainpoolP256r1),
                PublicKeyAlgorithm::Ec(KeyExchangeGroup::BrainpoolP384r1),
                PublicKeyAlgorithm::Ec(KeyExchangeGroup::BrainpoolP512r1),
                PublicKeyAlgorithm::Rsa,
                PublicKeyAlgorithm::Ed25519,
            ]
            .iter()
            .any(|k| tls13_signature_algorithm(*s, *k).is_some_and(|a| caps.verify.contains(&a)))
        });
        // A version the store cannot serve is dropped, not failed, while
        // another remains.
        if self.tls13_enabled() && (self.tls13_suites.is_empty() || self.tls13_groups().is_empty())
        {
            self.versions.retain(|v| *v != ProtocolVersion::TLSv1_3);
        }
        if self.versions.is_empty() {
            return Err(Error::Config(format!(
                "no protocol version left that the key store {} can serve",
                self.store.name()
            )));
        }
        self.suites.retain(|s| {
            caps.prf_hashes.contains(&s.prf)
                && caps.record_ciphers.iter().any(|c| {
                    c.key_block_shape() == s.bulk.record_cipher(false).key_block_shape()
                        && c.is_cbc() == s.bulk.is_cbc()
                })
        });
        self.signature_schemes
            .retain(|s| tls12_signature_algorithm(*s).is_some_and(|a| caps.verify.contains(&a)));
        if !caps.extended_master_secret {
            if self.require_extended_master_secret {
                return Err(Error::Config(format!(
                    "the key store {} cannot derive an extended master secret",
                    self.store.name()
                )));
            }
            self.extended_master_secret = false;
        }
        if self.tls12_enabled() && self.suites.is_empty() {
            if self.tls13_enabled() && !self.tls13_suites.is_empty() {
                self.versions.retain(|v| *v != ProtocolVersion::TLSv1_2);
            } else {
                return Err(Error::Config("no usable cipher suite".into()));
            }
        }
        if self.tls12_enabled() && self.tls12_groups().is_empty() {
            if self.tls13_enabled() {
                self.versions.retain(|v| *v != ProtocolVersion::TLSv1_2);
            } else {
                return Err(Error::Config("no usable group".into()));
            }
        }
        if self.groups.is_empty() {
            return Err(Error::Config("no usable group".into()));
        }
        if self.tls12_enabled() && self.signature_schemes.is_empty() {
            return Err(Error::Config("no usable signature scheme".into()));
        }
        if self.alpn.iter().any(|p| p.is_empty() || p.len() > 255) {
            return Err(Error::Config("ALPN names must be 1 to 255 bytes".into()));
        }
        if !(512..=crate::msgs::deframer::MAX_PLAINTEXT).contains(&self.max_fragment_len) {
            return Err(Error::Config("fragment size must be 512 to 16384".into()));
        }
        check_registered(&self.hello_extensions)?;
        Ok(())
    }
}

/// Splits a suite list into its TLS 1.2 and TLS 1.3 suites.
#[allow(clippy::type_complexity)]
fn suites_from(
    list: &[CipherSuite],
) -> Result<(Vec<&'static Tls12Suite>, Vec<&'static Tls13Suite>), Error> {
    let (mut tls12, mut tls13) = (Vec::new(), Vec::new());
    for s in list {
        match (tls12_suite(*s), tls13_suite(*s)) {
            (Some(x), _) => tls12.push(x),
            (_, Some(x)) => tls13.push(x),
            _ => {
                return Err(Error::Config(format!(
                    "unsupported cipher suite {}",
                    s.as_str()
                )))
            }
        }
    }
    Ok((tls12, tls13))
}

fn groups_from(list: &[NamedGroup]) -> Result<Vec<NamedGroup>, Error> {
    list.iter()
        .map(
            |g| match key_exchange_group(*g).or_else(|| tls13_key_exchange_group(*g)) {
                Some(_) => Ok(*g),
                None => Err(Error::Config(format!("unsupported group {}", g.as_str()))),
            },
        )
        .collect()
}

macro_rules! common_builder_methods {
    () => {
        /// The cipher suites to offer or accept, in order of preference:
        /// TLS 1.2 and TLS 1.3 suites in one list. A version left without
        /// suites is disabled.
        pub fn cipher_suites(mut self, suites: &[CipherSuite]) -> Result<Self, Error> {
            let (tls12, tls13) = suites_from(suites)?;
            if tls12.is_empty() {
                self.common
                    .versions
                    .retain(|v| *v != ProtocolVersion::TLSv1_2);
            }
            if tls13.is_empty() {
                self.common
                    .versions
                    .retain(|v| *v != ProtocolVersion::TLSv1_3);
            }
            self.common.suites = tls12;
            self.common.tls13_suites = tls13;
            Ok(self)
        }

        /// The protocol versions to enable (TLS 1.2 and TLS 1.3 by default).
        pub fn versions(mut self, versions: &[ProtocolVersion]) -> Result<Self, Error> {
            let mut enabled = Vec::new();
            for v in [ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2] {
                if versions.contains(&v) {
                    enabled.push(v);
                }
            }
            if enabled.is_empty() || versions.iter().any(|v| !enabled.contains(v)) {
                return Err(Error::Config(
                    "only TLS 1.2 and TLS 1.3 are supported".into(),
                ));
            }
            self.common.versions = enabled;
            Ok(self)
        }

        /// The (EC)DHE groups, in order of preference.
        pub fn groups(mut self, groups: &[NamedGroup]) -> Result<Self, Error> {
            self.common.groups = groups_from(groups)?;
            Ok(self)
        }

        /// The signature schemes to accept from the peer, in order of
        /// preference.
        pub fn signature_schemes(mut self, schemes: &[SignatureScheme]) -> Self {
            self.common.signature_schemes = schemes
                .iter()
                .copied()
                .filter(|s| tls12_signature_algorithm(*s).is_some())
                .collect();
            self.common.tls13_signature_schemes = schemes
                .iter()
                .copied()
                .filter(|s| crate::suites::DEFAULT_TLS13_SIGNATURE_SCHEMES.contains(s))
                .collect();
            self
        }

        /// ALPN protocol names (RFC 7301), in order of preference.
        pub fn alpn_protocols(mut self, protocols: Vec<Vec<u8>>) -> Self {
            self.common.alpn = protocols;
            self
        }

        /// Whether to use the extended master secret (RFC 7627); on by default.
        pub fn extended_master_secret(mut self, enabled: bool) -> Self {
            self.common.extended_master_secret = enabled;
            self
        }

        /// Refuse peers that do not negotiate the extended master secret.
        pub fn require_extended_master_secret(mut self, required: bool) -> Self {
            self.common.require_extended_master_secret = required;
            if required {
                self.common.extended_master_secret = true;
            }
            self
        }

        /// Whether to use encrypt-then-MAC for CBC suites (RFC 7366); on by default.
        pub fn encrypt_then_mac(mut self, enabled: bool) -> Self {
            self.common.encrypt_then_mac = enabled;
            self
        }

        /// Refuse CBC suites without encrypt-then-MAC (RFC 7366): a server
        /// does not choose one, a client ends the handshake with
        /// `handshake_failure` when the server does. AEAD suites are not
        /// affected. Turns encrypt-then-MAC on.
        pub fn require_encrypt_then_mac(mut self, required: bool) -> Self {
            self.common.require_encrypt_then_mac = required;
            if required {
                self.common.encrypt_then_mac = true;
            }
            self
        }

        /// Observes (and may veto) every handshake message; may supply
        /// the hello randoms.
        pub fn handshake_hook(mut self, hook: Arc<dyn HandshakeHook>) -> Self {
            self.common.hook = Some(hook);
            self
        }

        /// Registers a hello extension the application handles (see
        /// [`extensions`](crate::extensions)). `build()` refuses a type
        /// hsmtls implements itself and a type registered twice.
        pub fn hello_extension(mut self, extension: Arc<dyn HelloExtension>) -> Self {
            self.common.hello_extensions.push(extension);
            self
        }

        /// The largest plaintext fragment to send (512 to 16384).
        pub fn max_fragment_size(mut self, len: usize) -> Self {
            self.common.max_fragment_len = len;
            self
        }

        /// How many of the peer's certificate chains that passed path
        /// validation to remember (32 by default; 0 disables it). A chain
        /// received again, byte for byte, within the validity period of
        /// all its certificates skips the signature checks of path
        /// validation; the name and the handshake signature are always
        /// checked.
        pub fn verified_chain_cache_size(mut self, chains: usize) -> Self {
            self.common.verified_chain_cache = chains;
            self
        }
    };
}

/// Configuration of a client; share it between connections in an `Arc`.
#[derive(Debug)]
pub struct ClientConfig {
    pub(crate) common: Common,
    pub(crate) verifier: Verifier,
    pub(crate) client_certificate: Option<CertifiedKey>,
    pub(crate) session_tickets: bool,
    pub(crate) sessions: Option<Arc<ClientSessionCache>>,
    pub(crate) early_data: bool,
}

impl ClientConfig {
    /// Starts a configuration whose every operation runs in `store`.
    pub fn builder(store: Arc<dyn KeyStore>) -> ClientConfigBuilder {
        ClientConfigBuilder {
            common: Common::new(store),
            roots: Vec::new(),
            client_certificate: None,
            session_tickets: true,
            session_cache: 32,
            early_data: false,
        }
    }

    /// The key store.
    pub fn store(&self) -> &Arc<dyn KeyStore> {
        &self.common.store
    }
}

/// Builds a [`ClientConfig`].
#[derive(Debug)]
pub struct ClientConfigBuilder {
    common: Common,
    roots: Vec<Vec<u8>>,
    client_certificate: Option<CertifiedKey>,
    session_tickets: bool,
    session_cache: usize,
    early_data: bool,
}

impl ClientConfigBuilder {
    common_builder_methods!();

    /// Trust anchors (DER certificates) for the server's chain.
    pub fn root_certificates(mut self, roots: Vec<Vec<u8>>) -> Self {
        self.roots = roots;
        self
    }

    /// A certificate to present when the server asks for one.
    pub fn client_certificate(mut self, key: CertifiedKey) -> Self {
        self.client_certificate = Some(key);
        self
    }

    /// Whether to ask for session tickets (RFC 5077); on by default.
    pub fn session_tickets(mut self, enabled: bool) -> Self {
        self.session_tickets = enabled;
        self
    }

    /// How many servers' sessions to remember (0: no resumption).
    pub fn session_cache_size(mut self, servers: usize) -> Self {
        self.session_cache = servers;
        self
    }

    /// Send TLS 1.3 early data (0-RTT, RFC 8446 §2.3) when resuming with
    /// a ticket that allows it: what the application writes before the
    /// ServerHello arrives goes at once, up to the ticket's
    /// `max_early_data_size`, under the early traffic key. Off by default:
    /// early data has no forward secrecy and the server can be made to
    /// accept it again (replay), so only idempotent requests belong in it.
    /// If the server refuses it, the same bytes are sent again after the
    /// handshake; [`Negotiated::early_data_accepted`] tells which happened.
    ///
    /// [`Negotiated::early_data_accepted`]: crate::Negotiated::early_data_accepted
    pub fn early_data(mut self, enabled: bool) -> Self {
        self.early_data = enabled;
        self
    }

    /// Checks the configuration against the key store and finishes it.
    pub fn build(mut self) -> Result<ClientConfig, Error> {
        self.common.finish()?;
        if self.roots.is_empty() {
            return Err(Error::Config(
                "no trust anchors for the server's certificate".into(),
            ));
        }
        let verifier = Verifier::new(
            &self.common.store,
            Arc::new(self.roots),
            self.common.verified_chain_cache,
        );
        Ok(ClientConfig {
            common: self.common,
            verifier,
            client_certificate: self.client_certificate,
            session_tickets: self.session_tickets,
            sessions: (self.session_cache > 0)
                .then(|| Arc::new(ClientSessionCache::new(self.session_cache))),
            early_data: self.early_data,
        })
    }
}

/// Seals and opens RFC 5077 tickets with a key that lives in the store.
#[derive(Debug)]
pub(crate) struct Ticketer {
    pub key: TicketKey,
    pub lifetime: u32,
}

/// Configuration of a server; share it between connections in an `Arc`.
#[derive(Debug)]
pub struct ServerConfig {
    pub(crate) common: Common,
    pub(crate) certificates: Vec<CertifiedKey>,
    pub(crate) client_auth: ClientAuth,
    pub(crate) client_verifier: Option<Verifier>,
    pub(crate) sessions: Option<Arc<ServerSessionCache>>,
    pub(crate) ticketer: Option<Ticketer>,
    pub(crate) prefer_server_order: bool,
    pub(crate) hello_retry_cookie: bool,
    /// TLS 1.3 0-RTT: the `max_early_data_size` of our tickets and the
    /// most early data accepted (0: none).
    pub(crate) max_early_data: u32,
    /// The record of accepted 0-RTT ClientHellos (with 0-RTT on).
    pub(crate) anti_replay: Option<crate::early_data::AntiReplay>,
    /// TLS 1.3 NewSessionTickets after a full handshake and after a
    /// resumption.
    pub(crate) tls13_tickets: (usize, usize),
}

impl ServerConfig {
    /// Starts a configuration whose every operation runs in `store`.
    pub fn builder(store: Arc<dyn KeyStore>) -> ServerConfigBuilder {
        ServerConfigBuilder {
            common: Common::new(store),
            certificates: Vec::new(),
            client_auth: ClientAuth::Off,
            client_roots: Vec::new(),
            session_cache: 1024,
            session_lifetime: 7200,
            tickets: true,
            prefer_server_order: true,
            hello_retry_cookie: false,
            max_early_data: 0,
            anti_replay: (
                crate::early_data::DEFAULT_WINDOW,
                crate::early_data::DEFAULT_CAPACITY,
            ),
            tls13_tickets: (1, 1),
        }
    }

    /// The key store.
    pub fn store(&self) -> &Arc<dyn KeyStore> {
        &self.common.store
    }

    /// The session-ID cache, if enabled.
    pub fn session_cache(&self) -> Option<&Arc<ServerSessionCache>> {
        self.sessions.as_ref()
    }
}

/// Builds a [`ServerConfig`].
#[derive(Debug)]
pub struct ServerConfigBuilder {
    common: Common,
    certificates: Vec<CertifiedKey>,
    client_auth: ClientAuth,
    client_roots: Vec<Vec<u8>>,
    session_cache: usize,
    session_lifetime: u32,
    tickets: bool,
    prefer_server_order: bool,
    hello_retry_cookie: bool,
    max_early_data: u32,
    anti_replay: (std::time::Duration, usize),
    tls13_tickets: (usize, usize),
}

impl ServerConfigBuilder {
    common_builder_methods!();

    /// Adds a certificate chain and key; add an ECDSA and an RSA one to
    /// serve both suite families.
    pub fn certificate(mut self, key: CertifiedKey) -> Self {
        self.certificates.push(key);
        self
    }

    /// Asks clients for certificates that chain to `roots`.
    pub fn client_auth(mut self, mode: ClientAuth, roots: Vec<Vec<u8>>) -> Self {
        self.client_auth = mode;
        self.client_roots = roots;
        self
    }

    /// Size of the session-ID cache (0 disables it).
    pub fn session_cache_size(mut self, sessions: usize) -> Self {
        self.session_cache = sessions;
        self
    }

    /// How long sessions and tickets may be resumed, in seconds.
    pub fn session_lifetime(mut self, seconds: u32) -> Self {
        self.session_lifetime = seconds;
        self
    }

    /// Whether to issue session tickets (RFC 5077); on by default.
    pub fn session_tickets(mut self, enabled: bool) -> Self {
        self.tickets = enabled;
        self
    }

    /// Choose by the server's order of preference (default) or the client's.
    pub fn prefer_server_order(mut self, server: bool) -> Self {
        self.prefer_server_order = server;
        self
    }

    /// Put a `cookie` (RFC 8446 §4.2.2: 32 unpredictable bytes) in every
    /// TLS 1.3 HelloRetryRequest and require the second ClientHello to
    /// echo it exactly (else `illegal_parameter`, or `missing_extension`
    /// when absent). Off by default: the server keeps the retry's state
    /// itself, so the cookie proves only that the client received the
    /// retry.
    pub fn hello_retry_cookie(mut self, enabled: bool) -> Self {
        self.hello_retry_cookie = enabled;
        self
    }

    /// Accept TLS 1.3 early data (0-RTT, RFC 8446 §4.2.10) up to `bytes`
    /// per connection, and say so in the tickets issued (0, the default:
    /// no 0-RTT; early data is then skipped and the handshake goes on).
    ///
    /// Early data can be replayed by an attacker; this server accepts it
    /// at most once per ClientHello within the anti-replay window (see
    /// [`ServerConfigBuilder::early_data_anti_replay`]), only on the
    /// connection's first ticket identity, with the suite and ALPN protocol
    /// of the connection that issued the ticket. The application reads it
    /// apart from the rest with [`Connection::take_early_data`] and should
    /// act on it only where a replay does no harm.
    ///
    /// [`Connection::take_early_data`]: crate::Connection::take_early_data
    pub fn max_early_data_size(mut self, bytes: u32) -> Self {
        self.max_early_data = bytes;
        self
    }

    /// The 0-RTT anti-replay record (RFC 8446 §8.2, §8.3): a ClientHello's
    /// early data is accepted if the client's view of the ticket's age is
    /// less than `window / 2` from the server's and the ClientHello was not
    /// accepted within `window`; at most `capacity` ClientHellos are
    /// remembered (a full record refuses 0-RTT). Default 10 s and 65536.
    /// The record belongs to this configuration: processes sharing a
    /// ticket key do not share it.
    pub fn early_data_anti_replay(mut self, window: std::time::Duration, capacity: usize) -> Self {
        self.anti_replay = (window, capacity);
        self
    }

    /// How many TLS 1.3 NewSessionTickets to send after a full handshake
    /// and after a resumption (default one each; a client should use a
    /// ticket once, RFC 8446 §C.4). No tickets are sent without
    /// [`ServerConfigBuilder::session_tickets`].
    pub fn tls13_tickets(mut self, after_full_handshake: usize, after_resumption: usize) -> Self {
        self.tls13_tickets = (after_full_handshake, after_resumption);
        self
    }

    /// Checks the configuration against the key store and finishes it.
    pub fn build(mut self) -> Result<ServerConfig, Error> {
        self.common.finish()?;
        if self.certificates.is_empty() {
            return Err(Error::Config("a server needs a certificate".into()));
        }
        let client_verifier = match self.client_auth {
            ClientAuth::Off => None,
            _ if self.client_roots.is_empty() => {
                return Err(Error::Config(
                    "client authentication needs trust anchors".into(),
                ))
            }
            _ => Some(Verifier::new(
                &self.common.store,
                Arc::new(self.client_roots),
                self.common.verified_chain_cache,
            )),
        };
        let ticketer = if self.tickets {
            Some(Ticketer {
                key: self.common.store.new_ticket_key()?,
                lifetime: self.session_lifetime,
            })
        } else {
            None
        };
        Ok(ServerConfig {
            common: self.common,
            certificates: self.certificates,
            client_auth: self.client_auth,
            client_verifier,
            sessions: (self.session_cache > 0).then(|| {
                Arc::new(ServerSessionCache::new(
                    self.session_cache,
                    u64::from(self.session_lifetime),
                ))
            }),
            ticketer,
            prefer_server_order: self.prefer_server_order,
            hello_retry_cookie: self.hello_retry_cookie,
            max_early_data: self.max_early_data,
            anti_replay: (self.max_early_data > 0).then(|| {
                crate::early_data::AntiReplay::new(self.anti_replay.0, self.anti_replay.1)
            }),
            tls13_tickets: self.tls13_tickets,
        })
    }
}
