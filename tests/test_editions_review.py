"""Review of language editions (issue 17): drafting and refreshing edge cases an editor hits."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.errors import NewsletterError
from newsletter.issue import check_issue, read_issue
from tests.conftest import invoke
from tests.editions import SLUG, editions_workspace


@pytest.fixture
def undrafted(tmp_path: Path, database_url: str) -> Path:
    """The editions workspace, ingested and linked, no issue drafted yet."""
    return editions_workspace(tmp_path / "editions", database_url, draft=False)


def _edit_config(config: Path, old: str, new: str) -> None:
    text = config.read_text("utf-8")
    assert old in text
    config.write_text(text.replace(old, new), "utf-8")


def test_a_region_language_edition_can_be_drafted(undrafted: Path) -> None:
    """`languages = ["en", "fr", "pt-BR"]` loads (is_language knows pt-BR, the docs name it as
    an example), so drafting must either work or the config must refuse it; today the draft
    fails on its own file name: "slug '2020-11.pt-BR': use lower-case letters..."."""
    _edit_config(undrafted, 'languages = ["en", "fr", "es"]', 'languages = ["en", "fr", "pt-BR"]')
    _edit_config(
        undrafted, "[newsletters.ilo-coop-enews.es]", '[newsletters.ilo-coop-enews."pt-BR"]'
    )
    try:
        config = load_config(undrafted)
    except NewsletterError:
        return  # refused where it is written: fine
    done = invoke("--config", str(undrafted), "draft", SLUG, "--month", "2020-11")
    assert done.exit_code == 0, done.output
    folder = undrafted.parent / "issues" / SLUG
    editions = [p for p in folder.glob("*.toml") if p.name != "2020-11.toml"]
    assert len(editions) == 2, sorted(p.name for p in folder.iterdir())
    assert {read_issue(p, config).language.lower() for p in editions} == {"fr", "pt-br"}


def test_a_custom_slug_ending_in_a_language_makes_a_readable_main_issue(undrafted: Path) -> None:
    """`draft --slug special.fr` writes `special.fr.toml` in English, which every reader then
    takes for the French edition of `special` ("the file is the 'fr' edition ... not 'en'"):
    the draft must refuse such a slug, or write files that can be read."""
    done = invoke("--config", str(undrafted), "draft", SLUG, "--month", "2020-11",
                  "--slug", "special.fr")  # fmt: skip
    if done.exit_code != 0:
        return  # refused: fine
    config = load_config(undrafted)
    folder = undrafted.parent / "issues" / SLUG
    for path in sorted(folder.glob("special*.toml")):
        issue, findings = check_issue(path, config)
        errors = [f.message for f in findings if f.severity == "error"]
        assert issue is not None, (path.name, errors)
        assert not errors, (path.name, errors)


def test_refresh_of_one_edition_survives_a_broken_sibling(undrafted: Path) -> None:
    """A typo in the Spanish file stops `draft refresh` of the English and French editions
    (the Spanish file's error is raised), though nothing of theirs is wrong; send, by
    contrast, leaves a broken edition out with a warning."""
    done = invoke("--config", str(undrafted), "draft", SLUG, "--month", "2020-11")
    assert done.exit_code == 0, done.output
    spanish = undrafted.parent / "issues" / SLUG / "2020-11.es.toml"
    text = spanish.read_text("utf-8")
    spanish.write_text(text.replace('status = "draft"', 'status = "drafty"'), "utf-8")
    done = invoke("--config", str(undrafted), "draft", "refresh", f"{SLUG}/2020-11")
    assert done.exit_code == 0, done.output


def test_an_intro_with_control_characters_is_refused_not_written(undrafted: Path) -> None:
    """`intro` (the newsletter's, or an edition's) is not checked for control characters: the
    draft writes a file that is not even TOML ("Illegal character '\\x07'")."""
    _edit_config(undrafted, 'intro = "Les nouvelles', 'intro = "\\u0007Les nouvelles')
    try:
        config = load_config(undrafted)
    except NewsletterError:
        return  # refused at the config: fine
    done = invoke("--config", str(undrafted), "draft", SLUG, "--month", "2020-11")
    folder = undrafted.parent / "issues" / SLUG
    for path in sorted(folder.glob("*.toml")):
        try:
            _, findings = check_issue(path, config)
        except NewsletterError as error:
            pytest.fail(f"draft wrote a file it cannot read: {error} ({done.output})")
        errors = [f.message for f in findings if f.severity == "error"]
        assert not errors, (path.name, errors, done.output)
