"""Signed sessions and sign-in attempts, for a studio that serves beyond this machine.

A session is a cookie naming the user and when it ends, signed with HMAC-SHA256 under a key
kept in the workspace (`.newsletter/studio.key`, made on first use, readable by its owner
only); nothing is stored server-side, and removing a user ends their sessions at the next
request (the user is looked up each time). Failed sign-ins are counted per address: after
five in five minutes, that address waits (the public pages count form posts the same way).
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
    """Requests per client address within a sliding window: the studio's failed sign-ins
    (five in five minutes), the public pages' form posts (so many an hour)."""

    def __init__(self, limit: int = ATTEMPTS, window: float = WINDOW) -> None:
        self.limit, self.window = limit, window
        self._counted: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._swept = float("-inf")  # when clients long gone were last forgotten

    def wait(self, client: str, now: float | None = None) -> float:
        """Seconds before `client` may try again (0: now)."""
        with self._lock:
            return self._wait(client, now if now is not None else time.monotonic())

    def failed(self, client: str, now: float | None = None) -> None:
        with self._lock:
            self._counted[client].append(now if now is not None else time.monotonic())

    def take(self, client: str, now: float | None = None) -> float:
        """Count one request of `client` if it may make one now (0); else the seconds it
        must wait, and nothing counted."""
        moment = now if now is not None else time.monotonic()
        with self._lock:  # one lock for both: two requests at once cannot both take the last
            if moment - self._swept > self.window:  # clients gone for a window: forgotten
                for gone in [
                    c
                    for c, times in self._counted.items()
                    if not times or times[-1] <= moment - self.window
                ]:
                    del self._counted[gone]
                self._swept = moment
            wait = self._wait(client, moment)
            if not wait:
                self._counted[client].append(moment)
            return wait

    def _wait(self, client: str, moment: float) -> float:
        counted = self._counted.get(client)
        if counted is None:
            return 0.0
        while counted and counted[0] <= moment - self.window:
            counted.popleft()
        if not counted:  # forgotten, so that clients long gone do not pile up
            del self._counted[client]
            return 0.0
        return counted[0] + self.window - moment if len(counted) >= self.limit else 0.0
