//! HKDF (RFC 5869) and TLS 1.3's `HKDF-Expand-Label` (RFC 8446 §7.1).

use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::hash::{HashAlg, KeyedHmac};

/// `HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM)` (RFC 5869 §2.2). An
/// empty `salt` means `Hash.length` zero bytes, as the RFC says.
pub fn extract(alg: HashAlg, salt: &[u8], ikm: &[u8]) -> Zeroizing<Vec<u8>> {
    let zeros = [0u8; 64];
    let salt = if salt.is_empty() {
        &zeros[..alg.output_len()]
    } else {
        salt
    };
    let mut tag = Zeroizing::new([0u8; 64]);
    let n = KeyedHmac::new(alg, salt).mac_into(&[ikm], &mut tag);
    Zeroizing::new(tag[..n].to_vec())
}

/// `HKDF-Expand(PRK, info, L)` (RFC 5869 §2.3) into `out`.
pub fn expand(alg: HashAlg, prk: &[u8], info: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError> {
    expand_keyed(&KeyedHmac::new(alg, prk), info, out)
}

/// `HKDF-Expand` with the PRK already keyed (a secret expanded several
/// times, as TLS 1.3 expands each traffic secret into key, IV and
/// Finished key, keys HMAC once).
pub fn expand_keyed(prk: &KeyedHmac, info: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError> {
    let hlen = prk.algorithm().output_len();
    if out.len() > 255 * hlen {
        return Err(CryptoError::InvalidParameter(
            "HKDF output longer than 255 blocks",
        ));
    }
    let mut block = Zeroizing::new([0u8; 64]);
    for (i, chunk) in out.chunks_mut(hlen).enumerate() {
        // T(i) = HMAC(PRK, T(i-1) | info | i), i from 1; `i + 1 <= 255`
        // by the length check above.
        let mut ctx = prk.start();
        if i > 0 {
            ctx.update(&block[..hlen]);
        }
        for part in info {
            ctx.update(part);
        }
        ctx.update(&[(i + 1) as u8]);
        ctx.finish_into(&mut block);
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
    Ok(())
}

/// The `HkdfLabel` structure of RFC 8446 §7.1:
/// `uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>`.
pub fn hkdf_label(len: usize, label: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let full = 6 + label.len();
    let len = u16::try_from(len).map_err(|_| CryptoError::InvalidParameter("HKDF label length"))?;
    let (Ok(full), Ok(ctx)) = (u8::try_from(full), u8::try_from(context.len())) else {
        return Err(CryptoError::InvalidParameter(
            "HKDF label or context too long",
        ));
    };
    let mut out = Vec::with_capacity(4 + usize::from(full) + context.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.push(full);
    out.extend_from_slice(b"tls13 ");
    out.extend_from_slice(label);
    out.push(ctx);
    out.extend_from_slice(context);
    Ok(out)
}

/// [`expand_label`] with the secret already keyed.
pub fn expand_label_keyed(
    secret: &KeyedHmac,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let info = hkdf_label(out.len(), label, context)?;
    expand_keyed(secret, &[&info], out)
}

/// `HKDF-Expand-Label(Secret, Label, Context, Length)` (RFC 8446 §7.1)
/// into `out` (`Length = out.len()`).
pub fn expand_label(
    alg: HashAlg,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let info = hkdf_label(out.len(), label, context)?;
    expand(alg, secret, &[&info], out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex_decode;

    fn hex(s: &str) -> Vec<u8> {
        hex_decode(&s.split_whitespace().collect::<String>()).expect("test hex")
    }

    /// RFC 5869 Appendix A.1.
    #[test]
    fn rfc5869_case1() {
        let ikm = [0x0bu8; 22];
        let salt = hex("000102030405060708090a0b0c");
        let info = hex("f0f1f2f3f4f5f6f7f8f9");
        let prk = extract(HashAlg::Sha256, &salt, &ikm);
        assert_eq!(
            &prk[..],
            &hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")[..]
        );
        let mut okm = [0u8; 42];
        expand(HashAlg::Sha256, &prk, &[&info], &mut okm).expect("expand");
        assert_eq!(
            &okm[..],
            &hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")[..]
        );
    }

    /// RFC 8448 §3 ("Simple 1-RTT Handshake"): the early secret and the
    /// derived salt.
    #[test]
    fn rfc8448_early_secret() {
        let early = extract(HashAlg::Sha256, &[], &[0u8; 32]);
        assert_eq!(
            &early[..],
            &hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")[..]
        );
        let empty_hash = crate::hash::digest(HashAlg::Sha256, b"");
        let mut derived = [0u8; 32];
        expand_label(
            HashAlg::Sha256,
            &early,
            b"derived",
            &empty_hash,
            &mut derived,
        )
        .expect("expand");
        assert_eq!(
            &derived[..],
            &hex("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")[..]
        );
    }

    #[test]
    fn limits() {
        let mut big = vec![0u8; 255 * 32 + 1];
        assert!(expand(HashAlg::Sha256, &[1; 32], &[], &mut big).is_err());
        assert!(hkdf_label(32, &[b'x'; 250], b"").is_err());
        assert!(hkdf_label(32, b"key", &[0u8; 256]).is_err());
    }
}
