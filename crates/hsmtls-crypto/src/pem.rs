//! PEM (RFC 7468) decoding of private keys.

use zeroize::Zeroizing;

/// The first PEM block whose label is one of `labels`: `(label, DER)`.
/// Other blocks (e.g. `EC PARAMETERS` before an `EC PRIVATE KEY`) are
/// skipped. `None` if the input has no such block or bad Base64.
pub(crate) fn decode<'l>(
    input: &[u8],
    labels: &[&'l str],
) -> Option<(&'l str, Zeroizing<Vec<u8>>)> {
    let text = core::str::from_utf8(input).ok()?;
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after = &rest[begin + 11..];
        let label_end = after.find("-----")?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let end = body_start.find(&end_marker)?;
        let body = &body_start[..end];
        rest = &body_start[end + end_marker.len()..];
        if let Some(&wanted) = labels.iter().find(|&&l| l == label) {
            return base64_decode(body).map(|der| (wanted, der));
        }
    }
    None
}

fn base64_decode(body: &str) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(body.len() * 3 / 4));
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut padding = 0usize;
    for c in body.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    zeroize::Zeroize::zeroize(&mut acc);
    if padding > 2 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_skips_other_blocks() {
        let pem = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n-----BEGIN EC PRIVATE KEY-----\nAAEC\nAw==\n-----END EC PRIVATE KEY-----\n";
        let (label, der) = decode(pem, &["EC PRIVATE KEY"]).unwrap();
        assert_eq!(label, "EC PRIVATE KEY");
        assert_eq!(&der[..], &[0, 1, 2, 3]);
        assert!(decode(pem, &["PRIVATE KEY"]).is_none());
        assert!(decode(b"-----BEGIN X-----\n!!\n-----END X-----", &["X"]).is_none());
    }
}
