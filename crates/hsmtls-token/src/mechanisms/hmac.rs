//! `CKM_SHA256_HMAC`, `CKM_SHA384_HMAC`, `CKM_SHA512_HMAC` (RFC 2104,
//! PKCS#11 3.0 §6.19–6.21): full-length MACs with generic secret keys,
//! streaming on the key object's cached keyed states; and `CKM_SHA256_HMAC_GENERAL` / `_384` / `_512`,
//! whose `CK_MAC_GENERAL_PARAMS` asks for the first 1..=hash-length bytes
//! (RFC 2104 §5 truncation; RFC 4231 test case 5).

use cryptoki_sys::*;
use hsmtls_crypto::hash::{HashAlg, HmacContext};
use zeroize::Zeroizing;

use super::{require_key_type, Mechanism, Param, Sign, Verify};
use crate::error::{err, Result};
use crate::object::Object;

struct Hmac {
    /// `None` once finished.
    ctx: Option<HmacContext>,
    len: usize,
}

impl Hmac {
    fn ctx(&mut self) -> Result<&mut HmacContext> {
        self.ctx
            .as_mut()
            .ok_or(crate::error::Error::new(CKR_OPERATION_NOT_INITIALIZED))
    }

    /// The full tag (finishes the MAC).
    fn tag(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        let ctx = self
            .ctx
            .take()
            .ok_or(crate::error::Error::new(CKR_OPERATION_NOT_INITIALIZED))?;
        Ok(ctx.finish())
    }
}

fn start(m: &Mechanism, key: &Object) -> Result<Hmac> {
    let (alg, full, general) = match m.mechanism {
        CKM_SHA256_HMAC => (HashAlg::Sha256, 32, false),
        CKM_SHA384_HMAC => (HashAlg::Sha384, 48, false),
        CKM_SHA512_HMAC => (HashAlg::Sha512, 64, false),
        CKM_SHA256_HMAC_GENERAL => (HashAlg::Sha256, 32, true),
        CKM_SHA384_HMAC_GENERAL => (HashAlg::Sha384, 48, true),
        CKM_SHA512_HMAC_GENERAL => (HashAlg::Sha512, 64, true),
        _ => return err(CKR_MECHANISM_INVALID),
    };
    let len = match (&m.param, general) {
        (Param::None, false) => full,
        (Param::MacLen(n), true) if (1..=full as CK_ULONG).contains(n) => *n as usize,
        _ => return err(CKR_MECHANISM_PARAM_INVALID),
    };
    require_key_type(key, &[CKK_GENERIC_SECRET])?;
    Ok(Hmac {
        ctx: Some(key.hmac_key(alg)?.start()),
        len,
    })
}

impl Sign for Hmac {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.ctx()?.update(data);
        Ok(())
    }
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        let mut tag = self.tag()?;
        tag.truncate(self.len);
        Ok(tag)
    }
    fn signature_len(&self) -> usize {
        self.len
    }
}

impl Verify for Hmac {
    fn update(&mut self, data: &[u8]) -> Result<()> {
        self.ctx()?.update(data);
        Ok(())
    }
    fn finish(&mut self, signature: &[u8]) -> Result<()> {
        if signature.len() != self.len {
            return err(CKR_SIGNATURE_LEN_RANGE);
        }
        let tag = self.tag()?;
        if hsmtls_crypto::constant_time_eq(&tag[..self.len], signature) {
            Ok(())
        } else {
            err(CKR_SIGNATURE_INVALID)
        }
    }
}

/// Starts an HMAC signature.
pub fn sign(m: &Mechanism, key: &Object) -> Result<Box<dyn Sign>> {
    Ok(Box::new(start(m, key)?))
}

/// Starts an HMAC verification.
pub fn verify(m: &Mechanism, key: &Object) -> Result<Box<dyn Verify>> {
    Ok(Box::new(start(m, key)?))
}
