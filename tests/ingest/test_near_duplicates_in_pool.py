"""The same story from two sources is stored once: merged on ingest when near-identical, listed
for the editor when only alike, and merged or kept apart by the editor after that."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from newsletter.config import Config
from newsletter.draft import create_draft, refresh_draft
from newsletter.errors import NewsletterError
from newsletter.ingest import ingest_file
from newsletter.model import Item, ItemQuery
from newsletter.pool import Pool
from tests.conftest import COOPERATIVES, ROOT

FEED = ROOT / "tests" / "data" / "feeds" / "coop-news-feed.rss"
ALL = ItemQuery(provenance=True)
SYMPOSIUM = (
    "A two-day symposium is held to celebrate the centennial of the Cooperatives Unit of the ILO"
)
KLEIBO = "ILO COOP 100 interview with Mounir Kleibo, ILO Representative in Jerusalem"


@pytest.fixture
def feed(workspace: Path) -> Path:
    copy = workspace / "coop-news-feed.rss"
    shutil.copy(FEED, copy)
    return copy


def by_title(pool: Pool) -> dict[str, Item]:
    return {item.title: item for item in pool.select_items(ALL)}


def test_listing_then_feed_stores_each_shared_story_once(
    pool: Pool, config: Config, listings: Path, feed: Path
) -> None:
    ingest_file(pool, config, listings / COOPERATIVES)
    report = ingest_file(pool, config, feed)
    counts = report.counts
    assert (report.format, report.entries) == ("feed", 5)
    # The symposium (same title), Jordan ('co-operative', a day off) and the chiefs (same title)
    # are merged; Kleibo's interview is retitled enough to be listed; one story is new.
    assert (counts.merged, counts.listed, counts.new) == (3, 1, 2)
    assert pool.count_items() == 12
    items = by_title(pool)
    symposium = items[SYMPOSIUM]
    assert symposium.sources == ("coop-news-feed", "ilo-cooperatives")
    assert (
        symposium.url
        == "https://www.ilo.org/global/topics/cooperatives/news/WCMS_762030/lang--en/index.htm"
    )
    assert (
        symposium.image == "https://www.ilo.org/wcmsp5/groups/public/images/coop100-symposium.jpg"
    )
    assert symposium.summary.startswith("The ILO held a two-day symposium")  # the listing's kept
    jordan = items["Supporting the cooperative movement in Jordan"]
    assert jordan.date == date(2020, 11, 4)  # the first source's title and date stay
    assert "Supporting the co-operative movement in Jordan" not in items
    again = ingest_file(pool, config, feed)
    assert (again.counts.new, again.counts.merged, again.counts.listed) == (0, 0, 0)
    assert again.counts.unchanged == 5
    listing_again = ingest_file(pool, config, listings / COOPERATIVES)
    assert (listing_again.counts.new, listing_again.counts.updated) == (0, 0)
    assert pool.count_items() == 12


def test_feed_then_listing_stores_each_shared_story_once(
    pool: Pool, config: Config, listings: Path, feed: Path
) -> None:
    ingest_file(pool, config, feed)
    report = ingest_file(pool, config, listings / COOPERATIVES)
    assert (report.counts.merged, report.counts.listed, report.counts.new) == (3, 1, 7)
    assert pool.count_items() == 12
    symposium = by_title(pool)[SYMPOSIUM]
    assert symposium.sources == ("coop-news-feed", "ilo-cooperatives")
    assert symposium.url is not None


def test_one_source_alone_is_never_merged_with_itself(
    pool: Pool, config: Config, workspace: Path
) -> None:
    twice = workspace / "twice.txt"
    twice.write_text(
        "Listing\n\n  1. News\n\n    Cooperatives in Africa: new report launched\n\n"
        "    10 November 2020\n\n  2. News\n\n    Cooperatives in Africa: new reports launched\n\n"
        "    10 November 2020\n"
    )
    report = ingest_file(pool, config, twice)
    assert (report.counts.new, report.counts.merged, report.counts.listed) == (2, 0, 0)


def test_the_editor_merges_a_listed_pair_and_it_stays_merged(
    pool: Pool, config: Config, listings: Path, feed: Path
) -> None:
    ingest_file(pool, config, listings / COOPERATIVES)
    ingest_file(pool, config, feed)
    (pair,) = pool.duplicate_pairs()
    assert pair.first.type == "ILO COOP 100 Interview"
    assert pair.second.title == KLEIBO
    assert 70 <= pair.score < 85
    merged = pool.merge_items(pair.first.uid, pair.second.uid)
    assert merged.uid == pair.first.uid
    assert merged.sources == ("coop-news-feed", "ilo-cooperatives")
    assert merged.url == pair.second.url  # the gap filled from the merged item
    assert pool.count_items() == 11
    assert pool.duplicate_pairs() == []
    assert pool.item(pair.second.uid).uid == pair.first.uid  # the old uid finds the merged one
    again = ingest_file(pool, config, feed)
    assert (again.counts.new, again.counts.listed, again.counts.unchanged) == (0, 0, 5)
    assert pool.count_items() == 11


def test_pairs_kept_apart_are_not_listed(
    pool: Pool, config: Config, listings: Path, feed: Path
) -> None:
    ingest_file(pool, config, listings / COOPERATIVES)
    ingest_file(pool, config, feed)
    (pair,) = pool.duplicate_pairs()
    pool.keep_apart(pair.second.uid, pair.first.uid)
    assert pool.duplicate_pairs() == []
    (apart,) = pool.duplicate_pairs(status=None)
    assert apart.status == "apart"
    assert pool.count_items() == 12


def test_merging_an_item_with_itself_is_refused(pool: Pool, config: Config, listings: Path) -> None:
    ingest_file(pool, config, listings / COOPERATIVES)
    uid = pool.select_items(ItemQuery(limit=1))[0].uid
    with pytest.raises(NewsletterError, match="same item"):
        pool.merge_items(uid, uid[:8])


def test_a_draft_keeps_a_merged_item_once(
    pool: Pool, config: Config, listings: Path, feed: Path
) -> None:
    ingest_file(pool, config, listings / COOPERATIVES)
    ingest_file(pool, config, feed)
    report = create_draft(pool, config, "ilo-coop-enews", date(2020, 11, 1), date(2020, 11, 30))
    (pair,) = pool.duplicate_pairs()
    # The draft holds both; the editor merges them into the feed's (the one with a link).
    pool.merge_items(pair.second.uid, pair.first.uid)
    refreshed = refresh_draft(pool, config, report.path)
    assert refreshed.added == ()


def test_thresholds_come_from_the_config(
    pool: Pool, listings: Path, feed: Path, workspace: Path
) -> None:
    from newsletter.config import load_config

    path = workspace / "newsletter.toml"
    path.write_text(path.read_text() + "\n[dedupe]\nmerge_at = 99\nreview_at = 99\n")
    strict = load_config(path)
    ingest_file(pool, strict, listings / COOPERATIVES)
    report = ingest_file(pool, strict, feed)
    # Only the same titles merge (the symposium, the chiefs; Jordan scores 100 without
    # spaces and punctuation); nothing is alike enough to be listed.
    assert (report.counts.merged, report.counts.listed, report.counts.new) == (3, 0, 2)


def test_a_merged_source_only_fills_gaps_when_it_changes(
    pool: Pool, config: Config, listings: Path, feed: Path
) -> None:
    ingest_file(pool, config, listings / COOPERATIVES)
    ingest_file(pool, config, feed)
    text = feed.read_text()
    feed.write_text(
        text.replace("Supporting the co-operative movement in Jordan",
                     "Supporting the co-operative movement in Jordan (updated)")
        .replace("holds meeting.", "held a meeting.")
        .replace("Thu, 05 Nov 2020", "Fri, 06 Nov 2020")
    )  # fmt: skip
    ingest_file(pool, config, feed)
    items = by_title(pool)
    jordan = items["Supporting the cooperative movement in Jordan"]
    assert jordan.date == date(2020, 11, 4)  # the listing's title and date stay
    assert jordan.summary.startswith("Steering Committee")
    assert pool.count_items() == 12


def test_a_merge_keeps_the_editors_untag(
    pool: Pool, config: Config, listings: Path, feed: Path
) -> None:
    ingest_file(pool, config, listings / COOPERATIVES)
    ingest_file(pool, config, feed)
    (pair,) = pool.duplicate_pairs()
    pool.untag(pair.first.uid, ["cooperatives"])
    assert "cooperatives" in pool.item(pair.second.uid).topics
    merged = pool.merge_items(pair.first.uid, pair.second.uid)
    assert "cooperatives" not in merged.topics
