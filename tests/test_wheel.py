"""The package as a user installs it: the wheel built, installed into a fresh virtualenv, and
the whole job run from an empty folder, from `newsletter init` to the archive.

The fresh venv takes the dependencies from this test's own environment (a path file, read
after the venv's own site-packages), so that the test needs no network; the `newsletter`
package itself comes from the wheel only, which the test checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from datetime import date, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LISTING = Path(__file__).resolve().parent / "data" / "listings" / "credits.txt"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv holding the built wheel."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(work / "dist"), str(ROOT)],
        check=True,
    )  # fmt: skip
    [wheel] = (work / "dist").glob("newsletter-*.whl")
    environment = work / "venv"
    venv.create(environment, with_pip=False)
    purelib = Path(
        sysconfig.get_path("purelib", vars={"base": str(environment), "platbase": str(environment)})
    )
    (purelib / "zz-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(purelib), str(wheel)],
        check=True,
    )  # fmt: skip
    return environment / "bin"


def newsletter(bin_folder: Path, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(bin_folder / "python"), "-m", "newsletter", *args]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True)


def test_the_wheel_holds_the_themes_and_runs_the_whole_job(installed: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    where = newsletter(installed, folder, "--version")
    assert where.returncode == 0, where.stderr
    show_theme = "import newsletter.render.theme as t; print(t.DEFAULT_THEME)"
    located = subprocess.run(
        [str(installed / "python"), "-c", show_theme],
        capture_output=True, text=True, check=True, cwd=folder,
    ).stdout.strip()  # fmt: skip
    assert located.startswith(str(installed.parent)), located  # the wheel's copy, not ROOT's
    assert (Path(located) / "email.mjml.j2").is_file()

    started = newsletter(installed, folder, "init", "--name", "Coop Weekly")
    assert started.returncode == 0, started.stderr
    assert "newsletter ingest --all" in started.stdout
    config = folder / "newsletter.toml"
    config.write_text(config.read_text().replace('primary = "#1e2dbe"', 'primary = "#8a1538"'))
    (folder / "credits.txt").write_text(LISTING.read_text())
    month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    issue = f"coop-weekly/{month}"
    steps = [
        ("ingest", "--all"),
        ("ingest", "credits.txt"),
        ("draft", "coop-weekly", "--month", month),
        ("render", issue),
        ("check", issue),
        ("export", issue),
        ("publish", issue),
        ("archive", "build", "-o", "site"),
    ]
    for step in steps:
        result = newsletter(installed, folder, *step)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    assert (folder / "build" / "coop-weekly" / month / "email.eml").is_file()
    pages = list((folder / "site").rglob("index.html"))
    assert len(pages) >= 3
    assert "#8a1538" in (folder / "site" / "assets" / "brand.css").read_text()
    email = (folder / "site" / "coop-weekly" / month / "email.html").read_text()
    assert "#8a1538" in email.lower()
