//! `hsmtls client`: connects, prints the negotiated parameters on stderr,
//! then copies stdin to the connection and the connection to stdout.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args as ClapArgs;
use hsmtls::msgs::enums::ProtocolVersion;
use hsmtls::{ClientConfig, Connection, Stream};

use crate::names;
use crate::options::TlsOptions;

/// `hsmtls client` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The server, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    connect: String,
    /// The name to send as SNI and to check the certificate against
    /// (default: HOST).
    #[arg(long, value_name = "NAME")]
    sni: Option<String>,
    #[command(flatten)]
    tls: TlsOptions,
    /// Connect once, close, then connect again resuming the session; the
    /// second connection carries stdin and reports whether it resumed.
    #[arg(long)]
    reconnect: bool,
    /// TLS 1.3: send a KeyUpdate (update_requested) right after the
    /// handshake, before any stdin data (RFC 8446 §4.6.3).
    #[arg(long)]
    key_update: bool,
    /// With --reconnect: send this file's content as TLS 1.3 early data
    /// (0-RTT) on the resuming connection, before its handshake (as
    /// `openssl s_client -early_data`); sent again after the handshake if
    /// the server refuses it. The report says `early_data=accepted` when
    /// the server took it.
    #[arg(long, value_name = "FILE", requires = "reconnect")]
    early_data: Option<std::path::PathBuf>,
    /// After stdin ends, wait this long for more data before closing (ms).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    idle_timeout: u64,
}

fn split_host(connect: &str) -> Result<&str, String> {
    let (host, port) = connect
        .rsplit_once(':')
        .ok_or_else(|| format!("--connect {connect:?}: expected HOST:PORT"))?;
    port.parse::<u16>()
        .map_err(|_| format!("--connect {connect:?}: bad port"))?;
    Ok(host.trim_start_matches('[').trim_end_matches(']'))
}

/// Runs the client.
pub fn run(args: Args) -> Result<(), String> {
    let host = split_host(&args.connect)?;
    let name = args.sni.clone().unwrap_or_else(|| host.to_owned());
    let loaded = args.tls.load()?;
    let early = match &args.early_data {
        Some(path) => Some(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => None,
    };
    let config = Arc::new(match early {
        Some(_) => args.tls.client_config_with_early_data(loaded)?,
        None => args.tls.client_config(loaded)?,
    });
    if args.reconnect {
        let tls = connect(&config, &args.connect, &name)?;
        eprintln!(
            "hsmtls: first: {}",
            names::summary(tls.connection().negotiated())
        );
        let (mut conn, mut tcp) = tls.into_parts();
        await_ticket(&mut conn, &mut tcp);
        conn.send_close_notify();
        while conn.wants_write() {
            if conn.write_tls(&mut tcp).is_err() {
                break;
            }
        }
    }
    let tls = connect_with(&config, &args.connect, &name, early.as_deref())?;
    let negotiated = tls.connection().negotiated();
    if args.reconnect {
        eprintln!("hsmtls: reconnect: {}", names::summary(negotiated));
    } else {
        eprintln!("hsmtls: {}", names::summary(negotiated));
    }
    let (mut conn, tcp) = tls.into_parts();
    if args.key_update {
        conn.refresh_traffic_keys()
            .map_err(|e| format!("key update: {e}"))?;
        eprintln!("hsmtls: key update sent");
    }
    pump(conn, tcp, Duration::from_millis(args.idle_timeout))
}

fn connect(
    config: &Arc<ClientConfig>,
    addr: &str,
    name: &str,
) -> Result<Stream<TcpStream>, String> {
    connect_with(config, addr, name, None)
}

/// Connects; `early` is written before the handshake (0-RTT when the
/// configuration and the ticket allow it, else after the handshake).
fn connect_with(
    config: &Arc<ClientConfig>,
    addr: &str,
    name: &str,
    early: Option<&[u8]>,
) -> Result<Stream<TcpStream>, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut conn = Connection::client(config.clone(), name).map_err(|e| e.to_string())?;
    if let Some(data) = early {
        conn.writer()
            .write_all(data)
            .map_err(|e| format!("early data: {e}"))?;
    }
    let mut tls = Stream::new(conn, tcp);
    tls.complete_handshake()
        .map_err(|e| format!("handshake with {addr} failed: {e}"))?;
    Ok(tls)
}

/// TLS 1.3 tickets arrive after the handshake (RFC 8446 §4.6.1): read
/// for a moment so that the reconnection has one to resume with.
fn await_ticket(conn: &mut Connection, tcp: &mut TcpStream) {
    if conn.negotiated().version != Some(ProtocolVersion::TLSv1_3) {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(50)));
    while !conn.negotiated().ticket_issued && Instant::now() < deadline {
        match conn.read_tls(tcp) {
            Ok(0) => break,
            Ok(_) => {
                if conn.process_new_packets().is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
}

/// Copies stdin to the connection and the connection to stdout until the
/// peer closes, or stdin has ended and the peer stayed quiet for `idle`.
fn pump(mut conn: Connection, mut tcp: TcpStream, idle: Duration) -> Result<(), String> {
    let (tx, rx) = mpsc::channel::<Option<Vec<u8>>>();
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0u8; 16384];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    break;
                }
                Ok(n) => {
                    if tx.send(Some(buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    tcp.set_read_timeout(Some(Duration::from_millis(20)))
        .map_err(|e| e.to_string())?;
    let mut stdout = io::stdout().lock();
    let mut stdin_done_at: Option<Instant> = None;
    let mut last_data = Instant::now();
    let mut plain = vec![0u8; 16384];
    loop {
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Some(data) => conn.writer().write_all(&data).map_err(|e| e.to_string())?,
                None => stdin_done_at = Some(Instant::now()),
            }
        }
        while conn.wants_write() {
            conn.write_tls(&mut tcp).map_err(|e| e.to_string())?;
        }
        match conn.read_tls(&mut tcp) {
            Ok(0) => break,
            Ok(_) => {
                let result = conn.process_new_packets();
                while conn.wants_write() {
                    let _ = conn.write_tls(&mut tcp);
                }
                result.map_err(|e| e.to_string())?;
                loop {
                    match conn.reader().read(&mut plain) {
                        Ok(0) => break,
                        Ok(n) => {
                            last_data = Instant::now();
                            stdout.write_all(&plain[..n]).map_err(|e| e.to_string())?;
                        }
                        Err(_) => break,
                    }
                }
                stdout.flush().map_err(|e| e.to_string())?;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e.to_string()),
        }
        if conn.peer_has_closed() {
            break;
        }
        if let Some(done) = stdin_done_at {
            if done.elapsed() >= idle && last_data.elapsed() >= idle {
                break;
            }
        }
    }
    conn.send_close_notify();
    while conn.wants_write() {
        if conn.write_tls(&mut tcp).is_err() {
            break;
        }
    }
    Ok(())
}
