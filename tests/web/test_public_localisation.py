"""A French or Spanish newsletter's public pages and confirmation email hold no English word
of the pages' own (templates/public/labels.toml)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from newsletter.labels import PUBLIC_PAGES
from newsletter.web.public import make_public_app
from newsletter.workspace import Workspace
from tests.export.conftest import MailServer
from tests.localised import english_in, english_words, text_nodes
from tests.web.test_public import SLUG, Site, received

AUTHORS = ["ILO COOP eNews", "International Labour Office, 4 route des Morillons, CH-1211 "
           "Geneva 22, Switzerland", "You receive ILO COOP eNews because you subscribed to "
           "news from the ILO Cooperatives Unit."]  # fmt: skip


@pytest.fixture(params=["fr", "es"])
def site(
    request: pytest.FixtureRequest, public_workspace: Path, public_port: int
) -> Iterator[tuple[str, Site]]:
    toml = public_workspace / "newsletter.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('language = "en"\ndate_format', f'language = "{request.param}"\n'
                                 "date_format"), encoding="utf-8")  # fmt: skip
    with Workspace(toml) as opened:
        app = make_public_app(opened)
        with TestClient(app, base_url=f"http://127.0.0.1:{public_port}") as client:
            yield request.param, Site(opened, client)


def test_the_subscribe_page_and_the_confirmation_email_are_in_the_language(
    site: tuple[str, Site], mail_server: MailServer
) -> None:
    language, public = site
    words = english_words(language, PUBLIC_PAGES / "labels.toml")
    assert {"Subscribe", "Email address", "Confirm my subscription"} <= set(words)
    page = public.client.get(f"/{SLUG}/subscribe").text
    assert f'<html lang="{language}">' in page
    assert english_in(text_nodes(page), words, AUTHORS) == []
    answer = public.subscribe("nouvelle@example.org", "Ada")
    assert english_in(text_nodes(answer.text), words, AUTHORS) == []
    public.settle()
    [message] = received(mail_server, "nouvelle@example.org")
    subject = {"fr": "Confirmez votre abonnement à", "es": "Confirme su suscripción a"}[language]
    assert message["Subject"] == f"{subject} ILO COOP eNews"
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert html is not None
    assert text is not None
    assert english_in(text_nodes(html.get_content()), words, AUTHORS) == []
    assert english_in(text.get_content().splitlines(), words, AUTHORS) == []
    if language == "fr":  # French spacing in the pages' own words
        assert "bouton\u00a0:" in text.get_content()
    bad = public.subscribe("not an address")
    assert bad.status_code == 400
    assert english_in(text_nodes(bad.text), words, AUTHORS) == []
