//! Configuration: which token directories make up the slots.
//!
//! The file is named by `HSMTLS_TOKEN_CONF`; else
//! `$XDG_CONFIG_HOME/hsmtls/token.conf` (`~/.config/hsmtls/token.conf`),
//! then `/etc/hsmtls/token.conf`. Without any file the token uses
//! `new_tokens = $XDG_DATA_HOME/hsmtls/tokens` (`~/.local/share/…`).
//!
//! ```text
//! # one slot per line, initialised or not (a database is created by C_InitToken)
//! token = /var/lib/hsmtls/tokens/gateway
//! # every token below this directory is a slot, plus one free slot whose
//! # C_InitToken creates a new token directory here
//! new_tokens = /var/lib/hsmtls/tokens
//! # PBKDF2-HMAC-SHA256 iterations for PINs set from now on (default 600000)
//! pin_iterations = 600000
//! ```

use std::path::{Path, PathBuf};

use cryptoki_sys::*;

use crate::error::{err, Result};

/// Default PBKDF2 iteration count (OWASP 2023 for PBKDF2-HMAC-SHA256).
pub const DEFAULT_PIN_ITERATIONS: u32 = 600_000;

/// The parsed configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Explicit token directories, one slot each.
    pub tokens: Vec<PathBuf>,
    /// Directory of further tokens and of the free slot's new token.
    pub new_tokens: Option<PathBuf>,
    /// PBKDF2 iterations for new PINs.
    pub pin_iterations: u32,
}

impl Config {
    /// Parses the file format above; a bad line is `CKR_GENERAL_ERROR`.
    pub fn parse(text: &str) -> Result<Self> {
        let mut c = Config {
            tokens: Vec::new(),
            new_tokens: None,
            pin_iterations: DEFAULT_PIN_ITERATIONS,
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return err(CKR_GENERAL_ERROR);
            };
            let v = v.trim();
            match k.trim() {
                "token" => c.tokens.push(PathBuf::from(v)),
                "new_tokens" => c.new_tokens = Some(PathBuf::from(v)),
                "pin_iterations" => match v.parse::<u32>() {
                    Ok(n) if n > 0 => c.pin_iterations = n,
                    _ => return err(CKR_GENERAL_ERROR),
                },
                _ => return err(CKR_GENERAL_ERROR),
            }
        }
        Ok(c)
    }

    /// Reads the configuration from the documented places.
    pub fn load() -> Result<Self> {
        match config_path() {
            Some(p) => match std::fs::read_to_string(&p) {
                Ok(text) => Self::parse(&text),
                Err(_) => err(CKR_GENERAL_ERROR),
            },
            None => Ok(Config {
                tokens: Vec::new(),
                new_tokens: Some(data_home().join("hsmtls").join("tokens")),
                pin_iterations: DEFAULT_PIN_ITERATIONS,
            }),
        }
    }
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

fn data_home() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".local/share"))
}

/// The configuration file in use, if any.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HSMTLS_TOKEN_CONF") {
        return Some(PathBuf::from(p));
    }
    let user = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".config"))
        .join("hsmtls/token.conf");
    [user, PathBuf::from("/etc/hsmtls/token.conf")]
        .into_iter()
        .find(|p| Path::new(p).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let c = Config::parse("# c\n token = /a \nnew_tokens=/b\npin_iterations = 1000\n").unwrap();
        assert_eq!(c.tokens, vec![PathBuf::from("/a")]);
        assert_eq!(c.new_tokens, Some(PathBuf::from("/b")));
        assert_eq!(c.pin_iterations, 1000);
        assert!(Config::parse("tokn = /a").is_err());
        assert!(Config::parse("token /a").is_err());
        assert!(Config::parse("pin_iterations = 0").is_err());
    }
}
