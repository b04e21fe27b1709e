//! Session resumption state for TLS 1.2: the server's bounded session-ID
//! cache (RFC 5246 §7.4.1.2), the client's per-server store, and the
//! session-ticket state encoding (RFC 5077 §4). Master secrets stay key
//! store handles; a ticket carries them sealed by the store.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hsmtls_keys::Secret;

use crate::msgs::base::SessionId;
use crate::msgs::codec::{self, Codec, Reader};
use crate::msgs::enums::CipherSuite;
use crate::msgs::handshake::CertificatePayload;

/// What a resumable TLS 1.2 session keeps.
#[derive(Debug)]
pub struct Tls12Session {
    /// The suite of the original handshake.
    pub suite: CipherSuite,
    /// The master secret, a key-store handle.
    pub master: Arc<Secret>,
    /// Whether the master secret is an extended one (RFC 7627 §5.3).
    pub extended_master_secret: bool,
    /// The protocol agreed by ALPN, if any.
    pub alpn: Option<Vec<u8>>,
    /// The peer's certificate chain (kept by session-ID caches only).
    pub peer_certificates: Vec<Vec<u8>>,
    /// When the session was made, seconds since the Unix epoch.
    pub created: u64,
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(crate) fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The public part of a ticket's state: everything but the master secret
/// (TLS 1.2) or the resumption PSK (TLS 1.3), which the key store seals
/// itself beside it ([`KeyStore::ticket_seal`]). Public for key stores that
/// keep tickets elsewhere and for known-answer tests (RFC 8448 §4), which
/// must hand the engine a state for a ticket it did not issue.
///
/// [`KeyStore::ticket_seal`]: hsmtls_keys::KeyStore::ticket_seal
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TicketState {
    /// The suite of the connection that issued the ticket.
    pub suite: CipherSuite,
    /// TLS 1.2: whether the master secret is an extended one.
    pub extended_master_secret: bool,
    /// When the ticket was issued, milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// The ALPN protocol of the issuing connection.
    pub alpn: Option<Vec<u8>>,
    /// The client's certificate chain: RFC 5077 §4 puts `client_identity`
    /// in the ticket, so a resumed session knows whom it serves.
    pub peer_certificates: Vec<Vec<u8>>,
    /// TLS 1.3: the ticket's `ticket_age_add` (RFC 8446 §4.6.1), which
    /// turns the client's `obfuscated_ticket_age` back into its view of
    /// the ticket's age (the 0-RTT freshness check, §8.3).
    pub age_add: u32,
    /// TLS 1.3: the `max_early_data_size` the ticket allows (0: no 0-RTT).
    pub max_early_data: u32,
}

impl TicketState {
    const VERSION: u8 = 3;

    /// A state for a ticket issued now by a connection of `suite`.
    pub fn new(suite: CipherSuite) -> Self {
        Self {
            suite,
            extended_master_secret: false,
            created_ms: unix_now_ms(),
            alpn: None,
            peer_certificates: Vec::new(),
            age_add: 0,
            max_early_data: 0,
        }
    }

    /// When the ticket was issued, seconds since the Unix epoch.
    pub(crate) fn created(&self) -> u64 {
        self.created_ms / 1000
    }

    /// The encoding handed to the key store to seal.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        codec::put_u8(Self::VERSION, &mut out);
        codec::put_u16(self.suite.to_u16(), &mut out);
        codec::put_u8(u8::from(self.extended_master_secret), &mut out);
        out.extend_from_slice(&self.created_ms.to_be_bytes());
        out.extend_from_slice(&self.age_add.to_be_bytes());
        out.extend_from_slice(&self.max_early_data.to_be_bytes());
        codec::put_opaque_u8(self.alpn.as_deref().unwrap_or_default(), &mut out);
        CertificatePayload {
            certificates: self.peer_certificates.clone(),
        }
        .encode(&mut out);
        out
    }

    /// The inverse of [`TicketState::encode`]; `None` for anything else
    /// (a ticket of another version is not resumed).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader::new(bytes);
        if r.u8().ok()? != Self::VERSION {
            return None;
        }
        let suite = CipherSuite::from(r.u16().ok()?);
        let ems = match r.u8().ok()? {
            0 => false,
            1 => true,
            _ => return None,
        };
        let created_ms = u64::from_be_bytes(r.take(8).ok()?.try_into().ok()?);
        let age_add = u32::from_be_bytes(r.take(4).ok()?.try_into().ok()?);
        let max_early_data = u32::from_be_bytes(r.take(4).ok()?.try_into().ok()?);
        let alpn = codec::read_opaque_u8(&mut r).ok()?;
        let peer_certificates = CertificatePayload::read(&mut r).ok()?.certificates;
        r.expect_empty("ticket state").ok()?;
        Some(Self {
            suite,
            extended_master_secret: ems,
            created_ms,
            alpn: (!alpn.is_empty()).then_some(alpn),
            peer_certificates,
            age_add,
            max_early_data,
        })
    }
}

/// A bounded server-side cache of sessions by session ID. The oldest
/// entry goes when it is full.
#[derive(Debug)]
pub struct ServerSessionCache {
    capacity: usize,
    lifetime: u64,
    inner: Mutex<ServerCacheInner>,
}

#[derive(Debug, Default)]
struct ServerCacheInner {
    map: HashMap<Vec<u8>, Arc<Tls12Session>>,
    order: VecDeque<Vec<u8>>,
}

impl ServerSessionCache {
    /// A cache of at most `capacity` sessions, each usable for `lifetime`
    /// seconds.
    pub fn new(capacity: usize, lifetime: u64) -> Self {
        Self {
            capacity: capacity.max(1),
            lifetime,
            inner: Mutex::new(ServerCacheInner::default()),
        }
    }

    pub(crate) fn put(&self, id: &SessionId, session: Arc<Tls12Session>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let key = id.as_ref().to_vec();
        if inner.map.insert(key.clone(), session).is_none() {
            inner.order.push_back(key);
        }
        while inner.map.len() > self.capacity {
            match inner.order.pop_front() {
                Some(old) => {
                    inner.map.remove(&old);
                }
                None => break,
            }
        }
    }

    pub(crate) fn get(&self, id: &SessionId) -> Option<Arc<Tls12Session>> {
        let inner = self.inner.lock().ok()?;
        let session = inner.map.get(id.as_ref())?.clone();
        (unix_now().saturating_sub(session.created) <= self.lifetime).then_some(session)
    }

    /// How many sessions are cached.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.map.len()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a client remembers of a server to resume with.
#[derive(Debug, Clone)]
pub(crate) struct ClientSession {
    pub session_id: SessionId,
    pub ticket: Option<Vec<u8>>,
    /// For TLS 1.2 the master secret; for TLS 1.3 the ticket's PSK.
    pub session: Arc<Tls12Session>,
    /// TLS 1.3 ticket facts (RFC 8446 §4.6.1).
    pub tls13: Option<Tls13Ticket>,
}

/// What a TLS 1.3 client keeps of a NewSessionTicket besides the PSK.
#[derive(Debug, Clone)]
pub(crate) struct Tls13Ticket {
    /// `ticket_age_add`, to obfuscate the ticket age (§4.2.11.1).
    pub age_add: u32,
    /// When the ticket arrived.
    pub received: std::time::Instant,
    /// The key-exchange group of the connection that got the ticket: the
    /// client's next ClientHello to this server leads with a share for it,
    /// so a server that once asked for another group by HelloRetryRequest
    /// is not asked again (RFC 8446 §4.2.7 lets a client use what it knows
    /// of the server's preference).
    pub group: Option<crate::msgs::enums::NamedGroup>,
    /// The ticket's `max_early_data_size` (0: no 0-RTT with it).
    pub max_early_data: u32,
}

/// The client's sessions, one per server name, bounded.
#[derive(Debug)]
pub struct ClientSessionCache {
    capacity: usize,
    inner: Mutex<(HashMap<String, ClientSession>, VecDeque<String>)>,
}

impl ClientSessionCache {
    /// A store for at most `capacity` servers.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    pub(crate) fn put(&self, server: &str, session: ClientSession) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let (map, order) = &mut *inner;
        if map.insert(server.to_owned(), session).is_none() {
            order.push_back(server.to_owned());
        }
        while map.len() > self.capacity {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
    }

    pub(crate) fn get(&self, server: &str) -> Option<ClientSession> {
        self.inner.lock().ok()?.0.get(server).cloned()
    }
}
