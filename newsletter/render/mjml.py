"""MJML -> HTML with MRML (mjml-python); a compile error is traced back to a template line."""

from __future__ import annotations

import re
import xml.parsers.expat

from newsletter.errors import NewsletterError
from newsletter.render.theme import Theme

_ENTITY = re.compile(r"&[A-Za-z][A-Za-z0-9]*;|&#x?[0-9A-Fa-f]+;")
_VOID_TAG = re.compile(r"<(?:br|hr|img|meta|link|input|wbr)\b[^>]*?(?<!/)>", re.IGNORECASE)


def compile_mjml(source: str, theme: Theme) -> str:
    import mjml

    try:
        return str(mjml.mjml2html(source, disable_comments=True))
    except ValueError as error:
        raise _located_error(str(error), source, theme) from None


def _located_error(reason: str, source: str, theme: Theme) -> NewsletterError:
    """MRML says what is wrong but not where: an XML parse of the MJML finds the place, and
    the theme's templates are searched for the line that wrote it."""
    line = _first_xml_error_line(source)
    message = f"MJML does not compile ({reason})"
    if line is None:
        return NewsletterError(f"{message}; render with --keep-mjml to see the MJML")
    output_line = source.splitlines()[line - 1]
    found = theme.locate(output_line)
    if found is None:
        return NewsletterError(
            f"{message} near {output_line.strip()[:80]!r}; render with --keep-mjml to see it",
            "email.mjml",
            line,
        )
    path, template_line = found
    return NewsletterError(message, path, template_line)


def _first_xml_error_line(source: str) -> int | None:
    """The line of the first place where `source` stops being well-formed XML: for a tag left
    open, the line that opened it.

    Entities and HTML's void tags are blanked out first (same length, so columns hold): MJML
    may carry them inside text, where they are not mistakes.
    """
    blank = _VOID_TAG.sub(lambda m: " " * len(m.group()), _ENTITY.sub(_spaces, source))
    parser = xml.parsers.expat.ParserCreate()
    open_tags: list[int] = []
    parser.StartElementHandler = lambda _name, _attributes: open_tags.append(
        parser.CurrentLineNumber
    )
    parser.EndElementHandler = lambda _name: open_tags.pop()
    try:
        parser.Parse(blank, True)
    except xml.parsers.expat.ExpatError as error:
        unclosed = error.code in (_TAG_MISMATCH, _NO_ELEMENTS) and open_tags
        return open_tags[-1] if unclosed else int(error.lineno)
    return None


_TAG_MISMATCH = xml.parsers.expat.errors.codes[xml.parsers.expat.errors.XML_ERROR_TAG_MISMATCH]
_NO_ELEMENTS = xml.parsers.expat.errors.codes[xml.parsers.expat.errors.XML_ERROR_NO_ELEMENTS]


def _spaces(match: re.Match[str]) -> str:
    return " " * len(match.group())
