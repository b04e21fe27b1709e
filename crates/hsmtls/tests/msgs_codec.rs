//! Wire format tests through the public `hsmtls::msgs` API: real handshakes
//! captured from OpenSSL decode and re-encode byte for byte, every prefix
//! of every message fails cleanly, malformed variants map to the right
//! error, records and handshake messages reassemble across every split, and
//! deterministic pseudo-random input never makes a decoder panic.

use hsmtls::msgs::alert::AlertMessage;
use hsmtls::msgs::base::SessionId;
use hsmtls::msgs::codec::{Codec, DecodeError, Reader};
use hsmtls::msgs::deframer::{
    encode_record, fragment, DeframerError, HandshakeJoiner, MessageDeframer, RecordHeader,
    MAX_CIPHERTEXT_TLS12, MAX_PLAINTEXT,
};
use hsmtls::msgs::enums::{
    AlertDescription, CipherSuite, ClientCertificateType, ContentType, ECPointFormat,
    ExtensionType, HandshakeType, NamedGroup, ProtocolVersion, PskKeyExchangeMode, SignatureScheme,
};
use hsmtls::msgs::ext::alpn::ProtocolNameList;
use hsmtls::msgs::ext::cookie::Cookie;
use hsmtls::msgs::ext::early_data::{EarlyDataIndication, MaxEarlyDataSize};
use hsmtls::msgs::ext::ec_point_formats::EcPointFormatList;
use hsmtls::msgs::ext::encrypt_then_mac::EncryptThenMac;
use hsmtls::msgs::ext::extended_master_secret::ExtendedMasterSecret;
use hsmtls::msgs::ext::key_share::{ClientKeyShare, HelloRetryKeyShare, ServerKeyShare};
use hsmtls::msgs::ext::pre_shared_key::{OfferedPsks, SelectedPsk};
use hsmtls::msgs::ext::psk_key_exchange_modes::PskKeyExchangeModes;
use hsmtls::msgs::ext::record_size_limit::RecordSizeLimit;
use hsmtls::msgs::ext::renegotiation_info::RenegotiationInfo;
use hsmtls::msgs::ext::server_name::{ServerNameAck, ServerNameList};
use hsmtls::msgs::ext::session_ticket::SessionTicket;
use hsmtls::msgs::ext::signature_algorithms::SignatureSchemeList;
use hsmtls::msgs::ext::supported_groups::NamedGroupList;
use hsmtls::msgs::ext::supported_versions::{ClientSupportedVersions, ServerSupportedVersion};
use hsmtls::msgs::ext::{Extension, Extensions};
use hsmtls::msgs::handshake::{
    CertificatePayload, CertificateRequestPayload, ClientHello, ClientKeyExchangePayload,
    DigitallySigned, EcdheServerParams, HandshakeMessage, HandshakePayload,
    NewSessionTicketPayload, ServerHello, ServerKeyExchangePayload,
};
use hsmtls::msgs::tls13::{
    Certificate13, CertificateRequest13, EncryptedExtensions, KeyUpdate, NewSessionTicket13,
};

/// A TLS 1.2 handshake between OpenSSL 3.0 `s_client` and `s_server` with
/// mutual authentication on brainpoolP256r1 (testdata/pki/brainpoolP256r1),
/// TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, SNI "smgw.example", captured
/// with `s_client -msg` (handshake messages, header included; the Finished
/// messages as decrypted):
///
/// ```text
/// openssl s_server -accept 127.0.0.1:44911 -cert server.pem -key server.key \
///     -cert_chain inter.pem -CAfile ca.pem -Verify 2 -tls1_2 \
///     -groups brainpoolP256r1:prime256v1
/// openssl s_client -connect 127.0.0.1:44911 -tls1_2 \
///     -cipher ECDHE-ECDSA-AES128-SHA256 -groups brainpoolP256r1 \
///     -cert client.pem -key client.key -cert_chain inter.pem -CAfile ca.pem \
///     -servername smgw.example -msg
/// ```
///
/// "C:" marks messages the client sent, "S:" the server's.
const TLS12_CAPTURE: &[(&str, &str)] = &[
    (
        "C:ClientHello",
        "0100008c030336f0678a9818ccb2c887cbbdb43e81d58cb00a990955ac03ec4dc1329e8bf1b1000004c02300ff010000\
         5f00000011000f00000c736d67772e6578616d706c65000b000403000102000a00040002001a00230000001600000017\
         0000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602",
    ),
    (
        "S:ServerHello",
        "020000410303260cf1caa73de5350bca4c39089588bdd2d6093534d44ae09d36b43a874593e500c023000019ff010001\
         00000b000403000102002300000016000000170000",
    ),
    (
        "S:Certificate",
        "0b00041900041600022430820220308201c7a003020102020213ec300a06082a8648ce3d040302304c31143012060355\
         040a0c0b68736d746c7320746573743134303206035504030c2b68736d746c73207465737420627261696e706f6f6c50\
         323536723120696e7465726d6564696174652043413020170d3235303130313030303030305a180f3231323431323331\
         3233353935395a303731143012060355040a0c0b68736d746c732074657374311f301d06035504030c16746573747365\
         727665722e68736d746c732e74657374305a301406072a8648ce3d020106092b2403030208010107034200041883a3a9\
         129af88eda8782b17897fe27433e2d585b309fbcba8b2ca6a002db3900dfa301902a9b096601427916017aca153f2214\
         ca17cbbd51f3a43cafa745f9a381aa3081a7300c0603551d130101ff04023000300e0603551d0f0101ff040403020780\
         30130603551d25040c300a06082b0601050507030130320603551d11042b302982096c6f63616c686f73748216746573\
         747365727665722e68736d746c732e7465737487047f000001301d0603551d0e04160414df9173cfe9e32de73312fb0f\
         1faa82d11bd794c4301f0603551d23041830168014b3a781c539517a0003d712934dd143b67e68dcbc300a06082a8648\
         ce3d0403020347003044022026833333526e97e02dfe3f70b92a0cb8f58e64577e8f39f65b03a246cae058e702200e6c\
         7253a419622f7d31cd545c36e83041799c5ea697b120de568a173de9a2f60001ec308201e83082018fa0030201020202\
         138a300a06082a8648ce3d040302304431143012060355040a0c0b68736d746c732074657374312c302a06035504030c\
         2368736d746c73207465737420627261696e706f6f6c50323536723120726f6f742043413020170d3235303130313030\
         303030305a180f32313234313233313233353935395a304c31143012060355040a0c0b68736d746c7320746573743134\
         303206035504030c2b68736d746c73207465737420627261696e706f6f6c50323536723120696e7465726d6564696174\
         65204341305a301406072a8648ce3d020106092b24030302080101070342000470a1266b6feda170b15299798935159f\
         1bd54700e0a64a51a542315d2cff492c224f8c142e38243344f1a848dab8a5f3f4aea9589ce3c55228239924e51fbf0e\
         a366306430120603551d130101ff040830060101ff020100300e0603551d0f0101ff040403020106301d0603551d0e04\
         160414b3a781c539517a0003d712934dd143b67e68dcbc301f0603551d230418301680141a119f05ec5ba3f80b5ed2ad\
         ee87973eeac8d974300a06082a8648ce3d040302034700304402206c76689cabcfb9c94fc0fe465a3e74c07f0c81015a\
         b4ef774894aafe519252fb02206f35efde0930db652ee14ffbdd19b922de3928a3d521257a468814ccea061386",
    ),
    (
        "S:ServerKeyExchange",
        "0c00009003001a41046db4c54466c48842721d9ee7169d7d3d958a18e8c6a8d9707b95e872184548ac4e3670bc9e3de3\
         d937534270d0012552702372a4526dc4fe5a4d96e43bc945390403004730450221009532bbaec46680af15275e23db1e\
         41ea24e5c38114ab3b864094132aa7454cb7022069c4e389ba8fcf82754ed4d140e10676ee9c0b3bde77ad73dc2cc5ce\
         a7c70de8",
    ),
    (
        "S:CertificateRequest",
        "0d000078030102400028040305030603080708080809080a080b08040805080604010501060103030301030204020502\
         060200480046304431143012060355040a0c0b68736d746c732074657374312c302a06035504030c2368736d746c7320\
         7465737420627261696e706f6f6c50323536723120726f6f74204341",
    ),
    (
        "S:ServerHelloDone",
        "0e000000",
    ),
    (
        "C:Certificate",
        "0b0004250004220002303082022c308201d3a003020102020213ed300a06082a8648ce3d040302304c31143012060355\
         040a0c0b68736d746c7320746573743134303206035504030c2b68736d746c73207465737420627261696e706f6f6c50\
         323536723120696e7465726d6564696174652043413020170d3235303130313030303030305a180f3231323431323331\
         3233353935395a304331143012060355040a0c0b68736d746c732074657374312b302906035504030c2268736d746c73\
         207465737420627261696e706f6f6c50323536723120636c69656e74305a301406072a8648ce3d020106092b24030302\
         08010107034200049cf506178186caeb32c6327aed3c2c588fd5744e8384ab6569c3386f6c959f17626c06f7f3cc6896\
         f12e9e6c5346906a920ccd253390f30fd8732852748be2d7a381aa3081a7300c0603551d130101ff04023000300e0603\
         551d0f0101ff04040302078030130603551d25040c300a06082b0601050507030230320603551d11042b302982096c6f\
         63616c686f73748216746573747365727665722e68736d746c732e7465737487047f000001301d0603551d0e04160414\
         a962d329adc97172e43203e780f62e3d939b6a44301f0603551d23041830168014b3a781c539517a0003d712934dd143\
         b67e68dcbc300a06082a8648ce3d0403020347003044022023032f2ba31d5233a87034f373e2aab72c422db5e525c850\
         8b38b95bcf37b9b5022051bfd18d79608780587bccec29ccb98ea9e4a53b42400782c3dd5c2606f749560001ec308201\
         e83082018fa0030201020202138a300a06082a8648ce3d040302304431143012060355040a0c0b68736d746c73207465\
         7374312c302a06035504030c2368736d746c73207465737420627261696e706f6f6c50323536723120726f6f74204341\
         3020170d3235303130313030303030305a180f32313234313233313233353935395a304c31143012060355040a0c0b68\
         736d746c7320746573743134303206035504030c2b68736d746c73207465737420627261696e706f6f6c503235367231\
         20696e7465726d656469617465204341305a301406072a8648ce3d020106092b24030302080101070342000470a1266b\
         6feda170b15299798935159f1bd54700e0a64a51a542315d2cff492c224f8c142e38243344f1a848dab8a5f3f4aea958\
         9ce3c55228239924e51fbf0ea366306430120603551d130101ff040830060101ff020100300e0603551d0f0101ff0404\
         03020106301d0603551d0e04160414b3a781c539517a0003d712934dd143b67e68dcbc301f0603551d23041830168014\
         1a119f05ec5ba3f80b5ed2adee87973eeac8d974300a06082a8648ce3d040302034700304402206c76689cabcfb9c94f\
         c0fe465a3e74c07f0c81015ab4ef774894aafe519252fb02206f35efde0930db652ee14ffbdd19b922de3928a3d52125\
         7a468814ccea061386",
    ),
    (
        "C:ClientKeyExchange",
        "100000424104848fbbffbc81f40d0cbcc6d734d98c81fee7a1be72ed8d6ac80bc1e73ddbf6606e5bade9a5658a0fc7bd\
         9b12f398978a0ebf410e072dc69b5972834acd416c8e",
    ),
    (
        "C:CertificateVerify",
        "0f00004a040300463044022019858ef3b2f4cc35240a8753112183d3dcc975c3e021560b457c57a46e02371102206bea\
         7ab71cd8abdfe7790fafe72742da144ce2735d765755df87c7f5bd2158d2",
    ),
    (
        "C:Finished",
        "1400000c2f57629a523d1e4dba26eb7d",
    ),
    (
        "S:NewSessionTicket",
        "040002e600001c2002e0f08ff96b9a7c49e1a23cba660e6f44c1b2f899db04b44a42645c6419a11d26ef158c2a785510\
         874085785adae84d5755f8702359c3bcbb3f2dd960c2d339f49a99467912e4e7d5087aa428fcbc91f92f9885821760ca\
         cd95054ed355060424a15ed33765f90efe9d7eaec8f12b213f86f28dc0c49b818bc5109157b9f2e98e041f30d4d70111\
         bec62c8c8995293aeda746157def043ecdf098b98eb6956f876800b4b8ff439cbe46a6767d1b92fb220c6f730a57b878\
         1ab9e3b97bcea1a808b6c2dd4d309337c1b127ca6a00fd78fec3600470a056accb6faae70a22239183184614563c0e98\
         be9914c9761136a9ca737a1bc9e3e923221e00faadb92125c8ece88f87f5a2396947490f7ac0474739c73a038a8fd38f\
         8e26407df09ec960530f37b4383c7bb450110efd96d5822a33ee241b3e3c8b49cffdfc5b82695004d96977497965de87\
         a31d416cd8dd1783b2686043a2f9d8fe58882c63666d1eea6f23ce90a92b61d3398c0281603c4a3a61dc549e00546c31\
         2bb8fa738254c6b78c843edbcd0251a3b1931f4ba08099a1837a5d70ac1f3f6b6a7e6aa0164d3b0f185439d69f435dc6\
         4ef997ea26218fbf4829ebe8b65ee5248922120a3727095de8670d516c83f8d19e22eed4e91f1487d56c43c16eb2c09f\
         6eca0c17235da884c8e5ad2f490df51f9893998a7bb063301774cf70791a6eb162575491aa33caf204675221c26866d3\
         130fa28474fb7566a0a9782d25c3ed296a2c6677c317dd968b171b14c93b06301d476e57941a688dd0175689bf64deb1\
         f40f55d1c96615cd49290a194ca70fcc4000307fbb1bf00181ac43cb8c756e1d2b1fb1e967138e4e839697838f63c958\
         c0b1b74e43979aeee0a0591552ae63170d6bd7bb346db31b07bdb25775fbd617d653a113c982714f32aeefadae1a1aad\
         43e304b4ffd9ae9ab4fe144ce047e818c8d19236320b54f4a7f0b60697467ff737b9a8789f0d2a8473a241781b266e05\
         0ff63d7a9d7e0d494085c4cdd0e72956904dbe8804dcf036c410",
    ),
    (
        "S:Finished",
        "1400000c230bc7771380ff298060e0f5",
    ),
];

/// A TLS 1.3 handshake between OpenSSL 3.0 peers (testdata/pki/ecdsa-p256)
/// with a HelloRetryRequest: the client sends an x25519 key share, the
/// server accepts only P-256; ALPN h2 is negotiated:
///
/// ```text
/// openssl s_server -accept 127.0.0.1:44912 -cert server.pem -key server.key \
///     -cert_chain inter.pem -tls1_3 -groups P-256 -alpn h2
/// openssl s_client -connect 127.0.0.1:44912 -groups X25519:P-256 \
///     -servername smgw.example -alpn h2,http/1.1 -msg
/// ```
///
/// Only the hellos have TLS 1.2-compatible bodies; the later messages are
/// used for the joiner and as `Unknown` bodies.
const TLS13_CAPTURE: &[(&str, &str)] = &[
    (
        "C:ClientHello",
        "01000137030345fac9f1bcce06b1c1133e563b5e0b3f9b2cbf6ce4dfc0b7826bb4eb5a0e32db2071005184143172d334\
         d3e92569833bed84c6efec2a2db110fc4a97b3ac1515d2003e130213031301c02cc030009fcca9cca8ccaac02bc02f00\
         9ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000b00000001100\
         0f00000c736d67772e6578616d706c65000b000403000102000a00060004001d0017002300000010000e000c02683208\
         687474702f312e310016000000170000000d002a0028040305030603080708080809080a080b08040805080604010501\
         0601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d0020562027629b\
         5e92c517702e97722873fcd42d9873983bf53a82853701b2e1a541",
    ),
    (
        "S:ServerHello",
        "020000540303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c2071005184143172d334\
         d3e92569833bed84c6efec2a2db110fc4a97b3ac1515d2130200000c002b00020304003300020017",
    ),
    (
        "C:ClientHello",
        "01000158030345fac9f1bcce06b1c1133e563b5e0b3f9b2cbf6ce4dfc0b7826bb4eb5a0e32db2071005184143172d334\
         d3e92569833bed84c6efec2a2db110fc4a97b3ac1515d2003e130213031301c02cc030009fcca9cca8ccaac02bc02f00\
         9ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000d10000001100\
         0f00000c736d67772e6578616d706c65000b000403000102000a00060004001d0017002300000010000e000c02683208\
         687474702f312e310016000000170000000d002a0028040305030603080708080809080a080b08040805080604010501\
         0601030303010302040205020602002b0009080304030303020301002d0002010100330047004500170041042161d623\
         eaa364d46fdcc6e01a752fd62f9754b93c21f46452d1cb94dc144d6b5138885658098d58e9cb6f0199e9a9294f2bf191\
         71d37905c565ad1c30d74a8d",
    ),
    (
        "S:ServerHello",
        "0200009703033a3a4053352be2922475a6f333f7225dfd616f1c2a9ef7060ad1f8f4d1ee27592071005184143172d334\
         d3e92569833bed84c6efec2a2db110fc4a97b3ac1515d2130200004f002b00020304003300450017004104f260d603e0\
         cf4a48073fefcc6c39d15a7cb6dc37c4869e29c15b66c7aeb0421d0f8067e99e6eae199d1b175299e51034fe75522a6a\
         149b989c27dbb0daa65f41",
    ),
    (
        "S:EncryptedExtensions",
        "0800000b0009001000050003026832",
    ),
    (
        "S:Certificate",
        "0b00040f0000040b0002203082021c308201c1a00302010202020834300a06082a8648ce3d0403023047311430120603\
         55040a0c0b68736d746c732074657374312f302d06035504030c2668736d746c7320746573742065636473612d703235\
         3620696e7465726d6564696174652043413020170d3235303130313030303030305a180f323132343132333132333539\
         35395a303731143012060355040a0c0b68736d746c732074657374311f301d06035504030c1674657374736572766572\
         2e68736d746c732e746573743059301306072a8648ce3d020106082a8648ce3d03010703420004c9e16d7430c43da7ea\
         8f890bfbdf573b79fca20f3a4299b8b1d44dc9f0050d713f24c26e78269595165d058824e363dece5329585537425373\
         6ddc3bf29815c0a381aa3081a7300c0603551d130101ff04023000300e0603551d0f0101ff0404030207803013060355\
         1d25040c300a06082b0601050507030130320603551d11042b302982096c6f63616c686f737482167465737473657276\
         65722e68736d746c732e7465737487047f000001301d0603551d0e04160414f5eaeaa31c97296802f417afe963854abf\
         468006301f0603551d2304183016801473d7592b02e714ea99c794b52a7846abd9da6bf5300a06082a8648ce3d040302\
         0349003046022100e6ecf1e4d5dd45ad39ed119687d763d9e22010408a0a14961c9e86c7d697de67022100e43f47ad94\
         27582d328a4403a432a44ded593e5a339d720581b724184dd4017e00000001e1308201dd30820184a003020102020207\
         d2300a06082a8648ce3d040302303f31143012060355040a0c0b68736d746c7320746573743127302506035504030c1e\
         68736d746c7320746573742065636473612d7032353620726f6f742043413020170d3235303130313030303030305a18\
         0f32313234313233313233353935395a304731143012060355040a0c0b68736d746c732074657374312f302d06035504\
         030c2668736d746c7320746573742065636473612d7032353620696e7465726d6564696174652043413059301306072a\
         8648ce3d020106082a8648ce3d0301070342000400021a7fe2426666210a6040826db48871dde6a5068e262a8b5f99d8\
         2cc3bccdcca45211c4ade29c4c97d882bd1ff55c9769611e7ecc454f2ff0f15bbd616a9fa366306430120603551d1301\
         01ff040830060101ff020100300e0603551d0f0101ff040403020106301d0603551d0e0416041473d7592b02e714ea99\
         c794b52a7846abd9da6bf5301f0603551d2304183016801449f7c6de944d732bb9a20204e9deed1e212c8dd3300a0608\
         2a8648ce3d040302034700304402202111d58c3e91c97a0fe477f7c35048f4ce2bbf764753919223f6359a9f9b56c002\
         20162057a366458938a75d2abeeb2dc0f9a302d9be0017d458530ff585112f06d90000",
    ),
    (
        "S:CertificateVerify",
        "0f00004c040300483046022100c11ffd4283d5d09edbcf716aa02927c1d34e78be5797a01256ba27a032acb85b022100\
         911e608f8233fdc039de7557939fd4e0ef8e03da953d656e938f024c6e8f6345",
    ),
    (
        "S:Finished",
        "140000307846de78098ff4a9efb61b03fd8b63f6cb282ec08900c54f8b86c9ae2e0f245803b63a4c89b4a0568ba8dd37\
         093527ff",
    ),
    (
        "C:Finished",
        "14000030fbc072373c987074f30a6b5c8ef22e243958ede79b0a14cacfa1736e1758a106ee9fd873e23553768b8ae300\
         223852dc",
    ),
];

// ---------------------------------------------------------------- helpers

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test vector is hex"))
        .collect()
}

fn capture(list: &[(&str, &str)], name: &str, nth: usize) -> Vec<u8> {
    let hex = list
        .iter()
        .filter(|(n, _)| *n == name)
        .nth(nth)
        .map(|(_, h)| *h)
        .unwrap_or_else(|| panic!("no capture {name} #{nth}"));
    unhex(hex)
}

/// The messages whose bodies TLS 1.2 defines (all of TLS12_CAPTURE and the
/// hellos of TLS13_CAPTURE).
fn tls12_shaped() -> Vec<(&'static str, Vec<u8>)> {
    let mut all: Vec<_> = TLS12_CAPTURE.iter().map(|(n, h)| (*n, unhex(h))).collect();
    all.extend(
        TLS13_CAPTURE
            .iter()
            .filter(|(n, _)| n.ends_with("Hello"))
            .map(|(n, h)| (*n, unhex(h))),
    );
    all
}

fn decode(bytes: &[u8]) -> Result<HandshakeMessage, DecodeError> {
    HandshakeMessage::read_bytes(bytes)
}

fn client_hello(bytes: &[u8]) -> ClientHello {
    match decode(bytes).expect("capture decodes").payload {
        HandshakePayload::ClientHello(ch) => ch,
        other => panic!("not a ClientHello: {other:?}"),
    }
}

fn server_hello(bytes: &[u8]) -> ServerHello {
    match decode(bytes).expect("capture decodes").payload {
        HandshakePayload::ServerHello(sh) => sh,
        other => panic!("not a ServerHello: {other:?}"),
    }
}

/// Re-frames a message with a new body (header length recomputed).
fn with_body(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![typ];
    hsmtls::msgs::codec::put_opaque_u24(body, &mut out);
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Sender {
    Client,
    Server,
    HelloRetry,
}

/// Decodes an extension body with the typed decoder for `typ` as sent by
/// `sender`; `None` if there is no typed decoder for it.
fn decode_extension(
    typ: ExtensionType,
    data: &[u8],
    sender: Sender,
) -> Option<Result<(), DecodeError>> {
    fn ok<T>(r: Result<T, DecodeError>) -> Option<Result<(), DecodeError>> {
        Some(r.map(|_| ()))
    }
    use ExtensionType as E;
    let client = sender == Sender::Client;
    match typ {
        E::ServerName if client => ok(ServerNameList::read_bytes(data)),
        E::ServerName => ok(ServerNameAck::read_bytes(data)),
        E::SupportedGroups => ok(NamedGroupList::read_bytes(data)),
        E::EcPointFormats => ok(EcPointFormatList::read_bytes(data)),
        E::SignatureAlgorithms | E::SignatureAlgorithmsCert => {
            ok(SignatureSchemeList::read_bytes(data))
        }
        E::ApplicationLayerProtocolNegotiation => ok(ProtocolNameList::read_bytes(data)),
        E::RenegotiationInfo => ok(RenegotiationInfo::read_bytes(data)),
        E::SessionTicket => ok(SessionTicket::read_bytes(data)),
        E::ExtendedMasterSecret => ok(ExtendedMasterSecret::read_bytes(data)),
        E::EncryptThenMac => ok(EncryptThenMac::read_bytes(data)),
        E::RecordSizeLimit => ok(RecordSizeLimit::read_bytes(data)),
        E::SupportedVersions if client => ok(ClientSupportedVersions::read_bytes(data)),
        E::SupportedVersions => ok(ServerSupportedVersion::read_bytes(data)),
        E::KeyShare => match sender {
            Sender::Client => ok(ClientKeyShare::read_bytes(data)),
            Sender::Server => ok(ServerKeyShare::read_bytes(data)),
            Sender::HelloRetry => ok(HelloRetryKeyShare::read_bytes(data)),
        },
        E::PskKeyExchangeModes => ok(PskKeyExchangeModes::read_bytes(data)),
        E::Cookie => ok(Cookie::read_bytes(data)),
        E::PreSharedKey if client => ok(OfferedPsks::read_bytes(data)),
        E::PreSharedKey => ok(SelectedPsk::read_bytes(data)),
        E::EarlyData => ok(EarlyDataIndication::read_bytes(data)),
        _ => None,
    }
}

/// Every extension of a hello, with who sent it.
fn hello_extensions(bytes: &[u8]) -> (Sender, Extensions) {
    match decode(bytes).expect("capture decodes").payload {
        HandshakePayload::ClientHello(ch) => (Sender::Client, ch.extensions),
        HandshakePayload::ServerHello(sh) if sh.is_hello_retry_request() => {
            (Sender::HelloRetry, sh.extensions)
        }
        HandshakePayload::ServerHello(sh) => (Sender::Server, sh.extensions),
        other => panic!("not a hello: {other:?}"),
    }
}

// ------------------------------------------------------ real handshakes

#[test]
fn captured_messages_round_trip_byte_for_byte() {
    for (name, bytes) in tls12_shaped() {
        let msg = decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = name.split(':').nth(1).unwrap_or_default();
        let (_, typ_name) = (name, msg.typ);
        assert_eq!(format!("{typ_name:?}"), expected, "{name}");
        assert!(
            !matches!(msg.payload, HandshakePayload::Unknown(_)),
            "{name}"
        );
        assert_eq!(msg.get_encoding(), bytes, "{name} re-encodes differently");
    }
}

#[test]
fn captured_tls12_client_hello() {
    let ch = client_hello(&capture(TLS12_CAPTURE, "C:ClientHello", 0));
    assert_eq!(ch.legacy_version, ProtocolVersion::TLSv1_2);
    assert!(ch.session_id.is_empty());
    assert_eq!(
        ch.cipher_suites,
        [
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
            CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV
        ]
    );
    let exts = &ch.extensions;
    let sni: ServerNameList = exts.get(ExtensionType::ServerName).unwrap().unwrap();
    assert_eq!(sni.host_name(), Some("smgw.example"));
    let groups: NamedGroupList = exts.get(ExtensionType::SupportedGroups).unwrap().unwrap();
    assert_eq!(groups.0, [NamedGroup::brainpoolP256r1]);
    let formats: EcPointFormatList = exts.get(ExtensionType::EcPointFormats).unwrap().unwrap();
    assert_eq!(
        formats.0,
        [
            ECPointFormat::Uncompressed,
            ECPointFormat::AnsiX962CompressedPrime,
            ECPointFormat::AnsiX962CompressedChar2
        ]
    );
    let sigs: SignatureSchemeList = exts
        .get(ExtensionType::SignatureAlgorithms)
        .unwrap()
        .unwrap();
    assert_eq!(sigs.0.len(), 20);
    assert_eq!(sigs.0[0], SignatureScheme::ecdsa_secp256r1_sha256);
    assert!(sigs.0.contains(&SignatureScheme::Unknown(0x0303)));
    let ticket: SessionTicket = exts.get(ExtensionType::SessionTicket).unwrap().unwrap();
    assert!(ticket.0.is_empty());
    assert_eq!(
        exts.get::<ExtendedMasterSecret>(ExtensionType::ExtendedMasterSecret),
        Ok(Some(ExtendedMasterSecret))
    );
    assert_eq!(
        exts.get::<EncryptThenMac>(ExtensionType::EncryptThenMac),
        Ok(Some(EncryptThenMac))
    );
}

#[test]
fn captured_tls12_server_flight() {
    let sh = server_hello(&capture(TLS12_CAPTURE, "S:ServerHello", 0));
    assert_eq!(
        sh.cipher_suite,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
    );
    assert!(!sh.is_hello_retry_request());
    assert_eq!(
        sh.extensions.get(ExtensionType::RenegotiationInfo),
        Ok(Some(RenegotiationInfo::initial()))
    );
    assert!(sh.extensions.contains(ExtensionType::ExtendedMasterSecret));

    let HandshakePayload::Certificate(CertificatePayload { certificates }) =
        decode(&capture(TLS12_CAPTURE, "S:Certificate", 0))
            .unwrap()
            .payload
    else {
        panic!("Certificate");
    };
    assert_eq!(certificates.len(), 2);
    assert!(certificates.iter().all(|c| c.starts_with(&[0x30, 0x82])));

    let HandshakePayload::ServerKeyExchange(ske) =
        decode(&capture(TLS12_CAPTURE, "S:ServerKeyExchange", 0))
            .unwrap()
            .payload
    else {
        panic!("ServerKeyExchange");
    };
    let (params, signed) = ske.ecdhe().unwrap();
    assert_eq!(params.named_group, NamedGroup::brainpoolP256r1);
    assert_eq!(params.public.len(), 65);
    assert_eq!(params.public[0], 4);
    assert_eq!(signed.scheme, SignatureScheme::ecdsa_secp256r1_sha256);
    assert_eq!(signed.signature[0], 0x30);
    assert_eq!(ServerKeyExchangePayload::from_ecdhe(&params, &signed), ske);

    let HandshakePayload::CertificateRequest(req) =
        decode(&capture(TLS12_CAPTURE, "S:CertificateRequest", 0))
            .unwrap()
            .payload
    else {
        panic!("CertificateRequest");
    };
    assert_eq!(
        req.certificate_types,
        [
            ClientCertificateType::RsaSign,
            ClientCertificateType::Unknown(2),
            ClientCertificateType::EcdsaSign
        ]
    );
    assert!(req
        .signature_schemes
        .contains(&SignatureScheme::ecdsa_secp256r1_sha256));
    assert_eq!(req.certificate_authorities.len(), 1);

    assert_eq!(
        decode(&capture(TLS12_CAPTURE, "S:ServerHelloDone", 0))
            .unwrap()
            .payload,
        HandshakePayload::ServerHelloDone
    );
    let HandshakePayload::NewSessionTicket(NewSessionTicketPayload {
        lifetime_hint,
        ticket,
    }) = decode(&capture(TLS12_CAPTURE, "S:NewSessionTicket", 0))
        .unwrap()
        .payload
    else {
        panic!("NewSessionTicket");
    };
    assert_eq!(lifetime_hint, 7200);
    assert!(!ticket.is_empty());
}

#[test]
fn captured_tls12_client_flight() {
    let HandshakePayload::ClientKeyExchange(cke) =
        decode(&capture(TLS12_CAPTURE, "C:ClientKeyExchange", 0))
            .unwrap()
            .payload
    else {
        panic!("ClientKeyExchange");
    };
    let public = cke.ecdhe_public().unwrap();
    assert_eq!(public.len(), 65);
    assert_eq!(ClientKeyExchangePayload::from_ecdhe_public(&public), cke);

    let HandshakePayload::CertificateVerify(DigitallySigned { scheme, signature }) =
        decode(&capture(TLS12_CAPTURE, "C:CertificateVerify", 0))
            .unwrap()
            .payload
    else {
        panic!("CertificateVerify");
    };
    assert_eq!(scheme, SignatureScheme::ecdsa_secp256r1_sha256);
    assert_eq!(signature.len(), 0x46);

    for nth in 0..2 {
        let who = ["C:Finished", "S:Finished"][nth];
        let HandshakePayload::Finished(fin) =
            decode(&capture(TLS12_CAPTURE, who, 0)).unwrap().payload
        else {
            panic!("Finished");
        };
        assert_eq!(fin.verify_data.len(), 12);
    }
}

#[test]
fn captured_tls13_hellos() {
    let ch1 = client_hello(&capture(TLS13_CAPTURE, "C:ClientHello", 0));
    assert_eq!(ch1.legacy_version, ProtocolVersion::TLSv1_2);
    assert_eq!(ch1.session_id.len(), 32);
    assert!(ch1
        .cipher_suites
        .contains(&CipherSuite::TLS_AES_128_GCM_SHA256));
    let versions: ClientSupportedVersions = ch1
        .extensions
        .get(ExtensionType::SupportedVersions)
        .unwrap()
        .unwrap();
    assert_eq!(versions.0[0], ProtocolVersion::TLSv1_3);
    let shares: ClientKeyShare = ch1
        .extensions
        .get(ExtensionType::KeyShare)
        .unwrap()
        .unwrap();
    assert_eq!(shares.0.len(), 1);
    assert_eq!(shares.0[0].group, NamedGroup::x25519);
    assert_eq!(shares.0[0].key_exchange.len(), 32);
    let modes: PskKeyExchangeModes = ch1
        .extensions
        .get(ExtensionType::PskKeyExchangeModes)
        .unwrap()
        .unwrap();
    assert_eq!(modes.0, [PskKeyExchangeMode::PskDheKe]);
    let alpn: ProtocolNameList = ch1
        .extensions
        .get(ExtensionType::ApplicationLayerProtocolNegotiation)
        .unwrap()
        .unwrap();
    assert_eq!(alpn.0, [b"h2".to_vec(), b"http/1.1".to_vec()]);

    let hrr = server_hello(&capture(TLS13_CAPTURE, "S:ServerHello", 0));
    assert!(hrr.is_hello_retry_request());
    assert_eq!(hrr.session_id, ch1.session_id);
    assert_eq!(
        hrr.extensions.get(ExtensionType::KeyShare),
        Ok(Some(HelloRetryKeyShare(NamedGroup::secp256r1)))
    );
    assert_eq!(
        hrr.extensions.get(ExtensionType::SupportedVersions),
        Ok(Some(ServerSupportedVersion(ProtocolVersion::TLSv1_3)))
    );

    let ch2 = client_hello(&capture(TLS13_CAPTURE, "C:ClientHello", 1));
    assert_eq!(ch2.random, ch1.random);
    let shares: ClientKeyShare = ch2
        .extensions
        .get(ExtensionType::KeyShare)
        .unwrap()
        .unwrap();
    assert_eq!(
        shares
            .find(NamedGroup::secp256r1)
            .map(|e| e.key_exchange.len()),
        Some(65)
    );

    let sh = server_hello(&capture(TLS13_CAPTURE, "S:ServerHello", 1));
    assert!(!sh.is_hello_retry_request());
    assert_eq!(sh.downgrade_sentinel(), None);
    let share: ServerKeyShare = sh.extensions.get(ExtensionType::KeyShare).unwrap().unwrap();
    assert_eq!(share.0.group, NamedGroup::secp256r1);
}

#[test]
fn every_captured_extension_decodes_and_round_trips() {
    let mut typed = 0;
    for (name, bytes) in tls12_shaped()
        .into_iter()
        .filter(|(n, _)| n.ends_with("Hello"))
    {
        let (sender, exts) = hello_extensions(&bytes);
        for Extension { typ, data } in &exts.0 {
            if let Some(result) = decode_extension(*typ, data, sender) {
                assert_eq!(result, Ok(()), "{name} {typ:?}");
                typed += 1;
            }
        }
    }
    assert!(typed >= 30, "only {typed} typed extensions seen");
}

// ------------------------------------------------------ negative tests

#[test]
fn every_prefix_of_every_message_fails() {
    for (name, bytes) in tls12_shaped() {
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "{name} cut at {cut}");
        }
    }
}

#[test]
fn every_prefix_of_every_structured_body_fails() {
    for (name, bytes) in tls12_shaped() {
        let typ = bytes[0];
        let body = &bytes[4..];
        let keeps_raw = [12u8, 16, 20].contains(&typ);
        for cut in 0..body.len() {
            let result = decode(&with_body(typ, &body[..cut]));
            if keeps_raw {
                // ServerKeyExchange / ClientKeyExchange / Finished keep their
                // bytes; the typed decoders must then fail instead.
                let Ok(msg) = result else { continue };
                match msg.payload {
                    HandshakePayload::ServerKeyExchange(ske) => {
                        assert!(ske.ecdhe().is_err(), "{name} cut at {cut}")
                    }
                    HandshakePayload::ClientKeyExchange(cke) => {
                        assert!(cke.ecdhe_public().is_err(), "{name} cut at {cut}")
                    }
                    _ => {}
                }
            } else if typ == 1 || typ == 2 {
                // A hello cut exactly after compression_method(s) is a valid
                // hello without extensions.
                if let Ok(msg) = result {
                    let no_ext = match msg.payload {
                        HandshakePayload::ClientHello(ch) => ch.extensions.is_empty(),
                        HandshakePayload::ServerHello(sh) => sh.extensions.is_empty(),
                        _ => false,
                    };
                    assert!(no_ext, "{name} cut at {cut} decoded with extensions");
                }
            } else {
                assert!(result.is_err(), "{name} body cut at {cut}");
            }
        }
    }
}

#[test]
fn every_prefix_of_every_extension_body() {
    for (name, bytes) in tls12_shaped()
        .into_iter()
        .filter(|(n, _)| n.ends_with("Hello"))
    {
        let (sender, exts) = hello_extensions(&bytes);
        for Extension { typ, data } in &exts.0 {
            // Bodies whose every prefix is itself a legal body.
            if *typ == ExtensionType::SessionTicket {
                continue;
            }
            for cut in 0..data.len() {
                if let Some(result) = decode_extension(*typ, &data[..cut], sender) {
                    assert!(result.is_err(), "{name} {typ:?} cut at {cut}");
                }
            }
            // And a trailing byte is never accepted.
            let mut longer = data.clone();
            longer.push(0);
            if let Some(result) = decode_extension(*typ, &longer, sender) {
                if *typ != ExtensionType::SessionTicket {
                    assert!(result.is_err(), "{name} {typ:?} with a trailing byte");
                }
            }
        }
    }
}

#[test]
fn trailing_bytes_after_a_body() {
    for (name, bytes) in tls12_shaped() {
        let typ = bytes[0];
        if [12u8, 16, 20].contains(&typ) {
            continue;
        }
        let mut body = bytes[4..].to_vec();
        body.push(0);
        assert!(decode(&with_body(typ, &body)).is_err(), "{name}");
    }
    // Two bytes after a complete message are trailing data for read_bytes.
    let mut done = capture(TLS12_CAPTURE, "S:ServerHelloDone", 0);
    done.push(0);
    assert!(matches!(decode(&done), Err(DecodeError::TrailingData(_))));
}

#[test]
fn oversized_lengths() {
    for (name, bytes) in tls12_shaped() {
        // Message length one more than the body.
        let mut longer = bytes.clone();
        let len = u32::from_be_bytes([0, bytes[1], bytes[2], bytes[3]]) + 1;
        longer[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
        assert!(decode(&longer).is_err(), "{name}");
        // Message length 2^24-1.
        longer[1..4].copy_from_slice(&[0xff; 3]);
        assert!(decode(&longer).is_err(), "{name}");
    }
    // cipher_suites length 0xffff inside a real ClientHello.
    let mut ch = capture(TLS12_CAPTURE, "C:ClientHello", 0);
    let at = 4 + 2 + 32 + 1;
    assert_eq!(ch[at..at + 2], [0, 4]);
    ch[at..at + 2].copy_from_slice(&[0xff, 0xff]);
    assert!(matches!(decode(&ch), Err(DecodeError::Truncated(_))));
    // cipher_suites of odd length.
    let mut ch = capture(TLS12_CAPTURE, "C:ClientHello", 0);
    ch[at + 1] = 3;
    assert!(decode(&ch).is_err());
}

#[test]
fn duplicate_extension_in_a_real_hello() {
    let mut ch = client_hello(&capture(TLS12_CAPTURE, "C:ClientHello", 0));
    ch.extensions.0.push(Extension {
        typ: ExtensionType::ExtendedMasterSecret,
        data: vec![],
    });
    let wire = HandshakeMessage::new(HandshakePayload::ClientHello(ch)).get_encoding();
    let err = decode(&wire).unwrap_err();
    assert_eq!(err, DecodeError::DuplicateExtension(23));
    assert_eq!(err.alert(), AlertDescription::IllegalParameter);

    let mut sh = server_hello(&capture(TLS12_CAPTURE, "S:ServerHello", 0));
    sh.extensions.0.push(sh.extensions.0[0].clone());
    let wire = HandshakeMessage::new(HandshakePayload::ServerHello(sh)).get_encoding();
    assert_eq!(
        decode(&wire).unwrap_err(),
        DecodeError::DuplicateExtension(0xff01)
    );
}

#[test]
fn empty_lists_where_the_rfc_requires_content() {
    let ch = client_hello(&capture(TLS12_CAPTURE, "C:ClientHello", 0));
    let reencode = |ch: ClientHello| {
        decode(&HandshakeMessage::new(HandshakePayload::ClientHello(ch)).get_encoding())
    };
    assert_eq!(
        reencode(ClientHello {
            cipher_suites: vec![],
            ..ch.clone()
        }),
        Err(DecodeError::EmptyList("cipher_suites"))
    );
    assert_eq!(
        reencode(ClientHello {
            compression_methods: vec![],
            ..ch.clone()
        }),
        Err(DecodeError::EmptyList("compression_methods"))
    );
    // Empty lists inside extensions: each must be decode_error.
    for (typ, body) in [
        (ExtensionType::SupportedGroups, &[0u8, 0][..]),
        (ExtensionType::SignatureAlgorithms, &[0, 0]),
        (ExtensionType::EcPointFormats, &[0]),
        (ExtensionType::ServerName, &[0, 0]),
        (ExtensionType::ApplicationLayerProtocolNegotiation, &[0, 0]),
        (ExtensionType::SupportedVersions, &[0]),
        (ExtensionType::PskKeyExchangeModes, &[0]),
        (ExtensionType::Cookie, &[0, 0]),
    ] {
        let mut exts = ch.extensions.clone();
        exts.push(typ, body.to_vec());
        let err = decode_extension(typ, exts.find(typ).unwrap_or_default(), Sender::Client)
            .expect("typed")
            .unwrap_err();
        assert_eq!(err.alert(), AlertDescription::DecodeError, "{typ:?}");
    }
    // CertificateRequest with no certificate types.
    let req = CertificateRequestPayload {
        certificate_types: vec![],
        signature_schemes: vec![SignatureScheme::ecdsa_secp256r1_sha256],
        certificate_authorities: vec![],
    };
    assert_eq!(
        CertificateRequestPayload::read_bytes(&req.get_encoding()),
        Err(DecodeError::EmptyList("certificate_types"))
    );
}

#[test]
fn session_id_of_33_bytes() {
    let mut ch = capture(TLS13_CAPTURE, "C:ClientHello", 0);
    let at = 4 + 2 + 32;
    assert_eq!(ch[at], 32);
    ch[at] = 33;
    let err = decode(&ch).unwrap_err();
    assert_eq!(err, DecodeError::InvalidLength("session_id"));
    assert_eq!(err.alert(), AlertDescription::DecodeError);
    let mut sh = capture(TLS13_CAPTURE, "S:ServerHello", 1);
    sh[at] = 33;
    assert!(decode(&sh).is_err());
    assert!(SessionId::new(&[0; 33]).is_none());
}

#[test]
fn bad_curve_type() {
    let HandshakePayload::ServerKeyExchange(mut ske) =
        decode(&capture(TLS12_CAPTURE, "S:ServerKeyExchange", 0))
            .unwrap()
            .payload
    else {
        panic!("ServerKeyExchange");
    };
    for curve_type in [0u8, 1, 2, 4, 0xff] {
        ske.0[0] = curve_type;
        let err = ske.ecdhe().unwrap_err();
        assert_eq!(err, DecodeError::IllegalValue("curve_type"));
        assert_eq!(err.alert(), AlertDescription::IllegalParameter);
    }
    // The point must not be empty.
    let params = EcdheServerParams::new(NamedGroup::secp256r1, vec![]);
    assert_eq!(
        EcdheServerParams::read_bytes(&params.get_encoding()),
        Err(DecodeError::InvalidLength("ECPoint"))
    );
}

#[test]
fn wrong_ems_and_etm_bodies() {
    let mut ch = client_hello(&capture(TLS12_CAPTURE, "C:ClientHello", 0));
    ch.extensions
        .push(ExtensionType::ExtendedMasterSecret, vec![0]);
    ch.extensions
        .push(ExtensionType::EncryptThenMac, vec![0, 0]);
    // The hello itself still decodes: bodies are checked when used.
    let wire = HandshakeMessage::new(HandshakePayload::ClientHello(ch)).get_encoding();
    let ch = client_hello(&wire);
    let ems = ch
        .extensions
        .get::<ExtendedMasterSecret>(ExtensionType::ExtendedMasterSecret)
        .unwrap_err();
    assert_eq!(ems.alert(), AlertDescription::DecodeError);
    assert!(ch
        .extensions
        .get::<EncryptThenMac>(ExtensionType::EncryptThenMac)
        .is_err());
}

#[test]
fn record_size_limit_below_64() {
    assert_eq!(
        RecordSizeLimit::read_bytes(&[0, 63]).unwrap_err().alert(),
        AlertDescription::IllegalParameter
    );
    assert_eq!(
        RecordSizeLimit::read_bytes(&[0, 64]),
        Ok(RecordSizeLimit(64))
    );
}

#[test]
fn hello_without_extensions_block() {
    // RFC 5246 §7.4.1.2: extensions may be absent altogether.
    let ch = client_hello(&capture(TLS12_CAPTURE, "C:ClientHello", 0));
    let mut body = Vec::new();
    ClientHello {
        extensions: Extensions::new(),
        ..ch.clone()
    }
    .encode(&mut body);
    assert_eq!(body.len(), 2 + 32 + 1 + 2 + 4 + 2);
    let bare = client_hello(&with_body(1, &body));
    assert!(bare.extensions.is_empty());
    assert_eq!(bare.cipher_suites, ch.cipher_suites);
    // An explicitly empty block decodes the same.
    body.extend_from_slice(&[0, 0]);
    assert!(client_hello(&with_body(1, &body)).extensions.is_empty());
}

#[test]
fn unknown_handshake_types_pass_through() {
    // TLS 1.3 EncryptedExtensions has no TLS 1.2 body: kept raw.
    let ee = capture(TLS13_CAPTURE, "S:EncryptedExtensions", 0);
    let msg = decode(&ee).unwrap();
    assert_eq!(msg.typ, HandshakeType::EncryptedExtensions);
    assert_eq!(msg.payload, HandshakePayload::Unknown(ee[4..].to_vec()));
    assert_eq!(msg.get_encoding(), ee);
    let odd = decode(&[0x77, 0, 0, 1, 9]).unwrap();
    assert_eq!(odd.typ, HandshakeType::Unknown(0x77));
    assert_eq!(odd.get_encoding(), [0x77, 0, 0, 1, 9]);
}

#[test]
fn alerts() {
    let close = AlertMessage::read_bytes(&[1, 0]).unwrap();
    assert_eq!(close, AlertMessage::warning(AlertDescription::CloseNotify));
    for bad in [&[][..], &[2], &[2, 40, 0]] {
        assert!(AlertMessage::read_bytes(bad).is_err());
    }
}

#[test]
fn captured_tls13_server_messages() {
    let body = |name: &str| capture(TLS13_CAPTURE, name, 0)[4..].to_vec();

    let ee = EncryptedExtensions::read_bytes(&body("S:EncryptedExtensions")).unwrap();
    let alpn: ProtocolNameList = ee
        .extensions
        .get(ExtensionType::ApplicationLayerProtocolNegotiation)
        .unwrap()
        .unwrap();
    assert_eq!(alpn.single(), Some(&b"h2"[..]));

    let cert_body = body("S:Certificate");
    let cert = Certificate13::read_bytes(&cert_body).unwrap();
    assert!(cert.context.is_empty());
    assert_eq!(cert.certificates().count(), 2);
    assert!(cert.certificates().all(|c| c.starts_with(&[0x30, 0x82])));
    assert_eq!(cert.get_encoding(), cert_body);
    // The TLS 1.2 reading of a TLS 1.3 Certificate fails rather than
    // mis-parsing: the context byte shifts every length.
    assert!(CertificatePayload::read_bytes(&cert_body).is_err());
    for cut in 0..cert_body.len() {
        assert!(Certificate13::read_bytes(&cert_body[..cut]).is_err());
    }

    let cv = DigitallySigned::read_bytes(&body("S:CertificateVerify")).unwrap();
    assert_eq!(cv.scheme, SignatureScheme::ecdsa_secp256r1_sha256);
    let fin = decode(&capture(TLS13_CAPTURE, "S:Finished", 0)).unwrap();
    let HandshakePayload::Finished(fin) = fin.payload else {
        panic!("Finished");
    };
    assert_eq!(fin.verify_data.len(), 48);
}

// ------------------------------------------------- deframer and joiner

/// The raw messages of one flight.
fn flight(list: &[(&str, &str)], names: &[&str]) -> Vec<Vec<u8>> {
    let mut seen = std::collections::HashMap::new();
    names
        .iter()
        .map(|n| {
            let nth = seen.entry(*n).or_insert(0usize);
            *nth += 1;
            capture(list, n, *nth - 1)
        })
        .collect()
}

const SERVER_FLIGHT: &[&str] = &[
    "S:ServerHello",
    "S:Certificate",
    "S:ServerKeyExchange",
    "S:CertificateRequest",
    "S:ServerHelloDone",
];

/// Puts `messages` into handshake records three ways: one per record, all
/// in one record, and the concatenation cut into `small`-byte records.
fn framings(messages: &[Vec<u8>], small: usize) -> Vec<Vec<u8>> {
    let v = ProtocolVersion::TLSv1_2;
    let hs = ContentType::Handshake;
    let mut one_each = Vec::new();
    for m in messages {
        encode_record(hs, v, m, &mut one_each);
    }
    let all: Vec<u8> = messages.concat();
    let mut together = Vec::new();
    encode_record(hs, v, &all, &mut together);
    let mut cut = Vec::new();
    for piece in fragment(&all, small) {
        encode_record(hs, v, piece, &mut cut);
    }
    vec![one_each, together, cut]
}

/// Feeds `wire` to a deframer in the given chunks and joins the handshake
/// messages.
fn deframe_and_join(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut deframer = MessageDeframer::new();
    let mut joiner = HandshakeJoiner::new();
    let mut out = Vec::new();
    for chunk in chunks {
        let mut rd: &[u8] = chunk;
        while !rd.is_empty() {
            deframer.read(&mut rd).expect("buffer has room");
            while let Some(rec) = deframer.next_record_mut().expect("valid record") {
                assert_eq!(rec.header.content_type, ContentType::Handshake);
                joiner.push(rec.fragment);
                while let Some(msg) = joiner.next_message().expect("not oversized") {
                    out.push(msg);
                }
            }
        }
    }
    assert!(!deframer.has_pending());
    assert!(joiner.is_empty());
    out
}

#[test]
fn records_split_at_every_boundary_reassemble() {
    let messages = flight(TLS12_CAPTURE, SERVER_FLIGHT);
    for wire in framings(&messages, 7) {
        for cut in 0..=wire.len() {
            let got = deframe_and_join(&[&wire[..cut], &wire[cut..]]);
            assert_eq!(got, messages, "cut at {cut}");
        }
    }
}

#[test]
fn records_fed_in_odd_chunks() {
    let messages = flight(TLS12_CAPTURE, SERVER_FLIGHT);
    for wire in framings(&messages, 100) {
        for size in [1, 2, 3, 5, 13, 64, 1000] {
            let chunks: Vec<&[u8]> = wire.chunks(size).collect();
            assert_eq!(deframe_and_join(&chunks), messages, "chunk {size}");
        }
    }
}

#[test]
fn joined_messages_decode() {
    let messages = flight(TLS12_CAPTURE, SERVER_FLIGHT);
    let wire = &framings(&messages, 10)[2];
    let joined = deframe_and_join(&[wire]);
    let types: Vec<HandshakeType> = joined
        .iter()
        .map(|raw| decode(raw).expect("decodes").typ)
        .collect();
    assert_eq!(
        types,
        [
            HandshakeType::ServerHello,
            HandshakeType::Certificate,
            HandshakeType::ServerKeyExchange,
            HandshakeType::CertificateRequest,
            HandshakeType::ServerHelloDone
        ]
    );
}

#[test]
fn record_overflow_and_bad_version() {
    let mut d = MessageDeframer::new();
    let mut wire = Vec::new();
    encode_record(
        ContentType::ApplicationData,
        ProtocolVersion::TLSv1_2,
        &vec![0; MAX_CIPHERTEXT_TLS12 + 1],
        &mut wire,
    );
    d.push(&wire);
    let err = d.next_record().unwrap_err();
    assert_eq!(err, DeframerError::RecordOverflow);
    assert_eq!(err.alert(), AlertDescription::RecordOverflow);

    let mut d = MessageDeframer::new();
    d.push(&[0x80, 0x2e, 0x01, 0x03, 0x01]); // an SSLv2-style hello
    assert_eq!(d.next_record().unwrap_err(), DeframerError::BadVersion);

    let header = RecordHeader {
        content_type: ContentType::Heartbeat,
        version: ProtocolVersion::TLSv1_2,
        length: 3,
    };
    let mut d = MessageDeframer::new();
    d.push(&header.to_bytes());
    d.push(&[1, 2, 3]);
    assert_eq!(d.next_record(), Ok(Some((header, vec![1, 2, 3]))));
}

#[test]
fn oversized_handshake_message() {
    let cert = capture(TLS12_CAPTURE, "S:Certificate", 0);
    let mut j = HandshakeJoiner::new();
    j.set_max_message_len(cert.len() - 5);
    j.push(&cert[..4]);
    let err = j.next_message().unwrap_err();
    assert_eq!(err, DecodeError::Oversized("handshake message"));
    assert_eq!(err.alert(), AlertDescription::DecodeError);

    let mut j = HandshakeJoiner::new();
    j.set_max_message_len(cert.len() - 4);
    j.push(&cert);
    assert_eq!(j.next_message(), Ok(Some(cert.clone())));

    // The default limit is 2^17: a 2^24-1 announcement fails at once.
    let mut j = HandshakeJoiner::new();
    j.push(&[11, 0xff, 0xff, 0xff]);
    assert!(j.next_message().is_err());
}

#[test]
fn tls13_flight_through_the_joiner() {
    // As TLS 1.3 would deliver them after decryption: coalesced.
    let names = [
        "S:EncryptedExtensions",
        "S:Certificate",
        "S:CertificateVerify",
        "S:Finished",
    ];
    let messages = flight(TLS13_CAPTURE, &names);
    let all = messages.concat();
    let mut j = HandshakeJoiner::new();
    let mut got = Vec::new();
    for piece in fragment(&all, MAX_PLAINTEXT) {
        j.push(piece);
        while let Some(m) = j.next_message().unwrap() {
            got.push(m);
        }
    }
    assert_eq!(got, messages);
}

// ------------------------------------------------------------- fuzzing

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Runs every decoder over `input`. Returns how many accepted it.
fn decode_everything(input: &[u8]) -> usize {
    let mut accepted = 0;
    let mut count = |ok: bool| accepted += usize::from(ok);

    if let Ok(msg) = decode(input) {
        count(true);
        // Whatever decodes re-encodes to something that decodes the same.
        let again = decode(&msg.get_encoding());
        assert_eq!(again.as_ref(), Ok(&msg), "re-encoding changed {input:02x?}");
        if let HandshakePayload::ServerKeyExchange(ske) = &msg.payload {
            count(ske.ecdhe().is_ok());
        }
        if let HandshakePayload::ClientKeyExchange(cke) = &msg.payload {
            count(cke.ecdhe_public().is_ok());
        }
        let exts = match &msg.payload {
            HandshakePayload::ClientHello(ch) => Some((Sender::Client, &ch.extensions)),
            HandshakePayload::ServerHello(sh) => Some((Sender::Server, &sh.extensions)),
            _ => None,
        };
        if let Some((sender, exts)) = exts {
            for Extension { typ, data } in &exts.0 {
                for s in [sender, Sender::HelloRetry] {
                    if let Some(r) = decode_extension(*typ, data, s) {
                        count(r.is_ok());
                    }
                }
            }
        }
    }
    // Every body decoder straight on the input, as a body of every type.
    for typ in HandshakeType::ALL {
        count(HandshakePayload::read_tls12(*typ, Reader::new(input)).is_ok());
    }
    count(ServerKeyExchangePayload(input.to_vec()).ecdhe().is_ok());
    count(
        ClientKeyExchangePayload(input.to_vec())
            .ecdhe_public()
            .is_ok(),
    );
    count(Extensions::read_bytes(input).is_ok());
    count(Extensions::read_optional(&mut Reader::new(input)).is_ok());
    count(AlertMessage::read_bytes(input).is_ok());
    count(SessionId::read_bytes(input).is_ok());
    count(RecordHeader::read_bytes(input).is_ok());
    count(DigitallySigned::read_bytes(input).is_ok());
    count(EcdheServerParams::read_bytes(input).is_ok());
    count(CertificatePayload::read_bytes(input).is_ok());
    count(CertificateRequestPayload::read_bytes(input).is_ok());
    count(NewSessionTicketPayload::read_bytes(input).is_ok());
    count(EncryptedExtensions::read_bytes(input).is_ok());
    count(CertificateRequest13::read_bytes(input).is_ok());
    count(Certificate13::read_bytes(input).is_ok());
    count(NewSessionTicket13::read_bytes(input).is_ok());
    count(KeyUpdate::read_bytes(input).is_ok());
    count(MaxEarlyDataSize::read_bytes(input).is_ok());
    for &typ in ExtensionType::ALL {
        for s in [Sender::Client, Sender::Server, Sender::HelloRetry] {
            if let Some(r) = decode_extension(typ, input, s) {
                count(r.is_ok());
            }
        }
    }
    // Record layer.
    let mut d = MessageDeframer::new();
    d.push(input);
    while let Ok(Some(_)) = d.next_record() {}
    let mut j = HandshakeJoiner::new();
    j.push(input);
    while let Ok(Some(_)) = j.next_message() {}
    accepted
}

#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for _ in 0..10_000 {
        let len = rng.below(300);
        let mut input = rng.bytes(len);
        // Half of the inputs get a plausible handshake header so the body
        // decoders are reached.
        if rng.below(2) == 0 && input.len() >= 4 {
            let body = (input.len() - 4) as u32;
            input[0] = [1u8, 2, 4, 11, 12, 13, 14, 15, 16, 20][rng.below(10)];
            input[1..4].copy_from_slice(&body.to_be_bytes()[1..]);
        }
        accepted += decode_everything(&input);
    }
    assert!(accepted > 0);
}

#[test]
fn mutated_captures_never_panic() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let corpus = tls12_shaped();
    let mut still_decoding = 0;
    for _ in 0..10_000 {
        let (_, original) = &corpus[rng.below(corpus.len())];
        let mut input = original.clone();
        for _ in 0..=rng.below(4) {
            let at = rng.below(input.len());
            match rng.below(3) {
                0 => input[at] = rng.next() as u8,
                1 => input[at] ^= 1 << rng.below(8),
                _ => {
                    let at = at.max(1);
                    input.truncate(at)
                }
            }
        }
        if decode(&input).is_ok() {
            still_decoding += 1;
        }
        decode_everything(&input);
    }
    assert!(
        still_decoding > 100,
        "mutations too destructive: {still_decoding}"
    );
}
