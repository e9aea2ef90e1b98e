"""Password hashes for the studio's users: scrypt (the standard library's), salted, with its
cost written beside it so that a later, dearer cost still reads older hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1  # 16 MiB and ~50 ms a guess: cheap for a sign-in, dear for a list
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def password_matches(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r),
                               p=int(p), dklen=len(_unb64(digest)), maxmem=2**26)  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, _unb64(digest))


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"a password needs {MIN_LENGTH} characters at least"
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
