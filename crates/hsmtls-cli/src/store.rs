//! The key store of `hsmtls client` / `hsmtls server` / `hsmtls token`:
//! the in-process software store, or a PKCS#11 token (`--module PATH`, or
//! `--module hsmtls-token` for the token linked into `hsmtls`), with keys
//! and certificates named by PKCS#11 URIs.

use std::path::{Path, PathBuf};

use clap::Args;
use hsmtls_pkcs11::{
    PinSource, Pkcs11Config, Pkcs11Store, Pkcs11Uri, Policy, Relaxation, TokenSelector,
};

/// `--module hsmtls-token`: the token linked into `hsmtls`.
pub const LINKED_TOKEN: &str = "hsmtls-token";

/// Where the key store is.
#[derive(Debug, Args, Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// A PKCS#11 module (shared library) holding the keys and running every
    /// handshake secret, or `hsmtls-token` for the token linked into
    /// hsmtls (its configuration from --token-dir or HSMTLS_TOKEN_CONF).
    /// Without it, the in-process software store.
    #[arg(long, value_name = "PATH")]
    pub module: Option<String>,
    /// The token's label (default: the --key URI's `token=`, else the
    /// first token).
    #[arg(long, value_name = "LABEL")]
    pub token: Option<String>,
    /// A file whose first line is the user PIN (default: the --key URI's
    /// pin-source).
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
    /// `pReserved` of `C_Initialize` (NSS softoken's parameters).
    #[arg(long, value_name = "STRING")]
    pub init_args: Option<String>,
    /// `strict` (every secret in the token; the default), or relaxations,
    /// comma-separated: `software-prf` (TLS PRF in memory, for tokens
    /// without TLS mechanisms), `software-records` (traffic keys in memory).
    #[arg(long, value_name = "POLICY")]
    pub policy: Option<String>,
    /// hsmtls-token's directory (`token.conf` and the tokens), for
    /// `--module hsmtls-token`; created if missing.
    #[arg(long, value_name = "DIR")]
    pub token_dir: Option<PathBuf>,
}

/// Parses `--policy`.
pub fn parse_policy(s: &str) -> Result<Policy, String> {
    let mut relaxations = Vec::new();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "strict" => {}
            "software-prf" => relaxations.push(Relaxation::SoftwarePrf),
            "software-records" | "software-record-layer" => {
                relaxations.push(Relaxation::SoftwareRecordLayer)
            }
            other => {
                return Err(format!(
                    "--policy: unknown {other:?} (strict, software-prf, software-records)"
                ))
            }
        }
    }
    Ok(if relaxations.is_empty() {
        Policy::Strict
    } else {
        Policy::Relaxed(relaxations)
    })
}

/// Writes hsmtls-token's configuration in `dir` if missing and points
/// `HSMTLS_TOKEN_CONF` at it (read by the token in `C_Initialize`).
pub fn use_token_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir.join("tokens")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let conf = dir.join("token.conf");
    if !conf.is_file() {
        std::fs::write(
            &conf,
            format!(
                "# hsmtls-token configuration (hsmtls token init)\nnew_tokens = {}\n",
                dir.join("tokens").display()
            ),
        )
        .map_err(|e| format!("{}: {e}", conf.display()))?;
    }
    std::env::set_var("HSMTLS_TOKEN_CONF", &conf);
    Ok(())
}

/// Whether a `--key` / `--cert` value is a PKCS#11 URI.
pub fn is_uri(s: &Path) -> bool {
    s.to_str().is_some_and(|s| s.starts_with("pkcs11:"))
}

impl StoreOptions {
    /// Whether a token was asked for.
    pub fn is_token(&self) -> bool {
        self.module.is_some()
    }

    /// The module's configuration: `--module` (or the key URI's
    /// `module-path`), token and PIN from the flags, else from `key_uri`.
    pub fn config(&self, key_uri: Option<&str>) -> Result<Pkcs11Config, String> {
        let uri = key_uri
            .map(|u| Pkcs11Uri::parse(u).map_err(|e| format!("{u}: {e}")))
            .transpose()?;
        let module = self
            .module
            .clone()
            .or_else(|| uri.as_ref().and_then(|u| u.module_path.clone()))
            .ok_or("a pkcs11: URI needs --module (the PKCS#11 module holding it)")?;
        let mut config = if module == LINKED_TOKEN {
            if let Some(dir) = &self.token_dir {
                use_token_dir(dir)?;
            }
            Pkcs11Config::linked(LINKED_TOKEN, &hsmtls_token::abi::FUNCTION_LIST)
        } else {
            if self.token_dir.is_some() {
                return Err("--token-dir is for --module hsmtls-token".into());
            }
            Pkcs11Config::new(&module)
        };
        config.init_reserved = self.init_args.clone();
        if let Some(u) = &uri {
            if let Some(label) = &u.token {
                config.token = TokenSelector::Label(label.clone());
            } else if let Some(slot) = u.slot_id {
                config.token = TokenSelector::SlotId(slot);
            }
            if u.pin_value.is_some() {
                return Err(
                    "the URI's pin-value would put the PIN in the process list: use \
                     pin-source=FILE or --pin-file"
                        .into(),
                );
            }
            if let Some(file) = u.pin_file() {
                config.pin = Some(PinSource::File(PathBuf::from(file)));
            }
        }
        if let Some(label) = &self.token {
            config.token = TokenSelector::Label(label.clone());
        }
        if let Some(file) = &self.pin_file {
            config.pin = Some(PinSource::File(file.clone()));
        }
        config.policy = parse_policy(self.policy.as_deref().unwrap_or("strict"))?;
        Ok(config)
    }

    /// Opens the token.
    pub fn open(&self, key_uri: Option<&str>) -> Result<Pkcs11Store, String> {
        let config = self.config(key_uri)?;
        let name = config.module.display().to_string();
        Pkcs11Store::open(&config).map_err(|e| format!("{name}: {e}"))
    }
}

/// One line saying where the secrets are.
pub fn describe(store: &Pkcs11Store, module: &str) -> String {
    let policy = if store.relaxations().is_empty() {
        "strict (every secret in the token)".to_string()
    } else {
        let list: Vec<String> = store.relaxations().iter().map(|r| r.to_string()).collect();
        format!("relaxed: {}", list.join(", "))
    };
    format!(
        "key store: PKCS#11 token \"{}\" in {module}, policy {policy}",
        store.token_label()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        assert_eq!(parse_policy("strict").unwrap(), Policy::Strict);
        assert_eq!(
            parse_policy("software-prf,software-records").unwrap(),
            Policy::Relaxed(vec![
                Relaxation::SoftwarePrf,
                Relaxation::SoftwareRecordLayer
            ])
        );
        assert!(parse_policy("lax").unwrap_err().contains("\"lax\""));
    }
}
