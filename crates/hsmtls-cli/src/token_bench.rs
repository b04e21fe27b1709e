//! `hsmtls token bench`: five operations through the C API of PKCS#11
//! modules (hsmtls-token linked in, SoftHSM2, NSS softoken, any module by
//! path), as ops/s in one table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clap::Args as ClapArgs;
use hsmtls_pkcs11::bench::{self, BenchOp, BenchOutcome, RsaPaddingTiming};
use hsmtls_pkcs11::{PinSource, Pkcs11Config, TokenSelector, NSS_SOFTOKEN_PATH, SOFTHSM2_PATH};

use crate::store::{self, LINKED_TOKEN};

/// `hsmtls token bench` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// A module to measure: a shared library's path, or `hsmtls-token`
    /// (linked in; a temporary token), `softhsm2` (a temporary token made
    /// with softhsm2-util), `nss` (NSS softoken without databases).
    /// Repeatable: one column each.
    #[arg(long, value_name = "PATH")]
    module: Vec<String>,
    /// hsmtls-token, SoftHSM2 and NSS softoken (those installed), in one table.
    #[arg(long)]
    all: bool,
    /// The slot of a --module PATH (default: the first token).
    #[arg(long, value_name = "N")]
    slot: Option<u64>,
    /// A file whose first line is the user PIN of a --module PATH.
    #[arg(long, value_name = "FILE", conflicts_with = "pin_env")]
    pin_file: Option<PathBuf>,
    /// An environment variable holding the user PIN of a --module PATH.
    #[arg(long, value_name = "VAR")]
    pin_env: Option<String>,
    /// `pReserved` of `C_Initialize` for a --module PATH (NSS softoken's
    /// parameters).
    #[arg(long, value_name = "STRING")]
    init_args: Option<String>,
    /// Seconds per row and module.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.5)]
    seconds: f64,
    /// Instead of the five rows: RSA-2048 PKCS#1 v1.5 decryption of a
    /// valid and of a badly padded ciphertext, timed in alternating
    /// batches, and what each module answers for the bad one (a padding
    /// oracle shows as an error or a time difference).
    #[arg(long)]
    rsa_padding: bool,
}

/// About what hsmtls-token should reach on the reference machine (issue 3).
fn target(op: BenchOp) -> f64 {
    match op {
        BenchOp::EcdsaP256Sign => 45_000.0,
        BenchOp::EcdhP256 => 15_000.0,
        BenchOp::AesGcm16k => 500_000.0,
        BenchOp::HmacSha256_16k => 96_000.0,
        BenchOp::Tls12MasterDerive => 300_000.0,
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Result<Self, String> {
        let dir =
            std::env::temp_dir().join(format!("hsmtls-token-bench-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const BENCH_PIN: &str = "bench-pin-1234";

fn write_pin(dir: &Path) -> Result<PathBuf, String> {
    let file = dir.join("pin");
    std::fs::write(&file, format!("{BENCH_PIN}\n"))
        .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(file)
}

/// One column: its name and configuration (and the temporary token's
/// directory, kept until the end).
struct Column {
    name: String,
    config: Pkcs11Config,
    _dir: Option<TempDir>,
}

fn hsmtls_token() -> Result<Column, String> {
    let dir = TempDir::new("hsmtls-token")?;
    store::use_token_dir(&dir.0)?;
    let pin = write_pin(&dir.0)?;
    let config = Pkcs11Config::linked(LINKED_TOKEN, &hsmtls_token::abi::FUNCTION_LIST);
    let slot = hsmtls_pkcs11::init_token(&config, "bench", BENCH_PIN, BENCH_PIN)
        .map_err(|e| format!("hsmtls-token: {e}"))?;
    Ok(Column {
        name: LINKED_TOKEN.into(),
        config: config
            .token(TokenSelector::SlotId(slot))
            .pin(PinSource::File(pin)),
        _dir: Some(dir),
    })
}

fn softhsm2() -> Result<Column, String> {
    if !Path::new(SOFTHSM2_PATH).is_file() {
        return Err(format!("softhsm2: {SOFTHSM2_PATH} not installed"));
    }
    let dir = TempDir::new("softhsm2")?;
    let tokens = dir.0.join("tokens");
    std::fs::create_dir_all(&tokens).map_err(|e| format!("{}: {e}", tokens.display()))?;
    let conf = dir.0.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .map_err(|e| format!("{}: {e}", conf.display()))?;
    // Read by SoftHSM2 in C_Initialize (and by softhsm2-util).
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let out = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", "bench"])
        .args(["--so-pin", BENCH_PIN, "--pin", BENCH_PIN])
        .output()
        .map_err(|e| format!("softhsm2-util: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "softhsm2-util --init-token: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let pin = write_pin(&dir.0)?;
    Ok(Column {
        name: "softhsm2".into(),
        config: Pkcs11Config::new(SOFTHSM2_PATH)
            .token(TokenSelector::Label("bench".into()))
            .pin(PinSource::File(pin)),
        _dir: Some(dir),
    })
}

fn nss() -> Result<Column, String> {
    if !Path::new(NSS_SOFTOKEN_PATH).is_file() {
        return Err(format!("nss: {NSS_SOFTOKEN_PATH} not installed"));
    }
    Ok(Column {
        name: "nss-softoken".into(),
        config: Pkcs11Config::nss_softoken(),
        _dir: None,
    })
}

fn column(module: &str, args: &Args) -> Result<Column, String> {
    match module {
        LINKED_TOKEN => hsmtls_token(),
        "softhsm2" => softhsm2(),
        "nss" => nss(),
        path => {
            let mut config = Pkcs11Config::new(path);
            config.init_reserved = args.init_args.clone();
            if let Some(slot) = args.slot {
                config = config.token(TokenSelector::SlotId(slot));
            }
            if let Some(file) = &args.pin_file {
                config = config.pin(PinSource::File(file.clone()));
            } else if let Some(var) = &args.pin_env {
                config = config.pin(PinSource::Env(var.clone()));
            }
            Ok(Column {
                name: path.into(),
                config,
                _dir: None,
            })
        }
    }
}

/// Runs `hsmtls token bench`.
pub fn run(args: Args) -> Result<(), String> {
    if !(args.seconds > 0.0 && args.seconds < 3600.0) {
        return Err("--seconds: between 0 and 3600".into());
    }
    let mut modules = args.module.clone();
    if args.all {
        for m in [LINKED_TOKEN, "softhsm2", "nss"] {
            if !modules.iter().any(|x| x == m) {
                modules.push(m.into());
            }
        }
    }
    if modules.is_empty() {
        return Err("hsmtls token bench needs --module or --all".into());
    }
    let time = Duration::from_secs_f64(args.seconds);
    let mut notes = Vec::new();
    if args.rsa_padding {
        let columns = measure(&modules, &args, &mut notes, |config| {
            let t = bench::run_rsa_padding(config, time)?;
            let outcomes = vec![(None, t.valid.clone()), (None, t.invalid.clone())];
            Ok((t, outcomes))
        })?;
        print!("{}", rsa_padding_table(&columns));
    } else {
        let columns = measure(&modules, &args, &mut notes, |config| {
            let rows = bench::run(config, time)?;
            let outcomes = rows.iter().map(|(op, o)| (Some(*op), o.clone())).collect();
            Ok((rows, outcomes))
        })?;
        print!("{}", table(&columns));
    }
    for n in notes {
        outln!("  {n}");
    }
    Ok(())
}

/// Runs `f` on each module's column (a module `--all` found missing is
/// skipped with a note; one named by `--module` is an error) and notes
/// every row `f` reports as n/a or failed.
fn measure<T>(
    modules: &[String],
    args: &Args,
    notes: &mut Vec<String>,
    f: impl Fn(
        &Pkcs11Config,
    ) -> Result<(T, Vec<(Option<BenchOp>, BenchOutcome)>), hsmtls_pkcs11::OpenError>,
) -> Result<Vec<(String, T)>, String> {
    let mut columns = Vec::new();
    for m in modules {
        let col = match column(m, args) {
            Ok(c) => c,
            Err(e) if args.all && !args.module.contains(m) => {
                notes.push(format!("skipped: {e}"));
                continue;
            }
            Err(e) => return Err(e),
        };
        eprintln!("hsmtls: measuring {} …", col.name);
        let (t, outcomes) = f(&col.config).map_err(|e| format!("{}: {e}", col.name))?;
        for (op, outcome) in outcomes {
            let what = op.map_or(col.name.clone(), |op| format!("{}: {op}", col.name));
            match outcome {
                BenchOutcome::Unsupported(mech) => notes.push(format!("{what}: n/a (no {mech})")),
                BenchOutcome::Failed(why) => notes.push(format!("{what}: {why}")),
                BenchOutcome::Rate(_) => {}
            }
        }
        columns.push((col.name, t));
    }
    Ok(columns)
}

fn rsa_padding_table(columns: &[(String, RsaPaddingTiming)]) -> String {
    let mut header = vec!["RSA-2048 PKCS#1 v1.5 decrypt".to_string()];
    header.extend(columns.iter().map(|(n, _)| n.clone()));
    let row = |name: &str, cell: &dyn Fn(&RsaPaddingTiming) -> String| {
        let mut l = vec![name.to_string()];
        l.extend(columns.iter().map(|(_, t)| cell(t)));
        l
    };
    let ratio = |t: &RsaPaddingTiming| match (&t.valid, &t.invalid) {
        // Time per operation, invalid over valid.
        (BenchOutcome::Rate(v), BenchOutcome::Rate(i)) => format!("{:.3}", v / i),
        _ => "-".into(),
    };
    render(&[
        header,
        row("valid padding, ops/s", &|t| t.valid.to_string()),
        row("invalid padding, ops/s", &|t| t.invalid.to_string()),
        row("time invalid / valid", &ratio),
        row("answer to invalid padding", &|t| {
            t.invalid_answer.to_string()
        }),
    ])
}

fn rate(rows: &[(BenchOp, BenchOutcome)], op: BenchOp) -> Option<f64> {
    rows.iter().find_map(|(o, r)| match r {
        BenchOutcome::Rate(v) if *o == op => Some(*v),
        _ => None,
    })
}

/// The table: rows = operations, columns = modules (ops/s), then, with
/// hsmtls-token among the columns, its target and whether it is at least
/// as fast as the fastest other module.
fn table(columns: &[(String, Vec<(BenchOp, BenchOutcome)>)]) -> String {
    let ours = columns.iter().position(|(n, _)| n == LINKED_TOKEN);
    let mut header = vec!["ops/s".to_string()];
    header.extend(columns.iter().map(|(n, _)| n.clone()));
    if ours.is_some() {
        header.push("target".into());
        if columns.len() > 1 {
            header.push("hsmtls-token >= best other".into());
        }
    }
    let mut lines = vec![header];
    for op in BenchOp::ALL {
        let mut line = vec![op.name().to_string()];
        for (_, rows) in columns {
            let cell = rows
                .iter()
                .find(|(o, _)| *o == op)
                .map_or("-".into(), |(_, r)| r.to_string());
            line.push(cell);
        }
        if let Some(i) = ours {
            let mine = rate(&columns[i].1, op);
            line.push(format!(
                "{:.0}{}",
                target(op),
                match mine {
                    Some(v) if v >= target(op) => " ok",
                    Some(_) => " below",
                    None => "",
                }
            ));
            if columns.len() > 1 {
                let best = columns
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .filter_map(|(_, (_, rows))| rate(rows, op))
                    .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))));
                line.push(match (mine, best) {
                    (Some(m), Some(b)) => {
                        format!("{} ({:.2}x)", if m >= b { "yes" } else { "NO" }, m / b)
                    }
                    (Some(_), None) => "yes (no other)".into(),
                    _ => "-".into(),
                });
            }
        }
        lines.push(line);
    }
    render(&lines)
}

/// Aligns `lines` (the first is the header) in columns.
fn render(lines: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in lines {
        let cells: Vec<String> = l
            .iter()
            .enumerate()
            .map(|(c, s)| {
                if c == 0 {
                    format!("{s:<w$}", w = widths[c])
                } else {
                    format!("{s:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_compares_with_the_fastest_other_module() {
        let rows = |v: f64| {
            BenchOp::ALL
                .iter()
                .map(|&op| (op, BenchOutcome::Rate(v)))
                .collect::<Vec<_>>()
        };
        let mut nss = rows(100.0);
        nss[4].1 = BenchOutcome::Unsupported("CKM_TLS12_MASTER_KEY_DERIVE_DH");
        let t = table(&[
            (LINKED_TOKEN.into(), rows(150.0)),
            ("softhsm2".into(), rows(200.0)),
            ("nss-softoken".into(), nss),
        ]);
        assert!(t.contains("NO (0.75x)"), "{t}");
        assert!(t.contains("n/a"), "{t}");
        assert_eq!(t.lines().count(), 6, "{t}");
    }
}
