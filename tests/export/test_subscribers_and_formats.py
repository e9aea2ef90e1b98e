"""Subscriber lists, ESP payloads and bundles."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.errors import NewsletterError
from newsletter.export import FORMATS, export_issue
from newsletter.export.subscribers import read_subscribers
from newsletter.issue import read_issue
from tests.conftest import ROOT


def subscribers_file(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "subscribers.csv"
    if isinstance(text, str):
        path.write_text(text, "utf-8")
    else:
        path.write_bytes(text)
    return path


def test_a_clean_list_with_a_bom_and_semicolons(tmp_path: Path) -> None:
    path = subscribers_file(
        tmp_path, "\ufeffName;Email\nJosé Pérez;jose@example.org\n;ana@Example.ORG\n"
    )
    found, problems = read_subscribers(path)
    assert problems == []
    assert [(s.address, s.name) for s in found] == [
        ("jose@example.org", "José Pérez"),
        ("ana@example.org", ""),
    ]


def test_problems_are_listed_and_skipped(tmp_path: Path) -> None:
    path = subscribers_file(
        tmp_path,
        "email,name\n"
        "good@example.org,Good\n"
        "not-an-address,Bad\n"
        "GOOD@example.org,Shouting\n"
        '"evil@example.org","Eve\r\nBcc: all@example.org"\n'
        "sly@example.org,Sly Bcc: all@example.org\n"
        "also@example.org,Also fine\n",
    )
    found, problems = read_subscribers(path)
    assert [s.address for s in found] == ["good@example.org", "also@example.org"]
    described = [(p.line, p.message.split(" (")[0].split(":")[0]) for p in problems]
    assert described == [
        (3, "invalid address"),
        (4, "the same address as line 2"),
        (5, "the name"),  # where the row starts: its quoted name spans two lines
        (7, "a name that reads like a header"),
    ]
    assert str(problems[0]).startswith(f"{path}:3: invalid address")


def test_a_list_without_an_email_column(tmp_path: Path) -> None:
    with pytest.raises(NewsletterError) as caught:
        read_subscribers(subscribers_file(tmp_path, "name,phone\nBob,123\n"))
    assert caught.value.line == 1
    assert caught.value.message.startswith("no email column (columns: name, phone;")


@pytest.fixture(scope="module")
def november() -> tuple[object, object]:
    config = load_config(ROOT / "newsletter.toml", environ={})
    return read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", config), config


@pytest.mark.parametrize(
    ("provider", "unsubscribe", "html_key"),
    [
        ("mailchimp", "*|UNSUB|*", ("content", "html")),
        ("sendgrid", "{{{unsubscribe}}}", ("email_config", "html_content")),
        ("listmonk", "{{ UnsubscribeURL }}", ("body",)),
    ],
)
def test_esp_payloads_use_each_providers_merge_tags(
    november: tuple[object, object], provider: str, unsubscribe: str, html_key: tuple[str, ...]
) -> None:
    issue, config = november
    payload = json.loads(export_issue(issue, config, provider))  # type: ignore[arg-type]
    html = payload
    for key in html_key:
        html = html[key]
    assert f'href="{unsubscribe}"' in html
    assert "%%" not in json.dumps(payload)
    assert "utm_campaign=2020-11" in html


def test_an_unknown_format_lists_the_formats(november: tuple[object, object]) -> None:
    issue, config = november
    with pytest.raises(NewsletterError, match="unknown format 'mailgun'; formats: eml, bundle, "
                       "mailchimp, sendgrid, listmonk"):  # fmt: skip
        export_issue(issue, config, "mailgun")  # type: ignore[arg-type]
    assert FORMATS == ("eml", "bundle", "mailchimp", "sendgrid", "listmonk")


def test_the_bundle(november: tuple[object, object]) -> None:
    issue, config = november
    data = export_issue(issue, config, "bundle")  # type: ignore[arg-type]
    assert data == export_issue(issue, config, "bundle")  # type: ignore[arg-type]
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert bundle.namelist() == ["email.html", "email.txt", "manifest.json"]
        manifest = json.loads(bundle.read("manifest.json"))
        assert "%%unsubscribe_url%%" in bundle.read("email.html").decode()
    assert manifest["issue"] == "ilo-coop-enews/2020-11"
    assert manifest["subject"] == "ILO COOP eNews - November issue"
    assert manifest["from"] == "ILO COOP eNews <coop-enews@newsletters.example.org>"
    assert manifest["merge_tags"] == {"unsubscribe_url": "%%unsubscribe_url%%"}


def test_export_command_writes_each_format(run: object, workspace: Path) -> None:
    from click.testing import Result

    folder = workspace / "issues" / "ilo-coop-enews"
    folder.mkdir(parents=True)
    (folder / "2020-11.toml").write_text(
        (ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml").read_text()
    )
    for export_format, name in [("eml", "email.eml"), ("bundle", "email.zip"),
                                ("listmonk", "email.listmonk.json")]:  # fmt: skip
        result: Result = run("export", "2020-11", "--format", export_format)  # type: ignore[operator]
        assert result.exit_code == 0, result.stderr
        path = workspace / "build" / "ilo-coop-enews" / "2020-11" / name
        assert result.stdout.startswith(f"wrote build/ilo-coop-enews/2020-11/{name} (")
        assert path.stat().st_size > 1000
    custom = run("export", "2020-11", "-o", "out/issue.eml")  # type: ignore[operator]
    assert custom.exit_code == 0
    assert b"\r\nSubject: ILO COOP eNews" in (workspace / "out" / "issue.eml").read_bytes()
    unknown = run("export", "2020-11", "--format", "mailgun")  # type: ignore[operator]
    assert unknown.exit_code == 2
    assert "'mailgun' is not one of 'eml', 'bundle', 'mailchimp', 'sendgrid', 'listmonk'" in (
        unknown.stderr
    )
