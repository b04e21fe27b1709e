//! Options shared by `hsmtls client` and `hsmtls server`, and the configs
//! they build.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use hsmtls::msgs::enums::ProtocolVersion;
use hsmtls::{CertifiedKey, ClientAuth, ClientConfig, ServerConfig};
use hsmtls_keys::KeyStore;
use hsmtls_soft::SoftStore;

use crate::{files, names};

/// TLS parameters.
#[derive(Debug, Args, Clone)]
pub struct TlsOptions {
    /// Trust anchors (PEM or DER): the server's CA for a client, the
    /// client certificates' CA for a server.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Certificate chain (PEM, leaf first, or one DER certificate).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Private key of the certificate (PKCS#8, SEC1 or PKCS#1; PEM or DER).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Only TLS 1.2.
    #[arg(long, conflicts_with = "tls13")]
    pub tls12: bool,
    /// Only TLS 1.3.
    #[arg(long)]
    pub tls13: bool,
    /// Cipher suites by IANA name, comma-separated, in order of preference.
    #[arg(long, value_name = "LIST")]
    pub ciphers: Option<String>,
    /// Groups by IANA name, comma-separated (x25519, secp256r1, brainpoolP256r1 …).
    #[arg(long, value_name = "LIST")]
    pub groups: Option<String>,
    /// Signature schemes by IANA name, comma-separated.
    #[arg(long, value_name = "LIST")]
    pub sigalgs: Option<String>,
    /// ALPN protocols, comma-separated.
    #[arg(long, value_name = "LIST")]
    pub alpn: Option<String>,
    /// Do not offer or accept the extended master secret (RFC 7627).
    #[arg(long, conflicts_with = "require_ems")]
    pub no_ems: bool,
    /// Refuse peers without the extended master secret.
    #[arg(long)]
    pub require_ems: bool,
    /// Do not use encrypt-then-MAC (RFC 7366).
    #[arg(long)]
    pub no_etm: bool,
}

/// A key store and, when given, the certificate and key loaded into it.
pub struct Loaded {
    pub store: Arc<dyn KeyStore>,
    pub certified: Option<CertifiedKey>,
    pub roots: Vec<Vec<u8>>,
}

impl TlsOptions {
    /// Loads the files into a fresh software store.
    pub fn load(&self) -> Result<Loaded, String> {
        let soft = SoftStore::new();
        let certified = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let chain = files::certificates(cert)?;
                let key_bytes = files::private_key(key)?;
                let key = soft
                    .import_private_key(&key_bytes)
                    .map_err(|e| format!("{}: {e}", key.display()))?;
                Some(
                    CertifiedKey::new(chain, Arc::new(key))
                        .map_err(|e| format!("{}: {e}", cert.display()))?,
                )
            }
            (None, None) => None,
            _ => return Err("--cert and --key go together".into()),
        };
        let roots = match &self.ca {
            Some(ca) => files::certificates(ca)?,
            None => Vec::new(),
        };
        Ok(Loaded {
            store: Arc::new(soft),
            certified,
            roots,
        })
    }

    /// A client configuration.
    pub fn client_config(&self, loaded: Loaded) -> Result<ClientConfig, String> {
        if loaded.roots.is_empty() {
            return Err("the client needs --ca to verify the server".into());
        }
        let mut b = ClientConfig::builder(loaded.store).root_certificates(loaded.roots);
        if let Some(ck) = loaded.certified {
            b = b.client_certificate(ck);
        }
        b = self.apply_client(b)?;
        b.build().map_err(|e| e.to_string())
    }

    /// The protocol versions the flags ask for.
    fn versions(&self) -> &'static [ProtocolVersion] {
        if self.tls12 {
            &[ProtocolVersion::TLSv1_2]
        } else if self.tls13 {
            &[ProtocolVersion::TLSv1_3]
        } else {
            &[ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2]
        }
    }

    fn apply_client(
        &self,
        mut b: hsmtls::ClientConfigBuilder,
    ) -> Result<hsmtls::ClientConfigBuilder, String> {
        b = b.versions(self.versions()).map_err(|e| e.to_string())?;
        if let Some(list) = &self.ciphers {
            b = b
                .cipher_suites(&names::cipher_suites(list)?)
                .map_err(|e| e.to_string())?;
        }
        if let Some(list) = &self.groups {
            b = b.groups(&names::groups(list)?).map_err(|e| e.to_string())?;
        }
        if let Some(list) = &self.sigalgs {
            b = b.signature_schemes(&names::signature_schemes(list)?);
        }
        if let Some(list) = &self.alpn {
            b = b.alpn_protocols(names::alpn(list)?);
        }
        Ok(b.extended_master_secret(!self.no_ems)
            .require_extended_master_secret(self.require_ems)
            .encrypt_then_mac(!self.no_etm))
    }

    /// A server configuration.
    pub fn server_config(
        &self,
        loaded: Loaded,
        client_auth: ClientAuth,
    ) -> Result<ServerConfig, String> {
        let ck = loaded
            .certified
            .ok_or("the server needs --cert and --key")?;
        let mut b = ServerConfig::builder(loaded.store)
            .certificate(ck)
            .versions(self.versions())
            .map_err(|e| e.to_string())?;
        if client_auth != ClientAuth::Off {
            if loaded.roots.is_empty() {
                return Err("client authentication needs --ca".into());
            }
            b = b.client_auth(client_auth, loaded.roots);
        }
        if let Some(list) = &self.ciphers {
            b = b
                .cipher_suites(&names::cipher_suites(list)?)
                .map_err(|e| e.to_string())?;
        }
        if let Some(list) = &self.groups {
            b = b.groups(&names::groups(list)?).map_err(|e| e.to_string())?;
        }
        if let Some(list) = &self.sigalgs {
            b = b.signature_schemes(&names::signature_schemes(list)?);
        }
        if let Some(list) = &self.alpn {
            b = b.alpn_protocols(names::alpn(list)?);
        }
        b = b
            .extended_master_secret(!self.no_ems)
            .require_extended_master_secret(self.require_ems)
            .encrypt_then_mac(!self.no_etm);
        b.build().map_err(|e| e.to_string())
    }
}
