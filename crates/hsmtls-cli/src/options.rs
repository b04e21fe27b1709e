//! Options shared by `hsmtls client` and `hsmtls server`, and the configs
//! they build.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use hsmtls::msgs::enums::ProtocolVersion;
use hsmtls::{CertifiedKey, ClientAuth, ClientConfig, ServerConfig};
use hsmtls_keys::KeyStore;
use hsmtls_soft::SoftStore;

use crate::store::{self, StoreOptions};
use crate::{files, names};

/// TLS parameters.
#[derive(Debug, Args, Clone)]
pub struct TlsOptions {
    /// Trust anchors (PEM or DER): the server's CA for a client, the
    /// client certificates' CA for a server.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Certificate chain (PEM, leaf first, or one DER certificate), or
    /// with --module a PKCS#11 URI of the certificate in the token.
    #[arg(long, value_name = "FILE|pkcs11:…")]
    pub cert: Option<PathBuf>,
    /// Private key of the certificate (PKCS#8, SEC1 or PKCS#1; PEM or
    /// DER), or with --module a PKCS#11 URI of the key in the token
    /// (e.g. `pkcs11:token=gateway;object=client;type=private`); a key file
    /// is imported into the token as a session object.
    #[arg(long, value_name = "FILE|pkcs11:…")]
    pub key: Option<PathBuf>,
    /// Intermediate CA certificates (PEM or DER) sent after a
    /// `--cert pkcs11:…` leaf.
    #[arg(long, value_name = "FILE")]
    pub chain: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreOptions,
    /// A preset: `tr03109` (smart-meter gateway: TLS 1.2, ECDHE-ECDSA
    /// AES-GCM/CBC, brainpool and NIST curves, EMS and encrypt-then-MAC
    /// required, mutual authentication required). --ciphers/--groups/
    /// --sigalgs narrow it.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
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
    /// (server) Put a cookie in TLS 1.3 HelloRetryRequests and require the
    /// client to echo it (RFC 8446 §4.2.2).
    #[arg(long)]
    pub hrr_cookie: bool,
    /// Do not use encrypt-then-MAC (RFC 7366).
    #[arg(long)]
    pub no_etm: bool,
    /// (server) Accept TLS 1.3 early data (0-RTT) up to this many bytes per
    /// connection, and say so in the tickets issued; each ClientHello's
    /// early data is accepted once within a 10 s anti-replay window
    /// (RFC 8446 §8). Off by default.
    #[arg(long, value_name = "BYTES")]
    pub max_early_data: Option<u32>,
}

/// A key store and, when given, the certificate and key loaded into it.
pub struct Loaded {
    pub store: Arc<dyn KeyStore>,
    pub certified: Option<CertifiedKey>,
    pub roots: Vec<Vec<u8>>,
}

impl TlsOptions {
    /// Loads the files into a fresh software store, or opens the token
    /// (`--module`) and finds or imports the key and certificate there.
    pub fn load(&self) -> Result<Loaded, String> {
        self.check_profile()?;
        let roots = match &self.ca {
            Some(ca) => files::certificates(ca)?,
            None => Vec::new(),
        };
        let key_uri = self
            .key
            .as_deref()
            .filter(|k| store::is_uri(k))
            .and_then(|k| k.to_str());
        let cert_is_uri = self.cert.as_deref().is_some_and(store::is_uri);
        if !self.store.is_token() && (key_uri.is_some() || cert_is_uri) {
            if key_uri.is_none() {
                return Err(
                    "--cert pkcs11:… needs --module (the PKCS#11 module holding it)".into(),
                );
            }
        } else if !self.store.is_token() {
            if self.store != StoreOptions::default() {
                return Err(
                    "--token, --pin-file, --init-args, --policy and --token-dir need --module"
                        .into(),
                );
            }
            return self.load_soft(roots);
        }
        let p11 = Arc::new(self.store.open(key_uri)?);
        let module = self
            .store
            .module
            .clone()
            .unwrap_or_else(|| "the URI's module".into());
        let certified = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let key_handle = if let Some(uri) = key_uri {
                    p11.private_key(uri).map_err(|e| format!("{uri}: {e}"))?
                } else {
                    p11.import_private_key(&files::private_key(key)?, "hsmtls-cli", b"hsmtls-cli")
                        .map_err(|e| format!("{}: {e}", key.display()))?
                };
                let chain = if cert_is_uri {
                    let uri = cert.to_str().unwrap_or_default();
                    let mut chain =
                        vec![p11.certificate(uri).map_err(|e| format!("{uri}: {e}"))?];
                    if let Some(more) = &self.chain {
                        chain.extend(files::certificates(more)?);
                    }
                    chain
                } else {
                    files::certificates(cert)?
                };
                Some(
                    CertifiedKey::new(chain, Arc::new(key_handle))
                        .map_err(|e| format!("{}: {e}", cert.display()))?,
                )
            }
            (None, None) => None,
            _ => return Err("--cert and --key go together".into()),
        };
        eprintln!("hsmtls: {}", store::describe(&p11, &module));
        Ok(Loaded {
            store: p11,
            certified,
            roots,
        })
    }

    fn load_soft(&self, roots: Vec<Vec<u8>>) -> Result<Loaded, String> {
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
        Ok(Loaded {
            store: Arc::new(soft),
            certified,
            roots,
        })
    }

    /// Whether the secrets are in a PKCS#11 token.
    fn token_mode(&self) -> bool {
        self.store.is_token() || self.key.as_deref().is_some_and(store::is_uri)
    }

    /// Whether `--profile tr03109` was asked for; refuses other profiles
    /// and the flags the profile forbids.
    fn check_profile(&self) -> Result<bool, String> {
        match self.profile.as_deref() {
            None => Ok(false),
            Some("tr03109") => {
                if self.tls13 || self.no_ems || self.no_etm {
                    return Err(
                        "--profile tr03109 is TLS 1.2 with the extended master secret \
                                and encrypt-then-MAC required: drop --tls13, --no-ems, --no-etm"
                            .into(),
                    );
                }
                Ok(true)
            }
            Some(other) => Err(format!("--profile: unknown {other:?} (tr03109)")),
        }
    }

    /// Narrows a profile's lists to the flags.
    fn narrow_client(
        &self,
        mut b: hsmtls::ClientConfigBuilder,
    ) -> Result<hsmtls::ClientConfigBuilder, String> {
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
        Ok(b)
    }

    /// A client configuration.
    pub fn client_config(&self, loaded: Loaded) -> Result<ClientConfig, String> {
        if loaded.roots.is_empty() {
            return Err("the client needs --ca to verify the server".into());
        }
        if self.check_profile()? {
            let ck = loaded
                .certified
                .ok_or("--profile tr03109 requires a client certificate: --cert and --key")?;
            let b = hsmtls::profiles::tr03109_client(loaded.store, loaded.roots, ck)
                .map_err(|e| e.to_string())?;
            return self.narrow_client(b)?.build().map_err(|e| e.to_string());
        }
        let mut b = ClientConfig::builder(loaded.store).root_certificates(loaded.roots);
        if let Some(ck) = loaded.certified {
            b = b.client_certificate(ck);
        }
        b = self.apply_client(b)?;
        b.build().map_err(|e| e.to_string())
    }

    /// A client configuration that sends early data (0-RTT) when it
    /// resumes with a ticket that allows it.
    pub fn client_config_with_early_data(&self, loaded: Loaded) -> Result<ClientConfig, String> {
        if self.check_profile()? {
            return Err("--early-data: the tr03109 profile is TLS 1.2 only".into());
        }
        if loaded.roots.is_empty() {
            return Err("the client needs --ca to verify the server".into());
        }
        let mut b = ClientConfig::builder(loaded.store).root_certificates(loaded.roots);
        if let Some(ck) = loaded.certified {
            b = b.client_certificate(ck);
        }
        b = self.apply_client(b)?.early_data(true);
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
        b = self.narrow_client(b)?;
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
        if self.check_profile()? {
            if loaded.roots.is_empty() {
                return Err(
                    "--profile tr03109 requires client authentication: --ca for the clients' CA"
                        .into(),
                );
            }
            let mut b = hsmtls::profiles::tr03109_server(loaded.store, ck, loaded.roots)
                .map_err(|e| e.to_string())?;
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
            if self.token_mode() {
                b = b.session_tickets(false);
            }
            return b.build().map_err(|e| e.to_string());
        }
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
            .encrypt_then_mac(!self.no_etm)
            .hello_retry_cookie(self.hrr_cookie)
            .max_early_data_size(self.max_early_data.unwrap_or(0));
        if self.token_mode() {
            // A master secret in a token cannot be sealed into a ticket
            // (not extractable): session IDs only.
            b = b.session_tickets(false);
        }
        b.build().map_err(|e| e.to_string())
    }
}
