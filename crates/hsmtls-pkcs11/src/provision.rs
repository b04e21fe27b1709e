//! Provisioning: initializing a token (`C_InitToken`, `C_InitPIN`), and
//! persistent long-term keys and certificates (`CKA_TOKEN` true) that a
//! later [`Pkcs11Store::private_key`] / [`Pkcs11Store::certificate`] finds
//! by PKCS#11 URI.

use cryptoki_sys as sys;
use hsmtls_keys::KeyError;

use crate::ffi::Attr;
use crate::uri::{ObjectType, Pkcs11Uri};
use crate::{der, store_err, OpenError, Pkcs11Config, Pkcs11Store};

/// Initializes the first uninitialized token of `config`'s module
/// (`CKF_TOKEN_INITIALIZED` clear; hsmtls-token's free slot) with `label`
/// and the SO PIN, then sets the user PIN (`C_Login` as SO, `C_InitPIN`).
/// Returns the slot ID. `config.token` and `config.pin` are not used.
pub fn init_token(
    config: &Pkcs11Config,
    label: &str,
    so_pin: &str,
    user_pin: &str,
) -> Result<u64, OpenError> {
    let module = crate::load_module(config)?;
    let slot = module
        .slots()?
        .into_iter()
        .find(|&s| {
            module
                .token_info(s)
                .is_ok_and(|i| i.flags & sys::CKF_TOKEN_INITIALIZED == 0)
        })
        .ok_or_else(|| {
            OpenError::NoToken(format!(
                "no uninitialized token in {}",
                config.module.display()
            ))
        })?;
    module.init_token(slot, so_pin.as_bytes(), label)?;
    let session = module.open_session(slot)?;
    let result = module
        .login_as(session, sys::CKU_SO, so_pin.as_bytes())
        .and_then(|()| module.init_pin(session, user_pin.as_bytes()))
        .and_then(|()| module.logout(session));
    let _ = module.close_session(session);
    result?;
    Ok(slot)
}

impl Pkcs11Store {
    /// Stores a private key file (PEM or DER: PKCS#8, SEC 1, PKCS#1) in
    /// the token as a persistent object (`CKA_TOKEN`, `CKA_PRIVATE`,
    /// sensitive, not extractable), labelled `label` with `CKA_ID` `id`.
    /// Find it again with [`Pkcs11Store::private_key`].
    pub fn store_private_key(
        &self,
        der_or_pem: &[u8],
        label: &str,
        id: &[u8],
    ) -> Result<(), KeyError> {
        let (template, _, _) = self.private_key_template(der_or_pem, label, id, true)?;
        let session = self.token.session().map_err(store_err)?;
        self.token
            .module
            .create_object(session.handle, &template)
            .map(|_| ())
            .map_err(|e| KeyError::InvalidKey(e.to_string()))
    }

    /// Stores an X.509 certificate (DER) as a persistent `CKO_CERTIFICATE`
    /// object labelled `label` with `CKA_ID` `id`.
    pub fn store_certificate(&self, der: &[u8], label: &str, id: &[u8]) -> Result<(), KeyError> {
        let subject = der::certificate_subject(der)
            .ok_or_else(|| KeyError::InvalidKey("not an X.509 certificate".into()))?;
        let template = [
            Attr::ulong(sys::CKA_CLASS, sys::CKO_CERTIFICATE),
            Attr::ulong(sys::CKA_CERTIFICATE_TYPE, sys::CKC_X_509),
            Attr::bool(sys::CKA_TOKEN, true),
            Attr::bool(sys::CKA_PRIVATE, false),
            Attr::bytes(sys::CKA_LABEL, label.as_bytes()),
            Attr::bytes(sys::CKA_ID, id),
            Attr::bytes(sys::CKA_SUBJECT, &subject),
            Attr::bytes(sys::CKA_VALUE, der),
        ];
        let session = self.token.session().map_err(store_err)?;
        self.token
            .module
            .create_object(session.handle, &template)
            .map(|_| ())
            .map_err(|e| KeyError::InvalidKey(e.to_string()))
    }

    /// The DER of the certificate a PKCS#11 URI names (`object=` and/or
    /// `id=`; `type=cert` implied).
    pub fn certificate(&self, uri: &str) -> Result<Vec<u8>, KeyError> {
        let uri = Pkcs11Uri::parse(uri).map_err(|e| KeyError::InvalidKey(e.to_string()))?;
        if uri.object_type.is_some_and(|t| t != ObjectType::Cert) {
            return Err(KeyError::InvalidKey("the URI names no certificate".into()));
        }
        let mut template = vec![Attr::ulong(sys::CKA_CLASS, sys::CKO_CERTIFICATE)];
        if let Some(label) = &uri.object {
            template.push(Attr::bytes(sys::CKA_LABEL, label.as_bytes()));
        }
        if let Some(id) = &uri.id {
            template.push(Attr::bytes(sys::CKA_ID, id));
        }
        let session = self.token.session().map_err(store_err)?;
        let module = &self.token.module;
        let found = module
            .find_objects(session.handle, &template)
            .map_err(store_err)?;
        match found.as_slice() {
            [one] => module
                .attribute(session.handle, *one, sys::CKA_VALUE)
                .map(|v| v.to_vec())
                .map_err(store_err),
            [] => Err(KeyError::InvalidKey(
                "no certificate matches the URI".into(),
            )),
            _ => Err(KeyError::InvalidKey(
                "several certificates match the URI".into(),
            )),
        }
    }

    /// Whether an object of the URI's class, label and ID exists.
    pub fn has_object(&self, uri: &str) -> Result<bool, KeyError> {
        let uri = Pkcs11Uri::parse(uri).map_err(|e| KeyError::InvalidKey(e.to_string()))?;
        let mut template = Vec::new();
        if let Some(t) = uri.object_type {
            template.push(Attr::ulong(
                sys::CKA_CLASS,
                match t {
                    ObjectType::Private => sys::CKO_PRIVATE_KEY,
                    ObjectType::Public => sys::CKO_PUBLIC_KEY,
                    ObjectType::Cert => sys::CKO_CERTIFICATE,
                    ObjectType::SecretKey => sys::CKO_SECRET_KEY,
                    ObjectType::Data => sys::CKO_DATA,
                },
            ));
        }
        if let Some(label) = &uri.object {
            template.push(Attr::bytes(sys::CKA_LABEL, label.as_bytes()));
        }
        if let Some(id) = &uri.id {
            template.push(Attr::bytes(sys::CKA_ID, id));
        }
        let session = self.token.session().map_err(store_err)?;
        self.token
            .module
            .find_objects(session.handle, &template)
            .map(|f| !f.is_empty())
            .map_err(store_err)
    }
}
