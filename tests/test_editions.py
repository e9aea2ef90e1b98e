"""Language editions: one issue drafted in every language of its newsletter, each story in its
edition's language when the pool has that version, kept (and marked) or left out when not; the
editions' emails against golden files, and without a word of the theme's English."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.config import load_config
from newsletter.errors import NewsletterError
from newsletter.issue import Issue, check_issue, edition_paths, main_slug, read_issue
from newsletter.render import render_issue
from tests.conftest import DATA, invoke
from tests.editions import (
    EDITIONS,
    ENGLISH_ONLY,
    FRENCH_ONLY,
    LINKED,
    SLUG,
    editions_workspace,
)
from tests.localised import authors_text, english_in, english_words, text_nodes

GOLDEN = DATA / "golden" / "editions"
UPDATE = os.environ.get("NEWSLETTER_UPDATE_GOLDEN") == "1"


@pytest.fixture
def editions(tmp_path: Path, database_url: str) -> Path:
    return editions_workspace(tmp_path / "editions", database_url)


def edition(config_path: Path, language: str) -> Issue:
    name = "2020-11.toml" if language == "en" else f"2020-11.{language}.toml"
    return read_issue(config_path.parent / "issues" / SLUG / name, load_config(config_path))


def titled(issue: Issue, start: str) -> list[str]:
    """The languages each item of the issue starting with `start` is marked with."""
    return [item.language for item in issue.items if item.title.startswith(start)]


def test_draft_month_writes_every_edition_each_in_its_own_language(editions: Path) -> None:
    english, french, spanish = (edition(editions, code) for code in ("en", "fr", "es"))
    assert (english.title, french.title, spanish.title) == (
        "ILO COOP eNews - November issue",
        "ILO COOP eNews - numéro de novembre",
        "ILO COOP eNews - número de noviembre",
    )
    assert [issue.language for issue in (english, french, spanish)] == ["en", "fr", "es"]
    # The French edition holds the French version of each linked story, and never both.
    for english_title, french_title in LINKED.items():
        assert titled(french, french_title) == [""]
        assert titled(french, english_title) == []
        assert titled(english, english_title) == [""]
        assert titled(english, french_title) == []
    # One story leads every edition, in each edition's version.
    assert english.lead
    assert english.lead.title.startswith("A two-day symposium")
    assert french.lead
    assert french.lead.title.startswith("Un colloque de deux jours")
    # Stories the pool has in one language only are kept, marked with their language.
    for start in ENGLISH_ONLY:
        assert titled(french, start) == ["en"]
        assert titled(english, start) == [""]
    for start in FRENCH_ONLY:
        assert titled(english, start) == ["fr"]
        assert titled(french, start) == [""]
    # Spanish has no version of anything: every story kept in its original, marked.
    assert len(spanish.items) == len(english.items) == len(french.items) == 6
    assert {item.language for item in spanish.items} == {"en", "fr"}
    # Sections: the same stories under the same sections, named in the edition's language.
    assert [s.title for s in english.sections] == ["News", "Articles", "Interviews",
                                                   "Publications"]  # fmt: skip
    assert [s.title for s in french.sections] == ["Actualités", "Articles", "Entretiens",
                                                  "Publications"]  # fmt: skip
    assert [len(s.items) for s in french.sections] == [len(s.items) for s in english.sections]
    assert french.intro.startswith("Les nouvelles du Service des coopératives")
    # The editions know each other.
    paths = edition_paths(load_config(editions), french)
    assert {code: path.name for code, path in paths.items()} == {
        "en": "2020-11.toml", "fr": "2020-11.fr.toml", "es": "2020-11.es.toml"}  # fmt: skip
    assert main_slug(load_config(editions), SLUG, "2020-11.fr") == "2020-11"


def test_one_edition_alone_and_no_file_overwritten(tmp_path: Path, database_url: str) -> None:
    config = editions_workspace(tmp_path / "w", database_url, draft=False)
    done = invoke("--config", str(config), "draft", SLUG, "--month", "2020-11", "--language", "fr")
    assert done.exit_code == 0, done.output
    folder = config.parent / "issues" / SLUG
    assert sorted(path.name for path in folder.iterdir()) == ["2020-11.fr.toml"]
    before = (folder / "2020-11.fr.toml").read_bytes()
    again = invoke("--config", str(config), "draft", SLUG, "--month", "2020-11")
    assert again.exit_code == 1
    assert "2020-11.fr.toml exists and is not overwritten" in again.output
    # Checked before any is written: the English edition was not written either.
    assert sorted(path.name for path in folder.iterdir()) == ["2020-11.fr.toml"]
    assert (folder / "2020-11.fr.toml").read_bytes() == before
    unknown = invoke("--config", str(config), "draft", SLUG, "--month", "2020-11", "--language",
                     "de")  # fmt: skip
    assert unknown.exit_code == 1
    assert "has no 'de' edition (languages: en, fr, es)" in unknown.output


def test_untranslated_stories_left_out_when_the_newsletter_says_so(
    tmp_path: Path, database_url: str
) -> None:
    config = editions_workspace(tmp_path / "w", database_url, draft=False)
    text = config.read_text("utf-8").replace(
        'languages = ["en", "fr", "es"]',
        'languages = ["en", "fr", "es"]\nuntranslated = "leave-out"',
    )
    config.write_text(text, "utf-8")
    done = invoke("--config", str(config), "draft", SLUG, "--month", "2020-11")
    assert done.exit_code == 0, done.output
    french = edition(config, "fr")
    assert {item.language for item in french.items} == {""}
    assert len(french.items) == len(LINKED) + len(FRENCH_ONLY)
    english = edition(config, "en")
    assert len(english.items) == len(LINKED) + len(ENGLISH_ONLY)
    # Nothing in Spanish: that edition is not written, and the editor is told.
    assert not (config.parent / "issues" / SLUG / "2020-11.es.toml").exists()
    assert "no items in es: its edition was not written" in done.output


def test_refresh_offers_a_story_added_to_one_edition_to_the_others(editions: Path) -> None:
    folder = editions.parent / "issues" / SLUG
    english = edition(editions, "en")
    french = edition(editions, "fr")
    # The editor takes a story out of the French edition and refreshes: it stays out.
    taken = next(i for i in french.items if i.title.startswith(FRENCH_ONLY[0]))
    done = invoke("--config", str(editions), "draft", "remove", f"{SLUG}/2020-11.fr", taken.uid)
    assert done.exit_code == 0, done.output
    # A story reaches the pool after the drafts (in both languages), and the editor adds the
    # English one by hand to the English edition only.
    for name, text in (("cooperatives-en.txt", ENGLISH_NEW), ("cooperatives-fr.txt", FRENCH_NEW)):
        path = editions.parent / name
        path.write_text(path.read_text("utf-8").replace("\n\n  1. ", text, 1), "utf-8")
    assert invoke("--config", str(editions), "ingest", "--all").exit_code == 0
    uids = {i.title: i.uid for i in _pool_items(editions)}
    linked = invoke("--config", str(editions), "link", uids[NEW_EN], uids[NEW_FR])
    assert linked.exit_code == 0, linked.output
    added = invoke("--config", str(editions), "draft", "add", f"{SLUG}/2020-11", uids[NEW_EN])
    assert added.exit_code == 0, added.output
    # Refreshing the French edition offers that story, in French, once, marked new.
    refreshed = invoke("--config", str(editions), "draft", "refresh", f"{SLUG}/2020-11.fr")
    assert refreshed.exit_code == 0, refreshed.output
    after = edition(editions, "fr")
    assert [i.title for i in after.items if i.new] == [NEW_FR]
    assert not any(i.title.startswith(FRENCH_ONLY[0]) for i in after.items)
    assert not any(i.title == NEW_EN for i in after.items)
    # Refreshing again adds nothing; refreshing English adds nothing it already has.
    again = invoke("--config", str(editions), "draft", "refresh", f"{SLUG}/2020-11.fr")
    assert "nothing new" in again.output
    invoke("--config", str(editions), "draft", "refresh", f"{SLUG}/2020-11")
    titles = [i.title for i in edition(editions, "en").items]
    assert titles.count(NEW_EN) == 1
    assert NEW_FR not in titles
    assert len(titles) == len(english.items) + 1
    # Spanish, refreshed last, takes it as it was written (no Spanish version), and says which
    # editions to refresh for what it added.
    spanish = invoke("--config", str(editions), "draft", "refresh", f"{SLUG}/2020-11.es")
    assert f"refresh {SLUG}/2020-11 and {SLUG}/2020-11.fr to offer them" in " ".join(
        spanish.output.split()
    )
    added_es = [i for i in edition(editions, "es").items if i.new]
    assert [(i.title, i.language) for i in added_es] == [(NEW_EN, "en")]
    assert (folder / "2020-11.es.toml").read_text("utf-8").count(NEW_FR) == 0


NEW_EN = "Cooperatives in the recovery from the COVID-19 crisis"
NEW_FR = "Les coopératives dans la reprise après la crise du COVID-19"
ENGLISH_NEW = f"\n\n  0. News\n\n    {NEW_EN}\n\n    30 November 2020\n\n  1. "
FRENCH_NEW = f"\n\n  0. Actualité\n\n    {NEW_FR}\n\n    30 novembre 2020\n\n  1. "


def _pool_items(config: Path) -> list[object]:
    from newsletter.model import ItemQuery
    from newsletter.workspace import Workspace

    with Workspace(config) as workspace:
        return list(workspace.pool.select_items(ItemQuery()))


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_golden_files_of_each_edition(editions: Path, language: str) -> None:
    """Regenerate on purpose only: NEWSLETTER_UPDATE_GOLDEN=1."""
    config = load_config(editions)
    email = render_issue(edition(editions, language), config)
    for name, content in (("email.html", email.html), ("email.txt", email.text)):
        golden = GOLDEN / language / name
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(content, encoding="utf-8")
        assert content == golden.read_text(encoding="utf-8"), f"{golden} differs"


def test_an_untranslated_story_says_its_language_in_the_email(editions: Path) -> None:
    config = load_config(editions)
    email = render_issue(edition(editions, "fr"), config)
    document = lxml_html.document_fromstring(email.html)
    assert document.get("lang") == "fr"
    kept = document.xpath("//a[@hreflang='en']")
    assert {a.text_content() for a in kept} >= {
        i.title for i in edition(editions, "fr").items if i.language == "en"
    }
    marks = document.xpath("//span[@class='lg']")
    assert {(m.get("lang"), m.text_content()) for m in marks} == {("en", "English")}
    assert "News · 13 novembre 2020 · English" not in email.text
    assert "Actualités · 13 novembre 2020 · English" in email.text
    # The other editions, linked at their pages by their own names.
    others = {a.get("lang"): (a.text_content(), a.get("href"))
              for a in document.xpath("//p[@class='ft']/a[@lang]")}  # fmt: skip
    assert others == {
        "en": ("English", "https://newsletters.example.org/ilo-coop-enews/2020-11/"),
        "es": ("Español", "https://newsletters.example.org/ilo-coop-enews/2020-11.es/"),
    }


@pytest.mark.parametrize("language", ["fr", "es"])
def test_no_english_theme_word_in_the_french_or_spanish_edition(
    editions: Path, language: str
) -> None:
    config = load_config(editions)
    issue = edition(editions, language)
    email = render_issue(issue, config)
    written = [
        *authors_text(config, issue),
        config.newsletters[SLUG].edition(language).brand.reason,
        "English",
        "Français",
    ]
    words = english_words(language)
    found = english_in(text_nodes(email.html), words, written)
    found += english_in(email.text.splitlines(), words, written)
    assert found == []


def test_edition_settings_and_their_errors(tmp_path: Path) -> None:
    base = (EDITIONS / "newsletter.toml").read_text("utf-8")
    (tmp_path / "theme").mkdir()
    cases = [  # (text, changed to, the error, the text of the line it names)
        ('["en", "fr", "es"]', '["en", "fr", "fr"]', "expected each language once", "languages"),
        ('sections = { News = "Actualités"', 'sections = { Nouvelles = "Actualités"',
         "no section 'Nouvelles' to rename", "sections = { Nouvelles"),
        ("numéro de {month}", "numéro de {mois}", "unknown placeholder {mois}", "{mois}"),
        ("names = { fr =", "names = { french =", "expected a language code such as 'en' or 'fr', "
         "got 'french'", "names = { french"),
        ("[newsletters.ilo-coop-enews.es]\n", "[newsletters.ilo-coop-enews.es]\nlogo = 1\n",
         "unknown key", "logo = 1"),
        ('["en", "fr", "es"]', '["en", "fr"]', "a table of the 'es' edition, but 'es' is not in "
         "`languages` (languages: en, fr)", "[newsletters.ilo-coop-enews.es]"),
    ]  # fmt: skip
    for old, new, message, shown in cases:
        path = tmp_path / "newsletter.toml"
        path.write_text(base.replace(old, new, 1), "utf-8")
        lines = path.read_text("utf-8").splitlines()
        line = next(n for n, text in enumerate(lines, 1) if text.startswith(shown) or (
            shown in text and not text.startswith("#")))  # fmt: skip
        with pytest.raises(NewsletterError) as raised:
            load_config(path, environ={})
        assert message in str(raised.value), str(raised.value)
        assert raised.value.line == line, (str(raised.value), line)
    path = tmp_path / "newsletter.toml"
    path.write_text(base, "utf-8")
    newsletter = load_config(path, environ={}).newsletters[SLUG]
    french = newsletter.edition("fr")
    assert french.sender
    assert french.sender.from_name == "ILO COOP eNews (français)"
    assert [s.title for s in french.sections][:3] == ["Actualités", "Articles", "Entretiens"]
    assert french.date_format == "d MMMM y"
    assert french.name == "ILO COOP eNews"
    assert french.edition("es").edition("en") == newsletter  # from any edition to any other
    assert newsletter.sender
    assert french.sender.reply_to == newsletter.sender.reply_to


def test_an_edition_file_says_its_language(editions: Path) -> None:
    path = editions.parent / "issues" / SLUG / "2020-11.fr.toml"
    path.write_text(path.read_text("utf-8").replace('language = "fr"', 'language = "es"'), "utf-8")
    issue, findings = check_issue(path, load_config(editions))
    assert issue is None
    (finding,) = findings
    assert "the file is the 'fr' edition (its name ends in .fr), not 'es'" in finding.message
    assert finding.line == 11


def test_check_names_a_kept_storys_type_label_the_edition_cannot_name(editions: Path) -> None:
    labels = editions.parent / "theme" / "labels.toml"
    text = labels.read_text("utf-8")
    labels.write_text(text.replace('"ILO COOP 100 Interview" = "Entretien ILO COOP 100"\n', ""),
                      "utf-8")  # fmt: skip
    done = invoke("--config", str(editions), "check", f"{SLUG}/2020-11.fr")
    assert done.exit_code == 1
    issue_file = editions.parent / "issues" / SLUG / "2020-11.fr.toml"
    line = issue_file.read_text("utf-8").splitlines().index('type = "ILO COOP 100 Interview"') + 1
    assert (
        f"2020-11.fr.toml:{line}: type label 'ILO COOP 100 Interview' of a story kept in 'en' has "
        "no 'fr' name: add it to [fr.types] in the theme's labels.toml"
    ) in " ".join(done.output.split())
    assert invoke("--config", str(editions), "check", f"{SLUG}/2020-11.es").exit_code == 0


def test_a_main_edition_file_in_another_editions_language_is_refused(editions: Path) -> None:
    """It would pass for that edition, and the real French file would go unsent."""
    path = editions.parent / "issues" / SLUG / "2020-11.toml"
    path.write_text(path.read_text("utf-8").replace('language = "en"', 'language = "fr"'), "utf-8")
    issue, findings = check_issue(path, load_config(editions))
    assert issue is None
    (finding,) = findings
    assert finding.message == (
        "language: 2020-11.toml is the issue's main edition; its 'fr' one is 2020-11.fr.toml"
    )
    assert finding.line == 11
