//! The test PKI of the repository (testdata/pki), embedded: the same
//! server chain, key and CA for both libraries.

use crate::KeyKind;

/// PEM chain (leaf first), PEM private key and DER CA certificate.
#[derive(Debug, Clone, Copy)]
pub struct Pki {
    /// The server's chain, PEM, leaf first.
    pub chain_pem: &'static [u8],
    /// The server's private key, PEM.
    pub key_pem: &'static [u8],
    /// The root CA certificate, DER.
    pub ca_der: &'static [u8],
}

/// The server PKI of `key`.
pub fn server(key: KeyKind) -> Pki {
    match key {
        KeyKind::EcdsaP256 => Pki {
            chain_pem: include_bytes!("../../../testdata/pki/ecdsa-p256/server.chain.pem"),
            key_pem: include_bytes!("../../../testdata/pki/ecdsa-p256/server.key"),
            ca_der: include_bytes!("../../../testdata/pki/ecdsa-p256/ca.der"),
        },
        KeyKind::Rsa2048 => Pki {
            chain_pem: include_bytes!("../../../testdata/pki/rsa2048/server.chain.pem"),
            key_pem: include_bytes!("../../../testdata/pki/rsa2048/server.key"),
            ca_der: include_bytes!("../../../testdata/pki/rsa2048/ca.der"),
        },
    }
}

/// The DER certificates of a PEM chain.
pub fn chain_der(pem: &[u8]) -> Result<Vec<pki_types::CertificateDer<'static>>, String> {
    use pki_types::pem::PemObject;
    pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("embedded chain: {e:?}"))
}
