"""Tests for ledger.checkpoint: C2SP tlog-checkpoint in a C2SP signed note.

Known-answer vectors are DATA copied from independent published test files (no code copied):

* [GO-NOTE] golang.org/x/mod, ``sumdb/note/note_test.go`` (github.com/golang/mod, file as of
  commit 02c991387e35f9e4c0a9b7ce137717055f8d716d): the PeterNeumann and EnochRoot keys of
  ``TestNewVerifier``/``TestNewSigner``/``TestVerifierList``, the note text and expected output of
  ``TestSign``, the signature lines and malformed messages of ``TestOpen``. The same PeterNeumann
  note is the worked example in the package documentation (``sumdb/note/note.go``).
* [TD-NOTE] github.com/transparency-dev/formats, ``log/note_test.go`` (file as of commit
  5242c17862d31acd165afafa140ecc973a621469): a real sum.golang.org checkpoint with the public
  sum.golang.org verifier key (``TestSumDBNoteParsing``), witness cosignature lines and their
  verifier keys (``BenchmarkParse``), and four note key pairs (``logVK``/``logSK``...).
* [TD-CP] github.com/transparency-dev/formats, ``log/checkpoint_test.go`` (file as of commit
  7a6ef700ee5660b2580c9da92063af300820fdee): malformed checkpoint bodies of
  ``TestUnmarshalLogState``.
"""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger.checkpoint import (
    MAX_SIGNATURES,
    Checkpoint,
    checkpoint_body,
    open_checkpoint,
    open_note,
    parse_checkpoint_body,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
)
from ledger.errors import CheckpointError
from ledger.identity import Identity, PublicIdentity, key_hash
from tests.keys import test_identity

EM = "\u2014"

# -- [GO-NOTE] golang.org/x/mod sumdb/note/note_test.go ------------------------------------------

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6"
    "RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1R"
    "vMc+QQ=\n"
)
# TestSign's `want`: GO_TEXT signed by PETER_SKEY.
GO_SIGNED = GO_TEXT + "\n" + PETER_SIG
# TestNewVerifier: "wrong length key, with adjusted key hash", "unknown algorithm, with adjusted
# key hash".
GO_BAD_VKEYS = [
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
]
# TestOpen's badMsgs (all "malformed note" in Go).
GO_BAD_MESSAGES = [
    GO_TEXT,
    GO_TEXT + "\n",
    GO_TEXT + "\n" + PETER_SIG[:-1],
    "\x01" + GO_TEXT + "\n" + PETER_SIG,
    b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode(),
    GO_TEXT
    + "\n"
    + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvq"
    "fqdngotpRZb6KE6RyyBwJnAM=",
    GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
]

# -- [TD-NOTE] transparency-dev/formats log/note_test.go -----------------------------------------

SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n"
    "6476701\n"
    "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
    "\n"
    "— sum.golang.org "
    "Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL"
    "+o3GeoWwOoAw=\n"
)
COSIGNERS = {  # BenchmarkParse: verifier keys and their signature lines over SUMDB_NOTE's text
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT": (
        "— monkeys "
        "202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvAnae"
        "pM6Y+8ww="
    ),
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M": (
        "— bananas "
        "z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/MggS1mD"
        "R6t3/9rQw="
    ),
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN": (
        "— witness "
        "8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcp"
        "R8SVSoqAU="
    ),
}
# BenchmarkParse also appends the witness signature under names nobody knows.
RANDOM_SIGS = [
    "— random1 "
    "8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SV"
    "SoqAU=",
    "— random2 "
    "8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SV"
    "SoqAU=",
]
TD_KEY_PAIRS = [  # (verifier key, signer key)
    (
        "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
        "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
    ),
    (
        "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
        "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
    ),
    (
        "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj",
        "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
    ),
    (
        "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots",
        "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
    ),
]

# -- [TD-CP] transparency-dev/formats log/checkpoint_test.go: bodies Go rejects ------------------

TD_BAD_BODIES = [
    "Head\n9944\n",  # insufficient lines
    "\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",  # empty header
    "Log\nbananas\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",  # size not a number
    "Log\n-34\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",  # size negative
    "Log\n3438945738945739845734895735\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",
    "Log\n123\nThisIsn'tBase64\n",  # root not base64
]


def identity_from_go_signer_key(skey: str, role: str = "log") -> Identity:
    """An Identity from a Go note signer key ``PRIVATE+KEY+<name>+<hash>+<b64(0x01‖seed)>``."""
    private, key, name, hash_hex, b64 = skey.split("+", 4)
    assert (private, key) == ("PRIVATE", "KEY")
    raw = base64.b64decode(b64, validate=True)
    assert raw[0] == 0x01 and len(raw) == 33
    ident = Identity(name, role, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    assert key_hash(name, ident.public_key).hex() == hash_hex
    return ident


LOG = test_identity(1, "dxsim-log", "log")
LOG_VKEY = LOG.public.verifier_key
OTHER = test_identity(1, "dxsim-other", "log")
OTHER_VKEY = OTHER.public.verifier_key
ROOT = hashlib.sha256(b"dxsim test root").digest()
ROOT_B64 = base64.b64encode(ROOT).decode()


def signed(body: str, signer: Identity = LOG) -> str:
    return sign_note(body, signer)


def good_note(**kwargs: object) -> str:
    args: dict[str, object] = {"origin": "dxsim-log", "size": 5, "root": ROOT, "signer": LOG}
    args.update(kwargs)
    return sign_checkpoint(**args)  # type: ignore[arg-type]


def sig_line(note: str) -> str:
    """The last signature line of ``note``, with its newline."""
    return note[note.rindex("\n\n") + 2 :]


# == 1. known-answer vectors ====================================================================


@pytest.mark.parametrize(
    "vkey",
    [PETER_VKEY, ENOCH_VKEY, SUMDB_VKEY, *COSIGNERS, *(vk for vk, _ in TD_KEY_PAIRS)],
)
def test_published_verifier_keys_parse_and_reencode(vkey: str) -> None:
    name, hash4, public_key = parse_verifier_key(vkey)
    assert vkey.startswith(f"{name}+{hash4.hex()}+")
    assert len(hash4) == 4 and len(public_key) == 32
    assert PublicIdentity(name, "log", public_key).verifier_key == vkey


@pytest.mark.parametrize(
    ("vkey", "skey"), [(PETER_VKEY, PETER_SKEY), *TD_KEY_PAIRS], ids=lambda k: k.split("+")[0]
)
def test_published_signer_keys_give_published_verifier_keys(vkey: str, skey: str) -> None:
    assert identity_from_go_signer_key(skey).public.verifier_key == vkey


def test_go_sign_reproduces_published_signature_line_byte_for_byte() -> None:
    peter = identity_from_go_signer_key(PETER_SKEY)
    assert sign_note(GO_TEXT, peter) == GO_SIGNED


def test_go_note_opens_with_each_signers_key() -> None:
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, PETER_VKEY) == GO_TEXT
    assert open_note(note, ENOCH_VKEY) == GO_TEXT
    assert open_note(note.encode(), PETER_VKEY) == GO_TEXT
    assert open_note(GO_SIGNED, PETER_VKEY) == GO_TEXT


def test_go_note_is_signed_but_not_a_checkpoint() -> None:
    with pytest.raises(CheckpointError, match="size"):
        open_checkpoint(GO_SIGNED, PETER_VKEY)


def test_go_note_without_the_keys_signature_does_not_open() -> None:
    with pytest.raises(CheckpointError, match="no signature by key PeterNeumann"):
        open_note(GO_TEXT + "\n" + ENOCH_SIG, PETER_VKEY)


def test_go_note_with_corrupted_signature_does_not_verify() -> None:
    corrupted = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(CheckpointError, match="does not verify"):
        open_note(GO_TEXT + "\n" + corrupted, PETER_VKEY)


@pytest.mark.parametrize(
    "line",
    [
        PETER_SIG.replace("PeterNeumann", "CarmenSandiego"),  # same key id, other name
        PETER_SIG.replace("x08g", "xxxx"),  # same name, other key id
    ],
)
def test_go_signature_by_other_name_or_key_id_is_ignored(line: str) -> None:
    with pytest.raises(CheckpointError, match="no signature by key"):
        open_note(GO_TEXT + "\n" + line, PETER_VKEY)
    assert open_note(GO_TEXT + "\n" + line + PETER_SIG, PETER_VKEY) == GO_TEXT


@pytest.mark.parametrize("message", GO_BAD_MESSAGES, ids=range(len(GO_BAD_MESSAGES)))
def test_go_malformed_messages_rejected(message: str | bytes) -> None:
    with pytest.raises(CheckpointError):
        open_note(message, PETER_VKEY)


def test_go_signature_count_limit() -> None:
    assert open_note(GO_TEXT + "\n" + PETER_SIG * MAX_SIGNATURES, PETER_VKEY) == GO_TEXT
    with pytest.raises(CheckpointError, match="more than 100"):
        open_note(GO_TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1), PETER_VKEY)


@pytest.mark.parametrize("vkey", GO_BAD_VKEYS)
def test_go_bad_verifier_keys_rejected(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        parse_verifier_key(vkey)


def test_every_mangling_of_a_published_verifier_key_is_rejected() -> None:
    # Every proper substring and every one-character increment of a valid key must fail.
    for start in range(len(PETER_VKEY) + 1):
        for end in range(start + 1, len(PETER_VKEY) + 1):
            if (start, end) != (0, len(PETER_VKEY)):
                with pytest.raises(CheckpointError):
                    parse_verifier_key(PETER_VKEY[start:end])
    for index, ch in enumerate(PETER_VKEY):
        mangled = PETER_VKEY[:index] + chr(ord(ch) + 1) + PETER_VKEY[index + 1 :]
        with pytest.raises(CheckpointError):
            parse_verifier_key(mangled)


def test_sumdb_checkpoint_opens() -> None:
    cp = open_checkpoint(SUMDB_NOTE, SUMDB_VKEY)
    assert cp == Checkpoint(
        "go.sum database tree",
        6476701,
        base64.b64decode("mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="),
    )
    assert open_checkpoint(SUMDB_NOTE.encode(), SUMDB_VKEY) == cp


def test_sumdb_checkpoint_with_witness_cosignatures() -> None:
    note = SUMDB_NOTE + "".join(line + "\n" for line in [*COSIGNERS.values(), *RANDOM_SIGS])
    expected = open_checkpoint(SUMDB_NOTE, SUMDB_VKEY)
    assert open_checkpoint(note, SUMDB_VKEY) == expected  # cosignatures ignored
    for witness_vkey in COSIGNERS:  # and each cosignature verifies with its own key
        assert open_checkpoint(note, witness_vkey) == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("6476701", "6476702"),
        ("go.sum database tree", "go.sum database trees"),
        ("mb8QLQIs", "mb8QLQIt"),
    ],
)
def test_sumdb_checkpoint_tampered(old: str, new: str) -> None:
    with pytest.raises(CheckpointError, match="does not verify"):
        open_checkpoint(SUMDB_NOTE.replace(old, new, 1), SUMDB_VKEY)


def test_td_keys_sign_and_cosign_a_checkpoint() -> None:
    log, known, unknown = (
        identity_from_go_signer_key(sk) for _, sk in [*TD_KEY_PAIRS[:2], TD_KEY_PAIRS[3]]
    )
    note = sign_checkpoint("TestParseCheckpoint", 42, ROOT, log)
    body = checkpoint_body("TestParseCheckpoint", 42, ROOT)
    cosigned = note + sig_line(sign_note(body, known)) + sig_line(sign_note(body, unknown))
    expected = Checkpoint("TestParseCheckpoint", 42, ROOT)
    assert open_checkpoint(cosigned, TD_KEY_PAIRS[0][0]) == expected
    assert open_checkpoint(cosigned, TD_KEY_PAIRS[1][0]) == expected
    with pytest.raises(CheckpointError, match="no signature by key KnownAgain"):
        open_checkpoint(cosigned, TD_KEY_PAIRS[2][0])


@pytest.mark.parametrize("body", TD_BAD_BODIES, ids=range(len(TD_BAD_BODIES)))
def test_td_malformed_bodies_rejected_even_when_signed(body: str) -> None:
    with pytest.raises(CheckpointError, match="checkpoint"):
        open_checkpoint(signed(body), LOG_VKEY)


# == 2. round trip ===============================================================================


def test_sign_checkpoint_exact_format() -> None:
    note = sign_checkpoint("dxsim-log", 5, ROOT, LOG)
    body, sig = note.split("\n\n")
    assert body == f"dxsim-log\n5\n{ROOT_B64}"
    assert sig.startswith(f"{EM} dxsim-log ") and sig.endswith("\n") and sig.count("\n") == 1
    blob = base64.b64decode(sig[len(f"{EM} dxsim-log ") : -1], validate=True)
    assert blob[:4] == key_hash("dxsim-log", LOG.public_key) and len(blob) == 68
    assert LOG.public.verify(blob[4:], (body + "\n").encode())
    assert note == sign_checkpoint("dxsim-log", 5, ROOT, LOG)  # Ed25519 is deterministic
    assert open_checkpoint(note, LOG_VKEY) == Checkpoint("dxsim-log", 5, ROOT)


def test_empty_tree_and_largest_size() -> None:
    empty = hashlib.sha256(b"").digest()
    assert open_checkpoint(good_note(size=0, root=empty), LOG_VKEY).size == 0
    assert open_checkpoint(good_note(size=2**64 - 1), LOG_VKEY).size == 2**64 - 1


def test_extensions_round_trip_and_are_signed() -> None:
    note = good_note(extensions=["ext one", "timestamp 1700000000"])
    cp = open_checkpoint(note, LOG_VKEY)
    assert cp.extensions == ("ext one", "timestamp 1700000000")
    with pytest.raises(CheckpointError, match="does not verify"):
        open_checkpoint(note.replace("ext one", "ext two"), LOG_VKEY)


_line_chars = st.characters(min_codepoint=0x20, exclude_categories=["Cs"])
_lines = st.text(_line_chars, min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    origin=_lines,
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(_lines, max_size=3),
)
def test_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    note = sign_checkpoint(origin, size, root, LOG, extensions)
    assert note.endswith("\n") and not note.endswith("\n\n")
    cp = open_checkpoint(note, LOG_VKEY)
    assert cp == Checkpoint(origin, size, root, tuple(extensions))
    assert open_checkpoint(note.encode("utf-8"), LOG_VKEY) == cp
    with pytest.raises(CheckpointError):
        open_checkpoint(note, OTHER_VKEY)


_NOTE = good_note(extensions=["ext"])


@settings(max_examples=150, deadline=None)
@given(index=st.integers(min_value=0, max_value=len(_NOTE) - 1), ch=st.characters())
def test_no_single_character_edit_opens(index: int, ch: str) -> None:
    assume(_NOTE[index] != ch)
    for edited in (_NOTE[:index] + ch + _NOTE[index + 1 :], _NOTE[:index] + _NOTE[index + 1 :]):
        with pytest.raises(CheckpointError):
            open_checkpoint(edited, LOG_VKEY)


# == 3. strictness ===============================================================================

NOTE = good_note()


def _noncanonical(b64: str) -> str:
    """Same bytes, but non-zero unused bits in the last base64 character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    data = b64.rstrip("=")
    last = alphabet[alphabet.index(data[-1]) ^ 1]
    return data[:-1] + last + b64[len(data) :]


BAD_SIZES = ["05", "00", "-1", "+5", " 5", "5 ", "", "0x5", "1_000", "٥", "5.0", str(2**64)]


@pytest.mark.parametrize("size", BAD_SIZES)
def test_bad_sizes_rejected(size: str) -> None:
    with pytest.raises(CheckpointError, match="size"):
        open_checkpoint(signed(f"dxsim-log\n{size}\n{ROOT_B64}\n"), LOG_VKEY)


BAD_ROOTS = {
    "missing padding": ROOT_B64.rstrip("="),
    "non-canonical padding bits": _noncanonical(ROOT_B64),
    "extra padding": ROOT_B64 + "=",
    "inner space": ROOT_B64[:10] + " " + ROOT_B64[10:],
    "url-safe alphabet": base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(),
    "31 bytes": base64.b64encode(ROOT[:31]).decode(),
    "33 bytes": base64.b64encode(ROOT + b"\0").decode(),
    "empty": "",
    "hex": ROOT.hex(),
}


@pytest.mark.parametrize("root", BAD_ROOTS.values(), ids=BAD_ROOTS.keys())
def test_bad_roots_rejected(root: str) -> None:
    with pytest.raises(CheckpointError, match="root"):
        open_checkpoint(signed(f"dxsim-log\n5\n{root}\n"), LOG_VKEY)


BAD_NOTES = {
    "print adds a newline": (NOTE + "\n", "blank line"),
    "missing final newline": (NOTE[:-1], "newline"),
    "trailing bytes": (NOTE + "junk", "newline"),
    "trailing line": (NOTE + "junk\n", "signature line 2"),
    "CRLF": (NOTE.replace("\n", "\r\n"), "control character"),
    "tab in origin": (NOTE.replace("dxsim-log\n", "dxsim\tlog\n", 1), "control character"),
    "NUL": (NOTE + "\0", "control character"),
    "lone surrogate": (NOTE.replace("dxsim-log\n", "dxsim\ud800\n", 1), "UTF-8"),
    "no blank line": (NOTE.replace("\n\n", "\n"), "blank line"),
    "no signature lines": (NOTE[: NOTE.index("\n\n") + 2], "blank line"),
    "hyphen instead of em dash": (NOTE.replace(EM, "-"), "signature line 1"),
    "en dash": (NOTE.replace(EM, "\u2013"), "signature line 1"),
    "no space after dash": (NOTE.replace(f"{EM} ", EM), "signature line 1"),
    "two spaces after name": (NOTE.replace("dxsim-log ", "dxsim-log  "), "base64"),
    "trailing space": (NOTE[:-1] + " \n", "base64"),
    "name only": (NOTE[: NOTE.rindex(" ")] + "\n", "no signature after"),
    "plus in name": (NOTE.replace(f"{EM} dxsim-log", f"{EM} dxsim+log"), "'+'"),
    "signature too short": (NOTE[: NOTE.rindex(" ")] + " AAAAAA==\n", "too short"),
    "signature non-canonical": (
        NOTE[: NOTE.rindex(" ") + 1] + _noncanonical(NOTE[NOTE.rindex(" ") + 1 : -1]) + "\n",
        "canonical",
    ),
    "blank line among signatures": (NOTE + "\n" + sig_line(NOTE), "signature line 1"),
    "tampered size": (NOTE.replace("\n5\n", "\n6\n", 1), "does not verify"),
    "tampered origin": (NOTE.replace("dxsim-log\n", "dxsim-lag\n", 1), "does not verify"),
    "tampered root": (NOTE.replace(ROOT_B64, base64.b64encode(ROOT[::-1]).decode()), "verify"),
    "signature by another key only": (
        NOTE[: NOTE.index("\n\n") + 2] + sig_line(good_note(signer=OTHER)),
        "no signature by key dxsim-log",
    ),
    "empty extension line": (signed(f"dxsim-log\n5\n{ROOT_B64}\n\next\n"), "extension line 1"),
    "fewer than three lines": (signed("dxsim-log\n5\n"), "fewer than 3"),
    "empty origin": (signed(f"\n5\n{ROOT_B64}\n"), "origin"),
}


@pytest.mark.parametrize(("note", "reason"), BAD_NOTES.values(), ids=BAD_NOTES.keys())
def test_malformed_notes_rejected(note: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=re.escape(reason)):
        open_checkpoint(note, LOG_VKEY)


def test_invalid_utf8_bytes_rejected() -> None:
    with pytest.raises(CheckpointError, match="UTF-8"):
        open_checkpoint(NOTE.encode().replace(b"dxsim-log\n", b"dxsim\xff\n", 1), LOG_VKEY)


def test_wrong_key_rejected() -> None:
    with pytest.raises(CheckpointError, match="no signature by key dxsim-other"):
        open_checkpoint(NOTE, OTHER_VKEY)


def test_error_messages_are_one_line() -> None:
    for note, _ in BAD_NOTES.values():
        with pytest.raises(CheckpointError) as info:
            open_checkpoint(note, LOG_VKEY)
        assert "\n" not in str(info.value)


def test_cosignatures_by_unknown_keys_accepted() -> None:
    fake = base64.b64encode(b"\x12\x34\x56\x78" + bytes(64)).decode()
    same_name_other_id = base64.b64encode(b"\0\0\0\0" + bytes(64)).decode()
    other_name_same_id = base64.b64encode(key_hash("dxsim-log", LOG.public_key) + bytes(64))
    cosigned = (
        NOTE
        + f"{EM} witness.example/w1 {fake}\n"
        + f"{EM} dxsim-log {same_name_other_id}\n"
        + f"{EM} someone-else {other_name_same_id.decode()}\n"
        + sig_line(good_note(signer=OTHER))
    )
    assert open_checkpoint(cosigned, LOG_VKEY) == Checkpoint("dxsim-log", 5, ROOT)
    # the unknown line may come first, too
    first = NOTE[: NOTE.index("\n\n") + 2] + f"{EM} witness.example/w1 {fake}\n" + sig_line(NOTE)
    assert open_checkpoint(first, LOG_VKEY) == Checkpoint("dxsim-log", 5, ROOT)


def test_every_signature_by_the_key_must_verify() -> None:
    assert open_checkpoint(NOTE + sig_line(NOTE), LOG_VKEY).size == 5  # duplicate: fine
    bad = sig_line(good_note(size=6))  # right key id, signature over another body
    with pytest.raises(CheckpointError, match=r"signature line 2 .* does not verify"):
        open_checkpoint(NOTE + bad, LOG_VKEY)


BAD_VKEYS = {
    "empty": "",
    "name only": "dxsim-log",
    "no key": "dxsim-log+" + LOG_VKEY.split("+")[1],
    "empty name": "+" + LOG_VKEY.split("+", 1)[1],
    "space in name": "dxsim log+" + LOG_VKEY.split("+", 1)[1],
    "control in name": "dxsim\x7flog+" + LOG_VKEY.split("+", 1)[1],
    "uppercase hash": "dxsim-log+"
    + LOG_VKEY.split("+")[1].upper()
    + "+"
    + LOG_VKEY.split("+", 2)[2],
    "short hash": "dxsim-log+" + LOG_VKEY.split("+")[1][:7] + "+" + LOG_VKEY.split("+", 2)[2],
    "wrong hash": "dxsim-log+00000000+" + LOG_VKEY.split("+", 2)[2],
    "other name": "dxsim-lag+" + LOG_VKEY.split("+", 1)[1],
    "bad base64": LOG_VKEY[:-2] + "!!",
    "non-canonical base64": LOG_VKEY.rsplit("+", 1)[0]
    + "+"
    + _noncanonical(LOG_VKEY.split("+", 2)[2]),
    "algorithm 0x02": "dxsim-log+"
    + key_hash("dxsim-log", LOG.public_key).hex()
    + "+"
    + base64.b64encode(b"\x02" + LOG.public_key).decode(),
    "signer key": PETER_SKEY,
}


@pytest.mark.parametrize("vkey", BAD_VKEYS.values(), ids=BAD_VKEYS.keys())
def test_bad_verifier_keys_rejected(vkey: str) -> None:
    with pytest.raises(CheckpointError, match="verifier key"):
        parse_verifier_key(vkey)
    with pytest.raises(CheckpointError, match="verifier key"):
        open_checkpoint(NOTE, vkey)


def test_non_str_inputs_rejected() -> None:
    with pytest.raises(CheckpointError):
        parse_verifier_key(b"x+y+z")  # type: ignore[arg-type]
    with pytest.raises(CheckpointError):
        open_checkpoint(12, LOG_VKEY)  # type: ignore[arg-type]


BAD_SIGN_ARGS = {
    "empty origin": {"origin": ""},
    "newline in origin": {"origin": "a\nb"},
    "tab in origin": {"origin": "a\tb"},
    "negative size": {"size": -1},
    "size too large": {"size": 2**64},
    "bool size": {"size": True},
    "str size": {"size": "5"},
    "31-byte root": {"root": ROOT[:31]},
    "str root": {"root": ROOT_B64},
    "empty extension": {"extensions": [""]},
    "newline in extension": {"extensions": ["a\nb"]},
    "extensions as str": {"extensions": "ext"},
}


@pytest.mark.parametrize("kwargs", BAD_SIGN_ARGS.values(), ids=BAD_SIGN_ARGS.keys())
def test_sign_checkpoint_refuses_what_cannot_open(kwargs: dict[str, object]) -> None:
    with pytest.raises(CheckpointError):
        good_note(**kwargs)


def test_parse_checkpoint_body_direct() -> None:
    assert parse_checkpoint_body(f"o\n0\n{ROOT_B64}\nx\n") == Checkpoint("o", 0, ROOT, ("x",))
    with pytest.raises(CheckpointError, match="newline"):
        parse_checkpoint_body(f"o\n0\n{ROOT_B64}")
