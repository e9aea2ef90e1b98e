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
