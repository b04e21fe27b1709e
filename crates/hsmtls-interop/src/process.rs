//! Child processes with captured output and bounded waits.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::default_timeout;

/// Hard lifetime cap (seconds) of processes made by [`peer_command`].
const PEER_LIFETIME_SECS: u32 = 900;

/// A free TCP port on 127.0.0.1 (bind to port 0, read it, close).
///
/// Another process may take it before the caller binds it: servers started
/// with [`spawn_server`] retry on a new port when that happens.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// A [`Command`] for a peer program: `timeout -k 5 900 stdbuf -oL -eL
/// <program> <args>`.
///
/// `stdbuf` makes stdio line-buffered (and `PYTHONUNBUFFERED=1` does
/// it for tlslite-ng's `tls.py`), so the output of a peer that is
/// killed is not lost in a buffer and [`Peer::wait_for_output`] sees lines
/// as they are printed; `timeout` caps the process's life at 15 minutes
/// whatever happens to the test process.
pub fn peer_command<I, S>(program: &str, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new("timeout");
    cmd.env("PYTHONUNBUFFERED", "1")
        .args(["-k", "5", &PEER_LIFETIME_SECS.to_string()])
        .args(["stdbuf", "-oL", "-eL", program])
        .args(args);
    cmd
}

#[derive(Default)]
struct Buffers {
    all: Vec<u8>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    open_streams: u8,
}

struct Shared {
    bufs: Mutex<Buffers>,
    cv: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Buffers> {
        self.bufs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running child process whose stdout and stderr are read on threads.
///
/// The child runs in its own process group; dropping the `Peer` (or
/// [`Peer::kill`]) kills that whole group. stdin is a pipe kept open until
/// [`Peer::close_stdin`], so servers that quit on stdin EOF (e.g.
/// `openssl s_server` without `-www`) keep running.
pub struct Peer {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    shared: Arc<Shared>,
    port: Option<u16>,
    status: Option<ExitStatus>,
    killed: bool,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("name", &self.name)
            .field("pid", &self.child.id())
            .field("port", &self.port)
            .field("status", &self.status)
            .finish()
    }
}

impl Peer {
    /// Spawns `cmd` with piped stdin, stdout and stderr, in a new process
    /// group. `name` labels messages. See [`peer_command`] for a good `cmd`.
    pub fn spawn(name: &str, mut cmd: Command) -> io::Result<Peer> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{name}: cannot spawn {:?}: {e}", cmd.get_program()),
            )
        })?;
        let shared = Arc::new(Shared {
            bufs: Mutex::new(Buffers {
                open_streams: 2,
                ..Buffers::default()
            }),
            cv: Condvar::new(),
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        spawn_reader(stdout, Arc::clone(&shared), false);
        spawn_reader(stderr, Arc::clone(&shared), true);
        Ok(Peer {
            name: name.to_string(),
            stdin: child.stdin.take(),
            child,
            shared,
            port: None,
            status: None,
            killed: false,
        })
    }

    /// The label given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port the peer listens on, if it was started by [`spawn_server`].
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Records the port the peer listens on.
    pub fn with_port(mut self, port: u16) -> Peer {
        self.port = Some(port);
        self
    }

    /// Waits until the combined output contains `needle`: true as soon as
    /// it does; false at `timeout`, or once the child closed both stdout
    /// and stderr without printing it.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let needle = needle.as_bytes();
        let mut bufs = self.shared.lock();
        loop {
            if contains(&bufs.all, needle) {
                return true;
            }
            if bufs.open_streams == 0 {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            bufs = self
                .shared
                .cv
                .wait_timeout(bufs, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits (bounded) until the child closed stdout and stderr, i.e. all
    /// its output has been read. True if it did.
    pub fn wait_eof(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut bufs = self.shared.lock();
        while bufs.open_streams > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            bufs = self
                .shared
                .cv
                .wait_timeout(bufs, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// stdout and stderr so far, interleaved in the order read (lossy UTF-8).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.shared.lock().all).into_owned()
    }

    /// stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.shared.lock().stdout).into_owned()
    }

    /// stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.shared.lock().stderr).into_owned()
    }

    /// Writes to the child's stdin. Blocks if the child does not read and
    /// the pipe is full, so keep it small.
    pub fn write_stdin(&mut self, data: &[u8]) -> io::Result<()> {
        match self.stdin.as_mut() {
            Some(s) => {
                s.write_all(data)?;
                s.flush()
            }
            None => Err(io::Error::new(io::ErrorKind::BrokenPipe, "stdin closed")),
        }
    }

    /// Closes the child's stdin (it reads EOF).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The exit status if the child has exited, without waiting.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits up to `timeout` for the child to exit; `None` if it is still
    /// running then (it is left running: call [`Peer::kill`] or drop it).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_status() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the child's whole process group (SIGKILL) and reaps the child.
    /// Idempotent.
    pub fn kill(&mut self) {
        if self.killed {
            return;
        }
        self.killed = true;
        self.stdin = None;
        kill_group(self.child.id());
        let _ = self.child.kill();
        if self.status.is_none() {
            self.status = self.child.wait().ok();
        }
        // Readers finish once every holder of the pipes is dead.
        self.wait_eof(Duration::from_secs(2));
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends SIGKILL to the process group `pgid` (our children are group
/// leaders, see [`Peer::spawn`]).
pub(crate) fn kill_group(pgid: u32) {
    if pgid == 0 {
        return;
    }
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn spawn_reader<R: Read + Send + 'static>(mut r: R, shared: Arc<Shared>, is_err: bool) {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut b = shared.lock();
                    b.all.extend_from_slice(&buf[..n]);
                    if is_err {
                        b.stderr.extend_from_slice(&buf[..n]);
                    } else {
                        b.stdout.extend_from_slice(&buf[..n]);
                    }
                    drop(b);
                    shared.cv.notify_all();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        shared.lock().open_streams -= 1;
        shared.cv.notify_all();
    });
}

/// Waits until something listens on TCP `port` of this network namespace
/// (checked with `ss -ltn`, so no connection is made): true if it does
/// within `timeout`.
pub fn wait_listening(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let out = Command::new("ss")
            .args(["-Hltn", &format!("sport = :{port}")])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output();
        if matches!(out, Ok(o) if o.status.success() && !o.stdout.trim_ascii().is_empty()) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// What a finished (or timed-out) command printed and how it ended.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Exit code; `None` if killed by a signal or timed out.
    pub status: Option<i32>,
    /// The signal that ended it, if any.
    pub signal: Option<i32>,
    /// True if it ran past its timeout and was killed.
    pub timed_out: bool,
    /// stdout and stderr interleaved.
    pub output: String,
    /// stdout only.
    pub stdout: String,
    /// stderr only.
    pub stderr: String,
}

impl RunOutput {
    /// Exited with code 0 in time.
    pub fn success(&self) -> bool {
        self.status == Some(0) && !self.timed_out
    }
}

/// Runs `cmd` to completion with `stdin` as its input (then EOF), killing
/// its process group after `timeout`. Never panics on the command's
/// failure: inspect the [`RunOutput`].
pub fn run(name: &str, cmd: Command, stdin: &[u8], timeout: Duration) -> RunOutput {
    let mut peer = match Peer::spawn(name, cmd) {
        Ok(p) => p,
        Err(e) => {
            return RunOutput {
                status: None,
                signal: None,
                timed_out: false,
                output: e.to_string(),
                stdout: String::new(),
                stderr: e.to_string(),
            }
        }
    };
    // Feed stdin on a thread so a child that does not read cannot block us.
    if let Some(mut s) = peer.stdin.take() {
        let data = stdin.to_vec();
        thread::spawn(move || {
            let _ = s.write_all(&data);
        });
    }
    let st = peer.wait_timeout(timeout);
    let timed_out = st.is_none();
    if timed_out {
        peer.kill();
    } else {
        // The child is gone; grandchildren may still hold the pipes.
        if !peer.wait_eof(Duration::from_secs(2)) {
            peer.kill();
        }
    }
    let st = peer.status;
    RunOutput {
        status: if timed_out {
            None
        } else {
            st.and_then(|s| s.code())
        },
        signal: st.and_then(|s| s.signal()),
        timed_out,
        output: peer.output(),
        stdout: peer.stdout(),
        stderr: peer.stderr(),
    }
}

/// Starts a server on a free 127.0.0.1 port and waits until its output
/// contains `ready`.
///
/// `make(port)` builds the command for a port. If the server exits or
/// fails to become ready (e.g. because the port was taken in between), it
/// is retried on a new port, up to 5 times; then this panics with the
/// server's output.
pub fn spawn_server(name: &str, mut make: impl FnMut(u16) -> Command, ready: &str) -> Peer {
    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port();
        let peer = match Peer::spawn(name, make(port)) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        if peer.wait_for_output(ready, default_timeout()) {
            return peer.with_port(port);
        }
        last = peer.output();
        drop(peer);
        let busy = last.contains("in use") || last.to_ascii_lowercase().contains("bind");
        if !busy {
            break;
        }
    }
    panic!("{name} did not print {ready:?}; its output:\n{last}");
}

/// `openssl s_server -accept 127.0.0.1:<port> <args>`, ready once it
/// prints `ACCEPT`. Its stdin stays open (s_server exits on stdin EOF).
///
/// Example: `openssl_s_server(&["-cert", c, "-key", k, "-www"])`.
pub fn openssl_s_server<S: AsRef<OsStr>>(args: &[S]) -> Peer {
    spawn_server(
        "openssl s_server",
        |port| {
            let mut cmd = peer_command(
                "openssl",
                ["s_server", "-accept", &format!("127.0.0.1:{port}")],
            );
            cmd.args(args);
            cmd
        },
        "ACCEPT",
    )
}

/// `openssl s_client -connect 127.0.0.1:<port> <args>` run to completion
/// with `stdin` as input (EOF after it ends the connection), bounded by
/// [`default_timeout`].
pub fn openssl_s_client<S: AsRef<OsStr>>(port: u16, args: &[S], stdin: &[u8]) -> RunOutput {
    let mut cmd = peer_command(
        "openssl",
        ["s_client", "-connect", &format!("127.0.0.1:{port}")],
    );
    cmd.args(args);
    run("openssl s_client", cmd, stdin, default_timeout())
}
