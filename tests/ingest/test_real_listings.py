"""The shapes real listing pages have (tests/data/listings/): month lines, photo credits,
entries without dates, dates cut by the end of the page, English May, French and Spanish
month lines, the newsletter's own back issues. Every complete entry is stored, exactly; what
cannot be read is skipped with a warning at its line, and --strict refuses the file there."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result

from newsletter.errors import NewsletterError
from newsletter.ingest.dates import DateReader
from newsletter.ingest.listing import ListingReader
from newsletter.model import Entry
from tests.conftest import DATA

LISTINGS = DATA / "listings"
Run = Callable[..., Result]

# (type, title, date, summary, language, credit) of every entry each page must give
EXPECTED: dict[str, list[tuple[str, str, date, str, str | None, str | None]]] = {
    "newsroom-month-lines.txt": [
        ("News", "ILO and partners launch a cooperative training hub in Kenya", date(2020, 12, 15),
         "The hub will train 500 cooperative managers in its first year.", "en", None),
        ("Statement", "Statement on the International Day of Cooperatives", date(2020, 12, 2),
         "", "en", None),
        ("Press release", "New report maps the social and solidarity economy in Asia",
         date(2020, 11, 27),
         "The report covers twelve countries.\n\nIt was launched at the GSEF forum.", "en", None),
        ("News", "Workers' cooperatives weather the pandemic", date(2020, 11, 9), "", "en", None),
    ],
    "credits.txt": [
        ("News", "Women's cooperatives lead the recovery in Senegal", date(2021, 3, 12),
         "Three cooperatives tell their stories.", "en", "© ILO/Marcel Crozet 2021"),
        ("Article", "Housing cooperatives in Uruguay", date(2021, 3, 4), "", "en",
         "© Someone 2021"),
        ("Brief", "Cooperatives and the informal economy", date(2021, 3, 1), "", "en",
         "(c) Photo Agency"),
        ("Interview", "A conversation with the head of a fishers' cooperative",
         date(2021, 2, 25), "She explains how the cooperative began.", "en", "Photo: ILO/J. Doe"),
    ],
    "events-dateless.txt": [
        ("News", "Cooperative leaders meet in Geneva", date(2021, 6, 10), "", "en", None),
        ("Article", "Cooperatives in the care economy", date(2021, 6, 2),
         "A new brief looks at care cooperatives.", "en", None),
    ],
    "cut-date.txt": [
        ("News", "Green jobs for young people in Africa", date(2020, 9, 28), "", "en", None),
    ],
    "cut-date-short.txt": [
        ("News", "Green jobs for young people in Africa", date(2021, 2, 15), "", "en", None),
    ],
    "english-may.txt": [  # "May" is also Spanish's short name: the page's other date tells
        ("News", "Cooperatives at the International Labour Conference", date(2018, 5, 29), "",
         "en", None),
        ("Brief", "Cooperatives and the Sustainable Development Goals", date(2018, 5, 2), "",
         "en", None),
        ("News", "A new cooperative law in Kenya", date(2018, 4, 18), "", "en", None),
        ("Article", "May Day and the cooperative movement", date(2018, 5, 1), "", "en", None),
    ],
    "french-month-lines.txt": [
        ("Communiqué de presse", "Les coopératives face à la crise", date(2020, 4, 15),
         "Un nouveau rapport de l'OIT.", "fr", None),
        ("Article", "Le travail décent dans les coopératives agricoles", date(2020, 4, 2), "",
         "fr", "Crédit photo : OIT/M. Crozet"),
        ("Actualité", "Journée internationale des femmes", date(2020, 3, 8), "", "fr", None),
    ],
    "spanish-month-lines.txt": [
        ("Noticia", "Las cooperativas en América Latina", date(2020, 1, 20),
         "Un estudio regional.", "es", None),
        ("Comunicado de prensa", "Economía social y solidaria en Bolivia", date(2019, 12, 5), "",
         "es", "Foto: OIT"),
    ],
}  # fmt: skip

# (line, words) of each entry a page skips
SKIPPED: dict[str, list[tuple[int, str]]] = {
    "newsroom-month-lines.txt": [(39, "entry 1 ('A title cut after its first'): cut short")],
    "events-dateless.txt": [
        (9, "entry 2 ('Webinar on cooperatives and the future of work'): no date"),
        (15, "entry 3 ('Our impact, their voices'): no date"),
    ],
    "cut-date.txt": [(13, "its date is cut short by the end of the page ('27 September 20')")],
    "cut-date-short.txt": [(13, "its date is cut short by the end of the page ('14 F')")],
}


def fields(entry: Entry) -> tuple[str, str, date, str, str | None, str | None]:
    return (entry.type, entry.title, entry.date, entry.summary, entry.language,
            entry.image_credit)  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_complete_entry_is_read_exactly(name: str) -> None:
    reader = ListingReader(LISTINGS / name, DateReader())
    assert [fields(entry) for entry in reader] == EXPECTED[name]
    skipped = [(n.line, n.message) for n in reader.notices if n.message.endswith("; skipped")]
    assert [line for line, _ in skipped] == [line for line, _ in SKIPPED.get(name, [])]
    for (_, message), (_, words) in zip(skipped, SKIPPED.get(name, []), strict=True):
        assert words in message
    assert reader.skipped == len(SKIPPED.get(name, []))
    assert len(reader.notices) == reader.skipped  # month lines and restarts are no news


@pytest.mark.parametrize("name", sorted(SKIPPED))
def test_strict_refuses_the_page_at_its_first_unreadable_entry(name: str) -> None:
    with pytest.raises(NewsletterError) as caught:
        list(ListingReader(LISTINGS / name, DateReader(), strict=True))
    line, words = SKIPPED[name][0]
    assert caught.value.line == line
    assert words in caught.value.message
    assert caught.value.message.endswith("(--strict refuses the file)")


def test_the_source_language_is_the_last_resort_and_the_editors_wins() -> None:
    page = LISTINGS / "english-may.txt"
    assert {e.language for e in ListingReader(page, DateReader(), "fr")} == {"en"}
    assert {e.language for e in ListingReader(page, DateReader(), override="fr")} == {"fr"}


def test_a_page_of_may_dates_alone_takes_the_sources_language(tmp_path: Path) -> None:
    page = tmp_path / "may.txt"
    page.write_text("News\n\n1. News\n\nOne\n\n3 May 2019\n\n2. News\n\nTwo\n\n2 May 2019\n")
    assert [e.language for e in ListingReader(page, DateReader(), "en")] == ["en", "en"]
    assert [e.language for e in ListingReader(page, DateReader())] == [None, None]


def test_undated_entries_are_stored_dated_when_first_seen() -> None:
    reader = ListingReader(LISTINGS / "events-dateless.txt", DateReader(), undated="first-seen",
                           today=date(2021, 6, 15))  # fmt: skip
    entries = list(reader)
    assert [(e.type, e.date, e.undated) for e in entries] == [
        ("News", date(2021, 6, 10), False),
        ("Event", date(2021, 6, 15), True),
        ("Campaign", date(2021, 6, 15), True),
        ("Article", date(2021, 6, 2), False),
    ]
    assert entries[1].summary == "An online discussion with experts from three regions."
    assert reader.skipped == 0


def add_source(workspace: Path, name: str, extra: str = "") -> None:
    toml = workspace / "newsletter.toml"
    path = LISTINGS / name
    toml.write_text(
        toml.read_text("utf-8")
        + f'\n[sources.{path.stem}]\npath = "{path}"\ntopics = ["cooperatives"]\n{extra}',
        "utf-8",
    )


def items(run: Run) -> list[dict[str, object]]:
    return list(json.loads(run("items", "--format", "json").stdout))


def test_ingest_says_how_many_were_skipped_and_sources_remember_it(
    run: Run, workspace: Path
) -> None:
    add_source(workspace, "events-dateless.txt")
    result = run("ingest", str(LISTINGS / "events-dateless.txt"))
    assert result.exit_code == 0, result.stderr
    assert "4 entries: 2 new, 0 updated, 0 unchanged, 0 duplicates, 2 skipped" in result.stdout
    assert result.stderr.count("warning: ") == 2
    assert f"{LISTINGS / 'events-dateless.txt'}:9: entry 2" in result.stderr
    health = json.loads(run("sources", "--format", "json").stdout)
    (source,) = [s for s in health if s["source"] == "events-dateless"]
    assert source["skipped"] == 2
    assert source["items"] == 2
    strict = run("ingest", str(LISTINGS / "events-dateless.txt"), "--strict")
    assert strict.exit_code == 1
    assert "(--strict refuses the file)" in strict.stderr


def test_a_source_of_events_keeps_its_undated_entries_on_their_first_day(
    run: Run, workspace: Path
) -> None:
    add_source(workspace, "events-dateless.txt", 'undated = "first-seen"\n')
    assert run("ingest", "--all").exit_code == 0
    first = {item["title"]: item["date"] for item in items(run)}
    assert first["Our impact, their voices"] == date.today().isoformat()
    again = run("ingest", "--all")  # the same entries: nothing new, nothing updated
    assert "4 entries: 0 new, 0 updated, 4 unchanged" in again.stdout
    assert {item["title"]: item["date"] for item in items(run)} == first


def test_credits_are_stored_with_their_items(run: Run, workspace: Path) -> None:
    add_source(workspace, "credits.txt")
    assert run("ingest", "--all").exit_code == 0
    from newsletter.config import load_config
    from newsletter.model import ItemQuery
    from newsletter.pool import Pool

    config = load_config(workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        found = pool.select_items(ItemQuery(search="Uruguay"))
    assert [item.image_credit for item in found] == ["© Someone 2021"]


def test_drafts_leave_out_back_issues_named_as_real_pages_name_them(
    run: Run, workspace: Path
) -> None:
    add_source(workspace, "back-issues.txt")
    assert run("ingest", "--all").exit_code == 0
    draft = run("draft", "ilo-coop-enews", "--month", "2020-08")
    assert draft.exit_code == 0, draft.stderr
    assert "left out 'ILO COOP eNewsUpdate No. 8, August 2020'" in draft.stdout
    text = (workspace / "issues" / "ilo-coop-enews" / "2020-08.toml").read_text("utf-8")
    assert "eNewsUpdate" not in text
    assert "Cooperatives and the pandemic" in text
    types = {t["type"]: t for t in json.loads(run("types", "--format", "json").stdout)}
    for label in ("Cooperatives", "COOP Champions", "Our impact, Their voices", "Decent work"):
        assert types[label]["configured"] is False
        assert types[label]["section"] == "More"
