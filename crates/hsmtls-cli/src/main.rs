//! `hsmtls`: a TLS client and server whose secrets live in a key store,
//! benchmarks, and the key-store demo.
#![forbid(unsafe_code)]

/// `println!` for reports on stdout, except that a closed stdout (`hsmtls
/// token mechanisms | head`) ends the program quietly, as SIGPIPE would,
/// instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(141);
        }
    }};
}

mod bench;
mod client;
mod demo;
mod files;
mod names;
mod options;
mod server;
mod store;
mod token;
mod token_bench;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// TLS with every secret in a key store.
#[derive(Debug, Parser)]
#[command(name = "hsmtls", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a TLS server.
    Server(server::Args),
    /// Connects to a TLS server: stdin to the connection, the connection to stdout.
    Client(client::Args),
    /// Measures handshakes or bulk transfer, client and server in one process.
    Bench(bench::Args),
    /// A client and a server over loopback, with a trace of every key-store operation.
    Demo(demo::Args),
    /// Creates an hsmtls-token token; stores keys and certificates in a token.
    Token(token::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server(args) => server::run(args),
        Command::Client(args) => client::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Token(args) => token::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hsmtls: {e}");
            ExitCode::FAILURE
        }
    }
}
