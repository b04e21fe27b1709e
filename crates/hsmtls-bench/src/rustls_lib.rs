//! rustls (crates.io, aws-lc-rs provider), restricted to the scenario's
//! suite and group: TLS 1.2 for a TLS 1.2 suite, TLS 1.3 for a TLS 1.3
//! suite (`TLS_AES_*`, `TLS_CHACHA20_*`).

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;

use rustls::client::{Resumption, Tls12Resumption};
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache};
use rustls::{ClientConfig, ClientConnection, HandshakeKind, ServerConfig, ServerConnection};

use crate::{pki, Endpoint, Library, Mode, Scenario};

/// Whether `suite` (an IANA name) is a TLS 1.3 suite.
pub fn is_tls13(suite: &str) -> bool {
    suite.starts_with("TLS_AES_") || suite.starts_with("TLS_CHACHA20_")
}

/// rustls configured for one scenario.
#[derive(Debug)]
pub struct Rustls {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

impl Rustls {
    /// Client and server configurations for `scenario`; an error if rustls
    /// lacks its suite (it has no CBC suites) or group.
    pub fn new(scenario: &Scenario) -> Result<Self, String> {
        let base = aws_lc_rs::default_provider();
        let suite = base
            .cipher_suites
            .iter()
            .find(|s| {
                // rustls names TLS 1.3 suites `TLS13_*`.
                s.suite().as_str().map(|n| n.replacen("TLS13_", "TLS_", 1))
                    == Some(scenario.suite.clone())
            })
            .copied()
            .ok_or_else(|| format!("rustls has no cipher suite {}", scenario.suite))?;
        let group_name = match scenario.group.as_str() {
            "secp256r1" => "secp256r1",
            "secp384r1" => "secp384r1",
            "x25519" => "X25519",
            other => return Err(format!("rustls: unknown group {other}")),
        };
        let group = base
            .kx_groups
            .iter()
            .find(|g| g.name().as_str() == Some(group_name))
            .copied()
            .ok_or_else(|| format!("rustls has no group {}", scenario.group))?;
        let provider = Arc::new(CryptoProvider {
            cipher_suites: vec![suite],
            kx_groups: vec![group],
            ..base
        });
        let versions: &[&rustls::SupportedProtocolVersion] = if is_tls13(&scenario.suite) {
            &[&rustls::version::TLS13]
        } else {
            &[&rustls::version::TLS12]
        };

        let pki = pki::server(scenario.key);
        let chain = pki::chain_der(pki.chain_pem)?;
        let key = {
            use pki_types::pem::PemObject;
            pki_types::PrivateKeyDer::from_pem_slice(pki.key_pem)
                .map_err(|e| format!("embedded key: {e:?}"))?
        };
        let mut server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| e.to_string())?;
        server.session_storage = match scenario.mode {
            Mode::Resume => ServerSessionMemoryCache::new(1024),
            _ => Arc::new(NoServerSessionStorage {}),
        };
        if scenario.mode == Mode::Ticket {
            server.ticketer = aws_lc_rs::Ticketer::new().map_err(|e| e.to_string())?;
        }

        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(pki_types::CertificateDer::from(pki.ca_der))
            .map_err(|e| e.to_string())?;
        let mut client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.resumption = match scenario.mode {
            Mode::Handshake | Mode::Bulk => Resumption::disabled(),
            Mode::Resume => {
                Resumption::in_memory_sessions(4).tls12_resumption(Tls12Resumption::SessionIdOnly)
            }
            Mode::Ticket => Resumption::in_memory_sessions(4)
                .tls12_resumption(Tls12Resumption::SessionIdOrTickets),
        };
        Ok(Self {
            client: Arc::new(client),
            server: Arc::new(server),
        })
    }
}

impl Library for Rustls {
    type Client = RustlsEndpoint<ClientConnection>;
    type Server = RustlsEndpoint<ServerConnection>;

    fn name(&self) -> &'static str {
        "rustls"
    }

    fn client(&self) -> Result<Self::Client, String> {
        let name = pki_types::ServerName::try_from("localhost").map_err(|e| e.to_string())?;
        ClientConnection::new(self.client.clone(), name)
            .map(RustlsEndpoint)
            .map_err(|e| e.to_string())
    }

    fn server(&self) -> Result<Self::Server, String> {
        ServerConnection::new(self.server.clone())
            .map(RustlsEndpoint)
            .map_err(|e| e.to_string())
    }
}

/// A rustls connection as a harness [`Endpoint`].
#[derive(Debug)]
pub struct RustlsEndpoint<C>(C);

impl<C, D> Endpoint for RustlsEndpoint<C>
where
    C: core::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
    D: rustls::SideData,
{
    fn wants_write(&self) -> bool {
        self.0.wants_write()
    }

    fn write_tls(&mut self, out: &mut Vec<u8>) -> Result<usize, String> {
        self.0.write_tls(out).map_err(|e| e.to_string())
    }

    fn read_tls(&mut self, rd: &mut &[u8]) -> Result<usize, String> {
        self.0.read_tls(rd).map_err(|e| e.to_string())
    }

    fn process_new_packets(&mut self) -> Result<(), String> {
        self.0
            .process_new_packets()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn is_handshaking(&self) -> bool {
        self.0.is_handshaking()
    }

    fn resumed(&self) -> bool {
        self.0.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    fn write_plaintext(&mut self, data: &[u8]) -> Result<(), String> {
        self.0.writer().write_all(data).map_err(|e| e.to_string())
    }

    fn read_plaintext(&mut self, buf: &mut [u8]) -> Result<usize, String> {
        match self.0.reader().read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e.to_string()),
        }
    }
}
