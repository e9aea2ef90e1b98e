"""Topic keyword rules: whole words and phrases, any case, accents ignored, `*` prefixes."""

from __future__ import annotations

import pytest

from newsletter.config import TopicConfig
from newsletter.ingest.tagging import TopicRules

rules = TopicRules(
    [
        TopicConfig("cooperatives", "Cooperatives", ("cooperativ*", "co-operativ*", "coop")),
        TopicConfig("supply-chains", "Supply chains", ("supply chain", "supply chains")),
        TopicConfig("informality", "Informality", ("informality", "informal econom*")),
        TopicConfig("empty", "No keywords", ()),
    ]
)


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("Supporting the cooperative movement in Jordan", "", {"cooperatives"}),
        ("Institute of Social Economy and Co-operativism", "", {"cooperatives"}),
        ("Coopérative agricole", "", {"cooperatives"}),  # accents ignored
        ("COOPERATIVAS en Colombia", "", {"cooperatives"}),  # case ignored
        ("ILO COOP Chiefs across time", "", {"cooperatives"}),
        ("Cooperation in the region", "", set()),  # a prefix needs its `*`: 'cooperation' ≠
        ("Coopers and Lybrand", "", set()),  # whole words only
        ("Getting Beyond Tier 1", "conditions in global supply\n chains", {"supply-chains"}),
        ("Formally Challenged", "Tackling Informality in projects", {"informality"}),
        ("Formally Challenged", "", set()),  # 'formally' is not 'informality'
        ("The informal economy", "", {"informality"}),
    ],
)
def test_rules(title: str, summary: str, expected: set[str]) -> None:
    assert rules.match(title, summary) == expected


def test_a_phrase_does_not_run_from_title_into_summary() -> None:
    assert rules.match("Global supply", "chain management") == frozenset()


def test_overlapping_keywords_of_two_topics_both_count() -> None:
    overlapping = TopicRules(
        [
            TopicConfig("cooperatives", "Cooperatives", ("cooperativ*",)),
            TopicConfig("agriculture", "Agriculture", ("agricultural cooperatives",)),
        ]
    )
    assert overlapping.match("Agricultural cooperatives in Peru") == {"agriculture", "cooperatives"}
