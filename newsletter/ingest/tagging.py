"""Topic keyword rules: whole words and phrases, case- and accent-insensitive, `*` as a suffix."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from newsletter.config import TopicConfig

_COMBINING_MARKS = re.compile(r"[\u0300-\u036f]")


def fold_for_matching(text: str) -> str:
    """Lower-case text without accents, so 'Coopérative' and 'cooperative' match alike."""
    if text.isascii():
        return text.lower()
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()


def keyword_pattern(keyword: str) -> str:
    """Regex for one keyword: words separated by any whitespace; a trailing `*` ends a prefix."""
    words = fold_for_matching(keyword).split()
    parts = []
    for word in words:
        prefix = word.endswith("*")
        escaped = re.escape(word.rstrip("*"))
        parts.append(escaped + (r"\w*" if prefix else ""))
    return r"\s+".join(parts)


class TopicRules:
    """Which topics an item's title and summary call for, according to the taxonomy."""

    def __init__(self, topics: Iterable[TopicConfig]):
        self.patterns: list[tuple[str, re.Pattern[str]]] = []
        for topic in topics:
            keywords = [keyword_pattern(k) for k in topic.keywords if k.strip("* ")]
            if keywords:
                alternatives = "|".join(sorted(keywords, key=len, reverse=True))
                self.patterns.append((topic.slug, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")))

    def match(self, title: str, summary: str = "") -> frozenset[str]:
        texts = [fold_for_matching(title), fold_for_matching(summary)]
        return frozenset(
            slug for slug, pattern in self.patterns if any(pattern.search(t) for t in texts)
        )
