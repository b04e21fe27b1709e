//! Mechanisms: one trait per operation kind, one file per algorithm
//! family, and ONE registry table ([`REGISTRY`]) that says which
//! mechanisms exist, what `C_GetMechanismInfo` reports for them, and which
//! function starts each operation.

use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::error::{err, Result};
use crate::object::Object;

pub mod aes;
pub mod digest;
pub mod ec;
pub mod ecx;
pub mod hkdf;
pub mod hmac;
pub mod private_key;
pub mod rsa;
pub mod secret;
pub mod tls;
pub mod wrap;

/// A mechanism with its parameter, parsed at the ABI.
#[derive(Clone, Debug)]
pub struct Mechanism {
    /// `CKM_*`.
    pub mechanism: CK_MECHANISM_TYPE,
    /// The parameter.
    pub param: Param,
}

/// Two 32-byte TLS randoms (`CK_SSL3_RANDOM_DATA`).
#[derive(Clone, Debug)]
pub struct Randoms {
    /// `ClientHello.random`.
    pub client: Vec<u8>,
    /// `ServerHello.random`.
    pub server: Vec<u8>,
}

/// Mechanism parameters (PKCS#11 3.0 §2, the `CK_*_PARAMS` structures).
#[derive(Clone, Debug)]
pub enum Param {
    /// No parameter.
    None,
    /// An IV (AES-CBC).
    Iv(Vec<u8>),
    /// `CK_MAC_GENERAL_PARAMS`: the output length in bytes
    /// (`CKM_SHA*_HMAC_GENERAL`).
    MacLen(CK_ULONG),
    /// `CK_GCM_PARAMS`.
    Gcm {
        /// IV.
        iv: Vec<u8>,
        /// Additional authenticated data.
        aad: Vec<u8>,
        /// Tag length in bits.
        tag_bits: CK_ULONG,
    },
    /// `CK_ECDH1_DERIVE_PARAMS`.
    Ecdh1 {
        /// `CKD_*`.
        kdf: CK_EC_KDF_TYPE,
        /// Shared data (must be empty with `CKD_NULL`).
        shared: Vec<u8>,
        /// The peer's public point.
        public: Vec<u8>,
    },
    /// `CK_TLS12_MASTER_KEY_DERIVE_PARAMS`.
    Tls12Master {
        /// Randoms.
        randoms: Randoms,
        /// PRF hash (`CKM_SHA256` …).
        prf: CK_MECHANISM_TYPE,
        /// Whether `pVersion` is non-NULL.
        version_out: bool,
    },
    /// `CK_TLS12_EXTENDED_MASTER_KEY_DERIVE_PARAMS` (and NSS's identical
    /// `CK_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_PARAMS`).
    Tls12Ems {
        /// PRF hash.
        prf: CK_MECHANISM_TYPE,
        /// `Hash(handshake_messages)` (RFC 7627 §4).
        session_hash: Vec<u8>,
        /// Whether `pVersion` is non-NULL.
        version_out: bool,
    },
    /// `CK_TLS12_KEY_MAT_PARAMS`.
    Tls12KeyMat {
        /// MAC key size in bits.
        mac_bits: CK_ULONG,
        /// Cipher key size in bits.
        key_bits: CK_ULONG,
        /// IV size in bits.
        iv_bits: CK_ULONG,
        /// `bIsExport`.
        export: bool,
        /// Randoms.
        randoms: Randoms,
        /// PRF hash.
        prf: CK_MECHANISM_TYPE,
    },
    /// `CK_TLS_MAC_PARAMS`.
    TlsMac {
        /// PRF hash.
        prf: CK_MECHANISM_TYPE,
        /// Output length.
        mac_len: CK_ULONG,
        /// 1 = server, 2 = client.
        server_or_client: CK_ULONG,
    },
    /// `CK_AES_CTR_PARAMS`.
    Ctr {
        /// `ulCounterBits`.
        counter_bits: CK_ULONG,
        /// `cb`: the initial counter block.
        cb: [u8; 16],
    },
    /// `CK_HKDF_PARAMS`.
    Hkdf(hkdf::HkdfParams),
    /// The `prfHashMechanism` of `CKM_HSMTLS_TLS13_FINISHED` (vendor).
    Tls13Finished {
        /// `CKM_SHA256` or `CKM_SHA384`.
        prf: CK_MECHANISM_TYPE,
    },
    /// `CK_HSMTLS_KEY_SHARE_PARAMS` (vendor): room for the public key.
    KeyShare {
        /// `ulPublicKeyLen` on input.
        capacity: usize,
    },
    /// `CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS` (vendor).
    Tls13NextSecret {
        /// `prfHashMechanism`.
        prf: CK_MECHANISM_TYPE,
        /// `hIkmKey`: [`hkdf::Salt::Null`] for zeros, the key's handle
        /// until the library resolves it to its value.
        ikm: hkdf::Salt,
    },
    /// `CK_HSMTLS_TLS13_TRAFFIC_PARAMS` (vendor).
    Tls13Traffic {
        /// `prfHashMechanism`.
        prf: CK_MECHANISM_TYPE,
        /// `pInfo`: the traffic secret's `HkdfLabel`.
        info: Vec<u8>,
        /// `pKeyTemplate`, parsed.
        key_template: Object,
        /// `ulIvLen`.
        iv_len: usize,
    },
    /// `CK_HSMTLS_TLS13_KEY_IV_PARAMS` (vendor).
    Tls13KeyIv {
        /// `prfHashMechanism`.
        prf: CK_MECHANISM_TYPE,
        /// `ulIvLen`.
        iv_len: usize,
    },
    /// `CK_EDDSA_PARAMS`.
    Eddsa {
        /// `phFlag`.
        prehash: bool,
        /// The context.
        context: Vec<u8>,
    },
    /// `CK_VERSION` (`CKM_TLS_PRE_MASTER_KEY_GEN`): major, minor.
    Version(u8, u8),
    /// `CK_RSA_PKCS_PSS_PARAMS`.
    RsaPss {
        /// `hashAlg`.
        hash: CK_MECHANISM_TYPE,
        /// `mgf` (`CKG_MGF1_*`).
        mgf: CK_RSA_PKCS_MGF_TYPE,
        /// `sLen`.
        salt_len: CK_ULONG,
    },
    /// `CK_RSA_PKCS_OAEP_PARAMS`.
    RsaOaep {
        /// `hashAlg`.
        hash: CK_MECHANISM_TYPE,
        /// `mgf` (`CKG_MGF1_*`).
        mgf: CK_RSA_PKCS_MGF_TYPE,
        /// `source` (`CKZ_DATA_SPECIFIED`).
        source: CK_RSA_PKCS_OAEP_SOURCE_TYPE,
        /// The label (`pSourceData`).
        label: Vec<u8>,
    },
    /// `CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS` (hsmtls vendor mechanism).
    RsaPremaster(rsa::PremasterParams),
    /// `CK_TLS_KDF_PARAMS`.
    TlsKdf {
        /// PRF hash.
        prf: CK_MECHANISM_TYPE,
        /// Label.
        label: Vec<u8>,
        /// Randoms.
        randoms: Randoms,
        /// Context (RFC 5705), if given.
        context: Option<Vec<u8>>,
    },
}

/// A running signature or MAC.
pub trait Sign: Send {
    /// Absorbs data.
    fn update(&mut self, data: &[u8]) -> Result<()>;
    /// The signature.
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>>;
    /// Its length.
    fn signature_len(&self) -> usize;
    /// Whether the mechanism is single-part only (`C_SignUpdate` is then
    /// `CKR_FUNCTION_NOT_SUPPORTED`).
    fn single_part_only(&self) -> bool {
        false
    }
    /// Told the caller's buffer size before `finish`, for mechanisms whose
    /// output length is the buffer's (NSS's `CKM_NSS_TLS_PRF_GENERAL_SHA256`).
    fn fit_output(&mut self, _cap: usize) {}
}

/// A running verification.
pub trait Verify: Send {
    /// Absorbs data.
    fn update(&mut self, data: &[u8]) -> Result<()>;
    /// Checks `signature` (`CKR_SIGNATURE_INVALID` / `_LEN_RANGE`).
    fn finish(&mut self, signature: &[u8]) -> Result<()>;
    /// Whether the mechanism is single-part only (`C_VerifyUpdate` is then
    /// `CKR_FUNCTION_NOT_SUPPORTED`).
    fn single_part_only(&self) -> bool {
        false
    }
}

/// A running encryption or decryption.
pub trait Cipher: Send {
    /// Processes data; returns the output available so far.
    fn update(&mut self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
    /// Final output.
    fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>>;
    /// An upper bound of the output of `update(n bytes)`.
    fn update_len(&self, n: usize) -> usize;
    /// An upper bound of the output of `finish()`.
    fn final_len(&self) -> usize;
    /// A whole single-part operation written straight into the caller's
    /// buffer, when this cipher can and `out` is large enough: the output
    /// length. `None` leaves the operation untouched for the general
    /// `update` + `finish` path (which also answers the length queries).
    fn single_into(&mut self, _input: &[u8], _out: &mut [u8]) -> Option<Result<usize>> {
        None
    }
}

/// A running digest.
pub trait Digest: Send {
    /// Absorbs data.
    fn update(&mut self, data: &[u8]);
    /// The digest.
    fn finish(&mut self) -> Vec<u8>;
    /// Its length.
    fn output_len(&self) -> usize;
}

/// One derived key before it becomes an object.
#[derive(Debug)]
pub struct DerivedKey {
    /// The value and attributes the mechanism fixes (`CKA_VALUE`, and e.g.
    /// `CKA_ALLOWED_MECHANISMS` of a master secret).
    pub computed: Object,
    /// The key type if the mechanism implies one.
    pub key_type: Option<CK_KEY_TYPE>,
    /// Use this template instead of the caller's (MAC keys of
    /// KEY_AND_MAC_DERIVE).
    pub template: Option<Object>,
}

/// What a derivation produced.
#[derive(Debug)]
pub enum Derived {
    /// One key, with the protocol version read from a pre-master secret.
    Key(DerivedKey, Option<(u8, u8)>),
    /// TLS key material: client MAC, server MAC, client key, server key
    /// (absent when of size zero) and the IVs.
    KeyMat(Box<[Option<DerivedKey>; 4]>, Vec<u8>, Vec<u8>),
    /// A data object (`CKM_HKDF_DATA`) with these computed attributes.
    Data(Object),
}

impl DerivedKey {
    /// A key whose only computed attribute is its value, made from the
    /// caller's template.
    pub fn with_value(value: &[u8]) -> Self {
        let mut computed = Object::new();
        computed.set_bytes(CKA_VALUE, value);
        Self {
            computed,
            key_type: None,
            template: None,
        }
    }
}

impl Derived {
    /// One key whose only computed attribute is its value.
    pub fn value(value: &[u8]) -> Self {
        Derived::Key(DerivedKey::with_value(value), None)
    }
}

/// Starts a signature with a key.
pub type SignFn = fn(&Mechanism, &Object) -> Result<Box<dyn Sign>>;
/// Starts a verification with a key.
pub type VerifyFn = fn(&Mechanism, &Object) -> Result<Box<dyn Verify>>;
/// Starts an encryption or decryption with a key.
pub type CipherFn = fn(&Mechanism, &Object) -> Result<Box<dyn Cipher>>;
/// Starts a digest.
pub type DigestFn = fn(&Mechanism) -> Result<Box<dyn Digest>>;
/// Generates a secret key: (key type, computed attributes).
pub type GenerateKeyFn = fn(&Mechanism, &Object) -> Result<(CK_KEY_TYPE, Object)>;
/// Makes an ephemeral key-exchange private key from its template: (key
/// type, computed attributes, the public key as sent in TLS).
pub type KeyShareFn = fn(&Mechanism, &Object) -> Result<(CK_KEY_TYPE, Object, Vec<u8>)>;
/// Generates a key pair from the two templates: (key type, public,
/// private computed attributes).
pub type GenerateKeyPairFn =
    fn(&Mechanism, &Object, &Object) -> Result<(CK_KEY_TYPE, Object, Object)>;
/// Derives from a base key and the caller's template.
pub type DeriveFn = fn(&Mechanism, &Object, &Object) -> Result<Derived>;
/// Wraps a key value under a wrapping key (`C_WrapKey`).
pub type WrapFn = fn(&Mechanism, &Object, &[u8]) -> Result<Zeroizing<Vec<u8>>>;
/// Unwraps a wrapped key under an unwrapping key (`C_UnwrapKey`): the value.
pub type UnwrapFn = fn(&Mechanism, &Object, &[u8]) -> Result<Zeroizing<Vec<u8>>>;

/// What a mechanism can do, and the functions that do it.
#[derive(Clone, Copy)]
pub struct Entry {
    /// `CKM_*`.
    pub mechanism: CK_MECHANISM_TYPE,
    /// Minimum key size (bits for EC, bytes otherwise, as PKCS#11 says).
    pub min_key: CK_ULONG,
    /// Maximum key size.
    pub max_key: CK_ULONG,
    /// `CKF_*` of `CK_MECHANISM_INFO` (derived from the functions present,
    /// plus `extra`).
    pub extra: CK_FLAGS,
    /// Signature / MAC.
    pub sign: Option<SignFn>,
    /// The key attribute `C_SignInit` requires: `CKA_SIGN`, or
    /// `CKA_DERIVE` for a mechanism that stands for a derivation
    /// (`CKM_HSMTLS_TLS13_FINISHED`).
    pub sign_usage: CK_ATTRIBUTE_TYPE,
    /// Verification.
    pub verify: Option<VerifyFn>,
    /// Encryption.
    pub encrypt: Option<CipherFn>,
    /// Decryption.
    pub decrypt: Option<CipherFn>,
    /// Digest.
    pub digest: Option<DigestFn>,
    /// Key generation.
    pub generate_key: Option<GenerateKeyFn>,
    /// Key-pair generation.
    pub generate_key_pair: Option<GenerateKeyPairFn>,
    /// An ephemeral private key whose public key is returned, not stored
    /// (`C_GenerateKey` with `CKM_HSMTLS_KEY_SHARE_GEN`).
    pub key_share: Option<KeyShareFn>,
    /// Derivation.
    pub derive: Option<DeriveFn>,
    /// Key wrapping.
    pub wrap: Option<WrapFn>,
    /// Key unwrapping.
    pub unwrap: Option<UnwrapFn>,
}

impl core::fmt::Debug for Entry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Entry({:#x})", self.mechanism)
    }
}

impl Entry {
    const fn new(mechanism: CK_MECHANISM_TYPE, min_key: CK_ULONG, max_key: CK_ULONG) -> Self {
        Self {
            mechanism,
            min_key,
            max_key,
            extra: 0,
            sign: None,
            sign_usage: CKA_SIGN,
            verify: None,
            encrypt: None,
            decrypt: None,
            digest: None,
            generate_key: None,
            generate_key_pair: None,
            key_share: None,
            derive: None,
            wrap: None,
            unwrap: None,
        }
    }

    /// `CK_MECHANISM_INFO.flags`.
    pub fn flags(&self) -> CK_FLAGS {
        let mut f = self.extra;
        let pairs: [(bool, CK_FLAGS); 10] = [
            (self.sign.is_some(), CKF_SIGN),
            (self.verify.is_some(), CKF_VERIFY),
            (self.encrypt.is_some(), CKF_ENCRYPT),
            (self.decrypt.is_some(), CKF_DECRYPT),
            (self.digest.is_some(), CKF_DIGEST),
            (
                self.generate_key.is_some() || self.key_share.is_some(),
                CKF_GENERATE,
            ),
            (self.generate_key_pair.is_some(), CKF_GENERATE_KEY_PAIR),
            (self.derive.is_some(), CKF_DERIVE),
            (self.wrap.is_some(), CKF_WRAP),
            (self.unwrap.is_some(), CKF_UNWRAP),
        ];
        for (on, flag) in pairs {
            if on {
                f |= flag;
            }
        }
        f
    }
}

const EC_FLAGS: CK_FLAGS = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
const ECX_FLAGS: CK_FLAGS = CKF_EC_OID | CKF_EC_CURVENAME;

macro_rules! entry {
    ($m:expr, $min:expr, $max:expr $(, $field:ident = $val:expr)* $(,)?) => {
        Entry { $($field: $val,)* ..Entry::new($m, $min, $max) }
    };
}

/// Every mechanism the token offers, in `C_GetMechanismList` order.
pub static REGISTRY: &[Entry] = &[
    // Digests (FIPS 180-4).
    entry!(CKM_SHA_1, 0, 0, digest = Some(digest::sha1)),
    entry!(CKM_SHA256, 0, 0, digest = Some(digest::sha256)),
    entry!(CKM_SHA384, 0, 0, digest = Some(digest::sha384)),
    entry!(CKM_SHA512, 0, 0, digest = Some(digest::sha512)),
    // EC (PKCS#11 3.0 §6.3); key sizes in bits.
    entry!(
        CKM_EC_KEY_PAIR_GEN,
        256,
        521,
        extra = EC_FLAGS,
        generate_key_pair = Some(ec::generate_key_pair)
    ),
    entry!(
        crate::abi::keyshare::CKM_HSMTLS_KEY_SHARE_GEN,
        255,
        521,
        extra = EC_FLAGS,
        key_share = Some(ec::generate_share)
    ),
    entry!(
        CKM_ECDSA,
        256,
        521,
        extra = EC_FLAGS,
        sign = Some(ec::sign),
        verify = Some(ec::verify)
    ),
    entry!(
        CKM_ECDSA_SHA256,
        256,
        521,
        extra = EC_FLAGS,
        sign = Some(ec::sign),
        verify = Some(ec::verify)
    ),
    entry!(
        CKM_ECDSA_SHA384,
        256,
        521,
        extra = EC_FLAGS,
        sign = Some(ec::sign),
        verify = Some(ec::verify)
    ),
    entry!(
        CKM_ECDSA_SHA512,
        256,
        521,
        extra = EC_FLAGS,
        sign = Some(ec::sign),
        verify = Some(ec::verify)
    ),
    entry!(
        CKM_ECDH1_DERIVE,
        255,
        521,
        extra = EC_FLAGS | CKF_EC_CURVENAME,
        derive = Some(ec::derive)
    ),
    // Montgomery and Edwards curves (§2.3.6–§2.3.8): 25519 only.
    entry!(
        CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
        255,
        255,
        extra = ECX_FLAGS,
        generate_key_pair = Some(ecx::generate_montgomery)
    ),
    entry!(
        CKM_EC_EDWARDS_KEY_PAIR_GEN,
        255,
        255,
        extra = ECX_FLAGS,
        generate_key_pair = Some(ecx::generate_edwards)
    ),
    entry!(
        CKM_EDDSA,
        255,
        255,
        extra = ECX_FLAGS,
        sign = Some(ecx::sign),
        verify = Some(ecx::verify)
    ),
    // Generic secrets and HMAC (§6.1, §6.43); sizes in bytes.
    entry!(
        CKM_GENERIC_SECRET_KEY_GEN,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        generate_key = Some(secret::generate_generic)
    ),
    entry!(
        CKM_SHA256_HMAC,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        sign = Some(hmac::sign),
        verify = Some(hmac::verify)
    ),
    entry!(
        CKM_SHA384_HMAC,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        sign = Some(hmac::sign),
        verify = Some(hmac::verify)
    ),
    entry!(
        CKM_SHA512_HMAC,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        sign = Some(hmac::sign),
        verify = Some(hmac::verify)
    ),
    entry!(
        CKM_SHA256_HMAC_GENERAL,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        sign = Some(hmac::sign),
        verify = Some(hmac::verify)
    ),
    entry!(
        CKM_SHA384_HMAC_GENERAL,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        sign = Some(hmac::sign),
        verify = Some(hmac::verify)
    ),
    entry!(
        CKM_SHA512_HMAC_GENERAL,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        sign = Some(hmac::sign),
        verify = Some(hmac::verify)
    ),
    // AES (§6.14); sizes in bytes; AES-192 is not offered.
    entry!(
        CKM_AES_KEY_GEN,
        16,
        32,
        generate_key = Some(secret::generate_aes)
    ),
    entry!(
        CKM_AES_GCM,
        16,
        32,
        encrypt = Some(aes::gcm_encrypt),
        decrypt = Some(aes::gcm_decrypt)
    ),
    entry!(
        CKM_AES_CBC,
        16,
        32,
        encrypt = Some(aes::cbc_encrypt),
        decrypt = Some(aes::cbc_decrypt)
    ),
    entry!(
        CKM_AES_CBC_PAD,
        16,
        32,
        encrypt = Some(aes::cbc_encrypt),
        decrypt = Some(aes::cbc_decrypt)
    ),
    entry!(
        CKM_AES_ECB,
        16,
        32,
        encrypt = Some(aes::ecb_encrypt),
        decrypt = Some(aes::ecb_decrypt)
    ),
    entry!(
        CKM_AES_CTR,
        16,
        32,
        encrypt = Some(aes::ctr_encrypt),
        decrypt = Some(aes::ctr_decrypt)
    ),
    // ChaCha20-Poly1305 (§2.28, §2.29); sizes in bytes.
    entry!(
        CKM_CHACHA20_KEY_GEN,
        32,
        32,
        generate_key = Some(secret::generate_chacha20)
    ),
    entry!(
        CKM_CHACHA20_POLY1305,
        32,
        32,
        encrypt = Some(aes::gcm_encrypt),
        decrypt = Some(aes::gcm_decrypt)
    ),
    // AES key wrap (§2.14.3, RFC 3394 / RFC 5649); wrapping-key sizes in bytes.
    entry!(
        CKM_AES_KEY_WRAP,
        16,
        32,
        wrap = Some(wrap::wrap),
        unwrap = Some(wrap::unwrap)
    ),
    entry!(
        CKM_AES_KEY_WRAP_PAD,
        16,
        32,
        wrap = Some(wrap::wrap),
        unwrap = Some(wrap::unwrap)
    ),
    entry!(
        CKM_AES_KEY_WRAP_KWP,
        16,
        32,
        wrap = Some(wrap::wrap),
        unwrap = Some(wrap::unwrap)
    ),
    // HKDF (PKCS#11 3.0 §2.43); sizes in bytes.
    entry!(
        CKM_HKDF_KEY_GEN,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        generate_key = Some(hkdf::generate)
    ),
    entry!(
        CKM_HKDF_DERIVE,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        derive = Some(hkdf::derive)
    ),
    entry!(
        crate::abi::tls13::CKM_HSMTLS_TLS13_KEY_AND_IV,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        derive = Some(hkdf::tls13_key_and_iv)
    ),
    entry!(
        crate::abi::tls13::CKM_HSMTLS_TLS13_TRAFFIC_SECRET,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        derive = Some(hkdf::tls13_traffic_secret)
    ),
    entry!(
        crate::abi::tls13::CKM_HSMTLS_TLS13_NEXT_SECRET,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        derive = Some(hkdf::tls13_next_secret)
    ),
    entry!(
        crate::abi::tls13::CKM_HSMTLS_TLS13_FINISHED,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        sign = Some(hkdf::tls13_finished),
        sign_usage = CKA_DERIVE
    ),
    entry!(
        CKM_HKDF_DATA,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        derive = Some(hkdf::data)
    ),
    // RSA (§2.1); key sizes in bits.
    entry!(
        CKM_RSA_PKCS_KEY_PAIR_GEN,
        2048,
        4096,
        generate_key_pair = Some(rsa::generate_key_pair)
    ),
    entry!(
        CKM_RSA_PKCS,
        2048,
        4096,
        sign = Some(rsa::sign),
        verify = Some(rsa::verify),
        encrypt = Some(rsa::encrypt),
        decrypt = Some(rsa::decrypt)
    ),
    entry!(
        CKM_RSA_PKCS_PSS,
        2048,
        4096,
        sign = Some(rsa::sign),
        verify = Some(rsa::verify)
    ),
    entry!(
        CKM_SHA256_RSA_PKCS,
        2048,
        4096,
        sign = Some(rsa::sign),
        verify = Some(rsa::verify)
    ),
    entry!(
        CKM_SHA384_RSA_PKCS,
        2048,
        4096,
        sign = Some(rsa::sign),
        verify = Some(rsa::verify)
    ),
    entry!(
        CKM_SHA512_RSA_PKCS,
        2048,
        4096,
        sign = Some(rsa::sign),
        verify = Some(rsa::verify)
    ),
    entry!(
        CKM_SHA256_RSA_PKCS_PSS,
        2048,
        4096,
        sign = Some(rsa::sign),
        verify = Some(rsa::verify)
    ),
    entry!(
        CKM_SHA384_RSA_PKCS_PSS,
        2048,
        4096,
        sign = Some(rsa::sign),
        verify = Some(rsa::verify)
    ),
    entry!(
        CKM_SHA512_RSA_PKCS_PSS,
        2048,
        4096,
        sign = Some(rsa::sign),
        verify = Some(rsa::verify)
    ),
    entry!(
        CKM_RSA_PKCS_OAEP,
        2048,
        4096,
        encrypt = Some(rsa::encrypt),
        decrypt = Some(rsa::decrypt)
    ),
    // hsmtls vendor: RSA pre-master → master secret (docs/token-vendor-mechanisms.md).
    entry!(
        crate::abi::rsa::CKM_HSMTLS_RSA_PREMASTER_TO_MASTER,
        2048,
        4096,
        derive = Some(rsa::premaster_to_master)
    ),
    // TLS 1.2 (PKCS#11 3.0 §6.39, 3.2 for EMS); sizes in bytes.
    entry!(
        CKM_TLS12_MASTER_KEY_DERIVE,
        48,
        48,
        derive = Some(tls::master_derive)
    ),
    entry!(
        CKM_TLS12_MASTER_KEY_DERIVE_DH,
        1,
        1024,
        derive = Some(tls::master_derive)
    ),
    entry!(
        CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE,
        48,
        48,
        derive = Some(tls::master_derive)
    ),
    entry!(
        CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH,
        1,
        1024,
        derive = Some(tls::master_derive)
    ),
    entry!(
        crate::abi::consts::CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE,
        48,
        48,
        derive = Some(tls::master_derive)
    ),
    entry!(
        crate::abi::consts::CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH,
        1,
        1024,
        derive = Some(tls::master_derive)
    ),
    entry!(
        CKM_TLS12_KEY_AND_MAC_DERIVE,
        48,
        48,
        derive = Some(tls::key_and_mac_derive)
    ),
    entry!(
        CKM_TLS12_KEY_SAFE_DERIVE,
        48,
        48,
        derive = Some(tls::key_and_mac_derive)
    ),
    entry!(CKM_TLS12_KDF, 48, 48, derive = Some(tls::kdf)),
    entry!(
        CKM_TLS_PRE_MASTER_KEY_GEN,
        48,
        48,
        generate_key = Some(tls::pre_master_key_gen)
    ),
    // NSS's TLS 1.2 mechanisms with the SHA-256 PRF (pkcs11n.h).
    entry!(
        crate::abi::consts::CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256,
        48,
        48,
        derive = Some(tls::master_derive)
    ),
    entry!(
        crate::abi::consts::CKM_NSS_TLS_MASTER_KEY_DERIVE_DH_SHA256,
        1,
        1024,
        derive = Some(tls::master_derive)
    ),
    entry!(
        crate::abi::consts::CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256,
        48,
        48,
        derive = Some(tls::key_and_mac_derive)
    ),
    entry!(
        crate::abi::consts::CKM_NSS_TLS_PRF_GENERAL_SHA256,
        1,
        secret::MAX_GENERIC_LEN as CK_ULONG,
        sign = Some(tls::prf_general_sign),
        verify = Some(tls::prf_general_verify)
    ),
    entry!(
        CKM_TLS12_MAC,
        48,
        48,
        sign = Some(tls::mac_sign),
        verify = Some(tls::mac_verify)
    ),
    entry!(
        CKM_TLS_MAC,
        48,
        48,
        sign = Some(tls::mac_sign),
        verify = Some(tls::mac_verify)
    ),
];

/// The registry entry of `mechanism` (`CKR_MECHANISM_INVALID` if none).
/// Every operation looks its mechanism up: by binary search in an index
/// sorted once, not by a walk over the table's hundred entries (some
/// twelve kilobytes of function pointers and limits).
pub fn lookup(mechanism: CK_MECHANISM_TYPE) -> Result<&'static Entry> {
    static INDEX: std::sync::OnceLock<Vec<(CK_MECHANISM_TYPE, usize)>> = std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index: Vec<_> = REGISTRY
            .iter()
            .enumerate()
            .map(|(i, e)| (e.mechanism, i))
            .collect();
        index.sort_unstable();
        index
    });
    match index.binary_search_by_key(&mechanism, |&(m, _)| m) {
        Ok(i) => Ok(&REGISTRY[index[i].1]),
        Err(_) => err(CKR_MECHANISM_INVALID),
    }
}

/// `CKM_SHA256/384/512` as a PRF or MAC hash.
pub fn hash_of(prf: CK_MECHANISM_TYPE) -> Result<hsmtls_crypto::HashAlg> {
    use hsmtls_crypto::HashAlg;
    Ok(match prf {
        CKM_SHA256 => HashAlg::Sha256,
        CKM_SHA384 => HashAlg::Sha384,
        CKM_SHA512 => HashAlg::Sha512,
        _ => return err(CKR_MECHANISM_PARAM_INVALID),
    })
}

/// Checks the key type of `key`.
pub fn require_key_type(key: &Object, types: &[CK_KEY_TYPE]) -> Result<()> {
    match key.key_type() {
        Some(t) if types.contains(&t) => Ok(()),
        _ => err(CKR_KEY_TYPE_INCONSISTENT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_consistent() {
        for (i, e) in REGISTRY.iter().enumerate() {
            assert!(e.flags() != 0, "{:#x} does nothing", e.mechanism);
            assert!(e.min_key <= e.max_key);
            assert!(
                REGISTRY[i + 1..].iter().all(|o| o.mechanism != e.mechanism),
                "{:#x} twice",
                e.mechanism
            );
            assert_eq!(lookup(e.mechanism).unwrap().mechanism, e.mechanism);
        }
        assert_eq!(lookup(CKM_MD5).unwrap_err().rv(), CKR_MECHANISM_INVALID);
    }
}
