"""CSS inlining with premailer: class styles onto elements, for clients that drop <style>."""

from __future__ import annotations

import logging
import re

# Marks the theme's own style sheet: only its rules are inlined (see inline_css).
INLINE_MARK = "/* inline */"
_COMMENT_OR_STYLE = re.compile(r"(<!--.*?-->)|<style\b([^>]*)>(.*?)</style>", re.DOTALL)


def _ignore_other_style_sheets(html: str) -> str:
    """Tell premailer to leave MJML's own style sheets (resets, column widths) in <head>.

    Inlining them too would repeat `p { margin: 13px 0 }` and the like on every element:
    bytes per item, and two thirds of the time premailer takes.
    """

    def mark(match: re.Match[str]) -> str:
        if match.group(1) or INLINE_MARK in match.group(3):
            return match.group(0)  # a conditional comment, or the theme's sheet
        return f'<style data-premailer="ignore"{match.group(2)}>{match.group(3)}</style>'

    return _COMMENT_OR_STYLE.sub(mark, html)


def inline_css(html: str) -> str:
    """Inline the theme's style sheet; media queries, dark-mode and client-attribute rules, and
    the MSO conditional comments stay in <head> as they were."""
    from premailer import Premailer  # type: ignore[import-untyped]

    inlined = Premailer(
        _ignore_other_style_sheets(html),
        allow_network=False,  # never fetch a style sheet while rendering
        keep_style_tags=True,  # dark-mode and [data-ogsc] rules only work from <head>
        disable_leftover_css=True,
        remove_classes=False,  # the kept rules need the classes
        strip_important=False,
        exclude_pseudoclasses=True,
        disable_validation=True,
        # The templates write width/height attributes in pixels, which Outlook needs; CSS such as
        # `width: 100%` (fluid on phones) must not overwrite them.
        disable_basic_attributes=["width", "height"],
        cssutils_logging_level=logging.CRITICAL,
    ).transform(pretty_print=False)
    if not inlined.lstrip().lower().startswith("<!doctype"):
        inlined = "<!doctype html>" + inlined  # lxml drops MJML's doctype
    return str(inlined)
