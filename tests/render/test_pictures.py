"""Pictures in the email: the lead's across the column, items' as thumbnails beside their text
(above it on phones), each with its alt text; checked in Chromium at phone to desktop widths,
in dark mode and with axe-core."""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Config, load_config
from newsletter.issue import Issue, check_issue, read_issue
from newsletter.render import render_issue
from newsletter.render.checks import check_email
from tests.conftest import ROOT

AXE = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (320, 375, 600, 800)
LEAD_ALT = "Delegates of the ILO COOP 100 symposium on the stage in Geneva"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour, made with zlib alone."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def with_pictures(issue: Issue, base: str) -> Issue:
    """The sample with a picture on its lead and on the first two items of its first section."""
    assert issue.lead is not None
    lead = replace(issue.lead, image=f"{base}lead.png", image_alt=LEAD_ALT,
                   image_credit="© ILO/M. Crozet")  # fmt: skip
    first = issue.sections[0]
    items = tuple(
        replace(item, image=f"{base}thumb{n}.png", image_alt=f"Picture {n} of {item.title}")
        if n < 2 else item
        for n, item in enumerate(first.items)
    )  # fmt: skip
    return replace(issue, lead=lead, sections=(replace(first, items=items), *issue.sections[1:]))


@dataclass
class Served:
    url: str  # of email.html
    issue: Issue
    html: str


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(ROOT / "newsletter.toml", environ={})


@pytest.fixture(scope="module")
def served(config: Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("pictures")
    (folder / "lead.png").write_bytes(png(1104, 600, (30, 45, 190)))
    for n, colour in enumerate([(200, 120, 40), (40, 160, 90)]):
        (folder / f"thumb{n}.png").write_bytes(png(240, 240, colour))
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *_args: None  # type: ignore[assignment,attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    sample = read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", config)
    issue = with_pictures(sample, base)
    email = render_issue(issue, config)
    (folder / "email.html").write_text(email.html, encoding="utf-8")
    yield Served(f"{base}email.html", issue, email.html)
    server.shutdown()
    thread.join(5)


def test_the_html_shows_each_picture_with_its_alt_and_never_inlined(served: Served) -> None:
    html = served.html
    assert f'alt="{LEAD_ALT}"' in html
    assert 'width="552"' in html
    assert html.count('width="120"') >= 2
    assert "© ILO/M. Crozet" in html
    assert "data:" not in html


def test_a_picture_without_alt_text_is_an_error_naming_its_item(
    served: Served, config: Config
) -> None:
    assert served.issue.lead is not None
    bare = replace(served.issue, lead=replace(served.issue.lead, image_alt=None))
    errors = [f.message for f in check_email(bare, render_issue(bare, config))
              if f.severity == "error"]  # fmt: skip
    assert errors == [f"the picture of {served.issue.lead.title!r} has no image_alt: say what it "
                      'shows, or write image_alt = "" if it only decorates']  # fmt: skip
    decorative = replace(served.issue, lead=replace(served.issue.lead, image_alt=""))
    assert not [f for f in check_email(decorative, render_issue(decorative, config))
                if f.severity == "error"]  # fmt: skip


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("data:image/png;base64,iVBORw0KGgo=", "not the picture inlined as a data: URI"),
        ("/images/lead.png", "a path inside the workspace"),
        ("../outside/lead.png", "a path inside the workspace"),
        ("ftp://example.org/lead.png", "must be an http(s) address"),
    ],
)
def test_an_issue_file_refuses_a_picture_that_is_not_an_address(
    config: Config, tmp_path: Path, image: str, message: str
) -> None:
    text = (ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml").read_text()
    path = tmp_path / "2020-11.toml"
    path.write_text(text.replace("[lead]\n", f'[lead]\nimage = "{image}"\nimage_alt = "x"\n'))
    issue, findings = check_issue(path, config)
    assert issue is None
    line = path.read_text().splitlines().index(f'image = "{image}"') + 1
    assert [(f.line, f.severity) for f in findings if message in f.message] == [(line, "error")]


@pytest.mark.parametrize("width", WIDTHS)
def test_pictures_fit_load_and_stack_from_phone_to_desktop(
    browser: Any, served: Served, artifacts: Path, width: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(served.url)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    images = page.evaluate("""[...document.images].map(i => ({src: i.getAttribute('src'),
        alt: i.getAttribute('alt'), loaded: i.complete && i.naturalWidth > 0,
        width: i.getBoundingClientRect().width}))""")
    assert len(images) == 3
    assert all(image["loaded"] and image["alt"] for image in images), images
    lead = next(image for image in images if image["src"].endswith("lead.png"))
    assert lead["width"] <= min(600, width)
    assert lead["width"] >= min(552, width - 48) - 1  # the column's width, fluid below it
    picture = page.locator("td.thc").first.bounding_box()
    words = page.locator("td.txc").first.bounding_box()
    assert picture is not None
    assert words is not None
    if width >= 600:  # beside the text
        assert picture["x"] + picture["width"] <= words["x"] + 1
        assert abs(picture["y"] - words["y"]) < 2
    else:  # above it
        assert picture["y"] + picture["height"] <= words["y"] + 1
    assert failed == []
    page.screenshot(path=str(artifacts / f"pictures-{width}.png"), full_page=True)
    page.close()


def test_pictures_in_dark_mode_keep_the_text_readable(
    browser: Any, served: Served, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 900}, color_scheme="dark")
    page.goto(served.url)
    page.wait_for_load_state("networkidle")
    assert page.locator("h3.ti a").first.evaluate("e => getComputedStyle(e).color") == (
        "rgb(232, 234, 237)"
    )
    assert page.locator("p.cr").first.evaluate("e => getComputedStyle(e).color") == (
        "rgb(169, 177, 187)"
    )
    page.screenshot(path=str(artifacts / "pictures-dark-375.png"), full_page=True)
    page.close()


def test_axe_finds_nothing_serious_in_the_email_with_pictures(browser: Any, served: Served) -> None:
    assert AXE.is_file(), "axe-core is missing: `make test` installs it from the npm registry"
    context = browser.new_context(viewport={"width": 800, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(served.url)
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate("axe.run().then(r => r.violations)")
    serious = [(v["id"], v["impact"]) for v in found if v["impact"] in ("serious", "critical")]
    assert serious == []
    context.close()
