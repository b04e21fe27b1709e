//! `hsmtls token bench`: the same five operations through the C API of any
//! PKCS#11 module, timed. Every call goes through the raw
//! `CK_FUNCTION_LIST` (the crate's FFI module), so the figures of two
//! modules compare their `C_*` functions and nothing else.
//!
//! | row | calls per operation |
//! |---|---|
//! | ECDSA P-256 sign | `C_SignInit` `CKM_ECDSA` + `C_Sign` (32-byte digest) |
//! | ECDH P-256 | `C_DeriveKey` `CKM_ECDH1_DERIVE` (`CKD_NULL`) + `C_DestroyObject` |
//! | AES-128-GCM 16 KiB | `C_EncryptInit` `CKM_AES_GCM` (fresh 12-byte IV) + `C_Encrypt` |
//! | HMAC-SHA256 16 KiB | `C_SignInit` `CKM_SHA256_HMAC` + `C_Sign` |
//! | TLS 1.2 master derive | `C_DeriveKey` `CKM_TLS12_MASTER_KEY_DERIVE_DH` (SHA-256 PRF) + `C_DestroyObject` |

use core::fmt;
use std::time::{Duration, Instant};

use cryptoki_sys as sys;
use hsmtls_keys::KeyExchangeGroup;

use crate::ffi::{self, Attr, Ck, Mech, Module};
use crate::{der, OpenError, Pkcs11Config, TokenSelector};

/// One timed operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchOp {
    /// `C_SignInit` + `C_Sign`, `CKM_ECDSA` with a P-256 key.
    EcdsaP256Sign,
    /// `C_DeriveKey` `CKM_ECDH1_DERIVE` P-256, the derived key destroyed.
    EcdhP256,
    /// `C_EncryptInit` + `C_Encrypt`, `CKM_AES_GCM` AES-128, 16 KiB.
    AesGcm16k,
    /// `C_SignInit` + `C_Sign`, `CKM_SHA256_HMAC`, 16 KiB.
    HmacSha256_16k,
    /// `C_DeriveKey` `CKM_TLS12_MASTER_KEY_DERIVE_DH`, the master destroyed.
    Tls12MasterDerive,
}

impl BenchOp {
    /// The five rows, in order.
    pub const ALL: [BenchOp; 5] = [
        BenchOp::EcdsaP256Sign,
        BenchOp::EcdhP256,
        BenchOp::AesGcm16k,
        BenchOp::HmacSha256_16k,
        BenchOp::Tls12MasterDerive,
    ];

    /// The row's name.
    pub fn name(self) -> &'static str {
        match self {
            BenchOp::EcdsaP256Sign => "ECDSA P-256 sign",
            BenchOp::EcdhP256 => "ECDH P-256 derive",
            BenchOp::AesGcm16k => "AES-128-GCM 16 KiB",
            BenchOp::HmacSha256_16k => "HMAC-SHA256 16 KiB",
            BenchOp::Tls12MasterDerive => "TLS 1.2 master derive",
        }
    }

    /// The mechanism the row needs.
    fn mechanism(self) -> sys::CK_MECHANISM_TYPE {
        match self {
            BenchOp::EcdsaP256Sign => sys::CKM_ECDSA,
            BenchOp::EcdhP256 => sys::CKM_ECDH1_DERIVE,
            BenchOp::AesGcm16k => sys::CKM_AES_GCM,
            BenchOp::HmacSha256_16k => sys::CKM_SHA256_HMAC,
            BenchOp::Tls12MasterDerive => sys::CKM_TLS12_MASTER_KEY_DERIVE_DH,
        }
    }
}

impl fmt::Display for BenchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How one row went.
#[derive(Clone, Debug, PartialEq)]
pub enum BenchOutcome {
    /// Operations per second.
    Rate(f64),
    /// The token lacks the mechanism (or a mechanism the setup needs).
    Unsupported(&'static str),
    /// A call failed.
    Failed(String),
}

impl fmt::Display for BenchOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchOutcome::Rate(r) => write!(f, "{r:.0}"),
            BenchOutcome::Unsupported(_) => f.write_str("n/a"),
            BenchOutcome::Failed(_) => f.write_str("error"),
        }
    }
}

/// The size of the AES-GCM and HMAC inputs.
pub const BENCH_DATA_LEN: usize = 16 * 1024;

/// Runs the five operations on `config`'s module and token (the slot of
/// [`TokenSelector::SlotId`], the token of [`TokenSelector::Label`], or
/// the first token), logged in with `config.pin` if set, each for about
/// `time` (at least one operation). Keys are session objects, destroyed
/// with the session.
pub fn run(
    config: &Pkcs11Config,
    time: Duration,
) -> Result<Vec<(BenchOp, BenchOutcome)>, OpenError> {
    with_bench(config, time, |bench| {
        BenchOp::ALL.iter().map(|&op| (op, bench.row(op))).collect()
    })
}

/// RSA-2048 `CKM_RSA_PKCS` decryption timed with a valid ciphertext and
/// with one whose padding is invalid (the valid one with its last byte
/// changed: it decrypts to noise), in alternating batches.
///
/// A module without a padding oracle takes the same time for both and
/// answers both with `CKR_OK` (implicit rejection returns a synthetic
/// message for the invalid one); a module that answers the invalid one
/// with an error tells the caller the padding check's result, and a
/// difference in time tells it to anyone who can time the call.
#[derive(Clone, Debug, PartialEq)]
pub struct RsaPaddingTiming {
    /// Decryptions per second of the valid ciphertext.
    pub valid: BenchOutcome,
    /// Decryptions per second of the invalid one.
    pub invalid: BenchOutcome,
    /// What the module answered for the invalid one (`CKR_OK`, or the
    /// error's name).
    pub invalid_answer: &'static str,
}

/// Runs [`RsaPaddingTiming`] on `config`'s module for about `time` per
/// ciphertext.
pub fn run_rsa_padding(
    config: &Pkcs11Config,
    time: Duration,
) -> Result<RsaPaddingTiming, OpenError> {
    with_bench(config, time, |bench| bench.rsa_padding())
}

/// Opens `config`'s token, logs in, runs `f`, closes the session.
fn with_bench<T>(
    config: &Pkcs11Config,
    time: Duration,
    f: impl FnOnce(&Bench<'_>) -> T,
) -> Result<T, OpenError> {
    let module = crate::load_module(config)?;
    let slots = module.slots()?;
    let slot = match &config.token {
        TokenSelector::SlotId(s) => *s as sys::CK_SLOT_ID,
        TokenSelector::First => *slots.first().ok_or_else(|| {
            OpenError::NoToken(format!("no token in {}", config.module.display()))
        })?,
        TokenSelector::Label(label) => slots
            .iter()
            .copied()
            .find(|&s| module.token_info(s).is_ok_and(|i| &i.label == label))
            .ok_or_else(|| {
                OpenError::NoToken(format!(
                    "no token \"{label}\" in {}",
                    config.module.display()
                ))
            })?,
    };
    let mechanisms = module.mechanisms(slot)?;
    let session = module.open_session(slot)?;
    // SoftHSM2 misreads some raw points as DER (see Plan::ecdh_der_public).
    let der_points = module
        .token_info(slot)
        .is_ok_and(|i| i.manufacturer.starts_with("SoftHSM"));
    let bench = Bench {
        module: &module,
        session,
        mechanisms,
        time,
        der_points,
    };
    let result = (|| {
        if let Some(pin) = &config.pin {
            let pin = pin.read()?;
            module.login(session, pin.as_bytes())?;
        }
        Ok(f(&bench))
    })();
    // Closing the session destroys its session objects.
    let _ = module.close_session(session);
    result
}

struct Bench<'a> {
    module: &'a Module,
    session: sys::CK_SESSION_HANDLE,
    mechanisms: Vec<sys::CK_MECHANISM_TYPE>,
    time: Duration,
    /// Hand peer points to `CKM_ECDH1_DERIVE` DER-encoded.
    der_points: bool,
}

/// Runs `f` once (its errors end the row), then as often as fits in `time`.
fn timed(time: Duration, mut f: impl FnMut(u64) -> Result<(), Ck>) -> BenchOutcome {
    if let Err(e) = f(0) {
        return BenchOutcome::Failed(e.to_string());
    }
    let start = Instant::now();
    let mut n: u64 = 0;
    loop {
        n += 1;
        if let Err(e) = f(n) {
            return BenchOutcome::Failed(e.to_string());
        }
        let elapsed = start.elapsed();
        if elapsed >= time {
            return BenchOutcome::Rate(n as f64 / elapsed.as_secs_f64());
        }
    }
}

fn secret_key(
    key_type: sys::CK_KEY_TYPE,
    len: sys::CK_ULONG,
    usage: &[sys::CK_ATTRIBUTE_TYPE],
) -> Vec<Attr> {
    let mut t = vec![
        Attr::ulong(sys::CKA_CLASS, sys::CKO_SECRET_KEY),
        Attr::ulong(sys::CKA_KEY_TYPE, key_type),
        Attr::bool(sys::CKA_TOKEN, false),
        Attr::bool(sys::CKA_SENSITIVE, true),
        Attr::bool(sys::CKA_EXTRACTABLE, false),
    ];
    if len > 0 {
        t.push(Attr::ulong(sys::CKA_VALUE_LEN, len));
    }
    t.extend(usage.iter().map(|&u| Attr::bool(u, true)));
    t
}

impl Bench<'_> {
    fn has(&self, m: sys::CK_MECHANISM_TYPE) -> bool {
        self.mechanisms.contains(&m)
    }

    fn rsa_padding(&self) -> RsaPaddingTiming {
        let unsupported = |why| RsaPaddingTiming {
            valid: BenchOutcome::Unsupported(why),
            invalid: BenchOutcome::Unsupported(why),
            invalid_answer: "-",
        };
        for (m, name) in [
            (sys::CKM_RSA_PKCS_KEY_PAIR_GEN, "CKM_RSA_PKCS_KEY_PAIR_GEN"),
            (sys::CKM_RSA_PKCS, "CKM_RSA_PKCS"),
        ] {
            if !self.has(m) {
                return unsupported(name);
            }
        }
        match self.rsa_padding_timed() {
            Ok(t) => t,
            Err(e) => RsaPaddingTiming {
                valid: BenchOutcome::Failed(format!("setup: {e}")),
                invalid: BenchOutcome::Failed(format!("setup: {e}")),
                invalid_answer: "-",
            },
        }
    }

    fn rsa_padding_timed(&self) -> Result<RsaPaddingTiming, Ck> {
        let (m, s) = (self.module, self.session);
        let public_t = [
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::ulong(sys::CKA_MODULUS_BITS, 2048),
            Attr::bytes(sys::CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
            Attr::bool(sys::CKA_ENCRYPT, true),
        ];
        let private_t = [
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::bool(sys::CKA_SENSITIVE, true),
            Attr::bool(sys::CKA_EXTRACTABLE, false),
            Attr::bool(sys::CKA_DECRYPT, true),
        ];
        let (hpub, hpriv) = m.generate_key_pair(
            s,
            &Mech::Plain(sys::CKM_RSA_PKCS_KEY_PAIR_GEN),
            &public_t,
            &private_t,
        )?;
        let rsa = Mech::Plain(sys::CKM_RSA_PKCS);
        // A TLS pre-master secret's shape: 48 bytes.
        let valid = m.encrypt(s, &rsa, hpub, &[0x03; 48], 256)?;
        let mut invalid = valid.clone();
        let last = invalid.len() - 1;
        invalid[last] ^= 0x5a;
        // The invalid ciphertext's answer, once: CKR_OK or an error.
        let invalid_answer = match m.decrypt(s, &rsa, hpriv, &invalid, 256) {
            Ok(_) => "CKR_OK",
            Err(e) => ffi::rv_name(e.rv),
        };
        let decrypt = |ct: &[u8]| match m.decrypt(s, &rsa, hpriv, ct, 256) {
            Ok(_) => Ok(()),
            // The answer is part of what is timed; the operation ended.
            Err(e) if ffi::rv_name(e.rv) == invalid_answer && ct == invalid.as_slice() => Ok(()),
            Err(e) => Err(e),
        };
        // Alternating batches, so drift in the machine's speed hits both.
        const ROUNDS: u32 = 8;
        let slice = self.time / ROUNDS;
        let (mut nv, mut tv, mut ni, mut ti) = (0u64, Duration::ZERO, 0u64, Duration::ZERO);
        for _ in 0..ROUNDS {
            for (ct, n, t) in [
                (valid.as_slice(), &mut nv, &mut tv),
                (invalid.as_slice(), &mut ni, &mut ti),
            ] {
                let start = Instant::now();
                loop {
                    decrypt(ct)?;
                    *n += 1;
                    if start.elapsed() >= slice {
                        break;
                    }
                }
                *t += start.elapsed();
            }
        }
        let rate = |n: u64, t: Duration| BenchOutcome::Rate(n as f64 / t.as_secs_f64());
        Ok(RsaPaddingTiming {
            valid: rate(nv, tv),
            invalid: rate(ni, ti),
            invalid_answer,
        })
    }

    fn row(&self, op: BenchOp) -> BenchOutcome {
        let needs: &[(sys::CK_MECHANISM_TYPE, &'static str)] = match op {
            BenchOp::EcdsaP256Sign => &[
                (sys::CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN"),
                (sys::CKM_ECDSA, "CKM_ECDSA"),
            ],
            BenchOp::EcdhP256 => &[
                (sys::CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN"),
                (sys::CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE"),
            ],
            BenchOp::AesGcm16k => &[
                (sys::CKM_AES_KEY_GEN, "CKM_AES_KEY_GEN"),
                (sys::CKM_AES_GCM, "CKM_AES_GCM"),
            ],
            BenchOp::HmacSha256_16k => &[
                (
                    sys::CKM_GENERIC_SECRET_KEY_GEN,
                    "CKM_GENERIC_SECRET_KEY_GEN",
                ),
                (sys::CKM_SHA256_HMAC, "CKM_SHA256_HMAC"),
            ],
            BenchOp::Tls12MasterDerive => &[
                (sys::CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN"),
                (sys::CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE"),
                (
                    sys::CKM_TLS12_MASTER_KEY_DERIVE_DH,
                    "CKM_TLS12_MASTER_KEY_DERIVE_DH",
                ),
            ],
        };
        debug_assert!(needs.iter().any(|&(m, _)| m == op.mechanism()));
        if let Some(&(_, name)) = needs.iter().find(|&&(m, _)| !self.has(m)) {
            return BenchOutcome::Unsupported(name);
        }
        match self.run_row(op) {
            Ok(outcome) => outcome,
            Err(e) => BenchOutcome::Failed(format!("setup: {e}")),
        }
    }

    /// A session P-256 key pair: the private key's handle and the public
    /// point as this module reads it best for `CKM_ECDH1_DERIVE` (raw, or
    /// DER-encoded for SoftHSM2).
    fn key_pair(
        &self,
        usage: sys::CK_ATTRIBUTE_TYPE,
    ) -> Result<(sys::CK_OBJECT_HANDLE, Vec<u8>), Ck> {
        let group = KeyExchangeGroup::Secp256r1;
        let public_t = [
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::bytes(sys::CKA_EC_PARAMS, der::ec_params(group)),
        ];
        let private_t = [
            Attr::bool(sys::CKA_TOKEN, false),
            Attr::bool(sys::CKA_SENSITIVE, true),
            Attr::bool(sys::CKA_EXTRACTABLE, false),
            Attr::bool(usage, true),
        ];
        let (hpub, hpriv) = self.module.generate_key_pair(
            self.session,
            &Mech::Plain(sys::CKM_EC_KEY_PAIR_GEN),
            &public_t,
            &private_t,
        )?;
        let point = self
            .module
            .attribute(self.session, hpub, sys::CKA_EC_POINT)?;
        let point = der::raw_ec_point(&point, group.share_len()).ok_or(Ck {
            function: "C_GetAttributeValue",
            rv: sys::CKR_ATTRIBUTE_VALUE_INVALID,
        })?;
        Ok((
            hpriv,
            if self.der_points {
                der::ec_point(&point)
            } else {
                point
            },
        ))
    }

    fn run_row(&self, op: BenchOp) -> Result<BenchOutcome, Ck> {
        let (m, s, time) = (self.module, self.session, self.time);
        let data = vec![0x5au8; BENCH_DATA_LEN];
        Ok(match op {
            BenchOp::EcdsaP256Sign => {
                let (key, _) = self.key_pair(sys::CKA_SIGN)?;
                let digest = [0x42u8; 32];
                timed(time, |_| {
                    m.sign(s, &Mech::Plain(sys::CKM_ECDSA), key, &digest, 64)
                        .map(drop)
                })
            }
            BenchOp::EcdhP256 => {
                let (key, _) = self.key_pair(sys::CKA_DERIVE)?;
                let (_, peer) = self.key_pair(sys::CKA_DERIVE)?;
                let template = secret_key(sys::CKK_GENERIC_SECRET, 0, &[sys::CKA_DERIVE]);
                let mech = Mech::Ecdh1 { public: &peer };
                timed(time, |_| {
                    let k = m.derive_key(s, &mech, key, &template)?;
                    m.destroy_object(s, k)
                })
            }
            BenchOp::AesGcm16k => {
                let key = m.generate_key(
                    s,
                    &Mech::Plain(sys::CKM_AES_KEY_GEN),
                    &secret_key(sys::CKK_AES, 16, &[sys::CKA_ENCRYPT]),
                )?;
                let mut iv = [0u8; 12];
                let mut out = vec![0u8; BENCH_DATA_LEN + 16];
                timed(time, |n| {
                    // A fresh IV per message, as a record layer uses them.
                    iv[4..].copy_from_slice(&n.to_be_bytes());
                    m.encrypt_into(s, &Mech::Gcm { iv: &iv, aad: &[] }, key, &data, &mut out)
                        .map(drop)
                })
            }
            BenchOp::HmacSha256_16k => {
                let key = m.generate_key(
                    s,
                    &Mech::Plain(sys::CKM_GENERIC_SECRET_KEY_GEN),
                    &secret_key(sys::CKK_GENERIC_SECRET, 32, &[sys::CKA_SIGN]),
                )?;
                timed(time, |_| {
                    m.sign(s, &Mech::Plain(sys::CKM_SHA256_HMAC), key, &data, 32)
                        .map(drop)
                })
            }
            BenchOp::Tls12MasterDerive => {
                // The pre-master secret as a handshake has it: ECDH output.
                let (key, _) = self.key_pair(sys::CKA_DERIVE)?;
                let (_, peer) = self.key_pair(sys::CKA_DERIVE)?;
                let pms = m.derive_key(
                    s,
                    &Mech::Ecdh1 { public: &peer },
                    key,
                    &secret_key(sys::CKK_GENERIC_SECRET, 0, &[sys::CKA_DERIVE]),
                )?;
                let (client, server) = ([1u8; 32], [2u8; 32]);
                let mech = Mech::Tls12Master {
                    mechanism: sys::CKM_TLS12_MASTER_KEY_DERIVE_DH,
                    randoms: ffi::Randoms {
                        client: &client,
                        server: &server,
                    },
                    prf: sys::CKM_SHA256,
                };
                let template = secret_key(
                    sys::CKK_GENERIC_SECRET,
                    0,
                    &[sys::CKA_DERIVE, sys::CKA_SIGN],
                );
                timed(time, |_| {
                    let k = m.derive_key(s, &mech, pms, &template)?;
                    m.destroy_object(s, k)
                })
            }
        })
    }
}
