"""Review of language editions in the archive (issue 17)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import invoke
from tests.editions import SLUG, editions_workspace


def test_an_edition_whose_language_was_removed_is_not_called_an_unsafe_name(
    tmp_path: Path, database_url: str
) -> None:
    """Publish 2020-11 and 2020-11.fr, then take "fr" out of `languages`: the archive leaves
    the French page out (site.py: "an edition in a language the newsletter no longer has"),
    but the CLI tells the editor `2020-11.fr: not a safe file name; left out`, which sends
    them looking for a problem with the name rather than with the config."""
    config = editions_workspace(tmp_path / "ws", database_url)
    for slug in ("2020-11", "2020-11.fr"):
        done = invoke("--config", str(config), "publish", f"{SLUG}/{slug}")
        assert done.exit_code == 0, done.output
    text = config.read_text("utf-8")
    text = text.replace('languages = ["en", "fr", "es"]', 'languages = ["en", "es"]')
    start = text.index("[newsletters.ilo-coop-enews.fr]")
    end = text.index("[newsletters.ilo-coop-enews.es]")
    config.write_text(text[:start] + text[end:], "utf-8")
    done = invoke("--config", str(config), "archive", "-o", str(tmp_path / "site"))
    assert done.exit_code == 0, done.output
    assert "2020-11.fr" in done.output  # the editor is told the page is left out...
    assert "not a safe file name" not in done.output, done.output  # ...and why
    assert "an edition in 'fr', which is not among the newsletter's languages now" in " ".join(
        done.output.split()
    )
