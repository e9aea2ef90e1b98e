"""`[subscriptions]` and `[bounces]` in newsletter.toml: defaults, what they change, and a
bad value named at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_config import TOPICS, assert_error, line_of, load, load_error, write

NEWSLETTER = """\
[newsletters.enews]
name = "eNews"
topics = ["cooperatives"]
"""


def test_the_public_pages_address_gives_each_newsletter_its_unsubscribe_page(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        TOPICS,
        NEWSLETTER,
        """\
        [newsletters.own]
        name = "Own"
        topics = ["cooperatives"]
        unsubscribe_url = "https://elsewhere.example.org/leave"

        [archive]
        base_url = "https://news.example.org/archive/"

        [subscriptions]
        url = "https://news.example.org/subscribe"
        confirm_hours = 24
    """,
    )
    config = load(path)
    assert config.subscriptions.url == "https://news.example.org/subscribe/"
    assert config.newsletters["enews"].unsubscribe_url == (
        "https://news.example.org/subscribe/enews/unsubscribe"
    )
    assert config.newsletters["own"].unsubscribe_url == "https://elsewhere.example.org/leave"
    assert config.subscriptions.confirm_hours == 24.0
    assert config.subscriptions.allowed_origins == ("https://news.example.org",)  # the archive's
    assert config.bounces.soft_limit == 3
    assert config.bounces.imap_security == "ssl"


def test_without_the_public_pages_nothing_changes(tmp_path: Path) -> None:
    config = load(write(tmp_path, TOPICS, NEWSLETTER))
    assert config.subscriptions.url is None
    assert config.newsletters["enews"].unsubscribe_url is None


@pytest.mark.parametrize(
    ("section", "fragment", "message"),
    [
        ("[subscriptions]\nurl = 'ftp://x.example.org/'\n", "url", "subscriptions.url:"),
        (
            "[subscriptions]\nrequests_per_hour = 0\n",
            "requests_per_hour",
            "subscriptions.requests_per_hour: expected a number above 0",
        ),
        (
            "[subscriptions]\nallowed_origins = ['javascript:alert(1)']\n",
            "allowed_origins",
            "subscriptions.allowed_origins[0]:",
        ),
        ("[subscriptions]\nconfirm_hours = -1\n", "confirm_hours", "subscriptions.confirm_hours:"),
        ("[subscriptions]\nsurl = 'https://x.example.org/'\n", "surl", "subscriptions.surl:"),
        (
            "[bounces]\nsoft_limit = 0\n",
            "soft_limit",
            "bounces.soft_limit: expected a number of issues above 0",
        ),
        (
            "[bounces]\nimap_security = 'maybe'\n",
            "imap_security",
            "bounces.imap_security: expected one of starttls, ssl, none",
        ),
        ("[bounces]\nimap_port = 70000\n", "imap_port", "bounces.imap_port: expected a port"),
    ],
)
def test_a_bad_setting_is_named_at_its_line(
    tmp_path: Path, section: str, fragment: str, message: str
) -> None:
    path = write(tmp_path, TOPICS, NEWSLETTER, section)
    assert_error(load_error(path), path, line_of(path, fragment), message)
