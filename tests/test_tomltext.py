"""Lines of keys in TOML text, nested arrays of tables included."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.errors import NewsletterError
from newsletter.tomltext import key_lines, locate_key, parse_toml

ISSUE = """title = "x"
intro = \"\"\"
not = "a key"
\"\"\"

[lead]
uid = "a"

[[sections]]
title = "News"

[[sections.items]]
uid = "b"

[[sections.items]]
uid = "c"

[[sections]]
title = "Articles"

[[sections.items]]
uid = "d"
"""


def test_nested_arrays_of_tables_are_numbered_within_their_parent() -> None:
    lines = key_lines(ISSUE)
    assert lines[("sections", 0, "items", 1, "uid")] == 16
    assert lines[("sections", 1, "title")] == 19
    assert lines[("sections", 1, "items", 0)] == 21
    assert lines[("sections", 1, "items", 0, "uid")] == 22


def test_lines_inside_a_multi_line_string_are_not_keys() -> None:
    lines = key_lines(ISSUE)
    assert lines[("intro",)] == 2
    assert ("not",) not in lines
    assert lines[("lead", "uid")] == 7


def test_a_missing_key_points_at_its_table() -> None:
    assert locate_key(ISSUE, ("sections", 1, "items", 0, "title")) == 21
    assert locate_key(ISSUE, ("nowhere",)) is None


def test_parse_errors_carry_the_line() -> None:
    with pytest.raises(NewsletterError) as caught:
        parse_toml('a = 1\nb = "unclosed\n', Path("x.toml"))
    assert (caught.value.path, caught.value.line) == (Path("x.toml"), 2)
    assert caught.value.message.startswith("invalid TOML: ")
