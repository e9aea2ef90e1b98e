"""A workspace with the sample issues drafted and the pool filled, ready to publish."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from newsletter.config import Config
from newsletter.ingest import ingest_file
from newsletter.pool import Pool
from tests.conftest import ROOT


@pytest.fixture
def samples(workspace: Path, config: Config, pool: Pool) -> Path:
    """The two sample drafts in the workspace's issues/, the listings ingested."""
    shutil.copytree(
        ROOT / "issues" / "ilo-coop-enews",
        workspace / "issues" / "ilo-coop-enews",
        ignore=shutil.ignore_patterns("20*-*[0-9]"),
    )  # drafts only, no frozen folders
    for source in config.sources.values():
        assert source.path is not None
        ingest_file(pool, config, source.path)
    return workspace / "issues" / "ilo-coop-enews"
