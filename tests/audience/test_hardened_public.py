"""Found in review: the public pages' acts against the list's statuses, tokens and forget."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from newsletter import audience
from newsletter.model import Subscriber
from newsletter.pool.subscribers import COMPLAINED, PAUSED
from newsletter.tokens import make_token, read_token
from newsletter.web.public import make_public_app
from newsletter.web.sessions import Attempts
from newsletter.workspace import Workspace
from tests.export.conftest import SIGNING_KEY
from tests.web.conftest import mail_server, public_port, public_workspace  # noqa: F401
from tests.web.test_public import ONE_CLICK, SLUG, Site, received

KEY = SIGNING_KEY.encode()


@pytest.fixture
def site(public_workspace: Path, public_port: int) -> Iterator[Site]:  # noqa: F811
    with Workspace(public_workspace / "newsletter.toml") as opened:
        app = make_public_app(opened)
        with TestClient(app, base_url=f"http://127.0.0.1:{public_port}") as client:
            yield Site(opened, client)


def test_an_old_unsubscribe_link_after_forget_writes_the_address_down_nowhere(
    site: Site,
) -> None:
    site.add("ana@example.org", "active", "Ana")
    token = make_token("ana@example.org", SLUG, KEY)
    site.pool.forget("ana@example.org")
    assert site.pool.subscriber("ana@example.org") == []

    # A mail provider's one-click POST of the link in an issue sent before the erasure.
    answer = site.client.post(f"/{SLUG}/unsubscribe?t={token}", data=ONE_CLICK)

    assert answer.status_code == 200
    # Erased means erased: no row, no story with the address in plain.
    assert site.pool.subscriber("ana@example.org") == []
    assert site.pool.story("ana@example.org") == []


def test_an_unsubscribe_does_not_turn_a_complaint_into_an_unsubscribe(site: Site) -> None:
    site.add("ana@example.org", COMPLAINED)
    token = make_token("ana@example.org", SLUG, KEY)
    site.client.post(f"/{SLUG}/unsubscribe?t={token}", data=ONE_CLICK)
    # complained -> unsubscribed loses the complaint, and lets the form mail them again:
    assert site.status("ana@example.org") == COMPLAINED


def test_a_complainant_who_clicked_unsubscribe_gets_no_confirmation_from_a_strangers_post(
    site: Site,
    mail_server,  # noqa: F811
) -> None:
    site.add("ana@example.org", COMPLAINED)
    token = make_token("ana@example.org", SLUG, KEY)
    site.client.post(f"/{SLUG}/unsubscribe?t={token}", data=ONE_CLICK)
    site.subscribe("ana@example.org")
    site.settle()
    assert received(mail_server, "ana@example.org") == []


def test_a_strangers_form_post_leaves_a_paused_subscriber_paused_and_named_as_they_were(
    site: Site,
) -> None:
    site.add("ana@example.org", "active", "Ana")
    site.pool.set_subscriber_status(SLUG, Subscriber("ana@example.org"), PAUSED, "paused")
    site.subscribe("ana@example.org", "Someone Else")
    site.settle()
    record = audience.record_of(site.pool, SLUG, "ana@example.org")
    assert record is not None
    assert (record.status, record.name) == (PAUSED, "Ana")


def test_an_altered_token_is_refused() -> None:
    token = make_token("ana@example.org", SLUG, KEY)
    # Characters outside base64url, four at a time (the padding stays right), are dropped by
    # urlsafe_b64decode, which does not validate: the link still works.
    for altered in (token + "!!!!", token + "....", "~~~~" + token, token[:4] + "$$$$" + token[4:]):
        assert read_token(altered, SLUG, KEY) is None, altered


def test_clients_long_gone_are_forgotten() -> None:
    allowance = Attempts(20, 3600.0)
    for n in range(1000):
        allowance.take(f"2001:db8::{n:x}", now=0.0)
    allowance.take("192.0.2.1", now=10_000.0)  # hours later: the others are long gone
    assert len(allowance._counted) <= 1
