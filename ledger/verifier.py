"""Pipelined signature verification in a worker process.

Ed25519 verification is the most expensive step of an append. A simulation writing entries can
hand it to the second core and go on. It must be a *process*, not a thread: ``cryptography``
releases the GIL while it verifies, but a verifying thread must take the GIL back after every
call, and a main thread busy with Python gives it up only every switch interval, so a thread
verifies at a fraction of its speed (measured: 5.2 ms per verification instead of 0.1 ms).

Every entry is still verified **before** the batch holding it is persisted: the log drains this
verifier before each write, and a bad signature aborts the batch with an error naming the entry.
Library users who want the error at the very call keep the default synchronous mode.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

from ledger._verify_worker import Job, read_frame, write_frame
from ledger.errors import SignatureError
from ledger.identity import PublicIdentity

__all__ = ["BackgroundVerifier"]

_WORKER = Path(__file__).with_name("_verify_worker.py")


class BackgroundVerifier:
    """Collects signature jobs and verifies them in chunks in one worker process."""

    def __init__(self, chunk: int = 128) -> None:
        self.chunk = chunk
        self._worker = subprocess.Popen(
            [sys.executable, str(_WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._jobs: list[Job] = []
        self._outstanding = 0

    def add(self, seq: int, signer: PublicIdentity, signature: bytes, message: bytes) -> None:
        self._jobs.append((seq, signer.id, signer.public_key, signature, message))
        if len(self._jobs) >= self.chunk:
            self._submit()

    def _submit(self) -> None:
        if not self._jobs:
            return
        assert self._worker.stdin is not None
        try:
            write_frame(self._worker.stdin, pickle.dumps(self._jobs))
        except BrokenPipeError as exc:
            raise SignatureError("the signature verifier process has stopped") from exc
        self._jobs = []
        self._outstanding += 1

    def drain(self) -> None:
        """Wait for every job so far; raise :class:`SignatureError` for the first bad one."""
        self._submit()
        assert self._worker.stdout is not None
        first_problem: str | None = None
        while self._outstanding:
            frame = read_frame(self._worker.stdout)
            if frame is None:
                raise SignatureError("the signature verifier process has stopped")
            self._outstanding -= 1
            problem = pickle.loads(frame)
            if problem is not None and first_problem is None:
                first_problem = problem
        if first_problem is not None:
            raise SignatureError(first_problem)

    def close(self) -> None:
        if self._worker.poll() is None:
            try:
                assert self._worker.stdin is not None
                write_frame(self._worker.stdin, b"")
                self._worker.stdin.close()
            except BrokenPipeError:
                pass
        self._worker.wait(timeout=30)
        if self._worker.stdout is not None:
            self._worker.stdout.close()
