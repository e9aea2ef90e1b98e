"""Type labels map to sections by patterns, and `newsletter types` shows where each goes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from newsletter.config import SectionConfig

Run = Callable[..., Result]


def test_type_patterns_ignore_case_and_accents_and_take_a_star() -> None:
    section = SectionConfig("News", types=("News", "Press release*", "Communiqu* de presse"))
    assert section.takes_type("news")
    assert section.takes_type("Press releases")
    assert section.takes_type("PRESS RELEASE - ILO")
    assert section.takes_type("Communiqué de presse")
    assert not section.takes_type("Newsletter")  # a whole label, not a prefix
    assert not section.takes_type("Statement")


def test_types_lists_every_label_with_its_section_and_what_falls_through(
    run: Run, workspace: Path
) -> None:
    toml = workspace / "newsletter.toml"
    toml.write_text(toml.read_text("utf-8").replace(
        'types = ["News", "Press release*"]', 'types = ["News", "Press*"]'), "utf-8")  # fmt: skip
    listing = workspace / "topics.txt"
    listing.write_text(
        "What's new\n\n  1. Our impact, Their voices\n\n    A cooperative in Kenya\n\n"
        "    3 November 2020\n\n  2. Press releases\n\n    Cooperatives and the crisis\n\n"
        "    4 November 2020\n", "utf-8",
    )  # fmt: skip
    assert run("ingest", "--all").exit_code == 0
    assert run("ingest", str(listing)).exit_code == 0
    table = run("types")
    assert table.exit_code == 0, table.stderr
    lines = {line.split("  ")[0]: line for line in table.stdout.splitlines()}
    assert "More (no section takes it)" in lines["Our impact, Their voices"]
    assert lines["Press releases"].rstrip().endswith("News")
    records = json.loads(run("types", "--format", "json").stdout)
    assert {r["type"]: r["configured"] for r in records}["Our impact, Their voices"] is False
    assert {r["type"]: r["items"] for r in records}["News"] == 7
