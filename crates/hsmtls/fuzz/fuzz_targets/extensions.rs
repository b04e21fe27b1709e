//! Any bytes as an extensions block, and every typed extension body decoder
//! on every extension found.
#![no_main]

use hsmtls::msgs::codec::Codec;
use hsmtls::msgs::ext::{
    alpn, cookie, early_data, ec_point_formats, key_share, pre_shared_key, psk_key_exchange_modes,
    record_size_limit, renegotiation_info, server_name, signature_algorithms, supported_groups,
    supported_versions, Extensions,
};

fn all_bodies(data: &[u8]) {
    let _ = server_name::ServerNameList::read_bytes(data);
    let _ = supported_groups::NamedGroupList::read_bytes(data);
    let _ = ec_point_formats::EcPointFormatList::read_bytes(data);
    let _ = signature_algorithms::SignatureSchemeList::read_bytes(data);
    let _ = alpn::ProtocolNameList::read_bytes(data);
    let _ = renegotiation_info::RenegotiationInfo::read_bytes(data);
    let _ = record_size_limit::RecordSizeLimit::read_bytes(data);
    let _ = supported_versions::ClientSupportedVersions::read_bytes(data);
    let _ = key_share::ClientKeyShare::read_bytes(data);
    let _ = key_share::ServerKeyShare::read_bytes(data);
    let _ = pre_shared_key::OfferedPsks::read_bytes(data);
    let _ = psk_key_exchange_modes::PskKeyExchangeModes::read_bytes(data);
    let _ = cookie::Cookie::read_bytes(data);
    let _ = early_data::MaxEarlyDataSize::read_bytes(data);
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    all_bodies(data);
    if let Ok(exts) = Extensions::read_bytes(data) {
        for ext in &exts.0 {
            all_bodies(&ext.data);
        }
    }
});
