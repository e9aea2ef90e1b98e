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


def test_a_region_language_edition_is_drafted_in_a_lower_case_file(undrafted: Path) -> None:
    """`languages = ["en", "fr", "es-MX"]` loads (a language with a region, whose labels are
    Spanish's): its edition's file is `2020-11.es-mx.toml` (slugs are lower case), and it reads
    as the es-MX edition. (The draft used to fail on its own file name.)"""
    _edit_config(undrafted, 'languages = ["en", "fr", "es"]', 'languages = ["en", "fr", "es-MX"]')
    _edit_config(
        undrafted, "[newsletters.ilo-coop-enews.es]", '[newsletters.ilo-coop-enews."es-MX"]'
    )
    config = load_config(undrafted)  # es-MX is a language: its edition's file is .es-mx
    done = invoke("--config", str(undrafted), "draft", SLUG, "--month", "2020-11")
    assert done.exit_code == 0, done.output
    folder = undrafted.parent / "issues" / SLUG
    editions = [p for p in folder.glob("*.toml") if p.name != "2020-11.toml"]
    assert len(editions) == 2, sorted(p.name for p in folder.iterdir())
    assert {read_issue(p, config).language.lower() for p in editions} == {"fr", "es-mx"}
    assert (folder / "2020-11.es-mx.toml").is_file()
    assert read_issue(folder / "2020-11.es-mx.toml", config).language == "es-MX"


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
    said = " ".join(done.output.split())
    assert "warning:" in said
    assert "2020-11.es.toml:" in said
    assert "(its stories are not offered to this edition)" in said


def test_an_intro_with_control_characters_is_refused_not_written(undrafted: Path) -> None:
    """`intro` (the newsletter's, or an edition's) is not checked for control characters: the
    draft writes a file that is not even TOML ("Illegal character '\\x07'")."""
    _edit_config(undrafted, 'intro = "Les nouvelles', 'intro = "\\u0007Les nouvelles')
    with pytest.raises(NewsletterError) as refused:
        load_config(undrafted)
    assert "newsletters.ilo-coop-enews.fr.intro: U+0007 is a control character" in str(
        refused.value
    )
    line = next(n for n, text in enumerate(undrafted.read_text("utf-8").splitlines(), 1)
                if "\\u0007Les" in text)  # fmt: skip
    assert refused.value.line == line
    done = invoke("--config", str(undrafted), "draft", SLUG, "--month", "2020-11")
    assert done.exit_code == 1
    assert not (undrafted.parent / "issues" / SLUG).exists()
