"""Pictures from the workspace, made ready to be hosted with the archive.

An issue's `image` (and the brand's `logo`) may be a path in the workspace rather than an
address. Such a picture is resized with Pillow to twice the width it is shown at (sharp on
high-density screens; never enlarged), its metadata dropped (a camera's EXIF, GPS position,
XMP and comments do not go to every subscriber; the EXIF rotation is applied first), kept as
JPEG or PNG, and named by its content: `media/<digest>.<ext>`. The email links it under the
archive's base_url; `publish` keeps the file with the frozen issue and `archive` serves it.

Prepared files are kept in build/media/ by the source's digest and the width, so a picture is
decoded once, not at every render.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import NewsletterError
from newsletter.files import write_atomically, write_atomically_bytes

LEAD_WIDTH = 552  # CSS pixels: the column (600) less its padding
THUMBNAIL_WIDTH = 120
DENSITY = 2  # pixels per CSS pixel in the prepared file
MAX_SOURCE_BYTES = 50_000_000  # a source larger than this is not opened at all
MAX_SOURCE_PIXELS = 80_000_000  # nor one that would decode to more (a "decompression bomb")
JPEG_QUALITY = 82
PREPARATION = "1"  # changes with how pictures are prepared: old files keep their names
EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}  # what every email client shows


@dataclass(frozen=True, slots=True)
class Prepared:
    """A workspace picture as the email links it."""

    name: str  # "media/<digest>.<ext>", under the archive's base_url
    width: int  # CSS pixels it is shown at
    height: int
    size: int  # bytes of the prepared file
    file: Path  # the prepared file, in build/media/


def source_of(root: Path, image: str) -> Path:
    """The file a workspace path names; never one outside the workspace."""
    path = Path(image)
    if path.is_absolute() or ".." in path.parts:
        raise NewsletterError(f"picture {image!r}: give a path inside the workspace, like "
                              "pictures/lead.jpg")  # fmt: skip
    return root / path


def prepare(root: Path, image: str, width: int) -> Prepared:
    """The picture at workspace path `image`, prepared to be shown `width` CSS pixels wide."""
    source = source_of(root, image)
    try:
        size = source.stat().st_size
    except OSError:
        raise NewsletterError(f"picture {image!r}: no such file in the workspace") from None
    if size > MAX_SOURCE_BYTES:
        raise NewsletterError(f"picture {image!r} is {size:,} bytes; the limit for a source "
                              f"picture is {MAX_SOURCE_BYTES:,}")  # fmt: skip
    data = source.read_bytes()
    cache = root / "build" / "media"
    key = hashlib.sha256(data).hexdigest()[:32]
    index = cache / "index" / f"{key}-{width}-{PREPARATION}"
    if index.is_file():
        name, known_width, known_height = index.read_text(encoding="ascii").split()
        file = cache / name
        if file.is_file():
            return Prepared(name, int(known_width), int(known_height), file.stat().st_size, file)
    prepared, shown_width, shown_height, extension = _resized(data, image, width)
    name = f"media/{hashlib.sha256(prepared).hexdigest()[:32]}.{extension}"
    file = cache / name
    write_atomically_bytes(file, prepared)
    write_atomically(index, f"{name} {shown_width} {shown_height}\n")
    return Prepared(name, shown_width, shown_height, len(prepared), file)


def _resized(data: bytes, image: str, width: int) -> tuple[bytes, int, int, str]:
    """(the file's bytes, width and height shown, extension)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as opened:
            kind = opened.format or ""
            if kind not in EXTENSIONS:
                raise NewsletterError(f"picture {image!r} is a {kind or 'file of unknown kind'}; "
                                      "the email takes JPEG or PNG")  # fmt: skip
            picture = ImageOps.exif_transpose(opened)
            picture.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise NewsletterError(f"picture {image!r} cannot be read: {error}") from None
    shown_width = min(width, picture.width)
    shown_height = max(1, round(picture.height * shown_width / picture.width))
    pixels = min(DENSITY * width, picture.width)
    if pixels < picture.width:
        height = max(1, round(picture.height * pixels / picture.width))
        picture = picture.resize((pixels, height), Image.Resampling.LANCZOS)
    # Pillow falls back on what the source carried (a colour profile, EXIF, text, dpi) for some
    # of them: only a palette's transparency is a part of the picture itself.
    picture.info = {k: v for k, v in picture.info.items() if k == "transparency"}
    buffer = io.BytesIO()
    if kind == "JPEG":
        if picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        picture.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    else:
        picture.save(buffer, "PNG", optimize=True)
    return buffer.getvalue(), shown_width, shown_height, EXTENSIONS[kind]
