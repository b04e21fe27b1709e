//! Token administration, as `softhsm2-util` / `p11tool` do it: the slots
//! and their tokens, a token's mechanisms, its objects (attributes only,
//! never a value), key generation, deletion and PIN changes. Used by
//! `hsmtls token`; it needs no TLS mechanism, so it works on any module.

use std::sync::Arc;

use cryptoki_sys as sys;
use hsmtls_keys::KeyExchangeGroup;

use crate::ffi::{Attr, Ck, Mech, Module, CK_OBJECT_HANDLE, CK_SESSION_HANDLE};
use crate::uri::{ObjectType, Pkcs11Uri};
use crate::{der, OpenError, Pkcs11Config, TokenSelector};

/// One slot and the token in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotDescription {
    /// The slot ID.
    pub slot: u64,
    /// `CK_SLOT_INFO.slotDescription`.
    pub description: String,
    /// `CK_SLOT_INFO.manufacturerID`.
    pub manufacturer: String,
    /// The token, if one is present.
    pub token: Option<TokenDescription>,
}

/// What `C_GetTokenInfo` says about a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenDescription {
    /// The label (blank-padding removed).
    pub label: String,
    /// `manufacturerID`.
    pub manufacturer: String,
    /// `model`.
    pub model: String,
    /// `serialNumber`.
    pub serial: String,
    /// `CKF_*` token flags.
    pub flags: u64,
}

impl TokenDescription {
    /// The flags by name (`initialized`, `login required`, `user PIN
    /// locked` …).
    pub fn flag_names(&self) -> Vec<&'static str> {
        token_flag_names(self.flags)
    }
}

/// The names of `CK_TOKEN_INFO` flags.
pub fn token_flag_names(flags: u64) -> Vec<&'static str> {
    [
        (sys::CKF_TOKEN_INITIALIZED, "initialized"),
        (sys::CKF_LOGIN_REQUIRED, "login required"),
        (sys::CKF_USER_PIN_INITIALIZED, "user PIN initialized"),
        (sys::CKF_RNG, "RNG"),
        (sys::CKF_WRITE_PROTECTED, "write protected"),
        (
            sys::CKF_PROTECTED_AUTHENTICATION_PATH,
            "protected authentication path",
        ),
        (sys::CKF_USER_PIN_COUNT_LOW, "user PIN count low"),
        (sys::CKF_USER_PIN_FINAL_TRY, "user PIN final try"),
        (sys::CKF_USER_PIN_LOCKED, "user PIN locked"),
        (sys::CKF_USER_PIN_TO_BE_CHANGED, "user PIN to be changed"),
        (sys::CKF_SO_PIN_COUNT_LOW, "SO PIN count low"),
        (sys::CKF_SO_PIN_FINAL_TRY, "SO PIN final try"),
        (sys::CKF_SO_PIN_LOCKED, "SO PIN locked"),
        (sys::CKF_SO_PIN_TO_BE_CHANGED, "SO PIN to be changed"),
    ]
    .into_iter()
    .filter(|(f, _)| flags & f != 0)
    .map(|(_, n)| n)
    .collect()
}

/// One mechanism of a token with its `CK_MECHANISM_INFO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MechanismDescription {
    /// The `CKM_*` value.
    pub mechanism: u64,
    /// `ulMinKeySize`.
    pub min_key_size: u64,
    /// `ulMaxKeySize`.
    pub max_key_size: u64,
    /// `CKF_*` mechanism flags.
    pub flags: u64,
}

impl MechanismDescription {
    /// The `CKM_*` name, or the value in hex for one this crate does not
    /// know.
    pub fn name(&self) -> String {
        mechanism_type_name(self.mechanism)
            .map_or_else(|| format!("0x{:08x}", self.mechanism), str::to_string)
    }

    /// The flags by name (`encrypt`, `sign`, `derive`, `ec_named_curve` …).
    pub fn flag_names(&self) -> Vec<&'static str> {
        [
            (sys::CKF_HW, "hw"),
            (sys::CKF_ENCRYPT, "encrypt"),
            (sys::CKF_DECRYPT, "decrypt"),
            (sys::CKF_DIGEST, "digest"),
            (sys::CKF_SIGN, "sign"),
            (sys::CKF_SIGN_RECOVER, "sign_recover"),
            (sys::CKF_VERIFY, "verify"),
            (sys::CKF_VERIFY_RECOVER, "verify_recover"),
            (sys::CKF_GENERATE, "generate"),
            (sys::CKF_GENERATE_KEY_PAIR, "generate_key_pair"),
            (sys::CKF_WRAP, "wrap"),
            (sys::CKF_UNWRAP, "unwrap"),
            (sys::CKF_DERIVE, "derive"),
            (sys::CKF_EC_F_P, "ec_f_p"),
            (sys::CKF_EC_NAMEDCURVE, "ec_named_curve"),
            (sys::CKF_EC_UNCOMPRESS, "ec_uncompress"),
            (sys::CKF_EC_COMPRESS, "ec_compress"),
        ]
        .into_iter()
        .filter(|(f, _)| self.flags & f != 0)
        .map(|(_, n)| n)
        .collect()
    }
}

const CKM_VENDOR: u64 = sys::CKM_VENDOR_DEFINED;
const CKM_NSS: u64 = CKM_VENDOR | 0x4E53_4350;
const CKM_HSMTLS: u64 = CKM_VENDOR | 0x4853_0000;

/// The PKCS#11 name of a mechanism (`CKM_ECDSA_SHA256`), for the ones this
/// crate knows: those of hsmtls-token, NSS's TLS ones and the common ones.
pub fn mechanism_type_name(m: u64) -> Option<&'static str> {
    macro_rules! names {
        ($($c:ident),* $(,)?) => {
            match m {
                $(sys::$c => Some(stringify!($c)),)*
                x if x == CKM_NSS + 19 => Some("CKM_NSS_HMAC_CONSTANT_TIME"),
                x if x == CKM_NSS + 21 => Some("CKM_NSS_TLS_PRF_GENERAL_SHA256"),
                x if x == CKM_NSS + 22 => Some("CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256"),
                x if x == CKM_NSS + 23 => Some("CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256"),
                x if x == CKM_NSS + 24 => Some("CKM_NSS_TLS_MASTER_KEY_DERIVE_DH_SHA256"),
                x if x == CKM_NSS + 25 => Some("CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE"),
                x if x == CKM_NSS + 26 => Some("CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH"),
                x if x == CKM_HSMTLS + 1 => Some("CKM_HSMTLS_RSA_PREMASTER_TO_MASTER"),
                x if x == CKM_HSMTLS + 2 => Some("CKM_HSMTLS_TLS13_KEY_AND_IV"),
                x if x == CKM_HSMTLS + 3 => Some("CKM_HSMTLS_TLS13_FINISHED"),
                x if x == CKM_HSMTLS + 4 => Some("CKM_HSMTLS_TLS13_NEXT_SECRET"),
                x if x == CKM_HSMTLS + 5 => Some("CKM_HSMTLS_TLS13_TRAFFIC_SECRET"),
                x if x == CKM_HSMTLS + 6 => Some("CKM_HSMTLS_KEY_SHARE_GEN"),
                _ => None,
            }
        };
    }
    names!(
        CKM_RSA_PKCS_KEY_PAIR_GEN,
        CKM_RSA_PKCS,
        CKM_RSA_X_509,
        CKM_RSA_PKCS_OAEP,
        CKM_RSA_PKCS_PSS,
        CKM_SHA1_RSA_PKCS,
        CKM_SHA256_RSA_PKCS,
        CKM_SHA384_RSA_PKCS,
        CKM_SHA512_RSA_PKCS,
        CKM_SHA256_RSA_PKCS_PSS,
        CKM_SHA384_RSA_PKCS_PSS,
        CKM_SHA512_RSA_PKCS_PSS,
        CKM_SHA_1,
        CKM_SHA256,
        CKM_SHA384,
        CKM_SHA512,
        CKM_SHA_1_HMAC,
        CKM_SHA256_HMAC,
        CKM_SHA384_HMAC,
        CKM_SHA512_HMAC,
        CKM_SHA256_HMAC_GENERAL,
        CKM_SHA384_HMAC_GENERAL,
        CKM_SHA512_HMAC_GENERAL,
        CKM_GENERIC_SECRET_KEY_GEN,
        CKM_TLS_PRE_MASTER_KEY_GEN,
        CKM_TLS12_MASTER_KEY_DERIVE,
        CKM_TLS12_MASTER_KEY_DERIVE_DH,
        CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE,
        CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH,
        CKM_TLS12_KEY_AND_MAC_DERIVE,
        CKM_TLS12_KEY_SAFE_DERIVE,
        CKM_TLS12_MAC,
        CKM_TLS12_KDF,
        CKM_TLS_MAC,
        CKM_TLS_KDF,
        CKM_EC_KEY_PAIR_GEN,
        CKM_ECDSA,
        CKM_ECDSA_SHA1,
        CKM_ECDSA_SHA256,
        CKM_ECDSA_SHA384,
        CKM_ECDSA_SHA512,
        CKM_ECDH1_DERIVE,
        CKM_ECDH1_COFACTOR_DERIVE,
        CKM_EC_EDWARDS_KEY_PAIR_GEN,
        CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
        CKM_EDDSA,
        CKM_AES_KEY_GEN,
        CKM_AES_ECB,
        CKM_AES_CBC,
        CKM_AES_CBC_PAD,
        CKM_AES_CTR,
        CKM_AES_GCM,
        CKM_AES_CCM,
        CKM_AES_CMAC,
        CKM_AES_KEY_WRAP,
        CKM_AES_KEY_WRAP_PAD,
        CKM_AES_KEY_WRAP_KWP,
        CKM_CHACHA20_KEY_GEN,
        CKM_CHACHA20_POLY1305,
        CKM_HKDF_KEY_GEN,
        CKM_HKDF_DERIVE,
        CKM_HKDF_DATA,
    )
}

/// One object of a token: its attributes, never its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectDescription {
    /// The object handle (valid in this process only).
    pub handle: u64,
    /// `CKA_CLASS`.
    pub class: Option<u64>,
    /// `CKA_KEY_TYPE` (keys).
    pub key_type: Option<u64>,
    /// `CKA_LABEL`.
    pub label: Option<String>,
    /// `CKA_ID`.
    pub id: Option<Vec<u8>>,
    /// `CKA_TOKEN` (false: a session object).
    pub token_object: Option<bool>,
    /// `CKA_PRIVATE`.
    pub private: Option<bool>,
    /// `CKA_SENSITIVE` (private and secret keys).
    pub sensitive: Option<bool>,
    /// `CKA_EXTRACTABLE` (private and secret keys).
    pub extractable: Option<bool>,
    /// The key's size in bits, where the public attributes tell it
    /// (`CKA_MODULUS_BITS`, `CKA_VALUE_LEN`, the curve of `CKA_EC_PARAMS`).
    pub bits: Option<u64>,
    /// The curve of an EC key, when known.
    pub curve: Option<KeyExchangeGroup>,
}

impl ObjectDescription {
    /// `CKO_*` name of the class.
    pub fn class_name(&self) -> String {
        match self.class {
            Some(sys::CKO_DATA) => "CKO_DATA".into(),
            Some(sys::CKO_CERTIFICATE) => "CKO_CERTIFICATE".into(),
            Some(sys::CKO_PUBLIC_KEY) => "CKO_PUBLIC_KEY".into(),
            Some(sys::CKO_PRIVATE_KEY) => "CKO_PRIVATE_KEY".into(),
            Some(sys::CKO_SECRET_KEY) => "CKO_SECRET_KEY".into(),
            Some(c) => format!("0x{c:x}"),
            None => "?".into(),
        }
    }

    /// `CKK_*` name of the key type, if a key.
    pub fn key_type_name(&self) -> Option<String> {
        Some(match self.key_type? {
            sys::CKK_RSA => "CKK_RSA".into(),
            sys::CKK_EC => "CKK_EC".into(),
            sys::CKK_EC_EDWARDS => "CKK_EC_EDWARDS".into(),
            sys::CKK_EC_MONTGOMERY => "CKK_EC_MONTGOMERY".into(),
            sys::CKK_AES => "CKK_AES".into(),
            sys::CKK_GENERIC_SECRET => "CKK_GENERIC_SECRET".into(),
            sys::CKK_CHACHA20 => "CKK_CHACHA20".into(),
            sys::CKK_HKDF => "CKK_HKDF".into(),
            t => format!("0x{t:x}"),
        })
    }
}

/// The class of a URI's `type=`.
pub fn object_class(t: ObjectType) -> u64 {
    match t {
        ObjectType::Private => sys::CKO_PRIVATE_KEY,
        ObjectType::Public => sys::CKO_PUBLIC_KEY,
        ObjectType::Cert => sys::CKO_CERTIFICATE,
        ObjectType::SecretKey => sys::CKO_SECRET_KEY,
        ObjectType::Data => sys::CKO_DATA,
    }
}

/// A key to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySpec {
    /// An EC key pair on a named curve (not X25519).
    Ec(KeyExchangeGroup),
    /// An RSA key pair of this many bits (2048–4096), exponent 65537.
    Rsa(u32),
    /// An AES key of this many bits (128, 192 or 256).
    Aes(u32),
}

/// Every slot of `config`'s module (with or without a token) and what
/// its token says about itself.
pub fn list_slots(config: &Pkcs11Config) -> Result<Vec<SlotDescription>, OpenError> {
    let module = crate::load_module(config)?;
    let mut out = Vec::new();
    for slot in module.all_slots()? {
        let info = module.slot_info(slot)?;
        let token = if info.flags & sys::CKF_TOKEN_PRESENT != 0 {
            let t = module.token_info(slot)?;
            Some(TokenDescription {
                label: t.label,
                manufacturer: t.manufacturer,
                model: t.model,
                serial: t.serial,
                flags: t.flags,
            })
        } else {
            None
        };
        out.push(SlotDescription {
            slot,
            description: info.description,
            manufacturer: info.manufacturer,
            token,
        });
    }
    Ok(out)
}

/// One token opened for administration: a read-write session, logged in
/// as the user when [`TokenAdmin::login`] succeeded.
pub struct TokenAdmin {
    module: Arc<Module>,
    slot: u64,
    label: String,
    flags: u64,
    session: CK_SESSION_HANDLE,
}

impl std::fmt::Debug for TokenAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenAdmin({}, slot {})", self.label, self.slot)
    }
}

impl Drop for TokenAdmin {
    fn drop(&mut self) {
        let _ = self.module.close_session(self.session);
    }
}

impl TokenAdmin {
    /// Opens a session on the token `config.token` selects (an initialized
    /// one: the first such for [`TokenSelector::First`]). No login:
    /// `config.pin` is used by [`TokenAdmin::login`].
    pub fn open(config: &Pkcs11Config) -> Result<Self, OpenError> {
        let module = crate::load_module(config)?;
        let mut chosen = None;
        for slot in module.slots()? {
            let info = module.token_info(slot)?;
            let matches = match &config.token {
                TokenSelector::First => info.flags & sys::CKF_TOKEN_INITIALIZED != 0,
                TokenSelector::Label(l) => &info.label == l,
                TokenSelector::SlotId(id) => slot == *id,
            };
            if matches {
                chosen = Some((slot, info));
                break;
            }
        }
        let (slot, info) = chosen.ok_or_else(|| {
            OpenError::NoToken(match &config.token {
                TokenSelector::First => {
                    format!("no initialized token in {}", module.path().display())
                }
                TokenSelector::Label(l) => {
                    format!("no token labelled \"{l}\" in {}", module.path().display())
                }
                TokenSelector::SlotId(id) => {
                    format!("no token in slot {id} of {}", module.path().display())
                }
            })
        })?;
        if info.flags & sys::CKF_TOKEN_INITIALIZED == 0 {
            return Err(OpenError::NoToken(format!(
                "the token in slot {slot} of {} is not initialized",
                module.path().display()
            )));
        }
        let session = module.open_session(slot)?;
        Ok(Self {
            module,
            slot,
            label: info.label,
            flags: info.flags,
            session,
        })
    }

    /// Logs in as the user with `config.pin` (the PIN file); an error
    /// if there is none.
    pub fn login(&self, config: &Pkcs11Config) -> Result<(), OpenError> {
        let pin = config
            .pin
            .as_ref()
            .ok_or_else(|| {
                OpenError::Pin(format!(
                    "token \"{}\" requires a login: give the user PIN in a file",
                    self.label
                ))
            })?
            .read()?;
        self.module
            .login(self.session, pin.as_bytes())
            .map_err(OpenError::Token)
    }

    /// The token's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The slot ID.
    pub fn slot(&self) -> u64 {
        self.slot
    }

    /// The token's flags when it was opened.
    pub fn flags(&self) -> u64 {
        self.flags
    }

    /// The token's mechanisms (`C_GetMechanismList`) with their
    /// `C_GetMechanismInfo`.
    pub fn mechanisms(&self) -> Result<Vec<MechanismDescription>, Ck> {
        self.module
            .mechanisms(self.slot)?
            .into_iter()
            .map(|m| {
                let info = self.module.mechanism_info(self.slot, m)?;
                Ok(MechanismDescription {
                    mechanism: m,
                    min_key_size: info.min_key_size,
                    max_key_size: info.max_key_size,
                    flags: info.flags,
                })
            })
            .collect()
    }

    /// The objects matching `class`, `label` and `id` (each optional;
    /// none: every object the session sees), described by their
    /// attributes. `CKA_VALUE` is never read.
    pub fn objects(
        &self,
        class: Option<u64>,
        label: Option<&str>,
        id: Option<&[u8]>,
    ) -> Result<Vec<ObjectDescription>, Ck> {
        let mut template = Vec::new();
        if let Some(c) = class {
            template.push(Attr::ulong(sys::CKA_CLASS, c));
        }
        if let Some(l) = label {
            template.push(Attr::bytes(sys::CKA_LABEL, l.as_bytes()));
        }
        if let Some(i) = id {
            template.push(Attr::bytes(sys::CKA_ID, i));
        }
        let handles = self.module.find_objects(self.session, &template)?;
        Ok(handles.into_iter().map(|h| self.describe(h)).collect())
    }

    /// The objects a PKCS#11 URI names (`object=`, `id=`, `type=`).
    pub fn objects_of_uri(&self, uri: &Pkcs11Uri) -> Result<Vec<ObjectDescription>, Ck> {
        self.objects(
            uri.object_type.map(object_class),
            uri.object.as_deref(),
            uri.id.as_deref(),
        )
    }

    fn describe(&self, h: CK_OBJECT_HANDLE) -> ObjectDescription {
        let raw = |ty| self.module.attribute(self.session, h, ty).ok();
        let ulong = |ty| {
            raw(ty)
                .and_then(|v| v[..].try_into().ok())
                .map(u64::from_ne_bytes)
        };
        let flag = |ty| raw(ty).and_then(|v| v.first().map(|&b| b != 0));
        let class = ulong(sys::CKA_CLASS);
        let is_key = matches!(
            class,
            Some(sys::CKO_PRIVATE_KEY | sys::CKO_PUBLIC_KEY | sys::CKO_SECRET_KEY)
        );
        let key_type = if is_key {
            ulong(sys::CKA_KEY_TYPE)
        } else {
            None
        };
        let curve = match key_type {
            Some(sys::CKK_EC) => raw(sys::CKA_EC_PARAMS).and_then(|p| der::group_of_ec_params(&p)),
            _ => None,
        };
        let bits = match key_type {
            Some(sys::CKK_RSA) => ulong(sys::CKA_MODULUS_BITS).or_else(|| {
                raw(sys::CKA_MODULUS).map(|m| {
                    let m: &[u8] = &m;
                    let lead = m.iter().take_while(|&&b| b == 0).count();
                    ((m.len() - lead) * 8) as u64
                })
            }),
            Some(sys::CKK_EC) => curve.map(curve_bits),
            Some(_) if class == Some(sys::CKO_SECRET_KEY) => {
                ulong(sys::CKA_VALUE_LEN).map(|n| n * 8)
            }
            _ => None,
        };
        let secret_bearing = matches!(class, Some(sys::CKO_PRIVATE_KEY | sys::CKO_SECRET_KEY));
        ObjectDescription {
            handle: h,
            class,
            key_type,
            label: raw(sys::CKA_LABEL).map(|l| String::from_utf8_lossy(&l).into_owned()),
            id: raw(sys::CKA_ID).map(|i| i.to_vec()),
            token_object: flag(sys::CKA_TOKEN),
            private: flag(sys::CKA_PRIVATE),
            sensitive: if secret_bearing {
                flag(sys::CKA_SENSITIVE)
            } else {
                None
            },
            extractable: if secret_bearing {
                flag(sys::CKA_EXTRACTABLE)
            } else {
                None
            },
            bits,
            curve,
        }
    }

    /// `C_DestroyObject`.
    pub fn destroy(&self, handle: u64) -> Result<(), Ck> {
        self.module.destroy_object(self.session, handle)
    }

    /// Generates a persistent key (`CKA_TOKEN`; private, sensitive and not
    /// extractable; the public half of a pair public) labelled `label`
    /// with `CKA_ID` `id`. Returns the new objects.
    pub fn generate(
        &self,
        spec: KeySpec,
        label: &str,
        id: &[u8],
    ) -> Result<Vec<ObjectDescription>, Ck> {
        let common = |class| {
            vec![
                Attr::ulong(sys::CKA_CLASS, class),
                Attr::bool(sys::CKA_TOKEN, true),
                Attr::bytes(sys::CKA_LABEL, label.as_bytes()),
                Attr::bytes(sys::CKA_ID, id),
            ]
        };
        let locked = |mut t: Vec<Attr>| {
            t.extend([
                Attr::bool(sys::CKA_PRIVATE, true),
                Attr::bool(sys::CKA_SENSITIVE, true),
                Attr::bool(sys::CKA_EXTRACTABLE, false),
            ]);
            t
        };
        let handles = match spec {
            KeySpec::Aes(bits) => {
                let mut t = locked(common(sys::CKO_SECRET_KEY));
                t.extend([
                    Attr::ulong(sys::CKA_KEY_TYPE, sys::CKK_AES),
                    Attr::ulong(sys::CKA_VALUE_LEN, u64::from(bits / 8)),
                    Attr::bool(sys::CKA_ENCRYPT, true),
                    Attr::bool(sys::CKA_DECRYPT, true),
                ]);
                vec![self.module.generate_key(
                    self.session,
                    &Mech::Plain(sys::CKM_AES_KEY_GEN),
                    &t,
                )?]
            }
            KeySpec::Ec(group) => {
                let mut public = common(sys::CKO_PUBLIC_KEY);
                public.extend([
                    Attr::bool(sys::CKA_PRIVATE, false),
                    Attr::bytes(sys::CKA_EC_PARAMS, der::ec_params(group)),
                    Attr::bool(sys::CKA_VERIFY, true),
                ]);
                let mut private = locked(common(sys::CKO_PRIVATE_KEY));
                private.extend([
                    Attr::bool(sys::CKA_SIGN, true),
                    Attr::bool(sys::CKA_DERIVE, true),
                ]);
                let (a, b) = self.module.generate_key_pair(
                    self.session,
                    &Mech::Plain(sys::CKM_EC_KEY_PAIR_GEN),
                    &public,
                    &private,
                )?;
                vec![b, a]
            }
            KeySpec::Rsa(bits) => {
                let mut public = common(sys::CKO_PUBLIC_KEY);
                public.extend([
                    Attr::bool(sys::CKA_PRIVATE, false),
                    Attr::ulong(sys::CKA_MODULUS_BITS, u64::from(bits)),
                    Attr::bytes(sys::CKA_PUBLIC_EXPONENT, &[0x01, 0x00, 0x01]),
                    Attr::bool(sys::CKA_VERIFY, true),
                ]);
                let mut private = locked(common(sys::CKO_PRIVATE_KEY));
                private.push(Attr::bool(sys::CKA_SIGN, true));
                let (a, b) = self.module.generate_key_pair(
                    self.session,
                    &Mech::Plain(sys::CKM_RSA_PKCS_KEY_PAIR_GEN),
                    &public,
                    &private,
                )?;
                vec![b, a]
            }
        };
        Ok(handles.into_iter().map(|h| self.describe(h)).collect())
    }

    /// `C_SetPIN` of the user PIN (nobody logged in on this session).
    pub fn change_user_pin(&self, old: &str, new: &str) -> Result<(), Ck> {
        self.module
            .set_pin(self.session, old.as_bytes(), new.as_bytes())
    }

    /// Sets a new user PIN as the security officer (`C_Login(CKU_SO)`,
    /// `C_InitPIN`, `C_Logout`): the way out of a locked user PIN.
    pub fn reset_user_pin(&self, so_pin: &str, new: &str) -> Result<(), Ck> {
        self.module
            .login_as(self.session, sys::CKU_SO, so_pin.as_bytes())?;
        let result = self.module.init_pin(self.session, new.as_bytes());
        let _ = self.module.logout(self.session);
        result
    }
}

/// The size in bits of a curve's field.
fn curve_bits(group: KeyExchangeGroup) -> u64 {
    match group {
        KeyExchangeGroup::Secp256r1 | KeyExchangeGroup::BrainpoolP256r1 => 256,
        KeyExchangeGroup::Secp384r1 | KeyExchangeGroup::BrainpoolP384r1 => 384,
        KeyExchangeGroup::Secp521r1 => 521,
        KeyExchangeGroup::BrainpoolP512r1 => 512,
        KeyExchangeGroup::X25519 => 255,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            mechanism_type_name(sys::CKM_ECDSA_SHA256),
            Some("CKM_ECDSA_SHA256")
        );
        assert_eq!(
            mechanism_type_name(CKM_NSS + 26),
            Some("CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH")
        );
        let m = MechanismDescription {
            mechanism: 0x8000_1234,
            min_key_size: 0,
            max_key_size: 0,
            flags: sys::CKF_SIGN | sys::CKF_VERIFY,
        };
        assert_eq!(m.name(), "0x80001234");
        assert_eq!(m.flag_names(), ["sign", "verify"]);
        assert_eq!(
            token_flag_names(sys::CKF_TOKEN_INITIALIZED | sys::CKF_USER_PIN_LOCKED),
            ["initialized", "user PIN locked"]
        );
    }
}
