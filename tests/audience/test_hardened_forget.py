"""Found in review: `subscribers forget` of an address written otherwise than the list has it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from newsletter.config import load_config
from newsletter.pool import Pool

Run = Callable[..., Result]


def test_forget_finds_an_internationalised_address_written_in_its_ascii_form(
    run: Run, workspace: Path
) -> None:
    listing = workspace / "list.csv"
    listing.write_text("email\nuser@bücher.example.org\n", "utf-8")
    assert run("subscribers", "import", str(listing)).exit_code == 0

    result = run("subscribers", "forget", "user@xn--bcher-kva.example.org", "--yes")

    with Pool.open(load_config(workspace / "newsletter.toml").database_url) as pool:
        left = [r.address for r in pool.subscribers()]
    assert left == [], result.stdout


def test_forget_of_an_address_with_a_space_around_it_finds_it(run: Run, workspace: Path) -> None:
    listing = workspace / "list.csv"
    listing.write_text("email\nana@example.org\n", "utf-8")
    assert run("subscribers", "import", str(listing)).exit_code == 0

    result = run("subscribers", "forget", "ana@example.org ", "--yes")  # pasted

    with Pool.open(load_config(workspace / "newsletter.toml").database_url) as pool:
        left = [r.address for r in pool.subscribers()]
    assert left == [], result.stdout
