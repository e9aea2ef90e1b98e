"""The front door: one workspace (its newsletter.toml, its pool, its folders), as the CLI and
the studio both see it. Each part is opened on first use, so that a command that needs only
the config never connects to the database."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.pool import Pool
    from newsletter.pool.reads import PoolReads


class Workspace:
    """The config, the pool and the issue files of one newsletter.toml."""

    def __init__(self, config_path: Path | None = None):
        self.config_path = config_path  # None: found in the working folder or above
        self._pool: Pool | None = None
        self._reader: PoolReads | None = None

    @cached_property
    def config(self) -> Config:
        from newsletter.config import load_config

        return load_config(self.config_path)

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            from newsletter.pool import Pool

            topics = {slug: topic.name for slug, topic in self.config.topics.items()}
            self._pool = Pool.open(self.config.database_url, topics)
        return self._pool

    @property
    def reader(self) -> PoolReads:
        """The pool for a command that only looks: a SQLite pool that needs no migration is
        read through the standard library alone (pool/quick.py), without SQLAlchemy's import."""
        if self._pool is not None:
            return self._pool
        if self._reader is None:
            from newsletter.pool.quick import open_quick_reader

            topics = {slug: topic.name for slug, topic in self.config.topics.items()}
            self._reader = open_quick_reader(self.config.database_url, topics) or self.pool
        return self._reader

    @property
    def root(self) -> Path:
        """The folder of newsletter.toml: relative paths in it start here."""
        return self.config.root

    def issue_path(self, name: str) -> Path:
        """The file of an issue named as the commands name it (`newsletter/slug`, or a path)."""
        from newsletter.issue import find_issue

        return find_issue(self.config, name)

    def close(self) -> None:
        if self._reader is not None and self._reader is not self._pool:
            self._reader.close()
        self._reader = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
