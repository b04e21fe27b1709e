//! `hsmtls token`: creating an hsmtls-token token and storing long-term
//! keys and certificates in a token, for `hsmtls client` / `server
//! --module … --key pkcs11:…`.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};
use hsmtls_pkcs11::{PinSource, Pkcs11Config};

use crate::files;
use crate::store::{self, StoreOptions, LINKED_TOKEN};

mod admin;

/// `hsmtls token` commands.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates an hsmtls-token token in a directory (`token.conf` and the
    /// token's database), with the user PIN from a file.
    Init(InitArgs),
    /// Stores a private key (and its certificate) in a token as
    /// persistent, sensitive, non-extractable objects.
    Import(ImportArgs),
    /// Lists the module's slots and their tokens (label, manufacturer,
    /// flags: initialized, login required, PIN count low, locked …).
    Slots(admin::SlotsArgs),
    /// Lists a token's objects after login: class, key type, label, ID,
    /// token/session, sensitive/extractable (never a value).
    List(admin::ListArgs),
    /// Lists a token's mechanisms with their key sizes and flags.
    Mechanisms(admin::MechanismsArgs),
    /// Generates a persistent key in a token (EC on a named curve, RSA
    /// 2048-4096, AES), sensitive and non-extractable.
    Keygen(admin::KeygenArgs),
    /// Deletes an object by PKCS#11 URI or label and class, refusing an
    /// ambiguous match.
    Delete(admin::DeleteArgs),
    /// Changes the user PIN (old and new PIN from files), or sets it as
    /// the security officer.
    ChangePin(admin::ChangePinArgs),
    /// Measures five operations (ECDSA, ECDH, AES-GCM, HMAC, TLS 1.2
    /// master derive) through the C API of PKCS#11 modules, in ops/s.
    Bench(crate::token_bench::Args),
}

/// `hsmtls token init` options.
#[derive(Debug, ClapArgs)]
pub struct InitArgs {
    /// The directory of the token (created if missing).
    #[arg(long, value_name = "DIR")]
    token_dir: PathBuf,
    /// The token's label.
    #[arg(long, value_name = "LABEL")]
    token: String,
    /// A file whose first line is the user PIN.
    #[arg(long, value_name = "FILE")]
    pin_file: PathBuf,
    /// A file whose first line is the security officer's PIN (default: the
    /// user PIN).
    #[arg(long, value_name = "FILE")]
    so_pin_file: Option<PathBuf>,
}

/// `hsmtls token import` options.
#[derive(Debug, ClapArgs)]
pub struct ImportArgs {
    #[command(flatten)]
    store: StoreOptions,
    /// The objects' label (`object=` in their URI).
    #[arg(long, value_name = "LABEL")]
    object: String,
    /// The private key (PKCS#8, SEC1 or PKCS#1; PEM or DER).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The certificate (PEM or DER; the first one of a chain is stored).
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,
}

fn read_pin(path: &PathBuf) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let pin = text.lines().next().unwrap_or("").trim_end().to_string();
    if pin.is_empty() {
        return Err(format!("{}: empty PIN", path.display()));
    }
    Ok(pin)
}

/// Runs `hsmtls token`.
pub fn run(args: Args) -> Result<(), String> {
    match args.command {
        Command::Slots(a) => admin::slots(a),
        Command::List(a) => admin::list(a),
        Command::Mechanisms(a) => admin::mechanisms(a),
        Command::Keygen(a) => admin::keygen(a),
        Command::Delete(a) => admin::delete(a),
        Command::ChangePin(a) => admin::change_pin(a),
        Command::Bench(a) => crate::token_bench::run(a),
        Command::Init(a) => {
            store::use_token_dir(&a.token_dir)?;
            let pin = read_pin(&a.pin_file)?;
            let so = match &a.so_pin_file {
                Some(f) => read_pin(f)?,
                None => pin.clone(),
            };
            let config = Pkcs11Config::linked(LINKED_TOKEN, &hsmtls_token::abi::FUNCTION_LIST)
                .pin(PinSource::File(a.pin_file.clone()));
            let slot = hsmtls_pkcs11::init_token(&config, &a.token, &so, &pin)
                .map_err(|e| format!("{}: {e}", a.token_dir.display()))?;
            eprintln!(
                "hsmtls: token \"{}\" created in {} (slot {slot})",
                a.token,
                a.token_dir.display()
            );
            Ok(())
        }
        Command::Import(a) => {
            if !a.store.is_token() {
                return Err("hsmtls token import needs --module".into());
            }
            let p11 = a.store.open(None)?;
            let key = files::private_key(&a.key)?;
            let id = a.object.as_bytes();
            p11.store_private_key(&key, &a.object, id)
                .map_err(|e| format!("{}: {e}", a.key.display()))?;
            if let Some(cert) = &a.cert {
                let chain = files::certificates(cert)?;
                p11.store_certificate(&chain[0], &a.object, id)
                    .map_err(|e| format!("{}: {e}", cert.display()))?;
            }
            eprintln!(
                "hsmtls: stored pkcs11:token={};object={}",
                p11.token_label(),
                a.object
            );
            Ok(())
        }
    }
}
