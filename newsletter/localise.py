"""`render --localise-images`: a draft's pictures fetched once into the workspace.

A picture linked from a source site can move, be replaced, or vanish after the email is sent;
its size is unknown, so the email cannot keep its place while it loads. Fetched once (through
the same guarded fetcher as sources: no private address unless [fetch] allows it), checked to
be a JPEG or PNG, and kept as pictures/fetched/<digest>.<ext>, it becomes a workspace picture:
measured, resized and hosted with the archive like any other (render/pictures.py). The issue
file is then pointed at the copy, so the next render fetches nothing.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.files import is_workspace_path, write_atomically_bytes
from newsletter.issue import read_issue
from newsletter.issue.editing import find, set_field
from newsletter.issue.writing import edited
from newsletter.render.pictures import EXTENSIONS

FOLDER = Path("pictures") / "fetched"


@dataclass(frozen=True, slots=True)
class Localised:
    address: str
    path: str  # in the workspace, as the issue file now gives it


def localise_pictures(path: Path, config: Config) -> list[Localised]:
    """Fetch each picture of the draft at `path` given by an address, keep it in the
    workspace, and point the issue at it. A picture that cannot be had is an error naming it,
    and the file is left as it was."""
    from newsletter.ingest.fetch import fetch

    issue = read_issue(path, config)
    remote = {item.uid: item.image for item in issue.items
              if item.image and not is_workspace_path(item.image)}  # fmt: skip
    kept: dict[str, str] = {}
    for address in dict.fromkeys(remote.values()):
        assert address is not None
        fetched = fetch(address, settings=config.fetch, allow_private=config.fetch.allow_private)
        content = fetched.document.content if fetched.document else None
        if not content:
            raise NewsletterError(f"picture {address}: the server sent nothing", path)
        extension = _picture_kind(content, address, path)
        name = (FOLDER / f"{hashlib.sha256(content).hexdigest()[:32]}.{extension}").as_posix()
        write_atomically_bytes(config.root / name, content)
        kept[address] = name
    done = []
    with edited(path, config) as (_, document):
        for uid, address in remote.items():
            _, table = find(document, uid)
            if table.get("image") == address:  # unless the editor changed it meanwhile
                set_field(table, "image", kept[str(address)])
                done.append(Localised(str(address), kept[str(address)]))
    return done


def _picture_kind(content: bytes, address: str, path: Path) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as picture:
            kind = picture.format
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise NewsletterError(f"picture {address} is not a picture: {error}", path) from None
    extension = EXTENSIONS.get(kind or "")
    if extension is None:
        raise NewsletterError(f"picture {address} is a {kind}; the email takes JPEG or PNG", path)
    return extension
