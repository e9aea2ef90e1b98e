"""A French or Spanish newsletter's email says nothing in the theme's English: labels, type
labels, sections, dates, French spacing; a missing label stops `check` and `render`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from newsletter.config import Config, load_config
from newsletter.errors import NewsletterError
from newsletter.issue import Issue, read_issue
from newsletter.model import RenderedEmail
from newsletter.render import render_issue
from newsletter.render.theme import DEFAULT_THEME
from tests.conftest import invoke
from tests.localised import SAMPLE, authors_text, english_in, english_words, localised_workspace
from tests.localised import text_nodes as html_text_nodes


def localised(tmp_path: Path, language: str) -> tuple[Config, Issue]:
    config = load_config(localised_workspace(tmp_path / language, language), environ={})
    return config, read_issue(config.root / "issues" / SAMPLE / "2020-11.toml", config)


@pytest.fixture(params=["fr", "es"])
def rendered(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[str, RenderedEmail, list[str]]:
    config, issue = localised(tmp_path, request.param)
    return request.param, render_issue(issue, config), authors_text(config, issue)


def test_the_words_list_knows_the_theme() -> None:
    words = english_words("fr")
    assert {"Read more", "Unsubscribe", "News", "More", "November", "Website"} <= set(words)
    assert "Article" not in words  # French writes it alike


def test_no_english_theme_word_in_the_email_or_its_text_part(
    rendered: tuple[str, RenderedEmail, list[str]],
) -> None:
    language, email, authors = rendered
    words = english_words(language)
    assert english_in(html_text_nodes(email.html), words, authors) == []
    assert english_in(email.text.splitlines(), words, authors) == []
    assert email.subject.endswith("novembre" if language == "fr" else "noviembre")


def test_the_scan_finds_english_where_the_theme_left_it(tmp_path: Path) -> None:
    config, issue = localised(tmp_path, "fr")
    email = render_issue(issue, config)
    authors = authors_text(config, issue)
    leaked = email.text.replace("Se désabonner", "Unsubscribe").replace("ACTUALITÉS", "NEWS")
    assert len(english_in(leaked.splitlines(), english_words("fr"), authors)) == 2


def test_french_spacing_in_the_theme_words(tmp_path: Path) -> None:
    config, issue = localised(tmp_path, "fr")
    email = render_issue(issue, config)
    assert "Se désabonner\u00a0:\n" in email.text
    assert "Se désabonner:" not in email.text
    assert "Se désabonner :" not in email.text
    assert 'Lire la suite<span class="vh">\u00a0: ' in email.html
    # An item's own punctuation is the author's: left as written.
    assert "develops & promotes" in email.text


def test_french_dates_types_and_sections(tmp_path: Path) -> None:
    config, issue = localised(tmp_path, "fr")
    email = render_issue(issue, config)
    assert "Actualités · 13 novembre 2020" in email.text
    assert "novembre 2020\n" in email.text  # the issue's month
    assert "Entretien ILO COOP 100 · " in email.text  # a newsletter theme's own type label
    assert "\nACTUALITÉS\n" in email.text


def test_spanish_dates_and_types(tmp_path: Path) -> None:
    config, issue = localised(tmp_path, "es")
    email = render_issue(issue, config)
    assert "Noticias · 13 noviembre 2020" in email.text
    assert "Darse de baja:\n" in email.text


def without_label(folder: Path, key: str) -> Path:
    """A copy of the default theme in `folder` whose French table lacks one label."""
    shutil.copytree(DEFAULT_THEME, folder)
    path = folder / "labels.toml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    french = lines.index("[fr]\n")
    gone = next(n for n in range(french, len(lines)) if lines[n].startswith(f"{key} ="))
    path.write_text("".join(lines[:gone] + lines[gone + 1 :]), encoding="utf-8")
    return path


def test_a_missing_label_fails_check_and_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, issue = localised(tmp_path, "fr")
    path = without_label(tmp_path / "default", "unsubscribe")
    monkeypatch.setattr("newsletter.render.theme.DEFAULT_THEME", path.parent)
    monkeypatch.chdir(config.root)
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{tmp_path / 'pool.db'}")
    checked = invoke("check", f"{SAMPLE}/2020-11")
    assert checked.exit_code == 1
    line = path.read_text(encoding="utf-8").splitlines().index("[fr]") + 1
    assert f"{path}:{line}: no 'unsubscribe' label" in checked.output
    with pytest.raises(NewsletterError, match="'unsubscribe'") as refused:
        render_issue(issue, config)
    assert (refused.value.path, refused.value.line) == (path, line)
    rendered = invoke("render", f"{SAMPLE}/2020-11")
    assert rendered.exit_code == 1
    assert "'unsubscribe'" in rendered.output
    assert not list(config.root.glob("build/**/email.html"))
