//! NSS certificate databases for `selfserv` / `tstclnt`.

use std::path::Path;
use std::process::Command;

use crate::default_timeout;
use crate::paths::{pki_file, TempDir};
use crate::process::run;

/// An NSS certificate/key database (`sql:` format, empty password) in a
/// temporary directory, removed on drop.
///
/// Pass [`NssDb::spec`] to `-d` of `selfserv`, `tstclnt` and `certutil`.
#[derive(Debug)]
pub struct NssDb {
    dir: TempDir,
}

/// PKCS#12 transport password between openssl and pk12util (NSS has had
/// trouble with empty PKCS#12 passwords).
const P12_PASS: &str = "hsmtls";

fn must(name: &str, cmd: Command) {
    let out = run(name, cmd, b"", default_timeout());
    assert!(
        out.success(),
        "{name} failed (status {:?}, timed out {}):\n{}",
        out.status,
        out.timed_out,
        out.output
    );
}

impl NssDb {
    /// Creates an empty database: `certutil -N -d sql:DIR --empty-password`.
    /// Panics on failure.
    pub fn new() -> NssDb {
        let dir = TempDir::new("nssdb");
        let db = NssDb { dir };
        let mut cmd = Command::new("certutil");
        cmd.args(["-N", "-d", &db.spec(), "--empty-password"]);
        must("certutil -N", cmd);
        db
    }

    /// The database with the server key and chain of a test PKI kind
    /// (nickname `server`) and that kind's root trusted (nickname `ca`).
    pub fn with_pki_server(kind: &str) -> NssDb {
        let db = NssDb::new();
        db.import_key_and_cert(
            "server",
            &pki_file(kind, "server.chain.pem"),
            &pki_file(kind, "server.key"),
        );
        db.trust_ca("ca", &pki_file(kind, "ca.pem"));
        db
    }

    /// The database with the client key and chain of a test PKI kind
    /// (nickname `client`) and that kind's root trusted (nickname `ca`).
    pub fn with_pki_client(kind: &str) -> NssDb {
        let db = NssDb::new();
        db.import_key_and_cert(
            "client",
            &pki_file(kind, "client.chain.pem"),
            &pki_file(kind, "client.key"),
        );
        db.trust_ca("ca", &pki_file(kind, "ca.pem"));
        db
    }

    /// The directory of the database.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `sql:<dir>`, the value for `-d`.
    pub fn spec(&self) -> String {
        format!("sql:{}", self.dir.path().display())
    }

    /// Imports a private key with its certificate chain (PEM: leaf first,
    /// then intermediates) under `nickname`, via a PKCS#12 file made by
    /// `openssl pkcs12 -export` and read by `pk12util`. Panics on failure.
    pub fn import_key_and_cert(&self, nickname: &str, chain_pem: &Path, key_pem: &Path) {
        let p12 = self.dir.join(format!("{nickname}.p12"));
        let mut cmd = Command::new("openssl");
        cmd.args(["pkcs12", "-export", "-name", nickname, "-in"])
            .arg(chain_pem)
            .arg("-inkey")
            .arg(key_pem)
            .args(["-passout", &format!("pass:{P12_PASS}"), "-out"])
            .arg(&p12);
        must("openssl pkcs12 -export", cmd);
        let mut cmd = Command::new("pk12util");
        cmd.arg("-i")
            .arg(&p12)
            .args(["-d", &self.spec(), "-W", P12_PASS, "-K", ""]);
        must("pk12util -i", cmd);
    }

    /// Adds `ca_pem` as a trusted CA for TLS servers and clients
    /// (`certutil -A -t CT,C,C`). Panics on failure.
    pub fn trust_ca(&self, nickname: &str, ca_pem: &Path) {
        let mut cmd = Command::new("certutil");
        cmd.args([
            "-A",
            "-n",
            nickname,
            "-t",
            "CT,C,C",
            "-d",
            &self.spec(),
            "-i",
        ])
        .arg(ca_pem);
        must("certutil -A", cmd);
    }
}

impl Default for NssDb {
    fn default() -> Self {
        Self::new()
    }
}
