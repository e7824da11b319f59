"""Atomic writes: write beside the target under a temporary name, then rename."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_file(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """A temporary file beside ``path`` with the permissions a plain ``open`` would give (not 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())
    return fd, tmp


def temp_dir(target: Path, tag: str = "tmp") -> Path:
    """A temporary directory beside ``target`` with the usual permissions (not 0700), for renaming into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{tag}-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def write_text_atomic(path: str | Path, text: str) -> Path:
    path = Path(path)
    fd, tmp = temp_file(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def swap_into_place(tmp: Path, target: Path) -> None:
    """Rename a finished temporary directory to ``target``, replacing what was there (renamed aside
    first, removed after), so that ``target`` is always either the old or the new directory."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
        os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, target)


def free_path(path: Path) -> Path:
    """``path`` where it does not exist or is an empty directory, else the first free ``path-2``, ``path-3``, ..."""
    candidate, k = path, 1
    while candidate.exists() and not (candidate.is_dir() and not any(candidate.iterdir())):
        k += 1
        candidate = path.with_name(f"{path.name}-{k}")
    return candidate


def default_target(path: Path, *, resume: bool = False, overwrite: bool = False) -> Path:
    """Where a command writes when no --out was given: ``path`` itself to resume or to replace what is
    there, else the first free name (:func:`free_path`), so a default never refuses and never replaces."""
    return path if resume or overwrite else free_path(path)


def refuse_existing(paths: list[Path], overwrite: bool) -> None:
    """The one overwrite rule: nothing already there is replaced without --overwrite (check before writing)."""
    from .errors import ConfigError

    taken = [p for p in paths if Path(p).exists()]
    if taken and not overwrite:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise ConfigError(f"{taken[0]} exists{more}; pass --overwrite to replace it")
