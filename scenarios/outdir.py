"""Output directories for derived files (reports, exports), and what dxsim may replace in them.

The rule of :mod:`scenarios.rundir` holds here too: dxsim never deletes or overwrites anything it
did not write. A report or export goes into a new (or empty) directory; ``--force`` lets it go
into one that exists, where it removes only the files its previous manifest lists and refuses
before it would overwrite any other file. The manifest (``dxsim-report.json``,
``dxsim-export.json``) is written before the first file and updated as each file is begun, so a
command that stops half-way still leaves a list of exactly what it wrote.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scenarios.cli_errors import UserError

__all__ = ["DERIVED", "OutputDir", "owned_files"]

#: The directories of derived files that dxsim writes inside a run directory by default
#: (``dxsim report``, ``dxsim export``): name -> what wrote it.
DERIVED = {"report": "report", "export": "export"}


def _plain_name(name: object) -> bool:
    """A file name inside the directory (a manifest naming ``../x`` names nothing of ours)."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def _listed(manifest: Path, what: str) -> list[str]:
    """The file names a manifest of ``what`` lists.

    Raises:
        ValueError: it is not such a manifest.
    """
    data = json.loads(manifest.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != f"dxsim-{what}/1":
        raise ValueError(f"format is {data.get('format') if isinstance(data, dict) else data!r}")
    names = data.get("files")
    if not isinstance(names, list):
        raise ValueError("files is not a list")
    return [str(name) for name in names if _plain_name(name)]


def owned_files(path: Path, what: str) -> list[Path] | None:
    """Every entry of directory ``path`` when dxsim ``what`` wrote all of them (its manifest
    included), or None when it holds anything else, or no readable manifest of ours."""
    manifest = path / f"dxsim-{what}.json"
    try:
        listed = set(_listed(manifest, what)) | {manifest.name, manifest.name + ".tmp"}
        present = list(path.iterdir())
    except (OSError, ValueError):
        return None
    if any(p.name not in listed or not p.is_file() or p.is_symlink() for p in present):
        return None
    return present


class OutputDir:
    """A directory being written by one command, with the manifest of its files.

    Use :meth:`open`, then :meth:`file` for each file to write, then :meth:`finish`.
    """

    def __init__(self, path: Path, manifest: str, what: str) -> None:
        self.path = path
        self.manifest = manifest
        self.what = what  # "report" or "export": the manifest's format is dxsim-<what>/1
        self.files: list[str] = []
        self.info: dict[str, Any] = {}

    @classmethod
    def open(cls, path: Path, *, what: str, force: bool, planned: Iterable[str] = ()) -> OutputDir:
        """Make ``path`` ready for a new ``what``, refusing whatever would replace foreign files.

        Raises:
            UserError: ``path`` is a file; it exists (not empty) and ``force`` is not given; its
                manifest is not one of ours; or a ``planned`` file is there and is not ours.
        """
        out = cls(path, f"dxsim-{what}.json", what)
        if path.exists() and not path.is_dir():
            raise UserError(f"{path} exists and is not a directory; choose another --out")
        if path.is_dir() and any(path.iterdir()):
            if not force:
                raise UserError(
                    f"{path} already exists; pass --force to replace the files a previous "
                    f"dxsim {what} wrote there (and nothing else), or choose another --out"
                )
            out._remove_previous()
            for name in planned:
                out._refuse_foreign(name)
        path.mkdir(parents=True, exist_ok=True)
        out._write_manifest("incomplete")
        return out

    def _remove_previous(self) -> None:
        """Remove the files our previous manifest lists (and the manifest), nothing else."""
        manifest = self.path / self.manifest
        if not manifest.exists():
            return
        try:
            names = _listed(manifest, self.what)
        except (OSError, ValueError) as exc:
            raise UserError(
                f"{manifest}: not a dxsim {self.what} manifest ({exc}); not replacing anything"
            ) from exc
        for name in names:
            target = self.path / name
            if target.is_file() and not target.is_symlink():
                target.unlink()
        manifest.unlink()

    def _refuse_foreign(self, name: str) -> None:
        target = self.path / name
        if target.exists() or target.is_symlink():
            raise UserError(
                f"{target} exists and dxsim {self.what} did not write it; not overwriting it "
                "(move it, or choose another --out)"
            )

    def file(self, name: str) -> Path:
        """The path to write ``name`` to, recorded in the manifest before it is written.

        Raises:
            UserError: a file of that name is there and this command did not write it.
        """
        if name not in self.files:
            self._refuse_foreign(name)
            self.files.append(name)
            self._write_manifest("incomplete")
        return self.path / name

    def finish(self, **info: Any) -> None:
        """Mark the output complete, with ``info`` (what it was made from) in the manifest."""
        self.info.update(info)
        self._write_manifest("complete")

    def _write_manifest(self, status: str) -> None:
        data = {
            **self.info,
            "format": f"dxsim-{self.what}/1",
            "status": status,
            "files": self.files,
        }
        scratch = self.path / (self.manifest + ".tmp")
        scratch.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(scratch, self.path / self.manifest)
