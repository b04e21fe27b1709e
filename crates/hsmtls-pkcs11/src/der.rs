//! The little DER the PKCS#11 attributes need (X.690): curve OIDs for
//! `CKA_EC_PARAMS`, the OCTET STRING around `CKA_EC_POINT`, ECDSA
//! signatures between PKCS#11's `r || s` (v2.40 §2.3.1) and TLS's DER
//! `ECDSA-Sig-Value` (RFC 5480 §2.2 / RFC 8422 §5.4), `RSAPublicKey`
//! (RFC 8017 §A.1.1), and private-key files (PKCS#8 RFC 5208, SEC 1
//! RFC 5915, PKCS#1) to import into a token.

use hsmtls_keys::KeyExchangeGroup;
use zeroize::Zeroizing;

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;

/// `CKA_EC_PARAMS` for a group: the DER of its named-curve OID (RFC 5480
/// §2.1.1.1, RFC 5639 §4.1, RFC 8410 §3 for X25519).
pub(crate) fn ec_params(group: KeyExchangeGroup) -> &'static [u8] {
    match group {
        // 1.2.840.10045.3.1.7
        KeyExchangeGroup::Secp256r1 => {
            &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
        }
        // 1.3.132.0.34
        KeyExchangeGroup::Secp384r1 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
        // 1.3.132.0.35
        KeyExchangeGroup::Secp521r1 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23],
        // 1.3.36.3.3.2.8.1.1.7
        KeyExchangeGroup::BrainpoolP256r1 => &[
            0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07,
        ],
        // 1.3.36.3.3.2.8.1.1.11
        KeyExchangeGroup::BrainpoolP384r1 => &[
            0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b,
        ],
        // 1.3.36.3.3.2.8.1.1.13
        KeyExchangeGroup::BrainpoolP512r1 => &[
            0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d,
        ],
        // 1.3.101.110 (id-X25519)
        KeyExchangeGroup::X25519 => &[0x06, 0x03, 0x2b, 0x65, 0x6e],
    }
}

/// The group a `CKA_EC_PARAMS` value names, if any we know.
pub(crate) fn group_of_ec_params(params: &[u8]) -> Option<KeyExchangeGroup> {
    KeyExchangeGroup::ALL
        .into_iter()
        .find(|&g| ec_params(g) == params)
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    out.push(tag);
    push_len(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

/// `CKA_EC_POINT`: the point as a DER OCTET STRING (v2.40 §2.3.3).
pub(crate) fn ec_point(point: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, point)
}

/// A `CKA_EC_POINT` value back to the raw point of `len` bytes. Tokens
/// disagree on whether to wrap it, so both forms are accepted.
pub(crate) fn raw_ec_point(value: &[u8], len: usize) -> Option<Vec<u8>> {
    if value.len() == len && (len == 32 || value[0] == 0x04) {
        return Some(value.to_vec());
    }
    let (tag, inner, rest) = read_tlv(value)?;
    (tag == OCTET_STRING && rest.is_empty() && inner.len() == len).then(|| inner.to_vec())
}

/// Reads one TLV; `None` on truncation or a length form DER forbids.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        if len < 0x80 {
            return None;
        }
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, value, rest) = read_tlv(input)?;
    (t == tag).then_some((value, rest))
}

/// A DER INTEGER as unsigned big-endian bytes without leading zeros.
fn unsigned(value: &[u8]) -> &[u8] {
    let mut v = value;
    while v.len() > 1 && v[0] == 0 {
        v = &v[1..];
    }
    v
}

fn der_unsigned(value: &[u8]) -> Vec<u8> {
    let v = unsigned(value);
    let mut body = Vec::with_capacity(v.len() + 1);
    if v.first().is_some_and(|&b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(v);
    tlv(INTEGER, &body)
}

/// PKCS#11 `r || s` to a DER `ECDSA-Sig-Value`.
pub(crate) fn ecdsa_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || raw.len() % 2 != 0 {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = der_unsigned(r);
    body.extend_from_slice(&der_unsigned(s));
    Some(tlv(SEQUENCE, &body))
}

/// A DER `ECDSA-Sig-Value` to `r || s`, each `field_len` bytes. Strict:
/// no trailing data, positive minimal integers that fit.
pub(crate) fn ecdsa_from_der(der: &[u8], field_len: usize) -> Option<Vec<u8>> {
    let (body, rest) = expect(der, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (r, body) = expect(body, INTEGER)?;
    let (s, body) = expect(body, INTEGER)?;
    if !body.is_empty() {
        return None;
    }
    let mut out = vec![0u8; 2 * field_len];
    for (i, v) in [r, s].into_iter().enumerate() {
        if v.is_empty() || v[0] & 0x80 != 0 || (v.len() > 1 && v[0] == 0 && v[1] & 0x80 == 0) {
            return None;
        }
        let v = unsigned(v);
        if v.len() > field_len {
            return None;
        }
        let end = (i + 1) * field_len;
        out[end - v.len()..end].copy_from_slice(v);
    }
    Some(out)
}

/// `RSAPublicKey ::= SEQUENCE { modulus, publicExponent }`.
pub(crate) fn rsa_public_key(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (body, rest) = expect(der, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (n, body) = expect(body, INTEGER)?;
    let (e, body) = expect(body, INTEGER)?;
    body.is_empty()
        .then(|| (unsigned(n).to_vec(), unsigned(e).to_vec()))
}

/// A DER `RSAPublicKey` from modulus and exponent.
pub(crate) fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = der_unsigned(n);
    body.extend_from_slice(&der_unsigned(e));
    tlv(SEQUENCE, &body)
}

/// A private key read from a file, ready for `C_CreateObject`.
pub(crate) enum ParsedKey {
    /// An EC key: its curve, private scalar and (if the file has it) public point.
    Ec {
        group: KeyExchangeGroup,
        scalar: Zeroizing<Vec<u8>>,
        public: Option<Vec<u8>>,
    },
    /// An RSA key's CRT components (PKCS#1 `RSAPrivateKey`), in the order
    /// n, e, d, p, q, dP, dQ, qInv.
    Rsa(Vec<Zeroizing<Vec<u8>>>),
}

const EC_PUBLIC_KEY_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Parses PEM (`PRIVATE KEY`, `EC PRIVATE KEY`, `RSA PRIVATE KEY`) or DER.
pub(crate) fn parse_private_key(input: &[u8]) -> Option<ParsedKey> {
    let der = if input.starts_with(b"-----") {
        Zeroizing::new(pem_body(input)?)
    } else {
        Zeroizing::new(input.to_vec())
    };
    parse_pkcs8(&der)
        .or_else(|| parse_sec1(&der, None))
        .or_else(|| parse_pkcs1(&der))
}

fn parse_pkcs8(der: &[u8]) -> Option<ParsedKey> {
    let (body, _) = expect(der, SEQUENCE)?;
    let (_version, body) = expect(body, INTEGER)?;
    let (alg, body) = expect(body, SEQUENCE)?;
    let (key, _) = expect(body, OCTET_STRING)?;
    let (oid, params) = expect(alg, OID)?;
    if oid == EC_PUBLIC_KEY_OID {
        let (curve, _) = expect(params, OID)?;
        let group = group_of_ec_params(&tlv(OID, curve))?;
        parse_sec1(key, Some(group))
    } else if oid == RSA_ENCRYPTION_OID {
        parse_pkcs1(key)
    } else {
        None
    }
}

/// RFC 5915 `ECPrivateKey`.
fn parse_sec1(der: &[u8], group: Option<KeyExchangeGroup>) -> Option<ParsedKey> {
    let (body, _) = expect(der, SEQUENCE)?;
    let (version, body) = expect(body, INTEGER)?;
    if version != [1] {
        return None;
    }
    let (scalar, mut body) = expect(body, OCTET_STRING)?;
    let mut group = group;
    let mut public = None;
    while let Some((tag, value, rest)) = read_tlv(body) {
        match tag {
            0xa0 => {
                let (curve, _) = expect(value, OID)?;
                group = group.or(group_of_ec_params(&tlv(OID, curve)));
            }
            0xa1 => {
                let (bits, _) = expect(value, BIT_STRING)?;
                let (&unused, point) = bits.split_first()?;
                if unused == 0 {
                    public = Some(point.to_vec());
                }
            }
            _ => {}
        }
        body = rest;
    }
    Some(ParsedKey::Ec {
        group: group?,
        scalar: Zeroizing::new(scalar.to_vec()),
        public,
    })
}

/// PKCS#1 `RSAPrivateKey`.
fn parse_pkcs1(der: &[u8]) -> Option<ParsedKey> {
    let (mut body, _) = expect(der, SEQUENCE)?;
    let (version, rest) = expect(body, INTEGER)?;
    if version != [0] {
        return None;
    }
    body = rest;
    let mut parts = Vec::with_capacity(8);
    for _ in 0..8 {
        let (v, rest) = expect(body, INTEGER)?;
        parts.push(Zeroizing::new(unsigned(v).to_vec()));
        body = rest;
    }
    Some(ParsedKey::Rsa(parts))
}

/// The body of the first PEM block, base64-decoded.
fn pem_body(pem: &[u8]) -> Option<Vec<u8>> {
    let text = core::str::from_utf8(pem).ok()?;
    let mut lines = text.lines().skip_while(|l| !l.starts_with("-----BEGIN"));
    lines.next()?;
    let mut b64 = Zeroizing::new(String::new());
    for line in lines {
        if line.starts_with("-----END") {
            return base64_decode(&b64);
        }
        b64.push_str(line.trim());
    }
    None
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The DER `subject` Name (tag and length included) of an X.509
/// certificate, for `CKA_SUBJECT`.
pub(crate) fn certificate_subject(cert: &[u8]) -> Option<Vec<u8>> {
    let (cert, _) = expect(cert, 0x30)?;
    let (mut tbs, _) = expect(cert, 0x30)?;
    // [0] EXPLICIT version, optional.
    if tbs.first() == Some(&0xa0) {
        tbs = read_tlv(tbs)?.2;
    }
    for tag in [0x02, 0x30, 0x30, 0x30] {
        // serialNumber, signature, issuer, validity
        tbs = expect(tbs, tag)?.1;
    }
    let (_, _, rest) = read_tlv(tbs)?;
    Some(tbs[..tbs.len() - rest.len()].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_round_trip() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a leading zero in DER
        raw[63] = 0x01; // s is 1
        let der = ecdsa_to_der(&raw).unwrap();
        assert_eq!(ecdsa_from_der(&der, 32).unwrap(), raw);
        // Trailing data, truncation and a too-long integer are refused.
        let mut long = der.clone();
        long.push(0);
        assert!(ecdsa_from_der(&long, 32).is_none());
        assert!(ecdsa_from_der(&der[..der.len() - 1], 32).is_none());
        assert!(ecdsa_from_der(&der, 16).is_none());
        assert!(ecdsa_from_der(&[], 32).is_none());
    }

    #[test]
    fn ec_point_forms() {
        let point = [4u8; 65];
        let wrapped = ec_point(&point);
        assert_eq!(raw_ec_point(&wrapped, 65).unwrap(), point);
        assert_eq!(raw_ec_point(&point, 65).unwrap(), point);
        assert!(raw_ec_point(&wrapped[..10], 65).is_none());
    }

    #[test]
    fn curve_oids_round_trip() {
        for g in KeyExchangeGroup::ALL {
            assert_eq!(group_of_ec_params(ec_params(g)), Some(g));
        }
    }

    #[test]
    fn parses_test_keys() {
        let p256 = include_bytes!("../../../testdata/pki/ecdsa-p256/server.key");
        match parse_private_key(p256) {
            Some(ParsedKey::Ec {
                group,
                scalar,
                public,
            }) => {
                assert_eq!(group, KeyExchangeGroup::Secp256r1);
                assert_eq!(scalar.len(), 32);
                assert_eq!(public.unwrap().len(), 65);
            }
            _ => panic!("P-256 PKCS#8 key not parsed"),
        }
        let sec1 = include_bytes!("../../../testdata/pki/ecdsa-p384/server.sec1.pem");
        assert!(matches!(
            parse_private_key(sec1),
            Some(ParsedKey::Ec {
                group: KeyExchangeGroup::Secp384r1,
                ..
            })
        ));
        let rsa = include_bytes!("../../../testdata/pki/rsa2048/server.key");
        assert!(matches!(parse_private_key(rsa), Some(ParsedKey::Rsa(p)) if p.len() == 8));
        assert!(
            parse_private_key(b"-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n")
                .is_none()
        );
    }

    #[test]
    fn rsa_public_key_round_trip() {
        let der = rsa_public_key_der(&[0xc0, 1, 2], &[1, 0, 1]);
        assert_eq!(
            rsa_public_key(&der).unwrap(),
            (vec![0xc0, 1, 2], vec![1, 0, 1])
        );
    }
}
