"""Render once, personalise many: each recipient's message is the issue's already encoded
message with their values spliced into it, encoded as the part around them is.

Building an EmailMessage per recipient re-encodes the whole issue every time; here the
quoted-printable bodies are encoded once and cut into slices at the merge tags, so a message
costs a join. A value goes in quoted-printable-encoded (so a URL's `=` still decodes to `=`),
HTML-escaped in the HTML part, and wrapped so that no line passes 76 characters.
"""

from __future__ import annotations

import binascii
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.header import Header

from newsletter.config import NewsletterConfig
from newsletter.export.mime import POLICY, build_message, list_unsubscribe
from newsletter.model import MERGE_TAGS, RenderedEmail, merge_tag

QP_LINE = 76
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PART_TYPE = re.compile(rb"Content-Type: text/(plain|html)")


def _tag_pattern(name: str) -> bytes:
    # A soft line break ("=" CRLF) may fall anywhere inside the tag in the encoded body.
    return rb"(?:=\r\n)?".join(re.escape(bytes([c])) for c in merge_tag(name).encode())


_TAGS = re.compile(b"|".join(b"(" + _tag_pattern(name) + b")" for name in MERGE_TAGS))


def qp_inline(value: str, column: int, line_follows: bool) -> bytes:
    """`value` encoded to stand at `column` of a quoted-printable line: soft breaks keep every
    line within 76 characters, and one comes after it when the line goes on behind the value.

    binascii's encoder does the work: `column` plain characters in front of the value make it
    break the first line where this line must, and one behind it keeps room for the "=" of
    the soft break that follows; both are cut off again.
    """
    if not value:
        return b""
    data = b"x" * column + value.encode("utf-8") + (b"x" if line_follows else b"")
    encoded = binascii.b2a_qp(data, quotetabs=True)[column:]
    if line_follows:
        encoded = encoded[:-1]  # the "x" behind
        if not encoded.endswith(b"=\n"):
            encoded += b"=\n"
    return encoded.replace(b"=\n", b"=\r\n")


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str
    html: bool
    column: int
    line_follows: bool


class MessageTemplate:
    """An issue's message, encoded once, ready to be personalised for each recipient."""

    def __init__(
        self,
        email: RenderedEmail,
        newsletter: NewsletterConfig,
        *,
        date: datetime,
        subject_prefix: str = "",
    ):
        message = build_message(
            email, newsletter, message_id="<x@x>", date=date, subject_prefix=subject_prefix
        )
        for name in ("Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
            del message[name]  # each recipient gets their own
        encoded = message.as_bytes(policy=POLICY)
        head, _, body = encoded.partition(b"\r\n\r\n")
        self.head = head + b"\r\n"
        self.newsletter = newsletter
        self.mailto = newsletter.sender.unsubscribe_mailto if newsletter.sender else None
        self.pieces, self.slots = _cut(body)

    def personalise(
        self, address: str, name: str, message_id: str, values: Mapping[str, str]
    ) -> bytes:
        """The whole message for one recipient, ready for SMTP's DATA."""
        headers = [b"To: " + _mailbox(name, address), b"Message-ID: " + message_id.encode("ascii")]
        unsubscribe = list_unsubscribe(values.get("unsubscribe_url"), self.mailto)
        if unsubscribe:
            # Folded between its links: a long signed URL alone is line enough.
            folded = _header_text(unsubscribe).replace(b", <", b",\r\n <")
            headers.append(b"List-Unsubscribe: " + folded)
            if values.get("unsubscribe_url"):
                headers.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        out = [self.head, b"\r\n".join(headers), b"\r\n\r\n", self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            value = values.get(slot.name, "")
            if slot.html:
                value = html.escape(value, quote=True)
            out += [qp_inline(value, slot.column, slot.line_follows), piece]
        return b"".join(out)


def _cut(body: bytes) -> tuple[list[bytes], list[_Slot]]:
    """The encoded body in pieces between merge tags, and what each gap holds."""
    parts = [(match.start(), match.group(1) == b"html") for match in _PART_TYPE.finditer(body)]
    pieces, slots, position = [], [], 0
    for match in _TAGS.finditer(body):
        name = MERGE_TAGS[(match.lastindex or 1) - 1]  # one group per tag, in MERGE_TAGS' order
        start, end = match.span()
        in_html = next((is_html for at, is_html in reversed(parts) if at < start), False)
        line_start = body.rfind(b"\r\n", 0, start) + 2  # 0 when the tag is on the first line
        pieces.append(body[position:start])
        slots.append(_Slot(name, in_html, start - line_start, not body.startswith(b"\r\n", end)))
        position = end
    pieces.append(body[position:])
    return pieces, slots


def _header_text(text: str) -> bytes:
    if "\r" in text or "\n" in text:
        raise ValueError("header values may not contain CR or LF")
    return text.encode("ascii")


def _mailbox(name: str, address: str) -> bytes:
    """`"Name" <address>`, the name RFC 2047-encoded when not ASCII; CR and LF refused."""
    if _CONTROL.search(name) or _CONTROL.search(address) or not address.isascii():
        raise ValueError("a mailbox may not contain CR, LF or other control characters")
    if not name:
        return f"<{address}>".encode()
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'.encode()
    encoded = Header(name, "utf-8").encode(linesep="\r\n")
    return f"{encoded} <{address}>".encode()
