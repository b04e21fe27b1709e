//! Objects (PKCS#11 3.0 §4): a set of attributes. Values are kept in
//! [`Zeroizing`] buffers and never printed: `Debug` shows attribute types
//! only.

use std::sync::{Arc, OnceLock};

use cryptoki_sys::*;
use hsmtls_crypto::aead::{AeadAlg, AeadKey};
use hsmtls_crypto::hash::{HashAlg, KeyedHmac};
use hsmtls_crypto::rsa::RsaPrivateKey;
use hsmtls_crypto::signing::SigningKey;
use hsmtls_crypto::Curve;
use zeroize::Zeroizing;

use crate::attributes;
use crate::error::{err, Result};

/// An object: attribute type → value bytes (`CK_BBOOL` is one byte,
/// `CK_ULONG` is 8 bytes in native order, as at the ABI).
#[derive(Clone, Default)]
pub struct Object {
    attrs: Attrs,
    /// Keys scheduled from the key material on first use, shared by the
    /// clones made after it exists; reset whenever the key material
    /// changes. Made on first use: most session objects never schedule a
    /// key, and an allocation per object is a measurable part of a
    /// derivation.
    cache: OnceLock<Arc<KeyCache>>,
}

/// The attributes of an object. The boolean ones (most of a key's) are
/// two bit sets over [`BOOLS`]; the others are sorted by type in one
/// allocation, found by binary search. A session key is built from its
/// class's default set for every `C_DeriveKey` and dropped with every
/// `C_DestroyObject`: copying two words and a dozen values instead of
/// some thirty, and inserting into a vector with room to spare, is most
/// of what makes a token derivation cheap.
#[derive(Default)]
struct Attrs {
    /// Bit `i`: [`BOOLS`]`[i]` is set.
    bools_set: u32,
    /// Bit `i`: [`BOOLS`]`[i]` is true (only where set).
    bools_on: u32,
    /// Bit `i`: [`BOOLS`]`[i]` is in `rest`, with a value other than one
    /// byte 0 or 1 (which only a corrupt store could hold).
    bools_in_rest: u32,
    /// Every other attribute.
    rest: Vec<(CK_ATTRIBUTE_TYPE, Value)>,
}

/// The `CK_BBOOL` attributes, by type (ascending, for ordered iteration).
const BOOLS: [CK_ATTRIBUTE_TYPE; 22] = [
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_TRUSTED,
    CKA_SENSITIVE,
    CKA_ENCRYPT,
    CKA_DECRYPT,
    CKA_WRAP,
    CKA_UNWRAP,
    CKA_SIGN,
    CKA_SIGN_RECOVER,
    CKA_VERIFY,
    CKA_VERIFY_RECOVER,
    CKA_DERIVE,
    CKA_EXTRACTABLE,
    CKA_LOCAL,
    CKA_NEVER_EXTRACTABLE,
    CKA_ALWAYS_SENSITIVE,
    CKA_MODIFIABLE,
    CKA_COPYABLE,
    CKA_DESTROYABLE,
    CKA_ALWAYS_AUTHENTICATE,
    CKA_WRAP_WITH_TRUSTED,
];

/// One past the largest boolean attribute type.
const BOOL_TYPES_END: usize = CKA_WRAP_WITH_TRUSTED as usize + 1;

/// Attribute type → 1 + its index in [`BOOLS`] (0: not a boolean): one
/// load per lookup, which every read and write of an attribute makes.
static BOOL_INDEX: [u8; BOOL_TYPES_END] = {
    let mut table = [0u8; BOOL_TYPES_END];
    let mut i = 0;
    while i < BOOLS.len() {
        table[BOOLS[i] as usize] = i as u8 + 1;
        i += 1;
    }
    table
};

/// The bit of boolean attribute `t`.
fn bool_bit(t: CK_ATTRIBUTE_TYPE) -> Option<u32> {
    let index = *BOOL_INDEX.get(usize::try_from(t).ok()?)?;
    (index != 0).then(|| 1u32 << (index - 1))
}

const FALSE: &[u8] = &[0];
const TRUE: &[u8] = &[1];

/// Room for the attributes a new object gets beyond its class defaults
/// (key type, value, length, generation mechanism, the caller's extras).
const SPARE: usize = 8;

impl Clone for Attrs {
    fn clone(&self) -> Self {
        let mut rest = Vec::with_capacity(self.rest.len() + SPARE);
        rest.extend(self.rest.iter().cloned());
        Self {
            bools_set: self.bools_set,
            bools_on: self.bools_on,
            bools_in_rest: self.bools_in_rest,
            rest,
        }
    }
}

impl Attrs {
    fn find(&self, t: CK_ATTRIBUTE_TYPE) -> core::result::Result<usize, usize> {
        self.rest.binary_search_by_key(&t, |(k, _)| *k)
    }

    fn get(&self, t: CK_ATTRIBUTE_TYPE) -> Option<&[u8]> {
        if let Some(bit) = bool_bit(t) {
            if self.bools_set & bit != 0 {
                return Some(if self.bools_on & bit != 0 {
                    TRUE
                } else {
                    FALSE
                });
            }
            if self.bools_in_rest & bit == 0 {
                return None;
            }
        }
        self.find(t).ok().map(|i| self.rest[i].1.as_slice())
    }

    fn has(&self, t: CK_ATTRIBUTE_TYPE) -> bool {
        match bool_bit(t) {
            Some(bit) => (self.bools_set | self.bools_in_rest) & bit != 0,
            None => self.find(t).is_ok(),
        }
    }

    /// Sets `t` to `v`, a boolean in the bit sets when it is one.
    fn set(&mut self, t: CK_ATTRIBUTE_TYPE, v: &[u8]) {
        match (bool_bit(t), v) {
            (Some(bit), [b @ (0 | 1)]) => self.set_bool(t, bit, *b == 1),
            _ => self.insert(t, Value::new(t, v)),
        }
    }

    fn set_bool(&mut self, t: CK_ATTRIBUTE_TYPE, bit: u32, on: bool) {
        if self.bools_in_rest & bit != 0 {
            // A malformed value stored before is replaced.
            self.remove_rest(t);
            self.bools_in_rest &= !bit;
        }
        self.bools_set |= bit;
        if on {
            self.bools_on |= bit;
        } else {
            self.bools_on &= !bit;
        }
    }

    /// Stores `v` among the other attributes (a boolean whose value is
    /// not one byte 0 or 1 included).
    fn insert(&mut self, t: CK_ATTRIBUTE_TYPE, v: Value) {
        if let Some(bit) = bool_bit(t) {
            self.bools_set &= !bit;
            self.bools_on &= !bit;
            self.bools_in_rest |= bit;
        }
        match self.find(t) {
            Ok(i) => self.rest[i].1 = v,
            Err(i) => self.rest.insert(i, (t, v)),
        }
    }

    fn remove_rest(&mut self, t: CK_ATTRIBUTE_TYPE) {
        if let Ok(i) = self.find(t) {
            self.rest.remove(i);
        }
    }

    fn remove(&mut self, t: CK_ATTRIBUTE_TYPE) {
        match bool_bit(t) {
            Some(bit) => {
                self.bools_set &= !bit;
                self.bools_on &= !bit;
                if self.bools_in_rest & bit != 0 {
                    self.remove_rest(t);
                    self.bools_in_rest &= !bit;
                }
            }
            None => self.remove_rest(t),
        }
    }

    /// Every attribute, by type.
    fn iter(&self) -> impl Iterator<Item = (CK_ATTRIBUTE_TYPE, &[u8])> + '_ {
        let bools = BOOLS
            .iter()
            .enumerate()
            .filter(|&(i, _)| self.bools_set & (1 << i) != 0)
            .map(|(i, &t)| {
                let v = if self.bools_on & (1 << i) != 0 {
                    TRUE
                } else {
                    FALSE
                };
                (t, v)
            })
            .peekable();
        let rest = self.rest.iter().map(|(t, v)| (*t, v.as_slice())).peekable();
        Merged { a: bools, b: rest }
    }
}

/// Two iterators sorted by attribute type, merged in order.
struct Merged<A: Iterator, B: Iterator> {
    a: core::iter::Peekable<A>,
    b: core::iter::Peekable<B>,
}

impl<'a, A, B> Iterator for Merged<A, B>
where
    A: Iterator<Item = (CK_ATTRIBUTE_TYPE, &'a [u8])>,
    B: Iterator<Item = (CK_ATTRIBUTE_TYPE, &'a [u8])>,
{
    type Item = (CK_ATTRIBUTE_TYPE, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match (self.a.peek(), self.b.peek()) {
            (Some(x), Some(y)) if x.0 <= y.0 => self.a.next(),
            (Some(_), None) => self.a.next(),
            _ => self.b.next(),
        }
    }
}

/// The longest value kept inline in an attribute (booleans, `CK_ULONG`s,
/// empty values, short labels and IDs, AES-128 keys): most attributes of
/// an object then need no allocation of their own.
const INLINE: usize = 30;

/// One attribute value: inline when short, else on the heap. Heap values
/// are always wiped when dropped; inline ones when their attribute can
/// hold key material ([`may_be_secret`]) — wiping every boolean of every
/// short-lived session key would cost more than deriving it.
#[derive(Clone)]
enum Value {
    Inline {
        len: u8,
        wipe: bool,
        bytes: [u8; INLINE],
    },
    Heap(Zeroizing<Vec<u8>>),
}

/// Attribute types whose change invalidates the cached key schedules.
fn key_material(t: CK_ATTRIBUTE_TYPE) -> bool {
    may_be_secret(t)
        || matches!(
            t,
            CKA_EC_PARAMS | CKA_KEY_TYPE | CKA_MODULUS | CKA_PUBLIC_EXPONENT
        )
}

/// Attribute types that hold key material in some object class (the
/// class-aware rule is [`attributes::is_secret`]).
pub(crate) fn may_be_secret(t: CK_ATTRIBUTE_TYPE) -> bool {
    matches!(
        t,
        CKA_VALUE
            | CKA_PRIVATE_EXPONENT
            | CKA_PRIME_1
            | CKA_PRIME_2
            | CKA_EXPONENT_1
            | CKA_EXPONENT_2
            | CKA_COEFFICIENT
    )
}

impl Value {
    fn new(t: CK_ATTRIBUTE_TYPE, v: &[u8]) -> Self {
        if v.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..v.len()].copy_from_slice(v);
            Self::Inline {
                len: v.len() as u8,
                wipe: may_be_secret(t),
                bytes,
            }
        } else {
            Self::Heap(Zeroizing::new(v.to_vec()))
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes, .. } => &bytes[..usize::from(*len)],
            Self::Heap(v) => v,
        }
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        if let Self::Inline {
            wipe: true, bytes, ..
        } = self
        {
            zeroize::Zeroize::zeroize(bytes);
        }
    }
}

/// The scheduled forms of an object's key material. Each is made on first
/// use, so a long-term key is not re-parsed and re-validated for every
/// signature, and a record key not re-scheduled for every
/// `C_EncryptInit` (one per TLS record) or `C_SignInit`.
#[derive(Default)]
struct KeyCache {
    /// An EC private key's signing key.
    signing: OnceLock<Arc<SigningKey>>,
    /// A secret key's AEAD key (AES-GCM or ChaCha20-Poly1305).
    aead: OnceLock<Arc<AeadKey>>,
    /// A secret key's HMAC key states.
    hmac: OnceLock<Arc<KeyedHmac>>,
    /// An RSA private key, checked once (with its blinding state, which
    /// a key rebuilt per operation would recompute every time).
    rsa: OnceLock<Arc<RsaPrivateKey>>,
}

impl KeyCache {
    fn is_empty(&self) -> bool {
        self.signing.get().is_none()
            && self.aead.get().is_none()
            && self.hmac.get().is_none()
            && self.rsa.get().is_none()
    }
}

impl core::fmt::Debug for Object {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Object")
            .field(
                "types",
                &self.attrs.iter().map(|(t, _)| t).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A `CK_ULONG` as stored.
pub fn ulong_bytes(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

/// Reads a stored `CK_ULONG`.
pub fn bytes_ulong(b: &[u8]) -> Option<CK_ULONG> {
    Some(CK_ULONG::from_ne_bytes(b.try_into().ok()?))
}

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `t`, if set.
    pub fn get(&self, t: CK_ATTRIBUTE_TYPE) -> Option<&[u8]> {
        self.attrs.get(t)
    }

    /// Sets `t` to `v`.
    pub fn set(&mut self, t: CK_ATTRIBUTE_TYPE, v: Vec<u8>) {
        self.touch(t);
        if v.len() <= INLINE {
            // The caller's buffer may hold key material: wiped as dropped.
            self.attrs.set(t, &Zeroizing::new(v));
        } else {
            self.attrs.insert(t, Value::Heap(Zeroizing::new(v)));
        }
    }

    /// Sets `t` to a copy of `v`.
    pub fn set_bytes(&mut self, t: CK_ATTRIBUTE_TYPE, v: &[u8]) {
        self.touch(t);
        self.attrs.set(t, v);
    }

    /// Sets the `CK_BBOOL` `t`.
    pub fn set_bool(&mut self, t: CK_ATTRIBUTE_TYPE, v: bool) {
        self.set_bytes(t, &[u8::from(v)]);
    }

    /// Sets the `CK_ULONG` `t`.
    pub fn set_ulong(&mut self, t: CK_ATTRIBUTE_TYPE, v: CK_ULONG) {
        self.set_bytes(t, &v.to_ne_bytes());
    }

    /// Before `t` changes: a change of key material forgets the cache.
    fn touch(&mut self, t: CK_ATTRIBUTE_TYPE) {
        if key_material(t) {
            self.reset_cache();
        }
    }

    /// Forgets the scheduled keys (the key material changed). An empty
    /// cache no clone shares is kept: building an object sets its key
    /// type and value without allocating a new cache each time.
    fn reset_cache(&mut self) {
        if self
            .cache
            .get()
            .is_some_and(|c| Arc::strong_count(c) > 1 || !c.is_empty())
        {
            self.cache = OnceLock::new();
        }
    }

    /// The key cache, made on first use.
    fn key_cache(&self) -> &KeyCache {
        self.cache.get_or_init(Arc::default)
    }

    /// A copy of the attributes with a cache of its own (a template to
    /// build new objects from, not a view of the same key).
    pub fn clone_attributes(&self) -> Object {
        Object {
            attrs: self.attrs.clone(),
            cache: OnceLock::new(),
        }
    }

    /// Removes `t`.
    pub fn remove(&mut self, t: CK_ATTRIBUTE_TYPE) {
        self.touch(t);
        self.attrs.remove(t);
    }

    /// The AEAD key of this secret key for `alg`, scheduled once (the
    /// algorithm follows from the key type and length, which the caller
    /// checked).
    pub fn aead_key(&self, alg: AeadAlg) -> Result<Arc<AeadKey>> {
        if let Some(key) = self.key_cache().aead.get().filter(|k| k.algorithm() == alg) {
            return Ok(key.clone());
        }
        let key = Arc::new(AeadKey::new(alg, self.secret_value()?)?);
        let _ = self.key_cache().aead.set(key.clone());
        Ok(key)
    }

    /// The RSA private key of this object, built by `build` on first use.
    pub fn rsa_private_key(
        &self,
        build: impl FnOnce() -> Result<RsaPrivateKey>,
    ) -> Result<Arc<RsaPrivateKey>> {
        if let Some(key) = self.key_cache().rsa.get() {
            return Ok(key.clone());
        }
        let key = Arc::new(build()?);
        let _ = self.key_cache().rsa.set(key.clone());
        Ok(key)
    }

    /// The HMAC key of this secret key over `alg`, keyed once.
    pub fn hmac_key(&self, alg: HashAlg) -> Result<Arc<KeyedHmac>> {
        if let Some(key) = self.key_cache().hmac.get().filter(|k| k.algorithm() == alg) {
            return Ok(key.clone());
        }
        let key = Arc::new(KeyedHmac::new(alg, self.secret_value()?));
        let _ = self.key_cache().hmac.set(key.clone());
        Ok(key)
    }

    /// The ECDSA signing key of this EC private key on `curve`, parsed and
    /// validated once.
    pub fn ec_signing_key(&self, curve: Curve) -> Result<Arc<SigningKey>> {
        if let Some(key) = self.key_cache().signing.get() {
            return Ok(key.clone());
        }
        let key = Arc::new(SigningKey::from_ec_scalar(
            curve,
            self.secret_value()?,
            None,
        )?);
        let _ = self.key_cache().signing.set(key.clone());
        Ok(key)
    }

    /// The Ed25519 signing key of this Edwards private key, derived from
    /// its seed once.
    pub fn ed25519_signing_key(&self) -> Result<Arc<SigningKey>> {
        if let Some(key) = self.key_cache().signing.get() {
            return Ok(key.clone());
        }
        let key = Arc::new(SigningKey::from_ed25519_seed(self.secret_value()?)?);
        let _ = self.key_cache().signing.set(key.clone());
        Ok(key)
    }

    /// Whether both objects have the same attributes with the same
    /// values (their key caches aside).
    pub fn same_attributes(&self, other: &Object) -> bool {
        let (a, b) = (&self.attrs, &other.attrs);
        a.bools_set == b.bools_set
            && a.bools_on == b.bools_on
            && a.bools_in_rest == b.bools_in_rest
            && a.rest.len() == b.rest.len()
            && a.rest
                .iter()
                .zip(&b.rest)
                .all(|((t, v), (u, w))| t == u && v.as_slice() == w.as_slice())
    }

    /// Whether an attribute that may hold key material is set.
    pub fn has_key_material(&self) -> bool {
        self.attrs.rest.iter().any(|(t, _)| may_be_secret(*t))
    }

    /// Whether `t` is set.
    pub fn has(&self, t: CK_ATTRIBUTE_TYPE) -> bool {
        self.attrs.has(t)
    }

    /// A boolean attribute; absent is `false`.
    pub fn bool(&self, t: CK_ATTRIBUTE_TYPE) -> bool {
        self.get(t)
            .is_some_and(|v| v.first().is_some_and(|&b| b != 0))
    }

    /// A `CK_ULONG` attribute.
    pub fn ulong(&self, t: CK_ATTRIBUTE_TYPE) -> Option<CK_ULONG> {
        self.get(t).and_then(bytes_ulong)
    }

    /// `CKA_CLASS`.
    pub fn class(&self) -> CK_OBJECT_CLASS {
        self.ulong(CKA_CLASS).unwrap_or(CK_UNAVAILABLE_INFORMATION)
    }

    /// `CKA_KEY_TYPE`, for keys.
    pub fn key_type(&self) -> Option<CK_KEY_TYPE> {
        self.ulong(CKA_KEY_TYPE)
    }

    /// The secret value (`CKA_VALUE` of a secret or private key).
    pub fn secret_value(&self) -> Result<&[u8]> {
        match self.get(CKA_VALUE) {
            Some(v) => Ok(v),
            // A token object whose sealed part is not loaded (no login).
            None => err(CKR_USER_NOT_LOGGED_IN),
        }
    }

    /// The mechanisms this key may be used with (`CKA_ALLOWED_MECHANISMS`);
    /// `None` when unrestricted.
    pub fn allowed_mechanisms(&self) -> Option<Vec<CK_MECHANISM_TYPE>> {
        let raw = self.get(CKA_ALLOWED_MECHANISMS)?;
        if raw.is_empty() {
            return None;
        }
        Some(raw.chunks_exact(8).filter_map(bytes_ulong).collect())
    }

    /// Iterates over all attributes.
    pub fn iter(&self) -> impl Iterator<Item = (CK_ATTRIBUTE_TYPE, &[u8])> {
        self.attrs.iter()
    }

    /// Splits into (public part, secret part) for storage: secret
    /// attributes (see [`attributes::is_secret`]) go to the second.
    pub fn split_secret(&self) -> (Object, Object) {
        let class = self.class();
        let mut public = Object::new();
        let mut secret = Object::new();
        for (t, v) in self.iter() {
            if attributes::is_secret(class, t) {
                secret.set_bytes(t, v);
            } else {
                public.set_bytes(t, v);
            }
        }
        (public, secret)
    }

    /// Adds every attribute of `other`.
    pub fn merge(&mut self, other: Object) {
        for (t, v) in other.iter() {
            self.set_bytes(t, v);
        }
    }

    /// Serialises: for each attribute, type (u64 LE), length (u32 LE),
    /// value. The storage format of an attribute set.
    #[allow(clippy::useless_conversion)] // CK_ULONG is u32 on some targets
    pub fn serialize(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        for (t, v) in self.iter() {
            out.extend_from_slice(&u64::from(t).to_le_bytes());
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.extend_from_slice(v);
        }
        out
    }

    /// The inverse of [`Object::serialize`]; malformed input is
    /// `CKR_DEVICE_ERROR` (a corrupt store).
    pub fn deserialize(mut data: &[u8]) -> Result<Self> {
        let mut obj = Object::new();
        while !data.is_empty() {
            if data.len() < 12 {
                return err(CKR_DEVICE_ERROR);
            }
            let t = u64::from_le_bytes(data[..8].try_into().unwrap_or_default());
            let len = u32::from_le_bytes(data[8..12].try_into().unwrap_or_default()) as usize;
            data = &data[12..];
            if data.len() < len {
                return err(CKR_DEVICE_ERROR);
            }
            obj.set(t as CK_ATTRIBUTE_TYPE, data[..len].to_vec());
            data = &data[len..];
        }
        Ok(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialize_round_trip_and_truncation() {
        let mut o = Object::new();
        o.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
        o.set(CKA_VALUE, vec![1, 2, 3]);
        o.set(CKA_LABEL, vec![]);
        let s = o.serialize();
        let back = Object::deserialize(&s).unwrap();
        assert_eq!(back.get(CKA_VALUE), Some(&[1u8, 2, 3][..]));
        assert_eq!(back.class(), CKO_SECRET_KEY);
        for cut in 1..s.len() {
            // Every strict prefix either parses to fewer attributes or fails.
            if let Ok(p) = Object::deserialize(&s[..cut]) {
                assert!(p.iter().count() < 3);
            }
        }
        assert!(!format!("{o:?}").contains("[1, 2, 3]"));
    }

    #[test]
    fn booleans_are_every_bool_attribute_in_type_order() {
        assert!(BOOLS.windows(2).all(|w| w[0] < w[1]));
        for t in 0..0x1000 {
            let is_bool = attributes::kind(t) == Some(attributes::Kind::Bool);
            assert_eq!(bool_bit(t).is_some(), is_bool, "attribute {t:#x}");
        }
    }

    #[test]
    fn booleans_and_other_values_read_back_in_type_order() {
        let mut o = Object::new();
        o.set_bytes(CKA_LABEL, b"l");
        o.set_bool(CKA_SIGN, true);
        o.set_ulong(CKA_CLASS, CKO_SECRET_KEY);
        o.set_bool(CKA_TOKEN, false);
        o.set_bool(CKA_SIGN, false);
        o.set_bool(CKA_DERIVE, true);
        assert_eq!(o.get(CKA_SIGN), Some(&[0u8][..]));
        assert_eq!(o.get(CKA_DERIVE), Some(&[1u8][..]));
        assert!(o.has(CKA_TOKEN) && !o.has(CKA_VERIFY) && o.get(CKA_VERIFY).is_none());
        let types: Vec<_> = o.iter().map(|(t, _)| t).collect();
        assert_eq!(
            types,
            [CKA_CLASS, CKA_TOKEN, CKA_LABEL, CKA_SIGN, CKA_DERIVE]
        );
        // A boolean with a malformed value (a corrupt store) is kept as
        // given, and replaced by a well-formed one.
        o.set(CKA_DERIVE, vec![7, 7]);
        assert_eq!(o.get(CKA_DERIVE), Some(&[7u8, 7][..]));
        assert!(o.bool(CKA_DERIVE));
        assert_eq!(o.iter().count(), 5);
        o.set_bool(CKA_DERIVE, false);
        assert_eq!(o.get(CKA_DERIVE), Some(&[0u8][..]));
        assert_eq!(o.iter().count(), 5);
        o.remove(CKA_SIGN);
        o.remove(CKA_LABEL);
        let back = Object::deserialize(&o.serialize()).unwrap();
        let all: Vec<_> = back.iter().map(|(t, v)| (t, v.to_vec())).collect();
        assert_eq!(
            all,
            [
                (CKA_CLASS, CKO_SECRET_KEY.to_ne_bytes().to_vec()),
                (CKA_TOKEN, vec![0]),
                (CKA_DERIVE, vec![0]),
            ]
        );
    }

    #[test]
    fn split_puts_secret_value_apart() {
        let mut o = Object::new();
        o.set_ulong(CKA_CLASS, CKO_PRIVATE_KEY);
        o.set(CKA_VALUE, vec![9; 32]);
        o.set(CKA_LABEL, b"k".to_vec());
        let (p, s) = o.split_secret();
        assert!(!p.has(CKA_VALUE) && p.has(CKA_LABEL));
        assert!(s.has(CKA_VALUE) && !s.has(CKA_LABEL));
    }
}
