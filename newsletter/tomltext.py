"""TOML files as every reader of them sees them, and where a key stands in their text.

tomllib gives values without positions; this reads the text line by line, as a person would:
table headers, arrays of tables (nested ones too), dotted keys, and multi-line strings.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from newsletter.errors import NewsletterError

KeyPath = tuple[str | int, ...]

MAX_DEPTH = 10  # keys and indices to the deepest value: the config and issues need 6 at most

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def read_toml_text(path: Path, *, newline: str | None = None) -> str:
    """The text of a TOML file, with a byte order mark at its start dropped (Windows editors
    write one; tomllib refuses it). `newline=""` keeps CRLF line ends, for an edit that keeps
    every other byte. OSError or UnicodeDecodeError as the file gives them."""
    with path.open(encoding="utf-8-sig", newline=newline) as file:
        return file.read()


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every table and key of `text` with the line it starts on; array elements by index."""
    lines: dict[KeyPath, int] = {}
    arrays: dict[KeyPath, int] = {}  # array-of-tables path -> index of its last element
    current: KeyPath = ()
    in_string: str | None = None  # the quotes of a multi-line string being skipped
    # Lines as TOML counts them: splitlines() would also break at U+2028 and the like.
    for number, line in enumerate(text.split("\n"), start=1):
        if in_string is not None:
            if line.count(in_string) % 2:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header:
            current = _resolve(_split_key(header.group(2)), arrays)
            if header.group(1) == "[[":
                arrays[current] = arrays.get(current, -1) + 1
                current = (*current, arrays[current])
            lines.setdefault(current, number)
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            lines.setdefault((*current, *_split_key(assignment.group(1))), number)
        # The key on this line counts; the lines of a string it opens do not.
        in_string = next((q for q in ('"""', "'''") if line.count(q) % 2), None)
    return lines


def _resolve(names: tuple[str, ...], arrays: dict[KeyPath, int]) -> KeyPath:
    """A header's path, with the current index inserted after each array of tables in it."""
    path: KeyPath = ()
    for name in names[:-1]:
        path = (*path, name)
        if path in arrays:
            path = (*path, arrays[path])
    return (*path, names[-1])


def locate_key(text: str, key: KeyPath) -> int | None:
    """Best-effort line number of `key` in `text` (its own line, else its table's)."""
    lines = key_lines(text)
    for length in range(len(key), 0, -1):
        prefix = key[:length]
        if prefix in lines:
            return lines[prefix]
        below = [line for path, line in lines.items() if path[:length] == prefix]
        if below:
            return min(below)
    return None


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """The TOML document in `text`; a syntax error, or a value nested more than MAX_DEPTH
    deep, is a NewsletterError at its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # Python 3.14 gives lineno and msg; older versions only put them in the text.
        message, line = getattr(error, "msg", None), getattr(error, "lineno", None)
        if message is None:
            found = re.match(r"^(.*?) \(at line (\d+), column \d+\)$", str(error))
            message, line = (found[1], int(found[2])) if found else (str(error), None)
        raise NewsletterError(f"invalid TOML: {message}", path, line) from None
    except RecursionError:  # tomllib reads nested arrays and inline tables recursively
        raise NewsletterError(_TOO_DEEP, path, _deep_line(text)) from None
    deep = _too_deep(data)
    if deep is not None:
        raise NewsletterError(_TOO_DEEP, path, locate_key(text, deep))
    return data


_TOO_DEEP = f"invalid TOML: nested too deeply (more than {MAX_DEPTH} levels)"


def _too_deep(data: dict[str, Any]) -> KeyPath | None:
    """The first key path longer than MAX_DEPTH in `data`, found without recursion."""
    stack: list[tuple[KeyPath, Any]] = [((), data)]
    while stack:
        key, value = stack.pop()
        if len(key) > MAX_DEPTH:
            return key
        if isinstance(value, dict):
            stack += [((*key, name), inner) for name, inner in value.items()]
        elif isinstance(value, list):
            stack += [((*key, index), inner) for index, inner in enumerate(value)]
    return None


_NOT_BRACKETS = re.compile(r"\"(?:\\.|[^\"\\])*\"|'[^']*'|#.*")


def _deep_line(text: str) -> int | None:
    """The line where brackets and braces first nest more than MAX_DEPTH deep (strings and
    comments on one line left out: a best guess, for a document tomllib could not read)."""
    depth = 0
    for number, line in enumerate(text.split("\n"), start=1):
        for character in _NOT_BRACKETS.sub("", line):
            if character in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return number
            elif character in "]}":
                depth = max(depth - 1, 0)
    return None
