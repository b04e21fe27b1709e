//! `hsmtls token slots|list|mechanisms|keygen|delete|change-pin`: token
//! administration in the manner of `softhsm2-util` and `p11tool`, through
//! any PKCS#11 module (`--module PATH`) or the linked hsmtls-token. PINs
//! come from files, never from the command line; object values are never
//! read or printed.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use hsmtls_keys::KeyExchangeGroup;
use hsmtls_pkcs11::{
    Ck, KeySpec, ObjectDescription, ObjectType, OpenError, Pkcs11Config, Pkcs11Uri, TokenAdmin,
};

use crate::store::StoreOptions;

/// `--module …` and the token, for the admin commands.
#[derive(Debug, ClapArgs)]
pub struct Target {
    #[command(flatten)]
    store: StoreOptions,
}

impl Target {
    fn config(&self, what: &str) -> Result<Pkcs11Config, String> {
        if !self.store.is_token() {
            return Err(format!(
                "hsmtls token {what} needs --module PATH (or --module hsmtls-token)"
            ));
        }
        self.store.config(None)
    }

    /// Opens the token, logging in as the user when `login`.
    fn open(&self, what: &str, login: bool) -> Result<(TokenAdmin, Pkcs11Config), String> {
        let config = self.config(what)?;
        let admin = TokenAdmin::open(&config).map_err(open_error)?;
        if login {
            if config.pin.is_none() {
                return Err(format!(
                    "token \"{}\": hsmtls token {what} logs in: give the user PIN with --pin-file",
                    admin.label()
                ));
            }
            admin
                .login(&config)
                .map_err(|e| format!("token \"{}\": {}", admin.label(), open_error(e)))?;
        }
        Ok((admin, config))
    }
}

/// A PKCS#11 failure, with what it means for PIN errors.
fn ck_error(ck: Ck) -> String {
    let hint = match ck.rv {
        cryptoki_rv::PIN_INCORRECT => ": wrong PIN",
        cryptoki_rv::PIN_LOCKED => {
            ": the PIN is locked after too many wrong PINs (the security officer resets \
             the user PIN: hsmtls token change-pin --so-pin-file FILE --new-pin-file FILE)"
        }
        cryptoki_rv::PIN_LEN_RANGE => ": the new PIN's length is out of the token's range",
        cryptoki_rv::USER_PIN_NOT_INITIALIZED => ": the user PIN is not set",
        _ => "",
    };
    format!("{ck}{hint}")
}

/// `CK_RV` values the messages explain (PKCS#11 v2.40 §3.6).
mod cryptoki_rv {
    pub const PIN_INCORRECT: u64 = 0xa0;
    pub const PIN_LEN_RANGE: u64 = 0xa2;
    pub const PIN_LOCKED: u64 = 0xa4;
    pub const USER_PIN_NOT_INITIALIZED: u64 = 0x102;
}

fn open_error(e: OpenError) -> String {
    match e {
        OpenError::Token(ck) => ck_error(ck),
        OpenError::NoToken(why) => why,
        other => other.to_string(),
    }
}

fn read_pin(path: &PathBuf) -> Result<Pin, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read PIN file {}: {e}", path.display()))?;
    let pin = text.lines().next().unwrap_or("").trim_end().to_string();
    if pin.is_empty() {
        return Err(format!("{}: empty PIN", path.display()));
    }
    Ok(Pin(pin))
}

/// A PIN read from a file, overwritten when dropped.
struct Pin(String);

impl Drop for Pin {
    fn drop(&mut self) {
        // Overwrite in place (same length, so no reallocation).
        let n = self.0.len();
        self.0.clear();
        self.0.extend(std::iter::repeat_n('\0', n));
    }
}

/// `hsmtls token slots` options.
#[derive(Debug, ClapArgs)]
pub struct SlotsArgs {
    #[command(flatten)]
    target: Target,
}

/// `hsmtls token list` options.
#[derive(Debug, ClapArgs)]
pub struct ListArgs {
    #[command(flatten)]
    target: Target,
    /// Only objects with this label.
    #[arg(long, value_name = "LABEL")]
    object: Option<String>,
    /// Only objects of this class: private, public, cert, secret-key, data.
    #[arg(long = "type", value_name = "CLASS")]
    class: Option<String>,
}

/// `hsmtls token mechanisms` options.
#[derive(Debug, ClapArgs)]
pub struct MechanismsArgs {
    #[command(flatten)]
    target: Target,
}

/// `hsmtls token keygen` options.
#[derive(Debug, ClapArgs)]
pub struct KeygenArgs {
    #[command(flatten)]
    target: Target,
    /// The key's label (`object=` in its URI).
    #[arg(long, value_name = "LABEL")]
    object: String,
    /// The key's `CKA_ID` in hex (default: the label's bytes).
    #[arg(long, value_name = "HEX")]
    id: Option<String>,
    /// `ec` (a key pair on --curve), `rsa` (a key pair of --bits, 2048 to
    /// 4096) or `aes` (a secret key of --bits, 128, 192 or 256).
    #[arg(long = "type", value_name = "TYPE")]
    key_type: String,
    /// The curve of an EC key: secp256r1, secp384r1, secp521r1,
    /// brainpoolP256r1, brainpoolP384r1, brainpoolP512r1.
    #[arg(long, value_name = "NAME")]
    curve: Option<String>,
    /// The size of an RSA (default 3072) or AES (default 256) key.
    #[arg(long, value_name = "BITS")]
    bits: Option<u32>,
}

/// `hsmtls token delete` options.
#[derive(Debug, ClapArgs)]
pub struct DeleteArgs {
    #[command(flatten)]
    target: Target,
    /// The object: a PKCS#11 URI (`pkcs11:object=k;type=private`).
    #[arg(value_name = "pkcs11:…")]
    uri: Option<String>,
    /// The object's label (with --type, instead of a URI).
    #[arg(long, value_name = "LABEL", conflicts_with = "uri")]
    object: Option<String>,
    /// The object's class: private, public, cert, secret-key, data.
    #[arg(long = "type", value_name = "CLASS", conflicts_with = "uri")]
    class: Option<String>,
    /// Delete every object that matches (default: refuse more than one).
    #[arg(long)]
    all: bool,
}

/// `hsmtls token change-pin` options.
#[derive(Debug, ClapArgs)]
pub struct ChangePinArgs {
    #[command(flatten)]
    target: Target,
    /// A file whose first line is the new user PIN.
    #[arg(long, value_name = "FILE")]
    new_pin_file: PathBuf,
    /// A file whose first line is the security officer's PIN: set the
    /// user PIN as the SO (`C_InitPIN`; unlocks a locked user PIN) instead
    /// of changing it with the old one (`--pin-file`, `C_SetPIN`).
    #[arg(long, value_name = "FILE")]
    so_pin_file: Option<PathBuf>,
}

fn parse_class(s: &str) -> Result<u64, String> {
    let t = match s {
        "private" => ObjectType::Private,
        "public" => ObjectType::Public,
        "cert" => ObjectType::Cert,
        "secret-key" | "secret" => ObjectType::SecretKey,
        "data" => ObjectType::Data,
        other => {
            return Err(format!(
                "--type: unknown class {other:?} (private, public, cert, secret-key, data)"
            ))
        }
    };
    Ok(hsmtls_pkcs11::object_class(t))
}

const CURVES: &[(&str, KeyExchangeGroup)] = &[
    ("secp256r1", KeyExchangeGroup::Secp256r1),
    ("prime256v1", KeyExchangeGroup::Secp256r1),
    ("P-256", KeyExchangeGroup::Secp256r1),
    ("secp384r1", KeyExchangeGroup::Secp384r1),
    ("P-384", KeyExchangeGroup::Secp384r1),
    ("secp521r1", KeyExchangeGroup::Secp521r1),
    ("P-521", KeyExchangeGroup::Secp521r1),
    ("brainpoolP256r1", KeyExchangeGroup::BrainpoolP256r1),
    ("brainpoolP384r1", KeyExchangeGroup::BrainpoolP384r1),
    ("brainpoolP512r1", KeyExchangeGroup::BrainpoolP512r1),
];

fn curve_name(g: KeyExchangeGroup) -> &'static str {
    CURVES.iter().find(|(_, c)| *c == g).map_or("?", |(n, _)| n)
}

fn key_spec(a: &KeygenArgs) -> Result<KeySpec, String> {
    match a.key_type.as_str() {
        "ec" | "ecdsa" => {
            if a.bits.is_some() {
                return Err("--bits is for rsa and aes keys; an EC key takes --curve".into());
            }
            let name = a.curve.as_deref().ok_or("an EC key needs --curve NAME")?;
            CURVES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|&(_, g)| KeySpec::Ec(g))
                .ok_or_else(|| {
                    format!(
                        "--curve: unknown curve {name:?} (secp256r1, secp384r1, secp521r1, \
                         brainpoolP256r1, brainpoolP384r1, brainpoolP512r1)"
                    )
                })
        }
        "rsa" => {
            if a.curve.is_some() {
                return Err("--curve is for EC keys".into());
            }
            let bits = a.bits.unwrap_or(3072);
            if !(2048..=4096).contains(&bits) || bits % 8 != 0 {
                return Err(format!(
                    "--bits: an RSA key has 2048 to 4096 bits (a multiple of 8), not {bits}"
                ));
            }
            Ok(KeySpec::Rsa(bits))
        }
        "aes" => {
            if a.curve.is_some() {
                return Err("--curve is for EC keys".into());
            }
            let bits = a.bits.unwrap_or(256);
            if ![128, 192, 256].contains(&bits) {
                return Err(format!(
                    "--bits: an AES key has 128, 192 or 256 bits, not {bits}"
                ));
            }
            Ok(KeySpec::Aes(bits))
        }
        other => Err(format!("--type: unknown key type {other:?} (ec, rsa, aes)")),
    }
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim_start_matches("0x");
    if s.is_empty() || s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("--id: {s:?} is not an even number of hex digits"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 7512 percent-encoding of a path attribute value.
fn pct(bytes: &[u8], all: bool) -> String {
    bytes
        .iter()
        .map(|&b| {
            if !all && (b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}

fn uri_type(class: Option<u64>) -> Option<&'static str> {
    [
        (ObjectType::Private, "private"),
        (ObjectType::Public, "public"),
        (ObjectType::Cert, "cert"),
        (ObjectType::SecretKey, "secret-key"),
        (ObjectType::Data, "data"),
    ]
    .into_iter()
    .find(|(t, _)| Some(hsmtls_pkcs11::object_class(*t)) == class)
    .map(|(_, n)| n)
}

/// One line per object: class, key type and size, label, ID, where it
/// lives and how it is protected, and its URI. Never a value.
fn object_line(token: &str, o: &ObjectDescription) -> String {
    let mut parts = vec![o.class_name()];
    if let Some(kt) = o.key_type_name() {
        parts.push(kt);
    }
    if let Some(c) = o.curve {
        parts.push(curve_name(c).to_string());
    }
    if let Some(b) = o.bits {
        parts.push(format!("{b} bits"));
    }
    let label = o.label.as_deref().unwrap_or("");
    parts.push(format!("label={label:?}"));
    parts.push(format!(
        "id={}",
        o.id.as_deref().map(hex).unwrap_or_default()
    ));
    let yes_no = |v: Option<bool>, yes: &str, no: &str| match v {
        Some(true) => Some(yes.to_string()),
        Some(false) => Some(no.to_string()),
        None => None,
    };
    parts.extend(yes_no(o.token_object, "token", "session"));
    parts.extend(yes_no(o.private, "private", "public"));
    parts.extend(yes_no(o.sensitive, "sensitive", "not-sensitive"));
    parts.extend(yes_no(o.extractable, "extractable", "non-extractable"));
    let mut uri = format!(
        "pkcs11:token={};object={}",
        pct(token.as_bytes(), false),
        pct(label.as_bytes(), false)
    );
    if let Some(t) = uri_type(o.class) {
        uri.push_str(&format!(";type={t}"));
    }
    if let Some(id) = o.id.as_deref().filter(|i| !i.is_empty()) {
        uri.push_str(&format!(";id={}", pct(id, true)));
    }
    parts.push(uri);
    parts.join("  ")
}

/// `hsmtls token slots`.
pub fn slots(a: SlotsArgs) -> Result<(), String> {
    let config = a.target.config("slots")?;
    let slots = hsmtls_pkcs11::list_slots(&config).map_err(open_error)?;
    if slots.is_empty() {
        outln!("no slots in {}", config.module.display());
    }
    for s in slots {
        outln!("slot {}: {} ({})", s.slot, s.description, s.manufacturer);
        match s.token {
            Some(t) => {
                let flags = t.flag_names();
                if flags.contains(&"initialized") {
                    outln!(
                        "  token \"{}\": {} {} serial {}",
                        t.label,
                        t.manufacturer,
                        t.model,
                        t.serial
                    );
                } else {
                    outln!("  token (not initialized): {} {}", t.manufacturer, t.model);
                }
                outln!("  flags: {}", flags.join(", "));
            }
            None => outln!("  no token"),
        }
    }
    Ok(())
}

/// `hsmtls token list`.
pub fn list(a: ListArgs) -> Result<(), String> {
    let class = a.class.as_deref().map(parse_class).transpose()?;
    let (admin, _) = a.target.open("list", true)?;
    let objects = admin
        .objects(class, a.object.as_deref(), None)
        .map_err(ck_error)?;
    if objects.is_empty() {
        outln!("token \"{}\": no objects", admin.label());
    }
    for o in &objects {
        outln!("{}", object_line(admin.label(), o));
    }
    Ok(())
}

/// `hsmtls token mechanisms`.
pub fn mechanisms(a: MechanismsArgs) -> Result<(), String> {
    let (admin, _) = a.target.open("mechanisms", false)?;
    let list = admin.mechanisms().map_err(ck_error)?;
    outln!(
        "token \"{}\" (slot {}): {} mechanisms",
        admin.label(),
        admin.slot(),
        list.len()
    );
    for m in list {
        let sizes = if m.min_key_size == 0 && m.max_key_size == 0 {
            String::new()
        } else {
            format!("key size {}..{}", m.min_key_size, m.max_key_size)
        };
        outln!(
            "{:<44} 0x{:08x}  {:<20} {}",
            m.name(),
            m.mechanism,
            sizes,
            m.flag_names().join(" ")
        );
    }
    Ok(())
}

/// `hsmtls token keygen`.
pub fn keygen(a: KeygenArgs) -> Result<(), String> {
    let spec = key_spec(&a)?;
    let id = match &a.id {
        Some(h) => parse_hex(h)?,
        None => a.object.as_bytes().to_vec(),
    };
    let (admin, _) = a.target.open("keygen", true)?;
    let existing = admin
        .objects(None, Some(&a.object), None)
        .map_err(ck_error)?;
    if !existing.is_empty() {
        return Err(format!(
            "token \"{}\" already holds {} object(s) labelled {:?}: delete them first or \
             choose another --object",
            admin.label(),
            existing.len(),
            a.object
        ));
    }
    let made = admin
        .generate(spec, &a.object, &id)
        .map_err(|e| format!("token \"{}\": {}", admin.label(), ck_error(e)))?;
    for o in &made {
        outln!("{}", object_line(admin.label(), o));
    }
    eprintln!(
        "hsmtls: generated {:?} in token \"{}\"",
        a.object,
        admin.label()
    );
    Ok(())
}

/// `hsmtls token delete`.
pub fn delete(a: DeleteArgs) -> Result<(), String> {
    let (admin, _) = a.target.open("delete", true)?;
    let (what, found) = match (&a.uri, &a.object, &a.class) {
        (Some(uri), _, _) => {
            let parsed = Pkcs11Uri::parse(uri).map_err(|e| format!("{uri}: {e}"))?;
            if parsed.object.is_none() && parsed.id.is_none() {
                return Err(format!("{uri}: names no object (give object= or id=)"));
            }
            if parsed.token.as_deref().is_some_and(|t| t != admin.label()) {
                return Err(format!(
                    "{uri}: names token {:?}, not the token opened (\"{}\"); use --token",
                    parsed.token.as_deref().unwrap_or_default(),
                    admin.label()
                ));
            }
            let found = admin.objects_of_uri(&parsed).map_err(ck_error)?;
            (uri.clone(), found)
        }
        (None, Some(label), Some(class)) => {
            let c = parse_class(class)?;
            let found = admin
                .objects(Some(c), Some(label), None)
                .map_err(ck_error)?;
            (format!("object {label:?} of type {class}"), found)
        }
        _ => {
            return Err(
                "hsmtls token delete needs a pkcs11: URI, or --object LABEL and --type CLASS"
                    .into(),
            )
        }
    };
    match found.len() {
        0 => {
            return Err(format!(
                "token \"{}\": no object matches {what}",
                admin.label()
            ))
        }
        1 => {}
        n if !a.all => {
            let classes: Vec<String> = found.iter().map(|o| o.class_name()).collect();
            return Err(format!(
                "token \"{}\": {what} is ambiguous: {n} objects match ({}); narrow it \
                 (type=, id=) or give --all",
                admin.label(),
                classes.join(", ")
            ));
        }
        _ => {}
    }
    for o in &found {
        admin
            .destroy(o.handle)
            .map_err(|e| format!("token \"{}\": {}", admin.label(), ck_error(e)))?;
        outln!("deleted {}", object_line(admin.label(), o));
    }
    Ok(())
}

/// `hsmtls token change-pin`.
pub fn change_pin(a: ChangePinArgs) -> Result<(), String> {
    let new = read_pin(&a.new_pin_file)?;
    let (admin, config) = a.target.open("change-pin", false)?;
    let label = admin.label().to_string();
    match &a.so_pin_file {
        Some(so_file) => {
            let so = read_pin(so_file)?;
            admin
                .reset_user_pin(&so.0, &new.0)
                .map_err(|e| format!("token \"{label}\" (SO PIN): {}", ck_error(e)))?;
            eprintln!("hsmtls: token \"{label}\": user PIN set by the security officer");
        }
        None => {
            let old_file = match &config.pin {
                Some(hsmtls_pkcs11::PinSource::File(f)) => f.clone(),
                _ => {
                    return Err(
                        "hsmtls token change-pin needs the old user PIN (--pin-file) or the \
                         SO PIN (--so-pin-file)"
                            .into(),
                    )
                }
            };
            let old = read_pin(&old_file)?;
            admin
                .change_user_pin(&old.0, &new.0)
                .map_err(|e| format!("token \"{label}\": {}", ck_error(e)))?;
            eprintln!("hsmtls: token \"{label}\": user PIN changed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_uri_encoding() {
        assert_eq!(parse_hex("0a1B").unwrap(), [0x0a, 0x1b]);
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
        assert_eq!(pct(b"a b", false), "a%20b");
        assert_eq!(pct(b"k1", true), "%6b%31");
    }

    #[test]
    fn rv_values_match_pkcs11() {
        assert_eq!(cryptoki_rv::PIN_INCORRECT, 0xa0);
        assert_eq!(cryptoki_rv::PIN_LOCKED, 0xa4);
        let msg = ck_error(Ck {
            function: "C_Login",
            rv: 0xa0,
        });
        assert!(
            msg.contains("CKR_PIN_INCORRECT") && msg.contains("wrong PIN"),
            "{msg}"
        );
    }
}
