"""Shared fixtures: a copy of the sample workspace, and a fresh pool on SQLite or PostgreSQL.

Set NEWSLETTER_TEST_DATABASE_URL to a PostgreSQL server to run every test against it; each test
then gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from newsletter.cli import cli
from newsletter.config import Config, load_config
from newsletter.pool import Pool

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SAMPLE_LISTINGS = ROOT / "examples" / "ilo" / "listings"
COOPERATIVES = "ilo-cooperatives-news-2020-11.txt"
WHATS_NEW = "ilo-whats-new-2020-11.txt"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, only the tests that can reach it: those given the database_url fixture
    (directly or through workspace, pool...). The others never see the server's address, so
    they would only run a second time on SQLite."""
    if not os.environ.get("NEWSLETTER_TEST_DATABASE_URL"):
        return
    kept = [item for item in items if "database_url" in getattr(item, "fixturenames", ())]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("NEWSLETTER_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'pool.db'}"
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def workspace(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample workspace (config and listings) as the working folder."""
    folder = tmp_path / "workspace"
    folder.mkdir()
    shutil.copy(ROOT / "newsletter.toml", folder / "newsletter.toml")
    shutil.copytree(ROOT / "examples", folder / "examples")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", database_url)
    monkeypatch.delenv("NEWSLETTER_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return folder


@pytest.fixture
def issue_file(workspace: Path) -> Path:
    """The November sample issue, copied into the workspace."""
    path = workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    path.parent.mkdir(parents=True)
    shutil.copy(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", path)
    return path


@pytest.fixture
def listings(workspace: Path) -> Path:
    return workspace / "examples" / "ilo" / "listings"


@pytest.fixture
def config(workspace: Path) -> Config:
    return load_config(workspace / "newsletter.toml")


@pytest.fixture
def pool(config: Config) -> Iterator[Pool]:
    topics = {slug: topic.name for slug, topic in config.topics.items()}
    with Pool.open(config.database_url, topics) as opened:
        yield opened


def invoke(*args: str, input: str | None = None) -> Result:
    """Run the `newsletter` command in-process; stdout and stderr stay apart."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def run(workspace: Path) -> Callable[..., Result]:  # noqa: ARG001 - makes it the working folder
    return invoke


CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "build" / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright (the test command installs it)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("NEWSLETTER_CHROMIUM") or shutil.which("chromium")
    assert executable, "no chromium: `make test` installs Debian's chromium package"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """A folder for screenshots, kept after the run (build/test-artifacts/<test name>)."""
    folder = ARTIFACTS / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
