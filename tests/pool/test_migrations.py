"""The schema belongs to Alembic: applied on first use, matching the ORM, reversible."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from newsletter.errors import NewsletterError
from newsletter.pool import Pool, database
from newsletter.pool.tables import Base

TABLES = {
    "items",
    "sources",
    "topics",
    "item_topics",
    "item_sources",
    "topic_exclusions",
    "sends",
    "suppressions",
    "publications",
    "item_aliases",
    "duplicate_pairs",
    "send_runs",
}


def test_first_use_applies_every_migration(database_url: str) -> None:
    with Pool.open(database_url, {"cooperatives": "Cooperatives"}) as pool:
        assert database.current_revision(pool.engine) == database.head_revision()
        assert set(inspect(pool.engine).get_table_names()) >= TABLES
        assert [s.slug for s in pool.topic_summaries()] == ["cooperatives"]


def test_the_migrations_build_exactly_the_orm_schema(database_url: str) -> None:
    engine = database.open_engine(database_url)
    database.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    engine = database.open_engine(database_url)
    assert database.upgrade(engine) == (None, database.head_revision())
    with engine.begin() as connection:
        command.downgrade(database._alembic_config(engine, connection), "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    assert database.upgrade(engine)[1] == database.head_revision()
    assert database.upgrade(engine) == (database.head_revision(), database.head_revision())
    engine.dispose()


def test_topics_follow_the_config(database_url: str) -> None:
    with Pool.open(database_url, {"a": "A", "b": "B"}):
        pass
    with Pool.open(database_url, {"a": "Renamed", "c": "C"}) as pool:
        names = {s.slug: s.name for s in pool.topic_summaries()}
    assert names == {"a": "Renamed", "b": "B", "c": "C"}  # b keeps its links until removed


def test_a_database_in_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(NewsletterError, match="no folder"):
        Pool.open(f"sqlite:///{tmp_path}/nope/pool.db")


def test_an_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://nobody:secret@/x?host={tmp_path}&connect_timeout=2"
    with pytest.raises(NewsletterError) as caught:
        Pool.open(url)
    message = str(caught.value)
    assert message.startswith("cannot open the database postgresql+psycopg://nobody:***@/x")
    assert "secret" not in message
    assert "\n" not in message


def test_not_a_database_url() -> None:
    with pytest.raises(NewsletterError, match="not a database URL"):
        Pool.open("nonsense")


def test_the_known_head_is_alembics_newest_migration() -> None:
    assert database.head_revision() == database.HEAD_REVISION


OPEN_AND_TELL = """
import sys
from newsletter.pool import Pool
with Pool.open(sys.argv[1], {"cooperatives": "Cooperatives"}) as pool:
    pool.count_items()
print("alembic" in sys.modules)
"""


def test_a_current_pool_opens_without_alembic(database_url: str) -> None:
    import subprocess
    import sys

    def opened() -> str:
        return subprocess.run(
            [sys.executable, "-c", OPEN_AND_TELL, database_url],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip

    assert opened() == "True"  # the first open migrates
    assert opened() == "False"


def test_opening_with_the_same_topics_writes_nothing(tmp_path: Path) -> None:
    """A read-only command must not queue behind a writer: while another connection holds
    SQLite's write lock, the pool still opens at once (WAL lets readers through)."""
    import sqlite3
    import time

    url = f"sqlite:///{tmp_path / 'pool.db'}"
    with Pool.open(url, {"cooperatives": "Cooperatives"}):
        pass
    writer = sqlite3.connect(tmp_path / "pool.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with Pool.open(url, {"cooperatives": "Cooperatives"}) as pool:
            assert pool.topic_ids.keys() == {"cooperatives"}
        assert time.monotonic() - started < 5  # the lock's wait is 30 s
    finally:
        writer.execute("ROLLBACK")
        writer.close()
