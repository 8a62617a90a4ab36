"""Where a run's signing keys come from: a key secret kept outside every run directory.

A run directory holds the scenario and its seed, so keys derived from them alone would let anyone
holding the directory re-sign the ledger. dxsim's keys derive from a **key secret** instead
(:class:`ledger.KeySecret`, HKDF-SHA256), found in this order:

1. ``--key-secret FILE`` (a file holding the secret as hex);
2. the ``DXSIM_KEY_SECRET`` environment variable (the hex itself);
3. the ``DXSIM_KEY_SECRET_FILE`` environment variable (a file path);
4. the user's own secret, ``$XDG_CONFIG_HOME/dxsim/key-secret`` (``~/.config/dxsim/key-secret``),
   made with 32 random bytes, readable by the user only, the first time dxsim needs it.

The same scenario, seed and secret give the same ledger, byte for byte. A secret inside the run
directory it signs is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ledger import Identity, KeySecret, LedgerError

__all__ = [
    "SECRET_ENV",
    "SECRET_FILE_ENV",
    "KeySource",
    "SecretSource",
    "default_secret_path",
    "find_key_secret",
    "refuse_inside",
    "run_keys",
]

SECRET_ENV = "DXSIM_KEY_SECRET"
SECRET_FILE_ENV = "DXSIM_KEY_SECRET_FILE"

KeySource = Callable[[str, str], Identity]
"""Where identities come from: ``(id, role) -> Identity``."""


@dataclass(frozen=True)
class SecretSource:
    """A key secret and where it was found (``path`` is None when it came from the environment)."""

    secret: KeySecret
    where: str
    path: Path | None
    created: bool = False


def default_secret_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "dxsim" / "key-secret"


def _read(path: Path) -> KeySecret:
    try:
        text = path.read_bytes().decode("ascii")
    except FileNotFoundError:
        raise LedgerError(f"{path}: no such key secret file") from None
    except UnicodeDecodeError:
        raise LedgerError(f"{path}: not a key secret (it must be hexadecimal text)") from None
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the key secret ({exc.strerror})") from None
    return KeySecret.from_hex(text, str(path))


def _create(path: Path) -> KeySecret:
    secret = KeySecret.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another dxsim made it a moment ago: use that one
        return _read(path)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secret.to_hex() + "\n")
    return secret


def find_key_secret(explicit: Path | None = None) -> SecretSource:
    """The key secret to sign with (see the module docstring for the order).

    Raises:
        LedgerError: the secret named is missing or malformed.
    """
    if explicit is not None:
        return SecretSource(_read(explicit), str(explicit), explicit)
    text = os.environ.get(SECRET_ENV)
    if text:
        return SecretSource(KeySecret.from_hex(text, SECRET_ENV), f"${SECRET_ENV}", None)
    named = os.environ.get(SECRET_FILE_ENV)
    if named:
        path = Path(named)
        return SecretSource(_read(path), str(path), path)
    path = default_secret_path()
    if path.exists():
        return SecretSource(_read(path), str(path), path)
    return SecretSource(_create(path), str(path), path, created=True)


def refuse_inside(secret_path: Path | None, run_dir: Path, what: str = "key secret") -> None:
    """Refuse key material that would sit inside the run directory it signs."""
    if secret_path is None:
        return
    secret = secret_path.resolve()
    folder = run_dir.resolve()
    if secret == folder or folder in secret.parents:
        raise LedgerError(
            f"the {what} {secret_path} is inside the run directory {run_dir}: anyone holding "
            "the directory could then re-sign its ledger; keep it elsewhere"
        )


def run_keys(secret: KeySecret, seed: int) -> KeySource:
    """The identities of one run: derived from the secret, scoped by the run seed."""
    scope = f"run/seed={seed}"
    return lambda identity_id, role: secret.identity(scope, identity_id, role)
