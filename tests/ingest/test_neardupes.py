"""Near-duplicate judgement over a hand-marked set of pairs; precision and recall are printed."""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

import pytest

from newsletter.config import DedupeConfig
from newsletter.neardupes import Story, Verdict, best_match, judge, keyed, title_score
from tests.conftest import ROOT

PAIRS: list[dict[str, Any]] = tomllib.loads(
    (ROOT / "tests" / "data" / "near_duplicates.toml").read_text()
)["pair"]


def story(side: list[Any]) -> Story:
    return Story(side[0], side[1], side[2] if len(side) > 2 else None)


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def test_the_set_is_big_enough_and_balanced() -> None:
    same = sum(pair["same"] for pair in PAIRS)
    assert len(PAIRS) >= 20
    assert same == len(PAIRS) - same


def test_the_defaults_merge_no_false_pair_and_report_precision_and_recall(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = DedupeConfig()
    verdicts = [(judge(story(p["a"]), story(p["b"]), settings).verdict, p["same"]) for p in PAIRS]
    true_pairs = sum(same for _, same in verdicts)
    merged = [same for verdict, same in verdicts if verdict is Verdict.SAME]
    flagged = [same for verdict, same in verdicts if verdict is not Verdict.DIFFERENT]
    merge_precision, merge_recall = ratio(sum(merged), len(merged)), sum(merged) / true_pairs
    flag_precision, flag_recall = ratio(sum(flagged), len(flagged)), sum(flagged) / true_pairs
    with capsys.disabled():
        print(
            f"\nnear-duplicates, {len(PAIRS)} pairs ({true_pairs} the same story): "
            f"merged: precision {merge_precision:.2f}, recall {merge_recall:.2f}; "
            f"merged or listed: precision {flag_precision:.2f}, recall {flag_recall:.2f}"
        )
    assert merge_precision == 1.0  # no two stories are ever merged
    assert merge_recall >= 0.9
    assert flag_recall == 1.0  # and every true pair is at least put to the editor


@pytest.mark.parametrize(
    ("a", "b", "verdict"),
    [
        ("ILO COOP Chiefs across time", "ILO COOP chiefs across time!", Verdict.SAME),
        ("Cooperatives in Africa", "Cooperatives in Asia", Verdict.MAYBE),
        ("World of work No. 12", "World of work No. 13", Verdict.DIFFERENT),
        ("Formally Challenged", "Getting Beyond Tier 1", Verdict.DIFFERENT),
    ],
)
def test_verdicts(a: str, b: str, verdict: Verdict) -> None:
    day = date(2020, 11, 10)
    assert judge(Story(a, day), Story(b, day), DedupeConfig()).verdict is verdict


def test_dates_further_apart_than_allowed_are_different_stories() -> None:
    title = "ILO COOP Chiefs across time"
    near = judge(Story(title, date(2020, 11, 10)), Story(title, date(2020, 11, 11)), DedupeConfig())
    far = judge(Story(title, date(2020, 11, 10)), Story(title, date(2020, 11, 12)), DedupeConfig())
    assert (near.verdict, far.verdict) == (Verdict.SAME, Verdict.DIFFERENT)
    wider = DedupeConfig(max_days_apart=2)
    two_days = judge(Story(title, date(2020, 11, 10)), Story(title, date(2020, 11, 12)), wider)
    assert two_days.verdict is Verdict.SAME


def test_two_web_addresses_are_listed_not_merged() -> None:
    day = date(2020, 11, 10)
    a = Story("ILO COOP Chiefs across time", day, "https://www.ilo.org/a")
    b = Story("ILO COOP Chiefs across time", day, "https://www.ilo.org/b")
    judged = judge(a, b, DedupeConfig())
    assert judged.verdict is Verdict.MAYBE
    assert "different web addresses" in judged.reason


def test_scores_ignore_case_punctuation_and_word_order() -> None:
    assert title_score("Co-operatives: the future", "cooperatives, the future") == 100
    assert title_score("The future of cooperatives", "cooperatives: of the future") == 100
    assert title_score("Cooperatives", "Fisheries") < 50


def test_the_quick_search_finds_what_judging_every_pair_finds() -> None:
    settings = DedupeConfig()
    candidates = [keyed(story(pair["a"])) for pair in PAIRS]
    for pair in PAIRS:
        incoming = story(pair["b"])
        found = best_match(incoming, candidates, settings)
        judged = [judge(c.story, incoming, settings) for c in candidates]
        worth = [j for j in judged if j.verdict is not Verdict.DIFFERENT]
        if not worth:
            assert found is None
            continue
        assert found is not None
        best = max(worth, key=lambda j: (j.verdict is Verdict.SAME, j.score))
        assert (found[1].verdict, found[1].score) == (best.verdict, best.score)
