//! hsmtls on the in-process key store (`hsmtls-soft`).

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;

use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
use hsmtls::{CertifiedKey, ClientConfig, Connection, ServerConfig};
use hsmtls_soft::SoftStore;

use crate::{pki, Endpoint, Library, Mode, Scenario};

/// hsmtls configured for one scenario.
#[derive(Debug)]
pub struct Hsmtls {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
}

impl Hsmtls {
    /// Client and server configurations for `scenario`, one `SoftStore`
    /// shared by both (as `hsmtls bench` does).
    pub fn new(scenario: &Scenario) -> Result<Self, String> {
        let suite = CipherSuite::from_name(&scenario.suite)
            .ok_or_else(|| format!("unknown cipher suite {:?}", scenario.suite))?;
        let group = NamedGroup::from_name(&scenario.group)
            .ok_or_else(|| format!("unknown group {:?}", scenario.group))?;
        let pki = pki::server(scenario.key);
        let store = Arc::new(SoftStore::new());
        let key = store
            .import_private_key(pki.key_pem)
            .map_err(|e| e.to_string())?;
        let chain = pki::chain_der(pki.chain_pem)?
            .into_iter()
            .map(|c| c.as_ref().to_vec())
            .collect();
        let certified = CertifiedKey::new(chain, Arc::new(key)).map_err(|e| e.to_string())?;
        let mode = scenario.mode;
        let server = ServerConfig::builder(store.clone())
            .certificate(certified)
            .cipher_suites(&[suite])
            .map_err(|e| e.to_string())?
            .groups(&[group])
            .map_err(|e| e.to_string())?
            .session_tickets(mode == Mode::Ticket)
            .session_cache_size(if mode == Mode::Resume { 1024 } else { 0 })
            .build()
            .map_err(|e| e.to_string())?;
        let client = ClientConfig::builder(store)
            .root_certificates(vec![pki.ca_der.to_vec()])
            .cipher_suites(&[suite])
            .map_err(|e| e.to_string())?
            .groups(&[group])
            .map_err(|e| e.to_string())?
            .session_tickets(mode == Mode::Ticket)
            .session_cache_size(if mode.resumes() { 4 } else { 0 })
            .verified_chain_cache_size(if scenario.chain_cache { 32 } else { 0 })
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client: Arc::new(client),
            server: Arc::new(server),
        })
    }
}

/// An hsmtls connection as a harness [`Endpoint`].
#[derive(Debug)]
pub struct HsmtlsEndpoint(Connection);

impl Library for Hsmtls {
    type Client = HsmtlsEndpoint;
    type Server = HsmtlsEndpoint;

    fn name(&self) -> &'static str {
        "hsmtls"
    }

    fn client(&self) -> Result<HsmtlsEndpoint, String> {
        Connection::client(self.client.clone(), "localhost")
            .map(HsmtlsEndpoint)
            .map_err(|e| e.to_string())
    }

    fn server(&self) -> Result<HsmtlsEndpoint, String> {
        Connection::server(self.server.clone())
            .map(HsmtlsEndpoint)
            .map_err(|e| e.to_string())
    }
}

impl Endpoint for HsmtlsEndpoint {
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
        self.0.process_new_packets().map_err(|e| e.to_string())
    }

    fn is_handshaking(&self) -> bool {
        self.0.is_handshaking()
    }

    fn resumed(&self) -> bool {
        self.0.negotiated().resumed
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
