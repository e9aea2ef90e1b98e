"""Near-duplicates: the same story told by two sources with a slightly different title or date.

Two items are compared only when their dates are at most `max_days_apart` apart. Their titles
are scored 0-100 (rapidfuzz's token-sort ratio, on case-folded text without punctuation); then
what a character score misses is checked word by word:

- titles that carry different numbers ("No. 12" and "No. 13", "2019" and "2020") are never the
  same story;
- a word of one title with no like word in the other, while the other also has such a word
  ("in Africa" against "in Asia"), means a different subject: at most listed, never merged;
- two different web addresses may be two pages of the same story, so at most listed.

A score at or above `merge_at` merges the two items; at or above `review_at` lists the pair for
the editor (`newsletter dupes`).
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from rapidfuzz import fuzz

from newsletter.config import DedupeConfig
from newsletter.ingest.identity import fold_text, normalise_url

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+")
_LIKE_WORDS = 80  # rapidfuzz ratio at which two words count as one ('celebrate', 'celebrates')
_STEM = 5  # a common start this long makes two words forms of one
_MIN_WORD = 4  # shorter words ('of', 'the', 'ILO') carry too little to tell stories apart


class Verdict(StrEnum):
    SAME = "same"  # merge
    MAYBE = "maybe"  # list for the editor
    DIFFERENT = "different"


class Story(NamedTuple):
    """What near-duplicate detection looks at of an item."""

    title: str
    date: date
    url: str | None = None


class Judgement(NamedTuple):
    verdict: Verdict
    score: float  # the title score, 0-100
    reason: str  # why, in a few words, for `newsletter dupes`


def words(title: str) -> list[str]:
    return _WORD.findall(fold_text(title))


def title_score(a: str, b: str) -> float:
    """0-100: the better of the word-order-free score and the score without spaces and
    punctuation ('co-operative' and 'cooperative', 'EXPO2020' and 'EXPO 2020')."""
    words_a, words_b = words(a), words(b)
    return max(
        fuzz.token_sort_ratio(" ".join(words_a), " ".join(words_b)),
        fuzz.ratio("".join(words_a), "".join(words_b)),
    )


def _alike(word: str, other: str) -> bool:
    """Two spellings or forms of one word: 'celebrate' and 'celebrates', 'chaired', 'chairs'."""
    common = len(word) >= _STEM and word[:_STEM] == other[:_STEM]
    return common or fuzz.ratio(word, other) >= _LIKE_WORDS


def _unmatched(own: list[str], other: list[str]) -> list[str]:
    """Words of `own` worth telling stories apart by that have no like word in `other`."""
    joined = "".join(other)  # finds 'expo2020' in 'expo 2020' and 'cooperative' in 'co-operative'
    return [
        word
        for word in own
        if len(word) >= _MIN_WORD
        and not word.isdigit()
        and word not in joined
        and not any(_alike(word, candidate) for candidate in other)
    ]


def judge(a: Story, b: Story, settings: DedupeConfig) -> Judgement:
    """Whether two items tell the same story."""
    days = abs((a.date - b.date).days)
    if days > settings.max_days_apart:
        return Judgement(Verdict.DIFFERENT, 0.0, f"{days} days apart")
    score = title_score(a.title, b.title)
    if score < settings.review_at:
        return Judgement(Verdict.DIFFERENT, score, "titles differ")
    words_a, words_b = words(a.title), words(b.title)
    if set(_NUMBER.findall(" ".join(words_a))) != set(_NUMBER.findall(" ".join(words_b))):
        return Judgement(Verdict.DIFFERENT, score, "different numbers")
    reasons = []
    only_a, only_b = _unmatched(words_a, words_b), _unmatched(words_b, words_a)
    if only_a and only_b:
        reasons.append(f"{' '.join(only_a[:3])!r} against {' '.join(only_b[:3])!r}")
    if a.url and b.url and normalise_url(a.url) != normalise_url(b.url):
        reasons.append("different web addresses")
    if score >= settings.merge_at and not reasons:
        return Judgement(Verdict.SAME, score, "same title" if score == 100 else "like titles")
    return Judgement(Verdict.MAYBE, score, "; ".join(reasons) or "like titles")
