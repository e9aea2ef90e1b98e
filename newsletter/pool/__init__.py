"""The item pool: every item ever ingested, once, with its topics and sources.

The only part of the program that touches SQLAlchemy; everything leaves it as plain records.
`Pool` (pool/front.py) is imported on first use, so that a command reading a SQLite pool
through `pool/quick.py` never imports SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsletter.pool.front import Pool

__all__ = ["Pool"]


def __getattr__(name: str) -> object:
    if name == "Pool":
        from newsletter.pool.front import Pool

        return Pool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
