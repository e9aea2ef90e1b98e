"""A quick reader of a SQLite pool through the standard library alone.

SQLAlchemy's import is most of the start-up of a command that only looks at the pool
(`newsletter items`, `topics`, `types`). When the pool is a SQLite file at the newest
revision whose topics are the configured ones, such a command reads it read-only with sqlite3
and the same statements the `Pool` runs (pool/reads.py). Anything else (PostgreSQL, a new or
older database, changed topics) needs the `Pool`, which migrates and writes.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from newsletter.pool.reads import HEAD_REVISION, Reads, lower

# What config.resolve_database_url makes of a SQLite file: an absolute path, no options.
_SQLITE_FILE = re.compile(r"^sqlite(?:\+pysqlite)?:///(/[^?]+)$")


class QuickReader(Reads):
    """The pool's read paths on a read-only sqlite3 connection of its own."""

    def __init__(self, connection: sqlite3.Connection):
        def run(sql: str, params: Mapping[str, object]) -> Sequence[Sequence[Any]]:
            return connection.execute(sql, dict(params)).fetchall()

        super().__init__(run, "sqlite")
        self.connection = connection

    def close(self) -> None:
        self.connection.close()


def open_quick_reader(url: str, topics: Mapping[str, str]) -> QuickReader | None:
    """A quick reader of the SQLite pool at `url`, or None when only the `Pool` will do."""
    match = _SQLITE_FILE.match(url)
    if not match or not Path(match.group(1)).is_file():
        return None
    try:
        connection = sqlite3.connect(
            f"file:{quote(match.group(1))}?mode=ro", uri=True, timeout=30, check_same_thread=True
        )
    except sqlite3.Error:
        return None
    try:
        if _is_current(connection, topics):
            connection.create_function("lower", 1, lower, deterministic=True)
            return QuickReader(connection)
    except sqlite3.Error:
        pass  # not a pool, or not one this version reads: the Pool says what is wrong
    connection.close()
    return None


def _is_current(connection: sqlite3.Connection, topics: Mapping[str, str]) -> bool:
    (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    if revision != HEAD_REVISION:
        return False
    known = dict(connection.execute("SELECT slug, name FROM topics").fetchall())
    return all(known.get(slug) == name for slug, name in topics.items())
