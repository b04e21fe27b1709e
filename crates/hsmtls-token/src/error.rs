//! The error type of the token: a PKCS#11 return value (`CK_RV`, PKCS#11
//! 3.0 §5.1) with a static note for debugging. No variant carries key
//! material, PINs or attribute values.

use core::fmt;

use cryptoki_sys::*;
use hsmtls_crypto::CryptoError;

/// Why a token function failed: the `CK_RV` it returns at the ABI.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error {
    rv: CK_RV,
}

/// The token's result type.
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// An error that returns `rv`.
    pub const fn new(rv: CK_RV) -> Self {
        Self { rv }
    }

    /// The `CK_RV` of this error.
    pub const fn rv(self) -> CK_RV {
        self.rv
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CK_RV(0x{:08x})", self.rv)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PKCS#11 error 0x{:08x}", self.rv)
    }
}

impl std::error::Error for Error {}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Self::new(match e {
            CryptoError::BadSignature => CKR_SIGNATURE_INVALID,
            CryptoError::BadRecordMac => CKR_ENCRYPTED_DATA_INVALID,
            CryptoError::InvalidPeerKey => CKR_MECHANISM_PARAM_INVALID,
            CryptoError::InvalidKey(_) => CKR_KEY_TYPE_INCONSISTENT,
            CryptoError::Unsupported(_) => CKR_MECHANISM_INVALID,
            CryptoError::InvalidParameter(_) => CKR_MECHANISM_PARAM_INVALID,
            _ => CKR_DEVICE_ERROR,
        })
    }
}

impl From<rusqlite::Error> for Error {
    fn from(_: rusqlite::Error) -> Self {
        // The SQLite message may quote values; it is dropped on purpose.
        Self::new(CKR_DEVICE_ERROR)
    }
}

/// Shorthand: `Err(Error::new(rv))`.
pub(crate) fn err<T>(rv: CK_RV) -> Result<T> {
    Err(Error::new(rv))
}
