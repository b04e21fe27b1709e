//! `CKM_SHA_1`, `CKM_SHA256`, `CKM_SHA384`, `CKM_SHA512` (FIPS 180-4,
//! PKCS#11 3.0 §6.18–6.21). SHA-1 is a digest only here: no HMAC, PRF or
//! signature mechanism of the token uses it.

use hsmtls_crypto::hash::{LegacySha1, RunningHash};
use hsmtls_crypto::HashAlg;

use super::{Digest, Mechanism, Param};
use crate::error::{err, Result};
use cryptoki_sys::CKR_MECHANISM_PARAM_INVALID;

struct Sha(RunningHash);

impl Digest for Sha {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finish(&mut self) -> Vec<u8> {
        self.0.current()
    }
    fn output_len(&self) -> usize {
        self.0.algorithm().output_len()
    }
}

struct Sha1(LegacySha1);

impl Digest for Sha1 {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finish(&mut self) -> Vec<u8> {
        self.0.current().to_vec()
    }
    fn output_len(&self) -> usize {
        LegacySha1::OUTPUT_LEN
    }
}

fn no_param(m: &Mechanism) -> Result<()> {
    if !matches!(m.param, Param::None) {
        return err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(())
}

fn start(m: &Mechanism, alg: HashAlg) -> Result<Box<dyn Digest>> {
    no_param(m)?;
    Ok(Box::new(Sha(RunningHash::new(alg))))
}

/// `CKM_SHA_1`.
pub fn sha1(m: &Mechanism) -> Result<Box<dyn Digest>> {
    no_param(m)?;
    Ok(Box::new(Sha1(LegacySha1::new())))
}

/// `CKM_SHA256`.
pub fn sha256(m: &Mechanism) -> Result<Box<dyn Digest>> {
    start(m, HashAlg::Sha256)
}

/// `CKM_SHA384`.
pub fn sha384(m: &Mechanism) -> Result<Box<dyn Digest>> {
    start(m, HashAlg::Sha384)
}

/// `CKM_SHA512`.
pub fn sha512(m: &Mechanism) -> Result<Box<dyn Digest>> {
    start(m, HashAlg::Sha512)
}
