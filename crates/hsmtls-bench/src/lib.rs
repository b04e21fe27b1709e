//! Benchmarks only: hsmtls and rustls driven by one in-memory harness.
//!
//! The harness is the one of `hsmtls bench` (and of rustls's own bench
//! program): client and server live in one process, TLS bytes move between
//! them through a `Vec`, and the time each side spends processing what it
//! received is measured apart. The library under test is reached through
//! the [`Library`] and [`Endpoint`] traits, so both libraries run the very
//! same harness code.
//!
//! This crate is the only one in the workspace that depends on rustls.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::time::{Duration, Instant};

pub mod hsmtls_lib;
pub mod pki;
pub mod rustls_lib;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Full handshakes.
    Handshake,
    /// Handshakes resuming by session ID.
    Resume,
    /// Handshakes resuming by session ticket.
    Ticket,
    /// Application data throughput.
    Bulk,
}

impl Mode {
    /// Whether handshakes of this mode are expected to resume.
    pub fn resumes(self) -> bool {
        matches!(self, Self::Resume | Self::Ticket)
    }
}

/// The server certificate's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA on P-256 (testdata/pki/ecdsa-p256).
    EcdsaP256,
    /// RSA 2048 (testdata/pki/rsa2048).
    Rsa2048,
}

/// What one benchmark configuration consists of.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The cipher suite by IANA name.
    pub suite: String,
    /// The key-exchange group by IANA name (`secp256r1`, `x25519`).
    pub group: String,
    /// The server certificate's key.
    pub key: KeyKind,
    /// What is measured.
    pub mode: Mode,
    /// hsmtls: remember validated server chains (its default); rustls has
    /// no such cache.
    pub chain_cache: bool,
}

/// One end of a connection of the library under test.
pub trait Endpoint {
    /// Whether TLS bytes are waiting to be written.
    fn wants_write(&self) -> bool;
    /// Appends pending TLS bytes to `out`.
    fn write_tls(&mut self, out: &mut Vec<u8>) -> Result<usize, String>;
    /// Takes TLS bytes from the front of `rd`.
    fn read_tls(&mut self, rd: &mut &[u8]) -> Result<usize, String>;
    /// Processes the TLS bytes read so far.
    fn process_new_packets(&mut self) -> Result<(), String>;
    /// Whether the handshake is still going.
    fn is_handshaking(&self) -> bool;
    /// Whether the handshake resumed a session.
    fn resumed(&self) -> bool;
    /// Queues application data.
    fn write_plaintext(&mut self, data: &[u8]) -> Result<(), String>;
    /// Reads decrypted application data; `Ok(0)` when none is buffered.
    fn read_plaintext(&mut self, buf: &mut [u8]) -> Result<usize, String>;
}

/// A library under test, configured for one [`Scenario`].
pub trait Library {
    /// Its client connection.
    type Client: Endpoint;
    /// Its server connection.
    type Server: Endpoint;
    /// The library's name, for reports.
    fn name(&self) -> &'static str;
    /// A new client connection to "localhost".
    fn client(&self) -> Result<Self::Client, String>;
    /// A new server connection.
    fn server(&self) -> Result<Self::Server, String>;
}

/// Moves every pending byte from `from` to `to` and lets `to` process
/// them; returns the time `to` spent.
pub fn transfer(
    from: &mut impl Endpoint,
    to: &mut impl Endpoint,
    buf: &mut Vec<u8>,
) -> Result<Duration, String> {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf)?;
    }
    let start = Instant::now();
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd)?;
        to.process_new_packets()?;
    }
    Ok(start.elapsed())
}

/// One handshake over memory; returns (client time, server time). The
/// creation of each connection counts towards its side. With
/// `expect_resumed`, both sides must agree that it resumed (or not).
pub fn handshake<L: Library>(
    lib: &L,
    expect_resumed: Option<bool>,
) -> Result<(Duration, Duration), String> {
    let mut buf = Vec::with_capacity(8192);
    let start = Instant::now();
    let mut client = lib.client()?;
    let mut client_time = start.elapsed();
    let start = Instant::now();
    let mut server = lib.server()?;
    let mut server_time = start.elapsed();
    while client.is_handshaking() || server.is_handshaking() {
        server_time += transfer(&mut client, &mut server, &mut buf)?;
        client_time += transfer(&mut server, &mut client, &mut buf)?;
    }
    let resumed = (client.resumed(), server.resumed());
    if let Some(expected) = expect_resumed.filter(|&e| resumed != (e, e)) {
        return Err(format!(
            "{}: handshake resumed (client {}, server {}), expected {expected}",
            lib.name(),
            client.resumed(),
            server.resumed()
        ));
    }
    Ok((client_time, server_time))
}

/// Handshake rates of one batch, in handshakes per second.
#[derive(Debug, Clone, Copy)]
pub struct HandshakeRates {
    /// Server side.
    pub server: f64,
    /// Client side.
    pub client: f64,
}

/// Runs `rounds` handshakes (after one unmeasured warm-up handshake that
/// also primes the caches of the resuming modes).
pub fn handshakes<L: Library>(lib: &L, mode: Mode, rounds: u64) -> Result<HandshakeRates, String> {
    let mut tally = HandshakeTally::start(lib, mode)?;
    for _ in 0..rounds {
        tally.one(lib)?;
    }
    Ok(tally.rates())
}

/// Runs `rounds` handshakes of each library, alternating handshake by
/// handshake (and who goes first), so that both see the same machine
/// noise. Returns the rates of `a` and of `b`.
pub fn handshakes_pair<A: Library, B: Library>(
    a: &A,
    b: &B,
    mode: Mode,
    rounds: u64,
) -> Result<(HandshakeRates, HandshakeRates), String> {
    let mut ta = HandshakeTally::start(a, mode)?;
    let mut tb = HandshakeTally::start(b, mode)?;
    for i in 0..rounds {
        if i % 2 == 0 {
            ta.one(a)?;
            tb.one(b)?;
        } else {
            tb.one(b)?;
            ta.one(a)?;
        }
    }
    Ok((ta.rates(), tb.rates()))
}

/// Time spent by each side over a series of handshakes.
struct HandshakeTally {
    resumed: bool,
    count: u64,
    client: Duration,
    server: Duration,
}

impl HandshakeTally {
    fn start<L: Library>(lib: &L, mode: Mode) -> Result<Self, String> {
        handshake(lib, None)?;
        Ok(Self {
            resumed: mode.resumes(),
            count: 0,
            client: Duration::ZERO,
            server: Duration::ZERO,
        })
    }

    fn one<L: Library>(&mut self, lib: &L) -> Result<(), String> {
        let (c, s) = handshake(lib, Some(self.resumed))?;
        self.client += c;
        self.server += s;
        self.count += 1;
        Ok(())
    }

    fn rates(&self) -> HandshakeRates {
        HandshakeRates {
            server: per_second(self.count as f64, self.server),
            client: per_second(self.count as f64, self.client),
        }
    }
}

/// Bulk throughput of one batch, in MB/s (10^6 bytes).
#[derive(Debug, Clone, Copy)]
pub struct BulkRates {
    /// The server sealing and writing records.
    pub send: f64,
    /// The client reading, opening and handing out records.
    pub recv: f64,
}

/// Transfers `total` bytes of application data from server to client in
/// writes of `size` bytes.
pub fn bulk<L: Library>(lib: &L, size: usize, total: u64) -> Result<BulkRates, String> {
    let mut run = BulkRun::new(lib, size)?;
    while run.sent < total {
        run.step(lib)?;
    }
    Ok(run.rates())
}

/// [`bulk`] for two libraries, alternating write by write (and who goes
/// first). Returns the rates of `a` and of `b`.
pub fn bulk_pair<A: Library, B: Library>(
    a: &A,
    b: &B,
    size: usize,
    total: u64,
) -> Result<(BulkRates, BulkRates), String> {
    let mut ra = BulkRun::new(a, size)?;
    let mut rb = BulkRun::new(b, size)?;
    let mut i = 0u64;
    while ra.sent < total {
        if i % 2 == 0 {
            ra.step(a)?;
            rb.step(b)?;
        } else {
            rb.step(b)?;
            ra.step(a)?;
        }
        i += 1;
    }
    Ok((ra.rates(), rb.rates()))
}

/// One connection moving application data from server to client.
struct BulkRun<L: Library> {
    client: L::Client,
    server: L::Server,
    plaintext: Vec<u8>,
    sink: Vec<u8>,
    buf: Vec<u8>,
    send: Duration,
    recv: Duration,
    sent: u64,
}

impl<L: Library> BulkRun<L> {
    fn new(lib: &L, size: usize) -> Result<Self, String> {
        let size = size.max(1);
        let mut buf = Vec::with_capacity(size + 1024);
        let mut client = lib.client()?;
        let mut server = lib.server()?;
        while client.is_handshaking() || server.is_handshaking() {
            transfer(&mut client, &mut server, &mut buf)?;
            transfer(&mut server, &mut client, &mut buf)?;
        }
        Ok(Self {
            client,
            server,
            plaintext: vec![0x5au8; size],
            sink: vec![0u8; size.max(16384)],
            buf,
            send: Duration::ZERO,
            recv: Duration::ZERO,
            sent: 0,
        })
    }

    /// One write: the server seals and writes, the client reads, opens
    /// and hands out the plaintext.
    fn step(&mut self, lib: &L) -> Result<(), String> {
        let start = Instant::now();
        self.server.write_plaintext(&self.plaintext)?;
        self.buf.clear();
        while self.server.wants_write() {
            self.server.write_tls(&mut self.buf)?;
        }
        self.send += start.elapsed();
        let start = Instant::now();
        let mut rd = &self.buf[..];
        let mut received = 0;
        while !rd.is_empty() {
            self.client.read_tls(&mut rd)?;
            self.client.process_new_packets()?;
            loop {
                let n = self.client.read_plaintext(&mut self.sink)?;
                if n == 0 {
                    break;
                }
                received += n;
            }
        }
        self.recv += start.elapsed();
        if received != self.plaintext.len() {
            return Err(format!(
                "{}: received {received} bytes, sent {}",
                lib.name(),
                self.plaintext.len()
            ));
        }
        self.sent += self.plaintext.len() as u64;
        Ok(())
    }

    fn rates(&self) -> BulkRates {
        let mb = self.sent as f64 / 1_000_000.0;
        BulkRates {
            send: per_second(mb, self.send),
            recv: per_second(mb, self.recv),
        }
    }
}

fn per_second(n: f64, d: Duration) -> f64 {
    n / d.as_secs_f64().max(1e-9)
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(suite: &str, group: &str, key: KeyKind, mode: Mode) -> Scenario {
        Scenario {
            suite: suite.into(),
            group: group.into(),
            key,
            mode,
            chain_cache: true,
        }
    }

    #[test]
    fn median_odd_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn both_libraries_run_every_mode() {
        for (suite, key) in [
            (
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                KeyKind::EcdsaP256,
            ),
            ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", KeyKind::Rsa2048),
        ] {
            for mode in [Mode::Handshake, Mode::Resume, Mode::Ticket, Mode::Bulk] {
                let s = scenario(suite, "x25519", key, mode);
                let h = hsmtls_lib::Hsmtls::new(&s).unwrap();
                let r = rustls_lib::Rustls::new(&s).unwrap();
                if mode == Mode::Bulk {
                    bulk(&h, 16384, 1 << 18).unwrap();
                    bulk(&r, 16384, 1 << 18).unwrap();
                    bulk_pair(&h, &r, 16384, 1 << 18).unwrap();
                } else {
                    handshakes(&h, mode, 2).unwrap();
                    handshakes(&r, mode, 2).unwrap();
                    handshakes_pair(&h, &r, mode, 3).unwrap();
                }
            }
        }
    }

    #[test]
    fn both_libraries_run_tls13() {
        for mode in [Mode::Handshake, Mode::Ticket, Mode::Bulk] {
            let s = scenario("TLS_AES_128_GCM_SHA256", "x25519", KeyKind::EcdsaP256, mode);
            let h = hsmtls_lib::Hsmtls::new(&s).unwrap();
            let r = rustls_lib::Rustls::new(&s).unwrap();
            if mode == Mode::Bulk {
                bulk_pair(&h, &r, 16384, 1 << 18).unwrap();
            } else {
                handshakes_pair(&h, &r, mode, 3).unwrap();
            }
        }
    }

    #[test]
    fn hsmtls_cbc() {
        let s = scenario(
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            "secp256r1",
            KeyKind::EcdsaP256,
            Mode::Bulk,
        );
        let h = hsmtls_lib::Hsmtls::new(&s).unwrap();
        bulk(&h, 16384, 1 << 18).unwrap();
        assert!(rustls_lib::Rustls::new(&s).is_err());
    }
}
