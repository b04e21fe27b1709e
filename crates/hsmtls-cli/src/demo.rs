//! `hsmtls demo`: a gateway client and an administrator server over
//! 127.0.0.1 with the TR-03109 profile, mutually authenticated with
//! brainpoolP256r1 certificates, every secret in a PKCS#11 token, and a
//! trace of every key-store operation each side ran: the PKCS#11 call
//! behind it and the attributes of the objects it created.
//!
//! The token: hsmtls-token, linked into `hsmtls` and driven through its
//! PKCS#11 function list (the C ABI any application uses), created on the first
//! run in `--dir` (default `./hsmtls-demo-token`) with the demo PKI stored
//! in it. The PKI is the repository's test PKI (`testdata/pki/
//! brainpoolP256r1`, embedded): its keys are imported once into the token
//! as persistent, sensitive, non-extractable objects, so the demo shows the
//! token at work rather than X.509 issuance. `--module PATH` runs against
//! another module (keys imported as session objects), `--soft` the same
//! handshake on the in-process software store.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args as ClapArgs;
use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
use hsmtls::profiles::{tr03109_client, tr03109_server};
use hsmtls::{CertifiedKey, ClientConfig, Connection, ServerConfig, Stream};
use hsmtls_keys::trace::TracingStore;
use hsmtls_keys::{KeyStore, OperationKind};
use hsmtls_pkcs11::{PinSource, Pkcs11Config, Pkcs11Store, TokenSelector};
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
    /// The same handshake on the in-process software store.
    #[arg(long, conflicts_with_all = ["module", "dir"])]
    soft: bool,
    /// Another PKCS#11 module instead of hsmtls-token: its first token (or
    /// `--token`), PIN from `--pin-file`; the keys are imported as session
    /// objects.
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
    /// `pReserved` of `C_Initialize` for `--module` (NSS softoken's
    /// parameters).
    #[arg(long, value_name = "STRING", requires = "module")]
    init_args: Option<String>,
    /// The token label for `--module`.
    #[arg(long, requires = "module")]
    token: Option<String>,
    /// A file holding the user PIN for `--module`.
    #[arg(long, value_name = "FILE", requires = "module")]
    pin_file: Option<PathBuf>,
    /// Where the demo's hsmtls-token token lives (created on first run).
    #[arg(long, value_name = "DIR", default_value = "hsmtls-demo-token")]
    dir: PathBuf,
}

const DEMO_TOKEN: &str = "hsmtls-demo";
const GATEWAY: &str = "gateway";
const ADMIN: &str = "administrator";

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

/// One side's key store, as the demo built it.
struct Side {
    store: Arc<TracingStore>,
    key: CertifiedKey,
}

/// Opens (creating on first run) the demo token in `dir`; returns the
/// config and what happened.
fn demo_token(dir: &Path) -> Result<(Pkcs11Config, bool), String> {
    std::fs::create_dir_all(dir.join("tokens")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let conf = dir.join("token.conf");
    if !conf.is_file() {
        std::fs::write(
            &conf,
            format!(
                "# hsmtls demo token (hsmtls-token configuration)\nnew_tokens = {}\n\
                 pin_iterations = 10000\n",
                dir.join("tokens").display()
            ),
        )
        .map_err(|e| format!("{}: {e}", conf.display()))?;
    }
    // Read by the module in C_Initialize, before the first open below.
    std::env::set_var("HSMTLS_TOKEN_CONF", &conf);
    let pin_file = dir.join("user.pin");
    // hsmtls-token is linked into `hsmtls` and called through its
    // PKCS#11 function list: the same C ABI a loaded module offers, with
    // no shared library to build or find.
    let base = Pkcs11Config::linked("hsmtls-token", &hsmtls_token::abi::FUNCTION_LIST);
    let created = !pin_file.is_file();
    if created {
        // A demo: the PIN is random and kept beside the token.
        let mut pin = [0u8; 12];
        hsmtls_soft::SoftStore::new()
            .random(hsmtls_keys::RandomLevel::Key, &mut pin)
            .map_err(|e| e.to_string())?;
        let pin: String = pin.iter().map(|b| format!("{b:02x}")).collect();
        let so: String = pin.chars().rev().collect();
        hsmtls_pkcs11::init_token(&base, DEMO_TOKEN, &so, &pin).map_err(|e| e.to_string())?;
        std::fs::write(&pin_file, format!("{pin}\n"))
            .map_err(|e| format!("{}: {e}", pin_file.display()))?;
    }
    Ok((
        base.token(TokenSelector::Label(DEMO_TOKEN.into()))
            .pin(PinSource::File(pin_file)),
        created,
    ))
}

/// Traces `store` as `label`, each event annotated with the PKCS#11 call
/// and the secret objects it left alive in the token.
fn traced_pkcs11(store: Arc<Pkcs11Store>, label: &str) -> Arc<TracingStore> {
    let seen = Mutex::new(BTreeSet::new());
    let p11 = store.clone();
    Arc::new(
        TracingStore::new(store, label).annotate(move |kind: OperationKind, _ok| {
            let mut notes = Vec::new();
            if let Some(call) = p11.describe_operation(kind) {
                notes.push(format!("PKCS#11: {call}"));
            }
            let Ok(live) = p11.audit_live_objects() else {
                return notes;
            };
            let Ok(mut seen) = seen.lock() else {
                return notes;
            };
            let alive: BTreeSet<u64> = live.iter().map(|a| a.handle).collect();
            seen.retain(|h| alive.contains(h));
            for a in live {
                if !seen.insert(a.handle) {
                    continue;
                }
                let flag = |v: Option<bool>| match v {
                    Some(true) => "true",
                    Some(false) => "false",
                    None => "?",
                };
                let class = match a.class {
                    Some(3) => "CKO_PRIVATE_KEY",
                    Some(4) => "CKO_SECRET_KEY",
                    _ => "CKO_?",
                };
                notes.push(format!(
                    "created object {} ({:?}): {class} CKA_TOKEN={} CKA_SENSITIVE={} \
                     CKA_EXTRACTABLE={} CKA_VALUE→{}",
                    a.handle,
                    a.kind,
                    flag(a.token_object),
                    flag(a.sensitive),
                    flag(a.extractable),
                    if a.value_rv == 0x11 {
                        "CKR_ATTRIBUTE_SENSITIVE".to_string()
                    } else {
                        format!("0x{:x}", a.value_rv)
                    }
                ));
            }
            notes
        }),
    )
}

fn pkcs11_side(
    config: &Pkcs11Config,
    who: &str,
    label: &str,
    persistent: bool,
    chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Side, String> {
    let store = Arc::new(Pkcs11Store::open(config).map_err(|e| e.to_string())?);
    let mut chain = chain(chain_pem)?;
    let key = if persistent {
        let uri = format!("pkcs11:token={DEMO_TOKEN};object={label};type=private");
        let key = store.private_key(&uri).map_err(|e| format!("{uri}: {e}"))?;
        let cert_uri = format!("pkcs11:object={label};type=cert");
        chain[0] = store
            .certificate(&cert_uri)
            .map_err(|e| format!("{cert_uri}: {e}"))?;
        key
    } else {
        store
            .import_private_key(key_pem, label, label.as_bytes())
            .map_err(|e| format!("importing the {label} key: {e}"))?
    };
    let key = CertifiedKey::new(chain, Arc::new(key)).map_err(|e| e.to_string())?;
    Ok(Side {
        store: traced_pkcs11(store, who),
        key,
    })
}

fn soft_side(who: &str, chain_pem: &[u8], key_pem: &[u8]) -> Result<Side, String> {
    let soft = SoftStore::new();
    let key = certified(&soft, chain_pem, key_pem)?;
    Ok(Side {
        store: Arc::new(TracingStore::new(Arc::new(soft), who)),
        key,
    })
}

/// Runs the demo.
pub fn run(args: Args) -> Result<(), String> {
    let suite = CipherSuite::from_name(&args.suite)
        .ok_or_else(|| format!("unknown cipher suite {:?}", args.suite))?;
    let group = NamedGroup::from_name(&args.group)
        .ok_or_else(|| format!("unknown group {:?}", args.group))?;

    let mut out = String::new();
    let (client, server) = if args.soft {
        out.push_str("key store: in-process software store (hsmtls-soft), for comparison\n");
        (
            soft_side("client", CLIENT_CHAIN, CLIENT_KEY)?,
            soft_side("server", SERVER_CHAIN, SERVER_KEY)?,
        )
    } else if let Some(module) = &args.module {
        let mut config = Pkcs11Config::new(module);
        config.init_reserved = args.init_args.clone();
        if let Some(t) = &args.token {
            config.token = TokenSelector::Label(t.clone());
        }
        if let Some(p) = &args.pin_file {
            config.pin = Some(PinSource::File(p.clone()));
        }
        out.push_str(&format!(
            "key store: PKCS#11 module {}, strict policy (every secret in the token); demo \
             keys imported as session objects\n",
            module.display()
        ));
        (
            pkcs11_side(&config, "client", GATEWAY, false, CLIENT_CHAIN, CLIENT_KEY)?,
            pkcs11_side(&config, "server", ADMIN, false, SERVER_CHAIN, SERVER_KEY)?,
        )
    } else {
        let (config, created) = demo_token(&args.dir)?;
        if created {
            // Provision the PKI: persistent, sensitive, non-extractable.
            let admin = Pkcs11Store::open(&config).map_err(|e| e.to_string())?;
            for (label, chain_pem, key_pem) in [
                (GATEWAY, CLIENT_CHAIN, CLIENT_KEY),
                (ADMIN, SERVER_CHAIN, SERVER_KEY),
            ] {
                admin
                    .store_private_key(key_pem, label, label.as_bytes())
                    .map_err(|e| format!("storing the {label} key: {e}"))?;
                admin
                    .store_certificate(&chain(chain_pem)?[0], label, label.as_bytes())
                    .map_err(|e| format!("storing the {label} certificate: {e}"))?;
            }
            out.push_str(&format!(
                "created token \"{DEMO_TOKEN}\" in {} (hsmtls-token; PIN in user.pin) and stored \
                 the demo PKI in it: keys \"{GATEWAY}\" and \"{ADMIN}\" (brainpoolP256r1, \
                 CKA_TOKEN CKA_PRIVATE CKA_SENSITIVE, not CKA_EXTRACTABLE) and their \
                 certificates\n",
                args.dir.display()
            ));
        }
        out.push_str(&format!(
            "key store: hsmtls-token (linked into hsmtls, driven through its PKCS#11 function \
             list), token \"{DEMO_TOKEN}\" in {}, strict policy: every secret in the token\n",
            args.dir.display()
        ));
        (
            pkcs11_side(&config, "client", GATEWAY, true, CLIENT_CHAIN, CLIENT_KEY)?,
            pkcs11_side(&config, "server", ADMIN, true, SERVER_CHAIN, SERVER_KEY)?,
        )
    };
    let (client_store, server_store) = (client.store.clone(), server.store.clone());

    // The TR-03109 profile, narrowed to the suite and group asked for.
    let server_config = tr03109_server(
        server_store.clone() as Arc<dyn KeyStore>,
        server.key,
        vec![CA.to_vec()],
    )
    .map_err(|e| e.to_string())?
    .session_tickets(false)
    .build()
    .map_err(|e| e.to_string())?;
    let client_config: ClientConfig = tr03109_client(
        client_store.clone() as Arc<dyn KeyStore>,
        vec![CA.to_vec()],
        client.key,
    )
    .map_err(|e| e.to_string())?
    .cipher_suites(&[suite])
    .map_err(|e| e.to_string())?
    .groups(&[group])
    .map_err(|e| e.to_string())?
    .session_tickets(false)
    .build()
    .map_err(|e| e.to_string())?;
    let _: &ServerConfig = &server_config;
    // Setting up the configs may have run operations; the trace starts here.
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
    out.push_str(&format!(
        "hsmtls demo: gateway client ↔ administrator server on {addr}, TR-03109 profile\n"
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
            for note in &event.notes {
                out.push_str(&format!("      {note}\n"));
            }
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
