"""Mail header values: checked by one function, then encoded and folded by our own code.

Every value that reaches a header (an issue's title, a sender's or subscriber's name, a
language tag, a list id, a URL, an address) passes `header_problem` first: where it comes from
(the config, an issue file, a subscriber list) reports the problem with its file and line, and
the code that writes the header checks again. The writing does not rely on the `email`
package's folding, which let encoded line breaks through as real ones on some Python versions
(CVE-2024-6923): values are encoded as RFC 2047 words and folded here, and a CR or LF can
never come out of it.
"""

from __future__ import annotations

import re
import unicodedata
from base64 import b64encode
from enum import Enum

from newsletter.errors import NewsletterError


class HeaderKind(Enum):
    """What a value is to a header."""

    TEXT = "text"  # an unstructured text: the Subject (an issue's title)
    NAME = "name"  # a display name: a sender's, a subscriber's, a list's
    LANGUAGE = "language"  # a language tag (Content-Language)
    LIST_ID = "list id"  # the dotted name of List-Id (RFC 2919)
    URL = "link"  # a link inside <...> (List-Unsubscribe)
    ADDRESS = "address"

    @property
    def limit(self) -> int:
        """The most characters a value may have."""
        return _LIMITS[self]


_LIMITS = {
    HeaderKind.TEXT: 250,
    HeaderKind.NAME: 200,
    HeaderKind.LANGUAGE: 35,
    HeaderKind.LIST_ID: 250,
    HeaderKind.URL: 900,  # its line stays under SMTP's 998 octets
    HeaderKind.ADDRESS: 254,  # RFC 5321's limit for a path
}


# Categories no header text may hold: controls (CR, LF, TAB, NUL, U+0085...), line and
# paragraph separators (U+2028, U+2029), unassigned and surrogate code points.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs", "Cn"})
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_LIST_ID = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+$")
_URL = re.compile(r"^(?:https?://[^\s/?#]+[^\s]*|mailto:[^\s]+)$")
_URL_REFUSED = frozenset('<>",\\ ^`{|}')


def header_problem(value: object, kind: HeaderKind) -> str | None:
    """Why `value` cannot go into a header as `kind`, or None when it can."""
    if not isinstance(value, str):
        return f"expected text, got {type(value).__name__}"
    if not value.isprintable():  # printable text holds none of them; the rest is looked at
        for character in value:
            if unicodedata.category(character) in _REFUSED_CATEGORIES:
                return f"{_named(character)} cannot go into a mail header"
    if _ENCODED_WORD.search(value):
        return "looks like an encoded word (=?charset?q?...?=): write the text itself"
    if len(value) > kind.limit:
        return f"{len(value):,} characters, over the {kind.limit} a mail header takes"
    if kind is HeaderKind.ADDRESS:  # its form is email-validator's to judge; UTF-8 is SMTPUTF8's
        return None if value.count("@") == 1 and " " not in value else "not an address"
    if kind in (HeaderKind.TEXT, HeaderKind.NAME):
        return None
    if not value.isascii():
        return _ascii_only(kind)
    if kind is HeaderKind.LANGUAGE and not _LANGUAGE.match(value):
        return "not a language tag such as 'en' or 'pt-BR'"
    if kind is HeaderKind.LIST_ID and not _LIST_ID.match(value):
        return "not a dotted name such as 'enews.example.org'"
    if kind is HeaderKind.URL and (not _URL.match(value) or _URL_REFUSED & set(value)):
        return "not a link that can stand in <...>: no spaces, quotes, commas or angle brackets"
    return None


def check_header_value(value: object, kind: HeaderKind, what: str) -> str:
    """`value` if it can go into a header; else a NewsletterError naming `what` it is."""
    problem = header_problem(value, kind)
    if problem is not None:
        raise NewsletterError(f"{what}: {problem}")
    assert isinstance(value, str)
    return value


def _ascii_only(kind: HeaderKind) -> str:
    if kind is HeaderKind.URL:
        return "a link in a header must be ASCII: percent-encode other characters (%C3%A9)"
    return f"a {kind.value} must be ASCII"


def _named(character: str) -> str:
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X}" + (f" ({name})" if name else "")


# Writing headers: RFC 5322 lines of at most 78 characters, CRLF between them.

LINE = 78
_WORD_BYTES = 45  # base64 of 45 bytes is 60 characters: an encoded word of 72 with its frame
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$")


def _looks_encoded(text: str) -> bool:
    return "=?" in text


def encoded_words(text: str) -> list[str]:
    """`text` as RFC 2047 encoded words (UTF-8, base64), each within a line, characters never
    split across two words."""
    words, chunk = [], b""
    for character in text:
        encoded = character.encode("utf-8")
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    if chunk:
        words.append(chunk)
    return [f"=?utf-8?b?{b64encode(word).decode('ascii')}?=" for word in words]


def fold(name: str, tokens: list[str], separator: str = " ") -> bytes:
    """`Name: token token...` in lines of at most 78 characters where the tokens allow it,
    continued with CRLF and a space. Tokens are already safe: they hold no CR or LF."""
    lines = [f"{name}:"]
    for index, token in enumerate(tokens):
        glue = " " if index == 0 else separator
        if len(lines[-1]) + len(glue) + len(token) > LINE and lines[-1] != f"{name}:":
            lines[-1] += glue.rstrip()
            lines.append(" " + token)
        else:
            lines[-1] += glue + token
    return "\r\n".join(lines).encode("utf-8")


def text_header(name: str, value: str, kind: HeaderKind = HeaderKind.TEXT) -> bytes:
    """An unstructured header (Subject): ASCII folded at spaces, else encoded words."""
    check_header_value(value, kind, name)
    if value.isascii() and not value.startswith(" ") and not _looks_encoded(value):
        return fold(name, value.split(" ")) if value else f"{name}: ".encode()
    return fold(name, encoded_words(value))


def phrase(name: str) -> list[str]:
    """A display name as tokens of an RFC 5322 phrase: atoms, a quoted string, or encoded
    words when it is not ASCII or holds "=?" (which a reader's decoder may take for the start
    of an encoded word, however the rest of it looks)."""
    if not name.isascii() or _looks_encoded(name):
        return encoded_words(name)
    if _ATOM.match(name) and name == " ".join(name.split()):
        return name.split(" ")
    return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']


def mailbox_tokens(name: str, address: str) -> list[str]:
    """`Name <address>` as tokens (the name checked; the address as given, ASCII or UTF-8)."""
    check_header_value(address, HeaderKind.ADDRESS, "address")
    if not name:
        return [address]
    check_header_value(name, HeaderKind.NAME, "name")
    return [*phrase(name), f"<{address}>"]


def mailbox_header(name: str, display: str, address: str) -> bytes:
    return fold(name, mailbox_tokens(display, address))
