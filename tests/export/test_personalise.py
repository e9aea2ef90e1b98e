"""Render once, personalise many: the spliced message decodes exactly as if built whole."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from newsletter.config import Config, load_config
from newsletter.errors import NewsletterError
from newsletter.export import prepared_email
from newsletter.export.mime import build_message, fill_merge_tags, signed_unsubscribe_url
from newsletter.export.personalise import MessageTemplate, qp_inline
from newsletter.issue import read_issue
from newsletter.model import RenderedEmail
from tests.conftest import ROOT

NOW = datetime(2020, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample() -> tuple[RenderedEmail, Config]:
    config = load_config(ROOT / "newsletter.toml", environ={})
    issue = read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", config)
    return prepared_email(issue, config)[0], config


def decoded(raw: bytes) -> tuple[str, str, object]:
    message = message_from_bytes(raw, policy=policy.default)
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    return text.rstrip("\n"), html.rstrip("\n"), message


VALUES = [
    "https://newsletters.example.org/u?u=cmVhZGVy&s=0a1b2c3d4e5f",  # "=" and "&" in a URL
    "https://x.org/" + "a" * 150 + "?k=" + "=" * 30,  # longer than a line, all escapes
    "Pérez Muñoz — «Coopérative»",  # not ASCII
    "",
]


@pytest.mark.parametrize("value", VALUES)
def test_a_personalised_message_decodes_like_one_built_whole(
    sample: tuple[RenderedEmail, Config], value: str
) -> None:
    email, config = sample
    newsletter = config.newsletters["ilo-coop-enews"]
    body = email.html.index(">", email.html.index("<body")) + 1
    greeting = replace(  # the theme greets nobody: a theme that does, with the name in both parts
        email,
        text="Dear %%subscriber_name%%,\n" + email.text,
        html=email.html[:body] + "<p>Dear %%subscriber_name%%,</p>" + email.html[body:],
    )
    values = {"unsubscribe_url": value if value.isascii() else "", "subscriber_name": value}
    template = MessageTemplate(greeting, newsletter, date=NOW)
    raw = template.personalise("reader@example.org", "Reader", "<id@x.org>", values)
    text, html, message = decoded(raw)
    whole = fill_merge_tags(greeting, values)
    assert text == whole.text.rstrip("\n")
    assert html == whole.html.rstrip("\n")
    assert message["To"] == '"Reader" <reader@example.org>'.replace('"', "")  # type: ignore[index]
    assert message["Message-ID"] == "<id@x.org>"  # type: ignore[index]
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


def test_a_tag_at_every_column_of_a_line(sample: tuple[RenderedEmail, Config]) -> None:
    email, config = sample
    newsletter = config.newsletters["ilo-coop-enews"]
    value = signed_unsubscribe_url("https://n.example.org/u", "a@b.org", "nl", b"k")
    for column in range(0, 90, 7):
        text = "x" * column + "%%unsubscribe_url%% tail\n" + "y" * column + "%%unsubscribe_url%%\n"
        probe = replace(email, text=text, html="<p>" + text + "</p>")
        template = MessageTemplate(probe, newsletter, date=NOW)
        raw = template.personalise("a@b.org", "", "<i@x.org>", {"unsubscribe_url": value})
        got_text, got_html, _ = decoded(raw)
        assert got_text == text.replace("%%unsubscribe_url%%", value).rstrip("\n")
        assert got_html == ("<p>" + text + "</p>").replace(
            "%%unsubscribe_url%%", value.replace("&", "&amp;")
        )
        assert max(len(line) for line in raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")) <= 76


def test_qp_inline_never_splits_an_escape() -> None:
    encoded = qp_inline("é" * 40, column=70, line_follows=True)
    for line in encoded.split(b"=\r\n"):
        assert not line.endswith(b"=") or line.endswith(b"==")
    assert encoded.endswith(b"=\r\n")


@pytest.mark.parametrize("name", ["Bob\r\nBcc: evil@example.org", "Tab\tBcc: x", "A\x00B"])
def test_control_characters_in_a_name_add_no_header(
    sample: tuple[RenderedEmail, Config], name: str
) -> None:
    email, config = sample
    template = MessageTemplate(email, config.newsletters["ilo-coop-enews"], date=NOW)
    with pytest.raises(NewsletterError, match="cannot go into a mail header"):
        template.personalise("bob@example.org", name, "<i@x.org>", {})


def test_same_headers_as_the_standard_library_builds(sample: tuple[RenderedEmail, Config]) -> None:
    email, config = sample
    newsletter = config.newsletters["ilo-coop-enews"]
    url = "https://newsletters.example.org/ilo-coop-enews/unsubscribe?u=x&s=y"
    fast = MessageTemplate(email, newsletter, date=NOW).personalise(
        "josé@example.org".replace("é", "e"), "José Pérez", "<m@x.org>", {"unsubscribe_url": url}
    )
    slow = build_message(fill_merge_tags(email, {"unsubscribe_url": url}), newsletter,
                         message_id="<m@x.org>", date=NOW, to=("José Pérez", "jose@example.org"),
                         unsubscribe_url=url)  # fmt: skip
    parsed_fast = message_from_bytes(fast, policy=policy.default)
    parsed_slow = message_from_bytes(slow, policy=policy.default)
    for header in ("Subject", "From", "To", "Reply-To", "Date", "Message-ID", "List-Id",
                   "List-Unsubscribe", "List-Unsubscribe-Post", "Content-Language"):  # fmt: skip
        assert str(parsed_fast[header]).strip() == str(parsed_slow[header]).strip(), header
