//! `server_name` (RFC 6066 §3).
//!
//! > ```text
//! > struct {
//! >     NameType name_type;
//! >     select (name_type) {
//! >         case host_name: HostName;
//! >     } name;
//! > } ServerName;
//! >
//! > enum {
//! >     host_name(0), (255)
//! > } NameType;
//! >
//! > opaque HostName<1..2^16-1>;
//! >
//! > struct {
//! >     ServerName server_name_list<1..2^16-1>
//! > } ServerNameList;
//! > ```
//!
//! > "For backward compatibility, all future data structures associated with
//! > new NameTypes MUST begin with a 16-bit length field." — so an unknown
//! > name type is skipped as `opaque<0..2^16-1>` and kept.
//!
//! > "The ServerNameList MUST NOT contain more than one name of the same
//! > name_type." — a second `host_name` is `illegal_parameter`.
//!
//! > "The hostname is represented as a byte string using ASCII encoding
//! > without a trailing dot." — a non-ASCII host name is `illegal_parameter`;
//! > the rest of DNS syntax is left to the application (lenient decoding).
//!
//! A server acknowledges with an empty `extension_data`: [`ServerNameAck`].

use crate::msgs::codec::{
    put_opaque_u16, read_opaque_u16, Codec, Context, DecodeError, LengthPrefix, LengthPrefixed,
    Reader,
};

/// `NameType` `host_name(0)`.
pub const HOST_NAME: u8 = 0;

/// One `ServerName` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerName {
    /// `host_name`: ASCII, non-empty.
    HostName(String),
    /// A name type this library does not know, body kept as received.
    Unknown {
        /// `name_type`.
        name_type: u8,
        /// The `opaque<0..2^16-1>` body.
        data: Vec<u8>,
    },
}

impl Codec for ServerName {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::HostName(name) => {
                out.push(HOST_NAME);
                put_opaque_u16(name.as_bytes(), out);
            }
            Self::Unknown { name_type, data } => {
                out.push(*name_type);
                put_opaque_u16(data, out);
            }
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name_type = r.u8().context("NameType")?;
        let data = read_opaque_u16(r).context("ServerName")?;
        if name_type != HOST_NAME {
            return Ok(Self::Unknown { name_type, data });
        }
        if data.is_empty() {
            return Err(DecodeError::InvalidLength("HostName"));
        }
        String::from_utf8(data)
            .ok()
            .filter(|s| s.is_ascii())
            .map(Self::HostName)
            .ok_or(DecodeError::IllegalValue("HostName"))
    }
}

/// `ServerNameList`, the client's `server_name` body.
///
/// ```
/// use hsmtls::msgs::codec::Codec;
/// use hsmtls::msgs::ext::server_name::ServerNameList;
/// let sni = ServerNameList::new_host_name("gw.example.");
/// assert_eq!(sni.host_name(), Some("gw.example"));
/// assert_eq!(ServerNameList::read_bytes(&sni.get_encoding()), Ok(sni));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerNameList(pub Vec<ServerName>);

impl ServerNameList {
    /// A list with one `host_name`, without a trailing dot.
    ///
    /// The caller checks the name first ([`is_valid_host_name`]); RFC 6066
    /// forbids sending IP literals.
    pub fn new_host_name(name: &str) -> Self {
        let name = name.strip_suffix('.').unwrap_or(name);
        Self(vec![ServerName::HostName(name.to_owned())])
    }

    /// The `host_name` entry, if any; unknown name types are ignored.
    pub fn host_name(&self) -> Option<&str> {
        self.0.iter().find_map(|n| match n {
            ServerName::HostName(name) => Some(name.as_str()),
            ServerName::Unknown { .. } => None,
        })
    }
}

impl Codec for ServerNameList {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut body = LengthPrefixed::new(out, LengthPrefix::U16);
        for name in &self.0 {
            name.encode(&mut body);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let names: Vec<ServerName> =
            crate::msgs::codec::read_nonempty_vec_u16(r, "server_name_list")?;
        let mut types: Vec<u8> = names
            .iter()
            .map(|n| match n {
                ServerName::HostName(_) => HOST_NAME,
                ServerName::Unknown { name_type, .. } => *name_type,
            })
            .collect();
        types.sort_unstable();
        if types.windows(2).any(|w| w[0] == w[1]) {
            return Err(DecodeError::IllegalValue("server_name_list"));
        }
        Ok(Self(names))
    }
}

/// The server's `server_name` acknowledgement: empty `extension_data`
/// (RFC 6066 §3: "the "extension_data" field of this extension SHALL be
/// empty").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerNameAck;

impl Codec for ServerNameAck {
    fn encode(&self, _out: &mut Vec<u8>) {}

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        super::read_empty(r, "server_name acknowledgement").map(|()| Self)
    }
}

/// Whether `name` may be sent as a `host_name`: a DNS name of ASCII letters,
/// digits, `-` and `_`, labels of 1 to 63 bytes, at most 253 bytes without
/// the optional trailing dot, and not an IP literal.
pub fn is_valid_host_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 || name.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form() {
        let sni = ServerNameList::new_host_name("a.b");
        assert_eq!(sni.get_encoding(), [0, 6, 0, 0, 3, b'a', b'.', b'b']);
    }

    #[test]
    fn unknown_name_types_kept_and_ignored() {
        let list = ServerNameList(vec![
            ServerName::Unknown {
                name_type: 7,
                data: vec![1, 2],
            },
            ServerName::HostName("x.example".into()),
        ]);
        let back = ServerNameList::read_bytes(&list.get_encoding()).unwrap();
        assert_eq!(back, list);
        assert_eq!(back.host_name(), Some("x.example"));
    }

    #[test]
    fn rejects() {
        // Empty list.
        assert_eq!(
            ServerNameList::read_bytes(&[0, 0]),
            Err(DecodeError::EmptyList("server_name_list"))
        );
        // Empty host name.
        assert_eq!(
            ServerNameList::read_bytes(&[0, 3, 0, 0, 0]),
            Err(DecodeError::InvalidLength("HostName"))
        );
        // Non-ASCII host name.
        assert_eq!(
            ServerNameList::read_bytes(&[0, 5, 0, 0, 2, 0xc3, 0xa4]),
            Err(DecodeError::IllegalValue("HostName"))
        );
        // Two host names.
        let two = ServerNameList(vec![
            ServerName::HostName("a".into()),
            ServerName::HostName("b".into()),
        ]);
        assert_eq!(
            ServerNameList::read_bytes(&two.get_encoding()),
            Err(DecodeError::IllegalValue("server_name_list"))
        );
        assert_eq!(ServerNameAck::read_bytes(&[]), Ok(ServerNameAck));
        assert!(ServerNameAck::read_bytes(&[0]).is_err());
    }

    #[test]
    fn host_name_validity() {
        assert!(is_valid_host_name("smgw.example.org"));
        assert!(is_valid_host_name("smgw.example.org."));
        assert!(is_valid_host_name("_srv.x-y.example"));
        assert!(!is_valid_host_name(""));
        assert!(!is_valid_host_name("."));
        assert!(!is_valid_host_name("a..b"));
        assert!(!is_valid_host_name("192.0.2.1"));
        assert!(!is_valid_host_name("::1"));
        assert!(!is_valid_host_name("bad name"));
        assert!(!is_valid_host_name("bücher.example"));
        assert!(!is_valid_host_name(&"a".repeat(64)));
    }
}
