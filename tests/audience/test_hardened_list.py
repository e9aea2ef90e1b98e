"""Found in review: `subscribers list --search` on SQLite and PostgreSQL alike."""

from __future__ import annotations

from newsletter.model import Subscriber
from newsletter.pool import Pool


def _fill(pool: Pool) -> None:
    rows = [Subscriber("élodie@example.org", "Élodie Durand"), Subscriber("a.b@example.org"),
            Subscriber("axb@example.org")]  # fmt: skip
    pool.import_subscribers("news", rows, "active", ("import", "t"))


def test_search_text_is_plain_text_not_a_like_pattern(pool: Pool) -> None:
    _fill(pool)
    found = [r.address for r in pool.subscribers(containing="a_b")]
    assert found == [], found  # no address or name contains "a_b"
