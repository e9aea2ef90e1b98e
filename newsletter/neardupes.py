"""Near-duplicates: the same story told by two sources with a slightly different title or date.

Two items are compared only when their dates are at most `max_days_apart` apart. Their titles
are scored 0-100 (rapidfuzz's token-sort ratio, on case-folded text without punctuation); then
what a character score misses is checked word by word:

- titles that carry different numbers ("No. 12" and "No. 13", "2019" and "2020") are never the
  same story;
- a telling word of one title with no like word in the other, where the other has a word of
  its own ("in Africa" against "in Asia"), means another subject: at most listed, never
  merged; words only left out ("a", "is held") are a retitling;
- two different web addresses may be two pages of the same story, so at most listed.

A score at or above `merge_at` merges the two items; at or above `review_at` lists the pair for
the editor (`newsletter dupes`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from rapidfuzz import fuzz, process

from newsletter.config import DedupeConfig
from newsletter.textkeys import fold_text, normalise_url

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+")
_LIKE_WORDS = 80  # rapidfuzz ratio at which two words count as one ('celebrate', 'celebrates')
# Words that carry no subject, in the languages sources are read in: dropping or swapping them
# ('their' for 'its') is retitling.
_FUNCTION_WORDS = frozenset(
    (
        *("a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "with", "by"),
        *("from", "as", "into", "about", "over", "its", "their", "his", "her", "our", "your"),
        *("this", "that", "these", "those", "it", "is", "are", "was", "were", "be", "been"),
        *("has", "have", "had", "will", "new", "le", "la", "les", "l", "de", "des", "du", "d"),
        *("un", "une", "et", "en", "au", "aux", "sur", "pour", "par", "avec", "el", "los"),
        *("las", "del", "y", "por", "para", "con", "su", "sus"),
    )
)
_JUDGED = 10  # best-scoring candidates judged word by word, per score
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


def _runs(words: list[str]) -> dict[str, tuple[str, ...]]:
    """Two or three words run together ('co operative', 'expo 2020') -> the words."""
    return {
        "".join(words[i : i + n]): tuple(words[i : i + n])
        for n in (2, 3)
        for i in range(len(words) - n + 1)
    }


def _unmatched(own: list[str], other: list[str], shortest: int = _MIN_WORD) -> list[str]:
    """Words of `own` (of `shortest` letters or more, not function words) that no word of
    `other` accounts for. Each word of `other` accounts for one: a word said twice on one side
    and once on the other leaves one over. Words written apart on one side and together on
    the other ('co-operative', 'EXPO2020') account for each other."""
    remaining = Counter(other)
    together = _runs(other)  # 'expo2020' in own is 'expo 2020' in other
    apart = {word for run, parts in _runs(own).items() if run in remaining for word in parts}
    left = []
    for word in own:
        if remaining[word] > 0:
            remaining[word] -= 1
            continue
        like = (
            None
            if word in other
            else next((o for o, n in remaining.items() if n > 0 and _alike(word, o)), None)
        )
        if like is not None:
            remaining[like] -= 1
        elif word not in together and word not in apart:
            left.append(word)
    return [
        word
        for word in left
        if len(word) >= shortest and not word.isdigit() and word not in _FUNCTION_WORDS
    ]


def _replaced(words_a: list[str], words_b: list[str]) -> tuple[list[str], list[str]] | None:
    """A word that tells stories apart on one side where the other has some other word: one
    subject put for another ('in Africa' for 'in Asia', 'Kenya' for 'ILO'). Words merely left
    out ('a', 'is', 'held') are a retitling, not another story."""
    telling_a, telling_b = _unmatched(words_a, words_b), _unmatched(words_b, words_a)
    other_a, other_b = _unmatched(words_a, words_b, 1), _unmatched(words_b, words_a, 1)
    if (telling_a and other_b) or (telling_b and other_a):
        return (telling_a or other_a, telling_b or other_b)
    return None


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
    replaced = _replaced(words_a, words_b)
    if replaced:
        only_a, only_b = replaced
        reasons.append(f"{' '.join(only_a[:3])!r} against {' '.join(only_b[:3])!r}")
    if a.url and b.url and normalise_url(a.url) != normalise_url(b.url):
        reasons.append("different web addresses")
    if settings.merge and score >= settings.merge_at and not reasons:
        return Judgement(Verdict.SAME, score, "same title" if score == 100 else "like titles")
    return Judgement(Verdict.MAYBE, score, "; ".join(reasons) or "like titles")


class Keyed(NamedTuple):
    """A story with what the search compares of its title, worked out once."""

    story: Story
    sorted_words: str  # what the token-sort ratio compares
    joined: str  # without spaces and punctuation
    numbers: str  # the title's numbers, sorted: titles with other numbers are other stories


def keyed(story: Story) -> Keyed:
    found = words(story.title)
    numbers = " ".join(sorted(set(_NUMBER.findall(" ".join(found)))))
    return Keyed(story, " ".join(sorted(found)), "".join(found), numbers)


def best_match(story: Story, candidates: Sequence[Keyed],
               settings: DedupeConfig) -> tuple[int, Judgement] | None:  # fmt: skip
    """The candidate most likely the same story as `story` (its index and the judgement),
    or None. rapidfuzz's C scorers pick the few best-scoring candidates (titles with other
    numbers are left out at once), and only those are judged word by word: a story is
    checked against hundreds of candidates in well under a millisecond."""
    if not candidates:
        return None
    me = keyed(story)
    worth: set[int] = set()
    for query, choices in (
        (me.sorted_words, [candidate.sorted_words for candidate in candidates]),
        (me.joined, [candidate.joined for candidate in candidates]),
    ):
        found = process.extract(
            query, choices, scorer=fuzz.ratio, score_cutoff=settings.review_at, limit=_JUDGED
        )
        worth.update(index for _, _, index in found if candidates[index].numbers == me.numbers)
    best: tuple[int, Judgement] | None = None
    for index in sorted(worth):
        judged = judge(candidates[index].story, story, settings)
        if judged.verdict is not Verdict.DIFFERENT and (
            best is None or _rank(judged) > _rank(best[1])
        ):
            best = (index, judged)
    return best


def _rank(judged: Judgement) -> tuple[bool, float]:
    return (judged.verdict is Verdict.SAME, judged.score)
