"""What leaves the building scores 0.0 with SpamAssassin (Debian's spamassassin, its offline
rules: `spamassassin -L -t`, which `make test` installs): the exported .eml of each sample,
and the messages `send` hands an SMTP server."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import Result

from tests.export.conftest import MailServer, write_subscribers

Run = Callable[..., Result]
SAMPLES = ("ilo-coop-enews/2020-10", "ilo-coop-enews/2020-11")


def spam_score(message: bytes) -> tuple[float, str]:
    """SpamAssassin's score of the message and the rules that fired."""
    program = shutil.which("spamassassin")
    assert program, "no spamassassin: `make test` installs Debian's spamassassin package"
    checked = subprocess.run([program, "-L", "-t"], input=message, capture_output=True,
                             check=True, timeout=120)  # fmt: skip
    head = checked.stdout.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+) .*?tests=([^\n]*(?:\n\s[^\n]*)*)",
                       head, re.MULTILINE)  # fmt: skip
    assert status, head
    return float(status.group(1)), " ".join(status.group(2).split())


@pytest.mark.parametrize("issue", SAMPLES)
def test_an_exported_eml_scores_zero(run: Run, sending_workspace: Path, issue: str) -> None:
    assert run("export", issue, "--format", "eml", "-o", "out.eml").exit_code == 0
    score, rules = spam_score((sending_workspace / "out.eml").read_bytes())
    assert score == 0.0, rules


def test_the_score_has_teeth(run: Run, sending_workspace: Path) -> None:
    """The same export without its To: is what SpamAssassin scored 3.3 before."""
    assert run("export", SAMPLES[1], "--format", "eml", "-o", "out.eml").exit_code == 0
    data = (sending_workspace / "out.eml").read_bytes()
    without_to = re.sub(rb"^To: [^\r\n]*\r\n", b"", data, count=1, flags=re.MULTILINE)
    assert without_to != data
    score, rules = spam_score(without_to)
    assert score > 0
    assert "MISSING_HEADERS" in rules


def test_messages_sent_to_a_list_and_a_proof_score_zero(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    write_subscribers(sending_workspace / "subscribers.csv", 2)
    assert run("send", SAMPLES[1], "--list", "subscribers.csv", "--rate", "0").exit_code == 0
    assert run("send", SAMPLES[1], "--to", "editor@example.org").exit_code == 0
    assert len(mail_server.messages) == 3
    for received in mail_server.messages:
        score, rules = spam_score(received.data)
        assert score == 0.0, (received.recipient, rules)


def test_an_issue_with_pictures_scores_zero(run: Run, sending_workspace: Path) -> None:
    path = sending_workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    pictures = (
        '[lead]\nimage = "https://www.ilo.org/wcmsp5/groups/public/images/symposium.jpg"\n'
        'image_alt = "Delegates of the ILO COOP 100 symposium on the stage in Geneva"\n'
        'image_credit = "© ILO/M. Crozet"\n'
    )
    path.write_text(path.read_text().replace("[lead]\n", pictures))
    assert run("check", SAMPLES[1]).exit_code == 0
    assert run("export", SAMPLES[1], "--format", "eml", "-o", "out.eml").exit_code == 0
    data = (sending_workspace / "out.eml").read_bytes()
    message = message_from_bytes(data, policy=policy.default)
    html = message.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    assert 'src="https://www.ilo.org/wcmsp5/groups/public/images/symposium.jpg"' in html
    score, rules = spam_score(data)
    assert score == 0.0, rules
