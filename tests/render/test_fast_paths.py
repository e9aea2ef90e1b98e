"""The render's shortcuts give what the libraries they stand in for give: premailer asked once
per kind of element equals premailer on the whole document; the greedy fill equals Jinja's
wordwrap; plain words skip nh3 only where nh3 would return them unchanged."""

from __future__ import annotations

import string
import unicodedata
from dataclasses import replace

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.filters import do_wordwrap
from lxml import html as lxml_html  # type: ignore[import-untyped]

from benchmarks.render_speed import generated_issue, with_pictures
from newsletter.config import Config, load_config
from newsletter.issue import Issue, read_issue
from newsletter.markup import clean_inline, nh3_clean_inline
from newsletter.render import render_issue
from newsletter.render.inline import inline_css, inliner_for, whole_document_inline_css
from newsletter.render.mjml import compile_mjml
from newsletter.render.theme import DEFAULT_THEME, Theme, wordwrap
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(ROOT / "newsletter.toml", environ={})


def mrml_output(issue: Issue, config: Config) -> str:
    """The HTML before inlining, as render_issue hands it to inline_css."""
    return compile_mjml(render_issue(issue, config).mjml, Theme((DEFAULT_THEME,)))


def issues(config: Config) -> list[Issue]:
    folder = ROOT / "issues" / "ilo-coop-enews"
    samples = [read_issue(folder / f"{slug}.toml", config) for slug in ("2020-10", "2020-11")]
    generated = [generated_issue(n, folder / "generated.toml") for n in (1, 30, 60)]
    return [*samples, *generated, *map(with_pictures, generated[1:])]


def test_asking_once_per_kind_gives_what_premailer_gives_on_the_whole_document(
    config: Config,
) -> None:
    for issue in issues(config):
        html = mrml_output(issue, config)
        assert inline_css(html) == whole_document_inline_css(html), issue.title


def test_a_second_issue_asks_premailer_nothing_new(config: Config) -> None:
    folder = ROOT / "issues" / "ilo-coop-enews"
    first = mrml_output(with_pictures(generated_issue(30, folder / "a.toml")), config)
    inline_css(first)
    sheets = tuple(
        style.text for style in lxml_html.document_fromstring(first).iter("style")
        if "/* inline */" in (style.text or "")
    )  # fmt: skip
    inliner = inliner_for(sheets)
    assert inliner is not None
    asked = inliner.probes
    other = with_pictures(generated_issue(60, folder / "b.toml"))
    other = replace(other, title="Another month", intro="Other words.")
    inline_css(mrml_output(other, config))
    assert inliner.probes == asked


PAGE = """<!doctype html><html><head><style type="text/css">/* inline */
a[href^="mailto"] { color: #c00; }
#note { font-weight: bold; }
.box .inner { margin: 0; }
.box > p { padding: 1px; }
td { text-align: center; background-color: #abc; }
{extra}</style></head><body><div class="box"><p class="inner">Write to
<a href="mailto:unit@example.org">us</a> or <a href="https://example.org">read</a></p>
<p>Second</p></div><table><tr><td id="note">cell</td><td>other</td></tr></table>
<p class="inner">Outside the box</p></body></html>"""


def test_attribute_id_child_and_descendant_selectors_match_as_in_premailer() -> None:
    page = PAGE.replace("{extra}", "")
    inlined = inline_css(page)
    assert inlined == whole_document_inline_css(page)
    tree = lxml_html.document_fromstring(inlined)
    mailto, web = tree.iter("a")
    assert "color:#c00" in mailto.get("style")
    assert web.get("style") is None
    note, other = tree.iter("td")
    assert "font-weight:bold" in note.get("style")
    assert "font-weight" not in other.get("style")
    assert other.get("bgcolor") == "#aabbcc"
    inside, second, outside = tree.iter("p")
    assert "margin:0" in inside.get("style")
    assert "margin" not in outside.get("style", "")
    assert "padding:1px" in second.get("style")


def test_a_sheet_that_looks_at_siblings_goes_to_premailer_whole() -> None:
    page = PAGE.replace("{extra}", "p + p { color: #0a0; }")
    sheet = page.split('<style type="text/css">')[1].split("</style>")[0]
    assert inliner_for((sheet,)) is None
    inlined = inline_css(page)
    assert inlined == whole_document_inline_css(page)
    assert "color:#0a0" in lxml_html.document_fromstring(inlined).xpath("//p")[1].get("style")


WORD = st.text(string.ascii_letters + "-'é·", min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(words=st.lists(WORD, min_size=1, max_size=60), width=st.integers(8, 100))
def test_the_greedy_fill_wraps_as_jinja_does(words: list[str], width: int) -> None:
    environment = jinja2.Environment()
    text = " ".join(words)
    expected = do_wordwrap(environment, text, width, False, None, False)
    assert wordwrap(environment, text, width, False, None, False) == expected


@settings(max_examples=100, deadline=None)
@given(text=st.text(" \t\n-ab", max_size=40), width=st.integers(4, 20))
def test_irregular_spacing_and_other_options_are_left_to_jinja(text: str, width: int) -> None:
    environment = jinja2.Environment()
    for options in ((False, None, False), (True, None, True), (False, "\r\n", False)):
        expected = do_wordwrap(environment, text, width, *options)
        assert wordwrap(environment, text, width, *options) == expected


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=60))
def test_plain_words_skip_nh3_only_where_nh3_would_leave_them_alone(text: str) -> None:
    assert clean_inline(text) == nh3_clean_inline(text)
    assert clean_inline(text, "https://www.ilo.org/") == nh3_clean_inline(
        text, "https://www.ilo.org/"
    )


def test_the_text_part_of_a_sample_is_unchanged_by_the_fill(config: Config) -> None:
    """The golden text part already pins this; here with the fill swapped for Jinja's."""
    issue = read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", config)
    ours = render_issue(issue, config, Theme((DEFAULT_THEME,)))
    theirs_theme = Theme((DEFAULT_THEME,))
    theirs_theme.environment.filters["wordwrap"] = do_wordwrap
    assert render_issue(issue, config, theirs_theme).text == ours.text


def test_every_character_nh3_would_change_is_one_that_goes_through_nh3() -> None:
    """All of Unicode between letters (in blocks, one nh3 call each), and the controls, format
    characters and separators alone too, where a parser's preprocessing acts (a byte order
    mark at the start is dropped, for one): nh3 changes nothing that clean_inline skips."""
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    skipped = [c for c in characters if clean_inline(f"a{c}b") == f"a{c}b"]
    for start in range(0, len(skipped), 4096):
        block = " ".join(f"a{c}b" for c in skipped[start : start + 4096])
        assert nh3_clean_inline(block) == block
    for character in characters:
        if unicodedata.category(character) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            for text in (character, f"a{character}"):
                assert clean_inline(text) == nh3_clean_inline(text), hex(ord(character))
