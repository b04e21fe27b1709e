//! Hello extensions: the generic `Extension` block (RFC 5246 §7.4.1.4,
//! RFC 8446 §4.2) and one file per extension body.
//!
//! > ```text
//! > struct {
//! >     ExtensionType extension_type;
//! >     opaque extension_data<0..2^16-1>;
//! > } Extension;
//! > ```
//!
//! RFC 5246 §7.4.1.4: "There MUST NOT be more than one extension of the same
//! type." (RFC 8446 §4.2 says the same of every extension block.)
//!
//! [`Extensions`] keeps each body as raw bytes, in the order received (the
//! order matters: RFC 8446 §4.2.11 requires `pre_shared_key` to be last). A
//! typed body is decoded on demand with [`Extensions::get`], which requires
//! the body to consume the whole `extension_data`.
//!
//! ```
//! use hsmtls::msgs::codec::Codec;
//! use hsmtls::msgs::enums::{ExtensionType, NamedGroup};
//! use hsmtls::msgs::ext::{supported_groups::NamedGroupList, Extensions};
//! let mut exts = Extensions::default();
//! exts.push_body(ExtensionType::SupportedGroups, &NamedGroupList(vec![NamedGroup::x25519]));
//! let wire = exts.get_encoding();
//! let back = Extensions::read_bytes(&wire).unwrap();
//! let groups: NamedGroupList = back.get(ExtensionType::SupportedGroups).unwrap().unwrap();
//! assert_eq!(groups.0, [NamedGroup::x25519]);
//! ```

use super::codec::{
    put_opaque_u16, read_opaque_u16, Codec, Context, DecodeError, LengthPrefix, LengthPrefixed,
    Reader,
};
use super::enums::ExtensionType;

pub mod alpn;
pub mod cookie;
pub mod early_data;
pub mod ec_point_formats;
pub mod encrypt_then_mac;
pub mod extended_master_secret;
pub mod key_share;
pub mod pre_shared_key;
pub mod psk_key_exchange_modes;
pub mod record_size_limit;
pub mod renegotiation_info;
pub mod server_name;
pub mod session_ticket;
pub mod signature_algorithms;
pub mod supported_groups;
pub mod supported_versions;

/// One extension with its body undecoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// `extension_type`.
    pub typ: ExtensionType,
    /// `extension_data<0..2^16-1>`.
    pub data: Vec<u8>,
}

impl Codec for Extension {
    fn encode(&self, out: &mut Vec<u8>) {
        self.typ.encode(out);
        put_opaque_u16(&self.data, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let typ = ExtensionType::read(r).context("extension_type")?;
        let data = read_opaque_u16(r).context("extension_data")?;
        Ok(Self { typ, data })
    }
}

/// An extensions block, `Extension extensions<0..2^16-1>`, with no type
/// twice.
///
/// Decoding rejects a repeated type with
/// [`DecodeError::DuplicateExtension`]; [`Extensions::push`] replaces in
/// place, so the invariant also holds for blocks built locally (the `pub`
/// field lets a test build a bad block on purpose).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions(pub Vec<Extension>);

impl Extensions {
    /// An empty block.
    pub fn new() -> Self {
        Self::default()
    }

    /// The body of the extension of type `typ`, if present.
    pub fn find(&self, typ: ExtensionType) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|e| e.typ == typ)
            .map(|e| e.data.as_slice())
    }

    /// Whether an extension of type `typ` is present.
    pub fn contains(&self, typ: ExtensionType) -> bool {
        self.0.iter().any(|e| e.typ == typ)
    }

    /// Decodes the body of extension `typ` as `T`, which must consume all of
    /// it. `Ok(None)` if the extension is absent.
    pub fn get<T: Codec>(&self, typ: ExtensionType) -> Result<Option<T>, DecodeError> {
        self.find(typ).map(T::read_bytes).transpose()
    }

    /// Adds an extension at the end, or replaces the body of an existing one
    /// of the same type in place.
    pub fn push(&mut self, typ: ExtensionType, data: Vec<u8>) {
        match self.0.iter_mut().find(|e| e.typ == typ) {
            Some(existing) => existing.data = data,
            None => self.0.push(Extension { typ, data }),
        }
    }

    /// [`push`](Self::push) with the encoding of a typed body.
    pub fn push_body<T: Codec>(&mut self, typ: ExtensionType, body: &T) {
        self.push(typ, body.get_encoding());
    }

    /// Removes the extension of type `typ`, returning its body.
    pub fn remove(&mut self, typ: ExtensionType) -> Option<Vec<u8>> {
        let at = self.0.iter().position(|e| e.typ == typ)?;
        Some(self.0.remove(at).data)
    }

    /// The types present, in order.
    pub fn types(&self) -> impl Iterator<Item = ExtensionType> + '_ {
        self.0.iter().map(|e| e.typ)
    }

    /// Whether the block is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of extensions.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The first type that appears more than once, if any.
    pub fn first_duplicate(&self) -> Option<ExtensionType> {
        let mut types: Vec<u16> = self.types().map(ExtensionType::to_u16).collect();
        types.sort_unstable();
        types
            .windows(2)
            .find(|w| w[0] == w[1])
            .map(|w| ExtensionType::from(w[0]))
    }

    /// Reads the optional trailing extensions block of a hello message:
    /// nothing left in `r` means no extensions.
    ///
    /// RFC 5246 §7.4.1.2: "… the presence of extensions can be detected by
    /// determining whether there are bytes following the compression_methods
    /// at the end of the ClientHello."
    pub fn read_optional(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.any_left() {
            true => Self::read(r),
            false => Ok(Self::default()),
        }
    }

    /// Writes the block, or nothing at all if it is empty (the form that the
    /// oldest peers accept; see [`Extensions::read_optional`]).
    pub fn encode_optional(&self, out: &mut Vec<u8>) {
        if !self.is_empty() {
            self.encode(out);
        }
    }
}

impl Codec for Extensions {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut body = LengthPrefixed::new(out, LengthPrefix::U16);
        for ext in &self.0 {
            ext.encode(&mut body);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut sub = r.sub(LengthPrefix::U16).context("extensions")?;
        let mut exts = Vec::new();
        while sub.any_left() {
            exts.push(Extension::read(&mut sub)?);
        }
        let exts = Self(exts);
        match exts.first_duplicate() {
            Some(typ) => Err(DecodeError::DuplicateExtension(typ.to_u16())),
            None => Ok(exts),
        }
    }
}

/// Reads an extension body that must be empty (`extension_data` of length
/// zero), as for `extended_master_secret`, `encrypt_then_mac` and a server's
/// `server_name` acknowledgement.
pub(crate) fn read_empty(r: &mut Reader<'_>, what: &'static str) -> Result<(), DecodeError> {
    match r.any_left() {
        true => Err(DecodeError::InvalidLength(what)),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_round_trip() {
        let mut exts = Extensions::new();
        exts.push(ExtensionType::ExtendedMasterSecret, vec![]);
        exts.push(ExtensionType::Unknown(0x1234), vec![1, 2, 3]);
        exts.push(ExtensionType::RenegotiationInfo, vec![0]);
        let enc = exts.get_encoding();
        assert_eq!(
            enc,
            [0, 16, 0, 23, 0, 0, 0x12, 0x34, 0, 3, 1, 2, 3, 0xff, 1, 0, 1, 0]
        );
        let back = Extensions::read_bytes(&enc).unwrap();
        assert_eq!(back, exts);
        assert_eq!(
            back.find(ExtensionType::Unknown(0x1234)),
            Some(&[1, 2, 3][..])
        );
        assert_eq!(back.find(ExtensionType::ServerName), None);
        assert_eq!(
            back.types().collect::<Vec<_>>(),
            [
                ExtensionType::ExtendedMasterSecret,
                ExtensionType::Unknown(0x1234),
                ExtensionType::RenegotiationInfo
            ]
        );
    }

    #[test]
    fn push_replaces() {
        let mut exts = Extensions::new();
        exts.push(ExtensionType::Cookie, vec![1]);
        exts.push(ExtensionType::Padding, vec![]);
        exts.push(ExtensionType::Cookie, vec![2]);
        assert_eq!(exts.len(), 2);
        assert_eq!(exts.find(ExtensionType::Cookie), Some(&[2][..]));
        assert_eq!(exts.remove(ExtensionType::Cookie), Some(vec![2]));
        assert!(!exts.contains(ExtensionType::Cookie));
    }

    #[test]
    fn duplicate_rejected() {
        let exts = Extensions(vec![
            Extension {
                typ: ExtensionType::SessionTicket,
                data: vec![],
            },
            Extension {
                typ: ExtensionType::Padding,
                data: vec![],
            },
            Extension {
                typ: ExtensionType::SessionTicket,
                data: vec![1],
            },
        ]);
        assert_eq!(
            Extensions::read_bytes(&exts.get_encoding()),
            Err(DecodeError::DuplicateExtension(35))
        );
    }

    #[test]
    fn bad_blocks() {
        // Block length says 5, one byte present.
        assert!(Extensions::read_bytes(&[0, 5, 0]).is_err());
        // Extension header truncated inside the block.
        assert!(Extensions::read_bytes(&[0, 3, 0, 23, 0]).is_err());
        // Extension body longer than the block.
        assert!(Extensions::read_bytes(&[0, 4, 0, 23, 0, 1]).is_err());
        // Trailing byte after the block.
        assert!(Extensions::read_bytes(&[0, 0, 0]).is_err());
        assert_eq!(Extensions::read_bytes(&[0, 0]), Ok(Extensions::new()));
        assert_eq!(
            Extensions::read_optional(&mut Reader::new(&[])),
            Ok(Extensions::new())
        );
    }

    #[test]
    fn typed_get() {
        let mut exts = Extensions::new();
        exts.push(ExtensionType::RecordSizeLimit, vec![0x40, 0x01]);
        let limit: record_size_limit::RecordSizeLimit =
            exts.get(ExtensionType::RecordSizeLimit).unwrap().unwrap();
        assert_eq!(limit.0, 0x4001);
        exts.push(ExtensionType::RecordSizeLimit, vec![0x40, 0x01, 0]);
        assert!(exts
            .get::<record_size_limit::RecordSizeLimit>(ExtensionType::RecordSizeLimit)
            .is_err());
        assert_eq!(
            exts.get::<record_size_limit::RecordSizeLimit>(ExtensionType::Cookie),
            Ok(None)
        );
    }
}
