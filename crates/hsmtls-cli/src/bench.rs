//! `hsmtls bench`: client and server in one process over memory buffers,
//! the client verifying the chain and the host name, with the time spent by
//! each side measured apart — the semantics of rustls's bench program, so
//! that the two can be run side by side.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args as ClapArgs, ValueEnum};
use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
use hsmtls::{CertifiedKey, ClientConfig, Connection, ServerConfig};
use hsmtls_keys::KeyStore;
use hsmtls_soft::SoftStore;

/// What to measure.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    /// Full handshakes.
    Handshake,
    /// Handshakes resuming by session ID.
    Resume,
    /// Handshakes resuming by session ticket.
    Ticket,
    /// Application data throughput.
    Bulk,
}

/// The certificate key.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyKind {
    /// ECDSA on P-256.
    EcdsaP256,
    /// RSA 2048.
    Rsa2048,
}

/// Where both sides' secrets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// The in-process software store.
    Soft,
    /// A PKCS#11 token: hsmtls-token linked into hsmtls (a fresh token in
    /// a temporary directory, the server key a token object), or --module.
    Token,
    /// Software and the token in the same run, with the ratios: handshake
    /// modes alternate the two handshake by handshake (the machine's noise
    /// falls on both) and give the median ratio of ten batches; bulk runs
    /// one after the other.
    Both,
}

/// `hsmtls bench` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// handshake, resume, ticket or bulk.
    #[arg(value_enum)]
    mode: Mode,
    /// The cipher suite by IANA name.
    suite: String,
    /// The key-exchange group.
    #[arg(long, default_value = "secp256r1")]
    group: String,
    /// The server's certificate key.
    #[arg(long, value_enum, default_value = "ecdsa-p256")]
    key: KeyKind,
    /// Bulk: bytes per write.
    #[arg(long, default_value_t = 16384)]
    size: usize,
    /// Handshakes to run, or MiB to transfer in bulk mode.
    #[arg(long)]
    rounds: Option<u64>,
    /// Where the secrets of both sides are.
    #[arg(long, value_enum, default_value = "soft")]
    store: StoreKind,
    /// The PKCS#11 module for `--store token` (default: hsmtls-token,
    /// linked in); NSS softoken gets its database-less parameters.
    #[arg(long, value_name = "PATH")]
    module: Option<String>,
    /// `pReserved` of `C_Initialize` for --module.
    #[arg(long, value_name = "STRING")]
    init_args: Option<String>,
}

const P256_CHAIN: &[u8] = include_bytes!("../../../testdata/pki/ecdsa-p256/server.chain.pem");
const P256_KEY: &[u8] = include_bytes!("../../../testdata/pki/ecdsa-p256/server.key");
const P256_CA: &[u8] = include_bytes!("../../../testdata/pki/ecdsa-p256/ca.der");
const RSA_CHAIN: &[u8] = include_bytes!("../../../testdata/pki/rsa2048/server.chain.pem");
const RSA_KEY: &[u8] = include_bytes!("../../../testdata/pki/rsa2048/server.key");
const RSA_CA: &[u8] = include_bytes!("../../../testdata/pki/rsa2048/ca.der");

fn pem_chain(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use pki_types::pem::PemObject;
    pki_types::CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("embedded chain: {e:?}"))
}

/// Builds the two configurations of a benchmark.
pub fn configs(
    store: Arc<dyn KeyStore>,
    import: &dyn Fn(&[u8]) -> Result<hsmtls_keys::PrivateKey, String>,
    key: KeyKind,
    suite: CipherSuite,
    group: NamedGroup,
    mode: Mode,
) -> Result<(Arc<ClientConfig>, Arc<ServerConfig>), String> {
    let (chain, key_pem, ca) = match key {
        KeyKind::EcdsaP256 => (P256_CHAIN, P256_KEY, P256_CA),
        KeyKind::Rsa2048 => (RSA_CHAIN, RSA_KEY, RSA_CA),
    };
    let certified = CertifiedKey::new(pem_chain(chain)?, Arc::new(import(key_pem)?))
        .map_err(|e| e.to_string())?;
    let server = ServerConfig::builder(store.clone())
        .certificate(certified)
        .cipher_suites(&[suite])
        .map_err(|e| e.to_string())?
        .groups(&[group])
        .map_err(|e| e.to_string())?
        .session_tickets(matches!(mode, Mode::Ticket))
        .session_cache_size(if matches!(mode, Mode::Resume) {
            1024
        } else {
            0
        })
        .build()
        .map_err(|e| e.to_string())?;
    let client = ClientConfig::builder(store)
        .root_certificates(vec![ca.to_vec()])
        .cipher_suites(&[suite])
        .map_err(|e| e.to_string())?
        .groups(&[group])
        .map_err(|e| e.to_string())?
        .session_tickets(matches!(mode, Mode::Ticket))
        .session_cache_size(if matches!(mode, Mode::Resume | Mode::Ticket) {
            4
        } else {
            0
        })
        .build()
        .map_err(|e| e.to_string())?;
    Ok((Arc::new(client), Arc::new(server)))
}

/// Moves every pending byte from `from` to `to` and lets `to` process
/// them; returns the time `to` spent.
fn transfer(
    from: &mut Connection,
    to: &mut Connection,
    buf: &mut Vec<u8>,
) -> Result<Duration, String> {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).map_err(|e| e.to_string())?;
    }
    let start = Instant::now();
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).map_err(|e| e.to_string())?;
        to.process_new_packets().map_err(|e| e.to_string())?;
    }
    Ok(start.elapsed())
}

/// One handshake over memory; returns (client time, server time).
pub fn handshake(
    client_config: &Arc<ClientConfig>,
    server_config: &Arc<ServerConfig>,
    expect_resumed: bool,
) -> Result<(Duration, Duration), String> {
    let mut buf = Vec::with_capacity(8192);
    let start = Instant::now();
    let mut client =
        Connection::client(client_config.clone(), "localhost").map_err(|e| e.to_string())?;
    let mut client_time = start.elapsed();
    let start = Instant::now();
    let mut server = Connection::server(server_config.clone()).map_err(|e| e.to_string())?;
    let mut server_time = start.elapsed();
    while client.is_handshaking() || server.is_handshaking() {
        server_time += transfer(&mut client, &mut server, &mut buf)?;
        client_time += transfer(&mut server, &mut client, &mut buf)?;
    }
    if client.negotiated().resumed != expect_resumed {
        return Err(format!(
            "handshake resumed: {}, expected {expect_resumed}",
            client.negotiated().resumed
        ));
    }
    Ok((client_time, server_time))
}

fn per_second(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

type Importer = Box<dyn Fn(&[u8]) -> Result<hsmtls_keys::PrivateKey, String>>;

/// The software store and its key import.
fn soft_store() -> (Arc<dyn KeyStore>, Importer) {
    let soft = Arc::new(SoftStore::new());
    let importer = soft.clone();
    (
        soft,
        Box::new(move |pem: &[u8]| importer.import_private_key(pem).map_err(|e| e.to_string())),
    )
}

/// The token: hsmtls-token linked in (a fresh token in a temporary
/// directory; the server key stored as a persistent token object and found
/// by URI), or `--module` (the key imported as a session object).
fn token_store(args: &Args) -> Result<(Arc<dyn KeyStore>, Importer, String), String> {
    use hsmtls_pkcs11::{PinSource, Pkcs11Config, Pkcs11Store, TokenSelector};
    let (config, linked) = match args.module.as_deref() {
        None | Some(crate::store::LINKED_TOKEN) => {
            let dir =
                std::env::temp_dir().join(format!("hsmtls-bench-token-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            crate::store::use_token_dir(&dir)?;
            let base = Pkcs11Config::linked(
                crate::store::LINKED_TOKEN,
                &hsmtls_token::abi::FUNCTION_LIST,
            );
            hsmtls_pkcs11::init_token(&base, "bench", "bench-so", "bench-pin")
                .map_err(|e| e.to_string())?;
            let pin = dir.join("user.pin");
            std::fs::write(&pin, "bench-pin\n").map_err(|e| e.to_string())?;
            (
                base.token(TokenSelector::Label("bench".into()))
                    .pin(PinSource::File(pin)),
                true,
            )
        }
        Some(path) => {
            let mut config = Pkcs11Config::new(path);
            config.init_reserved = args.init_args.clone().or_else(|| {
                path.contains("softokn")
                    .then(|| hsmtls_pkcs11::NSS_NO_DB_PARAMS.to_string())
            });
            (config, false)
        }
    };
    let name = config.module.display().to_string();
    let store = Arc::new(Pkcs11Store::open(&config).map_err(|e| format!("{name}: {e}"))?);
    if !store.relaxations().is_empty() {
        return Err(format!("{name}: not strict"));
    }
    let importer = store.clone();
    let import: Importer = Box::new(move |pem: &[u8]| {
        if linked {
            importer
                .store_private_key(pem, "bench-server", b"bench")
                .map_err(|e| e.to_string())?;
            importer
                .private_key("pkcs11:object=bench-server;type=private")
                .map_err(|e| e.to_string())
        } else {
            importer
                .import_private_key(pem, "bench-server", b"bench")
                .map_err(|e| e.to_string())
        }
    });
    Ok((store, import, format!("token {name}")))
}

/// Runs the benchmark.
pub fn run(args: Args) -> Result<(), String> {
    let suite = CipherSuite::from_name(&args.suite)
        .ok_or_else(|| format!("unknown cipher suite {:?}", args.suite))?;
    let group = NamedGroup::from_name(&args.group)
        .ok_or_else(|| format!("unknown group {:?}", args.group))?;
    // TLS 1.3 resumes by PSK only (RFC 8446 §2.2): `ticket` measures it.
    let tls13 = args.suite.starts_with("TLS_AES_") || args.suite.starts_with("TLS_CHACHA20_");
    if tls13 && matches!(args.mode, Mode::Resume) {
        return Err(format!(
            "{}: TLS 1.3 has no session-ID resumption; `hsmtls bench ticket {}` measures PSK resumption",
            args.suite, args.suite
        ));
    }
    if args.store == StoreKind::Both && !matches!(args.mode, Mode::Bulk) {
        return run_both_handshakes(&args, suite, group);
    }
    let mut results: Vec<(String, Vec<f64>)> = Vec::new();
    if matches!(args.store, StoreKind::Soft | StoreKind::Both) {
        let (store, import) = soft_store();
        let r = run_one(&args, store, &*import, suite, group, "soft")?;
        results.push(("soft".into(), r));
    }
    if matches!(args.store, StoreKind::Token | StoreKind::Both) {
        let (store, import, name) = token_store(&args)?;
        let r = run_one(&args, store, &*import, suite, group, &name)?;
        results.push((name, r));
        if args.module.is_none() {
            let _ = std::fs::remove_dir_all(
                std::env::temp_dir().join(format!("hsmtls-bench-token-{}", std::process::id())),
            );
        }
    }
    if let [(_, soft), (name, token)] = results.as_slice() {
        let what: &[&str] = if matches!(args.mode, Mode::Bulk) {
            &["send", "recv"]
        } else {
            &["server", "client"]
        };
        for (i, w) in what.iter().enumerate() {
            outln!(
                "ratio\t{}\t{w}\t{name} / soft\t{:.2}",
                args.suite,
                token[i] / soft[i].max(1e-9)
            );
        }
    }
    Ok(())
}

/// Untimed handshakes before each measurement (the first leaves the
/// session the resumption modes resume).
const WARM_UP: usize = 16;

/// Batches of a `--store both` handshake run; the ratio is their median.
const BATCHES: u64 = 10;

/// `--store both` in a handshake mode: soft and token handshakes
/// alternate (who goes first too), so both see the same machine; the
/// ratios are the medians over [`BATCHES`] batches.
fn run_both_handshakes(args: &Args, suite: CipherSuite, group: NamedGroup) -> Result<(), String> {
    let (soft, soft_import) = soft_store();
    let (token, token_import, name) = token_store(args)?;
    let soft = configs(soft, &*soft_import, args.key, suite, group, args.mode)?;
    let token = configs(token, &*token_import, args.key, suite, group, args.mode)?;
    let resumed = !matches!(args.mode, Mode::Handshake);
    for i in 0..WARM_UP {
        handshake(&soft.0, &soft.1, resumed && i > 0)?;
        handshake(&token.0, &token.1, resumed && i > 0)?;
    }
    let per_batch = (args.rounds.unwrap_or(2000) / BATCHES).max(1);
    // [soft, token] × (server, client) totals, and per-batch ratios.
    let mut totals = [(Duration::ZERO, Duration::ZERO); 2];
    let (mut server_ratios, mut client_ratios) = (Vec::new(), Vec::new());
    for batch in 0..BATCHES {
        let mut t = [(Duration::ZERO, Duration::ZERO); 2];
        for i in 0..per_batch {
            let order = if (batch * per_batch + i) % 2 == 0 {
                [0, 1]
            } else {
                [1, 0]
            };
            for which in order {
                let (c, s) = if which == 0 { &soft } else { &token };
                let (client, server) = handshake(c, s, resumed)?;
                t[which].0 += server;
                t[which].1 += client;
            }
        }
        // Rates are rounds / time: the token/soft ratio is soft time over
        // token time.
        server_ratios.push(t[0].0.as_secs_f64() / t[1].0.as_secs_f64().max(1e-9));
        client_ratios.push(t[0].1.as_secs_f64() / t[1].1.as_secs_f64().max(1e-9));
        for k in 0..2 {
            totals[k].0 += t[k].0;
            totals[k].1 += t[k].1;
        }
    }
    let rounds = per_batch * BATCHES;
    for (k, store_name) in [(0, "soft"), (1, name.as_str())] {
        print_handshake_rates(
            args,
            per_second(rounds, totals[k].0),
            per_second(rounds, totals[k].1),
            store_name,
        );
    }
    for (w, ratios) in [("server", server_ratios), ("client", client_ratios)] {
        outln!(
            "ratio\t{}\t{w}\t{name} / soft\t{:.2}\t(median of {BATCHES} alternating batches, {:.2}..{:.2})",
            args.suite,
            median(&ratios),
            ratios.iter().copied().fold(f64::INFINITY, f64::min),
            ratios.iter().copied().fold(0.0, f64::max),
        );
    }
    if args.module.is_none() {
        let _ = std::fs::remove_dir_all(
            std::env::temp_dir().join(format!("hsmtls-bench-token-{}", std::process::id())),
        );
    }
    Ok(())
}

/// The two result lines of a handshake measurement.
fn print_handshake_rates(args: &Args, server: f64, client: f64, store_name: &str) {
    let label = match args.mode {
        Mode::Handshake => "handshakes",
        Mode::Resume => "handshake-resume",
        _ => "handshake-ticket",
    };
    for (side, rate) in [("server", server), ("client", client)] {
        outln!(
            "{label}\t{}\t{}\t{side}\t{rate:.2}\thandshakes/s\t{store_name}",
            args.suite,
            args.group,
        );
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// One measurement on `store`; returns (server, client) handshakes/s or
/// (send, recv) MB/s.
fn run_one(
    args: &Args,
    store: Arc<dyn KeyStore>,
    import: &dyn Fn(&[u8]) -> Result<hsmtls_keys::PrivateKey, String>,
    suite: CipherSuite,
    group: NamedGroup,
    store_name: &str,
) -> Result<Vec<f64>, String> {
    let (client_config, server_config) = configs(store, import, args.key, suite, group, args.mode)?;
    match args.mode {
        Mode::Handshake | Mode::Resume | Mode::Ticket => {
            let resumed = !matches!(args.mode, Mode::Handshake);
            let rounds = args.rounds.unwrap_or(2000);
            // Untimed warm-up: one-time costs (AWS-LC's entropy source
            // starts on first use, caches fill, pages fault in) would
            // otherwise land on whichever side first needs them.
            // The first is full; in the resumption modes the rest resume.
            for i in 0..WARM_UP {
                handshake(&client_config, &server_config, resumed && i > 0)?;
            }
            let (mut client_total, mut server_total) = (Duration::ZERO, Duration::ZERO);
            for _ in 0..rounds {
                let (c, s) = handshake(&client_config, &server_config, resumed)?;
                client_total += c;
                server_total += s;
            }
            let (server, client) = (
                per_second(rounds, server_total),
                per_second(rounds, client_total),
            );
            print_handshake_rates(args, server, client, store_name);
            Ok(vec![server, client])
        }
        Mode::Bulk => bulk(&client_config, &server_config, args, store_name),
    }
}

fn bulk(
    client_config: &Arc<ClientConfig>,
    server_config: &Arc<ServerConfig>,
    args: &Args,
    store_name: &str,
) -> Result<Vec<f64>, String> {
    let mib = args.rounds.unwrap_or(1024);
    let total = mib * 1024 * 1024;
    let size = args.size.max(1);
    let mut buf = Vec::with_capacity(size + 1024);
    let mut client =
        Connection::client(client_config.clone(), "localhost").map_err(|e| e.to_string())?;
    let mut server = Connection::server(server_config.clone()).map_err(|e| e.to_string())?;
    while client.is_handshaking() || server.is_handshaking() {
        transfer(&mut client, &mut server, &mut buf)?;
        transfer(&mut server, &mut client, &mut buf)?;
    }
    let plaintext = vec![0x5au8; size];
    let mut sink = vec![0u8; size.max(16384)];
    let (mut send, mut recv) = (Duration::ZERO, Duration::ZERO);
    let mut sent = 0u64;
    while sent < total {
        let start = Instant::now();
        server
            .writer()
            .write_all(&plaintext)
            .map_err(|e| e.to_string())?;
        buf.clear();
        while server.wants_write() {
            server.write_tls(&mut buf).map_err(|e| e.to_string())?;
        }
        send += start.elapsed();
        let start = Instant::now();
        let mut rd = &buf[..];
        while !rd.is_empty() {
            client.read_tls(&mut rd).map_err(|e| e.to_string())?;
            client.process_new_packets().map_err(|e| e.to_string())?;
            while let Ok(n) = client.reader().read(&mut sink) {
                if n == 0 {
                    break;
                }
            }
        }
        recv += start.elapsed();
        sent += size as u64;
    }
    let mb = sent as f64 / 1_000_000.0;
    let (send, recv) = (
        mb / send.as_secs_f64().max(1e-9),
        mb / recv.as_secs_f64().max(1e-9),
    );
    outln!(
        "bulk\t{}\t{}\tsend\t{send:.2}\tMB/s\t{store_name}",
        args.suite,
        size
    );
    outln!(
        "bulk\t{}\t{}\trecv\t{recv:.2}\tMB/s\t{store_name}",
        args.suite,
        size
    );
    Ok(vec![send, recv])
}
