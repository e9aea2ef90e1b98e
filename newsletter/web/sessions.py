"""Signed sessions and sign-in attempts, for a studio that serves beyond this machine.

A session is a cookie naming the user and when it ends, signed with HMAC-SHA256 under a key
kept in the workspace (`.newsletter/studio.key`, made on first use, readable by its owner
only); nothing is stored server-side, and removing a user ends their sessions at the next
request (the user is looked up each time). Failed sign-ins are counted per address: after
five in five minutes, that address waits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

SESSION_COOKIE = "newsletter_session"
SESSION_SECONDS = 12 * 3600
KEY_FILE = Path(".newsletter") / "studio.key"
ATTEMPTS, WINDOW = 5, 300.0


def session_key(root: Path) -> bytes:
    """The workspace's signing key, made (owner-only) the first time it is needed."""
    path = root / KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another studio made it meanwhile: use theirs
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(secrets.token_bytes(32))
    return path.read_bytes()


def signed_session(key: bytes, name: str, now: float | None = None) -> str:
    until = int((now if now is not None else time.time()) + SESSION_SECONDS)
    body = base64.urlsafe_b64encode(f"{name}\x00{until}".encode()).decode().rstrip("=")
    return f"{body}.{_signature(key, body)}"


def session_user(key: bytes, cookie: str, now: float | None = None) -> str | None:
    """The user a session cookie names, if its signature holds and it has not ended."""
    body, _, signature = cookie.partition(".")
    if not body or not hmac.compare_digest(signature, _signature(key, body)):
        return None
    try:
        name, until = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split("\x00")
        ends = int(until)
    except ValueError:
        return None
    return name if ends > (now if now is not None else time.time()) else None


def _signature(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


class Attempts:
    """Failed sign-ins per client address, within a sliding window."""

    def __init__(self) -> None:
        self._failed: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def wait(self, client: str, now: float | None = None) -> float:
        """Seconds before `client` may try again (0: now)."""
        moment = now if now is not None else time.monotonic()
        with self._lock:
            failed = self._failed[client]
            while failed and failed[0] <= moment - WINDOW:
                failed.popleft()
            return failed[0] + WINDOW - moment if len(failed) >= ATTEMPTS else 0.0

    def failed(self, client: str, now: float | None = None) -> None:
        with self._lock:
            self._failed[client].append(now if now is not None else time.monotonic())
