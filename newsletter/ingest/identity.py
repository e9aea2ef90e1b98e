"""Who an item is: a stable uid from its URL, else from its normalised (type, title, date)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from newsletter.model import Entry
from newsletter.textkeys import fold_text, normalise_url

__all__ = ["fingerprint", "fold_text", "identity_key", "item_uid", "normalise_url"]

UID_LENGTH = 16  # hex digits: 64 bits keep collisions negligible in a pool of millions


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
