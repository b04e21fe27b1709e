//! How to open a token: the module, the token, the PIN, the policy.

use core::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::ffi::Ck;
use crate::uri::{Pkcs11Uri, UriError};

/// The path of NSS softoken on Debian/Ubuntu x86-64.
pub const NSS_SOFTOKEN_PATH: &str = "/usr/lib/x86_64-linux-gnu/libsoftokn3.so";
/// The path of SoftHSM2 on Debian/Ubuntu.
pub const SOFTHSM2_PATH: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// NSS softoken's `C_Initialize` configuration for a database-less,
/// in-memory instance (`pReserved` of `CK_C_INITIALIZE_ARGS`; without it
/// NSS answers `CKR_ARGUMENTS_BAD`).
pub const NSS_NO_DB_PARAMS: &str = "configdir='' certPrefix='' keyPrefix='' secmod='' \
     flags=noCertDB,noModDB,forceOpen,optimizeSpace";

/// Which token of the module to use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TokenSelector {
    /// The first slot with a token present.
    #[default]
    First,
    /// The token with this label (`CK_TOKEN_INFO.label`).
    Label(String),
    /// The slot with this ID.
    SlotId(u64),
}

/// Where the user PIN comes from. Never from a process argument.
#[derive(Clone)]
pub enum PinSource {
    /// The PIN itself (e.g. from a URI's `pin-value`).
    Value(Zeroizing<String>),
    /// A file whose first line is the PIN.
    File(PathBuf),
    /// An environment variable holding the PIN.
    Env(String),
}

impl fmt::Debug for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("PinSource::Value(***)"),
            Self::File(p) => write!(f, "PinSource::File({})", p.display()),
            Self::Env(v) => write!(f, "PinSource::Env({v})"),
        }
    }
}

impl PinSource {
    /// Reads the PIN.
    pub(crate) fn read(&self) -> Result<Zeroizing<String>, OpenError> {
        match self {
            Self::Value(v) => Ok(v.clone()),
            Self::File(path) => {
                let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                    OpenError::Pin(format!("cannot read PIN file {}: {e}", path.display()))
                })?);
                Ok(Zeroizing::new(
                    text.lines().next().unwrap_or("").trim_end().to_string(),
                ))
            }
            Self::Env(var) => std::env::var(var)
                .map(Zeroizing::new)
                .map_err(|_| OpenError::Pin(format!("environment variable {var} not set"))),
        }
    }
}

/// A relaxation of [`Policy::Strict`]: one named way a secret may leave
/// the token. Only used where the application allowed it, and listed by
/// [`Pkcs11Store::relaxations`](crate::Pkcs11Store::relaxations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relaxation {
    /// The TLS 1.2 PRF runs in software: the ECDH pre-master secret is
    /// derived extractable, read out, and the master secret and key block
    /// are computed in process (for tokens without TLS mechanisms, such as
    /// SoftHSM2). Used only when the token lacks a TLS mechanism. Record
    /// keys go back into the token unless [`Relaxation::SoftwareRecordLayer`]
    /// is also allowed.
    SoftwarePrf,
    /// The traffic keys are derived extractable and records are protected
    /// in software (hsmtls-crypto), for speed. Used whenever allowed.
    SoftwareRecordLayer,
}

impl fmt::Display for Relaxation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SoftwarePrf => "software TLS PRF (pre-master and master secret in memory)",
            Self::SoftwareRecordLayer => "software record layer (traffic keys in memory)",
        })
    }
}

/// What may run outside the token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Every secret stays in the token; a missing mechanism makes
    /// [`Pkcs11Store::open`](crate::Pkcs11Store::open) fail, naming the
    /// mechanism and the token.
    #[default]
    Strict,
    /// Strict, except for the listed relaxations.
    Relaxed(Vec<Relaxation>),
}

impl Policy {
    /// Whether `r` is allowed.
    pub fn allows(&self, r: Relaxation) -> bool {
        matches!(self, Self::Relaxed(list) if list.contains(&r))
    }
}

/// Everything needed to open a token.
#[derive(Clone, Debug)]
pub struct Pkcs11Config {
    /// The PKCS#11 module (shared library).
    pub module: PathBuf,
    /// `pReserved` for `C_Initialize` (NSS softoken's parameters).
    pub init_reserved: Option<String>,
    /// Which token.
    pub token: TokenSelector,
    /// The user PIN, if the token needs a login.
    pub pin: Option<PinSource>,
    /// The policy.
    pub policy: Policy,
    /// A module linked into this program: its function list, used instead
    /// of loading `module` (which then only names it).
    pub linked: Option<LinkedModule>,
}

/// The function list of a PKCS#11 module linked into the program (e.g.
/// `hsmtls_token::abi::general::FUNCTION_LIST`), called through the same
/// C ABI as a loaded module.
#[derive(Clone, Copy)]
pub struct LinkedModule(pub &'static cryptoki_sys::CK_FUNCTION_LIST);

impl std::fmt::Debug for LinkedModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkedModule")
    }
}

impl Pkcs11Config {
    /// A module linked into this program, named `name` in messages.
    pub fn linked(name: &str, functions: &'static cryptoki_sys::CK_FUNCTION_LIST) -> Self {
        Self {
            linked: Some(LinkedModule(functions)),
            ..Self::new(format!("linked:{name}"))
        }
    }

    /// A configuration for `module`, first token, no PIN, strict policy.
    pub fn new(module: impl AsRef<Path>) -> Self {
        Self {
            module: module.as_ref().to_path_buf(),
            init_reserved: None,
            token: TokenSelector::First,
            pin: None,
            policy: Policy::Strict,
            linked: None,
        }
    }

    /// NSS softoken without databases: its first slot needs no login.
    pub fn nss_softoken() -> Self {
        Self {
            init_reserved: Some(NSS_NO_DB_PARAMS.to_string()),
            ..Self::new(NSS_SOFTOKEN_PATH)
        }
    }

    /// Takes the token and the PIN from a PKCS#11 URI (`token=`, `slot-id=`,
    /// `pin-value=`, `pin-source=`, `module-path=`).
    pub fn from_uri(module: impl AsRef<Path>, uri: &str) -> Result<Self, UriError> {
        let u = Pkcs11Uri::parse(uri)?;
        let mut config = Self::new(u.module_path.as_deref().map_or(module.as_ref(), Path::new));
        if let Some(label) = u.token.clone() {
            config.token = TokenSelector::Label(label);
        } else if let Some(slot) = u.slot_id {
            config.token = TokenSelector::SlotId(slot);
        }
        if let Some(v) = u.pin_value.clone() {
            config.pin = Some(PinSource::Value(Zeroizing::new(v)));
        } else if let Some(file) = u.pin_file() {
            config.pin = Some(PinSource::File(PathBuf::from(file)));
        }
        Ok(config)
    }

    /// Sets the token.
    pub fn token(mut self, token: TokenSelector) -> Self {
        self.token = token;
        self
    }

    /// Sets the PIN source.
    pub fn pin(mut self, pin: PinSource) -> Self {
        self.pin = Some(pin);
        self
    }

    /// Sets the policy.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }
}

/// Why a token could not be opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// The module could not be loaded or initialized.
    Module(String),
    /// No token matched the selector.
    NoToken(String),
    /// The PIN could not be read.
    Pin(String),
    /// A PKCS#11 call failed.
    Token(Ck),
    /// The policy needs a mechanism the token does not have.
    MissingMechanism {
        /// The mechanism, by its PKCS#11 name.
        mechanism: &'static str,
        /// The token's label.
        token: String,
        /// What it would have been used for.
        needed_for: &'static str,
    },
    /// The application allowed a relaxation the token cannot honour (e.g.
    /// NSS softoken refuses to let traffic keys derived from a sensitive
    /// master secret be read, so [`Relaxation::SoftwareRecordLayer`]
    /// cannot work there); found by a trial derivation at open.
    Unhonourable {
        /// The relaxation.
        relaxation: Relaxation,
        /// The token's label.
        token: String,
        /// What the token answered.
        why: String,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Module(why) => write!(f, "PKCS#11 module: {why}"),
            Self::NoToken(why) => write!(f, "no such token: {why}"),
            Self::Pin(why) => write!(f, "PIN: {why}"),
            Self::Token(ck) => write!(f, "token: {ck}"),
            Self::MissingMechanism {
                mechanism,
                token,
                needed_for,
            } => write!(
                f,
                "token \"{token}\" has no {mechanism}, needed for {needed_for} under the strict \
                 policy (every secret in the token); allow a relaxation to go on without it"
            ),
            Self::Unhonourable {
                relaxation,
                token,
                why,
            } => write!(
                f,
                "token \"{token}\" cannot honour the relaxation \"{relaxation}\": {why}; \
                 drop the relaxation to keep those keys in the token"
            ),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<Ck> for OpenError {
    fn from(e: Ck) -> Self {
        Self::Token(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_from_file_env_and_value() {
        let path = std::env::temp_dir().join(format!("hsmtls-p11-pin-{}", std::process::id()));
        std::fs::write(&path, "4321\n").unwrap();
        assert_eq!(&*PinSource::File(path.clone()).read().unwrap(), "4321");
        std::fs::remove_file(&path).unwrap();
        assert!(PinSource::File(path).read().is_err());
        std::env::set_var("HSMTLS_P11_UNIT_PIN", "99");
        assert_eq!(
            &*PinSource::Env("HSMTLS_P11_UNIT_PIN".into()).read().unwrap(),
            "99"
        );
        assert!(PinSource::Env("HSMTLS_P11_UNSET_PIN".into())
            .read()
            .is_err());
        let value = PinSource::Value(Zeroizing::new("1234".into()));
        assert_eq!(&*value.read().unwrap(), "1234");
        assert!(!format!("{value:?}").contains("1234"));
    }

    #[test]
    fn config_from_uri() {
        let c =
            Pkcs11Config::from_uri("/m.so", "pkcs11:token=gw;object=k?pin-source=file:/p").unwrap();
        assert_eq!(c.module, PathBuf::from("/m.so"));
        assert_eq!(c.token, TokenSelector::Label("gw".into()));
        assert!(matches!(c.pin, Some(PinSource::File(ref p)) if p == Path::new("/p")));
        let c = Pkcs11Config::from_uri("/m.so", "pkcs11:slot-id=2?pin-value=1&module-path=/x.so")
            .unwrap();
        assert_eq!(c.module, PathBuf::from("/x.so"));
        assert_eq!(c.token, TokenSelector::SlotId(2));
        assert!(matches!(c.pin, Some(PinSource::Value(_))));
        assert_eq!(c.policy, Policy::Strict);
        assert!(!Policy::Strict.allows(Relaxation::SoftwarePrf));
    }
}
