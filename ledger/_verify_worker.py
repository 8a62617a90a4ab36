"""The signature-verifier worker process of :mod:`ledger.verifier`.

Run as a script by path (not ``-m``), so the worker imports only ``cryptography``, not the whole
ledger package: it starts in a fraction of the time. Frames are length-prefixed pickles between
this process and the ledger that started it (same code, same trust).
"""

from __future__ import annotations

import pickle
import struct
import sys
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Job = tuple[int, str, bytes, bytes, bytes]  # seq, signer id, public key, signature, message
LENGTH = struct.Struct(">I")


def _verify_all(jobs: list[Job], keys: dict[bytes, Ed25519PublicKey]) -> str | None:
    """The first bad signature's description, or None."""
    for seq, signer_id, public_key, signature, message in jobs:
        key = keys.get(public_key)
        if key is None:
            key = keys[public_key] = Ed25519PublicKey.from_public_bytes(public_key)
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return f"entry {seq}: bad signature by {signer_id!r}"
    return None


def read_frame(stream: IO[bytes]) -> bytes | None:
    header = stream.read(LENGTH.size)
    if len(header) < LENGTH.size:
        return None
    (size,) = LENGTH.unpack(header)
    return stream.read(size) if size else None


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(LENGTH.pack(len(payload)) + payload)
    stream.flush()


def worker_main() -> None:
    """The worker process: read batches of jobs from stdin, answer each with its verdict.

    Frames are length-prefixed pickles between this process and the ledger that started it
    (same code, same trust); an empty frame or end of input stops it.
    """
    keys: dict[bytes, Ed25519PublicKey] = {}
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while (frame := read_frame(source)) is not None:
        write_frame(sink, pickle.dumps(_verify_all(pickle.loads(frame), keys)))


if __name__ == "__main__":
    worker_main()
