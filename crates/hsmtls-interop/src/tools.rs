//! Tool detection and shell quoting.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::run;

/// Whether an executable named `name` is on `PATH` (or, if `name`
/// contains a `/`, whether that file is executable).
pub fn has_tool(name: &str) -> bool {
    fn executable(p: &Path) -> bool {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    if name.contains('/') {
        return executable(Path::new(name));
    }
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| executable(&dir.join(name)))
}

fn in_ci() -> bool {
    matches!(std::env::var("CI"), Ok(v) if !v.is_empty() && v != "false" && v != "0")
}

/// For the start of a test: true if all `names` are available.
///
/// If one is missing, under CI (`CI` set and not `false`/`0`) this panics,
/// so a broken install cannot pass as green; elsewhere it prints a
/// "skipped" line to stderr and returns false, and the test should return.
pub fn require_tools(names: &[&str]) -> bool {
    let missing: Vec<&str> = names.iter().copied().filter(|n| !has_tool(n)).collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("missing tools {missing:?} (bash .ci/run installs them)");
    if in_ci() {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
    false
}

/// Whether `unshare -n` works here and `lo` can be brought up in the new
/// namespace (needs root or user namespaces). Checked once per process.
pub fn has_netns() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        if !has_tool("unshare") || !has_tool("ip") {
            return false;
        }
        let mut cmd = Command::new("unshare");
        cmd.args(["-n", "sh", "-c", "ip link set lo up && echo netns-ok"])
            .stdin(Stdio::null());
        let out = run("unshare check", cmd, b"", Duration::from_secs(10));
        out.success() && out.stdout.contains("netns-ok")
    })
}

/// Like [`require_tools`] for a private network namespace ([`has_netns`])
/// plus the tools `names` (which will run inside it).
pub fn require_netns(names: &[&str]) -> bool {
    if !require_tools(names) {
        return false;
    }
    if has_netns() {
        return true;
    }
    let msg = "`unshare -n` with `ip link set lo up` does not work here";
    if in_ci() {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
    false
}

/// Quotes one word for `sh`: `it's` becomes `'it'\''s'`.
pub fn sh_quote(word: impl AsRef<OsStr>) -> String {
    let s = word.as_ref().to_string_lossy();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        return s.into_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Quotes and joins an argument vector into one `sh` command line.
pub fn sh_join<I, S>(argv: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    argv.into_iter().map(sh_quote).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("abc-1.2/x:y"), "abc-1.2/x:y");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_join(["echo", "a b", "$X"]), "echo 'a b' '$X'");
    }

    #[test]
    fn tools() {
        assert!(has_tool("sh"));
        assert!(!has_tool("surely-not-a-tool-hsmtls"));
    }
}
