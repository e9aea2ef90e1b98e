"""The studio with a newsletter in three languages: a new issue is made in every edition, and
each edition's page names its sections in its language and links the others."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from newsletter.web.studio import make_app
from newsletter.workspace import Workspace
from tests.editions import SLUG, editions_workspace


def test_a_new_issue_is_made_in_every_edition_and_each_links_the_others(
    tmp_path: Path, database_url: str
) -> None:
    config = editions_workspace(tmp_path / "editions", database_url, draft=False)
    with (
        Workspace(config) as opened,
        TestClient(make_app(opened), base_url="http://127.0.0.1:8030") as client,
    ):
        shown = client.get("/new", params={"newsletter": SLUG, "month": "2020-11"})
        create_form = shown.text.split('<form method="post" action="/new">')[1]
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">',
                                 create_form))  # fmt: skip
        created = client.post("/new", data=fields, follow_redirects=False)
        assert created.status_code == 303
        assert created.headers["location"] == f"/issues/{SLUG}/2020-11"
        folder = config.parent / "issues" / SLUG
        assert sorted(p.name for p in folder.iterdir()) == [
            "2020-11.es.toml", "2020-11.fr.toml", "2020-11.toml"]  # fmt: skip
        home = client.get("/")
        assert f'href="/issues/{SLUG}/2020-11.fr" lang="fr">ILO COOP eNews - numéro de' in home.text
        french = client.get(f"/issues/{SLUG}/2020-11.fr")
        assert french.status_code == 200
        assert "<h1>ILO COOP eNews - numéro de novembre</h1>" in french.text
        assert '<option value="Entretiens"' in french.text or ">Entretiens<" in french.text
        links = re.findall(r'<a href="(/issues/[^"]+)" lang="(\w+)" hreflang="\w+">([^<]+)</a>',
                           french.text)  # fmt: skip
        assert sorted(links) == [
            (f"/issues/{SLUG}/2020-11", "en", "English"),
            (f"/issues/{SLUG}/2020-11.es", "es", "Español"),
        ]
        for href, _, _ in links:
            assert client.get(href).status_code == 200
