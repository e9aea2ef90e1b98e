"""Who an item is: a stable uid from its URL, else from its normalised (type, title, date)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from newsletter.model import Entry

UID_LENGTH = 16  # hex digits: 64 bits keep collisions negligible in a pool of millions

# Curly quotes and dashes, which listings and feeds spell differently for the same title.
_TYPOGRAPHY = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)


def fold_text(text: str) -> str:
    """Text as identity sees it: Unicode-normalised, case-folded, plain quotes, single spaces."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    return " ".join(text.casefold().split())


def normalise_url(url: str) -> str:
    """Scheme and host in lower case, no default port, no fragment: one spelling per page."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and (parts.scheme, parts.port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    path = re.sub(r"/+$", "", parts.path) or "/"
    return urlunsplit((parts.scheme.lower(), host, path, parts.query, ""))


def identity_key(entry: Entry) -> str:
    if entry.url:
        return "url\x1f" + normalise_url(entry.url)
    day = "undated" if entry.undated else entry.date.isoformat()  # its date moves with the day
    return "\x1f".join(("item", _fold_type(entry.type), fold_text(entry.title), day))


@lru_cache(maxsize=1024)
def _fold_type(text: str) -> str:
    """fold_text for an entry's type: a source has a handful, a million times over."""
    return fold_text(text)


def item_uid(entry: Entry) -> str:
    return hashlib.sha256(identity_key(entry).encode()).hexdigest()[:UID_LENGTH]


def fingerprint(entry: Entry) -> str:
    """A digest of everything a source says about an item, to notice when that changes."""
    said = "\x1f".join(
        (
            entry.type,
            entry.title,
            "" if entry.undated else entry.date.isoformat(),
            entry.summary,
            entry.url or "",
            entry.language or "",
            *((entry.image,) if entry.image else ()),  # so that digests of older items hold
            *(("credit", entry.image_credit) if entry.image_credit else ()),
        )
    )
    return hashlib.sha256(said.encode()).hexdigest()[:UID_LENGTH]
