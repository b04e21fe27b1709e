//! `hsmtls demo`: a gateway client and an administrator server over
//! 127.0.0.1, mutually authenticated with brainpoolP256r1 certificates, and
//! a trace of every key-store operation each side ran.
//!
//! For now both sides use the in-process software store; the PKCS#11 token
//! takes its place when `hsmtls-pkcs11` lands.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use clap::Args as ClapArgs;
use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
use hsmtls::{CertifiedKey, ClientAuth, ClientConfig, Connection, ServerConfig, Stream};
use hsmtls_keys::trace::TracingStore;
use hsmtls_keys::KeyStore;
use hsmtls_soft::SoftStore;

use crate::names;

/// `hsmtls demo` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The cipher suite (IANA name).
    #[arg(long, default_value = "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256")]
    suite: String,
    /// The key-exchange group (IANA name).
    #[arg(long, default_value = "brainpoolP256r1")]
    group: String,
}

const CA: &[u8] = include_bytes!("../../../testdata/pki/brainpoolP256r1/ca.der");
const SERVER_CHAIN: &[u8] =
    include_bytes!("../../../testdata/pki/brainpoolP256r1/server.chain.pem");
const SERVER_KEY: &[u8] = include_bytes!("../../../testdata/pki/brainpoolP256r1/server.key");
const CLIENT_CHAIN: &[u8] =
    include_bytes!("../../../testdata/pki/brainpoolP256r1/client.chain.pem");
const CLIENT_KEY: &[u8] = include_bytes!("../../../testdata/pki/brainpoolP256r1/client.key");

fn chain(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use pki_types::pem::PemObject;
    pki_types::CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("embedded chain: {e:?}"))
}

fn certified(soft: &SoftStore, chain_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, String> {
    let key = soft
        .import_private_key(key_pem)
        .map_err(|e| e.to_string())?;
    CertifiedKey::new(chain(chain_pem)?, Arc::new(key)).map_err(|e| e.to_string())
}

/// Runs the demo.
pub fn run(args: Args) -> Result<(), String> {
    let suite = CipherSuite::from_name(&args.suite)
        .ok_or_else(|| format!("unknown cipher suite {:?}", args.suite))?;
    let group = NamedGroup::from_name(&args.group)
        .ok_or_else(|| format!("unknown group {:?}", args.group))?;

    let server_soft = SoftStore::new();
    let server_key = certified(&server_soft, SERVER_CHAIN, SERVER_KEY)?;
    let server_store = Arc::new(TracingStore::new(Arc::new(server_soft), "server"));
    let client_soft = SoftStore::new();
    let client_key = certified(&client_soft, CLIENT_CHAIN, CLIENT_KEY)?;
    let client_store = Arc::new(TracingStore::new(Arc::new(client_soft), "client"));

    let server_config = ServerConfig::builder(server_store.clone() as Arc<dyn KeyStore>)
        .certificate(server_key)
        .client_auth(ClientAuth::Require, vec![CA.to_vec()])
        .cipher_suites(&[suite])
        .map_err(|e| e.to_string())?
        .groups(&[group])
        .map_err(|e| e.to_string())?
        .require_extended_master_secret(true)
        .build()
        .map_err(|e| e.to_string())?;
    let client_config = ClientConfig::builder(client_store.clone() as Arc<dyn KeyStore>)
        .root_certificates(vec![CA.to_vec()])
        .client_certificate(client_key)
        .cipher_suites(&[suite])
        .map_err(|e| e.to_string())?
        .groups(&[group])
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())?;
    // Setting up the configs made a ticket key; the trace starts here.
    server_store.take_events();
    client_store.take_events();

    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server_config = Arc::new(server_config);
    let server = std::thread::spawn(move || -> Result<Vec<u8>, String> {
        let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let conn = Connection::server(server_config).map_err(|e| e.to_string())?;
        let mut tls = Stream::new(conn, tcp);
        let mut request = [0u8; 64];
        let n = tls.read(&mut request).map_err(|e| e.to_string())?;
        tls.write_all(b"meter readings accepted")
            .map_err(|e| e.to_string())?;
        tls.close().map_err(|e| e.to_string())?;
        Ok(request[..n].to_vec())
    });

    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let conn =
        Connection::client(Arc::new(client_config), "localhost").map_err(|e| e.to_string())?;
    let mut tls = Stream::new(conn, tcp);
    tls.write_all(b"meter readings 2026-11")
        .map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    tls.read_to_end(&mut reply).map_err(|e| e.to_string())?;
    let request = server
        .join()
        .map_err(|_| "server thread panicked".to_string())??;

    let negotiated = tls.connection().negotiated();
    let mut out = String::new();
    out.push_str(&format!(
        "hsmtls demo: gateway client ↔ administrator server on {addr}\n"
    ));
    out.push_str(&format!("negotiated: {}\n", names::summary(negotiated)));
    out.push_str(&format!(
        "client certificate presented and verified: {}\n",
        names::yes_no(!negotiated.peer_certificates.is_empty())
    ));
    for (side, store) in [("client", &client_store), ("server", &server_store)] {
        out.push_str(&format!(
            "\nkey-store operations by the {side} ({}):\n",
            store.name()
        ));
        for (i, event) in store.take_events().iter().enumerate() {
            out.push_str(&format!(
                "  {:>2}. {:<20} {}{}\n",
                i + 1,
                format!("{:?}", event.kind),
                event.detail,
                if event.ok { "" } else { "  [failed]" }
            ));
        }
    }
    out.push_str("\napplication data:\n");
    out.push_str(&format!(
        "  client → server: {:?}\n",
        String::from_utf8_lossy(&request)
    ));
    out.push_str(&format!(
        "  server → client: {:?}\n",
        String::from_utf8_lossy(&reply)
    ));
    // A closed stdout (`hsmtls demo | head`) is not an error of the demo.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(())
}
