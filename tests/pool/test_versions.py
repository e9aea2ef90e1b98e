"""One story in several languages: items linked by their addresses' language marks when
they are ingested, or by an editor with `link` and `unlink`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from newsletter.config import load_config
from newsletter.model import ItemQuery
from newsletter.pool import Pool

Run = Callable[..., Result]
BASE = "https://www.ilo.org/global/topics/cooperatives/news/WCMS_{n}/lang--{lang}/index.htm"


def write_source(workspace: Path, name: str, language: str, rows: list[tuple[int, str]]) -> None:
    lines = ["title,date,type,url,language"]
    lines += [
        f'"{title}",2020-11-{10 + n % 10},News,{BASE.format(n=n, lang=language)},{language}'
        for n, title in rows
    ]
    (workspace / f"{name}.csv").write_text("\n".join(lines) + "\n", "utf-8")
    with (workspace / "newsletter.toml").open("a", encoding="utf-8") as toml:
        toml.write(
            f'\n[sources.{name}]\npath = "{name}.csv"\nlanguage = "{language}"\n'
            'language_marks = ["lang--en", "lang--fr", "lang--es"]\n'
        )


def story(workspace: Path, title: str) -> list[tuple[str, str]]:
    with Pool.open(load_config(workspace / "newsletter.toml").database_url) as pool:
        (item,) = [i for i in pool.select_items(_all()) if i.title == title]
        return [(version.language, version.title) for version in pool.story_of(item.uid)]


def _all() -> ItemQuery:
    return ItemQuery()


def uid_of(workspace: Path, title: str) -> str:
    with Pool.open(load_config(workspace / "newsletter.toml").database_url) as pool:
        return next(i.uid for i in pool.select_items(_all()) if i.title == title)


def test_items_whose_addresses_differ_by_their_language_mark_are_one_story(
    run: Run, workspace: Path
) -> None:
    write_source(
        workspace,
        "coop-en",
        "en",
        [(1, "Coops in Jordan"), (2, "Chiefs meet"), (3, "Only in English")],
    )
    write_source(
        workspace,
        "coop-fr",
        "fr",
        [(1, "Les coopératives en Jordanie"), (2, "Les chefs se réunissent")],
    )
    result = run("ingest", "coop-en.csv", "coop-fr.csv")
    assert result.exit_code == 0, result.stderr
    assert story(workspace, "Coops in Jordan") == [
        ("en", "Coops in Jordan"),
        ("fr", "Les coopératives en Jordanie"),
    ]
    assert story(workspace, "Les chefs se réunissent") == [
        ("en", "Chiefs meet"),
        ("fr", "Les chefs se réunissent"),
    ]
    assert story(workspace, "Only in English") == [("en", "Only in English")]
    # Ingesting again links nothing twice, and an editor's unlink stays until they link.
    unlinked = run("unlink", uid_of(workspace, "Chiefs meet"))
    assert unlinked.stdout.startswith("the story's other versions:\nfr ")
    assert run("ingest", "coop-en.csv", "coop-fr.csv").exit_code == 0
    assert story(workspace, "Coops in Jordan")[1][0] == "fr"


def test_an_editor_links_and_unlinks_and_a_story_has_one_version_per_language(
    run: Run, workspace: Path
) -> None:
    write_source(workspace, "a-en", "en", [(4, "Youth and coops")])
    write_source(
        workspace, "a-fr", "fr", [(5, "Les jeunes et les coopératives"), (6, "Une autre histoire")]
    )
    write_source(workspace, "a-es", "es", [(7, "Los jóvenes y las cooperativas")])
    assert (
        run("ingest", "a-en.csv", "a-fr.csv", "a-es.csv").exit_code == 0
    )  # no marks shared: no story
    english, french, other = (
        uid_of(workspace, t)
        for t in ("Youth and coops", "Les jeunes et les coopératives", "Une autre histoire")
    )
    spanish = uid_of(workspace, "Los jóvenes y las cooperativas")
    linked = run("link", english[:8], french[:8])
    assert linked.exit_code == 0, linked.stderr
    assert linked.stdout.splitlines() == [
        f"en  {english}  Youth and coops",
        f"fr  {french}  Les jeunes et les coopératives",
    ]
    assert run("link", spanish, french).exit_code == 0  # joins the story
    assert [language for language, _ in story(workspace, "Youth and coops")] == ["en", "es", "fr"]
    refused = run("link", other, english)
    assert refused.exit_code == 1
    assert f"{french} and {other} are both in fr" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(story(workspace, "Youth and coops")) == 3  # nothing changed
    run("unlink", english)
    assert story(workspace, "Youth and coops") == [("en", "Youth and coops")]
    assert [language for language, _ in story(workspace, "Les jeunes et les coopératives")] == [
        "es",
        "fr",
    ]
    assert run("unlink", english).exit_code == 1  # a story of its own already


def test_language_marks_need_two_of_them(tmp_path: Path) -> None:
    from newsletter.errors import NewsletterError

    toml = tmp_path / "newsletter.toml"
    toml.write_text('[sources.x]\npath = "x.csv"\nlanguage_marks = ["lang--en"]\n', "utf-8")
    with pytest.raises(NewsletterError) as caught:
        load_config(toml)
    assert caught.value.line == 3
    assert "two or more marks" in caught.value.message
