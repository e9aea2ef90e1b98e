"""VERP (variable envelope return path): each message's own bounce address.

With `[sender] verp = true`, a message to one subscriber goes out with the envelope sender
`bounces+<token>@example.org`, where the token is the left part of the message's own
Message-ID. A bounce comes back to that address whatever the remote server writes in it, so
it names its send even when it quotes nothing of the original message; and, unlike the
classic VERP that spells the recipient's address out, the token tells nobody who it was.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z0-9.!#$%&'*/=?^_`{|}~-]+")


def verp_address(return_path: str, message_id: str) -> str:
    """The envelope sender of the message `message_id` (`<token@domain>`), returned to
    `return_path` (`local@domain`)."""
    token = message_id.strip("<>").rpartition("@")[0]
    if not _TOKEN.fullmatch(token):
        raise ValueError(f"not a Message-ID this tool makes: {message_id!r}")
    local, _, domain = return_path.rpartition("@")
    return f"{local}+{token}@{domain}"


def verp_token(address: str, return_path: str) -> str | None:
    """The token of a VERP address made from `return_path`, or None when `address` is not
    one (compared without case, as mail servers do with the address's own part)."""
    local, _, domain = return_path.rpartition("@")
    found = re.fullmatch(
        rf"{re.escape(local)}\+({_TOKEN.pattern})@{re.escape(domain)}",
        address.strip().strip("<>"),
        re.IGNORECASE,
    )
    return found.group(1) if found else None


def message_id_prefix(token: str) -> str:
    """What the Message-ID of the message with this token starts with."""
    return f"<{token}@"
