"""No value reaches a mail header unchecked: random Unicode (line separators, encoded words,
control characters) through every header source gives either a one-line refusal or a message
whose header set is exactly the expected one, each value read back as it was given.

This module needs neither a database nor a browser: `make test` also runs it on every newer
Python it finds (3.12, 3.13), since the standard library's folding differs between versions.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from newsletter.config import Config, NewsletterConfig, load_config
from newsletter.errors import NewsletterError
from newsletter.export.mime import build_message
from newsletter.export.personalise import MessageTemplate
from newsletter.headers import HeaderKind, header_problem
from newsletter.model import RenderedEmail
from tests.conftest import ROOT

NOW = datetime(2020, 12, 1, 9, 30, tzinfo=UTC)
INJECTED_TITLE = (
    "Monthly =?utf-8?q?news=0D=0AX-Injected:_yes=0D=0AReply-To:_attacker@evil.example?="
)
EXPECTED = {
    "From", "To", "Subject", "Date", "Reply-To", "List-Id", "MIME-Version", "Content-Language",
    "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "Content-Type",
}  # fmt: skip

# Text that tries hard: line ends of every kind, controls, encoded words, quotes, specials.
TRICKY = st.sampled_from(
    ["\r", "\n", "\r\n", "\u2028", "\u2029", "\x85", "\x00", "\t", "\x0b", "\x1b",
     "=?utf-8?q?", "?=", "=?utf-8?b?QmNjOiB4?=", "=0D=0A", '"', "\\", "<", ">", ",", ";", ":",
     "Bcc: evil@example.org", "é", "—", "漢字", "\U0001f600", " ", "  ", "(", ")", "@"]
)  # fmt: skip
PRINTABLE = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp", "Cn")), max_size=90)
VALUES = st.one_of(
    st.lists(st.one_of(TRICKY, st.text(max_size=12)), max_size=12).map("".join),
    PRINTABLE,  # mostly accepted: what gets through must come out intact
    st.from_regex(r"\A[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}\Z"),  # tags, mostly good ones
)
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@pytest.fixture(scope="module")
def config() -> Config:  # type: ignore[override]
    return load_config(ROOT / "newsletter.toml", environ={})


@pytest.fixture(scope="module")
def email() -> RenderedEmail:
    return RenderedEmail(
        subject="ILO COOP eNews - November issue", preheader="", html="<p>Hello</p>\n",
        text="Hello\n", mjml="", language="en",
    )  # fmt: skip


def newsletter_of(config: Config) -> NewsletterConfig:
    return config.newsletters["ilo-coop-enews"]


def parsed(raw: bytes) -> EmailMessage:
    """The message as the email package's strict policy reads it: any defect raises."""
    message = message_from_bytes(raw, policy=policy.strict)
    assert isinstance(message, EmailMessage)
    for name in message:  # header values are parsed (and their defects raised) when read
        str(message[name])
    return message


def phrase_of(message: EmailMessage, header: str) -> str:
    """The display name of a one-address header, decoded as RFC 2047 says: whitespace between
    two encoded words is dropped. (The email package's address parser keeps it, unlike mail
    clients, so its display_name is compared without spaces only.)"""
    (raw,) = [value for name, value in message.raw_items() if name == header]
    value = raw.replace("\r\n", "").replace("\n", "").strip()
    phrase = value[: value.rindex("<")].strip() if value.endswith(">") else ""
    if phrase.startswith('"'):
        decoded = re.sub(r"\\(.)", r"\1", phrase[1:-1])
    else:
        decoded = str(make_header(decode_header(phrase)))
    shown = message[header].addresses[0].display_name
    assert shown.replace(" ", "") == decoded.replace(" ", "")
    return decoded


def built(email: RenderedEmail, newsletter: NewsletterConfig, name: str = "Reader") -> bytes:
    return build_message(email, newsletter, message_id="<m.1@newsletters.example.org>",
                         date=NOW, to=(name, "reader@example.org"), one_click=True,
                         unsubscribe_url="https://newsletters.example.org/u?x=1")  # fmt: skip


def assert_refused_or_exact(make: object, value: str, kind: HeaderKind, read_back: object) -> None:
    """`make()` raises a NewsletterError when the value cannot be a header, else gives a
    message with exactly the expected headers, once each, and the value read back intact."""
    problem = header_problem(value, kind)
    event("refused" if problem else "accepted")
    if problem is not None:
        with pytest.raises(NewsletterError):
            make()  # type: ignore[operator]
        return
    raw = make()  # type: ignore[operator]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\n" not in head.replace(b"\r\n", b"")  # no bare line ends
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    message = parsed(raw)
    assert sorted(message.keys()) == sorted(EXPECTED)
    assert read_back(message) == value  # type: ignore[operator]


@SETTINGS
@given(title=VALUES)
@example(
    title="=?utf-8?q?=?utf-8?q?=?utf-8?q?"
)  # found by Hypothesis on 3.12: decoded by the parser
@example(title=INJECTED_TITLE)
@example(title="Monthly\u2028X-Injected: yes")
def test_the_subject(config: Config, email: RenderedEmail, title: str) -> None:
    assert_refused_or_exact(
        lambda: built(replace(email, subject=title), newsletter_of(config)), title,
        HeaderKind.TEXT, lambda m: str(m["Subject"]),
    )  # fmt: skip


@SETTINGS
@given(name=VALUES)
@example(name="=?utf-8?q?=?utf-8?q?=?utf-8?q?")
@example(name="=?utf-8?q?Eve=0D=0ABcc:_all@example.org?=")
def test_the_senders_name(config: Config, email: RenderedEmail, name: str) -> None:
    newsletter = newsletter_of(config)
    sender = replace(newsletter.sender, from_name=name)  # type: ignore[type-var]
    assert_refused_or_exact(
        lambda: built(email, replace(newsletter, sender=sender)), name, HeaderKind.NAME,
        lambda m: phrase_of(m, "From"),
    )  # fmt: skip


@SETTINGS
@given(name=VALUES)
@example(name="=?utf-8?q?=?utf-8?q?=?utf-8?q?")
@example(name="ILO =?utf-8?q?x=0D=0AX-Injected:_yes?=")
def test_the_newsletters_name_in_list_id(config: Config, email: RenderedEmail, name: str) -> None:
    newsletter = replace(newsletter_of(config), name=name)

    def read_back(message: EmailMessage) -> str:
        (raw,) = [value for key, value in message.raw_items() if key == "List-Id"]
        phrase = raw.replace("\r\n", "").strip()
        phrase = phrase[: phrase.rindex("<")].strip()
        if phrase.startswith('"'):
            return re.sub(r"\\(.)", r"\1", phrase[1:-1])
        return str(make_header(decode_header(phrase)))

    assert_refused_or_exact(lambda: built(email, newsletter), name, HeaderKind.NAME, read_back)


@SETTINGS
@given(name=VALUES)
@example(name="=?utf-8?q?=?utf-8?q?=?utf-8?q?")
@example(name='"=?utf-8?q?Bob=0D=0ABcc:_x@evil.example?=" <x@evil.example>')
def test_a_subscribers_name(config: Config, email: RenderedEmail, name: str) -> None:
    template = MessageTemplate(email, newsletter_of(config), date=NOW)

    def make() -> bytes:
        values = {"unsubscribe_url": "https://newsletters.example.org/u"}
        return template.personalise(
            "reader@example.org", name, "<m.1@n.example.org>", values, one_click=True
        )

    assert_refused_or_exact(
        make, name, HeaderKind.NAME,
        lambda m: phrase_of(m, "To"),
    )  # fmt: skip


@SETTINGS
@given(language=VALUES)
@example(language="en\r\nBcc: evil@example.org")
def test_the_language(config: Config, email: RenderedEmail, language: str) -> None:
    assert_refused_or_exact(
        lambda: built(replace(email, language=language), newsletter_of(config)), language,
        HeaderKind.LANGUAGE, lambda m: str(m["Content-Language"]),
    )  # fmt: skip


@SETTINGS
@given(tail=VALUES)
@example(tail=">, <https://evil.example/")
@example(tail="é")
def test_the_unsubscribe_link(config: Config, email: RenderedEmail, tail: str) -> None:
    url = "https://newsletters.example.org/u/" + tail

    def make() -> bytes:
        return build_message(email, newsletter_of(config), message_id="<m@n.example.org>",
                             date=NOW, to=("R", "r@example.org"), unsubscribe_url=url,
                             one_click=True)  # fmt: skip

    def read_back(message: EmailMessage) -> str:
        links = str(message["List-Unsubscribe"]).split(", ")
        assert len(links) == 2  # the web link and the mailto link, no third
        return links[0].strip("<>")

    assert_refused_or_exact(make, url, HeaderKind.URL, read_back)


def test_the_cve_2024_6923_title_adds_no_header_to_an_eml_or_a_sent_message(
    config: Config, email: RenderedEmail
) -> None:
    """The exact input of the review: refused, on every Python, before any byte is written."""
    with pytest.raises(NewsletterError, match="encoded word"):
        built(replace(email, subject=INJECTED_TITLE), newsletter_of(config))
    template_error = None
    try:
        MessageTemplate(replace(email, subject=INJECTED_TITLE), newsletter_of(config), date=NOW)
    except NewsletterError as error:
        template_error = error
    assert template_error is not None
