"""A workspace whose newsletter has three language editions (en, fr, es), from the English
and French listing fixtures of examples/editions: ingested, the stories both listings tell
linked, and the November issue drafted in every language."""

from __future__ import annotations

import shutil
from pathlib import Path

from newsletter.model import ItemQuery
from newsletter.workspace import Workspace
from tests.conftest import ROOT, invoke

EDITIONS = ROOT / "examples" / "editions"
SLUG = "ilo-coop-enews"
# The stories both listings tell, by their English and French titles' beginnings.
LINKED = {
    "A two-day symposium": "Un colloque de deux jours",
    "Supporting the cooperative movement": "Soutenir le mouvement coopératif",
    "Cooperatives and the world of work No. 13": "Les coopératives et le monde du travail",
}
ENGLISH_ONLY = ("ILO COOP 100 Interview with Mounir Kleibo", "ILO COOP provides a message")
FRENCH_ONLY = ("Les coopératives d'Afrique de l'Ouest",)


def editions_workspace(folder: Path, database_url: str | None = None, draft: bool = True) -> Path:
    """The editions workspace in `folder` (its database at `database_url`, else SQLite in the
    folder), ingested and linked, and with `draft` the 2020-11 issue in every language: the
    path of its newsletter.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EDITIONS, folder, dirs_exist_ok=True)
    config = folder / "newsletter.toml"
    if database_url:
        text = config.read_text("utf-8").replace(
            'url = "sqlite:///newsletter.db"', f'url = "{database_url}"'
        )
        config.write_text(text, "utf-8")
    done = invoke("--config", str(config), "ingest", "--all")
    assert done.exit_code == 0, done.output
    for english, french in linked_uids(config).items():
        done = invoke("--config", str(config), "link", english, french)
        assert done.exit_code == 0, done.output
    if draft:
        done = invoke("--config", str(config), "draft", SLUG, "--month", "2020-11")
        assert done.exit_code == 0, done.output
    return config


def linked_uids(config: Path) -> dict[str, str]:
    """English uid -> French uid, for the stories of LINKED."""
    with Workspace(config) as workspace:
        items = workspace.pool.select_items(ItemQuery())
    by_start = {}
    for item in items:
        for start in (*LINKED, *LINKED.values()):
            if item.title.startswith(start):
                by_start[start] = item.uid
    return {by_start[english]: by_start[french] for english, french in LINKED.items()}
