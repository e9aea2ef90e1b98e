"""Item identity: the URL when known, else the normalised (type, title, date)."""

from __future__ import annotations

from datetime import date

from newsletter.ingest.identity import fingerprint, item_uid, normalise_url
from newsletter.model import Entry

ENTRY = Entry("News", "ILO’s Cooperatives Unit", date(2020, 11, 3), "Summary")


def test_uid_is_stable_and_short() -> None:
    assert item_uid(ENTRY) == item_uid(Entry("News", "ILO’s Cooperatives Unit", date(2020, 11, 3)))
    assert len(item_uid(ENTRY)) == 16
    assert int(item_uid(ENTRY), 16) >= 0


def test_spelling_differences_do_not_change_identity() -> None:
    respelled = Entry("news", "  ilo's  cooperatives unit ", date(2020, 11, 3))
    assert item_uid(respelled) == item_uid(ENTRY)


def test_type_title_and_date_each_change_identity() -> None:
    uids = {
        item_uid(ENTRY),
        item_uid(Entry("Article", ENTRY.title, ENTRY.date)),
        item_uid(Entry("News", "Another title", ENTRY.date)),
        item_uid(Entry("News", ENTRY.title, date(2020, 11, 4))),
    }
    assert len(uids) == 4


def test_url_is_the_identity_when_known() -> None:
    first = Entry("News", "Old title", date(2020, 1, 1), url="https://ILO.org/a/#top")
    second = Entry("Article", "New title", date(2020, 1, 2), url="https://ilo.org/a")
    assert item_uid(first) == item_uid(second)
    assert normalise_url("HTTPS://Www.ILO.org:443/x/?q=1#f") == "https://www.ilo.org/x?q=1"


def test_fingerprint_changes_with_the_summary_only_when_it_changes() -> None:
    assert fingerprint(ENTRY) == fingerprint(
        Entry(*[ENTRY.type, ENTRY.title, ENTRY.date], summary="Summary")
    )
    assert fingerprint(ENTRY) != fingerprint(Entry(ENTRY.type, ENTRY.title, ENTRY.date, "New"))
