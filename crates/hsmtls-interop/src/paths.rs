//! Where things are: the repository, the test PKI, the `hsmtls` binary,
//! and self-removing temporary directories.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::process::run;

/// The key kinds under `testdata/pki` that have a full chain
/// (root, intermediate, server and client leaves).
pub const PKI_KINDS: &[&str] = &[
    "ecdsa-p256",
    "ecdsa-p384",
    "rsa2048",
    "brainpoolP256r1",
    "brainpoolP384r1",
    "brainpoolP512r1",
    "wrongca",
];

/// The root of the hsmtls repository (the workspace directory).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The directory `testdata/pki/<kind>`, e.g. `pki("ecdsa-p256")`.
///
/// Kinds: those in [`PKI_KINDS`] plus `expired`. Panics if it does not
/// exist. See `testdata/pki/make.sh` for the files in it.
pub fn pki(kind: &str) -> PathBuf {
    let dir = repo_root().join("testdata/pki").join(kind);
    assert!(
        dir.is_dir(),
        "no test PKI kind {kind:?} at {} (kinds: {PKI_KINDS:?}, expired)",
        dir.display()
    );
    dir
}

/// A file of the test PKI, e.g. `pki_file("rsa2048", "server.chain.pem")`.
/// Panics if it does not exist.
pub fn pki_file(kind: &str, file: &str) -> PathBuf {
    let path = pki(kind).join(file);
    assert!(path.is_file(), "no test PKI file {}", path.display());
    path
}

/// The path of the `hsmtls` binary (package `hsmtls-cli`), built once per
/// test process.
///
/// `HSMTLS_BIN`, if set, names the binary to use and nothing is built.
/// Otherwise the binary is the one in the target directory of the running
/// test executable (`<target>/<profile>/hsmtls`), and the first call runs
/// `cargo build -p hsmtls-cli --bin hsmtls` there (a no-op when it is up
/// to date; bounded to 15 minutes). Panics if the build fails.
pub fn hsmtls_bin() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("HSMTLS_BIN") {
            return Ok(PathBuf::from(bin));
        }
        build_artifact(&["-p", "hsmtls-cli", "--bin", "hsmtls"], "hsmtls")
    })
    .clone()
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The `libhsmtls_token.so` PKCS#11 module of this tree, in the target
/// directory of the running test, freshly built: the first call runs
/// `cargo build -p hsmtls-token --lib` there (a no-op when up to date —
/// `cargo test` alone does not leave the cdylib of a package where other
/// programs can load it). `HSMTLS_TOKEN_MODULE` overrides.
pub fn hsmtls_token_module() -> PathBuf {
    static MODULE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    MODULE
        .get_or_init(|| {
            if let Some(module) = std::env::var_os("HSMTLS_TOKEN_MODULE") {
                return Ok(PathBuf::from(module));
            }
            build_artifact(&["-p", "hsmtls-token", "--lib"], "libhsmtls_token.so")
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `cargo build ARGS` into the target directory and profile of the
/// running test executable and returns `<target>/<profile>/<artifact>`.
fn build_artifact(args: &[&str], artifact: &str) -> Result<PathBuf, String> {
    // <target>/<profile>/deps/<test-exe>
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("unexpected test executable path {}", exe.display()))?;
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| format!("unexpected test executable path {}", exe.display()))?;
    let profile = profile_dir
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("debug");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo_root())
        .arg("build")
        .args(args)
        .arg("--target-dir")
        .arg(target_dir);
    match profile {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let out = run(
        &format!("cargo build {}", args.join(" ")),
        cmd,
        b"",
        Duration::from_secs(900),
    );
    if !out.success() {
        return Err(format!(
            "cargo build {} failed (status {:?}, timed out: {}):\n{}",
            args.join(" "),
            out.status,
            out.timed_out,
            out.output
        ));
    }
    let path = profile_dir.join(artifact);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "cargo build succeeded but {} is missing",
            path.display()
        ))
    }
}

/// A fresh directory under the system temp directory, removed (with its
/// contents) on drop, unless `HSMTLS_KEEP_TEMP` is set.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/hsmtls-<prefix>-<pid>-<n>-<nanos>`. Panics if it
    /// cannot.
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        let mut last_err = None;
        for _ in 0..16 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let path = base.join(format!(
                "hsmtls-{prefix}-{}-{n}-{nanos}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return TempDir { path },
                Err(e) => last_err = Some(e),
            }
        }
        panic!(
            "cannot create a temp dir in {}: {last_err:?}",
            base.display()
        );
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    /// Keeps the directory (it is not removed) and returns its path.
    pub fn keep(self) -> PathBuf {
        let path = self.path.clone();
        std::mem::forget(self);
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("HSMTLS_KEEP_TEMP").is_none() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
