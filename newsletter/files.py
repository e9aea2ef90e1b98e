"""Writing files so that a failure never leaves a half-written one behind; naming them short."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place."""
    write_atomically_bytes(path, text.encode("utf-8"))


def write_atomically_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place; `durable`
    waits for the disk to have it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def open_atomically(path: Path) -> Iterator[TextIO]:
    """A text file to write bit by bit (CSV rows, say) that appears at `path` whole when the
    block ends, and not at all if it raises."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def shown_path(path: Path) -> str:
    """A path as short as it can be: relative to the working folder when inside it."""
    try:  # absolute(), not resolve(): the archive's site is a link, named as given
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_workspace_path(value: str) -> bool:
    """Not an address (http:, data:, cid:...), but a file named relative to the workspace."""
    return not _SCHEME.match(value)
