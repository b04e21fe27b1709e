//! HKDF (RFC 5869) as PKCS#11 3.0 §2.43 has it: `CKM_HKDF_DERIVE` (a
//! secret key), `CKM_HKDF_DATA` (a `CKO_DATA` object whose `CKA_VALUE` is
//! the output) and `CKM_HKDF_KEY_GEN` (a random `CKK_HKDF` key).
//!
//! `CK_HKDF_PARAMS` selects extract (`bExtract`), expand (`bExpand`) or
//! both, the hash (`prfHashMechanism`: `CKM_SHA256/384/512`), the salt of
//! the extract step — none (`CKF_HKDF_SALT_NULL`: `HashLen` zero bytes),
//! bytes (`CKF_HKDF_SALT_DATA`) or the value of another key
//! (`CKF_HKDF_SALT_KEY`, a secret key of type `CKK_HKDF` or
//! `CKK_GENERIC_SECRET` with `CKA_DERIVE`) — and the `info` of the expand
//! step. The salt is ignored when `bExtract` is false.
//!
//! This is the TLS 1.3 key schedule in the token (RFC 8446 §7.1):
//! `HKDF-Extract` is an extract with the previous secret as a salt key,
//! `HKDF-Expand-Label` an expand whose `info` is the `HkdfLabel`.
//!
//! Output length: for an expand, `CKA_VALUE_LEN` of the template (required,
//! at most `255 · HashLen`); an extract alone gives the PRK, `HashLen`
//! bytes (a `CKA_VALUE_LEN` must then equal it). `CKM_HKDF_DATA` takes its
//! length from `CKA_VALUE_LEN` too, which is not stored on the data object.
//!
//! # Data policy
//!
//! `CKM_HKDF_DATA` puts its output in the clear. From a key that is
//! sensitive or unextractable (or with such a salt key) that would read out
//! any key the same derivation gives as a key object (derive the traffic
//! key "key" as data, and the key is out). So from such keys it is allowed
//! only as an expand alone whose `info` is a TLS 1.3 `HkdfLabel` of the
//! right length with one of the labels whose outputs TLS 1.3 treats as
//! public ([`PUBLIC_LABELS`]: the record IV, exporter values and the ECH
//! confirmation); anything else is `CKR_KEY_FUNCTION_NOT_PERMITTED`.

use cryptoki_sys::*;
use hsmtls_crypto::hkdf;
use zeroize::Zeroizing;

use super::{hash_of, require_key_type, secret, Derived, DerivedKey, Mechanism, Param, Sign};
use crate::error::{err, Result};
use crate::object::Object;

/// `HkdfLabel.label` values (RFC 8446 §7.1, with the `"tls13 "` prefix)
/// whose outputs `CKM_HKDF_DATA` may return from a protected key.
pub const PUBLIC_LABELS: &[&[u8]] = &[
    b"tls13 iv",
    b"tls13 exporter",
    b"tls13 ech accept confirmation",
    b"tls13 hrr ech accept confirmation",
];

/// Bytes that are secret: zeroized on drop, never shown by `Debug`.
#[derive(Clone)]
pub struct SecretBytes(pub Zeroizing<Vec<u8>>);

impl core::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

/// The salt of the extract step.
#[derive(Clone, Debug)]
pub enum Salt {
    /// `CKF_HKDF_SALT_NULL`.
    Null,
    /// `CKF_HKDF_SALT_DATA`.
    Data(Vec<u8>),
    /// `CKF_HKDF_SALT_KEY`: the handle, before the library resolves it.
    Key(CK_OBJECT_HANDLE),
    /// A salt key's value, resolved by the library.
    Resolved {
        /// The key's value.
        value: SecretBytes,
        /// Whether the salt key is sensitive or unextractable.
        protected: bool,
    },
}

/// `CK_HKDF_PARAMS`.
#[derive(Clone, Debug)]
pub struct HkdfParams {
    /// `bExtract`.
    pub extract: bool,
    /// `bExpand`.
    pub expand: bool,
    /// `prfHashMechanism`.
    pub prf: CK_MECHANISM_TYPE,
    /// The salt.
    pub salt: Salt,
    /// `pInfo`.
    pub info: Vec<u8>,
}

fn params(m: &Mechanism) -> Result<&HkdfParams> {
    match &m.param {
        Param::Hkdf(p) if p.extract || p.expand => Ok(p),
        _ => err(CKR_MECHANISM_PARAM_INVALID),
    }
}

/// HKDF with `base`'s value as the IKM per `p`; `len` is `CKA_VALUE_LEN`
/// of the template. An expand-only derivation keys HMAC with the base
/// key's cached states (TLS 1.3 expands each secret several times).
fn compute(p: &HkdfParams, base: &Object, len: Option<CK_ULONG>) -> Result<Zeroizing<Vec<u8>>> {
    let alg = hash_of(p.prf)?;
    let hlen = alg.output_len();
    let ikm = ikm(base)?;
    let prk = if p.extract {
        let salt: &[u8] = match &p.salt {
            Salt::Null => &[],
            Salt::Data(d) => d,
            Salt::Resolved { value, .. } => &value.0,
            Salt::Key(_) => return err(CKR_MECHANISM_PARAM_INVALID),
        };
        Some(hkdf::extract(alg, salt, ikm))
    } else {
        None
    };
    if !p.expand {
        if len.is_some_and(|n| n as usize != hlen) {
            return err(CKR_TEMPLATE_INCONSISTENT);
        }
        return Ok(prk.unwrap_or_else(|| Zeroizing::new(ikm.to_vec())));
    }
    let len = match len {
        None => return err(CKR_TEMPLATE_INCOMPLETE),
        Some(0) => return err(CKR_ATTRIBUTE_VALUE_INVALID),
        Some(n) if n as usize > 255 * hlen => return err(CKR_KEY_SIZE_RANGE),
        Some(n) => n as usize,
    };
    let mut out = Zeroizing::new(vec![0u8; len]);
    match prk {
        Some(prk) => hkdf::expand(alg, &prk, &[&p.info], &mut out)?,
        None => hkdf::expand_keyed(&*base.hmac_key(alg)?, &[&p.info], &mut out)?,
    }
    Ok(out)
}

/// The base key of an HKDF: a generic secret or an HKDF key.
fn ikm(base: &Object) -> Result<&[u8]> {
    require_key_type(base, &[CKK_GENERIC_SECRET, CKK_HKDF])?;
    if base.class() != CKO_SECRET_KEY {
        return err(CKR_KEY_TYPE_INCONSISTENT);
    }
    base.secret_value()
}

/// `CKM_HKDF_DERIVE`: a secret key (generic unless the template names a
/// type) with the HKDF output as its value.
pub fn derive(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    let p = params(m)?;
    let value = compute(p, base, tpl.ulong(CKA_VALUE_LEN))?;
    Ok(Derived::value(&value))
}

/// `CKM_HSMTLS_TLS13_KEY_AND_IV` (vendor; docs/token-vendor-mechanisms.md):
/// from a TLS 1.3 traffic secret, the traffic key
/// (`HKDF-Expand-Label(secret, "key", "", CKA_VALUE_LEN)`, RFC 8446 §7.3)
/// as a key object of the template's type, and the write IV
/// (`HKDF-Expand-Label(secret, "iv", "", ulIvLen)`) for the caller — the
/// one output `CKM_HKDF_DATA` already releases from a protected key
/// ([`PUBLIC_LABELS`]).
pub fn tls13_key_and_iv(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    let Param::Tls13KeyIv { prf, iv_len } = &m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let alg = hash_of(*prf)?;
    ikm(base)?;
    traffic_key_and_iv(&*base.hmac_key(alg)?, None, tpl, *iv_len)
}

/// The key material of a traffic secret keyed in `keyed`: the traffic key
/// (`HKDF-Expand-Label(secret, "key", "", CKA_VALUE_LEN of key_tpl)`, an
/// object of `key_tpl`, handle 2) and the IV (`"iv"`, `iv_len` bytes), with
/// the secret itself as handle 0 when it is new.
fn traffic_key_and_iv(
    keyed: &hsmtls_crypto::hash::KeyedHmac,
    secret: Option<DerivedKey>,
    key_tpl: &Object,
    iv_len: usize,
) -> Result<Derived> {
    let key_len = match key_tpl.ulong(CKA_VALUE_LEN) {
        None => return err(CKR_TEMPLATE_INCOMPLETE),
        Some(n) if n == 0 || n as usize > 255 * keyed.algorithm().output_len() => {
            return err(CKR_KEY_SIZE_RANGE)
        }
        Some(n) => n as usize,
    };
    let expand = |label: &[u8], len: usize| -> Result<Zeroizing<Vec<u8>>> {
        let info = hkdf::hkdf_label(len, label, b"")?;
        let mut out = Zeroizing::new(vec![0u8; len]);
        hkdf::expand_keyed(keyed, &[&info], &mut out)?;
        Ok(out)
    };
    let key = expand(b"key", key_len)?;
    let iv = expand(b"iv", iv_len)?;
    let mut key_tpl = key_tpl.clone_attributes();
    // CKA_VALUE_LEN named the key's length; the object gets its own.
    key_tpl.remove(CKA_VALUE_LEN);
    Ok(Derived::KeyMat(
        Box::new([
            secret,
            None,
            Some(DerivedKey {
                template: Some(key_tpl),
                ..DerivedKey::with_value(&key)
            }),
            None,
        ]),
        iv.to_vec(),
        Vec::new(),
    ))
}

/// The hash of a TLS 1.3 schedule secret derived from `base` (an HKDF key)
/// and its length, which the template's `CKA_VALUE_LEN` may only repeat.
fn schedule_secret(
    prf: CK_MECHANISM_TYPE,
    base: &Object,
    tpl: &Object,
) -> Result<(hsmtls_crypto::hash::HashAlg, usize)> {
    let alg = hash_of(prf)?;
    ikm(base)?;
    let hlen = alg.output_len();
    if tpl.ulong(CKA_VALUE_LEN).is_some_and(|n| n as usize != hlen) {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    Ok((alg, hlen))
}

/// `CKM_HSMTLS_TLS13_TRAFFIC_SECRET` (vendor;
/// docs/token-vendor-mechanisms.md): a TLS 1.3 traffic secret
/// (`HKDF-Expand(base, pInfo, Hash.length)`, a generic secret made from
/// the call's template), and from it the traffic key (made from
/// `pKeyTemplate`, `CKA_VALUE_LEN` bytes) and the write IV (RFC 8446 §7.3,
/// public as with `CKM_HSMTLS_TLS13_KEY_AND_IV`).
pub fn tls13_traffic_secret(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    let Param::Tls13Traffic {
        prf,
        info,
        key_template,
        iv_len,
    } = &m.param
    else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let (alg, hlen) = schedule_secret(*prf, base, tpl)?;
    let mut secret = Zeroizing::new(vec![0u8; hlen]);
    hkdf::expand_keyed(&*base.hmac_key(alg)?, &[info], &mut secret)?;
    let keyed = hsmtls_crypto::hash::KeyedHmac::new(alg, &secret);
    traffic_key_and_iv(
        &keyed,
        Some(DerivedKey::with_value(&secret)),
        key_template,
        *iv_len,
    )
}

/// `CKM_HSMTLS_TLS13_NEXT_SECRET` (vendor; docs/token-vendor-mechanisms.md):
/// the next secret of the TLS 1.3 key schedule from the base secret,
/// `HKDF-Extract(Derive-Secret(base, "derived", ""), IKM)` (RFC 8446 §7.1)
/// with the resolved `hIkmKey` value or `Hash.length` zeros as the IKM. A
/// generic secret of `Hash.length` bytes (`CKA_VALUE_LEN`, if given, must
/// say so).
pub fn tls13_next_secret(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    let Param::Tls13NextSecret { prf, ikm: given } = &m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let (alg, hlen) = schedule_secret(*prf, base, tpl)?;
    let zeros = [0u8; 64];
    let ikm_value: &[u8] = match given {
        Salt::Null => &zeros[..hlen],
        Salt::Resolved { value, .. } => &value.0,
        Salt::Data(_) | Salt::Key(_) => return err(CKR_MECHANISM_PARAM_INVALID),
    };
    let empty = hsmtls_crypto::hash::digest(alg, b"");
    let info = hkdf::hkdf_label(hlen, b"derived", &empty)?;
    let mut derived = Zeroizing::new(vec![0u8; hlen]);
    hkdf::expand_keyed(&*base.hmac_key(alg)?, &[&info], &mut derived)?;
    let next = hkdf::extract(alg, &derived, ikm_value);
    Ok(Derived::value(&next))
}

/// `CKM_HSMTLS_TLS13_FINISHED` (vendor; docs/token-vendor-mechanisms.md):
/// a `C_Sign` keyed by a TLS 1.3 handshake traffic secret whose output is
/// the Finished `verify_data` over the data (the transcript hash, RFC 8446
/// §4.4.4): `HMAC(HKDF-Expand-Label(secret, "finished", "", Hash.length),
/// data)`. The finished key never becomes an object; the secret is used
/// for nothing but this (the key needs `CKA_DERIVE`, as for the
/// derivation the mechanism stands for, not `CKA_SIGN`: a plain HMAC keyed
/// by a traffic secret would compute any HKDF expansion of it).
pub fn tls13_finished(m: &Mechanism, key: &Object) -> Result<Box<dyn Sign>> {
    let Param::Tls13Finished { prf } = &m.param else {
        return err(CKR_MECHANISM_PARAM_INVALID);
    };
    let alg = hash_of(*prf)?;
    ikm(key)?;
    let len = alg.output_len();
    let info = hkdf::hkdf_label(len, b"finished", b"")?;
    let mut finished_key = Zeroizing::new(vec![0u8; len]);
    hkdf::expand_keyed(&*key.hmac_key(alg)?, &[&info], &mut finished_key)?;
    let hmac = hsmtls_crypto::hash::KeyedHmac::new(alg, &finished_key);
    Ok(Box::new(Finished {
        ctx: Some(hmac.start()),
        len,
    }))
}

/// A running [`tls13_finished`].
struct Finished {
    /// `None` once finished.
    ctx: Option<hsmtls_crypto::hash::HmacContext>,
    len: usize,
}

impl Sign for Finished {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        match &mut self.ctx {
            Some(ctx) => {
                ctx.update(data);
                Ok(())
            }
            None => err(CKR_OPERATION_NOT_INITIALIZED),
        }
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        match self.ctx.take() {
            Some(ctx) => Ok(ctx.finish()),
            None => err(CKR_OPERATION_NOT_INITIALIZED),
        }
    }
    fn signature_len(&self) -> usize {
        self.len
    }
}

/// Parses an RFC 8446 §7.1 `HkdfLabel`: (length, label, context).
pub fn parse_hkdf_label(info: &[u8]) -> Option<(usize, &[u8], &[u8])> {
    let (len, rest) = info.split_first_chunk::<2>()?;
    let (&n, rest) = rest.split_first()?;
    let (label, rest) = rest.split_at_checked(usize::from(n))?;
    let (&c, rest) = rest.split_first()?;
    let (context, rest) = rest.split_at_checked(usize::from(c))?;
    rest.is_empty()
        .then_some((usize::from(u16::from_be_bytes(*len)), label, context))
}

/// Whether `CKM_HKDF_DATA` may return the output of `p` from a protected
/// key (see the module's data policy).
fn public_output(p: &HkdfParams, len: Option<CK_ULONG>) -> bool {
    if p.extract || !p.expand {
        return false;
    }
    match parse_hkdf_label(&p.info) {
        Some((n, label, _)) => Some(n as CK_ULONG) == len && PUBLIC_LABELS.contains(&label),
        None => false,
    }
}

/// `CKM_HKDF_DATA`: a data object whose `CKA_VALUE` is the HKDF output
/// (private unless the template says otherwise).
pub fn data(m: &Mechanism, base: &Object, tpl: &Object) -> Result<Derived> {
    let p = params(m)?;
    ikm(base)?;
    let len = tpl.ulong(CKA_VALUE_LEN);
    let protected = base.bool(CKA_SENSITIVE)
        || !base.bool(CKA_EXTRACTABLE)
        || matches!(p.salt, Salt::Resolved { protected: true, .. } if p.extract);
    if protected && !public_output(p, len) {
        return err(CKR_KEY_FUNCTION_NOT_PERMITTED);
    }
    let value = compute(p, base, len)?;
    let mut computed = Object::new();
    computed.set_bytes(CKA_VALUE, &value);
    if !tpl.has(CKA_PRIVATE) {
        computed.set_bool(CKA_PRIVATE, true);
    }
    Ok(Derived::Data(computed))
}

/// `CKM_HKDF_KEY_GEN`: a random `CKK_HKDF` key of `CKA_VALUE_LEN` bytes.
pub fn generate(m: &Mechanism, tpl: &Object) -> Result<(CK_KEY_TYPE, Object)> {
    let (_, o) = secret::generate_generic(m, tpl)?;
    Ok((CKK_HKDF, o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(extract: bool, expand: bool, salt: Salt, info: &[u8]) -> HkdfParams {
        HkdfParams {
            extract,
            expand,
            prf: CKM_SHA256,
            salt,
            info: info.to_vec(),
        }
    }

    #[test]
    fn labels_and_policy() {
        let info = hkdf::hkdf_label(12, b"iv", b"").unwrap();
        assert_eq!(
            parse_hkdf_label(&info),
            Some((12, &b"tls13 iv"[..], &[][..]))
        );
        assert!(parse_hkdf_label(&info[..info.len() - 1]).is_none());
        assert!(parse_hkdf_label(&[info.clone(), vec![0]].concat()).is_none());
        assert!(public_output(&p(false, true, Salt::Null, &info), Some(12)));
        assert!(!public_output(&p(false, true, Salt::Null, &info), Some(16)));
        assert!(!public_output(&p(true, true, Salt::Null, &info), Some(12)));
        let key = hkdf::hkdf_label(16, b"key", b"").unwrap();
        assert!(!public_output(&p(false, true, Salt::Null, &key), Some(16)));
    }

    fn key(value: &[u8]) -> Object {
        let mut o = Object::new();
        o.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
        o.set_ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
        o.set_bytes(CKA_VALUE, value);
        o
    }

    #[test]
    fn expand_only_uses_the_same_hmac_as_plain_hkdf() {
        let base = key(&[0x42; 32]);
        let info = hkdf::hkdf_label(16, b"key", b"").unwrap();
        let mut want = [0u8; 16];
        hkdf::expand(
            hsmtls_crypto::hash::HashAlg::Sha256,
            &[0x42; 32],
            &[&info],
            &mut want,
        )
        .unwrap();
        let expand = p(false, true, Salt::Null, &info);
        // Twice: the second run takes the key's cached HMAC states.
        for _ in 0..2 {
            assert_eq!(&compute(&expand, &base, Some(16)).unwrap()[..], &want[..]);
        }
    }

    #[test]
    fn lengths() {
        let k = key(b"k");
        let k = &k;
        let both = p(true, true, Salt::Data(vec![1; 4]), b"x");
        assert_eq!(compute(&both, k, Some(42)).unwrap().len(), 42);
        assert_eq!(
            compute(&both, k, None).unwrap_err().rv(),
            CKR_TEMPLATE_INCOMPLETE
        );
        assert_eq!(
            compute(&both, k, Some(255 * 32 + 1)).unwrap_err().rv(),
            CKR_KEY_SIZE_RANGE
        );
        let extract = p(true, false, Salt::Null, b"");
        assert_eq!(compute(&extract, k, None).unwrap().len(), 32);
        assert_eq!(
            compute(&extract, k, Some(16)).unwrap_err().rv(),
            CKR_TEMPLATE_INCONSISTENT
        );
        let unresolved = p(true, false, Salt::Key(5), b"");
        assert_eq!(
            compute(&unresolved, k, None).unwrap_err().rv(),
            CKR_MECHANISM_PARAM_INVALID
        );
        let debug = format!(
            "{:?}",
            Salt::Resolved {
                value: SecretBytes(Zeroizing::new(b"MARKER".to_vec())),
                protected: true
            }
        );
        assert!(!debug.contains("77") && !debug.contains("MARKER"));
    }
}
