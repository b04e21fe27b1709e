//! `hsmtls server`: accepts TLS connections and answers with an HTTP page
//! describing the session (`--http`, as `openssl s_server -www`) or echoes
//! (`--echo`, the default).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use clap::Args as ClapArgs;
use hsmtls::{ClientAuth, Connection, ServerConfig, Stream};

use crate::names;
use crate::options::TlsOptions;

/// `hsmtls server` options.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Address to listen on, e.g. 127.0.0.1:4433 (port 0 picks one; the
    /// address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    listen: String,
    #[command(flatten)]
    tls: TlsOptions,
    /// Ask for a client certificate and refuse clients without one.
    #[arg(long)]
    require_client_cert: bool,
    /// Ask for a client certificate but accept clients without one.
    #[arg(long, conflicts_with = "require_client_cert")]
    request_client_cert: bool,
    /// Answer each request with an HTTP/1.0 page naming the session's parameters.
    #[arg(long, conflicts_with = "echo")]
    http: bool,
    /// Echo what the client sends (the default).
    #[arg(long)]
    echo: bool,
    /// Exit after this many connections.
    #[arg(long, value_name = "N")]
    max_connections: Option<u64>,
}

/// Runs the server.
pub fn run(args: Args) -> Result<(), String> {
    let client_auth = if args.require_client_cert {
        ClientAuth::Require
    } else if args.request_client_cert {
        ClientAuth::Request
    } else {
        ClientAuth::Off
    };
    let loaded = args.tls.load()?;
    let config = Arc::new(args.tls.server_config(loaded, client_auth)?);
    let listener = TcpListener::bind(&args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    eprintln!("hsmtls: listening on {local}");
    let mut served = 0u64;
    for tcp in listener.incoming() {
        let tcp = match tcp {
            Ok(t) => t,
            Err(e) => {
                eprintln!("hsmtls: accept failed: {e}");
                continue;
            }
        };
        let config = config.clone();
        let http = args.http;
        let last = args.max_connections.is_some_and(|m| served + 1 >= m);
        let worker = std::thread::spawn(move || {
            // A handshake failure is reported by `handshake` itself.
            if let Err(Some(e)) = serve(config, tcp, http) {
                eprintln!("hsmtls: connection failed: {e}");
            }
        });
        served += 1;
        if last {
            let _ = worker.join();
            break;
        }
    }
    Ok(())
}

/// Serves one connection. `Err(None)`: the failure was already reported.
fn serve(config: Arc<ServerConfig>, tcp: TcpStream, http: bool) -> Result<(), Option<String>> {
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    tcp.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| Some(e.to_string()))?;
    let conn = Connection::server(config).map_err(|e| Some(e.to_string()))?;
    let mut tls = handshake(conn, tcp)?;
    let summary = names::summary(tls.connection().negotiated());
    eprintln!("hsmtls: {peer} {summary}");
    // 0-RTT data (--max-early-data): reported, and echoed first.
    let early = tls.connection_mut().take_early_data();
    if !early.is_empty() {
        eprintln!("hsmtls: {peer} early data: {} bytes", early.len());
    }
    if http {
        serve_http(&mut tls, &summary).map_err(Some)
    } else {
        tls.write_all(&early).map_err(|e| Some(e.to_string()))?;
        serve_echo(&mut tls).map_err(Some)
    }
}

/// Runs the handshake; a failure is reported *before* the alert goes out,
/// so a peer that exits on the alert cannot outrun the log line.
fn handshake(
    mut conn: Connection,
    mut tcp: TcpStream,
) -> Result<Stream<TcpStream>, Option<String>> {
    let flush = |conn: &mut Connection, tcp: &mut TcpStream| -> std::io::Result<()> {
        while conn.wants_write() {
            conn.write_tls(tcp)?;
        }
        Ok(())
    };
    while conn.is_handshaking() {
        flush(&mut conn, &mut tcp).map_err(|e| Some(e.to_string()))?;
        let n = conn.read_tls(&mut tcp).map_err(|e| Some(e.to_string()))?;
        if n == 0 {
            return Err(Some("peer closed during the handshake".into()));
        }
        if let Err(e) = conn.process_new_packets() {
            eprintln!("hsmtls: connection failed: {e}");
            let _ = flush(&mut conn, &mut tcp);
            linger(&mut tcp);
            return Err(None);
        }
    }
    flush(&mut conn, &mut tcp).map_err(|e| Some(e.to_string()))?;
    Ok(Stream::new(conn, tcp))
}

/// After a fatal alert: half-closes and reads what the client still
/// sends (at most 64 KiB, at most a second), so closing does not reset a
/// connection with unread data — a reset can make the client's kernel
/// drop the alert before the client reads it, leaving it "connection
/// reset" or "broken pipe" instead of the reason.
fn linger(tcp: &mut TcpStream) {
    use std::io::Read;
    let _ = tcp.shutdown(std::net::Shutdown::Write);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 4096];
    let mut total = 0usize;
    while total < 64 * 1024 {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
}

fn serve_http(tls: &mut Stream<TcpStream>, summary: &str) -> Result<(), String> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
    if request.is_empty() {
        // The client closed without asking anything (e.g. a probe that
        // only wanted a session to resume).
        return Ok(());
    }
    let n = tls.connection().negotiated();
    let mut body = String::from("<html><body><pre>\n");
    body.push_str(&format!(
        "Protocol  : {}\n",
        n.version.map(|v| v.as_str()).unwrap_or("-")
    ));
    body.push_str(&format!(
        "Cipher    : {}\n",
        n.cipher_suite.map(|s| s.as_str()).unwrap_or("-")
    ));
    body.push_str(&format!(
        "Group     : {}\n",
        n.group.map(|g| g.as_str()).unwrap_or("-")
    ));
    body.push_str(&format!(
        "Extended master secret: {}\n",
        names::yes_no(n.extended_master_secret)
    ));
    body.push_str(&format!(
        "Encrypt-then-MAC: {}\n",
        names::yes_no(n.encrypt_then_mac)
    ));
    body.push_str(&format!("Reused    : {}\n", names::yes_no(n.resumed)));
    body.push_str(&format!("Key store : {}\n", n.key_store));
    body.push_str(&format!("Relaxations: {}\n", names::relaxations(n)));
    body.push_str(&format!(
        "Client certificate: {}\n",
        names::yes_no(!n.peer_certificates.is_empty())
    ));
    body.push_str(&format!("Summary   : {summary}\n"));
    body.push_str("</pre></body></html>\n");
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(response.as_bytes())
        .map_err(|e| e.to_string())?;
    tls.close().map_err(|e| e.to_string())
}

fn serve_echo(tls: &mut Stream<TcpStream>) -> Result<(), String> {
    let mut buf = vec![0u8; 16384];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => tls.write_all(&buf[..n]).map_err(|e| e.to_string())?,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    tls.close().map_err(|e| e.to_string())
}
