"""Ingest into the pool: deduplication, sources, updates, topics, and all-or-nothing files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.config import Config, load_config
from newsletter.errors import NewsletterError
from newsletter.ingest import ingest_file, retag
from newsletter.model import ItemQuery
from newsletter.pool import Pool
from tests.conftest import COOPERATIVES, WHATS_NEW

ALL = ItemQuery(provenance=True)
SHARED_TITLES = {
    "On the occasion of ILO COOP Centennial, APCE presents a selection of 12 articles that "
    "have shaped our understanding of cooperatives and wider social and solidarity economy",
    "ILO COOP Chiefs across time",
    "ILO COOP eNews - October issue",
    "The ILO chaired a session on civil and public initiatives to consolidate the SSE at the "
    "GSEF Global Virtual Forum",
}


def ingest_both(pool: Pool, config: Config, listings: Path) -> None:
    for name in (COOPERATIVES, WHATS_NEW):
        ingest_file(pool, config, listings / name)


def test_both_sample_listings_give_15_distinct_items(
    pool: Pool, config: Config, listings: Path
) -> None:
    first = ingest_file(pool, config, listings / COOPERATIVES)
    second = ingest_file(pool, config, listings / WHATS_NEW)
    assert (first.entries, first.counts.new, first.duplicates) == (10, 10, 0)
    assert (second.entries, second.counts.new, second.counts.unchanged) == (10, 5, 4)
    assert second.duplicates == 1  # "Formally Challenged" stands twice in the file
    assert pool.count_items() == 15
    assert len(pool.select_items(ALL)) == 15


def test_items_in_both_listings_name_both_sources(
    pool: Pool, config: Config, listings: Path
) -> None:
    ingest_both(pool, config, listings)
    shared = {item.title: item.sources for item in pool.select_items(ALL)
              if len(item.sources) > 1}  # fmt: skip
    assert set(shared) == SHARED_TITLES
    assert set(shared.values()) == {("ilo-cooperatives", "ilo-whats-new")}


def test_ingesting_again_changes_nothing(pool: Pool, config: Config, listings: Path) -> None:
    ingest_both(pool, config, listings)
    before = pool.select_items(ALL)
    again = [ingest_file(pool, config, listings / name) for name in (WHATS_NEW, COOPERATIVES)]
    assert [(r.counts.new, r.counts.updated) for r in again] == [(0, 0), (0, 0)]
    assert [r.counts.unchanged for r in again] == [9, 10]
    assert pool.select_items(ALL) == before  # same items, same timestamps


def test_a_changed_summary_updates_the_item(pool: Pool, config: Config, listings: Path) -> None:
    path = listings / COOPERATIVES
    ingest_file(pool, config, path)
    (jordan,) = pool.select_items(ItemQuery(search="Jordan", provenance=True))
    path.write_text(
        path.read_text().replace("way forward.", "way forward, and next steps."), "utf-8"
    )
    report = ingest_file(pool, config, path)
    assert (report.counts.new, report.counts.updated, report.counts.unchanged) == (0, 1, 9)
    (changed,) = pool.select_items(ItemQuery(search="Jordan", provenance=True))
    assert changed.uid == jordan.uid
    assert changed.summary.endswith("way forward, and next steps.")
    assert changed.updated is not None
    assert jordan.updated is not None
    assert changed.updated > jordan.updated
    assert changed.first_seen == jordan.first_seen
    assert pool.count_items() == 10


def test_a_source_without_a_summary_does_not_erase_one(
    pool: Pool, config: Config, tmp_path: Path, listings: Path
) -> None:
    ingest_file(pool, config, listings / COOPERATIVES)
    bare = tmp_path / "bare.txt"
    bare.write_text(
        "Elsewhere\n\n1. Article\n\nSupporting the cooperative movement in Jordan\n\n"
        "04 November 2020\n",
        "utf-8",
    )
    report = ingest_file(pool, config, bare)
    assert (report.counts.new, report.counts.updated, report.counts.unchanged) == (0, 0, 1)
    (jordan,) = pool.select_items(ItemQuery(search="Jordan", provenance=True))
    assert jordan.summary.startswith("Steering Committee")
    assert jordan.sources == ("bare", "ilo-cooperatives")


def test_a_file_that_fails_stores_nothing(pool: Pool, config: Config, tmp_path: Path) -> None:
    # Enough good entries to fill several write batches before the bad line is reached.
    entries = [f"{n}. News\n\nGood item {n}\n\n02 November 2020\n" for n in range(1, 5001)]
    entries.append("5001. News\n\nBad item\n\n31 February 2020\n")
    path = tmp_path / "long.txt"
    path.write_text("Heading\n\n" + "\n".join(entries), "utf-8")
    with pytest.raises(NewsletterError) as caught:
        ingest_file(pool, config, path, strict=True)
    assert caught.value.line == 6 * 5000 + 7
    assert pool.count_items() == 0
    assert pool.topic_summaries()  # the pool itself still works
    report = ingest_file(pool, config, path)  # without --strict: the bad entry alone is left out
    assert (report.counts.new, report.skipped) == (5000, 1)
    assert [n.line for n in report.notices] == [6 * 5000 + 7]


def test_a_failed_file_leaves_earlier_items_untouched(
    pool: Pool, config: Config, tmp_path: Path, listings: Path
) -> None:
    ingest_file(pool, config, listings / COOPERATIVES)
    before = pool.select_items(ALL)
    broken = tmp_path / "broken.txt"
    text = (listings / WHATS_NEW).read_text().replace("02 November 2020", "31 November 2020", 1)
    broken.write_text(text, "utf-8")
    with pytest.raises(NewsletterError, match="impossible date"):
        ingest_file(pool, config, broken, strict=True)
    assert pool.select_items(ALL) == before


def test_a_title_holding_script_is_stored_as_plain_text(
    pool: Pool, config: Config, tmp_path: Path
) -> None:
    title = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    path = tmp_path / "xss.txt"
    path.write_text(f"Heading\n\n1. News\n\n{title}\n\n09 November 2020\n", "utf-8")
    ingest_file(pool, config, path)
    (item,) = pool.select_items(ALL)
    assert item.title == title


def test_source_topics_and_keyword_rules(pool: Pool, config: Config, listings: Path) -> None:
    ingest_both(pool, config, listings)
    by_title = {item.title: item for item in pool.select_items(ALL)}
    # From the cooperatives listing: every item is about cooperatives.
    assert "cooperatives" in by_title["ILO E-news Special Issue for ILO COOP 100 Symposium"].topics
    # From "What's new": only the keyword rules tag it.
    colombia = next(t for t in by_title if "Colombia" in t)
    assert by_title[colombia].sources == ("ilo-whats-new",)
    assert "cooperatives" in by_title[colombia].topics
    assert by_title["Formally Challenged"].topics == ("informality",)
    assert by_title["Getting Beyond Tier 1"].topics == ("supply-chains",)


def test_month_and_topic_selection_of_the_samples(
    pool: Pool, config: Config, listings: Path
) -> None:
    ingest_both(pool, config, listings)
    november = pool.select_items(
        ItemQuery(date(2020, 11, 1), date(2020, 11, 30), topics=("cooperatives",))
    )
    october = pool.select_items(
        ItemQuery(date(2020, 10, 1), date(2020, 10, 31), topics=("cooperatives",))
    )
    assert len(november) == 8
    assert [item.date for item in november] == sorted((i.date for i in november), reverse=True)
    assert len(october) == 3
    assert any(item.title.startswith("ILO COOP 100 Interview with Colombia") for item in october)


def test_manual_topics_from_the_command_line(pool: Pool, config: Config, listings: Path) -> None:
    ingest_file(pool, config, listings / WHATS_NEW, topics=["supply-chains"])
    items = pool.select_items(ItemQuery(topics=("supply-chains",)))
    assert len(items) == 9


def test_language_given_wins_over_the_dates(pool: Pool, config: Config, listings: Path) -> None:
    ingest_file(pool, config, listings / COOPERATIVES, language="fr")
    assert {item.language for item in pool.select_items(ALL)} == {"fr"}


def test_unknown_source_or_topic_is_refused(pool: Pool, config: Config, listings: Path) -> None:
    with pytest.raises(NewsletterError, match=r"unknown source 'nope' \(sources: ilo-coop"):
        ingest_file(pool, config, listings / COOPERATIVES, source_name="nope")
    with pytest.raises(NewsletterError, match=r"unknown topic 'fishing'"):
        ingest_file(pool, config, listings / COOPERATIVES, topics=["fishing"])
    assert pool.count_items() == 0


def test_tag_untag_and_retag(pool: Pool, config: Config, listings: Path) -> None:
    ingest_both(pool, config, listings)
    (tier,) = pool.select_items(ItemQuery(search="Tier 1"))
    assert tier.topics == ("supply-chains",)

    tagged = pool.tag(tier.uid[:6], ["cooperatives"])
    assert tagged.topics == ("cooperatives", "supply-chains")
    untagged = pool.untag(tier.uid, ["supply-chains"])
    assert untagged.topics == ("cooperatives",)

    retag(pool, config)  # keeps the manual tag, and the editor's "not supply chains"
    assert pool.item(tier.uid).topics == ("cooperatives",)

    # Re-ingesting does not bring the untagged topic back either.
    ingest_both(pool, config, listings)
    assert pool.item(tier.uid).topics == ("cooperatives",)

    pool.tag(tier.uid, ["supply-chains"])  # tagging again lifts the exclusion
    assert pool.item(tier.uid).topics == ("cooperatives", "supply-chains")


def test_retag_applies_a_changed_taxonomy(
    pool: Pool, config: Config, listings: Path, workspace: Path
) -> None:
    ingest_both(pool, config, listings)
    (formally,) = pool.select_items(ItemQuery(topics=("informality",)))
    assert formally.title == "Formally Challenged"
    toml = workspace / "newsletter.toml"
    old = '["informality", "informal economy", "informal sector", "informal work*"]'
    assert old in toml.read_text()
    toml.write_text(toml.read_text().replace(old, '["getting beyond"]'), "utf-8")

    assert retag(pool, load_config(toml)) == (1, 1)
    (beyond,) = pool.select_items(ItemQuery(topics=("informality",)))
    assert beyond.title == "Getting Beyond Tier 1"
    assert retag(pool, load_config(toml)) == (0, 0)


def test_uid_prefixes(pool: Pool, config: Config, listings: Path) -> None:
    ingest_both(pool, config, listings)
    with pytest.raises(NewsletterError, match="no item with uid 'ffffffff'"):
        pool.item("ffffffff")
    with pytest.raises(NewsletterError, match="not an item uid"):
        pool.item("xyz")


def test_a_topic_given_on_a_repeated_ingest_keeps_the_other_topics(
    pool: Pool, config: Config, listings: Path
) -> None:
    ingest_both(pool, config, listings)
    before = {item.uid: set(item.topics) for item in pool.select_items(ALL)}
    ingest_file(pool, config, listings / WHATS_NEW, topics=["informality"])
    after = {item.uid: set(item.topics) for item in pool.select_items(ALL)}
    whats_new = {i.uid for i in pool.select_items(ALL) if "ilo-whats-new" in i.sources}
    for uid, topics in before.items():
        assert after[uid] == (topics | {"informality"} if uid in whats_new else topics)


def test_search_and_type_ignore_case_beyond_ascii(
    pool: Pool, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "fr.txt"
    path.write_text(
        "Actualités\n\n1. Éditorial\n\nÉCONOMIE SOCIALE ET SOLIDAIRE\n\n09 novembre 2020\n", "utf-8"
    )
    ingest_file(pool, config, path)
    assert len(pool.select_items(ItemQuery(search="économie sociale"))) == 1
    assert len(pool.select_items(ItemQuery(types=("éditorial",)))) == 1
