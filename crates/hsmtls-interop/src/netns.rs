//! A server and its clients in a private network namespace.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::default_timeout;
use crate::paths::TempDir;
use crate::process::run;
use crate::tools::{sh_join, sh_quote};

#[derive(Debug, Clone)]
enum Ready {
    None,
    Port(u16),
    Output(String),
}

/// One scenario run inside `unshare -n` with only `lo` up: an optional
/// server started in the background, a readiness wait, then clients run
/// one after the other; the server is stopped at the end.
///
/// Servers that listen on all addresses (`gnutls-serv`, NSS `selfserv`)
/// must be run this way; the namespace has no interface but loopback, so
/// nothing can leave the machine, and every port is free in it (fixed
/// ports such as 4433 are fine).
///
/// ```no_run
/// use hsmtls_interop::{pki_file, Netns};
/// let out = Netns::new()
///     .server(["gnutls-serv", "-p", "4433", "--x509certfile", "cert.pem", "--x509keyfile", "key.pem"])
///     .wait_port(4433)
///     .client(["gnutls-cli", "-p", "4433", "--x509cafile", "ca.pem", "localhost"])
///     .run();
/// assert_eq!(out.client_status(), Some(0), "{out}");
/// assert!(out.client_output().contains("- Options: extended master secret"));
/// ```
///
/// Commands are argument vectors (quoted for `sh` here) or, with the
/// `_sh` variants, raw `sh` scripts. The server's stdin is a FIFO that
/// never reaches EOF; each client reads the bytes given to
/// [`Netns::stdin`] then EOF. Servers run under `stdbuf -oL -eL`, so their
/// output survives being stopped. The whole run is bounded by
/// [`Netns::timeout`] (default [`default_timeout`]).
#[derive(Debug, Clone)]
pub struct Netns {
    server: Option<String>,
    ready: Ready,
    clients: Vec<String>,
    stdin: Vec<u8>,
    timeout: Duration,
    env: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
}

impl Default for Netns {
    fn default() -> Self {
        Self::new()
    }
}

/// What one client printed and how it exited.
#[derive(Debug, Clone, Default)]
pub struct ClientOutput {
    /// stdout and stderr of the client, interleaved.
    pub output: String,
    /// Its exit code; `None` if it did not finish (timeout, or an earlier
    /// stage failed).
    pub status: Option<i32>,
}

/// The result of [`Netns::run`].
#[derive(Debug, Clone, Default)]
pub struct NetnsOutput {
    /// stdout and stderr of the server, interleaved.
    pub server_output: String,
    /// One entry per client, in order.
    pub clients: Vec<ClientOutput>,
    /// True if the run was killed at its timeout.
    pub timed_out: bool,
    /// Messages of the namespace script itself (readiness failures etc.).
    pub log: String,
    /// Exit code of the namespace script: 0 if all stages ran (whatever the
    /// clients returned), 97 lo, 98 server not ready in time, 99 server
    /// exited before ready.
    pub script_status: Option<i32>,
}

impl NetnsOutput {
    /// Output of the first client ("" if none ran).
    pub fn client_output(&self) -> &str {
        self.clients.first().map_or("", |c| c.output.as_str())
    }

    /// Exit code of the first client.
    pub fn client_status(&self) -> Option<i32> {
        self.clients.first().and_then(|c| c.status)
    }

    /// True if every client exited 0 and nothing timed out.
    pub fn all_clients_ok(&self) -> bool {
        !self.timed_out
            && !self.clients.is_empty()
            && self.clients.iter().all(|c| c.status == Some(0))
    }
}

impl std::fmt::Display for NetnsOutput {
    /// Everything, for assertion messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "--- netns (status {:?}, timed out: {}) ---\n{}",
            self.script_status, self.timed_out, self.log
        )?;
        writeln!(f, "--- server ---\n{}", self.server_output)?;
        for (i, c) in self.clients.iter().enumerate() {
            writeln!(
                f,
                "--- client {i} (status {:?}) ---\n{}",
                c.status, c.output
            )?;
        }
        Ok(())
    }
}

impl Netns {
    /// An empty scenario: no server, no client, default timeout.
    pub fn new() -> Netns {
        Netns {
            server: None,
            ready: Ready::None,
            clients: Vec::new(),
            stdin: Vec::new(),
            timeout: default_timeout(),
            env: Vec::new(),
            cwd: None,
        }
    }

    /// The server: a program and its arguments.
    pub fn server<I, S>(self, argv: I) -> Netns
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let line = sh_join(argv);
        self.server_sh(&format!("exec {line}"))
    }

    /// The server as an `sh` script (it should `exec` the server last).
    pub fn server_sh(mut self, script: &str) -> Netns {
        self.server = Some(script.to_string());
        self
    }

    /// The server is ready once something listens on TCP `port`
    /// (checked with `ss`, so no connection is made to it).
    pub fn wait_port(mut self, port: u16) -> Netns {
        self.ready = Ready::Port(port);
        self
    }

    /// The server is ready once its output contains `needle`.
    pub fn wait_output(mut self, needle: &str) -> Netns {
        self.ready = Ready::Output(needle.to_string());
        self
    }

    /// Adds a client: a program and its arguments.
    pub fn client<I, S>(mut self, argv: I) -> Netns
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.clients.push(sh_join(argv));
        self
    }

    /// Adds a client given as an `sh` script.
    pub fn client_sh(mut self, script: &str) -> Netns {
        self.clients.push(script.to_string());
        self
    }

    /// Bytes each client reads on stdin (then EOF). Default: none.
    pub fn stdin(mut self, data: &[u8]) -> Netns {
        self.stdin = data.to_vec();
        self
    }

    /// Bound of the whole run.
    pub fn timeout(mut self, timeout: Duration) -> Netns {
        self.timeout = timeout;
        self
    }

    /// An environment variable for the server and the clients.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Netns {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Working directory of the server and the clients (default: the
    /// test's).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Netns {
        self.cwd = Some(dir.into());
        self
    }

    /// Runs the scenario. Never panics because of the peers; check the
    /// [`NetnsOutput`] (its `Display` shows everything).
    pub fn run(self) -> NetnsOutput {
        let tmp = TempDir::new("netns");
        let d = tmp.path();
        let dq = sh_quote(d);
        std::fs::write(d.join("client.in"), &self.stdin).expect("write client.in");

        let poll_ms = 50u64;
        let ready_iters = (self.timeout.as_millis() as u64 / poll_ms).max(1);
        let mut s = String::new();
        let _ = writeln!(s, "set -u\nD={dq}");
        let _ = writeln!(
            s,
            "ip link set lo up || {{ echo 'netns: ip link set lo up failed' >&2; exit 97; }}"
        );
        if let Some(server) = &self.server {
            let ready = match &self.ready {
                Ready::None => "true".to_string(),
                Ready::Port(p) => format!("[ -n \"$(ss -Hltn 'sport = :{p}')\" ]"),
                Ready::Output(n) => format!("grep -qF -- {} \"$D/server.out\"", sh_quote(n)),
            };
            let _ = writeln!(
                s,
                r#"mkfifo "$D/server.in"
exec 3<>"$D/server.in"
( exec stdbuf -oL -eL sh -c {srv} ) <&3 >"$D/server.out" 2>&1 &
SPID=$!
stop_server() {{
  kill -TERM "$SPID" 2>/dev/null || return 0
  i=0
  while kill -0 "$SPID" 2>/dev/null && [ $i -lt 40 ]; do i=$((i+1)); sleep 0.05; done
  kill -KILL "$SPID" 2>/dev/null || true
}}
trap stop_server EXIT
i=0
until {ready}; do
  kill -0 "$SPID" 2>/dev/null || {{ echo 'netns: server exited before it was ready' >&2; exit 99; }}
  i=$((i+1))
  [ $i -le {ready_iters} ] || {{ echo 'netns: server not ready in time' >&2; exit 98; }}
  sleep 0.{poll_ms:03}
done"#,
                srv = sh_quote(server),
            );
        }
        for (i, c) in self.clients.iter().enumerate() {
            let _ = writeln!(
                s,
                "( {c}\n) <\"$D/client.in\" >\"$D/client.{i}.out\" 2>&1; echo $? >\"$D/client.{i}.rc\""
            );
        }
        let _ = writeln!(s, "exit 0");
        std::fs::write(d.join("run.sh"), &s).expect("write run.sh");

        let mut cmd = Command::new("timeout");
        cmd.env("PYTHONUNBUFFERED", "1");
        // Belt and braces: the namespace dies a little after our own bound.
        let cap = self.timeout.as_secs() + 10;
        cmd.args(["-k", "2", &cap.to_string(), "unshare", "-n", "bash"])
            .arg(d.join("run.sh"));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        // Extra margin for the server's stop (2 s) after the clients.
        let r = run("netns", cmd, b"", self.timeout + Duration::from_secs(3));

        let read = |name: &str| {
            std::fs::read(d.join(name))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        let clients = (0..self.clients.len())
            .map(|i| ClientOutput {
                output: read(&format!("client.{i}.out")),
                status: read(&format!("client.{i}.rc")).trim().parse().ok(),
            })
            .collect();
        NetnsOutput {
            server_output: read("server.out"),
            clients,
            timed_out: r.timed_out,
            log: r.output,
            script_status: r.status,
        }
    }
}
