//! Sessions (PKCS#11 3.0 §5.6): R/O or R/W, bound to a slot, holding at
//! most one active operation of each kind.

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::mechanisms::{Cipher, Digest, Sign, Verify};
use crate::token::Login;

/// An active operation and the output of its last call that did not fit
/// the caller's buffer (returned again by the repeated call, §5.2).
pub struct Active<T: ?Sized> {
    /// The operation.
    pub op: Box<T>,
    /// Output computed but not yet delivered.
    pub pending: Option<Zeroizing<Vec<u8>>>,
    /// Mechanism of the operation.
    pub mechanism: CK_MECHANISM_TYPE,
}

impl<T: ?Sized> Active<T> {
    /// A new active operation.
    pub fn new(op: Box<T>, mechanism: CK_MECHANISM_TYPE) -> Self {
        Self {
            op,
            pending: None,
            mechanism,
        }
    }
}

/// One session.
pub struct Session {
    /// Its handle.
    pub handle: CK_SESSION_HANDLE,
    /// Its slot.
    pub slot: CK_SLOT_ID,
    /// `CKF_RW_SESSION`.
    pub rw: bool,
    /// Active signature.
    pub sign: Option<Active<dyn Sign>>,
    /// Active verification.
    pub verify: Option<Active<dyn Verify>>,
    /// Active encryption.
    pub encrypt: Option<Active<dyn Cipher>>,
    /// Active decryption.
    pub decrypt: Option<Active<dyn Cipher>>,
    /// Active digest.
    pub digest: Option<Active<dyn Digest>>,
    /// Active search: the handles still to hand out.
    pub find: Option<Vec<CK_OBJECT_HANDLE>>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("handle", &self.handle)
            .field("slot", &self.slot)
            .field("rw", &self.rw)
            .finish()
    }
}

impl Session {
    /// A new session without active operations.
    pub fn new(handle: CK_SESSION_HANDLE, slot: CK_SLOT_ID, rw: bool) -> Self {
        Self {
            handle,
            slot,
            rw,
            sign: None,
            verify: None,
            encrypt: None,
            decrypt: None,
            digest: None,
            find: None,
        }
    }

    /// `CKS_*` for the token's login state (§5.6 table 9).
    pub fn state(&self, login: Login) -> CK_STATE {
        match (login, self.rw) {
            (Login::Public, false) => CKS_RO_PUBLIC_SESSION,
            (Login::Public, true) => CKS_RW_PUBLIC_SESSION,
            (Login::User, false) => CKS_RO_USER_FUNCTIONS,
            (Login::User, true) => CKS_RW_USER_FUNCTIONS,
            (Login::So, _) => CKS_RW_SO_FUNCTIONS,
        }
    }
}
