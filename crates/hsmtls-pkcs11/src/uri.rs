//! PKCS#11 URIs (RFC 7512): `pkcs11:token=gateway;object=client;type=private;id=%01?pin-source=file:/etc/pin`.
//!
//! Path attributes (`;`-separated) name the token and the object; query
//! attributes (`&`-separated) carry the PIN and the module. Values are
//! percent-decoded (RFC 7512 §2.3); `id` is raw bytes, the rest UTF-8.

use core::fmt;

/// The `type` path attribute (RFC 7512 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectType {
    /// `type=private`: `CKO_PRIVATE_KEY`.
    Private,
    /// `type=public`: `CKO_PUBLIC_KEY`.
    Public,
    /// `type=cert`: `CKO_CERTIFICATE`.
    Cert,
    /// `type=secret-key`: `CKO_SECRET_KEY`.
    SecretKey,
    /// `type=data`: `CKO_DATA`.
    Data,
}

/// A parsed PKCS#11 URI. Unknown attributes are ignored, as RFC 7512 §2.3
/// asks of consumers ("MUST ignore" vendor-specific ones is not said, but
/// they cannot match anything we look for).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token`: the token label.
    pub token: Option<String>,
    /// `manufacturer`: the token's manufacturer ID.
    pub manufacturer: Option<String>,
    /// `model`: the token model.
    pub model: Option<String>,
    /// `serial`: the token serial number.
    pub serial: Option<String>,
    /// `slot-id`: the slot ID.
    pub slot_id: Option<u64>,
    /// `object`: the object label (`CKA_LABEL`).
    pub object: Option<String>,
    /// `id`: the object ID (`CKA_ID`), raw bytes.
    pub id: Option<Vec<u8>>,
    /// `type`: the object class.
    pub object_type: Option<ObjectType>,
    /// `pin-source` (query): where to read the PIN (a path or `file:` URI).
    pub pin_source: Option<String>,
    /// `pin-value` (query): the PIN itself. Shown as `***` by `Debug`.
    pub pin_value: Option<String>,
    /// `module-path` (query): the module to load.
    pub module_path: Option<String>,
    /// `module-name` (query): the module's name.
    pub module_name: Option<String>,
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Uri")
            .field("token", &self.token)
            .field("slot_id", &self.slot_id)
            .field("object", &self.object)
            .field("id", &self.id)
            .field("object_type", &self.object_type)
            .field("pin_source", &self.pin_source)
            .field("pin_value", &self.pin_value.as_ref().map(|_| "***"))
            .field("module_path", &self.module_path)
            .finish()
    }
}

/// Why a URI was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UriError(pub String);

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad PKCS#11 URI: {}", self.0)
    }
}

impl std::error::Error for UriError {}

fn percent_decode(value: &str) -> Result<Vec<u8>, UriError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| core::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| UriError(format!("bad percent escape in {value:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(name: &str, value: &str) -> Result<String, UriError> {
    String::from_utf8(percent_decode(value)?).map_err(|_| UriError(format!("{name} is not UTF-8")))
}

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI.
    ///
    /// ```
    /// use hsmtls_pkcs11::Pkcs11Uri;
    /// let uri = Pkcs11Uri::parse("pkcs11:token=gateway;object=client;type=private;id=%01").unwrap();
    /// assert_eq!(uri.token.as_deref(), Some("gateway"));
    /// assert_eq!(uri.id.as_deref(), Some(&[1u8][..]));
    /// ```
    pub fn parse(uri: &str) -> Result<Self, UriError> {
        let rest = uri
            .strip_prefix("pkcs11:")
            .ok_or_else(|| UriError("does not start with \"pkcs11:\"".into()))?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut out = Pkcs11Uri::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| UriError(format!("path attribute {attr:?} has no value")))?;
            let dup = |set: bool| {
                if set {
                    Err(UriError(format!("{name} given twice")))
                } else {
                    Ok(())
                }
            };
            match name {
                "token" => {
                    dup(out.token.is_some())?;
                    out.token = Some(text(name, value)?);
                }
                "manufacturer" => {
                    dup(out.manufacturer.is_some())?;
                    out.manufacturer = Some(text(name, value)?);
                }
                "model" => {
                    dup(out.model.is_some())?;
                    out.model = Some(text(name, value)?);
                }
                "serial" => {
                    dup(out.serial.is_some())?;
                    out.serial = Some(text(name, value)?);
                }
                "slot-id" => {
                    dup(out.slot_id.is_some())?;
                    out.slot_id = Some(
                        text(name, value)?
                            .parse()
                            .map_err(|_| UriError(format!("slot-id {value:?} is no number")))?,
                    );
                }
                "object" => {
                    dup(out.object.is_some())?;
                    out.object = Some(text(name, value)?);
                }
                "id" => {
                    dup(out.id.is_some())?;
                    out.id = Some(percent_decode(value)?);
                }
                "type" => {
                    dup(out.object_type.is_some())?;
                    out.object_type = Some(match value {
                        "private" => ObjectType::Private,
                        "public" => ObjectType::Public,
                        "cert" => ObjectType::Cert,
                        "secret-key" => ObjectType::SecretKey,
                        "data" => ObjectType::Data,
                        other => return Err(UriError(format!("unknown type {other:?}"))),
                    });
                }
                _ => {}
            }
        }
        for attr in query.into_iter().flat_map(|q| q.split('&')) {
            if attr.is_empty() {
                continue;
            }
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| UriError(format!("query attribute {attr:?} has no value")))?;
            match name {
                "pin-source" => out.pin_source = Some(text(name, value)?),
                "pin-value" => out.pin_value = Some(text(name, value)?),
                "module-path" => out.module_path = Some(text(name, value)?),
                "module-name" => out.module_name = Some(text(name, value)?),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The file path of `pin-source`: a plain path or a `file:` URI
    /// (RFC 7512 §2.4 leaves the form to the application).
    pub fn pin_file(&self) -> Option<&str> {
        self.pin_source.as_deref().map(|s| {
            s.strip_prefix("file://")
                .or(s.strip_prefix("file:"))
                .unwrap_or(s)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_uri() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=The%20Token;manufacturer=ACME;serial=42;model=M;slot-id=3;\
             object=my%2Fkey;type=private;id=%01%02%ff?pin-source=file:/etc/pin&module-path=/usr/lib/x.so",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("The Token"));
        assert_eq!(u.manufacturer.as_deref(), Some("ACME"));
        assert_eq!(u.serial.as_deref(), Some("42"));
        assert_eq!(u.slot_id, Some(3));
        assert_eq!(u.object.as_deref(), Some("my/key"));
        assert_eq!(u.id.as_deref(), Some(&[1u8, 2, 0xff][..]));
        assert_eq!(u.object_type, Some(ObjectType::Private));
        assert_eq!(u.pin_file(), Some("/etc/pin"));
        assert_eq!(u.module_path.as_deref(), Some("/usr/lib/x.so"));
    }

    #[test]
    fn pin_value_is_not_in_debug() {
        let u = Pkcs11Uri::parse("pkcs11:token=t?pin-value=1234").unwrap();
        assert_eq!(u.pin_value.as_deref(), Some("1234"));
        assert!(!format!("{u:?}").contains("1234"));
    }

    #[test]
    fn empty_and_minimal() {
        assert_eq!(Pkcs11Uri::parse("pkcs11:").unwrap(), Pkcs11Uri::default());
        let u = Pkcs11Uri::parse("pkcs11:object=k").unwrap();
        assert_eq!(u.object.as_deref(), Some("k"));
        assert_eq!(u.pin_file(), None);
        assert_eq!(
            Pkcs11Uri::parse("pkcs11:?pin-source=/p")
                .unwrap()
                .pin_file(),
            Some("/p")
        );
    }

    #[test]
    fn refused() {
        for bad in [
            "pkcs12:token=t",
            "token=t",
            "pkcs11:token",
            "pkcs11:id=%0",
            "pkcs11:id=%zz",
            "pkcs11:type=secret",
            "pkcs11:slot-id=x",
            "pkcs11:token=a;token=b",
            "pkcs11:token=%ff",
            "pkcs11:?pin-value",
        ] {
            assert!(Pkcs11Uri::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn unknown_attributes_are_ignored() {
        let u = Pkcs11Uri::parse("pkcs11:x-vendor=1;object=k?x-q=2").unwrap();
        assert_eq!(u.object.as_deref(), Some("k"));
    }
}
