//! Raw RSA over AWS-LC's C API: key generation of any size, import and
//! export by components, PKCS#1 v1.5 signatures over caller-built
//! `DigestInfo`s, PSS over caller-computed digests with any salt length,
//! OAEP with any hash / MGF1 hash / label, and the raw private-key
//! operation (`RSA_NO_PADDING`) that implicit rejection is built on.
//!
//! aws-lc-rs signs only over messages it hashes itself (with salt length =
//! hash length for PSS), offers OAEP only with MGF1 hash = hash and no
//! label, and does not expose the private exponent: PKCS#11's
//! `CKM_RSA_PKCS`, `CKM_RSA_PKCS_PSS` and `CK_RSA_PKCS_OAEP_PARAMS` need
//! all of that.
//!
//! # Safety
//!
//! Every AWS-LC object is owned by an RAII wrapper that frees it in `Drop`
//! (`BN_clear_free` for BIGNUMs, `RSA_free` which clears the private
//! values). Pointers never escape the wrappers. Each `unsafe` block says
//! why its call is sound.
#![allow(unsafe_code)]

use core::ptr;

use aws_lc_sys as sys;
use zeroize::Zeroizing;

use crate::error::CryptoError;

fn clear_errors() {
    // SAFETY: clears this thread's AWS-LC error queue; no preconditions.
    unsafe { sys::ERR_clear_error() }
}

/// An owned `BIGNUM`, cleared when dropped.
struct BigNum(*mut sys::BIGNUM);

impl BigNum {
    fn from_be_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        // SAFETY: `bytes` is valid for `len` bytes; a null `ret` asks
        // AWS-LC to allocate a new BIGNUM, which we own from here.
        let bn = unsafe { sys::BN_bin2bn(bytes.as_ptr(), bytes.len(), ptr::null_mut()) };
        if bn.is_null() {
            return Err(CryptoError::Internal("BN_bin2bn"));
        }
        Ok(Self(bn))
    }
}

impl Drop for BigNum {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from `BN_bin2bn`, is owned solely by this
        // wrapper and freed exactly once; its limbs are zeroed first.
        unsafe { sys::BN_clear_free(self.0) }
    }
}

/// Big-endian bytes of `bn`, left-padded to `len` (`None` if it does not
/// fit). `bn` must be a valid BIGNUM.
fn bn_to_bytes(bn: *const sys::BIGNUM, len: usize) -> Option<Zeroizing<Vec<u8>>> {
    if bn.is_null() {
        return None;
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    // SAFETY: `bn` is a valid BIGNUM (non-null, borrowed from a live RSA);
    // `out` has room for exactly `len` bytes, which AWS-LC writes at most.
    let ok = unsafe { sys::BN_bn2bin_padded(out.as_mut_ptr(), len, bn) };
    (ok == 1).then_some(out)
}

/// Big-endian bytes of `bn` without leading zeros.
fn bn_to_min_bytes(bn: *const sys::BIGNUM) -> Option<Zeroizing<Vec<u8>>> {
    if bn.is_null() {
        return None;
    }
    // SAFETY: `bn` is a valid, non-null BIGNUM.
    let len = unsafe { sys::BN_num_bytes(bn) } as usize;
    bn_to_bytes(bn, len)
}

/// The hashes RSA padding schemes may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Md {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Md {
    fn evp(self) -> *const sys::EVP_MD {
        // SAFETY: these return pointers to static, immutable EVP_MD tables.
        unsafe {
            match self {
                Self::Sha1 => sys::EVP_sha1(),
                Self::Sha256 => sys::EVP_sha256(),
                Self::Sha384 => sys::EVP_sha384(),
                Self::Sha512 => sys::EVP_sha512(),
            }
        }
    }
}

/// The eight values of an RSA private key (RFC 8017 §3.2), big-endian.
pub(crate) struct Components {
    pub(crate) n: Vec<u8>,
    pub(crate) e: Vec<u8>,
    pub(crate) d: Zeroizing<Vec<u8>>,
    pub(crate) p: Zeroizing<Vec<u8>>,
    pub(crate) q: Zeroizing<Vec<u8>>,
    pub(crate) dp: Zeroizing<Vec<u8>>,
    pub(crate) dq: Zeroizing<Vec<u8>>,
    pub(crate) qinv: Zeroizing<Vec<u8>>,
}

/// An owned `RSA` (public, or private with CRT values).
pub(crate) struct Rsa(*mut sys::RSA);

// SAFETY: an RSA is not mutated by the operations used here except for
// AWS-LC's lazily built Montgomery contexts and blinding, which it guards
// with the RSA's own lock; AWS-LC documents RSA objects as usable from
// several threads concurrently.
unsafe impl Send for Rsa {}
// SAFETY: see `Send`.
unsafe impl Sync for Rsa {}

impl Drop for Rsa {
    fn drop(&mut self) {
        // SAFETY: `self.0` is an RSA we own, freed exactly once; RSA_free
        // clears the private BIGNUMs.
        unsafe { sys::RSA_free(self.0) }
    }
}

impl Rsa {
    fn wrap(rsa: *mut sys::RSA, what: &'static str) -> Result<Self, CryptoError> {
        if rsa.is_null() {
            clear_errors();
            return Err(CryptoError::InvalidKey(what));
        }
        Ok(Self(rsa))
    }

    /// A fresh key of `bits` bits with public exponent 65537.
    pub(crate) fn generate(bits: usize) -> Result<Self, CryptoError> {
        let bits = i32::try_from(bits).map_err(|_| CryptoError::InvalidParameter("RSA size"))?;
        let e = BigNum::from_be_bytes(&[1, 0, 1])?;
        // SAFETY: allocates an empty RSA we own (checked for null).
        let rsa = Self::wrap(unsafe { sys::RSA_new() }, "RSA_new")?;
        // SAFETY: `rsa.0` and `e.0` are valid; a null callback is allowed.
        let ok = unsafe { sys::RSA_generate_key_ex(rsa.0, bits, e.0, ptr::null_mut()) };
        if ok != 1 {
            clear_errors();
            return Err(CryptoError::InvalidParameter("RSA key generation"));
        }
        Ok(rsa)
    }

    /// A private key from its components, checked with `RSA_check_key`.
    pub(crate) fn from_components(c: &Components) -> Result<Self, CryptoError> {
        let bns = [&c.n[..], &c.e, &c.d, &c.p, &c.q, &c.dp, &c.dq, &c.qinv]
            .into_iter()
            .map(BigNum::from_be_bytes)
            .collect::<Result<Vec<_>, _>>()?;
        // SAFETY: all eight BIGNUMs are valid; AWS-LC copies them.
        let rsa = unsafe {
            sys::RSA_new_private_key(
                bns[0].0, bns[1].0, bns[2].0, bns[3].0, bns[4].0, bns[5].0, bns[6].0, bns[7].0,
            )
        };
        let rsa = Self::wrap(rsa, "RSA private key components rejected")?;
        // SAFETY: `rsa.0` is a valid RSA.
        if unsafe { sys::RSA_check_key(rsa.0) } != 1 {
            clear_errors();
            return Err(CryptoError::InvalidKey("RSA private key inconsistent"));
        }
        Ok(rsa)
    }

    /// A public key from modulus and exponent.
    pub(crate) fn public(n: &[u8], e: &[u8]) -> Result<Self, CryptoError> {
        let (n, e) = (BigNum::from_be_bytes(n)?, BigNum::from_be_bytes(e)?);
        // SAFETY: both BIGNUMs are valid; AWS-LC copies them and checks
        // the key (odd modulus, sane exponent).
        let rsa = unsafe { sys::RSA_new_public_key(n.0, e.0) };
        Self::wrap(rsa, "RSA public key rejected")
    }

    /// A private key from a DER PKCS#1 `RSAPrivateKey`.
    pub(crate) fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        // SAFETY: `der` is valid for `len` bytes; we own the result.
        let rsa = unsafe { sys::RSA_private_key_from_bytes(der.as_ptr(), der.len()) };
        let rsa = Self::wrap(rsa, "RSA PKCS#1 rejected")?;
        // SAFETY: `rsa.0` is a valid RSA.
        if unsafe { sys::RSA_check_key(rsa.0) } != 1 {
            clear_errors();
            return Err(CryptoError::InvalidKey("RSA private key inconsistent"));
        }
        Ok(rsa)
    }

    /// The DER PKCS#1 `RSAPrivateKey`.
    pub(crate) fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut out: *mut u8 = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: `self.0` is valid; AWS-LC allocates `out` (which we free
        // below) and sets `len`.
        let ok = unsafe { sys::RSA_private_key_to_bytes(&mut out, &mut len, self.0) };
        if ok != 1 || out.is_null() {
            clear_errors();
            return Err(CryptoError::InvalidKey("not an RSA private key"));
        }
        // SAFETY: `out` points to `len` initialised bytes owned by us.
        let der = Zeroizing::new(unsafe { core::slice::from_raw_parts(out, len) }.to_vec());
        // SAFETY: clear then free the buffer AWS-LC allocated for us.
        unsafe {
            sys::OPENSSL_cleanse(out.cast(), len);
            sys::OPENSSL_free(out.cast());
        }
        Ok(der)
    }

    /// The modulus length in bytes.
    pub(crate) fn size(&self) -> usize {
        // SAFETY: `self.0` is a valid RSA with a modulus.
        unsafe { sys::RSA_size(self.0) as usize }
    }

    /// The modulus length in bits.
    pub(crate) fn bits(&self) -> usize {
        // SAFETY: `self.0` is a valid RSA with a modulus.
        unsafe { sys::RSA_bits(self.0) as usize }
    }

    /// `(n, e)`, minimal big-endian.
    pub(crate) fn public_components(&self) -> (Vec<u8>, Vec<u8>) {
        let (mut n, mut e, mut d) = (ptr::null(), ptr::null(), ptr::null());
        // SAFETY: `self.0` is valid; the outputs are borrowed pointers.
        unsafe { sys::RSA_get0_key(self.0, &mut n, &mut e, &mut d) };
        let n = bn_to_min_bytes(n).map(|v| v.to_vec()).unwrap_or_default();
        let e = bn_to_min_bytes(e).map(|v| v.to_vec()).unwrap_or_default();
        (n, e)
    }

    /// `d`, left-padded to the modulus length (for implicit rejection).
    pub(crate) fn private_exponent_padded(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (mut n, mut e, mut d) = (ptr::null(), ptr::null(), ptr::null());
        // SAFETY: `self.0` is valid; the outputs are borrowed pointers.
        unsafe { sys::RSA_get0_key(self.0, &mut n, &mut e, &mut d) };
        bn_to_bytes(d, self.size()).ok_or(CryptoError::InvalidKey("not an RSA private key"))
    }

    /// All eight components (private keys only).
    pub(crate) fn components(&self) -> Result<Components, CryptoError> {
        let (mut n, mut e, mut d) = (ptr::null(), ptr::null(), ptr::null());
        let (mut p, mut q) = (ptr::null(), ptr::null());
        let (mut dp, mut dq, mut qinv) = (ptr::null(), ptr::null(), ptr::null());
        // SAFETY: `self.0` is valid; the outputs are borrowed pointers that
        // live as long as `self`.
        unsafe {
            sys::RSA_get0_key(self.0, &mut n, &mut e, &mut d);
            sys::RSA_get0_factors(self.0, &mut p, &mut q);
            sys::RSA_get0_crt_params(self.0, &mut dp, &mut dq, &mut qinv);
        }
        let bad = CryptoError::InvalidKey("not a complete RSA private key");
        let get = |bn| bn_to_min_bytes(bn).ok_or(bad.clone());
        Ok(Components {
            n: get(n)?.to_vec(),
            e: get(e)?.to_vec(),
            d: get(d)?,
            p: get(p)?,
            q: get(q)?,
            dp: get(dp)?,
            dq: get(dq)?,
            qinv: get(qinv)?,
        })
    }

    /// EMSA-PKCS1-v1_5 type 1 padding of `data` and the private-key
    /// operation (`RSA_sign_raw` with `RSA_PKCS1_PADDING`).
    pub(crate) fn sign_pkcs1_raw(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; self.size()];
        let mut len = 0usize;
        // SAFETY: `self.0` is valid; `out` has `out.len()` writable bytes,
        // `data` is valid for its length.
        let ok = unsafe {
            sys::RSA_sign_raw(
                self.0,
                &mut len,
                out.as_mut_ptr(),
                out.len(),
                data.as_ptr(),
                data.len(),
                sys::RSA_PKCS1_PADDING,
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(CryptoError::InvalidParameter(
                "RSA PKCS#1 v1.5 input too long",
            ));
        }
        out.truncate(len);
        Ok(out)
    }

    /// The public-key operation and removal of type 1 padding: the data
    /// that was signed, or `None`.
    pub(crate) fn verify_pkcs1_raw(&self, sig: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0u8; self.size()];
        let mut len = 0usize;
        // SAFETY: as in `sign_pkcs1_raw`.
        let ok = unsafe {
            sys::RSA_verify_raw(
                self.0,
                &mut len,
                out.as_mut_ptr(),
                out.len(),
                sig.as_ptr(),
                sig.len(),
                sys::RSA_PKCS1_PADDING,
            )
        };
        if ok != 1 {
            clear_errors();
            return None;
        }
        out.truncate(len);
        Some(out)
    }

    /// RSASSA-PSS over `digest` (of hash `md`) with MGF1(`mgf1`) and a
    /// salt of `salt_len` bytes.
    pub(crate) fn sign_pss(
        &self,
        digest: &[u8],
        md: Md,
        mgf1: Md,
        salt_len: usize,
    ) -> Result<Vec<u8>, CryptoError> {
        let salt = i32::try_from(salt_len).map_err(|_| CryptoError::InvalidParameter("salt"))?;
        let mut out = vec![0u8; self.size()];
        let mut len = 0usize;
        // SAFETY: `self.0` is valid; `out` has `out.len()` writable bytes;
        // `digest` is valid for its length (AWS-LC checks it against
        // `md`); the EVP_MDs are static.
        let ok = unsafe {
            sys::RSA_sign_pss_mgf1(
                self.0,
                &mut len,
                out.as_mut_ptr(),
                out.len(),
                digest.as_ptr(),
                digest.len(),
                md.evp(),
                mgf1.evp(),
                salt,
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(CryptoError::InvalidParameter("RSA-PSS parameters"));
        }
        out.truncate(len);
        Ok(out)
    }

    /// Checks an RSASSA-PSS signature over `digest`.
    pub(crate) fn verify_pss(
        &self,
        digest: &[u8],
        md: Md,
        mgf1: Md,
        salt_len: usize,
        sig: &[u8],
    ) -> bool {
        let Ok(salt) = i32::try_from(salt_len) else {
            return false;
        };
        // SAFETY: `self.0` is valid; the slices are valid for their
        // lengths; the EVP_MDs are static.
        let ok = unsafe {
            sys::RSA_verify_pss_mgf1(
                self.0,
                digest.as_ptr(),
                digest.len(),
                md.evp(),
                mgf1.evp(),
                salt,
                sig.as_ptr(),
                sig.len(),
            )
        };
        if ok != 1 {
            clear_errors();
        }
        ok == 1
    }

    /// RSAES-PKCS1-v1_5 encryption (public key).
    pub(crate) fn encrypt_pkcs1(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; self.size()];
        let mut len = 0usize;
        // SAFETY: `self.0` is valid; `out` has `out.len()` writable bytes;
        // `msg` is valid for its length.
        let ok = unsafe {
            sys::RSA_encrypt(
                self.0,
                &mut len,
                out.as_mut_ptr(),
                out.len(),
                msg.as_ptr(),
                msg.len(),
                sys::RSA_PKCS1_PADDING,
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(CryptoError::InvalidParameter("RSA message too long"));
        }
        out.truncate(len);
        Ok(out)
    }

    /// The raw private-key operation `c^d mod n` on a ciphertext of
    /// exactly the modulus length (`RSA_NO_PADDING`; blinded,
    /// constant-time in AWS-LC). Errors only on publicly invalid input
    /// (wrong length, `c >= n`).
    pub(crate) fn decrypt_raw(&self, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let k = self.size();
        if ct.len() != k {
            return Err(CryptoError::InvalidParameter("RSA ciphertext length"));
        }
        let mut out = Zeroizing::new(vec![0u8; k]);
        let mut len = 0usize;
        // SAFETY: `self.0` is valid; `out` has `k` writable bytes; `ct` is
        // valid for its length.
        let ok = unsafe {
            sys::RSA_decrypt(
                self.0,
                &mut len,
                out.as_mut_ptr(),
                k,
                ct.as_ptr(),
                ct.len(),
                sys::RSA_NO_PADDING,
            )
        };
        if ok != 1 || len != k {
            clear_errors();
            return Err(CryptoError::InvalidParameter("RSA ciphertext out of range"));
        }
        Ok(out)
    }

    /// RSAES-OAEP encryption (`encrypt`) or decryption through an
    /// `EVP_PKEY_CTX`, with hash `md`, MGF1(`mgf1`) and `label`.
    pub(crate) fn oaep(
        &self,
        encrypt: bool,
        input: &[u8],
        md: Md,
        mgf1: Md,
        label: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let fail = |what| {
            clear_errors();
            CryptoError::InvalidParameter(what)
        };
        // SAFETY: allocates an EVP_PKEY we own (freed by `Pkey`'s drop).
        let pkey = Pkey(unsafe { sys::EVP_PKEY_new() });
        if pkey.0.is_null() {
            return Err(fail("EVP_PKEY_new"));
        }
        // SAFETY: both valid; `set1` takes its own reference on the RSA.
        if unsafe { sys::EVP_PKEY_set1_RSA(pkey.0, self.0) } != 1 {
            return Err(fail("EVP_PKEY_set1_RSA"));
        }
        // SAFETY: `pkey.0` is valid; we own the returned context.
        let ctx = PkeyCtx(unsafe { sys::EVP_PKEY_CTX_new(pkey.0, ptr::null_mut()) });
        if ctx.0.is_null() {
            return Err(fail("EVP_PKEY_CTX_new"));
        }
        // The label must be heap memory AWS-LC can free (set0 takes it).
        let label_ptr = if label.is_empty() {
            ptr::null_mut()
        } else {
            // SAFETY: plain allocation, checked for null below.
            let p = unsafe { sys::OPENSSL_malloc(label.len()) }.cast::<u8>();
            if p.is_null() {
                return Err(fail("OPENSSL_malloc"));
            }
            // SAFETY: `p` has room for `label.len()` bytes and does not
            // overlap `label`.
            unsafe { ptr::copy_nonoverlapping(label.as_ptr(), p, label.len()) };
            p
        };
        // SAFETY: `ctx.0` is valid; the EVP_MDs are static; `label_ptr` is
        // null or an OPENSSL_malloc'd buffer of `label.len()` bytes whose
        // ownership passes to the context.
        let ok = unsafe {
            let init = if encrypt {
                sys::EVP_PKEY_encrypt_init(ctx.0)
            } else {
                sys::EVP_PKEY_decrypt_init(ctx.0)
            };
            let ok = init == 1
                && sys::EVP_PKEY_CTX_set_rsa_padding(ctx.0, sys::RSA_PKCS1_OAEP_PADDING) == 1
                && sys::EVP_PKEY_CTX_set_rsa_oaep_md(ctx.0, md.evp()) == 1
                && sys::EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.0, mgf1.evp()) == 1;
            if ok {
                sys::EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.0, label_ptr, label.len()) == 1
            } else {
                if !label_ptr.is_null() {
                    sys::OPENSSL_free(label_ptr.cast());
                }
                false
            }
        };
        if !ok {
            return Err(fail("OAEP parameters"));
        }
        let mut out = Zeroizing::new(vec![0u8; self.size()]);
        let mut len = out.len();
        // SAFETY: `ctx.0` is initialised for the operation; `out` has
        // `len` writable bytes; `input` is valid for its length.
        let ok = unsafe {
            if encrypt {
                sys::EVP_PKEY_encrypt(
                    ctx.0,
                    out.as_mut_ptr(),
                    &mut len,
                    input.as_ptr(),
                    input.len(),
                )
            } else {
                sys::EVP_PKEY_decrypt(
                    ctx.0,
                    out.as_mut_ptr(),
                    &mut len,
                    input.as_ptr(),
                    input.len(),
                )
            }
        };
        if ok != 1 {
            return Err(fail(if encrypt {
                "OAEP message too long"
            } else {
                "OAEP decryption failed"
            }));
        }
        out.truncate(len);
        Ok(out)
    }
}

struct Pkey(*mut sys::EVP_PKEY);

impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: null or an EVP_PKEY we own; freed once (null is a no-op).
        unsafe { sys::EVP_PKEY_free(self.0) }
    }
}

struct PkeyCtx(*mut sys::EVP_PKEY_CTX);

impl Drop for PkeyCtx {
    fn drop(&mut self) {
        // SAFETY: null or a context we own; freed once (null is a no-op).
        unsafe { sys::EVP_PKEY_CTX_free(self.0) }
    }
}
