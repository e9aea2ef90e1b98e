"""The quick reader: a SQLite pool read through the standard library alone answers exactly as
the Pool does, and steps aside whenever only the Pool will do."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from newsletter.config import Config, resolve_database_url
from newsletter.ingest import ingest_file
from newsletter.model import ItemQuery
from newsletter.pool import Pool
from newsletter.pool.quick import open_quick_reader
from tests.conftest import COOPERATIVES, WHATS_NEW

QUERIES = [
    ItemQuery(),
    ItemQuery(date(2020, 11, 1), date(2020, 11, 30), provenance=True),
    ItemQuery(date(2020, 11, 2), date(2020, 11, 2)),
    ItemQuery(topics=("cooperatives",)),
    ItemQuery(topics=("cooperatives", "informality"), types=("news", "BRIEF")),
    ItemQuery(search="SCORE"),
    ItemQuery(search="%"),  # a LIKE wildcard is a character to find, not a wildcard
    ItemQuery(search="PÉREZ"),
    ItemQuery(limit=3, provenance=True),
    ItemQuery(start=date(2021, 1, 1)),
]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return resolve_database_url(f"sqlite:///{tmp_path / 'quick.db'}", tmp_path)


@pytest.fixture
def topics(config: Config) -> dict[str, str]:
    return {slug: topic.name for slug, topic in config.topics.items()}


@pytest.fixture
def filled(sqlite_url: str, topics: dict[str, str], config: Config, listings: Path) -> Pool:
    pool = Pool.open(sqlite_url, topics)
    for name in (COOPERATIVES, WHATS_NEW):
        ingest_file(pool, config, listings / name)
    return pool


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_it_selects_what_the_pool_selects(
    filled: Pool, sqlite_url: str, topics: dict[str, str], query: ItemQuery
) -> None:
    reader = open_quick_reader(sqlite_url, topics)
    assert reader is not None
    try:
        assert reader.select_items(query) == filled.select_items(query)
    finally:
        reader.close()


def test_the_samples_give_every_query_something_to_disagree_on(filled: Pool) -> None:
    """The comparison above is only as good as its data: each query finds items but the two
    that must find none, and the limit and filters take some and leave others."""
    found = [len(filled.select_items(query)) for query in QUERIES]
    assert [index for index, count in enumerate(found) if count == 0] == [6, 9]
    assert 0 < found[3] < found[0]
    assert found[8] == 3
    assert found[7] == 1
    assert filled.select_items(QUERIES[1])[0].first_seen is not None


def test_it_counts_what_the_pool_counts(
    filled: Pool, sqlite_url: str, topics: dict[str, str]
) -> None:
    reader = open_quick_reader(sqlite_url, topics)
    assert reader is not None
    assert reader.topic_summaries() == filled.topic_summaries()
    assert reader.type_counts() == filled.type_counts()
    assert reader.count_items() == filled.count_items() > 0
    reader.close()


@pytest.mark.usefixtures("filled")
def test_its_lower_knows_every_script(sqlite_url: str, topics: dict[str, str]) -> None:
    """As the Pool's SQLite connections do: SQLite's own lower() would leave "É" alone."""
    reader = open_quick_reader(sqlite_url, topics)
    assert reader is not None
    assert reader.run("SELECT lower(:text)", {"text": "ÉCONOMIE"}) == [("économie",)]
    reader.close()


def test_it_cannot_write(filled: Pool, sqlite_url: str, topics: dict[str, str]) -> None:
    reader = open_quick_reader(sqlite_url, topics)
    assert reader is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.connection.execute("DELETE FROM items")
    reader.close()
    assert filled.count_items() > 0


@pytest.mark.usefixtures("filled")
def test_only_the_pool_will_do_for_anything_but_a_current_sqlite_pool(
    sqlite_url: str, topics: dict[str, str], tmp_path: Path
) -> None:
    assert open_quick_reader("postgresql+psycopg://user@127.0.0.1/pool", topics) is None
    assert open_quick_reader(f"sqlite:///{tmp_path / 'none.db'}", topics) is None
    assert open_quick_reader("sqlite:///:memory:", topics) is None
    not_a_pool = tmp_path / "notes.db"
    not_a_pool.write_text("not a database")
    assert open_quick_reader(f"sqlite:///{not_a_pool}", topics) is None
    # A topic the config has and the pool does not (yet): opening the Pool adds it.
    assert open_quick_reader(sqlite_url, topics | {"new-topic": "New topic"}) is None
    assert open_quick_reader(sqlite_url, topics | {"cooperatives": "Renamed"}) is None
    # A pool at an older revision waits for the Pool's migration.
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0005'")
    connection.close()
    assert open_quick_reader(sqlite_url, topics) is None


PROBE = """
import sys
from newsletter.cli import cli
cli(["items", "--month", "2020-11", "--format", "json"], prog_name="newsletter",
    standalone_mode=False)
print("sqlalchemy" in sys.modules, file=sys.stderr)
"""


@pytest.mark.usefixtures("workspace")
def test_newsletter_items_on_a_current_sqlite_pool_does_not_import_sqlalchemy(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", sqlite_url)

    def items() -> tuple[str, str]:
        done = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
        )
        return done.stdout, done.stderr.strip()

    # No database yet: the Pool creates it (and imports SQLAlchemy to do so).
    assert items() == ("[]\n", "True")
    subprocess.run(
        [sys.executable, "-m", "newsletter", "ingest", "--all"], check=True, capture_output=True
    )
    listed, imported = items()
    assert imported == "False"
    assert '"title": "Formally Challenged"' in listed
