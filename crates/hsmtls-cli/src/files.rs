//! Loading certificates and keys from PEM or DER files, with one-line
//! errors naming the file.

use std::path::Path;

use pki_types::pem::PemObject;
use pki_types::CertificateDer;

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Loads one or more certificates (PEM, possibly several, or one DER).
pub fn certificates(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let bytes = read(path)?;
    if !is_pem(&bytes) {
        if bytes.first() != Some(&0x30) {
            return Err(format!(
                "{}: neither PEM nor a DER certificate",
                path.display()
            ));
        }
        return Ok(vec![bytes]);
    }
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: bad PEM: {e:?}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no CERTIFICATE in the PEM file",
            path.display()
        ));
    }
    Ok(certs)
}

/// Loads the bytes of a private key file (PEM or DER; the key store
/// decides what it can import).
pub fn private_key(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = read(path)?;
    if bytes.is_empty() {
        return Err(format!("{}: empty key file", path.display()));
    }
    Ok(bytes)
}
