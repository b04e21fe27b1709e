//! `hsmtls token bench`: the five rows through the linked hsmtls-token's
//! C API (a tiny time budget: a smoke test, not a measurement).

use std::process::Command;

#[test]
fn token_bench_prints_the_five_rows_for_hsmtls_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_hsmtls"))
        .args([
            "token",
            "bench",
            "--module",
            "hsmtls-token",
            "--seconds",
            "0.05",
        ])
        .output()
        .expect("run hsmtls");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}\n{err}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("hsmtls-token"), "{text}");
    for row in [
        "ECDSA P-256 sign",
        "ECDH P-256 derive",
        "AES-128-GCM 16 KiB",
        "HMAC-SHA256 16 KiB",
        "TLS 1.2 master derive",
    ] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row} row:\n{text}"));
        // A rate (digits), not n/a or error, then the target.
        let rate = line[row.len()..].split_whitespace().next().unwrap_or("");
        assert!(
            !rate.is_empty() && rate.bytes().all(|b| b.is_ascii_digit()),
            "{row}: {line}\n{text}"
        );
    }
    assert!(!text.contains("error"), "{text}");
}

#[test]
fn token_bench_needs_a_module() {
    let out = Command::new(env!("CARGO_BIN_EXE_hsmtls"))
        .args(["token", "bench"])
        .output()
        .expect("run hsmtls");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--module or --all"), "{err}");
}

#[test]
fn rsa_padding_rows_show_no_oracle_by_answer_for_hsmtls_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_hsmtls"))
        .args([
            "token",
            "bench",
            "--module",
            "hsmtls-token",
            "--rsa-padding",
            "--seconds",
            "0.05",
        ])
        .output()
        .expect("run hsmtls");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}\n{err}");
    for row in [
        "valid padding, ops/s",
        "invalid padding, ops/s",
        "time invalid / valid",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row} row:\n{text}"));
        let value = line[row.len()..].split_whitespace().next().unwrap_or("");
        assert!(
            value.parse::<f64>().is_ok_and(|v| v > 0.0),
            "{line}\n{text}"
        );
    }
    // Implicit rejection: the badly padded ciphertext decrypts (to a
    // synthetic message) like any other.
    let answer = text
        .lines()
        .find(|l| l.starts_with("answer to invalid padding"))
        .unwrap_or_else(|| panic!("no answer row:\n{text}"));
    assert!(answer.trim_end().ends_with("CKR_OK"), "{answer}");
}
