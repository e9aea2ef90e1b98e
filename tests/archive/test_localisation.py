"""A French or Spanish newsletter's archive pages say nothing in the theme's English."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.archive.build import build_archive
from newsletter.archive.publish import publish_issue
from newsletter.config import load_config
from newsletter.issue import read_issue
from newsletter.pool import Pool
from tests.localised import SAMPLE, authors_text, english_in, english_words, localised_workspace
from tests.localised import text_nodes as html_text_nodes


@pytest.mark.parametrize("language", ["fr", "es"])
def test_no_english_theme_word_on_the_archive_pages(tmp_path: Path, language: str) -> None:
    config = load_config(localised_workspace(tmp_path / "ws", language), environ={})
    path = config.root / "issues" / SAMPLE / "2020-11.toml"
    authors = authors_text(config, read_issue(path, config))
    with Pool.open(f"sqlite:///{tmp_path / 'pool.db'}", {}) as pool:
        publish_issue(pool, config, path, today=date(2020, 12, 1))
    build_archive(config, tmp_path / "site")
    pages = sorted((tmp_path / "site").rglob("*.html"))
    assert len(pages) >= 8  # home, newsletter, issue, its email, topics, search, 404...
    words = english_words(language)
    for page in pages:
        shown = page.read_text(encoding="utf-8")
        assert f'lang="{language}"' in shown, page
        assert english_in(html_text_nodes(shown), words, authors) == [], page
    issue = (tmp_path / "site" / SAMPLE / "2020-11" / "index.html").read_text(encoding="utf-8")
    assert ("Actualités" if language == "fr" else "Noticias") in issue
    assert ("1 décembre 2020" if language == "fr" else "1 diciembre 2020") in issue
