"""What a reader reads: a local file, or the body of a page fetched from a URL."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from newsletter.errors import NewsletterError

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Document:
    """A file or a fetched body, with the name messages give it and the URL links resolve to."""

    name: Path | str  # the path as given, or the URL: what "file:line" messages name
    path: Path | None = None
    content: bytes | None = None  # a fetched body (capped in size by the fetcher)
    url: str | None = None  # where it came from, after redirects
    media_type: str | None = None  # the server's Content-Type, without parameters
    charset: str | None = None  # the server's charset parameter, when it gave one

    @classmethod
    def from_path(cls, path: Path) -> Document:
        return cls(name=path, path=path)

    def open(self) -> BinaryIO:
        if self.content is not None:
            return io.BytesIO(self.content)
        assert self.path is not None
        try:
            return self.path.open("rb")
        except OSError as error:
            raise NewsletterError(f"cannot read: {error.strerror or error}", self.name) from None

    def size(self) -> int:
        """Bytes to read; 0 when the file cannot be looked at (its reader reports why)."""
        if self.content is not None:
            return len(self.content)
        assert self.path is not None
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def check_size(self, limit: int) -> None:
        """Refuse a local file over `limit` bytes before reading it (a fetched body has had
        its own cap, [fetch] max_bytes)."""
        if self.content is None and (size := self.size()) > limit:
            raise NewsletterError(
                f"the file is {size / MIB:.1f} MiB, over the {_amount(limit)} limit "
                "(raise [ingest] max_file_bytes)",
                self.name,
            )

    def read(self) -> bytes:
        """The whole document, for formats that are parsed whole (feeds, HTML, JSON)."""
        if self.content is not None:
            return self.content
        with self.open() as file:
            try:
                return file.read()
            except OSError as error:
                raise NewsletterError(
                    f"cannot read: {error.strerror or error}", self.name
                ) from None


def _amount(size: int) -> str:
    """A number of bytes as a person reads it: '256 MiB', '1.5 MiB', '1,000 bytes'."""
    if size < MIB:
        return f"{size:,} bytes"
    return f"{size // MIB} MiB" if size % MIB == 0 else f"{size / MIB:.1f} MiB"
