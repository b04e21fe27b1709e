//! Raw elliptic-curve operations over AWS-LC's C API: brainpool groups,
//! ECDH and ECDSA on any group.
//!
//! # Why the C API
//!
//! aws-lc-rs offers no brainpool curves, and the RustCrypto brainpool crates
//! lack brainpoolP512r1 (and are separate, less reviewed code per curve).
//! AWS-LC's `EC_GROUP_new_curve_GFp` + `EC_GROUP_set_generator` build a
//! group from the RFC 5639 parameters that runs on AWS-LC's generic
//! Montgomery EC code (`EC_GFp_mont_method`): one constant-time
//! implementation for all three curves, the same one AWS-LC uses for
//! secp256k1, with scalar multiplication, ECDH and ECDSA already written
//! and tested. The same API also signs on the NIST curves with hashes that
//! aws-lc-rs has no fixed signing constant for.
//!
//! # Safety
//!
//! Every AWS-LC object is owned by an RAII wrapper that frees it in `Drop`
//! (`BN_clear_free` for secret scalars). Pointers never escape the wrappers.
//! Each `unsafe` block says why its call is sound.
#![allow(unsafe_code)]

use core::ptr;
use std::sync::OnceLock;

use aws_lc_sys as sys;
use zeroize::Zeroizing;

use crate::error::CryptoError;

/// An owned `BIGNUM`, cleared when dropped.
struct BigNum(*mut sys::BIGNUM);

impl BigNum {
    /// A big-endian unsigned integer.
    fn from_be_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        // SAFETY: `bytes` is a valid slice for `len` bytes; a null `ret`
        // asks AWS-LC to allocate a new BIGNUM, which we own from here.
        let bn = unsafe { sys::BN_bin2bn(bytes.as_ptr(), bytes.len(), ptr::null_mut()) };
        if bn.is_null() {
            return Err(CryptoError::Internal("BN_bin2bn"));
        }
        Ok(Self(bn))
    }

    fn as_ptr(&self) -> *const sys::BIGNUM {
        self.0
    }
}

impl Drop for BigNum {
    fn drop(&mut self) {
        // SAFETY: `self.0` was allocated by `BN_bin2bn`, is owned solely by
        // this wrapper and freed exactly once here. `BN_clear_free` zeroes
        // the limbs first, as some BigNums hold private scalars.
        unsafe { sys::BN_clear_free(self.0) }
    }
}

/// An owned `EC_POINT`.
struct Point(*mut sys::EC_POINT);

impl Point {
    fn new(group: &Group) -> Result<Self, CryptoError> {
        // SAFETY: `group.0` is a valid EC_GROUP for the life of `group`.
        let p = unsafe { sys::EC_POINT_new(group.0) };
        if p.is_null() {
            return Err(CryptoError::Internal("EC_POINT_new"));
        }
        Ok(Self(p))
    }

    /// Decodes an uncompressed point (SEC 1 §2.3.4) and checks that it is
    /// on the curve and not the point at infinity.
    fn from_uncompressed(group: &Group, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 1 + 2 * group.1 || bytes[0] != 0x04 {
            return Err(CryptoError::InvalidPeerKey);
        }
        let point = Self::new(group)?;
        // SAFETY: group and point are valid and belong together; `bytes` is
        // a valid slice. `EC_POINT_oct2point` checks that the point is on
        // the curve (`ec_point_set_affine_coordinates`) and rejects
        // malformed encodings; a null BN_CTX is allowed.
        let ok = unsafe {
            sys::EC_POINT_oct2point(
                group.0,
                point.0,
                bytes.as_ptr(),
                bytes.len(),
                ptr::null_mut(),
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(CryptoError::InvalidPeerKey);
        }
        // SAFETY: group and point are valid and belong together.
        let infinity = unsafe { sys::EC_POINT_is_at_infinity(group.0, point.0) };
        if infinity != 0 {
            return Err(CryptoError::InvalidPeerKey);
        }
        Ok(point)
    }

    #[cfg(test)]
    fn to_uncompressed(&self, group: &Group) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; 1 + 2 * group.1];
        // SAFETY: `out` has exactly the room an uncompressed point of this
        // group needs; AWS-LC writes at most `out.len()` bytes and returns
        // the number written (0 on failure).
        let n = unsafe {
            sys::EC_POINT_point2oct(
                group.0,
                self.0,
                sys::point_conversion_form_t::POINT_CONVERSION_UNCOMPRESSED,
                out.as_mut_ptr(),
                out.len(),
                ptr::null_mut(),
            )
        };
        if n != out.len() {
            clear_errors();
            return Err(CryptoError::Internal("EC_POINT_point2oct"));
        }
        Ok(out)
    }
}

impl Drop for Point {
    fn drop(&mut self) {
        // SAFETY: `self.0` was allocated by `EC_POINT_new`, is owned solely
        // by this wrapper and freed exactly once here.
        unsafe { sys::EC_POINT_free(self.0) }
    }
}

/// An elliptic-curve group: a static NIST group or a brainpool group built
/// once from its RFC 5639 parameters.
pub(crate) struct Group(*mut sys::EC_GROUP, usize);

// SAFETY: an EC_GROUP is immutable once `EC_GROUP_set_generator` has run
// (it happens inside `Group::custom`, before the value is shared), its
// reference count is atomic, and AWS-LC documents EC_GROUPs as safe to use
// from several threads concurrently.
unsafe impl Send for Group {}
// SAFETY: see `Send`: every operation on a finished group is read-only.
unsafe impl Sync for Group {}

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a group we own (freeing a static built-in
        // group is a no-op in AWS-LC); freed exactly once.
        unsafe { sys::EC_GROUP_free(self.0) }
    }
}

impl Group {
    /// Builds `y^2 = x^3 + ax + b` over GF(p) with generator `(gx, gy)` of
    /// prime order `n` (cofactor 1). All values big-endian hex.
    fn custom(p: &str, a: &str, b: &str, gx: &str, gy: &str, n: &str) -> Result<Self, CryptoError> {
        let field_len = p.len() / 2;
        let (p, a, b) = (bn_hex(p)?, bn_hex(a)?, bn_hex(b)?);
        let (gx, gy, n, one) = (bn_hex(gx)?, bn_hex(gy)?, bn_hex(n)?, bn_hex("01")?);
        // SAFETY: the BIGNUMs are valid; a null BN_CTX is allowed. We own
        // the returned group (checked for null below).
        let group = unsafe {
            sys::EC_GROUP_new_curve_GFp(p.as_ptr(), a.as_ptr(), b.as_ptr(), ptr::null_mut())
        };
        if group.is_null() {
            clear_errors();
            return Err(CryptoError::Internal("EC_GROUP_new_curve_GFp"));
        }
        let group = Self(group, field_len);
        let generator = Point::new(&group)?;
        // SAFETY: group, point and coordinates are valid; the call checks
        // that (gx, gy) is on the curve.
        let ok = unsafe {
            sys::EC_POINT_set_affine_coordinates_GFp(
                group.0,
                generator.0,
                gx.as_ptr(),
                gy.as_ptr(),
                ptr::null_mut(),
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(CryptoError::Internal("EC_POINT_set_affine_coordinates_GFp"));
        }
        // SAFETY: the group came from `EC_GROUP_new_curve_GFp` and has no
        // generator yet; it is not shared with anyone until this returns.
        let ok =
            unsafe { sys::EC_GROUP_set_generator(group.0, generator.0, n.as_ptr(), one.as_ptr()) };
        if ok != 1 {
            clear_errors();
            return Err(CryptoError::Internal("EC_GROUP_set_generator"));
        }
        Ok(group)
    }

    fn by_nid(nid: i32, field_len: usize) -> Result<Self, CryptoError> {
        // SAFETY: no preconditions; returns a static group or null.
        let group = unsafe { sys::EC_GROUP_new_by_curve_name(nid) };
        if group.is_null() {
            return Err(CryptoError::Internal("EC_GROUP_new_by_curve_name"));
        }
        Ok(Self(group, field_len))
    }
}

fn bn_hex(hex: &str) -> Result<BigNum, CryptoError> {
    let bytes = crate::hex_decode(hex).ok_or(CryptoError::Internal("curve constant"))?;
    BigNum::from_be_bytes(&bytes)
}

fn clear_errors() {
    // SAFETY: clears this thread's AWS-LC error queue; no preconditions.
    unsafe { sys::ERR_clear_error() }
}

/// The Weierstrass curves this module serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawCurve {
    P256,
    P384,
    P521,
    BrainpoolP256r1,
    BrainpoolP384r1,
    BrainpoolP512r1,
}

/// RFC 5639 §3.4: brainpoolP256r1.
const BP256: [&str; 6] = [
    "A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377",
    "7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9",
    "26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6",
    "8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262",
    "547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997",
    "A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7",
];
/// RFC 5639 §3.6: brainpoolP384r1.
const BP384: [&str; 6] = [
    "8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123ACD3A729901D1A71874700133107EC53",
    "7BC382C63D8C150C3C72080ACE05AFA0C2BEA28E4FB22787139165EFBA91F90F8AA5814A503AD4EB04A8C7DD22CE2826",
    "04A8C7DD22CE28268B39B55416F0447C2FB77DE107DCD2A62E880EA53EEB62D57CB4390295DBC9943AB78696FA504C11",
    "1D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10E8E826E03436D646AAEF87B2E247D4AF1E",
    "8ABE1D7520F9C2A45CB1EB8E95CFD55262B70B29FEEC5864E19C054FF99129280E4646217791811142820341263C5315",
    "8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7CF3AB6AF6B7FC3103B883202E9046565",
];
/// RFC 5639 §3.7: brainpoolP512r1.
const BP512: [&str; 6] = [
    "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA703308717D4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3",
    "7830A3318B603B89E2327145AC234CC594CBDD8D3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CA",
    "3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CADC083E67984050B75EBAE5DD2809BD638016F723",
    "81AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D0098EFF3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F822",
    "7DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F8111B2DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD80892",
    "AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330870553E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069",
];

type GroupCell = OnceLock<Result<Group, CryptoError>>;

/// The group of `curve`, built on first use and shared afterwards.
fn group(curve: RawCurve) -> Result<&'static Group, CryptoError> {
    static GROUPS: [GroupCell; 6] = [const { OnceLock::new() }; 6];
    let (index, make): (usize, fn() -> Result<Group, CryptoError>) = match curve {
        RawCurve::P256 => (0, || Group::by_nid(sys::NID_X9_62_prime256v1, 32)),
        RawCurve::P384 => (1, || Group::by_nid(sys::NID_secp384r1, 48)),
        RawCurve::P521 => (2, || Group::by_nid(sys::NID_secp521r1, 66)),
        RawCurve::BrainpoolP256r1 => (3, || {
            let [p, a, b, x, y, n] = BP256;
            Group::custom(p, a, b, x, y, n)
        }),
        RawCurve::BrainpoolP384r1 => (4, || {
            let [p, a, b, x, y, n] = BP384;
            Group::custom(p, a, b, x, y, n)
        }),
        RawCurve::BrainpoolP512r1 => (5, || {
            let [p, a, b, x, y, n] = BP512;
            Group::custom(p, a, b, x, y, n)
        }),
    };
    GROUPS[index]
        .get_or_init(make)
        .as_ref()
        .map_err(Clone::clone)
}

/// An EC key pair (`EC_KEY`) on a [`RawCurve`], private scalar included.
pub(crate) struct EcKey {
    key: *mut sys::EC_KEY,
    curve: RawCurve,
}

// SAFETY: the EC_KEY is fully built before it is shared and never mutated
// afterwards; AWS-LC's EC_KEY operations used here (ECDH, ECDSA_sign,
// point2oct) take it by const pointer and are thread-safe.
unsafe impl Send for EcKey {}
// SAFETY: see `Send`.
unsafe impl Sync for EcKey {}

impl Drop for EcKey {
    fn drop(&mut self) {
        // SAFETY: `self.key` is owned solely by this wrapper and freed once;
        // `EC_KEY_free` clears the private scalar.
        unsafe { sys::EC_KEY_free(self.key) }
    }
}

impl EcKey {
    fn empty(curve: RawCurve) -> Result<(Self, &'static Group), CryptoError> {
        let group = group(curve)?;
        // SAFETY: no preconditions; we own the result (checked for null).
        let key = unsafe { sys::EC_KEY_new() };
        if key.is_null() {
            return Err(CryptoError::Internal("EC_KEY_new"));
        }
        let key = Self { key, curve };
        // SAFETY: both valid; the key takes its own reference to the group.
        if unsafe { sys::EC_KEY_set_group(key.key, group.0) } != 1 {
            clear_errors();
            return Err(CryptoError::Internal("EC_KEY_set_group"));
        }
        Ok((key, group))
    }

    /// A fresh key pair from AWS-LC's RNG.
    pub(crate) fn generate(curve: RawCurve) -> Result<Self, CryptoError> {
        let (key, _) = Self::empty(curve)?;
        // SAFETY: the key has a group; AWS-LC draws the scalar in [1, n-1].
        if unsafe { sys::EC_KEY_generate_key(key.key) } != 1 {
            clear_errors();
            return Err(CryptoError::Internal("EC_KEY_generate_key"));
        }
        Ok(key)
    }

    /// The key with private scalar `scalar` (big-endian, SEC 1 §2.3.7),
    /// its public point computed as `scalar·G`.
    pub(crate) fn from_scalar(curve: RawCurve, scalar: &[u8]) -> Result<Self, CryptoError> {
        let (key, group) = Self::empty(curve)?;
        let d = BigNum::from_be_bytes(scalar)?;
        // SAFETY: key has a group and `d` is valid; AWS-LC copies the value
        // and rejects 0 and values >= n.
        if unsafe { sys::EC_KEY_set_private_key(key.key, d.as_ptr()) } != 1 {
            clear_errors();
            return Err(CryptoError::InvalidKey("EC private scalar out of range"));
        }
        let public = Point::new(group)?;
        // SAFETY: all pointers valid; computes public = d·G (constant time
        // in `d`); null q/m skip the second term.
        let ok = unsafe {
            sys::EC_POINT_mul(
                group.0,
                public.0,
                d.as_ptr(),
                ptr::null(),
                ptr::null(),
                ptr::null_mut(),
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(CryptoError::Internal("EC_POINT_mul"));
        }
        // SAFETY: both valid; the key copies the point.
        if unsafe { sys::EC_KEY_set_public_key(key.key, public.0) } != 1 {
            clear_errors();
            return Err(CryptoError::Internal("EC_KEY_set_public_key"));
        }
        Ok(key)
    }

    /// A key holding only the private scalar: enough for ECDH
    /// (`ECDH_compute_key` reads the private key only), and one scalar
    /// multiplication cheaper than [`EcKey::from_scalar`].
    pub(crate) fn from_scalar_private_only(
        curve: RawCurve,
        scalar: &[u8],
    ) -> Result<Self, CryptoError> {
        let (key, _group) = Self::empty(curve)?;
        let d = BigNum::from_be_bytes(scalar)?;
        // SAFETY: key has a group and `d` is valid; AWS-LC copies the value
        // and rejects 0 and values >= n.
        if unsafe { sys::EC_KEY_set_private_key(key.key, d.as_ptr()) } != 1 {
            clear_errors();
            return Err(CryptoError::InvalidKey("EC private scalar out of range"));
        }
        Ok(key)
    }

    /// The public point, uncompressed (SEC 1 §2.3.3).
    pub(crate) fn public_key(&self) -> Result<Vec<u8>, CryptoError> {
        let group = group(self.curve)?;
        // SAFETY: the key is valid; the returned point is borrowed from it
        // and only read while `self` lives.
        let point = unsafe { sys::EC_KEY_get0_public_key(self.key) };
        if point.is_null() {
            return Err(CryptoError::Internal("EC_KEY without public key"));
        }
        let mut out = vec![0u8; 1 + 2 * group.1];
        // SAFETY: as in `Point::to_uncompressed`, with a borrowed point.
        let n = unsafe {
            sys::EC_POINT_point2oct(
                group.0,
                point,
                sys::point_conversion_form_t::POINT_CONVERSION_UNCOMPRESSED,
                out.as_mut_ptr(),
                out.len(),
                ptr::null_mut(),
            )
        };
        if n != out.len() {
            clear_errors();
            return Err(CryptoError::Internal("EC_POINT_point2oct"));
        }
        Ok(out)
    }

    /// ECDH (SEC 1 §3.3.1): the x-coordinate of `scalar·peer`, where `peer`
    /// is an uncompressed point. Off-curve, infinity and malformed points
    /// are [`CryptoError::InvalidPeerKey`].
    pub(crate) fn agree(&self, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let group = group(self.curve)?;
        let peer = Point::from_uncompressed(group, peer)?;
        let mut out = Zeroizing::new(vec![0u8; group.1]);
        // SAFETY: `out` has room for `out.len()` bytes; the point and key
        // are valid and on the same group; no KDF (null) means the raw
        // x-coordinate is copied. Returns the length written or -1.
        let n = unsafe {
            sys::ECDH_compute_key(out.as_mut_ptr().cast(), out.len(), peer.0, self.key, None)
        };
        if usize::try_from(n).ok() != Some(group.1) {
            clear_errors();
            return Err(CryptoError::InvalidPeerKey);
        }
        Ok(out)
    }

    /// ECDSA over a precomputed `digest`, DER `ECDSA-Sig-Value` output.
    pub(crate) fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        // SAFETY: the key is valid.
        let max = unsafe { sys::ECDSA_size(self.key) };
        if max == 0 {
            return Err(CryptoError::Internal("ECDSA_size"));
        }
        let mut sig = vec![0u8; max];
        let mut sig_len: core::ffi::c_uint = 0;
        // SAFETY: `digest` is a valid slice; `sig` has the `ECDSA_size`
        // bytes AWS-LC may write; `sig_len` is a valid out-pointer. The
        // `type` argument is ignored by AWS-LC.
        let ok = unsafe {
            sys::ECDSA_sign(
                0,
                digest.as_ptr(),
                digest.len(),
                sig.as_mut_ptr(),
                &mut sig_len,
                self.key,
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(CryptoError::Internal("ECDSA_sign"));
        }
        sig.truncate(sig_len as usize);
        Ok(sig)
    }
}

/// X25519 (RFC 7748 §5) of the 32-byte private key `private` with the
/// 32-byte peer public key `peer`: the shared secret, or
/// [`CryptoError::InvalidPeerKey`] when it is all zeros (§6.1, a
/// small-order peer point).
pub(crate) fn x25519(
    private: &[u8; 32],
    peer: &[u8; 32],
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let mut out = Zeroizing::new([0u8; 32]);
    // SAFETY: all three pointers address 32 valid bytes, as X25519
    // requires; it returns 0 for an all-zero result and writes nothing
    // else outside `out`.
    let ok = unsafe { sys::X25519(out.as_mut_ptr(), private.as_ptr(), peer.as_ptr()) };
    if ok != 1 {
        return Err(CryptoError::InvalidPeerKey);
    }
    Ok(out)
}

/// The X25519 public key of the 32-byte private key `private` (RFC 7748
/// §6.1: the private key times the base point 9).
pub(crate) fn x25519_public(private: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: both pointers address 32 valid bytes, as the function
    // requires; it cannot fail.
    unsafe { sys::X25519_public_from_private(out.as_mut_ptr(), private.as_ptr()) };
    out
}

/// Verifies a DER ECDSA signature over `digest` with the uncompressed public
/// point `public_key` on `curve`.
pub(crate) fn verify_digest(
    curve: RawCurve,
    public_key: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let group = group(curve)?;
    let point = Point::from_uncompressed(group, public_key)?;
    let (key, _) = EcKey::empty(curve)?;
    // SAFETY: both valid; the key copies the point.
    if unsafe { sys::EC_KEY_set_public_key(key.key, point.0) } != 1 {
        clear_errors();
        return Err(CryptoError::InvalidPeerKey);
    }
    // SAFETY: slices are valid for their lengths; the key has a group and
    // a public key. AWS-LC parses the DER strictly and returns 1 only for
    // a valid signature.
    let ok = unsafe {
        sys::ECDSA_verify(
            0,
            digest.as_ptr(),
            digest.len(),
            signature.as_ptr(),
            signature.len(),
            key.key,
        )
    };
    if ok != 1 {
        clear_errors();
        return Err(CryptoError::BadSignature);
    }
    Ok(())
}

/// Checks that the built-in group parameters are consistent (used by tests).
#[cfg(test)]
pub(crate) fn group_point_roundtrip(curve: RawCurve) -> Result<(), CryptoError> {
    let group = group(curve)?;
    let key = EcKey::generate(curve)?;
    let public = key.public_key()?;
    let point = Point::from_uncompressed(group, &public)?;
    let again = point.to_uncompressed(group)?;
    if again == public {
        Ok(())
    } else {
        Err(CryptoError::Internal("point round trip"))
    }
}
