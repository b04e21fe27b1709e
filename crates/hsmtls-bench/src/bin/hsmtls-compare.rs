//! `hsmtls-compare`: hsmtls against rustls over the same in-memory
//! harness. Each row is measured `--repeats` times; within a measurement
//! the two libraries alternate handshake by handshake (bulk: write by
//! write), swapping who goes first each time, so that both see the same
//! noise of a shared machine. Medians and the ratio hsmtls/rustls are
//! printed. Build with `--release`.

use clap::{Parser, ValueEnum};
use hsmtls_bench::hsmtls_lib::Hsmtls;
use hsmtls_bench::rustls_lib::Rustls;
use hsmtls_bench::{bulk, bulk_pair, handshakes, handshakes_pair, median, KeyKind, Mode, Scenario};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Key {
    /// ECDSA P-256 server certificate, ECDHE_ECDSA suites.
    EcdsaP256,
    /// RSA 2048 server certificate, ECDHE_RSA suites.
    Rsa2048,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LibraryChoice {
    /// Both, alternating.
    Both,
    /// hsmtls only.
    Hsmtls,
    /// rustls only (skips the rows rustls lacks).
    Rustls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    /// Full handshakes.
    Handshake,
    /// Session-ID resumption.
    Resume,
    /// Session-ticket resumption.
    Ticket,
    /// Bulk transfer.
    Bulk,
}

/// hsmtls against rustls (aws-lc-rs), TLS 1.2 (or 1.3 with --tls13), in memory.
#[derive(Debug, Parser)]
#[command(name = "hsmtls-compare")]
struct Args {
    /// The server certificate's key.
    #[arg(long, value_enum, default_value = "ecdsa-p256")]
    key: Key,
    /// Handshakes per measurement.
    #[arg(long, default_value_t = 1000)]
    handshakes: u64,
    /// MiB per bulk measurement.
    #[arg(long, default_value_t = 32)]
    mib: u64,
    /// Bytes per bulk write.
    #[arg(long, default_value_t = 16384)]
    size: usize,
    /// Measurements per row and library.
    #[arg(long, default_value_t = 11)]
    repeats: usize,
    /// Only these modes (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Which>,
    /// Which libraries to run (one only is for profiling).
    #[arg(long, value_enum, default_value = "both")]
    library: LibraryChoice,
    /// hsmtls without its cache of validated server chains.
    #[arg(long)]
    no_chain_cache: bool,
    /// Only these groups (default: secp256r1,x25519).
    #[arg(long, value_delimiter = ',')]
    groups: Vec<String>,
    /// TLS 1.3 rows (TLS_AES_128_GCM_SHA256; `ticket` is PSK resumption,
    /// `resume` has no TLS 1.3 form and is skipped) instead of TLS 1.2.
    #[arg(long)]
    tls13: bool,
}

/// One printed row: medians of hsmtls and (where it has the suite) rustls.
struct Row {
    what: String,
    unit: &'static str,
    hsmtls: Vec<f64>,
    rustls: Vec<f64>,
}

impl Row {
    fn print(&self) {
        let h = median(&self.hsmtls);
        if self.rustls.is_empty() {
            println!(
                "| {:<68} | {:>10.1} | {:>10} | {:>6} | {} |",
                self.what, h, "n/a", "-", self.unit
            );
        } else {
            let r = median(&self.rustls);
            println!(
                "| {:<68} | {:>10.1} | {:>10.1} | {:>6.2} | {} |",
                self.what,
                h,
                r,
                h / r,
                self.unit
            );
        }
    }
}

fn measure(args: &Args, scenario: &Scenario, with_rustls: bool) -> Result<Vec<Row>, String> {
    let h = Hsmtls::new(scenario)?;
    let r = if with_rustls && args.library != LibraryChoice::Hsmtls {
        Some(Rustls::new(scenario)?)
    } else {
        None
    };
    let name = |side: &str| {
        let mode = match scenario.mode {
            Mode::Handshake => "handshake",
            Mode::Resume => "resume",
            Mode::Ticket => "ticket",
            Mode::Bulk => "bulk",
        };
        if scenario.mode == Mode::Bulk {
            format!("{mode} {side} {} {}", scenario.suite, args.size)
        } else {
            format!("{mode} {side} {} {}", scenario.suite, scenario.group)
        }
    };
    let (a, b) = if scenario.mode == Mode::Bulk {
        (name("send"), name("recv"))
    } else {
        (name("server"), name("client"))
    };
    let unit = if scenario.mode == Mode::Bulk {
        "MB/s"
    } else {
        "handshakes/s"
    };
    let mut rows = [a, b].map(|what| Row {
        what,
        unit,
        hsmtls: Vec::new(),
        rustls: Vec::new(),
    });
    let total = args.mib * 1024 * 1024;
    let bulk_mode = scenario.mode == Mode::Bulk;
    for _ in 0..args.repeats {
        let [ra, rb] = &mut rows;
        match (&r, args.library) {
            // Both: interleaved handshake by handshake / write by write.
            (Some(r), LibraryChoice::Both) => {
                let ((h1, h2), (r1, r2)) = if bulk_mode {
                    let (bh, br) = bulk_pair(&h, r, args.size, total)?;
                    ((bh.send, bh.recv), (br.send, br.recv))
                } else {
                    let (hh, hr) = handshakes_pair(&h, r, scenario.mode, args.handshakes)?;
                    ((hh.server, hh.client), (hr.server, hr.client))
                };
                ra.hsmtls.push(h1);
                rb.hsmtls.push(h2);
                ra.rustls.push(r1);
                rb.rustls.push(r2);
            }
            (Some(r), LibraryChoice::Rustls) => {
                let (x, y) = if bulk_mode {
                    let b = bulk(r, args.size, total)?;
                    (b.send, b.recv)
                } else {
                    let hs = handshakes(r, scenario.mode, args.handshakes)?;
                    (hs.server, hs.client)
                };
                ra.rustls.push(x);
                rb.rustls.push(y);
            }
            _ => {
                let (x, y) = if bulk_mode {
                    let b = bulk(&h, args.size, total)?;
                    (b.send, b.recv)
                } else {
                    let hs = handshakes(&h, scenario.mode, args.handshakes)?;
                    (hs.server, hs.client)
                };
                ra.hsmtls.push(x);
                rb.hsmtls.push(y);
            }
        }
    }
    Ok(rows.into())
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("hsmtls-compare: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let (key, family) = match args.key {
        Key::EcdsaP256 => (KeyKind::EcdsaP256, "ECDSA"),
        Key::Rsa2048 => (KeyKind::Rsa2048, "RSA"),
    };
    let gcm = format!("TLS_ECDHE_{family}_WITH_AES_128_GCM_SHA256");
    let cbc = format!("TLS_ECDHE_{family}_WITH_AES_128_CBC_SHA256");
    let groups = if args.groups.is_empty() {
        vec!["secp256r1".to_string(), "x25519".to_string()]
    } else {
        args.groups.clone()
    };
    let modes: Vec<(Which, Mode)> = [
        (Which::Handshake, Mode::Handshake),
        (Which::Resume, Mode::Resume),
        (Which::Ticket, Mode::Ticket),
        (Which::Bulk, Mode::Bulk),
    ]
    .into_iter()
    .filter(|(w, _)| args.only.is_empty() || args.only.contains(w))
    .collect();

    println!(
        "hsmtls-compare: {} handshakes or {} MiB per measurement, {} measurements per library, medians",
        args.handshakes, args.mib, args.repeats
    );
    println!(
        "| {:<68} | {:>10} | {:>10} | {:>6} | unit |",
        "row", "hsmtls", "rustls", "ratio"
    );
    println!("|{:-<70}|{:-<12}|{:-<12}|{:-<8}|------|", "", "", "", "");
    let mut cases: Vec<(String, String, bool)> = Vec::new();
    if args.tls13 {
        for g in &groups {
            cases.push(("TLS_AES_128_GCM_SHA256".to_string(), g.clone(), true));
        }
    } else {
        for g in &groups {
            cases.push((gcm.clone(), g.clone(), true));
        }
        cases.push((cbc, groups[0].clone(), false));
    }
    for (suite, group, with_rustls) in cases {
        if !with_rustls && args.library == LibraryChoice::Rustls {
            continue;
        }
        for &(_, mode) in &modes {
            // TLS 1.3 resumes by PSK (tickets) only.
            if args.tls13 && mode == Mode::Resume {
                continue;
            }
            // Bulk does not depend on the group: once per suite.
            if mode == Mode::Bulk && group != groups[0] {
                continue;
            }
            let scenario = Scenario {
                suite: suite.clone(),
                group: group.clone(),
                key,
                mode,
                chain_cache: !args.no_chain_cache,
            };
            for row in measure(args, &scenario, with_rustls)? {
                row.print();
            }
        }
    }
    Ok(())
}
