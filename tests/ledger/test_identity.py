"""Tests for ``ledger.identity``: published Ed25519 vectors, derivation, verifier keys, keystore.

The signing and verifying side is checked against data published by others (RFC 8032 §7.1 and
Project Wycheproof), so agreement with them means agreement with every conforming Ed25519
implementation. Derived identities are pinned by a golden value and recomputed here with an
independent RFC 5869 HKDF; the verifier key line is recomputed from the spec's formula.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import stat
from pathlib import Path
from typing import NamedTuple

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError, SignatureError
from ledger.identity import (
    IDENTITY_ID_PATTERN,
    Identity,
    KeySecret,
    Keystore,
    PublicIdentity,
    derive_identity,
    key_hash,
)

PASSPHRASE_ENV = "DXSIM_KEYSTORE_PASSPHRASE"


def _hex(parts: str) -> bytes:
    return bytes.fromhex(parts)


def _flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# -- RFC 8032 §7.1 known-answer vectors ---------------------------------------------------------
#
# Copied from the text of RFC 8032 itself, section 7.1 "Test Vectors for Ed25519", as vendored in
# jstedfast/MimeKit, rfc/rfc8032.txt, commit 488ecf980c3a5887d3a3c4a3a03a39edd62ad4ee (the RFC is
# https://www.rfc-editor.org/rfc/rfc8032#section-7.1). Messages and signatures keep the RFC's line
# breaks (16 octets a line), to be checked line by line; ruff joins each 32-octet key into one
# string. Where each vector is in the RFC text (page numbers from its page footers):
#   TEST 1, TEST 2    page 24       TEST 3    page 25
#   TEST 1024         pages 25-27 (MESSAGE: 1023 octets)       TEST SHA(abc)    page 27


class _Rfc8032(NamedTuple):
    name: str
    secret: str
    public: str
    length: int  # the RFC's "MESSAGE (length N bytes)"
    message: str
    signature: str


RFC8032_VECTORS = [
    _Rfc8032(
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        0,
        "",
        (
            "e5564300c360ac729086e2cc806e828a"
            "84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46b"
            "d25bf5f0595bbe24655141438e7a100b"
        ),
    ),
    _Rfc8032(
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        1,
        "72",
        (
            "92a009a9f0d4cab8720e820b5f642540"
            "a2b27b5416503f8fb3762223ebdb69da"
            "085ac1e43e15996e458f3613d0f11d8c"
            "387b2eaeb4302aeeb00d291612bb0c00"
        ),
    ),
    _Rfc8032(
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        2,
        "af82",
        (
            "6291d657deec24024827e69c3abe01a3"
            "0ce548a284743a445e3680d7db5ac3ac"
            "18ff9b538d16f290ae67f760984dc659"
            "4a7c15e9716ed28dc027beceea1ec40a"
        ),
    ),
    _Rfc8032(
        "TEST 1024",
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        1023,
        (
            "08b8b2b733424243760fe426a4b54908"
            "632110a66c2f6591eabd3345e3e4eb98"
            "fa6e264bf09efe12ee50f8f54e9f77b1"
            "e355f6c50544e23fb1433ddf73be84d8"
            "79de7c0046dc4996d9e773f4bc9efe57"
            "38829adb26c81b37c93a1b270b20329d"
            "658675fc6ea534e0810a4432826bf58c"
            "941efb65d57a338bbd2e26640f89ffbc"
            "1a858efcb8550ee3a5e1998bd177e93a"
            "7363c344fe6b199ee5d02e82d522c4fe"
            "ba15452f80288a821a579116ec6dad2b"
            "3b310da903401aa62100ab5d1a36553e"
            "06203b33890cc9b832f79ef80560ccb9"
            "a39ce767967ed628c6ad573cb116dbef"
            "efd75499da96bd68a8a97b928a8bbc10"
            "3b6621fcde2beca1231d206be6cd9ec7"
            "aff6f6c94fcd7204ed3455c68c83f4a4"
            "1da4af2b74ef5c53f1d8ac70bdcb7ed1"
            "85ce81bd84359d44254d95629e9855a9"
            "4a7c1958d1f8ada5d0532ed8a5aa3fb2"
            "d17ba70eb6248e594e1a2297acbbb39d"
            "502f1a8c6eb6f1ce22b3de1a1f40cc24"
            "554119a831a9aad6079cad88425de6bd"
            "e1a9187ebb6092cf67bf2b13fd65f270"
            "88d78b7e883c8759d2c4f5c65adb7553"
            "878ad575f9fad878e80a0c9ba63bcbcc"
            "2732e69485bbc9c90bfbd62481d9089b"
            "eccf80cfe2df16a2cf65bd92dd597b07"
            "07e0917af48bbb75fed413d238f5555a"
            "7a569d80c3414a8d0859dc65a46128ba"
            "b27af87a71314f318c782b23ebfe808b"
            "82b0ce26401d2e22f04d83d1255dc51a"
            "ddd3b75a2b1ae0784504df543af8969b"
            "e3ea7082ff7fc9888c144da2af58429e"
            "c96031dbcad3dad9af0dcbaaaf268cb8"
            "fcffead94f3c7ca495e056a9b47acdb7"
            "51fb73e666c6c655ade8297297d07ad1"
            "ba5e43f1bca32301651339e22904cc8c"
            "42f58c30c04aafdb038dda0847dd988d"
            "cda6f3bfd15c4b4c4525004aa06eeff8"
            "ca61783aacec57fb3d1f92b0fe2fd1a8"
            "5f6724517b65e614ad6808d6f6ee34df"
            "f7310fdc82aebfd904b01e1dc54b2927"
            "094b2db68d6f903b68401adebf5a7e08"
            "d78ff4ef5d63653a65040cf9bfd4aca7"
            "984a74d37145986780fc0b16ac451649"
            "de6188a7dbdf191f64b5fc5e2ab47b57"
            "f7f7276cd419c17a3ca8e1b939ae49e4"
            "88acba6b965610b5480109c8b17b80e1"
            "b7b750dfc7598d5d5011fd2dcc5600a3"
            "2ef5b52a1ecc820e308aa342721aac09"
            "43bf6686b64b2579376504ccc493d97e"
            "6aed3fb0f9cd71a43dd497f01f17c0e2"
            "cb3797aa2a2f256656168e6c496afc5f"
            "b93246f6b1116398a346f1a641f3b041"
            "e989f7914f90cc2c7fff357876e506b5"
            "0d334ba77c225bc307ba537152f3f161"
            "0e4eafe595f6d9d90d11faa933a15ef1"
            "369546868a7f3a45a96768d40fd9d034"
            "12c091c6315cf4fde7cb68606937380d"
            "b2eaaa707b4c4185c32eddcdd306705e"
            "4dc1ffc872eeee475a64dfac86aba41c"
            "0618983f8741c5ef68d3a101e8a3b8ca"
            "c60c905c15fc910840b94c00a0b9d0"
        ),
        (
            "0aab4c900501b3e24d7cdf4663326a3a"
            "87df5e4843b2cbdb67cbf6e460fec350"
            "aa5371b1508f9f4528ecea23c436d94b"
            "5e8fcd4f681e30a6ac00a9704a188a03"
        ),
    ),
    _Rfc8032(
        "TEST SHA(abc)",
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        64,
        (
            "ddaf35a193617abacc417349ae204131"
            "12e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd"
            "454d4423643ce80e2a9ac94fa54ca49f"
        ),
        (
            "dc2a4459e7369633a52b1bf277839a00"
            "201009a3efbf3ecb69bea2186c26b589"
            "09351fc9ac90b3ecfdfbc7c66431e030"
            "3dca179c138ac17ad9bef1177331a704"
        ),
    ),
]


@pytest.mark.parametrize("vector", RFC8032_VECTORS, ids=lambda v: v.name)
def test_rfc8032_known_answer(vector: _Rfc8032) -> None:
    secret, public = _hex(vector.secret), _hex(vector.public)
    message, signature = _hex(vector.message), _hex(vector.signature)
    assert len(message) == vector.length  # the copy is complete
    identity_id = "rfc8032-" + re.sub(r"[^a-z0-9]", "", vector.name.lower())
    identity = Identity(identity_id, "test", Ed25519PrivateKey.from_private_bytes(secret))

    assert identity.public_key == public
    assert identity.public.public_key == public
    assert identity.sign(message) == signature

    verifier = PublicIdentity(identity_id, "test", public)
    assert verifier.verify(signature, message) is True
    assert identity.public.verify(signature, message) is True
    # Every one-bit change of the signature is refused (R bits, S bits, sign bit, top bits of S).
    for bit in range(512):
        assert verifier.verify(_flip_bit(signature, bit), message) is False, bit
    # One-bit changes of the message (all bits of short ones, both ends of long ones), and an
    # extra byte (the only one-symbol change of TEST 1's empty message).
    nbits = len(message) * 8
    bits = range(nbits) if nbits <= 512 else [*range(64), *range(nbits - 64, nbits)]
    for bit in bits:
        assert verifier.verify(signature, _flip_bit(message, bit)) is False, bit
    assert verifier.verify(signature, message + b"\x00") is False
    assert verifier.verify(signature, b"\x00" + message) is False


def test_rfc8032_sha_abc_message_is_sha512_of_abc() -> None:
    (vector,) = [v for v in RFC8032_VECTORS if v.name == "TEST SHA(abc)"]
    assert _hex(vector.message) == hashlib.sha512(b"abc").digest()


def test_rfc8032_signature_does_not_verify_under_another_key() -> None:
    one, two = RFC8032_VECTORS[0], RFC8032_VECTORS[1]
    other = PublicIdentity("rfc8032-test2", "test", _hex(two.public))
    assert other.verify(_hex(one.signature), _hex(one.message)) is False


# -- Project Wycheproof ------------------------------------------------------------------------
#
# A selection of 34 of the 151 cases of C2SP/wycheproof, testvectors_v1/ed25519_test.json,
# commit 5722833ca004983abd1a91bcb6c24596d50ac0f9 (the last commit touching the file at the
# snapshot of dac1dd4729fd1f8dd9e1e9f3dce51d783da6c166). Data only: tcId, result ("valid" ->
# True), the first flag, the group's public key, msg and sig, copied by script from the JSON.
# Chosen: plain valid signatures (tcId 1-7, 71), special values of R and S (10-29), truncated
# and padded signatures of 0, 32, 62, 63, 65, 66, 96 bytes (30-41), modified R (42-62, 151),
# S + nL and other out-of-range S (63-70, 85 "S just above the bound") and edge-case valid ones
# (84 "S just under the bound", 86, 114, 119).


class _Wycheproof(NamedTuple):
    tc_id: int
    valid: bool
    flag: str
    public: str
    message: str
    signature: str


_WP_KEY_1 = "7d4d0e7f6153a69b6242b522abbee685fda4420f8834b108c3bdae369ef549fa"
_WP_KEY_2 = "a12c2beb77265f2aac953b5009349d94155a03ada416aad451319480e983ca4c"
_WP_KEY_3 = "100fdf47fb94f1536a4f7c3fda27383fa03375a8f527c537e6f1703c47f94f86"
_WP_KEY_4 = "8fd659b77b558ed93882c1157438450ac86ec62d421d568e98ee236f3810295a"
_WP_KEY_5 = "037b55b427dc8daa0f80fcebaf0846902309f8a6cf18b465c0ce9b6539629ac8"
_WP_KEY_6 = "4abfb535313705a6570018440cdec1a3ae33e51f352112fa6acbd0c6bc3ea859"
_WP_KEY_7 = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

_WYCHEPROOF_CASES = [
    _Wycheproof(
        1,
        True,
        "Valid",
        _WP_KEY_1,
        "",
        (
            "d4fbdb52bfa726b44d1786a8c0d171c3e62ca83c9e5bbe63de0bb2483f8fd6cc"
            "1429ab72cafc41ab56af02ff8fcc43b99bfe4c7ae940f60f38ebaa9d311c4007"
        ),
    ),
    _Wycheproof(
        2,
        True,
        "Valid",
        _WP_KEY_1,
        "78",
        (
            "d80737358ede548acb173ef7e0399f83392fe8125b2ce877de7975d8b726ef5b"
            "1e76632280ee38afad12125ea44b961bf92f1178c9fa819d020869975bcbe109"
        ),
    ),
    _Wycheproof(
        3,
        True,
        "Valid",
        _WP_KEY_1,
        "54657374",
        (
            "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0"
            "7a9155711ecfaf7f99f277bad0c6ae7e39d4eef676573336a5c51eb6f946b30d"
        ),
    ),
    _Wycheproof(
        7,
        True,
        "Valid",
        _WP_KEY_1,
        (
            "6161616161616161616161616161616161616161616161616161616161616161"
            "6161616161616161616161616161616161616161616161616161616161616161"
            "61"
        ),
        (
            "879350045543bc14ed2c08939b68c30d22251d83e018cacbaf0c9d7a48db577e"
            "80bdf76ce99e5926762bc13b7b3483260a5ef63d07e34b58eb9c14621ac92f00"
        ),
    ),
    _Wycheproof(
        10,
        False,
        "InvalidSignature",
        _WP_KEY_1,
        "3f",
        (
            "0000000000000000000000000000000000000000000000000000000000000000"
            "0000000000000000000000000000000000000000000000000000000000000000"
        ),
    ),
    _Wycheproof(
        14,
        False,
        "InvalidSignature",
        _WP_KEY_1,
        "3f",
        (
            "0000000000000000000000000000000000000000000000000000000000000000"
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
        ),
    ),
    _Wycheproof(
        20,
        False,
        "InvalidSignature",
        _WP_KEY_1,
        "3f",
        (
            "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"
            "0000000000000000000000000000000000000000000000000000000000000000"
        ),
    ),
    _Wycheproof(
        29,
        False,
        "InvalidSignature",
        _WP_KEY_1,
        "3f",
        (
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
        ),
    ),
    _Wycheproof(
        30,
        False,
        "TruncatedSignature",
        _WP_KEY_1,
        "54657374",
        "",
    ),
    _Wycheproof(
        31,
        False,
        "TruncatedSignature",
        _WP_KEY_1,
        "54657374",
        "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0",
    ),
    _Wycheproof(
        32,
        False,
        "TruncatedSignature",
        _WP_KEY_1,
        "54657374",
        (
            "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0"
            "7a9155711ecfaf7f99f277bad0c6ae7e39d4eef676573336a5c51eb6f946"
        ),
    ),
    _Wycheproof(
        33,
        False,
        "SignatureWithGarbage",
        _WP_KEY_1,
        "54657374",
        (
            "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0"
            "7a9155711ecfaf7f99f277bad0c6ae7e39d4eef676573336a5c51eb6f946b30d"
            "2020"
        ),
    ),
    _Wycheproof(
        34,
        False,
        "SignatureWithGarbage",
        _WP_KEY_1,
        "54657374",
        (
            "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0"
            "7a9155711ecfaf7f99f277bad0c6ae7e39d4eef676573336a5c51eb6f946b30d"
            "7d4d0e7f6153a69b6242b522abbee685fda4420f8834b108c3bdae369ef549fa"
        ),
    ),
    _Wycheproof(
        35,
        False,
        "SignatureWithGarbage",
        _WP_KEY_1,
        "54657374",
        (
            "007c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774a"
            "b07a9155711ecfaf7f99f277bad0c6ae7e39d4eef676573336a5c51eb6f946b3"
            "0d"
        ),
    ),
    _Wycheproof(
        37,
        False,
        "SignatureWithGarbage",
        _WP_KEY_1,
        "54657374",
        (
            "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0"
            "7a9155711ecfaf7f99f277bad0c6ae7e39d4eef676573336a5c51eb6f946b30d"
            "00"
        ),
    ),
    _Wycheproof(
        38,
        False,
        "CompressedSignature",
        _WP_KEY_1,
        "546573743137",
        (
            "93de3ca252426c95f735cb9edd92e83321ac62372d5aa5b379786bae111ab6b1"
            "7251330e8f9a7c30d6993137c596007d7b001409287535ac4804e662bc58a3"
        ),
    ),
    _Wycheproof(
        41,
        False,
        "CompressedSignature",
        _WP_KEY_1,
        "54657374333437",
        (
            "b0928b46e99fbbad3f5cb502d2cd309d94a7e86cfd4d84b1fcf4cea18075a9c3"
            "6993c0582dba1e9e519fae5a8654f454201ae0c3cb397c37b8f4f8eef18400"
        ),
    ),
    _Wycheproof(
        42,
        False,
        "InvalidEncoding",
        _WP_KEY_1,
        "313233343030",
        (
            "647c1492402ab5ce03e2c3a7f0384d051b9cf3570f1207fc78c1bcc98c281c2b"
            "1d125e5538f38afbcc1c84e489521083041d24bc6240767029da063271a1ff0c"
        ),
    ),
    _Wycheproof(
        45,
        False,
        "InvalidEncoding",
        _WP_KEY_1,
        "313233343030",
        (
            "e57c1492402ab5ce03e2c3a7f0384d051b9cf3570f1207fc78c1bcc98c281c2b"
            "bb3eb51cd98dddb235a5f46f2bded6af184a58d09cce928bda43f41d69118a03"
        ),
    ),
    _Wycheproof(
        59,
        False,
        "InvalidEncoding",
        _WP_KEY_1,
        "313233343030",
        (
            "657c1492402ab5ce03e2c3a7f0384d051b9cf3570f1207fc78c1bcc98c281cab"
            "227aedf259f910f0f3a759a335062665217925d019173b88917eae294f75d40f"
        ),
    ),
    _Wycheproof(
        60,
        False,
        "InvalidEncoding",
        _WP_KEY_1,
        "313233343030",
        (
            "0000000000000000000000000000000000000000000000000000000000000000"
            "e0b8e7770d51c7a36375d006c5bffd6af43ff54aaf47e4330dc118c71d61ec02"
        ),
    ),
    _Wycheproof(
        61,
        False,
        "InvalidEncoding",
        _WP_KEY_1,
        "313233343030",
        (
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
            "463a1908382e7eb7693acef9884f7cf931a215e0791876be22c631a59881fd0e"
        ),
    ),
    _Wycheproof(
        62,
        False,
        "InvalidEncoding",
        _WP_KEY_1,
        "313233343030",
        (
            "9a83eb6dbfd54a31fc1d3c580fc7b2fae4630ca8f0edf803873e433673d7e3d4"
            "0e94254586cb6188c5386c3febed477cb9a6cb29e3979adc4cb27cf5278fb70a"
        ),
    ),
    _Wycheproof(
        63,
        False,
        "SignatureMalleability",
        _WP_KEY_1,
        "54657374",
        (
            "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0"
            "67654bce3832c2d76f8f6f5dafc08d9339d4eef676573336a5c51eb6f946b31d"
        ),
    ),
    _Wycheproof(
        64,
        False,
        "SignatureMalleability",
        _WP_KEY_1,
        "54657374",
        (
            "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0"
            "5439412b5395d42f462c67008eba6ca839d4eef676573336a5c51eb6f946b32d"
        ),
    ),
    _Wycheproof(
        67,
        False,
        "SignatureMalleability",
        _WP_KEY_1,
        "54657374",
        (
            "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0"
            "7a9155711ecfaf7f99f277bad0c6ae7e39d4eef676573336a5c51eb6f946b32d"
        ),
    ),
    _Wycheproof(
        70,
        False,
        "SignatureMalleability",
        _WP_KEY_1,
        "54657374",
        (
            "7c38e026f29e14aabd059a0f2db8b0cd783040609a8be684db12f82a27774ab0"
            "679155711ecfaf7f99f277bad0c6ae7e39d4eef676573336a5c51eb6f946b38d"
        ),
    ),
    _Wycheproof(
        71,
        True,
        "Valid",
        _WP_KEY_2,
        "",
        (
            "5056325d2ab440bf30bbf0f7173199aa8b4e6fbc091cf3eb6bc6cf87cd73d992"
            "ffc216c85e4ab5b8a0bbc7e9a6e9f8d33b7f6e5ac0ffdc22d9fcaf784af84302"
        ),
    ),
    _Wycheproof(
        84,
        True,
        "Ktv",
        _WP_KEY_3,
        "124e583f8b8eca58bb29c271b41d36986bbc45541f8e51f9cb0133eca447601e",
        (
            "dac119d6ca87fc59ae611c157048f4d4fc932a149dbe20ec6effd1436abf83ea"
            "05c7df0fef06147241259113909bc71bd3c53ba4464ffcad3c0968f2ffffff0f"
        ),
    ),
    _Wycheproof(
        85,
        False,
        "InvalidKtv",
        _WP_KEY_3,
        "6a0bc2b0057cedfc0fa2e3f7f7d39279b30f454a69dfd1117c758d86b19d85e0",
        (
            "0971f86d2c9c78582524a103cb9cf949522ae528f8054dc20107d999be673ff4"
            "e25ebf2f2928766b1248bec6e91697775f8446639ede46ad4df4053000000010"
        ),
    ),
    _Wycheproof(
        86,
        True,
        "Ktv",
        _WP_KEY_4,
        (
            "b0729a713593a92e46b56eaa66b9e435f7a09a8e7de03b078f6f282285276635"
            "f301e7aaafe42187c45d6f5b13f9f16b11195cc125c05b90d24dfe4c"
        ),
        (
            "7db17557ac470c0eda4eedaabce99197ab62565653cf911f632ee8be0e5ffcfc"
            "88fb94276b42e0798fd3aa2f0318be7fc6a29fae75f70c3dcdc414a0ad866601"
        ),
    ),
    _Wycheproof(
        114,
        True,
        "Ktv",
        _WP_KEY_5,
        "01234567",
        (
            "c964e100033ce8888b23466677da4f4aea29923f642ae508f9d0888d78815063"
            "6ab9b2c3765e91bbb05153801114d9e52dc700df377212222bb766be4b8c020d"
        ),
    ),
    _Wycheproof(
        119,
        True,
        "TinkOverflow",
        _WP_KEY_6,
        "321b5f663c19e30ee7bbb85e48ecf44db9d3f512",
        (
            "f296715e855d8aecccba782b670163dedc4458fe4eb509a856bcac450920fd2e"
            "95a3a3eb212d2d9ccaf948c39ae46a2548af125f8e2ad9b77bd18f92d59f9200"
        ),
    ),
    _Wycheproof(
        151,
        False,
        "InvalidEncoding",
        _WP_KEY_7,
        "313233343030",
        (
            "0100000000000000000000000000000000000000000000000000000000000080"
            "c803ee1f2342aa96ff698a393d1ab5e66f3eda101d6d120b394c3fd32c117d0a"
        ),
    ),
]


@pytest.mark.parametrize("case", _WYCHEPROOF_CASES, ids=lambda c: f"tc{c.tc_id}-{c.flag}")
def test_wycheproof(case: _Wycheproof) -> None:
    verifier = PublicIdentity("wycheproof", "test", _hex(case.public))
    assert verifier.verify(_hex(case.signature), _hex(case.message)) is case.valid


def test_wycheproof_selection_covers_both_outcomes_and_odd_lengths() -> None:
    assert sum(c.valid for c in _WYCHEPROOF_CASES) >= 8
    assert sum(not c.valid for c in _WYCHEPROOF_CASES) >= 20
    lengths = {len(_hex(c.signature)) for c in _WYCHEPROOF_CASES}
    assert {0, 32, 62, 63, 65, 66, 96} <= lengths


# -- verify never raises on bytes ---------------------------------------------------------------

_RFC1 = RFC8032_VECTORS[0]
_RFC1_IDENTITY = Identity(
    "rfc8032-test1", "test", Ed25519PrivateKey.from_private_bytes(_hex(_RFC1.secret))
)


@pytest.mark.parametrize("length", [0, 1, 31, 32, 63, 65, 96, 128])
def test_verify_wrong_length_signature_is_false(length: int) -> None:
    signature = _RFC1_IDENTITY.sign(b"m")
    wrong = (signature * 2)[:length]
    assert _RFC1_IDENTITY.public.verify(wrong, b"m") is False


def test_verify_accepts_bytes_like() -> None:
    signature = _RFC1_IDENTITY.sign(b"m")
    verifier = _RFC1_IDENTITY.public
    assert verifier.verify(bytearray(signature), bytearray(b"m")) is True
    assert verifier.verify(memoryview(signature), b"m") is True
    assert verifier.verify(bytearray(signature[:63]), b"m") is False


@settings(max_examples=150, deadline=None)
@given(signature=st.binary(max_size=130), message=st.binary(max_size=64))
def test_verify_arbitrary_bytes_returns_false(signature: bytes, message: bytes) -> None:
    assert _RFC1_IDENTITY.public.verify(signature, message) is False


@settings(max_examples=40, deadline=None)
@given(message=st.binary(max_size=256), data=st.data())
def test_sign_verify_roundtrip_and_bit_flips(message: bytes, data: st.DataObject) -> None:
    signature = _RFC1_IDENTITY.sign(message)
    assert len(signature) == 64
    assert _RFC1_IDENTITY.public.verify(signature, message) is True
    bit = data.draw(st.integers(min_value=0, max_value=511))
    assert _RFC1_IDENTITY.public.verify(_flip_bit(signature, bit), message) is False


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_public_identity_rejects_wrong_key_length(length: int) -> None:
    with pytest.raises(SignatureError):
        PublicIdentity("someone", "test", b"\x01" * length)
    assert issubclass(SignatureError, LedgerError)


def test_identity_repr_does_not_show_the_private_key() -> None:
    text = repr(_RFC1_IDENTITY)
    assert _RFC1.secret not in text
    assert "private" not in text


# -- derive_identity and KeySecret -------------------------------------------------------------


def _hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with the standard library only, independent of ``cryptography``'s HKDF."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def _expected_private_seed(material: bytes, identity_id: str) -> bytes:
    return _hkdf_sha256(
        material, b"dxsim/identity-salt/v2", b"dxsim/identity/v2\n" + identity_id.encode(), 32
    )


def _expected_material(secret: bytes, scope: str) -> bytes:
    return _hkdf_sha256(
        secret, b"dxsim/key-secret-salt/v2", b"dxsim/scope/v2\n" + scope.encode(), 32
    )


def _private_bytes(identity: Identity) -> bytes:
    return identity.private_key.private_bytes_raw()


# Golden vector. It pins the derivation: run key material = HKDF-SHA256(IKM = key secret,
# salt = "dxsim/key-secret-salt/v2", info = "dxsim/scope/v2\n" + scope); Ed25519 private seed =
# HKDF-SHA256(IKM = material, salt = "dxsim/identity-salt/v2", info = "dxsim/identity/v2\n" + id).
# Changing any of them changes every simulated identity and so every ledger byte of every run:
# this value may only change on purpose.
GOLDEN_SECRET = KeySecret(bytes(range(32)))
GOLDEN_LOG_VERIFIER_KEY = "dxsim-log+fff7b203+ASC3ZR5KoXoiseMRa0drM5UdCh6vfjDCL+m33T8OO15s"
GOLDEN_FINGERPRINT = "a0e88dadd0a3f980"


def test_key_secret_golden_vector() -> None:
    identity = GOLDEN_SECRET.identity("run/seed=1", "dxsim-log", "log")
    assert identity.public.verifier_key == GOLDEN_LOG_VERIFIER_KEY
    assert (identity.id, identity.role) == ("dxsim-log", "log")
    material = _expected_material(bytes(range(32)), "run/seed=1")
    assert GOLDEN_SECRET.material("run/seed=1") == material
    assert _private_bytes(identity) == _expected_private_seed(material, "dxsim-log")
    assert GOLDEN_SECRET.fingerprint == GOLDEN_FINGERPRINT


identity_ids = st.from_regex(IDENTITY_ID_PATTERN, fullmatch=True)


@settings(max_examples=50, deadline=None)
@given(material=st.binary(min_size=32, max_size=96), identity_id=identity_ids)
def test_derive_identity_matches_independent_hkdf(material: bytes, identity_id: str) -> None:
    identity = derive_identity(material, identity_id, "agent")
    assert _private_bytes(identity) == _expected_private_seed(material, identity_id)


@settings(max_examples=25, deadline=None)
@given(secret=st.binary(min_size=32, max_size=64), scope=st.text(max_size=40))
def test_key_secret_material_matches_independent_hkdf(secret: bytes, scope: str) -> None:
    assert KeySecret(secret).material(scope) == _expected_material(secret, scope)


def test_derive_identity_is_deterministic() -> None:
    a = GOLDEN_SECRET.identity("run/seed=42", "agent-7", "agent")
    b = GOLDEN_SECRET.identity("run/seed=42", "agent-7", "agent")
    assert a.public_key == b.public_key
    assert _private_bytes(a) == _private_bytes(b)
    assert a.sign(b"entry") == b.sign(b"entry")  # Ed25519 signing is deterministic
    assert b.public.verify(a.sign(b"entry"), b"entry")


def test_derive_identity_role_does_not_change_the_key() -> None:
    assert GOLDEN_SECRET.identity("s", "agent-7", "agent").public_key == (
        GOLDEN_SECRET.identity("s", "agent-7", "auditor").public_key
    )


def test_different_id_scope_or_secret_gives_different_keys() -> None:
    other = KeySecret(bytes(range(1, 33)))
    keys = {
        secret.identity(f"run/seed={s}", f"agent-{i}", "agent").public_key
        for secret in (GOLDEN_SECRET, other)
        for s in range(3)
        for i in range(3)
    }
    assert len(keys) == 18


@pytest.mark.parametrize("seed", [0, 1, 42, 2**63 - 1])
def test_a_seed_alone_never_gives_a_key(seed: int) -> None:
    """Keys derived from what a run directory holds (its seed) would let anyone re-sign it."""
    with pytest.raises(LedgerError, match="never from a run seed"):
        derive_identity(seed, "dxsim-log", "log")  # type: ignore[arg-type]
    as_bytes = seed.to_bytes(8, "big")
    with pytest.raises(LedgerError, match="at least 32 bytes"):
        derive_identity(as_bytes, "dxsim-log", "log")


@pytest.mark.parametrize(
    "text",
    ["", "zz" * 32, "ab" * 31, "abc", "0x" + "ab" * 32, "ab" * 32 + "a", "ab cd" * 20],
)
def test_key_secret_text_form_is_strict(text: str) -> None:
    with pytest.raises(LedgerError, match="key secret"):
        KeySecret.from_hex(text)


def test_key_secret_text_round_trip_and_privacy() -> None:
    secret = KeySecret.generate()
    again = KeySecret.from_hex("  " + secret.to_hex().upper() + "\n")
    assert again.material("x") == secret.material("x")
    assert secret.to_hex() not in repr(secret) and secret.fingerprint in repr(secret)
    assert KeySecret.generate().material("x") != secret.material("x")
    with pytest.raises(LedgerError):
        KeySecret(b"short")


BAD_IDS = [
    "",
    " ",
    "agent 7",
    " agent",
    "agent+7",
    "+",
    "agent\n",  # a trailing newline: ``$`` would let it through, the pattern must use \Z
    "\nagent",
    "age\nnt",
    "agent\t7",
    "agent\x00",
    "agent\x7f",
    "agent\r",
    "-agent",
    ".agent",
    "/agent",
    "agént",
    "a" * 129,
]


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=repr)
def test_bad_ids_are_refused(bad_id: str, tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="not allowed"):
        derive_identity(bytes(32), bad_id, "agent")
    with pytest.raises(LedgerError):
        PublicIdentity(bad_id, "agent", _hex(_RFC1.public))
    with pytest.raises(LedgerError):
        Identity(bad_id, "agent", Ed25519PrivateKey.generate())
    with pytest.raises(LedgerError):
        Keystore(tmp_path, b"pw").identity(bad_id, "agent")
    assert list(tmp_path.iterdir()) == []


def test_longest_and_punctuated_ids_are_allowed() -> None:
    for good in ["a" * 128, "A", "0", "log.example/v1", "agent_7:buyer@market-1"]:
        assert derive_identity(bytes(32), good, "agent").id == good


# -- verifier key -------------------------------------------------------------------------------
#
# /work/shared/specs/ledger-api.md: "<name>+<hex key hash>+<base64(0x01 ‖ public key)>", key hash
# = the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ 32-byte public key).


def _expected_verifier_key(name: str, public_key: bytes) -> str:
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + b"\x01" + public_key).digest()
    return "+".join([name, digest[:4].hex(), base64.b64encode(b"\x01" + public_key).decode()])


def _check_verifier_key(public: PublicIdentity) -> None:
    line = public.verifier_key
    assert line == _expected_verifier_key(public.id, public.public_key)
    name, hash_hex, key_b64 = line.split("+", 2)
    assert name == public.id
    assert re.fullmatch(r"[0-9a-f]{8}", hash_hex)
    decoded = base64.b64decode(key_b64, validate=True)
    assert base64.b64encode(decoded).decode() == key_b64
    assert decoded == b"\x01" + public.public_key
    assert key_hash(public.id, public.public_key).hex() == hash_hex
    assert public.public_key_b64 == base64.b64encode(public.public_key).decode()


def test_verifier_key_rfc8032_test1() -> None:
    _check_verifier_key(_RFC1_IDENTITY.public)
    _check_verifier_key(PublicIdentity("rfc8032-test1", "x", _hex(_RFC1.public)))


def test_verifier_key_golden() -> None:
    public = GOLDEN_SECRET.identity("run/seed=1", "dxsim-log", "log").public
    _check_verifier_key(public)
    assert _expected_verifier_key("dxsim-log", public.public_key) == GOLDEN_LOG_VERIFIER_KEY


@settings(max_examples=50, deadline=None)
@given(identity_id=identity_ids, seed=st.integers(min_value=0, max_value=2**64))
def test_verifier_key_format(identity_id: str, seed: int) -> None:
    _check_verifier_key(GOLDEN_SECRET.identity(f"run/seed={seed}", identity_id, "agent").public)


def test_key_hash_depends_on_name() -> None:
    public = _hex(_RFC1.public)
    assert key_hash("a", public) != key_hash("b", public)
    assert len(key_hash("a", public)) == 4


# -- Keystore -----------------------------------------------------------------------------------


@pytest.fixture
def no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


def test_keystore_creates_then_loads(tmp_path: Path, no_env_passphrase: None) -> None:
    directory = tmp_path / "keys"  # created on first use
    created = Keystore(directory, b"correct horse").identity("dxsim-log", "log")
    path = directory / "dxsim-log.pem"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert pem.rstrip().endswith(b"-----END ENCRYPTED PRIVATE KEY-----")
    # The file really is encrypted PKCS#8: no key without the passphrase, the same key with it.
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(pem, None)
    key = serialization.load_pem_private_key(pem, b"correct horse")
    assert isinstance(key, Ed25519PrivateKey)
    assert key.public_key().public_bytes_raw() == created.public_key

    loaded = Keystore(directory, b"correct horse").identity("dxsim-log", "log")
    assert loaded.public_key == created.public_key
    assert loaded.sign(b"x") == created.sign(b"x")
    assert path.read_bytes() == pem  # loading does not rewrite the file
    assert (created.id, created.role) == ("dxsim-log", "log")


def test_keystore_keys_are_random_not_derived(tmp_path: Path, no_env_passphrase: None) -> None:
    a = Keystore(tmp_path / "a", b"pw").identity("agent", "agent")
    b = Keystore(tmp_path / "b", b"pw").identity("agent", "agent")
    c = Keystore(tmp_path / "a", b"pw").identity("other", "agent")
    assert len({a.public_key, b.public_key, c.public_key}) == 3


def test_keystore_wrong_passphrase(tmp_path: Path, no_env_passphrase: None) -> None:
    Keystore(tmp_path, b"right").identity("agent", "agent")
    with pytest.raises(LedgerError, match=r"cannot decrypt \(wrong passphrase\?\)"):
        Keystore(tmp_path, b"wrong").identity("agent", "agent")


def test_keystore_passphrase_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "from-the-env")
    created = Keystore(tmp_path).identity("agent", "agent")
    assert Keystore(tmp_path, b"from-the-env").identity("agent", "agent").public_key == (
        created.public_key
    )
    # An explicit passphrase wins over the environment.
    with pytest.raises(LedgerError, match="wrong passphrase"):
        Keystore(tmp_path, b"explicit").identity("agent", "agent")


def test_keystore_without_passphrase(tmp_path: Path, no_env_passphrase: None) -> None:
    with pytest.raises(LedgerError, match=PASSPHRASE_ENV):
        Keystore(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_keystore_empty_env_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "")
    with pytest.raises(LedgerError, match=PASSPHRASE_ENV):
        Keystore(tmp_path)


def test_keystore_empty_passphrase(tmp_path: Path, no_env_passphrase: None) -> None:
    with pytest.raises(LedgerError, match="must not be empty"):
        Keystore(tmp_path, b"")


def test_keystore_slash_ids_map_to_a_safe_file_name(
    tmp_path: Path, no_env_passphrase: None
) -> None:
    store = Keystore(tmp_path, b"pw")
    created = store.identity("market/agent-1", "agent")
    assert [p.name for p in tmp_path.iterdir()] == ["market%2Fagent-1.pem"]
    assert (tmp_path / "market%2Fagent-1.pem").is_file()
    assert not (tmp_path / "market").exists()
    assert store.identity("market/agent-1", "agent").public_key == created.public_key
    # "a/../b" cannot climb out: it is one file in the keystore directory.
    store.identity("a/../b", "agent")
    assert (tmp_path / "a%2F..%2Fb.pem").is_file()
    assert sorted(p.parent for p in tmp_path.iterdir()) == [tmp_path, tmp_path]


def test_keystore_refuses_a_key_of_another_type(tmp_path: Path, no_env_passphrase: None) -> None:
    pem = X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    (tmp_path / "agent.pem").write_bytes(pem)
    with pytest.raises(LedgerError, match="not an Ed25519 key"):
        Keystore(tmp_path, b"pw").identity("agent", "agent")


def test_keystore_refuses_a_corrupt_file(tmp_path: Path, no_env_passphrase: None) -> None:
    (tmp_path / "agent.pem").write_bytes(b"not a key\n")
    with pytest.raises(LedgerError, match="cannot decrypt"):
        Keystore(tmp_path, b"pw").identity("agent", "agent")
