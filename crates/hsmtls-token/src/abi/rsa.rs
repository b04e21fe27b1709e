//! RSA mechanism parameters at the ABI (`CK_RSA_PKCS_PSS_PARAMS`,
//! `CK_RSA_PKCS_OAEP_PARAMS`) and the hsmtls vendor mechanism
//! [`CKM_HSMTLS_RSA_PREMASTER_TO_MASTER`] with its parameter structure
//! [`CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS`] (docs/token-vendor-mechanisms.md).

use cryptoki_sys::*;

use super::{bytes, param, randoms};
use crate::error::{Error, Result};
use crate::mechanisms::rsa::PremasterParams;
use crate::mechanisms::Param;

/// hsmtls's vendor prefix: `CKM_VENDOR_DEFINED | 0x4853_0000` ("HS").
pub const CKM_HSMTLS: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED | 0x4853_0000;

/// RSA-encrypted TLS pre-master secret → (extended) master secret in one
/// `C_DeriveKey` on the server's RSA private key, with the padding, length
/// and version checks and the random substitution of RFC 5246 §7.4.7.1
/// done inside: no pre-master object ever exists.
pub const CKM_HSMTLS_RSA_PREMASTER_TO_MASTER: CK_MECHANISM_TYPE = CKM_HSMTLS | 0x0001;

/// The parameter of [`CKM_HSMTLS_RSA_PREMASTER_TO_MASTER`] (C layout with
/// the platform's `CK_ULONG`, natural alignment, like every PKCS#11
/// structure on Unix):
///
/// ```c
/// typedef struct CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS {
///     CK_BYTE_PTR         pEncryptedPreMaster;   /* EncryptedPreMasterSecret */
///     CK_ULONG            ulEncryptedPreMasterLen; /* = modulus length */
///     CK_VERSION          clientVersion;         /* ClientHello.client_version */
///     CK_MECHANISM_TYPE   prfHashMechanism;      /* CKM_SHA256/384/512 */
///     CK_BBOOL            bExtendedMasterSecret; /* RFC 7627 */
///     CK_SSL3_RANDOM_DATA RandomInfo;            /* used if !bExtendedMasterSecret */
///     CK_BYTE_PTR         pSessionHash;          /* used if bExtendedMasterSecret */
///     CK_ULONG            ulSessionHashLen;
/// } CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS;
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS {
    /// The `EncryptedPreMasterSecret` of the ClientKeyExchange.
    pub pEncryptedPreMaster: CK_BYTE_PTR,
    /// Its length: the modulus length in bytes.
    pub ulEncryptedPreMasterLen: CK_ULONG,
    /// The version the client offered in its ClientHello (e.g. 3.3).
    pub clientVersion: CK_VERSION,
    /// PRF hash: `CKM_SHA256`, `CKM_SHA384` or `CKM_SHA512`.
    pub prfHashMechanism: CK_MECHANISM_TYPE,
    /// `CK_TRUE`: extended master secret over `pSessionHash`.
    pub bExtendedMasterSecret: CK_BBOOL,
    /// Client and server randoms (32 bytes each) when not EMS.
    pub RandomInfo: CK_SSL3_RANDOM_DATA,
    /// `Hash(handshake_messages)` when EMS.
    pub pSessionHash: CK_BYTE_PTR,
    /// Its length.
    pub ulSessionHashLen: CK_ULONG,
}

/// Parses the parameter of an RSA mechanism.
///
/// # Safety
/// `m.pParameter` must be valid for `m.ulParameterLen` bytes and the
/// pointers inside the structure valid for their lengths.
pub(super) unsafe fn parse(m: &CK_MECHANISM) -> Result<Param> {
    let pbad = |_| Error::new(CKR_MECHANISM_PARAM_INVALID);
    Ok(match m.mechanism {
        CKM_RSA_PKCS_OAEP => {
            // SAFETY: as for `param`.
            let p: CK_RSA_PKCS_OAEP_PARAMS = unsafe { param(m) }?;
            Param::RsaOaep {
                hash: p.hashAlg,
                mgf: p.mgf,
                source: p.source,
                // SAFETY: valid for the stated length (contract).
                label: unsafe { bytes(p.pSourceData as *const u8, p.ulSourceDataLen) }
                    .map_err(pbad)?
                    .to_vec(),
            }
        }
        CKM_HSMTLS_RSA_PREMASTER_TO_MASTER => {
            // SAFETY: as for `param`.
            let p: CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS = unsafe { param(m) }?;
            let ems = p.bExtendedMasterSecret != 0;
            Param::RsaPremaster(PremasterParams {
                // SAFETY: valid for the stated length (contract).
                encrypted: unsafe { bytes(p.pEncryptedPreMaster, p.ulEncryptedPreMasterLen) }
                    .map_err(pbad)?
                    .to_vec(),
                client_version: [p.clientVersion.major, p.clientVersion.minor],
                prf: p.prfHashMechanism,
                ems,
                randoms: if ems {
                    crate::mechanisms::Randoms {
                        client: Vec::new(),
                        server: Vec::new(),
                    }
                } else {
                    // SAFETY: valid random pointers (contract).
                    unsafe { randoms(&p.RandomInfo) }?
                },
                session_hash: if ems {
                    // SAFETY: valid for the stated length (contract).
                    unsafe { bytes(p.pSessionHash, p.ulSessionHashLen) }
                        .map_err(pbad)?
                        .to_vec()
                } else {
                    Vec::new()
                },
            })
        }
        // The PSS family.
        _ => {
            // SAFETY: as for `param`.
            let p: CK_RSA_PKCS_PSS_PARAMS = unsafe { param(m) }?;
            Param::RsaPss {
                hash: p.hashAlg,
                mgf: p.mgf,
                salt_len: p.sLen,
            }
        }
    })
}
