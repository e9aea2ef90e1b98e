"""The selection every later stage uses: date range x topics x types, newest first, one query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.ingest import ingest_file
from newsletter.model import ItemQuery
from newsletter.pool import Pool
from newsletter.pool.queries import reads
from tests.conftest import COOPERATIVES, WHATS_NEW

NOVEMBER = ItemQuery(date(2020, 11, 1), date(2020, 11, 30), topics=("cooperatives",))


@pytest.fixture
def filled(pool: Pool, config: Config, listings: Path) -> Pool:
    for name in (COOPERATIVES, WHATS_NEW):
        ingest_file(pool, config, listings / name)
    return pool


@pytest.fixture
def statements(filled: Pool) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        if not args[2].startswith("BEGIN"):  # transaction control, not a query
            seen.append(args[2])

    event.listen(filled.engine, "before_cursor_execute", record)
    yield seen
    event.remove(filled.engine, "before_cursor_execute", record)


def test_month_by_topic_is_answered_by_one_query(filled: Pool, statements: list[str]) -> None:
    found = filled.select_items(NOVEMBER)
    assert len(found) == 8
    assert len(statements) == 1
    assert statements[0].lstrip().upper().startswith("SELECT")


def test_the_date_range_walks_the_date_index(filled: Pool) -> None:
    with filled.engine.connect() as connection:
        sql, params = reads(connection).item_sql(NOVEMBER)
        if filled.engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1])
                for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"), params)
            )
        else:  # a toy table is cheaper to scan: ask whether the index can serve at all
            connection.execute(text("SET enable_seqscan = off"))
            plan = " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}"), params))
    assert "ix_items_date_id" in plan
    assert "TEMP B-TREE" not in plan.upper()  # no sort step: the index gives the order


def test_newest_first_with_a_stable_order_for_equal_dates(filled: Pool) -> None:
    found = filled.select_items(ItemQuery())
    keys = [item.date for item in found]
    assert keys == sorted(keys, reverse=True)
    assert filled.select_items(ItemQuery()) == found


def test_period_bounds_are_inclusive(filled: Pool) -> None:
    found = filled.select_items(ItemQuery(date(2020, 11, 2), date(2020, 11, 2)))
    assert {item.title for item in found} == {
        "Formally Challenged",
        "SCORE Training - Promoting the capacity of suppliers in global supply chains",
    }


def test_several_topics_match_any(filled: Pool) -> None:
    found = filled.select_items(ItemQuery(topics=("informality", "supply-chains")))
    assert len(found) == 4


def test_types_match_any_regardless_of_case(filled: Pool) -> None:
    found = filled.select_items(ItemQuery(types=("brief", "PUBLICATION")))
    assert sorted(item.type for item in found) == ["Brief", "Brief", "Publication"]


def test_search_in_title_and_summary(filled: Pool) -> None:
    assert [i.title for i in filled.select_items(ItemQuery(search="jordan"))] == [
        "Supporting the cooperative movement in Jordan"
    ]
    assert len(filled.select_items(ItemQuery(search="Market System"))) == 1  # in a summary
    assert filled.select_items(ItemQuery(search="100%")) == []  # % is not a wildcard


def test_limit(filled: Pool) -> None:
    assert len(filled.select_items(ItemQuery(limit=3))) == 3


def test_an_unknown_topic_is_an_error(filled: Pool) -> None:
    with pytest.raises(NewsletterError, match=r"unknown topic 'fishing' \(topics: cooperatives"):
        filled.select_items(ItemQuery(topics=("fishing",)))


def test_topic_summaries_count_items_once(filled: Pool) -> None:
    counts = {summary.slug: summary.items for summary in filled.topic_summaries()}
    assert counts == {
        "cooperatives": 11,
        "informality": 1,
        "social-solidarity-economy": 4,
        "supply-chains": 3,
    }
