"""Input and output checks of the command line: files that must exist, outputs written
atomically, and the exceptions that map to the CLI's exit statuses.

Kept apart from :mod:`radiomics_aln.cli` (the parsers and commands); everything here is private
to the package.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any


def existing(path: str | os.PathLike) -> Path:
    """An input file that must exist (a folder is not a file)."""
    p = Path(path)
    if not p.exists():
        raise MissingInput(f"{p} does not exist")
    if p.is_dir():
        raise MissingInput(f"{p} is a folder; give the file inside it")
    return p


def check_n_jobs(n_jobs: int) -> None:
    if n_jobs == 0:
        raise UsageProblem("--n-jobs must be a non-zero number of workers (-1: all cores)")


def check_positive(option: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise UsageProblem(f"{option} must be a positive number, got {value:g}")


def output_file(path: str | os.PathLike) -> Path:
    """Check, before any work, that a file can be written at ``path`` (folders are created)."""
    p = Path(path)
    if p.is_dir():
        raise OutputProblem(f"{p} is a folder; give a file name for this output")
    if not plain_file(p):  # a device, pipe or link (/dev/stdout): written as it is
        return p
    if p.is_file() and not os.access(p, os.W_OK):
        raise OutputProblem(f"{p} exists and is read-only")
    writable_folder(p.parent, p)
    return p


def output_dir(
    path: str | os.PathLike, *, files: Sequence[str] = (), folders: Sequence[str] = ()
) -> Path:
    """Check, before any work, that files can be written in folder ``path`` (created if new).

    ``files`` and ``folders`` are what the command writes inside it: an existing folder where a
    file goes, or file where a folder goes, is refused now rather than after the work.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputProblem(f"{p} is a file, not a folder; give a folder for the outputs")
    for name in files:
        if (p / name).is_dir():
            raise OutputProblem(f"{p / name} is a folder; the output file {name} goes there")
    for name in folders:
        if (p / name).exists() and not (p / name).is_dir():
            raise OutputProblem(f"{p / name} is a file; the output folder {name}/ goes there")
    writable_folder(p, p)
    return p


def writable_folder(folder: Path, target: Path) -> None:
    """Create ``folder`` if needed and write (and remove) a small probe file in it.

    The probe is synced to disk, so a full disk or a read-only file system is found before the
    work rather than when its result is written.
    """
    new_folders = []
    for ancestor in (folder, *folder.parents):
        if ancestor.exists() or ancestor.is_symlink():
            if not ancestor.is_dir():
                raise OutputProblem(f"cannot write {target}: {ancestor} is a file, not a folder")
            break
        new_folders.append(ancestor)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        CREATED_FOLDERS.extend(new_folders)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".radiomics-aln-probe-")
        try:
            os.write(fd, b"radiomics-aln write test\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        where = exc.filename if exc.filename and Path(exc.filename) != target else folder
        reason = exc.strerror or str(exc)
        raise OutputProblem(f"cannot write {target}: {reason} ({where})") from None


@contextlib.contextmanager
def writing(path: str | os.PathLike, note: str = "") -> Iterator[None]:
    """Turn an ``OSError`` while writing an output into a one-line error naming the file."""
    try:
        yield
    except OSError as exc:
        # ENOSPC and EIO carry no file name; the name of the output being written is the best
        where = exc.filename or path
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OutputProblem(f"cannot write {where}: {reason}{note}") from exc


def write_output(path: Path, write: Callable[[Path], Any], note: str = "") -> None:
    """Write one output file through ``write(target)``, atomically.

    The content goes to a temporary file next to ``path`` that replaces it only when complete,
    so a full disk, an error or a signal mid-write never leaves a truncated table that a later
    step would read as whole (a previous complete file stays as it was). An output that is a
    device, pipe or symbolic link (``/dev/stdout``) is written directly.
    """
    if not plain_file(path):
        # never rename over a device or a link (/dev/stdout): that would replace the link
        with writing(path, note):
            write(path)
        return
    # same suffix: write_features chooses the format from it
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OutputProblem(f"cannot write {path}: {reason}{note}") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def plain_file(path: Path) -> bool:
    """A regular file (or none yet), not a link: safe to probe its folder and rename over it."""
    return not path.is_symlink() and (path.is_file() or not path.exists())


def remove_stale(path: Path) -> None:
    with writing(path):
        path.unlink(missing_ok=True)


#: Folders the output checks created; removed again (when still empty) if the command fails.
CREATED_FOLDERS: list[Path] = []


def remove_new_empty_folders() -> None:
    for folder in sorted(set(CREATED_FOLDERS), key=lambda f: len(f.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty: the command wrote something there
            folder.rmdir()


class MissingInput(ValueError):
    """An input file that does not exist, or is a folder (exit status 1, no --debug hint)."""


class UsageProblem(Exception):
    """A problem with the command line itself (an option's value, missing or conflicting options)."""


class OutputProblem(Exception):
    """An output cannot be written (exit status 3); the message names the path."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that joblib stops its workers as for Ctrl-C."""


