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


class Workspace:
    """The config, the pool and the issue files of one newsletter.toml."""

    def __init__(self, config_path: Path | None = None):
        self.config_path = config_path  # None: found in the working folder or above
        self._pool: Pool | None = None

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
    def root(self) -> Path:
        """The folder of newsletter.toml: relative paths in it start here."""
        return self.config.root

    def issue_path(self, name: str) -> Path:
        """The file of an issue named as the commands name it (`newsletter/slug`, or a path)."""
        from newsletter.issue import find_issue

        return find_issue(self.config, name)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
