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

from newsletter.config import NewsletterConfig
from newsletter.export.mime import (
    list_unsubscribe_headers,
    message_body,
    message_head,
    message_id_header,
)
from newsletter.headers import mailbox_header
from newsletter.model import MERGE_TAGS, RenderedEmail, merge_tag

QP_LINE = 76
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
        head = message_head(email, newsletter, date=date, subject_prefix=subject_prefix)
        entity_head, _, body = message_body(email).partition(b"\r\n\r\n")
        self.head = b"\r\n".join([*head, entity_head]) + b"\r\n\r\n"
        self.newsletter = newsletter
        self.mailto = newsletter.sender.unsubscribe_mailto if newsletter.sender else None
        self.pieces, self.slots = _cut(body)

    def personalise(
        self,
        address: str,
        name: str,
        message_id: str,
        values: Mapping[str, str],
        *,
        one_click: bool = False,
    ) -> bytes:
        """The whole message for one recipient, ready for SMTP's DATA; a NewsletterError when
        one of their values cannot go into a header. `one_click`: their unsubscribe URL names
        them (a token), so a POST to it can unsubscribe them (RFC 8058)."""
        unsubscribe = values.get("unsubscribe_url") or None
        headers = [
            mailbox_header("To", name, address),
            message_id_header(message_id),
            *list_unsubscribe_headers(unsubscribe, self.mailto, one_click=one_click),
        ]
        out = [b"\r\n".join(headers), b"\r\n", self.head, self.pieces[0]]
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
