"""The exported .eml: parsed back by two parsers, encoded within limits, headers safe."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import mailparser
import pytest

from newsletter.config import Config, load_config
from newsletter.errors import NewsletterError
from newsletter.export import export_issue, prepared_email
from newsletter.export.mime import add_utm, build_message, with_utm
from newsletter.issue import Issue, read_issue
from tests.conftest import ROOT

NOW = datetime(2020, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def config() -> Config:  # type: ignore[override]
    return load_config(ROOT / "newsletter.toml", environ={})


@pytest.fixture(scope="module")
def november(config: Config) -> Issue:
    return read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", config)


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def test_the_eml_parses_back_the_same_with_two_parsers(config: Config, november: Issue) -> None:
    raw = export_issue(november, config, "eml", now=NOW)
    email, _ = prepared_email(november, config)
    stdlib = message_from_bytes(raw, policy=policy.default)
    independent = mailparser.parse_from_bytes(raw)
    assert stdlib["Subject"] == independent.subject == "ILO COOP eNews - November issue"
    assert stdlib.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in stdlib.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # the text part first
    text = stdlib.get_body(("plain",)).get_content()
    html = stdlib.get_body(("html",)).get_content()
    assert independent.text_plain[0].strip() == text.strip()
    assert independent.text_html[0].strip() == html.strip()
    assert hrefs(html) == hrefs(email.html.replace("%%unsubscribe_url%%", config.newsletters[
        "ilo-coop-enews"].unsubscribe_url or ""))  # fmt: skip
    assert (
        "Unsubscribe:\nhttps://newsletters.example.org/ilo-coop-enews/unsubscribe\n"
        in text.replace("\r\n", "\n")
    )


def test_headers_for_bulk_mail(config: Config, november: Issue) -> None:
    message = message_from_bytes(export_issue(november, config, "eml", now=NOW),
                                 policy=policy.default)  # fmt: skip
    assert message["From"] == "ILO COOP eNews <coop-enews@newsletters.example.org>"
    assert message["Reply-To"] == "coop@ilo.org"
    assert message["List-Id"] == "ILO COOP eNews <coop-enews.newsletters.example.org>"
    assert message["Date"] == "Tue, 01 Dec 2020 09:30:00 +0000"
    assert message["Message-ID"].endswith("@newsletters.example.org>")
    assert message["List-Unsubscribe"].strip() == (
        "<https://newsletters.example.org/ilo-coop-enews/unsubscribe>, "
        "<mailto:unsubscribe-coop-enews@newsletters.example.org?subject=unsubscribe>"
    )
    # The list's bare page names nobody: a one-click POST to it could not say whom to drop.
    assert message["List-Unsubscribe-Post"] is None
    assert message["Content-Language"] == "en"
    # Addressed to the list (SpamAssassin scores a message without To: as spam), one
    # MIME-Version in the whole message.
    assert message["To"] == "ILO COOP eNews <coop-enews@newsletters.example.org>"
    assert export_issue(november, config, "eml", now=NOW).count(b"MIME-Version") == 1


def test_the_to_of_an_export_is_the_list_address_the_sender_names(
    config: Config, november: Issue
) -> None:
    sender = config.newsletters["ilo-coop-enews"].sender
    assert sender is not None
    to_list = replace(sender, to_name="Subscribers", to_address="list@ilo.org")
    newsletter = replace(config.newsletters["ilo-coop-enews"], sender=to_list)
    config = replace(config, newsletters={**config.newsletters, "ilo-coop-enews": newsletter})
    message = message_from_bytes(export_issue(november, config, "eml", now=NOW),
                                 policy=policy.default)  # fmt: skip
    assert message["To"] == "Subscribers <list@ilo.org>"


def test_quoted_printable_and_line_limits(config: Config, november: Issue) -> None:
    raw = export_issue(november, config, "eml", now=NOW)
    assert raw.count(b"Content-Transfer-Encoding: quoted-printable") == 2
    lines = raw.split(b"\r\n")
    body = raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")
    assert max(len(line) for line in body) <= 76
    assert max(len(line) for line in lines) <= 998
    assert all(line.isascii() for line in lines)


def test_non_ascii_subject_and_names_are_encoded(config: Config, november: Issue) -> None:
    issue = replace(november, title="Entrevista con Colombia Pérez Muñoz")
    newsletter = config.newsletters["ilo-coop-enews"]
    sender = replace(newsletter.sender, from_name="Cooperativas — Pérez Muñoz")  # type: ignore[type-var]
    email, _ = prepared_email(issue, config)
    raw = build_message(email, replace(newsletter, sender=sender), message_id="<a@b.org>",
                        date=NOW, to=("José Pérez", "jose@example.org"))  # fmt: skip
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "Entrevista con Colombia Pérez Muñoz"
    assert parsed["From"].addresses[0].display_name == "Cooperativas — Pérez Muñoz"
    assert parsed["To"].addresses[0].display_name == "José Pérez"


@pytest.mark.parametrize("title", ["Two\r\nBcc: evil@example.org", "Line\nbreak", "A\u2028B"])
def test_a_line_break_in_the_title_adds_no_header(
    config: Config, november: Issue, title: str
) -> None:
    email, newsletter = prepared_email(replace(november, title=title), config)
    with pytest.raises(NewsletterError, match="cannot go into a mail header"):
        build_message(email, newsletter, message_id="<a@b.org>", date=NOW)


def test_a_line_break_in_the_sender_name_is_refused_by_the_config(
    tmp_path: Path,
) -> None:
    toml = tmp_path / "newsletter.toml"
    toml.write_text(
        (ROOT / "newsletter.toml")
        .read_text()
        .replace('from = "ILO COOP eNews <', 'from = "ILO COOP eNews\\r\\nBcc: evil@example.org <'),
        "utf-8",
    )
    with pytest.raises(NewsletterError, match="may not span lines"):
        load_config(toml, environ={})


def test_utm_parameters(config: Config, november: Issue) -> None:
    assert add_utm("https://ilo.org/a?x=1#top", "2020-11", "enews") == (
        "https://ilo.org/a?x=1&utm_source=enews&utm_medium=email&utm_campaign=2020-11#top"
    )
    assert add_utm("https://ilo.org/a?utm_source=mine", "c", "s") == (
        "https://ilo.org/a?utm_source=mine&utm_medium=email&utm_campaign=c"
    )
    assert add_utm("mailto:coop@ilo.org", "c", "s") == "mailto:coop@ilo.org"
    email, newsletter = prepared_email(november, config)
    links = hrefs(email.html)
    assert "%%unsubscribe_url%%" in links  # merge tags untouched
    assert all("utm_campaign=2020-11" in link for link in links if link.startswith("http"))
    assert "utm_" not in email.text.split("Unsubscribe:\n")[1].splitlines()[0]
    untracked = replace(newsletter, sender=replace(newsletter.sender, utm=False))  # type: ignore[type-var]
    plain = with_utm(replace(email, html='<a href="https://a.org/">x</a>'), untracked, "x")
    assert plain.html == '<a href="https://a.org/">x</a>'
