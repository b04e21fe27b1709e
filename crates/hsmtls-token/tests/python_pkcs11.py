"""python-pkcs11 (PyPI) driving the built libhsmtls_token.so.

Run by tests/python_pkcs11.rs, which initialises the token and user PIN
first (python-pkcs11 has no C_InitToken) and points HSMTLS_TOKEN_CONF at it.

usage: python3 python_pkcs11.py MODULE TOKEN_LABEL USER_PIN
Prints one line per step and "python-pkcs11: ok" at the end.
"""

import sys

import pkcs11
from pkcs11 import KDF, Attribute, KeyType, Mechanism, MechanismFlag
from pkcs11.exceptions import PinIncorrect, SignatureInvalid
from pkcs11.mechanisms import GCMParams
from pkcs11.util.ec import encode_named_curve_parameters


def main(module: str, label: str, pin: str) -> None:
    lib = pkcs11.lib(module)
    print(f"library: {lib.manufacturer_id.strip()} / {lib.library_description.strip()}")
    token = lib.get_token(token_label=label)
    print(f"token: {token.label!r}")

    try:
        with token.open(user_pin=pin + "-wrong"):
            raise SystemExit("login with a wrong PIN succeeded")
    except PinIncorrect:
        print("wrong PIN: PinIncorrect")

    with token.open(rw=True, user_pin=pin) as session:
        data = b"hsmtls-token through python-pkcs11"

        # EC P-256: key pair, ECDSA-SHA256 sign and verify.
        params = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        public, private = params.generate_keypair(store=False, label="py-ec")
        point = public[Attribute.EC_POINT]
        assert len(point) == 67 and point[:3] == b"\x04\x41\x04", point.hex()
        sig = private.sign(data, mechanism=Mechanism.ECDSA_SHA256)
        assert len(sig) == 64, len(sig)
        assert public.verify(data, sig, mechanism=Mechanism.ECDSA_SHA256)
        assert not public.verify(data + b"!", sig, mechanism=Mechanism.ECDSA_SHA256)
        try:
            private[Attribute.VALUE]
            raise SystemExit("the private scalar was readable")
        except pkcs11.exceptions.AttributeSensitive:
            pass
        print("EC P-256: generate, ECDSA-SHA256 sign/verify: ok")

        # ECDH both ways (CKM_ECDH1_DERIVE, CKD_NULL): two key pairs, each
        # private key with the other's public point; the two derived AES
        # keys are one key: what one encrypts, the other decrypts.
        alice_pub, alice = params.generate_keypair(store=False, label="py-alice")
        bob_pub, bob = params.generate_keypair(store=False, label="py-bob")
        caps = MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT
        k_ab = alice.derive_key(
            KeyType.AES, 128, capabilities=caps,
            mechanism_param=(KDF.NULL, None, bob_pub[Attribute.EC_POINT]),
        )
        k_ba = bob.derive_key(
            KeyType.AES, 128, capabilities=caps,
            mechanism_param=(KDF.NULL, None, alice_pub[Attribute.EC_POINT]),
        )
        iv = b"\x07" * 12
        sealed = k_ab.encrypt(data, mechanism=Mechanism.AES_GCM,
                              mechanism_param=GCMParams(iv, b"", 128))
        assert k_ba.decrypt(sealed, mechanism=Mechanism.AES_GCM,
                            mechanism_param=GCMParams(iv, b"", 128)) == data
        sealed = k_ba.encrypt(data, mechanism=Mechanism.AES_GCM,
                              mechanism_param=GCMParams(iv, b"", 128))
        assert k_ab.decrypt(sealed, mechanism=Mechanism.AES_GCM,
                            mechanism_param=GCMParams(iv, b"", 128)) == data
        try:
            k_ab[Attribute.VALUE]
            raise SystemExit("the derived ECDH key was readable")
        except pkcs11.exceptions.AttributeSensitive:
            pass
        print("EC P-256: ECDH both ways, derived keys agree: ok")

        # AES-256. python-pkcs11's default AES capabilities include WRAP
        # and DECRYPT together, which the token refuses by policy (a wrap
        # key must not decrypt: wrap, then decrypt the result, and the key
        # is out) with CKR_TEMPLATE_INCONSISTENT; ask for encryption only.
        try:
            session.generate_key(KeyType.AES, 256, store=False)
            raise SystemExit("an AES key with WRAP and DECRYPT was generated")
        except pkcs11.exceptions.TemplateInconsistent:
            print("AES with WRAP|DECRYPT: TemplateInconsistent (policy)")
        key = session.generate_key(
            KeyType.AES,
            256,
            store=False,
            label="py-aes",
            capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
        )
        # GCM encrypt and decrypt with AAD; a tampered ciphertext is refused.
        nonce = session.generate_random(96)
        gcm = GCMParams(nonce, b"associated data", 128)
        ct = key.encrypt(data, mechanism=Mechanism.AES_GCM, mechanism_param=gcm)
        assert len(ct) == len(data) + 16, len(ct)
        assert ct[: len(data)] != data
        pt = key.decrypt(ct, mechanism=Mechanism.AES_GCM, mechanism_param=gcm)
        assert pt == data, pt
        bad = bytes([ct[0] ^ 1]) + ct[1:]
        try:
            key.decrypt(bad, mechanism=Mechanism.AES_GCM, mechanism_param=gcm)
            raise SystemExit("a tampered GCM ciphertext decrypted")
        except (pkcs11.exceptions.EncryptedDataInvalid, SignatureInvalid):
            pass
        except pkcs11.exceptions.PKCS11Error as e:
            # CKR_AEAD_DECRYPT_FAILED (PKCS#11 3.0), which python-pkcs11
            # does not name.
            assert "0x42" in str(e), e
        print("AES-256-GCM: generate, encrypt/decrypt, tamper refused: ok")

        # SHA-256 and SHA-1 digests (FIPS 180-4 "abc").
        d = session.digest(b"abc", mechanism=Mechanism.SHA256)
        assert d.hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        d = session.digest(b"abc", mechanism=Mechanism.SHA_1)
        assert d.hex() == "a9993e364706816aba3e25717850c26c9cd0d89d"
        print("SHA-256, SHA-1 digests: ok")

    print("python-pkcs11: ok")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
