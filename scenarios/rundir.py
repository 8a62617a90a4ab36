"""Run directories: what dxsim writes, how it marks a run in progress, and what it may replace.

A run directory holds ``run.json`` (this module's manifest), ``scenario.toml`` (the file as
given), ``scenario.json`` (resolved, every default and override), the ledger (``ledger.db``, or a
record of where it is when it was written to PostgreSQL with ``--ledger-url``), ``metrics.json``,
``invariants.json`` and ``summary.txt``.

``run.json`` is written first with status ``incomplete`` and rewritten ``complete`` (or
``failed``, with the reason) at the end, so a run that was killed is recognisable as such. dxsim
never deletes or overwrites what it did not write: a rerun into the same directory is refused
unless ``--force`` is given, and even then it removes only the files the manifest lists (and a
``report/`` or ``export/`` that dxsim wrote from the old ledger, by their own manifests), and
only when nothing else is in the directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ledger import Location, Store, describe, is_url, resolve_target
from scenarios.cli_errors import UserError
from scenarios.outdir import DERIVED, owned_files

__all__ = [
    "MANIFEST",
    "RUN_FILES",
    "RunManifest",
    "ledger_location",
    "prepare_run_dir",
    "read_manifest",
    "write_manifest",
]

MANIFEST = "run.json"
#: Every file a run writes into its directory (the SQLite journal files come and go with it).
RUN_FILES = (
    MANIFEST,
    "scenario.toml",
    "scenario.json",
    "ledger.db",
    "ledger.db-wal",
    "ledger.db-shm",
    "ledger.db-journal",
    "metrics.json",
    "invariants.json",
    "summary.txt",
)
Status = Literal["incomplete", "complete", "failed"]


class RunManifest(BaseModel):
    """What a run directory is: its status and where its ledger lives."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["dxsim-run/1"] = "dxsim-run/1"
    status: Status = "incomplete"
    ledger: str = "ledger.db"  # a file name in the directory, or an SQLAlchemy URL
    error: str | None = None
    seed: int | None = None
    keys: str = ""  # "key secret <fingerprint>" or "keystore"
    entries: int | None = None
    root: str | None = None
    statements: str | None = None
    verifier_key: str | None = None
    #: The plugins the run imported (``scenarios.plugins``): name, where from, SHA-256.
    plugins: list[dict[str, str | None]] = []

    @property
    def ledger_is_url(self) -> bool:
        return is_url(self.ledger)


def read_manifest(folder: Path) -> RunManifest | None:
    """The manifest of a run directory, or None when ``folder`` has none.

    Raises:
        UserError: ``run.json`` exists but is not a dxsim manifest.
    """
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        return RunManifest.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError, OSError) as exc:
        raise UserError(f"{path}: not a dxsim run manifest ({str(exc).splitlines()[0]})") from exc


def write_manifest(folder: Path, manifest: RunManifest) -> None:
    """Replace ``run.json`` atomically (a reader never sees half a manifest)."""
    path = folder / MANIFEST
    scratch = folder / (MANIFEST + ".tmp")
    scratch.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(scratch, path)


def ledger_location(target: str | Path) -> Location:
    """Where the ledger of ``target`` is: a run directory's (following its manifest to a
    database URL when it has one), a ledger file, or an SQLAlchemy URL as given."""
    if is_url(target):
        return str(target)
    folder = Path(target)
    if folder.is_dir():
        manifest = read_manifest(folder)
        if manifest is not None and manifest.ledger_is_url:
            return manifest.ledger
        if manifest is not None:
            return folder / manifest.ledger
    return resolve_target(folder)


def _replace(out: Path, manifest: RunManifest) -> None:
    """Remove a previous run's files from ``out``: only those dxsim writes, and only when
    nothing else is there."""
    present = {entry.name for entry in out.iterdir()}
    # A report or export of the old ledger inside the run is dxsim's too, and stale after it.
    derived = {
        name: files
        for name, what in DERIVED.items()
        if name in present and (out / name).is_dir()
        if (files := owned_files(out / name, what)) is not None
    }
    foreign = sorted(present - set(RUN_FILES) - {MANIFEST + ".tmp"} - set(derived))
    if foreign:
        raise UserError(
            f"{out} holds files dxsim did not write ({', '.join(foreign[:3])}); not replacing it"
        )
    if manifest.ledger_is_url:
        try:
            store = Store(manifest.ledger, create=True)
        except Exception as exc:
            raise UserError(
                f"cannot remove the previous ledger at {describe(manifest.ledger)}: {exc}"
            ) from exc
        try:
            store.drop_all()
        finally:
            store.close()
    for files in derived.values():
        for path in files:
            path.unlink()
    for name in sorted(present - set(derived)):
        (out / name).unlink()
    for name in derived:
        (out / name).rmdir()


def prepare_run_dir(out: Path, *, force: bool = False) -> None:
    """Make ``out`` ready for a new run.

    A new or empty directory is used as it is. A directory holding a previous dxsim run is
    replaced only with ``force`` (its files, nothing else). Anything else is refused.
    """
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        manifest = read_manifest(out)
        if manifest is None:
            raise UserError(
                f"{out} already exists, is not empty and is not a dxsim run directory; "
                "choose another --out"
            )
        if not force:
            raise UserError(
                f"{out} already holds a run (status {manifest.status}); pass --force to "
                "replace it, or choose another --out"
            )
        _replace(out, manifest)
    out.mkdir(parents=True, exist_ok=True)
