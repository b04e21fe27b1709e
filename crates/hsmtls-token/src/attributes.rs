//! Attribute rules (PKCS#11 3.0 §4.1–§4.10): which attributes each class
//! and key type has, their encodings, defaults, what may be given when an
//! object is created, generated, derived or copied, what may be changed
//! afterwards, and the one-way transitions of `CKA_SENSITIVE` and
//! `CKA_EXTRACTABLE` with their shadows `CKA_ALWAYS_SENSITIVE` and
//! `CKA_NEVER_EXTRACTABLE`.
//!
//! Choices where the specification leaves the default to the token:
//! private and secret keys default to `CKA_PRIVATE`, `CKA_SENSITIVE` true
//! and `CKA_EXTRACTABLE` false; `CKA_WRAP`, `CKA_UNWRAP` and `CKA_DERIVE`
//! default to false, the other usage flags to true.
//! `CKA_ALLOWED_MECHANISMS` cannot be changed after creation.

use std::sync::OnceLock;

use cryptoki_sys::*;

use crate::error::{err, Error, Result};
use crate::mechanisms::{ec, ecx};
use crate::object::Object;

/// How an attribute's value is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `CK_BBOOL`.
    Bool,
    /// `CK_ULONG`.
    Ulong,
    /// A byte string.
    Bytes,
    /// `CK_DATE` (8 bytes) or empty.
    Date,
    /// An array of `CK_MECHANISM_TYPE`.
    MechList,
    /// An attribute array (`CKF_ARRAY_ATTRIBUTE`: `CKA_WRAP_TEMPLATE`,
    /// `CKA_UNWRAP_TEMPLATE`), stored as [`Object::serialize`] of the
    /// inner template; no array inside an array.
    Template,
}

/// The encoding of attribute `t`; `None` for attributes the token does
/// not know.
pub fn kind(t: CK_ATTRIBUTE_TYPE) -> Option<Kind> {
    Some(match t {
        CKA_TOKEN
        | CKA_PRIVATE
        | CKA_MODIFIABLE
        | CKA_COPYABLE
        | CKA_DESTROYABLE
        | CKA_TRUSTED
        | CKA_SENSITIVE
        | CKA_ENCRYPT
        | CKA_DECRYPT
        | CKA_WRAP
        | CKA_UNWRAP
        | CKA_SIGN
        | CKA_SIGN_RECOVER
        | CKA_VERIFY
        | CKA_VERIFY_RECOVER
        | CKA_DERIVE
        | CKA_EXTRACTABLE
        | CKA_LOCAL
        | CKA_NEVER_EXTRACTABLE
        | CKA_ALWAYS_SENSITIVE
        | CKA_WRAP_WITH_TRUSTED
        | CKA_ALWAYS_AUTHENTICATE => Kind::Bool,
        CKA_CLASS
        | CKA_KEY_TYPE
        | CKA_CERTIFICATE_TYPE
        | CKA_CERTIFICATE_CATEGORY
        | CKA_VALUE_LEN
        | CKA_MODULUS_BITS
        | CKA_KEY_GEN_MECHANISM
        | CKA_NAME_HASH_ALGORITHM
        | CKA_JAVA_MIDP_SECURITY_DOMAIN => Kind::Ulong,
        CKA_START_DATE | CKA_END_DATE => Kind::Date,
        CKA_ALLOWED_MECHANISMS => Kind::MechList,
        CKA_WRAP_TEMPLATE | CKA_UNWRAP_TEMPLATE => Kind::Template,
        CKA_LABEL
        | CKA_APPLICATION
        | CKA_VALUE
        | CKA_OBJECT_ID
        | CKA_ISSUER
        | CKA_SERIAL_NUMBER
        | CKA_SUBJECT
        | CKA_ID
        | CKA_EC_PARAMS
        | CKA_EC_POINT
        | CKA_CHECK_VALUE
        | CKA_URL
        | CKA_HASH_OF_SUBJECT_PUBLIC_KEY
        | CKA_HASH_OF_ISSUER_PUBLIC_KEY
        | CKA_PUBLIC_KEY_INFO
        | CKA_UNIQUE_ID
        | CKA_MODULUS
        | CKA_PUBLIC_EXPONENT
        | CKA_PRIVATE_EXPONENT
        | CKA_PRIME_1
        | CKA_PRIME_2
        | CKA_EXPONENT_1
        | CKA_EXPONENT_2
        | CKA_COEFFICIENT => Kind::Bytes,
        _ => return None,
    })
}

/// Whether `t` of an object of `class` is secret: never returned when
/// the object is sensitive or unextractable, sealed at rest.
pub fn is_secret(class: CK_OBJECT_CLASS, t: CK_ATTRIBUTE_TYPE) -> bool {
    matches!(class, CKO_PRIVATE_KEY | CKO_SECRET_KEY) && crate::object::may_be_secret(t)
}

const COMMON: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_CLASS,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_MODIFIABLE,
    CKA_LABEL,
    CKA_COPYABLE,
    CKA_DESTROYABLE,
];
const DATA: &[CK_ATTRIBUTE_TYPE] = &[CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE];
const CERT: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_CERTIFICATE_TYPE,
    CKA_TRUSTED,
    CKA_CERTIFICATE_CATEGORY,
    CKA_CHECK_VALUE,
    CKA_START_DATE,
    CKA_END_DATE,
    CKA_PUBLIC_KEY_INFO,
    CKA_SUBJECT,
    CKA_ID,
    CKA_ISSUER,
    CKA_SERIAL_NUMBER,
    CKA_VALUE,
    CKA_URL,
    CKA_HASH_OF_SUBJECT_PUBLIC_KEY,
    CKA_HASH_OF_ISSUER_PUBLIC_KEY,
    CKA_JAVA_MIDP_SECURITY_DOMAIN,
    CKA_NAME_HASH_ALGORITHM,
];
const KEY: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_KEY_TYPE,
    CKA_ID,
    CKA_START_DATE,
    CKA_END_DATE,
    CKA_DERIVE,
    CKA_LOCAL,
    CKA_KEY_GEN_MECHANISM,
    CKA_ALLOWED_MECHANISMS,
];
const PUBLIC: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_WRAP_TEMPLATE,
    CKA_SUBJECT,
    CKA_ENCRYPT,
    CKA_VERIFY,
    CKA_VERIFY_RECOVER,
    CKA_WRAP,
    CKA_TRUSTED,
    CKA_PUBLIC_KEY_INFO,
];
const PRIVATE: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_UNWRAP_TEMPLATE,
    CKA_SUBJECT,
    CKA_SENSITIVE,
    CKA_DECRYPT,
    CKA_SIGN,
    CKA_SIGN_RECOVER,
    CKA_UNWRAP,
    CKA_EXTRACTABLE,
    CKA_ALWAYS_SENSITIVE,
    CKA_NEVER_EXTRACTABLE,
    CKA_WRAP_WITH_TRUSTED,
    CKA_ALWAYS_AUTHENTICATE,
    CKA_PUBLIC_KEY_INFO,
];
const SECRET: &[CK_ATTRIBUTE_TYPE] = &[
    CKA_WRAP_TEMPLATE,
    CKA_UNWRAP_TEMPLATE,
    CKA_SENSITIVE,
    CKA_ENCRYPT,
    CKA_DECRYPT,
    CKA_SIGN,
    CKA_VERIFY,
    CKA_WRAP,
    CKA_UNWRAP,
    CKA_EXTRACTABLE,
    CKA_ALWAYS_SENSITIVE,
    CKA_NEVER_EXTRACTABLE,
    CKA_WRAP_WITH_TRUSTED,
    CKA_TRUSTED,
    CKA_VALUE,
    CKA_VALUE_LEN,
];

/// Whether `key_type` is one of the EC key types (Weierstrass, Montgomery,
/// Edwards), which share `CKA_EC_PARAMS` and `CKA_EC_POINT`.
fn is_ec(key_type: Option<CK_KEY_TYPE>) -> bool {
    matches!(key_type, Some(CKK_EC | CKK_EC_MONTGOMERY | CKK_EC_EDWARDS))
}

/// Whether an object of `class` (and `key_type`) has attribute `t`.
pub fn valid_for(
    class: CK_OBJECT_CLASS,
    key_type: Option<CK_KEY_TYPE>,
    t: CK_ATTRIBUTE_TYPE,
) -> bool {
    if COMMON.contains(&t) {
        return true;
    }
    match class {
        CKO_DATA => DATA.contains(&t),
        CKO_CERTIFICATE => CERT.contains(&t),
        CKO_PUBLIC_KEY => {
            KEY.contains(&t)
                || PUBLIC.contains(&t)
                || (is_ec(key_type) && matches!(t, CKA_EC_PARAMS | CKA_EC_POINT))
                || (key_type == Some(CKK_RSA)
                    && matches!(t, CKA_MODULUS | CKA_MODULUS_BITS | CKA_PUBLIC_EXPONENT))
        }
        CKO_PRIVATE_KEY => {
            KEY.contains(&t)
                || PRIVATE.contains(&t)
                || (is_ec(key_type) && matches!(t, CKA_EC_PARAMS | CKA_VALUE))
                || (key_type == Some(CKK_RSA)
                    && matches!(
                        t,
                        CKA_MODULUS
                            | CKA_PUBLIC_EXPONENT
                            | CKA_PRIVATE_EXPONENT
                            | CKA_PRIME_1
                            | CKA_PRIME_2
                            | CKA_EXPONENT_1
                            | CKA_EXPONENT_2
                            | CKA_COEFFICIENT
                    ))
        }
        CKO_SECRET_KEY => KEY.contains(&t) || SECRET.contains(&t),
        _ => false,
    }
}

/// The template inside an attribute-array value ([`Kind::Template`]):
/// well formed, every inner attribute valid by the rules of
/// [`parse_template`], none an array itself.
pub fn inner_template(value: &[u8]) -> Result<Object> {
    let inner = Object::deserialize(value).map_err(|_| Error::new(CKR_ATTRIBUTE_VALUE_INVALID))?;
    let attrs: Vec<(CK_ATTRIBUTE_TYPE, &[u8])> = inner.iter().collect();
    if attrs.iter().any(|&(t, _)| kind(t) == Some(Kind::Template)) {
        return err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    let parsed = parse_template(&attrs).map_err(|_| Error::new(CKR_ATTRIBUTE_VALUE_INVALID))?;
    // Canonical: what parsing normalised must equal what was stored.
    if parsed.iter().ne(inner.iter()) {
        return err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    Ok(parsed)
}

/// Whether `key` matches every attribute of `template` (the
/// `CKA_WRAP_TEMPLATE` rule: only keys matching the wrapping key's
/// template may be wrapped with it).
pub fn matches_template(key: &Object, template: &Object) -> bool {
    template.iter().all(|(t, v)| key.get(t) == Some(v))
}

/// Parses a template given at the ABI: unknown types are
/// `CKR_ATTRIBUTE_TYPE_INVALID`, wrong lengths
/// `CKR_ATTRIBUTE_VALUE_INVALID`, the same type twice with different
/// values `CKR_TEMPLATE_INCONSISTENT`. Booleans are normalised to 0/1.
pub fn parse_template(attrs: &[(CK_ATTRIBUTE_TYPE, &[u8])]) -> Result<Object> {
    let mut out = Object::new();
    for &(t, v) in attrs {
        let k = kind(t);
        let ok = match k {
            None => return err(CKR_ATTRIBUTE_TYPE_INVALID),
            Some(Kind::Bool) => v.len() == 1,
            Some(Kind::Ulong) => v.len() == 8,
            Some(Kind::Date) => v.is_empty() || v.len() == 8,
            Some(Kind::MechList) => v.len() % 8 == 0,
            Some(Kind::Bytes) => true,
            Some(Kind::Template) => inner_template(v).is_ok(),
        };
        if !ok {
            return err(CKR_ATTRIBUTE_VALUE_INVALID);
        }
        let normalised = [u8::from(v.first().is_some_and(|&b| b != 0))];
        let v = if k == Some(Kind::Bool) {
            &normalised[..]
        } else {
            v
        };
        if let Some(prev) = out.get(t) {
            if prev != v {
                return err(CKR_TEMPLATE_INCONSISTENT);
            }
        }
        out.set_bytes(t, v);
    }
    Ok(out)
}

/// A raw template (type, value) and what [`parse_template`] made of it.
type ParsedTemplate = (Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>, Object);

/// How many parsed templates each thread keeps.
const PARSED_CACHE: usize = 8;

thread_local! {
    /// Recent [`parse_template`] results, newest last: a TLS handshake
    /// sends the token the same few templates over and over.
    static PARSED: std::cell::RefCell<Vec<ParsedTemplate>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`parse_template`], from the thread's recent results when the same
/// attributes with the same values were parsed before (errors, and
/// templates that carry key material, are not kept).
pub fn parse_template_cached(attrs: &[(CK_ATTRIBUTE_TYPE, &[u8])]) -> Result<Object> {
    if attrs.iter().any(|&(t, _)| crate::object::may_be_secret(t)) {
        return parse_template(attrs);
    }
    let same = |raw: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]| {
        raw.len() == attrs.len()
            && raw
                .iter()
                .zip(attrs)
                .all(|((t, v), (u, w))| t == u && v.as_slice() == *w)
    };
    let hit = PARSED.with_borrow(|cache| {
        cache
            .iter()
            .rev()
            .find(|(raw, _)| same(raw))
            .map(|(_, parsed)| parsed.clone_attributes())
    });
    if let Some(parsed) = hit {
        return Ok(parsed);
    }
    let parsed = parse_template(attrs)?;
    PARSED.with_borrow_mut(|cache| {
        if cache.len() == PARSED_CACHE {
            cache.remove(0);
        }
        let raw = attrs.iter().map(|&(t, v)| (t, v.to_vec())).collect();
        cache.push((raw, parsed.clone_attributes()));
    });
    Ok(parsed)
}

/// How an object comes into being; decides `CKA_LOCAL`,
/// `CKA_KEY_GEN_MECHANISM`, `CKA_ALWAYS_SENSITIVE`, `CKA_NEVER_EXTRACTABLE`
/// and which attributes the caller may give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `C_CreateObject`: the caller supplies the value.
    Create,
    /// `C_GenerateKey(Pair)` with this mechanism.
    Generate(CK_MECHANISM_TYPE),
    /// `C_DeriveKey` from a base key.
    Derive {
        /// `CKA_SENSITIVE` of the base key.
        base_sensitive: bool,
        /// `CKA_EXTRACTABLE` of the base key.
        base_extractable: bool,
        /// `CKA_ALWAYS_SENSITIVE` of the base key.
        base_always_sensitive: bool,
        /// `CKA_NEVER_EXTRACTABLE` of the base key.
        base_never_extractable: bool,
    },
}

impl Origin {
    /// The derivation origin when a second key (`other`, e.g. an HKDF salt
    /// key) also feeds the derivation: the new key must be protected as
    /// much as either input, and claims only what both inputs can.
    pub fn also_from(self, other: &Object) -> Self {
        match (self, Origin::derived_from(other)) {
            (
                Origin::Derive {
                    base_sensitive: s1,
                    base_extractable: e1,
                    base_always_sensitive: a1,
                    base_never_extractable: n1,
                },
                Origin::Derive {
                    base_sensitive: s2,
                    base_extractable: e2,
                    base_always_sensitive: a2,
                    base_never_extractable: n2,
                },
            ) => Origin::Derive {
                base_sensitive: s1 || s2,
                base_extractable: e1 && e2,
                base_always_sensitive: a1 && a2,
                base_never_extractable: n1 && n2,
            },
            (o, _) => o,
        }
    }

    /// The derivation origin for base key `base`.
    pub fn derived_from(base: &Object) -> Self {
        Origin::Derive {
            base_sensitive: base.bool(CKA_SENSITIVE),
            base_extractable: base.bool(CKA_EXTRACTABLE),
            base_always_sensitive: base.bool(CKA_ALWAYS_SENSITIVE),
            base_never_extractable: base.bool(CKA_NEVER_EXTRACTABLE),
        }
    }
}

fn implied(tpl: &Object, t: CK_ATTRIBUTE_TYPE, implied: Option<CK_ULONG>) -> Result<CK_ULONG> {
    match (tpl.ulong(t), implied) {
        (Some(a), Some(b)) if a != b => err(CKR_TEMPLATE_INCONSISTENT),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) => err(CKR_TEMPLATE_INCOMPLETE),
    }
}

/// Builds a new object from the caller's template `tpl` (already parsed),
/// the class and key type the mechanism implies, and the attributes the
/// mechanism computed (`computed`: values, points, parameters).
pub fn build_object(
    tpl: &Object,
    origin: Origin,
    class: Option<CK_OBJECT_CLASS>,
    key_type: Option<CK_KEY_TYPE>,
    computed: Object,
) -> Result<Object> {
    let Prepared {
        object: mut obj,
        class,
        key_type,
    } = prepared(tpl, origin, class, key_type)?;
    let is_key = key_type.is_some();
    let secretish = matches!(class, CKO_PRIVATE_KEY | CKO_SECRET_KEY);
    // What the mechanism computed over both.
    let generated = !matches!(origin, Origin::Create);
    for (t, v) in computed.iter() {
        if generated && tpl.has(t) && tpl.get(t) != Some(v) && t != CKA_EC_PARAMS {
            return err(CKR_TEMPLATE_INCONSISTENT);
        }
        obj.set_bytes(t, v);
    }
    if generated && (tpl.has(CKA_VALUE) || tpl.has(CKA_EC_POINT)) {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    check_key_material(&mut obj, class, key_type, origin)?;
    if secretish {
        let sensitive = obj.bool(CKA_SENSITIVE);
        let extractable = obj.bool(CKA_EXTRACTABLE);
        let (local, gen_mech, always, never) = match origin {
            Origin::Create => (false, CK_UNAVAILABLE_INFORMATION, false, false),
            Origin::Generate(m) => (true, m, sensitive, !extractable),
            Origin::Derive {
                base_sensitive,
                base_extractable,
                base_always_sensitive,
                base_never_extractable,
            } => {
                // Derived keys inherit sensitivity and cannot become
                // extractable (PKCS#11 3.0 §4.10 footnotes; policy).
                if base_sensitive && !sensitive || !base_extractable && extractable {
                    return err(CKR_TEMPLATE_INCONSISTENT);
                }
                (
                    false,
                    CK_UNAVAILABLE_INFORMATION,
                    base_always_sensitive && sensitive,
                    base_never_extractable && !extractable,
                )
            }
        };
        obj.set_bool(CKA_LOCAL, local);
        obj.set_ulong(CKA_KEY_GEN_MECHANISM, gen_mech);
        obj.set_bool(CKA_ALWAYS_SENSITIVE, always);
        obj.set_bool(CKA_NEVER_EXTRACTABLE, never);
    } else if is_key {
        let (local, gen_mech) = match origin {
            Origin::Generate(m) => (true, m),
            _ => (false, CK_UNAVAILABLE_INFORMATION),
        };
        obj.set_bool(CKA_LOCAL, local);
        obj.set_ulong(CKA_KEY_GEN_MECHANISM, gen_mech);
    }
    Ok(obj)
}

/// A new object before the mechanism's output: the class defaults, the
/// caller's template over them, checked.
struct Prepared {
    object: Object,
    class: CK_OBJECT_CLASS,
    key_type: Option<CK_KEY_TYPE>,
}

impl Prepared {
    /// A copy with a key cache of its own.
    fn copy(&self) -> Self {
        Self {
            object: self.object.clone_attributes(),
            class: self.class,
            key_type: self.key_type,
        }
    }
}

/// What [`prepare`] was given.
struct PrepareKey {
    tpl: Object,
    class: Option<CK_OBJECT_CLASS>,
    key_type: Option<CK_KEY_TYPE>,
}

/// How many [`prepare`] results each thread keeps.
const PREPARED_CACHE: usize = 8;

thread_local! {
    /// Recent [`prepare`] results, newest last. A TLS key schedule derives
    /// a dozen keys per handshake from three or four templates; checking
    /// one against the rules and laying it over the defaults is most of
    /// the cost of a derivation, and the result depends on nothing else.
    static PREPARED: std::cell::RefCell<Vec<(PrepareKey, Prepared)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`prepare`], from the thread's recent results when the same template
/// and implied class and key type were prepared before (errors, and
/// templates that carry key material or come from `C_CreateObject`, are
/// not kept).
fn prepared(
    tpl: &Object,
    origin: Origin,
    class: Option<CK_OBJECT_CLASS>,
    key_type: Option<CK_KEY_TYPE>,
) -> Result<Prepared> {
    // Templates with key material (an imported value) are not kept.
    if matches!(origin, Origin::Create) || tpl.has_key_material() {
        return prepare(tpl, class, key_type);
    }
    let hit = PREPARED.with_borrow(|cache| {
        cache.iter().rev().find_map(|(k, p)| {
            (k.class == class && k.key_type == key_type && k.tpl.same_attributes(tpl))
                .then(|| p.copy())
        })
    });
    if let Some(p) = hit {
        return Ok(p);
    }
    let p = prepare(tpl, class, key_type)?;
    PREPARED.with_borrow_mut(|cache| {
        if cache.len() == PREPARED_CACHE {
            cache.remove(0);
        }
        let key = PrepareKey {
            tpl: tpl.clone_attributes(),
            class,
            key_type,
        };
        cache.push((key, p.copy()));
    });
    Ok(p)
}

/// The first half of [`build_object`]: class and key type resolved, the
/// template's attributes checked against them and laid over the class
/// defaults, usage flags checked.
fn prepare(
    tpl: &Object,
    class: Option<CK_OBJECT_CLASS>,
    key_type: Option<CK_KEY_TYPE>,
) -> Result<Prepared> {
    let class = implied(tpl, CKA_CLASS, class)?;
    let is_key = matches!(class, CKO_PUBLIC_KEY | CKO_PRIVATE_KEY | CKO_SECRET_KEY);
    if !is_key && !matches!(class, CKO_DATA | CKO_CERTIFICATE) {
        return err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    let key_type = if is_key {
        let kt = implied(tpl, CKA_KEY_TYPE, key_type)?;
        let fits = match class {
            CKO_SECRET_KEY => {
                matches!(kt, CKK_GENERIC_SECRET | CKK_AES | CKK_HKDF | CKK_CHACHA20)
            }
            _ => is_ec(Some(kt)) || kt == CKK_RSA,
        };
        if !fits {
            return err(CKR_TEMPLATE_INCONSISTENT);
        }
        Some(kt)
    } else {
        if tpl.has(CKA_KEY_TYPE) {
            return err(CKR_ATTRIBUTE_TYPE_INVALID);
        }
        None
    };
    for (t, _) in tpl.iter() {
        if !valid_for(class, key_type, t) {
            return err(CKR_ATTRIBUTE_TYPE_INVALID);
        }
        if matches!(
            t,
            CKA_LOCAL
                | CKA_ALWAYS_SENSITIVE
                | CKA_NEVER_EXTRACTABLE
                | CKA_KEY_GEN_MECHANISM
                | CKA_UNIQUE_ID
        ) {
            return err(CKR_ATTRIBUTE_READ_ONLY);
        }
        if t == CKA_TRUSTED {
            // Only the SO may mark objects trusted; not offered yet.
            return err(CKR_ATTRIBUTE_READ_ONLY);
        }
    }
    if class == CKO_CERTIFICATE {
        if tpl.ulong(CKA_CERTIFICATE_TYPE) != Some(CKC_X_509) {
            return err(if tpl.has(CKA_CERTIFICATE_TYPE) {
                CKR_ATTRIBUTE_VALUE_INVALID
            } else {
                CKR_TEMPLATE_INCOMPLETE
            });
        }
        if !tpl.has(CKA_VALUE) || !tpl.has(CKA_SUBJECT) {
            return err(CKR_TEMPLATE_INCOMPLETE);
        }
    }
    let mut obj = defaults(class);
    if is_key {
        obj.set_ulong(CKA_KEY_TYPE, key_type.unwrap_or(CKK_GENERIC_SECRET));
    }
    // The caller's values over the defaults.
    for (t, v) in tpl.iter() {
        obj.set_bytes(t, v);
    }
    // A key made for wrapping is not an encryption key unless asked.
    if class == CKO_SECRET_KEY && (obj.bool(CKA_WRAP) || obj.bool(CKA_UNWRAP)) {
        for t in [CKA_ENCRYPT, CKA_DECRYPT] {
            if !tpl.has(t) {
                obj.set_bool(t, false);
            }
        }
    }
    check_usage(&obj)?;
    Ok(Prepared {
        object: obj,
        class,
        key_type,
    })
}

/// The default attributes of a new object of `class` (its key type
/// aside), built once per class and cloned: a derived session key has
/// some thirty attributes, and copying a finished set is much cheaper
/// than building it attribute by attribute for every derivation.
fn defaults(class: CK_OBJECT_CLASS) -> Object {
    static CACHE: OnceLock<[Object; 5]> = OnceLock::new();
    const CLASSES: [CK_OBJECT_CLASS; 5] = [
        CKO_DATA,
        CKO_CERTIFICATE,
        CKO_PUBLIC_KEY,
        CKO_PRIVATE_KEY,
        CKO_SECRET_KEY,
    ];
    let all = CACHE.get_or_init(|| CLASSES.map(build_defaults));
    match CLASSES.iter().position(|&c| c == class) {
        Some(i) => all[i].clone_attributes(),
        None => build_defaults(class),
    }
}

fn build_defaults(class: CK_OBJECT_CLASS) -> Object {
    let mut obj = Object::new();
    let secretish = matches!(class, CKO_PRIVATE_KEY | CKO_SECRET_KEY);
    obj.set_ulong(CKA_CLASS, class);
    obj.set_bool(CKA_TOKEN, false);
    obj.set_bool(CKA_PRIVATE, secretish);
    obj.set_bool(CKA_MODIFIABLE, true);
    obj.set_bool(CKA_COPYABLE, true);
    obj.set_bool(CKA_DESTROYABLE, true);
    obj.set_bytes(CKA_LABEL, &[]);
    match class {
        CKO_DATA => {
            obj.set_bytes(CKA_APPLICATION, &[]);
            obj.set_bytes(CKA_OBJECT_ID, &[]);
            obj.set_bytes(CKA_VALUE, &[]);
        }
        CKO_CERTIFICATE => {
            obj.set_bool(CKA_TRUSTED, false);
            obj.set_ulong(CKA_CERTIFICATE_CATEGORY, 0);
            for t in [
                CKA_ID,
                CKA_ISSUER,
                CKA_SERIAL_NUMBER,
                CKA_START_DATE,
                CKA_END_DATE,
            ] {
                obj.set_bytes(t, &[]);
            }
        }
        _ => {
            for t in [CKA_ID, CKA_START_DATE, CKA_END_DATE, CKA_ALLOWED_MECHANISMS] {
                obj.set_bytes(t, &[]);
            }
            obj.set_bool(CKA_DERIVE, false);
            let public_usage: &[(CK_ATTRIBUTE_TYPE, bool)] = match class {
                CKO_PUBLIC_KEY => &[
                    (CKA_ENCRYPT, true),
                    (CKA_VERIFY, true),
                    (CKA_VERIFY_RECOVER, false),
                    (CKA_WRAP, false),
                    (CKA_TRUSTED, false),
                ],
                CKO_PRIVATE_KEY => &[
                    (CKA_DECRYPT, true),
                    (CKA_SIGN, true),
                    (CKA_SIGN_RECOVER, false),
                    (CKA_UNWRAP, false),
                    (CKA_WRAP_WITH_TRUSTED, false),
                    (CKA_ALWAYS_AUTHENTICATE, false),
                    (CKA_SENSITIVE, true),
                    (CKA_EXTRACTABLE, false),
                ],
                _ => &[
                    (CKA_ENCRYPT, true),
                    (CKA_DECRYPT, true),
                    (CKA_SIGN, true),
                    (CKA_VERIFY, true),
                    (CKA_WRAP, false),
                    (CKA_UNWRAP, false),
                    (CKA_WRAP_WITH_TRUSTED, false),
                    (CKA_TRUSTED, false),
                    (CKA_SENSITIVE, true),
                    (CKA_EXTRACTABLE, false),
                ],
            };
            for &(t, v) in public_usage {
                obj.set_bool(t, v);
            }
            if matches!(class, CKO_PUBLIC_KEY | CKO_PRIVATE_KEY) {
                obj.set_bytes(CKA_SUBJECT, &[]);
            }
            // Empty attribute arrays: no constraint.
            if matches!(class, CKO_PUBLIC_KEY | CKO_SECRET_KEY) {
                obj.set_bytes(CKA_WRAP_TEMPLATE, &[]);
            }
            if matches!(class, CKO_PRIVATE_KEY | CKO_SECRET_KEY) {
                obj.set_bytes(CKA_UNWRAP_TEMPLATE, &[]);
            }
        }
    }
    obj
}

/// Checks (and normalises) the key material of a new key object.
fn check_key_material(
    obj: &mut Object,
    class: CK_OBJECT_CLASS,
    key_type: Option<CK_KEY_TYPE>,
    origin: Origin,
) -> Result<()> {
    match (class, key_type) {
        (CKO_SECRET_KEY, Some(kt)) => {
            if matches!(origin, Origin::Create) && obj.has(CKA_VALUE_LEN) {
                return err(CKR_TEMPLATE_INCONSISTENT);
            }
            let len = match obj.get(CKA_VALUE) {
                Some(v) => v.len(),
                None => return err(CKR_TEMPLATE_INCOMPLETE),
            };
            let ok = match kt {
                CKK_AES => matches!(len, 16 | 24 | 32),
                CKK_CHACHA20 => len == 32,
                _ => len >= 1,
            };
            if !ok {
                return err(if matches!(origin, Origin::Create) {
                    CKR_ATTRIBUTE_VALUE_INVALID
                } else {
                    CKR_KEY_SIZE_RANGE
                });
            }
            obj.set_ulong(CKA_VALUE_LEN, len as CK_ULONG);
        }
        (CKO_PRIVATE_KEY, Some(CKK_EC)) => {
            let (Some(params), Some(value)) = (obj.get(CKA_EC_PARAMS), obj.get(CKA_VALUE)) else {
                return err(CKR_TEMPLATE_INCOMPLETE);
            };
            let curve = ec::curve_from_params(params)?;
            // A scalar the token drew itself is in range by construction;
            // only imported ones are checked (a scalar multiplication).
            if matches!(origin, Origin::Create) {
                ec::check_private_scalar(curve, value)?;
            }
        }
        (CKO_PRIVATE_KEY, Some(kt @ (CKK_EC_MONTGOMERY | CKK_EC_EDWARDS))) => {
            let (Some(params), Some(value)) = (obj.get(CKA_EC_PARAMS), obj.get(CKA_VALUE)) else {
                return err(CKR_TEMPLATE_INCOMPLETE);
            };
            ecx::check_private(kt, params, value)?;
        }
        (CKO_PUBLIC_KEY, Some(kt @ (CKK_EC_MONTGOMERY | CKK_EC_EDWARDS))) => {
            let (Some(params), Some(point)) = (obj.get(CKA_EC_PARAMS), obj.get(CKA_EC_POINT))
            else {
                return err(CKR_TEMPLATE_INCOMPLETE);
            };
            ecx::check_public(kt, params)?;
            let der = ecx::normalize_public(point)?;
            obj.set(CKA_EC_POINT, der);
        }
        (CKO_PRIVATE_KEY, Some(CKK_RSA)) => crate::mechanisms::rsa::check_private(obj)?,
        (CKO_PUBLIC_KEY, Some(CKK_RSA)) => {
            let bits = crate::mechanisms::rsa::check_public(obj)?;
            if matches!(origin, Origin::Create) && obj.has(CKA_MODULUS_BITS) {
                return err(CKR_TEMPLATE_INCONSISTENT);
            }
            obj.set_ulong(CKA_MODULUS_BITS, bits);
        }
        (CKO_PUBLIC_KEY, Some(CKK_EC)) => {
            let (Some(params), Some(point)) = (obj.get(CKA_EC_PARAMS), obj.get(CKA_EC_POINT))
            else {
                return err(CKR_TEMPLATE_INCOMPLETE);
            };
            let curve = ec::curve_from_params(params)?;
            let der = ec::normalize_point(curve, point)?;
            obj.set(CKA_EC_POINT, der);
        }
        _ => {}
    }
    Ok(())
}

/// Checks that attribute `t` of `obj` may be changed to `v` by
/// `C_SetAttributeValue` (or by the template of `C_CopyObject` when
/// `copying`). `v` is already parsed by [`parse_template`].
pub fn check_change(obj: &Object, t: CK_ATTRIBUTE_TYPE, v: &[u8], copying: bool) -> Result<()> {
    let class = obj.class();
    if !valid_for(class, obj.key_type(), t) {
        return err(CKR_ATTRIBUTE_TYPE_INVALID);
    }
    let new_true = v.first() == Some(&1);
    let ok = match t {
        CKA_LABEL | CKA_ID | CKA_START_DATE | CKA_END_DATE | CKA_SUBJECT | CKA_ENCRYPT
        | CKA_DECRYPT | CKA_SIGN | CKA_VERIFY | CKA_SIGN_RECOVER | CKA_VERIFY_RECOVER
        | CKA_WRAP | CKA_UNWRAP | CKA_DERIVE | CKA_APPLICATION => true,
        CKA_VALUE | CKA_OBJECT_ID => class == CKO_DATA,
        // One-way: false → true only (PKCS#11 3.0 §4.9, table 35 note 11).
        CKA_SENSITIVE => new_true || !obj.bool(CKA_SENSITIVE),
        // One-way: true → false only.
        CKA_EXTRACTABLE | CKA_COPYABLE => !new_true || obj.bool(t),
        CKA_TOKEN | CKA_PRIVATE | CKA_MODIFIABLE | CKA_DESTROYABLE => copying,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        err(CKR_ATTRIBUTE_READ_ONLY)
    }
}

/// Usage flags that must not meet on one key: a key that wraps or
/// unwraps cannot decrypt, or wrapping a key and decrypting the result
/// (or decrypting a wrapped key meant for `C_UnwrapKey`) would reveal it.
/// Secret keys only (the AES key-wrap mechanisms).
pub fn check_usage(obj: &Object) -> Result<()> {
    if obj.class() == CKO_SECRET_KEY
        && (obj.bool(CKA_WRAP) || obj.bool(CKA_UNWRAP))
        && obj.bool(CKA_DECRYPT)
    {
        return err(CKR_TEMPLATE_INCONSISTENT);
    }
    Ok(())
}

/// The mechanisms the key produced by a TLS master-secret derivation may
/// be used with: nothing but the TLS mechanisms.
pub const TLS_MASTER_SECRET_MECHANISMS: &[CK_MECHANISM_TYPE] = &[
    CKM_TLS12_KEY_AND_MAC_DERIVE,
    CKM_TLS12_KEY_SAFE_DERIVE,
    CKM_TLS12_MAC,
    CKM_TLS_MAC,
    CKM_TLS12_KDF,
    crate::abi::consts::CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256,
    crate::abi::consts::CKM_NSS_TLS_PRF_GENERAL_SHA256,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::ulong_bytes;

    fn tpl(attrs: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> Result<Object> {
        let borrowed: Vec<(CK_ATTRIBUTE_TYPE, &[u8])> =
            attrs.iter().map(|(t, v)| (*t, v.as_slice())).collect();
        parse_template(&borrowed)
    }

    #[test]
    fn template_parsing_rules() {
        assert_eq!(
            tpl(&[(0xdead_beef, vec![])]).unwrap_err().rv(),
            CKR_ATTRIBUTE_TYPE_INVALID
        );
        assert_eq!(
            tpl(&[(CKA_TOKEN, vec![1, 1])]).unwrap_err().rv(),
            CKR_ATTRIBUTE_VALUE_INVALID
        );
        assert_eq!(
            tpl(&[(CKA_TOKEN, vec![1]), (CKA_TOKEN, vec![0])])
                .unwrap_err()
                .rv(),
            CKR_TEMPLATE_INCONSISTENT
        );
        assert!(tpl(&[(CKA_TOKEN, vec![7]), (CKA_TOKEN, vec![1])]).is_ok());
    }

    #[test]
    fn secret_key_defaults_and_one_way_flags() {
        let t = tpl(&[
            (CKA_CLASS, ulong_bytes(CKO_SECRET_KEY)),
            (CKA_KEY_TYPE, ulong_bytes(CKK_AES)),
            (CKA_VALUE, vec![0; 16]),
        ])
        .unwrap();
        let o = build_object(&t, Origin::Create, None, None, Object::new()).unwrap();
        assert!(o.bool(CKA_SENSITIVE) && !o.bool(CKA_EXTRACTABLE));
        assert!(!o.bool(CKA_ALWAYS_SENSITIVE) && !o.bool(CKA_LOCAL));
        assert_eq!(o.ulong(CKA_VALUE_LEN), Some(16));
        assert_eq!(
            check_change(&o, CKA_SENSITIVE, &[0], false)
                .unwrap_err()
                .rv(),
            CKR_ATTRIBUTE_READ_ONLY
        );
        assert_eq!(
            check_change(&o, CKA_EXTRACTABLE, &[1], false)
                .unwrap_err()
                .rv(),
            CKR_ATTRIBUTE_READ_ONLY
        );
        assert!(check_change(&o, CKA_LABEL, b"x", false).is_ok());
        assert!(check_change(&o, CKA_VALUE, &[0; 16], false).is_err());
    }

    #[test]
    fn incomplete_and_inconsistent() {
        let t = tpl(&[(CKA_CLASS, ulong_bytes(CKO_SECRET_KEY))]).unwrap();
        assert_eq!(
            build_object(&t, Origin::Create, None, None, Object::new())
                .unwrap_err()
                .rv(),
            CKR_TEMPLATE_INCOMPLETE
        );
        let t = tpl(&[
            (CKA_CLASS, ulong_bytes(CKO_SECRET_KEY)),
            (CKA_KEY_TYPE, ulong_bytes(CKK_AES)),
            (CKA_VALUE, vec![0; 15]),
        ])
        .unwrap();
        assert_eq!(
            build_object(&t, Origin::Create, None, None, Object::new())
                .unwrap_err()
                .rv(),
            CKR_ATTRIBUTE_VALUE_INVALID
        );
        let t = tpl(&[(CKA_CLASS, ulong_bytes(CKO_PUBLIC_KEY))]).unwrap();
        assert_eq!(
            build_object(
                &t,
                Origin::Generate(0),
                Some(CKO_PRIVATE_KEY),
                Some(CKK_EC),
                Object::new()
            )
            .unwrap_err()
            .rv(),
            CKR_TEMPLATE_INCONSISTENT
        );
    }

    #[test]
    fn derived_keys_cannot_lose_sensitivity() {
        let base = Origin::Derive {
            base_sensitive: true,
            base_extractable: false,
            base_always_sensitive: true,
            base_never_extractable: true,
        };
        let mut computed = Object::new();
        computed.set(CKA_VALUE, vec![1; 48]);
        let t = tpl(&[(CKA_SENSITIVE, vec![0])]).unwrap();
        let e = build_object(
            &t,
            base,
            Some(CKO_SECRET_KEY),
            Some(CKK_GENERIC_SECRET),
            computed.clone(),
        );
        assert_eq!(e.unwrap_err().rv(), CKR_TEMPLATE_INCONSISTENT);
        let t = tpl(&[(CKA_EXTRACTABLE, vec![1])]).unwrap();
        let e = build_object(
            &t,
            base,
            Some(CKO_SECRET_KEY),
            Some(CKK_GENERIC_SECRET),
            computed.clone(),
        );
        assert_eq!(e.unwrap_err().rv(), CKR_TEMPLATE_INCONSISTENT);
        let o = build_object(
            &Object::new(),
            base,
            Some(CKO_SECRET_KEY),
            Some(CKK_GENERIC_SECRET),
            computed,
        )
        .unwrap();
        assert!(o.bool(CKA_ALWAYS_SENSITIVE) && o.bool(CKA_NEVER_EXTRACTABLE));
    }

    #[test]
    fn prepared_templates_are_reused_only_when_equal() {
        let origin = |sensitive| Origin::Derive {
            base_sensitive: sensitive,
            base_extractable: !sensitive,
            base_always_sensitive: sensitive,
            base_never_extractable: sensitive,
        };
        let value = |b: u8| {
            let mut c = Object::new();
            c.set(CKA_VALUE, vec![b; 32]);
            c
        };
        let build = |t: &Object, o: Origin, c: Object| {
            build_object(t, o, Some(CKO_SECRET_KEY), Some(CKK_GENERIC_SECRET), c)
        };
        let derive = tpl(&[(CKA_DERIVE, vec![1]), (CKA_SIGN, vec![0])]).unwrap();
        let first = build(&derive, origin(true), value(1)).unwrap();
        // The same template again (now prepared): the same object, with
        // this call's value and origin.
        let again = build(&derive, origin(true), value(1)).unwrap();
        assert!(again.same_attributes(&first));
        let other = build(&derive, origin(false), value(2)).unwrap();
        assert_eq!(other.get(CKA_VALUE), Some(&[2u8; 32][..]));
        assert!(!other.bool(CKA_ALWAYS_SENSITIVE) && first.bool(CKA_ALWAYS_SENSITIVE));
        // One attribute more or different: prepared anew.
        let sign = tpl(&[(CKA_DERIVE, vec![1]), (CKA_SIGN, vec![1])]).unwrap();
        let o = build(&sign, origin(true), value(1)).unwrap();
        assert!(o.bool(CKA_SIGN) && !first.bool(CKA_SIGN));
        let labelled = tpl(&[
            (CKA_DERIVE, vec![1]),
            (CKA_SIGN, vec![0]),
            (CKA_LABEL, b"x".to_vec()),
        ])
        .unwrap();
        let o = build(&labelled, origin(true), value(1)).unwrap();
        assert_eq!(o.get(CKA_LABEL), Some(&b"x"[..]));
        assert_eq!(first.get(CKA_LABEL), Some(&[][..]));
        // A rejected template stays rejected however often it comes.
        let bad = tpl(&[(CKA_LOCAL, vec![1])]).unwrap();
        for _ in 0..2 {
            let e = build(&bad, origin(true), value(1)).unwrap_err();
            assert_eq!(e.rv(), CKR_ATTRIBUTE_READ_ONLY);
        }
        // Key material in a template is never kept.
        let with_value = tpl(&[(CKA_VALUE, vec![9; 16])]).unwrap();
        assert!(with_value.has_key_material() && !derive.has_key_material());
    }

    #[test]
    fn parsed_templates_are_reused_only_when_equal() {
        let class = CKO_SECRET_KEY.to_ne_bytes();
        let a: [(CK_ATTRIBUTE_TYPE, &[u8]); 3] =
            [(CKA_CLASS, &class), (CKA_DERIVE, &[1]), (CKA_LABEL, b"x")];
        let first = parse_template_cached(&a).unwrap();
        let again = parse_template_cached(&a).unwrap();
        assert!(again.same_attributes(&first));
        assert!(first.same_attributes(&parse_template(&a).unwrap()));
        // Another value or one attribute fewer: parsed anew.
        let b: [(CK_ATTRIBUTE_TYPE, &[u8]); 3] =
            [(CKA_CLASS, &class), (CKA_DERIVE, &[1]), (CKA_LABEL, b"y")];
        assert_eq!(
            parse_template_cached(&b).unwrap().get(CKA_LABEL),
            Some(&b"y"[..])
        );
        assert!(!parse_template_cached(&a[..2]).unwrap().has(CKA_LABEL));
        // A refused template stays refused; one with key material parses
        // as usual.
        let bad: [(CK_ATTRIBUTE_TYPE, &[u8]); 1] = [(CKA_DERIVE, &[1, 1])];
        for _ in 0..2 {
            assert_eq!(
                parse_template_cached(&bad).unwrap_err().rv(),
                CKR_ATTRIBUTE_VALUE_INVALID
            );
        }
        let secret: [(CK_ATTRIBUTE_TYPE, &[u8]); 1] = [(CKA_VALUE, &[7; 16])];
        for _ in 0..2 {
            assert_eq!(
                parse_template_cached(&secret).unwrap().get(CKA_VALUE),
                Some(&[7u8; 16][..])
            );
        }
    }
}
