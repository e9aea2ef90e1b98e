"""Found in review: what a send's dry run says, against what the send then does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Run = Callable[..., Result]


@pytest.mark.usefixtures("mail_server")
def test_a_dry_run_to_a_list_file_counts_who_left_the_list_and_who_was_forgotten_as_suppressed(
    run: Run, sending_workspace: Path
) -> None:
    gone = sending_workspace / "gone.csv"
    gone.write_text("email\nleft@example.org\n", "utf-8")
    assert run("subscribers", "import", str(gone), "--status", "unsubscribed").exit_code == 0
    assert run("subscribers", "forget", "erased@example.org", "--yes").exit_code == 0
    listing = sending_workspace / "list.csv"
    listing.write_text("email\nleft@example.org\nerased@example.org\nstays@example.org\n")

    dry = run("send", "ilo-coop-enews/2020-11", "--list", str(listing), "--dry-run")
    real = run("send", "ilo-coop-enews/2020-11", "--list", str(listing), "--rate", "0")

    assert real.exit_code == 0, real.stderr
    assert "sent 1, already sent 0, suppressed 2" in real.stdout
    assert "would send 1, already sent 0, suppressed 2" in dry.stdout, dry.stdout
