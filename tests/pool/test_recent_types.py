"""The studio's type filter offers the types of the newest items, read through the date
index: the same as counting them from the newest items in Python, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from newsletter.model import ItemQuery
from newsletter.pool import Pool


def test_recent_types_are_those_of_the_newest_items(pool: Pool, run: Callable[..., Result]) -> None:
    assert run("ingest", "--all").exit_code == 0
    newest = pool.select_items(ItemQuery())  # newest first
    for count in (1, 5, 20, len(newest) + 10):
        assert pool.recent_types(count) == sorted({item.type for item in newest[:count]})
    assert len(pool.recent_types()) == len({item.type for item in newest})
