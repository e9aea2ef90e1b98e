"""Pictures from the workspace: prepared with Pillow (2x, metadata gone, kind kept), named by
content, linked under the archive's base_url, kept with the published issue and served by the
archive; `check` finds the missing, unreadable and heavy ones; `render --localise-images`
fetches remote pictures once into the workspace."""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from PIL import Image, PngImagePlugin

from newsletter.archive.build import build_archive
from newsletter.config import Config, load_config
from newsletter.errors import NewsletterError
from newsletter.issue import read_issue
from newsletter.render import render_issue
from newsletter.render.pictures import DENSITY, LEAD_WIDTH, THUMBNAIL_WIDTH, prepare
from tests.conftest import ROOT

BASE = "https://newsletters.example.org/"  # the sample's [archive] base_url
SAMPLE = ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml"


def photo(width: int, height: int, **save: Any) -> bytes:
    """A JPEG with detail (so that its size means something) and whatever `save` adds."""
    picture = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 0.8, 1.2), 60).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90, **save)
    return buffer.getvalue()


def camera_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x0110] = "Model 7"  # Model
    exif[0x0112] = orientation
    exif[0xA431] = "SERIAL-123456"  # BodySerialNumber (in the Exif IFD, kept as given here)
    return exif


def workspace_issue(workspace: Path, lead_image: str, alt: str = "Delegates in Geneva") -> Path:
    """The November sample in the workspace, its lead given `lead_image`."""
    folder = workspace / "issues" / "ilo-coop-enews"
    folder.mkdir(parents=True, exist_ok=True)
    text = SAMPLE.read_text(encoding="utf-8")
    path = folder / "2020-11.toml"
    path.write_text(
        text.replace("[lead]\n", f'[lead]\nimage = "{lead_image}"\nimage_alt = "{alt}"\n'),
        encoding="utf-8",
    )
    return path


def test_a_camera_photo_is_turned_upright_resized_to_twice_its_width_and_stripped(
    tmp_path: Path,
) -> None:
    (tmp_path / "pictures").mkdir()
    icc = b"\x00" * 128  # any bytes: Pillow writes the profile it is given
    source = photo(3000, 2000, exif=camera_exif(6), icc_profile=icc, comment=b"secret place")
    (tmp_path / "pictures" / "lead.jpg").write_bytes(source)

    prepared = prepare(tmp_path, "pictures/lead.jpg", LEAD_WIDTH)

    data = prepared.file.read_bytes()
    assert prepared.name == f"media/{hashlib.sha256(data).hexdigest()[:32]}.jpg"
    assert prepared.file == tmp_path / "build" / "media" / prepared.name
    with Image.open(io.BytesIO(data)) as made:
        assert made.format == "JPEG"
        # Orientation 6: the 3000x2000 sensor picture stands 2000 wide and 3000 high.
        assert made.size == (DENSITY * LEAD_WIDTH, round(3000 * DENSITY * LEAD_WIDTH / 2000))
        assert not made.getexif()
        assert {"exif", "icc_profile", "comment"}.isdisjoint(made.info)
    assert b"SERIAL-123456" not in data
    assert b"Camera maker" not in data
    assert (prepared.width, prepared.height) == (LEAD_WIDTH, round(3000 * LEAD_WIDTH / 2000))
    assert prepared.size == len(data) < len(source)


def test_a_png_stays_png_with_its_transparency_and_without_its_text(tmp_path: Path) -> None:
    picture = Image.new("RGBA", (600, 300), (30, 45, 190, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone's full name")
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", pnginfo=info, dpi=(300, 300))
    (tmp_path / "logo.png").write_bytes(buffer.getvalue())

    prepared = prepare(tmp_path, "logo.png", 160)

    with Image.open(prepared.file) as made:
        assert made.format == "PNG"
        assert made.size == (320, 160)
        assert made.mode == "RGBA"
        assert made.getpixel((10, 10))[3] == 128
        assert "Author" not in made.info
        assert "dpi" not in made.info
    assert prepared.name.endswith(".png")


def test_a_small_picture_is_never_enlarged_and_a_second_render_reads_the_cache(
    tmp_path: Path,
) -> None:
    (tmp_path / "small.jpg").write_bytes(photo(300, 200))
    first = prepare(tmp_path, "small.jpg", LEAD_WIDTH)
    assert (first.width, first.height) == (300, 200)
    with Image.open(first.file) as made:
        assert made.size == (300, 200)
    stamp = first.file.stat().st_mtime_ns
    again = prepare(tmp_path, "small.jpg", LEAD_WIDTH)
    assert again == first
    assert first.file.stat().st_mtime_ns == stamp
    thumbnail = prepare(tmp_path, "small.jpg", THUMBNAIL_WIDTH)
    assert (thumbnail.width, thumbnail.name != first.name) == (THUMBNAIL_WIDTH, True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file in the workspace"),
        (b"not a picture at all", "cannot be read"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "cannot be read"),  # a JPEG's start, cut off
        ("GIF", "is a GIF; the email takes JPEG or PNG"),
    ],
)
def test_a_missing_unreadable_or_unsupported_picture_is_an_error_naming_it(
    tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    if content == "GIF":
        buffer = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buffer, "GIF")
        content = buffer.getvalue()
    if isinstance(content, bytes):
        (tmp_path / "lead.jpg").write_bytes(content)
    with pytest.raises(NewsletterError, match=re.escape(message)) as raised:
        prepare(tmp_path, "lead.jpg", LEAD_WIDTH)
    assert "'lead.jpg'" in str(raised.value)
    assert not (tmp_path / "build" / "media" / "media").exists()


def test_the_email_links_the_picture_under_the_archive_with_its_size(workspace: Path) -> None:
    (workspace / "pictures").mkdir()
    (workspace / "pictures" / "lead.jpg").write_bytes(photo(1600, 900))
    path = workspace_issue(workspace, "pictures/lead.jpg")
    config = load_config(workspace / "newsletter.toml")

    email = render_issue(read_issue(path, config), config)

    [(name, file)] = email.media
    assert re.fullmatch(r"media/[0-9a-f]{32}\.jpg", name)
    assert f'<img class="pic" src="{BASE}{name}" alt="Delegates in Geneva" width="552" ' \
           f'height="{round(900 * 552 / 1600)}"' in email.html  # fmt: skip
    assert file.is_file()
    assert "pictures/lead.jpg" not in email.html


def test_a_workspace_logo_is_hosted_like_the_pictures(workspace: Path) -> None:
    picture = Image.new("RGB", (480, 120), (30, 45, 190))
    picture.save(workspace / "logo.png")
    config_file = workspace / "newsletter.toml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace("[brand]\n", '[brand]\nlogo = "logo.png"\n', 1))
    config = load_config(config_file)
    email = render_issue(read_issue(SAMPLE, config), config)
    [(name, _)] = email.media
    assert re.search(rf'<img alt="[^"]*" height="40" src="{re.escape(BASE + name)}"', email.html)


def test_a_logo_given_twice_is_refused_at_its_line(workspace: Path) -> None:
    config_file = workspace / "newsletter.toml"
    text = config_file.read_text(encoding="utf-8")
    twice = '[brand]\nlogo = "logo.png"\nlogo_url = "https://x.org/l.png"\n'
    config_file.write_text(text.replace("[brand]\n", twice, 1))
    with pytest.raises(NewsletterError, match="not both") as raised:
        load_config(config_file)
    assert raised.value.line == config_file.read_text().splitlines().index('logo = "logo.png"') + 1


def test_check_names_each_bad_picture_at_its_line_and_exits_1(
    workspace: Path, run: Callable[..., Result]
) -> None:
    path = workspace_issue(workspace, "pictures/missing.jpg")
    result = run("check", "2020-11")
    assert result.exit_code == 1
    line = path.read_text().splitlines().index('image = "pictures/missing.jpg"') + 1
    assert f"issues/ilo-coop-enews/2020-11.toml:{line}: picture 'pictures/missing.jpg': no " \
           "such file in the workspace" in result.stdout  # fmt: skip
    assert "Traceback" not in result.output


def test_check_refuses_a_picture_heavier_than_the_limit(
    workspace: Path, run: Callable[..., Result]
) -> None:
    (workspace / "pictures").mkdir()
    (workspace / "pictures" / "lead.jpg").write_bytes(photo(2000, 1400))
    workspace_issue(workspace, "pictures/lead.jpg")
    config_file = workspace / "newsletter.toml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace(
        "[newsletters.ilo-coop-enews]\n",
        "[newsletters.ilo-coop-enews]\nlayout = { max_image_bytes = 10000 }\n", 1))  # fmt: skip
    result = run("check", "2020-11", "--format", "json")
    assert result.exit_code == 1
    assert "over the limit of 10,000 ([layout] max_image_bytes)" in result.stdout
    config_file.write_text(text)
    result = run("check", "2020-11", "--format", "json")
    assert '"image"' not in result.stdout
    assert result.exit_code == 0, result.stdout


def test_check_warns_that_a_picture_given_by_address_has_no_known_size(
    workspace: Path, run: Callable[..., Result]
) -> None:
    workspace_issue(workspace, "https://www.ilo.org/images/lead.jpg")
    result = run("check", "2020-11")
    assert "has no known size" in result.stdout
    assert "--localise-images" in result.stdout


def test_publish_keeps_the_pictures_and_the_archive_serves_them_where_the_email_links_them(
    workspace: Path, run: Callable[..., Result]
) -> None:
    (workspace / "pictures").mkdir()
    (workspace / "pictures" / "lead.jpg").write_bytes(photo(1600, 900))
    workspace_issue(workspace, "pictures/lead.jpg")
    assert run("publish", "2020-11").exit_code == 0
    frozen = workspace / "issues" / "ilo-coop-enews" / "2020-11" / "v1"
    html = (frozen / "email.html").read_text(encoding="utf-8")
    [url] = re.findall(rf'src="({re.escape(BASE)}media/[0-9a-f]{{32}}\.jpg)"', html)
    name = url.removeprefix(BASE)
    kept = (frozen / name).read_bytes()

    (workspace / "pictures" / "lead.jpg").unlink()  # what went out does not depend on it now
    config = load_config(workspace / "newsletter.toml")
    build_archive(config, workspace / "site")
    assert (workspace / "site" / name).read_bytes() == kept
    assert name.removeprefix("media/").removesuffix(".jpg") == hashlib.sha256(kept).hexdigest()[:32]


@pytest.fixture
def picture_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "served"
    folder.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *_args: None  # type: ignore[assignment,attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder
    server.shutdown()
    thread.join(5)


def allow_private_fetches(workspace: Path) -> None:
    config_file = workspace / "newsletter.toml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text + "\n[fetch]\nallow_private = true\nretries = 0\n")


def test_localise_images_fetches_each_picture_once_and_points_the_issue_at_the_copy(
    workspace: Path, run: Callable[..., Result], picture_server: tuple[str, Path]
) -> None:
    base, folder = picture_server
    content = photo(1200, 800)
    (folder / "lead.jpg").write_bytes(content)
    path = workspace_issue(workspace, f"{base}lead.jpg")
    allow_private_fetches(workspace)

    result = run("render", "2020-11", "--localise-images")

    assert result.exit_code == 0, result.output
    kept = f"pictures/fetched/{hashlib.sha256(content).hexdigest()[:32]}.jpg"
    assert f"fetched {base}lead.jpg -> {kept}" in result.stdout
    assert (workspace / kept).read_bytes() == content
    assert f'image = "{kept}"' in path.read_text(encoding="utf-8")
    html = (workspace / "build" / "ilo-coop-enews" / "2020-11" / "email.html").read_text()
    assert f'src="{BASE}media/' in html
    assert base not in html
    (folder / "lead.jpg").unlink()  # fetched once: the next render needs the site no more
    assert run("render", "2020-11", "--localise-images").exit_code == 0


def test_localise_images_refuses_what_is_not_a_picture_and_changes_nothing(
    workspace: Path, run: Callable[..., Result], picture_server: tuple[str, Path]
) -> None:
    base, folder = picture_server
    (folder / "lead.jpg").write_text("<html>moved</html>")
    path = workspace_issue(workspace, f"{base}lead.jpg")
    allow_private_fetches(workspace)
    before = path.read_text(encoding="utf-8")
    result = run("render", "2020-11", "--localise-images")
    assert result.exit_code == 1
    assert f"picture {base}lead.jpg is not a picture" in result.stderr
    assert path.read_text(encoding="utf-8") == before
    assert not (workspace / "pictures").exists()


def test_localise_images_refuses_a_private_address_by_default(
    workspace: Path, run: Callable[..., Result], picture_server: tuple[str, Path]
) -> None:
    base, folder = picture_server
    (folder / "lead.jpg").write_bytes(photo(100, 100))
    path = workspace_issue(workspace, f"{base}lead.jpg")
    before = path.read_text(encoding="utf-8")
    result = run("render", "2020-11", "--localise-images")
    assert result.exit_code == 1
    assert "loopback" in result.stderr
    assert path.read_text(encoding="utf-8") == before


def test_a_config_without_base_url_cannot_host_a_workspace_picture(workspace: Path) -> None:
    (workspace / "pictures").mkdir()
    (workspace / "pictures" / "lead.jpg").write_bytes(photo(800, 600))
    path = workspace_issue(workspace, "pictures/lead.jpg")
    config_file = workspace / "newsletter.toml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(re.sub(r"(?m)^base_url = .*\n", "", text, count=1))
    config: Config = load_config(config_file)
    with pytest.raises(NewsletterError, match=r"set \[archive\] base_url") as raised:
        render_issue(read_issue(path, config), config)
    assert raised.value.path == path


def test_the_published_email_loads_its_hosted_pictures_from_the_archive_in_chromium(
    workspace: Path,
    run: Callable[..., Result],
    picture_server: tuple[str, Path],
    browser: Any,
    artifacts: Path,
) -> None:
    """The whole way: workspace pictures (a lead, two thumbnails, the logo), published, the
    archive built and served at its base_url, and the archive's copy of the email opened in
    Chromium: every picture loads, with its alt, at its size, at a phone's and a desktop's
    width."""
    base, served = picture_server
    pictures = workspace / "pictures"
    pictures.mkdir()
    (pictures / "lead.jpg").write_bytes(photo(2400, 1350, exif=camera_exif(1)))
    (pictures / "a.jpg").write_bytes(photo(800, 800))
    (pictures / "b.png").write_bytes(photo(640, 480))  # a JPEG named .png: Pillow reads kinds
    Image.new("RGB", (480, 120), (30, 45, 190)).save(pictures / "logo.png")
    config_file = workspace / "newsletter.toml"
    text = config_file.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^base_url = .*$", f'base_url = "{base}"', text, count=1)
    config_file.write_text(text.replace("[brand]\n", '[brand]\nlogo = "pictures/logo.png"\n', 1))
    path = workspace_issue(workspace, "pictures/lead.jpg")
    issue_text = path.read_text(encoding="utf-8")
    for n, name in enumerate(("a.jpg", "b.png")):  # the first two items of the first section
        marker = "[[sections.items]]\n"
        at = [m.start() for m in re.finditer(re.escape(marker), issue_text)][n] + len(marker)
        insert = f'image = "pictures/{name}"\nimage_alt = "Picture {n}"\n'
        issue_text = issue_text[:at] + insert + issue_text[at:]
    path.write_text(issue_text, encoding="utf-8")

    assert run("publish", "2020-11").exit_code == 0
    build_archive(load_config(config_file), served / "site")
    site = served / "site"
    for child in site.iterdir():  # serve the site at the server's root, as base_url says
        (served / child.name).symlink_to(child.resolve(), target_is_directory=child.is_dir())

    for width in (320, 800):
        page = browser.new_page(viewport={"width": width, "height": 900})
        failed: list[str] = []
        page.on("requestfailed", lambda request, failed=failed: failed.append(request.url))
        page.goto(f"{base}ilo-coop-enews/2020-11/email.html")
        page.wait_for_load_state("networkidle")
        images = page.evaluate("""[...document.images].map(i => ({src: i.getAttribute('src'),
            alt: i.getAttribute('alt'), loaded: i.complete && i.naturalWidth > 0,
            natural: i.naturalWidth, width: i.getBoundingClientRect().width}))""")
        assert len(images) == 4
        assert all(i["loaded"] and i["alt"] and i["src"].startswith(f"{base}media/")
                   for i in images), images  # fmt: skip
        lead = max(images, key=lambda i: i["width"])
        assert lead["width"] <= min(LEAD_WIDTH, width)
        assert lead["natural"] == DENSITY * LEAD_WIDTH  # sharp on a high-density screen
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert failed == []
        page.screenshot(path=str(artifacts / f"hosted-{width}.png"), full_page=True)
        page.close()


def test_the_archive_serves_each_picture_once_and_its_own_workspace_logo(
    workspace: Path, run: Callable[..., Result]
) -> None:
    """Two issues leading with the same picture, and the brand's logo a workspace file that
    the emails and the site's header both show: each file is served once, and a second
    (incremental) build keeps them."""
    pictures = workspace / "pictures"
    pictures.mkdir()
    (pictures / "lead.jpg").write_bytes(photo(1600, 900))
    Image.new("RGB", (480, 120), (30, 45, 190)).save(pictures / "logo.png")
    config_file = workspace / "newsletter.toml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace("[brand]\n", '[brand]\nlogo = "pictures/logo.png"\n', 1))
    november = workspace_issue(workspace, "pictures/lead.jpg")
    october = november.with_name("2020-10.toml")
    october_text = (ROOT / "issues" / "ilo-coop-enews" / "2020-10.toml").read_text()
    october.write_text(october_text.replace(
        "[lead]\n", '[lead]\nimage = "pictures/lead.jpg"\nimage_alt = "Delegates"\n'))  # fmt: skip
    for slug in ("2020-10", "2020-11"):
        assert run("publish", slug).exit_code == 0
    config = load_config(config_file)

    build_archive(config, workspace / "site")
    again = build_archive(config, workspace / "site")

    media = sorted(p.name for p in (workspace / "site" / "media").iterdir())
    assert len(media) == 2  # the lead picture and the logo, once each
    assert again.written == []
    home = (workspace / "site" / "index.html").read_text(encoding="utf-8")
    logo = next(name for name in media if name.endswith(".png"))
    assert f'<img class="logo" src="{BASE}media/{logo}"' in home
